"""The curriculum producers end to end on the tiny demo: behavior sequences, Spark relations, knowledge
documents and the mix; their invariants, bad input, engine parity and determinism."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from corpus.behavior.events import heldout_user
from corpus.behavior.interleave import PROFILE, STATE, approx_tokens
from corpus.knowledge import render as R
from eval.mc.items import build_task
from eval.q2i.items import build_q2i
from eval.simpleqa.items import build_items
from jobs.config import load_config
from jobs.engines import InlineEngine, LocalEngine, SparkEngine
from jobs.outputs import write_rows
from jobs.run import run_corpus
from jobs.stage import run_stage
from jobs.stages.behavior import BehaviorStage, BehaviorStageConfig, user_buckets
from schemas import get_schema, validate_parquet
from tests.jobs.user_data import music_articles

pytestmark = pytest.mark.slow
CURRICULUM = ("behavior", "relations", "knowledge", "mix")


def _rows(path) -> list[dict]:
    return pads.dataset(path, format="parquet").to_table().to_pylist() if path.exists() else []


def quiz_pages(shared: Path) -> list[dict]:
    """Real BBC music articles, three of them with an evaluation item pasted in (a MusicSimpleQA question and
    answer, an OpenTriviaQA question and its answer, a Q2I request and its song) and one left clean."""
    sqa = next(it for it in build_items(shared) if it.lang == "en" and it.source.startswith("grammy"))
    mc = build_task("music_knowledge_otqa", shared)[0]
    q2i = build_q2i(shared)[0]
    pasted = {"leak-sqa": f"Quiz of the week: {sqa.question} The answer: {sqa.gold}.",
              "leak-mc": f"Pub quiz round two. {mc.question} Answer: {mc.choices[mc.gold]}.",
              "leak-q2i": f"A reader asks: {q2i.question} Our pick: {q2i.choices[q2i.gold]}.",
              "clean": ""}
    articles = music_articles(shared, len(pasted))
    return [{"id": k, "title": a["title"], "text": a["text"] + ("\n\n" + v if v else "")}
            for (k, v), a in zip(pasted.items(), articles, strict=True)]


def demo_config(out: Path, shared: Path):
    quiz = out.parent / "quiz" / "documents.jsonl"
    quiz.parent.mkdir(parents=True, exist_ok=True)
    quiz.write_text("".join(orjson.dumps(r).decode() + "\n" for r in quiz_pages(shared)), encoding="utf-8")
    sources = [*load_config(None).model_dump(mode="json")["ingest"]["sources"],
               {"name": "quiz", "dataset": "documents", "path": str(quiz), "license": "BBC (test input)"}]
    return load_config(None, {"out": str(out), "sample.preset": "tiny", "behavior.max_tokens": 600,
                              "ingest.sources": sources})


@pytest.fixture(scope="module")
def demo(tmp_path_factory, spark, shared_data):
    out = tmp_path_factory.mktemp("curriculum") / "out"
    cfg = demo_config(out, shared_data)
    report = run_corpus(cfg, engine=LocalEngine(progress=False))
    return out, {r.stage: r for r in report.results}, cfg


def test_every_stage_balances_and_writes_its_contract(demo):
    out, results, _ = demo
    for name in CURRICULUM:
        m = results[name].manifest
        assert m["rows_in"] == m["rows_out"] + sum(m["dropped"].values()) + sum(m["quarantined"].values())
        assert m["rows_in"] > 0, name
    assert validate_parquet(out / "behavior" / "training_sequences", get_schema("training_sequences")) == []
    assert validate_parquet(out / "relations" / "item_relations", get_schema("item_relations")) == []
    for d in (out / "knowledge" / "training_documents", out / "mix" / "training_documents"):
        assert validate_parquet(d, get_schema("training_documents")) == []
    stages = {r["stage"] for r in _rows(out / "mix" / "training_documents")}
    assert stages == {1, 2, 3}


def test_behavior_sequences_are_ordered_private_and_masked_exactly(demo):
    out, results, cfg = demo
    seqs = _rows(out / "behavior" / "training_sequences")
    heldout = _rows(out / "behavior" / "heldout_sequences")
    events = _rows(out / "ingest" / "behavior_events")
    assert heldout and sum(s["n_events"] for s in seqs + heldout) == results["behavior"].manifest["rows_out"]
    by_user = defaultdict(list)
    for s in seqs:
        by_user[s["user_id"]].append(s)
        assert approx_tokens(s["text"]) <= cfg.behavior.max_tokens
        assert s["text"].startswith(PROFILE)
        # no-loss spans cover exactly the profile line and every state line (marker and newline included)
        expected, pos = [], 0
        for line in s["text"].splitlines(keepends=True):
            if line.startswith((PROFILE, STATE)):
                if expected and expected[-1][1] == pos:
                    expected[-1] = (expected[-1][0], pos + len(line))
                else:
                    expected.append((pos, pos + len(line)))
            pos += len(line)
        assert [(sp["start"], sp["end"]) for sp in s["no_loss_spans"]] == expected
    titles = {}
    for r in _rows(out / "ingest" / "songs"):
        titles[r["song_id"]] = r["title"]
    user_items = defaultdict(set)
    for e in events:
        user_items[e["user_id"]].add(titles[e["item_id"]])
    for user, chunks in by_user.items():
        chunks.sort(key=lambda c: c["chunk_index"])
        assert [c["chunk_index"] for c in chunks] == list(range(len(chunks)))
        for a, b in zip(chunks, chunks[1:], strict=False):
            assert a["first_ts"] <= a["last_ts"] <= b["first_ts"]
        # every item line names a song this user played (never another user's)
        for c in chunks:
            for m in re.finditer(r"<\|item\|> (.*) — ", c["text"]):
                assert m.group(1) in user_items[user]


def test_heldout_users_never_reach_training_and_form_the_evaluation_split(demo):
    out, results, cfg = demo
    share = cfg.behavior.holdout_user_share
    assert share > 0  # the demo config holds users out
    b = out / "behavior"
    events = _rows(out / "ingest" / "behavior_events")
    held_users = {e["user_id"] for e in events if heldout_user(e["user_id"], share, cfg.behavior.holdout_seed)}
    assert held_users and len(held_users) < len({e["user_id"] for e in events}) / 3
    assert {r["user_id"] for r in _rows(b / "_heldout_users")} == held_users
    heldout = _rows(b / "heldout_sequences")
    assert {s["user_id"] for s in heldout} == held_users
    assert validate_parquet(b / "heldout_sequences", get_schema("training_sequences")) == []
    assert not held_users & {s["user_id"] for s in _rows(b / "training_sequences")}
    assert not held_users & {s["user_id"] for s in _rows(b / "_sessions")}
    mixed = _rows(out / "mix" / "training_documents")
    mixed_users = {orjson.loads(d["metadata"]).get("user_id") for d in mixed if d["stage"] == 3}
    assert mixed_users and not held_users & mixed_users
    assert not {s["seq_id"] for s in heldout} & {d["doc_id"] for d in mixed}
    # the held-out events are exactly those users' events, and the manifest counts them per source
    held_events = _rows(b / "heldout_events")
    assert sorted(e["event_id"] for e in held_events) == sorted(e["event_id"] for e in events if e["user_id"] in held_users)
    assert sum(s["n_events"] for s in heldout) == len(held_events)
    by_source = results["behavior"].manifest["by_source"]
    assert sum(v["heldout"]["events"] for v in by_source.values()) == len(held_events)


def test_time_cut_holds_out_every_users_future(demo, tmp_path):
    out, _, _ = demo
    events = _rows(out / "ingest" / "behavior_events")
    ts = sorted(e["ts"] for e in events)
    cut = ts[int(len(ts) * 0.8)]
    r = run_stage(BehaviorStage(BehaviorStageConfig(buckets=2, holdout_after=cut), out / "ingest"), tmp_path, InlineEngine())
    train, held = _rows(r.out_dir / "training_sequences"), _rows(r.out_dir / "heldout_sequences")
    assert train and held and max(s["last_ts"] for s in train) < cut <= min(s["first_ts"] for s in held)
    assert sum(s["n_events"] for s in held) == sum(e["ts"] >= cut for e in events)
    assert r.manifest["rows_in"] == r.manifest["rows_out"] == len(events)
    assert not _rows(r.out_dir / "_heldout_users")  # no user is held out whole by a time cut alone


def test_evaluation_items_never_reach_training(demo):
    """Every benchmark item is in the decontamination index (`music_benchmarks` provider): the pages with a
    pasted item are flagged with that item's eval set, dropped by select, and absent from the mix and shards."""
    out, results, _ = demo
    key_of = {r["doc_id"]: r["source_id"] for r in _rows(out / "ingest" / "documents") if r["source"] == "quiz"}
    attrs = {r["doc_id"]: r for r in _rows(out / "dedup" / "documents") if r["doc_id"] in key_of}
    by_key = {key_of[d]: a for d, a in attrs.items()}
    assert {k: sorted({h.split("/")[0] for h in a["eval_hits"]}) for k, a in by_key.items()} == {  # a request has up to 2 Q2I items
        "leak-sqa": ["music_simpleqa"], "leak-mc": ["music_knowledge_otqa"], "leak-q2i": ["music_q2i"], "clean": []}
    excluded = {r["id"]: r["reason"] for r in _rows(out / "select" / "_exclusions")}
    leaked = {d for d, a in attrs.items() if a["eval_hits"]}
    assert len(leaked) == 3 and all(excluded.get(d) == "eval_contamination" for d in leaked)
    mixed = {r["doc_id"].split("~")[0] for r in _rows(out / "mix" / "training_documents")}
    assert not leaked & mixed and set(attrs) - leaked <= mixed  # the clean page is trained on
    report = orjson.loads((out / "dedup" / "_report.json").read_bytes())["decontamination"]["report"]
    assert report["documents_contaminated"] >= 3


