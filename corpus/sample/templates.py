"""A tiny sentence-frame language: `{slot}` fills a value, `[a|b|c]` picks one alternative (nestable).

Frames are compiled once into tuples and rendered with a plain loop, which keeps text generation
at tens of MB/s in pure Python; alternatives multiply the surface variety of every frame so that
unrelated documents share few word 5-grams.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from functools import cache

# A compiled frame is a tuple of parts: a literal `str`, a `Slot`, a `Lits` (literal alternatives) or a
# tuple of alternatives (each alternative itself a compiled frame).
Frame = tuple
SlotValue = str | tuple[str, ...] | Callable[[random.Random], str]


class Slot:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Slot({self.name})"


class Lits(tuple):
    """Alternatives that are all plain text: picked without recursing (most alternatives are)."""

    __slots__ = ()


class FrameError(ValueError):
    pass


def _parse(s: str, i: int, stop: str) -> tuple[list, int, bool]:
    """Parse from `i` until one of `stop` at nesting level 0; returns (parts, index, hit_bar)."""
    parts: list = []
    buf: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c in stop:
            break
        if c == "{":
            j = s.index("}", i)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(Slot(s[i + 1 : j]))
            i = j + 1
        elif c == "[":
            if buf:
                parts.append("".join(buf))
                buf = []
            alts = []
            i += 1
            while True:
                alt, i, _ = _parse(s, i, "|]")
                alts.append(tuple(alt))
                if i >= n:
                    raise FrameError(f"unclosed '[' in frame {s!r}")
                if s[i] == "]":
                    i += 1
                    break
                i += 1  # skip '|'
            if all(len(a) == 0 or (len(a) == 1 and isinstance(a[0], str)) for a in alts):
                parts.append(Lits(a[0] if a else "" for a in alts))
            else:
                parts.append(tuple(alts))
        else:
            buf.append(c)
            i += 1
    if buf:
        parts.append("".join(buf))
    return parts, i, False


def compile_frame(s: str) -> Frame:
    parts, i, _ = _parse(s, 0, "")
    if i != len(s):  # pragma: no cover - `_parse` with no stop chars consumes everything
        raise FrameError(f"trailing text in frame {s!r}")
    return tuple(parts)


@cache
def compile_frames(frames: tuple[str, ...]) -> tuple[Frame, ...]:
    return tuple(compile_frame(f) for f in frames)


def _fill(parts: Frame, local: Mapping, glob: Mapping, rng: random.Random, out: list[str]) -> None:
    rnd = rng.random
    for p in parts:
        c = p.__class__
        if c is str:
            out.append(p)
        elif c is Lits:
            out.append(p[int(rnd() * len(p))])
        elif c is tuple:
            _fill(p[int(rnd() * len(p))], local, glob, rng, out)
        else:
            v = local.get(p.name)
            if v is None:
                v = glob[p.name]
            vc = v.__class__
            if vc is str:
                out.append(v)
            elif vc is tuple:
                out.append(v[int(rnd() * len(v))])
            else:
                out.append(v(rng))


def render(frame: Frame, local: Mapping, glob: Mapping, rng: random.Random) -> str:
    """One sentence from `frame`: slots from `local` first, then `glob`; first letter capitalised."""
    out: list[str] = []
    _fill(frame, local, glob, rng, out)
    s = "".join(out)
    if s and s[0].islower():
        s = s[0].upper() + s[1:]
    return s


def render_tracked(
    frame: Frame, local: Mapping, glob: Mapping, rng: random.Random, track: frozenset[str]
) -> tuple[str, list[tuple[int, int, str, str]]]:
    """Like `render` without capitalisation, also returning `(start, end, slot, value)` for every
    filled slot named in `track` (character offsets into the returned string)."""
    out: list[str] = []
    spans: list[tuple[int, int, str, str]] = []
    pos = [0]

    def fill(parts: Frame) -> None:
        for p in parts:
            c = p.__class__
            if c is str or c is Lits:
                t = p if c is str else p[int(rng.random() * len(p))]
                out.append(t)
                pos[0] += len(t)
            elif c is tuple:
                fill(p[int(rng.random() * len(p))])
            else:
                v = local.get(p.name)
                if v is None:
                    v = glob[p.name]
                vc = v.__class__
                if vc is str:
                    s = v
                elif vc is tuple:
                    s = v[int(rng.random() * len(v))]
                else:
                    s = v(rng)
                if p.name in track:
                    spans.append((pos[0], pos[0] + len(s), p.name, s))
                out.append(s)
                pos[0] += len(s)

    fill(frame)
    return "".join(out), spans
