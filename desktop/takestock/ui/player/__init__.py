"""The video player: one interface, three implementations, a widget and a sync group.

:class:`PlayerBackend` is what the UI talks to; :func:`best_backend` picks python-vlc
(:class:`VlcBackend`) and falls back to Qt Multimedia (:class:`QtMultimediaBackend`) where
libvlc is missing, with a reason the UI shows once. :class:`FakeBackend` is a
deterministic clock for the compare grid's tests and for unit tests. Backends are
passive: :class:`PlayerWidget` and :class:`SyncGroup` poll them with a ``QTimer`` (never
libvlc event callbacks, which run on VLC's threads), calling :meth:`Transport.tick` to
learn about the end of the clip.

Positions are milliseconds from the start of the clip. Frame ``i`` starts at
``i * 1000 / fps`` with ``fps`` from :func:`takestock.core.media.probe`; the frame under a
position is :func:`frame_at`. Every seek aims at the *middle* of the wanted frame, so a
backend that rounds either way still lands on it.

Frame stepping, per backend. Measured on Debian 12 (2 cores) with libvlc 3.0.24 and
Qt 6.12's FFmpeg backend, on 24 fps H.264 High-profile sandbox clips (B-frames), by
matching what is on screen against every frame decoded with PyAV:

- Qt Multimedia: a step is a paused seek to the middle of the next or previous frame,
  and pausing pins the picture to the frame reported. The picture is exactly the frame
  reported, in both directions (every step and seek in the tests, by the sink's frame
  timestamps).
- VLC: a forward step is ``next_frame()``. VLC cannot step backwards, so a backward step,
  like any paused seek, is ``set_time()`` to the middle of the target frame. The
  position and frame counter are this backend's own: they name exactly the frame
  asked for. What VLC paints can differ from that frame:

  - after loading: the first frame (25 of 25 runs);
  - after pausing playback: the counter's frame or the one after (0 in 7, 1 in 18 of
    25 runs; VLC reports its time only every 250–500 ms and 50–550 ms late, so the
    counter runs on a clock), also after resuming from frame steps;
  - forward steps from there: exactly one frame each (75 of 75);
  - a paused seek or a backward step: 2–3 frames before the target (25 of 25). VLC 3
    lands on the last reference frame at or before the target minus the decoder's
    reorder delay. The next one or two forward steps may show no change, or jump two
    frames; after that, steps move one frame at a time, 2 frames behind the counter.

  Painting the exact frame while paused with VLC would need a still decoded by PyAV
  over the video.
"""

# The package's modules: backends.py (interfaces, shared helpers, FakeBackend), vlc.py,
# qt_multimedia.py, pick.py (best_backend), widget.py (keys, TransportBar, PlayerWidget)
# and sync.py (SyncGroup). Callers import from here; the split is ours to change.
from takestock.ui.player.backends import (
    DEFAULT_VLC_ARGS,
    HEADLESS_VLC_ARGS,
    MAX_SHUTTLE_RATE,
    SPEEDS,
    BackendUnavailable,
    FakeBackend,
    PlayerBackend,
    Transport,
    format_time,
    frame_at,
)
from takestock.ui.player.pick import best_backend, screen_backend
from takestock.ui.player.qt_multimedia import QtMultimediaBackend
from takestock.ui.player.sync import Alignment, SyncGroup
from takestock.ui.player.vlc import VlcBackend
from takestock.ui.player.widget import PlayerWidget, TransportBar, handle_transport_key

__all__ = [
    "DEFAULT_VLC_ARGS",
    "HEADLESS_VLC_ARGS",
    "MAX_SHUTTLE_RATE",
    "SPEEDS",
    "Alignment",
    "BackendUnavailable",
    "FakeBackend",
    "PlayerBackend",
    "PlayerWidget",
    "QtMultimediaBackend",
    "SyncGroup",
    "Transport",
    "TransportBar",
    "VlcBackend",
    "best_backend",
    "format_time",
    "frame_at",
    "handle_transport_key",
    "screen_backend",
]
