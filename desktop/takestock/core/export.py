"""Hand-off: picked takes to a folder, with their metadata, an editor's bin and an EDL.

One export writes, into one folder the user names:

- each take's video under a readable name, ``<prompt title>_<vendor>_<model>_<take id>.mp4``,
  made safe for Windows, macOS and Linux alike (:func:`portable_component`,
  :class:`NameBook`), hard-linked from the library when the folder is on the same file
  system and copied otherwise, never over a different file already there;
- beside it a sidecar ``.json`` with what made the take and what the creator thinks of it
  (:data:`SIDECAR_FIELDS`), and one ``.csv`` for the batch with the same fields;
- optionally an FCPXML 1.11 document (:func:`fcpxml_document`): an event holding one
  clip per take, its prompt as a note and its vendor, model, verdict, stars and reasons
  as keywords, plus a project that strings the takes out end to end (DaVinci Resolve
  imports FCPXML timelines, not bare event clips);
- optionally CMX 3600 EDLs (:func:`edl_documents`) of the same string-out, which
  Resolve and Premiere Pro both import, relinking through the ``* FROM CLIP NAME:`` and
  ``* SOURCE FILE:`` comments.

Frame rates, durations and picture sizes come from the probe stored with each take,
never from assumptions; a take whose rate is unknown is exported at 24 fps with a
warning in the result.

Nothing secret is written: request parameters pass through :func:`public_parameters`
(credential-named keys dropped, values redacted as the logs are), and no account key,
base URL, task id or signed result URL is read at all.

Errors (see ``core.errors``): :class:`InvalidInput` for a folder that cannot be used or
an empty selection, raised before anything is written; :class:`MediaError` when a
take's file is missing from the library, also before anything is written;
:class:`ExportCancelled` (a :class:`TakestockError`) when the handle asks to stop.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import secrets
import shutil
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol

from takestock.core.errors import InvalidInput, MediaError, TakestockError
from takestock.core.library import sha256_of
from takestock.core.logs import redact
from takestock.core.store import Store
from takestock.core.takes import Take, TakeFilter, Verdict, get_take, take_ids

__all__ = [
    "CSV_COLUMNS",
    "FCPXML_VERSION",
    "SIDECAR_FIELDS",
    "EditorClip",
    "ExportCancelled",
    "ExportHandle",
    "ExportOptions",
    "ExportResult",
    "ExportedTake",
    "NameBook",
    "Selection",
    "TakeRecord",
    "check_folder",
    "clip_for",
    "edl_documents",
    "export_takes",
    "fcpxml_document",
    "frame_count",
    "frame_rate",
    "is_reserved_on_windows",
    "load_records",
    "portable_component",
    "public_parameters",
    "select_takes",
    "sidecar",
    "take_stem",
    "timeline_rate",
]

FCPXML_VERSION = "1.11"

#: The most UTF-8 bytes one path component may take: ext4, APFS and (as 255 UTF-16 units,
#: never more than 255 UTF-8 bytes) NTFS all stop there.
MAX_COMPONENT_BYTES = 255
#: Windows' classic MAX_PATH less the terminating NUL; editors on Windows still trip over
#: longer paths, so names are shortened to keep the whole path within it when they can.
WINDOWS_MAX_PATH = 259
#: Room kept in every stem for a uniqueness mark such as `` (12)``.
_MARK_ROOM = len(" (9999)")
#: A title is never shortened below this many characters to fit a long folder path.
_MIN_TITLE_CHARS = 16
_VENDOR_MAX_BYTES = 48
_MODEL_MAX_BYTES = 96

#: Fields of each sidecar, in order; the CSV has the same facts, one column per leaf.
#: ``take_id`` and ``file`` tie a sidecar or row to its video.
SIDECAR_FIELDS: tuple[str, ...] = (
    "take_id",
    "file",
    "prompt",
    "negative_prompt",
    "parameters",
    "vendor",
    "model",
    "account",
    "cost",
    "verdict",
    "stars",
    "reasons",
    "sha256",
)

CSV_COLUMNS: tuple[str, ...] = (
    "take_id",
    "file",
    "prompt",
    "negative_prompt",
    "parameters",
    "vendor",
    "model",
    "account",
    "estimate_amount",
    "estimate_unit",
    "estimate_money",
    "estimate_currency",
    "actual_amount",
    "actual_unit",
    "actual_money",
    "actual_currency",
    "verdict",
    "stars",
    "reasons",
    "sha256",
)


class ExportCancelled(TakestockError):
    """The export was stopped; the files already written are whole and stay."""

    title = "Export stopped"
    kind = "cancelled"


class ExportHandle(Protocol):
    """Progress and cancel for an export run off the UI thread (a fake in tests).

    Attributes:
        cancelled: read between takes; once true, the export stops.
    """

    @property
    def cancelled(self) -> bool: ...

    def progress(self, done: int, total: int) -> None: ...


# ====================================================================== names

# Windows refuses these as a name's first dotted part, whatever the case or extension
# ("con.mp4", "Nul.take.json"), superscript digits included.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
# What Windows forbids in a name, and what each becomes: separators a dash, a colon a
# spaced dash ("Scene 1: fox" reads "Scene 1 - fox"), quotes an apostrophe, the rest
# nothing.
_FORBIDDEN = {
    "/": "-", "\\": "-", "|": "-", ":": " - ", '"': "'", "<": "", ">": "", "?": "", "*": "",
}  # fmt: skip
# Invisible characters that reorder or hide text (a name could pretend to end in .mp4).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What may dangle at the end of a cut name: joiners and variation selectors.
_DANGLING = "\u200c\u200d\ufe0e\ufe0f"


def portable_component(text: str) -> str:
    """``text`` as one file-name component that Windows, macOS and Linux all accept.

    NFC-normalised (macOS may store NFD; both name the same file); ``<>:"/\\|?*`` are
    replaced (see ``_FORBIDDEN``); control, private-use, unassigned and bidi-override
    characters go; every run of white space becomes one space; no leading or trailing
    space or dot (a leading dot hides a file, a trailing one Windows drops), and no
    leading ``-`` (a name must not read as a command-line option). May be empty.
    Length and reserved names are the caller's (see :func:`take_stem`).
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in _FORBIDDEN:
            out.append(_FORBIDDEN[ch])
        elif ch.isspace() or category in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or ch in _BIDI or ch == "\ufeff":
            continue
        else:
            out.append(ch)
    cleaned = re.sub(r" {2,}", " ", "".join(out))
    cleaned = re.sub(r"^[ .\-]+", "", cleaned).rstrip(" .")
    return unicodedata.normalize("NFC", cleaned)


