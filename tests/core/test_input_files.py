"""Input files are checked from their metadata first, then opened safely: a pipe, a
device, a folder, a link loop, a missing file, a non-image or a decompression bomb is
refused naming the field, and nothing can make validation wait or crash."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from takestock.core.catalog import load_catalog
from takestock.core.errors import InvalidInput
from takestock.core.images import prepare_image
from takestock.core.validation import check_base_url, check_image, regular_file, validate_common
from takestock.core.vendor import GenerationRequest
from tests.e2e.test_bad_input import bad_files

LIMITS = load_catalog().model("sandbox", "sandbox-v1").image


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bad_files(tmp_path_factory.mktemp("files"))


REASONS = {
    "fifo": "not a regular file",
    "folder": "is a folder",
    "device": "not a regular file",
    "missing": "does not exist",
    "link loop": "link loop",
    "not an image": "cannot be read as an image",
    "empty": "cannot be read as an image",
    "bomb": "too large a picture",
    "too small": "shorter side must be at least",
    "too wide": "aspect ratio",
    "dangling link": "does not exist",
}


@pytest.mark.parametrize("what", sorted(REASONS))
@pytest.mark.parametrize("field", ["image", "last_frame"])
def test_every_bad_file_is_refused_naming_the_field(
    files: dict[str, Path], what: str, field: str
) -> None:
    outcome: list[BaseException | None] = []

    def check() -> None:
        try:
            check_image(files[what], LIMITS, field=field)
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    # A thread, so that a check that blocks (opening a FIFO) fails the test, not hangs it.
    worker = threading.Thread(target=check, daemon=True)
    worker.start()
    worker.join(30)
    assert outcome, f"checking {what} did not return"
    error = outcome[0]
    assert isinstance(error, InvalidInput), repr(error)
    assert error.field == field
    assert REASONS[what] in error.message


def test_prepare_image_refuses_the_same_files(files: dict[str, Path]) -> None:
    for what in ("bomb", "fifo", "link loop", "not an image"):
        with pytest.raises(InvalidInput) as refused:
            prepare_image(files[what], LIMITS, field="image")
        assert REASONS[what] in refused.value.message


def test_a_readable_image_passes(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "ok.png"
    Image.new("RGB", (640, 480)).save(path)
    facts = check_image(path, LIMITS)
    assert (facts.width, facts.height, facts.format) == (640, 480, "png")
    assert regular_file(path, "image") == path.resolve()


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = tmp_path / "secret.png"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(InvalidInput, match="permission denied"):
        regular_file(path, "image")


def test_a_last_frame_needs_a_first(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "last.png"
    Image.new("RGB", (640, 480)).save(path)
    catalog = load_catalog()
    for vendor, model in (("sandbox", "sandbox-v1"), ("kling", "kling-v2-6")):
        with pytest.raises(InvalidInput) as refused:
            validate_common(
                GenerationRequest(prompt="a fox", last_frame=path),
                catalog.model(vendor, model),
                vendor,
            )
        assert refused.value.field == "image"


def test_a_duration_that_is_not_a_number_is_refused() -> None:
    model = load_catalog().model("sandbox", "sandbox-v1")
    for value in (float("nan"), float("inf")):
        with pytest.raises(InvalidInput, match="duration"):
            validate_common(GenerationRequest(prompt="a fox", duration_s=value), model, "S")


@pytest.mark.parametrize(
    "url", ["http://[::1", "not a url", "ftp://example.test/", "http://", "http://a b/"]
)
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="TAKESTOCK_X_BASE_URL"):
        check_base_url(url, "TAKESTOCK_X_BASE_URL")


def test_good_base_urls_pass() -> None:
    for url in ("http://127.0.0.1:8188", "https://api.example.test/v1/"):
        assert check_base_url(url, "x") == url
