"""A generic fake video vendor ("genericvideo") for the job-engine tests and benchmarks.

It speaks the shape most video APIs share (create a task, poll it, download a signed
URL) with the failure modes the engine must survive, and nothing vendor-specific: real
vendors get their own fake next to their adapter's tests. Serve it with `FakeServer`
(`vendor.serve()` does that) to add scripted faults on top.

Protocol (JSON everywhere; errors are `{"error": {"code": str, "message": str}}`):

Auth: every `/v1/*` request needs `Authorization: Bearer <api_key>` (constructor
    `api_key`, default "test-key"); wrong or missing -> 401 `unauthorized`.
    `/files/*` is authorised by its signature instead.

`POST /v1/tasks` `{"model": str, "prompt": str, "duration": number, "client_id": str?}`
    -> 200 `{"id": "task_<n>", "status": "queued"}`. Checked in this order:
    body not a JSON object, model missing -> 400 `invalid_request`;
    prompt missing or blank -> 400 `invalid_prompt`;
    duration missing or not > 0 -> 400 `invalid_duration`;
    model in `retired_models` -> 404 `model_not_found` ("model X is no longer available");
    `credits < duration` -> 402 `insufficient_balance`.
    A create costs `duration` credits, taken at once. No de-duplication by client_id:
    a second create is a second task and a second charge (`count_creates` tells).
    A prompt containing "#fail" ends "failed" with `generation_failed`; "#nsfw" ends
    "failed" with `content_policy`.

`GET /v1/tasks/{id}` -> `{"id", "status", "progress", "model", "duration", "client_id",
    "created_at", "video_url"?, "error"?}`; unknown id -> 404 `task_not_found`.
    status: "queued" | "running" | "succeeded" | "failed" | "cancelled"; progress 0..100.
    Each GET of a task counts as one poll and moves it on: by default it is "queued" on
    poll 1, "running" on polls 2-3 and final from poll 4 (`queued_polls`, `running_polls`;
    0 and 0 make the first poll final). With `queued_seconds` / `running_seconds` the
    phases last that long from creation instead, whoever asks.
    `video_url` (succeeded only) is absolute, freshly signed at each answer:
    `<base>/files/<id>.mp4?sig=<token>&expires=<unix seconds>`, valid `url_ttl` seconds.
    `error` (failed only) is `{"code", "message"}`.

`GET /v1/tasks?client_id=X` -> `{"data": [task, ...]}`: the tasks created with that
    client id, oldest first (all tasks without the parameter); [] if none. Does not
    count as a poll.

`POST /v1/tasks/{id}/cancel` -> the task, now "cancelled" (credits refunded); a task
    already final -> 409 `invalid_state`; unknown -> 404 `task_not_found`.

`GET /v1/balance` -> `{"credits": number}`. Failed and cancelled tasks are refunded (a
    failure when first reported); `refunds=False` keeps the credits.

`GET /files/{id}.mp4?sig=&expires=` -> the video bytes (`video`, default a real tiny MP4),
    `Content-Type: video/mp4`, `Content-Length`, `Accept-Ranges: bytes`. `Range:
    bytes=N-`, `bytes=N-M` and `bytes=-N` give 206 with `Content-Range`; a range past the
    end gives 416 with `Content-Range: bytes */<size>`; other Range forms are ignored
    (200, whole file). An unknown or forged signature -> 403 `invalid_signature`; past
    `expires`, or issued before `expire_urls()` -> 403 `url_expired`.

State for assertions (mutated on the server's loop under a lock; reading from a test is
fine): `creates` (accepted create bodies), `tasks` (by id), `count_creates(client_id)`,
`credits` (assignable), `expire_urls()`.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web

from .faults import Handler
from .harness import FakeServer
from .media import tiny_mp4

__all__ = ["FakeTask", "GenericVideoVendor"]

FINAL = frozenset({"succeeded", "failed", "cancelled"})


class _ApiError(Exception):
    """Raised by handlers; the app's middleware turns it into the vendor's error JSON."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class FakeTask:
    """One generation task as the fake vendor holds it.

    Attributes:
        outcome: how it ends if nobody cancels it ("succeeded" or "failed").
        error: the error reported when it fails.
        polls: how many times it was fetched by id.
        forced_status: set by a test to pin the status ("running" forever, say).
    """

    id: str
    model: str
    prompt: str
    duration: float
    client_id: str | None
    cost: float
    created_at: float
    outcome: str = "succeeded"
    error: dict[str, str] | None = None
    polls: int = 0
    cancelled: bool = False
    refunded: bool = False
    forced_status: str | None = None


