"""The refine stage: documents and comments become scored, masked documents (score, never drop).

Per row: Unicode repair and boilerplate removal (`corpus/clean`), language and quality signals,
music-domain probability (`corpus/classify`, the shipped quantized fastText model by default) and
PII masking with the catalog as allow-list (`corpus/pii`). Output `out/refine/<dataset>/part-*`
follows the `scored_documents` contract; every input row gives one output row, so `select` can
try new thresholds without re-running this stage.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, model_validator

from corpus.ingest.op import PARQUET_WRITE_OPTIONS
from corpus.pii import PiiConfig, PiiMasker
from jobs.errors import UserError
from jobs.outputs import write_card
from jobs.settings import StrictModel
from jobs.stage import Engine, SourceTally, Stage, StageCounts
from schemas import get_schema

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "corpus" / "classify" / "models" / "music_domain"
_KEYS = {"documents": "doc_id", "comments": "comment_id"}

if TYPE_CHECKING:
    from jobs.config import RunConfig


class RefineConfig(StrictModel):

    datasets: tuple[str, ...] = ("documents", "comments")
    classifier_model: str = Field(str(DEFAULT_MODEL), description="DomainClassifier folder (model.ftz/bin + meta.json)")
    # PII knobs keep stage-level names (the salt is read from the environment or a file, never the config); their
    # defaults and checks are the op's (`corpus.pii.PiiConfig`)
    pii_mode: Literal["placeholder", "pseudonym"] = PiiConfig.mode
    # the pseudonym key is a secret: never in the config (which manifests and logs store), only where to read it
    pii_salt_env: str | None = Field(None, description="environment variable holding the pseudonym salt (pseudonym mode)")
    pii_salt_file: str | None = Field(None, description="file holding the pseudonym salt (pseudonym mode)")
    pii_entities: tuple[str, ...] | None = None  # None: PiiConfig's default (every type except PERSON)
    ner_model_path: str | None = None
    batch_rows: int = Field(2_000, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_config(cls, data: Any) -> Any:
        if isinstance(data, dict) and "pii_salt" in data:
            raise ValueError("pii_salt: the salt is a secret and is not read from the config (configs are stored in "
                             "manifests and logs); put it in an environment variable and set `pii_salt_env: NAME`, "
                             "or in a file and set `pii_salt_file: PATH`")
        return data

    @model_validator(mode="after")
    def _salt_source(self) -> RefineConfig:
        if self.pii_salt_env and self.pii_salt_file:
            raise ValueError("set one of pii_salt_env and pii_salt_file, not both")
        if self.pii_mode == "pseudonym" and not (self.pii_salt_env or self.pii_salt_file):
            raise ValueError("pii_mode pseudonym needs a secret salt: set pii_salt_env (an environment variable "
                             "holding it) or pii_salt_file (a file holding it)")
        return self


def read_salt(cfg: RefineConfig) -> str:
    """The pseudonym salt from the environment variable or file the config names ('' when none is named)."""
    if cfg.pii_salt_env:
        salt = os.environ.get(cfg.pii_salt_env)
        if not salt:
            raise UserError(f"refine.pii_salt_env: the environment variable {cfg.pii_salt_env} is not set or empty; "
                            "export it with the pseudonym salt before the run")
        return salt
    if cfg.pii_salt_file:
        p = Path(cfg.pii_salt_file).expanduser()
        if not p.is_file():
            raise UserError(f"refine.pii_salt_file: {p} does not exist; write the pseudonym salt into it")
        salt = p.read_text(encoding="utf-8").strip()
        if not salt:
            raise UserError(f"refine.pii_salt_file: {p} is empty; write the pseudonym salt into it")
        return salt
    return ""


def salt_fingerprint(salt: str) -> str | None:
    """A one-way fingerprint of the salt (scrypt, so guessing a weak salt from it is slow): enough to tell two
    runs' salts apart, never the salt. None without a salt."""
    if not salt:
        return None
    digest = hashlib.scrypt(salt.encode(), salt=b"music-corpus/pii-salt-fingerprint", n=2**14, r=8, p=1, dklen=16)
    return "scrypt:" + digest.hex()


