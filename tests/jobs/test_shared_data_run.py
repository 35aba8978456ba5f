"""The real public datasets through the whole ingest stage (configs/shared_data.yaml)."""

from __future__ import annotations

import pytest

from jobs.config import load_config
from jobs.engines import DatatroveEngine
from jobs.run import run_corpus
from schemas import get_schema, validate_parquet


@pytest.mark.slow
def test_every_public_dataset_ingests_with_exact_accounting(tmp_path, shared_data):
    cfg = load_config("configs/shared_data.yaml", {"out": str(tmp_path / "out")})
    report = run_corpus(cfg, engine=DatatroveEngine(workers=2, progress=False), stages=("ingest",))
    m = report.results[-1].manifest
    assert m["rows_in"] == m["rows_out"] + sum(m["dropped"].values()) + sum(m["quarantined"].values())
    by_source = m["by_source"]
    assert set(by_source) == {s.name for s in cfg.ingest.sources}  # every configured dataset produced rows
    for name, src in by_source.items():
        assert src["rows_in"] == src["rows_out"] + sum(src["dropped"].values()) + sum(src["quarantined"].values()), name
        assert src["rows_out"] > 0, name
    # the repeated Spotify track rows are exact repeats: dropped and recorded, not quarantined
    assert by_source["spotify_songs_tidytuesday_2020"]["dropped"] == {"duplicate_row": 4476}
    assert "duplicate_id_conflict" not in m["quarantined"]
    for name in m["datasets"]:
        assert validate_parquet(tmp_path / "out" / "ingest" / name, get_schema(name)) == [], name
    card = (tmp_path / "out" / "ingest" / "behavior_events" / "_README.md").read_text()
    assert "lastfm_hetrec2011" in card and "non-commercial" in card.lower()


@pytest.mark.slow
def test_curriculum_stages_on_real_data_in_spark(tmp_path, shared_data, spark):
    """Last.fm, Spotify playlists, Grammy and Billboard facts and MusicCaps through behavior, relations,
    knowledge and mix, with Spark running every task."""
    import orjson
    import pyarrow.dataset as pads

    from jobs.engines import LocalEngine, SparkEngine

    names = ("lastfm_hetrec2011", "spotify_songs_tidytuesday_2020", "grammy_awards", "billboard_year_end_hot100",
             "musiccaps", "wikitext2_raw", "music_reco_ner_deezer", "music_reco_intent_deezer")  # fmt: skip
    base = load_config("configs/shared_data.yaml")
    sources = [s.model_dump() for s in base.ingest.sources if s.name in names]
    cfg = load_config("configs/shared_data.yaml", {"out": str(tmp_path / "out"), "ingest.sources": sources})
    run_corpus(cfg, engine=LocalEngine(), stages=("ingest", "refine", "dedup", "select"))
    report = run_corpus(cfg, engine=SparkEngine(spark), stages=("behavior", "relations", "knowledge", "mix"))
    m = {r.stage: r.manifest for r in report.results}
    for stage, man in m.items():
        assert man["engine"] == "spark" and man["rows_in"] == man["rows_out"] + sum(man["dropped"].values()), stage
    # Last.fm: dated tag assignments are the events; artists missing from artists.dat are unknown items
    assert m["behavior"]["rows_in"] == 186_479 and m["behavior"]["dropped"]["unknown_item"] > 0
    seq = pads.dataset(tmp_path / "out" / "behavior" / "training_sequences").to_table().slice(0, 50).to_pylist()
    assert all("tagged" in s["text"] and "Top artists by plays" in s["text"] for s in seq)
    # a tenth of the Last.fm users are held out: their sequences are the evaluation split, never training
    users = lambda d: set(pads.dataset(tmp_path / "out" / "behavior" / d).to_table(columns=["user_id"])["user_id"].to_pylist())  # noqa: E731
    held = users("_heldout_users")
    assert 150 < len(held) < 250 and users("heldout_sequences") <= held and not held & users("training_sequences")
    kinds = {r["relation"] for r in pads.dataset(tmp_path / "out" / "relations" / "item_relations").to_table(columns=["relation"]).to_pylist()}
    assert kinds == {"co_playlist", "co_session", "co_listener"}
    groups = {(r["stage"], orjson.loads(r["metadata"])["mix_group"]) for r in pads.dataset(
        tmp_path / "out" / "mix" / "training_documents").to_table(columns=["stage", "metadata"]).to_pylist()}  # fmt: skip
    assert {(1, "metadata"), (1, "lyric_descriptions"), (2, "playlists"), (2, "relations"), (3, "user_context")} <= groups
    out = tmp_path / "out"
    # the text that reaches training is clean: no WikiText tokenization artifacts, no mojibake, no one-line
    # "X is an artist." documents
    import re

    for folder in ("knowledge", "mix"):
        docs = pads.dataset(out / folder / "training_documents").to_table(columns=["source", "text"]).to_pylist()
        wiki = [d["text"] for d in docs if d["source"] == "wikitext2_raw"]
        assert wiki and not any(re.search(r"@[-,.]@| [,.;:] |\( | \)", t) for t in wiki), folder
        assert not [d["text"][:80] for d in docs if re.search("[ÃÂ][\u0080-\u00bf]", d["text"])], folder
        assert not [d["text"] for d in docs if re.fullmatch(r"[^\n]{1,80} is an artist\.", d["text"])], folder
    grammy = " ".join(r["text"] for r in pads.dataset(out / "knowledge" / "training_documents").to_table(
        columns=["source", "text"]).to_pylist() if r["source"] == "grammy_awards")  # fmt: skip
    assert "Bartók" in grammy and "BartÃ³k" not in grammy
    # short Reddit requests are English: kept as `en`, never dropped for their language
    refined = pads.dataset(out / "refine" / "documents").to_table(columns=["source", "lang"]).to_pylist()
    reddit = [r["lang"] for r in refined if r["source"].startswith("music_reco_")]
    assert len(reddit) > 4000 and sum(lang == "en" for lang in reddit) / len(reddit) >= 0.99
    select = orjson.loads((out / "select" / "_manifest.json").read_bytes())["by_source"]
    for src in ("music_reco_ner_deezer", "music_reco_intent_deezer"):  # before: 959 of 4,842 dropped for language
        lang_drops = sum(n for k, n in select[src]["dropped"].items() if k.startswith("lang_"))
        assert lang_drops <= 0.001 * select[src]["rows_in"], select[src]
        # and the short requests pass select's bounds for short text (configs/shared_data.yaml source_quality)
        assert "quality:n_words_low" not in select[src]["dropped"] and select[src]["rows_out"] > 1000, select[src]
    # the mix cuts nothing without a total (rule keep_all), and every manifest counts every source
    assert m["mix"]["dropped"] == {} and m["mix"]["rows_in"] == m["mix"]["rows_out"]
    for stage, man in m.items():
        assert sum(s["rows_in"] for s in man["by_source"].values()) == man["rows_in"], stage