def test_relations_are_symmetric_ranked_and_renderable(demo):
    out, results, cfg = demo
    rel = _rows(out / "relations" / "item_relations")
    assert rel and {r["relation"] for r in rel} >= {"co_playlist", "co_session"}
    pairs = {(r["relation"], r["src_id"], r["dst_id"]): orjson.loads(r["metadata"]) for r in rel}
    for (kind, a, b), meta in pairs.items():
        assert 0 < [r for r in [meta]][0]["rank"] <= cfg.relations.top_k
        assert meta["co_count"] >= cfg.relations.min_co_count
        back = pairs.get((kind, b, a))
        if back is not None:
            assert back["co_count"] == meta["co_count"]


def test_templated_documents_trace_back_to_their_rows(demo):
    out, _, cfg = demo
    docs = [d for d in _rows(out / "knowledge" / "training_documents")]
    songs = {r["song_id"]: r for r in _rows(out / "ingest" / "songs")}
    checked = 0
    for d in docs:
        meta = orjson.loads(d["metadata"])
        assert meta["mix_group"] in {"metadata", "encyclopedia", "lyric_descriptions", "comments", "playlists", "relations"}
        assert not re.search(r"\{|\}|\bNone\b|\bnan\b", d["text"].replace("Sixpence None", "")), d["text"][:200]
        spans = [(s["start"], s["end"]) for s in d["no_loss_spans"] or []]
        assert all(0 <= a < b <= len(d["text"]) for a, b in spans) and spans == sorted(spans)
        if meta.get("kind") == "song":
            row = songs[meta["record_id"]]
            again = R.render_song(row, meta["lang"], cfg.knowledge.seed)
            # the stage adds chart facts; the identity sentences are the same and name the row's facts
            assert row["title"] in d["text"] and all(a in d["text"] for a in row["artists"][:1])
            assert d["text"].startswith(again.text.split("。")[0].split(". ")[0])
            checked += 1
    assert checked >= 50
    kinds = {orjson.loads(d["metadata"]).get("kind") for d in docs}
    assert {"song", "artist", "album", "chart", "playlist", "relation"} <= kinds
    assert any(orjson.loads(d["metadata"]).get("links") for d in docs)  # entity links on selected documents
    comments = [d for d in docs if orjson.loads(d["metadata"])["mix_group"] == "comments"]
    assert comments and all(d["stage"] == 2 and d["no_loss_spans"] for d in comments)


