"""A fake Lightricks LTX v1 API on 127.0.0.1: a create that answers with the video.

Built from shared/vendors/ltx.md (the archived OpenAPI document), independently of the
adapter and the catalog: its own model matrix and prices, so a wrong body, size or
limit in either shows up as the 400 LTX would give.

Auth: every ``/v1/*`` request needs ``Authorization: Bearer <api_key>``; else 401
``{"type": "error", "error": {"type": "authentication_error", "message": "Invalid API
key: <the key sent>"}}`` (quoting it back, so tests prove Takestock keeps it nowhere).

``POST /v1/upload`` -> ``{"upload_url", "storage_uri", "expires_at",
"required_headers": {"Content-Type": "application/octet-stream"}}``; ``PUT
/storage/{id}`` (no auth; the required header) stores the bytes.

``POST /v1/text-to-video`` and ``/v1/image-to-video``, checked in this order:
    running creates >= ``max_running`` -> 429 ``concurrency_limit_error``
        (``Retry-After`` when ``retry_after`` is set);
    keys outside the documented ones, a model it does not know, a prompt missing or over
        5000 characters, a duration/resolution/fps the model's matrix lacks, an
        ``image_uri`` on text-to-video or missing on image-to-video, a storage URI never
        uploaded, ``last_frame_uri`` on a model without it -> 400 ``invalid_request_error``;
    "#filter" in the prompt -> 422 ``content_filtered_error`` (nothing charged);
    ``balance`` below the price -> 402 ``insufficient_funds_error``.
    Then the create is accepted and charged (``creates``, ``balance``), held while
    ``hold`` is not set (the render), and answered 200 ``video/mp4`` with the bytes and
    an ``x-request-id``; "#garble" answers 200 ``application/json`` instead.

State for assertions: ``creates`` (accepted bodies), ``count_creates()``, ``balance``,
``uploads``, ``holding`` (creates waiting on ``hold``), ``held`` (set once one waits).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web

from tests.fakeserver import FakeServer
from tests.fakeserver.faults import Handler
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fakeparts import ServedFake

__all__ = ["MATRIX", "PRICES", "FakeLtx"]

KEYS = frozenset(
    {"prompt", "model", "duration", "resolution", "fps", "generate_audio", "camera_motion",
     "image_uri", "last_frame_uri"}
)  # fmt: skip
SIZES = {
    "1280x720", "720x1280", "1920x1080", "1080x1920", "2560x1440", "1440x2560",
    "3840x2160", "2160x3840",
}  # fmt: skip
#: model -> (sizes' heights, durations, fps, durations allowed past 10 s at these heights)
MATRIX: dict[str, dict[str, Any]] = {
    "ltx-2-3-fast": {"heights": {1080, 1440, 2160}, "durations": set(range(6, 21, 2)),
                     "fps": {24, 25, 48, 50}, "long": {1080}, "last_frame": True},
    "ltx-2-3-pro": {"heights": {1080, 1440, 2160}, "durations": {6, 8, 10},
                    "fps": {24, 25, 48, 50}, "long": set(), "last_frame": True},
    "ltx-2-5-fast": {"heights": {720, 1080, 1440, 2160}, "durations": set(range(2, 21)),
                     "fps": {24, 25, 48, 50}, "long": {720, 1080}, "last_frame": False},
    "ltx-2-5-pro": {"heights": {720, 1080}, "durations": set(range(2, 11)),
                    "fps": {24, 25, 50}, "long": set(), "last_frame": False},
}  # fmt: skip
#: USD a second; the fake charges 0.05 where the catalog knows no price.
PRICES = {("ltx-2-3-pro", 1440): 0.16, ("ltx-2-5-fast", 720): 0.09}


class LtxError(Exception):
    def __init__(
        self, status: int, kind: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = dict(headers or {})


def _bad(message: str) -> LtxError:
    return LtxError(400, "invalid_request_error", message)


@dataclass(eq=False)
class FakeLtx(ServedFake):
    """The fake vendor's state and its aiohttp app; see the module docstring."""

    api_key: str = "ltx-test-key"
    balance: float = 100.0
    video: bytes | None = field(default=None, repr=False)
    max_running: int | None = None
    retry_after: float | None = None
    hold: threading.Event = field(default_factory=threading.Event)
    #: set once a create is being held open
    held: threading.Event = field(default_factory=threading.Event, init=False)
    hold_limit_s: float = 60.0

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    uploads: dict[str, bytes] = field(default_factory=dict, init=False)
    holding: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self.hold.set()  # answer at once unless a test clears it
        self._lock = threading.Lock()
        self._running = 0
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/upload", self._upload_slot),
                web.put("/storage/{id}", self._store),
                web.post("/v1/text-to-video", self._create),
                web.post("/v1/image-to-video", self._create),
            ]
        )

    # ---- middleware ----------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/v1/"):
                auth = request.headers.get(hdrs.AUTHORIZATION, "")
                if auth != f"Bearer {self.api_key}":
                    sent = auth.removeprefix("Bearer ").strip()
                    raise LtxError(401, "authentication_error", f"Invalid API key: {sent}")
            return await handler(request)
        except LtxError as exc:
            body = {"type": "error", "error": {"type": exc.kind, "message": exc.message}}
            return web.json_response(body, status=exc.status, headers=exc.headers)

    # ---- uploads -------------------------------------------------------------------

    async def _upload_slot(self, request: web.Request) -> web.Response:
        token = uuid.uuid4().hex[:12]
        return web.json_response(
            {
                "upload_url": f"{request.scheme}://{request.host}/storage/{token}",
                "storage_uri": f"ltx://uploads/{token}",
                "expires_at": "2026-12-06T12:00:00Z",
                "required_headers": {"Content-Type": "application/octet-stream"},
            }
        )

    async def _store(self, request: web.Request) -> web.Response:
        if request.headers.get(hdrs.CONTENT_TYPE) != "application/octet-stream":
            return web.Response(status=403, text="SignatureDoesNotMatch: content type")
        if hdrs.AUTHORIZATION in request.headers:
            return web.Response(status=400, text="the signed URL takes no Authorization")
        with self._lock:
            self.uploads[f"ltx://uploads/{request.match_info['id']}"] = await request.read()
        return web.Response(status=200)

    # ---- the create ----------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        with self._lock:
            if self.max_running is not None and self._running >= self.max_running:
                headers = (
                    {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
                )
                raise LtxError(429, "concurrency_limit_error", "concurrency limit reached", headers)
        try:
            body = await request.json()
        except ValueError:
            raise _bad("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _bad("the request body must be a JSON object")
        price = self._check(body, image=request.path.endswith("image-to-video"))
        if "#filter" in body["prompt"]:
            raise LtxError(422, "content_filtered_error", "the prompt was blocked by the filter")
        with self._lock:
            if self.balance < price:
                raise LtxError(402, "insufficient_funds_error", "insufficient funds")
            self.balance -= price
            self.creates.append(body)
            self._running += 1
            self.holding += 1
            if not self.hold.is_set():
                self.held.set()
        try:
            waited = 0.0
            while not self.hold.is_set() and waited < self.hold_limit_s:
                await asyncio.sleep(0.02)  # rendering: the connection stays open
                waited += 0.02
        finally:
            with self._lock:
                self._running -= 1
                self.holding -= 1
        if "#garble" in body["prompt"]:
            return web.json_response({"status": "ok"})
        assert self.video is not None
        return web.Response(
            body=self.video,
            content_type="video/mp4",
            headers={"x-request-id": f"req-{uuid.uuid4().hex[:12]}"},
        )

    def _check(self, body: dict[str, Any], *, image: bool) -> float:
        unknown = sorted(set(body) - KEYS)
        if unknown:
            raise _bad(f"unknown field(s): {', '.join(unknown)}")
        spec = MATRIX.get(str(body.get("model")))
        if spec is None:
            raise _bad(f"model {body.get('model')} not found")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 5000:
            raise _bad("prompt is required and at most 5000 characters")
        size = body.get("resolution")
        if size not in SIZES:
            raise _bad(f"resolution {size} is not supported")
        height = min(int(n) for n in str(size).split("x"))
        duration = body.get("duration")
        fps = body.get("fps", 24)
        if height not in spec["heights"] or duration not in spec["durations"]:
            raise _bad(f"{body['model']} does not support {size} for {duration} s")
        if fps not in spec["fps"] or (duration > 10 and (height not in spec["long"] or fps > 25)):
            raise _bad(f"{body['model']} does not support {duration} s at {size} {fps} fps")
        if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
            raise _bad("generate_audio must be a boolean")
        for key in ("image_uri", "last_frame_uri"):
            uri = body.get(key)
            if uri is not None and not (uri in self.uploads or str(uri).startswith("https://")):
                raise _bad(f"{key} {uri} was never uploaded")
        if image != ("image_uri" in body):
            raise _bad("image_uri belongs to image-to-video, and only there")
        if "last_frame_uri" in body and not spec["last_frame"]:
            raise _bad(f"{body['model']} takes no last_frame_uri")
        return PRICES.get((body["model"], height), 0.05) * duration
