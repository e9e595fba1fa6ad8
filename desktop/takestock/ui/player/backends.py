"""What every player backend is: the transport interfaces, the constants and clock
helpers they share, and :class:`FakeBackend`, the deterministic one for tests."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from takestock.core.media import MediaInfo

#: libvlc flags for playing embedded in a Qt widget. ``--no-xlib`` keeps VLC off Xlib
#: modules (VDPAU and others) that are not thread-safe without XInitThreads; the xcb
#: vouts that embed through ``set_xwindow`` do not need Xlib (checked under Xvfb).
DEFAULT_VLC_ARGS: tuple[str, ...] = (
    "--quiet",
    # Local files need little read-ahead; VLC's 1000 ms default delays starts and seeks
    # and sets the size of its jump after frame stepping (see VlcBackend.play).
    "--file-caching=300",
    "--no-xlib",
    "--no-video-title-show",
    "--no-snapshot-preview",
    "--no-stats",
    "--no-sub-autodetect-file",
    "--no-osd",
)
#: For tests and machines with no display: no video or audio device, snapshots still work.
HEADLESS_VLC_ARGS: tuple[str, ...] = (*DEFAULT_VLC_ARGS, "--vout=dummy", "--aout=dummy")

#: The rates the speed selector offers.
SPEEDS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
#: The fastest forward shuttle that L reaches (1×, 2×, 4×).
MAX_SHUTTLE_RATE = 4.0
#: Frame rate assumed when a file does not state one.
FALLBACK_FPS = 24.0

_SEEK_STEP_MS = 1000
_POLL_MS = 40
_VLC_SETTLE_S = 0.2
_VLC_MAX_CATCH_UP_MS = 400


def _tr(text: str) -> str:
    return QCoreApplication.translate("player", text)


class BackendUnavailable(RuntimeError):
    """A player backend cannot run on this machine; the message says why, for the banner."""


# --------------------------------------------------------------------------- helpers


def frame_at(ms: float, fps: float) -> int:
    """The index of the frame shown at ``ms`` (half a millisecond of rounding allowed)."""
    return max(0, math.floor((ms + 0.5) * fps / 1000.0))


def format_time(ms: float) -> str:
    """``MM:SS.cc`` (hundredths of a second), with hours in front past an hour."""
    total_cs = max(0, round(ms / 10))
    seconds, cs = divmod(total_cs, 100)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"
    return f"{minutes:02d}:{seconds:02d}.{cs:02d}"


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Frame arithmetic for one clip."""

    length_ms: float
    fps: float

    @classmethod
    def of(cls, info: MediaInfo) -> _Timeline:
        return cls(info.duration_s * 1000.0, info.fps if info.fps > 0 else FALLBACK_FPS)

    @property
    def frame_ms(self) -> float:
        return 1000.0 / self.fps

    @property
    def frames(self) -> int:
        return max(1, round(self.length_ms * self.fps / 1000.0))

    @property
    def last_frame_ms(self) -> float:
        return (self.frames - 1) * self.frame_ms

    def clamp_frame(self, frame: int) -> int:
        return min(max(frame, 0), self.frames - 1)

    def start(self, frame: int) -> float:
        return self.clamp_frame(frame) * self.frame_ms

    def middle(self, frame: int) -> float:
        return self.start(frame) + self.frame_ms / 2

    def clamp(self, ms: float) -> float:
        return min(max(ms, 0.0), self.last_frame_ms)


# --------------------------------------------------------------------------- interfaces


class Transport(Protocol):
    """What a transport bar drives: one player, or a :class:`SyncGroup` of them."""

    def play(self) -> None: ...
    def pause(self) -> None: ...
    def toggle(self) -> None: ...
    def stop(self) -> None:
        """Pause and go back to the first frame."""

    def seek(self, ms: float) -> None:
        """Go to ``ms`` (clamped to the clip), keeping play or pause."""

    def position_ms(self) -> int: ...
    def length_ms(self) -> int: ...
    def fps(self) -> float: ...
    def is_playing(self) -> bool: ...
    def set_rate(self, rate: float) -> None: ...
    def rate(self) -> float: ...
    def set_muted(self, muted: bool) -> None: ...
    def muted(self) -> bool: ...
    def step_frame(self, frames: int = 1) -> None:
        """Pause and move ``frames`` frames (negative: back), clamped to the clip."""

    def set_loop(self, loop: bool) -> None: ...
    def loop(self) -> bool: ...
    def tick(self) -> bool:
        """Catch up with the player; ``True`` once when playback stopped at the end.

        With loop on, the player starts again from the first frame instead and this
        stays ``False``. Called by the owner's ``QTimer``, on the GUI thread.
        """