def is_reserved_on_windows(name: str) -> bool:
    """Whether Windows treats ``name`` as a device (``CON``, ``com1.mp4``, ``NUL .json``)."""
    first = name.split(".", 1)[0].rstrip(" ").upper()
    return first in _RESERVED


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes at a character boundary."""
    if _utf8_len(text) <= max_bytes:
        return text
    raw = text.encode("utf-8")[: max(0, max_bytes)]
    cut = raw.decode("utf-8", errors="ignore")
    return cut.rstrip(_DANGLING).rstrip(" .")


def take_stem(
    title: str,
    vendor: str,
    model: str,
    take_id: int,
    *,
    max_bytes: int = MAX_COMPONENT_BYTES - len(".json") - _MARK_ROOM,
) -> str:
    """``<title>_<vendor>_<model>_<take id>``, portable and at most ``max_bytes`` long.

    The title gives way first (down to one character), then the model and the vendor;
    the take id is never cut, so stems of different takes never become equal by
    shortening. A title that cleans to nothing is ``untitled``. When the first dotted
    part would be a Windows device name (a title ``aux.final``), ``_`` follows it.
    """
    clean_title = portable_component(title) or "untitled"
    clean_vendor = portable_component(vendor) or "unknown"
    clean_model = portable_component(model) or "unknown"
    tail_id = f"_{take_id}"
    # Vendor and model ids are short in practice; capped so the title keeps its share.
    share = max(1, (max_bytes - _utf8_len(tail_id) - 2) // 3)
    vendor_part = _cut(clean_vendor, min(_VENDOR_MAX_BYTES, share)) or "v"
    model_part = _cut(clean_model, min(_MODEL_MAX_BYTES, share)) or "m"
    tail = f"_{vendor_part}_{model_part}{tail_id}"
    title_part = _cut(clean_title, max(1, max_bytes - _utf8_len(tail))) or "u"
    stem = f"{title_part}{tail}"
    if is_reserved_on_windows(stem):
        head, dot, rest = stem.partition(".")
        stem = f"{head.rstrip(' ')}_{dot}{rest}"
    return stem


def _key(name: str) -> str:
    """How a case- and normalisation-insensitive file system (macOS, Windows) sees a name."""
    return unicodedata.normalize("NFC", name).casefold()


@dataclass
class NameBook:
    """Hands out stems unique within one export and free in the target folder.

    Two stems that differ only in case or Unicode normalisation count as the same, as
    they do on macOS and Windows. A stem whose files already exist in the folder is
    taken only when :meth:`claim`'s ``reuse`` check accepts them (the same take exported
    again); otherwise it gets `` (2)``, `` (3)``, ... before its extensions.

    Attributes:
        folder: the export folder.
        max_path: the longest whole path (in UTF-16 units, as Windows counts) to aim for.
    """

    folder: Path
    max_path: int = WINDOWS_MAX_PATH
    _taken: set[str] = field(default_factory=set)
    _present: set[str] = field(default_factory=set)
    _names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.folder.is_dir():
            self._names = {p.name for p in self.folder.iterdir()}
            self._present = {_key(name) for name in self._names}

    def fit(self, title: str, vendor: str, model: str, take_id: int, longest_ext: str) -> str:
        """The take's stem, its title shortened so that folder, stem, mark and extension
        fit ``max_path`` (counted in UTF-16 units, as Windows does), but never below
        :data:`_MIN_TITLE_CHARS` characters: a name must still say what it is."""
        stem = take_stem(title, vendor, model, take_id)
        clean = portable_component(title) or "untitled"
        tail = len(take_stem("x", vendor, model, take_id)) - 1
        for _ in range(8):  # UTF-16 units are not characters: converge in a few steps
            over = _utf16_len(str(self.folder / stem)) + _MARK_ROOM + len(longest_ext)
            over -= self.max_path
            title_chars = len(stem) - tail
            if over <= 0 or title_chars <= _MIN_TITLE_CHARS:
                break
            keep = max(_MIN_TITLE_CHARS, title_chars - over)
            stem = take_stem(clean[:keep].rstrip(" .") or "untitled", vendor, model, take_id)
        return stem

    def claim(
        self,
        stem: str,
        extensions: Sequence[str],
        reuse: Callable[[Mapping[str, Path]], bool] | None = None,
    ) -> str:
        """A stem free for every one of ``extensions`` (``.mp4``, ``.json``), claimed.

        ``reuse(paths)`` is asked when the exact files exist already: returning true
        takes the stem anyway (the caller found them identical to what it would write).
        """
        for n in range(1, 1_000_000):
            candidate = stem if n == 1 else f"{stem} ({n})"
            keys = [_key(candidate + ext) for ext in extensions]
            if any(k in self._taken for k in keys):
                continue
            paths = {ext: self.folder / f"{candidate}{ext}" for ext in extensions}
            if any(k in self._present for k in keys):
                # Reusable only when every file is there under exactly this name (not one
                # differing in case, which a case-sensitive file system keeps apart).
                exact = all(p.name in self._names for p in paths.values())
                if not (exact and reuse is not None and reuse(paths)):
                    continue
            self._taken.update(keys)
            return candidate
        raise InvalidInput("to", f"no free name for {stem!r} in {self.folder}")


# ================================================================== selection


@dataclass(frozen=True, slots=True)
class Selection:
    """Which takes to export; every given criterion must hold.

    Attributes:
        take_ids: only these takes, exported in this order (else oldest first).
        verdict: only takes with this verdict.
        request_id: only takes of this request (a comparison group).
        tag: only takes whose prompt carries this tag (any case).
        since: only takes made at or after this time (epoch seconds).
        until: only takes made before this time (epoch seconds).
    """

    take_ids: tuple[int, ...] = ()
    verdict: Verdict | None = None
    request_id: int | None = None
    tag: str | None = None
    since: float | None = None
    until: float | None = None


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_takes(store: Store, media_root: Path, selection: Selection) -> list[Take]:
    """The takes ``selection`` names; an explicit id that does not exist is an error."""
    where = TakeFilter(
        verdict=selection.verdict,
        request_id=selection.request_id,
        tag=selection.tag or None,
        since=selection.since,
        until=selection.until,
    )
    matching = take_ids(store, where)  # newest first
    if not selection.take_ids:
        return [get_take(store, media_root, t) for t in reversed(matching)]
    wanted = list(dict.fromkeys(selection.take_ids))
    existing: set[int] = set()
    for chunk in _chunks(wanted):
        marks = ", ".join("?" * len(chunk))
        existing.update(
            r[0] for r in store.all(f"SELECT id FROM take WHERE id IN ({marks})", chunk)
        )
    missing = [t for t in wanted if t not in existing]
    if missing:
        raise InvalidInput("take", f"no take {', '.join(map(str, missing))}")
    allowed = set(matching)
    return [get_take(store, media_root, t) for t in wanted if t in allowed]


# ==================================================================== records


@dataclass(frozen=True, slots=True)
class TakeRecord:
    """A take with everything its sidecar says.

    Attributes:
        take: the take.
        title: the prompt's title, ``untitled`` when the take has no prompt.
        prompt: the prompt version's text ("" when none).
        negative: the prompt version's negative prompt.
        parameters: the request's parameters, secrets removed (see
            :func:`public_parameters`).
        account: the job's account name, ``default`` when the job named none.
        estimate: the job's estimate (amount, unit, money, currency), or None.
        actual: what was charged (amount, unit, money, currency), or None when unknown.
        tags: the prompt's tags.
    """

    take: Take
    title: str
    prompt: str
    negative: str
    parameters: Mapping[str, Any]
    account: str
    estimate: Mapping[str, Any] | None
    actual: Mapping[str, Any] | None
    tags: tuple[str, ...] = ()


_SECRET_KEY = re.compile(
    r"api[_-]?key|secret|token|password|passwd|authori[sz]ation|credential|cookie"
    r"|signature|private[_-]?key|access[_-]?key|session",
    re.IGNORECASE,
)


def public_parameters(value: Any) -> Any:
    """``value`` (request parameters) with credential-named keys dropped and every string
    redacted as log lines are (signed URL queries, bearer tokens, registered secrets)."""
    if isinstance(value, Mapping):
        return {
            str(k): public_parameters(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))
        }
    if isinstance(value, list | tuple):
        return [public_parameters(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _money(
    amount: float, estimate: Mapping[str, Any] | None, per_unit: float | None
) -> float | None:
    """``amount`` of the vendor's unit in money: at the estimate's price, else at the
    account's (to a millionth: the products of prices carry float noise)."""
    if estimate and estimate.get("money") is not None and estimate.get("amount"):
        return round(float(estimate["money"]) * amount / float(estimate["amount"]), 6)
    if per_unit is not None:
        return round(per_unit * amount, 6)
    return None


