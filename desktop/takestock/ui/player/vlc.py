"""python-vlc in a QWidget (see the package docstring for how VLC steps frames)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from takestock.core.media import MediaInfo, probe
from takestock.ui.player.backends import (
    _VLC_MAX_CATCH_UP_MS,
    _VLC_SETTLE_S,
    DEFAULT_VLC_ARGS,
    FALLBACK_FPS,
    BackendUnavailable,
    TransportActions,
    _Timeline,
    _tr,
    frame_at,
)


class VlcBackend(TransportActions):
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
