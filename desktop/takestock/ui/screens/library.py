"""Library: every take, filtered, rated from the keyboard the way Lightroom users expect."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from takestock.core.jobs import JobEvent
from takestock.core.takes import TakeFilter, rate_take
from takestock.ui.bridge import EngineBridge
from takestock.ui.models import TakesModel
from takestock.ui.screens.queue import table_view
from takestock.wiring import Services

__all__ = ["RATING_KEYS", "LibraryScreen"]

RATING_KEYS: dict[Qt.Key, dict[str, Any]] = {
    Qt.Key.Key_P: {"verdict": "usable"},
    Qt.Key.Key_X: {"verdict": "reject"},
    Qt.Key.Key_U: {"verdict": "unrated"},
    **{getattr(Qt.Key, f"Key_{n}"): {"stars": n} for n in range(1, 6)},
}


class LibraryScreen(QWidget):
    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self.model = TakesModel(services.store, services.library.root)
        self.view = table_view(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search prompts"))
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItems(["all", "usable", "reject", "unrated"])
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.verdict_filter)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view)
        layout.addWidget(
            QLabel(self.tr("Rate: P usable · X reject · U unrated · 1–5 stars · Enter opens"))
        )
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._connect_signals(bridge)

    def _connect_signals(self, bridge: EngineBridge) -> None:
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._apply_filter)
        self.verdict_filter.currentTextChanged.connect(self._apply_filter)
        self.view.doubleClicked.connect(self._open_take)
        for key, change in RATING_KEYS.items():
            shortcut = QShortcut(QKeySequence(key), self.view)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda change=change: self.rate_selected(**change))
        open_key = QShortcut(QKeySequence(Qt.Key.Key_Return), self.view)
        open_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_key.activated.connect(lambda: self._open_take(self.view.currentIndex()))
        bridge.job_changed.connect(self._on_job_changed)

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.take_id is not None:
            self.model.refresh()

    def _apply_filter(self) -> None:
        verdict = self.verdict_filter.currentText()
        self.model.set_filter(
            TakeFilter(
                search=self.search.text().strip(),
                verdict=None if verdict == "all" else verdict,  # type: ignore[arg-type]
            )
        )

    def rate_selected(self, **change: Any) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        for row in rows:
            rate_take(self._services.store, self.model.take(row).id, **change)
        current = self.view.currentIndex()
        self.model.refresh()
        if current.isValid():
            self.view.setCurrentIndex(current)

    def _open_take(self, index: Any) -> None:
        if index.isValid():
            path = self.model.take(index.row()).path
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
