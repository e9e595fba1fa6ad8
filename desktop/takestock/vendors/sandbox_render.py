"""The offline sandbox vendor's renderer: real H.264 MP4 files made on this computer.

A sandbox take must behave like a vendor's file everywhere downstream (probe, posters,
the player, frame stepping, compare), so it is a genuine ``libx264`` yuv420p MP4 with its
index at the front and a keyframe every two seconds, as vendors deliver. What it shows
tells takes apart at a glance: a scene drawn from the seed (or, with no seed, the prompt):
its colours, the width, lean, direction and speed of its drifting stripes, and a disc
bouncing on its own path; then the prompt itself, and a frame counter with timecode for
checking frame steps. Two takes with different seeds differ in every frame.

Speed matters more than looks: the pattern is drawn once, wider than the frame, and
each frame pastes a shifted window of it into one reused canvas; the prompt is drawn
once; only the small counter is drawn per frame. Most of the time left is libx264's
(preset superfast: High profile, a third the size of ultrafast's files for 20% more time).
"""

from __future__ import annotations

import array
import colorsys
import contextlib
import hashlib
import io
import math
import os
import random
import re
import secrets
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeAlias, cast

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.plane import VideoPlane
from av.video.stream import VideoStream
from PIL import Image, ImageDraw, ImageFont, ImageOps

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["dimensions", "render_clip"]

_SAMPLE_RATE = 48_000
_Font: TypeAlias = ImageFont.FreeTypeFont | ImageFont.ImageFont


def dimensions(resolution_px: int, aspect: str) -> tuple[int, int]:
    """Frame size ``(width, height)`` for a catalog resolution and aspect.

    The short side is ``resolution_px`` (``720`` with ``"9:16"`` is 720x1280, like a
    vendor's "720p" portrait take); the long side is rounded to an even number, which
    yuv420p needs.

    Raises:
        ValueError: ``resolution_px`` is not a positive even number, or ``aspect`` is not
            ``"W:H"`` with positive whole numbers.
    """
    if resolution_px <= 0 or resolution_px % 2:
        raise ValueError(f"resolution must be a positive even number of pixels: {resolution_px}")
    try:
        w_text, h_text = aspect.split(":")
        aspect_w, aspect_h = int(w_text), int(h_text)
    except ValueError:
        raise ValueError(f"aspect must look like '16:9', not {aspect!r}") from None
    if aspect_w <= 0 or aspect_h <= 0:
        raise ValueError(f"aspect must look like '16:9', not {aspect!r}")
    long_side = 2 * round(resolution_px * max(aspect_w, aspect_h) / min(aspect_w, aspect_h) / 2)
    if aspect_w >= aspect_h:
        return long_side, resolution_px
    return resolution_px, long_side


