"""A loopback HTTP server for vendor tests: real sockets, a request log, scripted faults.

Why a real server and not `httpx.MockTransport`: adapters and the job engine must be
proven against what only a socket does (timeouts, dropped connections, bodies cut short,
`Retry-After`), and end-to-end tests run the CLI in a subprocess pointed at the server's
URL (`TAKESTOCK_<VENDOR>_BASE_URL=srv.url`).

The server runs an `aiohttp.web.Application` on its own asyncio loop in a daemon thread,
bound to 127.0.0.1 on a free port, so it serves sync tests, async tests on any other
loop, and other processes alike::

    with FakeServer(routes) as srv:
        srv.script("POST", "/v1/tasks", Fault.status(429, retry_after=1))
        ...  # the first create gets a 429, the next one reaches the real handler
        assert srv.count("POST", "/v1/tasks") == 2

Every request is recorded (`srv.requests`) before its fault, if any, is applied. An
exception raised by a handler (a bug in the fake, not a vendor's 500) is kept in
`srv.errors`, and leaving the `with` block, or the `fake_server` fixture, fails the test.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import json as jsonlib
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from .faults import Fault, Handler

__all__ = ["FakeServer", "HandlerError", "PathPattern", "RecordedRequest"]

PathPattern = str | re.Pattern[str]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    Attributes:
        method: upper-case HTTP method.
        path: the decoded path, without the query.
        query: query parameters (the first value of a repeated name).
        headers: request headers, case-insensitive (`r.headers["authorization"]`).
        body: the raw body.
        json: the body parsed as JSON, or None when empty or not JSON.
        fault: `Fault.describe()` of the fault this request consumed, or None.
        at: `time.monotonic()` when it arrived, to check pacing between retries.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDictProxy[str]
    body: bytes
    json: Any | None
    fault: str | None = None
    at: float = 0.0


class HandlerError(AssertionError):
    """A handler of the fake server raised: the fake is broken, not the vendor."""


def path_regex(pattern: PathPattern) -> re.Pattern[str]:
    """Compile a path pattern: a regex as is, or a path template.

    In a template, `{name}` matches one path segment and a trailing `*` matches any rest;
    everything else is literal. Matching is against the whole path.
    """
    if isinstance(pattern, re.Pattern):
        return pattern
    prefix = pattern.endswith("*")
    body = pattern[:-1] if prefix else pattern
    parts = re.split(r"(\{[^{}/]+\})", body)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex + (".*" if prefix else ""))


def _as_coroutine_function(handler: Handler) -> Handler:
    # aiohttp warns about (and may one day refuse) handlers it cannot see are async.
    async def call(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    return call


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: "localhost" may resolve anywhere; ask for an address
        return False


def _method_matches(wanted: str, method: str) -> bool:
    return wanted == "*" or wanted.upper() == method


@dataclass
class _Script:
    method: str
    regex: re.Pattern[str]
    faults: deque[Fault] = field(default_factory=deque)
    always: Fault | None = None

    def matches(self, method: str, path: str) -> bool:
        return _method_matches(self.method, method) and self.regex.fullmatch(path) is not None


class FakeServer:
    """An aiohttp app served on 127.0.0.1 from a background thread, with faults.

    Build it from an `aiohttp.web.Application` (which must not have been started yet), an
    iterable of route definitions (`web.get(...)`, a `web.RouteTableDef`), or nothing
    (then add routes with `add_route`). One app, one server: the app is frozen once served.

    Attributes:
        app: the application being served.
        url: "http://127.0.0.1:PORT", once started.
        port: the bound port, once started.
        errors: exceptions raised by handlers, in order (see `check`).
    """

    def __init__(
        self,
        app: web.Application | Iterable[web.AbstractRouteDef] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 1.0,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"FakeServer binds loopback addresses only, not {host!r}")
        if app is None:
            app = web.Application()
        elif not isinstance(app, web.Application):
            routes = list(app)
            app = web.Application()
            app.add_routes(routes)
        if app.frozen:
            raise ValueError("this app has already been served; build a fresh one per server")
        self.app = app
        self.host = host
        self.port = port
        self.errors: list[BaseException] = []
        self._shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._scripts: list[_Script] = []
        # Routes added after start: aiohttp freezes the app's router at startup.
        self._late_router = web.UrlDispatcher()
        self._late_routes = 0
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._idle = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._started = False
        self._stopped = False

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._handle(request, handler)

        app.middlewares.insert(0, middleware)

    # ---- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to hand to a client, an adapter or a subprocess."""
        if not self._started:
            raise RuntimeError("FakeServer.url is known once the server has started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve; returns once the port is listening."""
        if self._started or self._stopped:
            raise RuntimeError("a FakeServer starts once")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="FakeServer", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError("FakeServer did not start in time")
        if failure:
            self._thread.join()
            self._stopped = True
            raise RuntimeError("FakeServer failed to start") from failure[0]
        self._thread.name = f"FakeServer:{self.port}"
        self._started = True
        return self

    async def _serve(self) -> None:
        # access_log=None: the request log is ours; aiohttp's would only add noise.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    def stop(self) -> None:
        """Stop serving, cut in-flight requests, and free the port and the thread.

        Quick even with a request sleeping in `Fault.delay`: in-flight handlers are
        cancelled first, then aiohttp closes the idle keep-alive connections.
        """
        if not self._started or self._stopped:
            self._stopped = True
            return
        self._stopped = True
        assert self._loop is not None
        assert self._thread is not None
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(_STOP_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_STOP_TIMEOUT)
        if self._thread.is_alive():
            raise RuntimeError("FakeServer thread did not stop")

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        for task in list(self._in_flight):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        # Connection tasks cancelled by cleanup need a turn of the loop to finish, and
        # their transports one more to close; sweep so the loop closes with nothing live.
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)

    def check(self) -> None:
        """Raise `HandlerError` if any handler raised (a bug in the fake or a test's route)."""
        if self.errors:
            first = self.errors[0]
            raise HandlerError(
                f"{len(self.errors)} handler error(s) in the fake server; first: {first!r}"
            ) from first

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None:
            self.check()

    async def __aenter__(self) -> Self:
        # Starting takes a few milliseconds; off the caller's loop all the same.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
        if exc_type is None:
            self.check()

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until no request is being handled, e.g. a delayed create that the client
        stopped waiting for has reached the real handler and finished."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._in_flight)} request(s) still in flight")
                self._idle.wait(left)

    # ---- routes --------------------------------------------------------------------

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Add a route, before or after start.

        A route added after start wins over the app's own routes and runs without the
        app's middlewares (scripted faults still apply). `handler` may be any callable
        returning an awaitable, a callable object included.
        """
        if not inspect.iscoroutinefunction(handler):
            handler = _as_coroutine_function(handler)
        if not self.app.frozen:
            self.app.router.add_route(method, path, handler)
            return
        with self._lock:
            self._late_router.add_route(method, path, handler)
            self._late_routes += 1

    # ---- faults --------------------------------------------------------------------

    def script(self, method: str, path: PathPattern, *faults: Fault) -> None:
        """Queue faults for requests matching `method` ("*" for any) and `path`.

        Each matching request consumes one fault, before the real handler; once the
        queue is empty the real handler answers again. `path` is a template
        ("/v1/tasks/{id}", "/files/*") or a compiled regex, matched against the whole path.
        Queues are consumed in the order they were scripted.
        """
        if not faults:
            raise ValueError("script() needs at least one fault")
        with self._lock:
            self._scripts.append(_Script(method, path_regex(path), deque(faults)))

    def script_always(self, method: str, path: PathPattern, fault: Fault) -> None:
        """Apply `fault` to every matching request until `clear_scripts`.

        Queued faults from `script` that match the same request go first.
        """
        with self._lock:
            self._scripts.append(_Script(method, path_regex(path), always=fault))

    def clear_scripts(self) -> None:
        """Forget all scripted faults, queued and permanent."""
        with self._lock:
            self._scripts.clear()

    def pending_faults(self) -> int:
        """How many queued faults no request has consumed yet (an unused script is often a
        sign that the client never sent the request the test expected)."""
        with self._lock:
            return sum(len(s.faults) for s in self._scripts)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for s in self._scripts:
                if s.faults and s.matches(method, path):
                    return s.faults.popleft()
            for s in self._scripts:
                if s.always is not None and s.matches(method, path):
                    return s.always
        return None

    # ---- request log ---------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: PathPattern) -> list[RecordedRequest]:
        """Requests whose method matches ("*" for any) and whose whole path matches
        `path` (a template as in `script`, or a regex)."""
        regex = path_regex(path)
        return [
            r
            for r in self.requests
            if _method_matches(method, r.method) and regex.fullmatch(r.path) is not None
        ]

    def count(self, method: str = "*", path: PathPattern = "") -> int:
        """How many requests match: a str `path` is a prefix, a regex is searched."""

        def hit(p: str) -> bool:
            if isinstance(path, re.Pattern):
                return path.search(p) is not None
            return p.startswith(path)

        return sum(1 for r in self.requests if _method_matches(method, r.method) and hit(r.path))

    def clear(self) -> None:
        """Forget the request log (scripts and errors stay)."""
        with self._lock:
            self._requests.clear()

    # ---- the middleware ------------------------------------------------------------

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            self._in_flight.add(task)
        try:
            body = await request.read()
            fault = self._take_fault(request.method, request.path)
            self._record(request, body, fault)
            handler = await self._late_handler(request, handler)
            if fault is not None:
                return await fault.apply(request, handler)
            return await handler(request)
        except (web.HTTPException, asyncio.CancelledError, ConnectionError):
            raise
        except Exception as exc:
            self.errors.append(exc)
            raise
        finally:
            with self._idle:
                self._in_flight.discard(task)
                if not self._in_flight:
                    self._idle.notify_all()

    async def _late_handler(self, request: web.Request, handler: Handler) -> Handler:
        if not self._late_routes:
            return handler
        match = await self._late_router.resolve(request)
        if match.http_exception is not None:
            return handler
        match.add_app(self.app)
        match.freeze()
        # WORKAROUND: aiohttp has no public way to route on a started app (the router
        # freezes at startup); Application._handle sets this same attribute.
        request._match_info = match  # type: ignore[assignment]
        return match.handler

    def _record(self, request: web.Request, body: bytes, fault: Fault | None) -> None:
        parsed: Any | None = None
        if body:
            try:
                parsed = jsonlib.loads(body)
            except ValueError:
                parsed = None
        query: dict[str, str] = {}
        for key, value in request.query.items():
            query.setdefault(key, value)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=query,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=body,
            json=parsed,
            fault=fault.describe() if fault is not None else None,
            at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(recorded)
