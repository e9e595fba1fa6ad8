"""Generate: a prompt, its parameters, and the vendor models it fans out to."""

from __future__ import annotations

from concurrent.futures import Future

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import InvalidInput, TakestockError
from takestock.core.jobs import Target
from takestock.core.vendor import GenerationRequest
from takestock.ui.bridge import EngineBridge
from takestock.wiring import Services

__all__ = ["GenerateScreen"]


class TargetList(QGroupBox):
    """A checkbox per available vendor model, with what one take costs there.

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

    def cost_label(self, target: Target) -> QLabel:
        return self._boxes[target][1]

    def show_costs(self, costs: dict[Target, str]) -> None:
        for target, (_, label) in self._boxes.items():
            label.setText(costs.get(target, ""))


class GenerateScreen(QWidget):
    """Write or pick a prompt, set parameters, tick models, generate.

    Signals:
        queued(list): job ids just queued.
    """

    queued = Signal(list)

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self._build()
        self._connect_signals()
        self._update_costs()

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
        self.targets = TargetList(self._services)
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

        left = QVBoxLayout()
        left.addWidget(QLabel(self.tr("Prompt")))
        left.addWidget(self.prompt, 2)
        left.addWidget(self.negative)
        left.addLayout(params)
        targets = QScrollArea()
        targets.setWidget(self.targets)
        targets.setWidgetResizable(True)
        right = QVBoxLayout()
        right.addWidget(targets, 1)
        right.addWidget(self.message)
        right.addWidget(self.generate_button)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def _connect_signals(self) -> None:
        self.generate_button.clicked.connect(self._generate)
        for widget in (self.duration, self.aspect, self.resolution):
            widget.currentTextChanged.connect(self._update_costs)
        self.audio.toggled.connect(self._update_costs)
        self.count.valueChanged.connect(self._update_costs)
        self.targets.changed.connect(self._update_costs)

    def request(self) -> GenerationRequest:
        return GenerationRequest(
            prompt=self.prompt.toPlainText().strip(),
            negative=self.negative.text().strip(),
            duration_s=float(self.duration.currentText()),
            aspect=self.aspect.currentText(),
            resolution=self.resolution.currentText(),
            audio=self.audio.isChecked() or None,
        )

    def _update_costs(self) -> None:
        request = self.request()
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
        self.generate_button.setEnabled(False)
        future = self._bridge.generate(self.request(), self.targets.selected(), self.count.value())
        future.add_done_callback(lambda f: QTimer.singleShot(0, self, lambda: self._generated(f)))

    def _generated(self, future: Future[tuple[int, list[int]]]) -> None:
        self.generate_button.setEnabled(True)
        try:
            _, job_ids = future.result()
        except TakestockError as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        self.message.setText(self.tr("Queued %n take(s).", "", len(job_ids)))
        self.queued.emit(job_ids)
