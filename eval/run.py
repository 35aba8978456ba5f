"""`make eval MODEL=DIR`: the music evaluation suite on one Hugging Face checkpoint directory, on CPU or GPU.

    python -m eval.run --model DIR [--out out/eval/NAME] [--baseline OTHER/results.json] [key=value ...]

Runs the multiple-choice knowledge tasks through lm-evaluation-harness (`eval/tasks`) and MusicSimpleQA
(greedy short answers from the model, graded SimpleQA style), then writes `results.json`, `report.md` and
`scores.png` to `--out`, side by side with a baseline run's `results.json` when given. The configuration
(`EvalConfig`) is printed at start and stored in `results.json`.
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
    mc_tasks: tuple[str, ...] = ("music_knowledge", "general_knowledge")
    """lm-evaluation-harness tasks or groups from `eval/tasks`."""
    mc_limit: int = 200
    """Items per multiple-choice task (0: all; the full ZIQI and general sets take hours on CPU)."""
    simpleqa_per_lang: int = 100
    """MusicSimpleQA items per language, the first by item id (a fixed, spread sample; 0: all)."""
    max_new_tokens: int = 24
    """Answer length for MusicSimpleQA (answers are names, years and numbers)."""
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
        if self.mc_limit < 0 or self.simpleqa_per_lang < 0 or self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError("EvalConfig: mc_limit and simpleqa_per_lang must be >= 0, max_new_tokens and "
                             "batch_size >= 1")
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


def _simpleqa(cfg: EvalConfig, shared: Path, out_dir: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from eval.jsonl import write_rows
    from eval.simpleqa.grader import f_score, grade
    from eval.simpleqa.items import build_items

    items = build_items(shared)
    chosen = []
    for lang in ("en", "zh"):
        pool = sorted((it for it in items if it.lang == lang), key=lambda it: it.id)
        chosen += pool[: cfg.simpleqa_per_lang] if cfg.simpleqa_per_lang else pool
    tok = AutoTokenizer.from_pretrained(cfg.model)
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=getattr(torch, cfg.dtype)).to(cfg.device).eval()
    prompts = [(f"Answer the music question with just the answer.\nQuestion: {it.question}\nAnswer:"
                if it.lang == "en" else f"请只回答答案。\n问题：{it.question}\n答案：") for it in chosen]
    answers: list[str] = []
    for i in range(0, len(prompts), cfg.batch_size):
        enc = tok(prompts[i : i + cfg.batch_size], return_tensors="pt", padding=True).to(cfg.device)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=cfg.max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        for row in gen[:, enc["input_ids"].shape[1]:]:
            answers.append(tok.decode(row, skip_special_tokens=True).strip().split("\n")[0].strip())
    rows = []
    for it, ans in zip(chosen, answers, strict=True):
        g = grade(it.gold, ans, it.aliases, it.answer_type, it.tolerance, it.question)
        rows.append({**it.to_dict(), "response": ans, "grade": g.grade})
    write_rows(out_dir / "simpleqa_answers.jsonl", rows)
    res = {lang: f_score(r["grade"] for r in rows if r["lang"] == lang) for lang in ("en", "zh")}
    res["all"] = f_score(r["grade"] for r in rows)
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
    lines += ["", "![scores](scores.png)", "", "Answers and grades: `simpleqa_answers.jsonl`; configuration and all "
              "figures: `results.json`."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(cfg: EvalConfig) -> dict[str, Any]:
    from jobs.settings import shared_data_dir

    out = Path(cfg.out or Path("out/eval") / Path(cfg.model.rstrip("/")).name)
    out.mkdir(parents=True, exist_ok=True)
    print(f"[eval] config {json.dumps(dataclasses.asdict(cfg))}")
    t0 = time.perf_counter()
    results: dict[str, Any] = {"config": dataclasses.asdict(cfg)}
    results["mc"] = _mc(cfg)
    results["simpleqa"] = _simpleqa(cfg, shared_data_dir(), out)
    results["seconds"] = time.perf_counter() - t0
    baseline = json.loads(Path(cfg.baseline).read_text(encoding="utf-8")) if cfg.baseline else None
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=2), encoding="utf-8")
    tmp.replace(out / "results.json")
    _plot(results, baseline, out / "scores.png")
    _report(results, baseline, out / "report.md")
    print(f"[eval] {out / 'report.md'}: " + ", ".join(f"{k} acc {v.get('acc', 0):.3f}" for k, v in results["mc"].items())
          + f"; MusicSimpleQA F {results['simpleqa']['all']['f_score']:.3f}")
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
