"""SimpleQA-style grading of short answers: `correct`, `incorrect` or `not_attempted`, and the F-score.

`grade` decides by normalised agreement, the way SimpleQA's rubric reads:
- **not attempted**: an empty answer, or one that only declines or hedges without naming an answer ("I don't
  know", "I'm not sure", "我不知道").
- **correct**: the answer names the gold answer (or an accepted alias) and nothing that contradicts it.
  Hedging around a right answer is allowed ("I think it was Carole King"); extra words are allowed.
- **incorrect**: anything else: a wrong entity, a partial name ("Scott" for "Bobby Scott"), two candidates
  ("either X or Y"), a wrong year or number.

Normalisation: Unicode NFKC, diacritics removed, case folded, punctuation dropped, articles ("a", "an", "the")
dropped, "&" read as "and", featured-artist credits ("feat.", "featuring", "ft.") cut off, number words up to
the hundreds read as digits, Chinese full-width forms folded and spaces removed. Years and numbers are compared
as numbers within the item's tolerance. Chinese and English name forms are matched through the item's aliases.

`JudgeGrader` wraps any text-generation callable (a local Hugging Face model, a served model) with a
SimpleQA-style grading prompt for free-form answers the rules cannot settle; `grade_file` runs either on a JSONL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

GRADES = ("correct", "incorrect", "not_attempted")

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_FEAT = re.compile(r"\s+(?:featuring|feat\.?|ft\.?)\s+.*$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NUM_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_NUM_WORD_RUN = re.compile(
    r"\b(?:(" + "|".join(_NUM_WORDS) + r")(?:[\s-](?:hundred))?(?:(?:\s+and)?[\s-](" + "|".join(_NUM_WORDS) + r"))?"
    r"(?:[\s-](" + "|".join(_NUM_WORDS) + r"))?)\b"
)

# Answers that decline: not attempted unless they also name the gold answer.
_DECLINE = re.compile(
    r"\b(i\s*(?:do\s*not|don'?t|dont)\s*know|not\s+sure|no\s+idea|i\s*(?:can'?t|cannot)\s+(?:say|recall|remember|"
    r"answer|tell|be\s+sure)|unknown|i'?m\s+unsure|i\s+have\s+no\s+(?:idea|information)|unable\s+to\s+(?:answer|"
    r"determine|say)|not\s+(?:certain|able\s+to)|i\s+(?:do\s+not|don'?t)\s+have\s+(?:that|this|enough)|"
    r"cannot\s+be\s+determined|need\s+more\s+(?:information|context))\b"
    r"|不知道|不清楚|不确定|无法回答|不记得|没有相关信息|无法确定|不太清楚",
    re.IGNORECASE,
)
_NON_ANSWER = re.compile(r"\s*(?:n/?a|none|pass|no answer|-+|\?+|…)\s*[.!]?\s*", re.IGNORECASE)
# Two or more candidates offered: SimpleQA grades a list of guesses incorrect.
_ALTERNATIVES = re.compile(r"\beither\b|\bor\b|或者|还是|或是", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?!\d|\.\d)")


def _strip_diacritics(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _words_to_numbers(s: str) -> str:
    def repl(m: re.Match[str]) -> str:
        text = m.group(0)
        total, cur = 0, 0
        for tok in re.split(r"[\s-]+", text):
            if tok == "and":
                continue
            if tok == "hundred":
                cur = max(cur, 1) * 100
            else:
                cur += _NUM_WORDS[tok]
        total += cur
        return str(total)

    return _NUM_WORD_RUN.sub(repl, s)


def normalize(text: str) -> str:
    """The comparison form of an answer or a gold string (see the module docstring)."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = _strip_diacritics(s).casefold()
    s = _FEAT.sub("", s)
    s = s.replace("&", " and ").replace("＆", " and ")
    s = re.sub(r"\b((?:[a-z]\.){2,})", lambda m: m.group(1).replace(".", ""), s)  # "u.k." -> "uk"
    s = re.sub(r"[’'`´]s\b", "", s)  # possessive: "u2's" -> "u2"
    s = re.sub(r"[’'`´]", "", s)  # contractions stay one word: "don't" -> "dont"
    s = re.sub(r"[^\w\s]", " ", s)  # punctuation, both scripts
    s = _words_to_numbers(s)
    s = _ARTICLES.sub(" ", s)
    s = re.sub(r"\s+", " ", s).strip()
    if _CJK.search(s):  # Chinese: spaces carry no meaning between CJK characters
        s = re.sub(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])", "", s)
    return s


