"""Compare: two to four takes side by side under one transport, a two-up wipe, and blind
duels that feed the arena.

The grid's players are driven by one :class:`~takestock.ui.player.SyncGroup` and one
:class:`~takestock.ui.player.TransportBar`; the players' own bars are hidden and their
keys go to the group (each player's focus proxy is the stage, whose keys the screen
handles).

The wipe shows the two clips' exact frames at the group's position, decoded with PyAV
by :func:`takestock.core.media.poster_frame` on worker threads and cached on disk under
the thumbnails folder. Frames from the players themselves were the other choice, but
only the Qt backend hands them out (``QVideoSink``); VLC, the preferred backend, paints
into a native window that Qt cannot read. A decode per frame is slower than playback
(a GOP's worth of decoding: ~50–300 ms), so loads are latest-wins: while playing or
scrubbing the wipe shows the newest frame it could decode, and when paused or stepping
it shows exactly the frame under the playhead, which is what a wipe is for.
"""

from __future__ import annotations

import functools
import html
import random
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.arena import TakeFacts, Winner, blind_pairs, group_info, record_duel, take_facts
from takestock.core.errors import TakestockError
from takestock.core.jobs import JobEvent
from takestock.core.store import Store
from takestock.core.takes import Take, get_take, rate_take
from takestock.core.thumbnails import ThumbnailCache
from takestock.ui.arena_models import (
    GroupsModel,
    job_cost_text,
    plural,
    wait_text,
)
from takestock.ui.bridge import EngineBridge
from takestock.ui.library_model import ThumbnailLoader
from takestock.ui.ops import Changes, Ops
from takestock.ui.player import (
    HEADLESS_VLC_ARGS,
    Alignment,
    PlayerBackend,
    PlayerWidget,
    SyncGroup,
    TransportBar,
    best_backend,
    frame_at,
)
from takestock.ui.shortcuts import player_shortcuts, screen_hint
from takestock.ui.still import ExactStill
from takestock.ui.take_picker import POSTER, TakePicker, take_label
from takestock.ui.wipe import FrameLoader, WipeView
from takestock.wiring import Services

__all__ = ["MAX_TAKES", "CompareCell", "CompareScreen", "FrameLoader", "WipeView"]

#: The grid holds this many takes at most.
MAX_TAKES = 4
#: How often the shared transport and the wipe catch up with the players.
TICK_MS = 40

BackendFactory = Callable[[Take], PlayerBackend]


