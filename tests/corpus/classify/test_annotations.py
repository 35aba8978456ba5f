"""The document-level hand labels: well-formed, each resolving to a real document, covering every source as
GUIDE.md promises, and never pointing into the evaluation-only web text."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from corpus.classify.annotations import (
    EVAL_ONLY_FILES,
    LABELS,
    RANDOM_SAMPLE_END,
    SOURCES,
    AnnotatedSource,
    AnnotationError,
    Label,
    in_bbc_sample,
    iter_labelled_documents,
    load_labels,
    report_group,
)


@pytest.fixture(scope="module")
def labels() -> list[Label]:
    return load_labels()


def test_labels_are_unique_in_the_allowed_set_and_enough(labels: list[Label]) -> None:
    assert len(labels) >= 800
    assert len({(lab.source, lab.doc) for lab in labels}) == len(labels)
    assert {lab.label for lab in labels} <= set(LABELS)
    assert {lab.source for lab in labels} == set(SOURCES), "every source has labels, and only known sources"


def test_coverage_per_source_is_as_the_guide_says(labels: list[Label]) -> None:
    docs = {name: [lab.doc for lab in labels if lab.source == name] for name in SOURCES}
    # C4: every page of the file, in file order, none skipped: one random sample of the web.
    c4 = sorted(docs["c4_en_train_first1000"])
    end = RANDOM_SAMPLE_END["c4_en_train_first1000"]
    assert end == 1000 and c4 == list(range(1, end + 1))
    assert report_group("c4_en_train_first1000", end) == "c4_en_train_first1000"
    assert report_group("c4_en_train_first1000", end + 1) == "c4_en_train_first1000 (selected)"
    bbc = Counter(str(d).split("/")[0] for d in docs["bbc_news_fulltext"] if in_bbc_sample(str(d)))
    assert sum(bbc.values()) >= 150
    assert report_group("bbc_news_fulltext", "entertainment/029.txt") == "bbc_news_fulltext"  # 22 + 7
    assert report_group("bbc_news_fulltext", "entertainment/030.txt") == "bbc_news_fulltext (selected)"
    assert report_group("bbc_news_fulltext", "politics/015.txt") == "bbc_news_fulltext"  # 1 + 14
    assert set(bbc) == {"business", "entertainment", "politics", "sport", "tech"}
    assert len(docs["wikitext2_raw"]) == 120
    assert len(docs["thucnews_titles_zh"]) + len(docs["muchin_1k_zh"]) >= 100


def test_every_label_resolves_to_a_non_empty_real_document(shared_data: Path, labels: list[Label]) -> None:
    resolved = list(iter_labelled_documents(shared_data, labels))
    assert [(d.source, d.doc) for d in resolved] == [(lab.source, lab.doc) for lab in labels]
    assert all(d.text.strip() for d in resolved)
    wiki_titles = {d.doc for d in resolved if d.source == "wikitext2_raw"}
    assert all(d.text.startswith(f"= {d.doc} =") for d in resolved if d.source == "wikitext2_raw")
    assert len(wiki_titles) == 120
    assert {d.lang for d in resolved if d.source in ("thucnews_titles_zh", "muchin_1k_zh")} == {"zh"}


def test_no_label_refers_to_evaluation_only_text(labels: list[Label]) -> None:
    assert not {SOURCES[lab.source].path for lab in labels} & set(EVAL_ONLY_FILES)
    for path in EVAL_ONLY_FILES:
        with pytest.raises(ValueError, match="evaluation-only"):
            AnnotatedSource("held_out", path, "en", lambda p: iter(()))


def test_a_key_that_does_not_resolve_names_the_file_and_key(shared_data: Path) -> None:
    bad = [Label("bbc_news_fulltext", "entertainment/999.txt", "music")]
    with pytest.raises(
        AnnotationError, match=r"bbc_news\.jsonl: no document with key 'entertainment/999\.txt'"
    ):
        list(iter_labelled_documents(shared_data, bad))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([{"source": "c4_en_train_first1000", "doc": 1, "label": "maybe", "note": ""}], "label 'maybe'"),
        (
            [{"source": "c4_en_validation_2k", "doc": 1, "label": "other", "note": ""}],
            "source 'c4_en_validation_2k'",
        ),
        ([{"source": "c4_en_train_first1000", "doc": 1, "label": "other"}], "exactly the fields"),
        (
            [{"source": "c4_en_train_first1000", "doc": 1, "label": "other", "note": ""}] * 2,
            r"labels\.jsonl:2: .* already labelled on line 1",
        ),
    ],
)
def test_bad_label_lines_are_refused_with_their_line(tmp_path: Path, lines: list[dict], message: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    with pytest.raises(AnnotationError, match=message):
        load_labels(path)
