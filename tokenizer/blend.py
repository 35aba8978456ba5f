"""Megatron blend arguments and files: `--data-path`, `--data-args-path`, `--per-split-data-args-path`.

Shapes follow megatron-core `get_blend_from_list` (a flat list "w1 p1 w2 p2 ..." or prefixes only) and
Megatron-LM `megatron/training/utils.py::get_blend_and_blend_per_split`, which loads the per-split
JSON as {"train": [...], "valid": [...], "test": [...]}: all three keys present, each a flat list of
weight/prefix strings (or one whitespace-separated string), or null for no data in that split.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

BlendEntry = tuple[str, float, int]  # (prefix, weight, tokens)
MANIFEST = "blend_manifest.json"
MIXED = "mixed"  # `mixed.data_args.txt` / `mixed.per_split.json`: every curriculum stage in one blend


def _weight(w: float) -> str:
    return format(float(w), ".10g")


def _check_prefix(p: str) -> str:
    p = str(p)
    if any(c.isspace() for c in p):
        raise ValueError(f"prefix {p!r} contains whitespace; Megatron splits blend files on whitespace")
    return p


def data_path_args(prefixes_with_weights: Iterable[tuple[str, float]]) -> list[str]:
    """`--data-path` arguments: ["w1", "p1", "w2", "p2", ...] (weights as given)."""
    out: list[str] = []
    for prefix, weight in prefixes_with_weights:
        if weight < 0:
            raise ValueError(f"{prefix}: negative blend weight {weight}")
        out += [_weight(weight), _check_prefix(prefix)]
    return out


def per_split_data_args(
    train: Iterable[tuple[str, float]],
    valid: Iterable[tuple[str, float]] | None = None,
    test: Iterable[tuple[str, float]] | None = None,
) -> dict[str, list[str] | None]:
    """The `--per-split-data-args-path` JSON object; an empty or missing split is null (Megatron skips it)."""

    def one(blend: Iterable[tuple[str, float]] | None) -> list[str] | None:
        args = data_path_args(blend) if blend is not None else []
        return args or None  # get_blend_from_list([]) would fail; null means "no blend for this split"

    return {"train": one(train), "valid": one(valid), "test": one(test)}


def normalized(entries: Sequence[BlendEntry]) -> tuple[list[BlendEntry], list[dict]]:
    """Entries with weights summing to 1, and those dropped (no tokens or zero weight) with the reason."""
    kept = [e for e in entries if e[2] > 0 and e[1] > 0]
    dropped = [{"prefix": str(p), "weight": w, "tokens": t, "reason": "no tokens" if t <= 0 else "zero weight"}
               for p, w, t in entries if not (t > 0 and w > 0)]  # fmt: skip
    total = sum(w for _, w, _ in kept)
    return [(str(p), w / total, t) for p, w, t in kept], dropped


def write_blend_files(
    out_dir: str | Path,
    stage_blends: dict[int, Sequence[BlendEntry]],
    valid_blends: dict[int, Sequence[BlendEntry]] | None = None,
    test_blends: dict[int, Sequence[BlendEntry]] | None = None,
    root: str | Path | None = None,
) -> dict:
    """Per curriculum stage N: `stageN.data_args.txt` ("weight prefix" lines, for `--data-args-path`) and
    `stageN.per_split.json` (for `--per-split-data-args-path`), weights normalized per stage; `mixed.*`, one
    blend of every stage (a prefix's weight in its stage times the stage's share of all tokens of that split);
    plus `blend_manifest.json` with the tokens per prefix. Returns the manifest.

    With `root`, prefixes are given relative to it: the manifest keeps them relative (and `root`), the blend
    files get `root/prefix`, which is what Megatron needs; `rewrite_blend_files` points them at a new root
    when the shards folder moves."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"stages": {}}
    if root is not None:
        manifest["root"] = str(root)

    def located(entries: Sequence[BlendEntry]) -> list[tuple[str, float]]:
        return [(str(Path(root) / p) if root is not None else p, w) for p, w, _ in entries]

    def write(name: str, train: list[BlendEntry], valid: list[BlendEntry], test: list[BlendEntry]) -> dict:
        pairs = located(train)
        args_file = out / f"{name}.data_args.txt"
        split_file = out / f"{name}.per_split.json"
        args = data_path_args(pairs)
        args_file.write_text("".join(f"{args[i]} {args[i + 1]}\n" for i in range(0, len(args), 2)), encoding="utf-8")
        split = per_split_data_args(pairs, located(valid), located(test))
        split_file.write_text(json.dumps(split, indent=2) + "\n", encoding="utf-8")
        return {
            "data_args_path": args_file.name,
            "per_split_data_args_path": split_file.name,
            "tokens": sum(t for _, _, t in train),
            "prefixes": [{"prefix": p, "weight": w, "tokens": t} for p, w, t in train],
            "valid": [{"prefix": p, "weight": w, "tokens": t} for p, w, t in valid],
            "test": [{"prefix": p, "weight": w, "tokens": t} for p, w, t in test],
        }

    splits: dict[str, dict[int, list[BlendEntry]]] = {"prefixes": {}, "valid": {}, "test": {}}
    for stage in sorted(stage_blends):
        train, dropped = normalized(stage_blends[stage])
        if not train:
            raise ValueError(f"stage {stage}: no prefix with tokens and a positive weight ({dropped})")
        valid = normalized((valid_blends or {}).get(stage, ()))[0]
        test = normalized((test_blends or {}).get(stage, ()))[0]
        manifest["stages"][str(stage)] = {**write(f"stage{stage}", train, valid, test), "dropped": dropped}
        for key, entries in (("prefixes", train), ("valid", valid), ("test", test)):
            splits[key][stage] = entries
    if stage_blends:
        mixed = {key: _mixed(by_stage) for key, by_stage in splits.items()}
        manifest["mixed"] = write(MIXED, mixed["prefixes"], mixed["valid"], mixed["test"])
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _mixed(by_stage: dict[int, list[BlendEntry]]) -> list[BlendEntry]:
    """All stages' (normalized) entries as one blend: weight in the stage x the stage's share of the tokens."""
    total = sum(t for entries in by_stage.values() for _, _, t in entries)
    out = []
    for _stage, entries in sorted(by_stage.items()):
        share = sum(t for _, _, t in entries) / total if total else 0.0
        out += [(p, w * share, t) for p, w, t in entries]
    return out