class PlayerBackend(Transport, Protocol):
    """One video player. Backends never emit anything; their owner polls them.

    Attributes:
        name: ``"vlc"``, ``"qt"`` or ``"fake"``.
        fallback_reason: set by :func:`best_backend` when this backend was chosen because
            a better one could not run; the text says why, for a one-time banner.
    """

    name: str
    fallback_reason: str | None

    def load(self, path: Path) -> None:
        """Open ``path`` paused on its first frame.

        Raises:
            MediaError: the file is not a playable video (from :func:`probe`).
        """

    def attach(self, widget: QWidget) -> None:
        """Show the video inside ``widget`` (a native window on VLC's platforms)."""

    def release(self) -> None:
        """Stop and free the player; the backend cannot be used afterwards."""


# --------------------------------------------------------------------------- fake


class TransportActions:
    """``toggle`` and ``stop``, the same on every transport, in terms of its own calls."""

    def play(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        raise NotImplementedError

    def is_playing(self) -> bool:
        raise NotImplementedError

    def seek(self, ms: float) -> None:
        raise NotImplementedError

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)


class FakeBackend(TransportActions):
    """A pure-Python player: a clock and arithmetic, no video, fully deterministic.

    Pass ``clock`` (seconds, like :func:`time.monotonic`) to drive time from a test;
    ``skew`` makes this player's clock run fast or slow, to test drift correction.

    Attributes:
        path: the last file given to :meth:`load`, or ``None``.
        seeks: how many seeks (including backward steps) it was asked for.
        stepped: forward frame steps it was asked for.
    """

    name = "fake"

    def __init__(
        self,
        *,
        length_ms: float = 5000.0,
        fps: float = 24.0,
        clock: Callable[[], float] = time.monotonic,
        skew: float = 1.0,
    ) -> None:
        self.fallback_reason: str | None = None
        self.path: Path | None = None
        self.seeks = 0
        self.stepped = 0
        self.skew = skew
        self._clock = clock
        self._timeline = _Timeline(length_ms, fps)
        self._pos = 0.0
        self._anchor: float | None = None  # clock reading when play started (playing only)
        self._rate = 1.0
        self._muted = False
        self._loop = False
        self._ended = False

    # The clock is read lazily: every call first works out where playback has got to.
    def _settle(self) -> None:
        if self._anchor is None:
            return
        now = self._clock()
        pos = self._pos + (now - self._anchor) * 1000.0 * self._rate * self.skew
        length = self._timeline.length_ms
        if pos >= length:
            if self._loop:
                pos %= length
            else:
                self._pos, self._anchor, self._ended = length, None, True
                return
        self._pos, self._anchor = pos, now

    def load(self, path: Path) -> None:
        self.path = Path(path)
        self._pos, self._anchor, self._ended = 0.0, None, False

    def attach(self, widget: QWidget) -> None:
        pass

    def release(self) -> None:
        self._anchor = None

    def play(self) -> None:
        self._settle()
        if self._anchor is not None:
            return
        if self._pos >= self._timeline.length_ms:
            self._pos = 0.0
        self._ended = False
        self._anchor = self._clock()

    def pause(self) -> None:
        self._settle()
        self._anchor = None

    def seek(self, ms: float) -> None:
        self._settle()
        self.seeks += 1
        self._ended = False
        self._pos = self._timeline.clamp(ms)
        if self._anchor is not None:
            self._anchor = self._clock()

    def position_ms(self) -> int:
        self._settle()
        return round(self._pos)

    def length_ms(self) -> int:
        return round(self._timeline.length_ms)

    def fps(self) -> float:
        return self._timeline.fps

    def is_playing(self) -> bool:
        self._settle()
        return self._anchor is not None

    def set_rate(self, rate: float) -> None:
        self._settle()
        self._rate = float(rate)

    def rate(self) -> float:
        return self._rate

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)

    def muted(self) -> bool:
        return self._muted

    def step_frame(self, frames: int = 1) -> None:
        self.pause()
        target = frame_at(self._pos, self._timeline.fps) + frames
        if frames > 0:
            self.stepped += frames
        else:
            self.seeks += 1
        self._ended = False
        self._pos = self._timeline.start(target)

    def set_loop(self, loop: bool) -> None:
        self._settle()
        self._loop = bool(loop)

    def loop(self) -> bool:
        return self._loop

    def tick(self) -> bool:
        self._settle()
        ended, self._ended = self._ended, False
        return ended
