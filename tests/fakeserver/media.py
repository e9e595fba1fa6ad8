"""Real, tiny video files for tests, made in memory with PyAV (no ffmpeg binary needed).

Downloads are checked by probing the container, so a fake vendor must serve a file that
probes: a placeholder byte string would fail the check the tests mean to pass.
"""

from __future__ import annotations

import functools
import io

__all__ = ["tiny_mp4"]


@functools.lru_cache(maxsize=8)
def tiny_mp4(seconds: float = 1.0, width: int = 160, height: int = 90, fps: int = 24) -> bytes:
    """An H.264 MP4 of `seconds` of changing flat colour (about 3 KB for the defaults).

    Cached: the same arguments give the same bytes, so tests can compare checksums.
    """
    import av  # imported here: only tests that serve video pay for it

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(max(1, round(seconds * fps))):
            frame = av.VideoFrame(width, height, "yuv420p")
            for j, plane in enumerate(frame.planes):
                plane.update(bytes([(i * 9 + j * 70) % 256]) * plane.buffer_size)
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
