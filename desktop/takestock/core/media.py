"""Reading video files: what one holds (:func:`probe`) and a still from it (:func:`poster_frame`).

Everything goes through PyAV in-process: opening a container reads only its header and
index (about 10 ms), so the library can probe every download and import, and the grid can
make posters on demand without spawning ``ffmpeg``. Failures are :class:`MediaError`,
whose message names the file and says what is wrong with it.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from takestock.core.errors import MediaError

if TYPE_CHECKING:
    # PyAV and PIL (~90 ms together) are imported by the functions that read a file, not
    # here: listing takes or jobs imports this module through the library and opens none.
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream
    from PIL import Image

__all__ = ["MediaInfo", "check_decodes", "is_video", "poster_frame", "probe"]

#: Packets read looking for a first picture before a file is called undecodable; far
#: past any real stream's first keyframe, and still a few milliseconds.
_DECODE_PACKETS = 120

# Demuxers that FFmpeg offers for still images and text art: they open fine and even
# report a one-frame "video" stream, but such a file is not a take.
_STILL_FORMATS = frozenset({"image2", "image2pipe", "tty", "bin", "xbin", "idf", "adf"})


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a video file holds, as far as the library and the player need to know.

    Attributes:
        duration_s: playing time in seconds (the container's, else the video stream's).
        width: coded picture width in pixels.
        height: coded picture height in pixels.
        fps: average frame rate; 0.0 when the file does not say.
        video_codec: FFmpeg's short codec name (``h264``, ``hevc``, ``av1``, ...).
        has_audio: whether the file has an audio stream.
        audio_codec: the first audio stream's codec name, or ``None``.
        size_bytes: file size on disk.
    """

    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    audio_codec: str | None
    size_bytes: int

    def to_json(self) -> dict[str, Any]:
        """A plain dict with the field names as keys, for the database and ``--json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MediaInfo:
        """The inverse of :meth:`to_json`."""
        return cls(
            duration_s=float(data["duration_s"]),
            width=int(data["width"]),
            height=int(data["height"]),
            fps=float(data["fps"]),
            video_codec=str(data["video_codec"]),
            has_audio=bool(data["has_audio"]),
            audio_codec=None if data.get("audio_codec") is None else str(data["audio_codec"]),
            size_bytes=int(data["size_bytes"]),
        )


def probe(path: Path) -> MediaInfo:
    """Describe the video file at ``path`` from its header, without decoding a picture.

    Raises:
        MediaError: the file is missing, is not a media container, has no video stream,
            is cut short, or its duration is zero or cannot be found.
    """
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        _check_complete(container, path)
        duration = _duration_s(container, stream, path)
        ctx = stream.codec_context
        if ctx.width <= 0 or ctx.height <= 0:
            raise MediaError(f"{path.name}: the video stream does not say its picture size.")
        audio = container.streams.audio[0] if container.streams.audio else None
        return MediaInfo(
            duration_s=duration,
            width=ctx.width,
            height=ctx.height,
            fps=_fps(stream),
            video_codec=ctx.name,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            size_bytes=path.stat().st_size,
        )


def check_decodes(path: Path) -> None:
    """Decode the first picture of ``path``: a file whose header and index are fine
    can still hold no picture (its data cut out or overwritten), and must not become a
    take. Costs one frame's decode.

    Raises:
        MediaError: as :func:`probe`, or when no picture can be decoded.
    """
    import av  # see the note on the imports

    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        for seen, packet in enumerate(container.demux(stream), 1):
            try:
                if packet.decode():
                    return
            except av.FFmpegError:
                pass  # a damaged packet; a later keyframe may still decode
            if seen >= _DECODE_PACKETS:
                break
        try:
            if stream.codec_context.decode(None):  # frames the decoder still holds
                return
        except av.FFmpegError:
            pass
    raise MediaError(f"{path.name}: no picture could be decoded (the video data is damaged).")


def is_video(path: Path) -> bool:
    """Whether ``path`` is a video file that :func:`probe` accepts."""
    try:
        probe(path)
    except MediaError:
        return False
    return True


def poster_frame(
    path: Path,
    dest: Path,
    *,
    at_s: float | None = None,
    max_size: tuple[int, int] = (320, 320),
    quality: int = 85,
) -> Path:
    """Save the picture shown at ``at_s`` seconds as a JPEG at ``dest`` and return ``dest``.

    ``at_s`` defaults to a third of the way in (past fades from black, before end cards)
    and is clamped to the clip. The picture is scaled to fit ``max_size`` keeping its
    displayed aspect (pixel aspect and rotation applied), never enlarged. ``dest`` is
    written atomically, so a reader never sees half a JPEG; its folder is created.

    Raises:
        MediaError: as :func:`probe`, or when no picture can be decoded.
        ValueError: ``at_s`` is not a finite number, or ``max_size`` is not positive.
    """
    path, dest = Path(path), Path(dest)
    if at_s is not None and not math.isfinite(at_s):
        raise ValueError(f"at_s must be a finite number of seconds, not {at_s!r}")
    if max_size[0] < 1 or max_size[1] < 1:
        raise ValueError(f"max_size must be positive, not {max_size!r}")
    with _open(path) as container:
        stream = _video_stream(container, path)
        duration = _duration_s(container, stream, path)
        fps = _fps(stream) or 25.0
        # The last frame starts one frame before the end; asking for later finds nothing.
        last_start = max(0.0, duration - 1.0 / fps)
        target_s = min(max(duration / 3.0 if at_s is None else at_s, 0.0), last_start)
        sar = stream.sample_aspect_ratio
        frame = _frame_at(container, stream, target_s, fps, path, seek=True)
    if frame is None:
        # The file cannot seek (a raw elementary stream): decode it from the start.
        with _open(path) as container:
            frame = _frame_at(
                container, _video_stream(container, path), target_s, fps, path, seek=False
            )
    if frame is None:
        raise MediaError(f"{path.name}: no picture could be decoded.")

    image = _scaled_image(frame, sar, max_size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_sibling(dest)
    try:
        image.save(tmp, format="JPEG", quality=quality)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _open(path: Path) -> InputContainer:
    import av  # see the note on the imports

    if not path.exists():
        raise MediaError(f"{path}: no such file.", title="File not found")
    if not path.is_file():
        raise MediaError(f"{path}: not a file.")
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise MediaError(f"{path.name} is not a video file that can be read ({exc}).") from exc
    if container.format.name in _STILL_FORMATS or container.format.name.endswith("_pipe"):
        container.close()
        raise MediaError(f"{path.name} is a still image or text, not a video.")
    return container


def _video_stream(container: InputContainer, path: Path) -> VideoStream:
    import av  # see the note on the imports

    for stream in container.streams.video:
        # Cover art in MP4/MKV shows up as a one-picture video stream; skip it.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise MediaError(f"{path.name} has no video stream (it may be audio only).")


def _check_complete(container: InputContainer, path: Path) -> None:
    # An MP4 written with its index first (faststart) and then cut short still opens and
    # reports its full duration; the index points past the end of the file. Only the
    # last sample of each stream needs checking: samples are stored in time order.
    size = path.stat().st_size
    for stream in container.streams:
        entries = stream.index_entries
        if len(entries) and entries[-1].pos + entries[-1].size > size:
            raise MediaError(
                f"{path.name} is incomplete: it ends before its last "
                f"{stream.type} sample (an interrupted download or copy?)."
            )


def _fps(stream: VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if stream.duration is None and stream.frames == 0 and stream.guessed_rate:
        # A stream with no timing of its own (raw H.264): FFmpeg makes its average rate
        # up (25); the rate the codec headers state is the better guess.
        rate = stream.guessed_rate
    return float(rate) if rate else 0.0


def _duration_s(container: InputContainer, stream: VideoStream, path: Path) -> float:
    import av  # see the note on the imports

    duration = 0.0
    if container.duration is not None and container.duration > 0:
        duration = container.duration / av.time_base
    elif stream.duration is not None and stream.duration > 0 and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif stream.frames > 0 and _fps(stream) > 0:
        duration = stream.frames / _fps(stream)
    else:
        duration = _demuxed_duration_s(container, stream, path)
    if not math.isfinite(duration) or duration <= 0:
        raise MediaError(f"{path.name} has no playing time (zero or unknown duration).")
    return duration


def _demuxed_duration_s(container: InputContainer, stream: VideoStream, path: Path) -> float:
    # Raw elementary streams and some live recordings carry no duration in any header;
    # reading every packet's timing is still far cheaper than decoding.
    import av  # see the note on the imports

    if stream.time_base is None:
        return 0.0
    first: int | None = None
    end = 0
    summed = 0
    count = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end
                continue
            count += 1
            length = packet.duration or 0
            summed += length
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None:
                first = stamp if first is None else min(first, stamp)
                end = max(end, stamp + length)
    except av.FFmpegError as exc:
        raise MediaError(f"{path.name} could not be read to its end ({exc}).") from exc
    if first is not None and end > first:
        return float((end - first) * stream.time_base)
    if summed > 0:
        return float(summed * stream.time_base)
    fps = _fps(stream)
    return count / fps if fps > 0 else 0.0


def _frame_at(
    container: InputContainer,
    stream: VideoStream,
    target_s: float,
    fps: float,
    path: Path,
    *,
    seek: bool,
) -> VideoFrame | None:
    """The first frame shown at or after ``target_s``; ``None`` if the file cannot seek."""
    import av  # see the note on the imports

    # Frame threads decode the run from the keyframe to the target in parallel: on two
    # cores 1.4x faster than one thread for a target mid-GOP. Each extra thread also
    # delays output by a frame, so beyond a few a single picture costs more than it
    # gains (8 threads on two cores: 1.3x slower than 2), and posters run several at once.
    stream.codec_context.thread_type = "AUTO"
    stream.codec_context.thread_count = min(4, os.cpu_count() or 1)
    time_base = stream.time_base or Fraction(1, av.time_base)
    target_pts = (stream.start_time or 0) + round(target_s / time_base)
    found: VideoFrame | None = None
    try:
        if seek:
            # Land on the keyframe at or before the target, then decode forward to it:
            # exact like ffmpeg -ss, at the cost of at most one GOP of decoding. Seek
            # to 0 too: finding the duration may have read the file to its end.
            try:
                container.seek(target_pts, stream=stream, backward=True)
            except av.FFmpegError:
                return None
        for index, frame in enumerate(container.decode(stream)):
            found = frame
            if frame.pts is not None:
                if frame.pts >= target_pts:
                    break
            elif seek or index >= target_s * fps - 1e-6:
                # No timestamps: after a seek the first frame is as near as we can
                # know; from the start, frames are counted.
                break
    except av.FFmpegError as exc:
        if found is None:
            raise MediaError(f"{path.name}: no picture could be decoded ({exc}).") from exc
    return found


def _scaled_image(
    frame: VideoFrame, sar: Fraction | None, max_size: tuple[int, int]
) -> Image.Image:
    from PIL import Image  # see the note on the imports

    shown_w = frame.width * float(sar) if sar else float(frame.width)
    shown_h = float(frame.height)
    rotation = frame.rotation % 360
    turned = rotation in (90, 270)
    if turned:
        shown_w, shown_h = shown_h, shown_w
    scale = min(max_size[0] / shown_w, max_size[1] / shown_h, 1.0)
    out_w, out_h = max(1, round(shown_w * scale)), max(1, round(shown_h * scale))
    if turned:
        out_w, out_h = out_h, out_w
    # swscale shrinks straight from YUV in one pass, several times faster than
    # converting the full picture to RGB and then resizing it with Pillow.
    small = frame.reformat(width=out_w, height=out_h, format="rgb24", interpolation="AREA")
    plane = small.planes[0]
    # Rows may be padded to the plane's line size; the raw decoder steps over padding.
    image = Image.frombytes("RGB", (out_w, out_h), bytes(plane), "raw", "RGB", plane.line_size, 1)
    if rotation:
        # FFmpeg's angle is counterclockwise, as is Pillow's.
        image = image.rotate(rotation, expand=True)
    return image


def _temp_sibling(dest: Path) -> Path:
    # Unique per writer, so two threads making the same poster cannot interleave.
    return dest.with_name(f"{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
