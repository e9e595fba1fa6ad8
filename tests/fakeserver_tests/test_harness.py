"""FakeServer and each Fault, checked from the client's side with httpx.

Every vendor adapter test leans on these behaviours, so each fault is asserted as the
client sees it: the status and header, the exception type, the bytes that arrived.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.fakeserver import FakeServer, Fault, HandlerError

BLOB = bytes(range(256)) * 40  # 10 240 bytes


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"path": request.path, "query": dict(request.query)})


async def _blob(request: web.Request) -> web.Response:
    return web.Response(body=BLOB, content_type="application/octet-stream")


@pytest.fixture
def srv() -> Iterator[FakeServer]:
    routes = [
        web.get("/echo", _echo),
        web.post("/echo", _echo),
        web.get("/blob", _blob),
        web.get("/items/{item_id}", _echo),
    ]
    with FakeServer(routes) as server:
        yield server


@pytest.fixture
def client(srv: FakeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.url, timeout=5) as c:
        yield c


# ---- serving and the request log -----------------------------------------------------


def test_url_is_loopback_on_an_ephemeral_port(srv: FakeServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", srv.url)
    assert srv.port > 0


def test_refuses_to_bind_beyond_loopback() -> None:
    for host in ("0.0.0.0", "192.0.2.1", "localhost"):
        with pytest.raises(ValueError, match="loopback"):
            FakeServer(host=host)


def test_requests_are_recorded(srv: FakeServer, client: httpx.Client) -> None:
    client.get("/echo", params={"a": "1"}, headers={"X-Trace": "t1"})
    client.post("/echo", json={"prompt": "a cat"}, headers={"Authorization": "Bearer k"})
    client.post("/echo", content=b"not json")

    first, second, third = srv.requests
    assert (first.method, first.path, first.query) == ("GET", "/echo", {"a": "1"})
    assert first.headers["x-trace"] == "t1"  # case-insensitive
    assert first.body == b""
    assert first.json is None
    assert second.json == {"prompt": "a cat"}
    assert second.headers["AUTHORIZATION"] == "Bearer k"
    assert third.body == b"not json"
    assert third.json is None
    assert first.at <= second.at <= third.at


def test_count_and_requests_to(srv: FakeServer, client: httpx.Client) -> None:
    client.get("/items/1")
    client.get("/items/2")
    client.get("/echo")
    client.post("/echo")

    assert srv.count("GET", "/items") == 2  # a str is a prefix
    assert srv.count("get", "/items/") == 2
    assert srv.count("*", "/") == 4
    assert srv.count() == 4
    assert srv.count("GET", re.compile(r"/items/\d$")) == 2
    assert srv.count("POST", "/items") == 0
    assert [r.path for r in srv.requests_to("GET", "/items/{id}")] == ["/items/1", "/items/2"]
    assert len(srv.requests_to("*", "/echo")) == 2
    srv.clear()
    assert srv.requests == []


def test_add_route_before_and_after_start() -> None:
    server = FakeServer()
    server.add_route("GET", "/before", _echo)
    with server, httpx.Client(base_url=server.url) as c:
        server.add_route("GET", "/after/{item_id}", _echo)
        assert c.get("/before").status_code == 200
        after = c.get("/after/7")
        assert after.json() == {"path": "/after/7", "query": {}}
        assert c.get("/missing").status_code == 404
        assert server.count("GET", "/after") == 1


def test_routes_from_a_route_table_and_an_app() -> None:
    table = web.RouteTableDef()
    table.get("/t")(_echo)
    app = web.Application()
    app.router.add_get("/a", _echo)
    with FakeServer(table) as one, FakeServer(app) as two:
        assert httpx.get(one.url + "/t").status_code == 200
        assert httpx.get(two.url + "/a").status_code == 200
    with pytest.raises(ValueError, match="already been served"):
        FakeServer(app)


def test_a_handler_error_fails_the_test_not_just_the_request() -> None:
    async def broken(request: web.Request) -> web.Response:
        raise KeyError("bug in the fake")

    server = FakeServer([web.get("/broken", broken)])
    with pytest.raises(HandlerError, match="bug in the fake"), server:
        assert httpx.get(server.url + "/broken").status_code == 500
    assert len(server.errors) == 1


# ---- scripted faults -------------------------------------------------------------------


def test_status_fault_then_the_real_handler(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/echo", Fault.status(429, retry_after=2), Fault.status(503))

    first = client.get("/echo")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2"
    assert first.json()["error"]["code"] == "http_429"
    second = client.get("/echo")
    assert second.status_code == 503
    assert "Retry-After" not in second.headers
    assert client.get("/echo").status_code == 200
    assert [r.fault for r in srv.requests] == ["status(429)", "status(503)", None]
    assert srv.pending_faults() == 0


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(2, "2"), (1.0, "1"), (0.25, "0.25"), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_retry_after_forms(
    srv: FakeServer, client: httpx.Client, retry_after: float | str, header: str | None
) -> None:
    srv.script("GET", "/echo", Fault.status(429, retry_after=retry_after))
    assert client.get("/echo").headers["retry-after"] == (header or retry_after)


def test_status_fault_with_own_body_and_headers(srv: FakeServer, client: httpx.Client) -> None:
    srv.script(
        "POST",
        "/echo",
        Fault.status(403, json={"error": {"code": "forbidden"}}, headers={"X-Request-Id": "r1"}),
        Fault.status(500, text="upstream exploded"),
    )
    forbidden = client.post("/echo")
    assert forbidden.status_code == 403
    assert forbidden.json() == {"error": {"code": "forbidden"}}
    assert forbidden.headers["x-request-id"] == "r1"
    boom = client.post("/echo")
    assert (boom.status_code, boom.text) == (500, "upstream exploded")


def test_malformed_json(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/echo", Fault.malformed_json(), Fault.malformed_json(status=502))
    response = client.get("/echo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert client.get("/echo").status_code == 502


def test_delay_times_the_client_out_and_the_handler_still_runs(srv: FakeServer) -> None:
    created: list[str] = []

    async def create(request: web.Request) -> web.Response:
        created.append("task_1")
        return web.json_response({"id": "task_1"})

    srv.add_route("POST", "/create", create)
    srv.script("POST", "/create", Fault.delay(0.3))
    with httpx.Client(base_url=srv.url, timeout=0.05) as c, pytest.raises(httpx.ReadTimeout):
        c.post("/create")
    assert created == []
    srv.wait_idle()
    assert created == ["task_1"]  # the vendor did the work; the client never heard


def test_delay_does_not_block_other_requests(srv: FakeServer, client: httpx.Client) -> None:
    # The delayed answer is held far longer than any machine takes to answer /echo, so
    # "answered while the other is still held" is behaviour, not a race against a clock.
    srv.script("GET", "/items/{id}", Fault.delay(4.0))
    slow = threading.Thread(target=lambda: httpx.get(srv.url + "/items/1", timeout=10))
    slow.start()
    deadline = time.monotonic() + 5
    while srv.count("GET", "/items") == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert client.get("/echo").status_code == 200
    assert slow.is_alive(), "the delayed request is still held while /echo was answered"
    slow.join()


def test_drop_closes_without_a_response(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/echo", Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.get("/echo")
    assert client.get("/echo").status_code == 200  # the next request gets a new connection


def test_drop_with_reset(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/echo", Fault.drop(reset=True))
    # The RST normally surfaces as ECONNRESET on read (ReadError); a kernel may also
    # deliver it as an end of stream, which httpx reports as RemoteProtocolError.
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get("/echo")
    assert client.get("/echo").status_code == 200


def _drain(response: httpx.Response, into: bytearray) -> None:
    for chunk in response.iter_raw():
        into += chunk


def _read_until_cut(client: httpx.Client, path: str) -> tuple[httpx.Response, bytes]:
    received = bytearray()
    with (
        client.stream("GET", path) as response,
        pytest.raises(httpx.RemoteProtocolError, match="without sending complete"),
    ):
        _drain(response, received)
    return response, bytes(received)


@pytest.mark.parametrize("n_bytes", [0, 1000])
def test_cut_after(srv: FakeServer, client: httpx.Client, n_bytes: int) -> None:
    srv.script("GET", "/blob", Fault.cut_after(n_bytes))
    response, received = _read_until_cut(client, "/blob")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(BLOB))
    assert received == BLOB[:n_bytes]
    assert client.get("/blob").content == BLOB


def test_cut_after_with_a_plain_get(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/blob", Fault.cut_after(100))
    with pytest.raises(httpx.RemoteProtocolError, match=r"received 100 bytes, expected 10240"):
        client.get("/blob")


def test_truncate_looks_complete(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("GET", "/blob", Fault.truncate(1000))
    response = client.get("/blob")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1000"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == BLOB[:1000]
    assert client.get("/blob").content == BLOB  # and the connection is still usable


def test_script_matching_rules(srv: FakeServer, client: httpx.Client) -> None:
    srv.script("POST", "/items/{id}", Fault.status(500))  # wrong method: never consumed
    srv.script("GET", "/items/{id}", Fault.status(501))
    srv.script("*", re.compile(r"/items/9+"), Fault.status(502))
    srv.script("GET", "/it*", Fault.status(503))

    assert client.get("/items/99").status_code == 501  # first matching queue wins
    assert client.get("/items/99").status_code == 502
    assert client.get("/items/1").status_code == 503
    assert client.get("/items/1/extra").status_code == 404  # "{id}" is one segment
    assert client.get("/items/1").status_code == 200
    assert srv.pending_faults() == 1


def test_script_always_until_cleared(srv: FakeServer, client: httpx.Client) -> None:
    srv.script_always("GET", "/echo", Fault.status(503, retry_after=1))
    srv.script("GET", "/echo", Fault.status(429))
    assert client.get("/echo").status_code == 429  # queued faults go first
    assert [client.get("/echo").status_code for _ in range(3)] == [503, 503, 503]
    srv.clear_scripts()
    assert client.get("/echo").status_code == 200


def test_cut_after_needs_a_bytes_response(
    srv: FakeServer, client: httpx.Client, tmp_path: Path
) -> None:
    video = tmp_path / "take.mp4"
    video.write_bytes(BLOB)

    async def file(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(video)

    srv.add_route("GET", "/file", file)
    srv.script("GET", "/file", Fault.truncate(3))
    assert client.get("/file").status_code == 500
    assert isinstance(srv.errors.pop(), TypeError)  # said loudly, not a silent full body


# ---- lifecycle, other loops and other processes ----------------------------------------


def test_stop_is_quick_and_frees_port_and_thread() -> None:
    threads_before = threading.active_count()
    server = FakeServer([web.get("/blob", _blob)]).start()
    server.script("GET", "/blob", Fault.delay(30))
    outcome: list[BaseException] = []

    def wait_forever() -> None:
        try:
            httpx.get(server.url + "/blob", timeout=10)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait_forever)
    waiter.start()
    while server.count("GET", "/blob") < 1:
        time.sleep(0.005)
    idle = httpx.Client(base_url=server.url)  # an idle keep-alive connection as well
    idle.get("/blob")

    # A request that waits forever must not hold up stop(): run it aside and see it end.
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(30)
    assert not stopper.is_alive(), "stop() waited for a request that never ends"
    waiter.join(2)
    idle.close()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)
    assert threading.active_count() == threads_before
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="starts once"):
        server.start()


def test_async_client_on_another_loop() -> None:
    async def main(server: FakeServer) -> tuple[list[str], int]:
        order: list[str] = []
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as c:

            async def fetch(path: str) -> int:
                response = await c.get(path)
                order.append(path)
                return response.status_code

            statuses = await asyncio.gather(fetch("/items/slow"), fetch("/echo"))
        return order, sum(statuses)

    with FakeServer([web.get("/items/{id}", _echo), web.get("/echo", _echo)]) as server:
        server.script("GET", "/items/slow", Fault.delay(0.2))
        order, total = asyncio.run(main(server))
    assert order == ["/echo", "/items/slow"]
    assert total == 400


def test_async_context_manager() -> None:
    async def main() -> int:
        async with FakeServer([web.get("/echo", _echo)]) as server, httpx.AsyncClient() as c:
            return (await c.get(server.url + "/echo")).status_code

    assert asyncio.run(main()) == 200


def test_a_subprocess_reaches_the_server(srv: FakeServer) -> None:
    # What the CLI end-to-end tests do: another process, pointed at srv.url by env.
    script = (
        "import os, urllib.request;"
        "url = os.environ['TAKESTOCK_GENERICVIDEO_BASE_URL'] + '/echo?from=child';"
        "print(urllib.request.urlopen(url, timeout=5).read().decode())"
    )
    env = {**os.environ, "TAKESTOCK_GENERICVIDEO_BASE_URL": srv.url}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"path": "/echo", "query": {"from": "child"}}
    assert srv.requests_to("GET", "/echo")[0].query == {"from": "child"}


def test_fake_server_fixture(fake_server: Callable[..., FakeServer]) -> None:
    one = fake_server([web.get("/echo", _echo)])
    two = fake_server()
    two.add_route("GET", "/late", _echo)
    assert one.url != two.url
    assert httpx.get(one.url + "/echo").status_code == 200
    assert httpx.get(two.url + "/late").status_code == 200
