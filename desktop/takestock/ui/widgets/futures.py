"""A worker thread's result, handed back to the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer

__all__ = ["deliver"]

T = TypeVar("T")


def deliver(future: Future[T], context: QObject, slot: Callable[[Future[T]], None]) -> None:
    """Call ``slot(future)`` on the UI thread once ``future`` is done.

    The call is dropped if ``context`` was deleted in the meantime (a closed screen).
    """

    def done(f: Future[T]) -> None:
        with suppress(RuntimeError):  # context's C++ object is gone
            QTimer.singleShot(0, context, lambda: slot(f))

    future.add_done_callback(done)
