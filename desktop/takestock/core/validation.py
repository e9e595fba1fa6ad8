"""Checks every vendor shares, run before anything is sent or charged.

Adapters call :func:`validate_common` and add their vendor's own rules. Each refusal is
an :class:`InvalidInput` naming the field and the limit.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from takestock.core.catalog import ImageLimits, ModelSpec
from takestock.core.errors import InvalidInput
from takestock.core.vendor import GenerationRequest, Mode

if TYPE_CHECKING:
    # PIL is imported by the functions that open an image, not here: the command line's
    # argument checks import this module and most commands open no image.
    from PIL import Image

__all__ = [
    "ImageFacts",
    "bad_text_position",
    "check_base_url",
    "check_image",
    "open_image_file",
    "regular_file",
    "validate_common",
]

_MODE_NAMES = {
    Mode.TEXT: "text to video",
    Mode.IMAGE: "image to video",
    Mode.FIRST_LAST: "first and last frame",
}
SEED_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class ImageFacts:
    path: Path
    format: str  # Pillow's name, lower case: "jpeg", "png", "webp", ...
    width: int  # after EXIF orientation
    height: int
    size_bytes: int


def _fmt(value: float) -> str:
    return f"{value:g}"


def bad_text_position(text: str) -> int | None:
    """Index of the first character that is not valid UTF-8 text, or None.

    Bytes the OS hands over undecoded (argv, file names) arrive as lone surrogates;
    they cannot be stored, printed or sent.
    """
    for index, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            return index
    return None


def _os_reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.ELOOP or isinstance(exc, RuntimeError):
        return "too many levels of symbolic links (a link loop)"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied (cannot read it)"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long"
    if code == errno.ENOTDIR:
        return "a part of the path is not a folder"
    if code == errno.ENOENT:
        return "does not exist"
    return os.strerror(code) if isinstance(code, int) else str(exc)


def check_base_url(url: str, field: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else InvalidInput."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - parses the port: raises ValueError when malformed
    except ValueError as exc:
        raise InvalidInput(field, f"{url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(field, f"{url!r} must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput(field, f"{url!r} names no host")
    if any(ch.isspace() for ch in url.strip()) or bad_text_position(url) is not None:
        raise InvalidInput(field, f"{url!r} contains spaces or characters a URL cannot hold")
    return url


def regular_file(path: Path, field: str) -> Path:
    """``path`` resolved, if it names an existing, readable, regular file.

    Decided from metadata, never by opening: opening a FIFO for reading waits for a
    writer, forever if none comes. Raises InvalidInput naming ``field``.
    """
    position = bad_text_position(str(path))
    if position is not None:
        raise InvalidInput(
            field, f"the file name is not valid UTF-8 (character {position + 1}); rename it"
        )
    path = path.expanduser()
    try:
        info = path.stat()
    except (OSError, RuntimeError, ValueError) as exc:
        raise InvalidInput(field, f"{path}: {_os_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(field, f"{path} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(field, f"{path} is not a regular file (a pipe, device or socket)")
    if not os.access(path, os.R_OK):
        raise InvalidInput(field, f"{path}: permission denied (cannot read it)")
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a link loop before Python 3.13
        raise InvalidInput(field, f"{path}: {_os_reason(exc)}") from None


@contextmanager
def open_image_file(path: Path, field: str) -> Iterator[Image.Image]:
    """The image at ``path``, opened safely, or InvalidInput naming ``field``.

    The file is opened non-blocking and checked to be a regular file on the open
    descriptor (it may have been swapped for a FIFO since it was named); a picture
    over Pillow's pixel cap (a decompression bomb) is refused before it is decoded.
    """
    from PIL import Image, UnidentifiedImageError  # see the note on the imports

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as exc:
        raise InvalidInput(field, f"{path}: {_os_reason(exc)}") from None
    handle: BinaryIO = os.fdopen(fd, "rb")
    with handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInput(field, f"{path} is not a regular file (a pipe, device or socket)")
        try:
            with warnings.catch_warnings():
                # Pillow only warns between its cap and twice its cap; both are refused.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(handle)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidInput(field, f"{path.name} is too large a picture ({exc})") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidInput(field, f"{path} cannot be read as an image ({exc})") from None
        with image:
            yield image


def check_image(path: Path, limits: ImageLimits, *, field: str = "image") -> ImageFacts:
    """Read ``path`` as an image and check it against ``limits``.

    Format and byte size are not refused here: adapters convert and recompress within
    a vendor's limits. Only what no preparation can fix without changing the picture
    is refused: too small, or an aspect ratio the vendor cannot take.
    """
    from PIL import ImageOps, UnidentifiedImageError  # see the note on the imports

    path = regular_file(path, field)
    with open_image_file(path, field) as img:
        try:
            size_bytes = path.stat().st_size
            img.load()
            oriented = ImageOps.exif_transpose(img)
            width, height = oriented.size
            fmt = (img.format or "").lower()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidInput(field, f"{path} cannot be read as an image ({exc})") from None
    if width <= 0 or height <= 0:
        raise InvalidInput(field, f"{path.name} has no pixels")
    short = min(width, height)
    if short < limits.min_side:
        raise InvalidInput(
            field,
            f"{path.name} is {width}x{height}; its shorter side must be at least "
            f"{limits.min_side} px",
        )
    aspect = width / height
    if not limits.min_aspect <= aspect <= limits.max_aspect:
        raise InvalidInput(
            field,
            f"{path.name} has an aspect ratio of {aspect:.2f}; allowed is "
            f"{_fmt(limits.min_aspect)} to {_fmt(limits.max_aspect)} (width / height)",
        )
    return ImageFacts(path, fmt, width, height, size_bytes)


def validate_common(
    request: GenerationRequest,
    model: ModelSpec,
    vendor_name: str,
    *,
    first_frame_optional: bool = False,
) -> None:
    """The limits every catalog model declares: mode, text lengths, duration, size.

    A last frame needs a first (``--image``) unless the vendor takes its first frame
    another way, or none (``first_frame_optional``: Luma's URL or prior generation);
    an adapter handed a last frame alone would otherwise fail mid-submit.
    """
    where = f"{vendor_name} {model.id}"
    if request.last_frame is not None and request.image is None and not first_frame_optional:
        raise InvalidInput("image", f"{where}: a last frame needs a first frame too (--image)")
    if not model.available:
        raise InvalidInput("model", f"{where} is retired ({model.status_note or 'no reason'})")
    mode = request.mode
    if mode.value not in model.modes:
        offered = ", ".join(
            _MODE_NAMES[Mode(m)] for m in model.modes if m in Mode._value2member_map_
        )
        raise InvalidInput("mode", f"{where} does not do {_MODE_NAMES[mode]}; it does {offered}")
    prompt = request.prompt.strip()
    if not prompt and mode is Mode.TEXT:
        raise InvalidInput("prompt", "is empty")
    if len(prompt) > model.prompt_max_chars:
        raise InvalidInput(
            "prompt",
            f"is {len(prompt)} characters; {where} takes at most {model.prompt_max_chars}",
        )
    if request.negative.strip():
        if not model.negative_prompt:
            raise InvalidInput("negative", f"{where} takes no negative prompt")
        if len(request.negative) > model.negative_max_chars:
            raise InvalidInput(
                "negative",
                f"is {len(request.negative)} characters; "
                f"{where} takes at most {model.negative_max_chars}",
            )
    if request.duration_s is not None and not math.isfinite(request.duration_s):
        raise InvalidInput("duration", f"{request.duration_s!r} is not a number of seconds")
    if request.duration_s is not None and request.duration_s not in model.durations:
        allowed = ", ".join(_fmt(d) for d in model.durations)
        raise InvalidInput(
            "duration", f"{_fmt(request.duration_s)} s is not offered by {where}; use {allowed}"
        )
    if request.resolution is not None and request.resolution not in model.resolutions:
        raise InvalidInput(
            "resolution",
            f"{request.resolution} is not offered by {where}; use {', '.join(model.resolutions)}",
        )
    if request.aspect is not None and request.aspect not in model.aspects:
        if not model.aspects:
            raise InvalidInput("aspect", f"{where} takes the aspect ratio of its input image")
        raise InvalidInput(
            "aspect", f"{request.aspect} is not offered by {where}; use {', '.join(model.aspects)}"
        )
    if request.audio and not model.audio:
        raise InvalidInput("audio", f"{where} makes no audio")
    if request.seed is not None:
        if not model.seed:
            raise InvalidInput("seed", f"{where} takes no seed")
        if not 0 <= request.seed <= SEED_MAX:
            raise InvalidInput("seed", f"must be between 0 and {SEED_MAX}")
    if request.image is not None:
        check_image(request.image, model.image, field="image")
    if request.last_frame is not None:
        check_image(request.last_frame, model.image, field="last_frame")
