"""Input images prepared to a vendor's limits with Pillow, without changing the picture.

What preparation may do: apply EXIF orientation (vendors ignore it, so a phone photo
would arrive sideways), convert to a format the vendor takes, scale down within the
vendor's pixel cap, and recompress until the bytes fit. What it never does: crop, pad,
or upscale; an image that would need those is refused by ``validation.check_image``.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from takestock.core.catalog import ImageLimits
from takestock.core.errors import InvalidInput
from takestock.core.validation import check_image, open_image_file

__all__ = ["PreparedImage", "prepare_image"]

_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "bmp": "image/bmp"}
_PIL_NAME = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP"}


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """Bytes ready to send, with what a vendor's request needs to describe them."""

    data: bytes
    format: str  # "jpeg", "png", "webp"
    width: int
    height: int

    @property
    def mime(self) -> str:
        return _MIME[self.format]

    @property
    def suffix(self) -> str:
        return ".jpg" if self.format == "jpeg" else f".{self.format}"

    def base64(self) -> str:
        """Plain base64, no prefix (Kling takes this)."""
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """``data:<mime>;base64,...`` (MiniMax, Seedance, Vidu, Runway take this)."""
        return f"data:{self.mime};base64,{self.base64()}"


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality)
    else:
        image.save(out, _PIL_NAME[fmt], optimize=True)
    return out.getvalue()


def prepare_image(path: Path, limits: ImageLimits, *, field: str = "image") -> PreparedImage:
    """The image at ``path`` as bytes the vendor accepts, or InvalidInput saying why not.

    The original bytes are sent unchanged when they already fit: same format, upright,
    within the pixel and byte caps.
    """
    facts = check_image(path, limits, field=field)
    formats = [f for f in limits.formats if f in _PIL_NAME]
    if not formats:
        raise InvalidInput(field, "this model takes no images")
    with open_image_file(facts.path, field) as original:
        # EXIF tag 0x0112 is the orientation; 1 means already upright.
        rotated = original.getexif().get(0x0112, 1) != 1
        upright = ImageOps.exif_transpose(original)
        fits_pixels = max(facts.width, facts.height) <= limits.max_side
        if (
            facts.format in formats
            and not rotated
            and fits_pixels
            and facts.size_bytes <= limits.max_bytes
        ):
            return PreparedImage(facts.path.read_bytes(), facts.format, facts.width, facts.height)
        image = upright.copy()
    if not fits_pixels:
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    # Keep transparency where the vendor takes PNG; otherwise JPEG is the safe default.
    if facts.format in formats and facts.format != "bmp":
        fmt = facts.format
    elif has_alpha and "png" in formats:
        fmt = "png"
    else:
        fmt = "jpeg" if "jpeg" in formats else formats[0]
    while True:
        for quality in (92, 85, 75, 65):
            data = _encode(image, fmt, quality)
            if len(data) <= limits.max_bytes:
                return PreparedImage(data, fmt, image.width, image.height)
            if fmt == "png" and "jpeg" in formats and not has_alpha:
                fmt = "jpeg"
        # Fewer pixels as a last resort, never below what the vendor needs.
        smaller = (round(image.width * 0.8), round(image.height * 0.8))
        if min(smaller) < limits.min_side:
            break
        image = image.resize(smaller, Image.Resampling.LANCZOS)
    raise InvalidInput(
        field,
        f"{path.name} stays over {limits.max_bytes // 1024} KiB even recompressed; "
        "use a smaller image",
    )
