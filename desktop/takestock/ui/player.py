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

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.media import MediaInfo, probe

__all__ = [
    "DEFAULT_VLC_ARGS",
    "HEADLESS_VLC_ARGS",
    "MAX_SHUTTLE_RATE",
    "SPEEDS",
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
]

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


class FakeBackend:
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

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)

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


# --------------------------------------------------------------------------- vlc


class VlcBackend:
    """python-vlc in a QWidget, with its own clock for a smooth, frame-exact position.

    Loading plays the clip until VLC reports ``Playing``, pauses, and 200 ms later seeks
    to the first frame. VLC shows no picture when a file is opened paused
    (``:start-paused``), and none after a seek made right after the pause. Until the
    player is live (10–400 ms), calls are remembered, and :meth:`tick` applies them;
    :meth:`wait_ready` blocks until then (for tests and scripts).

    While playing, the position is a clock started at :meth:`play`, moved forward to
    VLC's ``get_time()`` when that gets up to 400 ms past it (VLC updates it every
    250–500 ms, behind the picture; a value further ahead is stale). When paused it is
    the exact frame last asked for. After the end VLC's input is gone, so seeking,
    stepping or playing opens the file again.

    Embedding uses the surface's ``winId()``: ``set_xwindow`` on X11 (the Qt ``xcb``
    platform; VLC 3 cannot embed into Wayland surfaces, so run Qt on XWayland with
    ``QT_QPA_PLATFORM=xcb``), ``set_hwnd`` on Windows, ``set_nsobject`` on macOS. Mouse
    and key input stay with Qt.

    Attributes:
        instance: the ``vlc.Instance`` (keep it alive as long as the player).
        player: the ``vlc.MediaPlayer``.
        embedded: whether :meth:`attach` handed VLC a native window.
    """

    name = "vlc"

    def __init__(self, args: Sequence[str] | None = None) -> None:
        try:
            import vlc
        except (ImportError, OSError, NotImplementedError, AttributeError) as exc:
            raise BackendUnavailable(
                _tr("python-vlc could not load libvlc ({error}).").format(error=exc)
            ) from exc
        try:
            instance = vlc.Instance(list(DEFAULT_VLC_ARGS if args is None else args))
        except Exception as exc:  # a ctypes library half-installed can fail in many ways
            raise BackendUnavailable(
                _tr("libvlc failed to start ({error}).").format(error=exc)
            ) from exc
        if instance is None:
            raise BackendUnavailable(
                _tr(
                    "libvlc is installed but did not start; its plugins are missing "
                    "(install vlc-plugin-base, or set VLC_PLUGIN_PATH)."
                )
            )
        self._vlc: Any = vlc
        self.fallback_reason: str | None = None
        self.instance: Any = instance
        self.player: Any = instance.media_player_new()
        self.player.video_set_mouse_input(False)
        self.player.video_set_key_input(False)
        self.embedded = False
        self._media: Any = None
        self._info: MediaInfo | None = None
        self._timeline = _Timeline(0.0, FALLBACK_FPS)
        self._phase: Literal["empty", "opening", "live", "ended"] = "empty"
        self._want_playing = False
        self._pos = 0.0
        self._anchor: float | None = None  # monotonic time matching self._pos (playing only)
        self._vlc_time = -1
        self._ignore_vlc_until = 0.0
        self._settle_at: float | None = None
        self._stepped = False
        self._recovered = False
        self._rate = 1.0
        self._muted = False
        self._loop = False

    # ------------------------------------------------------------ lifecycle

    def load(self, path: Path) -> None:
        info = probe(Path(path))
        self.player.stop()
        self._info = info
        self._timeline = _Timeline.of(info)
        self._media = self.instance.media_new_path(str(path))
        self.player.set_media(self._media)
        self._pos, self._anchor, self._want_playing = 0.0, None, False
        self._open()

    def _open(self) -> None:
        """(Re)start VLC's input; :meth:`tick` pauses it once it plays."""
        self._settle_at, self._stepped = None, False
        self.player.stop()
        self.player.audio_set_mute(True)  # the few frames of pre-roll stay silent
        self.player.play()
        self._phase = "opening"

    def _became_live(self) -> None:
        self._phase = "live"
        self.player.set_rate(self._rate)
        self.player.audio_set_mute(self._muted)
        self._vlc_time = -1
        if self._want_playing:
            if self._pos > 0:
                self.player.set_time(round(self._timeline.middle(self._frame())))
            self._start_clock()
        else:
            # WORKAROUND (VLC 3.0): a seek issued right after the pause leaves the vout
            # with no picture at all (no snapshot, black surface); 200 ms later it works.
            self.player.set_pause(1)
            self._settle_at = time.monotonic() + _VLC_SETTLE_S

    def _settle(self) -> None:
        """Put the picture on the paused position once VLC can take a seek."""
        if self._settle_at is not None and time.monotonic() >= self._settle_at:
            self._settle_at = None
            self.player.set_time(round(self._timeline.middle(self._frame())))

    def _unsettle(self) -> bool:
        """Drop a pending settling seek (the caller moves VLC itself); whether one was due."""
        pending, self._settle_at = self._settle_at is not None, None
        return pending

    def wait_ready(self, timeout_s: float = 5.0) -> bool:
        """Block until the player is live and showing its position; for tests."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.tick()
            if self._phase == "ended" or (self._phase == "live" and self._settle_at is None):
                return True
            time.sleep(0.005)
        return False

    def attach(self, widget: QWidget) -> None:
        win_id = int(widget.winId())
        platform = QGuiApplication.platformName()
        if sys.platform.startswith("linux") and platform == "xcb":
            self.player.set_xwindow(win_id)
        elif sys.platform == "win32":
            self.player.set_hwnd(win_id)
        elif sys.platform == "darwin":
            self.player.set_nsobject(win_id)
        else:
            return  # offscreen or Wayland: VLC would open its own window; keep it off ours
        self.embedded = True

    def release(self) -> None:
        if self.player is None:
            return
        self.player.stop()
        self.player.release()  # the player before its instance
        self.instance.release()
        self.player = self.instance = self._media = None
        self._phase = "empty"

    # ------------------------------------------------------------ clock

    def _frame(self) -> int:
        return frame_at(self._pos, self._timeline.fps)

    def _start_clock(self) -> None:
        self._anchor = time.monotonic()
        self._ignore_vlc_until = self._anchor + 0.3  # get_time() is stale after a seek

    def _estimate(self) -> float:
        if self._anchor is None:
            return self._pos
        now = time.monotonic()
        est = self._pos + (now - self._anchor) * 1000.0 * self._rate
        reported = self.player.get_time()
        if reported != self._vlc_time:
            self._vlc_time = reported
            # VLC reports late, never early: a time far ahead of the clock is stale (from
            # before a seek) or VLC's post-step jump, not news.
            ahead = reported - est
            if now >= self._ignore_vlc_until and 0 < ahead <= _VLC_MAX_CATCH_UP_MS * self._rate:
                est = float(reported)
        self._pos, self._anchor = est, now
        return est

    # ------------------------------------------------------------ transport

    def tick(self) -> bool:
        if self._phase == "opening":
            state = self.player.get_state()
            if state == self._vlc.State.Playing:
                self._became_live()
            elif state == self._vlc.State.Error:
                self._phase = "ended"
                self._want_playing = False
            return False
        if self._phase != "live":
            return False
        if self.player.get_state() == self._vlc.State.Ended:
            early = self._estimate() < self._timeline.length_ms - 500
            if self._want_playing and early and not self._recovered:
                # WORKAROUND (VLC 3.0.24): the jump after next_frame() (see play()) can
                # run past the end of a short clip before our seek lands: start again
                # from where the picture should be (once: a file cut short really ends).
                self._recovered = True
                self._anchor = None
                self._open()
                return False
            self._anchor = None
            if self._loop and self._want_playing:
                self._pos = 0.0
                self._open()
                return False
            self._phase, self._want_playing = "ended", False
            self._pos = self._timeline.length_ms
            return True
        self._settle()
        if self.player.audio_get_mute() != self._muted:
            self.player.audio_set_mute(self._muted)
        return False

    def play(self) -> None:
        if self._phase == "empty" or self.is_playing():
            return
        if self._phase == "ended" or self._pos >= self._timeline.length_ms:
            self._pos = 0.0
        self._want_playing = True
        self._recovered = False
        if self._phase == "ended":
            self._open()
        elif self._phase == "live":
            settling = self._unsettle()
            self.player.set_pause(0)
            if settling or self._stepped:
                # WORKAROUND (VLC 3.0.24): after next_frame(), unpausing jumps ahead by
                # about the input caching (1.3 s with VLC's default 1000 ms file caching,
                # 0.6 s with ours); a paused seek does not cure it. A seek right after
                # the unpause resumes from the frame shown.
                self.player.set_time(round(self._timeline.middle(self._frame())))
                self._stepped = False
            self._start_clock()

    def pause(self) -> None:
        if self._phase == "live" and self._want_playing:
            self.player.set_pause(1)
            est = self._timeline.clamp(self._estimate())
            self._pos = self._timeline.start(frame_at(est, self._timeline.fps))
        self._anchor = None
        self._want_playing = False

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)

    def seek(self, ms: float) -> None:
        if self._phase == "empty":
            return
        self._pos = self._timeline.clamp(ms)
        if self._phase == "ended":
            self._open()
        elif self._phase == "live":
            self._unsettle()
            self.player.set_time(round(self._timeline.middle(self._frame())))
            if self._anchor is not None:
                self._start_clock()

    def position_ms(self) -> int:
        if self._phase == "live" and self._want_playing:
            return round(min(self._estimate(), self._timeline.length_ms))
        return round(self._pos)

    def length_ms(self) -> int:
        if self._phase == "live":
            reported = self.player.get_length()
            if reported > 0:
                return int(reported)
        return round(self._timeline.length_ms)

    def fps(self) -> float:
        return self._timeline.fps

    def is_playing(self) -> bool:
        return self._want_playing and self._phase in ("opening", "live")

    def set_rate(self, rate: float) -> None:
        if self._anchor is not None:
            self._pos = self._estimate()
            self._anchor = time.monotonic()
        self._rate = float(rate)
        if self.player is not None:
            self.player.set_rate(self._rate)

    def rate(self) -> float:
        return self._rate

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)
        if self._phase == "live":
            self.player.audio_set_mute(self._muted)

    def muted(self) -> bool:
        return self._muted

    def step_frame(self, frames: int = 1) -> None:
        if self._phase == "empty" or frames == 0:
            return
        self.pause()
        current = self._frame()
        target = self._timeline.clamp_frame(current + frames)
        if target == current:
            return
        self._pos = self._timeline.start(target)
        if self._phase == "live" and target > current and not self._unsettle():
            self._stepped = True
            for _ in range(target - current):
                self.player.next_frame()
        elif self._phase == "live":
            self.player.set_time(round(self._timeline.middle(target)))
        elif self._phase == "ended":
            self._open()

    def set_loop(self, loop: bool) -> None:
        self._loop = bool(loop)

    def loop(self) -> bool:
        return self._loop

    # ------------------------------------------------------------ diagnostics

    def vlc_time_ms(self) -> int:
        """VLC's own idea of the time (coarse; see the class docstring)."""
        return int(self.player.get_time())

    def snapshot(self, dest: Path) -> bool:
        """Save the picture VLC shows now as a PNG (works with the dummy vout too)."""
        return self.player.video_take_snapshot(0, str(dest), 0, 0) == 0 and Path(dest).exists()


