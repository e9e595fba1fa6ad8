"""The Compare screen's wipe: two takes' exact frames on one picture, with a divider.

Frames are decoded with PyAV by :func:`takestock.core.media.poster_frame` on worker
threads and cached on disk (see :mod:`takestock.ui.screens.compare` for why frames do
not come from the players).
"""

from __future__ import annotations

import queue
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from takestock.core.errors import TakestockError
from takestock.core.media import poster_frame

__all__ = ["FRAME_MEMORY", "WIPE_FRAME_SIDE", "FrameLoader", "WipeView"]

#: The longest side of a wipe frame, in pixels (frames are never enlarged).
WIPE_FRAME_SIDE = 1280
#: Decoded wipe frames kept in memory (both sides together).
FRAME_MEMORY = 48


# --------------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True)
class _Pixels:
    """A decoded frame as plain RGB bytes (safe to pass between threads)."""

    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class _Ask:
    side: int
    path: Path
    sha256: str
    frame: int
    fps: float

    @property
    def key(self) -> tuple[str, int]:
        return self.sha256, self.frame


class FrameLoader(QObject):
    """Decodes single frames off the UI thread, one at a time per side, latest wins.

    A request made while that side is busy replaces any request still waiting, so
    scrubbing never queues up work. Frames are cached as JPEGs under ``cache_dir`` and
    the newest few are kept in memory. Workers hand back plain bytes through a queue and
    an argument-less signal; every Qt object is made on the UI thread.

    Signals:
        frame_ready(int, QImage): a side (0 left, 1 right) and its newest frame.
        frame_loaded(int, int, QImage): the same, with the frame's index in its clip.
        failed(int, str): a side whose frame could not be decoded, and why.
    """

    frame_ready = Signal(int, QImage)
    frame_loaded = Signal(int, int, QImage)
    failed = Signal(int, str)
    _arrived = Signal()  # emitted by a worker thread: results wait in self._results

    def __init__(self, cache_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache_dir = cache_dir
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="compare-frames")
        self._results: queue.SimpleQueue[tuple[_Ask, _Pixels | BaseException]] = queue.SimpleQueue()
        self._busy = [False, False]
        self._waiting: list[_Ask | None] = [None, None]
        self._memory: OrderedDict[tuple[str, int], QImage] = OrderedDict()
        self._closed = False
        self._arrived.connect(self._drain)

    def request(self, side: int, path: Path, sha256: str, frame: int, fps: float) -> None:
        """Ask for ``frame`` of the clip at ``path`` on ``side``; answered by ``frame_ready``."""
        ask = _Ask(side, Path(path), sha256, max(0, frame), fps)
        cached = self._memory.get(ask.key)
        if cached is not None:
            self._memory.move_to_end(ask.key)
            self._waiting[side] = None
            self.frame_ready.emit(side, cached)
            self.frame_loaded.emit(side, ask.frame, cached)
            return
        if self._busy[side]:
            self._waiting[side] = ask
            return
        self._submit(ask)

    def busy(self) -> bool:
        return any(self._busy) or any(a is not None for a in self._waiting)

    def _submit(self, ask: _Ask) -> None:
        if self._closed:
            return
        self._busy[ask.side] = True
        self._pool.submit(self._work, ask)

    def _work(self, ask: _Ask) -> None:
        """On a worker thread: decode (or read from the cache) and report back."""
        result: _Pixels | BaseException
        try:
            result = self._load(ask)
        except BaseException as exc:  # delivered to the UI, never dropped
            result = exc
        self._results.put((ask, result))
        with suppress(RuntimeError):  # the loader was deleted meanwhile
            self._arrived.emit()

    def _load(self, ask: _Ask) -> _Pixels:
        dest = self._cache_dir / f"{ask.sha256[:40]}-{WIPE_FRAME_SIDE}-{ask.frame:06d}.jpg"
        if not dest.exists():
            poster_frame(
                ask.path,
                dest,
                at_s=ask.frame / ask.fps,
                max_size=(WIPE_FRAME_SIDE, WIPE_FRAME_SIDE),
                quality=90,
            )
        try:
            with Image.open(dest) as picture:
                rgb = picture.convert("RGB")
        except OSError as exc:
            dest.unlink(missing_ok=True)
            raise TakestockError(f"{ask.path.name}: the frame could not be read back.") from exc
        return _Pixels(rgb.width, rgb.height, rgb.tobytes())

    def _drain(self) -> None:
        while True:
            try:
                ask, result = self._results.get_nowait()
            except queue.Empty:
                return
            self._on_done(ask, result)

    def _on_done(self, ask: _Ask, result: _Pixels | BaseException) -> None:
        self._busy[ask.side] = False
        if isinstance(result, _Pixels):
            image = QImage(
                result.data, result.width, result.height, result.width * 3,
                QImage.Format.Format_RGB888,
            ).copy()  # fmt: skip
            self._memory[ask.key] = image
            while len(self._memory) > FRAME_MEMORY:
                self._memory.popitem(last=False)
            self.frame_ready.emit(ask.side, image)
            self.frame_loaded.emit(ask.side, ask.frame, image)
        else:
            message = result.message if isinstance(result, TakestockError) else repr(result)
            self.failed.emit(ask.side, message)
        waiting, self._waiting[ask.side] = self._waiting[ask.side], None
        if waiting is not None:
            self.request(waiting.side, waiting.path, waiting.sha256, waiting.frame, waiting.fps)

    def close(self) -> None:
        """Stop taking work; a decode under way finishes and is dropped."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


class WipeView(QWidget):
    """Two pictures on one rectangle, split by a divider the user drags.

    Left of the divider is the left picture, right of it the right one. Mouse drags and
    ``[`` / ``]`` (handled by the screen) move it.

    Attributes:
        divider: where the split is, 0.0 (all right picture) to 1.0 (all left).
        images: the two pictures (``None`` until loaded).
        labels: what each corner says (vendor and model, or "A" and "B" when blind).

    Signals:
        divider_moved(float): the user moved the divider.
    """

    divider_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.divider = 0.5
        self.images: list[QImage | None] = [None, None]
        self.labels = ["", ""]
        self.note = ""
        self.setMinimumSize(QSize(320, 180))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.SplitHCursor)
        self.setMouseTracking(False)

    def set_image(self, side: int, image: QImage | None) -> None:
        self.images[side] = image
        self.update()

    def set_labels(self, left: str, right: str) -> None:
        self.labels = [left, right]
        self.update()

    def set_note(self, note: str) -> None:
        self.note = note
        self.update()

    def set_divider(self, fraction: float) -> None:
        self.divider = min(max(fraction, 0.0), 1.0)
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the pictures are drawn: the first one's shape, fitted and centred."""
        area = QRectF(self.rect())
        image = self.images[0] or self.images[1]
        if image is None or image.isNull() or area.isEmpty():
            return area
        scale = min(area.width() / image.width(), area.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        return QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(self.rect(), QColor("black"))
        target = self.picture_rect()
        split = target.left() + target.width() * self.divider
        for side, image in enumerate(self.images):
            if image is None or image.isNull():
                continue
            painter.save()
            if side == 0:
                painter.setClipRect(
                    QRectF(target.left(), target.top(), split - target.left(), target.height())
                )
            else:
                painter.setClipRect(
                    QRectF(split, target.top(), target.right() - split, target.height())
                )
            painter.drawImage(target, image)
            painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
        painter.drawLine(QPointF(split, target.top()), QPointF(split, target.bottom()))
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.drawEllipse(QPointF(split, target.center().y()), 7, 7)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for side, text in enumerate(self.labels):
            if not text:
                continue
            width = metrics.horizontalAdvance(text) + 16
            height = metrics.height() + 8
            x = target.left() + 8 if side == 0 else target.right() - 8 - width
            box = QRectF(x, target.bottom() - 16 - height, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor("white"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        if self.note or not any(self.images):
            note = self.note or self.tr("Decoding frames…")
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(
                QRectF(self.rect()).adjusted(0, 12, 0, 0),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                note,
            )
        painter.end()

    def _drag_to(self, x: float) -> None:
        target = self.picture_rect()
        if target.width() > 0:
            self.set_divider((x - target.left()) / target.width())
            self.divider_moved.emit(self.divider)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_to(event.position().x())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_to(event.position().x())
        super().mouseMoveEvent(event)


# ---------------------------------------------------------------------- cells
