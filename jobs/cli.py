"""`music-corpus`: the command line of the corpus jobs (`python -m jobs` works too).

Subcommands: `run` (a whole run from a YAML config; what `make corpus` calls), `sample` (write the
demo platform), `validate` (check Parquet against a dataset contract), `schemas` (list contracts or
print one's card), `sources` (list source adapters), `classifier` (the domain classifier) and `blends`
(point a moved shards folder's blend files at its new location). User errors print one message and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from schemas import RAW_DATASETS

LIBRARY_LOGGERS = ("megatron", "megatron_fsdp", "megatron.core", "datatrove", "py4j", "transformers", "urllib3",
                   "presidio-analyzer", "jieba", "numexpr", "fsspec", "filelock")
EPILOG = """examples:
  music-corpus run                                  # demo sample end to end into out/
  music-corpus run --input my_data/ --out out_my    # your files: my_data/<dataset>/*.{parquet,jsonl,csv}
  music-corpus run --config configs/shared_data.yaml --engine spark
  music-corpus validate out/ingest/songs --dataset songs
  music-corpus schemas songs
  music-corpus blends out_moved/shards              # after moving an output folder: blend files point to it
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
    p.add_argument("--stages", help="comma-separated subset of sample,ingest,refine,dedup,rm_score,select,behavior,"
                   "relations,knowledge,mix,shards,uq2i (default: all enabled ones)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (dotted; the value is read as YAML), e.g. --set rm_score.enabled=true "
                   "--set rm_score.reference=out/pretrain_demo/reference/ref/hf; repeatable")
    p.add_argument("--allow-unknown-inputs", action="store_true",
                   help="with --input: go on when the folder holds files or folders that are not datasets (they are "
                   "listed in a warning and in the ingest manifest); without it the run stops and lists them")
    p.add_argument("--force", action="store_true", help="re-run stages even when their manifest matches")
    p.add_argument("--quiet", action="store_true", help="no progress bars or info logs")


DATA_SUFFIXES = (".parquet", ".jsonl", ".json", ".ndjson", ".csv", ".tsv")


def _input_sources(root: Path, allow_unknown: bool = False) -> tuple[list[dict], list[dict]]:
    """Generic sources for a user directory laid out like the demo sample, and what the run will not read.

    Every entry under `root` is either a dataset (`<dataset>/` or `<dataset>.<ext>`), hidden (a name starting
    with `.` or `_`, skipped as Spark and pyarrow skip them) or unrecognised: then the run stops with the list,
    unless `allow_unknown` (they are then recorded in the ingest manifest)."""
    from jobs.errors import UserError

    if not root.is_dir():
        raise UserError(f"--input {root}: not a directory; give the folder that holds your dataset files")
    sources, ignored, unknown = [], [], []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name.startswith((".", "_")):
            ignored.append({"path": name, "reason": "hidden"})
            continue
        dataset = name if entry.is_dir() else (entry.stem if entry.suffix.lower() in DATA_SUFFIXES else None)
        if dataset not in RAW_DATASETS:
            unknown.append(name + ("/" if entry.is_dir() else ""))
            continue
        if entry.is_dir():  # files a dataset folder holds that no reader takes are unrecognised too
            for f in sorted(x for x in entry.rglob("*") if x.is_file()):
                rel = f.relative_to(root).as_posix()
                if any(part.startswith((".", "_")) for part in f.relative_to(entry).parts):
                    ignored.append({"path": rel, "reason": "hidden"})
                elif f.suffix.lower() not in DATA_SUFFIXES or f.parent != entry:
                    unknown.append(rel)
        sources.append({"name": root.resolve().name or "input", "dataset": dataset, "path": str(entry)})
    accepted = ", ".join(sorted(RAW_DATASETS))
    if unknown and not allow_unknown:
        raise UserError(
            f"--input {root}: {len(unknown)} entr{'y is' if len(unknown) == 1 else 'ies are'} not a dataset the run "
            f"reads: {', '.join(unknown[:20])}{' ...' if len(unknown) > 20 else ''}.\n"
            f"  Name each folder or file after a dataset ({accepted}) with a {'/'.join(DATA_SUFFIXES)} extension "
            "(files directly inside the dataset folder), move the others out, or pass --allow-unknown-inputs "
            "(make corpus ... ALLOW_UNKNOWN=1) to go on without them (they are then listed in the ingest manifest)."
        )
    if unknown:
        logging.getLogger("music_corpus").warning(
            "--input %s: not read (not a dataset): %s", root, ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else ""))
        ignored += [{"path": u.rstrip("/"), "reason": "unrecognised"} for u in unknown]
    if not sources:
        raise UserError(f"--input {root}: found no dataset folders or files; name them after a dataset: {accepted}")
    return sources, sorted(ignored, key=lambda d: d["path"])


