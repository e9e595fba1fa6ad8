"""Blind duels on the compare screen: the voting bar and the reveal after a round."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from takestock.core.arena import Winner
from takestock.ui.arena_models import plural

__all__ = ["BlindBar", "reveal_html"]


def _tr(text: str) -> str:
    # The screen's context, so these strings keep the translations made for the screen.
    return QCoreApplication.translate("CompareScreen", text)


class BlindBar(QFrame):
    """The voting row shown during a blind round: which pair, and A / Tie / B / Skip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blindBar")
        self.setStyleSheet(
            "#blindBar { background: #e8f0fe; border: 1px solid #a8c0f0; border-radius: 4px; }"
            "#blindBar QLabel { color: #1a2b4c; }"
        )
        self.label = QLabel()
        self.vote_a_button = QPushButton(_tr("A is better (A)"))
        self.tie_button = QPushButton(_tr("Tie (T)"))
        self.vote_b_button = QPushButton(_tr("B is better (B)"))
        self.skip_button = QPushButton(_tr("Skip (S)"))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        for button in (self.vote_a_button, self.tie_button, self.vote_b_button, self.skip_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(button)


def reveal_html(votes: Sequence[tuple[int, int, Winner]], names: Mapping[int, str]) -> str:
    """Who was who in each of a round's ``votes`` (take ids A, B and the winner)."""

    def who(take_id: int) -> str:
        return f"<b>{html.escape(names.get(take_id, f'#{take_id}'))}</b>"

    items = []
    for a, b, winner in votes:
        if winner == "tie":
            line = _tr("A %1 tied with B %2").replace("%1", who(a)).replace("%2", who(b))
        elif winner == "a":
            line = _tr("A %1 beat B %2").replace("%1", who(a)).replace("%2", who(b))
        else:
            line = _tr("B %2 beat A %1").replace("%1", who(a)).replace("%2", who(b))
        items.append(f"<li>{line}</li>")
    return (
        plural(
            len(votes),
            "<b>Revealed.</b> Your blind vote, now in the Arena:",
            "<b>Revealed.</b> Your %n blind votes, now in the Arena:",
            "CompareScreen",
        )
        + f"<ol style='margin-top:2px'>{''.join(items)}</ol>"
    )
