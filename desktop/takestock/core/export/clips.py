"""Frame rates and editor clips: a take as an editor's timeline sees it, measured from
the probe stored with it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from takestock.core.export.records import TakeRecord

# ===================================================================== timing

_NTSC_BASES = (24, 30, 48, 60, 120, 240)
#: Frame rates an editor's timeline (an FCP project above all) can have.
_TIMELINE_RATES: tuple[Fraction, ...] = (
    Fraction(24),
    Fraction(25),
    Fraction(30),
    Fraction(48),
    Fraction(50),
    Fraction(60),
    Fraction(24000, 1001),
    Fraction(30000, 1001),
    Fraction(60000, 1001),
)
#: Used, with a warning, for a take whose file does not state its frame rate.
FALLBACK_RATE = Fraction(24)


def frame_rate(fps: float) -> Fraction | None:
    """The exact rate behind a probed ``fps``: 29.97… is 30000/1001, 25.0 is 25.

    None when ``fps`` is not a positive number (the file did not say).
    """
    if not math.isfinite(fps) or fps <= 0:
        return None
    for base in _NTSC_BASES:
        ntsc = Fraction(base * 1000, 1001)
        if abs(fps - float(ntsc)) < 0.005:
            return ntsc
    if abs(fps - round(fps)) < 0.005:
        return Fraction(round(fps))
    return Fraction(fps).limit_denominator(1001)


def frame_count(seconds: float | Fraction, rate: Fraction) -> int:
    """Whole frames in ``seconds`` at ``rate`` (at least one).

    A count within 5 % of a frame of a whole number is that number (float durations
    are not exact); otherwise the partial frame is dropped: an audio track running a
    little past the last picture must not add a frame that does not exist.
    """
    exact = Fraction(seconds) * rate
    nearest = round(exact)
    frames = nearest if abs(exact - nearest) < Fraction(1, 20) else math.floor(exact)
    return max(1, int(frames))


def _time(frames: int, rate: Fraction) -> str:
    """An FCPXML time: ``frames`` at ``rate`` as a rational number of seconds."""
    if frames == 0:
        return "0s"
    frame = 1 / rate
    numerator = frames * frame.numerator
    if numerator % frame.denominator == 0:
        return f"{numerator // frame.denominator}s"
    return f"{numerator}/{frame.denominator}s"


def timeline_rate(rates: Iterable[Fraction]) -> Fraction:
    """The rate of a string-out of clips at ``rates``: the commonest one (the earliest
    of equals), so that most clips need no conversion; when it is not a rate editors'
    timelines offer (16 fps, 12.5 fps), the nearest one that is, NTSC rates staying NTSC."""
    counts = Counter(rates)
    if not counts:
        return FALLBACK_RATE
    best = counts.most_common(1)[0][0]
    if best in _TIMELINE_RATES:
        return best
    ntsc = best.denominator == 1001
    candidates = [r for r in _TIMELINE_RATES if (r.denominator == 1001) == ntsc]
    return min(candidates, key=lambda r: (abs(r - best), r))


def _conform(frames: int, rate: Fraction, to: Fraction) -> int:
    """``frames`` at ``rate`` as whole frames at ``to``."""
    return frame_count(Fraction(frames) / rate, to)


# ============================================================== editor clips


@dataclass(frozen=True, slots=True)
class EditorClip:
    """One take as an editor sees it.

    Attributes:
        name: the clip's name (the exported file's stem).
        path: the exported file, absolute.
        rate: its frame rate, exact.
        frames: its length in its own frames.
        width: picture width in pixels.
        height: picture height in pixels.
        has_audio: whether it has sound.
        note: the prompt.
        keywords: vendor, model, verdict, stars and reasons.
        rating: ``favorite`` for usable takes, ``reject`` for rejects, else None.
    """

    name: str
    path: Path
    rate: Fraction
    frames: int
    width: int
    height: int
    has_audio: bool
    note: str
    keywords: tuple[str, ...]
    rating: Literal["favorite", "reject"] | None = None

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate


def clip_for(record: TakeRecord, path: Path) -> tuple[EditorClip, str | None]:
    """The editor clip of an exported take, and a warning when its rate was unknown."""
    take = record.take
    rate = frame_rate(take.fps)
    warning = None
    if rate is None:
        rate = FALLBACK_RATE
        warning = f"take {take.id}: the file does not state its frame rate; exported as 24 fps"
    stars = f"{take.stars} star" + ("s" if take.stars != 1 else "") if take.stars else None
    keywords = [take.vendor, take.model, take.verdict, *([stars] if stars else []), *take.reasons]
    rating: Literal["favorite", "reject"] | None = None
    if take.verdict == "usable":
        rating = "favorite"
    elif take.verdict == "reject":
        rating = "reject"
    clip = EditorClip(
        name=path.stem,
        path=path,
        rate=rate,
        frames=frame_count(take.duration_s, rate),
        width=take.width,
        height=take.height,
        has_audio=take.has_audio,
        note=record.prompt,
        keywords=tuple(dict.fromkeys(k for k in keywords if k)),
        rating=rating,
    )
    return clip, warning
