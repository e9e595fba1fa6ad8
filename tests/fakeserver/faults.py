"""Scripted faults: what a vendor or the network does to us on a bad day.

A fault is consumed by one request before the real handler runs (see
`FakeServer.script`). Each kind answers one question an adapter or the job engine has to
get right, and each is checked from the client's side in
`tests/fakeserver_tests/test_harness.py`:

    Fault
    ├── StatusFault        an HTTP error (429 + Retry-After, 5xx, 401/403 ...)
    ├── MalformedJsonFault says application/json, is not JSON      -> protocol error
    ├── DelayFault         answers late (the real handler still runs) -> client timeout
    ├── DropFault          closes the connection without a response -> RemoteProtocolError
    ├── CutAfterFault      announces the full body, sends n bytes, closes -> short read
    └── TruncateFault      announces and sends n bytes: a short but "complete" body

Build them with the `Fault.*` constructors: `Fault.status(429, retry_after=2)`,
`Fault.malformed_json()`, `Fault.delay(0.3)`, `Fault.drop()`, `Fault.cut_after(1000)`,
`Fault.truncate(1000)`.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web

__all__ = [
    "CutAfterFault",
    "DelayFault",
    "DropFault",
    "Fault",
    "Handler",
    "MalformedJsonFault",
    "StatusFault",
    "TruncateFault",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Headers that describe the body's framing; a fault that reshapes the body sets its own.
_FRAMING_HEADERS = (hdrs.CONTENT_LENGTH, hdrs.TRANSFER_ENCODING)


class Fault:
    """One scripted misbehaviour, applied to one request in place of a normal answer.

    Subclasses implement `apply`, which gets the request and the real handler (so a fault
    can run it first and then spoil its answer).
    """

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer `request` badly; `handler` is the real handler, to call or not."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short name for request logs and failure messages."""
        return repr(self)

    # Constructors, so tests read `Fault.status(429, retry_after=1)`.

    @staticmethod
    def status(
        code: int,
        *,
        retry_after: float | str | None = None,
        json: Any = None,
        text: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> StatusFault:
        """An HTTP error answer; with neither `json` nor `text`, a JSON error body."""
        return StatusFault(code, retry_after=retry_after, json=json, text=text, headers=headers)

    @staticmethod
    def malformed_json(status: int = 200) -> MalformedJsonFault:
        """A body labelled application/json that does not parse."""
        return MalformedJsonFault(status)

    @staticmethod
    def delay(seconds: float) -> DelayFault:
        """Sleep, then run the real handler (it runs even if the client gave up)."""
        return DelayFault(seconds)

    @staticmethod
    def drop(*, reset: bool = False) -> DropFault:
        """Close the connection without answering; `reset=True` sends a TCP RST."""
        return DropFault(reset=reset)

    @staticmethod
    def cut_after(n_bytes: int) -> CutAfterFault:
        """Run the real handler, send its headers and `n_bytes` of its body, then close."""
        return CutAfterFault(n_bytes)

    @staticmethod
    def truncate(n_bytes: int) -> TruncateFault:
        """Run the real handler and send a well-formed answer holding `n_bytes` of its body."""
        return TruncateFault(n_bytes)


def _format_retry_after(value: float | str) -> str:
    """Seconds as the integer form when whole (what the RFC allows), else as given.

    Fractions are not standard but keep tests fast; an HTTP-date is passed as a str.
    """
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, eq=False)
class StatusFault(Fault):
    """An HTTP error with an optional `Retry-After` and body."""

    code: int
    retry_after: float | str | None = None
    json: Any = None
    text: str | None = None
    headers: Mapping[str, str] | None = None

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = dict(self.headers or {})
        if self.retry_after is not None:
            headers[hdrs.RETRY_AFTER] = _format_retry_after(self.retry_after)
        if self.text is not None:
            return web.Response(status=self.code, text=self.text, headers=headers)
        body = self.json
        if body is None:
            try:
                phrase = HTTPStatus(self.code).phrase
            except ValueError:
                phrase = "error"
            body = {"error": {"code": f"http_{self.code}", "message": f"{phrase} (scripted)"}}
        return web.json_response(body, status=self.code, headers=headers)

    def describe(self) -> str:
        return f"status({self.code})"


@dataclass(frozen=True, eq=False)
class MalformedJsonFault(Fault):
    """A JSON content type over a body cut off mid-object."""

    code: int = 200
    body: bytes = b'{"id": "task_1", "status": '

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return web.Response(status=self.code, body=self.body, content_type="application/json")

    def describe(self) -> str:
        return f"malformed_json({self.code})"


@dataclass(frozen=True, eq=False)
class DelayFault(Fault):
    """Wait before the real handler; other requests are served meanwhile.

    aiohttp does not cancel a handler when its client disconnects (handler_cancellation
    is off by default), so a delayed create still creates: exactly the "sent, never heard
    back" case the job engine must recover from.
    """

    seconds: float

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(self.seconds)
        return await handler(request)

    def describe(self) -> str:
        return f"delay({self.seconds})"


def _close_transport(request: web.Request, *, reset: bool) -> None:
    transport = request.transport
    if transport is None:  # the client is already gone
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()  # flushes what was written, then FIN


@dataclass(frozen=True, eq=False)
class DropFault(Fault):
    """Close the connection before any response byte is written."""

    reset: bool = False

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        _close_transport(request, reset=self.reset)
        # aiohttp fails to write this to the closed transport, takes it for a client
        # disconnection and stays quiet (ConnectionError in finish_response).
        return web.Response(status=204)

    def describe(self) -> str:
        return "drop(reset)" if self.reset else "drop()"


async def _real_body(request: web.Request, handler: Handler) -> tuple[web.Response, bytes]:
    response = await handler(request)
    if isinstance(response, web.Response) and isinstance(response.body, bytes | bytearray):
        return response, bytes(response.body)
    raise TypeError(
        "cut_after/truncate need a handler that returns web.Response with a bytes body, "
        f"got {type(response).__name__}"
    )


def _copy_headers(response: web.StreamResponse) -> dict[str, str]:
    drop = {h.lower() for h in _FRAMING_HEADERS}
    return {k: v for k, v in response.headers.items() if k.lower() not in drop}


@dataclass(frozen=True, eq=False)
class CutAfterFault(Fault):
    """A transfer that dies part-way: Content-Length says N, the socket closes after n."""

    n_bytes: int

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response, body = await _real_body(request, handler)
        stream = web.StreamResponse(
            status=response.status, reason=response.reason, headers=_copy_headers(response)
        )
        stream.content_length = len(body)
        stream.force_close()  # no keep-alive on a connection we are about to kill
        await stream.prepare(request)
        # Writing b"" still flushes the buffered headers, so n_bytes=0 sends headers only.
        await stream.write(body[: self.n_bytes])
        _close_transport(request, reset=False)
        return stream

    def describe(self) -> str:
        return f"cut_after({self.n_bytes})"


@dataclass(frozen=True, eq=False)
class TruncateFault(Fault):
    """A well-formed answer whose body is short; only a checksum or a probe can tell."""

    n_bytes: int

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response, body = await _real_body(request, handler)
        return web.Response(
            status=response.status,
            reason=response.reason,
            headers=_copy_headers(response),
            body=body[: self.n_bytes],
        )

    def describe(self) -> str:
        return f"truncate({self.n_bytes})"
