"""The thumbnail cache: posters keyed by content, made once, rebuilt when missing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image

from takestock.core.errors import MediaError
from takestock.core.library import sha256_of
from takestock.core.thumbnails import THUMBNAIL_SIZE, ThumbnailCache, thumbnail_path
from takestock.vendors.sandbox_render import render_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("clip") / "take.mp4"
    render_clip(path, prompt="a lantern", duration_s=1.0, width=640, height=360, seed=5)
    return path, sha256_of(path)


def test_paths_are_sharded_by_the_first_two_hex_digits(tmp_path):
    sha = "ab" + "0" * 62
    assert thumbnail_path(tmp_path, sha) == tmp_path / "ab" / f"{sha}.jpg"
    for bad in ("", "AB" + "0" * 62, "../" + "0" * 61, "0" * 63):
        with pytest.raises(ValueError, match="sha256"):
            thumbnail_path(tmp_path, bad)


def test_a_poster_is_made_once_and_then_read_from_the_cache(tmp_path, clip):
    video, sha = clip
    cache = ThumbnailCache(tmp_path / "thumbs")
    assert cache.get(sha) is None
    path = cache.get_or_make(sha, video)
    assert path == tmp_path / "thumbs" / sha[:2] / f"{sha}.jpg"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (THUMBNAIL_SIZE[0], 180)  # 640x360 fitted into 320x320
    made = path.stat().st_mtime_ns
    # Cached: no video needed the second time.
    assert cache.get_or_make(sha, tmp_path / "gone.mp4") == path
    assert path.stat().st_mtime_ns == made
    assert cache.get(sha) == path


def test_a_deleted_poster_is_made_again(tmp_path, clip):
    video, sha = clip
    cache = ThumbnailCache(tmp_path / "thumbs", max_size=(64, 64))
    first = cache.get_or_make(sha, video)
    cache.discard(sha)
    assert cache.get(sha) is None
    again = cache.get_or_make(sha, video)
    assert again == first
    assert again.is_file()
    with Image.open(again) as image:
        assert max(image.size) == 64


def test_a_missing_video_with_no_poster_is_a_media_error(tmp_path):
    cache = ThumbnailCache(tmp_path / "thumbs")
    with pytest.raises(MediaError):
        cache.get_or_make("cd" * 32, tmp_path / "missing.mp4")
    assert not any((tmp_path / "thumbs").rglob("*"))  # no half file left behind


def test_threads_making_the_same_poster_all_get_a_whole_file(tmp_path, clip):
    video, sha = clip
    cache = ThumbnailCache(tmp_path / "thumbs")
    results: list[Path] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            results.append(cache.get_or_make(sha, video))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1
    with Image.open(results[0]) as image:
        image.load()
    assert [p.name for p in (tmp_path / "thumbs").rglob("*") if p.is_file()] == [f"{sha}.jpg"]
