"""`make eval MODEL=DIR`: the music evaluation suite on one Hugging Face checkpoint directory, on CPU or GPU.

    python -m eval.run --model DIR [--out out/eval/NAME] [--baseline OTHER/results.json] [key=value ...]

Runs, on one model:
- the multiple-choice tasks through lm-evaluation-harness (`eval/tasks`): music and general knowledge, and
  Q2I relevance (`music_q2i`);
- MusicSimpleQA (greedy short answers from the model, graded SimpleQA style);
- U2I personalization: perplexity of item and feedback tokens on the corpus's held-out users (`heldout`);
- recommendation lists: the model's ten-song answers to CPCD dev-val requests, matched to the catalog and scored
  beside the popularity, item-kNN, BM25 and random baselines; the baselines on the held-out users too;
then writes `results.json`, `report.md`, `scores.png`, `simpleqa_answers.jsonl` and `rec_answers.jsonl` to
`--out`, side by side with a baseline run's `results.json` when given. The configuration (`EvalConfig`) is
printed at start and stored in `results.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("eval")


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation run. Override any field as `key=value` on the command line."""

    model: str = ""
    """A Hugging Face checkpoint directory (config, weights, tokenizer), e.g. what `make pretrain` exports."""
    out: str = ""
    """Output folder; default `out/eval/<model folder name>`."""
    mc_tasks: tuple[str, ...] = ("music_knowledge", "general_knowledge", "music_q2i")
    """lm-evaluation-harness tasks or groups from `eval/tasks`."""
    mc_limit: int = 200
    """Items per multiple-choice task (0: all; the full ZIQI and general sets take hours on CPU)."""
    simpleqa_per_lang: int = 100
    """MusicSimpleQA items per language, the first by item id (a fixed, spread sample; 0: all)."""
    max_new_tokens: int = 24
    """Answer length for MusicSimpleQA (answers are names, years and numbers)."""
    heldout: str = "out/behavior/heldout_sequences"
    """The corpus run's held-out behavior sequences for U2I perplexity (skipped with a note when absent)."""
    u2i_limit: int = 64
    """Held-out sequences scored, the first by `seq_id` (0: all)."""
    u2i_max_tokens: int = 1024
    """Tokens scored per held-out sequence (its start; at most the model's context)."""
    rec_limit: int = 50
    """CPCD dev-val requests the model answers with a song list (0: all 50)."""
    rec_max_new_tokens: int = 160
    """Answer length for a ten-song list."""
    batch_size: int = 8
    device: str = "cpu"
    dtype: str = "float32"
    baseline: str = ""
    """A previous run's `results.json` to compare against (optional)."""

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("EvalConfig.model: give a Hugging Face checkpoint directory (MODEL=DIR)")
        if not (Path(self.model) / "config.json").is_file():
            raise ValueError(f"EvalConfig.model: {self.model} has no config.json; is it a Hugging Face checkpoint?")
        if (min(self.mc_limit, self.simpleqa_per_lang, self.u2i_limit, self.rec_limit) < 0
                or min(self.max_new_tokens, self.batch_size, self.rec_max_new_tokens) < 1 or self.u2i_max_tokens < 2):
            raise ValueError("EvalConfig: mc_limit, simpleqa_per_lang, u2i_limit and rec_limit must be >= 0, "
                             "max_new_tokens, rec_max_new_tokens and batch_size >= 1, u2i_max_tokens >= 2")
        if self.baseline and not Path(self.baseline).is_file():
            raise ValueError(f"EvalConfig.baseline: {self.baseline} not found (a previous run's results.json)")

    @classmethod
    def from_args(cls, model: str, overrides: list[str], **kw: Any) -> EvalConfig:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {"model": model, **{k: v for k, v in kw.items() if v}}
        for item in overrides:
            k, sep, v = item.partition("=")
            if not sep or k not in fields:
                raise ValueError(f"override {item!r}: expected key=value with key in {sorted(fields)}")
            default = fields[k].default
            values[k] = (tuple(x for x in v.split(",") if x) if isinstance(default, tuple)
                         else type(default)(v) if not isinstance(default, str) else v)
        return cls(**values)


