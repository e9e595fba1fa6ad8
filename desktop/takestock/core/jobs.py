"""The durable generation engine.

A job is one take of one request on one vendor model. Its row is the truth: every step
commits before the next network call, so a crash at any point resumes from the row.

    queued ─► submitting ─► running ─► downloading ─► done
       ▲           │            │             │
       └─(429)─────┤            └──► failed ◄─┘        cancelled (any active state)
                   └─(no answer)─► find by client id, else unknown (the user decides)

Rules that protect the user's money:
- The job row and its fresh ``client_request_id`` are committed before the create leaves;
  the vendor's task id is committed the moment it arrives.
- A create is never sent twice blindly. When its answer is lost, the engine asks the
  vendor for the task by our client id (where the vendor can) and otherwise marks the
  job ``unknown`` for the user to settle.
- One process drives a job at a time: a job is claimed with an owner token naming the
  host and pid, and a claim whose process is gone is taken over on resume.
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
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from takestock.core import credits
from takestock.core.catalog import (
    Catalog,
    ModelSpec,
    VendorSpec,
    image_limits_from,
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
from takestock.core.library import MediaLibrary
from takestock.core.pricing import estimate_from_catalog, estimate_on_site
from takestock.core.store import Store
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

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
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

JobState = Literal[
    "queued", "submitting", "running", "downloading", "done", "failed", "cancelled", "unknown"
]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "submitting", "running", "downloading"})

#: Consecutive unreadable poll answers before a job is failed rather than retried.
MAX_PROTOCOL_ERRORS = 3
#: Downloads that arrive but fail verification before a job is failed.
MAX_DOWNLOAD_TRIES = 3
#: Creates refused with "too many requests" before the job gives up.
MAX_SUBMIT_ATTEMPTS = 20


class Credentials(Protocol):
    def secrets_for(
        self, vendor_id: str, fields: Sequence[str], account: str = "default"
    ) -> dict[str, str]: ...


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

    @property
    def charged_without_output(self) -> bool:
        """The vendor kept credits for a job that made nothing: a refund may be owed."""
        return self.state == "failed" and bool(self.cost_actual)

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
    )


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


def resolve_secrets(credentials: Credentials, vendor: VendorSpec, account: str) -> dict[str, str]:
    """The vendor's secrets, asking no more than one complete set requires.

    Auth options are tried in order, so a set fully given in the environment never needs
    the keyring (scripts and CI have none). Once a set is complete, the vendor's other
    fields are added where they can be had (some models need them), never at the cost
    of an error. When no set is complete, what was found is returned for the caller to
    name what is missing.
    """
    if not vendor.secrets:
        return {}

    def ask(fields: Sequence[str]) -> dict[str, str]:
        # A blank secret is no secret: sent, it would fail in ways that look like faults.
        got = credentials.secrets_for(vendor.id, fields, account)
        return {k: v.strip() for k, v in got.items() if v.strip()}

    found: dict[str, str] = {}
    keyring_problem: SecretsUnavailable | None = None
    for option in vendor.auth_options or (vendor.secrets,):
        try:
            found |= ask([f for f in option if f not in found])
        except SecretsUnavailable as exc:
            # This option needs the keyring; a later one may be in the environment.
            keyring_problem = keyring_problem or exc
            continue
        if set(option) <= set(found):
            rest = [f for f in vendor.secrets if f not in found]
            if rest:
                with suppress(SecretsUnavailable):
                    found |= ask(rest)
            return found
    if keyring_problem is not None:
        raise keyring_problem
    return found


class _VendorSlots:
    """How many of a vendor's tasks may run at once (its concurrency limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_use = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_use < self.limit)
            self.in_use += 1

    def occupy(self) -> None:
        """Count a task the vendor already runs (a resumed job) without waiting."""
        self.in_use += 1

    async def release(self) -> None:
        async with self._changed:
            self.in_use -= 1
            self._changed.notify_all()


