"""The query-item relevance judge: a small model that says whether a song answers a request, the relevance gate
R_rel of the hybrid RL reward (`pretrain.grpo.HybridReward`) and a relevance measure for recommendation lists.

**Labels** come from the query pool (`query_pool`) and the songs' facts (`generate.song_facts` on
`pool.annotated_songs`), never from a model:
- positive: a generated query and its own song; a generated query and another song that has every fact the
  query names (same genre, decade, mood, ...); a real request that lists songs (a NetEase playlist title) and
  each of its tracks;
- negative: a song that contradicts a fact of the query on a kind a song has one value of (`CONFLICT_KINDS`:
  mood quadrant, decade, main artist; genre when the song's genres do not include it). Half of them are hard
  (they share another fact with the query: same genre, other decade); a song that neither matches nor
  contradicts (it lacks the facts) is never a label. For a playlist title: a random song it does not list.

**Features** of a (query, song) pair, the song described by its title, artists, genres, tags and facts in both
languages' words (`describe`): WordLlama cosine and the element-wise product of the two embeddings (the same
shipped static embeddings as the query clustering), the cosine of hashed character 1-3-gram vectors (Chinese
queries, which WordLlama's tokenizer reads as bytes), and the share of the query's content units (English words,
Chinese character bigrams) found in the description. A logistic regression (scikit-learn) over the standardised
features; its probability is the judge's score.

**Gate**: an item is relevant when its probability reaches `threshold`, chosen on validation pairs (queries
held out by a hash of their text) as the one with the best F1; a list passes the gate when at least
`list_share` of its catalog items are relevant. The fit report gives validation AUC, precision, recall and F1 at
the threshold, the reliability of the probabilities (Brier score, expected calibration error), and the same
pairs judged by the cluster rule it replaces (an item is relevant when candidate retrieval indexes it under the
query's cluster).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpus.queries.generate import _words, song_facts
from corpus.uq2i.synthesize import _h

CONFLICT_KINDS = ("mood", "decade", "artist", "genre")
"""Fact kinds on which a song with a different value contradicts the query (a song has one mood quadrant, one
decade, one main artist; genre is checked against all its genres)."""
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:['&][a-z0-9]+)*")
_STOP = frozenset("""a an and any are as at be by for from give i im i'm in is it like me my of on or play please
recommend some something song songs that the to track tracks music with you your want need find looking list
listen listening""".split())  # fmt: skip
HASH_FEATURES = 1 << 18


@dataclass(frozen=True)
class JudgeConfig:
    """How the relevance judge is trained (the uq2i stage trains it beside the personalization model)."""

    __pydantic_config__ = {"extra": "forbid"}

    negatives_per_positive: int = 2
    """Negative songs drawn per positive pair."""
    fact_positives: int = 1
    """Extra positives per generated query: other songs with every fact it names."""
    max_queries: int = 30_000
    """Queries sampled (by a hash of their id) for training pairs; bounds the fit's time on large pools."""
    valid_share: float = 0.15
    """Share of query texts (by hash) whose pairs validate: the threshold and the report."""
    list_share: float = 0.5
    """A list passes the gate when at least this share of its catalog items are relevant."""
    C: float = 1.0
    """Inverse L2 strength of the logistic regression."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.negatives_per_positive < 1 or self.max_queries < 10:
            raise ValueError("JudgeConfig.negatives_per_positive must be >= 1 and max_queries >= 10")
        if self.fact_positives < 0:
            raise ValueError(f"JudgeConfig.fact_positives must be >= 0, got {self.fact_positives}")
        if not 0.0 < self.valid_share < 0.5 or not 0.0 < self.list_share <= 1.0 or self.C <= 0:
            raise ValueError("JudgeConfig: valid_share in (0, 0.5), list_share in (0, 1], C > 0")


def describe(row: Mapping[str, Any]) -> str:
    """A song as the judge reads it: title, artists, genres, playlist tags and its facts with the words queries
    use for them in English and Chinese (`generate._words`)."""
    facts = song_facts(row)
    words = [w for k, w in sorted(_words(facts).items()) if k not in ("artist",)]
    parts = [row.get("title") or "", ", ".join(a for a in (row.get("artists") or []) if a),
             ", ".join(g for g in (row.get("genres") or []) if g), ", ".join((row.get("_tags") or [])[:3]),
             "; ".join(words)]  # fmt: skip
    return ". ".join(p for p in parts if p)


def units(text: str) -> set[str]:
    """Content units of a text: English words (not stop words, a plural's s dropped) and Chinese character
    bigrams (single characters for one-character runs)."""
    t = text.lower()
    out = {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _WORD.findall(t) if w not in _STOP}
    for run in _CJK.findall(t):
        out.update(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else out.add(run)
    return out


class Featurizer:
    """(query, description) pairs -> feature rows (see the module docstring); stateless apart from the shipped
    embeddings, so a saved judge needs only its coefficients."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        from corpus.queries.embed import load_wordllama

        self.wl = load_wordllama()
        self.chars = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 3), n_features=HASH_FEATURES,
                                       alternate_sign=False, norm="l2", lowercase=True)  # fmt: skip

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        x = np.asarray(self.wl.embed(list(texts), norm=False), dtype=np.float32)
        n = np.linalg.norm(x, axis=1, keepdims=True)
        return np.divide(x, n, out=np.zeros_like(x), where=n > 0)

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, Any, list[frozenset[str]]]:
        """One side of the pairs: (L2-normalised embeddings, L2-normalised hashed character n-gram rows, content
        units) of each text."""
        return self._embed(texts), self.chars.transform(list(texts)).tocsr(), [frozenset(units(t)) for t in texts]

    @staticmethod
    def pair_rows(q: tuple[np.ndarray, Any, frozenset[str]], songs: tuple[np.ndarray, Any, list[frozenset[str]]]
                  ) -> np.ndarray:  # fmt: skip
        """Feature rows of one encoded query against encoded descriptions: [embedding cosine, character cosine,
        share of the query's units in the description, all of them in it, element-wise embedding product]."""
        a, cq, qu = q
        b, cd, du = songs
        cos = b @ a
        chars = np.asarray((cd @ cq.T).todense()).ravel()
        overlap = np.array([len(qu & d) / len(qu) if qu else 0.0 for d in du])
        subset = np.array([float(bool(qu) and qu <= d) for d in du])
        return np.column_stack([cos, chars, overlap, subset, b * a]).astype(np.float64)

    def __call__(self, queries: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        uq, ud = sorted(set(queries)), sorted(set(descriptions))
        eq, cq, qu = self.encode(uq)
        ed, cd, du = self.encode(ud)
        qi, di = {t: i for i, t in enumerate(uq)}, {t: i for i, t in enumerate(ud)}
        out = np.zeros((len(queries), 4 + ed.shape[1]))
        by_query: dict[int, list[int]] = {}
        for n, q in enumerate(queries):
            by_query.setdefault(qi[q], []).append(n)
        for k, rows in by_query.items():
            idx = [di[descriptions[n]] for n in rows]
            out[rows] = self.pair_rows((eq[k], cq[k], qu[k]), (ed[idx], cd[idx], [du[i] for i in idx]))
        return out


def conflicts(qfacts: Mapping[str, str], row: Mapping[str, Any], sfacts: Mapping[str, str]) -> bool:
    for k in CONFLICT_KINDS:
        if k not in qfacts:
            continue
        if k == "genre":
            genres = {g.strip().lower() for g in (row.get("genres") or []) if g}
            if genres and qfacts[k] not in genres:
                return True
        elif k in sfacts and sfacts[k] != qfacts[k]:
            return True
    return False


def matches(qfacts: Mapping[str, str], sfacts: Mapping[str, str]) -> bool:
    return bool(qfacts) and all(sfacts.get(k) == v for k, v in qfacts.items())


def training_pairs(pool: Sequence[Mapping[str, Any]], songs: Sequence[Mapping[str, Any]], cfg: JudgeConfig
                   ) -> list[tuple[str, str, int, str]]:  # fmt: skip
    """(query text, song id, label, query id) pairs from the pool rows and annotated songs (module docstring).
    Deterministic: every draw is by a hash of the query id and the seed."""
    by_id = {r["song_id"]: r for r in songs}
    facts = {sid: song_facts(r) for sid, r in by_id.items()}
    ids = sorted(by_id)
    by_value: dict[tuple[str, str], list[str]] = {}
    for sid in ids:
        for k, v in facts[sid].items():
            by_value.setdefault((k, v), []).append(sid)
    chosen = sorted((r for r in pool if r.get("song_id") or r.get("song_ids")),
                    key=lambda r: _h(cfg.seed, r["query_id"]))[: cfg.max_queries]  # fmt: skip
    out: list[tuple[str, str, int, str]] = []
    for r in chosen:
        qid, text = r["query_id"], r["text"]
        qf = dict(r.get("facts") or [])  # a map column reads as (key, value) pairs
        if r.get("song_id"):
            pos = [r["song_id"]]
            kinds = sorted(qf)
            if kinds and cfg.fact_positives:
                cands = by_value.get((kinds[0], qf[kinds[0]]), [])
                for j in range(min(len(cands), 8 * cfg.fact_positives)):
                    if len(pos) > cfg.fact_positives:
                        break
                    sid = cands[_h(cfg.seed, qid, "fp", j) % len(cands)]
                    if sid not in pos and matches(qf, facts[sid]):
                        pos.append(sid)
            neg: list[str] = []
            want = cfg.negatives_per_positive * len(pos)
            for j in range(40 * want):
                if len(neg) >= want:
                    break
                if j % 2 == 0 and kinds:  # hard: a song sharing one of the query's facts
                    kind = kinds[_h(qid, "k", j) % len(kinds)]
                    pool_ids = by_value.get((kind, qf[kind]), ids)
                else:
                    pool_ids = ids
                sid = pool_ids[_h(cfg.seed, qid, "neg", j) % len(pool_ids)]
                if sid not in pos and sid not in neg and conflicts(qf, by_id[sid], facts[sid]):
                    neg.append(sid)
        else:
            pos = [s for s in dict.fromkeys(r["song_ids"]) if s in by_id][:10]
            listed = set(r["song_ids"])
            neg = []
            for j in range(40 * len(pos)):
                if len(neg) >= cfg.negatives_per_positive * len(pos):
                    break
                sid = ids[_h(cfg.seed, qid, "neg", j) % len(ids)]
                if sid not in listed and sid not in neg:
                    neg.append(sid)
        out += [(text, s, 1, qid) for s in pos] + [(text, s, 0, qid) for s in neg]
    return out


def _prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from corpus.classify.metrics import prf

    return {k: prf(y, pred)[k] for k in ("precision", "recall", "f1")}


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error and the per-bin table (`corpus.classify.metrics.reliability`)."""
    from corpus.classify.metrics import reliability as bins_and_ece

    table, ece = bins_and_ece(y, p, bins)
    return {"brier": float(np.mean((p - y) ** 2)), "ece": ece, "bins": table}


class RelevanceJudge:
    """Scores (query, songs) pairs; `gate` is the hybrid reward's R_rel (module docstring)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float, threshold: float,
                 cfg: JudgeConfig, descriptions: Mapping[str, str] | None = None):  # fmt: skip
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept
        self.threshold, self.cfg = threshold, cfg
        self.descriptions: Mapping[str, str] = descriptions or {}
        self._feat: Featurizer | None = None
        self._cache: dict[str, tuple[np.ndarray, Any, frozenset[str]]] = {}

    @property
    def featurizer(self) -> Featurizer:
        if self._feat is None:
            self._feat = Featurizer()
        return self._feat

    def probabilities(self, queries: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        if not queries:
            return np.zeros(0)
        x = (self.featurizer(queries, descriptions) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def _encoded(self, ids: Sequence[str]) -> tuple[np.ndarray, Any, list[frozenset[str]]]:
        """The songs' encoded descriptions, each encoded once per judge (the synthesis scores the same cluster
        members for many users)."""
        from scipy.sparse import vstack

        missing = [s for s in dict.fromkeys(ids) if s not in self._cache]
        if missing:
            e, c, u = self.featurizer.encode([self.descriptions[s] for s in missing])
            self._cache.update((s, (e[i], c[i], u[i])) for i, s in enumerate(missing))
        got = [self._cache[s] for s in ids]
        return np.stack([g[0] for g in got]), vstack([g[1] for g in got]).tocsr(), [g[2] for g in got]

    def score(self, query: str, song_ids: Sequence[str]) -> np.ndarray:
        """P(relevant) of each song for the query; a song without a description (not in the catalog) scores 0."""
        known = [i for i, s in enumerate(song_ids) if s in self.descriptions]
        out = np.zeros(len(song_ids))
        if known:
            e, c, u = self.featurizer.encode([query])
            x = self.featurizer.pair_rows((e[0], c[0], u[0]), self._encoded([song_ids[i] for i in known]))
            out[known] = 1.0 / (1.0 + np.exp(-(((x - self.mean) / self.scale) @ self.coef + self.intercept)))
        return out

    def gate(self, query: str, song_ids: Sequence[str]) -> float:
        """1.0 when at least `list_share` of the songs are relevant (probability >= threshold), else 0.0; an empty
        list fails."""
        if not song_ids:
            return 0.0
        rel = self.score(query, song_ids) >= self.threshold
        return float(rel.mean() >= self.cfg.list_share)

    # ------------------------------------------------------------------ fit, save, load
    @classmethod
    def fit(cls, pool: Sequence[Mapping[str, Any]], songs: Sequence[Mapping[str, Any]],
            cfg: JudgeConfig | None = None) -> tuple[RelevanceJudge, dict[str, Any]]:  # fmt: skip
        """(judge, report) from the pool rows (`query_pool`: query_id, text, song_id, song_ids, facts, cluster) and
        the annotated songs (`pool.annotated_songs`)."""
        from sklearn.linear_model import LogisticRegression

        from corpus.classify.metrics import roc_auc

        cfg = cfg or JudgeConfig()
        desc = {r["song_id"]: describe(r) for r in songs}
        pairs = training_pairs(pool, songs, cfg)
        if len({p[2] for p in pairs}) < 2:
            raise ValueError(f"RelevanceJudge.fit: {len(pairs)} pairs of one class; the pool names too few songs")
        valid = np.array([_h(cfg.seed, "valid", p[0]) % 10_000 < cfg.valid_share * 10_000 for p in pairs])
        feat = Featurizer()
        x = feat([p[0] for p in pairs], [desc[p[1]] for p in pairs])
        y = np.array([p[2] for p in pairs], dtype=np.float64)
        tr = ~valid
        mean, scale = x[tr].mean(axis=0), x[tr].std(axis=0)
        scale[scale == 0] = 1.0
        lr = LogisticRegression(C=cfg.C, max_iter=2000, random_state=cfg.seed)
        lr.fit((x[tr] - mean) / scale, y[tr])
        judge = cls(mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]), 0.5, cfg, desc)
        judge._feat = feat
        pv = 1.0 / (1.0 + np.exp(-(((x[valid] - mean) / scale) @ judge.coef + judge.intercept)))
        yv = y[valid]
        grid = np.unique(np.round(pv, 4))
        best = max(grid, key=lambda t: (_prf(yv, (pv >= t).astype(int))["f1"], -abs(t - 0.5))) if len(grid) else 0.5
        judge.threshold = float(best)
        cluster_of = {r["query_id"]: int(r["cluster"]) for r in pool if r.get("cluster") is not None}
        members: dict[int, set[str]] = {}
        for r in pool:
            for s in ([r["song_id"]] if r.get("song_id") else []) + list(r.get("song_ids") or []):
                members.setdefault(int(r["cluster"]), set()).add(s)
        vp = [p for p, v in zip(pairs, valid, strict=True) if v]
        rule = np.array([int(p[1] in members.get(cluster_of.get(p[3], -1), ())) for p in vp])
        report = {"config": asdict(cfg), "pairs": {"train": int(tr.sum()), "valid": int(valid.sum()),
                                                   "positive_share": float(y.mean())},
                  "threshold": judge.threshold, "valid_auc": roc_auc(yv, pv),
                  "valid_at_threshold": _prf(yv, (pv >= judge.threshold).astype(int)),
                  "valid_at_0.5": _prf(yv, (pv >= 0.5).astype(int)), "reliability": reliability(yv, pv),
                  "cluster_rule_valid": _prf(yv, rule), "songs_described": len(desc)}  # fmt: skip
        return judge, report

    def save(self, folder: Path, report: Mapping[str, Any] | None = None) -> None:
        """`folder/model.json` (coefficients, threshold, config) and `descriptions.json`; written atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "descriptions.json", json.dumps(dict(sorted(self.descriptions.items())),
                                                                  ensure_ascii=False))  # fmt: skip
        model = {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                 "intercept": self.intercept, "threshold": self.threshold, "config": asdict(self.cfg),
                 "report": report or {}}  # fmt: skip
        atomic_write_text(folder / "model.json", json.dumps(model, sort_keys=True, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> RelevanceJudge:
        f = folder / "model.json"
        if not f.is_file():
            raise FileNotFoundError(f"{f}: no relevance judge; run the uq2i stage (it trains one beside the "
                                    "personalization model)")  # fmt: skip
        m = json.loads(f.read_text(encoding="utf-8"))
        desc = json.loads((folder / "descriptions.json").read_text(encoding="utf-8"))
        return cls(np.array(m["mean"]), np.array(m["scale"]), np.array(m["coef"]), float(m["intercept"]),
                   float(m["threshold"]), JudgeConfig(**m["config"]), desc)  # fmt: skip


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def report_markdown(rep: Mapping[str, Any]) -> str:
    v, r, c = rep["valid_at_threshold"], rep["reliability"], rep["cluster_rule_valid"]
    lines = ["# Query-item relevance judge", "",
             f"Pairs: {rep['pairs']['train']:,} train, {rep['pairs']['valid']:,} validation (queries held out by "
             f"hash), {rep['pairs']['positive_share']:.2f} positive; {rep['songs_described']:,} songs described.", "",
             "| judge | precision | recall | F1 |", "|---|---:|---:|---:|",
             f"| logistic judge, threshold {rep['threshold']:.3f} | {v['precision']:.3f} | {v['recall']:.3f} | "
             f"{v['f1']:.3f} |",
             f"| cluster rule (item indexed under the query's cluster) | {c['precision']:.3f} | {c['recall']:.3f} | "
             f"{c['f1']:.3f} |", "",
             f"Validation AUC {rep['valid_auc']:.3f}; Brier {r['brier']:.4f}, ECE {r['ece']:.4f}.", "",
             "| P bin | mean P | relevant share | pairs |", "|---|---:|---:|---:|"]  # fmt: skip
    lines += [f"| {b['lo']:.1f}-{b['hi']:.1f} | {b['mean_score']:.3f} | {b['frac_music']:.3f} | {b['n']:,} |"
              for b in r["bins"]]  # `frac_music`: the share of positive (relevant) pairs in the bin
    return "\n".join(lines) + "\n"
