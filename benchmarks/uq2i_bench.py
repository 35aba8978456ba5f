"""Query-to-item synthesis throughput (the uq2i stage), with a projection to 10M users.

    python -m benchmarks.uq2i_bench [--preset small]

Builds the demo platform through sample, ingest and behavior in `bench_out/uq2i/` (not timed), then times the
uq2i stage's three parts on one core (the inline engine, one process): the query pool (generation, embedding,
clustering: queries/s), the personalization model (fit on the training users' events, plus its time-split
evaluation) and the per-user synthesis tasks (favorites -> query -> cluster -> candidates -> scores -> list ->
rendered prompt: users/s per core). The projection to 10M users divides by the per-core rate (tasks are
independent user buckets, so cores add up); the pool and the model are one-off costs that scale with the
catalog and the events, reported apart.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench_out" / "uq2i"
USERS_TARGET = 10_000_000


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", help="demo sample preset (tiny, small, medium)")
    args = ap.parse_args(argv)
    from jobs.config import load_config
    from jobs.engines import LocalEngine
    from jobs.run import run_corpus
    from jobs.stages.uq2i import Uq2iStage

    shutil.rmtree(OUT, ignore_errors=True)
    cfg = load_config(None, {"out": str(OUT), "sample.preset": args.preset, "uq2i.enabled": True, "uq2i.buckets": 4})
    run_corpus(cfg, stages=("sample", "ingest", "behavior"), engine=LocalEngine(progress=False))
    stage = Uq2iStage.from_run(cfg, OUT)
    work = OUT / "uq2i_bench_work"
    work.mkdir(parents=True)
    from corpus.personalize.evaluate import evaluate_split
    from corpus.personalize.model import Personalizer
    from corpus.queries.pool import build_pool, write_pool
    from jobs.stages.uq2i import MODEL_DIR, POOL_DIR

    t0 = time.perf_counter()
    queries, labels, rep = build_pool(stage.ingest_dir, cfg.uq2i.clusters, cfg.uq2i.queries_per_song,
                                      captions=cfg.uq2i.caption_requests)
    write_pool(queries, labels, rep, work / "_pool")
    (work / "_pool" / "query_pool").rename(work / POOL_DIR)
    t_pool = time.perf_counter() - t0
    t0 = time.perf_counter()
    events = stage.training_events()
    Personalizer.fit(events, cfg.uq2i.personalizer).save(work / MODEL_DIR)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    figures = evaluate_split(events, cfg.uq2i.personalizer)
    t_eval = time.perf_counter() - t0
    (work / "_personalizer.json").write_text("{}")
    t0 = time.perf_counter()
    judge_rep = stage.train_judge(work)  # the synthesis filters candidates with it
    t_judge = time.perf_counter() - t0
    stage._load(work)  # catalog and index: loaded once per worker
    t0 = time.perf_counter()
    users = samples = 0
    for b in range(cfg.uq2i.buckets):
        st = stage.process(b, work)
        users += st["rows_in"]
        samples += st["rows_out"]
    t_syn = time.perf_counter() - t0
    rate = users / t_syn
    out = {"users": users, "samples": samples, "queries": len(queries), "clusters": rep["clusters"],
           "events": len(events), "pool_s": t_pool, "queries_per_s": len(queries) / t_pool,
           "personalizer_fit_s": t_fit, "personalizer_eval_s": t_eval, "judge_fit_s": t_judge,
           "judge_valid_f1": judge_rep["valid_at_threshold"]["f1"], "synthesis_s": t_syn,
           "users_per_s_per_core": rate, "projection_10M_users_core_hours": USERS_TARGET / rate / 3600,
           "model_ndcg@10": figures["model"]["ndcg@10"], "popularity_ndcg@10": figures["popularity"]["ndcg@10"]}  # fmt: skip
    print(f"[uq2i] pool: {len(queries):,} queries in {rep['clusters']:,} clusters, {t_pool:.1f} s "
          f"({len(queries) / t_pool:,.0f} queries/s); personalizer fit {t_fit:.1f} s on {len(events):,} events")
    print(f"[uq2i] synthesis: {users:,} users -> {samples:,} samples in {t_syn:.2f} s = {rate:,.0f} users/s per core; "
          f"10M users: {USERS_TARGET / rate / 3600:,.1f} core-hours ({USERS_TARGET / rate / 3600 / 64:,.2f} h on 64 cores)")
    return {"uq2i": out}


if __name__ == "__main__":
    main()
