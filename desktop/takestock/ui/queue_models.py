"""The Queue's table model: the jobs of one view, newest first, read page by page.

The model holds job ids (one query per view change) and reads job rows a page at a
time when a view first shows them; a :class:`~takestock.core.jobs.JobEvent` reads that
one job again, and moves it in or out of the view.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon

from takestock.core.credits import list_accounts
from takestock.core.jobs import ACTIVE_STATES, Job, JobEvent, get_jobs, job_ids
from takestock.core.queue import QueueView, elapsed_s, request_prompts, view_states
from takestock.core.store import Store
from takestock.ui.models.table import ListTableModel
from takestock.ui.preferences import QT_TRANSLATE_NOOP

__all__ = ["PROGRESS_ROLE", "QueueModel", "cost_text", "elapsed_text", "state_text"]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: The job's progress (0..1) for an active job with one, else None; for the delegate.
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1
#: Rows read at once when a view first shows one of them.
PAGE = 100

_RED = QColor("#b3261e")
_AMBER = QColor("#8a5a00")
_GREEN = QColor("#1e6b2a")


def _tr(text: str) -> str:
    return QCoreApplication.translate("Queue", text)


def elapsed_text(seconds: float) -> str:
    """12 s · 3 min 05 s · 1 h 02 min."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _amount(value: float) -> str:
    return f"{value:g}"


def cost_text(job: Job) -> str:
    """What the job costs: the vendor's charge where known; once settled, what was
    charged (the estimate, where the vendor reports none) or nothing; until then the
    estimate (≈)."""
    estimate = job.estimate or {}
    unit = estimate.get("unit", "")
    if job.charged_without_output:
        return (
            _tr("charged %1 %2, no output")
            .replace("%1", _amount(job.cost_actual or 0))
            .replace("%2", unit)
        )
    if job.cost_actual is not None:
        return f"{_amount(job.cost_actual)} {unit}".strip()
    if not estimate:
        return ""
    if estimate.get("amount") is None:
        return _tr("price unknown")  # never shown as free
    amount = float(estimate["amount"])
    if job.state == "done":  # settled: the ledger took the estimate
        return f"{_amount(amount)} {unit}".strip()
    if job.state in ("failed", "cancelled"):  # settled: the hold was released
        return _tr("not charged")
    return f"≈ {_amount(amount)} {unit}".strip()


def state_text(job: Job) -> str:
    if job.manual and job.state == "running":
        return _tr("waiting for your file")
    if job.state == "unknown":
        return _tr("in doubt: did the vendor make it?")
    words = {
        "queued": _tr("queued"),
        "submitting": _tr("submitting"),
        "running": _tr("running"),
        "downloading": _tr("downloading"),
        "done": _tr("done"),
        "failed": _tr("failed"),
        "cancelled": _tr("cancelled"),
    }.get(job.state, job.state)
    if job.vendor_state and job.state in ACTIVE_STATES and job.vendor_state != job.state:
        return f"{words} ({job.vendor_state})"
    return words