# --------------------------------------------------------------------------- qt


class QtMultimediaBackend:
    """QMediaPlayer with Qt's FFmpeg plugin: the fallback where libvlc is missing.

    It needs no system packages beyond ``libpulse0`` (which the FFmpeg plugin links)
    and plays offscreen too, with or without a sound server. Frames go to a
    ``QVideoSink`` until :meth:`attach` puts a ``QVideoWidget`` in the surface. Steps and
    seeks while paused are exact (see the module docstring).

    Attributes:
        player: the ``QMediaPlayer``.
        audio: its ``QAudioOutput``.
    """

    name = "qt"

    def __init__(self) -> None:
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink

        self._qmp = QMediaPlayer
        self.fallback_reason: str | None = None
        self.player = QMediaPlayer()
        self.audio = QAudioOutput()
        self.player.setAudioOutput(self.audio)
        self._sink = QVideoSink()
        self._sink.videoFrameChanged.connect(self._on_frame)
        self.player.setVideoSink(self._sink)
        self._video_widget: QWidget | None = None
        self._timeline = _Timeline(0.0, FALLBACK_FPS)
        self._pos = 0.0
        self._shown_ms: float | None = None
        self._ended_seen = False
        self._loaded = False

    def _on_frame(self, frame: Any) -> None:
        if frame.isValid() and frame.startTime() >= 0:
            self._shown_ms = frame.startTime() / 1000.0

    def displayed_frame_ms(self) -> float | None:
        """The start time of the frame last handed to the video output."""
        return self._shown_ms

    def load(self, path: Path) -> None:
        info = probe(Path(path))
        self._timeline = _Timeline.of(info)
        self._pos, self._shown_ms, self._ended_seen = 0.0, None, False
        self.player.setSource(QUrl.fromLocalFile(str(Path(path).resolve())))
        self.player.pause()  # paused, not stopped: the first frame is shown
        self._loaded = True

    def wait_ready(self, timeout_s: float = 5.0) -> bool:
        """Spin the event loop until the media is loaded; for tests."""
        status = self._qmp.MediaStatus
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            QCoreApplication.processEvents()
            if self.player.mediaStatus() in (status.LoadedMedia, status.BufferedMedia):
                return True
            if self.player.mediaStatus() == status.InvalidMedia:
                return False
            time.sleep(0.005)
        return False

    def attach(self, widget: QWidget) -> None:
        from PySide6.QtMultimediaWidgets import QVideoWidget

        video = QVideoWidget(widget)
        layout = widget.layout() or QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(video)
        video.videoSink().videoFrameChanged.connect(self._on_frame)
        self.player.setVideoOutput(video)
        self._video_widget = video

    def release(self) -> None:
        self.player.stop()
        self.player.setSource(QUrl())
        self._loaded = False

    def tick(self) -> bool:
        at_end = self.player.mediaStatus() == self._qmp.MediaStatus.EndOfMedia
        if at_end and not self._ended_seen:
            self._ended_seen = True
            self._pos = self._timeline.length_ms
            return True
        return False

    def play(self) -> None:
        if not self._loaded or self.is_playing():
            return
        if self._ended_seen or self._pos >= self._timeline.length_ms:
            self._pos = 0.0
            self.player.setPosition(0)
        self._ended_seen = False
        self.player.play()

    def pause(self) -> None:
        if self.is_playing():
            self.player.pause()
            shown = self._shown_ms
            self._pos = self._timeline.clamp(shown if shown is not None else self.player.position())
            # A frame already on its way can still arrive after pause(): pin the picture
            # to the position reported.
            frame = frame_at(self._pos, self._timeline.fps)
            self._pos = self._timeline.start(frame)
            self.player.setPosition(round(self._timeline.middle(frame)))

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)

    def seek(self, ms: float) -> None:
        if not self._loaded:
            return
        self._ended_seen = False
        self._pos = self._timeline.clamp(ms)
        frame = frame_at(self._pos, self._timeline.fps)
        self.player.setPosition(round(self._timeline.middle(frame)))

    def position_ms(self) -> int:
        if self.is_playing():
            return int(self.player.position())
        return round(self._pos)

    def length_ms(self) -> int:
        return int(self.player.duration()) or round(self._timeline.length_ms)

    def fps(self) -> float:
        return self._timeline.fps

    def is_playing(self) -> bool:
        return self.player.playbackState() == self._qmp.PlaybackState.PlayingState

    def set_rate(self, rate: float) -> None:
        self.player.setPlaybackRate(float(rate))

    def rate(self) -> float:
        return float(self.player.playbackRate())

    def set_muted(self, muted: bool) -> None:
        self.audio.setMuted(bool(muted))

    def muted(self) -> bool:
        return bool(self.audio.isMuted())

    def step_frame(self, frames: int = 1) -> None:
        if not self._loaded or frames == 0:
            return
        self.pause()
        target = self._timeline.clamp_frame(frame_at(self._pos, self._timeline.fps) + frames)
        self._ended_seen = False
        self._pos = self._timeline.start(target)
        self.player.setPosition(round(self._timeline.middle(target)))

    def set_loop(self, loop: bool) -> None:
        loops = self._qmp.Loops.Infinite if loop else self._qmp.Loops.Once
        self.player.setLoops(int(loops))

    def loop(self) -> bool:
        return self.player.loops() == int(self._qmp.Loops.Infinite)


