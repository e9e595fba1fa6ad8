"""CMX 3600 EDLs of the string-out (Resolve, Premiere Pro), 999 events to a file."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

from takestock.core.errors import InvalidInput
from takestock.core.export.clips import EditorClip, _conform, timeline_rate

# ======================================================================== EDL

#: CMX 3600 numbers events with three digits.
EDL_MAX_EVENTS = 999
#: Record timecode starts at one hour, as editors' timelines do.
_RECORD_START_HOURS = 1


def _timecode(frames: int, base: int) -> str:
    seconds, ff = divmod(frames, base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


def _reel(clip: EditorClip, index: int, style: Literal["ax", "take"]) -> str:
    if style == "ax":
        return "AX"
    digits = re.findall(r"\d+", clip.name)
    base = f"T{digits[-1]}" if digits else f"C{index}"
    return re.sub(r"[^A-Z0-9]", "", base.upper())[:8] or "AX"


def _edl_title(title: str) -> str:
    ascii_title = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").strip()
    )
    ascii_title = re.sub(r"[\x00-\x1f\x7f]+", " ", ascii_title)
    return (ascii_title or "TAKESTOCK EXPORT")[:70]


def edl_documents(
    clips: Sequence[EditorClip],
    title: str,
    *,
    rate: Fraction | None = None,
    reels: Literal["ax", "take"] = "ax",
) -> list[str]:
    """CMX 3600 EDLs of the clips laid end to end on one video (and audio) track.

    Timecode is NON-DROP FRAME at ``rate`` (default :func:`timeline_rate`), counted in
    whole frames of its nominal base (30 for 29.97): drop-frame numbering only keeps a
    long programme's timecode near the wall clock, while non-drop keeps every frame
    count exact, and both editors read it. Each event's source runs from 00:00:00:00
    (AI takes carry no timecode of their own, so editors start them at zero) for the
    clip's length converted to the timeline's frames; the record side starts at
    01:00:00:00. Reels are ``AX`` (no tape: both editors relink through the comments)
    or, with ``reels="take"``, ``T`` and the take id, at most 8 characters.

    CMX 3600 has three-digit event numbers, so every 999 events (or a record time
    reaching 24 hours) start a new EDL; each is returned as one string.
    """
    if not clips:
        raise InvalidInput("takes", "nothing to put in an EDL")
    tl_rate = rate or timeline_rate(c.rate for c in clips)
    base = max(1, round(float(tl_rate)))
    start = _RECORD_START_HOURS * 3600 * base
    day = 24 * 3600 * base
    documents: list[list[str]] = []
    lines: list[str] = []
    event = 0
    record = start
    for index, clip in enumerate(clips, 1):
        length = _conform(clip.frames, clip.rate, tl_rate)
        if event == EDL_MAX_EVENTS or (event and record + length >= day):
            documents.append(lines)
            lines, event, record = [], 0, start
        if not lines:
            part = f" ({len(documents) + 1})" if documents else ""
            heading = _edl_title(title)[: 70 - len(part)] + part
            lines = [f"TITLE: {heading}", "FCM: NON-DROP FRAME", ""]
        event += 1
        channels = "AA/V" if clip.has_audio else "V"
        lines.append(
            f"{event:03d}  {_reel(clip, index, reels):<8} {channels:<5} C        "
            f"{_timecode(0, base)} {_timecode(length, base)} "
            f"{_timecode(record, base)} {_timecode(record + length, base)}"
        )
        lines.append(f"* FROM CLIP NAME: {clip.path.name}")
        lines.append(f"* SOURCE FILE: {clip.path}")
        lines.append("")
        record += length
    documents.append(lines)
    return ["\r\n".join(doc).rstrip("\r\n") + "\r\n" for doc in documents]
