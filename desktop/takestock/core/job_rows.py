"""Jobs as values: the job table's rows read back, for the engine and every face.

A job is one take of one request on one vendor model; its row is the truth (see
``core.jobs`` for the engine that moves it). This module only reads.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from takestock.core.errors import InvalidInput
from takestock.core.job_holders import Holder, holder_from, owner_alive
from takestock.core.store import Store
from takestock.core.vendor import ResultRef, TaskHandle

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "Job",
    "JobEvent",
    "JobState",
    "get_job",
    "get_jobs",
    "job_ids",
    "list_jobs",
]

_HOST = socket.gethostname()

JobState = Literal[
    "queued", "submitting", "running", "downloading", "done", "failed", "cancelled", "unknown"
]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "submitting", "running", "downloading"})


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    request_id: int
    vendor: str
    model: str
    account_id: int | None
    state: JobState
    client_request_id: str
    vendor_task_id: str | None
    task_data: Mapping[str, Any]
    vendor_state: str | None
    progress: float | None
    attempts: int
    next_poll_at: float | None
    results: tuple[ResultRef, ...]
    estimate: Mapping[str, Any] | None
    cost_actual: float | None
    error_kind: str | None
    error: str | None
    created_at: float
    submitted_at: float | None
    finished_at: float | None
    take_id: int | None = None
    manual: bool = False
    #: The live process driving this active job, where there is one.
    held_by: Holder | None = None

    @property
    def charged_without_output(self) -> bool:
        """The vendor kept credits for a job that made nothing: a refund may be owed."""
        return self.state == "failed" and bool(self.cost_actual)

    @property
    def fetchable_again(self) -> bool:
        """The vendor delivered and the download failed: a retry fetches the take again
        from the stored links (no new create)."""
        return self.state == "failed" and bool(self.results)

    @property
    def handle(self) -> TaskHandle:
        assert self.vendor_task_id is not None
        return TaskHandle(self.vendor_task_id, self.task_data)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "state": self.state,
            "vendor": self.vendor,
            "model": self.model,
            "client_request_id": self.client_request_id,
            "vendor_task_id": self.vendor_task_id,
            "vendor_state": self.vendor_state,
            "progress": self.progress,
            "attempts": self.attempts,
            "estimate": dict(self.estimate) if self.estimate else None,
            "cost_actual": self.cost_actual,
            "error_kind": self.error_kind,
            "error": self.error,
            "take_id": self.take_id,
            "manual": self.manual,
            "charged_without_output": self.charged_without_output,
            "held_by": self.held_by.to_json() if self.held_by else None,
            "created_at": self.created_at,
            "submitted_at": self.submitted_at,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True, slots=True)
class JobEvent:
    """What changed about a job; the GUI's bridge turns these into one Qt signal."""

    job_id: int
    state: str
    progress: float | None = None
    vendor_state: str | None = None
    error: str | None = None
    take_id: int | None = None


_JOB_SELECT = "SELECT job.*, take.id AS take_id FROM job LEFT JOIN take ON take.job_id = job.id"


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        request_id=row["request_id"],
        vendor=row["vendor"],
        model=row["model"],
        account_id=row["account_id"],
        state=row["state"],
        client_request_id=row["client_request_id"],
        vendor_task_id=row["vendor_task_id"],
        task_data=json.loads(row["task_data"] or "{}"),
        vendor_state=row["vendor_state"],
        progress=row["progress"],
        attempts=row["attempts"],
        next_poll_at=row["next_poll_at"],
        results=tuple(
            ResultRef(r["url"], r.get("headers", {}), r.get("size"))
            for r in json.loads(row["results"] or "[]")
        ),
        estimate=json.loads(row["estimate"]) if row["estimate"] else None,
        cost_actual=row["cost_actual"],
        error_kind=row["error_kind"],
        error=row["error"],
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        finished_at=row["finished_at"],
        take_id=row["take_id"],
        manual=bool(row["manual"]),
        held_by=_live_holder(row["owner"]) if row["state"] in ACTIVE_STATES else None,
    )


def _live_holder(owner: str | None) -> Holder | None:
    return holder_from(owner) if owner and owner_alive(owner, _HOST) else None


def get_job(store: Store, job_id: int) -> Job:
    row = store.one(_JOB_SELECT + " WHERE job.id = ?", (job_id,))
    if row is None:
        raise InvalidInput("job", f"no job {job_id}")
    return _job(row)


def list_jobs(
    store: Store, *, states: Iterable[str] | None = None, request_id: int | None = None
) -> list[Job]:
    clauses: list[str] = []
    params: list[Any] = []
    if states is not None:
        wanted = list(states)
        clauses.append(f"job.state IN ({', '.join('?' * len(wanted))})")
        params += wanted
    if request_id is not None:
        clauses.append("job.request_id = ?")
        params.append(request_id)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return [_job(r) for r in store.all(_JOB_SELECT + where + " ORDER BY job.id", params)]


def job_ids(store: Store, *, states: Iterable[str] | None = None) -> list[int]:
    """Ids of the jobs in ``states`` (every job when None), newest first."""
    if states is None:
        return [r[0] for r in store.all("SELECT id FROM job ORDER BY id DESC")]
    wanted = list(states)
    rows = store.all(
        f"SELECT id FROM job WHERE state IN ({', '.join('?' * len(wanted))}) ORDER BY id DESC",
        wanted,
    )
    return [r[0] for r in rows]


def get_jobs(store: Store, ids: Iterable[int]) -> dict[int, Job]:
    """The jobs with these ids, by id (one query; missing ids are left out)."""
    wanted = list(dict.fromkeys(ids))
    out: dict[int, Job] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = store.all(_JOB_SELECT + f" WHERE job.id IN ({', '.join('?' * len(chunk))})", chunk)
        out.update((r["id"], _job(r)) for r in rows)
    return out
