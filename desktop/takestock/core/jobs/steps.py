"""The engine's steps: submit, recover, poll, apply a status, download and finish.

Each step takes a job from the state its row is in to the next, committing before the
next network call (see ``core.jobs.engine``); :meth:`EngineSteps._contain` ends a job an
unexpected exception came from, as its money rules say.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from takestock.core import faults, sync_create
from takestock.core.errors import (
    DownloadError,
    InvalidInput,
    LookupUnavailable,
    MediaError,
    ModelRetired,
    ProtocolError,
    RateLimited,
    ResultExpired,
    TakestockError,
    TransientError,
    VendorError,
)
from takestock.core.http import AmbiguousCreate, ConnectFailed
from takestock.core.job_rows import (
    ACTIVE_STATES,
    Job,
    JobEvent,
    get_job,
)
from takestock.core.jobs.base import (
    MAX_DOWNLOAD_TRIES,
    MAX_PROTOCOL_ERRORS,
    MAX_SUBMIT_ATTEMPTS,
    EngineBase,
    _Driving,
    _results_json,
)
from takestock.core.library import StoredMedia
from takestock.core.lost_creates import CreateFingerprint, FindsByFingerprint
from takestock.core.takes import insert_take
from takestock.core.vendor import (
    TaskHandle,
    TaskState,
    TaskStatus,
    VendorAdapter,
)
from takestock.core.vendor_silence import NOT_ANSWERING

__all__ = ["EngineSteps"]

log = logging.getLogger(__name__)


class EngineSteps(EngineBase):
    """The steps that drive one job from its row (see :meth:`Engine.drive
    <takestock.core.jobs.Engine.drive>`)."""

    def _contain(self, job: Job, exc: Exception, driving: _Driving) -> None:
        """End the job an unexpected exception came from, as its money rules say.

        Nothing sent yet (queued, or a create that never left): it fails and its hold
        is given back. A create that may have left: it is looked up (submitting stays,
        and the next step asks the vendor by our id). A task the vendor holds: it
        fails, keeping any charge reported. After the vendor's success (downloading):
        "charged, no output", which a retry can still fetch.
        """
        if isinstance(exc, TakestockError):  # already worded for a person
            error: TakestockError = exc
        else:
            vendor = self.catalog.vendors.get(job.vendor)
            name = vendor.name if vendor is not None else job.vendor
            error = faults.EngineFault(
                f"Takestock stopped this job after an unexpected error with {name}: "
                f"{faults.describe(exc)}"
            )
        current = get_job(self.store, job.id)
        if current.state == "submitting" and driving.create_left:
            self._note(job.id, error=error.message, error_kind="ambiguous_create")
        elif current.state in ACTIVE_STATES:  # _fail keeps a made take's charge
            self._fail(job.id, error, from_state=current.state, cost_actual=current.cost_actual)
        self.library.part_path(job.id).unlink(missing_ok=True)

    # ------------------------------------------------------------------- steps

    async def _submit(self, job: Job, driving: _Driving) -> None:
        await self._wait_until(job.next_poll_at)
        slots = self._slot(job.vendor)
        if not driving.holds_slot:
            await slots.acquire()
            driving.holds_slot = True
        # submitted_at: when the create left, for finding it again if its answer is lost.
        if not self._transition(
            job.id, "queued", "submitting", attempts=job.attempts + 1, submitted_at=self._clock()
        ):
            return
        adapter = self.adapters.get(job.vendor)
        driving.create_left = False
        with faults.requests_sent() as sent:
            try:
                if adapter is None:
                    raise InvalidInput("vendor", f"Takestock cannot talk to {job.vendor} here")
                request = self._request(job)
                ctx = self._context(job)
                if isinstance(adapter, sync_create.AnswersWithResult):
                    # The answer is the video: it streams into the part file while the
                    # job stays submitting (cut short, it is unknown: see sync_create).
                    part = self.library.part_path(job.id)
                    created = await adapter.create_into(ctx, request, job.client_request_id, part)
                    if sync_create.landed(self, job, created):
                        await self._release(job.vendor, driving)
                        # The file is here already: ingest it now, as a download would be.
                        await self._download(get_job(self.store, job.id), driving)
                    return
                handle = await adapter.submit(ctx, request, job.client_request_id)
            except (TakestockError, httpx.TransportError) as exc:
                await self._submit_refused(job, driving, exc)
                return
            except Exception as exc:
                if faults.never_left(exc, sent[0]):
                    raise faults.NotSent(
                        f"Takestock could not send this take: {faults.describe(exc)}. "
                        "Nothing was sent; the hold was given back."
                    ) from exc
                driving.create_left = True
                raise
        now = self._clock()
        self._transition(
            job.id,
            "submitting",
            "running",
            vendor_task_id=handle.task_id,
            task_data=json.dumps(dict(handle.data)),
            submitted_at=now,
            next_poll_at=now + self._interval(job, now),
            error=None,
            error_kind=None,
        )

    async def _submit_refused(self, job: Job, driving: _Driving, exc: Exception) -> None:
        """A create that raised one of the errors vendors raise: what it means."""
        if isinstance(exc, RateLimited):
            # Refused before it was accepted: queue it again and wait as asked.
            if job.attempts + 1 >= MAX_SUBMIT_ATTEMPTS:
                self._fail(job.id, exc, from_state="submitting")
                return
            delay = exc.retry_after if exc.retry_after is not None else self._backoff(job.attempts)
            self._transition(
                job.id,
                "submitting",
                "queued",
                next_poll_at=self._clock() + delay,
                vendor_state="throttled",
                error=exc.message,
                error_kind=exc.kind,
            )
            await self._release(job.vendor, driving)
        elif isinstance(exc, ConnectFailed) or (
            isinstance(exc, AmbiguousCreate | httpx.TransportError) and faults.proves_unsent(exc)
        ):
            if isinstance(exc, ConnectFailed):
                self._fail(job.id, exc, from_state="submitting")
            else:
                self._fail(
                    job.id,
                    faults.NotSent(f"Takestock could not send this take: {faults.describe(exc)}"),
                    from_state="submitting",
                )
        elif isinstance(exc, AmbiguousCreate | ProtocolError | httpx.TransportError):
            log.warning("job %s: create left without a readable answer: %s", job.id, exc)
            self._note(job.id, error=str(exc), error_kind="ambiguous_create")
        elif isinstance(exc, TransientError):
            # A 5xx to a create is as ambiguous as silence: the vendor may have acted.
            log.warning("job %s: create answered with a server error: %s", job.id, exc)
            self._note(job.id, error=str(exc), error_kind="ambiguous_create")
        elif isinstance(exc, TakestockError):
            self._fail(job.id, exc, from_state="submitting")
            if isinstance(exc, ModelRetired):
                self._retire_model(job, exc)

    async def _recover(self, job: Job, driving: _Driving) -> None:
        """A create went out and its answer never came back (or we crashed waiting)."""
        adapter = self.adapters.get(job.vendor)
        vendor = self.catalog.vendor(job.vendor)
        if adapter is None or not adapter.can_find:
            self._transition(
                job.id,
                "submitting",
                "unknown",
                error=(
                    f"Takestock sent this take to {vendor.name} but never learned whether it "
                    f"was accepted, and {vendor.name} cannot look tasks up by our id. Check "
                    f"your {vendor.name} history: if it made the video, import it; otherwise "
                    "retry the job. Sending it again blindly could charge you twice."
                ),
                error_kind="unknown",
            )
            return
        try:
            handle = await self._look_up(adapter, job)
        except LookupUnavailable as exc:
            self._transition(
                job.id, "submitting", "unknown", error=exc.message, error_kind="unknown"
            )
            return
        except (TransientError, ProtocolError, RateLimited, httpx.TransportError) as exc:
            log.info("job %s: lookup failed (%s); trying again", job.id, exc)
            self._silent(job, driving, exc)
            await self._sleep(self._backoff(job.attempts))
            return
        except VendorError as exc:
            self._fail(job.id, exc, from_state="submitting")
            return
        except Exception as exc:
            # The vendor may hold the task: in doubt for the user, never failed or resent.
            log.exception("job %s: the lookup broke", job.id)
            self._transition(
                job.id,
                "submitting",
                "unknown",
                error=(
                    f"Takestock could not look this take up at {vendor.name} "
                    f"({faults.describe(exc)}). Check your {vendor.name} history: if it "
                    "made the video, import it; otherwise retry the job."
                ),
                error_kind="unknown",
            )
            return
        if handle is None:
            # The vendor never saw the create: sending it now cannot pay twice.
            self._transition(job.id, "submitting", "queued", vendor_state="not found, resending")
            return
        if not driving.holds_slot:
            self._slot(job.vendor).occupy()
            driving.holds_slot = True
        now = self._clock()
        self._transition(
            job.id,
            "submitting",
            "running",
            vendor_task_id=handle.task_id,
            task_data=json.dumps(dict(handle.data)),
            submitted_at=job.submitted_at or now,
            next_poll_at=now,
            error=None,
            error_kind=None,
        )

    async def _look_up(self, adapter: VendorAdapter, job: Job) -> TaskHandle | None:
        """Ask the vendor for the task our create made: by our id, or where the vendor
        keeps none and this session did not send it, by the create's fingerprint."""
        ctx = self._context(job)
        try:
            return await adapter.find(ctx, job.client_request_id)
        except LookupUnavailable:
            if not isinstance(adapter, FindsByFingerprint) or job.submitted_at is None:
                raise
        rows = self.store.all(
            "SELECT vendor_task_id FROM job WHERE vendor = ? AND id != ?"
            " AND vendor_task_id IS NOT NULL AND created_at >= ?",
            (job.vendor, job.id, job.created_at - 86400),
        )
        fingerprint = CreateFingerprint(
            self._request(job), job.submitted_at, frozenset(r[0] for r in rows)
        )
        return await adapter.find_by_fingerprint(ctx, fingerprint)

    async def _poll(self, job: Job, driving: _Driving) -> None:
        if not driving.holds_slot:
            self._slot(job.vendor).occupy()
            driving.holds_slot = True
        await self._wait_until(job.next_poll_at)
        adapter = self.adapters.get(job.vendor)
        if adapter is None:
            raise InvalidInput("vendor", f"Takestock cannot talk to {job.vendor} here")
        try:
            status = await adapter.poll(self._context(job), job.handle)
        except RateLimited as exc:
            delay = exc.retry_after if exc.retry_after is not None else self._backoff(3)
            self._note(job.id, next_poll_at=self._clock() + delay, vendor_state="throttled")
            return
        except ProtocolError as exc:
            driving.protocol_errors += 1
            if driving.protocol_errors >= MAX_PROTOCOL_ERRORS:
                self._fail(job.id, exc, from_state="running")
                await self._release(job.vendor, driving)
                return
            self._note(job.id, next_poll_at=self._clock() + self._backoff(driving.protocol_errors))
            return
        except (TransientError, httpx.TransportError) as exc:
            log.info("job %s: poll failed (%s); polling again later", job.id, exc)
            self._silent(job, driving, exc)
            self._note(job.id, next_poll_at=self._clock() + self._interval(job, self._clock()))
            return
        except VendorError as exc:
            self._fail(job.id, exc, from_state="running")
            await self._release(job.vendor, driving)
            return
        driving.protocol_errors = 0
        if driving.silence.answered() and get_job(self.store, job.id).error_kind == NOT_ANSWERING:
            self._note(job.id, error=None, error_kind=None)
        await self._apply_status(job, status, driving)

    def _silent(self, job: Job, driving: _Driving, exc: Exception) -> None:
        """Count a poll the vendor left unanswered; after a few, say so on the job."""
        now = self._clock()
        status = getattr(exc, "status", None)
        driving.silence.missed(now, f"HTTP {status}" if status else type(exc).__name__)
        if driving.silence.worth_saying:
            name = self.catalog.vendor(job.vendor).name
            self._note(
                job.id,
                error=driving.silence.sentence(name, now),
                error_kind=NOT_ANSWERING,
            )

    async def _apply_status(self, job: Job, status: TaskStatus, driving: _Driving) -> None:
        now = self._clock()
        if status.state is TaskState.SUCCEEDED:
            if not status.results:
                self._fail(
                    job.id,
                    VendorError("the vendor reported success but returned no video"),
                    from_state="running",
                    cost_actual=status.cost,
                )
            else:
                self._transition(
                    job.id,
                    "running",
                    "downloading",
                    results=_results_json(status.results),
                    vendor_state=status.vendor_state,
                    progress=1.0,
                    cost_actual=status.cost,
                )
            await self._release(job.vendor, driving)
        elif status.state is TaskState.FAILED:
            error = status.error or VendorError(
                f"the vendor reported the task as {status.vendor_state or 'failed'}"
            )
            self._fail(
                job.id,
                error,
                from_state="running",
                cost_actual=status.cost,
                vendor_state=status.vendor_state or None,
            )
            await self._release(job.vendor, driving)
        elif status.state is TaskState.CANCELLED:
            with self.store.tx():
                if self._transition(
                    job.id,
                    "running",
                    "cancelled",
                    vendor_state=status.vendor_state,
                    cost_actual=status.cost,
                ):
                    self._settle(job.id, made=False, charged=status.cost)
            await self._release(job.vendor, driving)
        else:
            self._note(
                job.id,
                vendor_state=status.vendor_state,
                progress=status.progress,
                next_poll_at=now + self._interval(job, now),
            )

    async def _download(self, job: Job, driving: _Driving) -> None:
        adapter = self.adapters.get(job.vendor)
        if adapter is None:
            raise InvalidInput("vendor", f"Takestock cannot talk to {job.vendor} here")
        ctx = self._context(job)
        part = self.library.part_path(job.id)
        if not job.results:
            raise DownloadError("the job has no result link to fetch")
        result = job.results[0]
        try:
            await adapter.download(ctx, result, part)
        except ResultExpired as exc:
            if driving.refreshed:
                self._fail(job.id, exc, from_state="downloading")
                part.unlink(missing_ok=True)
                return
            # Some vendors hand out a fresh link when asked again; ask once.
            driving.refreshed = True
            await self._refresh_results(job, exc)
            return
        except (DownloadError, VendorError) as exc:
            self._fail(job.id, exc, from_state="downloading")
            part.unlink(missing_ok=True)
            return
        except httpx.TransportError as exc:
            self._fail(
                job.id, DownloadError(f"the download broke off: {exc}"), from_state="downloading"
            )
            part.unlink(missing_ok=True)
            return
        if result.size is not None and part.stat().st_size != result.size:
            problem: TakestockError = DownloadError(
                f"the download has {part.stat().st_size} bytes; the vendor announced {result.size}"
            )
        else:
            try:
                stored = await asyncio.to_thread(self.library.ingest, part, move=True)
            except MediaError as exc:
                problem = DownloadError(f"the downloaded file is not a readable video: {exc}")
            else:
                self._finish(job, stored)
                return
        part.unlink(missing_ok=True)
        driving.download_tries += 1
        if driving.download_tries >= MAX_DOWNLOAD_TRIES:
            self._fail(job.id, problem, from_state="downloading")
        else:
            log.warning("job %s: %s; downloading again", job.id, problem)

    async def _refresh_results(self, job: Job, cause: ResultExpired) -> None:
        try:
            status = await self.adapters[job.vendor].poll(self._context(job), job.handle)
        except (TakestockError, httpx.TransportError) as exc:
            log.info("job %s: could not refresh the result link: %s", job.id, exc)
            self._fail(job.id, cause, from_state="downloading")
            return
        fresh = [r for r in status.results if r.url not in {old.url for old in job.results}]
        if status.state is not TaskState.SUCCEEDED or not fresh:
            self._fail(job.id, cause, from_state="downloading")
            self.library.part_path(job.id).unlink(missing_ok=True)
            return
        self._note(job.id, results=_results_json(tuple(fresh)))

    def _finish(
        self,
        job: Job,
        stored: StoredMedia,
        *,
        from_state: str = "downloading",
        original_name: str | None = None,
        charged: float | None = None,
    ) -> int | None:
        """The stored file becomes the job's take and the job is charged, if the job is
        still where it was read (a cancel that committed first wins)."""
        with self.store.tx():
            if not self._transition(
                job.id, from_state, "done", announce=False, error=None, error_kind=None
            ):
                return None
            take_id = insert_take(
                self.store,
                stored,
                self.library.root,
                vendor=job.vendor,
                model=job.model,
                job_id=job.id,
                request_id=job.request_id,
                original_name=original_name,
            )
            self._settle(job.id, made=True, charged=job.cost_actual if charged is None else charged)
        self._emit(JobEvent(job.id, "done", progress=1.0, take_id=take_id))
        return take_id
