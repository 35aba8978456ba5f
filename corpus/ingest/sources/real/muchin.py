"""MuChin-1k: human-written Chinese descriptions of 1,000 songs, as `songs` plus `documents`.

Each JSON line is one song and the primary `songs` record (`mid` is the id; `singer` is comma-separated).
Its two free-text descriptions, one by an amateur and one by a professional annotator (the answers with a
`desc`), become derived `documents` (`<mid>/<group>/<answer_id>`) whose metadata keeps the song (id, name,
singers, genre, album), the annotator group, the question asked (`qidmap.json`), that group's tags by
dimension (风格或流派, 情绪感受, ...) and its yes/no aspects (音质, 现场版, Lo-Fi). A group without any
description is quarantined as a derived `missing_description` row, so no description is lost unseen; a
line whose answer groups are not lists of objects is quarantined whole (`malformed_row`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from corpus.ingest.readers import InputError, jsonl_splits, read_jsonl
from corpus.ingest.records import Record, Reject
from corpus.ingest.sources.base import IngestContext, SourceAdapter, SourceSpec, WorkUnit
from corpus.ingest.sources.real._common import derived, passthrough

GROUPS = ("amateur", "professional")


def _malformed(v: dict) -> str | None:
    """What is wrong with a line's answer groups, or None."""
    for group in GROUPS:
        answers = v.get(group)
        if answers is None:
            continue
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            return f"`{group}` must be a list of answer objects, got {type(answers).__name__}"
        for a in answers:
            if not isinstance(a.get("tags") or [], list) or not isinstance(a.get("options") or [], list):
                return f"`{group}` answer {a.get('answer_id')!r}: `tags` and `options` must be lists"
    return None


def group_tags(answers: list[dict]) -> dict[str, list]:
    """Tag values by dimension over a group's answers (each dimension occurs once per group)."""
    out: dict[str, list] = {}
    for a in answers:
        for t in a.get("tags") or []:
            if isinstance(t, dict) and t.get("dimension"):
                out.setdefault(t["dimension"], []).extend(t.get("values") or [])
    return out


def group_options(answers: list[dict]) -> dict[str, dict]:
    """Yes/no aspects (音质, 现场版, Lo-Fi) by aspect: the option chosen and the annotator's note."""
    out: dict[str, dict] = {}
    for a in answers:
        for o in a.get("options") or []:
            if isinstance(o, dict) and o.get("aspect"):
                out[o["aspect"]] = {"answer": o.get("answer"), "desc": o.get("desc")}
    return out


class MuChin1kAdapter(SourceAdapter):
    name = "muchin_1k_zh"
    license = "MIT (repository); audio (not included) academic use only"
    description = (
        "MuChin: 1,000 mostly Chinese pop songs, each with an amateur and a professional Chinese description "
        "and multi-dimension tags (lyrics excluded)."
    )
    datasets = ("songs", "documents")
    expected_files = ("muchin_descriptions.jsonl", "qidmap.json")

    def plan(self, spec: SourceSpec, split_bytes: int) -> list[WorkUnit]:
        path = self.check_root(spec) / "muchin_descriptions.jsonl"
        return [WorkUnit(spec, str(path), "jsonl", s) for s in jsonl_splits(path, split_bytes)]

    def read(self, unit: WorkUnit, ctx: IngestContext) -> Iterator[Record | Reject]:
        path = Path(unit.path)
        file = str(path)
        questions = self.questions(path.parent / "qidmap.json")
        start, end = unit.split or (0, None)
        for raw in read_jsonl(path, start, end):
            if raw.reject is not None:
                yield passthrough(raw, "songs")
                continue
            v = raw.values or {}
            if (problem := _malformed(v)) is not None:
                yield Reject(file, raw.row, "malformed_row", problem, raw.payload or b"", None, "songs")
                continue
            mid = v.get("mid")
            singer = v.get("singer")
            artists = [s for s in singer.split(",") if s.strip()] if isinstance(singer, str) else singer
            genre = v.get("genre")
            mapped = ("mid", "name", "singer", "album", "genre", *GROUPS)
            song = {
                "source_id": mid,
                "title": v.get("name"),
                "artists": artists or None,
                "album": v.get("album"),
                "genres": [genre] if isinstance(genre, str) and genre.strip() else None,
                **{k: x for k, x in v.items() if k not in mapped},
            }
            rec = ctx.build("songs", song, file, raw.row, raw.payload)
            yield rec
            if not isinstance(rec, Record):
                continue  # the whole line, descriptions included, is in quarantine
            about = {
                "song_id": rec.values["song_id"],
                "mid": mid,
                "song_title": rec.values["title"],
                "artists": rec.values["artists"],
                "album": rec.values["album"],
                "genre": genre or None,
            }
            for group in GROUPS:
                answers = v.get(group) or []
                described = [a for a in answers if a.get("desc") is not None]
                if not described:
                    msg = f"song {mid!r}: no `{group}` answer has a description (`desc`)"
                    payload = orjson.dumps({"mid": mid, group: answers})
                    yield Reject(
                        file, raw.row, "missing_description", msg, payload, group, "documents", False
                    )
                    continue
                tags, options = group_tags(answers), group_options(answers)
                for a in described:
                    doc = {
                        "source_id": f"{mid}/{group}/{a.get('answer_id')}",
                        "text": a["desc"],
                        "lang": "zh",
                        **about,
                        "annotator": group,
                        "answer_id": a.get("answer_id"),
                        "question": questions.get(str(a.get("answer_id"))),
                        "tags": tags or None,
                        "options": options or None,
                    }
                    yield derived(ctx, "documents", doc, file, raw.row)

    @staticmethod
    def questions(path: Path) -> dict[str, str]:
        """Question text by answer id (the upstream `qidmap.json`)."""
        try:
            q = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as e:
            raise InputError(f"{path}: not valid JSON ({e}); expected an object of id -> question.") from None
        if not isinstance(q, dict):
            raise InputError(f"{path}: expected a JSON object of id -> question, got {type(q).__name__}.")
        return q
