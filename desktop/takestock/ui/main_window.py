"""The main window: a sidebar of screens, one shown at a time, and the status bar.

It paints at once and opens the library right after: this module imports nothing
heavier than Qt, and the engine and the core load after the first paint, so start-up
stays near a bare Qt window's. Each screen (and what it imports: PyAV, VLC, the
player) is built when it is first shown or first asked for, so a session that only
rates takes in the Library never builds, or holds in memory, the seven others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from takestock.ui.file_menu import FileMenu
from takestock.ui.shortcuts import key_text

if TYPE_CHECKING:
    from takestock.core.jobs import JobEvent
    from takestock.ui.bridge import EngineBridge
    from takestock.ui.ops import Changes, Ops
    from takestock.ui.tray import TrayNotifier
    from takestock.wiring import Services

__all__ = ["MainWindow"]

#: (key, title, "module:Class"): a screen is imported and built when first needed.
SCREENS: list[tuple[str, str, str]] = [
    ("prompts", "Prompts", "takestock.ui.screens.prompts:PromptsScreen"),
    ("generate", "Generate", "takestock.ui.screens.generate:GenerateScreen"),
    ("queue", "Queue", "takestock.ui.screens.queue:QueueScreen"),
    ("library", "Library", "takestock.ui.screens.library:LibraryScreen"),
    ("credits", "Credits", "takestock.ui.screens.credits:CreditsScreen"),
    ("compare", "Compare", "takestock.ui.screens.compare:CompareScreen"),
    ("arena", "Arena", "takestock.ui.screens.arena:ArenaScreen"),
    ("settings", "Settings", "takestock.ui.screens.settings:SettingsScreen"),
]


#: Screens built with the window's :class:`~takestock.ui.ops.Ops` (they listen to it).
OPS_SCREENS = frozenset({"library", "compare"})


def _screen_class(path: str) -> Callable[..., QWidget]:
    module, _, name = path.partition(":")
    factory: Callable[..., QWidget] = getattr(importlib.import_module(module), name)
    return factory


class Screens(Mapping[str, QWidget]):
    """The window's screens by key, each built on first access (``screens["queue"]``).

    Iterating gives every key in the sidebar's order without building anything;
    :meth:`built` gives the screens that exist so far.
    """

    def __init__(self, build: Callable[[str], QWidget]) -> None:
        self._build = build
        self._made: dict[str, QWidget] = {}

    def __getitem__(self, key: str) -> QWidget:
        screen = self._made.get(key)
        if screen is None:
            if key not in SCREEN_KEYS:
                raise KeyError(key)
            screen = self._made[key] = self._build(key)
        return screen

    def __contains__(self, key: object) -> bool:
        return key in SCREEN_KEYS  # asking is not building

    def __iter__(self) -> Iterator[str]:
        return iter(SCREEN_KEYS)

    def __len__(self) -> int:
        return len(SCREEN_KEYS)

    def built(self) -> dict[str, QWidget]:
        """The screens built so far (no screen is built by asking)."""
        return {key: self._made[key] for key in SCREEN_KEYS if key in self._made}


SCREEN_KEYS = tuple(key for key, _, _ in SCREENS)


class MainWindow(QMainWindow):
    """Hosts the screens; screens talk to the core and to the engine's bridge.

    Give it open ``services`` (tests, the self-test), or an ``open_services`` function
    to call after the first paint (the app).

    Attributes:
        bridge: the engine on its own thread (set once the library is open).
        screens: screen widgets by key ("generate", "queue", ...), each built when it is
            first shown or asked for (empty until the library is open).

    Signals:
        ready(): the library is open and the screen to start on is built.
    """

    ready = Signal()

    def __init__(
        self,
        services: Services | None = None,
        *,
        open_services: Callable[[], Services] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Takestock")
        self.screens: Mapping[str, QWidget] = {}
        self._screens: Screens | None = None
        self.bridge: EngineBridge | None = None
        self.ops: Ops | None = None
        self.tray: TrayNotifier | None = None
        self._services: Services | None = None
        self._nav = QListWidget()
        self._nav.setFixedWidth(170)
        self._nav.setObjectName("sidebar")
        self._nav.setStyleSheet(
            "#sidebar { border: none; font-size: 11pt; }#sidebar::item { padding: 9px 14px; }"
        )
        for key, title, _ in SCREENS:
            item = QListWidgetItem(self.tr(title))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self._nav.addItem(item)
        self._stack = QStackedWidget()
        self._opening = QLabel(self.tr("Opening your library…"))
        self._opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack.addWidget(self._opening)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._nav)
        layout.addWidget(self._stack, 1)
        self.setCentralWidget(central)
        self._restore_geometry()
        self.file_menu = FileMenu(self, self.menuBar().addMenu(self.tr("&File")))
        self.go_actions: dict[str, QAction] = {}
        go = self.menuBar().addMenu(self.tr("&Go"))
        for index, (key, title, _) in enumerate(SCREENS[:9]):
            action = go.addAction(self.tr(title))
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            self.go_actions[key] = action
        about = self.menuBar().addMenu(self.tr("&Help")).addAction(self.tr("&About Takestock"))
        about.setMenuRole(QAction.MenuRole.AboutRole)  # macOS moves it to the app menu
        about.triggered.connect(self._show_about)
        self._open_after_paint = open_services
        if services is not None:
            self._open(services)

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        # Open the library once the window is on screen: a timer set before show()
        # would fire before the first paint.
        pending, self._open_after_paint = self._open_after_paint, None
        if pending is not None:
            QTimer.singleShot(0, lambda: self._open_later(pending))

    # -------------------------------------------------------------- opening

    def _open_later(self, open_services: Callable[[], Services]) -> None:
        from takestock.core.errors import TakestockError

        try:
            services = open_services()
        except TakestockError as exc:
            QMessageBox.critical(self, exc.title, exc.message)
            self.close()
            return
        self._open(services)

    def _open(self, services: Services) -> None:
        from takestock.ui.bridge import EngineBridge
        from takestock.ui.ops import Ops

        self._services = services
        self.bridge = EngineBridge(services, self)
        self.ops = Ops(
            services.open_store, catalog_overrides=services.paths.catalog_overrides, parent=self
        )
        self._stack.removeWidget(self._opening)
        self._opening.deleteLater()
        # One empty page per screen, replaced by the screen when it is first needed.
        for _ in SCREENS:
            self._stack.addWidget(QWidget())
        self._screens = self.screens = Screens(self._build_screen)
        self.statusBar().showMessage(str(services.paths.root))
        from takestock.ui.tray import TrayNotifier

        self.tray = TrayNotifier(services, self.bridge, parent=self)
        self._connect_signals()
        self._restore_screen()
        self.bridge.start()
        self.ops.watch()
        self.file_menu.open(services.library, self.ops, self._takes_to_export)
        self.ready.emit()

    def _build_screen(self, key: str) -> QWidget:
        """Build screen ``key`` in its page of the stack and connect it to the others."""
        assert self._services is not None
        assert self.bridge is not None
        index = SCREEN_KEYS.index(key)
        path = SCREENS[index][2]
        extra = {"ops": self.ops} if key in OPS_SCREENS else {}
        screen = _screen_class(path)(self._services, self.bridge, **extra)
        page = self._stack.widget(index)
        assert page is not None  # every screen has its page from the start
        showing = self._stack.currentIndex() == index
        self._stack.insertWidget(index, screen)
        self._stack.removeWidget(page)
        page.deleteLater()
        if showing:
            self._stack.setCurrentIndex(index)
        self._connect_screen(key, screen)
        return screen

    def _takes_to_export(self) -> list[Any]:
        takes: Callable[[], list[Any]] = getattr(self.screens["library"], "takes_to_export", list)
        return takes()

    def _connect_signals(self) -> None:
        assert self.bridge is not None
        assert self.ops is not None
        assert self.tray is not None
        # A screen picked in the sidebar is built (once) before it is shown.
        self._nav.currentRowChanged.connect(self._show_row)
        self.bridge.job_changed.connect(self._on_job_changed)
        self.bridge.failed.connect(self._on_failed)
        self.ops.changed.connect(self._on_changed)
        self.ops.failed.connect(self._on_failed)
        self.tray.open_requested.connect(self._bring_to_front)
        for key, action in self.go_actions.items():
            action.triggered.connect(lambda _=False, key=key: self.show_screen(key))
        # A screen picked with the mouse takes the keys at once, as one picked by its key.
        self._nav.itemClicked.connect(lambda _item: self._focus_screen())

    def _connect_screen(self, key: str, screen: QWidget) -> None:
        """Connect a screen just built; a screen it hands work to is built when it does."""
        from takestock.ui.ops import Changes

        if key == "generate":
            screen.queued.connect(lambda _ids: self.show_screen("queue"))  # type: ignore[attr-defined]
        use_prompt = getattr(screen, "use_prompt", None)
        if use_prompt is not None:
            use_prompt.connect(self._use_prompt)
        open_take = getattr(screen, "open_take", None)
        if open_take is not None:
            open_take.connect(self._open_take)
        if key == "arena":
            screen.compare_requested.connect(self._compare_group)  # type: ignore[attr-defined]
        elif key in ("library", "queue"):
            chosen = getattr(screen, "compare_requested", None)
            if chosen is not None:
                chosen.connect(self._compare)
        if key == "compare":
            # A blind vote is stored by Compare itself: every other screen hears of it at
            # once. ("Best" goes through the ops, which announce it.)
            ops = self.ops
            assert ops is not None
            screen.duel_recorded.connect(  # type: ignore[attr-defined]
                lambda _duel: ops.publish(Changes(takes=True))
            )
        tell = getattr(screen, "set_screen_keys", None)
        if callable(tell):
            tell({k: key_text(action) for k, action in self.go_actions.items()})

    # -------------------------------------------------------------- screens

    def show_screen(self, key: str) -> None:
        """Show a screen (built now if it is the first time) and put the keyboard in it
        (its keys work at once)."""
        self._nav.setCurrentRow(SCREEN_KEYS.index(key))
        self._show_row(SCREEN_KEYS.index(key))
        self._focus_screen()

    def _show_row(self, row: int) -> None:
        if self._screens is None or not 0 <= row < len(SCREEN_KEYS):
            return
        self._screens[SCREEN_KEYS[row]]  # built on first access
        self._stack.setCurrentIndex(row)

    def _focus_screen(self) -> None:
        screen = self._stack.currentWidget()
        if screen is not None:
            (screen.focusProxy() or screen).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def current_screen(self) -> str:
        return SCREEN_KEYS[self._stack.currentIndex()]

    def _on_changed(self, changes: Changes) -> None:
        # Screens handed the ops listen to them themselves; one not built yet reads the
        # library afresh when it is.
        built = self._screens.built() if self._screens is not None else {}
        for key, screen in built.items():
            apply = getattr(screen, "apply_changes", None)
            if key not in OPS_SCREENS and callable(apply):
                apply(changes)

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.take_id is not None:
            self.statusBar().showMessage(self.tr("Take %s is ready") % event.take_id, 5000)

    def _show_about(self) -> None:
        from takestock.core.paths import data_paths
        from takestock.ui.about import AboutDialog

        root = self._services.paths.root if self._services else data_paths().root
        AboutDialog(root, self).exec()

    def _use_prompt(self, version_id: int) -> None:
        self.screens["generate"].load_prompt_version(version_id)  # type: ignore[attr-defined]
        self.show_screen("generate")

    def _compare_group(self, group: int) -> None:
        self.screens["compare"].open_group(group)  # type: ignore[attr-defined]
        self.show_screen("compare")

    def _compare(self, take_ids: list[int]) -> None:
        self.screens["compare"].compare(take_ids)  # type: ignore[attr-defined]
        self.show_screen("compare")

    def _open_take(self, take_id: int) -> None:
        select = getattr(self.screens["library"], "select_take", None)
        if select is not None:
            select(take_id)
        self.show_screen("library")

    def _bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _on_failed(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    # -------------------------------------------------------------- layout

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def _restore_screen(self) -> None:
        screen = str(QSettings().value("main/screen", "generate"))
        self.show_screen(screen if screen in self.screens else "generate")

    def closeEvent(self, event: Any) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        if self._screens is not None:
            settings.setValue("main/screen", self.current_screen())
        super().closeEvent(event)

    def shutdown(self) -> None:
        # The tray checks expiring credits on a timer: stop it before the store closes.
        if self.tray is not None:
            self.tray.shutdown()
        if self.ops is not None:  # no change may reach a screen once it shuts down
            self.ops.shutdown()
        built = self._screens.built() if self._screens is not None else {}
        for screen in built.values():
            stop = getattr(screen, "shutdown", None)
            if callable(stop):
                stop()
        if self.bridge is not None:
            self.bridge.shutdown()