def load_records(store: Store, takes: Sequence[Take]) -> list[TakeRecord]:
    """Each take's prompt, parameters, account and cost, read in a few queries."""
    ids = [t.id for t in takes]
    rows: dict[int, Any] = {}
    charged: dict[int, float] = {}
    tags: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for row in store.all(
            "SELECT take.id AS take_id, request.params AS params, pv.text AS text,"
            " pv.negative AS negative, pv.prompt_id AS prompt_id, prompt.title AS title,"
            " job.id AS job_id, job.estimate AS estimate, job.cost_actual AS cost_actual,"
            " account.name AS account, account.money_per_unit AS per_unit,"
            " account.unit AS unit"
            " FROM take LEFT JOIN request ON request.id = take.request_id"
            " LEFT JOIN prompt_version pv ON pv.id = request.prompt_version_id"
            " LEFT JOIN prompt ON prompt.id = pv.prompt_id"
            " LEFT JOIN job ON job.id = take.job_id"
            " LEFT JOIN account ON account.id = job.account_id"
            f" WHERE take.id IN ({marks})",
            list(chunk),
        ):
            rows[row["take_id"]] = row
        for row in store.all(
            "SELECT take.id AS take_id, -SUM(ledger.amount) AS charged FROM take"
            " JOIN ledger ON ledger.job_id = take.job_id AND ledger.kind = 'capture'"
            f" WHERE take.id IN ({marks}) GROUP BY take.id",
            list(chunk),
        ):
            charged[row["take_id"]] = float(row["charged"])
        for row in store.all(
            "SELECT take.id AS take_id, tag.name AS name FROM take"
            " JOIN request ON request.id = take.request_id"
            " JOIN prompt_version pv ON pv.id = request.prompt_version_id"
            " JOIN prompt_tag pt ON pt.prompt_id = pv.prompt_id"
            " JOIN tag ON tag.id = pt.tag_id"
            f" WHERE take.id IN ({marks}) ORDER BY tag.name",
            list(chunk),
        ):
            tags.setdefault(row["take_id"], []).append(row["name"])
    records = []
    for take in takes:
        row = rows[take.id]
        raw_params: dict[str, Any] = json.loads(row["params"]) if row["params"] else {}
        prompt = row["text"] if row["text"] is not None else (take.prompt or "")
        negative = row["negative"] if row["negative"] is not None else ""
        # The request keeps the words as sent; they only add something when variables
        # were filled in, so they stay in the parameters only then.
        if raw_params.get("prompt") in (prompt, None, ""):
            raw_params.pop("prompt", None)
        if raw_params.get("negative") in (negative, None, ""):
            raw_params.pop("negative", None)
        # Options left unset say nothing.
        raw_params = {k: v for k, v in raw_params.items() if v not in (None, {}, [])}
        estimate: dict[str, Any] | None = json.loads(row["estimate"]) if row["estimate"] else None
        amount = row["cost_actual"] if row["cost_actual"] is not None else charged.get(take.id)
        actual: dict[str, Any] | None = None
        if amount is not None:
            unit = (estimate or {}).get("unit") or row["unit"] or "credits"
            actual = {
                "amount": float(amount),
                "unit": unit,
                "money": _money(float(amount), estimate, row["per_unit"]),
                "currency": (estimate or {}).get("currency"),
            }
        records.append(
            TakeRecord(
                take=take,
                title=row["title"] or "untitled",
                prompt=prompt,
                negative=negative,
                parameters=public_parameters(raw_params),
                account=row["account"] or "default",
                estimate=estimate,
                actual=actual,
                tags=tuple(tags.get(take.id, ())),
            )
        )
    return records


