"""The Library's inspector: the current take's player, what made it, and its rating."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import TakestockError
from takestock.core.reasons import reason_choices
from takestock.core.takes import Take, TakeDetails
from takestock.ui.library_model import ReasonsModel
from takestock.ui.player import BackendUnavailable, PlayerBackend, PlayerWidget
from takestock.ui.still import ExactStill

__all__ = ["NOTES_DEBOUNCE_MS", "PLAYER_DEBOUNCE_MS", "TakeInspector", "runs"]

PLAYER_DEBOUNCE_MS = 120
NOTES_DEBOUNCE_MS = 600

PlayerFactory = Callable[[], PlayerBackend]
_STAR = QColor("#f5a623")


def runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Rows as runs of consecutive rows (first, last): one selection range each, so that
    restoring a selection of thousands of takes is a few ranges, not thousands."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _amount(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return QLocale().toString(number, "g", 6)


def _params_text(params: Mapping[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        if value in (None, "", {}, []):
            continue
        if key in ("image", "last_frame"):
            value = Path(str(value)).name
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{key}: {value}")
    return "\n".join(parts)


class TakeInspector(QWidget):
    """The current take: a player, what made it, and what the creator thinks of it.

    The player is built on first use and then reused: each take loads into the same
    backend, ``PLAYER_DEBOUNCE_MS`` after the selection settles (arrowing through the
    grid does not open every clip). Edits are sent up as signals; the screen writes them.

    Attributes:
        player: the :class:`PlayerWidget`, or ``None`` until a take is shown.
        verdict_buttons: verdict -> its checkable button.
        star_buttons: the five star buttons (index 0 is one star).
        reasons: the :class:`ReasonsModel` behind ``reasons_view``.
        add_reason_edit: type a reason and press Enter to add it to the list.
        notes: the take's notes (saved ``NOTES_DEBOUNCE_MS`` after typing stops).
        prompt, params, facts, job, cost, title: read-only labels.
        open_button: opens the take in the system's player.

    Signals:
        rating_requested(dict): a verdict or stars were clicked: ``{"verdict": ...}`` or
            ``{"stars": n}``.
        reasons_edited(list): the ticked reasons changed.
        reason_added(str): a new reason was typed.
        notes_edited(int, str): a take's notes changed (take id, text).
        open_requested(): the open button was clicked.
    """

    rating_requested = Signal(dict)
    reasons_edited = Signal(list)
    reason_added = Signal(str)
    notes_edited = Signal(int, str)
    open_requested = Signal()

    def __init__(
        self,
        player_factory: PlayerFactory,
        parent: QWidget | None = None,
        *,
        frames_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._player_factory = player_factory
        self._frames_dir = frames_dir
        self.player: PlayerWidget | None = None
        self.still: ExactStill | None = None
        self._details: TakeDetails | None = None
        self._pending_path: Path | None = None
        self._notes_take: int | None = None
        self._build()
        self._player_timer = QTimer(self, singleShot=True, interval=PLAYER_DEBOUNCE_MS)
        self._notes_timer = QTimer(self, singleShot=True, interval=NOTES_DEBOUNCE_MS)
        self._connect_signals()
        self.show_details(None)

    def _build(self) -> None:
        self._player_area = QWidget()
        self._player_layout = QVBoxLayout(self._player_area)
        self._player_layout.setContentsMargins(0, 0, 0, 0)
        self._player_note = QLabel()
        self._player_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._player_note.setWordWrap(True)
        self._player_note.setMinimumHeight(120)
        self._player_note.setStyleSheet("background: #1e1e1e; color: #bbbbbb; padding: 12px;")
        self._player_layout.addWidget(self._player_note)

        self.title = QLabel()
        bold = self.title.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.1)
        self.title.setFont(bold)
        self.facts = QLabel()
        self.facts.setWordWrap(True)

        self.verdict_buttons: dict[str, QToolButton] = {}
        self._verdict_group = QButtonGroup(self)
        self._verdict_group.setExclusive(True)
        verdict_row = QHBoxLayout()
        for verdict, text, key in (
            ("usable", self.tr("✓ Usable"), "P"),
            ("reject", self.tr("✕ Reject"), "X"),
            ("unrated", self.tr("Unrated"), "U"),
        ):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(self.tr("Mark %s (%s)") % (text, key))
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self._verdict_group.addButton(button)
            self.verdict_buttons[verdict] = button
            verdict_row.addWidget(button)
        verdict_row.addStretch(1)
        stars_row = QHBoxLayout()
        stars_row.setSpacing(0)
        self.star_buttons: list[QToolButton] = []
        for n in range(1, 6):
            star = QToolButton()
            star.setAutoRaise(True)
            star.setText("☆")
            star.setToolTip(self.tr("%s stars (key %s; 0 clears)") % (n, n))
            star.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            font = star.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            star.setFont(font)
            self.star_buttons.append(star)
            stars_row.addWidget(star)
        stars_row.addStretch(1)

        self.reasons = ReasonsModel(self)
        self.reasons_view = QListView()
        self.reasons_view.setModel(self.reasons)
        self.reasons_view.setFlow(QListView.Flow.LeftToRight)
        self.reasons_view.setWrapping(True)
        self.reasons_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.reasons_view.setSpacing(2)
        self.reasons_view.setUniformItemSizes(False)
        self.reasons_view.setMinimumHeight(44)
        self.reasons_view.setMaximumHeight(78)
        self.reasons_view.setFrameShape(QFrame.Shape.NoFrame)
        self.reasons_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.add_reason_edit = QLineEdit()
        self.add_reason_edit.setPlaceholderText(self.tr("Add reason… (Enter)"))

        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText(self.tr("Notes"))
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(64)

        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prompt_version = QLabel()
        self.prompt_version.setWordWrap(True)
        self.params = QLabel()
        self.params.setWordWrap(True)
        self.params.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.job = QLabel()
        self.job.setWordWrap(True)
        self.job.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cost = QLabel()
        self.cost.setWordWrap(True)
        self.open_button = QPushButton(self.tr("Open in player (Enter)"))

        details = QWidget()
        form = QFormLayout(details)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.title)
        form.addRow(self.facts)
        form.addRow(verdict_row)
        form.addRow(stars_row)
        form.addRow(self._heading(self.tr("Reasons")))
        form.addRow(self.reasons_view)
        form.addRow(self.add_reason_edit)
        form.addRow(self._heading(self.tr("Notes")))
        form.addRow(self.notes)
        form.addRow(self.tr("Prompt"), self.prompt)
        form.addRow("", self.prompt_version)
        form.addRow(self.tr("Parameters"), self.params)
        form.addRow(self.tr("Job"), self.job)
        form.addRow(self.tr("Cost"), self.cost)
        form.addRow(self.open_button)
        self._form = form
        self._empty = QLabel()
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._empty.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        # Shown one at a time; a box layout (unlike a stacked widget) lets the wrapped
        # labels ask for the height their width needs.
        self._details_page = details
        pages = QWidget()
        pages_layout = QVBoxLayout(pages)
        pages_layout.setContentsMargins(0, 0, 0, 0)
        pages_layout.addWidget(self._empty, 1)
        pages_layout.addWidget(details)
        scroll = QScrollArea()
        scroll.setWidget(pages)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self._split = QSplitter(Qt.Orientation.Vertical)
        self._split.addWidget(self._player_area)
        self._split.addWidget(scroll)
        self._split.setStretchFactor(0, 2)
        self._split.setStretchFactor(1, 3)
        self._split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._split)

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    def _connect_signals(self) -> None:
        for verdict, button in self.verdict_buttons.items():
            button.clicked.connect(
                lambda _=False, v=verdict: self.rating_requested.emit({"verdict": v})
            )
        for n, star in enumerate(self.star_buttons, start=1):
            star.clicked.connect(lambda _=False, n=n: self._on_star(n))
        self.reasons.checked_changed.connect(self.reasons_edited)
        self.add_reason_edit.returnPressed.connect(self._on_add_reason)
        self.notes.textChanged.connect(self._on_notes_typed)
        self._notes_timer.timeout.connect(self._save_notes)
        self._player_timer.timeout.connect(self._load_player)
        self.open_button.clicked.connect(self.open_requested)

    # ------------------------------------------------------------ showing

    @property
    def details(self) -> TakeDetails | None:
        return self._details

    def show_details(self, details: TakeDetails | None, reasons: Sequence[str] = ()) -> None:
        """Show ``details`` (``None``: nothing selected), offering ``reasons``."""
        self.flush_notes()
        same_take = (
            details is not None
            and self._details is not None
            and details.take.id == self._details.take.id
        )
        self._details = details
        enabled = details is not None
        for widget in (self.reasons_view, self.add_reason_edit, self.notes, self.open_button):
            widget.setEnabled(enabled)
        for button in (*self.verdict_buttons.values(), *self.star_buttons):
            button.setEnabled(enabled)
        if details is None:
            self._show_nothing()
            return
        take = details.take
        self._empty.hide()
        self._details_page.show()
        self.title.setText(self.tr("Take #%s · %s · %s") % (take.id, take.vendor, take.model))
        self.facts.setText(self._facts(take))
        self.show_rating(take)
        self.reasons.set_reasons(reason_choices(reasons, take.reasons), take.reasons)
        if not same_take:
            self.notes.blockSignals(True)
            self.notes.setPlainText(take.notes)
            self.notes.blockSignals(False)
            self._notes_take = take.id
            self._queue_player(take.path)
        self._show_prompt(details)
        self.params.setText(_params_text(details.params) or self.tr("—"))
        self.job.setText(self._job_text(details))
        self.cost.setText(self._cost_text(details))

    def show_rating(self, take: Take) -> None:
        self.verdict_buttons[take.verdict].setChecked(True)
        for n, star in enumerate(self.star_buttons, start=1):
            star.setText("★" if take.stars and n <= take.stars else "☆")
            star.setStyleSheet(f"color: {_STAR.name()};" if take.stars and n <= take.stars else "")

    def _show_nothing(self) -> None:
        self._empty.setText(
            self.tr(
                "No take selected.\n\nPick one in the grid: arrow keys move, Shift or Ctrl "
                "select several, P/X/U and 1–5 rate them all."
            )
        )
        self._details_page.hide()
        self._empty.show()
        self.title.clear()
        self.facts.clear()
        self._verdict_group.setExclusive(False)
        for button in self.verdict_buttons.values():
            button.setChecked(False)
        self._verdict_group.setExclusive(True)
        for star in self.star_buttons:
            star.setText("☆")
            star.setStyleSheet("")
        self.reasons.set_reasons([], [])
        self.notes.blockSignals(True)
        self.notes.clear()
        self.notes.blockSignals(False)
        self._notes_take = None
        for label in (self.prompt, self.prompt_version, self.params, self.job, self.cost):
            label.clear()
        self._player_timer.stop()
        self._pending_path = None
        self._player_note.setText(self.tr("Select a take to play it here."))
        self._player_note.show()
        if self.player is not None:
            self.player.backend.pause()
            self.player.hide()

    def _facts(self, take: Take) -> str:
        made = QDateTime.fromSecsSinceEpoch(int(take.created_at)).toString("yyyy-MM-dd HH:mm")
        parts = [
            f"{take.duration_s:.1f} s",
            f"{take.width}×{take.height}",
            f"{take.fps:g} fps" if take.fps else "",
            take.video_codec,
            self.tr("audio") if take.has_audio else self.tr("silent"),
            QLocale().formattedDataSize(take.size_bytes),
            self.tr("imported") if take.source == "imported" else "",
            made,
        ]
        return " · ".join(p for p in parts if p)

    def _show_prompt(self, details: TakeDetails) -> None:
        text = details.prompt_text or self.tr("(no prompt)")
        if details.negative:
            text += "\n" + self.tr("Negative: %s") % details.negative
        self.prompt.setText(text)
        if details.version is not None:
            line = self.tr("Version %s of %s of “%s”") % (
                details.version,
                details.versions,
                details.prompt_title,
            )
            if details.tags:
                line += " · " + ", ".join(f"#{t}" for t in details.tags)
        elif details.prompt_text:
            line = self.tr("Typed on the Generate screen (not a saved prompt)")
        else:
            line = ""
        self.prompt_version.setText(line)

    def _job_text(self, details: TakeDetails) -> str:
        take = details.take
        if take.job_id is None:
            return self.tr("Imported — no job")
        lines = [self.tr("Job %s · %s") % (take.job_id, details.job_state or "?")]
        if details.vendor_task_id:
            lines.append(self.tr("Vendor task id: %s") % details.vendor_task_id)
        if details.account:
            lines.append(self.tr("Account: %s") % details.account)
        return "\n".join(lines)

    def _cost_text(self, details: TakeDetails) -> str:
        estimate = details.estimate
        if details.take.job_id is None:
            return self.tr("—")
        unit = (estimate or {}).get("unit") or self.tr("credits")
        lines = []
        if estimate:
            line = self.tr("Estimated %s %s") % (_amount(estimate.get("amount")), unit)
            if estimate.get("money"):
                line += f" (≈ {_amount(estimate['money'])} {estimate.get('currency') or ''})"
            lines.append(line.strip())
        if details.cost_actual is not None:
            lines.append(self.tr("Charged %s %s") % (_amount(details.cost_actual), unit))
        elif estimate and details.job_state == "done":
            # The ledger takes the estimate when the vendor reports no cost (core.jobs).
            lines.append(self.tr("Charged as estimated (the vendor reports no cost)"))
        return "\n".join(lines)

    # ------------------------------------------------------------ player

    def _queue_player(self, path: Path) -> None:
        self._pending_path = path
        if self.player is None or not self.player.isVisible():
            self._player_note.setText(self.tr("Opening the take…"))
        self._player_timer.start()

    def _load_player(self) -> None:
        path = self._pending_path
        if path is None or not self.isVisible():
            return
        if self.player is None:
            try:
                backend = self._player_factory()
            except BackendUnavailable as exc:
                self._player_note.setText(str(exc))
                return
            self.player = PlayerWidget(backend)
            self.player.setMinimumHeight(160)
            # Wide enough for the transport's numbers: "00:00.4" and "Frame 1" clipped
            # at 1280x800 otherwise.
            self.player.refresh()
            self.setMinimumWidth(
                max(self.minimumWidth(), self.player.transport.minimumSizeHint().width() + 24)
            )
            if self._frames_dir is not None:
                # Stepping shows the exact frame the label names (see ui.still).
                self.still = ExactStill(self.player, self._frames_dir)
            self._player_note.hide()
            self._player_layout.addWidget(self.player)
        try:
            self.player.load(path)
        except TakestockError as exc:
            self.player.backend.pause()
            self._player_note.setText(exc.message)
            self._player_note.show()
            self.player.hide()
            return
        self._player_note.hide()
        self.player.show()
        if self.still is not None:
            self.still.load(path)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._pending_path is not None and self._details is not None:
            self._player_timer.start()

    def hideEvent(self, event: Any) -> None:
        if self.player is not None:
            self.player.backend.pause()
        super().hideEvent(event)

    def release(self) -> None:
        """Free the player backend (closing the screen)."""
        self.flush_notes()
        self._player_timer.stop()
        if self.still is not None:
            self.still.release()
        if self.player is not None:
            self.player.release()

    # ------------------------------------------------------------ edits

    def _on_star(self, n: int) -> None:
        take = self._details.take if self._details else None
        # Clicking the star a take already has clears them, as in Lightroom.
        self.rating_requested.emit({"stars": 0 if take is not None and take.stars == n else n})

    def _on_add_reason(self) -> None:
        text = self.add_reason_edit.text().strip()
        if text:
            self.reason_added.emit(text)
            self.add_reason_edit.clear()

    def _on_notes_typed(self) -> None:
        self._notes_timer.start()

    def flush_notes(self) -> None:
        """Send notes typed but not yet saved."""
        if self._notes_timer.isActive():
            self._notes_timer.stop()
            self._save_notes()

    def _save_notes(self) -> None:
        if self._notes_take is not None:
            self.notes_edited.emit(self._notes_take, self.notes.toPlainText())