def test_mixture_report_matches_the_documents_written(demo):
    out, results, _ = demo
    report = orjson.loads((out / "mix" / "_report.json").read_bytes())
    written = defaultdict(int)
    rows = defaultdict(int)
    for d in _rows(out / "mix" / "training_documents"):
        key = (d["stage"], orjson.loads(d["metadata"])["mix_group"], d["source"])
        written[key] += approx_tokens(d["text"])
        rows[key] += 1
    for r in report["sources"]:
        key = (r["stage"], r["group"], r["source"])
        assert r["tokens"] == written.pop(key, 0), key
        assert r["rows_written"] == rows.pop(key, 0), key
    assert not written
    assert report["totals"]["tokens"] == results["mix"].manifest["tokens"]
    # repeats never exceed the cap, and repeat ids point at a written original
    ids = [d["doc_id"] for d in _rows(out / "mix" / "training_documents")]
    assert len(ids) == len(set(ids))
    originals = set(ids)
    for i in ids:
        if "~" in i:
            base, k = i.rsplit("~", 1)
            assert base in originals and 1 <= int(k) < 4


def test_rerun_is_skipped_and_outputs_are_deterministic(demo, tmp_path, shared_data):
    out, results, cfg = demo
    again = run_corpus(cfg, engine=LocalEngine(progress=False))
    assert {r.stage: r.status for r in again.results if r.stage in CURRICULUM} == dict.fromkeys(CURRICULUM, "skipped")
    out2 = tmp_path / "out"
    cfg2 = demo_config(out2, shared_data)
    run_corpus(cfg2, engine=LocalEngine(progress=False))
    for stage in CURRICULUM:
        a = {f.relative_to(out): f.read_bytes() for f in sorted((out / stage).rglob("*.parquet"))}
        b = {f.relative_to(out2): f.read_bytes() for f in sorted((out2 / stage).rglob("*.parquet"))}
        assert a == b, stage


