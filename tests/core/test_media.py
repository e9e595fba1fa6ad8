"""probe() describes real files and refuses broken ones; poster_frame() picks the exact frame."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from takestock.core.errors import MediaError
from takestock.core.media import MediaInfo, check_decodes, is_video, poster_frame, probe
from takestock.vendors.sandbox_render import render_clip


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small clips rendered once for the module: cheap, and real libx264 output."""
    root = tmp_path_factory.mktemp("clips")
    made = {
        "silent": (dict(duration_s=2.0, width=320, height=180), False),
        "audio": (dict(duration_s=1.5, width=320, height=180, fps=30), True),
        "portrait": (dict(duration_s=1.0, width=180, height=320), False),
        "one_second": (dict(duration_s=1.0, width=320, height=180), False),
    }
    paths = {}
    for name, (size, audio) in made.items():
        paths[name] = root / f"{name}.mp4"
        render_clip(paths[name], prompt=f"{name} clip", audio=audio, seed=3, **size)  # type: ignore[arg-type]
    return paths


def _remux(
    src: Path, dest: Path, *, rotation: int | None = None, format: str | None = None
) -> Path:
    """Copy ``src``'s video packets into a plain MP4 (index at the end), maybe rotated;
    or, with ``format="h264"``, into a raw H.264 stream with no timing at all.
    """
    with av.open(str(src)) as source, av.open(str(dest), "w", format=format) as out:
        in_stream = source.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        if rotation is not None:
            out_stream.set_display_rotation(rotation)
        for packet in source.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            out.mux(packet)
    return dest


def _bar_length(image: Image.Image) -> int:
    """Length of the renderer's yellow progress bar along the bottom row."""
    row = image.convert("L").crop((0, image.height - 1, image.width, image.height))
    return sum(1 for value in row.tobytes() if value > 110)


# probe ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "duration", "size", "fps", "audio"),
    [
        ("silent", 2.0, (320, 180), 24.0, None),
        ("audio", 1.5, (320, 180), 30.0, "aac"),
        ("portrait", 1.0, (180, 320), 24.0, None),
    ],
)
def test_probe_describes_a_rendered_clip(
    clips: dict[str, Path],
    name: str,
    duration: float,
    size: tuple[int, int],
    fps: float,
    audio: str | None,
) -> None:
    info = probe(clips[name])

    assert info.duration_s == pytest.approx(duration, abs=1 / fps)
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(fps)
    assert info.video_codec == "h264"
    assert info.has_audio is (audio is not None)
    assert info.audio_codec == audio
    assert info.size_bytes == clips[name].stat().st_size


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
@pytest.mark.parametrize("name", ["silent", "audio", "portrait"])
def test_probe_agrees_with_ffprobe(clips: dict[str, Path], name: str) -> None:
    entries = "format=duration,size:stream=codec_type,codec_name,width,height,avg_frame_rate"
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "json", str(clips[name])],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    ref = json.loads(out.stdout)
    video = next(s for s in ref["streams"] if s["codec_type"] == "video")
    audio = [s for s in ref["streams"] if s["codec_type"] == "audio"]

    info = probe(clips[name])
    assert info.duration_s == pytest.approx(float(ref["format"]["duration"]), abs=0.001)
    assert info.size_bytes == int(ref["format"]["size"])
    assert (info.width, info.height) == (video["width"], video["height"])
    assert info.fps == pytest.approx(float(Fraction(video["avg_frame_rate"])))
    assert info.video_codec == video["codec_name"]
    assert info.audio_codec == (audio[0]["codec_name"] if audio else None)


def test_probe_info_round_trips_through_json(clips: dict[str, Path]) -> None:
    info = probe(clips["audio"])
    data = json.loads(json.dumps(info.to_json()))

    assert set(data) == {
        "duration_s", "width", "height", "fps", "video_codec", "has_audio", "audio_codec",
        "size_bytes",
    }  # fmt: skip
    assert MediaInfo.from_json(data) == info


def _text_file(tmp: Path, clips: dict[str, Path]) -> Path:
    path = tmp / "notes.mp4"
    path.write_text("this is a shopping list, not a video\n" * 20)
    return path


def _empty_file(tmp: Path, clips: dict[str, Path]) -> Path:
    path = tmp / "empty.mp4"
    path.write_bytes(b"")
    return path


def _truncated_faststart(tmp: Path, clips: dict[str, Path]) -> Path:
    data = clips["silent"].read_bytes()
    path = tmp / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_index_last(tmp: Path, clips: dict[str, Path]) -> Path:
    whole = _remux(clips["silent"], tmp / "whole.mp4")
    data = whole.read_bytes()
    path = tmp / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    return path


def _missing(tmp: Path, clips: dict[str, Path]) -> Path:
    return tmp / "gone.mp4"


def _still_png(tmp: Path, clips: dict[str, Path]) -> Path:
    path = tmp / "still.png"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path)
    return path


def _audio_only(tmp: Path, clips: dict[str, Path]) -> Path:
    path = tmp / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48_000)
        for index in range(10):
            frame = av.AudioFrame(format="s16", layout="stereo", samples=1024)
            frame.planes[0].update(bytes(4096))
            frame.sample_rate = 48_000
            frame.pts = index * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _no_frames(tmp: Path, clips: dict[str, Path]) -> Path:
    path = tmp / "nothing.mp4"
    with av.open(str(path), "w") as out:
        out.add_stream("libx264", rate=24)
        out.start_encoding()  # a header and an index, but not one frame
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_text_file, "not a video file"),
        (_empty_file, "not a video file"),
        (_truncated_faststart, "incomplete"),
        (_truncated_index_last, "not a video file"),
        (_missing, "no such file"),
        (_still_png, "still image"),
        (_audio_only, "no video stream"),
        (_no_frames, "no video stream|no playing time"),
    ],
)
def test_probe_refuses_what_is_not_a_whole_video(
    tmp_path: Path, clips: dict[str, Path], make: object, reason: str
) -> None:
    path = make(tmp_path, clips)  # type: ignore[operator]

    with pytest.raises(MediaError, match=reason) as caught:
        probe(path)
    assert path.name in caught.value.message
    assert not is_video(path)


