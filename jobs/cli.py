"""`music-corpus`: the command line of the corpus jobs (`python -m jobs` works too).

Subcommands: `run` (a whole run from a YAML config; what `make corpus` calls), `sample` (write the
demo platform), `validate` (check Parquet against a dataset contract), `schemas` (list contracts or
print one's card) and `sources` (list source adapters).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from schemas import RAW_DATASETS

EPILOG = """examples:
  music-corpus run                                  # demo sample end to end into out/
  music-corpus run --input my_data/ --out out_my    # your files: my_data/<dataset>/*.{parquet,jsonl,csv}
  music-corpus run --config configs/shared_data.yaml --engine spark
  music-corpus validate out/ingest/songs --dataset songs
  music-corpus schemas songs
  music-corpus classifier score "Blink-182 played their 1999 album live" "How to bake sourdough"
"""


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the corpus stages (sample, ingest, refine, dedup, select, behavior, relations, knowledge, mix, shards) from a YAML config",
        description="Run the corpus stages in order. Stages whose manifest matches their inputs and config are "
        "skipped; a killed run resumes. Prints a per-stage summary at the end.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("--config", type=Path, help="run config YAML (default: configs/demo.yaml)")
    p.add_argument(
        "--input",
        type=Path,
        help="read your own data instead of the demo sample: a directory with one sub-directory (or file) per "
        f"dataset, named after the contract ({', '.join(sorted(RAW_DATASETS))})",
    )
    p.add_argument("--out", help="output directory (default from config: out)")
    p.add_argument("--engine", choices=["datatrove", "spark", "inline"], help="execution engine")
    p.add_argument("--workers", type=int, help="local worker processes / Spark local cores")
    p.add_argument("--stages", help="comma-separated subset of sample,ingest,refine,dedup,select,behavior,relations,knowledge,mix,shards (default: all)")
    p.add_argument("--force", action="store_true", help="re-run stages even when their manifest matches")
    p.add_argument("--quiet", action="store_true", help="no progress bars or info logs")


def _input_sources(root: Path) -> list[dict]:
    """Generic sources for a user directory laid out like the demo sample."""
    if not root.exists():
        raise SystemExit(f"error: --input {root}: directory does not exist")
    sources = []
    for name in sorted(RAW_DATASETS):
        candidates = [root / name, *(root / f"{name}{ext}" for ext in (".parquet", ".jsonl", ".csv", ".tsv"))]
        for c in candidates:
            if c.exists():
                sources.append({"name": root.name or "input", "dataset": name, "path": str(c)})
    if not sources:
        raise SystemExit(
            f"error: --input {root}: found no dataset folders or files; expected names like "
            f"{', '.join(sorted(RAW_DATASETS)[:4])}, ..."
        )
    return sources


def cmd_run(args: argparse.Namespace) -> int:
    from jobs.config import ConfigError, load_config  # noqa: PLC0415
    from jobs.run import STAGES, format_summary, run_corpus  # noqa: PLC0415

    overrides: dict = {}
    if args.out:
        overrides["out"] = args.out
    if args.engine:
        overrides["engine"] = args.engine
    if args.workers:
        overrides["workers"] = args.workers
    if args.input:
        overrides["sample.enabled"] = False
        overrides["ingest.sources"] = _input_sources(args.input)
    try:
        cfg = load_config(args.config, overrides)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stages = tuple(s.strip() for s in args.stages.split(",")) if args.stages else STAGES
    logger = logging.getLogger("music_corpus")
    logger.info(
        "config: out=%s engine=%s workers=%d sample=%s sources=%d (full config in each stage's _manifest.json)",
        cfg.out, cfg.engine, cfg.workers, cfg.sample.preset if cfg.sample.enabled else "off", len(cfg.ingest.sources),
    )
    logger.debug("config: %s", cfg.model_dump_json(indent=2))
    report = run_corpus(cfg, stages=stages, force=args.force, progress=not args.quiet)
    print(format_summary(report))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from corpus.sample import SampleConfig, generate_sample  # noqa: PLC0415

    if args.target_bytes:
        cfg = SampleConfig.for_target_bytes(_parse_bytes(args.target_bytes), seed=args.seed)
    else:
        cfg = SampleConfig.preset(args.preset, seed=args.seed)
    summary = generate_sample(cfg, Path(args.out))
    print(summary)
    return 0


def _parse_bytes(s: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower().removesuffix("b")
    if s and s[-1] in units:
        return int(float(s[:-1]) * units[s[-1]])
    return int(s)


def cmd_validate(args: argparse.Namespace) -> int:
    from schemas import SchemaError, get_schema, validate_parquet  # noqa: PLC0415

    try:
        violations = validate_parquet(args.path, get_schema(args.dataset))
    except (SchemaError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for v in violations:
        print(v)
    print(f"{args.path}: {'OK' if not violations else f'{len(violations)} violation(s)'}")
    return 0 if not violations else 1


def cmd_schemas(args: argparse.Namespace) -> int:
    from schemas import ALL_DATASETS, get_schema, render_card  # noqa: PLC0415

    if args.name:
        spec = get_schema(args.name)
        print(render_card(spec, rows=0))
        return 0
    for name, spec in sorted(ALL_DATASETS.items()):
        print(f"{name:<20} v{spec.version:<7} {spec.purpose}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from corpus.ingest.sources import ADAPTERS  # noqa: PLC0415

    for name, cls in sorted(ADAPTERS.items()):
        print(f"{name:<28} {', '.join(cls.datasets) if name != 'generic' else 'any raw dataset':<50} {cls.license}")
    return 0


def cmd_classifier(args: argparse.Namespace) -> int:
    from corpus.classify import DomainClassifier, build_training_set, evaluate, train_classifier  # noqa: PLC0415
    from jobs.config import shared_data_dir  # noqa: PLC0415

    if args.action == "build-data":
        stats = build_training_set(args.shared or shared_data_dir(), args.data, seed=args.seed)
        print(f"training set written to {args.data}: {stats}")
    elif args.action == "train":
        clf = train_classifier(Path(args.data) / "train.jsonl", args.model, Path(args.data) / "valid.jsonl")
        if args.quantize:
            clf.quantize(args.quantize).save(args.model)
        print(f"model saved to {args.model} (threshold {clf.threshold:.4f})")
    elif args.action == "evaluate":
        report = evaluate(args.model, args.data, args.report)
        print(f"report written to {report}")
    else:  # score
        clf = DomainClassifier(args.model).setup()
        for line, p in zip(args.texts, clf.score(list(args.texts)), strict=True):
            print(f"{p:.4f}\t{line}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="music-corpus",
        description="Music-domain corpus jobs: turn raw music-platform data into contract-checked Parquet datasets.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)

    p = sub.add_parser("sample", help="write the generated demo platform (raw input files + ground truth)",
                       description="Generate the seeded demo music platform as raw JSONL/CSV/Parquet files.")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--preset", default="small", choices=["tiny", "small", "medium"], help="size preset")
    p.add_argument("--target-bytes", help="generate about this much data instead of a preset, e.g. 1GB")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("validate", help="check Parquet files against a dataset contract",
                       description="Validate a Parquet file or dataset folder; prints one line per violation "
                       "naming file, row and field. Exit code 1 if any.")
    p.add_argument("path", type=Path)
    p.add_argument("--dataset", required=True, help="contract name, e.g. songs")

    p = sub.add_parser("schemas", help="list dataset contracts or print one's card",
                       description="Without NAME: list every dataset contract. With NAME: print its card.")
    p.add_argument("name", nargs="?")

    sub.add_parser("sources", help="list source adapters", description="List source adapters, their datasets and licenses.")

    from jobs.stages.refine import DEFAULT_MODEL  # noqa: PLC0415

    p = sub.add_parser(
        "classifier",
        help="build the training set, train, evaluate or try the music-domain classifier",
        description="The fastText music-domain classifier: `build-data` writes train/valid/test splits from the "
        "real datasets under ../shared/data (label noise cleaned), `train` trains and saves a model folder "
        "(optionally quantized, as the shipped one is), `evaluate` writes a Markdown report with PNG plots, "
        "`score` prints P(music) for texts.",
    )
    p.add_argument("action", choices=["build-data", "train", "evaluate", "score"])
    p.add_argument("texts", nargs="*", help="texts to score (action `score`)")
    p.add_argument("--data", default="out/classifier/data", help="training set folder")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model folder (default: the shipped model)")
    p.add_argument("--report", default="out/classifier/report", help="evaluation report folder")
    p.add_argument("--shared", help="shared data folder (default ../shared/data or $MUSIC_SHARED_DATA)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quantize", type=int, default=0, metavar="CUTOFF",
                   help="quantize the trained model keeping CUTOFF words/n-grams (e.g. 100000)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else (logging.WARNING if quiet else logging.INFO),
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    handlers = {"run": cmd_run, "sample": cmd_sample, "validate": cmd_validate, "schemas": cmd_schemas,
                "sources": cmd_sources, "classifier": cmd_classifier}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
