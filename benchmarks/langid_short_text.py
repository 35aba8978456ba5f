"""Language identification on short texts: the short-text prior (`LangIdConfig.short_text_*`) against the
plain py3langid decision, on real data. Every figure is printed for both.

    python -m benchmarks.langid_short_text [--shared PATH]

- Reddit requests: the 4,842 music requests of MusicRecoNER (`original`, 2,551) and MusicRecoIntent
  (`query`, 2,291), all English. Share identified `en`, and `en` with lang_score >= 0.5 (select's
  threshold for documents), through `LanguageIdentifier.identify` and through `DocumentCleaner.clean`
  (what refine runs: its boilerplate rule empties some one-line requests, which are then `und`), plus
  the figure refine gets once it passes the source's declared `lang`.
- Chinese: NetEase hot comments on Jay Chou songs (5,463) and THUCNews titles (20,000). Share `zh`.
- Other languages: short sentences written for this check (German, French, Spanish, Japanese, Korean and
  twelve more). Each should keep its own language: the prior must not force them into `en`.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

from corpus.clean.cleaner import CleanConfig, DocumentCleaner
from corpus.clean.language import LangIdConfig, LanguageIdentifier
from jobs.config import shared_data_dir

NER_GROUPS = ("dataset1", "dataset2", "dataset3", "dataset4")

# Short texts in other languages; written for this check, not taken from any data set.
OTHER_LANGUAGES: dict[str, list[str]] = {
    "de": [
        "Kennt jemand gute Lieder wie Bohemian Rhapsody?",
        "Ich suche traurige Musik zum Einschlafen.",
        "Was ist euer Lieblingsalbum von Rammstein?",
        "Gute Laune Musik für die Autofahrt",
        "Welche Band klingt ähnlich wie Die Ärzte?",
        "Das Konzert gestern war wirklich großartig.",
    ],
    "fr": [
        "Des chansons comme Bohemian Rhapsody ?",
        "Je cherche de la musique triste pour dormir.",
        "Quel est votre album préféré de Daft Punk ?",
        "Musique joyeuse pour la voiture",
        "Un groupe qui ressemble à Noir Désir ?",
        "Le concert d'hier était vraiment génial.",
    ],
    "es": ["Canciones parecidas a Bohemian Rhapsody", "¿Cuál es vuestro disco favorito de Soda Stereo?"],
    "ja": ["ボヘミアン・ラプソディみたいな曲", "寝る前に聴く悲しい曲を探しています"],
    "ko": ["보헤미안 랩소디 같은 노래 추천해 주세요", "잠들기 전에 듣는 슬픈 노래"],
    "ar": ["أحب هذه الأغنية كثيرا"],
    "th": ["เพลงนี้เพราะมาก"],
    "el": ["Αγαπώ αυτό το τραγούδι"],
    "he": ["אני אוהב את השיר הזה"],
    "vi": ["Tôi rất thích bài hát này"],
    "tr": ["Bu şarkıyı çok seviyorum"],
    "pl": ["Bardzo lubię tę piosenkę"],
    "nl": ["Ik hou echt van dit nummer"],
    "sv": ["Jag älskar den här låten"],
    "hi": ["मुझे यह गाना बहुत पसंद है"],
    "uk": ["Я дуже люблю цю пісню"],
    "id": ["Saya sangat suka lagu ini"],
}


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def reddit_requests(shared: Path) -> list[tuple[str, str | None]]:
    """(text, declared language) of every MusicRecoNER and MusicRecoIntent request, as the adapters read
    them (`corpus/ingest/sources/real/deezer.py`): NER declares `en`, Intent its `language` column."""
    out = []
    for g in NER_GROUPS:
        out += [(r["original"], "en") for r in _csv_rows(shared / "music_reco_ner_deezer" / g / "queries.csv")]
    for r in _csv_rows(shared / "music_reco_intent_deezer" / "MusicRecoIntent_dataset.csv"):
        lang = r["language"].strip()
        out.append((r["query"], lang if lang != "_" else None))
    return out


def netease_comments(shared: Path) -> list[str]:
    return [r["content"] for r in _csv_rows(shared / "netease_hot_comments_jaychou_zh" / "hot_comments.csv")]


def thucnews_titles(shared: Path) -> list[str]:
    path = shared / "thucnews_titles_zh" / "thucnews_titles.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def share(results: list[tuple[str, float]], lang: str, min_score: float = 0.0) -> float:
    """Share of `(lang, score)` results that are `lang` with at least `min_score`."""
    return sum(1 for lg, p in results if lg == lang and p >= min_score) / len(results) if results else 0.0


def cleaner(config: LangIdConfig) -> DocumentCleaner:
    c = DocumentCleaner(CleanConfig(langid=config))
    c.setup()
    return c


def measure(shared: Path) -> dict[str, dict[str, float]]:
    """The figures for the plain decision (`before`) and the short-text prior (`after`)."""
    reddit = reddit_requests(shared)
    texts = [t for t, _ in reddit]
    zh_sets = {"netease_comments": netease_comments(shared), "thucnews_titles": thucnews_titles(shared)}
    figures: dict[str, dict[str, float]] = {}
    for label, config in (("before", LangIdConfig(short_text_letters=0)), ("after", LangIdConfig())):
        c = cleaner(config)
        ident: Callable[[str], tuple[str, float]] = c._langid.identify
        t0 = time.perf_counter()
        by_identify = [ident(t) for t in texts]
        secs = time.perf_counter() - t0
        cleaned = c.clean_batch(texts)
        by_clean = [(r.lang, r.lang_score) for r in cleaned]
        declared = [(r.lang, r.lang_score) for r in c.clean_batch(texts, [d for _, d in reddit])]
        f = {
            "reddit_en": share(by_identify, "en"),
            "reddit_en_score_0.5": share(by_identify, "en", 0.5),
            "reddit_clean_en_score_0.5": share(by_clean, "en", 0.5),
            "reddit_clean_declared_en_score_0.5": share(declared, "en", 0.5),
            # the boilerplate rule for short unpunctuated lines empties one-line requests ("Techno remixes")
            "reddit_clean_emptied_by_boilerplate": sum(1 for r in cleaned if not r.text) / len(texts),
            "reddit_identify_us_per_text": secs / len(texts) * 1e6,
        }
        for name, zh in zh_sets.items():
            f[f"{name}_zh"] = share([ident(t) for t in zh], "zh")
        others = [(lang, ident(t)[0]) for lang, ts in OTHER_LANGUAGES.items() for t in ts]
        f["other_languages_kept"] = sum(1 for want, got in others if want == got) / len(others)
        f["other_languages_forced_to_en"] = sum(1 for want, got in others if got == "en") / len(others)
        figures[label] = f
    return figures


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=None, help="shared data dir (default: ../shared/data)")
    args = ap.parse_args(argv)
    shared = args.shared or shared_data_dir()
    if not (shared / "music_reco_ner_deezer").exists():
        print(f"[langid] skipped: no shared data at {shared}")
        return {}
    n = len(reddit_requests(shared))
    figures = measure(shared)
    print(f"Reddit requests: {n:,} (all English); short text = fewer than {LangIdConfig().short_text_letters} letters")
    print(f"{'figure':<40} {'before':>10} {'after':>10}")
    for key in figures["before"]:
        b, a = figures["before"][key], figures["after"][key]
        fmt = "{:>10.1f}" if key.endswith("per_text") else "{:>10.2%}"
        print(f"{key:<40} {fmt.format(b)} {fmt.format(a)}")
    ident = LanguageIdentifier()
    ident.setup()
    wrong = [(lang, t, ident.identify(t)) for lang, ts in OTHER_LANGUAGES.items() for t in ts]
    wrong = [w for w in wrong if w[0] != w[2][0]]
    print("other-language sentences not kept (after):", wrong or "none")
    return {"langid_short_text": {**figures, "other_language_errors": len(wrong)}}


if __name__ == "__main__":
    main()
