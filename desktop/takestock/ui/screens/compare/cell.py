"""One take of the compare grid, and the player a cell opens by default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from takestock.core.arena import TakeFacts
from takestock.core.errors import TakestockError
from takestock.core.takes import Take
from takestock.ui.arena_models import job_cost_text, wait_text
from takestock.ui.player import (
    PlayerBackend,
    PlayerWidget,
    screen_backend,
)
from takestock.ui.still import ExactStill
from takestock.ui.take_picker import take_label

BackendFactory = Callable[[Take], PlayerBackend]


def default_backend(take: Take) -> PlayerBackend:
    """Every take gets the backend a screen opens (ui.player.screen_backend)."""
    return screen_backend()


class CompareCell(QFrame):
    """One take of the grid: a caption (vendor, model, cost, wait) over its player.

    Attributes:
        take: the :class:`Take` shown.
        facts: its :class:`TakeFacts` (cost and wait), or ``None`` when unknown.
        player: its :class:`PlayerWidget`, or ``None`` when the file could not be opened.
        title, details: the caption's labels.
        pick_button: "Best (n)", marks the take usable.

    Signals:
        pick_requested(int): the take id whose "Best" button was pressed.
    """

    pick_requested = Signal(int)
    swap_requested = Signal(int)

    def __init__(
        self,
        take: Take,
        facts: TakeFacts | None,
        number: int,
        player: PlayerWidget | None,
        error: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.take = take
        self.facts = facts
        self.player = player
        self._number = number
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("compareCell")
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self._title_size = font.pointSizeF() * 1.1
        font.setPointSizeF(self._title_size)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.pick_button = QToolButton()
        self.pick_button.setText(self.tr("Best (%1)").replace("%1", str(number)))
        self.pick_button.setToolTip(
            self.tr("Mark this take usable (%1)").replace("%1", str(number))
        )
        self.pick_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.swap_button = QToolButton()
        self.swap_button.setText(self.tr("⇄ Other take…"))
        self.swap_button.setToolTip(self.tr("Show another take of the comparison in this tile"))
        self.swap_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        caption = QHBoxLayout()
        caption.setContentsMargins(8, 6, 8, 4)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.title)
        text.addWidget(self.details)
        caption.addLayout(text, 1)
        caption.addWidget(self.swap_button, 0, Qt.AlignmentFlag.AlignTop)
        caption.addWidget(self.pick_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addLayout(caption)
        if player is not None:
            layout.addWidget(player, 1)
        else:
            broken = QLabel(error or self.tr("This take could not be opened."))
            broken.setWordWrap(True)
            broken.setAlignment(Qt.AlignmentFlag.AlignCenter)
            broken.setMinimumSize(QSize(160, 90))
            layout.addWidget(broken, 1)
        self.pick_button.clicked.connect(lambda: self.pick_requested.emit(self.take.id))
        self.swap_button.clicked.connect(lambda: self.swap_requested.emit(self.take.id))
        self.set_blind(None)

    def name(self) -> str:
        return take_label(self.take)

    def detail_text(self) -> str:
        t, f = self.take, self.facts
        parts = []
        cost = job_cost_text(f.cost if f else None)
        if cost:
            parts.append(cost)
        if f is not None and f.wait_s is not None:
            parts.append(self.tr("waited %1").replace("%1", wait_text(f.wait_s)))
        parts.append(f"{t.duration_s:.1f} s · {t.width}×{t.height} · {t.fps:g} fps")
        return " · ".join(parts)

    def set_blind(self, letter: str | None) -> None:
        """Hide who made the take behind ``letter`` ("A", "B"), or show it (``None``)."""
        font = self.title.font()
        font.setPointSizeF(self._title_size * (1.6 if letter is not None else 1.0))
        self.title.setFont(font)
        if letter is not None:
            self.title.setText(letter)
            self.details.setText(self.tr("Hidden until you vote"))
            self.pick_button.hide()
            self.swap_button.hide()
            self.setToolTip("")
            return
        verdict = {"usable": " ✓", "reject": " ✗"}.get(self.take.verdict, "")
        self.title.setText(self.name() + verdict)
        self.details.setText(self.detail_text())
        self.pick_button.show()
        self.swap_button.show()
        self.pick_button.setEnabled(self.take.verdict != "usable")
        self.setToolTip(f"#{self.take.id} · {self.take.path.name}")

    def set_take(self, take: Take) -> None:
        """The same take with a new verdict."""
        self.take = take
        self.set_blind(None)


def open_player(
    take: Take, factory: BackendFactory, focus: QWidget, frames: Path, *, notice: bool
) -> tuple[PlayerWidget | None, ExactStill | None, str]:
    """A player for ``take`` (its keys going to ``focus``) with the still that shows the
    exact frame when paused (ui.still), or why there is none; ``notice``: the fallback
    banner (shown once per screen, not on every grid rebuilt for a blind pair)."""
    try:
        backend = factory(take)
        player = PlayerWidget(backend, show_notice=notice)
        player.transport.hide()
        player.setFocusProxy(focus)
        player.load(take.path)
        still = ExactStill(player, frames)
        still.load(take.path)
    except TakestockError as exc:
        return None, None, exc.message
    except Exception as exc:  # a backend that cannot start: say so in the cell
        return None, None, str(exc)
    return player, still, ""