@dataclass
class _SignedUrl:
    task_id: str
    expires: int
    revoked: bool = False


@dataclass(eq=False)
class GenericVideoVendor:
    """The fake vendor's state and its aiohttp app (`app`); see the module docstring.

    Attributes:
        app: the `aiohttp.web.Application` to serve (once).
        server: the `FakeServer` once `serve()` was called.
        creates: accepted create bodies, in order.
        tasks: tasks by id.
        credits: the balance; tests may set it.
    """

    api_key: str = "test-key"
    credits: float = 1000.0
    video: bytes | None = field(default=None, repr=False)
    retired_models: Iterable[str] = ()
    queued_polls: int = 1
    running_polls: int = 2
    queued_seconds: float | None = None
    running_seconds: float | None = None
    url_ttl: float = 3600.0
    refunds: bool = True
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retired = frozenset(self.retired_models)
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._urls: dict[str, _SignedUrl] = {}
        self._next_id = 1
        self.app = web.Application(middlewares=[self._errors_middleware])
        self.app.add_routes(
            [
                web.post("/v1/tasks", self._create),
                web.get("/v1/tasks", self._list),
                web.get("/v1/tasks/{task_id}", self._get),
                web.post("/v1/tasks/{task_id}/cancel", self._cancel),
                web.get("/v1/balance", self._balance),
                web.get("/files/{task_id}.mp4", self._file),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        """Start a `FakeServer` on this vendor's app and keep it in `server`."""
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        """The base URL of the server started by `serve()`."""
        if self.server is None:
            raise RuntimeError("call serve() first")
        return self.server.url

    def count_creates(self, client_id: str | None = None) -> int:
        """Accepted creates, all or for one client id: more than one is a double charge."""
        with self._lock:
            if client_id is None:
                return len(self.creates)
            return sum(1 for body in self.creates if body.get("client_id") == client_id)

    def expire_urls(self) -> None:
        """Make every video URL issued so far answer 403 url_expired (new polls sign anew)."""
        with self._lock:
            for signed in self._urls.values():
                signed.revoked = True

    def status_of(self, task_id: str) -> str:
        """The task's status now, without counting a poll."""
        with self._lock:
            return self._status(self.tasks[task_id])

    # ---- middleware and helpers ----------------------------------------------------

    @web.middleware
    async def _errors_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            if request.path.startswith("/v1/"):
                self._authorise(request)
            return await handler(request)
        except _ApiError as exc:
            return web.json_response(
                {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
            )

    def _authorise(self, request: web.Request) -> None:
        if request.headers.get(hdrs.AUTHORIZATION) != f"Bearer {self.api_key}":
            raise _ApiError(401, "unauthorized", "missing or invalid API key")

    def _task(self, request: web.Request) -> FakeTask:
        task_id = request.match_info["task_id"]
        task = self.tasks.get(task_id)
        if task is None:
            raise _ApiError(404, "task_not_found", f"task {task_id} does not exist")
        return task

    def _status(self, task: FakeTask) -> str:
        if task.cancelled:
            return "cancelled"
        if task.forced_status is not None:
            return task.forced_status
        phase, _ = self._phase(task)
        return task.outcome if phase == "final" else phase

    def _phase(self, task: FakeTask) -> tuple[str, int]:
        """("queued"|"running"|"final", progress) from polls or from elapsed time."""
        if self.queued_seconds is not None or self.running_seconds is not None:
            queued = self.queued_seconds or 0.0
            running = self.running_seconds or 0.0
            elapsed = self.clock() - task.created_at
            if elapsed < queued:
                return "queued", 0
            if elapsed < queued + running:
                return "running", min(99, max(1, int(100 * (elapsed - queued) / running)))
            return "final", 100
        if task.polls <= self.queued_polls:
            return "queued", 0
        step = task.polls - self.queued_polls
        if step <= self.running_polls:
            return "running", int(100 * step / (self.running_polls + 1))
        return "final", 100

    def _view(self, request: web.Request, task: FakeTask) -> dict[str, Any]:
        status = self._status(task)
        if status in {"failed", "cancelled"} and self.refunds and not task.refunded:
            task.refunded = True
            self.credits += task.cost
        _, progress = self._phase(task)
        if status == "failed":
            progress = min(progress, 99)
        view: dict[str, Any] = {
            "id": task.id,
            "status": status,
            "progress": 100 if status == "succeeded" else progress,
            "model": task.model,
            "duration": task.duration,
            "client_id": task.client_id,
            "created_at": int(task.created_at),
        }
        if status == "succeeded":
            view["video_url"] = self._sign(request, task)
        if status == "failed":
            view["error"] = task.error
        return view

    def _sign(self, request: web.Request, task: FakeTask) -> str:
        token = secrets.token_hex(8)
        expires = math.floor(self.clock() + self.url_ttl)
        self._urls[token] = _SignedUrl(task.id, expires)
        return (
            f"{request.scheme}://{request.host}/files/{task.id}.mp4?sig={token}&expires={expires}"
        )

    # ---- handlers ------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            raise _ApiError(400, "invalid_request", "body must be a JSON object with a model")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _ApiError(400, "invalid_prompt", "prompt is required")
        duration = body.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
            raise _ApiError(400, "invalid_duration", "duration must be a positive number")
        model = body["model"]
        if model in self._retired:
            raise _ApiError(404, "model_not_found", f"model {model} is no longer available")
        client_id = body.get("client_id")
        with self._lock:
            if self.credits < duration:
                raise _ApiError(
                    402,
                    "insufficient_balance",
                    f"this task needs {duration} credits; the balance is {self.credits}",
                )
            self.credits -= duration
            task = FakeTask(
                id=f"task_{self._next_id}",
                model=model,
                prompt=prompt,
                duration=duration,
                client_id=client_id if isinstance(client_id, str) else None,
                cost=duration,
                created_at=self.clock(),
            )
            self._next_id += 1
            if "#nsfw" in prompt:
                task.outcome = "failed"
                task.error = {
                    "code": "content_policy",
                    "message": "the prompt was flagged by the content policy",
                }
            elif "#fail" in prompt:
                task.outcome = "failed"
                task.error = {"code": "generation_failed", "message": "generation failed"}
            self.tasks[task.id] = task
            self.creates.append(body)
        return web.json_response({"id": task.id, "status": "queued"})

    async def _get(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            task.polls += 1
            return web.json_response(self._view(request, task))

    async def _list(self, request: web.Request) -> web.Response:
        client_id = request.query.get("client_id")
        with self._lock:
            found = [
                self._view(request, t)
                for t in self.tasks.values()
                if client_id is None or t.client_id == client_id
            ]
        return web.json_response({"data": found})

    async def _cancel(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            status = self._status(task)
            if status in FINAL:
                raise _ApiError(409, "invalid_state", f"task {task.id} is already {status}")
            task.cancelled = True
            return web.json_response(self._view(request, task))

    async def _balance(self, request: web.Request) -> web.Response:
        with self._lock:
            return web.json_response({"credits": self.credits})

    async def _file(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        sig = request.query.get("sig", "")
        with self._lock:
            signed = self._urls.get(sig)
            if (
                signed is None
                or signed.task_id != task_id
                or request.query.get("expires") != str(signed.expires)
            ):
                raise _ApiError(403, "invalid_signature", "the URL signature is not valid")
            if signed.revoked or self.clock() >= signed.expires:
                raise _ApiError(403, "url_expired", "the URL has expired; fetch the task again")
            task = self.tasks[task_id]
            if self._status(task) != "succeeded":
                raise _ApiError(404, "file_not_found", f"task {task_id} has no video")
        assert self.video is not None
        return _ranged(request, self.video)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _ranged(request: web.Request, data: bytes) -> web.Response:
    """Serve `data` honouring a single byte range, as a resuming client needs."""
    headers = {hdrs.ACCEPT_RANGES: "bytes"}
    size = len(data)
    match = _RANGE.fullmatch(request.headers.get(hdrs.RANGE, "").strip())
    if match is None or match.groups() == ("", ""):
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # a suffix: the last N bytes
        start = max(0, size - int(last))
        end = size - 1
    if start >= size or start > end:
        headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end}/{size}"
    return web.Response(
        status=206, body=data[start : end + 1], content_type="video/mp4", headers=headers
    )
