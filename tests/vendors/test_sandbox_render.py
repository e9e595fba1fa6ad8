"""The sandbox renderer writes real, exact H.264 clips, atomically, from text or pictures."""

from __future__ import annotations

import itertools
import struct
from array import array
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from takestock.vendors import sandbox_render
from takestock.vendors.sandbox_render import dimensions, render_clip

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def _frames(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as container:
        # WORKAROUND: PyAV 18.1's stubs leave VideoFrame.to_image untyped.
        return [frame.to_image() for frame in container.decode(video=0)]  # type: ignore[no-untyped-call]


def _mean_rgb(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.crop(box)).mean)


def _near(colour: tuple[float, ...], expected: tuple[int, int, int], tol: float = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(colour, expected, strict=True))


def _top_level_atoms(path: Path) -> list[str]:
    names = []
    with path.open("rb") as fh:
        while header := fh.read(8):
            size, name = struct.unpack(">I4s", header)
            names.append(name.decode("latin-1"))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            fh.seek(size - 8, 1)
    return names


@pytest.mark.parametrize(
    ("duration_s", "fps", "frames"),
    [(1.0, 24, 24), (0.5, 30, 15), (1.03, 24, 25), (2.0, 25, 50)],
)
def test_frame_count_duration_and_size(
    tmp_path: Path, duration_s: float, fps: int, frames: int
) -> None:
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="a fox", duration_s=duration_s, width=320, height=180, fps=fps)

    with av.open(str(dest)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert stream.average_rate == fps
        assert stream.frames == frames
        assert stream.duration is not None
        assert stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(frames / fps)
        assert not container.streams.audio
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded == frames


def test_index_first_and_a_keyframe_every_two_seconds(tmp_path: Path) -> None:
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="gop", duration_s=5, width=160, height=90, fps=24)

    atoms = _top_level_atoms(dest)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart: plays while downloading
    with av.open(str(dest)) as container:
        stream = container.streams.video[0]
        keys = [p.pts for p in container.demux(stream) if p.is_keyframe and p.pts is not None]
        assert stream.time_base is not None
        assert [round(float(pts * stream.time_base), 3) for pts in keys] == [0.0, 2.0, 4.0]


def test_audio_track_is_stereo_aac_of_the_same_length_and_audible(tmp_path: Path) -> None:
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="beep", duration_s=2, width=160, height=90, audio=True)

    with av.open(str(dest)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert sound.codec_context.name == "aac"
        assert sound.codec_context.sample_rate == 48_000
        assert sound.codec_context.layout.nb_channels == 2
        assert video.frames == 48
        assert sound.duration is not None
        assert sound.time_base is not None
        assert float(sound.duration * sound.time_base) == pytest.approx(2.0, abs=0.03)
        peak = 0.0
        for frame in container.decode(sound):
            assert frame.format.name == "fltp"
            samples = array("f", bytes(frame.planes[0]))
            peak = max(peak, max(abs(s) for s in samples))
    assert 0.2 < peak < 1.0  # the beep is heard and nothing clips


def test_seed_changes_the_picture_and_same_inputs_give_same_picture(tmp_path: Path) -> None:
    for name, seed in (("a1.mp4", 1), ("a2.mp4", 1), ("b.mp4", 2)):
        render_clip(
            tmp_path / name, prompt="same", duration_s=0.25, width=160, height=90, seed=seed
        )
    a1, a2, b = (_frames(tmp_path / n)[0] for n in ("a1.mp4", "a2.mp4", "b.mp4"))

    assert ImageChops.difference(a1, a2).getbbox() is None
    assert max(ImageStat.Stat(ImageChops.difference(a1, b)).mean) > 20


def test_each_seed_draws_its_own_scene_and_motion(tmp_path: Path) -> None:
    """Takes of one prompt differ in look and in how they move, not only in colour."""
    firsts, motions = [], []
    for seed in range(6):
        dest = tmp_path / f"{seed}.mp4"
        render_clip(dest, prompt="same", duration_s=0.25, width=160, height=90, seed=seed)
        frames = _frames(dest)
        firsts.append(frames[0].convert("L").tobytes())
        # Where and how much the picture changed from the first frame to the last.
        motions.append(ImageChops.difference(frames[0], frames[-1]).convert("L").tobytes())

    assert len(set(firsts)) == 6
    assert len(set(motions)) == 6


def test_picture_moves_from_frame_to_frame(tmp_path: Path) -> None:
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="move", duration_s=0.5, width=160, height=90)
    frames = _frames(dest)

    for before, after in itertools.pairwise(frames):
        assert ImageChops.difference(before, after).getbbox() is not None


