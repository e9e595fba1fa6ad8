"""The main window: a sidebar of screens, one shown at a time, and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from takestock.core.jobs import JobEvent
from takestock.ui.bridge import EngineBridge
from takestock.ui.screens.generate import GenerateScreen
from takestock.ui.screens.library import LibraryScreen
from takestock.ui.screens.queue import QueueScreen
from takestock.wiring import Services

__all__ = ["MainWindow"]

ScreenFactory = Callable[[Services, EngineBridge], QWidget]


class MainWindow(QMainWindow):
    """Hosts the screens; screens talk to the core and to the engine's bridge.

    Attributes:
        bridge: the engine running on its own thread.
        screens: screen widgets by key ("generate", "queue", ...).
    """

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.setWindowTitle("Takestock")
        self._services = services
        self.bridge = EngineBridge(services, self)
        self.screens: dict[str, QWidget] = {}
        self._nav = QListWidget()
        self._nav.setFixedWidth(150)
        self._stack = QStackedWidget()
        for key, title, factory in self._screen_list():
            self._add_screen(key, title, factory)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._nav)
        layout.addWidget(self._stack, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(str(services.paths.root))
        self._connect_signals()
        self._restore_layout()
        self.bridge.start()

    def _screen_list(self) -> list[tuple[str, str, ScreenFactory]]:
        return [
            ("generate", self.tr("Generate"), GenerateScreen),
            ("queue", self.tr("Queue"), QueueScreen),
            ("library", self.tr("Library"), LibraryScreen),
        ]

    def _add_screen(self, key: str, title: str, factory: ScreenFactory) -> None:
        screen = factory(self._services, self.bridge)
        self.screens[key] = screen
        self._stack.addWidget(screen)
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self._nav.addItem(item)

    def _connect_signals(self) -> None:
        self._nav.currentRowChanged.connect(self._stack.setCurrentIndex)
        self.bridge.job_changed.connect(self._on_job_changed)
        self.bridge.failed.connect(self._on_failed)
        generate = self.screens["generate"]
        if isinstance(generate, GenerateScreen):
            generate.queued.connect(lambda _ids: self.show_screen("queue"))
        for index in range(min(9, self._nav.count())):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.activated.connect(lambda i=index: self._nav.setCurrentRow(i))

    def show_screen(self, key: str) -> None:
        self._nav.setCurrentRow(list(self.screens).index(key))

    def current_screen(self) -> str:
        return list(self.screens)[self._stack.currentIndex()]

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.take_id is not None:
            self.statusBar().showMessage(self.tr("Take %s is ready") % event.take_id, 5000)

    def _on_failed(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        screen = settings.value("main/screen", "generate")
        self.show_screen(screen if screen in self.screens else "generate")

    def closeEvent(self, event: Any) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/screen", self.current_screen())
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.bridge.shutdown()
