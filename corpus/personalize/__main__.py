"""python -m corpus.personalize {train,evaluate}: the personalization model on behavior events.

    python -m corpus.personalize train --events out/ingest/behavior_events --out out/personalize
    python -m corpus.personalize evaluate --events out/ingest/behavior_events [--report out/personalize/eval.json]

`--events` is a `behavior_events` dataset folder (the ingest stage's output: the demo's logs, Last.fm's dated tags
with `--item-type artist`, the Spotify listening histories); `--sources` keeps only some of its sources.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpus.personalize.evaluate import evaluate_split, read_events
from corpus.personalize.model import Personalizer, PersonalizerConfig


def _config(args: argparse.Namespace) -> PersonalizerConfig:
    return PersonalizerConfig(algorithm=args.algorithm, factors=args.factors, iterations=args.iterations,
                              regularization=args.regularization, alpha=args.alpha, item_types=tuple(args.item_type),
                              seed=args.seed)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m corpus.personalize", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = PersonalizerConfig()
    for name, help_text in (("train", "train on every event and save the model"),
                            ("evaluate", "time split: train on each user's earlier events, rank for the later ones, "
                                         "against popularity")):  # fmt: skip
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--events", required=True, help="a behavior_events dataset folder")
        p.add_argument("--sources", nargs="+", help="only these sources of the events")
        p.add_argument("--item-type", nargs="+", default=list(d.item_types), help="item types modelled (default: song)")
        p.add_argument("--algorithm", choices=["als", "bpr"], default=d.algorithm)
        p.add_argument("--factors", type=int, default=d.factors)
        p.add_argument("--iterations", type=int, default=d.iterations)
        p.add_argument("--regularization", type=float, default=d.regularization)
        p.add_argument("--alpha", type=float, default=d.alpha)
        p.add_argument("--seed", type=int, default=d.seed)
        if name == "train":
            p.add_argument("--out", required=True, help="model folder (factors.npz, model.json)")
        else:
            p.add_argument("--test-share", type=float, default=0.2)
            p.add_argument("--report", help="write the figures here as JSON")
    args = ap.parse_args(argv)
    cfg = _config(args)
    print(f"[personalize] config: {json.dumps(cfg.__dict__, sort_keys=True, default=list)}", file=sys.stderr)
    events = read_events(args.events, args.sources)
    if args.cmd == "train":
        model = Personalizer.fit(events, cfg)
        model.save(args.out)
        print(f"[personalize] {len(model.users):,} users x {len(model.items):,} items from {len(events):,} events "
              f"-> {args.out}")
        return 0
    rep = evaluate_split(events, cfg, args.test_share)
    k = rep["k"]
    for name in ("model", "popularity"):
        m = rep[name]
        print(f"{name:<11} hit_rate@{k} {m[f'hit_rate@{k}']:.4f}  ndcg@{k} {m[f'ndcg@{k}']:.4f}  "
              f"mrr@{k} {m[f'mrr@{k}']:.4f}  success@{k} {m[f'success@{k}']:.4f}")
    print(f"{rep['users_evaluated']:,} users evaluated, {rep['items']:,} items, {rep['train_events']:,} training events")
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(rep, indent=2, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
