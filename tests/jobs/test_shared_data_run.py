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
