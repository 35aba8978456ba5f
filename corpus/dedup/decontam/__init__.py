"""Evaluation-set decontamination: find training documents that contain evaluation items.

Method (GPT-3 appendix C; OLMo / Dolma decontamination): evaluation items and documents are cut into the
tokens of `corpus.dedup.text` (NFKC-folded lowercase word runs, every CJK character a token of its own, so
English and Chinese need no switch; casing, punctuation and whitespace never matter), and a document is
contaminated when it shares token n-grams with an item. The rules:

* **Item text.** `qa_items`: the question, a newline, the correct answer; plus the question alone as a
  *part*, so a page that prints the question without its answer is caught too. Choices are not indexed:
  distractors are short names (song titles, "True"/"False") that occur in ordinary music text and are not
  what an item tests. `conversations`: one item per conversation, its turns joined by newlines in order, and
  no parts: a window across two turns is as much the conversation as one inside a turn, a turn of 13 tokens or
  more is caught whole inside the joined text, and a short turn alone is usually a stock phrase ("Let me know
  if you have any questions." occurs in C4 and OpenWebText). Any other file: the named fields joined
  (`eval_items_from_file`). Every text of an item (its `text` and each part) is indexed on its own: an n-gram
  never spans two of them.
* **Lengths.** A text of at least `ngram` tokens (default 13, as GPT-3) contributes all its `ngram`-token
  windows. A text of `min_tokens` (default 8) to `ngram - 1` tokens contributes one n-gram of its full length,
  matched against every window of exactly that many tokens of a document, so short trivia questions are still
  caught verbatim. An item with no text of `min_tokens` tokens is too generic to index; it is counted
  (`items_too_short`), not dropped silently.
* **Templates.** A short part (under `ngram` tokens) shared by `template_items` (default 3) or more items of
  one eval set with different texts (ZIQI's "下列说法中正确的是" stem) identifies no item: it is not indexed,
  and counted. The items keep their full text.
* **Decision.** `matches` is the number of distinct n-grams of an item found in a document. A document is
  contaminated when some item has `matches >= min(min_matches, item_ngrams)` (default `min_matches=1`: any
  shared 13-gram, or any short item verbatim). `scan` keeps every hit, so another threshold can be applied
  later without rescanning (score, then decide).

Storage is numpy only: per n-gram length a sorted uint64 array of n-gram values with an aligned int32 array
of item numbers, and per length a two-level bitmap (`_Prefilter`; built lazily in each process, never pickled
or saved) that rejects almost every document n-gram before the binary search. A window's value is its `batch_ngrams`
hash before the splitmix64 finaliser (a bijection, so equality is unchanged): from one prefix sum over the
token hashes of a batch, every window length costs one multiply, so a document is tokenized once however
many lengths the index holds, and a document with fewer tokens than a length simply has no window of it.

Modules: `items` (eval items and `DecontamConfig`), `windows` (token windows and their values), `index`
(`DecontamIndex`: build, save, load), `scan` (hits and matching documents against the index) and
`report` (`DecontamReport`). This package re-exports their public names.
"""

from corpus.dedup.decontam.index import INDEX_FORMAT, PREVIEW_CHARS, DecontamIndex
from corpus.dedup.decontam.items import (
    DecontamConfig,
    EvalItem,
    eval_items_from_conversations,
    eval_items_from_file,
    eval_items_from_qa,
)
from corpus.dedup.decontam.report import REPORT_FORMAT, DecontamReport
from corpus.dedup.decontam.scan import NO_HITS, DocHits, ItemHit
from corpus.dedup.decontam.windows import token_fingerprint, window_values

__all__ = [
    "INDEX_FORMAT",
    "NO_HITS",
    "PREVIEW_CHARS",
    "REPORT_FORMAT",
    "DecontamConfig",
    "DecontamIndex",
    "DecontamReport",
    "DocHits",
    "EvalItem",
    "ItemHit",
    "eval_items_from_conversations",
    "eval_items_from_file",
    "eval_items_from_qa",
    "token_fingerprint",
    "window_values",
]
