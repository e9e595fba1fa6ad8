"""Library: every take as a grid of posters, filtered, inspected, rated from the keyboard
the way Lightroom users expect, and dragged out to an editor (see the package docstring)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import TakestockError
from takestock.core.jobs import JobEvent
from takestock.core.reasons import add_reason, list_reasons
from takestock.core.store import Store
from takestock.core.takes import (
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
from takestock.ui.player import PlayerBackend, screen_backend
from takestock.ui.screens.library.filters import LibraryFilters
from takestock.ui.screens.library.grid import TILE, TakeDelegate, TakeGrid, _poster_box
from takestock.ui.shortcuts import GRID_PLAYER_KEYS, player_shortcuts, screen_hint, screen_shortcut
from takestock.ui.take_inspector import PlayerFactory, TakeInspector, runs
from takestock.ui.take_menu import COMPARE_KEY, take_menu
from takestock.wiring import Services

#: Lightroom's rating keys: P flags usable, X rejects, U unflags, 1-5 stars, 0 clears.
RATING_KEYS: dict[Qt.Key, dict[str, Any]] = {
    Qt.Key.Key_P: {"verdict": "usable"},
    Qt.Key.Key_X: {"verdict": "reject"},
    Qt.Key.Key_U: {"verdict": "unrated"},
    **{getattr(Qt.Key, f"Key_{n}"): {"stars": n} for n in range(0, 6)},
}


REFRESH_DEBOUNCE_MS = 300


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
            player_factory or screen_backend, frames_dir=services.paths.thumbnails / "frames"
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
        self.auto_advance.setChecked(bool(QSettings().value("library/auto_advance", False, bool)))
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
                screen_shortcut(self, key, functools.partial(self.rate_selected, **change))
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
