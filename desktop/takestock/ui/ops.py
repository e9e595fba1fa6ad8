"""One way to run work from a screen, and the app's one change signal.

In the spirit of Anki's ``CollectionOp`` / ``QueryOp``: a screen hands :class:`Ops` a
plain function of a :class:`~takestock.core.store.Store`; it runs on one background
thread that owns its own connection to the library (SQLite connections stay on their
thread), never on the UI thread, so a write waiting on the CLI's lock never freezes the
window. The result comes back on the UI thread to the ``success`` callback; a failure
goes to ``failure`` if given, else to :attr:`Ops.failed`, the one place the window
shows errors. A write names what it changed; :attr:`Ops.changed` carries that to every
screen, each refreshing only what it holds.

Work done by other processes (the command line, a second window) is seen the same
way: every ``WATCH_MS`` the background thread asks SQLite's ``PRAGMA data_version`` on
its own connection (microseconds), and only when it moved reads which areas changed
(:class:`~takestock.core.changes.ChangeDetector`). Writes made through that same
connection do not move it, so an op's own changes are announced once.

Functions run in the order given, one at a time: two ratings pressed in a row land in
that order.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from takestock.core.changes import ChangeDetector, Changes
from takestock.core.errors import TakestockError
from takestock.core.store import Store

__all__ = ["WATCH_MS", "Changes", "Ops"]

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How often the library is checked for other processes' writes.
WATCH_MS = 300


class Ops(QObject):
    """Background work over the library, with one change signal and one error signal.

    Attributes:
        watching: whether other processes' writes are being looked for.
        detector: the :class:`ChangeDetector` (on the background thread; ``None`` until
            :meth:`watch` is called and the thread opened it).

    Signals:
        changed(Changes): something in the library changed (an op, another process,
            or :meth:`publish`).
        failed(str, str): background work failed: a title and a message for the user.
    """

    changed = Signal(object)
    failed = Signal(str, str)
    _delivered = Signal(object)  # from the worker thread: a callable to run here

    def __init__(
        self,
        open_store: Callable[[], Store],
        *,
        catalog_overrides: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._open_store = open_store
        self._catalog_overrides = catalog_overrides
        self._local = threading.local()
        self._stores: list[Store] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="takestock-ops")
        self._pending = 0
        self._closed = False
        self.detector: ChangeDetector | None = None
        self._polling = False
        self._watch = QTimer(self, interval=WATCH_MS)
        self._watch.timeout.connect(self._poll)
        self._delivered.connect(self._run_here)

    @property
    def watching(self) -> bool:
        return self._watch.isActive()

    # ------------------------------------------------------------ work

    def query(
        self,
        work: Callable[[Store], T],
        success: Callable[[T], object] | None = None,
        *,
        failure: Callable[[TakestockError], object] | None = None,
    ) -> Future[T]:
        """Run ``work(store)`` off the UI thread; ``success(result)`` on it."""
        return self._submit(work, success, failure, None)

    def write(
        self,
        work: Callable[[Store], T],
        changes: Changes | Callable[[T], Changes],
        success: Callable[[T], object] | None = None,
        *,
        failure: Callable[[TakestockError], object] | None = None,
    ) -> Future[T]:
        """Like :meth:`query`, then announce ``changes`` (or ``changes(result)``)."""
        return self._submit(work, success, failure, changes)

    def publish(self, changes: Changes) -> None:
        """Tell every screen about a change made elsewhere (the engine, a dialog)."""
        if changes:
            self.changed.emit(changes)

    def busy(self) -> bool:
        return self._pending > 0

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Process events until every op has finished and delivered; for tests."""
        import time

        deadline = time.monotonic() + timeout_ms / 1000
        while self._pending and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.005)
        return not self._pending

    def _store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._open_store()
            self._local.store = store
            self._stores.append(store)
        return store

    def _submit(
        self,
        work: Callable[[Store], T],
        success: Callable[[T], object] | None,
        failure: Callable[[TakestockError], object] | None,
        changes: Changes | Callable[[T], Changes] | None,
    ) -> Future[T]:
        if self._closed:
            raise RuntimeError("the library is closed")
        self._pending += 1

        def run() -> T:
            try:
                result = work(self._store())
            except BaseException as exc:
                error = exc  # `exc` is unbound when the except block ends
                self._delivered.emit(lambda: self._fail(error, failure))
                raise
            self._delivered.emit(lambda: self._succeed(result, success, changes))
            return result

        return self._executor.submit(run)

    def _run_here(self, deliver: Callable[[], None]) -> None:
        if not self._closed:  # after shutdown the screens may read a closed library
            deliver()

    def _succeed(
        self,
        result: T,
        success: Callable[[T], object] | None,
        changes: Changes | Callable[[T], Changes] | None,
    ) -> None:
        self._pending -= 1
        try:
            if success is not None:
                success(result)
        finally:
            if changes is not None:
                self.publish(changes(result) if callable(changes) else changes)

    def _fail(self, exc: BaseException, failure: Callable[[TakestockError], object] | None) -> None:
        self._pending -= 1
        if isinstance(exc, TakestockError):
            if failure is not None:
                failure(exc)
            else:
                self.failed.emit(exc.title, exc.message)
            return
        # A bug, not a user's problem: logged with its traceback, and still shown.
        log.error("background work failed", exc_info=exc)
        self.failed.emit(self.tr("Unexpected error"), repr(exc))

    # ------------------------------------------------------------ watching

    def watch(self, interval_ms: int = WATCH_MS) -> None:
        """Start looking for other processes' writes every ``interval_ms``."""
        self._watch.setInterval(interval_ms)
        self._watch.start()
        self._poll()

    def _poll(self) -> None:
        if self._polling or self._closed:
            return  # the last look has not come back (a long op is running)
        self._polling = True

        def look(store: Store) -> Changes:
            try:
                if self.detector is None:
                    self.detector = ChangeDetector(store.conn, self._catalog_overrides)
                    return Changes()
                return self.detector.poll()
            except sqlite3.Error as exc:
                # A locked or vanished file is looked at again on the next tick rather
                # than shown: the user did nothing.
                log.warning("could not look for changes: %s", exc)
                return Changes()

        def done(changes: Changes) -> None:
            self._polling = False
            self.publish(changes)

        def lost(exc: TakestockError) -> None:
            self._polling = False
            log.warning("could not look for changes: %s", exc.message)

        self._submit(look, done, lost, None)

    # ------------------------------------------------------------ life

    def shutdown(self) -> None:
        """Finish the queued ops, close the background connection, stop watching."""
        if self._closed:
            return
        self._closed = True
        self._watch.stop()

        def close() -> None:
            for store in self._stores:
                store.close()

        self._executor.submit(close)
        self._executor.shutdown(wait=True)