def _mc(cfg: EvalConfig) -> dict[str, Any]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(Path(__file__).resolve().parent / "tasks"))
    res = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={cfg.model},dtype={cfg.dtype}",
                                  tasks=list(cfg.mc_tasks), task_manager=tm, limit=cfg.mc_limit or None,
                                  device=cfg.device, batch_size=cfg.batch_size)
    out = {}
    for name, r in res["results"].items():
        out[name] = {k.split(",")[0]: float(v) for k, v in r.items()
                     if k.split(",")[0] in ("acc", "acc_norm", "acc_stderr", "acc_norm_stderr")}
        out[name]["n"] = int(r.get("sample_len") or sum((r.get("sample_count") or {}).values()) or 0)
    return out


def _simpleqa(cfg: EvalConfig, model, tok, shared: Path, out_dir: Path) -> dict[str, Any]:
    from eval.jsonl import write_rows
    from eval.simpleqa.grader import f_score, grade
    from eval.simpleqa.items import build_items

    items = build_items(shared)
    chosen = []
    for lang in ("en", "zh"):
        pool = sorted((it for it in items if it.lang == lang), key=lambda it: it.id)
        chosen += pool[: cfg.simpleqa_per_lang] if cfg.simpleqa_per_lang else pool
    prompts = [(f"Answer the music question with just the answer.\nQuestion: {it.question}\nAnswer:"
                if it.lang == "en" else f"请只回答答案。\n问题：{it.question}\n答案：") for it in chosen]
    answers = [a.strip().split("\n")[0].strip() for a in _generate(cfg, model, tok, prompts, cfg.max_new_tokens)]
    rows = []
    for it, ans in zip(chosen, answers, strict=True):
        g = grade(it.gold, ans, it.aliases, it.answer_type, it.tolerance, it.question)
        rows.append({**it.to_dict(), "response": ans, "grade": g.grade})
    write_rows(out_dir / "simpleqa_answers.jsonl", rows)
    res = {lang: f_score(r["grade"] for r in rows if r["lang"] == lang) for lang in ("en", "zh")}
    res["all"] = f_score(r["grade"] for r in rows)
    return res


def _load(cfg: EvalConfig):
    from eval.generation import load_for_generation

    return load_for_generation(cfg.model, cfg.dtype, cfg.device)


def _u2i(cfg: EvalConfig, model, tok) -> dict[str, Any]:
    from eval.u2i import perplexity, read_heldout

    if not cfg.heldout or not Path(cfg.heldout).exists():
        return {"skipped": f"no held-out sequences at {cfg.heldout!r} (run the corpus with behavior.holdout_user_share)"}
    rows = read_heldout(Path(cfg.heldout), cfg.u2i_limit)
    return {**perplexity(model, tok, rows, cfg.u2i_max_tokens, cfg.batch_size, cfg.device).to_dict(),
            "path": cfg.heldout}


def _generate(cfg: EvalConfig, model, tok, prompts: list[str], max_new_tokens: int) -> list[str]:
    """Greedy continuations of `prompts`, in batches of `batch_size`."""
    from eval.generation import greedy

    return greedy(model, tok, prompts, max_new_tokens, cfg.batch_size, cfg.device)


REC_PROMPT = ("A listener is making a playlist.\nRequest: {request}\nSongs they already liked: {liked}\n"
              "Ten more songs for this playlist, one per line as \"Title - Artist\":\n1.")


