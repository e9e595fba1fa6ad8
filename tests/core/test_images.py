"""Input images: sent untouched when they fit, prepared losslessly for intent when not."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image

from takestock.core.catalog import ImageLimits
from takestock.core.errors import InvalidInput
from takestock.core.images import prepare_image


def _save(path, size=(800, 600), fmt="JPEG", color="teal", **kw):
    Image.new("RGB", size, color).save(path, fmt, **kw)
    return path


def test_a_fitting_image_is_sent_byte_for_byte(tmp_path):
    path = _save(tmp_path / "a.jpg")
    prepared = prepare_image(path, ImageLimits())
    assert prepared.data == path.read_bytes()
    assert (prepared.format, prepared.width, prepared.height) == ("jpeg", 800, 600)
    assert prepared.data_url().startswith("data:image/jpeg;base64,")
    assert base64.b64decode(prepared.base64()) == prepared.data


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (800, 600), "red")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "phone.jpg"
    image.save(path, "JPEG", exif=exif)
    prepared = prepare_image(path, ImageLimits())
    assert (prepared.width, prepared.height) == (600, 800)
    assert Image.open(io.BytesIO(prepared.data)).size == (600, 800)


def test_an_unaccepted_format_is_converted(tmp_path):
    path = _save(tmp_path / "a.webp", fmt="WEBP")
    prepared = prepare_image(path, ImageLimits(formats=("jpeg", "png")))
    assert prepared.format == "jpeg"
    assert Image.open(io.BytesIO(prepared.data)).format == "JPEG"


def test_transparency_stays_png_where_allowed(tmp_path):
    path = tmp_path / "a.bmp"
    Image.new("RGBA", (640, 480), (0, 0, 0, 0)).save(tmp_path / "a.png")
    Image.new("RGB", (640, 480)).save(path, "BMP")
    assert prepare_image(tmp_path / "a.png", ImageLimits(formats=("png", "jpeg"))).format == "png"
    assert prepare_image(path, ImageLimits(formats=("png", "jpeg"))).format == "jpeg"


def test_too_many_pixels_are_scaled_down_keeping_the_aspect(tmp_path):
    path = _save(tmp_path / "big.png", size=(5000, 2500), fmt="PNG")
    prepared = prepare_image(path, ImageLimits(max_side=4096))
    assert (prepared.width, prepared.height) == (4096, 2048)


def test_too_many_bytes_are_recompressed(tmp_path):
    noisy = Image.frombytes("RGB", (1500, 1500), os.urandom(1500 * 1500 * 3))
    path = tmp_path / "noise.png"
    noisy.save(path, "PNG")
    limit = 1024 * 1024
    prepared = prepare_image(path, ImageLimits(max_bytes=limit))
    assert len(prepared.data) <= limit
    assert prepared.format == "jpeg"
    assert prepared.width / prepared.height == 1.0


def test_what_cannot_be_fixed_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="at least 300 px"):
        prepare_image(_save(tmp_path / "s.jpg", size=(200, 200)), ImageLimits())
    with pytest.raises(InvalidInput, match="aspect ratio"):
        prepare_image(_save(tmp_path / "w.jpg", size=(3000, 400)), ImageLimits())
    noisy = Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3))
    noisy.save(tmp_path / "n.png")
    limits = ImageLimits(max_bytes=20_000, formats=("png",), min_side=1000)
    with pytest.raises(InvalidInput, match="even recompressed"):
        prepare_image(tmp_path / "n.png", limits)