# --------------------------------------------------------------------------- choice


def best_backend(
    *, prefer: Literal["vlc", "qt"] = "vlc", vlc_args: Sequence[str] | None = None
) -> PlayerBackend:
    """python-vlc where it runs, else Qt Multimedia with ``fallback_reason`` saying why.

    ``prefer="qt"`` skips VLC (a user setting, or a machine where VLC misbehaves); then
    no reason is given, since nothing failed.

    Raises:
        BackendUnavailable: neither backend can run.
    """
    reason: str | None = None
    if prefer == "vlc":
        try:
            return VlcBackend(vlc_args)
        except BackendUnavailable as exc:
            reason = str(exc)
    try:
        backend = QtMultimediaBackend()
    except ImportError as exc:
        raise BackendUnavailable(
            _tr("No video player works here: {vlc} Qt Multimedia: {qt}").format(
                vlc=reason or "", qt=exc
            )
        ) from exc
    backend.fallback_reason = reason
    return backend


# --------------------------------------------------------------------------- keys


def handle_transport_key(transport: Transport, key: int) -> bool:
    """Apply one key press to ``transport``; ``False`` when the key is not a player key.

    The keys follow Premiere and Resolve, within what the backends can do (none can play
    backwards):

    - Space: play or pause, keeping the rate.
    - K: pause and reset the rate to 1×.
    - L: when paused, play at 1×; when playing, double the rate, up to 4×.
    - J: when shuttling forward faster than 1×, halve the rate; otherwise pause and step
      one frame back; held down it repeats (reverse at the key-repeat rate).
    - ``,`` / ``.``: pause and step one frame back / forward.
    - Left / Right: one second back / forward. Home / End: first / last frame (End pauses).
    - M: mute or unmute.
    """
    k = Qt.Key
    if key == k.Key_Space:
        transport.toggle()
    elif key == k.Key_K:
        transport.pause()
        transport.set_rate(1.0)
    elif key == k.Key_L:
        if transport.is_playing():
            transport.set_rate(min(transport.rate() * 2, MAX_SHUTTLE_RATE))
        else:
            transport.set_rate(1.0)
            transport.play()
    elif key == k.Key_J:
        if transport.is_playing() and transport.rate() > 1.0:
            transport.set_rate(max(transport.rate() / 2, 1.0))
        else:
            transport.step_frame(-1)
    elif key == k.Key_Comma:
        transport.step_frame(-1)
    elif key == k.Key_Period:
        transport.step_frame(1)
    elif key == k.Key_Left:
        transport.seek(max(0, transport.position_ms() - _SEEK_STEP_MS))
    elif key == k.Key_Right:
        transport.seek(transport.position_ms() + _SEEK_STEP_MS)
    elif key == k.Key_Home:
        transport.seek(0)
    elif key == k.Key_End:
        transport.pause()
        transport.seek(transport.length_ms())
    elif key == k.Key_M:
        transport.set_muted(not transport.muted())
    else:
        return False
    return True


