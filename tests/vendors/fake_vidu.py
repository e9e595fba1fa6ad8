"""A fake Vidu (``/ent/v2``) on 127.0.0.1, speaking Vidu's documented protocol.

Facts: shared/vendors/vidu.md and Vidu's error-code page. The limits below are written
here from those facts, not read from Takestock's catalog, so the adapter's validation and
this fake check each other instead of sharing a mistake.

Auth: every ``/ent/v2/*`` request needs ``Authorization: Token <api_key>`` exactly;
    otherwise 401 ``Unauthorized``. ``/files/*`` is authorised by its signature.

Errors are ``{"code": <status>, "reason": <Code>, "message": str, "metadata":
    {"trace_id": str}}`` with Vidu's codes: 400 ``BadRequest``, ``FieldLacking``,
    ``FieldUnwanted``, ``FieldInvalid``, ``FieldItemCountOutOfRange``,
    ``ImageFormatInvalid``, ``PageSizeOutOfRange``, ``CreditInsufficient``,
    ``AuditSubmitIllegal``, ``ModelUnavailable``; 401 ``Unauthorized``; 404
    ``TaskNotFound``.

``POST /ent/v2/{text2video,img2video,start-end2video}``: the body must be a JSON object
    with ``Content-Type: application/json`` and at most 20 MB. Fields are checked per
    endpoint and model (``_MODELS``): unknown fields -> ``FieldUnwanted``; missing
    prompt (text) or images -> ``FieldLacking``; wrong image count ->
    ``FieldItemCountOutOfRange``; an image that is not a URL or a
    ``data:image/<png|jpeg|jpg|webp>;base64,`` string -> ``ImageFormatInvalid``;
    decoded over 10 MB -> ``PageSizeOutOfRange``; bad values -> ``FieldInvalid``.
    A model in ``retired_models`` -> ``ModelUnavailable``; a prompt with ``#audit`` ->
    ``AuditSubmitIllegal``; too few credits -> ``CreditInsufficient``. An accepted task
    costs ``_cost()`` credits at once and answers ``task_id``, ``state: "created"`` and
    the echoed fields (``payload`` included).

``GET /ent/v2/tasks/{id}/creations``: each call is a poll that moves the task on:
    ``queueing`` for ``queued_polls`` polls, ``processing`` for ``running_polls``,
    then final. ``off_peak`` tasks stay ``queueing``. A prompt with ``#policy`` fails
    with ``CreationPolicyViolation``, ``#fail`` with ``InternalServiceFailure``;
    failed and cancelled tasks report ``credits: 0`` (refunded). A success carries
    ``creations[0].url`` (and ``cover_url``, ``watermarked_url``) signed afresh at
    each poll and valid ``url_ttl`` seconds.

``POST /ent/v2/tasks/{id}/cancel`` with ``{"id": ...}``: ``{}`` for a task not yet
    processing (it then reports ``failed`` / ``UserCancelled``); otherwise 400
    ``BadRequest`` "task state is ..., can not cancel".

``GET /ent/v2/credits[?show_detail=true]``: ``remains`` (one metered pack) and, with
    detail, ``packages``.

``GET /files/{id}.mp4?sig=&expires=``: the video with Range support (see
    tests/fakeserver/generic.py); a forged, expired or revoked link -> 403.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web

from tests.fakeserver.faults import Handler
from tests.fakeserver.generic import _ranged
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4

__all__ = ["FakeViduTask", "ViduFake"]

MAX_BODY = 20 * 1024 * 1024
MAX_IMAGE = 10 * 1024 * 1024
SEED_MAX = 2147483647
PAYLOAD_MAX = 1048576
_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|webp);base64,(.+)", re.DOTALL)

_ENDPOINTS = {"text2video": "text", "img2video": "image", "start-end2video": "first_last"}
_IMAGES = {"text": 0, "image": 1, "first_last": 2}
_COMMON = {"model", "prompt", "duration", "seed", "resolution", "movement_amplitude", "bgm",
           "payload", "callback_url", "off_peak", "watermark", "wm_position", "wm_url",
           "meta_data"}  # fmt: skip
_FIELDS = {
    "text": _COMMON | {"aspect_ratio", "style", "audio"},
    "image": _COMMON | {"images", "audio", "voice_id", "is_rec"},
    "first_last": _COMMON | {"images", "is_rec", "audio"},
}
_Q3_ASPECTS = {"16:9", "9:16", "1:1", "3:4", "4:3"}


@dataclass(frozen=True)
class _Model:
    endpoints: frozenset[str]
    durations: frozenset[int]
    resolutions: frozenset[str]
    aspects: frozenset[str] = frozenset({"16:9", "9:16", "1:1"})
    start_end_max: int | None = None  # start-end durations capped (q2: 8 s)
    eight_second: frozenset[str] | None = None  # resolutions allowed at 8 s


def _m(endpoints: str, durations: Iterable[int], resolutions: str, **kw: Any) -> _Model:
    return _Model(
        frozenset(endpoints.split()), frozenset(durations), frozenset(resolutions.split()), **kw
    )


_ALL = "text2video img2video start-end2video"
_IMG = "img2video start-end2video"
_MODELS = {
    "viduq3-pro": _m(_ALL, range(1, 17), "540p 720p 1080p", aspects=frozenset(_Q3_ASPECTS)),
    "viduq3-turbo": _m(_ALL, range(1, 17), "540p 720p 1080p", aspects=frozenset(_Q3_ASPECTS)),
    "viduq2": _m("text2video", range(1, 11), "540p 720p 1080p", aspects=frozenset(_Q3_ASPECTS)),
    "viduq2-pro": _m(_IMG, range(1, 11), "540p 720p 1080p", start_end_max=8),
    "viduq2-turbo": _m(_IMG, range(1, 11), "540p 720p 1080p", start_end_max=8),
    "viduq2-pro-fast": _m(_IMG, range(1, 11), "720p 1080p", start_end_max=8),
    "viduq1": _m(_ALL, [5], "1080p"),
    "viduq1-classic": _m(_IMG, [5], "1080p"),
    "vidu2.0": _m(_IMG, [4, 8], "360p 720p 1080p", eight_second=frozenset({"720p"})),
    "vidu1.5": _m(_ALL, [4, 8], "360p 720p 1080p", eight_second=frozenset({"720p"})),
}


class ViduApiError(Exception):
    """Raised by handlers; the middleware answers with Vidu's error JSON."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    """Vidu's error JSON, for scripted faults in tests too."""
    return {
        "code": status,
        "reason": reason,
        "message": message,
        "metadata": {"trace_id": secrets.token_hex(16)},
    }


def _cost(model: str, duration: int, resolution: str) -> int:
    """A made-up but deterministic credit price (tests compare what the job recorded)."""
    per_second = {"360p": 1, "540p": 2, "720p": 4, "1080p": 8}.get(resolution, 4)
    return 5 + per_second * duration + (5 if model.startswith("viduq3") else 0)


@dataclass
class FakeViduTask:
    id: str
    kind: str
    body: dict[str, Any]
    cost: int
    created_at: float
    polls: int = 0
    cancelled: bool = False
    outcome: str = "success"
    err_code: str = ""


@dataclass
class _SignedUrl:
    task_id: str
    expires: int
    revoked: bool = False


@dataclass(eq=False)
class ViduFake:
    """The fake's state and its aiohttp app (see the module docstring).

    Attributes:
        creates: (endpoint, body) of every accepted create, in order.
        tasks: tasks by id.
        credits: the balance; tests may set it.
    """

    api_key: str = "vidu-test-key"
    credits: float = 10_000.0
    video: bytes | None = field(default=None, repr=False)
    retired_models: Iterable[str] = ()
    queued_polls: int = 1
    running_polls: int = 1
    url_ttl: float = 3600.0
    clock: Callable[[], float] = time.time

    creates: list[tuple[str, dict[str, Any]]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeViduTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retired = frozenset(self.retired_models)
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._urls: dict[str, _SignedUrl] = {}
        self._next_id = 880_000_000_000_000_001
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        self.app.add_routes(
            [
                *(web.post(f"/ent/v2/{name}", self._create) for name in _ENDPOINTS),
                web.get("/ent/v2/tasks/{task_id}/creations", self._creations),
                web.post("/ent/v2/tasks/{task_id}/cancel", self._cancel),
                web.get("/ent/v2/credits", self._credits),
                web.get("/files/{task_id}.mp4", self._file),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        assert self.server is not None, "call serve() first"
        return self.server.url

    def count_creates(self, payload: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, b in self.creates if payload in (None, b.get("payload")))

    def expire_urls(self) -> None:
        with self._lock:
            for signed in self._urls.values():
                signed.revoked = True

    def state_of(self, task_id: str) -> str:
        with self._lock:
            return self._state(self.tasks[task_id])

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/ent/"):
                expected = f"Token {self.api_key}"
                if request.headers.get(hdrs.AUTHORIZATION) != expected:
                    raise ViduApiError(401, "Unauthorized", "unauthorized")
            return await handler(request)
        except ViduApiError as exc:
            return web.json_response(
                error_body(exc.status, exc.reason, exc.message), status=exc.status
            )

    def _task(self, request: web.Request) -> FakeViduTask:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None:
            raise ViduApiError(404, "TaskNotFound", "task not found")
        return task

    def _state(self, task: FakeViduTask) -> str:
        if task.cancelled:
            return "failed"
        if task.body.get("off_peak"):
            return "queueing"
        if task.polls == 0:
            return "created"
        if task.polls <= self.queued_polls:
            return "queueing"
        if task.polls <= self.queued_polls + self.running_polls:
            return "processing"
        return task.outcome

    # ---- create --------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        kind = _ENDPOINTS[request.path.rsplit("/", 1)[1]]
        raw = await request.read()
        if len(raw) > MAX_BODY:
            raise ViduApiError(400, "BadRequest", "request body exceeds 20MB")
        if request.content_type != "application/json":
            raise ViduApiError(400, "BadRequest", "bad request")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ViduApiError(400, "BadRequest", "bad request")
        self._check_fields(kind, body)
        model = body["model"]
        if model in self._retired:
            raise ViduApiError(400, "ModelUnavailable", "model unavailable")
        if "#audit" in body.get("prompt", ""):
            raise ViduApiError(400, "AuditSubmitIllegal", "submit is illegal")
        duration = body.get("duration", 5 if "q" in model else 4)
        resolution = body.get("resolution", "720p")
        cost = _cost(model, duration, resolution)
        with self._lock:
            if self.credits < cost:
                raise ViduApiError(400, "CreditInsufficient", "insufficient credits")
            self.credits -= cost
            task = FakeViduTask(str(self._next_id), kind, body, cost, self.clock())
            self._next_id += 1
            prompt = body.get("prompt", "")
            if "#policy" in prompt:
                task.outcome, task.err_code = "failed", "CreationPolicyViolation"
            elif "#fail" in prompt:
                task.outcome, task.err_code = "failed", "InternalServiceFailure"
            self.tasks[task.id] = task
            self.creates.append((request.path.rsplit("/", 1)[1], body))
        answer = {k: v for k, v in body.items() if k != "images"}
        answer.update(
            task_id=task.id,
            state="created",
            duration=duration,
            resolution=resolution,
            seed=body.get("seed") or 123456,
            movement_amplitude=body.get("movement_amplitude", "auto"),
            payload=body.get("payload", ""),
            off_peak=bool(body.get("off_peak")),
            credits=cost,
            watermark=bool(body.get("watermark")),
            created_at="2026-11-25T10:00:00.000000Z",
        )
        if "images" in body:
            answer["images"] = [f"https://cdn.vidu.test/in/{i}.png" for i in range(2)][
                : len(body["images"])
            ]
        return web.json_response(answer)

    def _check_fields(self, kind: str, body: dict[str, Any]) -> None:
        unwanted = sorted(set(body) - _FIELDS[kind])
        if unwanted:
            raise ViduApiError(400, "FieldUnwanted", f"unwanted field: {', '.join(unwanted)}")
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise ViduApiError(400, "FieldLacking", "field is missing or empty: model")
        endpoint = next(name for name, k in _ENDPOINTS.items() if k == kind)
        model = _MODELS.get(model_id)
        if model is None or endpoint not in model.endpoints:
            raise ViduApiError(400, "FieldInvalid", "invalid field: model")
        prompt = body.get("prompt")
        if prompt is not None and (not isinstance(prompt, str) or len(prompt) > 5000):
            raise ViduApiError(400, "FieldInvalid", "invalid field: prompt")
        if kind == "text" and not (prompt or "").strip():
            raise ViduApiError(400, "FieldLacking", "field is missing or empty: prompt")
        self._check_values(kind, model, body)
        self._check_images(kind, body)

    def _check_values(self, kind: str, model: _Model, body: dict[str, Any]) -> None:
        def invalid(name: str) -> ViduApiError:
            return ViduApiError(400, "FieldInvalid", f"invalid field: {name}")

        duration = body.get("duration")
        if duration is not None:
            if isinstance(duration, bool) or not isinstance(duration, int):
                raise invalid("duration")
            cap = model.start_end_max if kind == "first_last" else None
            if duration not in model.durations or (cap is not None and duration > cap):
                raise invalid("duration")
        resolution = body.get("resolution")
        if resolution is not None:
            if resolution not in model.resolutions:
                raise invalid("resolution")
            if duration == 8 and model.eight_second and resolution not in model.eight_second:
                raise invalid("resolution")
        aspect = body.get("aspect_ratio")
        if aspect is not None and aspect not in model.aspects:
            raise invalid("aspect_ratio")
        seed = body.get("seed")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX
        ):
            raise invalid("seed")
        amplitude = body.get("movement_amplitude")
        if amplitude is not None and amplitude not in ("auto", "small", "medium", "large"):
            raise invalid("movement_amplitude")
        if body.get("style") not in (None, "general", "anime"):
            raise invalid("style")
        for name in ("bgm", "audio", "off_peak", "watermark", "is_rec"):
            if name in body and not isinstance(body[name], bool):
                raise invalid(name)
        payload = body.get("payload")
        if payload is not None and (not isinstance(payload, str) or len(payload) > PAYLOAD_MAX):
            raise invalid("payload")

    def _check_images(self, kind: str, body: dict[str, Any]) -> None:
        wanted = _IMAGES[kind]
        images = body.get("images")
        if wanted == 0:
            return
        if not images:
            raise ViduApiError(400, "FieldLacking", "field is missing or empty: images")
        if not isinstance(images, list) or len(images) != wanted:
            raise ViduApiError(
                400, "FieldItemCountOutOfRange", "field item count out of range: images"
            )
        for image in images:
            if not isinstance(image, str):
                raise ViduApiError(400, "ImageFormatInvalid", "invalid image format")
            if image.startswith(("https://", "http://")):
                continue
            match = _DATA_URL.fullmatch(image)
            if match is None:
                raise ViduApiError(400, "ImageFormatInvalid", "invalid image format")
            try:
                data = base64.b64decode(match.group(2), validate=True)
            except (binascii.Error, ValueError):
                raise ViduApiError(400, "ImageFormatInvalid", "invalid image format") from None
            if len(data) > MAX_IMAGE:
                raise ViduApiError(400, "PageSizeOutOfRange", "page size out of range")

    # ---- poll, cancel, credits, files ----------------------------------------------

    async def _creations(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            task.polls += 1
            state = self._state(task)
            view: dict[str, Any] = {
                "id": task.id,
                "state": state,
                "err_code": "",
                "credits": task.cost,
                "payload": task.body.get("payload", ""),
                "bgm": bool(task.body.get("bgm")),
                "off_peak": bool(task.body.get("off_peak")),
                "creations": [],
            }
            if state == "failed":
                view["err_code"] = "UserCancelled" if task.cancelled else task.err_code
                view["credits"] = 0
            if state == "success":
                view["creations"] = [
                    {
                        "id": f"c_{task.id}",
                        "url": self._sign(request, task.id),
                        "cover_url": f"{request.scheme}://{request.host}/covers/{task.id}.jpg",
                        "watermarked_url": self._sign(request, task.id, "wm"),
                    }
                ]
            return web.json_response(view)

    def _sign(self, request: web.Request, task_id: str, kind: str = "") -> str:
        token = kind + secrets.token_hex(8)
        expires = math.floor(self.clock() + self.url_ttl)
        self._urls[token] = _SignedUrl(task_id, expires)
        return (
            f"{request.scheme}://{request.host}/files/{task_id}.mp4?sig={token}&expires={expires}"
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        with self._lock:
            task = self._task(request)
            if not isinstance(body, dict) or body.get("id") != task.id:
                raise ViduApiError(400, "FieldInvalid", "invalid field: id")
            state = self._state(task)
            if state not in ("created", "queueing"):
                raise ViduApiError(400, "BadRequest", f"task state is {state}, can not cancel")
            task.cancelled = True
            self.credits += task.cost
        return web.json_response({})

    async def _credits(self, request: web.Request) -> web.Response:
        with self._lock:
            running = sum(1 for t in self.tasks.values() if self._state(t) == "processing")
            queued = sum(1 for t in self.tasks.values() if self._state(t) == "queueing")
            answer: dict[str, Any] = {
                "remains": [
                    {
                        "type": "metered",
                        "credit_remain": self.credits,
                        "concurrency_limit": 5,
                        "current_concurrency": running,
                        "queue_count": queued,
                    }
                ]
            }
            if request.query.get("show_detail") == "true":
                answer["packages"] = [
                    {
                        "id": "pkg_1",
                        "name": "Metered pack",
                        "type": "metered",
                        "concurrency": 5,
                        "credit_amount": 20_000,
                        "credit_remain": self.credits,
                        "created_at": "2026-11-01T00:00:00Z",
                        "purchase_at": "2026-11-01T00:00:00Z",
                        "valid_from": "2026-11-01T00:00:00Z",
                        "valid_to": "2027-11-01T00:00:00Z",
                    }
                ]
        return web.json_response(answer)

    async def _file(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        with self._lock:
            signed = self._urls.get(request.query.get("sig", ""))
            if (
                signed is None
                or signed.task_id != task_id
                or request.query.get("expires") != str(signed.expires)
                or signed.revoked
                or self.clock() >= signed.expires
            ):
                return web.Response(status=403, text="AccessDenied: Request has expired")
        assert self.video is not None
        return _ranged(request, self.video)