def _owner_alive(owner: str, host: str) -> bool:
    owner_host, _, rest = owner.partition(":")
    if owner_host != host:
        return True  # another machine's claim (a shared folder): never steal it
    try:
        os.kill(int(rest.split(":", 1)[0]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Driving:
    """A job being driven by this engine: its slot and in-memory error counts."""

    job_id: int
    holds_slot: bool = False
    protocol_errors: int = 0
    download_tries: int = 0
    refreshed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


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
        self._slots: dict[str, _VendorSlots] = {}
        self._secrets: dict[tuple[str, str], dict[str, str]] = {}
        self._exit: AsyncExitStack | None = None

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
        """Turn a job's hold into its charge, or give it back when nothing was charged."""
        job = get_job(self.store, job_id)
        if job.account_id is None:
            return
        if made or charged:
            estimated = float((job.estimate or {}).get("amount") or 0)
            actual = charged if charged is not None else estimated
            note = "" if made else "charged, no output"
            if charged is not None and abs(charged - estimated) > 1e-9:
                note = f"{note}; " if note else ""
                note += f"estimated {estimated:g}, the vendor charged {charged:g}"
            credits.capture(self.store, job_id, float(actual), now=self._clock(), note=note)
        else:
            credits.release(self.store, job_id, now=self._clock(), note=job.state)

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
    ) -> list[Job]:
        """Drive jobs (default: every resumable one) until final, or until submitted."""
        if job_ids is None:
            job_ids = [j.id for j in list_jobs(self.store, states=ACTIVE_STATES) if not j.manual]
        ids = list(job_ids)
        async with self.running():
            await asyncio.gather(*(self.drive(job_id, until=until) for job_id in ids))
        return [get_job(self.store, job_id) for job_id in ids]

    async def drive(self, job_id: int, *, until: Literal["final", "submitted"] = "final") -> None:
        """Take one job as far as it can go. Cancelling this coroutine leaves the job
        resumable from its row."""
        if not self._claim(job_id):
            log.info("job %s is driven by another process; leaving it", job_id)
            return
        driving = _Driving(job_id)
        try:
            while True:
                job = get_job(self.store, job_id)
                if job.state in FINAL_STATES or job.state == "unknown" or job.manual:
                    return
                if until == "submitted" and job.state in ("running", "downloading"):
                    return
                step = {
                    "queued": self._submit,
                    "submitting": self._recover,
                    "running": self._poll,
                    "downloading": self._download,
                }[job.state]
                await step(job, driving)
        finally:
            if driving.holds_slot:
                await self._slot(get_job(self.store, job_id).vendor).release()
            self.store.execute(
                "UPDATE job SET owner = NULL WHERE id = ? AND owner = ?", (job_id, self.owner)
            )

    def _claim(self, job_id: int) -> bool:
        with self.store.tx():
            row = self.store.one("SELECT owner FROM job WHERE id = ?", (job_id,))
            if row is None:
                raise InvalidInput("job", f"no job {job_id}")
            owner = row["owner"]
            if owner and owner != self.owner and _owner_alive(owner, self._host):
                return False
            self.store.execute("UPDATE job SET owner = ? WHERE id = ?", (self.owner, job_id))
        return True

    # ------------------------------------------------------------------- steps

    async def _submit(self, job: Job, driving: _Driving) -> None:
        await self._wait_until(job.next_poll_at)
        slots = self._slot(job.vendor)
        if not driving.holds_slot:
            await slots.acquire()
            driving.holds_slot = True
        if not self._transition(job.id, "queued", "submitting", attempts=job.attempts + 1):
            return
        adapter = self.adapters[job.vendor]
        request = self._request(job)
        try:
            ctx = self._context(job)
            handle = await adapter.submit(ctx, request, job.client_request_id)
        except RateLimited as exc:
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
        except ConnectFailed as exc:
            self._fail(job.id, exc, from_state="submitting")
        except (AmbiguousCreate, ProtocolError, httpx.TransportError) as exc:
            log.warning("job %s: create left without a readable answer: %s", job.id, exc)
            self._note(job.id, error=str(exc), error_kind="ambiguous_create")
        except TransientError as exc:
            # A 5xx to a create is as ambiguous as silence: the vendor may have acted.
            log.warning("job %s: create answered with a server error: %s", job.id, exc)
            self._note(job.id, error=str(exc), error_kind="ambiguous_create")
        except (VendorError, InvalidInput) as exc:
            self._fail(job.id, exc, from_state="submitting")
            if isinstance(exc, ModelRetired):
                self._retire_model(job, exc)
        else:
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

    async def _recover(self, job: Job, driving: _Driving) -> None:
        """A create went out and its answer never came back (or we crashed waiting)."""
        adapter = self.adapters[job.vendor]
        vendor = self.catalog.vendor(job.vendor)
        if not adapter.can_find:
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
            handle = await adapter.find(self._context(job), job.client_request_id)
        except LookupUnavailable as exc:
            self._transition(
                job.id, "submitting", "unknown", error=exc.message, error_kind="unknown"
            )
            return
        except (TransientError, ProtocolError, RateLimited, httpx.TransportError) as exc:
            log.info("job %s: lookup failed (%s); trying again", job.id, exc)
            await self._sleep(self._backoff(job.attempts))
            return
        except VendorError as exc:
            self._fail(job.id, exc, from_state="submitting")
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

    async def _poll(self, job: Job, driving: _Driving) -> None:
        if not driving.holds_slot:
            self._slot(job.vendor).occupy()
            driving.holds_slot = True
        await self._wait_until(job.next_poll_at)
        adapter = self.adapters[job.vendor]
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
            self._note(job.id, next_poll_at=self._clock() + self._interval(job, self._clock()))
            return
        except VendorError as exc:
            self._fail(job.id, exc, from_state="running")
            await self._release(job.vendor, driving)
            return
        driving.protocol_errors = 0
        await self._apply_status(job, status, driving)

    async def _apply_status(self, job: Job, status: TaskStatus, driving: _Driving) -> None:
        now = self._clock()
        if status.state is TaskState.SUCCEEDED:
            if not status.results:
                self._fail(
                    job.id,
                    VendorError("the vendor reported success but returned no video"),
                    from_state="running",
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
                    job.id, "running", "cancelled", vendor_state=status.vendor_state
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
        adapter = self.adapters[job.vendor]
        ctx = self._context(job)
        part = self.library.part_path(job.id)
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

    def _finish(self, job: Job, stored: Any) -> None:
        now = self._clock()
        with self.store.tx():
            moved = self.store.execute(
                "UPDATE job SET state = 'done', finished_at = ?, updated_at = ?, error = NULL,"
                " error_kind = NULL WHERE id = ? AND state = 'downloading'",
                (now, now, job.id),
            ).rowcount
            if not moved:
                return
            take_id = insert_take(
                self.store,
                stored,
                self.library.root,
                vendor=job.vendor,
                model=job.model,
                job_id=job.id,
                request_id=job.request_id,
            )
            self._settle(job.id, made=True, charged=job.cost_actual)
        self._emit(JobEvent(job.id, "done", progress=1.0, take_id=take_id))

    # ----------------------------------------------------------------- control

    async def cancel(self, job_id: int) -> Job:
        """Stop a job: ask the vendor where it runs there, then mark it cancelled."""
        job = get_job(self.store, job_id)
        if job.state in FINAL_STATES:
            raise InvalidInput("job", f"job {job_id} is already {job.state}")
        if job.state in ("running", "submitting") and job.vendor_task_id and not job.manual:
            try:
                async with self.running():
                    await self.adapters[job.vendor].cancel(self._context(job), job.handle)
            except (TakestockError, httpx.TransportError) as exc:
                log.warning("job %s: the vendor did not confirm the cancel: %s", job_id, exc)
        now = self._clock()
        with self.store.tx():
            self.store.execute(
                "UPDATE job SET state = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?",
                (now, now, job_id),
            )
            self._settle(job_id, made=False)
        self.library.part_path(job_id).unlink(missing_ok=True)
        self._emit(JobEvent(job_id, "cancelled"))
        return get_job(self.store, job_id)

    def attach(self, job_id: int, path: Path, *, charged: float | None = None) -> int:
        """Finish a manual (web-only) job with the file the creator downloaded.

        The file is checked and copied into the library; the job's estimate is charged.
        Returns the take id.
        """
        job = get_job(self.store, job_id)
        if not job.manual or job.state != "running":
            raise InvalidInput("job", f"job {job_id} is not waiting for a file")
        return self._finish_with_file(job, path, charged=charged)

    def _finish_with_file(self, job: Job, path: Path, *, charged: float | None = None) -> int:
        """The file becomes the job's take and the job is charged; the job must still be
        in the state it was read in (a cancel from elsewhere wins)."""
        stored = self.library.ingest(path, move=False, suffix=path.suffix or ".mp4")
        now = self._clock()
        with self.store.tx():
            moved = self.store.execute(
                "UPDATE job SET state = 'done', finished_at = ?, updated_at = ?, error = NULL,"
                " error_kind = NULL WHERE id = ? AND state = ?",
                (now, now, job.id, job.state),
            ).rowcount
            if not moved:
                raise InvalidInput("job", f"job {job.id} changed meanwhile; look again")
            take_id = insert_take(
                self.store,
                stored,
                self.library.root,
                vendor=job.vendor,
                model=job.model,
                job_id=job.id,
                request_id=job.request_id,
                original_name=path.name,
            )
            self._settle(job.id, made=True, charged=charged)  # what the site charged
        self._emit(JobEvent(job.id, "done", take_id=take_id))
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

        A file that is not a readable video is refused before anything changes.
        """
        job = get_job(self.store, job_id)
        if job.state != "unknown":
            raise InvalidInput(
                "job", f"job {job_id} is {job.state}; only a job in doubt (unknown) is resolved"
            )
        if made and path is not None:
            self._finish_with_file(job, path)
        elif made:
            self._transition(
                job_id,
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
                    job_id,
                    "unknown",
                    "failed",
                    error="The vendor made nothing (checked by you); the hold was given back.",
                    error_kind="not_made",
                ):
                    self._settle(job_id, made=False)
        return get_job(self.store, job_id)

    def forget_secrets(self, vendor_id: str | None = None) -> None:
        """Drop cached keys (one vendor's, or all) so the next call reads them anew:
        a key set, rotated or removed in Settings takes effect at once."""
        for key in [k for k in self._secrets if vendor_id is None or k[0] == vendor_id]:
            del self._secrets[key]

    async def refresh_models(self, vendor_id: str) -> dict[str, list[str]] | None:
        """Bring the user's catalog up to date with the models the vendor lists now.

        Models the vendor lists are added or updated; catalog models it no longer lists
        are marked retired (with the date), so old takes keep their labels and the
        Generate screen stops offering them. Returns the ids added, updated and retired,
        or None where the vendor cannot list its models.
        """
        adapter = self.adapters[vendor_id]
        async with self.running():
            listed = await adapter.list_models(self._context_for(vendor_id, None))
        if listed is None:
            return None
        if self.catalog_overrides is None:
            raise InvalidInput("catalog", "no user catalog to update")
        known = self.catalog.vendor(vendor_id).models
        seen = set()
        changes: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "retired": []}
        for entry in listed:
            model_id = str(entry["id"])
            seen.add(model_id)
            fields = {k: v for k, v in entry.items() if k != "id"}
            old = known.get(model_id)
            if old is not None and isinstance(fields.get("resolutions"), Mapping):
                # Resolutions merge key by key: name the ones the vendor dropped.
                dropped = {
                    name: None for name in old.resolutions if name not in fields["resolutions"]
                }
                fields["resolutions"] = {**fields["resolutions"], **dropped}
            if old is not None and _describes(old, fields):
                changes["unchanged"].append(model_id)
                continue
            save_override(self.catalog_overrides, vendor_id, model_id, **fields)
            changes["updated" if old is not None else "added"].append(model_id)
        today = time.strftime("%Y-%m-%d")
        for model_id, model in known.items():
            if model_id not in seen and model.status != "retired":
                note = f"{today}: no longer listed by the vendor"
                save_override(
                    self.catalog_overrides, vendor_id, model_id, status="retired", status_note=note
                )
                changes["retired"].append(model_id)
        return changes

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
        """A new job for the same request and target (a failed job stays as history)."""
        job = get_job(self.store, job_id)
        if job.state not in ("failed", "cancelled", "unknown"):
            raise InvalidInput("job", f"job {job_id} is {job.state}; only ended jobs are retried")
        now = self._clock()
        cur = self.store.execute(
            "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
            " estimate, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
            (
                job.request_id,
                job.vendor,
                job.model,
                job.account_id,
                f"ts-{uuid.uuid4().hex}",
                json.dumps(dict(job.estimate)) if job.estimate else None,
                now,
                now,
            ),
        )
        assert cur.lastrowid is not None
        self._emit(JobEvent(cur.lastrowid, "queued"))
        return cur.lastrowid

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
        base_url = (
            self.environ.get(f"{vendor.env_prefix}_BASE_URL")
            or account_url
            or vendor.base_url(region)
        )
        key = (vendor.id, account_name)
        if key not in self._secrets:
            self._secrets[key] = resolve_secrets(self.credentials, vendor, account_name)
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
            self._exit.push_async_callback(client.aclose)
            self._clients[vendor.id] = client
        return client

    def _slot(self, vendor_id: str) -> _VendorSlots:
        slots = self._slots.get(vendor_id)
        if slots is None:
            slots = self._slots[vendor_id] = _VendorSlots(
                self.catalog.vendor(vendor_id).concurrency
            )
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

    def _transition(self, job_id: int, from_state: str, to_state: str, **fields: Any) -> bool:
        """Move a job only if it is still where we think; a cancel from elsewhere wins."""
        now = self._clock()
        fields["updated_at"] = now
        if to_state in FINAL_STATES or to_state == "unknown":
            fields.setdefault("finished_at", now)
        sets = ", ".join(f"{name} = ?" for name in fields)
        moved = self.store.execute(
            f"UPDATE job SET state = ?, {sets} WHERE id = ? AND state = ?",
            (to_state, *fields.values(), job_id, from_state),
        ).rowcount
        if moved:
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
        sets = ", ".join(f"{name} = ?" for name in fields)
        self.store.execute(f"UPDATE job SET {sets} WHERE id = ?", (*fields.values(), job_id))
        state = self.store.scalar("SELECT state FROM job WHERE id = ?", (job_id,))
        self._emit(
            JobEvent(
                job_id,
                state,
                progress=fields.get("progress"),
                vendor_state=fields.get("vendor_state"),
            )
        )

    def _fail(
        self,
        job_id: int,
        exc: TakestockError,
        *,
        from_state: str,
        cost_actual: float | None = None,
        vendor_state: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {"error": exc.message, "error_kind": exc.kind}
        if vendor_state is not None:
            fields["vendor_state"] = vendor_state
        with self.store.tx():
            moved = self._transition(
                job_id, from_state, "failed", cost_actual=cost_actual, **fields
            )
            if moved:
                self._settle(job_id, made=False, charged=cost_actual)

    def _retire_model(self, job: Job, exc: ModelRetired) -> None:
        """The vendor says the model is gone: stop offering it, in the user's catalog."""
        if self.catalog_overrides is None:
            return
        save_override(
            self.catalog_overrides,
            job.vendor,
            job.model,
            status="retired",
            status_note=f"{time.strftime('%Y-%m-%d')}: the vendor said: {exc.message}",
        )

    def _emit(self, event: JobEvent) -> None:
        if self.on_change is not None:
            try:
                self.on_change(event)
            except Exception:
                log.exception("a job-change listener failed")


def _describes(model: ModelSpec, fields: Mapping[str, Any]) -> bool:
    """Whether the catalog already says what ``fields`` say about ``model``."""
    for name, value in fields.items():
        current = getattr(model, name, None)
        if name == "resolutions" and isinstance(value, Mapping):
            wanted = {k: v for k, v in value.items() if v is not None}
            if dict(model.resolutions) != wanted:
                return False
        elif name == "image" and isinstance(value, Mapping):
            if image_limits_from(value, base=model.image) != model.image:
                return False
        elif isinstance(current, tuple):
            if list(current) != list(value):
                return False
        elif current != value and not (name == "extra" and current == dict(value)):
            return False
    return True


def _results_json(results: Sequence[ResultRef]) -> str:
    return json.dumps([{"url": r.url, "headers": dict(r.headers), "size": r.size} for r in results])
