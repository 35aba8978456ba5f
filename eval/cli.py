"""`music-eval`: build the music benchmarks from ../shared/data and grade answers from any model.

    music-eval build-simpleqa --out out/eval/music_simpleqa.jsonl
    music-eval grade IN.jsonl --out OUT.jsonl
    music-eval grader-agreement
    music-eval match ANSWERS.jsonl --catalog CATALOG.jsonl --out OUT.jsonl
    music-eval rewards IN.jsonl --catalog CATALOG.jsonl --out OUT.jsonl [--list-size 10]

`grade` reads one JSON object per line with `question`, `gold`, `response` and optional `aliases`,
`answer_type` (person, work, year, number, place), `tolerance` and `lang`, and writes each line back with
`grade` (`correct`, `incorrect` or `not_attempted`) and `grade_reason`; it prints SimpleQA's summary
(correct, not attempted, correct given attempted, F-score).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from eval.simpleqa.grader import grade, grade_file

CASES = Path(__file__).resolve().parent / "simpleqa" / "annotations" / "grading_cases.jsonl"


def grader_agreement(path: Path = CASES) -> dict:
    """Agreement of the rule grader with the hand-written grading cases, and the disagreements."""
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    disagreements = []
    for r in rows:
        g = grade(r["gold"], r["response"], r.get("aliases") or (), r.get("answer_type") or "person",
                  r.get("tolerance") or 0, r.get("question") or "")
        if g.grade != r["expected"]:
            disagreements.append({**r, "got": g.grade, "reason": g.reason})
    return {"cases": len(rows), "agreement": 1 - len(disagreements) / len(rows),
            "expected": dict(Counter(r["expected"] for r in rows)), "disagreements": disagreements}


def _baselines(corpus: Path | None, lists: Path | None, out: Path | None) -> int:
    import json

    from eval.recommend.baselines import ModelLists
    from eval.recommend.tasks import cpcd_task, evaluate, heldout_task, run_baselines
    from jobs.settings import shared_data_dir

    cols = ("hit_rate@10", "mrr@10", "ndcg@10", "success@10", "coverage", "artist_repetition", "personalization")
    results: dict[str, dict] = {}
    try:
        task = cpcd_task(shared_data_dir())
        results["cpcd-val"] = run_baselines(task)
        if lists:
            results["cpcd-val"]["model"] = evaluate(ModelLists.from_jsonl(lists), task)
        if corpus:
            results["heldout"] = run_baselines(heldout_task(corpus / "behavior", corpus / "ingest"))
    except (OSError, ValueError) as e:
        print(f"music-eval baselines: {e}", file=sys.stderr)
        return 2
    for name, rows in results.items():
        print(f"{name} ({next(iter(rows.values()))['n']} requests)\n  {'':12}" + "".join(f"{c:>19}" for c in cols))
        for who, m in rows.items():
            print(f"  {who:12}" + "".join(f"{m[c]:19.4f}" for c in cols))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="music-eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build-simpleqa", help="generate MusicSimpleQA from ../shared/data (deterministic)")
    p.add_argument("--out", type=Path, default=Path("out/eval/music_simpleqa.jsonl"))
    p.add_argument("--shared", type=Path, help="shared data folder (default ../shared/data or $MUSIC_SHARED_DATA)")
    p = sub.add_parser("grade", help="grade a JSONL of (question, gold, response) lines, SimpleQA style")
    p.add_argument("input", type=Path)
    p.add_argument("--out", type=Path, required=True)
    sub.add_parser("grader-agreement", help="agreement of the grader with the hand-written grading cases")
    p = sub.add_parser("match", help="match recommendation answer lines to a catalog (song_id or null)")
    p.add_argument("input", type=Path, help="JSONL; each line has `line`, one line of a model's answer")
    p.add_argument("--catalog", type=Path, required=True, help="JSONL: song_id, title, artists, optional aliases")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("rewards", help="rule rewards of recommendation answers (format, factuality, diversity, "
                                       "de-duplication) and the facts behind them")
    p.add_argument("input", type=Path, help="JSONL; each line has `output` (the full answer text) and "
                                            "`user_recent_positive` (a list of song ids)")
    p.add_argument("--catalog", type=Path, required=True, help="JSONL: song_id, title, artists, optional aliases")
    p.add_argument("--out", type=Path, required=True, help="the input lines with items, facts and rewards added")
    p.add_argument("--list-size", type=int, default=10, help="items a well-formed answer has (default 10)")
    p = sub.add_parser("baselines", help="recommendation baselines (popularity, item-kNN, BM25, random) on CPCD "
                                         "dev-val and, with --corpus, the corpus run's held-out users")
    p.add_argument("--corpus", type=Path, help="a corpus run's output folder (behavior/, relations/, ingest/)")
    p.add_argument("--lists", type=Path, help="also score a model's lists for CPCD dev-val: JSONL of "
                                              "{id, items: [song_id or null, ...]} (ids as `cpcd-<conversation>`)")
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    if args.command == "build-simpleqa":
        from eval.simpleqa.items import build_items, write_items
        from jobs.settings import shared_data_dir

        shared = args.shared or shared_data_dir()
        items = build_items(shared)
        write_items(items, args.out)
        counts = Counter((it.lang, it.answer_type) for it in items)
        print(f"{len(items)} items written to {args.out}: " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in
                                                                          sorted(counts.items())))
    elif args.command == "grade":
        try:
            summary = grade_file(args.input, args.out)
        except (OSError, ValueError) as e:
            print(f"music-eval grade: {e}", file=sys.stderr)
            return 2
        print(f"graded {summary['n']} answers -> {args.out}: correct {summary['correct']:.3f}, not attempted "
              f"{summary['not_attempted']:.3f}, correct given attempted {summary['correct_given_attempted']:.3f}, "
              f"F-score {summary['f_score']:.3f}")
    elif args.command == "match":
        from eval.recommend.match import match_file

        try:
            res = match_file(args.input, args.catalog, args.out)
        except (OSError, ValueError) as e:
            print(f"music-eval match: {e}", file=sys.stderr)
            return 2
        print(f"matched {res['matched']} of {res['lines']} lines to the catalog -> {args.out}")
    elif args.command == "rewards":
        from eval.rewards import RewardConfig, rewards_file

        try:
            res = rewards_file(args.input, args.catalog, args.out, RewardConfig(list_size=args.list_size))
        except (OSError, ValueError) as e:
            print(f"music-eval rewards: {e}", file=sys.stderr)
            return 2
        print(f"{res['n']} answers -> {args.out}: format ok {res['format_ok']:.3f}, factuality {res['r_factuality']:.3f}, "
              f"diversity {res['r_diversity']:.3f}, de-duplication {res['r_dedup']:.3f}, "
              f"mean rule reward {res['rule_reward']:.3f}")
    elif args.command == "baselines":
        return _baselines(args.corpus, args.lists, args.out)
    else:
        rep = grader_agreement()
        print(f"grader agreement {rep['agreement']:.4f} on {rep['cases']} hand-written cases; "
              f"{len(rep['disagreements'])} disagreements:")
        for d in rep["disagreements"]:
            print(f"  expected {d['expected']}, got {d['got']}: gold {d['gold']!r}, response {d['response']!r} "
                  f"({d['note']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