def render_clip(
    dest: Path,
    *,
    prompt: str,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 24,
    audio: bool = False,
    seed: int | None = None,
    image: Path | None = None,
    last_frame: Path | None = None,
) -> None:
    """Write a sandbox take to ``dest``: ``round(duration_s * fps)`` frames of H.264.

    Without ``image`` the picture is a scene drawn from ``seed`` (or, with no seed, the
    prompt): drifting stripes and a bouncing disc whose colours, sizes, directions and
    speeds all come from it, so takes with different seeds differ. With ``image`` that picture
    (EXIF rotation applied, scaled to cover the frame) is the background; with
    ``last_frame`` too, the clip cross-fades from one to the other. ``audio`` adds an AAC
    stereo track: a quiet 440 Hz tone with a beep on every second.

    The file is written beside ``dest`` under a ``.part`` name and renamed into place
    when complete, so ``dest`` never holds half a clip; on any error the partial file is
    removed.

    Raises:
        ValueError: width or height is not a positive even number, or the duration or
            frame rate gives no frames.
        OSError: an input image cannot be read, or ``dest`` cannot be written.
    """
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive even numbers: {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive: {fps}")
    frame_count = round(duration_s * fps) if math.isfinite(duration_s) else 0
    if frame_count < 1:
        raise ValueError(f"duration {duration_s} s at {fps} fps gives no frames")
    if last_frame is not None and image is None:
        raise ValueError("last_frame needs image: a clip cannot only end on a picture")

    dest = Path(dest)
    # The inputs are read before anything is written, so a bad image leaves no file.
    size = (width, height)
    first_img = _cover(image, size) if image is not None else None
    last_img = _cover(last_frame, size) if last_frame is not None else None
    scene_key = _scene_key(prompt, seed)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    container = av.open(
        os.fspath(tmp), "w", format="mp4", container_options={"movflags": "+faststart"}
    )
    try:
        container.metadata["comment"] = f"Takestock sandbox render, scene key {scene_key}"
        video = _add_video(container, width, height, fps)
        sound = _add_audio(container) if audio else None
        _encode(
            container,
            video,
            sound,
            _Painter(size, prompt, scene_key, first_img, last_img, frame_count, fps),
            frame_count,
            fps,
        )
        container.close()
        os.replace(tmp, dest)
    except BaseException:
        # Already failing: the first error is the one to report.
        with contextlib.suppress(Exception):
            container.close()
        tmp.unlink(missing_ok=True)
        raise


def _scene_key(prompt: str, seed: int | None) -> int:
    text = f"seed:{seed}" if seed is not None else f"prompt:{prompt}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _cover(path: Path, size: tuple[int, int]) -> Image.Image:
    with Image.open(path) as opened:
        upright = ImageOps.exif_transpose(opened)
        return ImageOps.fit(upright.convert("RGB"), size, Image.Resampling.BICUBIC)


def _add_video(container: OutputContainer, width: int, height: int, fps: int) -> VideoStream:
    stream = container.add_stream("libx264", rate=fps)
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    # A keyframe every 2 s, as vendors deliver, so seeking and posters stay quick.
    stream.gop_size = 2 * fps
    stream.options = {"preset": "superfast", "crf": "23"}
    return stream


def _add_audio(container: OutputContainer) -> AudioStream:
    stream = container.add_stream("aac", rate=_SAMPLE_RATE)
    stream.layout = "stereo"
    return stream


def _encode(
    container: OutputContainer,
    video: VideoStream,
    sound: AudioStream | None,
    painter: _Painter,
    frame_count: int,
    fps: int,
) -> None:
    tone = _tone_second() if sound is not None else b""
    samples_done = 0
    # One frame object reused for every picture: allocating a fresh 720p frame costs
    # several times as much as filling one (page faults). The encoder converts it to
    # yuv420p into a new frame, so refilling it while x264 works is safe.
    canvas_frame = av.VideoFrame(painter.size[0], painter.size[1], "rgb24")
    for index in range(frame_count):
        # Saving as binary PPM streams the pixels in 64 KiB pieces straight into the
        # frame: 0.4 ms for 720p against 3.5 ms for tobytes(), whose fresh 2.7 MB
        # buffer per frame costs more in page faults than the copy itself.
        painter.paint(index).save(
            cast(IO[bytes], _PlaneWriter(canvas_frame.planes[0])), format="PPM"
        )
        canvas_frame.pts = index
        container.mux(video.encode(canvas_frame))
        if sound is not None:
            # Audio goes in step with the pictures, so the muxer can interleave them
            # without holding the whole clip in memory.
            upto = round((index + 1) * _SAMPLE_RATE / fps)
            _encode_audio(container, sound, tone, samples_done, upto)
            samples_done = upto
    container.mux(video.encode(None))
    if sound is not None:
        container.mux(sound.encode(None))


class _PlaneWriter(io.RawIOBase):
    """A write-only binary file that puts the pixels of a binary (P6) PPM into an rgb24
    video plane, honouring the plane's row padding.
    """

    _HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+255\s")

    def __init__(self, plane: VideoPlane) -> None:
        super().__init__()
        self._plane = memoryview(plane).cast("B")
        self._stride = plane.line_size
        self._row = plane.width * 3
        self._header = b""
        self._pos = -1  # offset in the unpadded pixel stream; -1 while in the header

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = memoryview(data).cast("B")
        size = len(chunk)
        if self._pos < 0:
            self._header += bytes(chunk)
            match = self._HEADER.match(self._header)
            if match is None:
                if len(self._header) > 64:
                    raise ValueError("not a binary RGB PPM stream")
                return size
            if int(match[1]) * 3 != self._row:
                raise ValueError("PPM width does not match the video plane")
            chunk = memoryview(self._header[match.end() :])
            self._pos = 0
        self._put(chunk)
        return size

    def _put(self, chunk: memoryview) -> None:
        pos, row, stride = self._pos, self._row, self._stride
        if stride == row:
            self._plane[pos : pos + len(chunk)] = chunk
            self._pos = pos + len(chunk)
            return
        done = 0
        while done < len(chunk):
            y, x = divmod(pos, row)
            count = min(row - x, len(chunk) - done)
            start = y * stride + x
            self._plane[start : start + count] = chunk[done : done + count]
            done += count
            pos += count
        self._pos = pos


def _encode_audio(
    container: OutputContainer, sound: AudioStream, tone: bytes, start: int, stop: int
) -> None:
    pos = start
    while pos < stop:
        # Chunks never cross a second, so each is one slice of the one-second tone.
        in_second = pos % _SAMPLE_RATE
        count = min(stop - pos, _SAMPLE_RATE - in_second)
        frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
        offset = in_second * 4
        frame.planes[0].update(tone[offset : offset + count * 4])
        frame.sample_rate = _SAMPLE_RATE
        frame.time_base = Fraction(1, _SAMPLE_RATE)
        frame.pts = pos
        container.mux(sound.encode(frame))
        pos += count


def _tone_second() -> bytes:
    """One second of 16-bit stereo: a quiet 440 Hz tone, and an 880 Hz beep at its start.

    Both frequencies fit a whole number of cycles in a second, so seconds join without
    a click.
    """
    beep_len = _SAMPLE_RATE // 10
    mono = array.array("h", bytes(2 * _SAMPLE_RATE))
    for n in range(_SAMPLE_RATE):
        t = n / _SAMPLE_RATE
        value = 0.12 * math.sin(2 * math.pi * 440 * t)
        if n < beep_len:
            # A raised-cosine envelope keeps the beep gentle: no click at either edge.
            envelope = 0.5 - 0.5 * math.cos(2 * math.pi * n / beep_len)
            value += 0.3 * envelope * math.sin(2 * math.pi * 880 * t)
        mono[n] = int(value * 32767)
    stereo = array.array("h", bytes(4 * _SAMPLE_RATE))
    stereo[0::2] = mono
    stereo[1::2] = mono
    return stereo.tobytes()  # native order, which is what FFmpeg's "s16" means


class _Painter:
    """Draws frame ``index`` of one clip into a single reused RGB canvas.

    Attributes:
        size: frame size in pixels.
    """

    def __init__(
        self,
        size: tuple[int, int],
        prompt: str,
        scene_key: int,
        first: Image.Image | None,
        last: Image.Image | None,
        frame_count: int,
        fps: int,
    ) -> None:
        self.size = size
        self._frame_count = frame_count
        self._fps = fps
        width, height = size
        self._canvas = Image.new("RGB", size)
        self._draw = ImageDraw.Draw(self._canvas)
        self._first = first
        self._last = last
        self._fade_mask = Image.new("L", size) if last is not None else None
        self._fade_level = -1
        self._scene = _Scene.from_key(scene_key, size)
        if first is None:
            self._pattern, self._period = _pattern(size, self._scene)
            self._step = self._scene.speed * max(2, width // 240)
        else:
            self._canvas.paste(first)
        self._prompt_box, self._prompt_at = _prompt_overlay(size, prompt)
        self._counter_font = _font(max(10, height // 28))
        probe_box = self._draw.textbbox((0, 0), "00:00.00  0000/0000", font=self._counter_font)
        pad = max(3, height // 120)
        self._counter_rect = (0, 0, int(probe_box[2]) + 2 * pad, int(probe_box[3]) + 2 * pad)
        self._counter_pad = pad
        self._bar_height = max(2, height // 90)

    def paint(self, index: int) -> Image.Image:
        """The picture for frame ``index``; valid until the next call."""
        canvas, draw = self._canvas, self._draw
        width, height = self.size
        if self._first is None:
            # Pasting the wide pattern at a negative offset fills the canvas with a
            # shifted window of it and allocates nothing.
            offset = (self._scene.drift * index * self._step) % self._period
            canvas.paste(self._pattern, (-offset, 0))
            self._scene.draw_disc(draw, self.size, index)
        elif self._last is not None and self._fade_mask is not None:
            level = round(255 * index / max(1, self._frame_count - 1))
            if level != self._fade_level:
                self._fade_mask.paste(level, (0, 0, width, height))
                self._fade_level = level
            canvas.paste(self._first)
            canvas.paste(self._last, (0, 0), self._fade_mask)
        else:
            canvas.paste(self._first)
        canvas.paste(self._prompt_box, self._prompt_at, self._prompt_box)
        _draw_counter(
            draw,
            self._counter_rect,
            self._counter_pad,
            self._counter_font,
            index,
            self._frame_count,
            self._fps,
        )
        # A progress bar: the one thing that visibly moves on a still-image background.
        filled = round(width * (index + 1) / self._frame_count)
        draw.rectangle((0, height - self._bar_height, width - 1, height - 1), fill=(0, 0, 0))
        if filled > 0:
            top = height - self._bar_height
            draw.rectangle((0, top, filled - 1, height - 1), fill=(255, 214, 0))
        return canvas


def _draw_counter(
    draw: ImageDraw.ImageDraw,
    rect: tuple[int, int, int, int],
    pad: int,
    font: _Font,
    index: int,
    frame_count: int,
    fps: int,
) -> None:
    """Timecode (minutes:seconds.frames) and 1-based frame number over a dark box."""
    seconds, frames = divmod(index, fps)
    minutes, seconds = divmod(seconds, 60)
    text = f"{minutes:02d}:{seconds:02d}.{frames:02d}  {index + 1:04d}/{frame_count:04d}"
    draw.rectangle(rect, fill=(0, 0, 0))
    draw.text((rect[0] + pad, rect[1] + pad), text, font=font, fill=(255, 255, 255))


def _font(size: int) -> _Font:
    # Pillow's built-in font needs no file on disk; with FreeType (always in the wheels)
    # it scales to any size.
    return ImageFont.load_default(size=size)


@dataclass(frozen=True, slots=True)
class _Scene:
    """What a seed decides about a text-to-video sandbox take: its look and its motion.

    Attributes:
        hue: the stripes' hue (0-1); the disc takes the opposite one.
        stripe: stripe width in pixels.
        lean: 1 leans the stripes right, -1 left.
        drift: 1 moves the stripes left, -1 right.
        speed: pattern steps per frame (1-3).
        radius: the disc's radius in pixels.
        start: where the disc is at frame 0, as fractions of its free span (x, y).
        velocity: the disc's speed in pixels per frame (x, y); it bounces off the edges.
    """

    hue: float
    stripe: int
    lean: int
    drift: int
    speed: int
    radius: int
    start: tuple[float, float]
    velocity: tuple[int, int]

    @classmethod
    def from_key(cls, key: int, size: tuple[int, int]) -> _Scene:
        width, height = size
        short = min(width, height)
        rng = random.Random(key)
        step = max(1, short // 90)
        return cls(
            hue=rng.random(),
            stripe=max(8, round(short * rng.uniform(0.06, 0.2))),
            lean=rng.choice((1, -1)),
            drift=rng.choice((1, -1)),
            speed=rng.randint(1, 3),
            radius=max(3, round(short * rng.uniform(0.06, 0.14))),
            start=(rng.random(), rng.random()),
            velocity=(
                rng.choice((1, -1)) * rng.randint(step, 4 * step),
                rng.choice((1, -1)) * rng.randint(step, 3 * step),
            ),
        )

    def draw_disc(self, draw: ImageDraw.ImageDraw, size: tuple[int, int], index: int) -> None:
        """The disc where frame ``index`` has it: a straight path folded at the edges."""
        width, height = size
        r = self.radius
        x = r + _bounce(self.start[0] * (width - 2 * r) + index * self.velocity[0], width - 2 * r)
        y = r + _bounce(self.start[1] * (height - 2 * r) + index * self.velocity[1], height - 2 * r)
        colour = _rgb((self.hue + 0.5) % 1.0, 0.8, 0.95)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0))


def _bounce(position: float, span: int) -> int:
    """``position`` folded into ``[0, span]``, as a ball bouncing between two walls."""
    if span <= 0:
        return 0
    folded = position % (2 * span)
    return round(folded if folded <= span else 2 * span - folded)


def _pattern(size: tuple[int, int], scene: _Scene) -> tuple[Image.Image, int]:
    """Diagonal stripes one period wider than the frame, and that period in pixels."""
    width, height = size
    hue = scene.hue
    light = _rgb(hue, 0.55, 0.85)
    dark = _rgb((hue + 0.08) % 1.0, 0.75, 0.45)
    stripe = scene.stripe
    period = 2 * stripe
    pattern = Image.new("RGB", (width + period, height), dark)
    draw = ImageDraw.Draw(pattern)
    # Each stripe leans by the full height; start far enough left to cover the corner.
    x = -height - (height % period)
    while x < width + period:
        draw.polygon(
            [(x, height), (x + stripe, height), (x + stripe + height, 0), (x + height, 0)],
            fill=light,
        )
        x += period
    if scene.lean < 0:
        pattern = pattern.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return pattern, period


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _prompt_overlay(size: tuple[int, int], prompt: str) -> tuple[Image.Image, tuple[int, int]]:
    """The prompt, wrapped, white on a translucent box; and where it goes on the frame."""
    width, height = size
    font = _font(max(10, min(width, height) // 18))
    margin = max(4, min(width, height) // 30)
    max_text_w = width - 4 * margin
    ascent, descent = font.getmetrics() if isinstance(font, ImageFont.FreeTypeFont) else (10, 2)
    line_h = ascent + descent
    max_lines = max(1, (height // 2 - 2 * margin) // line_h)
    lines = _wrap(prompt.strip() or "(no prompt)", font, max_text_w, max_lines)
    text_w = max(1, max(round(font.getlength(line)) for line in lines))
    box = Image.new("RGBA", (text_w + 2 * margin, line_h * len(lines) + 2 * margin), (0, 0, 0, 150))
    draw = ImageDraw.Draw(box)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * line_h), line, font=font, fill=(255, 255, 255, 255))
    # Centred, a little below the middle: clear of the counter and the progress bar.
    at = ((width - box.width) // 2, max(0, height * 3 // 5 - box.height // 2))
    if at[1] + box.height > height - margin:
        at = (at[0], max(0, height - margin - box.height))
    return box, at


def _wrap(text: str, font: _Font, max_w: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``max_w`` pixels; long words are cut; the tail becomes '…'."""
    lines: list[str] = []
    current = ""
    words = text.split()
    while words and len(lines) <= max_lines:
        word = words.pop(0)
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_w:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if font.getlength(word) <= max_w:
            current = word
        else:
            cut = _fitting_prefix(word, font, max_w)
            lines.append(word[:cut])
            words.insert(0, word[cut:])
    if current:
        lines.append(current)
    if len(lines) > max_lines or words:
        lines = lines[:max_lines]
        tail = lines[-1]
        while tail and font.getlength(tail + "…") > max_w:
            tail = tail[:-1]
        lines[-1] = tail.rstrip() + "…"
    return lines or [""]


def _fitting_prefix(word: str, font: _Font, max_w: int) -> int:
    """Length of the longest prefix of ``word`` that fits in ``max_w`` (at least 1)."""
    low, high = 1, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(word[:mid]) <= max_w:
            low = mid
        else:
            high = mid - 1
    return low
