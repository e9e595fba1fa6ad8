"""Library: every take as a grid of posters, filtered, inspected, rated from the keyboard
the way Lightroom users expect, and dragged out to an editor.

The grid is a ``QListView`` in icon mode over :class:`~takestock.ui.library_model.LibraryModel`
(ids only; rows and posters on demand), so 100,000 takes scroll like 100. The inspector
beside it plays the current take with one player backend, reused from take to take, and
shows the prompt version, parameters, vendor task id and cost, with the verdict, stars,
reasons and notes to edit. Every write goes through ``core.takes`` / ``core.reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QItemSelection,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSettings,
    QSize,
    Qt,
    QTime,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import TakestockError
from takestock.core.jobs import JobEvent
from takestock.core.reasons import add_reason, list_reasons
from takestock.core.store import Store
from takestock.core.takes import (
    VERDICTS,
    Take,
    TakeFacets,
    TakeFilter,
    rate_take,
    rate_takes,
    take_details,
    take_facets,
    take_ids,
)
from takestock.core.thumbnails import ThumbnailCache
from takestock.ui.bridge import EngineBridge
from takestock.ui.library_model import LibraryModel, ThumbnailLoader
from takestock.ui.ops import Changes, Ops
from takestock.ui.player import (
    HEADLESS_VLC_ARGS,
    PlayerBackend,
    best_backend,
)
from takestock.ui.shortcuts import (
    GRID_PLAYER_KEYS,
    player_shortcuts,
    screen_hint,
    screen_shortcut,
)
from takestock.ui.take_inspector import PlayerFactory, TakeInspector, runs
from takestock.ui.take_menu import COMPARE_KEY, take_menu
from takestock.wiring import Services

__all__ = [
    "RATING_KEYS",
    "LibraryFilters",
    "LibraryScreen",
    "TakeDelegate",
    "TakeGrid",
    "TakeInspector",
]

#: Lightroom's rating keys: P flags usable, X rejects, U unflags, 1-5 stars, 0 clears.
RATING_KEYS: dict[Qt.Key, dict[str, Any]] = {
    Qt.Key.Key_P: {"verdict": "usable"},
    Qt.Key.Key_X: {"verdict": "reject"},
    Qt.Key.Key_U: {"verdict": "unrated"},
    **{getattr(Qt.Key, f"Key_{n}"): {"stars": n} for n in range(0, 6)},
}

SEARCH_DEBOUNCE_MS = 200
REFRESH_DEBOUNCE_MS = 300
#: One grid cell; the poster is 16:9 inside it.
TILE = QSize(176, 146)
_PAD = 6
_USABLE = QColor("#2e7d32")
_REJECT = QColor("#c62828")
_STAR = QColor("#f5a623")

Index = QModelIndex | QPersistentModelIndex


def _default_player() -> PlayerBackend:
    """VLC where it runs, else Qt Multimedia; with no screen (tests, the self-test) VLC
    gets no video or audio device, since it could not embed anyway."""
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return best_backend(vlc_args=HEADLESS_VLC_ARGS)
    return best_backend()


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


# --------------------------------------------------------------------------- filters


class LibraryFilters(QWidget):
    """The filter bar: vendor, model, verdict, least stars, tag, prompt text, dates.

    Typing in the search box waits ``SEARCH_DEBOUNCE_MS`` for a pause; the other
    controls apply at once.

    Attributes:
        search, vendor, model, verdict, stars, tag, since, until: the controls.
        clear_button: puts every filter back to "all".
        count: says how many takes match.

    Signals:
        changed(TakeFilter): the filter the user now asks for.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._facets = TakeFacets({}, ())
        self._quiet = False
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search prompts (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(160)
        self.vendor = QComboBox()
        self.model = QComboBox()
        self.model.setMinimumContentsLength(10)
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.verdict = QComboBox()
        self.verdict.addItem(self.tr("Any verdict"), None)
        for verdict, text in zip(
            VERDICTS, (self.tr("Usable"), self.tr("Reject"), self.tr("Unrated")), strict=True
        ):
            self.verdict.addItem(text, verdict)
        self.stars = QComboBox()
        self.stars.addItem(self.tr("Any stars"), None)
        for n in range(1, 6):
            self.stars.addItem("★" * n + ("+" if n < 5 else ""), n)
        self.tag = QComboBox()
        self.since = self._date_edit(self.tr("from any day"))
        self.until = self._date_edit(self.tr("to any day"))
        self.clear_button = QToolButton()
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Show every take (Ctrl+Shift+L)"))
        self.count = QLabel()
        self.count.setMinimumWidth(80)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for box, tip in (
            (self.vendor, self.tr("Vendor")),
            (self.model, self.tr("Model")),
            (self.verdict, self.tr("Verdict")),
            (self.stars, self.tr("Least stars")),
            (self.tag, self.tr("Tag of the prompt")),
        ):
            box.setToolTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 2)
        for widget in (self.vendor, self.model, self.verdict, self.stars, self.tag):
            layout.addWidget(widget)
        layout.addWidget(self.since)
        layout.addWidget(self.until)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.count)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self.set_facets(self._facets)
        self._connect_signals()

    def _date_edit(self, blank: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        # The earliest date stands for "no limit", shown as ``blank``.
        edit.setMinimumDate(QDate(2000, 1, 1))
        edit.setSpecialValueText(blank)
        edit.setDate(edit.minimumDate())
        edit.setToolTip(blank)
        return edit

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._timer.start)
        self._timer.timeout.connect(self._emit)
        self.vendor.currentIndexChanged.connect(self._on_vendor)
        for box in (self.model, self.verdict, self.stars, self.tag):
            box.currentIndexChanged.connect(self._emit)
        self.since.dateChanged.connect(self._emit)
        self.until.dateChanged.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)

    def set_facets(self, facets: TakeFacets) -> None:
        """Offer the vendors, models and tags that occur, keeping what is chosen."""
        self._facets = facets
        self._quiet = True
        try:
            self._fill(self.vendor, self.tr("All vendors"), facets.vendors)
            self._fill_models()
            self._fill(self.tag, self.tr("All tags"), facets.tags)
        finally:
            self._quiet = False

    def _fill(self, box: QComboBox, everything: str, values: Sequence[str]) -> None:
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(everything, None)
        for value in values:
            box.addItem(value, value)
        if current is not None and current not in values:
            box.addItem(current, current)  # keep a choice that no take has any more
        box.setCurrentIndex(max(0, box.findData(current)))
        box.blockSignals(False)

    def _fill_models(self) -> None:
        vendor = self.vendor.currentData()
        if vendor is None:
            models = sorted({m for ms in self._facets.models.values() for m in ms})
        else:
            models = list(self._facets.models.get(vendor, ()))
        self._fill(self.model, self.tr("All models"), models)

    def _on_vendor(self) -> None:
        self._quiet = True
        try:
            self._fill_models()
        finally:
            self._quiet = False
        self._emit()

    def _day_start(self, date: QDate) -> float:
        return float(QDateTime(date, QTime(0, 0)).toSecsSinceEpoch())

    def where(self) -> TakeFilter:
        """The filter the controls describe."""
        since = until = None
        if self.since.date() > self.since.minimumDate():
            since = self._day_start(self.since.date())
        if self.until.date() > self.until.minimumDate():
            until = self._day_start(self.until.date().addDays(1))  # the whole last day
        return TakeFilter(
            vendor=self.vendor.currentData(),
            model=self.model.currentData(),
            verdict=self.verdict.currentData(),
            min_stars=self.stars.currentData(),
            tag=self.tag.currentData(),
            search=self.search.text().strip(),
            since=since,
            until=until,
        )

    def clear(self) -> None:
        """Every filter back to "all" (one change, not eight)."""
        self._quiet = True
        try:
            self.search.clear()
            self._timer.stop()
            for box in (self.vendor, self.verdict, self.stars, self.tag):
                box.setCurrentIndex(0)
            self._fill_models()
            self.model.setCurrentIndex(0)
            self.since.setDate(self.since.minimumDate())
            self.until.setDate(self.until.minimumDate())
        finally:
            self._quiet = False
        self._emit()

    def show_count(self, shown: int) -> None:
        number = QLocale().toString(shown)
        self.count.setText(self.tr("1 take") if shown == 1 else self.tr("%s takes") % number)

    def _emit(self) -> None:
        if not self._quiet:
            self._timer.stop()
            self.changed.emit(self.where())


