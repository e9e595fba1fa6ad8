"""Qt table models over the core's jobs and takes; rows are fetched from the store."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from takestock.core.jobs import Job, list_jobs
from takestock.core.store import Store
from takestock.core.takes import Take, TakeFilter, list_takes

__all__ = ["JobsModel", "TakesModel"]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class JobsModel(QAbstractTableModel):
    """Every job, newest first."""

    HEADERS = ("Job", "Vendor", "Model", "State", "Progress", "Task id", "Cost", "Take", "Error")

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._jobs: list[Job] = []
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._jobs = list(reversed(list_jobs(self._store)))
        self.endResetModel()

    def job(self, row: int) -> Job:
        return self._jobs[row]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and job.error:
            return job.error
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        estimate = job.estimate or {}
        return (
            job.id,
            job.vendor,
            job.model,
            job.state + (f" ({job.vendor_state})" if job.vendor_state else ""),
            f"{job.progress:.0%}" if job.progress is not None else "",
            job.vendor_task_id or "",
            f"{estimate.get('amount', 0):g} {estimate.get('unit', '')}" if estimate else "",
            job.take_id or "",
            job.error or "",
        )[index.column()]


class TakesModel(QAbstractTableModel):
    """Takes matching a filter, newest first."""

    HEADERS = ("Take", "Vendor", "Model", "Length", "Size", "Audio", "Verdict", "Stars", "Prompt")

    def __init__(self, store: Store, media_root: Any) -> None:
        super().__init__()
        self._store = store
        self._media_root = media_root
        self._filter = TakeFilter()
        self._takes: list[Take] = []
        self.refresh()

    def set_filter(self, where: TakeFilter) -> None:
        self._filter = where
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._takes = list_takes(self._store, self._media_root, self._filter)
        self.endResetModel()

    def take(self, row: int) -> Take:
        return self._takes[row]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._takes)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        take = self._takes[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            made = time.strftime("%Y-%m-%d %H:%M", time.localtime(take.created_at))
            return f"{take.path}\n{made}"
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            take.id,
            take.vendor,
            take.model,
            f"{take.duration_s:.1f} s",
            f"{take.width}×{take.height}",
            "yes" if take.has_audio else "",
            take.verdict,
            "★" * (take.stars or 0),
            (take.prompt or "").replace("\n", " "),
        )[index.column()]
