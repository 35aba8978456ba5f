"""`DecontamReport`: counts per eval set of the documents an index found contaminated, with a few examples;
JSON round trip and exact merging of per-task parts, and a Markdown table for the run report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from corpus.dedup.decontam.index import DecontamIndex
from corpus.dedup.decontam.scan import DocHits

REPORT_FORMAT = "music-corpus/decontam-report/1"


# ----------------------------------------------------------------------------- report


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


@dataclass
class DecontamReport:
    """Counts per eval set for one index, accumulated over scanned documents; JSON-serializable through
    `to_dict` / `from_dict` so each task can save its part, and `merge` combines parts exactly (examples:
    the `max_examples` smallest (doc id, item id) per set, whatever the merge order)."""

    config: dict
    index_digest: str
    sets: dict[str, dict]
    documents_scanned: int = 0
    documents_contaminated: int = 0
    max_examples: int = 5
    _items_hit: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def for_index(cls, index: DecontamIndex, max_examples: int = 5) -> DecontamReport:
        sets = {s: {**st, "documents_hit": 0, "examples": []} for s, st in index.stats.items()}
        return cls(asdict(index.config), index.digest, sets, max_examples=max_examples,
                   _items_hit={s: set() for s in sets})  # fmt: skip

    def add(self, doc_ids: Sequence[str], hits: Sequence[DocHits]) -> None:
        """Count one batch: `doc_ids[i]` names the document `hits[i]` came from."""
        if len(doc_ids) != len(hits):
            raise ValueError(f"{len(doc_ids)} document ids for {len(hits)} scan results")
        min_matches = self.config["min_matches"]
        self.documents_scanned += len(hits)
        for doc_id, dh in zip(doc_ids, hits, strict=True):
            bad = [h for h in dh.hits if h.contaminates(min_matches)]
            if not bad:
                continue
            self.documents_contaminated += 1
            for s in {h.eval_set for h in bad}:
                self._set(s)["documents_hit"] += 1
            for h in bad:
                self._items_hit.setdefault(h.eval_set, set()).add(h.item_id)
                self._example(h.eval_set, {"doc_id": str(doc_id), "item_id": h.item_id, "matches": h.matches,
                                           "item_ngrams": h.item_ngrams, "item_text": h.item_text})  # fmt: skip

    def _set(self, name: str) -> dict:
        if name not in self.sets:  # a set the index did not declare (hits from another index)
            raise ValueError(f"eval set {name!r} is not in this report's index; scan with the same index")
        return self.sets[name]

    def _example(self, name: str, ex: dict) -> None:
        examples = self._set(name)["examples"]
        examples.append(ex)
        examples.sort(key=lambda e: (e["doc_id"], e["item_id"]))
        del examples[self.max_examples :]

    def to_dict(self) -> dict:
        sets = {}
        for s, st in self.sets.items():
            hit = sorted(self._items_hit.get(s, ()))
            sets[s] = {**st, "items_hit": len(hit), "items_hit_ids": hit, "examples": list(st["examples"])}
        return {
            "format": REPORT_FORMAT,
            "config": self.config,
            "index_digest": self.index_digest,
            "documents_scanned": self.documents_scanned,
            "documents_contaminated": self.documents_contaminated,
            "max_examples": self.max_examples,
            "sets": sets,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DecontamReport:
        if not isinstance(d, dict) or d.get("format") != REPORT_FORMAT:
            found = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"not a decontamination report: format {found!r}, expected {REPORT_FORMAT!r}")
        sets = {
            s: {k: v for k, v in st.items() if k not in ("items_hit", "items_hit_ids")}
            for s, st in d["sets"].items()
        }
        hit = {s: set(st["items_hit_ids"]) for s, st in d["sets"].items()}
        return cls(d["config"], d["index_digest"], sets, d["documents_scanned"], d["documents_contaminated"],
                   d["max_examples"], hit)  # fmt: skip

    def merge(self, other: DecontamReport) -> DecontamReport:
        """A new report counting both; both must come from the same index and configuration."""
        if (self.index_digest, self.config) != (other.index_digest, other.config):
            raise ValueError(
                f"cannot merge reports of different indexes or configs ({self.index_digest} vs {other.index_digest})"
            )
        out = DecontamReport.from_dict(self.to_dict())
        out.documents_scanned += other.documents_scanned
        out.documents_contaminated += other.documents_contaminated
        for s, st in other.sets.items():
            mine = out._set(s)
            mine["documents_hit"] += st["documents_hit"]
            out._items_hit.setdefault(s, set()).update(other._items_hit.get(s, ()))
            for ex in st["examples"]:
                out._example(s, dict(ex))
        return out

    def to_markdown(self) -> str:
        c = self.config
        share = self.documents_contaminated / self.documents_scanned if self.documents_scanned else 0.0
        lines = [
            "## Evaluation-set decontamination",
            "",
            f"A document is contaminated when it shares at least min({c['min_matches']}, the item's n-gram count) "
            f"distinct {c['ngram']}-token n-grams with one eval item; items of {c['min_tokens']}-{c['ngram'] - 1} "
            f"tokens are matched whole, shorter ones are not indexed.",
            "",
            f"Documents scanned: {self.documents_scanned:,}; contaminated: {self.documents_contaminated:,} ({share:.3%}).",
            "",
            "| eval set | items | indexed | too short | duplicates | template parts | items hit | documents hit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s, st in sorted(self.sets.items()):
            lines.append(
                f"| {_cell(s)} | {st['items']:,} | {st['items_indexed']:,} | {st['items_too_short']:,} | "
                f"{st['duplicate_items']:,} | {st['template_parts']:,} | {len(self._items_hit.get(s, ())):,} | "
                f"{st['documents_hit']:,} |"
            )
        examples = [(s, ex) for s, st in sorted(self.sets.items()) for ex in st["examples"]]
        if examples:
            lines += [
                "",
                "| eval set | document | item | n-grams matched | item text |",
                "|---|---|---|---:|---|",
            ]
            for s, ex in examples:
                lines.append(
                    f"| {_cell(s)} | {_cell(ex['doc_id'])} | {_cell(ex['item_id'])} | "
                    f"{ex['matches']}/{ex['item_ngrams']} | {_cell(ex['item_text'])} |"
                )
        return "\n".join(lines) + "\n"