def _recommend(cfg: EvalConfig, model, tok, shared: Path, out_dir: Path) -> dict[str, Any]:
    """Recommendation lists: the model's ten-song answers to CPCD dev-val requests, matched to the CPCD catalog,
    beside the four baselines; and the baselines on the corpus's held-out users when that split exists."""
    from eval.cpcd import catalog
    from eval.jsonl import write_rows
    from eval.recommend.baselines import ModelLists
    from eval.recommend.match import CatalogMatcher
    from eval.recommend.tasks import cpcd_task, evaluate, heldout_task, run_baselines

    task = cpcd_task(shared)
    n = cfg.rec_limit or len(task.requests)
    task = dataclasses.replace(task, requests=task.requests[:n], golds=task.golds[:n])
    prompts = [REC_PROMPT.format(request=r.text,
                                 liked="; ".join(task.texts[i] or i for i in r.history[-5:]) or "none")
               for r in task.requests]
    answers = _generate(cfg, model, tok, prompts, cfg.rec_max_new_tokens)
    lines = {r.id: [ln for ln in ("1." + a).splitlines() if ln.strip()][:10]
             for r, a in zip(task.requests, answers, strict=True)}
    lists = ModelLists.from_lines(lines, CatalogMatcher(catalog(shared)))
    write_rows(out_dir / "rec_answers.jsonl", [{"id": r.id, "request": r.text, "lines": lines[r.id],
                                                "items": lists.answers[r.id]} for r in task.requests])
    res: dict[str, Any] = {"cpcd": {"model": evaluate(lists, task), **run_baselines(task)}}
    behavior = Path(cfg.heldout).parent if cfg.heldout else None
    needs = (behavior / "heldout_events", behavior / "_sessions", behavior.parent / "ingest",
             behavior.parent / "relations" / "item_relations") if behavior is not None else ()
    if needs and all(p.exists() for p in needs):
        res["heldout"] = run_baselines(heldout_task(behavior, behavior.parent / "ingest"))
    return res


