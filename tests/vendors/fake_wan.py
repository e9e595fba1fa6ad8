"""A fake DashScope (Alibaba Model Studio) video service for the Wan adapter's tests.

It speaks the protocol of ``shared/vendors/wan-dashscope.md`` on 127.0.0.1, checking what
the real service checks, and is itself checked against the official ``dashscope`` SDK in
``tests/vendors/test_wan_sdk.py`` so that it cannot drift from the vendor. Serve it with
``FakeWan(...).serve()``; the API lives under ``<url>/api/v1`` as on the real hosts.

``POST /api/v1/services/aigc/video-generation/video-synthesis`` (t2v, i2v, Wan 2.7,
HappyHorse) and ``POST /api/v1/services/aigc/image2video/video-synthesis`` (kf2v models)
    Headers: ``Authorization: Bearer <api_key>`` (else 401 ``InvalidApiKey``),
    ``X-DashScope-Async: enable`` (else 403 ``AccessDenied``: "current user api does not
    support synchronous calls"), a JSON content type.
    Body ``{"model", "input": {...}, "parameters": {...}}``; unknown fields are ignored
    (the SDK sends ``input.extend_prompt``). Checked like the vendor: the model exists
    (404 ``ModelNotFound``) and belongs to this endpoint (400 ``InvalidParameter`` "url
    error"), ``input`` present (400 ``BadRequest.EmptyInput``), the prompt for t2v, the
    image fields per family (``img_url``; ``first_frame_url``/``last_frame_url``;
    ``media[{type, url}]``), ``size`` or ``resolution`` from the model's tiers,
    ``duration`` from its list, ``seed`` in 0..2147483647, booleans where booleans go.
    Images: ``data:<mime>;base64,`` (decoded: format, pixel range, no PNG alpha),
    ``http(s)://`` (taken on trust), ``oss://`` only with ``X-DashScope-OssResourceResolve:
    enable``. All 400 ``InvalidParameter`` / ``InvalidURL`` with the field named.
    A prompt holding "#reject" -> 400 ``DataInspectionFailed``; ``arrears=True`` -> 400
    ``Arrearage``. Success: ``{"request_id", "output": {"task_id", "task_status":
    "PENDING"}}``.

``GET /api/v1/tasks/{id}`` -> ``{"request_id", "output": {"task_id", "task_status", ...},
    "usage"?}``. PENDING on poll 1, RUNNING on polls 2-3 (``queued_polls``,
    ``running_polls``), then SUCCEEDED with ``video_url`` (the same signed URL on every
    poll, valid ``url_ttl`` seconds), ``orig_prompt``, ``actual_prompt`` and ``usage``;
    or FAILED with ``code``/``message`` ("#nsfw": ``DataInspectionFailed``, "#fail":
    ``InternalError.Algo``). An unknown id answers 200 with ``UNKNOWN``.

``POST /api/v1/tasks/{id}/cancel`` -> ``{"request_id"}`` while PENDING (the task becomes
    CANCELED); otherwise 400 ``UnsupportedOperation`` (the wording is ours: the real
    message was not found).

``GET /results/{id}.mp4?Expires=&OSSAccessKeyId=&Signature=`` -> the video, OSS-style:
    ``Accept-Ranges``, 206 for ``Range: bytes=N-``, 403 with an XML ``AccessDenied`` body
    when expired or forged.

State for assertions: ``creates`` (accepted bodies), ``create_headers``, ``tasks``,
``count_creates()``, ``expire_urls()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from PIL import Image, UnidentifiedImageError

from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4

__all__ = ["MODELS", "FakeWan", "WanTask"]

API = "/api/v1"
T2V_PATH = f"{API}/services/aigc/video-generation/video-synthesis"
KF2V_PATH = f"{API}/services/aigc/image2video/video-synthesis"
SEED_MAX = 2_147_483_647

_TIERS = {
    "480P": {"832*480", "480*832", "624*624"},
    "720P": {"1280*720", "720*1280", "960*960", "1088*832", "832*1088"},
    "1080P": {"1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632"},
}
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/bmp": "BMP", "image/webp": "WEBP"}
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class _Model:
    kind: str  # t2v | i2v | kf2v | media
    tiers: tuple[str, ...]
    durations: tuple[int, ...]
    sides: tuple[int, int] = (360, 2000)
    ratios: tuple[str, ...] = ()
    first_last: bool = False
    #: reference images it takes (Wan 3.0: 10); its frames are optional then
    refs: int = 0
    #: refuses negative_prompt and prompt_extend (Wan 3.0)
    bare: bool = False

    @property
    def path(self) -> str:
        return KF2V_PATH if self.kind == "kf2v" else T2V_PATH


def _span(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
MODELS: dict[str, _Model] = {
    "wan3.0-video": _Model(
        "media",
        ("480P", "720P", "1080P"),
        _span(2, 30),
        ratios=_RATIOS,
        first_last=True,
        refs=10,
        bare=True,
    ),
    "wan3.0-video-prime": _Model(
        "media",
        ("480P", "720P", "1080P"),
        _span(2, 30),
        ratios=_RATIOS,
        first_last=True,
        refs=10,
        bare=True,
    ),
    "happyhorse-1.1-t2v": _Model("media", ("720P", "1080P"), _span(3, 15), ratios=_RATIOS),
    "happyhorse-1.1-i2v": _Model("media", ("720P", "1080P"), _span(3, 15), (300, 8000)),
    "wan2.7-t2v": _Model("media", ("720P", "1080P"), _span(2, 15), ratios=_RATIOS),
    "wan2.7-i2v": _Model("media", ("720P", "1080P"), _span(2, 15), (240, 8000), first_last=True),
    "happyhorse-1.0-t2v": _Model("media", ("720P", "1080P"), _span(3, 15), ratios=_RATIOS),
    "happyhorse-1.0-i2v": _Model("media", ("720P", "1080P"), _span(3, 15), (300, 8000)),
    "wan2.6-t2v": _Model("t2v", ("720P", "1080P"), _span(2, 15)),
    "wan2.6-i2v-flash": _Model("i2v", ("720P", "1080P"), _span(2, 15)),
    "wan2.6-i2v": _Model("i2v", ("720P", "1080P"), _span(2, 15)),
    "wan2.5-t2v-preview": _Model("t2v", ("480P", "720P", "1080P"), (5, 10)),
    "wan2.5-i2v-preview": _Model("i2v", ("480P", "720P", "1080P"), (5, 10)),
    "wan2.2-t2v-plus": _Model("t2v", ("480P", "1080P"), (5,)),
    "wan2.2-i2v-flash": _Model("i2v", ("480P", "720P", "1080P"), (5,)),
    "wan2.2-i2v-plus": _Model("i2v", ("480P", "1080P"), (5,)),
    "wan2.2-kf2v-flash": _Model("kf2v", ("480P", "720P", "1080P"), (5,)),
    "wanx2.1-kf2v-plus": _Model("kf2v", ("720P",), (5,)),
    "wanx2.1-t2v-turbo": _Model("t2v", ("480P", "720P"), (3, 4, 5)),
    "wanx2.1-t2v-plus": _Model("t2v", ("720P",), (5,)),
    "wanx2.1-i2v-turbo": _Model("i2v", ("480P", "720P"), (3, 4, 5)),
    "wanx2.1-i2v-plus": _Model("i2v", ("720P",), (5,)),
}


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad(message: str, code: str = "InvalidParameter") -> _ApiError:
    return _ApiError(400, code, message)


@dataclass
class WanTask:
    """One task as the fake holds it."""

    id: str
    model: str
    body: dict[str, Any]
    created: float
    outcome: str = "SUCCEEDED"
    error: tuple[str, str] | None = None
    polls: int = 0
    cancelled: bool = False
    video_url: str | None = None
    expires: int = 0


@dataclass(eq=False)
class FakeWan:
    """The fake service's state and its aiohttp ``app``; see the module docstring."""

    api_key: str = "sk-test"
    video: bytes = field(default_factory=tiny_mp4, repr=False)
    queued_polls: int = 1
    running_polls: int = 2
    url_ttl: float = 24 * 3600.0
    arrears: bool = False
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    create_headers: list[dict[str, str]] = field(default_factory=list, init=False)
    tasks: dict[str, WanTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked = False
        self.app = web.Application(middlewares=[self._errors])
        self.app.add_routes(
            [
                web.post(T2V_PATH, self._create),
                web.post(KF2V_PATH, self._create),
                web.get(API + "/tasks/{task_id}", self._get),
                web.post(API + "/tasks/{task_id}/cancel", self._cancel),
                web.get("/results/{task_id}.mp4", self._result),
            ]
        )

    # ---- for tests -------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        """The server root; the API base URL is ``url + "/api/v1"``."""
        assert self.server is not None, "call serve() first"
        return self.server.url

    @property
    def api_base(self) -> str:
        return self.url + API

    def count_creates(self) -> int:
        with self._lock:
            return len(self.creates)

    def expire_urls(self) -> None:
        with self._lock:
            self._revoked = True

    def status_of(self, task_id: str) -> str:
        with self._lock:
            return self._status(self.tasks[task_id])

    # ---- plumbing ----------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            if request.path.startswith(API):
                self._authorise(request)
            response: web.StreamResponse = await handler(request)
            return response
        except _ApiError as exc:
            body = {"request_id": str(uuid.uuid4()), "code": exc.code, "message": exc.message}
            return web.json_response(body, status=exc.status)

    def _authorise(self, request: web.Request) -> None:
        if request.headers.get(hdrs.AUTHORIZATION) != f"Bearer {self.api_key}":
            raise _ApiError(401, "InvalidApiKey", "Invalid API-key provided.")

    def _status(self, task: WanTask) -> str:
        if task.cancelled:
            return "CANCELED"
        if task.polls <= self.queued_polls:
            return "PENDING"
        if task.polls <= self.queued_polls + self.running_polls:
            return "RUNNING"
        return task.outcome

    # ---- create --------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        if request.headers.get("X-DashScope-Async") != "enable":
            raise _ApiError(
                403, "AccessDenied", "current user api does not support synchronous calls"
            )
        if not request.headers.get(hdrs.CONTENT_TYPE, "").startswith("application/json"):
            raise _bad("Content-Type must be application/json")
        try:
            body = await request.json()
        except ValueError:
            raise _bad("the request body is not valid JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            raise _bad('Required parameter "model" missing from request.', "BadRequest.EmptyModel")
        spec = MODELS.get(body["model"])
        if spec is None:
            raise _ApiError(404, "ModelNotFound", f"Model not exist: {body['model']}")
        if spec.path != request.path:
            raise _bad("url error, please check url!")
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            raise _bad("Required input parameter missing from request.", "BadRequest.EmptyInput")
        params = body.get("parameters") or {}
        if not isinstance(params, dict):
            raise _bad("parameters must be an object")
        oss = request.headers.get("X-DashScope-OssResourceResolve") == "enable"
        self._check_input(spec, inputs, oss)
        self._check_params(spec, params)
        prompt = inputs.get("prompt") or ""
        if "#reject" in prompt:
            raise _bad("Input data may contain inappropriate content.", "DataInspectionFailed")
        if self.arrears:
            raise _bad(
                "Access denied, please make sure your account is in good standing.", "Arrearage"
            )
        task = WanTask(str(uuid.uuid4()), body["model"], body, self.clock())
        if "#nsfw" in prompt:
            task.outcome = "FAILED"
            task.error = ("DataInspectionFailed", "Output data may contain inappropriate content.")
        elif "#fail" in prompt:
            task.outcome = "FAILED"
            task.error = (
                "InternalError.Algo",
                "An internal error has occured during execution, please try again later.",
            )
        with self._lock:
            self.tasks[task.id] = task
            self.creates.append(body)
            self.create_headers.append(dict(request.headers))
        return web.json_response(
            {
                "request_id": str(uuid.uuid4()),
                "output": {"task_id": task.id, "task_status": "PENDING"},
            }
        )

    def _check_input(self, spec: _Model, inputs: dict[str, Any], oss: bool) -> None:
        prompt = inputs.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise _bad("input.prompt must be a string")
        wants_image = spec.kind in ("i2v", "kf2v") or (spec.kind == "media" and not spec.ratios)
        if not wants_image and not (prompt or "").strip():
            raise _bad("Field required: input.prompt")
        if spec.kind == "i2v":
            self._check_image("input.img_url", inputs.get("img_url"), spec, oss)
        elif spec.kind == "kf2v":
            self._check_image("input.first_frame_url", inputs.get("first_frame_url"), spec, oss)
            if inputs.get("last_frame_url") is not None:
                self._check_image("input.last_frame_url", inputs["last_frame_url"], spec, oss)
        elif wants_image or inputs.get("media") is not None:
            self._check_media(inputs.get("media"), spec, oss)
        if spec.bare and "negative_prompt" in inputs:
            raise _bad("input.negative_prompt is not supported by this model")

    def _check_media(self, media: Any, spec: _Model, oss: bool) -> None:
        if not isinstance(media, list) or not media:
            raise _bad("Field required: input.media")
        kinds = [m.get("type") if isinstance(m, dict) else None for m in media]
        if spec.refs and "reference_image" in kinds:
            if set(kinds) != {"reference_image"} or len(kinds) > spec.refs:
                raise _bad(f"input.media: at most {spec.refs} reference_image, without frames")
            for i, item in enumerate(media):
                self._check_image(f"input.media[{i}].url", item.get("url"), spec, oss)
            return
        allowed = ["first_frame", "last_frame"] if spec.first_last else ["first_frame"]
        if (
            kinds[0] != "first_frame"
            or any(k not in allowed for k in kinds)
            or len(set(kinds)) != len(kinds)
        ):
            raise _bad(f"input.media types {kinds} are not supported by this model")
        for i, item in enumerate(media):
            self._check_image(f"input.media[{i}].url", item.get("url"), spec, oss)

    def _check_image(self, name: str, url: Any, spec: _Model, oss: bool) -> None:
        if not isinstance(url, str) or not url:
            raise _bad(f"Field required: {name}")
        if url.startswith(("http://", "https://")):
            return
        if url.startswith("oss://"):
            if not oss:
                raise _bad(f"{name}: oss:// needs X-DashScope-OssResourceResolve", "InvalidURL")
            return
        head, sep, payload = url.partition(",")
        match = re.fullmatch(r"data:([\w/+.-]+);base64", head)
        if not sep or match is None or match.group(1) not in _FORMATS:
            raise _bad(f"{name}: not a public URL, an oss:// URL or a base64 image", "InvalidURL")
        try:
            data = base64.b64decode(payload, validate=True)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                fmt, size, mode, info = img.format, img.size, img.mode, img.info
        except (binascii.Error, UnidentifiedImageError, OSError) as exc:
            raise _bad(f"{name}: the image cannot be decoded ({exc})") from None
        if fmt != _FORMATS[match.group(1)]:
            raise _bad(f"{name}: declared {match.group(1)} but holds {fmt}")
        low, high = spec.sides
        if not all(low <= side <= high for side in size):
            raise _bad(f"{name}: image size {size[0]}x{size[1]} is outside [{low}, {high}]")
        if fmt == "PNG" and (mode in ("RGBA", "LA", "PA") or "transparency" in info):
            raise _bad(f"{name}: PNG images with an alpha channel are not supported")

    def _check_params(self, spec: _Model, params: dict[str, Any]) -> None:
        if spec.kind == "t2v":
            size = params.get("size")
            if size is not None and not any(size in _TIERS[t] for t in spec.tiers):
                raise _bad(f"parameters.size {size} is not supported by this model")
        elif params.get("resolution") is not None and params["resolution"] not in spec.tiers:
            raise _bad(f"parameters.resolution {params['resolution']} is not supported")
        ratio = params.get("ratio")
        if ratio is not None and ratio not in spec.ratios:
            raise _bad(f"parameters.ratio {ratio} is not supported by this model")
        duration = params.get("duration")
        if duration is not None and (type(duration) is not int or duration not in spec.durations):
            raise _bad(f"parameters.duration {duration!r} is not supported by this model")
        seed = params.get("seed")
        if seed is not None and (type(seed) is not int or not 0 <= seed <= SEED_MAX):
            raise _bad(f"parameters.seed must be an integer in [0, {SEED_MAX}]")
        if spec.bare and "prompt_extend" in params:
            raise _bad("parameters.prompt_extend is not supported by this model")
        for flag in ("prompt_extend", "watermark", "audio"):
            if flag in params and not isinstance(params[flag], bool):
                raise _bad(f"parameters.{flag} must be a boolean")
        shot = params.get("shot_type")
        if shot is not None and shot not in ("single", "multi"):
            raise _bad("parameters.shot_type must be single or multi")

    # ---- tasks ---------------------------------------------------------------------

    async def _get(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:
                output: dict[str, Any] = {"task_id": task_id, "task_status": "UNKNOWN"}
                return web.json_response({"request_id": str(uuid.uuid4()), "output": output})
            task.polls += 1
            return web.json_response(self._view(request, task))

    def _view(self, request: web.Request, task: WanTask) -> dict[str, Any]:
        status = self._status(task)
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": status,
            "submit_time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(task.created)),
        }
        view: dict[str, Any] = {"request_id": str(uuid.uuid4()), "output": output}
        if status == "RUNNING":
            output["task_metrics"] = {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 0}
        elif status == "FAILED" and task.error is not None:
            output["code"], output["message"] = task.error
        elif status == "SUCCEEDED":
            output["video_url"] = self._sign(request, task)
            prompt = task.body["input"].get("prompt", "")
            output["orig_prompt"] = prompt
            output["actual_prompt"] = prompt + " (rewritten)"
            view["usage"] = self._usage(task)
        return view

    def _usage(self, task: WanTask) -> dict[str, Any]:
        params = task.body.get("parameters") or {}
        duration = params.get("duration", 5)
        if MODELS[task.model].kind == "media":
            tier = params.get("resolution", "1080P")
            return {"duration": duration, "SR": int(tier[:-1]), "video_count": 1}
        tier = params.get("resolution") or next(
            (t for t, sizes in _TIERS.items() if params.get("size") in sizes), "1080P"
        )
        return {"video_count": 1, "video_duration": duration, "video_ratio": tier}

    def _sign(self, request: web.Request, task: WanTask) -> str:
        # Signed once when the task succeeds; every poll repeats the same URL.
        if task.video_url is None:
            task.expires = int(self.clock() + self.url_ttl)
            task.video_url = (
                f"{request.scheme}://{request.host}/results/{task.id}.mp4"
                f"?Expires={task.expires}&OSSAccessKeyId=LTAIfake&Signature={_signature(task)}"
            )
        return task.video_url

    async def _cancel(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:
                raise _bad(f"task {task_id} does not exist")
            if self._status(task) != "PENDING":
                raise _bad(
                    "Failed to cancel the task, please confirm if the task is in PENDING status.",
                    "UnsupportedOperation",
                )
            task.cancelled = True
        return web.json_response({"request_id": str(uuid.uuid4())})

    # ---- results (an OSS bucket in real life) --------------------------------------

    async def _result(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        with self._lock:
            task = self.tasks.get(task_id)
            valid = (
                task is not None
                and request.query.get("Signature") == _signature(task)
                and request.query.get("Expires") == str(task.expires)
            )
            expired = task is not None and (self._revoked or self.clock() >= task.expires)
        if not valid or expired:
            reason = "Request has expired." if valid else "The request signature does not match."
            xml = f"<Error><Code>AccessDenied</Code><Message>{reason}</Message></Error>"
            return web.Response(status=403, text=xml, content_type="application/xml")
        return _ranged(request, self.video)


def _signature(task: WanTask) -> str:
    return hashlib.sha256(f"{task.id}:{task.expires}".encode()).hexdigest()[:24]


def _ranged(request: web.Request, data: bytes) -> web.Response:
    headers = {hdrs.ACCEPT_RANGES: "bytes"}
    match = _RANGE.fullmatch(request.headers.get(hdrs.RANGE, "").strip())
    if match is None:
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    start = int(match.group(1))
    end = min(int(match.group(2)), len(data) - 1) if match.group(2) else len(data) - 1
    if start >= len(data) or start > end:
        headers[hdrs.CONTENT_RANGE] = f"bytes */{len(data)}"
        return web.Response(status=416, headers=headers)
    headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end}/{len(data)}"
    return web.Response(
        status=206, body=data[start : end + 1], content_type="video/mp4", headers=headers
    )
