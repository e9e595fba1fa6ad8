"""The main window: generate, watch the queue, rate takes in the library."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import InvalidInput, TakestockError
from takestock.core.jobs import JobEvent, Target
from takestock.core.takes import TakeFilter, rate_take
from takestock.core.vendor import GenerationRequest
from takestock.ui.bridge import EngineBridge
from takestock.ui.models import JobsModel, TakesModel
from takestock.wiring import Services

__all__ = ["MainWindow"]

_RATING_KEYS = {
    Qt.Key.Key_P: {"verdict": "usable"},
    Qt.Key.Key_X: {"verdict": "reject"},
    Qt.Key.Key_U: {"verdict": "unrated"},
    **{getattr(Qt.Key, f"Key_{n}"): {"stars": n} for n in range(1, 6)},
}


class _TargetList(QGroupBox):
    """A checkbox per vendor model with what one take costs.

    Signals:
        changed(): the selection changed.
    """

    changed = Signal()

    def __init__(self, services: Services) -> None:
        super().__init__(self.tr("Vendors and models"))
        layout = QVBoxLayout(self)
        self._boxes: dict[Target, tuple[QCheckBox, QLabel]] = {}
        for vendor in services.catalog:
            if vendor.id not in services.adapters:
                continue
            for model in vendor.models.values():
                if not model.available:
                    continue
                row = QHBoxLayout()
                box = QCheckBox(f"{vendor.name} · {model.label}")
                box.toggled.connect(self.changed)
                cost = QLabel()
                cost.setAlignment(Qt.AlignmentFlag.AlignRight)
                row.addWidget(box, 1)
                row.addWidget(cost)
                layout.addLayout(row)
                self._boxes[Target(vendor.id, model.id)] = (box, cost)
        # A new user has no keys: start on the sandbox, which needs none.
        first = next((t for t in self._boxes if services.catalog.vendor(t.vendor).sandbox), None)
        if first is None and self._boxes:
            first = next(iter(self._boxes))
        if first is not None:
            self._boxes[first][0].setChecked(True)
        layout.addStretch(1)

    def selected(self) -> list[Target]:
        return [t for t, (box, _) in self._boxes.items() if box.isChecked()]

    def show_costs(self, costs: dict[Target, str]) -> None:
        for target, (_, label) in self._boxes.items():
            label.setText(costs.get(target, ""))


class MainWindow(QMainWindow):
    """Generate on the left; the queue and the library on the right."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.setWindowTitle("Takestock")
        self._services = services
        self.bridge = EngineBridge(services, self)
        self._jobs = JobsModel(services.store)
        self._takes = TakesModel(services.store, services.library.root)
        self._build()
        self._connect_signals()
        self._restore_layout()
        self._update_costs()
        self.bridge.start()

    # ----------------------------------------------------------------- layout

    def _build(self) -> None:
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(self.tr("Describe the shot: subject, motion, camera, light"))
        self.negative = QLineEdit()
        self.negative.setPlaceholderText(self.tr("What to avoid (negative prompt)"))
        self.duration = QComboBox()
        self.duration.addItems(["2", "3", "4", "5", "6", "8", "10"])
        self.duration.setCurrentText("5")
        self.aspect = QComboBox()
        self.aspect.addItems(["16:9", "9:16", "1:1"])
        self.resolution = QComboBox()
        self.resolution.addItems(["480p", "720p", "1080p"])
        self.resolution.setCurrentText("720p")
        self.audio = QCheckBox(self.tr("Audio"))
        self.count = QSpinBox()
        self.count.setRange(1, 20)
        self.targets = _TargetList(self._services)
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setDefault(True)
        self.generate_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.message = QLabel()
        self.message.setWordWrap(True)

        params = QFormLayout()
        params.addRow(self.tr("Duration (s)"), self.duration)
        params.addRow(self.tr("Aspect"), self.aspect)
        params.addRow(self.tr("Resolution"), self.resolution)
        params.addRow(self.tr("Takes per model"), self.count)
        params.addRow("", self.audio)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel(self.tr("Prompt")))
        left_layout.addWidget(self.prompt, 2)
        left_layout.addWidget(self.negative)
        left_layout.addLayout(params)
        left_layout.addWidget(self.targets, 1)
        left_layout.addWidget(self.message)
        left_layout.addWidget(self.generate_button)

        self.queue_view = self._table(self._jobs)
        self.library_view = self._table(self._takes)
        self.library_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search prompts"))
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItems(["all", "usable", "reject", "unrated"])
        library = QWidget()
        library_layout = QVBoxLayout(library)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.verdict_filter)
        library_layout.addLayout(filters)
        library_layout.addWidget(self.library_view)
        library_layout.addWidget(
            QLabel(self.tr("Rate: P usable · X reject · U unrated · 1–5 stars · Enter opens"))
        )

        self.tabs = QTabWidget()
        self.tabs.addTab(self.queue_view, self.tr("Queue"))
        self.tabs.addTab(library, self.tr("Library"))

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage(str(self._services.paths.root))
        self._search_timer = QTimer(self, singleShot=True, interval=200)

    def _table(self, model: Any) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.horizontalHeader().setStretchLastSection(True)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        return view

    def _connect_signals(self) -> None:
        self.generate_button.clicked.connect(self._generate)
        self.bridge.job_changed.connect(self._on_job_changed)
        self.bridge.failed.connect(self._on_failed)
        for widget in (self.duration, self.aspect, self.resolution):
            widget.currentTextChanged.connect(self._update_costs)
        self.audio.toggled.connect(self._update_costs)
        self.count.valueChanged.connect(self._update_costs)
        self.targets.changed.connect(self._update_costs)
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._apply_filter)
        self.verdict_filter.currentTextChanged.connect(self._apply_filter)
        self.library_view.doubleClicked.connect(self._open_take)
        for key, change in _RATING_KEYS.items():
            shortcut = QShortcut(QKeySequence(key), self.library_view)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda change=change: self._rate_selected(**change))
        open_key = QShortcut(QKeySequence(Qt.Key.Key_Return), self.library_view)
        open_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_key.activated.connect(lambda: self._open_take(self.library_view.currentIndex()))

    # ----------------------------------------------------------------- actions

    def _request(self) -> GenerationRequest:
        return GenerationRequest(
            prompt=self.prompt.toPlainText().strip(),
            negative=self.negative.text().strip(),
            duration_s=float(self.duration.currentText()),
            aspect=self.aspect.currentText(),
            resolution=self.resolution.currentText(),
            audio=self.audio.isChecked() or None,
        )

    def _update_costs(self) -> None:
        request = self._request()
        costs: dict[Target, str] = {}
        for target in self.targets.selected():
            adapter = self._services.adapters[target.vendor]
            model = self._services.catalog.vendor(target.vendor).models[target.model]
            try:
                adapter.validate(request, model)
            except InvalidInput as exc:
                # A prompt problem concerns every row; it is reported when generating.
                if exc.field != "prompt":
                    costs[target] = self.tr("can't: ") + exc.message.split(": ", 1)[-1]
                    continue
            est = adapter.estimate(request, model)
            costs[target] = f"{est.amount * self.count.value():g} {est.unit}"
        self.targets.show_costs(costs)

    def _generate(self) -> None:
        request = self._request()
        targets = self.targets.selected()
        self.generate_button.setEnabled(False)
        future = self.bridge.generate(request, targets, self.count.value())
        future.add_done_callback(lambda f: QTimer.singleShot(0, self, lambda: self._generated(f)))

    def _generated(self, future: Future[tuple[int, list[int]]]) -> None:
        self.generate_button.setEnabled(True)
        try:
            _, job_ids = future.result()
        except TakestockError as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        self.message.setText(self.tr("Queued %n take(s).", "", len(job_ids)))
        self.tabs.setCurrentIndex(0)
        self._jobs.refresh()

    def _on_job_changed(self, event: JobEvent) -> None:
        self._jobs.refresh()
        if event.take_id is not None:
            self._takes.refresh()
            self.statusBar().showMessage(self.tr("Take %s is ready") % event.take_id, 5000)

    def _on_failed(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def _apply_filter(self) -> None:
        verdict = self.verdict_filter.currentText()
        self._takes.set_filter(
            TakeFilter(
                search=self.search.text().strip(),
                verdict=None if verdict == "all" else verdict,  # type: ignore[arg-type]
            )
        )

    def _rate_selected(self, **change: Any) -> None:
        rows = sorted({i.row() for i in self.library_view.selectionModel().selectedRows()})
        for row in rows:
            rate_take(self._services.store, self._takes.take(row).id, **change)
        current = self.library_view.currentIndex()
        self._takes.refresh()
        if current.isValid():
            self.library_view.setCurrentIndex(current)

    def _open_take(self, index: Any) -> None:
        if not index.isValid():
            return
        from PySide6.QtCore import QUrl

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._takes.take(index.row()).path)))

    # --------------------------------------------------------------- lifecycle

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        state = settings.value("main/splitter")
        if state is not None:
            self.splitter.restoreState(state)

    def closeEvent(self, event: Any) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.bridge.shutdown()