def sidecar(record: TakeRecord, file_name: str) -> dict[str, Any]:
    """The sidecar's content: :data:`SIDECAR_FIELDS`, in order."""
    take = record.take
    return {
        "take_id": take.id,
        "file": file_name,
        "prompt": record.prompt,
        "negative_prompt": record.negative,
        "parameters": dict(record.parameters),
        "vendor": take.vendor,
        "model": take.model,
        "account": record.account,
        "cost": {
            "estimate": dict(record.estimate) if record.estimate else None,
            "actual": dict(record.actual) if record.actual else None,
        },
        "verdict": take.verdict,
        "stars": take.stars,
        "reasons": list(take.reasons),
        "sha256": take.sha256,
    }


# A spreadsheet runs a cell that starts like a formula; a quote makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def _csv_row(data: Mapping[str, Any]) -> list[str]:
    cost = data["cost"]
    est = cost["estimate"] or {}
    act = cost["actual"] or {}
    values = {
        **{k: data[k] for k in ("take_id", "file", "prompt", "negative_prompt")},
        "parameters": json.dumps(data["parameters"], ensure_ascii=False, sort_keys=True),
        **{k: data[k] for k in ("vendor", "model", "account", "verdict", "stars", "sha256")},
        "estimate_amount": est.get("amount"),
        "estimate_unit": est.get("unit"),
        "estimate_money": est.get("money"),
        "estimate_currency": est.get("currency"),
        "actual_amount": act.get("amount"),
        "actual_unit": act.get("unit"),
        "actual_money": act.get("money"),
        "actual_currency": act.get("currency"),
        "reasons": "; ".join(data["reasons"]),
    }
    return [_cell(values[c]) for c in CSV_COLUMNS]


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