def cmd_run(args: argparse.Namespace) -> int:
    import yaml

    from jobs.config import load_config
    from jobs.errors import UserError
    from jobs.run import format_summary, parse_stages, run_corpus

    stages = parse_stages(args.stages)  # before anything is read or written
    overrides: dict = {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set select.rm.max_ratio=0.95")
        overrides[key.strip()] = yaml.safe_load(value)
    if args.out:
        overrides["out"] = args.out
    if args.engine:
        overrides["engine"] = args.engine
    if args.workers:
        overrides["workers"] = args.workers
    if args.input:
        overrides["sample.enabled"] = False
        overrides["ingest.sources"], overrides["ingest.ignored_inputs"] = _input_sources(args.input, args.allow_unknown_inputs)
    cfg = load_config(args.config, overrides)
    logger = logging.getLogger("music_corpus")
    logger.info(
        "config: out=%s engine=%s workers=%d sample=%s sources=%d (full config in each stage's _manifest.json)",
        cfg.out, cfg.engine, cfg.workers, cfg.sample.preset if cfg.sample.enabled else "off", len(cfg.ingest.sources),
    )
    logger.debug("config: %s", cfg.model_dump_json(indent=2))
    report = run_corpus(cfg, stages=stages, force=args.force, progress=not args.quiet)
    print(format_summary(report))
    return 0


def cmd_blends(args: argparse.Namespace) -> int:
    """Point a moved or copied shards folder's blend files at where it is now."""
    from jobs.errors import UserError
    from jobs.stage import MANIFEST, file_checksum, read_manifest
    from tokenizer.blend import MANIFEST as BLEND_MANIFEST
    from tokenizer.blend import rewrite_blend_files

    shards = Path(args.shards)
    if shards.name != "shards" and (shards / "shards").is_dir():
        shards = shards / "shards"  # the run's output folder was given
    blends = shards / "blends"
    if not (blends / BLEND_MANIFEST).is_file():
        raise UserError(f"{shards}: no blends/{BLEND_MANIFEST}; give a shards folder (OUT/shards) written by the run")
    try:
        manifest = rewrite_blend_files(blends, shards)
    except ValueError as e:
        raise UserError(str(e)) from None
    # the stage manifest lists its files with checksums: keep it true for the rewritten ones
    stage_manifest = read_manifest(shards)
    if stage_manifest is not None:
        for o in stage_manifest.get("outputs", []):
            f = shards / o["path"]
            if f.parent == blends and f.is_file():
                o["bytes"], o["checksum"] = f.stat().st_size, file_checksum(f)
        tmp = shards / (MANIFEST + ".inprogress")
        import orjson

        tmp.write_bytes(orjson.dumps(stage_manifest, option=orjson.OPT_INDENT_2))
        tmp.replace(shards / MANIFEST)
    print(f"{blends}: blend files now point into {manifest['root']} ({len(manifest['stages'])} curriculum stage(s))")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from corpus.sample import SampleConfig, generate_sample

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
    from schemas import SchemaError, get_schema, validate_parquet

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
    from schemas import ALL_DATASETS, get_schema, render_card

    if args.name:
        spec = get_schema(args.name)
        print(render_card(spec, rows=0))
        return 0
    for name, spec in sorted(ALL_DATASETS.items()):
        print(f"{name:<20} v{spec.version:<7} {spec.purpose}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from corpus.ingest.sources import ADAPTERS

    for name, cls in sorted(ADAPTERS.items()):
        print(f"{name:<28} {', '.join(cls.datasets) if name != 'generic' else 'any raw dataset':<50} {cls.license}")
    return 0


def cmd_classifier(args: argparse.Namespace) -> int:
    from corpus.classify import DomainClassifier, build_training_set, evaluate, train_classifier
    from jobs.config import shared_data_dir

    if args.action == "build-data":
        stats = build_training_set(args.shared or shared_data_dir(), args.data, seed=args.seed)
        print(f"training set written to {args.data}: {stats}")
    elif args.action == "train":
        clf = train_classifier(Path(args.data) / "train.jsonl", args.model, Path(args.data) / "valid.jsonl")
        if args.quantize:
            clf.quantize(args.quantize).save(args.model)
        print(f"model saved to {args.model} (threshold {clf.threshold:.4f})")
    elif args.action == "calibrate":
        from corpus.classify.calibrate import calibrate_model

        rep = calibrate_model(args.model, args.shared or shared_data_dir(), args.data, folds=args.folds)
        per = "  ".join(f"{s}: F1 {m['f1']:.3f}" for s, m in rep["per_source"].items())
        print(f"document model {rep['document_model']['features']} stored in {args.model}/meta.json; "
              f"cross-validated {per}; report {args.model}/report.md")
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

    p = sub.add_parser("blends", help="rewrite a moved shards folder's Megatron blend files for its new location",
                       description="Megatron blend files (--data-args-path, --per-split-data-args-path) hold absolute "
                       "prefixes. After moving or copying an output folder, this rewrites them to point into the "
                       "folder where it is now (same prefixes, weights and splits).")
    p.add_argument("shards", type=Path, help="the shards folder (OUT/shards) or the run's output folder (OUT)")

    from jobs.stages.refine import DEFAULT_MODEL

    p = sub.add_parser(
        "classifier",
        help="build the training set, train, evaluate or try the music-domain classifier",
        description="The fastText music-domain classifier: `build-data` writes train/valid/test splits from the "
        "real datasets under ../shared/data (documents labelled once each: hand label, source category or "
        "lexicon rule), `train` trains and saves a model folder (optionally quantized, as the shipped one is), "
        "`calibrate` cross-fits it and a document-embedding head (a linear model on the page's WordLlama "
        "embedding) on the hand-labelled documents, chooses and stores the document-level decision (calibrated "
        "P(music)) and writes the model card report.md with document-level figures, `evaluate` "
        "writes a window-level report on the test split, `score` prints P(music) for texts.",
    )
    p.add_argument("action", choices=["build-data", "train", "calibrate", "evaluate", "score"])
    p.add_argument("texts", nargs="*", help="texts to score (action `score`)")
    p.add_argument("--data", default="out/classifier/data", help="training set folder")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model folder (default: the shipped model)")
    p.add_argument("--report", default="out/classifier/report", help="evaluation report folder")
    p.add_argument("--shared", help="shared data folder (default ../shared/data or $MUSIC_SHARED_DATA)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=5, help="cross-fitting folds for `calibrate`")
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
    if not args.verbose:
        # libraries' INFO lines (megatron-core's index readers, datatrove, py4j) are chatter to a user
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    handlers = {"run": cmd_run, "sample": cmd_sample, "validate": cmd_validate, "schemas": cmd_schemas,
                "sources": cmd_sources, "classifier": cmd_classifier, "blends": cmd_blends}
    from corpus.ingest.readers import InputError
    from jobs.errors import UserError
    from schemas import SchemaVersionError

    try:
        return handlers[args.command](args)
    except (UserError, InputError, SchemaVersionError) as e:  # the user's config or files: no traceback
        if args.verbose:
            logging.getLogger("music_corpus").exception("user error")
        hint = ("\n  (a source with `on_bad_file: quarantine` records a file it cannot read in ingest/_quarantine "
                "and goes on)") if isinstance(e, InputError) else ""
        print(f"error: {e}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
