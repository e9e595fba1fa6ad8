"""FCPXML 1.11: an event of clips and a string-out project (Final Cut, Resolve)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction

from takestock.core.errors import InvalidInput
from takestock.core.export.clips import EditorClip, _conform, _time, timeline_rate

FCPXML_VERSION = "1.11"


# ==================================================================== FCPXML

# XML 1.0 cannot carry these even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _x(text: str) -> str:
    return _XML_INVALID.sub("", text)


def fcpxml_document(
    clips: Sequence[EditorClip], event_name: str, *, rate: Fraction | None = None
) -> str:
    """An FCPXML 1.11 document: a library with one event holding every clip, and in it a
    project stringing the clips out end to end at ``rate`` (default
    :func:`timeline_rate` of the clips).

    Resources: one ``format`` per distinct frame rate and picture size, one ``asset`` per
    clip with its ``media-rep`` (the file URL). Clip times are whole frames of the clip's
    own rate; in the project, offsets and durations are whole frames of the timeline's.
    """
    if not clips:
        raise InvalidInput("takes", "nothing to put in an FCPXML event")
    tl_rate = rate or timeline_rate(c.rate for c in clips)
    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    formats: dict[tuple[Fraction, int, int], str] = {}
    next_id = 1

    def format_id(frame_rate_: Fraction, width: int, height: int) -> str:
        nonlocal next_id
        key = (frame_rate_, width, height)
        if key not in formats:
            formats[key] = f"r{next_id}"
            next_id += 1
            ET.SubElement(
                resources,
                "format",
                id=formats[key],
                frameDuration=_time(1, frame_rate_),
                width=str(width),
                height=str(height),
            )
        return formats[key]

    # The project's picture: that of the first clip at the timeline's rate, if any.
    shape = next((c for c in clips if c.rate == tl_rate), clips[0])
    tl_format = format_id(tl_rate, shape.width, shape.height)
    assets: list[tuple[EditorClip, str, str]] = []
    for clip in clips:
        fmt = format_id(clip.rate, clip.width, clip.height)
        asset_id = f"r{next_id}"
        next_id += 1
        asset = ET.SubElement(
            resources,
            "asset",
            id=asset_id,
            name=_x(clip.name),
            start="0s",
            duration=_time(clip.frames, clip.rate),
            hasVideo="1",
            hasAudio="1" if clip.has_audio else "0",
            format=fmt,
            videoSources="1",
        )
        if clip.has_audio:
            asset.set("audioSources", "1")
        ET.SubElement(asset, "media-rep", kind="original-media", src=clip.path.as_uri())
        assets.append((clip, asset_id, fmt))

    library = ET.SubElement(root, "library")
    event = ET.SubElement(library, "event", name=_x(event_name))
    for clip, asset_id, fmt in assets:
        duration = _time(clip.frames, clip.rate)
        element = ET.SubElement(
            event,
            "asset-clip",
            ref=asset_id,
            name=_x(clip.name),
            duration=duration,
            format=fmt,
            tcFormat="NDF",
        )
        if clip.note:
            ET.SubElement(element, "note").text = _x(clip.note)
        if clip.rating:
            ET.SubElement(element, "rating", start="0s", duration=duration, value=clip.rating)
        for keyword in clip.keywords:
            # A comma would split one keyword into two in Final Cut Pro.
            value = _x(keyword.replace(",", " ")).strip()
            if value:
                ET.SubElement(element, "keyword", start="0s", duration=duration, value=value)

    project = ET.SubElement(event, "project", name=_x(f"{event_name} string-out"))
    lengths = [_conform(c.frames, c.rate, tl_rate) for c, _, _ in assets]
    sequence = ET.SubElement(
        project,
        "sequence",
        format=tl_format,
        duration=_time(sum(lengths), tl_rate),
        tcStart="0s",
        tcFormat="NDF",
    )
    spine = ET.SubElement(sequence, "spine")
    offset = 0
    for (clip, asset_id, fmt), length in zip(assets, lengths, strict=True):
        ET.SubElement(
            spine,
            "asset-clip",
            ref=asset_id,
            offset=_time(offset, tl_rate),
            name=_x(clip.name),
            duration=_time(length, tl_rate),
            format=fmt,
            tcFormat="NDF",
        )
        offset += length
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n{body}\n'
