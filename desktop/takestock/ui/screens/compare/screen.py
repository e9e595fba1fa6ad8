"""Compare: two to four takes side by side under one transport, a two-up wipe, and blind
duels that feed the arena (see the package docstring for how the wipe gets its frames)."""

from __future__ import annotations

import functools
import html
import random
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from takestock.core.arena import TakeFacts, Winner, blind_pairs, group_info, record_duel, take_facts
from takestock.core.errors import TakestockError
from takestock.core.jobs import JobEvent
from takestock.core.store import Store
from takestock.core.takes import Take, get_take, rate_take
from takestock.core.thumbnails import ThumbnailCache
from takestock.ui.arena_models import GroupsModel, plural
from takestock.ui.bridge import EngineBridge
from takestock.ui.library_model import ThumbnailLoader
from takestock.ui.ops import Changes, Ops
from takestock.ui.player import Alignment, PlayerWidget, SyncGroup, TransportBar
from takestock.ui.screens.compare.blind import BlindBar, reveal_html
from takestock.ui.screens.compare.cell import (
    BackendFactory,
    CompareCell,
    default_backend,
    open_player,
)
from takestock.ui.screens.compare.wipe_panel import WipePanel
from takestock.ui.shortcuts import player_shortcuts, screen_hint
from takestock.ui.still import ExactStill
from takestock.ui.take_picker import POSTER, TakePicker, take_label
from takestock.wiring import Services

#: The grid holds this many takes at most.
MAX_TAKES = 4
#: How often the shared transport and the wipe catch up with the players.
TICK_MS = 40


# --------------------------------------------------------------------- screen


