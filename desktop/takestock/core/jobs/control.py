"""What a person (or the app) asks of jobs: cancel, attach a file, settle an unknown
create, retry; and the vendor-side asks that share the engine's clients: refresh a
vendor's models, reconcile an account's credits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path

from takestock.core import credits, settlement
from takestock.core.errors import InvalidInput
from takestock.core.job_rows import (
    FINAL_STATES,
    Job,
    JobEvent,
    get_job,
)
from takestock.core.jobs.steps import EngineSteps
from takestock.core.library import StoredMedia
from takestock.core.model_refresh import apply_listing
from takestock.core.vendor import AnswersWithResult

__all__ = ["EngineControl"]

log = logging.getLogger(__name__)

#: A cancel tries this many compare-and-sets while the job moves on under it.
CANCEL_TRIES = 30
#: A cancel waits up to this many times this long for a create in flight to be answered
#: (2 s), then cancels the job as it is.
CANCEL_CREATE_WAITS = 10
CANCEL_CREATE_WAIT_S = 0.2


class EngineControl(EngineSteps):
    """Cancel, attach, resolve_unknown and retry; refresh_models and reconcile."""

    # ----------------------------------------------------------------- control

    async def cancel(self, job_id: int) -> Job:
        """Stop a job: ask the vendor where it runs there, then mark it cancelled.

        Each try is one compare-and-set from the state last read. A job that ended
        meanwhile (it finished, or failed) keeps that ending: the cancel is a no-op. A job
        that only moved on (queued → submitting → running) is cancelled from where it now
        is. A create in flight is given a moment to be answered, so the vendor's task is
        known and can be stopped there too, rather than left running and charging.
        """
        job = get_job(self.store, job_id)
        if job.state in FINAL_STATES:
            raise InvalidInput("job", f"job {job_id} is already {job.state}")
        asked_vendor = False
        waits = None if isinstance(self.adapters.get(job.vendor), AnswersWithResult) else 0
        for _ in range(CANCEL_TRIES):
            if job.state in FINAL_STATES:
                log.info("job %s ended before the cancel took effect", job_id)
                break
            in_flight = job.state == "submitting" and not job.vendor_task_id
            if in_flight and waits is not None and waits < CANCEL_CREATE_WAITS:
                # The create's answer (with the vendor's task id) may be moments away.
                # Not for a vendor whose answer is the video itself: it has no task to
                # stop, and its answer may take minutes.
                waits += 1
                await self._sleep(CANCEL_CREATE_WAIT_S)
                job = get_job(self.store, job_id)
                continue
            if not asked_vendor and job.state in ("running", "submitting", "downloading"):
                asked_vendor = await self._ask_vendor_to_cancel(job)
            charged = job.cost_actual
            if job.state == "downloading":  # the vendor made it and has charged for it
                charged = settlement.charged_amount(self.store, job_id, charged)
            with self.store.tx():
                if self._transition(job_id, job.state, "cancelled", cost_actual=charged):
                    self._settle(job_id, made=False, charged=charged)
                    break
            job = get_job(self.store, job_id)
        if get_job(self.store, job_id).state == "cancelled":
            self.library.part_path(job_id).unlink(missing_ok=True)
        return get_job(self.store, job_id)

    async def _ask_vendor_to_cancel(self, job: Job) -> bool:
        """Ask the vendor to stop the job's task; True once asked (whatever it said)."""
        if not job.vendor_task_id or job.manual or job.state == "downloading":
            return False
        adapter = self.adapters.get(job.vendor)
        try:
            if adapter is not None:
                async with self.running():
                    await adapter.cancel(self._context(job), job.handle)
        except Exception as exc:  # the vendor's answer changes nothing here
            log.warning(
                "job %s: the vendor did not confirm the cancel: %s",
                job.id,
                self._redact(job.id, str(exc)),
            )
        return True

    def _waiting_for_file(self, job_id: int) -> Job:
        job = get_job(self.store, job_id)
        if not job.manual or job.state != "running":
            raise InvalidInput("job", f"job {job_id} is not waiting for a file")
        return job

    def attach(self, job_id: int, path: Path, *, charged: float | None = None) -> int:
        """Finish a manual (web-only) job with the file the creator downloaded.

        The file is checked and copied into the library; the job's estimate is charged.
        Returns the take id. For callers off the engine's loop (the command line); on
        the loop use :meth:`attach_async`, which checks and copies in a thread.
        """
        job = self._waiting_for_file(job_id)
        return self._finish_with(job, self._ingest(path), path, charged=charged)

    async def attach_async(self, job_id: int, path: Path, *, charged: float | None = None) -> int:
        """:meth:`attach` without stalling the engine's loop (the app's way)."""
        job = self._waiting_for_file(job_id)
        stored = await asyncio.to_thread(self._ingest, path)
        return self._finish_with(job, stored, path, charged=charged)

    def _ingest(self, path: Path) -> StoredMedia:
        return self.library.ingest(path, move=False, suffix=path.suffix or ".mp4")

    def _finish_with(
        self, job: Job, stored: StoredMedia, path: Path, *, charged: float | None = None
    ) -> int:
        """The file becomes the job's take, charged what the site charged where the
        user said so; the job must still be as it was read."""
        take_id = self._finish(
            job, stored, from_state=job.state, original_name=path.name, charged=charged
        )
        if take_id is None:
            raise InvalidInput("job", f"job {job.id} changed meanwhile; look again")
        return take_id

    def resolve_unknown(self, job_id: int, made: bool, path: Path | None = None) -> Job:
        """Settle a job whose create was sent but never answered: the user has looked
        at the vendor's history and says whether the vendor made the video.

        - ``made`` False: the job fails and its hold is given back (retry it to try
          again: nothing was made, so a new create cannot pay twice).
        - ``made`` True with ``path``: the downloaded file becomes the job's take and
          the estimate is charged, as :meth:`attach` does.
        - ``made`` True without a path: the job waits for the file like a web-only job
          (attach it later, or let the watch folder offer it); the hold stays.

        A file that is not a readable video is refused before anything changes. On the
        engine's loop use :meth:`resolve_unknown_async` (the file is read in a thread).
        """
        job = self._in_doubt(job_id)
        stored = self._ingest(path) if made and path is not None else None
        return self._resolve(job, made, stored, path)

    async def resolve_unknown_async(self, job_id: int, made: bool, path: Path | None = None) -> Job:
        """:meth:`resolve_unknown` without stalling the engine's loop (the app's way)."""
        job = self._in_doubt(job_id)
        stored = None
        if made and path is not None:
            stored = await asyncio.to_thread(self._ingest, path)
        return self._resolve(job, made, stored, path)

    def _in_doubt(self, job_id: int) -> Job:
        job = get_job(self.store, job_id)
        if job.state != "unknown":
            raise InvalidInput(
                "job", f"job {job_id} is {job.state}; only a job in doubt (unknown) is resolved"
            )
        return job

    def _resolve(self, job: Job, made: bool, stored: StoredMedia | None, path: Path | None) -> Job:
        if stored is not None and path is not None:
            self._finish_with(job, stored, path)
        elif made:
            self._transition(
                job.id,
                "unknown",
                "running",
                manual=1,
                finished_at=None,
                error=None,
                error_kind=None,
                vendor_state="made; waiting for the file",
            )
        else:
            with self.store.tx():
                if self._transition(
                    job.id,
                    "unknown",
                    "failed",
                    error="The vendor made nothing (checked by you); the hold was given back.",
                    error_kind="not_made",
                ):
                    self._settle(job.id, made=False)
        return get_job(self.store, job.id)

    async def refresh_models(self, vendor_id: str) -> dict[str, list[str]] | None:
        """Bring the user's catalog up to date with the models the vendor lists now
        (see :func:`takestock.core.model_refresh.apply_listing`); None where the vendor
        cannot list its models."""
        adapter = self.adapters[vendor_id]
        async with self.running():
            listed = await adapter.list_models(self._context_for(vendor_id, None))
        if listed is None:
            return None
        if self.catalog_overrides is None:
            raise InvalidInput("catalog", "no user catalog to update")
        return apply_listing(self.catalog, self.catalog_overrides, vendor_id, listed)

    async def reconcile(self, account_id: int) -> tuple[float, float] | None:
        """Fetch the vendor's balance for an account and record it against the ledger.

        Returns (observed, drift), or None where the vendor exposes no balance.
        """
        account = credits.get_account(self.store, account_id)
        adapter = self.adapters.get(account.vendor)
        if adapter is None or account.kind != "api":
            return None
        async with self.running():
            balance = await adapter.balance(self._context_for(account.vendor, account_id))
        if balance is None:
            return None
        source = f"{account.vendor} balance API"
        drift = credits.observe(
            self.store, account_id, balance.amount, source=source, now=self._clock()
        )
        return balance.amount, drift

    def retry(self, job_id: int) -> int:
        """Try an ended job again; returns the id of the job to drive.

        A job the vendor made and charged for whose download failed ("charged, no
        output") is fetched again from its stored result links: the same job goes back
        to downloading (no new create, no second charge). Any other failed or cancelled
        job gets a new job for the same request and target, with its own hold (the old
        one stays as history). A job in doubt is settled first (resolve it): a retry
        beside a task the vendor may have made could pay twice.
        """
        job = get_job(self.store, job_id)
        if job.fetchable_again:
            if not self._transition(
                job.id, "failed", "downloading", finished_at=None, error=None, error_kind=None
            ):
                raise InvalidInput("job", f"job {job_id} changed meanwhile; look again")
            return job.id
        if job.state not in ("failed", "cancelled"):
            raise InvalidInput(
                "job",
                f"job {job_id} is {job.state}; only failed or cancelled jobs are retried"
                + (
                    " (settle a job in doubt first: did the vendor make it?)"
                    if job.state == "unknown"
                    else ""
                ),
            )
        now = self._clock()
        book = None
        if job.account_id is not None:
            kind = credits.get_account(self.store, job.account_id).kind
            book = self.plan_books.get(f"{job.vendor}/{kind}")
        with self.store.tx():
            cur = self.store.execute(
                "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
                " estimate, manual, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.request_id,
                    job.vendor,
                    job.model,
                    job.account_id,
                    "running" if job.manual else "queued",
                    f"ts-{uuid.uuid4().hex}",
                    json.dumps(dict(job.estimate)) if job.estimate else None,
                    int(job.manual),
                    now,
                    now,
                ),
            )
            new_id = cur.lastrowid
            assert new_id is not None
            settlement.hold_again(
                self.store,
                new_id,
                vendor_order=book.spend_order if book else ("expiring_first",),
                order_known=bool(book and book.spend_order_known),
                now=now,
            )
        self._emit(JobEvent(new_id, "queued"))
        return new_id