def _contains(haystack: str, needle: str) -> bool:
    """Whole-token containment (character containment for Chinese)."""
    if not needle:
        return False
    if _CJK.search(needle):
        return needle in haystack
    # boundaries are Latin letters and digits, so a name inside Chinese text ("是ricky nelson演唱的") is found
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) is not None


_SPELLED_YEAR = re.compile(r"\b(eighteen|nineteen|twenty)[\s-]+(?:hundred[\s-]+(?:and[\s-]+)?)?(?:(oh)[\s-]+)?"
                           r"([a-z]+(?:[\s-][a-z]+)?)\b")


def _spelled_years(s: str) -> str:
    """"nineteen sixty-six" -> "1966", "twenty twelve" -> "2012" (only when the rest reads as 0-99)."""
    def repl(m: re.Match[str]) -> str:
        rest = _words_to_numbers(m.group(3))
        if not rest.isdigit() or int(rest) > 99:
            return m.group(0)
        return str(_NUM_WORDS[m.group(1)] * 100 + int(rest))

    return _SPELLED_YEAR.sub(repl, s)


def _numbers(text: str, kind: str) -> list[float]:
    s = unicodedata.normalize("NFKC", str(text)).casefold().replace(",", "")
    if kind == "year":
        s = _spelled_years(s)
    s = _words_to_numbers(s)
    pat = _YEAR if kind == "year" else _NUMBER
    return [float(x) for x in pat.findall(s)]


@dataclass(frozen=True)
class Graded:
    grade: str
    reason: str


def grade(gold: str, response: str, aliases: Iterable[str] = (), answer_type: str = "person",
          tolerance: float = 0, question: str = "") -> Graded:
    """Grade one response against the gold answer and its aliases (see the module docstring).

    `question`, when given, lets words echoed from it (a song title with "or" in it) not count as a second
    candidate."""
    raw = str(response or "").strip()
    resp = normalize(raw)
    if not resp:
        return Graded("not_attempted", "empty")
    golds = [g for g in (normalize(x) for x in (gold, *aliases)) if g]
    if answer_type in ("year", "number"):
        target = _numbers(gold, answer_type) or _numbers(gold, "number")
        found = sorted(set(_numbers(raw, answer_type)))
        if not found:
            return Graded("not_attempted" if _DECLINE.search(raw) else "incorrect", "no number given")
        if len(found) > 1 and not (answer_type == "year" and _range_ok(found, target, tolerance)):
            return Graded("incorrect", f"several numbers {found}")
        ok = bool(target) and abs(found[0] - target[0]) <= tolerance
        return Graded("correct" if ok else "incorrect", f"number {found[0]} vs {target[0] if target else '?'}")
    hit = next((g for g in golds if _contains(resp, g)), None)
    if hit is None:
        if _DECLINE.search(raw) or _NON_ANSWER.fullmatch(raw):
            return Graded("not_attempted", "declined")
        return Graded("incorrect", "gold not named")
    # the gold is named: incorrect only if another candidate is offered beside it ("X or Y", "either ...")
    if not any(_ALTERNATIVES.search(g) for g in golds) and _offers_alternative(resp, hit, normalize(question)):
        return Graded("incorrect", "several candidates")
    return Graded("correct", f"names {hit!r}")


def _range_ok(found: list[float], target: list[float], tolerance: float) -> bool:
    """A year answer naming several years is correct only when they all fall within the tolerance."""
    return bool(target) and all(abs(f - target[0]) <= tolerance for f in found)


_FILLER_AFTER_OR = re.compile(r"^(so|something|thereabouts|similar|not|at least|maybe not|around then|"
                              r"something like that|close to it|so i think|so i believe)\b")
# Lead-in words that carry no candidate of their own ("I think it was X or Y": "i think it was" is not one).
_LEAD_IN = re.compile(r"\b(i|think|believe|guess|it|its|was|is|were|would|be|maybe|probably|perhaps|possibly|"
                      r"answer|could|might|pretty|sure|say|id|im|that|song|singer|by|performed|sung|sang|"
                      r"wrote|written|of|course|well|hmm|um|actually|definitely|certainly|hit|number|one)\b"
                      r"|应该是|可能是|我觉得是|我认为是|大概是|是|吧|的|歌手|演唱者|原唱")


