"""Document-level hand labels for the music-domain classifier: load them and resolve each back to its text.

`annotations/labels.jsonl` holds one label per real document (`music` / `mixed` / `other`, rules in
`annotations/GUIDE.md`) and only a key into its source; the text is read in place from shared/data, so nothing
copied lives in git. `python -m corpus.classify.annotations SOURCE --start N` prints documents for labelling.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MUSIC = "music"
MIXED = "mixed"
OTHER = "other"
LABELS = (MUSIC, MIXED, OTHER)

LABELS_PATH = Path(__file__).resolve().parent / "annotations" / "labels.jsonl"

# Held out for evaluation of everything trained on web text: never labelled here, never read by this module.
EVAL_ONLY_FILES = ("web_crawl_samples/c4_en_validation_2k.jsonl", "web_crawl_samples/openwebtext_1000.jsonl")


# Labels past a source's RANDOM_SAMPLE_END are reported apart as `<source> (selected)` (chosen where the classifier
# was unsure: not a sample). All 1,000 C4 train pages are labelled now (GUIDE.md), so C4 is one random sample.
RANDOM_SAMPLE_END = {"c4_en_train_first1000": 1000}

# BBC's systematic sample (GUIDE.md): entertainment 001-020 and every 7th from 022, tech every 13th from 001,
# business and sport every 17th, politics every 14th. Other BBC labels were *selected* (the articles the lexicon
# rule abstained on) and are reported apart, so the sample's figures stay a sample's.
BBC_SAMPLE_STEP = {"entertainment": 7, "tech": 13, "business": 17, "sport": 17, "politics": 14}


def in_bbc_sample(key: str) -> bool:
    """Whether a BBC key (`<category>/<NNN>.txt`) is in the systematic sample described in GUIDE.md."""
    cat, _, name = str(key).partition("/")
    step, n = BBC_SAMPLE_STEP.get(cat), int(name[:3]) if name[:3].isdigit() else 0
    if step is None or n < 1:
        return False
    if cat == "entertainment":
        return n <= 20 or (n >= 22 and (n - 22) % step == 0)
    return (n - 1) % step == 0


# Per source, which labelled documents belong to its sample (the others were selected and are reported apart).
IN_SAMPLE: dict[str, Callable[[str | int], bool]] = {
    **{src: (lambda doc, end=end: not isinstance(doc, int) or doc <= end) for src, end in RANDOM_SAMPLE_END.items()},
    "bbc_news_fulltext": lambda doc: in_bbc_sample(str(doc)),
}


def report_group(source: str, doc: str | int) -> str:
    """The group a labelled document's figures are reported under: its source, or `<source> (selected)`."""
    in_sample = IN_SAMPLE.get(source)
    return f"{source} (selected)" if in_sample is not None and not in_sample(doc) else source


class AnnotationError(ValueError):
    """A label line is malformed, or its key does not resolve to a document in its source."""


@dataclass(frozen=True)
class Label:
    """One line of labels.jsonl."""

    source: str
    """A key of `SOURCES` (`c4_en_train_first1000`, `bbc_news_fulltext`, ...)."""
    doc: str | int
    """The document's key in that source (line number, upstream file, article title or row id)."""
    label: str
    """`music`, `mixed` or `other` (GUIDE.md)."""
    note: str = ""
    """Why, for a borderline call; empty otherwise."""


@dataclass(frozen=True)
class LabelledDocument:
    """A label with its document's text, as read from shared/data."""

    source: str
    doc: str | int
    label: str
    note: str
    lang: str
    """`en` or `zh`."""
    text: str


# --- sources: each yields (key, text) in file order -----------------------------------------------------


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, json.loads(line)


def _c4(path: Path) -> Iterator[tuple[str | int, str]]:
    """Key: the 1-based line number in the JSONL file."""
    for lineno, r in _jsonl(path):
        yield lineno, r["text"]


def _bbc(path: Path) -> Iterator[tuple[str | int, str]]:
    """Key: the upstream file (`entertainment/023.txt`); text: title, blank line, body."""
    for _, r in _jsonl(path):
        yield r["id"], f"{r['title']}\n\n{r['text']}"


def _wikitext(path: Path) -> Iterator[tuple[str | int, str]]:
    """Key: the article title as in `articles.tsv`; text: its raw lines (title line included)."""
    raw: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            split = r["split"]
            if split not in raw:
                raw[split] = (path.parent / f"wiki.{split}.raw").read_text(encoding="utf-8").split("\n")
            yield r["title"], "\n".join(raw[split][int(r["first_line"]) - 1 : int(r["last_line"])]).strip()


def _thucnews(path: Path) -> Iterator[tuple[str | int, str]]:
    """Key: `<split>/<idx>` (the line in the upstream dev/test file, as the ingest adapter's source_id)."""
    for _, r in _jsonl(path):
        yield f"{r['split']}/{r['idx']}", r["text"]


def _muchin(path: Path) -> Iterator[tuple[str | int, str]]:
    """Key: `<mid>/<group>/<answer_id>` (one free-text description, as the ingest adapter's document id)."""
    for _, r in _jsonl(path):
        for group in ("amateur", "professional"):
            for a in r.get(group) or []:
                if a.get("desc"):
                    yield f"{r['mid']}/{group}/{a['answer_id']}", a["desc"]


@dataclass(frozen=True)
class AnnotatedSource:
    """A shared/data file that labels may point into, and how its documents are keyed."""

    name: str
    path: str  # relative to the shared data folder
    lang: str
    read: Callable[[Path], Iterator[tuple[str | int, str]]]

    def __post_init__(self) -> None:
        if self.path in EVAL_ONLY_FILES:
            raise ValueError(f"{self.path} is evaluation-only text and must not be annotated for development")

    def documents(self, shared_dir: Path) -> Iterator[tuple[str | int, str]]:
        path = Path(shared_dir) / self.path
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: is {shared_dir} the shared data folder (MUSIC_SHARED_DATA)?"
            )
        return self.read(path)