# --------------------------------------------------------------------------- widgets


class TransportBar(QWidget):
    """Play/pause, frame steps, a scrubber with times, frame counter, speed, loop, mute.

    It drives whatever :class:`Transport` it is given (one player, or a
    :class:`SyncGroup`) and shows its state when :meth:`refresh` is called. Its controls
    take no keyboard focus, so keys reach the player that owns the bar.

    Attributes:
        play_button, back_button, forward_button: the tool buttons.
        slider: the scrubber, in milliseconds.
        time_label: ``"00:01.25 / 00:05.00"``.
        frame_label: ``"Frame 31 / 120"``.
        speed: the rate selector (0.25×–2×; shuttle rates appear when used).
        loop_button, mute_button: checkable toggles.

    Signals:
        scrubbed(int): the user dragged the scrubber to this position (ms).
    """

    scrubbed = Signal(int)

    def __init__(self, transport: Transport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._transport = transport
        self._frames_shown = -1
        self._build()
        self._connect_signals()

    def _build(self) -> None:
        self.play_button = self._button(self.tr("Play (Space)"))
        # Editors' step glyphs: a triangle against a bar (no standard icon means "one frame").
        self.back_button = self._button(self.tr("Previous frame (,)"), "◀|")
        self.forward_button = self._button(self.tr("Next frame (.)"), "|▶")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setPageStep(_SEEK_STEP_MS)
        self.slider.setToolTip(self.tr("Drag to scrub; ← → move one second"))
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.time_label = QLabel()
        self.time_label.setFont(fixed)
        self.frame_label = QLabel()
        self.frame_label.setFont(fixed)
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip(self.tr("Playback speed (J K L shuttle)"))
        for rate in SPEEDS:
            self.speed.addItem(self._rate_text(rate), rate)
        self.loop_button = self._button(self.tr("Loop at the end"), self.tr("Loop"))
        self.loop_button.setCheckable(True)
        self.mute_button = self._button(self.tr("Mute (M)"), self.tr("Mute"))
        self.mute_button.setCheckable(True)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.back_button)
        controls.addWidget(self.play_button)
        controls.addWidget(self.forward_button)
        controls.addSpacing(8)
        controls.addWidget(self.time_label)
        controls.addSpacing(12)
        controls.addWidget(self.frame_label)
        controls.addStretch(1)
        controls.addWidget(self.speed)
        controls.addWidget(self.loop_button)
        controls.addWidget(self.mute_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.slider)
        layout.addLayout(controls)

    def _button(self, tip: str, text: str = "") -> QToolButton:
        button = QToolButton()
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        if text:
            button.setText(text)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _rate_text(self, rate: float) -> str:
        return self.tr("{rate}×").format(rate=f"{rate:g}")

    def _connect_signals(self) -> None:
        t = self._transport
        self.play_button.clicked.connect(lambda: self._do(t.toggle))
        self.back_button.clicked.connect(lambda: self._do(lambda: t.step_frame(-1)))
        self.forward_button.clicked.connect(lambda: self._do(lambda: t.step_frame(1)))
        self.slider.sliderMoved.connect(self._scrub)
        self.slider.actionTriggered.connect(self._slider_action)
        self.speed.activated.connect(lambda i: self._do(lambda: t.set_rate(self.speed.itemData(i))))
        self.loop_button.toggled.connect(lambda on: self._do(lambda: t.set_loop(on)))
        self.mute_button.toggled.connect(lambda on: self._do(lambda: t.set_muted(on)))

    def _do(self, action: Callable[[], object]) -> None:
        action()
        self.refresh()

    def _scrub(self, ms: int) -> None:
        self._transport.seek(ms)
        self.scrubbed.emit(ms)
        self.refresh()

    def _slider_action(self, action: int) -> None:
        # Clicks on the groove page by a second: seek to where the slider will be.
        if action in (
            QSlider.SliderAction.SliderPageStepAdd.value,
            QSlider.SliderAction.SliderPageStepSub.value,
        ):
            self._transport.seek(self.slider.sliderPosition())

    def refresh(self) -> None:
        """Show the transport's state: position, times, frame, rate, toggles."""
        t = self._transport
        pos, length, fps = t.position_ms(), t.length_ms(), t.fps()
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, length))
            self.slider.setValue(pos)
            self.slider.blockSignals(False)
        self.time_label.setText(f"{format_time(pos)} / {format_time(length)}")
        frames = max(1, round(length * fps / 1000)) if length else 0
        frame = min(frame_at(pos, fps) + 1, frames) if frames else 0
        self.frame_label.setText(self.tr("Frame {n} / {total}").format(n=frame, total=frames))
        if frames != self._frames_shown:  # room for the widest number: the label never jumps
            self._frames_shown = frames
            widest = self.tr("Frame {n} / {total}").format(n=frames, total=frames)
            self.frame_label.setMinimumWidth(
                self.frame_label.fontMetrics().horizontalAdvance(widest)
            )
        playing = t.is_playing()
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip(
            self.tr("Pause (Space)") if playing else self.tr("Play (Space)")
        )
        self._show_rate(t.rate())
        for button, on in ((self.loop_button, t.loop()), (self.mute_button, t.muted())):
            if button.isChecked() != on:
                button.blockSignals(True)
                button.setChecked(on)
                button.blockSignals(False)

    def _show_rate(self, rate: float) -> None:
        index = self.speed.findData(rate)
        if index < 0:  # a shuttle rate (4×) or one set by a sync group
            index = sum(1 for i in range(self.speed.count()) if self.speed.itemData(i) < rate)
            self.speed.insertItem(index, self._rate_text(rate), rate)
        if self.speed.currentIndex() != index:
            self.speed.setCurrentIndex(index)


