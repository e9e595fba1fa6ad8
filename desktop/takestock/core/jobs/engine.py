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
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from takestock.core import credits, faults, settlement, sync_create
from takestock.core.account_secrets import Credentials, resolve_secrets
from takestock.core.catalog import (
    Catalog,
    ModelSpec,
    VendorSpec,
    save_override,
)
from takestock.core.errors import (
    DownloadError,
    InvalidInput,
    LookupUnavailable,
    MediaError,
    ModelRetired,
    ProtocolError,
    RateLimited,
    ResultExpired,
    SecretsUnavailable,
    TakestockError,
    TransientError,
    VendorError,
)
from takestock.core.http import AmbiguousCreate, ConnectFailed, make_client
from takestock.core.job_holders import claim_token, owner_alive, same_engine
from takestock.core.job_rows import (
    ACTIVE_STATES,
    FINAL_STATES,
    Job,
    JobEvent,
    get_job,
    get_jobs,
    job_ids,
    list_jobs,
)
from takestock.core.library import MediaLibrary, StoredMedia
from takestock.core.logs import redact, register_secret
from takestock.core.lost_creates import CreateFingerprint, FindsByFingerprint
from takestock.core.model_refresh import apply_listing
from takestock.core.pricing import estimate_from_catalog, estimate_on_site
from takestock.core.store import StorageFault, Store, storage_fault
from takestock.core.takes import insert_take
from takestock.core.validation import validate_common

if TYPE_CHECKING:
    from takestock.core.generate import Planned

from takestock.core.vendor import (
    CallContext,
    Estimate,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
    VendorAdapter,
)
from takestock.core.vendor_address import base_url_for
from takestock.core.vendor_silence import NOT_ANSWERING, Silence
from takestock.core.vendor_slots import VendorSlots

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "Credentials",
    "Engine",
    "Job",
    "JobEvent",
    "Target",
    "check_and_price",
    "get_job",
    "get_jobs",
    "job_ids",
    "list_jobs",
    "resolve_secrets",
]

log = logging.getLogger(__name__)

#: Consecutive unreadable poll answers before a job is failed rather than retried.
MAX_PROTOCOL_ERRORS = 3
#: Downloads that arrive but fail verification before a job is failed.
MAX_DOWNLOAD_TRIES = 3
#: Creates refused with "too many requests" before the job gives up.
MAX_SUBMIT_ATTEMPTS = 20
#: Unexpected exceptions one drive takes before it leaves a job as it is, resumable.
MAX_ENGINE_FAULTS = 3


@dataclass(frozen=True, slots=True)
class Target:
    """Where one take is asked for: a vendor's model, optionally on a named account."""

    vendor: str
    model: str
    account: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """``vendor:model`` or ``vendor:model@account``."""
        spec, _, account = text.partition("@")
        vendor, sep, model = spec.partition(":")
        if not sep or not vendor or not model:
            raise InvalidInput("target", f"{text!r} is not VENDOR:MODEL")
        return cls(vendor.strip(), model.strip(), account.strip() or None)


def check_and_price(
    adapter: VendorAdapter | None,
    request: GenerationRequest,
    vendor: VendorSpec,
    model: ModelSpec,
    *,
    web_book: credits.PlanBook | None = None,
    plan: str | None = None,
    on_site: bool = False,
) -> Estimate:
    """Validate one take of ``request`` on ``model`` and price it; raises InvalidInput.

    Without an adapter (a web-only account of a vendor Takestock cannot talk to) the
    catalog's common limits and prices hold. ``web_book`` is the plan book of a web-only
    account's site: the take is priced from its per-model table in the site's credits,
    on the paying account's ``plan``, or is unknown where the site publishes none.
    ``on_site``: made on the vendor's website (a web-only account), whose credits are
    not the API's: without a plan book its price is unknown.
    """
    if adapter is not None:
        adapter.validate(request, model)
        estimate = adapter.estimate(request, model)
    else:
        validate_common(request, model, vendor.name)
        estimate = estimate_from_catalog(request, model, vendor)
    if web_book is None:
        if on_site and not vendor.sandbox:  # the sandbox's make-believe site: API prices
            return Estimate.unknown(
                "credits",
                f"{vendor.name}'s site publishes no price for {model.id}; say what it "
                "charged when you attach the file (Takestock remembers it)",
            )
        return estimate
    rules = web_book.model_prices.get(model.id)
    if not rules:
        return Estimate.unknown(
            web_book.unit,
            f"{web_book.name} does not publish what {model.id} costs on its site; say what "
            "it charged when you attach the file (Takestock remembers it for the next take)",
            web_book.currency,
        )
    return estimate_on_site(
        request,
        model,
        rules,
        unit=web_book.unit,
        money_per_unit=web_book.money_per_unit,
        currency=web_book.currency,
        plan=plan,
        site=web_book.name,
    )


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Driving:
    """A job being driven by this engine: its slot and in-memory error counts."""

    job_id: int
    holds_slot: bool = False
    protocol_errors: int = 0
    download_tries: int = 0
    refreshed: bool = False
    #: Unexpected exceptions met driving the job (see ``Engine._contain``).
    faults: int = 0
    #: A create raised after its request left: the vendor may hold the task.
    create_left: bool = False
    silence: Silence = field(default_factory=Silence)


