"""The durable generation engine.

A job is one take of one request on one vendor model. Its row is the truth: every step
commits before the next network call, so a crash at any point resumes from the row.

    queued ─► submitting ─► running ─► downloading ─► done
       ▲           │            │             │
       └─(429)─────┤            └──► failed ◄─┘        cancelled (any active state)
                   │                       │  └─(retry: the stored links)─► downloading
                   └─(no answer)─► find by client id (or by the create's fingerprint),
                                   else unknown (the user decides)

A download that fails after the vendor's success is "charged, no output": the charge is
kept, a refund request offered, and a retry fetches the take again without a new create.

Rules that protect the user's money:
- The job row and its fresh ``client_request_id`` are committed before the create leaves;
  the vendor's task id is committed the moment it arrives.
- A create is never sent twice blindly. When its answer is lost, the engine asks the
  vendor for the task by our client id (where the vendor can) and otherwise marks the
  job ``unknown`` for the user to settle.
- One process drives a job at a time: a job is claimed with an owner token naming the
  host and pid, and a claim whose process is gone is taken over on resume.
- One bad job never stops the others: an unexpected exception in any step ends that job
  (see ``core.faults``), and every state change is one compare-and-set
  (:meth:`Engine._transition`), so a cancel racing a completion cannot undo it.
- Every ending settles the job's hold exactly once (``core.settlement``), and every
  vendor text kept on a job is redacted with the keys of its account first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from takestock.core.errors import InvalidInput, SecretsUnavailable
from takestock.core.job_holders import claim_token, owner_alive, same_engine
from takestock.core.job_rows import (
    ACTIVE_STATES,
    FINAL_STATES,
    Job,
    get_job,
    get_jobs,
    list_jobs,
)
from takestock.core.jobs.base import MAX_ENGINE_FAULTS, _Driving
from takestock.core.jobs.control import EngineControl
from takestock.core.jobs.planning import Target
from takestock.core.vendor import GenerationRequest

if TYPE_CHECKING:
    from takestock.core.generate import Planned

__all__ = ["Engine"]

log = logging.getLogger(__name__)


class Engine(EngineControl):
    """Drives jobs from their rows to takes in the library.

    The composition root hands it the adapters by vendor id; the engine knows them only
    through :class:`~takestock.core.vendor.VendorAdapter`.

    Attributes:
        on_change: called with a :class:`JobEvent` after every committed change (on the
            engine's loop; the GUI's bridge marshals it to the UI thread).
    """

    # ----------------------------------------------------------------- planning

    def plan(
        self, request: GenerationRequest, targets: Sequence[Target], *, check_keys: bool = True
    ) -> list[Planned]:
        """Check every target against the request; raises InvalidInput, sends nothing
        (see :func:`takestock.core.generate.plan_request`)."""
        from takestock.core.generate import plan_request

        return plan_request(self, request, targets, check_keys=check_keys)

    def enqueue(
        self,
        request: GenerationRequest,
        targets: Sequence[Target],
        *,
        count: int = 1,
        prompt_version_id: int | None = None,
        allow_overdraft: bool = False,
        allow_unpriced: bool = False,
        tags: Sequence[str] = (),
    ) -> tuple[int, list[int]]:
        """Queue ``count`` takes per target (see :func:`takestock.core.generate.queue_request`);
        returns the request id (the comparison group) and the job ids."""
        from takestock.core.generate import queue_request

        queued = queue_request(
            self,
            request,
            targets,
            count=count,
            prompt_version_id=prompt_version_id,
            allow_overdraft=allow_overdraft,
            allow_unpriced=allow_unpriced,
            tags=tags,
        )
        return queued.request_id, list(queued.job_ids)

    # ------------------------------------------------------------------ running

    async def run(
        self,
        job_ids: Iterable[int] | None = None,
        *,
        until: Literal["final", "submitted"] = "final",
        wait_for_others: bool = False,
    ) -> list[Job]:
        """Drive jobs (default: every resumable one) until final, or until submitted.

        Never raises for one job's sake: a job that cannot be driven is ended (or left
        resumable) and the others go on. With ``wait_for_others``, a job another live
        process drives is watched until it ends or that process goes away (then it is
        taken over).
        """
        if job_ids is None:
            job_ids = [j.id for j in list_jobs(self.store, states=ACTIVE_STATES) if not j.manual]
        ids = list(job_ids)
        async with self.running():
            await asyncio.gather(*(self._drive_contained(i, until, wait_for_others) for i in ids))
        jobs = get_jobs(self.store, ids)
        return [jobs[i] for i in ids if i in jobs]

    async def _drive_contained(
        self, job_id: int, until: Literal["final", "submitted"], wait_for_others: bool
    ) -> None:
        try:
            while not await self.drive(job_id, until=until) and wait_for_others:
                job = get_job(self.store, job_id)
                if job.state not in ACTIVE_STATES or job.manual:
                    return
                if until == "submitted" and job.state in ("running", "downloading"):
                    return
                await self._sleep(self.poll_interval or 1.0)
        except Exception as exc:
            if self._computer_refused(exc):
                raise
            # drive() contains every step's exception; this is the database itself
            # failing under one job. The job stays resumable from its row.
            log.exception("job %s could not be driven; it stays resumable", job_id)

    async def drive(self, job_id: int, *, until: Literal["final", "submitted"] = "final") -> bool:
        """Take one job as far as it can go; False when another live process holds it.

        Cancelling this coroutine leaves the job resumable from its row. An unexpected
        exception in a step ends this job only (see :meth:`_contain`).
        """
        if not self._claim(job_id):
            log.info("job %s is driven by another process; leaving it", job_id)
            return False
        driving = _Driving(job_id)
        try:
            while True:
                job = get_job(self.store, job_id)
                if job.state in FINAL_STATES or job.state == "unknown" or job.manual:
                    return True
                if until == "submitted" and job.state in ("running", "downloading"):
                    return True
                if driving.faults >= MAX_ENGINE_FAULTS:
                    log.error(
                        "job %s: giving up after %s faults; resumable", job_id, driving.faults
                    )
                    return True
                step = {
                    "queued": self._submit,
                    "submitting": self._recover,
                    "running": self._poll,
                    "downloading": self._download,
                }[job.state]
                try:
                    await step(job, driving)
                except SecretsUnavailable as exc:
                    # Our side, not the vendor's: the job waits, resumable, for the keyring.
                    self._note(job_id, error=exc.message, error_kind=exc.kind)
                    return True
                except Exception as exc:  # one job's fault must not stop the others
                    if self._computer_refused(exc):
                        raise
                    driving.faults += 1
                    log.exception("job %s: unexpected error while %s", job_id, job.state)
                    self._contain(job, exc, driving)
        finally:
            if driving.holds_slot:
                await self._slot(get_job(self.store, job_id).vendor).release()
            self.store.execute(
                "UPDATE job SET owner = NULL WHERE id = ? AND owner = ?",
                (job_id, self._claimed.pop(job_id, "")),
            )

    def _claim(self, job_id: int) -> bool:
        with self.store.tx():
            row = self.store.one("SELECT owner FROM job WHERE id = ?", (job_id,))
            if row is None:
                raise InvalidInput("job", f"no job {job_id}")
            owner = row["owner"]
            if owner and not same_engine(owner, self.owner) and owner_alive(owner, self._host):
                return False
            token = claim_token(self.owner, self._clock())
            self.store.execute("UPDATE job SET owner = ? WHERE id = ?", (token, job_id))
        self._claimed[job_id] = token
        return True
