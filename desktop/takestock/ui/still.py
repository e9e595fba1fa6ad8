"""The exact frame under a paused player's playhead, decoded with PyAV.

VLC cannot show a chosen frame while paused: a backward step or a paused seek paints a
frame 2-3 before the one asked for, and a pause can leave the picture one frame off
its counter (measured; see :mod:`takestock.ui.player`). Stepping through a clip to
judge it needs the picture and the frame label to agree, in the Library and in every
Compare tile together. So while a player is paused, :class:`ExactStill` puts the frame
its position names, decoded by :class:`~takestock.ui.wipe.FrameLoader` (PyAV, on
worker threads, cached on disk), in place of the video surface, and gives the surface
back the moment playback starts. Qt Multimedia pins paused frames exactly, so its
players are left alone.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path

from PySide6.QtCore import QObject, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPaintEvent, QWindow
from PySide6.QtWidgets import QApplication, QBoxLayout, QSizePolicy, QWidget

from takestock.ui.player import PlayerWidget, frame_at
from takestock.ui.wipe import FrameLoader

__all__ = ["ExactStill", "StillView"]

_POLL_MS = 40


class StillView(QWidget):
    """A picture scaled to fit, on black, like the video surface it stands in for.

    Attributes:
        image: the picture shown (``None``: black).
        frame: the index of the frame in its clip, or ``None``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.frame: int | None = None
        self.setMinimumSize(QSize(160, 90))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_frame(self, frame: int, image: QImage) -> None:
        self.frame, self.image = frame, image
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("black"))
        if self.image is None or self.image.isNull():
            return
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        box = QRect(0, 0, size.width(), size.height())
        box.moveCenter(self.rect().center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(box, self.image)


class ExactStill(QObject):
    """Shows a paused player's exact frame over its video surface.

    Attributes:
        player: the :class:`PlayerWidget` watched.
        view: the :class:`StillView` placed beside its surface (shown while paused).
        loader: the :class:`FrameLoader` decoding the frames.
    """

    def __init__(
        self, player: PlayerWidget, cache_dir: Path, parent: QObject | None = None
    ) -> None:
        super().__init__(parent or player)
        self.player = player
        self.view = StillView()
        layout = player.layout()
        assert isinstance(layout, QBoxLayout)  # the player's column: banner, surface, bar
        layout.insertWidget(layout.indexOf(player.surface) + 1, self.view, 1)
        self.view.hide()
        self.loader = FrameLoader(cache_dir, self)
        self._path: Path | None = None
        self._key = ""
        self._wanted: int | None = None
        self._timer = QTimer(self, interval=_POLL_MS)
        self._timer.timeout.connect(self.sync)
        self.loader.frame_loaded.connect(self._on_frame)
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.focusWindowChanged.connect(self._on_focus_window)
        self._released = False
        # Qt Multimedia shows paused frames exactly; a still would only cost decoding.
        self.enabled = player.backend.name != "qt"

    def load(self, path: Path) -> None:
        """The player opened ``path``: follow it."""
        self._path = Path(path)
        try:
            stat = self._path.stat()
            stamp = f"{self._path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            stamp = str(self._path)
        self._key = hashlib.sha256(stamp.encode()).hexdigest()
        self._wanted = None
        self.view.frame = None
        self._show_video()
        if self.enabled:
            self._timer.start()
            self.sync()

    def frame(self) -> int | None:
        """The frame on screen while the still is up; ``None`` while the video shows."""
        return self.view.frame if self.view.isVisible() else None

    def sync(self) -> None:
        """Put the still up (or take it down) to match the player now."""
        backend = self.player.backend
        if self._path is None or backend.is_playing():
            self._wanted = None
            self._show_video()
            return
        fps = backend.fps()
        last = max(0, round(backend.length_ms() * fps / 1000) - 1)
        frame = min(frame_at(backend.position_ms(), fps), last)
        if frame != self._wanted:
            self._wanted = frame
            self.loader.request(0, self._path, self._key, frame, fps)

    def _on_frame(self, _side: int, frame: int, image: QImage) -> None:
        if frame != self._wanted or self.player.backend.is_playing():
            return  # an older step, or playback resumed meanwhile
        self.view.set_frame(frame, image)
        if not self.view.isVisible():
            self._swap(self.player.surface, self.view)

    def _show_video(self) -> None:
        if self.view.isVisible():
            self._swap(self.view, self.player.surface)

    def _swap(self, out: QWidget, into: QWidget) -> None:
        out.hide()
        into.show()

    def _on_focus_window(self, window: QWindow | None) -> None:
        # WORKAROUND (Qt 6.12 offscreen platform): showing a native child window (the
        # surface, and this view beside it, native as its sibling) makes it the focus
        # window, and the keyboard falls out of the screen. Give the focus back to the
        # top-level window, which hands it to the widget that had it.
        with suppress(RuntimeError):  # a widget was deleted meanwhile
            ours = (self.view.windowHandle(), self.player.surface.windowHandle())
            if window is not None and window in ours:
                top = self.player.window().windowHandle()
                if top is not None and top is not window:
                    top.requestActivate()
                    QTimer.singleShot(0, self._restore_focus)

    def _restore_focus(self) -> None:
        # The window is active again, but Qt does not hand the focus back to the widget
        # that had it when the focus only moved between windows of one top level.
        with suppress(RuntimeError):
            last = self.player.window().focusWidget()
            if QApplication.focusWidget() is None and last is not None:
                last.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def release(self) -> None:
        if not self._released:
            self._released = True
            app = QGuiApplication.instance()
            if isinstance(app, QGuiApplication):  # None once the app is gone at exit
                app.focusWindowChanged.disconnect(self._on_focus_window)
        self._timer.stop()
        self.loader.close()
