"""The compare screen's wipe page: two takes on one picture with a divider, which two
(when more than two are open), and the exact frames under the playhead.

Frames come from :class:`~takestock.ui.wipe.FrameLoader` (PyAV on worker threads, see
the package docstring); requests are latest-wins and skipped when the frames asked for
are the ones already shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from takestock.ui.player import SyncGroup, frame_at
from takestock.ui.screens.compare.cell import CompareCell
from takestock.ui.wipe import FrameLoader, WipeView

__all__ = ["WipePanel"]


def _tr(text: str) -> str:
    # The screen's context, so these strings keep the translations made for the screen.
    return QCoreApplication.translate("CompareScreen", text)


class WipePanel(QWidget):
    """The wipe view, its left/right choices and the frame loader that feeds it.

    Attributes:
        view: the :class:`WipeView`.
        left_choice, right_choice: which cells the two sides show.
        choices: the row holding them (shown with more than two takes open).
        loader: the :class:`FrameLoader`.
        last_pos: the frames and takes last asked for, ``None`` to ask again.

    Signals:
        sides_changed(): the user picked another take for a side.
    """

    sides_changed = Signal()

    def __init__(self, frames_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = WipeView()
        self.left_choice = QComboBox()
        self.right_choice = QComboBox()
        for combo in (self.left_choice, self.right_choice):
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            combo.activated.connect(self._on_sides)
        self.choices = QWidget()
        row = QHBoxLayout(self.choices)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(_tr("Left:")))
        row.addWidget(self.left_choice, 1)
        row.addSpacing(12)
        row.addWidget(QLabel(_tr("Right:")))
        row.addWidget(self.right_choice, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        hint = QHBoxLayout()
        hint.addWidget(self.choices, 1)
        hint.addWidget(QLabel(_tr("Drag the divider, or press [ and ]")))
        layout.addLayout(hint)
        self.loader = FrameLoader(frames_dir, self)
        self.loader.frame_ready.connect(self._on_frame)
        self.loader.failed.connect(self._on_failed)
        self.last_pos: tuple[int, ...] | None = None

    def clear(self) -> None:
        self.view.set_image(0, None)
        self.view.set_image(1, None)

    def fill_choices(self, cells: Sequence[CompareCell], blind: bool) -> None:
        names = [f"{n + 1}. {c.name()}" for n, c in enumerate(cells)]
        for combo, default in ((self.left_choice, 0), (self.right_choice, 1)):
            keep = combo.currentIndex()
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(keep if 0 <= keep < len(names) else default)
        if self.left_choice.currentIndex() == self.right_choice.currentIndex() and len(names) > 1:
            self.right_choice.setCurrentIndex(1 if self.left_choice.currentIndex() != 1 else 0)
        self.update_labels(cells, blind)

    def pair(
        self, cells: Sequence[CompareCell], blind: bool
    ) -> tuple[CompareCell, CompareCell] | None:
        """The two cells the wipe shows: the first two in a blind round or with two open."""
        if len(cells) < 2:
            return None
        if blind or len(cells) == 2:
            return cells[0], cells[1]
        left = max(self.left_choice.currentIndex(), 0)
        right = max(self.right_choice.currentIndex(), 0)
        return cells[left], cells[right]

    def update_labels(self, cells: Sequence[CompareCell], blind: bool) -> None:
        pair = self.pair(cells, blind)
        if pair is None:
            return
        if blind:
            self.view.set_labels("A", "B")
        else:
            self.view.set_labels(pair[0].name(), pair[1].name())

    def request_frames(self, cells: Sequence[CompareCell], blind: bool, sync: SyncGroup) -> None:
        """Ask for the two frames under the group's playhead, unless they are on show."""
        pair = self.pair(cells, blind)
        if pair is None:
            return
        self.update_labels(cells, blind)
        leader_ms = sync.position_ms()
        frames = []
        for cell in pair:
            take = cell.take
            fps = take.fps if take.fps > 0 else 24.0
            if cell.player is None:
                return
            at_ms = sync.target_for(cell.player.backend, leader_ms)
            last = max(0, round(take.duration_s * fps) - 1)
            frames.append(min(frame_at(at_ms, fps), last))
        key = (frames[0], frames[1], pair[0].take.id, pair[1].take.id)
        if key == self.last_pos:
            return
        self.last_pos = key
        for side, (cell, frame) in enumerate(zip(pair, frames, strict=True)):
            take = cell.take
            self.loader.request(side, take.path, take.sha256, frame, take.fps or 24.0)

    def _on_sides(self, _index: int) -> None:
        self.clear()
        self.last_pos = None
        self.sides_changed.emit()

    def _on_frame(self, side: int, image: QImage) -> None:
        self.view.set_note("")
        self.view.set_image(side, image)

    def _on_failed(self, _side: int, message: str) -> None:
        self.view.set_note(message)