class Engine:
    """Drives jobs from their rows to takes in the library.

    The composition root hands it the adapters by vendor id; the engine knows them only
    through :class:`~takestock.core.vendor.VendorAdapter`.

    Attributes:
        on_change: called with a :class:`JobEvent` after every committed change (on the
            engine's loop; the GUI's bridge marshals it to the UI thread).
    """

    def __init__(
        self,
        store: Store,
        library: MediaLibrary,
        catalog: Catalog,
        adapters: Mapping[str, VendorAdapter],
        credentials: Credentials,
        *,
        poll_interval: float | None = None,
        catalog_overrides: Path | None = None,
        environ: Mapping[str, str] | None = None,
        http_factory: Callable[[VendorSpec], httpx.AsyncClient] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[JobEvent], None] | None = None,
        plan_books: Mapping[str, credits.PlanBook] | None = None,
    ) -> None:
        self.store = store
        self.plan_books = plan_books or {}
        self.library = library
        self.catalog = catalog
        self.adapters = adapters
        self.credentials = credentials
        self.poll_interval = poll_interval
        self.catalog_overrides = catalog_overrides
        self.environ = os.environ if environ is None else environ
        self._http_factory = http_factory or (lambda vendor: make_client())
        self._sleep = sleep
        self._clock = clock
        self.on_change = on_change
        self._host = socket.gethostname()
        self.owner = f"{self._host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._slots: dict[str, VendorSlots] = {}
        self._secrets: dict[tuple[str, str], dict[str, str]] = {}
        self._exit: AsyncExitStack | None = None
        self._claimed: dict[int, str] = {}

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

    def _settle(self, job_id: int, *, made: bool, charged: float | None = None) -> None:
        """Turn a job's hold into its charge, or give it back; once per job (see
        ``core.settlement``). Call inside the transaction that ended the job."""
        note = "" if made or not charged else "charged, no output"
        settlement.settle(
            self.store, job_id, made=made, charged=charged, now=self._clock(), note=note
        )

    # ------------------------------------------------------------------ running

    @asynccontextmanager
    async def running(self) -> Any:
        """Opens the vendors' HTTP clients for a run and closes them after.

        Re-entrant: inside an open run (the GUI keeps one for its lifetime), a nested
        call shares the clients and closes nothing.
        """
        if self._exit is not None:
            yield self
            return
        async with AsyncExitStack() as stack:
            self._exit = stack
            try:
                yield self
            finally:
                self._exit = None
                self._clients.clear()

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

    def _computer_refused(self, exc: BaseException) -> bool:
        """A full disk or a read-only folder: the computer's fault, not the job's. It
        stops every job alike and each resumes from its row once the cause is fixed, so
        it goes up to the face that says so; failing the jobs would drop paid takes."""
        return isinstance(exc, StorageFault) or storage_fault(exc, self.library.root) is not None

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

    # ----------------------------------------------------------------- control

    async def cancel(self, job_id: int) -> Job:
        """Stop a job: ask the vendor where it runs there, then mark it cancelled.

        The cancel is one compare-and-set from the state read here: if the job moved
        meanwhile (it finished, or failed), that ending stands and this is a no-op.
        """
        job = get_job(self.store, job_id)
        if job.state in FINAL_STATES:
            raise InvalidInput("job", f"job {job_id} is already {job.state}")
        if job.state in ("running", "submitting") and job.vendor_task_id and not job.manual:
            adapter = self.adapters.get(job.vendor)
            try:
                if adapter is not None:
                    async with self.running():
                        await adapter.cancel(self._context(job), job.handle)
            except Exception as exc:  # the vendor's answer changes nothing here
                log.warning(
                    "job %s: the vendor did not confirm the cancel: %s",
                    job_id,
                    self._redact(job_id, str(exc)),
                )
        charged = job.cost_actual
        if job.state == "downloading":  # the vendor made it and has charged for it
            charged = settlement.charged_amount(self.store, job_id, charged)
        with self.store.tx():
            if self._transition(job_id, job.state, "cancelled", cost_actual=charged):
                self._settle(job_id, made=False, charged=charged)
            else:
                log.info("job %s ended before the cancel took effect", job_id)
        if get_job(self.store, job_id).state == "cancelled":
            self.library.part_path(job_id).unlink(missing_ok=True)
        return get_job(self.store, job_id)

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

    def forget_secrets(self, vendor_id: str | None = None) -> None:
        """Drop cached keys (one vendor's, or all) so the next call reads them anew:
        a key set, rotated or removed in Settings takes effect at once."""
        for key in [k for k in self._secrets if vendor_id is None or k[0] == vendor_id]:
            del self._secrets[key]

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

    # ----------------------------------------------------------------- helpers

    def _request(self, job: Job) -> GenerationRequest:
        params = self.store.scalar("SELECT params FROM request WHERE id = ?", (job.request_id,))
        return GenerationRequest.from_json(json.loads(params))

    def _context(self, job: Job) -> CallContext:
        return self._context_for(job.vendor, job.account_id, job.model)

    def _context_for(
        self, vendor_id: str, account_id: int | None, model_id: str | None = None
    ) -> CallContext:
        vendor = self.catalog.vendor(vendor_id)
        account_name, region, account_url = "default", "default", None
        if account_id is not None:
            row = self.store.one("SELECT * FROM account WHERE id = ?", (account_id,))
            if row is not None:
                account_name, region, account_url = row["name"], row["region"], row["base_url"]
        base_url = base_url_for(vendor, self.environ, account_url, region)
        key = (vendor.id, account_name)
        if key not in self._secrets:
            self._secrets[key] = resolve_secrets(self.credentials, vendor, account_name)
            for value in self._secrets[key].values():
                register_secret(value)  # the log is scrubbed of it too, whatever quotes it
        return CallContext(
            http=self._client(vendor),
            vendor=vendor,
            base_url=base_url.rstrip("/"),
            model=vendor.models.get(model_id) if model_id else None,
            secrets=self._secrets[key],
            region=region,
        )

    def _client(self, vendor: VendorSpec) -> httpx.AsyncClient:
        client = self._clients.get(vendor.id)
        if client is None:
            if self._exit is None:
                raise RuntimeError("the engine's vendor calls must run inside Engine.running()")
            client = self._http_factory(vendor)
            # Counts the requests a create hands to the transport: whether one left.
            hooks = client.event_hooks
            client.event_hooks = {**hooks, "request": [*hooks["request"], faults.count_request]}
            self._exit.push_async_callback(client.aclose)
            self._clients[vendor.id] = client
        return client

    def _slot(self, vendor_id: str) -> VendorSlots:
        slots = self._slots.get(vendor_id)
        if slots is None:
            slots = self._slots[vendor_id] = VendorSlots(self.catalog.vendor(vendor_id).concurrency)
        return slots

    async def _release(self, vendor_id: str, driving: _Driving) -> None:
        if driving.holds_slot:
            driving.holds_slot = False
            await self._slot(vendor_id).release()

    def _interval(self, job: Job, now: float) -> float:
        """Poll often while a job is young, less as it ages, within the vendor's limits."""
        if self.poll_interval is not None:
            return self.poll_interval
        vendor = self.catalog.vendor(job.vendor)
        age = max(0.0, now - (job.submitted_at or now))
        return min(vendor.max_poll_interval_s, vendor.poll_interval_s * (1 + age / 120))

    def _backoff(self, attempt: int) -> float:
        base = self.poll_interval if self.poll_interval is not None else 1.0
        return float(min(60.0, base * 2 ** max(0, attempt)))

    async def _wait_until(self, when: float | None) -> None:
        if when is not None:
            delay = when - self._clock()
            if delay > 0:
                await self._sleep(delay)

    def _transition(
        self, job_id: int, from_state: str, to_state: str, *, announce: bool = True, **fields: Any
    ) -> bool:
        """Move a job only if it is still where we think: the one compare-and-set every
        state change goes through. A change that committed first (a cancel, a finish)
        wins; this one is then a no-op and returns False. Error text is redacted with
        the keys of the job's account before it is stored."""
        now = self._clock()
        fields["updated_at"] = now
        if to_state in FINAL_STATES or to_state == "unknown":
            fields.setdefault("finished_at", now)
        if fields.get("error"):
            fields["error"] = self._redact(job_id, str(fields["error"]))
        sets = ", ".join(f"{name} = ?" for name in fields)
        moved = self.store.execute(
            f"UPDATE job SET state = ?, {sets} WHERE id = ? AND state = ?",
            (to_state, *fields.values(), job_id, from_state),
        ).rowcount
        if moved and announce:
            self._emit(
                JobEvent(
                    job_id,
                    to_state,
                    progress=fields.get("progress"),
                    vendor_state=fields.get("vendor_state"),
                    error=fields.get("error"),
                )
            )
        return bool(moved)

    def _note(self, job_id: int, **fields: Any) -> None:
        """Record progress without changing state."""
        fields["updated_at"] = self._clock()
        if fields.get("error"):
            fields["error"] = self._redact(job_id, str(fields["error"]))
        sets = ", ".join(f"{name} = ?" for name in fields)
        self.store.execute(f"UPDATE job SET {sets} WHERE id = ?", (*fields.values(), job_id))
        state = self.store.scalar("SELECT state FROM job WHERE id = ?", (job_id,))
        self._emit(
            JobEvent(
                job_id,
                state,
                progress=fields.get("progress"),
                vendor_state=fields.get("vendor_state"),
                error=fields.get("error"),
            )
        )

    def _redact(self, job_id: int, text: str) -> str:
        """``text`` without the keys of the job's account (nor any registered secret)."""
        row = self.store.one(
            "SELECT job.vendor, account.name FROM job LEFT JOIN account"
            " ON account.id = job.account_id WHERE job.id = ?",
            (job_id,),
        )
        keys: list[str] = []
        if row is not None:
            keys = list(self._secrets.get((row[0], row[1] or "default"), {}).values())
        return redact(text, secrets=keys)

    def _fail(
        self,
        job_id: int,
        exc: TakestockError,
        *,
        from_state: str,
        cost_actual: float | None = None,
        vendor_state: str | None = None,
    ) -> None:
        """End a job as failed, settling its hold. After the vendor's success (from
        ``downloading``) the vendor has charged: "charged, no output", the charge kept
        (the vendor's figure, else the estimate) and the take still fetchable by a retry."""
        fields: dict[str, Any] = {"error": exc.message, "error_kind": exc.kind}
        if vendor_state is not None:
            fields["vendor_state"] = vendor_state
        with self.store.tx():
            if from_state == "downloading":
                reported = self.store.scalar("SELECT cost_actual FROM job WHERE id = ?", (job_id,))
                reported = cost_actual if cost_actual is not None else reported
                cost_actual = settlement.charged_amount(self.store, job_id, reported)
                fields["error"] = (
                    f"{exc.message}. The vendor made this take and charged for it, but it "
                    f"never arrived: `takestock jobs retry {job_id}` fetches it again if the "
                    f"link comes back; `takestock jobs claim-kit {job_id}` asks for a refund."
                )
            if self._transition(job_id, from_state, "failed", cost_actual=cost_actual, **fields):
                self._settle(job_id, made=False, charged=cost_actual)

    def _retire_model(self, job: Job, exc: ModelRetired) -> None:
        """The vendor says the model is gone: stop offering it, in the user's catalog."""
        if self.catalog_overrides is None:
            return
        said = self._redact(job.id, exc.message)
        save_override(
            self.catalog_overrides,
            job.vendor,
            job.model,
            status="retired",
            status_note=f"{time.strftime('%Y-%m-%d')}: the vendor said: {said}",
        )

    def _emit(self, event: JobEvent) -> None:
        if self.on_change is not None:
            try:
                self.on_change(event)
            except Exception:
                log.exception("a job-change listener failed")


def _results_json(results: Sequence[ResultRef]) -> str:
    return json.dumps([{"url": r.url, "headers": dict(r.headers), "size": r.size} for r in results])
