"""Posters through PyAV against the ffmpeg command line; sandbox render and probe speed.

Prints figures and asserts only behaviour (timings vary too much between machines to
assert). Run: ``pytest -s tests/bench/test_bench_poster.py``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from takestock.core.media import poster_frame, probe
from takestock.vendors.sandbox_render import render_clip

pytestmark = pytest.mark.bench

FFMPEG = shutil.which("ffmpeg")


def _median_ms(action: Callable[[], object], runs: int = 7) -> float:
    action()  # warm-up: file cache, imports, lazy initialisation
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@pytest.fixture(scope="module")
def clip_1080p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed")
    clip = tmp_path_factory.mktemp("bench") / "1080p.mp4"
    # A keyframe every 2 s (-g 48 at 24 fps), as vendors deliver: libx264's default
    # (keyint 250) would put one keyframe in the whole 10 s and make every poster
    # decode from the start. testsrc2 moves everywhere, so no frame is cheap to decode.
    subprocess.run(
        [
            FFMPEG, "-v", "error", "-f", "lavfi",
            "-i", "testsrc2=size=1920x1080:rate=24:duration=10",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "48", "-pix_fmt", "yuv420p",
            str(clip),
        ],
        check=True,
    )  # fmt: skip
    return clip


@pytest.mark.parametrize("at_s", [5.0, 5.9])
def test_poster_against_ffmpeg(clip_1080p: Path, tmp_path: Path, at_s: float) -> None:
    assert FFMPEG is not None
    ours = tmp_path / "ours.jpg"
    theirs = tmp_path / "theirs.jpg"
    ffmpeg_cmd = [
        FFMPEG, "-v", "error", "-y", "-ss", str(at_s), "-i", str(clip_1080p),
        "-frames:v", "1", "-vf", "scale=320:-2", str(theirs),
    ]  # fmt: skip

    ours_ms = _median_ms(lambda: poster_frame(clip_1080p, ours, at_s=at_s))
    theirs_ms = _median_ms(lambda: subprocess.run(ffmpeg_cmd, check=True))

    frames_decoded = round((at_s % 2) * 24) + 1  # from the keyframe before, inclusive
    print(
        f"\nposter 1080p → 320x180 at {at_s} s ({frames_decoded} frames from the keyframe): "
        f"poster_frame {ours_ms:.1f} ms, ffmpeg CLI {theirs_ms:.1f} ms, "
        f"ratio {ours_ms / theirs_ms:.2f}x (target <= 1.2x)"
    )
    with Image.open(ours) as a, Image.open(theirs) as b:
        assert a.size == b.size == (320, 180)
        # Same frame, scaled alike: only scaler and JPEG differences remain.
        assert max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b)).mean) < 6


def test_probe_speed(clip_1080p: Path) -> None:
    info = probe(clip_1080p)
    probe_ms = _median_ms(lambda: probe(clip_1080p), runs=21)

    print(f"\nprobe of a 10 s 1080p MP4: {probe_ms:.2f} ms")
    assert info.duration_s == pytest.approx(10.0, abs=1 / 24)
    assert (info.width, info.height, info.video_codec) == (1920, 1080, "h264")


@pytest.mark.parametrize("audio", [False, True])
def test_render_clip_speed(tmp_path: Path, audio: bool) -> None:
    dest = tmp_path / "take.mp4"
    prompt = "A red fox runs through fresh snow at dawn, cinematic, slow motion, 35mm grain"

    def render() -> None:
        render_clip(dest, prompt=prompt, duration_s=5, width=1280, height=720, audio=audio)

    render_ms = _median_ms(render, runs=3)

    print(f"\nrender_clip 5 s 720p24{' + audio' if audio else ''}: {render_ms:.0f} ms")
    info = probe(dest)
    assert (info.width, info.height, info.has_audio) == (1280, 720, audio)
    assert info.duration_s == pytest.approx(5.0, abs=1 / 24)
