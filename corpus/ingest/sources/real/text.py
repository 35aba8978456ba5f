"""General-domain text as `documents`: WikiText-2 raw articles and web-crawl samples (C4, OpenWebText, fixtures).

WikiText: the unit of accounting is the article, not the line. An article starts at a title line ` = X = `
with blank lines on both sides (the rule `articles.tsv` uses) and runs to the next title; its row number
is the title's line number. The text is the article body with each line's leading space removed, and
text and title are detokenized (`detokenize_wikitext`: `@-@`, `@,@`, `@.@` and spaced punctuation undone);
the source id keeps the title as the file spells it. Non-blank text before the first title would be
quarantined as `orphan_text`. Web crawl: one document per JSON line, one work unit per file (split by
bytes when large); the id is the URL or the record's own id where there is one, else a content key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.readers import InputError, jsonl_splits, read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit, resolve_dir
from corpus.ingest.sources.real._common import passthrough

WIKI_SPLITS = {"wiki.valid.raw": "valid", "wiki.test.raw": "test"}
_TITLE = re.compile(r" = (?!= )(.+) = ")

# WikiText's tokenizer wrote intra-word hyphens, thousands separators and decimal points as ` @-@ `,
# ` @,@ `, ` @.@ `; nothing else in any text looks like this.
_AT_SEP = re.compile(r" ?@([-,.])@ ?")
# Closing punctuation split off the word before it; only when a space or the end follows, so a spaced
# ellipsis (` ...`), an emoticon (` :)`) or a decimal (` .22`) in ordinary text is left alone.
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?%])(?= |$)", re.M)
_OPEN_BRACKET = re.compile(r"([(\[]) +")
_CLOSE_BRACKET = re.compile(r" +([)\]])")
# English clitics the tokenizer split off (`Edson 's`, `isn 't`, PTB `did n't`); a quote opening a word is
# never contiguous with it in WikiText, and `'s` must end the word, so `'so'` in ordinary text is kept.
_CLITIC = re.compile(r"(?<=\w) (['’])(s|re|ve|m|ll|d)\b")
_CLITIC_T = re.compile(r"(?<=\wn) (['’])(t)\b")
_CLITIC_NT = re.compile(r"(?<=\w) (n['’]t)\b")
_CURLY_CLITIC = re.compile(r"(?<=\w) ’ (s|t|re|ve|m|ll|d)\b")  # `I ’ m`, `SEPTA ’ s`
_CURRENCY = re.compile(r"(?<!\S)([$£€¥₱]) (?=\d)")
_LONE_QUOTE = re.compile(r'(?<![^ ])"(?![^ ])')  # a `"` token: space or line edge on both sides


def _attach_quotes(line: str) -> str:
    """Pair the `"` tokens of one line in order: an opening one joins the next word, a closing one the
    previous. A line with an odd number of them is left as it is (which one is unpaired is a guess)."""
    quotes = [m.start() for m in _LONE_QUOTE.finditer(line)]
    if not quotes or len(quotes) % 2:
        return line
    out, prev = [], 0
    for k, i in enumerate(quotes):
        if k % 2 == 0:  # opening: drop the spaces after it
            out.append(line[prev : i + 1])
            prev = i + 1
            while prev < len(line) and line[prev] == " ":
                prev += 1
        else:  # closing: drop the spaces before it
            out.append(line[prev:i].rstrip(" ") + '"')
            prev = i + 1
    out.append(line[prev:])
    return "".join(out)


def detokenize_wikitext(text: str) -> str:
    """Undo WikiText's tokenization artefacts, Moses-detokenizer style but conservative.

    `13th @-@ century` -> `13th-century`, `1 @,@ 000` -> `1,000`, `3 @.@ 5` -> `3.5`; no space before
    `, . ; : ! ? %` or a closing bracket, none after an opening one; `Edson 's`, `isn 't`, `did n't` join;
    `$ 5` -> `$5`; `" word "` pairs join their words, line by line. Spaced dashes, slashes and single
    quotes (a quote or a plural possessive: ambiguous) are kept. Ordinary text is unchanged: each rule needs
    a space that normal writing does not put there. Lines stay lines.
    """
    if "@" in text:
        text = _AT_SEP.sub(r"\1", text)
    if '"' in text:  # before the punctuation rules: a `"` token is found by the spaces around it
        text = "\n".join(_attach_quotes(line) for line in text.split("\n"))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _OPEN_BRACKET.sub(r"\1", text)
    text = _CLOSE_BRACKET.sub(r"\1", text)
    if "'" in text or "’" in text:
        text = _CURLY_CLITIC.sub(r"’\1", text)
        text = _CLITIC.sub(r"\1\2", text)
        text = _CLITIC_T.sub(r"\1\2", text)
        text = _CLITIC_NT.sub(r"\1", text)
    return _CURRENCY.sub(r"\1", text)


def wikitext_articles(path: Path) -> Iterator[tuple[int, int, str | None, list[str]]]:
    """(first_line, last_line, title, body lines) per article; title None for text before the first title."""
    lines = path.read_bytes().decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file ends with a newline
    starts = [
        i
        for i, line in enumerate(lines)
        if _TITLE.fullmatch(line)
        and (i == 0 or not lines[i - 1].strip())
        and (i + 1 == len(lines) or not lines[i + 1].strip())
    ]
    if not starts:
        if any(line.strip() for line in lines):
            yield 1, len(lines), None, lines
        return
    if any(line.strip() for line in lines[: starts[0]]):
        yield 1, starts[0], None, lines[: starts[0]]
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        title = _TITLE.fullmatch(lines[start]).group(1)  # type: ignore[union-attr]
        yield start + 1, end, title, lines[start + 1 : end]


class WikiText2RawAdapter(SourceAdapter):
    name = "wikitext2_raw"
    license = "CC BY-SA 3.0"
    description = (
        "WikiText-2 raw validation + test splits: 120 Wikipedia Good/Featured articles (mixed topics)."
    )
    datasets = ("documents",)
    expected_files = tuple(WIKI_SPLITS)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return [WorkUnit(spec, str(root / f), kind=split) for f, split in WIKI_SPLITS.items()]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for first, last, title, body in wikitext_articles(path):
            payload = "\n".join(body).encode("utf-8", "surrogateescape")
            if title is None:
                msg = f"lines {first}-{last} hold text before the first article title"
                yield Reject(file, first, "orphan_text", msg, payload, "text", "documents")
                continue
            text = "\n".join(line[1:] if line.startswith(" ") else line for line in body)
            values = {
                "source_id": f"{unit.kind}/{title}",  # as the file spells it: ids stay stable
                "title": detokenize_wikitext(title),
                "text": detokenize_wikitext(text),
                "lang": "en",
                "split": unit.kind,
                "first_line": first,
                "last_line": last,
            }
            yield ctx.build("documents", values, file, first, payload)


# Field names in the crawl files that are not our columns, renamed so they cannot clash with ours.
_RENAME = {"source": "upstream_source", "metadata": "upstream_metadata", "id": "upstream_id"}
_CREATED = ("timestamp", "date", "created")  # publication / crawl time, in order of preference
# Paloma's pre-computed GPT-2 token ids: derivable from the text, large, and documented as ignorable.
_DROP = frozenset({"tokens"})


class WebCrawlSamplesAdapter(SourceAdapter):
    name = "web_crawl_samples"
    license = "C4: ODC-BY 1.0; OpenWebText: CC0 (per HF card); fixtures: see SOURCE.md"
    description = "4,070 real web documents: C4 en train/validation samples, OpenWebText, CC fixtures."
    datasets = ("documents",)

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        """Every collection file, except those named in `options.exclude_collections` (file stems): a training
        corpus leaves out the evaluation-only web text (C4 validation, OpenWebText; configs/shared_data.yaml)."""
        root = resolve_dir(spec.path)
        exclude = set(spec.options.get("exclude_collections") or ())
        files = [f for f in sorted(root.glob("*.jsonl")) + sorted((root / "fixtures").glob("*.jsonl"))
                 if f.stem not in exclude]  # fmt: skip
        if not files:
            raise InputError(f"{root}: no *.jsonl files for source {spec.name!r} (adapter {self.name}).")
        return [WorkUnit(spec, str(f), "jsonl", s) for f in files for s in jsonl_splits(f, split_bytes)]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        collection = path.stem
        start, end = unit.split or (0, None)
        for raw in read_jsonl(path, start, end):
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            v = raw.values or {}
            url = v.get("url")
            rid = v.get("id")
            if not url and isinstance(rid, str) and rid.startswith(("http://", "https://")):
                url = rid  # Dolma CC ids are the page URL
            if url:
                sid = str(url)
            elif rid:
                sid = f"{collection}:{rid}"
            elif v.get("doc_index") is not None:
                sid = f"{collection}:{v['doc_index']}"
            else:
                sid = content_key(v.get("text"))
            created = next((v[k] for k in _CREATED if v.get(k)), None)
            values = {
                "source_id": sid,
                "text": v.get("text"),
                "url": url,
                "lang": "en",  # every file is an English crawl or an English-filtered bucket (SOURCE.md)
                "created_at": created,
                "collection": collection,
                **{_RENAME.get(k, k): x for k, x in v.items() if k not in ("text", "url", *_DROP)},
            }
            yield ctx.build("documents", values, file, raw.row, raw.payload)