def test_image_is_the_background_upright_per_exif(tmp_path: Path) -> None:
    # Stored landscape red|blue, tagged "rotate 90° clockwise to show": shown, it is a
    # portrait with red on top, so a cover fit into 16:9 is red above and blue below.
    source = Image.new("RGB", (400, 200), RED)
    source.paste(BLUE, (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = tmp_path / "photo.jpg"
    source.save(photo, exif=exif, quality=95)

    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="x", duration_s=0.25, width=320, height=180, image=photo)
    first = _frames(dest)[0]

    assert _near(_mean_rgb(first, (280, 20, 310, 60)), RED)
    assert _near(_mean_rgb(first, (280, 130, 310, 165)), BLUE)


def test_first_and_last_frame_cross_fade(tmp_path: Path) -> None:
    first_png, last_png = tmp_path / "first.png", tmp_path / "last.png"
    Image.new("RGB", (640, 360), RED).save(first_png)
    Image.new("RGBA", (300, 500), (*BLUE, 255)).save(last_png)  # other shape and mode

    dest = tmp_path / "take.mp4"
    render_clip(
        dest,
        prompt="fade",
        duration_s=1,
        width=320,
        height=180,
        image=first_png,
        last_frame=last_png,
    )
    frames = _frames(dest)
    box = (260, 20, 310, 60)

    assert len(frames) == 24
    assert _near(_mean_rgb(frames[0], box), RED)
    assert _near(_mean_rgb(frames[-1], box), BLUE)
    assert _near(_mean_rgb(frames[len(frames) // 2], box), (125, 30, 125))


def test_last_frame_without_image_is_refused(tmp_path: Path) -> None:
    last = tmp_path / "last.png"
    Image.new("RGB", (64, 64)).save(last)
    with pytest.raises(ValueError, match="needs image"):
        render_clip(
            tmp_path / "t.mp4", prompt="x", duration_s=1, width=64, height=64, last_frame=last
        )


def test_success_leaves_only_the_clip_and_makes_folders(tmp_path: Path) -> None:
    dest = tmp_path / "deep" / "er" / "take.mp4"
    render_clip(dest, prompt="x", duration_s=0.25, width=64, height=64)

    assert sorted(p.name for p in dest.parent.iterdir()) == ["take.mp4"]


def test_failure_mid_encode_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sandbox_render._draw_counter

    def counter_that_breaks(*args: object, **kwargs: object) -> None:
        if args[4] == 5:  # the frame index
            raise RuntimeError("disk on fire")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox_render, "_draw_counter", counter_that_breaks)
    with pytest.raises(RuntimeError, match="disk on fire"):
        render_clip(tmp_path / "take.mp4", prompt="x", duration_s=1, width=64, height=64)

    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_an_existing_clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt="x", duration_s=0.25, width=64, height=64)
    before = dest.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox_render, "_draw_counter", broken)
    with pytest.raises(RuntimeError):
        render_clip(dest, prompt="y", duration_s=0.25, width=64, height=64)

    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["take.mp4"]


def test_unreadable_image_fails_before_writing(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-picture.png"
    bad.write_text("hello")
    with pytest.raises(OSError, match="cannot identify image"):
        render_clip(
            tmp_path / "out" / "t.mp4", prompt="x", duration_s=1, width=64, height=64, image=bad
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("width", "height"), [(321, 180), (320, 181), (0, 180), (-2, 180)])
def test_odd_or_empty_sizes_are_refused(tmp_path: Path, width: int, height: int) -> None:
    with pytest.raises(ValueError, match="even"):
        render_clip(tmp_path / "t.mp4", prompt="x", duration_s=1, width=width, height=height)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("duration_s", [0.0, 0.01, -1.0, float("nan")])
def test_durations_without_frames_are_refused(tmp_path: Path, duration_s: float) -> None:
    with pytest.raises(ValueError, match="no frames"):
        render_clip(tmp_path / "t.mp4", prompt="x", duration_s=duration_s, width=64, height=64)


def test_long_prompts_and_long_words_wrap_inside_the_frame(tmp_path: Path) -> None:
    prompt = "w" * 400 + " " + "a slow dolly shot over a misty lake at dawn " * 60
    dest = tmp_path / "take.mp4"
    render_clip(dest, prompt=prompt, duration_s=0.25, width=320, height=180)
    assert len(_frames(dest)) == 6

    font = sandbox_render._font(20)
    lines = sandbox_render._wrap(prompt, font, 200, 4)
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= 200 for line in lines)


@pytest.mark.parametrize(
    ("resolution", "aspect", "expected"),
    [
        (720, "16:9", (1280, 720)),
        (720, "9:16", (720, 1280)),
        (720, "1:1", (720, 720)),
        (720, "4:3", (960, 720)),
        (720, "3:4", (720, 960)),
        (720, "21:9", (1680, 720)),
        (1080, "16:9", (1920, 1080)),
        (1080, "21:9", (2520, 1080)),
        (480, "16:9", (854, 480)),  # 853.3 → nearest even
        (360, "16:9", (640, 360)),
        (360, "21:9", (840, 360)),
        (480, "9:16", (480, 854)),
    ],
)
def test_dimensions(resolution: int, aspect: str, expected: tuple[int, int]) -> None:
    assert dimensions(resolution, aspect) == expected


def test_dimensions_cover_every_sandbox_catalog_combination() -> None:
    for resolution in (360, 480, 720, 1080):
        for aspect in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9"):
            width, height = dimensions(resolution, aspect)
            assert width % 2 == 0
            assert height % 2 == 0
            assert min(width, height) == resolution


@pytest.mark.parametrize(
    ("resolution", "aspect"), [(721, "16:9"), (0, "16:9"), (720, "16x9"), (720, "0:9"), (720, "")]
)
def test_dimensions_refuses_nonsense(resolution: int, aspect: str) -> None:
    with pytest.raises(ValueError, match=r"resolution|aspect"):
        dimensions(resolution, aspect)
