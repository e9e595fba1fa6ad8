"""What an unexpected exception while driving a job means for that job and its money.

The engine drives many jobs at once; an exception nobody planned for (an adapter's
bug, a request that cannot be built, a file that cannot be read) must end the one job
it came from and leave the others running. What "end" means depends on whether the
vendor may have acted:

- nothing left this process (the URL could not be built, a header could not be
  encoded, the connection never opened): the job fails and its hold is given back;
- a create left and its answer was lost: the vendor may have made the task, so the
  job is looked up (or put in doubt), never failed and never sent again blindly;
- the vendor already holds the task, or has delivered it: the job fails, keeping any
  charge the vendor reported (after a success, the charge stands: "charged, no
  output").

Whether a request left is known two ways: a hook on each vendor's HTTP client counts the
requests handed to the transport while a create is being made (:func:`requests_sent`),
and some exceptions prove the transport never sent anything even though the hook fired
(an unsupported scheme, a connection that never opened).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from takestock.core.errors import EngineFault, NotSent, TakestockError
from takestock.core.http import ConnectFailed

__all__ = [
    # Defined in core.errors; still exported here for the engine, which imports them here.
    "EngineFault",
    "NotSent",
    "count_request",
    "describe",
    "never_left",
    "proves_unsent",
    "requests_sent",
]

#: Exceptions that prove nothing reached the vendor, wherever they appear in a chain.
_NEVER_LEFT: tuple[type[BaseException], ...] = (
    httpx.InvalidURL,
    httpx.UnsupportedProtocol,
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    ConnectFailed,
    UnicodeEncodeError,  # a header value httpx cannot encode: the request was never built
)

_SENT: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "takestock_requests_sent", default=None
)


async def count_request(request: httpx.Request) -> None:
    """An httpx request hook: counts a request handed to the transport in this task."""
    counter = _SENT.get()
    if counter is not None:
        counter[0] += 1


@contextmanager
def requests_sent() -> Iterator[list[int]]:
    """Count the requests this task sends inside the block (``counter[0]``).

    The counter lives in a context variable, so jobs driven concurrently on one client
    each see only their own requests (tasks and threads started inside inherit it).
    """
    counter = [0]
    token = _SENT.set(counter)
    try:
        yield counter
    finally:
        _SENT.reset(token)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def never_left(exc: BaseException, requests: int) -> bool:
    """Whether ``exc``, raised while sending a create, proves nothing reached the vendor.

    ``requests`` is how many requests the client's hook saw leave for the transport.
    """
    return requests == 0 or proves_unsent(exc)


def proves_unsent(exc: BaseException) -> bool:
    """Whether ``exc`` itself proves nothing was sent (whatever the hook counted): an
    unsupported scheme or a connection that never opened, anywhere in its chain."""
    return any(isinstance(link, _NEVER_LEFT) for link in _chain(exc))


def describe(exc: BaseException) -> str:
    """A one-line account of an exception, for a job's error (redacted by the caller)."""
    if isinstance(exc, TakestockError):
        return exc.message
    for link in _chain(exc):
        if isinstance(link, httpx.InvalidURL | httpx.UnsupportedProtocol):
            return f"the vendor's address is not a usable URL ({link})"
        if isinstance(link, UnicodeEncodeError):
            return (
                "a key or header holds a character HTTP cannot carry "
                f"({link.reason} at position {link.start}); set the key again"
            )
    text = str(exc).strip().splitlines()
    detail = f": {text[0][:300]}" if text else ""
    return f"{type(exc).__name__}{detail}"
