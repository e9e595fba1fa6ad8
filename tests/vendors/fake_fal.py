"""A fake fal.ai: the queue API, storage uploads, the CDN, balance and the Platform API.

It answers the way fal does, from the official ``fal-client`` 1.0.3 (URL rules, status
parsing, error shapes it reads), fal's docs (queue, errors, request errors, fal CDN,
Platform ``/v1/models``) and the endpoints' own OpenAPI documents (fetched from the
Platform API in 2026; their input properties are copied into ``ENDPOINTS`` below), so the
adapter is tested against fal's rules and not against its own idea of them. All hosts are
one server here, as the adapter derives them from an overridden base URL: the queue and
REST APIs at the root, the Platform API under ``/v1``. Serve it with ``FakeFal().serve()``.

Auth: every API call needs ``Authorization: Key <key_id>:<key_secret>`` exactly; a key
    without ``:`` or a wrong one -> 401 ``{"detail": ...}``. ``locked`` (a reason text)
    answers creates and uploads with 403 ``User is locked. Reason: <locked>`` (status and
    result calls still work, as users report).

``POST /{endpoint}`` (body = the endpoint's input) -> 200 ``{"request_id", "gateway_request_id",
    "status_url", "response_url", "cancel_url"}``; the URLs name the app (``owner/alias``)
    only. Unknown endpoint -> 404 ``{"detail": "Application ... not found"}`` (message
    assumed); more than ``rpm`` creates a minute -> 429 (no Retry-After; fal documents
    none). Inputs are checked against the endpoint's schema, at run time by default (the
    request completes with an error and its result is 422 ``{"detail": [{"loc", "msg",
    "type", "url"}]}``), or at submit with ``validate_at="submit"``. Stricter than fal:
    an input the schema does not name is refused (``extra_forbidden``), so the adapter can
    send nothing the endpoint does not know. Image URLs must be files uploaded here (or
    data URIs); anything else fails with ``file_download_error``. Prompt markers:
    "#nsfw" -> 422 ``content_policy_violation``; "#fail" -> 500 ``internal_server_error``
    (a model error); "#timeout" -> 504 ``request_timeout`` (a request error).

``GET /{owner}/{alias}/requests/{id}/status[?logs=1]`` -> ``IN_QUEUE`` (with
    ``queue_position``) for ``queued_polls`` polls and while ``concurrency`` requests run,
    ``IN_PROGRESS`` for ``running_polls``, then ``COMPLETED`` (with ``error`` and
    ``error_type`` when the run failed). ``logs`` and ``metrics`` are always present, as
    the SDK reads them. A sub-path (``/{owner}/{alias}/v3/.../requests/{id}``) or another
    app -> 404.
``GET /{owner}/{alias}/requests/{id}`` -> the result ``{"video": {"url", "content_type",
    "file_name", "file_size"}, "seed"}``, or the run's error; before completion 400
    ``Request is still in progress``; ``result_ttl`` seconds after completion 404
    ``Request not found`` (messages assumed).
``PUT /{owner}/{alias}/requests/{id}/cancel`` -> 202 ``CANCELLATION_REQUESTED`` (a queued
    request then completes as ``client_cancelled``; a running one carries on, as an app may
    ignore the signal), 400 ``ALREADY_COMPLETED``, 404 ``NOT_FOUND``.

``POST /storage/upload/initiate?storage_type=`` ``{"file_name", "content_type"}`` ->
    ``{"upload_url", "file_url"}``; ``PUT`` the bytes to ``upload_url`` (signed; the
    ``Content-Type`` must be the one declared; the SDK sends its key header along, which is
    ignored) and the file is served at ``file_url``.
``GET /billing/user_balance`` -> a bare number (``balance``).
``GET /v1/models?endpoint_id=..[&expand=openapi-3.0][&cursor=]`` -> ``{"models": [
    {"endpoint_id", "metadata": {"display_name", "category", "status", ...}, "openapi"?}],
    "next_cursor", "has_more"}``, ``page_size`` per page; ids fal does not know (or in
    ``unlisted``) are left out; ``deprecated`` ids say so in ``metadata.status``.
``GET /cdn/{id}/output.mp4?exp=&sig=`` -> the video with ``Range`` support; a forged, expired
    (``url_ttl``) or revoked (``expire_urls()``) link -> 403.

State for assertions: ``creates`` (accepted bodies), ``requests``, ``uploads`` (token ->
``Upload``), ``count_creates()``, ``peak_running``, ``expire_urls()``, ``status_of()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from PIL import Image

from tests.fakeserver import FakeServer
from tests.fakeserver.media import tiny_mp4

__all__ = ["ENDPOINTS", "KEY", "Endpoint", "FakeFal", "FakeRequest", "Upload"]

KEY = "fal-key-id:fal-key-secret"
_SIGNING = b"fake-fal-cdn"
_ERRORS = "https://docs.fal.ai/errors/#"
_FORMAT = "'<key_id>:<key_secret>'"


# ---- endpoint schemas (input properties as fal's OpenAPI documents give them) -------


def _s(enum: Iterable[str] | None = None, **kw: Any) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "string", **kw}
    if enum is not None:
        prop["enum"] = list(enum)
    return prop


def _i(low: int | None = None, high: int | None = None, **kw: Any) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "integer", **kw}
    if low is not None:
        prop["minimum"] = low
    if high is not None:
        prop["maximum"] = high
    return prop


def _b(default: bool) -> dict[str, Any]:
    return {"type": "boolean", "default": default}


def _null(prop: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [prop, {"type": "null"}]}


def _image(**hints: Any) -> dict[str, Any]:
    prop = {"type": "string", "x-url": True}
    if hints:
        prop["x-fal"] = hints
    return prop


_KLING_IMAGE = {
    "max_aspect_ratio": 2.5, "min_width": 300, "min_height": 300,
    "max_file_size": 10485760, "min_aspect_ratio": 0.4, "timeout": 20,
}  # fmt: skip
_KLING_DURATIONS = [str(n) for n in range(3, 16)]
_KLING_COMMON = {
    "duration": _s(_KLING_DURATIONS, default="5"),
    "negative_prompt": _s(maxLength=2500, default="blur, distort, and low quality"),
    "cfg_scale": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
    "generate_audio": _b(True),
    "shot_type": _s(["customize", "intelligent"], default="customize"),
    "multi_prompt": _null({"type": "array"}),
}
_KLING_T2V = {
    "prompt": _null(_s(maxLength=2500)),
    "aspect_ratio": _s(["16:9", "9:16", "1:1"], default="16:9"),
    **_KLING_COMMON,
}
_KLING_I2V = {
    "prompt": _null(_s(maxLength=2500)),
    "start_image_url": _image(**_KLING_IMAGE),
    "end_image_url": _null(_image(**_KLING_IMAGE)),
    "elements": _null({"type": "array"}),
    **_KLING_COMMON,
}
_VEO = {
    "prompt": _s(),
    "duration": _s(["4s", "6s", "8s"], default="8s"),
    "negative_prompt": _s(),
    "resolution": _s(["720p", "1080p", "4k"], default="720p"),
    "generate_audio": _b(True),
    "seed": _null(_i()),
    "auto_fix": _b(True),
    "safety_tolerance": _s([str(n) for n in range(1, 7)], default="4"),
}
_VEO_ASPECT = _s(["auto", "16:9", "9:16"], default="auto")
_H3 = {
    "prompt": _s(minLength=1, maxLength=50000),
    "duration": _i(5, 15, default=5),
    "resolution": _s(["480P", "768P"], default="768P"),
    "seed": _null(_i()),
    "enable_safety_checker": _b(True),
    "sync_mode": _b(False),
    "prompt_expansion_mode": _s(default="balanced"),
}
_WAN = {
    "resolution": _s(["480p", "720p", "1080p"], default="1080p"),
    "aspect_ratio": _s(["adaptive", "16:9", "4:3", "1:1", "3:4", "9:16"], default="adaptive"),
    "duration": _null(_i(2, 30, default=5)),
    "audio": _b(True),
    "enable_prompt_expansion": _b(True),
    "enable_thinking": _b(False),
    "seed": _null(_i(0, 2147483647)),
    "enable_safety_checker": _b(True),
}
_SEEDANCE_DURATIONS = ["auto", *(str(n) for n in range(4, 31))]
_SEEDANCE = {
    "prompt": _s(),
    "duration": _s(_SEEDANCE_DURATIONS, default="auto"),
    "resolution": _s(["480p", "720p", "1080p"], default="720p"),
    "generate_audio": _b(True),
    "bitrate_mode": _s(["standard", "high"], default="standard"),
    "end_user_id": _null(_s()),
}
_KLING25 = {
    "prompt": _s(maxLength=2500),
    "duration": _s(["5", "10"], default="5"),
    "negative_prompt": _s(maxLength=2500),
    "cfg_scale": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
}


@dataclass(frozen=True)
class Endpoint:
    """One fal endpoint: its input properties, required names and listing facts.

    ``openapi_id`` is the id the OpenAPI document's paths use, where fal's differs
    (``fal-ai/seedance-2.5/...`` for ``bytedance/seedance-2.5/...``).
    """

    id: str
    title: str
    category: str
    properties: Mapping[str, Any]
    required: tuple[str, ...] = ()
    openapi_id: str | None = None


def _endpoints() -> dict[str, Endpoint]:
    def kling(tier: str) -> list[Endpoint]:
        name = f"KlingVideoV3{tier.title()}"
        base = f"fal-ai/kling-video/v3/{tier}"
        return [
            Endpoint(f"{base}/text-to-video", f"{name}TextToVideoInput", "text-to-video",
                     _KLING_T2V),
            Endpoint(f"{base}/image-to-video", f"{name}ImageToVideoInput", "image-to-video",
                     _KLING_I2V, ("start_image_url",)),
        ]  # fmt: skip

    listed = [
        *kling("pro"),
        *kling("standard"),
        Endpoint("fal-ai/veo3.1", "Veo31Input", "text-to-video",
                 {**_VEO, "aspect_ratio": _s(["16:9", "9:16"], default="16:9")}, ("prompt",)),
        Endpoint("fal-ai/veo3.1/image-to-video", "Veo31ImageToVideoInput", "image-to-video",
                 {**_VEO, "aspect_ratio": _VEO_ASPECT, "image_url": _image()},
                 ("prompt", "image_url")),
        Endpoint("fal-ai/veo3.1/first-last-frame-to-video", "Veo31FirstLastFrameToVideoInput",
                 "image-to-video",
                 {**_VEO, "aspect_ratio": _VEO_ASPECT, "first_frame_url": _image(),
                  "last_frame_url": _image()},
                 ("prompt", "first_frame_url", "last_frame_url")),
        Endpoint("minimax/h3-max/text-to-video", "MinimaxH3TurboTextToVideoInput", "text-to-video",
                 {**_H3, "aspect_ratio": _s(["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
                                            default="16:9")},
                 ("prompt", "prompt_expansion_mode"), "fal-ai/minimax-h3-turbo/text-to-video"),
        Endpoint("minimax/h3-max/image-to-video", "MinimaxH3TurboImageToVideoInput",
                 "image-to-video",
                 {**_H3, "image_url": _null(_image()), "end_image_url": _null(_image())},
                 ("prompt", "prompt_expansion_mode"), "fal-ai/minimax-h3-turbo/image-to-video"),
        Endpoint("alibaba/wan-3.0-prime/text-to-video", "Wan3PrimeTextToVideoInput",
                 "text-to-video", {**_WAN, "prompt": _s(minLength=1, maxLength=5000)},
                 ("prompt",), "fal-ai/wan-3-prime/text-to-video"),
        Endpoint("alibaba/wan-3.0-prime/image-to-video", "Wan3PrimeImageToVideoInput",
                 "image-to-video",
                 {**_WAN, "prompt": _null(_s(maxLength=5000)), "start_image_url": _image(),
                  "end_image_url": _null(_image())},
                 ("start_image_url",), "fal-ai/wan-3-prime/image-to-video"),
        Endpoint("bytedance/seedance-2.5/text-to-video", "Seedance25TextToVideoInput",
                 "text-to-video",
                 {**_SEEDANCE, "aspect_ratio": _s(["auto", "21:9", "16:9", "4:3", "1:1", "3:4",
                                                   "9:16"], default="auto")},
                 ("prompt",), "fal-ai/seedance-2.5/text-to-video"),
        Endpoint("bytedance/seedance-2.5/image-to-video", "Seedance25ImageToVideoInput",
                 "image-to-video",
                 {**_SEEDANCE, "aspect_ratio": {"const": "auto", "default": "auto",
                                                "type": "string"},
                  "image_url": _image(), "end_image_url": _null(_image())},
                 ("prompt", "image_url"), "fal-ai/seedance-2.5/image-to-video"),
        Endpoint("fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
                 "KlingVideoV25TurboProTextToVideoInput", "text-to-video",
                 {**_KLING25, "aspect_ratio": _s(["16:9", "9:16", "1:1"], default="16:9")},
                 ("prompt",)),
        Endpoint("fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
                 "KlingVideoV25TurboProImageToVideoInput", "image-to-video",
                 {**_KLING25, "image_url": _image()}, ("prompt", "image_url")),
    ]  # fmt: skip
    return {e.id: e for e in listed}


ENDPOINTS: dict[str, Endpoint] = _endpoints()


# ---- state ---------------------------------------------------------------------------


@dataclass
class Upload:
    file_name: str
    content_type: str
    data: bytes | None = None


@dataclass
class FakeRequest:
    """One queued request as the fake holds it; ``images`` are the decoded inputs."""

    id: str
    endpoint: str
    app: str
    body: dict[str, Any]
    created_at: float
    status: str = "IN_QUEUE"
    polls: int = 0
    running_polls: int = 0
    completed_at: float | None = None
    outcome: tuple[int, dict[str, Any]] | None = None  # (HTTP status, error body)
    error: str | None = None
    error_type: str | None = None
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancel_requested: bool = False
    video_url: str | None = None


class _Refused(Exception):
    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


def _detail(loc: Iterable[str], msg: str, kind: str, **ctx: Any) -> dict[str, Any]:
    item = {"loc": ["body", *loc], "msg": msg, "type": kind, "url": _ERRORS + kind}
    if ctx:
        item["ctx"] = ctx
    return item


def app_of(endpoint: str) -> str:
    parts = endpoint.split("/")
    return "/".join(parts[:3] if parts[0] in ("workflows", "comfy") else parts[:2])


@dataclass(eq=False)
class FakeFal:
    """The fake vendor's state and app; see the module docstring."""

    key: str = KEY
    video: bytes | None = field(default=None, repr=False)
    queued_polls: int = 1
    running_polls: int = 1
    concurrency: int | None = None
    rpm: int | None = None
    locked: str | None = None
    validate_at: str = "run"
    balance: float = 24.5
    page_size: int = 50
    result_ttl: float = 3600.0
    url_ttl: float = 3600.0
    foreign_urls: bool = False
    unlisted: Iterable[str] = ()
    deprecated: Iterable[str] = ()
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    requests: dict[str, FakeRequest] = field(default_factory=dict, init=False)
    uploads: dict[str, Upload] = field(default_factory=dict, init=False)
    peak_running: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._revoked_before = 0.0
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        app_routes = "/{owner}/{alias}/requests/{request_id}"
        self.app.add_routes(
            [
                web.post("/storage/upload/initiate", self._initiate),
                web.put("/upload/{token}", self._put_upload),
                web.get("/files/{token}/{name}", self._file),
                web.get("/billing/user_balance", self._balance),
                web.get("/v1/models", self._models),
                web.get("/cdn/{request_id}/output.mp4", self._cdn),
                web.get(app_routes + "/status", self._status),
                web.get(app_routes, self._result),
                web.put(app_routes + "/cancel", self._cancel),
                web.post("/{endpoint:.+}", self._submit),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def base_url(self) -> str:
        assert self.server is not None, "call serve() first"
        return self.server.url

    def count_creates(self) -> int:
        with self._lock:
            return len(self.creates)

    def expire_urls(self) -> None:
        with self._lock:
            self._revoked_before = self.clock() + 1e-6

    def status_of(self, request_id: str) -> str:
        with self._lock:
            return self.requests[request_id].status

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            public = request.path.startswith(("/upload/", "/files/", "/cdn/"))
            if not public:
                self._authorise(request)
            response: web.StreamResponse = await handler(request)
            return response
        except _Refused as exc:
            headers = {"x-fal-request-id": uuid.uuid4().hex, **exc.headers}
            if isinstance(exc.body, str):
                return web.Response(status=exc.status, text=exc.body, headers=headers)
            return web.json_response(exc.body, status=exc.status, headers=headers)

    def _authorise(self, request: web.Request) -> None:
        given = request.headers.get(hdrs.AUTHORIZATION, "")
        if request.path == "/v1/models" and not given:
            return  # the Platform API's model search takes no key (a key lifts limits)
        scheme, _, key = given.partition(" ")
        if scheme != "Key" or ":" not in key:
            raise _Refused(
                401,
                {"detail": f"Invalid Key Authorization header format. Expected {_FORMAT}."},
            )
        if not hmac.compare_digest(key, self.key):
            raise _Refused(401, {"detail": "No user found for Key ID and Secret"})

    def _check_locked(self) -> None:
        if self.locked:
            raise _Refused(403, {"detail": f"User is locked. Reason: {self.locked}"})

    def _find(self, request: web.Request) -> FakeRequest:
        found = self.requests.get(request.match_info["request_id"])
        app = f"{request.match_info['owner']}/{request.match_info['alias']}"
        if found is None or found.app != app:
            raise _Refused(404, {"detail": "Request not found"})
        return found

    def _urls(self, request: web.Request, found: FakeRequest) -> dict[str, str]:
        host = "https://queue.example.invalid" if self.foreign_urls else self._origin(request)
        base = f"{host}/{found.app}/requests/{found.id}"
        return {
            "response_url": base,
            "status_url": base + "/status",
            "cancel_url": base + "/cancel",
        }

    @staticmethod
    def _origin(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    # ---- queue ---------------------------------------------------------------------

    async def _submit(self, request: web.Request) -> web.Response:
        endpoint_id = request.match_info["endpoint"].strip("/")
        endpoint = ENDPOINTS.get(endpoint_id)
        if endpoint is None:
            raise _Refused(404, {"detail": f"Application '{endpoint_id}' not found"})
        self._check_locked()
        self._count_rpm()
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(
                422,
                {"detail": [_detail([], "Input should be a valid JSON object", "json_invalid")]},
            ) from None
        if not isinstance(body, dict):
            raise _Refused(
                422, {"detail": [_detail([], "Input should be an object", "model_type")]}
            )
        problems: list[dict[str, Any]] = []
        if self.validate_at == "submit":
            problems = self._problems(endpoint, body)
            if problems:
                raise _Refused(422, {"detail": problems})
        with self._lock:
            found = FakeRequest(
                id=str(uuid.uuid4()),
                endpoint=endpoint_id,
                app=app_of(endpoint_id),
                body=body,
                created_at=self.clock(),
            )
            self.requests[found.id] = found
            self.creates.append(body)
        return web.json_response(
            {"request_id": found.id, "gateway_request_id": found.id, **self._urls(request, found)}
        )

    def _count_rpm(self) -> None:
        if self.rpm is None:
            return
        now = self.clock()
        with self._lock:
            while self._recent and now - self._recent[0] >= 60:
                self._recent.popleft()
            if len(self._recent) >= self.rpm:
                raise _Refused(429, {"detail": "Rate limit exceeded. Please slow down."})
            self._recent.append(now)

    async def _status(self, request: web.Request) -> web.Response:
        with self._lock:
            found = self._find(request)
            found.polls += 1
            self._advance(found)
            view: dict[str, Any] = {
                "status": found.status,
                "request_id": found.id,
                "response_url": self._urls(request, found)["response_url"],
                "logs": [] if request.query.get("logs") in ("1", "true") else None,
                "metrics": {},
            }
            if found.status == "IN_QUEUE":
                ahead = [
                    r for r in self.requests.values()
                    if r.status == "IN_QUEUE" and r.created_at < found.created_at
                ]  # fmt: skip
                view["queue_position"] = len(ahead)
            if found.status == "COMPLETED":
                view["metrics"] = {"inference_time": 1.5}
                if found.error is not None:
                    view["error"], view["error_type"] = found.error, found.error_type
        return web.json_response(view)

    def _advance(self, found: FakeRequest) -> None:
        if found.status == "IN_QUEUE" and found.cancel_requested:
            self._complete(
                found, (499, {"detail": "Request was cancelled", "error_type": "client_cancelled"})
            )
        elif found.status == "IN_QUEUE" and found.polls > self.queued_polls:
            running = sum(1 for r in self.requests.values() if r.status == "IN_PROGRESS")
            if self.concurrency is None or running < self.concurrency:
                found.status = "IN_PROGRESS"
                self.peak_running = max(self.peak_running, running + 1)
        elif found.status == "IN_PROGRESS":
            found.running_polls += 1
            if found.running_polls > self.running_polls:
                self._complete(found, self._run(found))

    def _complete(self, found: FakeRequest, outcome: tuple[int, dict[str, Any]] | None) -> None:
        found.status, found.completed_at, found.outcome = "COMPLETED", self.clock(), outcome
        if outcome is None:
            return
        body = outcome[1]
        detail = body.get("detail")
        if isinstance(detail, list):
            found.error, found.error_type = detail[0]["msg"], detail[0]["type"]
        else:
            found.error, found.error_type = str(detail), body.get("error_type")

    def _run(self, found: FakeRequest) -> tuple[int, dict[str, Any]] | None:
        """What the model makes of the input: None for a video, else (status, error)."""
        endpoint = ENDPOINTS[found.endpoint]
        problems = self._problems(endpoint, found.body, found)
        if problems:
            return 422, {"detail": problems}
        prompt = str(found.body.get("prompt") or "")
        if "#nsfw" in prompt:
            msg = "The content could not be processed because it contained material flagged by a content checker."  # noqa: E501
            return 422, {"detail": [_detail(["prompt"], msg, "content_policy_violation")]}
        if "#fail" in prompt:
            msg = "Internal server error while generating the video."
            return 500, {"detail": [_detail([], msg, "internal_server_error")]}
        if "#timeout" in prompt:
            return 504, {"detail": "Request timed out", "error_type": "request_timeout"}
        return None

    async def _result(self, request: web.Request) -> web.Response:
        with self._lock:
            found = self._find(request)
            if found.status != "COMPLETED":
                raise _Refused(400, {"detail": "Request is still in progress"})
            assert found.completed_at is not None
            if self.clock() > found.completed_at + self.result_ttl:
                raise _Refused(404, {"detail": "Request not found"})
            if found.outcome is not None:
                status, body = found.outcome
                headers = {"X-Fal-Retryable": "false"}
                if isinstance(body.get("error_type"), str):
                    headers["X-Fal-Error-Type"] = body["error_type"]
                raise _Refused(status, body, headers)
            if found.video_url is None:
                found.video_url = self._sign(request, found.id)
            assert self.video is not None
            return web.json_response(
                {
                    "video": {
                        "url": found.video_url,
                        "content_type": "video/mp4",
                        "file_name": "output.mp4",
                        "file_size": len(self.video),
                    },
                    "seed": found.body.get("seed") or 42,
                }
            )

    async def _cancel(self, request: web.Request) -> web.Response:
        with self._lock:
            try:
                found = self._find(request)
            except _Refused:
                return web.json_response({"status": "NOT_FOUND"}, status=404)
            if found.status == "COMPLETED":
                return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
            found.cancel_requested = True
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

    # ---- input checks ----------------------------------------------------------------

    def _problems(
        self, endpoint: Endpoint, body: Mapping[str, Any], found: FakeRequest | None = None
    ) -> list[dict[str, Any]]:
        problems = [
            _detail([name], "Extra inputs are not permitted", "extra_forbidden")
            for name in body
            if name not in endpoint.properties
        ]
        for name in endpoint.required:
            if body.get(name) is None and not _nullable(endpoint.properties[name]):
                problems.append(_detail([name], "Field required", "missing"))
        for name, value in body.items():
            prop = endpoint.properties.get(name)
            if prop is None or (value is None and _nullable(prop)):
                continue
            problem = _check_value(name, _branch(prop), value)
            if problem is None and _branch(prop).get("x-url"):
                problem = self._check_image(name, _branch(prop), value, found)
            if problem is not None:
                problems.append(problem)
        return problems

    def _check_image(
        self, name: str, prop: Mapping[str, Any], url: Any, found: FakeRequest | None
    ) -> dict[str, Any] | None:
        data = self._fetch(url)
        if data is None:
            return _detail(
                [name], f"Failed to download the file from {url!s:.60}", "file_download_error"
            )
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height, fmt = img.width, img.height, (img.format or "").lower()
        except OSError:
            return _detail([name], "Failed to load the image", "image_load_error")
        hints = prop.get("x-fal") or {}
        if width < hints.get("min_width", 0) or height < hints.get("min_height", 0):
            return _detail([name], "Image too small", "image_too_small")
        if len(data) > hints.get("max_file_size", 10**12):
            return _detail([name], "File too large", "file_too_large")
        if found is not None:
            found.images[name] = {
                "format": fmt,
                "width": width,
                "height": height,
                "sha256": hashlib.sha256(data).hexdigest(),
                "via": "data_url" if str(url).startswith("data:") else "upload",
            }
        return None

    def _fetch(self, url: Any) -> bytes | None:
        if not isinstance(url, str):
            return None
        if url.startswith("data:"):
            match = re.fullmatch(r"data:image/[a-z]+;base64,(.*)", url, re.DOTALL)
            try:
                return base64.b64decode(match.group(1), validate=True) if match else None
            except binascii.Error:
                return None
        match = re.fullmatch(r"https?://[^/]+/files/([^/]+)/[^/?]+", url)
        upload = self.uploads.get(match.group(1)) if match else None
        return upload.data if upload is not None else None

    # ---- storage, balance, CDN -------------------------------------------------------

    async def _initiate(self, request: web.Request) -> web.Response:
        self._check_locked()
        if request.query.get("storage_type") not in ("gcs", "fal-cdn-v3", None):
            raise _Refused(422, {"detail": [_detail(["storage_type"], "bad", "enum")]})
        body = await request.json()
        name, kind = body.get("file_name"), body.get("content_type")
        if (
            not isinstance(name, str)
            or not isinstance(kind, str)
            or set(body)
            - {
                "file_name",
                "content_type",
            }
        ):
            raise _Refused(422, {"detail": [_detail([], "file_name and content_type", "missing")]})
        token = secrets.token_hex(8)
        with self._lock:
            self.uploads[token] = Upload(name, kind)
        signature = hmac.new(_SIGNING, token.encode(), hashlib.sha256).hexdigest()
        origin = self._origin(request)
        return web.json_response(
            {
                "upload_url": f"{origin}/upload/{token}?X-Goog-Signature={signature}",
                "file_url": f"{origin}/files/{token}/{name}",
            }
        )

    async def _put_upload(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        expected = hmac.new(_SIGNING, token.encode(), hashlib.sha256).hexdigest()
        upload = self.uploads.get(token)
        if upload is None or request.query.get("X-Goog-Signature") != expected:
            return web.Response(
                status=403, text="<Error><Code>SignatureDoesNotMatch</Code></Error>"
            )
        if request.content_type != upload.content_type:
            return web.Response(
                status=403, text="<Error><Code>SignatureDoesNotMatch</Code></Error>"
            )
        data = await request.read()
        with self._lock:
            upload.data = data
        return web.Response(status=200)

    async def _file(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["token"])
        if upload is None or upload.data is None:
            return web.Response(status=404)
        return web.Response(body=upload.data, content_type=upload.content_type)

    async def _balance(self, request: web.Request) -> web.Response:
        return web.Response(text=f"{self.balance}", content_type="application/json")

    def _sign(self, request: web.Request, request_id: str) -> str:
        expires = f"{self.clock() + self.url_ttl:.6f}"
        issued = f"{self.clock():.6f}"
        signature = hmac.new(
            _SIGNING, f"{request_id}\n{issued}\n{expires}".encode(), hashlib.sha256
        ).hexdigest()
        return (
            f"{self._origin(request)}/cdn/{request_id}/output.mp4"
            f"?iat={issued}&exp={expires}&sig={signature}"
        )

    async def _cdn(self, request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        issued, expires = request.query.get("iat", ""), request.query.get("exp", "")
        expected = hmac.new(
            _SIGNING, f"{request_id}\n{issued}\n{expires}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(request.query.get("sig", ""), expected):
            return web.Response(status=403, text="Forbidden")
        with self._lock:
            revoked = float(issued) < self._revoked_before
        if revoked or self.clock() >= float(expires):
            return web.Response(status=403, text="Forbidden")
        assert self.video is not None
        return _ranged(request, self.video)

    # ---- Platform API ----------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        wanted = [i for v in request.query.getall("endpoint_id", []) for i in v.split(",")]
        if not 1 <= len(wanted) <= 50:
            raise _Refused(400, {"detail": "Provide 1 to 50 endpoint ids"})
        known = [i for i in wanted if i in ENDPOINTS and i not in set(self.unlisted)]
        start = int(base64.b64decode(request.query.get("cursor", "MA==")).decode() or 0)
        page = known[start : start + self.page_size]
        expand = "openapi-3.0" in request.query.getall("expand", [])
        models = []
        for endpoint_id in page:
            endpoint = ENDPOINTS[endpoint_id]
            entry: dict[str, Any] = {
                "endpoint_id": endpoint_id,
                "metadata": {
                    "display_name": endpoint.title.removesuffix("Input"),
                    "category": endpoint.category,
                    "status": "deprecated" if endpoint_id in set(self.deprecated) else "active",
                    "model_url": f"https://fal.run/{endpoint_id}",
                    "kind": "inference",
                },
            }
            if expand:
                entry["openapi"] = _openapi(endpoint)
            models.append(entry)
        more = start + self.page_size < len(known)
        cursor = base64.b64encode(str(start + self.page_size).encode()).decode() if more else None
        return web.json_response({"models": models, "next_cursor": cursor, "has_more": more})


# ---- helpers ---------------------------------------------------------------------------


def _nullable(prop: Mapping[str, Any]) -> bool:
    return any(b.get("type") == "null" for b in prop.get("anyOf", ()))


def _branch(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    """The non-null branch of a nullable property."""
    for branch in prop.get("anyOf", ()):
        if branch.get("type") != "null":
            return dict(branch)
    return prop


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def _check_value(name: str, prop: Mapping[str, Any], value: Any) -> dict[str, Any] | None:
    kind = prop.get("type")
    wanted = _TYPES.get(str(kind))
    wrong_bool = isinstance(value, bool) and kind in ("integer", "number")
    if wanted is not None and (not isinstance(value, wanted) or wrong_bool):
        return _detail([name], f"Input should be a valid {kind}", f"{kind}_type")
    if "enum" in prop and value not in prop["enum"]:
        allowed = ", ".join(repr(v) for v in prop["enum"])
        return _detail([name], f"Input should be {allowed}", "enum", expected=allowed)
    if "const" in prop and value != prop["const"]:
        return _detail([name], f"Input should be {prop['const']!r}", "literal_error")
    if "minimum" in prop and value < prop["minimum"]:
        msg = f"Input should be greater than or equal to {prop['minimum']}"
        return _detail([name], msg, "greater_than_equal", ge=prop["minimum"])
    if "maximum" in prop and value > prop["maximum"]:
        msg = f"Input should be less than or equal to {prop['maximum']}"
        return _detail([name], msg, "less_than_equal", le=prop["maximum"])
    if isinstance(value, str) and len(value) > prop.get("maxLength", 10**9):
        msg = f"String should have at most {prop['maxLength']} characters"
        return _detail([name], msg, "string_too_long")
    if isinstance(value, str) and len(value) < prop.get("minLength", 0):
        return _detail([name], "String should have at least 1 character", "string_too_short")
    return None


def _public(prop: Any) -> Any:
    """A property as fal's OpenAPI document shows it (our ``x-url`` marker removed)."""
    if isinstance(prop, dict):
        return {k: _public(v) for k, v in prop.items() if k != "x-url"}
    if isinstance(prop, list):
        return [_public(v) for v in prop]
    return prop


def _openapi(endpoint: Endpoint) -> dict[str, Any]:
    """The endpoint's queue OpenAPI document, in the shape the Platform API returns."""
    path = f"/{endpoint.openapi_id or endpoint.id}"
    body_ref = {"$ref": f"#/components/schemas/{endpoint.title}"}
    status_ref = {"$ref": "#/components/schemas/QueueStatus"}
    return {
        "openapi": "3.0.4",
        "info": {"title": f"Queue OpenAPI for {endpoint.openapi_id or endpoint.id}"},
        "components": {
            "schemas": {
                "QueueStatus": {"type": "object", "properties": {"status": {"type": "string"}}},
                endpoint.title: {
                    "type": "object",
                    "properties": _public(dict(endpoint.properties)),
                    "required": list(endpoint.required),
                },
            }
        },
        "paths": {
            f"{path}/requests/{{request_id}}/status": {"get": {"responses": {}}},
            path: {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": body_ref}}},
                    "responses": {"200": {"content": {"application/json": {"schema": status_ref}}}},
                }
            },
        },
        "servers": [{"url": "https://queue.fal.run"}],
    }


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _ranged(request: web.Request, data: bytes) -> web.Response:
    """``data``, honouring one byte range the way a CDN does."""
    headers = {hdrs.ACCEPT_RANGES: "bytes"}
    size = len(data)
    match = _RANGE.fullmatch(request.headers.get(hdrs.RANGE, "").strip())
    if match is None or match.groups() == ("", ""):
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    first, last = match.groups()
    start = int(first) if first else max(0, size - int(last))
    end = min(int(last), size - 1) if first and last else size - 1
    if start >= size or start > end:
        headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end}/{size}"
    return web.Response(
        status=206, body=data[start : end + 1], content_type="video/mp4", headers=headers
    )