def blend_root(blend_dir: str | Path) -> str | None:
    """The folder the blend files in `blend_dir` point into (None for files written without a root)."""
    p = Path(blend_dir) / MANIFEST
    return json.loads(p.read_text(encoding="utf-8")).get("root") if p.exists() else None


def rewrite_blend_files(blend_dir: str | Path, root: str | Path) -> dict:
    """Rewrite the blend files of `blend_dir` for prefixes under `root` (a moved or copied shards folder):
    same prefixes, weights and splits, new absolute paths. Returns the new manifest."""
    blend_dir = Path(blend_dir)
    old = json.loads((blend_dir / MANIFEST).read_text(encoding="utf-8"))
    if "root" not in old:
        raise ValueError(f"{blend_dir / MANIFEST} has no `root`: its prefixes are absolute and cannot be relocated")

    def entries(stage: dict, key: str) -> list[BlendEntry]:
        return [(e["prefix"], e["weight"], e["tokens"]) for e in stage[key]]

    stages = old["stages"]
    return write_blend_files(blend_dir, {int(k): entries(v, "prefixes") + [(d["prefix"], d["weight"], d["tokens"])
                                                                           for d in v["dropped"]]
                                         for k, v in stages.items()},
                             {int(k): entries(v, "valid") for k, v in stages.items()},
                             {int(k): entries(v, "test") for k, v in stages.items()}, root=Path(root).resolve())


def projection(
    tokens_per_second_per_core: float,
    total_tokens: float = 50e9,
    cores: Sequence[int] = (16, 64, 256, 1024),
) -> dict:
    """Core-hours and wall time to tokenize `total_tokens` on N cores, from a one-core throughput.

    Assumes partitions tokenize independently (linear scaling); storage bandwidth, stragglers and the
    final merge are not in it.
    """
    core_hours = total_tokens / tokens_per_second_per_core / 3600
    rows = {
        int(n): {"wall_hours": round(core_hours / n, 2), "wall_minutes": round(core_hours / n * 60, 1)}
        for n in cores
    }
    return {"tokens": total_tokens, "tokens_per_second_per_core": round(tokens_per_second_per_core),
            "core_hours": round(core_hours, 1), "by_cores": rows}  # fmt: skip


def projection_markdown(p: dict) -> str:
    lines = [f"Tokenizing {p['tokens'] / 1e9:.0f}B tokens at {p['tokens_per_second_per_core']:,} tokens/s per core "
             f"= {p['core_hours']:,} core-hours", "", "| cores | wall time |", "|---:|---:|"]  # fmt: skip
    for n, r in p["by_cores"].items():
        wall = f"{r['wall_hours']:.1f} h" if r["wall_hours"] >= 1 else f"{r['wall_minutes']:.0f} min"
        lines.append(f"| {n:,} | {wall} |")
    return "\n".join(lines)