SOURCES: dict[str, AnnotatedSource] = {
    s.name: s
    for s in (
        AnnotatedSource("c4_en_train_first1000", "web_crawl_samples/c4_en_train_first1000.jsonl", "en", _c4),
        AnnotatedSource("bbc_news_fulltext", "bbc_news_fulltext/bbc_news.jsonl", "en", _bbc),
        AnnotatedSource("wikitext2_raw", "wikitext2_raw/articles.tsv", "en", _wikitext),
        AnnotatedSource("thucnews_titles_zh", "thucnews_titles_zh/thucnews_titles.jsonl", "zh", _thucnews),
        AnnotatedSource("muchin_1k_zh", "muchin_1k_zh/muchin_descriptions.jsonl", "zh", _muchin),
    )
}


# --- labels -------------------------------------------------------------------------------------------------


def _parse_label(raw: str, where: str) -> Label:
    try:
        r = json.loads(raw)
    except json.JSONDecodeError as e:
        raise AnnotationError(f"{where}: not JSON ({e}); one label object per line") from e
    if not isinstance(r, dict) or set(r) != {"source", "doc", "label", "note"}:
        got = sorted(r) if isinstance(r, dict) else type(r).__name__
        raise AnnotationError(f"{where}: need exactly the fields source, doc, label, note; got {got}")
    if r["source"] not in SOURCES:
        raise AnnotationError(f"{where}: source {r['source']!r} is not one of {sorted(SOURCES)}")
    if r["label"] not in LABELS:
        raise AnnotationError(f"{where}: label {r['label']!r} is not one of {LABELS}")
    if isinstance(r["doc"], bool) or not isinstance(r["doc"], (str, int)):
        raise AnnotationError(f"{where}: doc must be a string or a line number, got {r['doc']!r}")
    if not isinstance(r["note"], str):
        raise AnnotationError(f"{where}: note must be a string (empty when nothing to say)")
    return Label(r["source"], r["doc"], r["label"], r["note"])


def load_labels(path: Path | str = LABELS_PATH) -> list[Label]:
    """Every label in file order; raises `AnnotationError` naming the line for a bad or repeated one."""
    path = Path(path)
    labels: list[Label] = []
    seen: dict[tuple[str, str | int], int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            lab = _parse_label(raw, f"{path}:{lineno}")
            key = (lab.source, lab.doc)
            if key in seen:
                raise AnnotationError(
                    f"{path}:{lineno}: {key} is already labelled on line {seen[key]}; keep one"
                )
            seen[key] = lineno
            labels.append(lab)
    return labels


def iter_labelled_documents(
    shared_dir: Path | str, labels: Iterable[Label] | None = None
) -> Iterator[LabelledDocument]:
    """Each label with its document's text, in label order. Each source is read once, when first needed.

    Raises `AnnotationError` naming the source file and key when a label does not resolve to a document.
    """
    shared_dir = Path(shared_dir)
    texts: dict[str, dict[str | int, str]] = {}
    for lab in load_labels() if labels is None else labels:
        src = SOURCES[lab.source]
        if lab.source not in texts:
            texts[lab.source] = dict(src.documents(shared_dir))
        text = texts[lab.source].get(lab.doc)
        if text is None:
            raise AnnotationError(
                f"{shared_dir / src.path}: no document with key {lab.doc!r} (source {lab.source!r}); "
                f"fix or drop that label in labels.jsonl ({src.read.__doc__})"
            )
        yield LabelledDocument(lab.source, lab.doc, lab.label, lab.note, src.lang, text)


# --- labelling aid: print a batch of documents ------------------------------------------------------------


def _skim(text: str, max_chars: int) -> str:
    """Head (half), middle (a quarter) and tail (a quarter) of a long text, so a section deep inside shows."""
    h, q = max_chars // 2, max_chars // 4
    start = max(h, len(text) // 2 - q // 2)
    parts = (text[:h], text[start : start + q], text[-q:])
    gaps = (start - h, len(text) - q - start - q)
    return f"{parts[0]}\n[... {gaps[0]} chars ...]\n{parts[1]}\n[... {gaps[1]} chars ...]\n{parts[2]}"


def _show(argv: list[str] | None = None) -> None:
    from corpus.classify.sources import default_shared_data

    p = argparse.ArgumentParser(description="Print a batch of one source's documents for labelling.")
    p.add_argument("source", choices=sorted(SOURCES))
    p.add_argument(
        "--prefix", default="", help="only documents whose key starts with this (`entertainment/`)"
    )
    p.add_argument("--start", type=int, default=0, help="skip this many documents (in file order)")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--max-chars", type=int, default=1500, help="longer texts show their head, middle and tail")
    p.add_argument("--shared-data", type=Path, default=None)
    a = p.parse_args(argv)
    shared = a.shared_data or default_shared_data()
    done = {lab.doc for lab in load_labels() if lab.source == a.source} if LABELS_PATH.exists() else set()
    docs = ((k, t) for k, t in SOURCES[a.source].documents(shared) if str(k).startswith(a.prefix))
    for i, (key, text) in enumerate(docs):
        if i < a.start:
            continue
        if i >= a.start + a.count:
            break
        if len(text) > a.max_chars:
            text = _skim(text, a.max_chars)
        mark = " (labelled)" if key in done else ""
        sys.stdout.write(f"##### {key!r}{mark}\n{text}\n\n")


if __name__ == "__main__":
    _show()
