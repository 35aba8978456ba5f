"""Deezer Research datasets: MusicRecoNER queries, MusicRecoIntent queries, LLM-written taste profiles.

NER: each `queries.csv` row is a primary document; `ground-truth_linked.csv` rows are annotations joined
into the document's metadata (`entities`) by the preprocessed query text, so they are not rows of their
own; an annotation that matches no query is quarantined (`orphan_annotation`) rather than lost.
`ground-truth.bio` is ignored: it is the same gold annotation re-arranged as BIO token tags.
Taste profiles: `long_term.csv` rows are the primary `user_profiles` (one per user, genre shares in
metadata); `user_data.csv` rows are primary `documents` (the LLM-written profile a user rated).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from corpus.ingest.ids import content_key
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import csv_rows, derived, passthrough, to_float

NER_GROUPS = ("dataset1", "dataset2", "dataset3", "dataset4")  # DS1, DS2, DS3, Trial


class DeezerMusicRecoNERAdapter(SourceAdapter):
    name = "music_reco_ner_deezer"
    license = "MIT (repository); query texts from public Reddit posts"
    description = (
        "MusicRecoNER: 2,551 Reddit music requests with gold Artist/WoA entities linked to Wikipedia."
    )
    datasets = ("documents",)
    expected_files = tuple(f"{g}/{f}" for g in NER_GROUPS for f in ("queries.csv", "ground-truth_linked.csv"))

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        root = self.check_root(spec)
        return [WorkUnit(spec, str(root / g), kind="ner_group") for g in NER_GROUPS]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        group_dir = Path(unit.path)
        group = group_dir.name
        gt_file = group_dir / "ground-truth_linked.csv"
        entities: dict[str, list[dict]] = defaultdict(list)
        gt_rows: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
        for raw in csv_rows(gt_file):
            if raw.reject is not None:  # an annotation row we cannot parse is a row of its own
                yield passthrough(raw, "documents")
                continue
            v = raw.values or {}
            entities[v["query"]].append(
                {
                    "mention": v["mention"],
                    "type": v["type"],
                    "wiki_link": v["wiki_link"] or None,
                    "wikidata_type": v["wikidata_type"] or None,
                    "wiki_name": v["wiki_name"] or None,
                    "exposure": to_float(v["exposure"]),
                }
            )
            gt_rows[v["query"]].append((raw.row, raw.payload or b""))
        q_file = group_dir / "queries.csv"
        for raw in csv_rows(q_file):
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            v = raw.values or {}
            pre = v["preprocessed"]
            gt_rows.pop(pre, None)
            values = {
                "source_id": content_key(group, v["original"]),
                "text": v["original"],
                "lang": "en",  # the companion MusicRecoIntent release declares these queries English
                "group": group,
                "preprocessed": pre,
                "entities": entities.get(pre, []),
            }
            yield ctx.build("documents", values, str(q_file), raw.row, raw.payload)
        for query, rows in gt_rows.items():
            for row, payload in rows:
                msg = f"annotation's query {query[:80]!r} matches no `preprocessed` query in {q_file.name}"
                yield Reject(str(gt_file), row, "orphan_annotation", msg, payload, "query", "documents")


class DeezerMusicRecoIntentAdapter(SourceAdapter):
    name = "music_reco_intent_deezer"
    license = "unknown (no license file); research use, cite the NLP4MusA 2026 paper"
    description = "MusicRecoIntent: 2,291 Reddit music requests with descriptor and +/-/~ intent labels."
    datasets = ("documents",)
    expected_files = ("MusicRecoIntent_dataset.csv",)
    unit_kind = "csv"

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        for raw in csv_rows(path):
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            v = raw.values or {}
            try:
                descriptors = ast.literal_eval(v["descriptors"])
                intents = ast.literal_eval(v["intents"])
                # intents have tuple keys (descriptor, sign), which JSON cannot hold: flatten to records
                intent_list = [
                    {"category": cat, "descriptor": d, "intent": sign, "weight": w}
                    for cat, items in intents.items()
                    for (d, sign), w in items.items()
                ]
            except (ValueError, SyntaxError, AttributeError, TypeError) as e:
                msg = f"descriptors/intents are not the documented Python-dict literals ({e})"
                yield Reject(file, raw.row, "bad_type", msg, raw.payload or b"", "intents", "documents")
                continue
            lang = v["language"].strip()
            values = {
                "source_id": v["ID"],
                "text": v["query"],
                "lang": lang if lang != "_" else None,  # "_" (10 rows) = not declared
                "origin": v["source"],  # renamed: `source` is our adapter-name column
                "language": v["language"],
                "descriptors": descriptors,
                "intents": intent_list,
            }
            yield ctx.build("documents", values, file, raw.row, raw.payload)


class DeezerLLMTasteProfilesAdapter(SourceAdapter):
    name = "deezer_llm_taste_profiles"
    license = "unknown (no license file); research use, cite the RecSys 2025 paper"
    description = (
        "LLM-written taste profiles of 64 Deezer users, rated 1-7 by the users; long-term genre shares."
    )
    datasets = ("user_profiles", "documents")
    expected_files = ("long_term.csv", "user_data.csv")


    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        root = Path(unit.path)
        lt_file = root / "long_term.csv"
        profiled: set[str] = set()
        for raw in csv_rows(lt_file):
            if raw.reject is not None:
                yield passthrough(raw, "user_profiles")
                continue
            v = raw.values or {}
            out = ctx.build(
                "user_profiles", {"source_id": v["user_id"], **v}, str(lt_file), raw.row, raw.payload
            )
            if isinstance(out, Record):
                profiled.add(v["user_id"].strip())
            yield out

        ud_file = root / "user_data.csv"
        rows = list(csv_rows(ud_file))
        # Non-own rows are other users' profiles shown as a baseline; find the owner by exact text match
        owners: dict[str, set[str]] = defaultdict(set)
        for raw in rows:
            if raw.values and raw.values["is_own_profile"].strip() == "True":
                owners[raw.values["profile"]].add(raw.values["user_id"].strip())
        extra_users: dict[str, int] = {}
        for raw in rows:
            if raw.reject is not None:
                yield passthrough(raw, "documents")
                continue
            v = dict(raw.values or {})
            user = v["user_id"].strip()
            own = v["is_own_profile"].strip() == "True"
            owner = owners.get(v["profile"], set())
            values = {
                "source_id": content_key(user, v["model"], v["time_window"], v["profile"]),
                "text": v.pop("profile"),
                # profiles are LLM output, not source-declared language: lang stays null
                "rater_user_id": ctx.link("user_profiles", user),
                "profile_owner_user_id": ctx.link("user_profiles", user if own else next(iter(owner)))
                if own or len(owner) == 1
                else None,
                **v,
            }
            if user not in profiled:
                extra_users.setdefault(user, raw.row)
            yield ctx.build("documents", values, str(ud_file), raw.row, raw.payload)
        for user, row in extra_users.items():  # raters without a long-term row (none in the 2025 release)
            rec = derived(ctx, "user_profiles", {"source_id": user}, str(ud_file), row)
            if rec is not None:
                yield rec
