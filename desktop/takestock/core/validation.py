"""Checks every vendor shares, run before anything is sent or charged.

Adapters call :func:`validate_common` and add their vendor's own rules. Each refusal is
an :class:`InvalidInput` naming the field and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from takestock.core.catalog import ImageLimits, ModelSpec
from takestock.core.errors import InvalidInput
from takestock.core.vendor import GenerationRequest, Mode

__all__ = ["ImageFacts", "check_image", "validate_common"]

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


def check_image(path: Path, limits: ImageLimits, *, field: str = "image") -> ImageFacts:
    """Read ``path`` as an image and check it against ``limits``.

    Format and byte size are not refused here: adapters convert and recompress within
    a vendor's limits. Only what no preparation can fix without changing the picture
    is refused: too small, or an aspect ratio the vendor cannot take.
    """
    try:
        size_bytes = path.stat().st_size
        with Image.open(path) as img:
            img.load()
            oriented = ImageOps.exif_transpose(img)
            width, height = oriented.size
            fmt = (img.format or "").lower()
    except FileNotFoundError:
        raise InvalidInput(field, f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(field, f"{path} cannot be read as an image ({exc})") from None
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


def validate_common(request: GenerationRequest, model: ModelSpec, vendor_name: str) -> None:
    """The limits every catalog model declares: mode, text lengths, duration, size."""
    where = f"{vendor_name} {model.id}"
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