class PlayerWidget(QWidget):
    """A video surface with a transport bar and the player keys, over one backend.

    The surface is a native window that the backend draws into. A ``QTimer`` polls the
    backend while the widget lives; keys act when the widget has focus (clicking the
    surface gives it focus): see :func:`handle_transport_key`.

    When the backend is a fallback (``backend.fallback_reason``), a closable banner at the
    top says so. It shows once per widget: closing it, or loading other clips, does not
    bring it back; pass ``show_notice=False`` to widgets after the first (a compare grid).

    Attributes:
        backend: the :class:`PlayerBackend` (the widget owns it and releases it on close).
        surface: the native child widget the video is drawn into.
        transport: the :class:`TransportBar`.
        banner: the fallback notice (a ``QWidget`` holding a label and a close button).

    Signals:
        position_changed(int): the position moved, in milliseconds.
        ended(): playback stopped at the end of the clip (never while looping).
    """

    position_changed = Signal(int)
    ended = Signal()

    def __init__(
        self,
        backend: PlayerBackend,
        parent: QWidget | None = None,
        *,
        show_notice: bool = True,
        poll_ms: int = _POLL_MS,
    ) -> None:
        super().__init__(parent)
        self.backend = backend
        self._last_pos: int | None = None
        self._released = False
        self._build(show_notice)
        self._connect_signals()
        self.backend.attach(self.surface)
        self._timer.start(poll_ms)
        self.refresh()

    def _build(self, show_notice: bool) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.banner = QWidget()
        self.banner.setObjectName("playerBanner")
        self.banner.setStyleSheet(
            "#playerBanner { background: #fff4ce; border-bottom: 1px solid #e0c36a; }"
            "#playerBanner QLabel { color: #4a3b00; }"
        )
        self._banner_text = QLabel()
        self._banner_text.setWordWrap(True)
        self._banner_close = QToolButton()
        self._banner_close.setText("✕")
        self._banner_close.setAutoRaise(True)
        self._banner_close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._banner_close.setToolTip(self.tr("Hide this notice"))
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 4, 4)
        banner_layout.addWidget(self._banner_text, 1)
        banner_layout.addWidget(self._banner_close, 0, Qt.AlignmentFlag.AlignTop)
        reason = self.backend.fallback_reason
        if show_notice and reason:
            self._banner_text.setText(
                self.tr("VLC is not available, so Qt Multimedia plays instead. {reason}").format(
                    reason=reason
                )
            )
        else:
            self.banner.hide()

        self.surface = QWidget()
        self.surface.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.surface.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)
        self.surface.setAutoFillBackground(True)
        palette = self.surface.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("black"))
        self.surface.setPalette(palette)
        self.surface.setMinimumSize(QSize(160, 90))
        self.surface.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.transport = TransportBar(self.backend)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.transport)
        self._timer = QTimer(self)

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self.refresh)
        self._banner_close.clicked.connect(self.banner.hide)

    def sizeHint(self) -> QSize:
        return QSize(640, 440)

    def load(self, path: Path) -> None:
        """Open ``path`` paused on its first frame.

        Raises:
            MediaError: the file is not a playable video.
        """
        self.backend.load(Path(path))
        self.refresh()

    def refresh(self) -> None:
        """Poll the backend: emit :attr:`ended` and :attr:`position_changed`, update the bar."""
        ended = self.backend.tick()
        pos = self.backend.position_ms()
        self.transport.refresh()
        if pos != self._last_pos:
            self._last_pos = pos
            self.position_changed.emit(pos)
        if ended:
            self.ended.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
        elif handle_transport_key(self.backend, event.key()):
            event.accept()
            self.refresh()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: Any) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def release(self) -> None:
        """Stop polling and free the backend; closing the widget does this too."""
        if not self._released:
            self._released = True
            self._timer.stop()
            self.backend.release()

    def closeEvent(self, event: Any) -> None:
        self.release()
        super().closeEvent(event)


