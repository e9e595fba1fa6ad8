"""File names that work on Windows, macOS and Linux alike: :func:`portable_component`,
:func:`take_stem` and :class:`NameBook`, which never hands out a name twice."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from takestock.core.errors import InvalidInput

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