class CompareScreen(QWidget):
    """Two to four takes in a synced grid, a two-up wipe, and blind duels.

    Pick a comparison group (one request fanned out to several models) or call
    :meth:`compare` with any takes. Keys: the player keys (Space, J K L, ``,`` ``.``,
    ← →, Home End, M) drive every player; 1–4 mark a take the best (usable); W toggles the
    wipe, ``[`` ``]`` move its divider; R switches alignment; Ctrl+L loops; Ctrl+B starts
    a blind round, where A, B and T vote and S skips a pair.

    Attributes:
        groups: the :class:`GroupsModel` behind ``group_combo``.
        group_combo: the recent comparison groups.
        align_combo: "Align starts" / "Align relative time".
        wipe_button, blind_button: checkable toggles.
        stage: a ``QStackedWidget``: the empty state, the grid, the wipe.
        wipe: the :class:`WipeView`; ``left_choice`` and ``right_choice`` pick its takes.
        cells: the :class:`CompareCell` s shown, in grid order.
        sync: the :class:`SyncGroup` over the cells' players (``None`` under two).
        transport: the shared :class:`TransportBar` (``None`` with no sync group).
        loader: the :class:`FrameLoader` for the wipe.
        blind_bar: the voting row; ``vote_a_button``, ``tie_button``, ``vote_b_button``,
            ``skip_button`` and ``blind_label`` live in it.
        reveal: who was who, after a blind round.
        message: one line of feedback.
        blind_seed: the seed of the current (or last) blind round's shuffle.

    Signals:
        duel_recorded(int): a blind vote was stored, with the duel's id.
        take_rated(int): "Best" marked this take usable.
    """

    duel_recorded = Signal(int)
    take_rated = Signal(int)

    def __init__(
        self,
        services: Services,
        bridge: EngineBridge,
        *,
        backend_factory: BackendFactory | None = None,
        seed: int | None = None,
        ops: Ops | None = None,
    ) -> None:
        super().__init__()
        self._own_ops = ops is None
        self.ops = ops or Ops(services.open_store, parent=self)
        self._services = services
        self._bridge = bridge
        self._backend_factory = backend_factory or default_backend
        self._frames = services.paths.thumbnails / "frames"  # decoded stills, shared
        self._rng: random.Random = (
            random.Random(seed) if seed is not None else random.SystemRandom()
        )
        self._takes: list[Take] = []
        self._pool: list[int] = []  # every take the comparison can show, in order
        self._posters: ThumbnailLoader | None = None
        self.picker: TakePicker | None = None
        self._facts: dict[int, TakeFacts] = {}
        self._request_id: int | None = None
        self._note = ""
        self._align: Alignment = "start"
        self._loop = False
        self._blind = False
        self._pairs: list[tuple[int, int]] = []
        self._pair_index = 0
        self._votes: list[tuple[int, int, Winner]] = []
        self._opened_once = False
        self._notice_shown = False
        self.blind_seed: int | None = None
        self.cells: list[CompareCell] = []
        self.stills: list[ExactStill] = []
        self.sync: SyncGroup | None = None
        self.transport: TransportBar | None = None
        self._build()
        self.setFocusProxy(self.stage)  # coming to the screen, the keys drive the players
        self._connect_signals()
        self._update_controls()
        self._select_group_in_combo()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.groups = GroupsModel(self._services.store)
        self.group_combo = QComboBox()
        self.group_combo.setModel(self.groups)
        self.group_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.group_combo.setMinimumContentsLength(40)
        self.group_combo.setToolTip(
            self.tr("Recent comparison groups: one prompt on several models")
        )
        group_label = QLabel(self.tr("&Group:"))
        group_label.setBuddy(self.group_combo)
        self.align_combo = QComboBox()
        self.align_combo.addItem(self.tr("Align starts"), "start")
        self.align_combo.addItem(self.tr("Align relative time"), "relative")
        self.align_combo.setToolTip(
            self.tr(
                "Starts: every clip at the same second (a shorter one holds its last frame). "
                "Relative: every clip at the same fraction of its length (R)"
            )
        )
        self.wipe_button = QPushButton(self.tr("Wipe"))
        self.wipe_button.setCheckable(True)
        self.wipe_button.setToolTip(self.tr("Two takes on one picture with a divider (W)"))
        self.blind_button = QPushButton(self.tr("Blind vote"))
        self.blind_button.setCheckable(True)
        self.blind_button.setToolTip(
            self.tr("Hide and shuffle the names; vote A, B or T (tie) for each pair (Ctrl+B)")
        )
        top = QHBoxLayout()
        top.addWidget(group_label)
        top.addWidget(self.group_combo, 1)
        top.addWidget(self.align_combo)
        top.addWidget(self.wipe_button)
        top.addWidget(self.blind_button)

        self.prompt_label = QLabel()
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.blind_bar = BlindBar()
        self.blind_label = self.blind_bar.label
        self.vote_a_button, self.tie_button = (
            self.blind_bar.vote_a_button,
            self.blind_bar.tie_button,
        )
        self.vote_b_button, self.skip_button = (
            self.blind_bar.vote_b_button,
            self.blind_bar.skip_button,
        )

        self.stage = QStackedWidget()
        self.stage.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.empty = QLabel()
        self.set_screen_keys({})
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid_page = QWidget()
        self._grid = QGridLayout(self.grid_page)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        self.wipe_panel = WipePanel(self._frames)
        self.wipe, self.loader = self.wipe_panel.view, self.wipe_panel.loader
        self.left_choice, self.right_choice = (
            self.wipe_panel.left_choice,
            self.wipe_panel.right_choice,
        )
        self.stage.addWidget(self.empty)
        self.stage.addWidget(self.grid_page)
        self.stage.addWidget(self.wipe_panel)

        self._transport_holder = QVBoxLayout()
        self._transport_holder.setContentsMargins(0, 0, 0, 0)
        self.reveal = QLabel()
        self.reveal.setWordWrap(True)
        self.reveal.setTextFormat(Qt.TextFormat.RichText)
        self.reveal.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        hint = QLabel(
            self.tr(
                "Space play · , . frame · ← → second · J K L shuttle · 1–4 best · "
                "W wipe · R alignment · Ctrl+L loop · Ctrl+B blind vote"
            )
        )
        hint.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.blind_bar)
        layout.addWidget(self.stage, 1)
        layout.addLayout(self._transport_holder)
        layout.addWidget(self.reveal)
        layout.addWidget(self.message)
        layout.addWidget(hint)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._groups_timer = QTimer(self, singleShot=True, interval=300)

    def _shortcut(self, keys: str, slot: Callable[[], object]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    def _connect_signals(self) -> None:
        self.group_combo.activated.connect(self._on_group_chosen)
        self.align_combo.activated.connect(self._on_align_chosen)
        self.wipe_button.toggled.connect(self.set_wipe)
        self.blind_button.toggled.connect(self.set_blind)
        self.vote_a_button.clicked.connect(lambda: self.vote("a"))
        self.vote_b_button.clicked.connect(lambda: self.vote("b"))
        self.tie_button.clicked.connect(lambda: self.vote("tie"))
        self.skip_button.clicked.connect(self.skip_pair)
        self.wipe_panel.sides_changed.connect(self._on_wipe_sides)
        self.wipe.divider_moved.connect(lambda _f: self.stage.setFocus())
        self._tick.timeout.connect(self._on_tick)
        self._groups_timer.timeout.connect(self._refresh_groups)
        self._bridge.job_changed.connect(self._on_job_changed)
        self.ops.changed.connect(self.apply_changes)
        self._shortcut("W", lambda: self.set_wipe(not self.wipe_button.isChecked()))
        self._shortcut("R", self._toggle_alignment)
        self._shortcut("Ctrl+L", self._toggle_loop)
        self._shortcut("Ctrl+B", lambda: self.set_blind(not self._blind))
        self._shortcut("[", lambda: self.wipe.set_divider(self.wipe.divider - 0.05))
        self._shortcut("]", lambda: self.wipe.set_divider(self.wipe.divider + 0.05))
        self._vote_keys = [
            self._shortcut("A", lambda: self.vote("a")),
            self._shortcut("B", lambda: self.vote("b")),
            self._shortcut("T", lambda: self.vote("tie")),
            self._shortcut("S", self.skip_pair),
        ]
        self._pick_keys = [
            self._shortcut(str(n + 1), functools.partial(self.pick_best, n))
            for n in range(MAX_TAKES)
        ]
        # Wherever the focus is in the screen (a button, a combo, a tile), the player
        # keys drive every tile together.
        player_shortcuts(self, lambda: self.sync, self._after_transport_key)

    # ------------------------------------------------------------------ public

    def compare(self, take_ids: Sequence[int], *, request_id: int | None = None) -> None:
        """Show these takes (2 to 4; of more, the first four, the rest a swap away)."""
        ids = list(dict.fromkeys(take_ids))
        store, root = self._services.store, self._services.library.root
        takes = []
        for take_id in ids[:MAX_TAKES]:
            try:
                takes.append(get_take(store, root, take_id))
            except TakestockError as exc:
                self.message.setText(exc.message)
        self._leave_blind(reveal=False)
        self._pool = ids
        self._takes = takes
        self._facts = take_facts(store, [t.id for t in takes])
        shared = {t.request_id for t in takes}
        self._request_id = (
            request_id if request_id is not None else (shared.pop() if len(shared) == 1 else None)
        )
        self._note = (
            self.tr("%1 of %2 takes shown; ⇄ on a tile shows another")
            .replace("%1", str(len(takes)))
            .replace("%2", str(len(ids)))
            if len(ids) > MAX_TAKES
            else ""
        )
        self._opened_once = True
        self.reveal.hide()
        self._votes = []
        self._show_prompt()
        self._show_takes(takes)
        self._select_group_in_combo()

    def pool(self) -> list[int]:
        """Every take this comparison can show (a group's, or those chosen)."""
        return list(self._pool)

    def choose_take(self, index: int) -> TakePicker | None:
        """Open the picker for tile ``index``: every take of the comparison, by poster."""
        if self._blind or not 0 <= index < len(self.cells):
            return None
        store, root = self._services.store, self._services.library.root
        takes = []
        for take_id in self._pool:
            with suppress(TakestockError):  # deleted since: not offered
                takes.append(get_take(store, root, take_id))
        if self._posters is None:
            cache = ThumbnailCache(self._services.paths.thumbnails)
            self._posters = ThumbnailLoader(cache, POSTER * self.devicePixelRatioF(), parent=self)
        self.picker = TakePicker(
            takes,
            current=self.cells[index].take.id,
            shown=self.shown_take_ids(),
            loader=self._posters,
            parent=self,
        )
        self.picker.chosen.connect(functools.partial(self.swap, index))
        self.picker.finished.connect(lambda _result: self.stage.setFocus())
        self.picker.open()
        return self.picker

    def swap(self, index: int, take_id: int) -> None:
        """Show ``take_id`` in tile ``index``; a take already shown trades places."""
        ids = self.shown_take_ids()
        if not 0 <= index < len(ids) or ids[index] == take_id:
            return
        if take_id in ids:
            ids[ids.index(take_id)] = ids[index]
        ids[index] = take_id
        store, root = self._services.store, self._services.library.root
        try:
            by_id = {t.id: t for t in self._takes}
            takes = [by_id.get(i) or get_take(store, root, i) for i in ids]
        except TakestockError as exc:
            self.message.setText(exc.message)
            return
        self._takes = takes
        self._facts = take_facts(store, ids)
        self._show_prompt()
        self._show_takes(takes)

    def open_group(self, request_id: int) -> None:
        """Compare the takes of one request (a comparison group)."""
        try:
            info = group_info(self._services.store, request_id)
        except TakestockError as exc:
            self.message.setText(exc.message)
            return
        self.compare(info.take_ids, request_id=request_id)

    def take_ids(self) -> list[int]:
        """The takes of the comparison (not only the blind pair on show)."""
        return [t.id for t in self._takes]

    def shown_take_ids(self) -> list[int]:
        return [c.take.id for c in self.cells]

    def request_id(self) -> int | None:
        return self._request_id

    def is_blind(self) -> bool:
        return self._blind

    def current_pair(self) -> tuple[int, int] | None:
        """The blind pair on show, as (take A, take B)."""
        if self._blind and self._pair_index < len(self._pairs):
            return self._pairs[self._pair_index]
        return None

    def blind_progress(self) -> tuple[int, int]:
        """(pairs voted or skipped, pairs in the round)."""
        return self._pair_index, len(self._pairs)

    def set_alignment(self, align: Alignment) -> None:
        self._align = align
        index = self.align_combo.findData(align)
        if index != self.align_combo.currentIndex():
            self.align_combo.setCurrentIndex(index)
        if self.sync is not None:
            self.sync.set_alignment(align)
            self._refresh_transport()

    def set_wipe(self, on: bool) -> None:
        """Show two takes on one picture with a divider (needs two open takes)."""
        if on and len(self.cells) < 2:
            on = False
        if self.wipe_button.isChecked() != on:
            self.wipe_button.setChecked(on)  # comes back here through toggled
            return
        self.wipe_panel.last_pos = None
        self._update_stage()
        if on:
            self._fill_wipe_choices()
            self._request_frames()
        self.stage.setFocus()

    def set_blind(self, on: bool) -> None:
        """Start a blind round over the comparison's takes, or end it and reveal."""
        if self.blind_button.isChecked() != on:
            self.blind_button.setChecked(on)  # comes back here through toggled
            return
        if on == self._blind:
            return
        if not on:
            self._leave_blind(reveal=True)
            self._show_takes(self._takes)
            return
        if len(self._takes) < 2:
            self.blind_button.setChecked(False)
            self.message.setText(self.tr("Blind voting needs two takes or more."))
            return
        self.blind_seed = self._rng.randrange(2**31)
        keys = [(t.id, f"{t.vendor}:{t.model}") for t in self._takes]
        self._pairs = blind_pairs(keys, self.blind_seed)
        self._pair_index = 0
        self._votes = []
        self._blind = True
        self.reveal.hide()
        self.message.setText("")
        self._show_pair()

    def vote(self, winner: Winner) -> None:
        """Record the blind choice for the pair on show and move to the next pair."""
        pair = self.current_pair()
        if pair is None:
            return
        a, b = pair
        try:
            duel = record_duel(self._services.store, a, b, winner, self._request_id)
        except TakestockError as exc:
            self.message.setText(exc.message)
            return
        self._votes.append((a, b, winner))
        self.duel_recorded.emit(duel.id)
        self._advance()

    def skip_pair(self) -> None:
        if self.current_pair() is not None:
            self._advance()

    def pick_best(self, index: int) -> None:
        """Mark the take in grid cell ``index`` usable; the others keep their verdicts."""
        if self._blind or not 0 <= index < len(self.cells):
            return
        take_id, root = self.cells[index].take.id, self._services.library.root

        def work(store: Store) -> Take:
            rate_take(store, take_id, verdict="usable")
            return get_take(store, root, take_id)

        def done(fresh: Take) -> None:
            for cell in self.cells:  # the grid may have changed meanwhile
                if cell.take.id == take_id:
                    cell.set_take(fresh)
            self._takes = [fresh if t.id == fresh.id else t for t in self._takes]
            self.message.setText(self.tr("Marked %1 usable.").replace("%1", take_label(fresh)))
            self.take_rated.emit(take_id)

        # The Library and the Arena hear of it through the ops' change signal.
        self.ops.write(
            work,
            Changes.of_takes(take_id),
            done,
            failure=lambda exc: self.message.setText(exc.message),
        )

    def release(self) -> None:
        """Free the players and the frame workers (the screen is going away)."""
        self._clear_cells()
        self.loader.close()
        if self._posters is not None:
            self._posters.shutdown()

    # ------------------------------------------------------------------ blind

    def _show_pair(self) -> None:
        pair = self.current_pair()
        if pair is None:
            return
        by_id = {t.id: t for t in self._takes}
        self._show_takes([by_id[pair[0]], by_id[pair[1]]], letters=["A", "B"])
        self.blind_label.setText(
            self.tr("Blind duel %1 of %2 — which take is better? Names are hidden and shuffled.")
            .replace("%1", str(self._pair_index + 1))
            .replace("%2", str(len(self._pairs)))
        )

    def _advance(self) -> None:
        self._pair_index += 1
        if self._pair_index < len(self._pairs):
            self._show_pair()
            self.message.setText(
                plural(
                    len(self._pairs) - self._pair_index,
                    "Vote recorded. %n pair to go.",
                    "Vote recorded. %n pairs to go.",
                    "CompareScreen",
                )
            )
            return
        self._leave_blind(reveal=True)
        self._show_takes(self._takes)

    def _leave_blind(self, *, reveal: bool) -> None:
        was_blind = self._blind
        self._blind = False
        self._pairs, self._pair_index = [], 0
        if self.blind_button.isChecked():
            self.blind_button.blockSignals(True)
            self.blind_button.setChecked(False)
            self.blind_button.blockSignals(False)
        if was_blind and reveal:
            self._show_reveal()

    def _show_reveal(self) -> None:
        if not self._votes:
            self.reveal.hide()
            self.message.setText(self.tr("Blind round ended; no votes were cast."))
            return
        self.reveal.setText(reveal_html(self._votes, {t.id: take_label(t) for t in self._takes}))
        self.reveal.show()
        self.message.setText("")

    # ------------------------------------------------------------------ cells

    def _clear_cells(self) -> None:
        if self.sync is not None:
            self.sync.close()
            self.sync.deleteLater()
            self.sync = None
        if self.transport is not None:
            self._transport_holder.removeWidget(self.transport)
            self.transport.deleteLater()
            self.transport = None
        for still in self.stills:
            still.release()
        self.stills = []
        for cell in self.cells:
            if cell.player is not None:
                cell.player.release()
            self._grid.removeWidget(cell)
            cell.hide()
            cell.deleteLater()
        self.cells = []
        self.wipe_panel.clear()

    def _show_takes(self, takes: Sequence[Take], letters: Sequence[str] | None = None) -> None:
        """Build the grid for ``takes`` (``letters`` hide their names) and its transport."""
        self._clear_cells()
        players: list[PlayerWidget] = []
        columns = 2 if len(takes) == 4 else max(1, len(takes))
        for n in range(self._grid.columnCount()):
            self._grid.setColumnStretch(n, 0)
        for n in range(self._grid.rowCount()):
            self._grid.setRowStretch(n, 0)
        for n, take in enumerate(takes):
            player, still, error = open_player(
                take, self._backend_factory, self.stage, self._frames, notice=not self._notice_shown
            )
            self.stills += [still] if still is not None else []
            self._notice_shown = self._notice_shown or player is not None
            cell = CompareCell(take, self._facts.get(take.id), n + 1, player, error)
            cell.pick_requested.connect(self._on_pick_requested)
            cell.swap_requested.connect(
                lambda take_id: self.choose_take(self.shown_take_ids().index(take_id))
            )
            if letters is not None:
                cell.set_blind(letters[n])
            self._grid.addWidget(cell, n // columns, n % columns)
            cell.show()
            self.cells.append(cell)
            if player is not None:
                players.append(player)
        for column in range(columns):
            self._grid.setColumnStretch(column, 1)
        for row in range((len(takes) + columns - 1) // columns):
            self._grid.setRowStretch(row, 1)
        if len(players) >= 2:
            self.sync = SyncGroup(players, align=self._align, parent=self)
            self.sync.set_loop(self._loop)
            self.transport = TransportBar(self.sync)
            self._transport_holder.addWidget(self.transport)
            self.transport.show()
            self._connect_transport()
        elif takes:
            self.message.setText(self.tr("Fewer than two of these takes could be opened."))
        self.wipe_panel.last_pos = None
        self._update_controls()
        self._update_stage()
        if self.wipe_button.isChecked():
            self._fill_wipe_choices()
            self._request_frames()
        self.stage.setFocus()

    def _connect_transport(self) -> None:
        assert self.sync is not None
        assert self.transport is not None
        self.sync.position_changed.connect(self._refresh_transport)
        self.transport.loop_button.toggled.connect(self._on_loop_toggled)
        self.transport.scrubbed.connect(lambda _ms: self._request_frames())

    def _update_stage(self) -> None:
        if not self.cells:
            self.stage.setCurrentIndex(0)
        elif self.wipe_button.isChecked() and len(self.cells) >= 2:
            self.stage.setCurrentIndex(2)
        else:
            self.stage.setCurrentIndex(1)

    def _update_controls(self) -> None:
        blind = self._blind
        self.blind_bar.setVisible(blind)
        for shortcut in self._vote_keys:
            shortcut.setEnabled(blind)
        for n, shortcut in enumerate(self._pick_keys):
            shortcut.setEnabled(not blind and n < len(self.cells))
        self.blind_button.setEnabled(len(self._takes) >= 2)
        self.wipe_button.setEnabled(len(self.cells) >= 2)
        self.wipe_panel.choices.setVisible(not blind and len(self.cells) > 2)

    def _show_prompt(self) -> None:
        prompt = ""
        if self._takes:
            prompt = self._takes[0].prompt or ""
            if any((t.prompt or "") != prompt for t in self._takes):
                prompt = self.tr("Takes of different prompts")
        text = html.escape(" ".join(prompt.split()))
        if self._note:
            text += f" <i>({html.escape(self._note)})</i>"
        self.prompt_label.setText(text)

    # ------------------------------------------------------------------ wipe

    def _fill_wipe_choices(self) -> None:
        self.wipe_panel.fill_choices(self.cells, self._blind)

    def _on_wipe_sides(self) -> None:
        self.wipe_panel.update_labels(self.cells, self._blind)
        self._request_frames()
        self.stage.setFocus()

    def _request_frames(self) -> None:
        if self.sync is not None and self.wipe_button.isChecked():
            self.wipe_panel.request_frames(self.cells, self._blind, self.sync)

    # ------------------------------------------------------------------ slots

    def _on_group_chosen(self, row: int) -> None:
        if 0 <= row < self.groups.rowCount():
            self.open_group(self.groups.request_id(row))

    def _select_group_in_combo(self) -> None:
        self.group_combo.setPlaceholderText(
            self.tr("Takes chosen elsewhere — or pick a group")
            if self.groups.rowCount()
            else self.tr("No comparison groups yet")
        )
        row = self.groups.row_of(self._request_id) if self._request_id is not None else None
        self.group_combo.blockSignals(True)
        self.group_combo.setCurrentIndex(-1 if row is None else row)
        self.group_combo.blockSignals(False)

    def _on_align_chosen(self, index: int) -> None:
        self.set_alignment(self.align_combo.itemData(index))
        self.stage.setFocus()

    def _toggle_alignment(self) -> None:
        self.set_alignment("relative" if self._align == "start" else "start")

    def _toggle_loop(self) -> None:
        if self.transport is not None:
            self.transport.loop_button.toggle()

    def _on_loop_toggled(self, on: bool) -> None:
        self._loop = on

    def _on_pick_requested(self, take_id: int) -> None:
        for n, cell in enumerate(self.cells):
            if cell.take.id == take_id:
                self.pick_best(n)

    def _refresh_transport(self, *_args: Any) -> None:
        if self.transport is not None:
            self.transport.refresh()

    def _on_tick(self) -> None:
        self._refresh_transport()
        if self.wipe_button.isChecked():
            self._request_frames()

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.take_id is not None:
            self._groups_timer.start()

    def set_screen_keys(self, keys: Mapping[str, str]) -> None:
        """The keys that show each screen (from the window's actions), for hints."""
        self.empty.setText(
            self.tr(
                "Nothing to compare yet — generate one prompt on two or more models on the "
                "Generate screen%1 (each such request is a comparison group), or select two "
                "to four takes in the Library%2 and press C."
            )
            .replace("%1", screen_hint(keys, "generate"))
            .replace("%2", screen_hint(keys, "library"))
        )

    def apply_changes(self, changes: Changes) -> None:
        """New takes may make new groups; a take rated elsewhere shows its new verdict
        (not during a blind round, where names and verdicts stay hidden)."""
        if not changes.takes:
            return
        self._groups_timer.start()
        shown = {c.take.id for c in self.cells}
        if self._blind or (changes.take_ids and not shown & changes.take_ids):
            return
        store, root = self._services.store, self._services.library.root
        for cell in self.cells:
            try:
                fresh = get_take(store, root, cell.take.id)
            except TakestockError:
                continue  # deleted meanwhile: the cell keeps what it shows
            if (fresh.verdict, fresh.stars) != (cell.take.verdict, cell.take.stars):
                cell.set_take(fresh)
                self._takes = [fresh if t.id == fresh.id else t for t in self._takes]

    def _refresh_groups(self) -> None:
        self.groups.refresh()
        self._select_group_in_combo()
        if not self._takes and self.isVisible():
            self._open_newest()

    def _open_newest(self) -> None:
        if self.groups.rowCount():
            self.open_group(self.groups.request_id(0))
        else:
            self._update_stage()

    # ------------------------------------------------------------------ events

    def _after_transport_key(self) -> None:
        self._refresh_transport()
        self._request_frames()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._tick.start()
        if not self._opened_once:
            self._opened_once = True
            self._open_newest()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._tick.stop()
        if self.sync is not None and self.sync.is_playing():
            self.sync.pause()

    def closeEvent(self, event: Any) -> None:
        self.release()
        if self._own_ops:
            self.ops.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Before the library closes: no timer may read it afterwards."""
        self._groups_timer.stop()
        self._tick.stop()
        self.release()
        if self._own_ops:
            self.ops.shutdown()
