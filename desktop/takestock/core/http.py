"""HTTP for every vendor: one client per vendor, one retry policy, resumable downloads.

What may be retried follows one rule: a request is retried when sending it again cannot
cost the user twice. GETs are retried on connect errors, timeouts, 408/409/429/5xx. A
create (``idempotent=False``) is retried only when the vendor cannot have acted on it:
a connection that was never made, or a 429 (refused before it was accepted). Any other
fault on a create is *ambiguous* and surfaces as :class:`AmbiguousCreate`, so the engine
can look the task up or ask the user instead of paying twice.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from takestock import __version__
from takestock.core.errors import (
    AmbiguousCreate,
    ConnectFailed,
    DownloadError,
    ProtocolError,
    ResultExpired,
    TransientError,
)
from takestock.core.http11 import Http11Transport

__all__ = [
    # Defined in core.errors; still exported here for the engine and adapters that
    # import them from this module.
    "AmbiguousCreate",
    "ConnectFailed",
    "RetryPolicy",
    "download_to",
    "json_body",
    "make_client",
    "parse_retry_after",
    "send",
]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter, honouring ``Retry-After``."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    retry_statuses: frozenset[int] = frozenset({408, 409, 429, 500, 502, 503, 504})

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def delay_for(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = parse_retry_after(response.headers.get("retry-after"))
            if after is not None:
                return min(after, self.max_retry_after)
        return self.backoff(attempt)


DEFAULT_POLICY = RetryPolicy()
#: No limit on the wait for a free connection: with hundreds of jobs on one vendor,
#: requests queue for its connections, and a create that gave up there would fail its
#: job although nothing went wrong.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=None)


def make_client(
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 16,
    max_keepalive: int = 16,
    keepalive_expiry: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one client a vendor's calls share (connection pool, timeouts, user agent).

    At most ``max_connections`` requests at once per host (more wait their turn), and
    ``max_keepalive`` idle connections kept per host for ``keepalive_expiry`` seconds
    (httpx's default: short enough that a server rarely closes a connection just as a
    create goes out on it). The pool is :class:`~takestock.core.http11.Http11Transport`,
    whose cost per request does not grow with the number of jobs (httpx's own rescans
    every connection per request).
    ``transport`` replaces it, for tests.
    """
    return httpx.AsyncClient(
        timeout=timeout,
        headers={"User-Agent": f"Takestock/{__version__}"},
        follow_redirects=True,
        transport=transport
        or Http11Transport(
            max_connections=max_connections,
            max_keepalive=max_keepalive,
            keepalive_expiry=keepalive_expiry,
        ),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    idempotent: bool | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """Send with retries; returns the last response, whatever its status.

    ``idempotent`` defaults to True for GET/HEAD/DELETE and False otherwise. Statuses
    are left to the caller to map into ``core.errors``; transport faults that outlast
    the retries raise :class:`TransientError` (or :class:`AmbiguousCreate`).
    """
    if idempotent is None:
        idempotent = method.upper() in ("GET", "HEAD", "DELETE", "OPTIONS")
    last: httpx.Response | None = None
    for attempt in range(1, policy.attempts + 1):
        final = attempt == policy.attempts
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the vendor: safe to resend even a create.
            if final:
                raise ConnectFailed(
                    f"could not connect to {_host(url)} ({exc}); nothing was sent"
                ) from exc
            await sleep(policy.backoff(attempt))
            continue
        except httpx.TransportError as exc:
            if not idempotent:
                raise AmbiguousCreate(
                    f"the connection to {_host(url)} failed after the request was sent "
                    f"({type(exc).__name__}); the vendor may have started the task"
                ) from exc
            if final:
                raise TransientError(f"{_host(url)} did not answer: {exc!r}") from exc
            await sleep(policy.backoff(attempt))
            continue
        last = response
        status = response.status_code
        if status not in policy.retry_statuses or final:
            return response
        if not idempotent and status != 429:
            return response
        delay = policy.delay_for(attempt, response)
        log.info("%s %s answered %s; retrying in %.1fs", method, _host(url), status, delay)
        await response.aclose()
        await sleep(delay)
    assert last is not None
    return last


def json_body(response: httpx.Response, vendor: str = "") -> Any:
    """The response's JSON, or a :class:`ProtocolError` quoting the start of the body."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        snippet = response.text[:120].replace("\n", " ")
        raise ProtocolError(
            f"{vendor or _host(str(response.url))} answered HTTP {response.status_code} "
            f"with a body that is not JSON: {snippet!r}",
            vendor=vendor,
            status=response.status_code,
        ) from exc


_EXPIRED = (401, 403, 404, 410)


async def download_to(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    headers: Mapping[str, str] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Stream ``url`` into ``dest``, resuming a partial ``dest`` where the server allows.

    Returns the file's size. A connection cut mid-body is resumed with a ``Range``
    request (or restarted when the server ignores ranges). A link that answers
    401/403/404/410 raises :class:`ResultExpired`. Checking what arrived (size against
    the announced length here; probe and hash in the library) is the caller's job too.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for attempt in range(1, policy.attempts + 1):
        offset = dest.stat().st_size if dest.exists() else 0
        # Byte ranges must count file bytes, not bytes of a compressed transfer.
        request_headers = {"Accept-Encoding": "identity", **(headers or {})}
        if offset:
            request_headers["Range"] = f"bytes={offset}-"
        try:
            async with client.stream("GET", url, headers=request_headers) as response:
                status = response.status_code
                if status in _EXPIRED:
                    raise ResultExpired(
                        f"the result link at {_host(url)} answered HTTP {status}: "
                        "it has expired or was revoked"
                    )
                if status == 416 and offset:
                    dest.unlink()  # our partial file does not fit the server's: start over
                    continue
                if status in policy.retry_statuses:
                    last_error = f"HTTP {status}"
                    await sleep(policy.delay_for(attempt, response))
                    continue
                if status not in (200, 206):
                    raise DownloadError(f"{_host(url)} answered HTTP {status} to the download")
                resuming = status == 206 and offset > 0
                announced = response.headers.get("content-length")
                expected = (int(announced) + (offset if resuming else 0)) if announced else None
                with dest.open("ab" if resuming else "wb") as out:
                    # Write each piece as it arrives: re-chunking would hold back the bytes
                    # that a dropped connection should let us resume from.
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                size = dest.stat().st_size
                if expected is not None and size != expected:
                    last_error = f"got {size} of {expected} bytes"
                    await sleep(policy.backoff(attempt))
                    continue
                return size
        except httpx.TransportError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            await sleep(policy.backoff(attempt))
    raise DownloadError(
        f"the download from {_host(url)} failed {policy.attempts} times ({last_error})"
    )


def _host(url: str) -> str:
    """The host alone: URLs may carry signatures that must not reach messages or logs."""
    try:
        return httpx.URL(url).host or url.split("?", 1)[0]
    except httpx.InvalidURL:
        return url.split("?", 1)[0]