def test_probe_of_a_stream_without_timing_reads_its_packets(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    raw = _remux(clips["silent"], tmp_path / "take.h264", format="h264")

    info = probe(raw)

    assert info.duration_s == pytest.approx(2.0, abs=1 / 24)
    assert info.fps == pytest.approx(24.0)
    assert (info.width, info.height, info.video_codec) == (320, 180, "h264")


def test_is_video(clips: dict[str, Path]) -> None:
    assert is_video(clips["silent"])


def test_probe_reads_headers_and_check_decodes_reads_a_picture(tmp_path: Path) -> None:
    # probe must not decode (it runs on every import and download); check_decodes
    # must. A file whose index is whole but whose pictures are zeroed tells them apart,
    # without timing anything.
    from tests.e2e.test_bad_input import _damaged_mp4

    damaged = _damaged_mp4(tmp_path / "zeroed.mp4")
    info = probe(damaged)
    assert (info.width, info.height) == (64, 36)
    with pytest.raises(MediaError, match="no picture could be decoded") as refused:
        check_decodes(damaged)
    assert "zeroed.mp4" in refused.value.message


def test_check_decodes_accepts_a_whole_clip(clips: dict[str, Path]) -> None:
    for path in clips.values():
        check_decodes(path)


# poster_frame ------------------------------------------------------------------


def test_poster_is_a_jpeg_fitted_to_max_size(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "posters" / "a" / "silent.jpg"
    assert poster_frame(clips["silent"], dest, max_size=(160, 160)) == dest

    with Image.open(dest) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (160, 90)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["silent.jpg"]


def test_portrait_poster_fits_inside_max_size(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = poster_frame(clips["portrait"], tmp_path / "p.jpg", max_size=(100, 100))
    with Image.open(dest) as poster:
        assert poster.size == (56, 100)


def test_poster_is_never_enlarged(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = poster_frame(clips["silent"], tmp_path / "p.jpg", max_size=(1000, 1000))
    with Image.open(dest) as poster:
        assert poster.size == (320, 180)


def test_poster_picture_moves_with_time(clips: dict[str, Path], tmp_path: Path) -> None:
    start = poster_frame(clips["silent"], tmp_path / "0.jpg", at_s=0)
    later = poster_frame(clips["silent"], tmp_path / "1.jpg", at_s=1.2)
    with Image.open(start) as a, Image.open(later) as b:
        assert max(ImageStat.Stat(ImageChops.difference(a, b)).mean) > 10


@pytest.mark.parametrize(
    ("at_s", "frame_index"),
    [(0.0, 0), (0.5, 12), (0.51, 13), (0.99, 23), (None, 8), (-3.0, 0), (60.0, 23)],
)
def test_poster_shows_the_exact_frame(
    clips: dict[str, Path], tmp_path: Path, at_s: float | None, frame_index: int
) -> None:
    # The 1 s, 24-frame clip's progress bar grows by 13 px a frame: a reliable frame id.
    dest = poster_frame(
        clips["one_second"], tmp_path / "p.jpg", at_s=at_s, max_size=(320, 180), quality=95
    )
    with Image.open(dest) as poster:
        assert _bar_length(poster) == pytest.approx(round(320 * (frame_index + 1) / 24), abs=3)


def test_poster_of_an_unseekable_stream_counts_frames(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    raw = _remux(clips["one_second"], tmp_path / "take.h264", format="h264")
    dest = poster_frame(raw, tmp_path / "p.jpg", at_s=0.5, max_size=(320, 180), quality=95)
    with Image.open(dest) as poster:
        assert _bar_length(poster) == pytest.approx(round(320 * 13 / 24), abs=3)


def test_poster_applies_display_rotation(clips: dict[str, Path], tmp_path: Path) -> None:
    turned = _remux(clips["silent"], tmp_path / "turned.mp4", rotation=90)
    dest = poster_frame(turned, tmp_path / "p.jpg", at_s=0, max_size=(320, 320))
    upright = poster_frame(clips["silent"], tmp_path / "u.jpg", at_s=0, max_size=(320, 320))

    with Image.open(dest) as poster, Image.open(upright) as plain:
        assert poster.size == (180, 320)
        # 90° counterclockwise, as FFmpeg's display matrix and ffplay have it.
        expected = plain.transpose(Image.Transpose.ROTATE_90)
        assert max(ImageStat.Stat(ImageChops.difference(poster, expected)).mean) < 8


def test_poster_replaces_an_old_one_atomically(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "p.jpg"
    dest.write_bytes(b"old")
    poster_frame(clips["silent"], dest)

    assert dest.read_bytes()[:2] == b"\xff\xd8"
    assert [p.name for p in tmp_path.iterdir()] == ["p.jpg"]


def test_poster_of_a_broken_file_is_a_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    with pytest.raises(MediaError, match=r"bad\.mp4"):
        poster_frame(bad, tmp_path / "p.jpg")
    assert not (tmp_path / "p.jpg").exists()


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"at_s": float("nan")}, "at_s"),
        ({"at_s": float("inf")}, "at_s"),
        ({"max_size": (0, 10)}, "max_size"),
    ],
)
def test_poster_refuses_nonsense_arguments(
    clips: dict[str, Path], tmp_path: Path, kwargs: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        poster_frame(clips["silent"], tmp_path / "p.jpg", **kwargs)  # type: ignore[arg-type]
