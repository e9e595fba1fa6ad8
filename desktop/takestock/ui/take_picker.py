"""Pick one take out of many by its poster and number: Compare's "show another take here".

Every take offered is reachable (a group of 20 shows all 20), each named the way the
rest of the app names a take (:func:`take_label`: ``#12 · kling · kling-v2.1``), with
its poster made off the UI thread by a :class:`~takestock.ui.library_model.ThumbnailLoader`.
Arrows move, Enter (or a double click) chooses, Escape leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from takestock.core.takes import Take
from takestock.ui.library_model import ThumbnailLoader

__all__ = ["POSTER", "TakePicker", "take_label"]

#: The size posters are shown at in the picker.
POSTER = QSize(160, 90)
_ID = Qt.ItemDataRole.UserRole


def take_label(take: Take) -> str:
    """How a take is named wherever several are side by side: number, vendor, model."""
    return f"#{take.id} · {take.vendor} · {take.model}"


class TakePicker(QDialog):
    """A grid of takes to choose one from.

    Attributes:
        grid: the ``QListWidget`` of takes (item data: the take id).

    Signals:
        chosen(int): the take id picked.
    """

    chosen = Signal(int)

    def __init__(
        self,
        takes: Sequence[Take],
        *,
        current: int | None = None,
        shown: Collection[int] = (),
        loader: ThumbnailLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Show another take here"))
        self._loader = loader
        self._items: dict[str, list[QListWidgetItem]] = {}
        self.grid = QListWidget()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setIconSize(POSTER)
        self.grid.setGridSize(QSize(POSTER.width() + 44, POSTER.height() + 56))
        self.grid.setWordWrap(True)
        self.grid.setUniformItemSizes(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        placeholder = QPixmap(POSTER)
        placeholder.fill(Qt.GlobalColor.black)
        for take in takes:
            text = take_label(take)
            if take.id in shown and take.id != current:
                text += "\n" + self.tr("(on screen: they swap)")
            elif take.verdict != "unrated":
                text += "\n" + {"usable": "✓", "reject": "✗"}[take.verdict]
            item = QListWidgetItem(QIcon(placeholder), text)
            item.setData(_ID, take.id)
            item.setToolTip(f"{text}\n{(take.prompt or '').strip()[:200]}")
            self.grid.addItem(item)
            self._items.setdefault(take.sha256, []).append(item)
            if take.id == current:
                self.grid.setCurrentItem(item)
            if loader is not None:
                loader.request(take.sha256, take.path)
        if loader is not None:
            loader.loaded.connect(self._on_poster)
        hint = QLabel(self.tr("Arrows move · Enter shows the take · Esc keeps the tile"))
        hint.setEnabled(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.resize(4 * (POSTER.width() + 44) + 60, 2 * (POSTER.height() + 56) + 110)
        buttons.accepted.connect(self._choose_current)
        buttons.rejected.connect(self.reject)
        self.grid.itemActivated.connect(lambda item: self._choose(item))
        self.grid.setFocus()

    def take_ids(self) -> list[int]:
        return [self.grid.item(r).data(_ID) for r in range(self.grid.count())]

    def pick(self, take_id: int) -> None:
        """Choose ``take_id`` (what a double click on its poster does)."""
        for row in range(self.grid.count()):
            if self.grid.item(row).data(_ID) == take_id:
                self._choose(self.grid.item(row))
                return
        raise KeyError(take_id)

    def _choose_current(self) -> None:
        # The stubs say never None; Qt returns None when the grid is empty.
        item: QListWidgetItem | None = self.grid.currentItem()
        if item is None:
            self.reject()
        else:
            self._choose(item)

    def _choose(self, item: QListWidgetItem) -> None:
        self.chosen.emit(int(item.data(_ID)))
        self.accept()

    def _on_poster(self, sha: str, image: QImage) -> None:
        for item in self._items.get(sha, ()):
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def done(self, result: int) -> None:
        if self._loader is not None:
            self._loader.loaded.disconnect(self._on_poster)
            self._loader = None
        super().done(result)