def _offers_alternative(resp: str, hit: str, question: str = "") -> bool:
    """Whether the answer offers a candidate beside the gold: "either ...", or "X or Y" / "X 或者 Y" where the
    side of the "or" without the gold holds more than lead-in words, fillers ("or so", "or at least ...") and
    words echoed from the question."""
    echoed = set(question.split())
    if re.search(r"\beither\b", resp):
        return True
    for m in _ALTERNATIVES.finditer(resp):
        left, right = resp[: m.start()], resp[m.end():].strip()
        if hit in right and hit not in left:
            other = left
        elif hit in left:
            if _FILLER_AFTER_OR.match(right):
                continue
            other = right
        else:
            continue
        if [w for w in _LEAD_IN.sub(" ", other).split() if w not in echoed]:
            return True
    return False


def f_score(grades: Iterable[str]) -> dict[str, float]:
    """SimpleQA's summary: share correct overall, correct given attempted, and their harmonic mean (F)."""
    gs = list(grades)
    n = len(gs)
    correct = sum(g == "correct" for g in gs)
    attempted = sum(g != "not_attempted" for g in gs)
    overall = correct / n if n else 0.0
    given = correct / attempted if attempted else 0.0
    f = 2 * overall * given / (overall + given) if overall + given else 0.0
    return {"n": n, "correct": overall, "not_attempted": (n - attempted) / n if n else 0.0,
            "incorrect": (attempted - correct) / n if n else 0.0, "correct_given_attempted": given, "f_score": f}


# --- model judge for free-form answers ---------------------------------------------------------------------

JUDGE_PROMPT = """You grade answers to short factual questions about music.
Question: {question}
Gold answer: {gold}{aliases}
Answer to grade: {response}

Reply with one letter:
A if the answer names the gold answer (or an accepted alias) without contradicting it; hedging is fine.
B if the answer names something else, names several candidates, or contradicts the gold answer.
C if the answer declines or does not name any answer.
Letter:"""


@dataclass
class JudgeGrader:
    """Grades with a judge model: `generate(prompt) -> text`, the first A/B/C in the reply decides.

    Any callable works (a local `transformers` pipeline, a client of a served model). `fallback_to_rules`
    uses `grade` when the reply has no letter.
    """

    generate: Callable[[str], str]
    fallback_to_rules: bool = True

    def __call__(self, question: str, gold: str, response: str, aliases: Iterable[str] = (),
                 answer_type: str = "person", tolerance: float = 0) -> Graded:
        al = list(aliases)
        prompt = JUDGE_PROMPT.format(question=question, gold=gold, response=response,
                                     aliases=f" (also accepted: {'; '.join(al)})" if al else "")
        reply = self.generate(prompt) or ""
        m = re.search(r"\b([ABC])\b", reply)
        if m:
            return Graded({"A": "correct", "B": "incorrect", "C": "not_attempted"}[m.group(1)], "judge")
        if self.fallback_to_rules:
            return grade(gold, response, al, answer_type, tolerance)
        return Graded("incorrect", "judge gave no letter")


def grade_file(in_path: str | Path, out_path: str | Path, judge: JudgeGrader | None = None) -> dict[str, float]:
    """Grade a JSONL of {question, gold, response, [aliases], [answer_type], [tolerance], [lang]}; write each line
    with `grade` (and `grade_reason`) added; return the F-score summary. Errors name the file and line."""
    from eval.jsonl import read_rows, write_rows

    rows = []
    for _, r in read_rows(in_path, ("gold", "response"), "need question, gold, response"):
        kw = {"aliases": r.get("aliases") or (), "answer_type": r.get("answer_type") or "person",
              "tolerance": r.get("tolerance") or 0}
        g = judge(r.get("question", ""), r["gold"], r["response"], **kw) if judge else \
            grade(r["gold"], r["response"], question=r.get("question", ""), **kw)
        rows.append({**r, "grade": g.grade, "grade_reason": g.reason})
    write_rows(out_path, rows)
    return f_score(r["grade"] for r in rows)
