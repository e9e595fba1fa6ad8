"""Arena: a personal leaderboard of vendor-models from blind duels, beside what each one
costs per usable second; and every comparison group's planned, spent and refunded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from takestock.core.arena import tags_in_use
from takestock.core.jobs import JobEvent, get_job
from takestock.ui.arena_models import (
    BatchesModel,
    LeaderboardModel,
    plural,
)
from takestock.ui.bridge import EngineBridge
from takestock.ui.ops import Changes
from takestock.ui.shortcuts import screen_hint
from takestock.wiring import Services

__all__ = ["ArenaScreen"]

#: Refreshes wait this long after the last change, so a burst of job events is one read.
REFRESH_DEBOUNCE_MS = 400


def _table(model: Any, stretch: int) -> QTableView:
    """A read-only row table whose column ``stretch`` takes the spare width."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view


def _empty(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMargin(24)
    return label


class ArenaScreen(QWidget):
    """The leaderboard (per tag) and the batches, in two tabs (Alt+L, Alt+B).

    The figures are re-read when the screen is shown and, while it is shown, shortly
    after jobs change; F5 reads them again.

    Attributes:
        tabs: the ``QTabWidget`` ("Leaderboard", "Batches").
        leaderboard: the :class:`LeaderboardModel`; ``board_view`` shows it.
        tag_filter: "All tags" or one prompt tag.
        summary: "12 duels · 3 models rated".
        batches: the :class:`BatchesModel`; ``batches_view`` shows it.

    Signals:
        compare_requested(int): the user asked to open this group (request id) in Compare
            (Enter or a double-click on a batch).
    """

    compare_requested = Signal(int)

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self._build()
        self._connect_signals()
        self._update_board_state()
        self._update_batches_state()

    def _build(self) -> None:
        store = self._services.store
        self.leaderboard = LeaderboardModel(store)
        self.batches = BatchesModel(store)

        self.tag_filter = QComboBox()
        self.tag_filter.setMinimumContentsLength(16)
        self.tag_filter.setToolTip(self.tr("Rank from duels on prompts with this tag only"))
        tag_label = QLabel(self.tr("&Tag:"))
        tag_label.setBuddy(self.tag_filter)
        self.summary = QLabel()
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Read the duels and costs again (F5)"))
        filters = QHBoxLayout()
        filters.addWidget(tag_label)
        filters.addWidget(self.tag_filter)
        filters.addSpacing(12)
        filters.addWidget(self.summary, 1)
        filters.addWidget(self.refresh_button)

        self.board_view = _table(self.leaderboard, LeaderboardModel.COLUMNS.index("Vendor / model"))
        self._board_stack = QStackedWidget()
        self._board_empty = _empty("")
        self._board_stack.addWidget(self._board_empty)
        self._board_stack.addWidget(self.board_view)
        self.board_note = QLabel(
            self.tr(
                "Ratings are a Bradley–Terry fit of your blind duels on the Elo scale: 1500 is "
                "the average model, 100 points more wins about 64% of duels; ± is a 95% range "
                "that narrows with more duels. Usable rate counts takes you judged; failed jobs "
                "(no video) are counted apart. Cost per usable second divides everything spent "
                "on a model, rejects and failures included, by the usable seconds it made."
            )
        )
        self.board_note.setWordWrap(True)
        self.board_note.setEnabled(False)
        board_page = QWidget()
        board_layout = QVBoxLayout(board_page)
        board_layout.addLayout(filters)
        board_layout.addWidget(self._board_stack, 1)
        board_layout.addWidget(self.board_note)

        self.batches_view = _table(self.batches, BatchesModel.COLUMNS.index("Prompt"))
        self._batches_stack = QStackedWidget()
        self._batches_empty = _empty("")
        self.set_screen_keys({})
        self._batches_stack.addWidget(self._batches_empty)
        self._batches_stack.addWidget(self.batches_view)
        self.batches_note = QLabel(
            self.tr(
                "Planned is the sum of the estimates when the batch was queued; spent and "
                "refunded come from the credits ledger (≈: estimated, on no tracked account). "
                "Enter or a double-click opens a batch in Compare."
            )
        )
        self.batches_note.setWordWrap(True)
        self.batches_note.setEnabled(False)
        batches_page = QWidget()
        batches_layout = QVBoxLayout(batches_page)
        batches_layout.addWidget(self._batches_stack, 1)
        batches_layout.addWidget(self.batches_note)

        self.tabs = QTabWidget()
        self.tabs.addTab(board_page, self.tr("&Leaderboard"))
        self.tabs.addTab(batches_page, self.tr("&Batches"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._fill_tags()

    def shutdown(self) -> None:
        """Before the library closes: no timer may read it afterwards."""
        self._refresh_timer.stop()

    def _connect_signals(self) -> None:
        self.tag_filter.activated.connect(self._on_tag_chosen)
        self.refresh_button.clicked.connect(self.refresh)
        self.batches_view.activated.connect(self._on_batch_activated)
        self.batches_view.doubleClicked.connect(self._on_batch_activated)
        self._refresh_timer.timeout.connect(self.refresh)
        self._bridge.job_changed.connect(self._on_job_changed)
        refresh_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        refresh_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh_key.activated.connect(self.refresh)
        open_key = QShortcut(QKeySequence(Qt.Key.Key_Return), self.batches_view)
        open_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_key.activated.connect(
            lambda: self._on_batch_activated(self.batches_view.currentIndex())
        )

    # ------------------------------------------------------------------ public

    def refresh(self) -> None:
        """Read the leaderboard, the tags and the batches again."""
        self._fill_tags()
        self.leaderboard.refresh()
        self.batches.refresh()
        self._update_board_state()
        self._update_batches_state()

    def set_tag(self, tag: str | None) -> None:
        """Rank from duels on prompts tagged ``tag`` only (``None``: all)."""
        index = 0 if tag is None else self.tag_filter.findData(tag)
        if tag is not None and index < 0:
            self.tag_filter.addItem(tag, tag)
            index = self.tag_filter.count() - 1
        self.tag_filter.setCurrentIndex(index)
        self.leaderboard.set_tag(tag)
        self._update_board_state()

    # ------------------------------------------------------------------ internals

    def _fill_tags(self) -> None:
        current = self.tag_filter.currentData()
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem(self.tr("All tags"), None)
        for tag in tags_in_use(self._services.store):
            self.tag_filter.addItem(tag, tag)
        index = self.tag_filter.findData(current) if current is not None else 0
        self.tag_filter.setCurrentIndex(max(index, 0))
        self.tag_filter.blockSignals(False)
        if current is not None and index < 0:
            self.leaderboard.set_tag(None)  # the tag is gone

    def _update_board_state(self) -> None:
        model = self.leaderboard
        rated = sum(1 for r in range(model.rowCount()) if model.standing(r).rating is not None)
        duels = model.duels()
        self._board_stack.setCurrentIndex(1 if model.rowCount() else 0)
        if not model.rowCount():
            self.summary.setText("")
        elif not duels:
            self.summary.setText(
                self.tr("No blind duels yet — vote on the Compare screen (Ctrl+B) to rank models.")
            )
        else:
            self.summary.setText(
                plural(duels, "%n duel", "%n duels", "ArenaScreen")
                + " · "
                + plural(rated, "%n model rated", "%n models rated", "ArenaScreen")
                + (f" · {model.tag}" if model.tag else "")
            )

    def _update_batches_state(self) -> None:
        self._batches_stack.setCurrentIndex(1 if self.batches.rowCount() else 0)

    def _on_tag_chosen(self, index: int) -> None:
        self.leaderboard.set_tag(self.tag_filter.itemData(index))
        self._update_board_state()

    def _on_batch_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.compare_requested.emit(self.batches.request_id(index.row()))

    def _on_job_changed(self, event: JobEvent) -> None:
        if not self.isVisible():
            return  # showEvent reads everything again
        if event.take_id is not None or event.state in ("done", "failed", "cancelled"):
            self._refresh_timer.start()
            return
        # A job moved along: only its batch's figures may have changed.
        try:
            request_id = get_job(self._services.store, event.job_id).request_id
        except Exception:
            self._refresh_timer.start()
            return
        self.batches.invalidate(request_id)

    def set_screen_keys(self, keys: Mapping[str, str]) -> None:
        """The keys that show each screen (from the window's actions), for hints."""
        generate, compare = screen_hint(keys, "generate"), screen_hint(keys, "compare")
        self._board_empty.setText(
            self.tr(
                "No takes to rank yet. Generate one prompt on two or more models on the "
                "Generate screen%1, then vote blind on the Compare screen%2: "
                "Blind vote (Ctrl+B), then A, B or T for a tie."
            )
            .replace("%1", generate)
            .replace("%2", compare)
        )
        self._batches_empty.setText(
            self.tr(
                "No batches yet. Every request you send from the Generate screen%1 is a "
                "batch: here you will see what it was planned to cost, what it spent and "
                "what was refunded."
            ).replace("%1", generate)
        )

    def apply_changes(self, changes: Changes) -> None:
        """Duels, ratings or jobs changed (here or in another process)."""
        if not (changes.takes or changes.jobs or changes.prompts):
            return
        if self.isVisible():  # else showEvent reads everything again
            self._refresh_timer.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()