class QueueModel(ListTableModel):
    """The jobs of one :data:`~takestock.core.queue.QueueView`, newest first.

    ``UserRole`` on any cell gives the job id; :data:`PROGRESS_ROLE` the progress of an
    active job. Call :meth:`job_changed` with each engine event and :meth:`tick` once a
    second for the elapsed time of running jobs.
    """

    COLUMNS = (
        QT_TRANSLATE_NOOP("QueueModel", "Job"),
        QT_TRANSLATE_NOOP("QueueModel", "Vendor · model"),
        QT_TRANSLATE_NOOP("QueueModel", "Account"),
        QT_TRANSLATE_NOOP("QueueModel", "State"),
        QT_TRANSLATE_NOOP("QueueModel", "Progress"),
        QT_TRANSLATE_NOOP("QueueModel", "Elapsed"),
        QT_TRANSLATE_NOOP("QueueModel", "Task id"),
        QT_TRANSLATE_NOOP("QueueModel", "Cost"),
        QT_TRANSLATE_NOOP("QueueModel", "Take"),
        QT_TRANSLATE_NOOP("QueueModel", "Note"),
        QT_TRANSLATE_NOOP("QueueModel", "Prompt"),
    )
    #: Last in the model (columns keep their numbers); the view shows it second.
    PROMPT = 10
    ELAPSED = 5
    PROGRESS = 4
    COST = 7
    STATE = 3

    def __init__(
        self, store: Store, view: QueueView = "all", clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self._store = store
        self._view: QueueView = view
        self._clock = clock
        self._ids: list[int] = []  # newest first
        self._cache: dict[int, Job] = {}
        self._accounts: dict[int, str] = {}
        self._prompts: dict[int, str] = {}  # request id -> prompt
        self.posters: Callable[[Job], QIcon | None] | None = None
        self.refresh()

    @property
    def view(self) -> QueueView:
        return self._view

    def set_view(self, view: QueueView) -> None:
        self._view = view
        self.refresh()

    def refresh(self) -> None:
        ids = job_ids(self._store, states=view_states(self._view))
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        self._accounts = {a.id: a.name for a in list_accounts(self._store)}
        self.endResetModel()

    # ------------------------------------------------------------------ rows

    def job(self, row: int) -> Job:
        job_id = self._ids[row]
        job = self._cache.get(job_id)
        if job is None:
            start = max(0, row - PAGE // 4)
            wanted = [i for i in self._ids[start : start + PAGE] if i not in self._cache]
            fetched = get_jobs(self._store, wanted)
            self._cache.update(fetched)
            asked = {j.request_id for j in fetched.values()} - set(self._prompts)
            self._prompts.update(request_prompts(self._store, asked))
            job = self._cache[job_id]
        return job

    def row_of(self, job_id: int) -> int | None:
        # ids are sorted newest (largest) first
        position = bisect.bisect_left(self._ids, -job_id, key=lambda i: -i)
        if position < len(self._ids) and self._ids[position] == job_id:
            return position
        return None

    def _in_view(self, job: Job) -> bool:
        states = view_states(self._view)
        return states is None or job.state in states

    def job_changed(self, event: JobEvent) -> None:
        """Read the job again; show it, move it out of the view, or bring it in."""
        found = get_jobs(self._store, [event.job_id]).get(event.job_id)
        row = self.row_of(event.job_id)
        if found is None or not self._in_view(found):
            self._cache.pop(event.job_id, None)
            if row is not None:
                self.beginRemoveRows(_ROOT, row, row)
                del self._ids[row]
                self.endRemoveRows()
            return
        if found.account_id is not None and found.account_id not in self._accounts:
            self._accounts = {a.id: a.name for a in list_accounts(self._store)}
        self._cache[found.id] = found
        if found.request_id not in self._prompts:
            self._prompts.update(request_prompts(self._store, [found.request_id]))
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
            return
        position = bisect.bisect_left(self._ids, -found.id, key=lambda i: -i)
        self.beginInsertRows(_ROOT, position, position)
        self._ids.insert(position, found.id)
        self.endInsertRows()

    def active_rows(self) -> list[int]:
        """Rows of jobs read so far that are still going (their clock runs)."""
        return [
            row
            for row, job_id in enumerate(self._ids)
            if (job := self._cache.get(job_id)) is not None and job.state in ACTIVE_STATES
        ]

    def tick(self) -> bool:
        """Redraw the elapsed time of running jobs; False when none runs."""
        rows = self.active_rows()
        for row in rows:
            index = self.index(row, self.ELAPSED)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])
        return bool(rows)

    # ------------------------------------------------------------- Qt model

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        job = self.job(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column)
        if role == Qt.ItemDataRole.UserRole:
            return job.id
        if role == PROGRESS_ROLE:
            if job.state in ACTIVE_STATES and not job.manual:
                return job.progress if job.progress is not None else 0.0
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.PROMPT:
                return self._prompts.get(job.request_id) or None
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.DecorationRole and column == self.PROMPT:
            return self.posters(job) if self.posters is not None and job.take_id else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colour(job, column)
        if role == Qt.ItemDataRole.FontRole and (
            (column == self.COST and job.charged_without_output)
            or (column == self.STATE and job.state == "unknown")
        ):
            font = QFont()
            font.setBold(True)
            return font
        if (
            role == Qt.ItemDataRole.BackgroundRole
            and column == self.COST
            and job.charged_without_output
        ):
            return QBrush(QColor("#fde3e0"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, self.ELAPSED, self.COST):
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def _display(self, job: Job, column: int) -> Any:
        if column == 0:
            return job.id
        if column == 1:
            return f"{job.vendor} · {job.model}"
        if column == 2:
            name = self._accounts.get(job.account_id) if job.account_id is not None else None
            return name or _tr("API key")
        if column == self.STATE:
            return state_text(job)
        if column == self.PROGRESS:
            if job.state == "done":
                return "100%"
            if job.progress is not None and job.state in ACTIVE_STATES and not job.manual:
                return f"{job.progress:.0%}"
            return ""
        if column == self.ELAPSED:
            return elapsed_text(elapsed_s(job, self._clock()))
        if column == 6:
            return job.vendor_task_id or ""
        if column == self.COST:
            return cost_text(job)
        if column == 8:
            return _tr("take %1").replace("%1", str(job.take_id)) if job.take_id else ""
        if column == 9:
            return self._note(job)
        if column == self.PROMPT:
            return " ".join(self._prompts.get(job.request_id, "").split())
        return None

    def _note(self, job: Job) -> str:
        if job.manual and job.state == "running":
            return _tr("make it on the vendor's site, then attach the file (Ctrl+O)")
        if job.state == "unknown":
            return _tr("check the vendor's history, then Resolve (Ctrl+U)")
        if job.charged_without_output:
            return _tr("copy a refund request (Ctrl+Shift+C)")
        return (job.error or "").split("\n", 1)[0]

    def _tooltip(self, job: Job, column: int) -> str | None:
        if column == self.COST and job.charged_without_output:
            return _tr(
                "The vendor kept the credits and delivered no video: "
                "copy a refund request for its support (Ctrl+Shift+C)."
            )
        if column == 6 and job.vendor_task_id:
            return _tr("Our id: %1").replace("%1", job.client_request_id)
        if job.error:
            return job.error
        return None

    def _colour(self, job: Job, column: int) -> QColor | None:
        if column == self.COST and job.charged_without_output:
            return _RED
        if column in (self.STATE, 9):
            if job.state == "unknown" or (job.manual and job.state == "running"):
                return _AMBER
            if job.state == "failed":
                return _RED
            if job.state == "done":
                return _GREEN
        return None
