"""An HTTP/1.1 transport for httpx: a pool that costs the same at any size.

Why not httpx's own transport: with hundreds of jobs polling, httpcore's pool rescans
every connection for every request it queues or finishes
(``_assign_requests_to_connections``: 1.4-2.4 million ``is_idle`` calls for 500 jobs,
encode/httpcore#1035), and each request passes through h11 and anyio's checkpoints:
about 2,300 Python calls a request. Here a request takes an idle connection from the top
of its host's stack, or opens one, and puts it back when its body has been read; the
bytes are framed by hand on asyncio's streams (status line, headers, then a body of
known length, chunked, or up to the close).

What it does not do, and who does: redirects, cookies, authentication and content
decoding are the ``httpx.AsyncClient``'s; proxies from the environment get httpx's own
transports (the client mounts them itself); HTTP/2 and ``Expect: 100-continue`` are not
spoken (no vendor needs them).

Errors are httpx's, raised as its own transport would, so retry rules keyed on them
(``core.http.send``) hold: ``ConnectError``/``ConnectTimeout`` when nothing was sent,
``WriteError``/``WriteTimeout``, ``ReadError``/``ReadTimeout``, ``RemoteProtocolError``
for a connection closed before or inside a response, ``PoolTimeout`` when every
connection to the host stays busy.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

__all__ = ["Http11Transport"]

_T = TypeVar("_T")
_CHUNK = 64 * 1024
_MAX_HEAD = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY_STATUSES = frozenset({204, 304})

Origin = tuple[str, str, int]


class _Connection:
    """One keep-alive TCP (or TLS) connection and its streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Whether an idle connection can carry another request: not expired, and not
        closed by the server meanwhile."""
        return (
            now - self.idle_since < expiry
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Host:
    """The connections to one origin: a cap on how many at once, and the idle ones."""

    slots: asyncio.Semaphore
    idle: list[_Connection] = field(default_factory=list)


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive, at most ``max_connections`` per origin at once (more
    requests wait their turn, first come first served, up to the pool timeout), and at
    most ``max_keepalive`` idle connections kept per origin for ``keepalive_expiry`` s.
    """

    def __init__(
        self,
        *,
        max_connections: int = 16,
        max_keepalive: int = 16,
        keepalive_expiry: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max_connections = max(1, max_connections)
        self._max_keepalive = max(0, max_keepalive)
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._hosts: dict[Origin, _Host] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Streams and semaphores belong to one event loop: start afresh in a new one.
            self._loop, self._hosts, self._closed = loop, {}, False
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = _Host(asyncio.Semaphore(self._max_connections))
        try:
            await _within(host.slots.acquire(), timeouts.get("pool"))
        except TimeoutError:
            raise httpx.PoolTimeout(
                "no free connection to the host in time", request=request
            ) from None
        try:
            connection = self._idle(host) or await self._connect(origin, request, timeouts)
            try:
                await _send(connection, request, timeouts.get("write"))
                status, reason, headers, framing = await _read_head(
                    connection, request, timeouts.get("read")
                )
            except BaseException:
                connection.close()
                raise
        except BaseException:
            host.slots.release()
            raise
        body = _Body(self, host, connection, request, framing, timeouts.get("read"))
        return httpx.Response(
            status,
            headers=headers,
            stream=body,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        self._closed = True
        for host in self._hosts.values():
            while host.idle:
                host.idle.pop().close()
        self._hosts.clear()

    def _idle(self, host: _Host) -> _Connection | None:
        """The most recently used idle connection that still works; stale ones closed."""
        now = time.monotonic()
        while host.idle:
            connection = host.idle.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _release(self, host: _Host, connection: _Connection, *, reusable: bool) -> None:
        if reusable and not self._closed and len(host.idle) < self._max_keepalive:
            connection.idle_since = time.monotonic()
            host.idle.append(connection)
        else:
            connection.close()
        host.slots.release()

    async def _connect(
        self, origin: Origin, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> _Connection:
        scheme, hostname, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            context = self._ssl
        try:
            reader, writer = await _within(
                asyncio.open_connection(
                    hostname,
                    port,
                    ssl=context,
                    server_hostname=hostname if context is not None else None,
                    limit=_MAX_HEAD,
                ),
                timeouts.get("connect"),
            )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {hostname} timed out", request=request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        return _Connection(reader, writer)


@dataclass(frozen=True, slots=True)
class _Framing:
    """How the response body ends: after ``length`` bytes, with the last chunk, or when
    the server closes; and whether the connection may carry another request after it."""

    length: int | None
    chunked: bool
    keep_alive: bool


class _Body(httpx.AsyncByteStream):
    """A response body read as it arrives; its connection goes back to the pool once
    the body is read to its end, and is closed if the reader stops early."""

    def __init__(
        self,
        transport: Http11Transport,
        host: _Host,
        connection: _Connection,
        request: httpx.Request,
        framing: _Framing,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._host = host
        self._connection: _Connection | None = connection
        self._request = request
        self._framing = framing
        self._timeout = timeout
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        framing, reader = self._framing, connection.reader
        if framing.chunked:
            async for piece in self._chunks(reader):
                yield piece
        elif framing.length is not None:
            left = framing.length
            while left:
                piece = await self._read(reader.read(min(left, _CHUNK)))
                if not piece:
                    raise httpx.RemoteProtocolError(
                        f"the server closed the connection {left} bytes before the end of the body",
                        request=self._request,
                    )
                left -= len(piece)
                yield piece
        else:
            while piece := await self._read(reader.read(_CHUNK)):
                yield piece
        self._complete = True

    async def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            line = await self._read(reader.readline())
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpx.RemoteProtocolError(
                    f"bad chunk size line {line[:40]!r}", request=self._request
                ) from None
            if size == 0:
                while (await self._read(reader.readline())).strip():
                    pass  # trailers: nobody here reads them
                return
            piece = await self._read(reader.readexactly(size + 2))
            yield piece[:-2]

    async def _read(self, operation: Awaitable[_T]) -> _T:
        try:
            return await _within(operation, self._timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("the server stopped sending", request=self._request) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(
                "the server closed the connection inside the body", request=self._request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            reusable = self._complete and self._framing.keep_alive
            self._transport._release(self._host, connection, reusable=reusable)


async def _within(operation: Awaitable[_T], seconds: float | None) -> _T:
    if seconds is None:
        return await operation
    async with asyncio.timeout(seconds):
        return await operation


async def _send(connection: _Connection, request: httpx.Request, seconds: float | None) -> None:
    url = request.url
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        lines.append(name + b": " + value)
        if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    writer = connection.writer
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None  # a streamed upload
    try:
        if content is not None and not chunked:  # the usual JSON body: one write
            writer.write(head + content)
        else:
            writer.write(head)
            pieces = [content] if content is not None else request.stream
            async for piece in _pieces(pieces):
                if chunked:
                    writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    writer.write(piece)
                await _within(writer.drain(), seconds)
            if chunked:
                writer.write(b"0\r\n\r\n")
        if writer.transport.get_write_buffer_size():  # the usual small request is out already
            await _within(writer.drain(), seconds)
    except TimeoutError:
        raise httpx.WriteTimeout("sending the request timed out", request=request) from None
    except (OSError, ssl.SSLError) as exc:
        raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc


async def _pieces(body: object) -> AsyncIterator[bytes]:
    """The pieces of a request body: a list of bytes, or an async or plain iterable."""
    if isinstance(body, httpx.AsyncByteStream):
        async for piece in body:
            yield piece
    else:
        for piece in body:  # type: ignore[attr-defined]
            yield piece


async def _read_head(
    connection: _Connection, request: httpx.Request, seconds: float | None
) -> tuple[int, bytes, list[tuple[bytes, bytes]], _Framing]:
    """The status line and headers of the final response (interim 1xx ones skipped)."""
    reader = connection.reader
    while True:
        try:
            head = await _within(reader.readuntil(b"\r\n\r\n"), seconds)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer from the server in time", request=request) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(
                "the server closed the connection without sending a response", request=request
            ) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError(
                "the response's headers are too long", request=request
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        status_line, *header_lines = head[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise httpx.RemoteProtocolError(
                f"not an HTTP/1.1 status line: {status_line[:60]!r}", request=request
            )
        status = int(code)
        if 100 <= status < 200 and status != 101:
            continue
        break
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    keep_alive = version == b"HTTP/1.1"
    for line in header_lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError(f"bad header line {line[:60]!r}", request=request)
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise httpx.RemoteProtocolError(
                    f"bad Content-Length {value[:20]!r}", request=request
                ) from None
        elif lowered == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lowered == b"connection":
            tokens = {t.strip() for t in value.lower().split(b",")}
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    if request.method == "HEAD" or status in _NO_BODY_STATUSES:
        framing = _Framing(0, False, keep_alive)
    elif chunked:
        framing = _Framing(None, True, keep_alive)
    elif length is not None:
        framing = _Framing(length, False, keep_alive)
    else:
        framing = _Framing(None, False, False)  # the body ends when the server closes
    return status, reason, headers, framing