# ===================================================================== export


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to write besides the videos, sidecars and CSV.

    Attributes:
        fcpxml: write an FCPXML event (and its string-out project).
        edl: write CMX 3600 EDLs.
        link: hard-link videos from the library when the folder is on the same file
            system (instant, no space); False always copies (safer when an editor
            writes into its media, which would change the library's file too).
        name: the batch's name: the event's and the batch files' (default
            ``takestock-<date>-<time>``).
        reels: EDL reel names (see :func:`edl_documents`).
        max_path: the longest path to aim for (Windows' MAX_PATH by default).
    """

    fcpxml: bool = False
    edl: bool = False
    link: bool = True
    name: str | None = None
    reels: Literal["ax", "take"] = "ax"
    max_path: int = WINDOWS_MAX_PATH


@dataclass(frozen=True, slots=True)
class ExportedTake:
    """One take as written.

    Attributes:
        record: the take and its metadata.
        file: the video in the folder.
        sidecar: its ``.json`` beside it.
        how: ``hardlink``, ``copy``, or ``existing`` (the same file was there already).
    """

    record: TakeRecord
    file: Path
    sidecar: Path
    how: Literal["hardlink", "copy", "existing"]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote (what changed, for the UI to show)."""

    folder: Path
    takes: tuple[ExportedTake, ...]
    csv: Path
    fcpxml: Path | None
    edls: tuple[Path, ...]
    warnings: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "count": len(self.takes),
            "takes": [
                {
                    "take_id": t.record.take.id,
                    "file": str(t.file),
                    "sidecar": str(t.sidecar),
                    "how": t.how,
                }
                for t in self.takes
            ],
            "csv": str(self.csv),
            "fcpxml": str(self.fcpxml) if self.fcpxml else None,
            "edl": [str(p) for p in self.edls],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


def check_folder(folder: Path) -> Path:
    """``folder`` made absolute, if it can be an export's target: an existing folder, or a
    new one whose parent exists. Raises :class:`InvalidInput` otherwise."""
    folder = Path(os.path.abspath(folder.expanduser()))
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("to", f"{folder} is a file, not a folder")
    if not folder.exists() and not folder.parent.is_dir():
        raise InvalidInput(
            "to", f"{folder.parent} does not exist; create it or pick another folder"
        )
    return folder


def _link_new(tmp: Path, dst: Path) -> None:
    """Put the finished ``tmp`` at ``dst``, refusing (FileExistsError) if ``dst`` exists."""
    try:
        os.link(tmp, dst)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (FAT, exFAT, some network shares): a checked rename. Another
        # writer could slip in between the check and the rename; Windows' rename refuses
        # to replace, and nothing but this export writes these new names.
        if os.path.lexists(dst):
            raise FileExistsError(dst) from None
        os.rename(tmp, dst)
        return
    tmp.unlink()


def _temp_beside(dst: Path) -> Path:
    # Short whatever the final name: a name near 255 bytes leaves no room for more.
    return dst.with_name(f".takestock-{secrets.token_hex(8)}.part")


def _write_new(dst: Path, data: bytes) -> None:
    """Write a new file whole (temporary file, then linked into place)."""
    tmp = _temp_beside(dst)
    try:
        tmp.write_bytes(data)
        _link_new(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _place(src: Path, dst: Path, link: bool) -> Literal["hardlink", "copy"]:
    """Hard-link ``src`` at ``dst`` when allowed and possible, else copy it whole."""
    if link:
        try:
            os.link(src, dst)
            return "hardlink"
        except FileExistsError:
            raise
        except OSError:
            pass  # another file system (EXDEV), or one without links: copy instead
    tmp = _temp_beside(dst)
    try:
        shutil.copyfile(src, tmp)
        shutil.copystat(src, tmp)
        _link_new(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return "copy"


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _batch_path(book: NameBook, stem: str, ext: str) -> Path:
    clean = _cut(portable_component(stem), 200) or "takestock"
    if is_reserved_on_windows(clean + ext):
        clean += "_"
    return book.folder / f"{book.claim(clean, [ext])}{ext}"


def export_takes(
    store: Store,
    takes: Sequence[Take],
    folder: Path,
    options: ExportOptions = ExportOptions(),
    *,
    handle: ExportHandle | None = None,
    now: float | None = None,
) -> ExportResult:
    """Write ``takes`` into ``folder`` (created if its parent exists), see the module doc.

    Everything is checked before the first file is written: the folder, that there is
    something to export, and that every take's file is in the library. Re-exporting the
    same takes into the same folder reuses the identical files already there; a file
    that differs is never replaced: the new one gets `` (2)`` in its name.

    Raises:
        InvalidInput: no takes, or the folder cannot be used.
        MediaError: a take's file is missing from the library.
        ExportCancelled: ``handle.cancelled`` became true.
    """
    started = time.monotonic()
    if not takes:
        raise InvalidInput("takes", "no takes match: nothing to export")
    folder = check_folder(folder)
    missing = [t.id for t in takes if not t.path.is_file()]
    if missing:
        raise MediaError(
            f"the file of take {', '.join(map(str, missing))} is missing from the library "
            "(moved or deleted outside Takestock); nothing was exported.",
            title="Take file missing",
        )
    records = load_records(store, takes)
    folder.mkdir(exist_ok=True)
    when = dt.datetime.fromtimestamp(time.time() if now is None else now)
    batch = options.name or f"takestock-{when:%Y%m%d-%H%M%S}"
    book = NameBook(folder, options.max_path)
    exported: list[ExportedTake] = []
    warnings: list[str] = []
    total = len(records)
    for done, record in enumerate(records):
        if handle is not None:
            if handle.cancelled:
                raise ExportCancelled(
                    f"stopped after {done} of {total} takes; the files written are whole."
                )
            handle.progress(done, total)
        exported.append(_export_one(book, record, options.link))
    if handle is not None:
        handle.progress(total, total)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in exported:
        writer.writerow(_csv_row(sidecar(item.record, item.file.name)))
    csv_path = _batch_path(book, batch, ".csv")
    # With a byte-order mark, spreadsheets read the UTF-8 (any prompt's script) as such.
    _write_new(csv_path, buffer.getvalue().encode("utf-8-sig"))

    fcpxml_path: Path | None = None
    edl_paths: list[Path] = []
    if options.fcpxml or options.edl:
        clips = []
        for item in exported:
            clip, warning = clip_for(item.record, item.file)
            clips.append(clip)
            if warning:
                warnings.append(warning)
        if options.fcpxml:
            fcpxml_path = _batch_path(book, batch, ".fcpxml")
            _write_new(fcpxml_path, fcpxml_document(clips, batch).encode("utf-8"))
        if options.edl:
            for index, text in enumerate(edl_documents(clips, batch, reels=options.reels)):
                stem = batch if index == 0 else f"{batch} part {index + 1}"
                path = _batch_path(book, stem, ".edl")
                _write_new(path, text.encode("utf-8"))
                edl_paths.append(path)
    return ExportResult(
        folder=folder,
        takes=tuple(exported),
        csv=csv_path,
        fcpxml=fcpxml_path,
        edls=tuple(edl_paths),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
    )


def _same_file(path: Path, take: Take) -> bool:
    try:
        if path.stat().st_size != take.size_bytes:
            return False
        if path.samefile(take.path):
            return True
    except OSError:
        return False
    return sha256_of(path) == take.sha256


def _export_one(book: NameBook, record: TakeRecord, link: bool) -> ExportedTake:
    take = record.take
    ext = (take.path.suffix or ".mp4").lower()
    stem = book.fit(record.title, take.vendor, take.model, take.id, max(ext, ".json", key=len))

    def reuse(paths: Mapping[str, Path]) -> bool:
        data = _json_bytes(sidecar(record, paths[ext].name))
        return _same_file(paths[ext], take) and paths[".json"].read_bytes() == data

    for _ in range(3):
        name = book.claim(stem, [ext, ".json"], reuse)
        video, side = book.folder / f"{name}{ext}", book.folder / f"{name}.json"
        if video.exists() and side.exists():
            return ExportedTake(record, video, side, "existing")  # reuse() found them equal
        try:
            how = _place(take.path, video, link)
        except FileExistsError:
            continue  # someone wrote that name meanwhile: take the next one
        try:
            _write_new(side, _json_bytes(sidecar(record, video.name)))
        except FileExistsError:
            video.unlink()
            continue
        return ExportedTake(record, video, side, how)
    raise InvalidInput("to", f"{book.folder} keeps changing under the export; try again")