# --------------------------------------------------------------------------- screen


class LibraryScreen(QWidget):
    """Every take: the filter bar, the grid of posters and the inspector.

    Keys, wherever the focus is in the screen: P usable, X reject, U unrated, 1–5 stars,
    0 clears the stars (to every selected take); the player keys (Space, J K L, ``,``
    ``.``, M) drive the inspector's player; Enter on the grid opens the current take in
    the system's player; Ctrl+F searches; Ctrl+Shift+L clears the filters. Dragging takes
    out of the grid carries their files' URLs. New takes from the engine appear
    ``REFRESH_DEBOUNCE_MS`` after the last one finishes.

    Attributes:
        model: the :class:`LibraryModel` behind the grid.
        view: the :class:`TakeGrid`.
        filters: the :class:`LibraryFilters` bar.
        inspector: the :class:`TakeInspector`.
        thumbnails: the :class:`ThumbnailLoader` (``None`` when posters are off).
        menu: the context menu last opened on the grid, if any.

    Signals:
        compare_requested(list): compare these take ids (C, or the context menu).
    """

    compare_requested = Signal(list)

    def __init__(
        self,
        services: Services,
        bridge: EngineBridge,
        *,
        player_factory: PlayerFactory | None = None,
        thumbnails: bool = True,
        ops: Ops | None = None,
    ) -> None:
        super().__init__()
        self._store = services.store
        # Alone (tests, a second window) the screen watches the library itself.
        self._own_ops = ops is None
        self.ops = ops or Ops(
            services.open_store, catalog_overrides=services.paths.catalog_overrides, parent=self
        )
        self._media = services.library.root
        self._reasons = list_reasons(self._store)
        self.thumbnails: ThumbnailLoader | None = None
        self._kept: tuple[int | None, list[int]] | None = None
        self.menu: QMenu | None = None
        self._screen_keys: dict[str, str] = {}
        if thumbnails:
            box = _poster_box(TILE) * max(1.0, self.devicePixelRatioF())
            cache = ThumbnailCache(services.paths.thumbnails)
            self.thumbnails = ThumbnailLoader(cache, box, parent=self)
        self.filters = LibraryFilters()
        self.model = LibraryModel(self._store, self._media, self.thumbnails, parent=self)
        self.view = TakeGrid()
        self.view.setModel(self.model)
        self.view.setItemDelegate(TakeDelegate(self.view))
        self.inspector = TakeInspector(
            player_factory or _default_player, frames_dir=services.paths.thumbnails / "frames"
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.inspector)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        self.inspector.setMinimumWidth(320)
        self.splitter.setSizes([740, 380])
        self.keys_help = QLabel(
            self.tr(
                "P usable · X reject · U unrated · 1–5 stars · 0 clears · Space J K L , . play · "
                "C compares · Enter opens · drag takes to an editor or a folder"
            )
        )
        self.keys_help.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        # Lightroom's Auto Advance: rate, and the next take is up.
        self.auto_advance = QToolButton()
        self.auto_advance.setText(self.tr("Auto-advance"))
        self.auto_advance.setCheckable(True)
        self.auto_advance.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.auto_advance.setToolTip(
            self.tr("After rating one take, move to the next (Ctrl+Shift+A)")
        )
        self.auto_advance.setChecked(QSettings().value("library/auto_advance", False, bool))
        bottom = QHBoxLayout()
        bottom.addWidget(self.keys_help, 1)
        bottom.addWidget(self.auto_advance)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._shortcuts: list[QShortcut] = []
        self.setFocusProxy(self.view)  # coming to the screen, the keys rate takes
        self._connect_signals(bridge)
        self.filters.set_facets(take_facets(self._store))
        self._after_reset()
        self._restore_layout()

    def _connect_signals(self, bridge: EngineBridge) -> None:
        self.filters.changed.connect(self._on_filter)
        self.model.reset_done.connect(self._after_reset)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.view.doubleClicked.connect(self._open_index)
        # Every key of the screen works wherever the focus is inside it (ui.shortcuts).
        for key, change in RATING_KEYS.items():
            self._shortcuts.append(
                screen_shortcut(self, key, lambda change=change: self.rate_selected(**change))
            )
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # not while typing a search
            self._shortcut(key, self.view, Qt.ShortcutContext.WidgetShortcut).activated.connect(
                self.open_current
            )
        self._shortcuts += [
            screen_shortcut(self, QKeySequence.StandardKey.Find, self._focus_search),
            screen_shortcut(self, "Ctrl+Shift+L", self.filters.clear),
            screen_shortcut(self, COMPARE_KEY, self.compare_selected),
            screen_shortcut(self, "Ctrl+Shift+A", self.auto_advance.toggle),
            *player_shortcuts(self, self._player, self._after_player_key, GRID_PLAYER_KEYS),
        ]
        self.auto_advance.toggled.connect(
            lambda on: QSettings().setValue("library/auto_advance", on)
        )
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.inspector.rating_requested.connect(lambda change: self.rate_selected(**change))
        self.inspector.reasons_edited.connect(self._on_reasons_edited)
        self.inspector.reason_added.connect(self._on_reason_added)
        self.inspector.notes_edited.connect(self._on_notes_edited)
        self.inspector.open_requested.connect(self.open_current)
        self._refresh_timer.timeout.connect(self.reload)
        bridge.job_changed.connect(self._on_job_changed)
        self.ops.changed.connect(self.apply_changes)
        if self._own_ops:
            self.ops.watch()
        self.splitter.splitterMoved.connect(self._save_layout)

    def _shortcut(self, key: Any, parent: QWidget, context: Qt.ShortcutContext) -> QShortcut:
        shortcut = QShortcut(QKeySequence(key), parent)
        shortcut.setContext(context)
        self._shortcuts.append(shortcut)
        return shortcut

    # ------------------------------------------------------------ reading

    def selected_ids(self) -> list[int]:
        """The selected takes' ids in grid order (the current one if none is selected)."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        return [self.model.take_id(r) for r in rows]

    def takes_to_export(self) -> list[Take]:
        """The selected takes, or every take shown when none is selected."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        if not rows:
            rows = list(range(self.model.rowCount()))
        return [self.model.take(r) for r in rows]

    def current_take(self) -> Take | None:
        index = self.view.currentIndex()
        return self.model.take(index.row()) if index.isValid() else None

    def select_take(self, take_id: int) -> None:
        """Show one take (the Queue's "open take"), clearing filters that hide it."""
        self.refresh()
        row = self.model.row_of(take_id)
        if row is None:
            self.filters.clear()  # the filter bar and the grid agree again
            self.model.set_filter(TakeFilter())
            row = self.model.row_of(take_id)
        if row is not None:
            self.view.selectRow(row)

    def refresh(self) -> None:
        """Read the takes again, keeping the selection and the current take."""
        self._refresh_timer.stop()
        self.filters.set_facets(take_facets(self._store))
        self._reasons = list_reasons(self._store)
        self._keep_selection()
        self.model.refresh()

    def reload(self) -> None:
        """:meth:`refresh`, with the reading off the UI thread: new takes from the engine
        or another process arrive without a stall, however big the library."""
        self._refresh_timer.stop()
        where = self.model.where

        def read(store: Store) -> tuple[list[int], TakeFacets, list[str]]:
            return take_ids(store, where), take_facets(store), list_reasons(store)

        def show(found: tuple[list[int], TakeFacets, list[str]]) -> None:
            if self.model.where != where:
                return  # the filter moved meanwhile and read its own takes
            ids, facets, reasons = found
            self.filters.set_facets(facets)
            self._reasons = reasons
            self._keep_selection()
            self.model.set_ids(ids)

        self.ops.query(read, show)

    # ------------------------------------------------------------ writing

    def rate_selected(self, **change: Any) -> None:
        """Apply a verdict or stars to every selected take (P/X/U/0–5)."""
        ids = self.selected_ids()
        if ids:
            self.ops.write(
                lambda store: rate_takes(store, ids, **change),
                Changes.of_takes(*ids),
                failure=lambda exc: self._say(exc.message),
            )
        row = self.view.currentIndex().row()
        if len(ids) == 1 and self.auto_advance.isChecked() and 0 <= row < self.model.rowCount() - 1:
            self.view.selectRow(row + 1)  # a selection of several stays put

    def compare_selected(self) -> None:
        """Compare the selected takes (two to four on screen; more are a swap away)."""
        ids = self.selected_ids()
        if len(ids) < 2:
            self._say(self.tr("Select two to four takes (Ctrl+click) to compare them."))
            return
        self.compare_requested.emit(ids)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid() and index.row() not in {i.row() for i in self._selected()}:
            self.view.selectRow(index.row())  # a right click on another take picks it
        takes = [self.model.take(i.row()) for i in self._selected()]
        if not takes:
            return
        keys = {
            "usable": QKeySequence(Qt.Key.Key_P),
            "reject": QKeySequence(Qt.Key.Key_X),
            "unrated": QKeySequence(Qt.Key.Key_U),
            "compare": COMPARE_KEY,
        }
        self.menu = take_menu(
            self,
            takes,
            rate=self.rate_selected,
            compare=self.compare_selected,
            say=self._say,
            keys=keys,
        )
        self.menu.popup(self.view.viewport().mapToGlobal(pos))

    def _selected(self) -> list[QModelIndex]:
        return sorted(self.view.selectionModel().selectedIndexes(), key=lambda i: i.row())

    def apply_changes(self, changes: Changes) -> None:
        """Repaint the takes a change names, or read them all again shortly."""
        if not changes.takes:
            return
        if not changes.take_ids:
            self._refresh_timer.start()
            return
        self.model.forget(changes.take_ids)
        current = self.current_take()
        if current is not None and current.id in changes.take_ids:
            self._show_current()

    def _on_reasons_edited(self, reasons: list[str]) -> None:
        take = self.current_take()
        if take is not None:
            take_id = take.id
            self.ops.write(
                lambda store: rate_take(store, take_id, reasons=reasons),
                Changes.of_takes(take_id),
                failure=lambda exc: self._say(exc.message),
            )

    def _on_reason_added(self, name: str) -> None:
        try:
            stored = add_reason(self._store, name)
        except TakestockError as exc:
            self._say(exc.message)
            return
        self._reasons = list_reasons(self._store)
        take = self.current_take()
        if take is not None:
            # Adding a reason while looking at a take means "this take has it".
            rate_take(self._store, take.id, reasons=[*take.reasons, stored])
            self.model.forget([take.id])
        self._show_current()

    def _on_notes_edited(self, take_id: int, notes: str) -> None:
        # A take deleted meanwhile has no notes to keep: nothing to say.
        self.ops.write(
            lambda store: rate_take(store, take_id, notes=notes),
            Changes.of_takes(take_id),
            failure=lambda exc: None,
        )

    def open_current(self) -> None:
        self._open_index(self.view.currentIndex())

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            path = self.model.take(index.row()).path
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                self._say(
                    self.tr("No video player is set up to open it here; the file is %1").replace(
                        "%1", str(path)
                    )
                )

    # ------------------------------------------------------------ reacting

    def _on_filter(self, where: TakeFilter) -> None:
        self._keep_selection()
        self.model.set_filter(where)

    def _after_reset(self) -> None:
        self.filters.show_count(self.model.rowCount())
        if self.model.where == TakeFilter():
            self.view.empty_text = self.tr(
                "No takes yet — generate one on the Generate screen%1,\n"
                "or bring in videos made elsewhere with File ▸ Import… or `takestock import`."
            ).replace("%1", screen_hint(self._screen_keys, "generate"))
        else:
            self.view.empty_text = self.tr(
                "No takes match these filters — loosen them, or clear them all (Ctrl+Shift+L)."
            )
        self._restore_selection()

    def _restore_selection(self) -> None:
        keep, self._kept = self._kept, None
        if keep is None:
            self._show_current()
            return
        current_id, selected = keep
        rows = [r for r in (self.model.row_of(i) for i in selected) if r is not None]
        selection = QItemSelection()
        for first, last in runs(rows):
            selection.select(self.model.index(first), self.model.index(last))
        flags = QItemSelectionModel.SelectionFlag
        selection_model = self.view.selectionModel()
        selection_model.select(selection, flags.ClearAndSelect)
        row = self.model.row_of(current_id) if current_id is not None else None
        if row is not None:
            selection_model.setCurrentIndex(self.model.index(row), flags.NoUpdate)
        self._show_current()

    def _keep_selection(self) -> None:
        take = self.current_take()
        self._kept = (take.id if take else None, self.selected_ids())

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._show_current()

    def _show_current(self) -> None:
        take = self.current_take()
        if take is None:
            self.inspector.show_details(None)
            return
        try:
            details = take_details(self._store, self._media, take.id)
        except TakestockError:
            self.inspector.show_details(None)
            return
        self.inspector.show_details(details, self._reasons)

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.take_id is not None:
            self._refresh_timer.start()

    def _player(self) -> PlayerBackend | None:
        player = self.inspector.player
        return player.backend if player is not None and player.isVisible() else None

    def _after_player_key(self) -> None:
        if self.inspector.player is not None:
            self.inspector.player.refresh()

    def set_screen_keys(self, keys: Mapping[str, str]) -> None:
        """The keys that show each screen (from the window's actions), for hints."""
        self._screen_keys = dict(keys)
        self._after_reset()

    def _focus_search(self) -> None:
        self.filters.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.search.selectAll()

    def _say(self, message: str) -> None:
        self.keys_help.setText(message)

    # ------------------------------------------------------------ life

    def _restore_layout(self) -> None:
        sizes = QSettings().value("library/splitter")
        if isinstance(sizes, list) and len(sizes) == 2:
            self.splitter.setSizes([int(s) for s in sizes])

    def _save_layout(self) -> None:
        QSettings().setValue("library/splitter", self.splitter.sizes())

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save notes, free the player, stop the poster threads."""
        self._refresh_timer.stop()
        self.inspector.release()
        if self.thumbnails is not None:
            self.thumbnails.shutdown()
        if self._own_ops:
            self.ops.shutdown()