class RefineStage(Stage):
    name = "refine"
    transient = ("_ops", "parts")
    requires = ("ingest",)

    @classmethod
    def from_run(cls, run: RunConfig, out: Path) -> RefineStage:
        return cls(run.refine, out / "ingest")

    def __init__(self, cfg: RefineConfig, ingest_dir: Path):
        self.cfg = cfg
        self.ingest_dir = ingest_dir
        self._ops: Any = None


    @cached_property
    def parts(self) -> list[tuple[str, Path]]:
        out = []
        for ds in self.cfg.datasets:
            d = self.ingest_dir / ds
            out += [(ds, p) for p in sorted(d.glob("part-*.parquet"))] if d.exists() else []
        return out

    def config(self) -> dict:
        cfg = self.cfg.model_dump(mode="json")
        cfg["classifier_model"] = str(self.cfg.classifier_model)
        # a new salt gives new pseudonyms, so it is part of the fingerprint, as a one-way fingerprint only
        cfg["pii_salt_fingerprint"] = salt_fingerprint(read_salt(self.cfg))
        return cfg

    def input_files(self) -> list[Path]:
        model = Path(self.cfg.classifier_model)
        catalog = [p for ds in ("songs", "artists", "albums") for p in sorted((self.ingest_dir / ds).glob("part-*.parquet"))]
        return [p for _, p in self.parts] + catalog + sorted(f for f in model.iterdir() if f.is_file())

    def plan(self) -> list[tuple[str, Path]]:
        _ = self.catalog_names, self.artist_names  # read once here on the driver; they travel with the stage
        return self.parts

    # ------------------------------------------------------------------ per worker
    def setup(self) -> None:
        """The cleaners, the domain classifier and the PII masker, loaded once per worker process."""
        if self._ops is None:
            from corpus.classify import DomainClassifier
            from corpus.clean import (
                CleanConfig,
                DocumentCleaner,
            )
            from corpus.clean.boilerplate import BoilerplateConfig

            # C4's short-unpunctuated-line rule would delete most user comments ("love this 🔥")
            cleaners = {}
            for ds in self.cfg.datasets:
                bp = BoilerplateConfig(min_words_unpunctuated=0) if ds == "comments" else BoilerplateConfig()
                cleaners[ds] = DocumentCleaner(CleanConfig(boilerplate=bp))
                cleaners[ds].setup()
            classifier = DomainClassifier(self.cfg.classifier_model).setup()
            # read here, in the worker: the salt never becomes an attribute that is pickled or logged
            kwargs: dict[str, Any] = {"mode": self.cfg.pii_mode, "salt": read_salt(self.cfg),
                                      "allow_list": self.catalog_names, "official_names": self.artist_names,
                                      "ner_model_path": self.cfg.ner_model_path}
            if self.cfg.pii_entities is not None:
                kwargs["entities"] = tuple(self.cfg.pii_entities)
            masker = PiiMasker(PiiConfig(**kwargs))
            masker.setup()
            self._ops = (cleaners, classifier, masker)

    @cached_property
    def catalog_names(self) -> tuple[str, ...]:
        """Catalog names that PII patterns could fire on (digits, '@', '+'): e.g. Blink-182, Maroon 5.
        Only those need the allow-list, which keeps it small for million-name catalogs."""
        names: set[str] = set()
        for ds, col in (("songs", "title"), ("artists", "name"), ("albums", "title")):
            for p in sorted((self.ingest_dir / ds).glob("part-*.parquet")):
                for v in pq.read_table(p, columns=[col]).column(col).to_pylist():
                    if v and any(c.isdigit() or c in "@+" for c in v):
                        names.add(v)
        return tuple(sorted(names))

    @cached_property
    def artist_names(self) -> tuple[str, ...]:
        """Every artist name, for the PII masker's official pages: instagram.com/arcticmonkeys or
        phoebebridgers.bandcamp.com is the artist's, not a fan's profile. Matched against a URL's
        account by slug, so these names never protect a substring of the text."""
        names: set[str] = set()
        for p in sorted((self.ingest_dir / "artists").glob("part-*.parquet")):
            names.update(v for v in pq.read_table(p, columns=["name"]).column("name").to_pylist() if v)
        return tuple(sorted(names))

    def process(self, task_index: int, work_dir: Path) -> dict:
        dataset, part = self.parts[task_index]
        cleaners, classifier, masker = self._ops
        cleaner = cleaners[dataset]
        schema = get_schema("scored_documents").arrow_schema()
        out_path = work_dir / dataset / f"part-{task_index:05d}.parquet"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_name(out_path.name + ".inprogress")
        key = _KEYS[dataset]
        rows_in = 0
        tally = SourceTally()
        langs: Counter[str] = Counter()
        pii_labels: Counter[str] = Counter()
        pf = pq.ParquetFile(part)
        with pq.ParquetWriter(tmp, schema, **PARQUET_WRITE_OPTIONS) as writer:
            # a language the source declares (documents' `lang`) beats detection, which is unreliable on short text
            declared = "lang" in pf.schema_arrow.names
            columns = [key, "source", "text"] + (["lang"] if declared else [])
            for batch in pf.iter_batches(batch_size=self.cfg.batch_rows, columns=columns):
                ids = batch.column(key).to_pylist()
                sources = batch.column("source").to_pylist()
                cleaned = cleaner.clean_batch(batch.column("text").to_pylist(),
                                              batch.column("lang").to_pylist() if declared else None)
                texts = [c.text for c in cleaned]
                scores = classifier.score(texts)
                masked = masker.mask_batch(texts)
                out = []
                for i, (c, m) in enumerate(zip(cleaned, masked, strict=True)):
                    quality = {**c.quality, **{f"removed_lines.{k}": float(v) for k, v in c.removed_lines.items()}}
                    out.append({
                        "doc_id": ids[i], "source": sources[i], "dataset": dataset, "text": m.text,
                        "lang": c.lang, "lang_score": float(c.lang_score),
                        "quality": sorted(quality.items()), "domain_score": float(scores[i]),
                        "pii_spans": [{"start": s.start, "end": s.end, "label": s.label} for s in m.spans],
                        "dup_cluster_id": None,
                    })  # fmt: skip
                    langs[c.lang] += 1
                    pii_labels.update(s.label for s in m.spans)
                    tally.kept(sources[i])
                writer.write_table(pa.Table.from_pylist(out, schema=schema), row_group_size=self.cfg.batch_rows)
                rows_in += len(out)
        os.replace(tmp, out_path)
        stats = {"rows_in": rows_in, "rows_out": rows_in, "dataset": dataset, "by_source": tally.as_dict(),
                 "langs": dict(sorted(langs.items())), "pii": dict(sorted(pii_labels.items()))}
        return stats

    def finalize(self, work_dir: Path, engine: Engine) -> StageCounts:
        counts = self.sum_tasks(work_dir)
        counts.bytes_in = sum(p.stat().st_size for _, p in self.parts)
        for ds in self.cfg.datasets:
            d = work_dir / ds
            if d.exists():
                counts.datasets[ds] = write_card(
                    d, "scored_documents",
                    "`music-corpus` refine stage (`jobs/stages/refine.py`: corpus.clean, corpus.classify, corpus.pii)",
                    notes=[f"Rows of `{ds}`; `text` is repaired, boilerplate-stripped and PII-masked; "
                           "`pii_spans` are offsets into the text before masking."],
                )  # fmt: skip
        return counts
