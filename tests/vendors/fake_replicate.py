"""A fake Replicate (Predictions API) on 127.0.0.1, for the adapter's and the SDK's tests.

It speaks what the official client ``replicate`` 1.0.7 sends and reads, with the JSON
shapes of Replicate's API reference:

Auth: every ``/v1/*`` request and every output download needs ``Authorization: Bearer
    <api_token>``; otherwise 401 ``{"title": "Unauthenticated", "detail": "You did not
    pass a valid authentication token", "status": 401}``. Errors are problem details
    ``{"title", "detail", "status"}`` (422 adds ``invalid_fields``).

``POST /v1/models/{owner}/{name}/predictions`` ``{"input", "webhook"?, ...}`` and
``POST /v1/predictions`` ``{"version": <64 hex> | "owner/name:<hex>" | "owner/name",
    "input"}`` -> 201, the prediction (``status: "starting"``). Checked in this order:
    unknown top-level keys -> 422; unknown or retired model -> 404 "Not found" (a bad
    version -> 422 "Invalid version or not permitted"); ``no_credit`` -> 402
    "Insufficient credit"; over ``rpm`` creates a minute -> 429 (``Retry-After`` unless
    ``retry_after=None``, and "resets in ~Ns" in the detail); the input against the
    model's schema (required, unknown names, types, enums, minimum/maximum, file inputs
    as http(s) or data URLs, data URLs at most 256 KiB) -> 422 "Input validation
    failed". Stricter than Replicate on one point: an input name the schema lacks is
    refused (Cog would ignore it), so a catalog mapping typo cannot pass unseen.
    A prompt containing "#nsfw" fails with Replicate's E005 safety message, "#fail"
    with an E1001 out-of-memory error.

``GET /v1/predictions/{id}`` counts a poll: "starting" for ``queued_polls`` polls,
    "processing" (with tqdm-style logs) for ``running_polls``, then final. ``output`` is
    ``<base>/delivery/<id>/output.mp4?expires=&sig=`` (a list of one with
    ``output_list``), signed afresh at each answer and valid ``url_ttl`` seconds;
    ``metrics.predict_time`` once final.

``GET /v1/predictions`` newest first, ``page_size`` a page, ``?cursor=`` pages,
    ``created_after`` / ``created_before`` filters; ``{"next", "previous", "results"}``.

``POST /v1/predictions/{id}/cancel`` -> the prediction, "canceled" unless already final.

``POST /v1/files`` multipart (``content`` file part, optional ``metadata`` JSON) -> 201
    the file object with ``urls.get`` = ``<base>/v1/files/<id>``; ``GET`` that URL -> it.

``GET /v1/models/{owner}/{name}`` -> the model with ``latest_version.openapi_schema``
    (Cog layout: ``components.schemas.Input.properties``, enums behind ``allOf`` refs);
    ``GET .../versions/{id}`` -> that version. Unknown or retired -> 404.

``GET /delivery/{id}/output.mp4`` -> the video with Range support; past its expiry, a
    forged signature, or after ``expire_urls()`` -> 403.

State for assertions: ``creates`` (accepted create bodies with their path),
``predictions`` (by id), ``files`` (uploads), ``images`` (decoded image inputs, by
prediction id), ``count_creates()``.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from typing import Any

from aiohttp import hdrs, web

from tests.fakeserver.faults import Handler
from tests.fakeserver.generic import _ranged
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4

__all__ = ["MODELS", "FakeModel", "FakePrediction", "FakeReplicate", "version_of"]

FINAL = frozenset({"succeeded", "failed", "canceled"})
DATA_URL_LIMIT = 256 * 1024
NSFW = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
OOM = "CUDA out of memory: the model ran out of memory (E1001)"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def version_of(model: str) -> str:
    """A stable 64-hex version id for a fake model."""
    return hashlib.sha256(model.encode()).hexdigest()


def _uri(description: str = "") -> dict[str, Any]:
    return {"type": "string", "format": "uri", "description": description}


def _enum(*values: Any, default: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"enum": list(values)}
    if default is not None:
        spec["default"] = default
    return spec


_TEXT = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}


@dataclass
class FakeModel:
    """One hosted model: its input schema (name -> OpenAPI property) and required names."""

    name: str
    inputs: dict[str, dict[str, Any]]
    required: tuple[str, ...] = ("prompt",)

    @property
    def version(self) -> str:
        return version_of(self.name)

    def openapi_schema(self) -> dict[str, Any]:
        """The schema as Cog writes it: enums live in their own component, behind allOf."""
        properties: dict[str, Any] = {}
        components: dict[str, Any] = {}
        for order, (name, spec) in enumerate(self.inputs.items()):
            if "enum" in spec:
                kind = "integer" if all(isinstance(v, int) for v in spec["enum"]) else "string"
                components[name] = {
                    "title": name,
                    "description": "An enumeration.",
                    "enum": spec["enum"],
                    "type": kind,
                }
                prop: dict[str, Any] = {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}
                if "default" in spec:
                    prop["default"] = spec["default"]
            else:
                prop = dict(spec)
            prop["x-order"] = order
            properties[name] = prop
        components["Input"] = {
            "type": "object",
            "title": "Input",
            "required": list(self.required),
            "properties": properties,
        }
        components["Output"] = {"type": "string", "title": "Output", "format": "uri"}
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": components},
        }


def _veo(name: str, reference: bool) -> FakeModel:
    inputs = {
        "prompt": _TEXT,
        "aspect_ratio": _enum("16:9", "9:16", default="16:9"),
        "duration": _enum(4, 6, 8, default=8),
        "image": _uri("Input image to start generating from"),
        "last_frame": _uri("Ending image for interpolation"),
        "negative_prompt": _TEXT,
        "resolution": _enum("720p", "1080p", default="1080p"),
        "generate_audio": {**_BOOL, "default": True},
        "seed": _INT,
    }
    if reference:
        inputs["reference_images"] = {"type": "array", "items": _uri()}
    return FakeModel(name, inputs)


#: The hosted models this fake knows, with the input schemas of their API pages.
MODELS: dict[str, FakeModel] = {
    m.name: m
    for m in [
        _veo("google/veo-3.1", reference=True),
        _veo("google/veo-3.1-fast", reference=False),
        FakeModel(
            "kwaivgi/kling-v3-video",
            {
                "prompt": _TEXT,
                "negative_prompt": _TEXT,
                "start_image": _uri(),
                "end_image": _uri(),
                "mode": _enum("standard", "pro", default="pro"),
                "aspect_ratio": _enum("16:9", "9:16", "1:1", default="16:9"),
                "duration": {**_INT, "minimum": 3, "maximum": 15, "default": 5},
                "generate_audio": {**_BOOL, "default": False},
                "multi_prompt": _TEXT,
            },
        ),
        FakeModel(
            "kwaivgi/kling-v2.1-master",
            {
                "aspect_ratio": _enum("16:9", "9:16", "1:1", default="16:9"),
                "duration": _enum(5, 10, default=5),
                "prompt": _TEXT,
                "start_image": _uri(),
                "negative_prompt": _TEXT,
            },
        ),
        FakeModel(
            "kwaivgi/kling-v2.1",
            {
                "prompt": _TEXT,
                "negative_prompt": _TEXT,
                "start_image": _uri(),
                "end_image": _uri(),
                "mode": _enum("standard", "pro", default="standard"),
                "duration": _enum(5, 10, default=5),
            },
            required=("prompt", "start_image"),
        ),
        FakeModel(
            "minimax/hailuo-02",
            {
                "duration": _enum(6, 10, default=6),
                "resolution": _enum("512p", "768p", "1080p", default="1080p"),
                "prompt": _TEXT,
                "last_frame_image": _uri(),
                "prompt_optimizer": {**_BOOL, "default": True},
                "first_frame_image": _uri(),
            },
        ),
        FakeModel(
            "minimax/hailuo-2.3",
            {
                "duration": _enum(6, 10, default=6),
                "resolution": _enum("768p", "1080p", default="768p"),
                "prompt": _TEXT,
                "prompt_optimizer": {**_BOOL, "default": True},
                "first_frame_image": _uri(),
            },
        ),
        FakeModel(
            "wan-video/wan-2.6-t2v",
            {
                "prompt": _TEXT,
                "negative_prompt": _TEXT,
                "audio": _uri(),
                "size": _enum("1280*720", "720*1280", "1920*1080", "1080*1920", default="1280*720"),
                "duration": _enum(5, 10, 15, default=5),
                "enable_prompt_expansion": {**_BOOL, "default": True},
                "multi_shots": {**_BOOL, "default": False},
                "seed": _INT,
            },
        ),
        FakeModel(
            "wan-video/wan-2.5-i2v",
            {
                "image": _uri(),
                "prompt": _TEXT,
                "negative_prompt": _TEXT,
                "audio": _uri(),
                "resolution": _enum("480p", "720p", "1080p", default="720p"),
                "duration": _enum(5, 10, default=5),
                "enable_prompt_expansion": {**_BOOL, "default": True},
                "seed": _INT,
            },
            required=("image", "prompt"),
        ),
        FakeModel(
            "bytedance/seedance-1.5-pro",
            {
                "prompt": _TEXT,
                "image": _uri(),
                "last_frame_image": _uri(),
                "duration": {**_INT, "minimum": 2, "maximum": 12, "default": 5},
                "aspect_ratio": _enum(
                    "16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21", default="16:9"
                ),
                "fps": _enum(24, default=24),
                "camera_fixed": {**_BOOL, "default": False},
                "generate_audio": {**_BOOL, "default": False},
                "seed": _INT,
            },
        ),
        FakeModel(
            "luma/ray-2-720p",
            {
                "duration": _enum(5, 9, default=5),
                "aspect_ratio": _enum(
                    "1:1", "3:4", "4:3", "9:16", "16:9", "9:21", "21:9", default="16:9"
                ),
                "loop": {**_BOOL, "default": False},
                "prompt": _TEXT,
                "concepts": {"type": "array", "items": _TEXT},
                "end_image": _uri(),
                "start_image": _uri(),
            },
        ),
    ]
}


class _ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


@dataclass
class FakePrediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    created_at: float
    outcome: str = "succeeded"
    error: str | None = None
    polls: int = 0
    canceled: bool = False
    source: str = "api"


@dataclass
class _Upload:
    id: str
    name: str
    content_type: str
    data: bytes
    metadata: dict[str, Any]
    created_at: float


@dataclass(eq=False)
class FakeReplicate:
    """The fake's state and its aiohttp app; see the module docstring.

    Attributes:
        app: the application to serve (once).
        server: the `FakeServer` after `serve()`.
        creates: accepted creates as ``{"path", "body"}``, in order.
        predictions: predictions by id (add some to stand for the user's others).
        files: uploads by id.
        images: decoded image inputs by prediction id: ``[{"input", "via", "sha256"}]``.
    """

    api_token: str = "r8_test_token"
    video: bytes | None = field(default=None, repr=False)
    queued_polls: int = 1
    running_polls: int = 1
    url_ttl: float = 3600.0
    page_size: int = 100
    retired: Iterable[str] = ()
    no_credit: bool = False
    rpm: int | None = None
    retry_after: float | None = 1.0
    output_list: bool = False
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    predictions: dict[str, FakePrediction] = field(default_factory=dict, init=False)
    files: dict[str, _Upload] = field(default_factory=dict, init=False)
    images: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._retired = set(self.retired)
        self._lock = threading.Lock()
        self._signed: dict[str, tuple[str, int, bool]] = {}
        self._create_times: list[float] = []
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        self.app.add_routes(
            [
                web.post("/v1/models/{owner}/{name}/predictions", self._create_official),
                web.post("/v1/predictions", self._create_version),
                web.get("/v1/predictions", self._list),
                web.get("/v1/predictions/{id}", self._get),
                web.post("/v1/predictions/{id}/cancel", self._cancel),
                web.post("/v1/files", self._upload),
                web.get("/v1/files/{id}", self._file),
                web.get("/v1/models/{owner}/{name}", self._model),
                web.get("/v1/models/{owner}/{name}/versions/{version}", self._version),
                web.get("/delivery/{id}/output.mp4", self._delivery),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("call serve() first")
        return self.server.url

    def count_creates(self) -> int:
        with self._lock:
            return len(self.creates)

    def status_of(self, prediction_id: str) -> str:
        with self._lock:
            return self._status(self.predictions[prediction_id])

    def expire_urls(self) -> None:
        with self._lock:
            for token, (pid, expires, _) in list(self._signed.items()):
                self._signed[token] = (pid, expires, True)

    def add_prediction(
        self, model: str, input: dict[str, Any], *, created_at: float, source: str = "api"
    ) -> FakePrediction:
        """Another prediction of the account (made elsewhere), for ``find`` to skip."""
        with self._lock:
            prediction = FakePrediction(
                _new_id(), model, version_of(model), input, created_at, source=source
            )
            self.predictions[prediction.id] = prediction
            return prediction

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            authorised = request.headers.get(hdrs.AUTHORIZATION) == f"Bearer {self.api_token}"
            if request.path.startswith(("/v1/", "/delivery/")) and not authorised:
                raise _ApiError(
                    401, "Unauthenticated", "You did not pass a valid authentication token"
                )
            return await handler(request)
        except _ApiError as exc:
            body = {"title": exc.title, "detail": exc.detail, "status": exc.status, **exc.extra}
            return web.json_response(body, status=exc.status, headers=exc.headers)

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _status(self, prediction: FakePrediction) -> str:
        if prediction.canceled:
            return "canceled"
        if prediction.polls <= self.queued_polls:
            return "starting"
        if prediction.polls <= self.queued_polls + self.running_polls:
            return "processing"
        return prediction.outcome

    def _view(self, request: web.Request, prediction: FakePrediction) -> dict[str, Any]:
        base = self._base(request)
        status = self._status(prediction)
        view: dict[str, Any] = {
            "id": prediction.id,
            "model": prediction.model,
            "version": prediction.version,
            "input": prediction.input,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "source": prediction.source,
            "status": status,
            "created_at": _iso(prediction.created_at),
            "urls": {
                "cancel": f"{base}/v1/predictions/{prediction.id}/cancel",
                "get": f"{base}/v1/predictions/{prediction.id}",
                "web": f"https://replicate.com/p/{prediction.id}",
            },
        }
        if status != "starting":
            view["started_at"] = _iso(prediction.created_at + 1)
        if status == "processing":
            step = max(1, prediction.polls - self.queued_polls)
            total = self.running_polls + 1
            view["logs"] = f"Generating...\n {100 * step // total}%|#####     | {step}/{total}"
        if status in FINAL:
            view["completed_at"] = _iso(prediction.created_at + 2)
            view["metrics"] = {"predict_time": 61.5, "total_time": 63.0}
        if status == "succeeded":
            url = self._sign(request, prediction)
            view["output"] = [url] if self.output_list else url
        if status == "failed":
            view["error"] = prediction.error
        return view

    def _sign(self, request: web.Request, prediction: FakePrediction) -> str:
        token = secrets.token_hex(8)
        expires = math.floor(self.clock() + self.url_ttl)
        self._signed[token] = (prediction.id, expires, False)
        base = self._base(request)
        return f"{base}/delivery/{prediction.id}/output.mp4?expires={expires}&sig={token}"

    def _prediction(self, request: web.Request) -> FakePrediction:
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            raise _ApiError(404, "Not found", "The requested resource could not be found.")
        return prediction

    def _model_named(self, name: str) -> FakeModel:
        model = MODELS.get(name)
        if model is None or name in self._retired:
            raise _ApiError(404, "Not found", "The requested resource could not be found.")
        return model

    # ---- creates -------------------------------------------------------------------

    async def _create_official(self, request: web.Request) -> web.Response:
        name = f"{request.match_info['owner']}/{request.match_info['name']}"
        body = await _json_object(request)
        _top_level(body, allowed={"input", "webhook", "webhook_events_filter", "stream"})
        return self._create(request, self._model_named(name), body)

    async def _create_version(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        _top_level(body, allowed={"version", "input", "webhook", "webhook_events_filter", "stream"})
        version = body.get("version")
        if not isinstance(version, str) or not version:
            raise _ApiError(
                422,
                "Input validation failed",
                "- version is required\n",
                invalid_fields=[{"type": "required", "field": "", "description": "version"}],
            )
        name, _, version_id = version.rpartition(":")
        if not name and "/" in version_id:
            return self._create(request, self._model_named(version_id), body)
        model = next(
            (m for m in MODELS.values() if m.version == version_id and m.name not in self._retired),
            None,
        )
        if model is None or (name and name != model.name):
            raise _ApiError(
                422,
                "Invalid version or not permitted",
                "The specified version does not exist (or perhaps you don't have permission "
                "to use it?)",
            )
        return self._create(request, model, body)

    def _create(self, request: web.Request, model: FakeModel, body: dict[str, Any]) -> web.Response:
        if self.no_credit:
            raise _ApiError(
                402,
                "Insufficient credit",
                "You have insufficient credit to run this model. Go to "
                "https://replicate.com/account/billing#billing to purchase credit. Once you "
                "purchase credit, please wait a few minutes before trying again.",
            )
        with self._lock:
            self._throttle()
            inputs = body.get("input")
            images = self._check_input(request, model, inputs)
            assert isinstance(inputs, dict)
            prediction = FakePrediction(_new_id(), model.name, model.version, inputs, self.clock())
            prompt = str(inputs.get("prompt", ""))
            if "#nsfw" in prompt:
                prediction.outcome, prediction.error = "failed", NSFW
            elif "#fail" in prompt:
                prediction.outcome, prediction.error = "failed", OOM
            self.predictions[prediction.id] = prediction
            self.images[prediction.id] = images
            self.creates.append({"path": request.path, "body": body})
            view = self._view(request, prediction)
        return web.json_response(view, status=201)

    def _throttle(self) -> None:
        if self.rpm is None:
            return
        now = self.clock()
        self._create_times = [t for t in self._create_times if now - t < 60]
        if len(self._create_times) >= self.rpm:
            oldest = self._create_times[0] if self._create_times else now
            wait = max(1, math.ceil(60 - (now - oldest)))
            error = _ApiError(
                429,
                "Request was throttled",
                f"Request was throttled. Your rate limit resets in ~{wait}s.",
            )
            if self.retry_after is not None:
                error.headers["Retry-After"] = f"{self.retry_after:g}"
            raise error
        self._create_times.append(now)

    def _check_input(
        self, request: web.Request, model: FakeModel, inputs: Any
    ) -> list[dict[str, Any]]:
        """Cog-style validation; returns the decoded image inputs."""
        if not isinstance(inputs, dict):
            raise _invalid("input", "required", "input is required")
        problems: list[tuple[str, str, str]] = []
        for name in model.required:
            if name not in inputs:
                problems.append(("input", "required", f"{name} is required"))
        images: list[dict[str, Any]] = []
        for name, value in inputs.items():
            spec = model.inputs.get(name)
            if spec is None:
                text = f"Additional property {name} is not allowed"
                problems.append(("input", "additional_property_not_allowed", text))
                continue
            problem = _check_value(name, value, spec)
            if problem:
                problems.append((f"input.{name}", *problem))
            elif spec.get("format") == "uri":
                image, problem_text = self._image(request, name, value)
                if problem_text:
                    problems.append((f"input.{name}", "uri", problem_text))
                else:
                    images.append(image)
        if problems:
            detail = "".join(f"- {f}: {d}\n" for f, _, d in problems)
            fields = [{"type": t, "field": f, "description": d} for f, t, d in problems]
            raise _ApiError(422, "Input validation failed", detail, invalid_fields=fields)
        return images

    def _image(
        self, request: web.Request, name: str, value: str
    ) -> tuple[dict[str, Any], str | None]:
        if value.startswith("data:"):
            head, _, payload = value.partition(",")
            if not head.endswith(";base64"):
                return {}, "data URIs must be base64-encoded"
            data = base64.b64decode(payload)
            if len(data) > DATA_URL_LIMIT:
                return {}, f"data URI of {len(data)} bytes; files over 256 KB must be HTTP URLs"
            mime = head[5:].split(";")[0]
            return {"input": name, "via": "data_url", "mime": mime, "data": data}, None
        prefix = f"{self._base(request)}/v1/files/"
        if value.startswith(prefix):
            upload = self.files.get(value[len(prefix) :])
            if upload is None:
                return {}, f"{value} is not a file of this account"
            return {
                "input": name,
                "via": "file",
                "mime": upload.content_type,
                "data": upload.data,
            }, None
        if value.startswith(("https://", "http://")):
            return {"input": name, "via": "url", "url": value}, None
        return {}, f"{name} must be a URL"

    # ---- reads ---------------------------------------------------------------------

    async def _get(self, request: web.Request) -> web.Response:
        with self._lock:
            prediction = self._prediction(request)
            prediction.polls += 1
            return web.json_response(self._view(request, prediction))

    async def _list(self, request: web.Request) -> web.Response:
        after = _parse_time(request.query.get("created_after"))
        before = _parse_time(request.query.get("created_before"))
        cursor = int(request.query.get("cursor", "0") or 0)
        with self._lock:
            found = sorted(self.predictions.values(), key=lambda p: p.created_at, reverse=True)
            found = [
                p
                for p in found
                if (after is None or p.created_at >= after)
                and (before is None or p.created_at < before)
            ]
            page = found[cursor : cursor + self.page_size]
            results = [self._view(request, p) for p in page]
        next_url = None
        if cursor + self.page_size < len(found):
            query = {k: v for k, v in request.query.items() if k != "cursor"}
            query["cursor"] = str(cursor + self.page_size)
            pairs = "&".join(f"{k}={v}" for k, v in query.items())
            next_url = f"{self._base(request)}/v1/predictions?{pairs}"
        return web.json_response({"next": next_url, "previous": None, "results": results})

    async def _cancel(self, request: web.Request) -> web.Response:
        with self._lock:
            prediction = self._prediction(request)
            if self._status(prediction) not in FINAL:
                prediction.canceled = True
            return web.json_response(self._view(request, prediction))

    async def _upload(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            raise _ApiError(400, "Bad request", "expected multipart/form-data")
        # The harness has read the body already (to record it): parse it from bytes.
        raw = await request.read()
        head = f"Content-Type: {request.headers[hdrs.CONTENT_TYPE]}\r\n\r\n".encode()
        message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        content: tuple[str, str, bytes] | None = None
        metadata: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            if name == "content":
                filename = part.get_filename() or "file"
                content = (filename, part.get_content_type(), payload)
            elif name == "metadata":
                metadata = json.loads(payload)
        if content is None:
            raise _invalid("content", "required", "content is required")
        with self._lock:
            upload = _Upload(_new_id(), content[0], content[1], content[2], metadata, self.clock())
            self.files[upload.id] = upload
            return web.json_response(self._file_view(request, upload), status=201)

    async def _file(self, request: web.Request) -> web.Response:
        upload = self.files.get(request.match_info["id"])
        if upload is None:
            raise _ApiError(404, "Not found", "The requested resource could not be found.")
        return web.json_response(self._file_view(request, upload))

    def _file_view(self, request: web.Request, upload: _Upload) -> dict[str, Any]:
        return {
            "id": upload.id,
            "name": upload.name,
            "content_type": upload.content_type,
            "size": len(upload.data),
            "etag": hashlib.md5(upload.data).hexdigest(),  # an etag, not security
            "checksums": {"sha256": hashlib.sha256(upload.data).hexdigest()},
            "metadata": upload.metadata,
            "created_at": _iso(upload.created_at),
            "expires_at": _iso(upload.created_at + 86400),
            "urls": {"get": f"{self._base(request)}/v1/files/{upload.id}"},
        }

    async def _model(self, request: web.Request) -> web.Response:
        name = f"{request.match_info['owner']}/{request.match_info['name']}"
        model = self._model_named(name)
        owner, _, short = name.partition("/")
        return web.json_response(
            {
                "url": f"https://replicate.com/{name}",
                "owner": owner,
                "name": short,
                "description": f"{name} (fake)",
                "visibility": "public",
                "run_count": 1,
                "latest_version": self._version_view(model),
            }
        )

    async def _version(self, request: web.Request) -> web.Response:
        name = f"{request.match_info['owner']}/{request.match_info['name']}"
        model = self._model_named(name)
        if request.match_info["version"] != model.version:
            raise _ApiError(404, "Not found", "The requested resource could not be found.")
        return web.json_response(self._version_view(model))

    def _version_view(self, model: FakeModel) -> dict[str, Any]:
        return {
            "id": model.version,
            "created_at": "2026-10-01T00:00:00.000000Z",
            "cog_version": "0.16.8",
            "openapi_schema": model.openapi_schema(),
        }

    async def _delivery(self, request: web.Request) -> web.Response:
        token = request.query.get("sig", "")
        with self._lock:
            signed = self._signed.get(token)
            if (
                signed is None
                or signed[0] != request.match_info["id"]
                or request.query.get("expires") != str(signed[1])
            ):
                return web.Response(status=403, text="Forbidden: bad signature")
            if signed[2] or self.clock() >= signed[1]:
                return web.Response(status=403, text="Forbidden: this output has expired")
        assert self.video is not None
        return _ranged(request, self.video)


# ------------------------------------------------------------------------ helpers


def _new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _ApiError(400, "Bad request", f"{text!r} is not an ISO 8601 date-time") from None


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _ApiError(400, "Bad request", "the body must be a JSON object")
    return body


def _top_level(body: dict[str, Any], *, allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        detail = "".join(f"- Additional property {k} is not allowed\n" for k in extra)
        raise _ApiError(422, "Input validation failed", detail)


def _invalid(field: str, kind: str, description: str) -> _ApiError:
    return _ApiError(
        422,
        "Input validation failed",
        f"- {field}: {description}\n",
        invalid_fields=[{"type": kind, "field": field, "description": description}],
    )


def _check_value(name: str, value: Any, spec: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, description) of what is wrong with ``value``, as Cog words it; None if fine."""
    if "enum" in spec:
        if value not in spec["enum"] or isinstance(value, bool):
            shown = ", ".join(json.dumps(v) for v in spec["enum"])
            return "enum", f"{name} must be one of the following: {shown}"
        return None
    kind = spec.get("type")
    if kind == "string" and not isinstance(value, str):
        return "invalid_type", "Invalid type. Expected: string"
    if kind == "boolean" and not isinstance(value, bool):
        return "invalid_type", "Invalid type. Expected: boolean"
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "invalid_type", "Invalid type. Expected: integer"
        if "minimum" in spec and value < spec["minimum"]:
            return "number_gte", f"Must be greater than or equal to {spec['minimum']}"
        if "maximum" in spec and value > spec["maximum"]:
            return "number_lte", f"Must be less than or equal to {spec['maximum']}"
    if kind == "array" and not isinstance(value, list):
        return "invalid_type", "Invalid type. Expected: array"
    return None
