"""The Library's grid: posters drawn with their verdict, stars and caption by
:class:`TakeDelegate` in :class:`TakeGrid`, a ``QListView`` in icon mode."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from takestock.core.takes import Take
from takestock.ui.library_model import LibraryModel

#: One grid cell; the poster is 16:9 inside it.
TILE = QSize(176, 146)
_PAD = 6
_USABLE = QColor("#2e7d32")
_REJECT = QColor("#c62828")
_STAR = QColor("#f5a623")

Index = QModelIndex | QPersistentModelIndex


def _poster_box(tile: QSize) -> QSize:
    width = tile.width() - 2 * _PAD
    return QSize(width, round(width * 9 / 16))


# --------------------------------------------------------------------------- grid


_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_SELECTED = QStyle.StateFlag.State_Selected
_FOCUSED = QStyle.StateFlag.State_HasFocus
_STARS = tuple("★" * n + "☆" * (5 - n) for n in range(6))


class TakeDelegate(QStyledItemDelegate):
    """Paints one take: poster (or a placeholder), verdict badge, length, caption, stars.

    Painting runs for every visible cell on every scroll step, so everything that does
    not change per take (fonts, colours, badge sizes, elided captions) is made once.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._small = QFont()
        self._small.setPointSizeF(max(7.0, self._small.pointSizeF() * 0.85))
        self._bold = QFont(self._small)
        self._bold.setBold(True)
        self._metrics = QFontMetrics(self._small)
        bold_metrics = QFontMetrics(self._bold)
        self._line = self._metrics.height()
        self._pill_height = self._line + 2
        self._box = _poster_box(TILE)
        self._badges = {
            verdict: (text, bold_metrics.horizontalAdvance(text) + 14, colour)
            for verdict, text, colour in (
                ("usable", "✓ " + self.tr("usable"), _USABLE),
                ("reject", "✕ " + self.tr("reject"), _REJECT),
            )
        }
        self._placeholders = {"failed": self.tr("no preview"), "loading": "…"}
        self._captions: dict[tuple[str, str], str] = {}
        self._lengths: dict[float, tuple[str, int]] = {}
        self._dark = QColor("#1e1e1e")
        self._shade = QColor(0, 0, 0, 160)
        self._white = QColor("white")
        self._grey = QColor("#8a8a8a")

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(TILE)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        tile = index.data(LibraryModel.TileRole)
        if tile is None:
            return
        take, image, image_state = tile
        palette = option.palette
        rect: QRect = option.rect
        state = option.state
        selected = bool(state & _SELECTED)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if selected or state & _FOCUSED:
            frame = rect.adjusted(2, 2, -3, -3)
            highlight = palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(highlight.darker(140) if state & _FOCUSED else Qt.PenStyle.NoPen)
            painter.setBrush(highlight if selected else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(frame, 6, 6)

        box = self._box
        poster = QRect(rect.x() + _PAD, rect.y() + _PAD, box.width(), box.height())
        painter.fillRect(poster, self._dark)
        if image is not None:
            size = image.size().scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(poster.center())
            painter.drawImage(target, image)
        else:
            placeholder = self._placeholders.get(image_state)
            if placeholder:
                painter.setFont(self._small)
                painter.setPen(self._grey)
                painter.drawText(poster, _CENTER, placeholder)
        self._paint_badges(painter, poster, take)

        text = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        line = self._line
        caption = QRect(poster.x(), poster.bottom() + 4, poster.width(), line)
        painter.setFont(self._small)
        painter.setPen(text)
        painter.drawText(caption, _LEFT, self._caption(take, caption.width()))
        under = QRect(poster.x(), caption.bottom() + 1, poster.width(), line)
        stars = take.stars or 0
        painter.setPen(_STAR if stars else palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(under, _LEFT, _STARS[stars])
        painter.setPen(text)
        painter.drawText(under, _RIGHT, f"#{take.id}")

    def _caption(self, take: Take, width: int) -> str:
        key = (take.vendor, take.model)
        found = self._captions.get(key)
        if found is None:
            found = self._metrics.elidedText(
                f"{take.vendor} · {take.model}", Qt.TextElideMode.ElideRight, width
            )
            self._captions[key] = found
        return found

    def _paint_badges(self, painter: QPainter, poster: QRect, take: Take) -> None:
        height = self._pill_height
        painter.setFont(self._bold)
        badge = self._badges.get(take.verdict)
        if badge is not None:
            text, width, colour = badge
            area = QRect(poster.x() + 4, poster.y() + 4, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(area, height / 2, height / 2)
            painter.setPen(self._white)
            painter.drawText(area, _CENTER, text)
        length = self._lengths.get(take.duration_s)
        if length is None:
            label = f"{take.duration_s:.1f} s"
            length = (label, QFontMetrics(self._bold).horizontalAdvance(label) + 10)
            self._lengths[take.duration_s] = length
        label, width = length
        pill = QRect(poster.right() - width - 3, poster.bottom() - height - 3, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._shade)
        painter.drawRoundedRect(pill, 4, 4)
        painter.setPen(self._white)
        painter.drawText(pill, _CENTER, label)


class TakeGrid(QListView):
    """An icon-mode list of takes: uniform cells laid out in batches, drag-only (copy),
    several selectable; it paints ``empty_text`` when it has no rows.

    Attributes:
        empty_text: what to say when there is nothing to show.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = ""
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)  # also turns dragging off: back on below
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setUniformItemSizes(True)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setWrapping(True)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(TILE.height() // 3)
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def selectRow(self, row: int) -> None:
        """Select ``row`` alone and make it current (as ``QTableView.selectRow``)."""
        model = self.model()
        if model is None or not 0 <= row < model.rowCount():
            return
        index = model.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.scrollTo(index)

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        model = self.model()
        if self.empty_text and (model is None or model.rowCount() == 0):
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            area = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text
            )