def _plot(results: dict[str, Any], baseline: dict[str, Any] | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*results["mc"], "simpleqa_f"]
    ours = [*(results["mc"][n].get("acc", 0.0) for n in results["mc"]), results["simpleqa"]["all"]["f_score"]]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], ours, width=0.4, label=Path(results["config"]["model"]).name)
    if baseline:
        base = [*(baseline["mc"].get(n, {}).get("acc", 0.0) for n in results["mc"]),
                baseline["simpleqa"]["all"]["f_score"]]
        ax.bar([i + 0.2 for i in x], base, width=0.4, label="baseline")
    ax.set_xticks(list(x), names, rotation=25, ha="right", fontsize=7)
    ax.set_ylabel("accuracy / F-score")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _report(results: dict[str, Any], baseline: dict[str, Any] | None, path: Path) -> None:
    cfg = results["config"]
    lines = [f"# Music evaluation: `{cfg['model']}`", "",
             f"{results['seconds']:.0f} s on {cfg['device']}; multiple choice: {cfg['mc_limit'] or 'all'} items per task; "
             f"MusicSimpleQA: {cfg['simpleqa_per_lang'] or 'all'} items per language.", "",
             "## Multiple choice (log-likelihood)", "", "| task | n | acc | acc_norm |" + (" baseline acc |" if baseline else ""),
             "|---|---:|---:|---:|" + ("---:|" if baseline else "")]
    for name, m in results["mc"].items():
        b = f" {baseline['mc'].get(name, {}).get('acc', float('nan')):.3f} |" if baseline else ""
        lines.append(f"| {name} | {m['n']} | {m.get('acc', float('nan')):.3f} | {m.get('acc_norm', float('nan')):.3f} |{b}")
    lines += ["", "## MusicSimpleQA", "", "| language | n | correct | not attempted | correct given attempted | F-score |"
              + (" baseline F |" if baseline else ""), "|---|---:|---:|---:|---:|---:|" + ("---:|" if baseline else "")]
    for lang, s in results["simpleqa"].items():
        b = f" {baseline['simpleqa'][lang]['f_score']:.3f} |" if baseline else ""
        lines.append(f"| {lang} | {s['n']} | {s['correct']:.3f} | {s['not_attempted']:.3f} | "
                     f"{s['correct_given_attempted']:.3f} | {s['f_score']:.3f} |{b}")
    u = results["u2i"]
    lines += ["", "## U2I personalization (held-out users)", ""]
    if "skipped" in u:
        lines.append(f"Skipped: {u['skipped']}.")
    else:
        b = baseline.get("u2i", {}) if baseline else {}
        lines += [f"Perplexity of item and feedback tokens (profile and state lines excluded, as in training) on "
                  f"{u['sequences']} sequences of {u['users']} held-out users (`{u['path']}`), {u['loss_tokens']} tokens.",
                  "", "| | perplexity | NLL per token |", "|---|---:|---:|",
                  f"| this model | {u['perplexity']:.1f} | {u['nll_per_token']:.3f} |"]
        if "perplexity" in b:
            lines.append(f"| baseline | {b['perplexity']:.1f} | {b['nll_per_token']:.3f} |")
    lines += _rec_report(results["rec"], baseline)
    lines += ["", "![scores](scores.png)", "", "Answers and grades: `simpleqa_answers.jsonl`; configuration and all "
              "figures: `results.json`."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


REC_COLUMNS = ("hit_rate@10", "mrr@10", "ndcg@10", "success@10", "factuality", "coverage", "artist_repetition",
               "personalization")


def _rec_report(rec: dict[str, Any], baseline: dict[str, Any] | None) -> list[str]:
    lines = ["", "## Recommendation lists", "",
             "CPCD dev-val requests (request + songs liked so far -> songs liked later in the conversation): the "
             "model's ten-song answer, matched to the CPCD catalog (`rec_answers.jsonl`), beside the baselines. "
             "Definitions: `eval/recommend/metrics.py`; protocols: `eval/recommend/CARD.md`."]
    for name, rows in (("CPCD dev-val", rec["cpcd"]), ("held-out users", rec.get("heldout"))):
        if not rows:
            lines += ["", f"{name}: not run (no held-out split; run the corpus with behavior.holdout_user_share)."]
            continue
        if baseline and name == "CPCD dev-val" and "rec" in baseline:
            rows = {**rows, "baseline run's model": baseline["rec"]["cpcd"]["model"]}
        n = next(iter(rows.values()))["n"]
        lines += ["", f"**{name}** ({n} requests)", "", "| | " + " | ".join(REC_COLUMNS) + " |",
                  "|---|" + "---:|" * len(REC_COLUMNS)]
        lines += [f"| {who} | " + " | ".join(f"{m[c]:.3f}" for c in REC_COLUMNS) + " |" for who, m in rows.items()]
    return lines


def run(cfg: EvalConfig) -> dict[str, Any]:
    from jobs.settings import shared_data_dir

    out = Path(cfg.out or Path("out/eval") / Path(cfg.model.rstrip("/")).name)
    out.mkdir(parents=True, exist_ok=True)
    print(f"[eval] config {json.dumps(dataclasses.asdict(cfg))}")
    t0 = time.perf_counter()
    results: dict[str, Any] = {"config": dataclasses.asdict(cfg)}
    results["mc"] = _mc(cfg)
    model, tok = _load(cfg)  # lm-evaluation-harness loads its own; the rest share this one
    results["simpleqa"] = _simpleqa(cfg, model, tok, shared_data_dir(), out)
    results["u2i"] = _u2i(cfg, model, tok)
    results["rec"] = _recommend(cfg, model, tok, shared_data_dir(), out)
    results["seconds"] = time.perf_counter() - t0
    baseline = json.loads(Path(cfg.baseline).read_text(encoding="utf-8")) if cfg.baseline else None
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=2), encoding="utf-8")
    tmp.replace(out / "results.json")
    _plot(results, baseline, out / "scores.png")
    _report(results, baseline, out / "report.md")
    print(f"[eval] {out / 'report.md'}: " + ", ".join(f"{k} acc {v.get('acc', 0):.3f}" for k, v in results["mc"].items())
          + f"; MusicSimpleQA F {results['simpleqa']['all']['f_score']:.3f}"
          + (f"; U2I perplexity {results['u2i']['perplexity']:.1f}" if "perplexity" in results["u2i"] else "")
          + f"; CPCD hit_rate@10 {results['rec']['cpcd']['model']['hit_rate@10']:.3f}")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="Hugging Face checkpoint directory")
    ap.add_argument("--out", default="")
    ap.add_argument("--baseline", default="", help="a previous run's results.json")
    ap.add_argument("overrides", nargs="*", help="EvalConfig fields as key=value (mc_limit=50, device=cuda, ...)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        cfg = EvalConfig.from_args(args.model, args.overrides, out=args.out, baseline=args.baseline)
    except ValueError as e:
        print(f"eval: {e}")
        return 2
    run(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
