"""The one bridge between the UI thread and the engine's asyncio thread.

The engine lives on its own thread with its own event loop and its own database
connection; the UI never waits on the network. Calls go in through
``asyncio.run_coroutine_threadsafe``; changes come out as Qt signals, which Qt queues
onto the UI thread. An error in background work reaches the user through ``failed``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from takestock.core.errors import TakestockError
from takestock.core.generate import queue_request
from takestock.core.jobs import ACTIVE_STATES, Engine, Target, list_jobs
from takestock.core.vendor import GenerationRequest
from takestock.wiring import Services

__all__ = ["EngineBridge"]

T = TypeVar("T")

log = logging.getLogger(__name__)


class EngineBridge(QObject):
    """Runs the engine off the UI thread.

    Signals:
        job_changed(JobEvent): a job's row changed (state, progress, take).
        failed(str, str): background work failed: title and message for the user.
    """

    job_changed = Signal(object)
    failed = Signal(str, str)

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._engine: Engine | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run_loop, name="takestock-engine", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    # ---------------------------------------------------------- engine thread

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        store = self._services.open_store()
        self._engine = self._services.engine(store=store, on_change=self.job_changed.emit)
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            store.close()

    async def _open(self) -> None:
        assert self._engine is not None
        self._running = self._engine.running()
        await self._running.__aenter__()

    def _start(self, job_ids: Sequence[int]) -> None:
        assert self._engine is not None
        for job_id in job_ids:
            task = self._loop.create_task(self._guarded(self._engine.drive(job_id)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _guarded(self, coro: Coroutine[Any, Any, object]) -> None:
        try:
            await coro
        except TakestockError as exc:
            self.failed.emit(exc.title, exc.message)
        except Exception as exc:
            log.exception("background job failed")
            self.failed.emit("Unexpected error", repr(exc))

    # ------------------------------------------------------------- UI thread

    def call(self, fn: Callable[[Engine], Any]) -> Future[Any]:
        """Run ``fn(engine)`` on the engine thread; the future resolves there. When
        ``fn`` returns an awaitable (``engine.attach_async``), it is awaited there, so
        file work the engine hands to a thread never stalls its loop."""

        async def run() -> Any:
            assert self._engine is not None
            result = fn(self._engine)
            return await result if inspect.isawaitable(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop)

    def run(self, fn: Callable[[Engine], Coroutine[Any, Any, T]]) -> Future[T]:
        """Await ``fn(engine)`` on the engine thread; the future resolves there."""

        async def go() -> T:
            assert self._engine is not None
            return await fn(self._engine)

        return asyncio.run_coroutine_threadsafe(go(), self._loop)

    def start(self) -> None:
        """Open the vendors' clients and resume every unfinished job."""

        async def go() -> None:
            await self._open()
            assert self._engine is not None
            ids = [j.id for j in list_jobs(self._engine.store, states=ACTIVE_STATES)]
            self._start(ids)

        asyncio.run_coroutine_threadsafe(go(), self._loop)

    def generate(
        self,
        request: GenerationRequest,
        targets: Sequence[Target],
        count: int = 1,
        *,
        prompt_version_id: int | None = None,
        prompt_text: str | None = None,
        allow_unpriced: bool = False,
    ) -> Future[tuple[int, list[int]]]:
        """Queue (:func:`~takestock.core.generate.queue_request`, as the command line does)
        and start; the future carries (request id, job ids) or the refusal."""

        async def go() -> tuple[int, list[int]]:
            assert self._engine is not None
            queued = queue_request(
                self._engine,
                request,
                targets,
                count=count,
                prompt_version_id=prompt_version_id,
                prompt_text=prompt_text,
                negative=request.negative,
                allow_unpriced=allow_unpriced,
            )
            self._start(queued.job_ids)
            return queued.request_id, list(queued.job_ids)

        return asyncio.run_coroutine_threadsafe(go(), self._loop)

    def retry(self, job_id: int) -> None:
        """A new job for a failed one's request and target, started at once."""

        async def go() -> None:
            assert self._engine is not None
            try:
                new_id = self._engine.retry(job_id)
            except TakestockError as exc:
                self.failed.emit(exc.title, exc.message)
                return
            self._start([new_id])

        asyncio.run_coroutine_threadsafe(go(), self._loop)

    def cancel(self, job_id: int) -> None:
        async def go() -> None:
            assert self._engine is not None
            await self._guarded(self._cancel(job_id))

        asyncio.run_coroutine_threadsafe(go(), self._loop)

    async def _cancel(self, job_id: int) -> None:
        assert self._engine is not None
        await self._engine.cancel(job_id)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the engine's tasks (jobs stay resumable from their rows) and the thread."""
        if not self._thread.is_alive():
            return

        async def stop() -> None:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            running = getattr(self, "_running", None)
            if running is not None:
                await running.__aexit__(None, None, None)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
