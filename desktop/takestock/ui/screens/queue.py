"""Queue: every job, its state and cost; cancel, retry, open the take."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from takestock.core.jobs import FINAL_STATES, JobEvent
from takestock.ui.bridge import EngineBridge
from takestock.ui.models import JobsModel
from takestock.wiring import Services

__all__ = ["QueueScreen", "table_view"]


def table_view(model: object) -> QTableView:
    view = QTableView()
    view.setModel(model)  # type: ignore[arg-type]
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return view


class QueueScreen(QWidget):
    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self.model = JobsModel(services.store)
        self.view = table_view(self.model)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.retry_button = QPushButton(self.tr("Retry"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.view)
        self.cancel_button.clicked.connect(self._cancel)
        self.retry_button.clicked.connect(self._retry)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        bridge.job_changed.connect(self._on_job_changed)
        self._update_buttons()

    def _selected(self) -> list[int]:
        rows = {i.row() for i in self.view.selectionModel().selectedRows()}
        return [self.model.job(r).id for r in sorted(rows)]

    def _update_buttons(self) -> None:
        jobs = [self.model.job(i.row()) for i in self.view.selectionModel().selectedRows()]
        self.cancel_button.setEnabled(any(j.state not in FINAL_STATES for j in jobs))
        self.retry_button.setEnabled(
            any(j.state in ("failed", "cancelled", "unknown") for j in jobs)
        )

    def _cancel(self) -> None:
        for job_id in self._selected():
            self._bridge.cancel(job_id)

    def _retry(self) -> None:
        for job_id in self._selected():
            self._bridge.retry(job_id)

    def _on_job_changed(self, event: JobEvent) -> None:
        self.model.refresh()
        self._update_buttons()
