"""A fake Tencent TokenHub video API (Hunyuan ``hy-video-1.5``) on 127.0.0.1.

It answers the way cloud.tencent.com document 1823/130081 shows (submit, its answer)
and a TokenHub client reads the query (``status``, ``progress``, ``data.url``), with the
limits of SubmitHunyuanToVideoJob (vclm) whose parameters the submit takes in snake
case. Serve it with ``FakeHunyuan().serve()``; the adapter's base URL is ``fake.url``.

Auth: every ``/v1/*`` request needs ``Authorization: Bearer <api_key>``; else 401
``{"error": {"message": "Invalid API key: <the key sent>", "type":
"invalid_request_error", "code": "invalid_api_key"}}`` (quoting the key back, so tests can
prove Takestock keeps it nowhere). Other errors have the same shape.

``POST /v1/api/video/submit``, checked in this order:
    running tasks >= ``max_running`` -> 429 ``RequestLimitExceeded`` (``Retry-After`` when
        ``retry_after`` is set);
    body not an object, or a key outside the documented ones -> 400;
    ``model`` not ``hy-video-1.5`` (or retired) -> 400 ``model_not_found``;
    ``prompt`` missing, blank or over 200 characters -> 400; ``resolution`` not 720p -> 400;
    ``image`` not exactly one of ``{"url"}`` (https) / ``{"base64"}`` (an image, at most
        8 MB decoded) -> 400; ``logo_add`` not 0/1 -> 400;
    ``balance`` below the price (1.5) -> 402 ``insufficient_balance``.
    -> 200 ``{"id", "request_id", "object": "video", "created_at", "status": "queued"}``.

``POST /v1/api/video/query`` ``{"id"}``: ``queued`` for ``queued_polls`` queries, then
``processing`` (``progress`` 0-100) for ``processing_polls``, then ``completed`` with
``data.url`` (a signed link) or, for a prompt with "#fail", ``failed`` with ``error:
{code, message}`` ("#audit" fails with a content-audit code). Unknown id -> 404.

``GET /cos/{id}.mp4?se=&sig=`` -> the video (``tests.vendors.fakeparts.SignedLinks``;
ranges honoured); forged, past ``url_ttl`` or issued before ``expire_urls()`` -> 403.

State for assertions: ``creates`` (accepted bodies), ``tasks``, ``count_creates()``,
``balance``, ``expire_urls()``.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from PIL import Image

from tests.fakeserver import FakeServer
from tests.fakeserver.faults import Handler
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fakeparts import ServedFake, SignedLinks

__all__ = ["PRICE", "SUBMIT_KEYS", "FakeHunyuan"]

SUBMIT_KEYS = frozenset({"model", "prompt", "image", "resolution", "logo_add", "logo_param"})
PRICE = 1.5


class TokenHubError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _bad(code: str, message: str) -> TokenHubError:
    return TokenHubError(400, code, message)


@dataclass
class FakeHunyuanTask:
    id: str
    body: dict[str, Any]
    created_at: float
    polls: int = 0
    outcome: str = "completed"
    error: dict[str, str] | None = None


@dataclass(eq=False)
class FakeHunyuan(ServedFake):
    """The fake vendor's state and its aiohttp app; see the module docstring."""

    api_key: str = "sk-tokenhub-test"
    balance: float = 100.0
    video: bytes | None = field(default=None, repr=False)
    queued_polls: int = 1
    processing_polls: int = 1
    url_ttl: float = 86400.0
    max_running: int | None = None
    retry_after: float | None = None
    retired_models: Iterable[str] = ()
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeHunyuanTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retired = frozenset(self.retired_models)
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self.links = SignedLinks("cos", self.url_ttl, self.clock)
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/api/video/submit", self._submit),
                web.post("/v1/api/video/query", self._query),
                web.get(self.links.route, self._file),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def expire_urls(self) -> None:
        self.links.revoke()

    # ---- middleware ----------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/v1/"):
                auth = request.headers.get(hdrs.AUTHORIZATION, "")
                if auth != f"Bearer {self.api_key}":
                    sent = auth.removeprefix("Bearer ").strip()
                    raise TokenHubError(401, "invalid_api_key", f"Invalid API key: {sent}")
            return await handler(request)
        except TokenHubError as exc:
            body = {
                "error": {"message": exc.message, "type": "invalid_request_error", "code": exc.code}
            }
            return web.json_response(body, status=exc.status, headers=exc.headers)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _bad("invalid_request", "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _bad("invalid_request", "the request body must be a JSON object")
        return body

    def _running(self) -> int:
        limit = self.queued_polls + self.processing_polls
        return sum(1 for t in self.tasks.values() if t.polls <= limit)

    # ---- handlers ------------------------------------------------------------------

    async def _submit(self, request: web.Request) -> web.Response:
        with self._lock:
            if self.max_running is not None and self._running() >= self.max_running:
                headers = (
                    {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
                )
                raise TokenHubError(
                    429, "RequestLimitExceeded", "too many concurrent video jobs", headers
                )
        body = await self._json(request)
        unknown = sorted(set(body) - SUBMIT_KEYS)
        if unknown:
            raise _bad("invalid_parameter", f"unknown parameter(s): {', '.join(unknown)}")
        if body.get("model") != "hy-video-1.5" or body["model"] in self._retired:
            raise _bad("model_not_found", f"model {body.get('model')} does not exist")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _bad("invalid_parameter", "prompt is required")
        if len(prompt) > 200:
            raise _bad("invalid_parameter", "prompt must be at most 200 characters")
        if body.get("resolution", "720p") != "720p":
            raise _bad("invalid_parameter", "resolution must be 720p")
        if "image" in body:
            _check_image(body["image"])
        if body.get("logo_add", 1) not in (0, 1):
            raise _bad("invalid_parameter", "logo_add must be 0 or 1")
        with self._lock:
            if self.balance < PRICE:
                raise TokenHubError(402, "insufficient_balance", "account balance is insufficient")
            self.balance -= PRICE
            task = FakeHunyuanTask(f"vid-{uuid.uuid4().hex[:16]}", body, self.clock())
            if "#fail" in prompt:
                task.outcome = "failed"
                task.error = {"code": "FailedOperation.InnerError", "message": "generation failed"}
            elif "#audit" in prompt:
                task.outcome = "failed"
                task.error = {
                    "code": "FailedOperation.ContentAuditFailed",
                    "message": "the content did not pass the audit",
                }
            self.tasks[task.id] = task
            self.creates.append(body)
        return web.json_response(
            {
                "id": task.id,
                "request_id": str(uuid.uuid4()),
                "object": "video",
                "created_at": int(task.created_at),
                "status": "queued",
            }
        )

    async def _query(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        with self._lock:
            task = self.tasks.get(str(body.get("id")))
            if task is None:
                raise TokenHubError(404, "task_not_found", f"task {body.get('id')} not found")
            task.polls += 1
            view: dict[str, Any] = {"id": task.id, "object": "video"}
            if task.polls <= self.queued_polls:
                view.update(status="queued", progress=0)
            elif task.polls <= self.queued_polls + self.processing_polls:
                step = task.polls - self.queued_polls
                view.update(
                    status="processing", progress=int(100 * step / (self.processing_polls + 1))
                )
            elif task.outcome == "failed":
                view.update(status="failed", progress=100, error=task.error)
            else:
                view.update(
                    status="completed",
                    progress=100,
                    data={"url": self.links.sign(request, task.id)},
                )
        return web.json_response(view)

    async def _file(self, request: web.Request) -> web.Response:
        assert self.video is not None
        return self.links.serve(request, self.video)


def _check_image(image: Any) -> None:
    if not isinstance(image, dict) or len(image) != 1 or not set(image) <= {"url", "base64"}:
        raise _bad("invalid_parameter", "image takes exactly one of url or base64")
    if "url" in image:
        if not str(image["url"]).startswith("https://"):
            raise _bad("invalid_parameter", "image.url must be a public https URL")
        return
    try:
        raw = base64.b64decode(str(image["base64"]), validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
    except (binascii.Error, ValueError, OSError):
        raise _bad("invalid_parameter", "image.base64 is not an image") from None
    if len(raw) > 8 * 1000 * 1000:
        raise _bad("invalid_parameter", "image.base64 exceeds 8 MB")
