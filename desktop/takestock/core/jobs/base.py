"""The engine's state and the helpers every step shares (see ``core.jobs.engine``).

:class:`EngineBase` holds what an :class:`~takestock.core.jobs.Engine` is made of (the
store, the library, the adapters, the vendors' clients and slots) and the one-row
changes every step makes: the compare-and-set :meth:`EngineBase._transition`, notes,
failures and settlement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from takestock.core import credits, faults, settlement
from takestock.core.account_secrets import Credentials, resolve_secrets
from takestock.core.catalog import (
    Catalog,
    VendorSpec,
    save_override,
)
from takestock.core.errors import ModelRetired, TakestockError
from takestock.core.http import make_client
from takestock.core.job_rows import (
    FINAL_STATES,
    Job,
    JobEvent,
)
from takestock.core.library import MediaLibrary
from takestock.core.logs import redact, register_secret
from takestock.core.store import StorageFault, Store, storage_fault
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    ResultRef,
    VendorAdapter,
)
from takestock.core.vendor_address import base_url_for
from takestock.core.vendor_silence import Silence
from takestock.core.vendor_slots import VendorSlots

__all__ = [
    "MAX_DOWNLOAD_TRIES",
    "MAX_ENGINE_FAULTS",
    "MAX_PROTOCOL_ERRORS",
    "MAX_SUBMIT_ATTEMPTS",
    "EngineBase",
    "Sleep",
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


class EngineBase:
    """The engine's state and shared helpers; :class:`~takestock.core.jobs.Engine` is the
    whole of it."""

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

    def _computer_refused(self, exc: BaseException) -> bool:
        """A full disk or a read-only folder: the computer's fault, not the job's. It
        stops every job alike and each resumes from its row once the cause is fixed, so
        it goes up to the face that says so; failing the jobs would drop paid takes."""
        return isinstance(exc, StorageFault) or storage_fault(exc, self.library.root) is not None

    def forget_secrets(self, vendor_id: str | None = None) -> None:
        """Drop cached keys (one vendor's, or all) so the next call reads them anew:
        a key set, rotated or removed in Settings takes effect at once."""
        for key in [k for k in self._secrets if vendor_id is None or k[0] == vendor_id]:
            del self._secrets[key]

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
