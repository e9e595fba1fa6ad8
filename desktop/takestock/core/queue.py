"""What the queue shows of each job and what may be done with it, as plain rules.

The Queue screen (and anything else that lists jobs) asks here rather than deciding for
itself: which jobs a view holds, how long a job has run, and which actions apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from takestock.core.jobs import ACTIVE_STATES, FINAL_STATES, Job, list_jobs
from takestock.core.store import Store

__all__ = [
    "VIEWS",
    "JobActions",
    "QueueView",
    "WaitingJob",
    "elapsed_s",
    "job_actions",
    "needs_attention",
    "request_prompts",
    "view_states",
    "waiting_for_files",
]

QueueView = Literal["active", "failed", "all"]
VIEWS: tuple[QueueView, ...] = ("active", "failed", "all")

#: The states each view holds (None: every state). "failed" holds what needs a look:
#: failed jobs and jobs in doubt.
_VIEW_STATES: Mapping[QueueView, frozenset[str] | None] = {
    "active": ACTIVE_STATES,
    "failed": frozenset({"failed", "unknown"}),
    "all": None,
}


def view_states(view: QueueView) -> frozenset[str] | None:
    return _VIEW_STATES[view]


def elapsed_s(job: Job, now: float) -> float:
    """Seconds since the job was queued: until it ended, or until ``now`` while it runs
    (a job in doubt stopped its clock when it became unknown)."""
    ended = job.state in FINAL_STATES or job.state == "unknown"
    end = job.finished_at if ended and job.finished_at is not None else now
    return max(0.0, end - job.created_at)


def needs_attention(job: Job) -> bool:
    """A job the user should look at: in doubt, or charged with nothing to show."""
    return job.state == "unknown" or job.charged_without_output


@dataclass(frozen=True, slots=True)
class JobActions:
    """What can be done with a job now.

    Attributes:
        cancel: it is still going (at the vendor, or waiting for a file from its site).
        retry: it ended without a take; a new job for the same request and target.
            Not for a job in doubt: the vendor may have made it, so it is resolved first.
        resolve: it is in doubt; the user says whether the vendor made it.
        attach: it waits for a file downloaded from the vendor's site.
        open_take: it made a take.
        claim: the vendor charged and delivered nothing: a refund request applies.
    """

    cancel: bool
    retry: bool
    resolve: bool
    attach: bool
    open_take: bool
    claim: bool


def job_actions(job: Job) -> JobActions:
    return JobActions(
        cancel=job.state in ACTIVE_STATES,
        retry=job.state in ("failed", "cancelled"),
        resolve=job.state == "unknown",
        attach=job.manual and job.state == "running",
        open_take=job.take_id is not None,
        claim=job.charged_without_output,
    )


@dataclass(frozen=True, slots=True)
class WaitingJob:
    """A job waiting for a file from the vendor's site, with the words it was asked."""

    job: Job
    prompt: str


def waiting_for_files(store: Store) -> list[WaitingJob]:
    """Jobs made by hand on a vendor's site (or made but not yet downloaded) that wait
    for their file, newest first: what a new file in the watch folder may belong to."""
    jobs = [j for j in list_jobs(store, states=("running",)) if j.manual]
    if not jobs:
        return []
    ids = sorted({j.request_id for j in jobs})
    rows = store.all(
        f"SELECT id, prompt FROM request WHERE id IN ({', '.join('?' * len(ids))})", ids
    )
    prompts = {r["id"]: r["prompt"] for r in rows}
    return [WaitingJob(j, prompts.get(j.request_id, "")) for j in reversed(jobs)]


def request_prompts(store: Store, request_ids: Iterable[int]) -> dict[int, str]:
    """The prompt each request was made with (the filled-in text), by request id."""
    ids = sorted(set(request_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.all(f"SELECT id, prompt FROM request WHERE id IN ({marks})", chunk):
            found[int(row["id"])] = str(row["prompt"])
    return found