# --------------------------------------------------------------------------- sync


Alignment = Literal["start", "relative"]


class SyncGroup(QObject):
    """Two to four players kept in step under one transport (the compare grid).

    Every call on the group goes to each member; positions are the leader's. With
    ``"start"`` alignment all clips share one clock in milliseconds from their starts
    (a shorter clip holds its last frame until the others loop); the leader is the
    longest clip. With ``"relative"`` alignment each clip is at the same *fraction* of its
    length, the followers' rates are scaled to finish together, and the leader is the
    first member. A drift tick every ``interval_ms`` re-seeks a playing follower that is
    more than ``tolerance_frames`` of its frames away from where it should be, and
    restarts one that stopped early. ``interval_ms=0`` starts no timer: call
    :meth:`tick` and :meth:`correct_drift` yourself (tests).

    It implements :class:`Transport`, so a :class:`TransportBar` can drive it.

    Attributes:
        backends: the members' backends, in the order given.
        corrections: how many drift re-seeks were made.

    Signals:
        position_changed(int): the leader's position moved (ms), polled by the drift tick.
        ended(): the leader stopped at its end.
        drift_corrected(int, int): member index and its drift in ms, after a re-seek.
    """

    position_changed = Signal(int)
    ended = Signal()
    drift_corrected = Signal(int, int)

    def __init__(
        self,
        members: Sequence[PlayerBackend | PlayerWidget],
        *,
        align: Alignment = "start",
        tolerance_frames: float = 1.0,
        interval_ms: int = 250,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not 2 <= len(members) <= 4:
            raise ValueError(f"a sync group holds 2 to 4 players, not {len(members)}")
        self.backends: list[PlayerBackend] = [
            m.backend if isinstance(m, PlayerWidget) else m for m in members
        ]
        self._ticks_members = not any(isinstance(m, PlayerWidget) for m in members)
        self.tolerance_frames = tolerance_frames
        self.corrections = 0
        self._align: Alignment = align
        self._rate = 1.0
        self._loop = False
        self._muted = False
        self._last_pos: int | None = None
        self._leader = self.backends[0]
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer)
        if interval_ms > 0:
            self._timer.start(interval_ms)
        self.set_alignment(align)

    # ------------------------------------------------------------ alignment

    @property
    def leader(self) -> PlayerBackend:
        """The member whose clock the others follow (chosen by :meth:`set_alignment`)."""
        return self._leader

    def followers(self) -> list[tuple[int, PlayerBackend]]:
        lead = self.leader
        return [(i, b) for i, b in enumerate(self.backends) if b is not lead]

    def alignment(self) -> Alignment:
        return self._align

    def set_alignment(self, align: Alignment) -> None:
        """Switch between ``"start"`` and ``"relative"`` and bring everyone into line."""
        if align not in ("start", "relative"):
            raise ValueError(f"alignment is 'start' or 'relative', not {align!r}")
        self._align = align
        if align == "start":
            self._leader = max(self.backends, key=lambda b: b.length_ms())
        else:
            self._leader = self.backends[0]
        self.set_rate(self._rate)
        self.set_loop(self._loop)
        self._align_followers(force=True)

    def target_for(self, backend: PlayerBackend, leader_ms: float) -> float:
        """Where ``backend`` should be when the leader is at ``leader_ms``."""
        lead = self.leader
        if backend is lead:
            return leader_ms
        if self._align == "relative":
            return leader_ms / max(lead.length_ms(), 1) * backend.length_ms()
        return min(leader_ms, backend.length_ms())

    def _align_followers(self, *, force: bool) -> None:
        lead = self.leader
        pos = lead.position_ms()
        playing = lead.is_playing()
        for index, member in self.followers():
            target = self.target_for(member, pos)
            last_frame = member.length_ms() - 1000.0 / member.fps()
            if target >= last_frame:  # past a shorter clip's end: it rests on its last frame
                if not member.is_playing() and member.position_ms() >= last_frame - 1:
                    continue
            elif playing and not member.is_playing():  # it ended early, or the leader looped
                member.seek(target)
                member.play()
                continue
            drift = member.position_ms() - target
            if force or abs(drift) > self.tolerance_frames * 1000.0 / member.fps():
                member.seek(target)
                if not force:
                    self.corrections += 1
                    self.drift_corrected.emit(index, round(drift))

    def correct_drift(self) -> None:
        """One drift check (the timer calls this); only while the leader plays."""
        if self.leader.is_playing():
            self._align_followers(force=False)

    def _on_timer(self) -> None:
        ended = self.tick()
        self.correct_drift()
        pos = self.position_ms()
        if pos != self._last_pos:
            self._last_pos = pos
            self.position_changed.emit(pos)
        if ended:
            self.ended.emit()

    # ------------------------------------------------------------ transport

    def tick(self) -> bool:
        """Tick members the group owns (bare backends); ``True`` when the leader ended.

        Members given as :class:`PlayerWidget` are ticked by their own widgets.
        """
        ended = False
        if self._ticks_members:
            for member in self.backends:
                if member.tick() and member is self.leader:
                    ended = True
        return ended

    def play(self) -> None:
        lead = self.leader
        if lead.position_ms() >= lead.length_ms() - 1000.0 / lead.fps():
            self.seek(0)
        pos = lead.position_ms()
        lead.play()
        for _, member in self.followers():
            if self.target_for(member, pos) < member.length_ms() - 1000.0 / member.fps():
                member.play()

    def pause(self) -> None:
        for member in self.backends:
            member.pause()
        self._align_followers(force=True)

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)

    def seek(self, ms: float) -> None:
        lead = self.leader
        lead.seek(ms)
        pos = lead.position_ms()
        for _, member in self.followers():
            member.seek(self.target_for(member, pos))

    def step_frame(self, frames: int = 1) -> None:
        """Step every player: each by its own frames where clocks match, else to the leader."""
        lead = self.leader
        lead.step_frame(frames)
        pos = lead.position_ms()
        for _, member in self.followers():
            target = self.target_for(member, pos)
            half_frame = 500.0 / member.fps()
            if self._align == "start" and member.fps() == lead.fps():
                member.step_frame(frames)  # VLC steps forward exactly; seeks land near
                if abs(member.position_ms() - target) < half_frame:
                    continue
            member.pause()
            member.seek(target)

    def position_ms(self) -> int:
        return self.leader.position_ms()

    def length_ms(self) -> int:
        return self.leader.length_ms()

    def fps(self) -> float:
        return self.leader.fps()

    def is_playing(self) -> bool:
        return self.leader.is_playing()

    def set_rate(self, rate: float) -> None:
        """The leader's rate; in relative mode followers scale theirs to finish together."""
        self._rate = float(rate)
        lead = self.leader
        for member in self.backends:
            scale = 1.0
            if self._align == "relative" and member is not lead:
                scale = member.length_ms() / max(lead.length_ms(), 1)
            member.set_rate(self._rate * scale)

    def rate(self) -> float:
        return self._rate

    def set_loop(self, loop: bool) -> None:
        """Loop at the leader's end; in start mode shorter clips wait for the leader."""
        self._loop = bool(loop)
        lead = self.leader
        for member in self.backends:
            member.set_loop(self._loop and (member is lead or self._align == "relative"))

    def loop(self) -> bool:
        return self._loop

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)
        for member in self.backends:
            member.set_muted(self._muted)

    def muted(self) -> bool:
        return self._muted

    def close(self) -> None:
        """Stop the drift tick (the members stay with their owners)."""
        self._timer.stop()
