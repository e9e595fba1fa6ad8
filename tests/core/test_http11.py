"""The HTTP/1.1 pool under httpx: framing, keep-alive, limits and failures, against a raw
loopback server that answers exactly the bytes each test scripts."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from takestock.core.http11 import Http11Transport

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

Answer = Callable[[bytes, bytes], Awaitable[bytes | None]]


@dataclass
class RawServer:
    """Counts connections and requests; ``answer(head, body)`` gives the bytes to send
    back (``None``: close the connection without answering)."""

    answer: Answer
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[bytes] = field(default_factory=list)
    close_after_answer: bool = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                body = await _request_body(reader, head)
                self.requests.append(head + body)
                reply = await self.answer(head, body)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
                if self.close_after_answer or b"connection: close" in reply.lower():
                    return
        finally:
            self.open_now -= 1
            writer.close()


async def _request_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                return body
            body += (await reader.readexactly(size + 2))[:-2]
    for line in lowered.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return await reader.readexactly(int(line.split(b":")[1]))
    return b""


async def _ok(head: bytes, body: bytes) -> bytes:
    return OK


def run(
    answer: Answer,
    body: Callable[[httpx.AsyncClient, str, RawServer], Awaitable[Any]],
    *,
    transport: dict[str, Any] | None = None,
    timeout: float = 5.0,
    close_after_answer: bool = False,
) -> tuple[Any, RawServer]:
    server = RawServer(answer, close_after_answer=close_after_answer)

    async def go() -> Any:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        pool = Http11Transport(**(transport or {}))
        try:
            async with httpx.AsyncClient(transport=pool, timeout=timeout) as client:
                return await body(client, f"http://127.0.0.1:{port}", server)
        finally:
            listener.close()

    return asyncio.run(go()), server


def test_requests_one_after_another_share_one_connection():
    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> list[Any]:
        return [(await client.get(f"{url}/v1/tasks/{i}?x=1")).json() for i in range(20)]

    answers, server = run(_ok, body)
    assert answers == [{}] * 20
    assert server.connections == 1
    assert server.requests[3].startswith(b"GET /v1/tasks/3?x=1 HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:" in server.requests[3].lower()


def test_concurrent_requests_never_open_more_than_the_limit():
    async def slow(head: bytes, body: bytes) -> bytes:
        await asyncio.sleep(0.01)
        return OK

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> list[int]:
        replies = await asyncio.gather(*(client.get(f"{url}/{i}") for i in range(60)))
        return [r.status_code for r in replies]

    statuses, server = run(slow, body, transport={"max_connections": 4})
    assert statuses == [200] * 60
    assert server.most_open <= 4
    assert server.connections == 4  # every connection kept and reused


def test_idle_connections_beyond_the_keepalive_bound_are_closed():
    async def slow(head: bytes, body: bytes) -> bytes:
        await asyncio.sleep(0.01)
        return OK

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> int:
        await asyncio.gather(*(client.get(f"{url}/{i}") for i in range(8)))
        await asyncio.sleep(0.05)  # the server notices the closes
        return server.open_now

    still_open, _ = run(slow, body, transport={"max_connections": 8, "max_keepalive": 2})
    assert still_open == 2


def test_bodies_framed_by_length_by_chunks_and_by_close():
    answers = {
        b"/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"/interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
        b"/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    }

    async def answer(head: bytes, body: bytes) -> bytes:
        return answers[head.split(b" ")[1]]

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> list[Any]:
        paths = ["/length", "/chunked", "/interim", "/empty", "/length", "/close", "/length"]
        return [(p, (await client.get(url + p)).content) for p in paths]

    got, server = run(answer, body)
    assert got == [
        ("/length", b"hello"),
        ("/chunked", b"hello"),
        ("/interim", b"ok"),
        ("/empty", b""),
        ("/length", b"hello"),
        ("/close", b"until the end"),
        ("/length", b"hello"),
    ]
    assert server.connections == 2  # a new one only after the server's close


def test_a_head_request_reads_no_body_and_keeps_the_connection():
    async def answer(head: bytes, body: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" if head.startswith(b"HEAD") else OK
        )

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> Any:
        head = await client.head(url)
        after = await client.get(url)
        return head.headers["content-length"], after.json()

    (length, after), server = run(answer, body)
    assert (length, after) == ("1000", {})
    assert server.connections == 1


def test_json_and_streamed_uploads_arrive_whole():
    async def echo(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"one ", b"two ", b"three"):
            yield piece

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> Any:
        posted = await client.post(url, json={"prompt": "a fox"})
        streamed = await client.post(url, content=pieces())
        return posted.content, streamed.content

    (posted, streamed), server = run(echo, body)
    assert posted == b'{"prompt":"a fox"}'
    assert streamed == b"one two three"
    assert b"transfer-encoding: chunked" in server.requests[1].lower()


def test_a_stream_read_to_its_end_returns_its_connection_and_one_cut_short_does_not():
    async def big(head: bytes, body: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"x" * 300_000

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> Any:
        async with client.stream("GET", url) as response:
            size = sum([len(piece) async for piece in response.aiter_bytes()])
        async with client.stream("GET", url) as response:
            async for _ in response.aiter_bytes():
                break  # the reader stops early: the rest of the body is still coming
        await client.get(url)
        return size

    size, server = run(big, body)
    assert size == 300_000
    assert server.connections == 2  # the first reused once, the abandoned one closed


def test_a_connection_the_server_closed_while_idle_is_replaced():
    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> list[int]:
        statuses = []
        for _ in range(3):
            statuses.append((await client.get(url)).status_code)
            await asyncio.sleep(0.05)  # the server's close reaches us while idle
        return statuses

    statuses, server = run(_ok, body, close_after_answer=True)
    assert statuses == [200, 200, 200]
    assert server.connections == 3


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (None, httpx.RemoteProtocolError),  # closed without an answer
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", httpx.RemoteProtocolError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", httpx.RemoteProtocolError),
        (b"SMTP ready\r\n\r\n", httpx.RemoteProtocolError),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", httpx.RemoteProtocolError),
    ],
)
def test_broken_answers_raise_httpx_errors(reply: bytes | None, error: type[Exception]):
    async def answer(head: bytes, body: bytes) -> bytes | None:
        return reply

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> None:
        with pytest.raises(error):
            await client.get(url)
        assert server.connections == 1

    run(answer, body, close_after_answer=True)


def test_a_silent_server_is_a_read_timeout_and_a_busy_pool_a_pool_timeout():
    arrived = asyncio.Event()

    async def never(head: bytes, body: bytes) -> bytes:
        arrived.set()
        await asyncio.sleep(30)
        return OK

    async def body(client: httpx.AsyncClient, url: str, server: RawServer) -> None:
        first = asyncio.create_task(client.get(url, timeout=httpx.Timeout(5.0)))
        await arrived.wait()  # the only connection is busy
        with pytest.raises(httpx.PoolTimeout):
            await client.get(url, timeout=httpx.Timeout(5.0, pool=0.05))
        first.cancel()
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, timeout=httpx.Timeout(5.0, read=0.05))

    run(never, body, transport={"max_connections": 1})


def test_nothing_listening_is_a_connect_error():
    async def go() -> None:
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        async with httpx.AsyncClient(transport=Http11Transport()) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/")
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/")

    asyncio.run(go())


def _tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client one trusting it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "takestock test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_https_verifies_the_server_and_keeps_the_connection(tmp_path):
    server_ctx, client_ctx = _tls_contexts(tmp_path)
    server = RawServer(_ok)

    async def go() -> tuple[list[Any], type[Exception] | None]:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_ctx)
        url = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}/v1/tasks/1"
        try:
            pool = Http11Transport(ssl_context=client_ctx)
            async with httpx.AsyncClient(transport=pool) as client:
                answers = [(await client.get(url)).json() for _ in range(3)]
            # A client that does not trust the certificate refuses to talk.
            async with httpx.AsyncClient(transport=Http11Transport()) as client:
                try:
                    await client.get(url)
                except httpx.ConnectError as exc:
                    return answers, type(exc)
            return answers, None
        finally:
            listener.close()

    answers, refused = asyncio.run(go())
    assert answers == [{}] * 3
    assert len(server.requests) == 3
    assert server.connections == 1  # kept for all three; the refused one never got that far
    assert refused is httpx.ConnectError