def _default_backend(take: Take) -> PlayerBackend:
    """VLC where it runs, else Qt Multimedia; with no screen (tests, the self-test) VLC
    gets no video or audio device, since it could not embed anyway."""
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return best_backend(vlc_args=HEADLESS_VLC_ARGS)
    return best_backend()


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
        self._backend_factory = backend_factory or _default_backend
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
        self._last_wipe_pos: tuple[int, ...] | None = None
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

        self.blind_bar = QFrame()
        self.blind_bar.setObjectName("blindBar")
        self.blind_bar.setStyleSheet(
            "#blindBar { background: #e8f0fe; border: 1px solid #a8c0f0; border-radius: 4px; }"
            "#blindBar QLabel { color: #1a2b4c; }"
        )
        self.blind_label = QLabel()
        self.vote_a_button = QPushButton(self.tr("A is better (A)"))
        self.tie_button = QPushButton(self.tr("Tie (T)"))
        self.vote_b_button = QPushButton(self.tr("B is better (B)"))
        self.skip_button = QPushButton(self.tr("Skip (S)"))
        for button in (self.vote_a_button, self.tie_button, self.vote_b_button, self.skip_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        blind_row = QHBoxLayout(self.blind_bar)
        blind_row.setContentsMargins(8, 4, 8, 4)
        blind_row.addWidget(self.blind_label, 1)
        blind_row.addWidget(self.vote_a_button)
        blind_row.addWidget(self.tie_button)
        blind_row.addWidget(self.vote_b_button)
        blind_row.addWidget(self.skip_button)

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
        self.wipe = WipeView()
        self.left_choice = QComboBox()
        self.right_choice = QComboBox()
        for combo in (self.left_choice, self.right_choice):
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._wipe_choices = QWidget()
        choices = QHBoxLayout(self._wipe_choices)
        choices.setContentsMargins(0, 0, 0, 0)
        choices.addWidget(QLabel(self.tr("Left:")))
        choices.addWidget(self.left_choice, 1)
        choices.addSpacing(12)
        choices.addWidget(QLabel(self.tr("Right:")))
        choices.addWidget(self.right_choice, 1)
        wipe_page = QWidget()
        wipe_layout = QVBoxLayout(wipe_page)
        wipe_layout.setContentsMargins(0, 0, 0, 0)
        wipe_layout.addWidget(self.wipe, 1)
        wipe_hint = QHBoxLayout()
        wipe_hint.addWidget(self._wipe_choices, 1)
        wipe_hint.addWidget(QLabel(self.tr("Drag the divider, or press [ and ]")))
        wipe_layout.addLayout(wipe_hint)
        self.stage.addWidget(self.empty)
        self.stage.addWidget(self.grid_page)
        self.stage.addWidget(wipe_page)

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

        self.loader = FrameLoader(self._services.paths.thumbnails / "frames", self)
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
        self.left_choice.activated.connect(self._on_wipe_sides)
        self.right_choice.activated.connect(self._on_wipe_sides)
        self.loader.frame_ready.connect(self._on_frame)
        self.loader.failed.connect(self._on_frame_failed)
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
        self._last_wipe_pos = None
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
        names = {t.id: take_label(t) for t in self._takes}

        def who(take_id: int) -> str:
            return f"<b>{html.escape(names.get(take_id, f'#{take_id}'))}</b>"

        items = []
        for a, b, winner in self._votes:
            if winner == "tie":
                line = self.tr("A %1 tied with B %2").replace("%1", who(a)).replace("%2", who(b))
            elif winner == "a":
                line = self.tr("A %1 beat B %2").replace("%1", who(a)).replace("%2", who(b))
            else:
                line = self.tr("B %2 beat A %1").replace("%1", who(a)).replace("%2", who(b))
            items.append(f"<li>{line}</li>")
        self.reveal.setText(
            plural(
                len(self._votes),
                "<b>Revealed.</b> Your blind vote, now in the Arena:",
                "<b>Revealed.</b> Your %n blind votes, now in the Arena:",
                "CompareScreen",
            )
            + f"<ol style='margin-top:2px'>{''.join(items)}</ol>"
        )
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
        self.wipe.set_image(0, None)
        self.wipe.set_image(1, None)

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
            player, error = self._player_for(take, notice=not self._notice_shown)
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
        self._last_wipe_pos = None
        self._update_controls()
        self._update_stage()
        if self.wipe_button.isChecked():
            self._fill_wipe_choices()
            self._request_frames()
        self.stage.setFocus()

    def _player_for(self, take: Take, *, notice: bool) -> tuple[PlayerWidget | None, str]:
        """A player for ``take``, or why there is none; ``notice``: the fallback banner
        (shown once per screen, not on every grid rebuilt for a blind pair)."""
        try:
            backend = self._backend_factory(take)
            player = PlayerWidget(backend, show_notice=notice)
            player.transport.hide()
            player.setFocusProxy(self.stage)
            player.load(take.path)
            # Every tile shows the exact frame its counter names when paused (ui.still).
            still = ExactStill(player, self._services.paths.thumbnails / "frames")
            still.load(take.path)
            self.stills.append(still)
        except TakestockError as exc:
            return None, exc.message
        except Exception as exc:  # a backend that cannot start: say so in the cell
            return None, str(exc)
        return player, ""

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
        self._wipe_choices.setVisible(not blind and len(self.cells) > 2)

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
        names = [f"{n + 1}. {c.name()}" for n, c in enumerate(self.cells)]
        for combo, default in ((self.left_choice, 0), (self.right_choice, 1)):
            keep = combo.currentIndex()
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(keep if 0 <= keep < len(names) else default)
        if self.left_choice.currentIndex() == self.right_choice.currentIndex() and len(names) > 1:
            self.right_choice.setCurrentIndex(1 if self.left_choice.currentIndex() != 1 else 0)
        self._update_wipe_labels()

    def _wipe_cells(self) -> tuple[CompareCell, CompareCell] | None:
        if len(self.cells) < 2:
            return None
        if self._blind or len(self.cells) == 2:
            return self.cells[0], self.cells[1]
        left = max(self.left_choice.currentIndex(), 0)
        right = max(self.right_choice.currentIndex(), 0)
        return self.cells[left], self.cells[right]

    def _update_wipe_labels(self) -> None:
        pair = self._wipe_cells()
        if pair is None:
            return
        if self._blind:
            self.wipe.set_labels("A", "B")
        else:
            self.wipe.set_labels(pair[0].name(), pair[1].name())

    def _on_wipe_sides(self, _index: int) -> None:
        self.wipe.set_image(0, None)
        self.wipe.set_image(1, None)
        self._update_wipe_labels()
        self._last_wipe_pos = None
        self._request_frames()
        self.stage.setFocus()

    def _request_frames(self) -> None:
        pair = self._wipe_cells()
        if pair is None or self.sync is None or not self.wipe_button.isChecked():
            return
        self._update_wipe_labels()
        leader_ms = self.sync.position_ms()
        frames = []
        for cell in pair:
            take = cell.take
            fps = take.fps if take.fps > 0 else 24.0
            if cell.player is None:
                return
            at_ms = self.sync.target_for(cell.player.backend, leader_ms)
            last = max(0, round(take.duration_s * fps) - 1)
            frames.append(min(frame_at(at_ms, fps), last))
        key = (frames[0], frames[1], pair[0].take.id, pair[1].take.id)
        if key == self._last_wipe_pos:
            return
        self._last_wipe_pos = key
        for side, (cell, frame) in enumerate(zip(pair, frames, strict=True)):
            take = cell.take
            self.loader.request(side, take.path, take.sha256, frame, take.fps or 24.0)

    def _on_frame(self, side: int, image: QImage) -> None:
        self.wipe.set_note("")
        self.wipe.set_image(side, image)

    def _on_frame_failed(self, side: int, message: str) -> None:
        self.wipe.set_note(message)

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
