"""The dataset contract: schemas, validation errors that name file/row/field, version checks, cards."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas import (
    ALL_DATASETS,
    SchemaError,
    SchemaVersionError,
    SourceCredit,
    check_version,
    get_schema,
    render_card,
    require_valid,
    validate_parquet,
    validate_table,
)
from schemas.spec import META_NAME, META_VERSION

EXPECTED = {
    "documents", "artists", "songs", "albums", "chart_entries", "awards", "comments", "playlists",
    "item_relations", "user_profiles", "behavior_events", "qa_items", "conversations", "scored_documents",
    "dedup_attributes", "dedup_index", "rm_scores", "query_pool", "uq2i_samples",
    "training_documents", "training_sequences", "quarantine", "exclusions", "run_manifests",
}


def test_every_dataset_has_a_versioned_schema_with_described_columns():
    assert set(ALL_DATASETS) == EXPECTED
    for name, spec in ALL_DATASETS.items():
        schema = spec.arrow_schema()
        assert schema.metadata[META_NAME] == name.encode()
        assert schema.metadata[META_VERSION] == spec.version.encode()
        for f in schema:
            assert f.metadata and f.metadata[b"description"], f"{name}.{f.name} has no description"
        if spec.key:
            assert not schema.field(spec.key).nullable


def _training_rows():
    return [
        {"doc_id": "a", "stage": 1, "source": "s", "text": "hello world", "weight": 1.0,
         "no_loss_spans": [{"start": 0, "end": 5}], "metadata": None},
        {"doc_id": "b", "stage": 2, "source": "s", "text": "second", "weight": 0.5, "no_loss_spans": None,
         "metadata": None},
    ]


def test_valid_table_has_no_violations():
    spec = get_schema("training_documents")
    table = pa.Table.from_pylist(_training_rows(), schema=spec.arrow_schema())
    assert validate_table(table, spec, "t.parquet") == []


def test_violations_name_file_row_and_field():
    spec = get_schema("training_documents")
    rows = _training_rows()
    rows[1]["stage"] = 4
    rows[1]["weight"] = 0.0
    rows[0]["no_loss_spans"] = [{"start": 3, "end": 50}]
    rows.append(dict(rows[0], no_loss_spans=None))  # duplicate doc_id "a"
    table = pa.Table.from_pylist(rows, schema=spec.arrow_schema())
    msgs = [str(v) for v in validate_table(table, spec, "bad.parquet")]
    assert "bad.parquet, row 1, field 'stage': must be 1, 2 or 3" in msgs
    assert "bad.parquet, row 1, field 'weight': sampling weight must be > 0" in msgs
    assert any(m.startswith("bad.parquet, row 0, field 'no_loss_spans'") for m in msgs)
    assert "bad.parquet, row 0, field 'doc_id': duplicate key 'a'" in msgs
    assert "bad.parquet, row 2, field 'doc_id': duplicate key 'a'" in msgs
    with pytest.raises(SchemaError, match="contract violation"):
        require_valid(table, spec, "bad.parquet")


def test_missing_extra_and_mistyped_columns_are_reported():
    spec = get_schema("artists")
    table = pa.table({"artist_id": ["x"], "source": ["s"], "source_id": [1], "oops": [1]})
    msgs = [str(v) for v in validate_table(table, spec, "a.parquet")]
    assert "a.parquet, field 'name': missing column (type string)" in msgs
    assert "a.parquet, field 'source_id': has type int64, the contract says string" in msgs
    assert "a.parquet, field 'oops': column is not in the contract" in msgs


def test_schema_version_mismatch_is_a_clear_error(tmp_path):
    spec = get_schema("songs")
    schema = spec.arrow_schema().with_metadata({META_NAME: b"songs", META_VERSION: b"2.0.0"})
    path = tmp_path / "part-00000.parquet"
    pq.write_table(schema.empty_table(), path)
    with pytest.raises(SchemaVersionError, match=r"written with songs schema version 2\.0\.0.*major version 1"):
        validate_parquet(path, spec)
    other = spec.arrow_schema().with_metadata({META_NAME: b"artists", META_VERSION: b"1.0.0"})
    with pytest.raises(SchemaVersionError, match="declares dataset 'artists', expected 'songs'"):
        check_version(other, spec, "x.parquet")
    # a minor version bump is compatible
    check_version(spec.arrow_schema().with_metadata({META_NAME: b"songs", META_VERSION: b"1.3.0"}), spec, "y")


def test_corrupt_parquet_is_a_clear_error(tmp_path):
    path = tmp_path / "part-00000.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(SchemaError, match="not a readable Parquet file"):
        validate_parquet(path, get_schema("songs"))


def test_card_lists_columns_counts_licenses_and_generated_notice():
    spec = get_schema("songs")
    card = render_card(
        spec, rows=1234, rows_by_source={"demo": 1000, "msd": 234},
        sources=[SourceCredit("demo", "generated (project demo)", "demo platform", True),
                 SourceCredit("msd", "research use", "MSD subset")],
    )
    assert card.startswith("# Dataset `songs`")
    assert "**Generated data.**" in card
    assert "- Rows: 1,234" in card
    for c in spec.columns:
        assert f"| `{c.name}` | `{c.type}` |" in card
    assert "| `msd` | 234 |" in card and "| `msd` | research use | MSD subset |" in card
    assert render_card(spec, rows=1) == render_card(spec, rows=1)  # deterministic


def test_enumerated_columns_list_their_values_and_free_form_columns_do_not():
    enumerated = {
        f"{name}.{c.name}": c.allowed for name, spec in ALL_DATASETS.items() for c in spec.columns if c.allowed
    }
    items = ("song", "artist", "album", "playlist")
    assert enumerated == {
        "behavior_events.feedback": ("play", "skip", "like", "dislike", "tag", "add_to_playlist", "share", "search"),
        "behavior_events.item_type": items,
        "comments.item_type": items,
        "chart_entries.item_type": ("song", "album"),
        "item_relations.src_type": (*items, "user"),
        "item_relations.dst_type": (*items, "user"),
        "dedup_attributes.dup_status": (
            "unique", "kept", "exact_duplicate", "near_duplicate", "previous_version", "duplicate_id", "no_tokens"
        ),
    }
    for key, allowed in enumerated.items():
        name, col = key.split(".")
        description = get_schema(name).column(col).description
        assert all(f"`{v}`" in description for v in allowed), key  # the prose and the contract agree
    assert get_schema("item_relations").column("relation").allowed is None  # "e.g.": free-form


def test_allowed_values_need_a_string_column_and_distinct_values():
    from schemas import Column

    with pytest.raises(ValueError, match="needs a string column"):
        Column("n", pa.int32(), "a number", allowed=("1",))
    with pytest.raises(ValueError, match="non-empty and without repeats"):
        Column("s", pa.string(), "a kind", allowed=("a", "a"))


def test_card_lists_allowed_values():
    card = render_card(get_schema("behavior_events"), rows=1)
    line = next(x for x in card.splitlines() if x.startswith("| `feedback` |"))
    assert line.endswith(
        "Allowed values: `play`, `skip`, `like`, `dislike`, `tag`, `add_to_playlist`, `share`, `search`. |"
    )
    assert "Allowed values" not in next(x for x in card.splitlines() if x.startswith("| `tag` |"))