def test_spark_buckets_match_numpy_and_give_identical_sequences(demo, spark, tmp_path):
    out, _, _ = demo
    users = pa.array(["u1", "user-2", "b53156243889270de2f706df77d5d388", "é"])
    from pyspark.sql import functions as F

    got = [r[0] for r in spark.createDataFrame([(u,) for u in users.to_pylist()], "u string")
           .select(F.pmod(F.xxhash64("u"), F.lit(7)).cast("int")).collect()]  # fmt: skip
    assert got == user_buckets(users, 7).tolist()
    cfg = BehaviorStageConfig(buckets=3)
    a = run_stage(BehaviorStage(cfg, out / "ingest"), tmp_path / "a", InlineEngine())
    b = run_stage(BehaviorStage(cfg, out / "ingest"), tmp_path / "b", SparkEngine(spark))
    for part in sorted((a.out_dir / "training_sequences").glob("part-*.parquet")):
        assert part.read_bytes() == (b.out_dir / "training_sequences" / part.name).read_bytes()


def test_behavior_bad_input_is_accounted(tmp_path):
    ing = tmp_path / "ingest"
    songs = [
        {"song_id": "s1", "source": "t", "source_id": "1", "title": "One", "artists": ["A"]},
        {"song_id": "s2", "source": "t", "source_id": "2", "title": "Two", "artists": ["B"]},
        {"song_id": "s3", "source": "t", "source_id": "3", "title": " ", "artists": ["C"]},  # no usable name
    ]
    write_rows(ing / "songs" / "part-00000.parquet", songs, "songs")
    t0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
    now = datetime(2025, 1, 1, tzinfo=UTC)

    def ev(eid, user, minutes, item, feedback="play"):
        ts = None if minutes is None else t0 + timedelta(minutes=minutes)
        return {"event_id": eid, "source": "t", "source_id": eid, "user_id": user, "ts": ts, "item_type": "song",
                "item_id": item, "feedback": feedback, "value": 30.0}  # fmt: skip

    events = [
        ev("e1", "u1", 0, "s1"), ev("e2", "u1", 5, "s2"), ev("e3", "u1", 90, "s3"),  # s3: item without metadata
        ev("e2", "u1", 5, "s2"),  # duplicate event
        ev("e4", "u1", None, "s1"),  # missing timestamp
        ev("e5", "u1", 60 * 24 * 400, "s1"),  # future (after `now`)
        ev("e6", "u1", 7, "nope"),  # unknown item
        ev("e7", "u2", 3, "s1"),  # a user with one event
    ]
    schema = get_schema("behavior_events").arrow_schema()
    table = pa.Table.from_pylist(events, schema=pa.schema([f.with_nullable(True) for f in schema]))
    (ing / "behavior_events").mkdir(parents=True)
    pq.write_table(table, ing / "behavior_events" / "part-00000.parquet")
    r = run_stage(BehaviorStage(BehaviorStageConfig(buckets=2, now=now), ing), tmp_path, InlineEngine())
    m = r.manifest
    assert m["rows_in"] == 8 and m["rows_out"] == 3
    assert m["dropped"] == {"duplicate_event": 1, "missing_timestamp": 1, "future_timestamp": 1, "unknown_item": 1,
                            "user_too_few_events": 1}  # fmt: skip
    excluded = {(x["id"], x["reason"]) for x in _rows(r.out_dir / "_exclusions")}
    assert {("e5", "future_timestamp"), ("e6", "unknown_item"), ("e7", "user_too_few_events"), ("e4", "missing_timestamp")} <= excluded
    (seq,) = _rows(r.out_dir / "training_sequences")
    assert seq["n_events"] == 3 and "<|item:s3|>" in seq["text"] and "new session" in seq["text"]
    assert "item_without_metadata" in (r.out_dir / "training_sequences" / "_README.md").read_text()
