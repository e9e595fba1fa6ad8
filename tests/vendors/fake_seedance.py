"""A fake Seedance vendor: Volcengine Ark / BytePlus ModelArk content-generation tasks.

It answers the way Ark does, from the official API reference (docs/82379/1520757, the
tutorial 1366799, the error-code page 1299023) and the official SDK
(``volcenginesdkarkruntime``), so the adapter is tested against the vendor's rules and
not against its own idea of them. Serve it with ``FakeSeedance().serve()``; the base URL
to hand an adapter or the SDK is ``fake.base_url`` (``<server>/api/v3``).

Auth: every ``/api/v3/*`` request needs ``Authorization: Bearer <api_key>`` exactly;
    else 401 ``AuthenticationError``. Errors are ``{"error": {"code", "message", "param",
    "type"}}`` with Ark's HTTP statuses and codes.

``POST /api/v3/contents/generations/tasks`` (``Content-Type: application/json``), checked
    in this order, each refusal with Ark's code:
    body not an object, an unknown top-level key -> 400 ``InvalidParameter`` (keys are
        the SDK's; ``null`` values are accepted, as the SDK sends them);
    model not served on this ``surface`` ("intl": ``seedance-…``/``dreamina-seedance-…``,
        "cn": ``doubao-seedance-…``) -> 404 ``InvalidEndpointOrModel.NotFound``; in
        ``not_open`` -> 404 ``ModelNotOpen``;
    ``overdue`` -> 403 ``AccountOverdueError``; ``quota_exhausted`` -> 429
        ``QuotaExceeded``; more than ``rpm`` creates in 60 s -> 429
        ``RateLimitExceeded.EndpointRPMExceeded`` (no Retry-After: Ark documents none);
    content: at most one text item; images as ``data:image/<lower-case fmt>;base64,…``
        (or http URLs) of jpeg/png/webp/bmp/tiff/gif, width and height strictly between
        300 and 6000 px, width/height strictly between 0.4 and 2.5, under 30 MB; one image
        with role absent or ``first_frame``, two with ``first_frame`` + ``last_frame``;
        the image count must suit the model (t2v-only, i2v-only, no last frame on pro
        fast) -> 400 ``InvalidParameter``; no text and no image -> 400
        ``MissingParameter``; text containing "#nsfw" -> 400
        ``InputTextSensitiveContentDetected``;
    top-level parameters, strongly checked per model: ``resolution``, ``ratio``
        (``adaptive`` for t2v only on 1.5 pro and 2.x; 2.5 with frames takes only
        ``adaptive``), ``duration`` (integer in the model's range, -1 on 1.5/2.x),
        ``seed`` in [-1, 2^32-1], booleans, ``generate_audio`` true only on models with
        sound, ``service_tier`` default|flex, ``execution_expires_after`` in
        [3600, 259200] -> 400 ``InvalidParameter``.
    -> 200 ``{"id": "cgt-<yyyymmddhhmmss>-<5 chars>"}``.

``GET /api/v3/contents/generations/tasks/{id}`` -> the task. Each GET moves it on:
    ``queued`` for ``queued_polls`` polls (and while ``concurrency`` tasks of its model
    run), ``running`` for ``running_polls``, then final. Prompt markers: "#fail" ->
    failed ``InternalServiceError``; "#outnsfw" -> failed
    ``OutputVideoSensitiveContentDetected.PolicyViolation``; "#expire" -> ``expired``.
    A succeeded task carries ``content.video_url`` (freshly signed at every answer,
    valid ``url_ttl`` s), ``usage.completion_tokens`` = w × h × (24 × s + 1) // 1024,
    seed, resolution, ratio, duration, framespersecond; a failed one ``error``.
    Unknown or deleted id -> 404 ``ResourceNotFound`` (the code is our assumption).

``GET /api/v3/contents/generations/tasks?page_num&page_size&filter.status&filter.task_ids``
    -> ``{"items": [...], "total": n}`` (no poll counted).

``DELETE /api/v3/contents/generations/tasks/{id}`` -> 200 ``{}``: queued -> cancelled;
    succeeded/failed/expired -> record deleted; running/cancelled -> 400
    ``InvalidParameter`` (Ark says "not supported"; the code is our assumption).

``GET /tos/{id}.mp4?X-Tos-Date&X-Tos-Expires&X-Tos-Signature`` -> the video (a real tiny
    MP4), ``Accept-Ranges: bytes``, single ``Range`` requests answered 206; a forged
    signature, an expired link or one issued before ``expire_urls()`` -> 403 with TOS's
    XML ``AccessDenied`` body.

State for assertions: ``creates`` (accepted bodies), ``tasks``, ``count_creates()``,
``peak_running``, ``expire_urls()``, ``status_of()``.
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
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from PIL import Image

from tests.fakeserver import FakeServer
from tests.fakeserver.faults import Handler
from tests.fakeserver.media import tiny_mp4

__all__ = ["BODY_KEYS", "FakeSeedance", "FakeTask", "model_ids"]

API = "/api/v3"
_TOS_SECRET = b"fake-tos-secret"
_SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class _Rules:
    images: frozenset[int]  # how many images a request may carry
    last_frame: bool
    durations: tuple[int, int]
    resolutions: frozenset[str]
    audio: bool
    text_adaptive: bool
    frames_adaptive_only: bool = False
    auto_duration: bool = False
    default_resolution: str = "720p"


_R3 = frozenset({"480p", "720p", "1080p"})
_R2 = frozenset({"480p", "720p"})
# By the model's stem: "doubao-" + stem on Volcengine; stem (1.x) or "dreamina-" + stem
# (2.x) on BytePlus. 2.0 mini has no confirmed BytePlus id.
_MODELS: dict[str, _Rules] = {
    "seedance-1-5-pro-251215": _Rules(
        frozenset({0, 1, 2}), True, (4, 12), _R3, True, True, auto_duration=True
    ),
    "seedance-1-0-pro-250528": _Rules(
        frozenset({0, 1, 2}), True, (2, 12), _R3, False, False, default_resolution="1080p"
    ),
    "seedance-1-0-pro-fast-251015": _Rules(
        frozenset({0, 1}), False, (2, 12), _R3, False, False, default_resolution="1080p"
    ),
    "seedance-1-0-lite-t2v-250428": _Rules(frozenset({0}), False, (2, 12), _R3, False, False),
    "seedance-1-0-lite-i2v-250428": _Rules(frozenset({1, 2}), True, (2, 12), _R3, False, False),
    "seedance-2-0-260128": _Rules(
        frozenset({0, 1, 2}), True, (4, 15), _R3 | {"4k"}, True, True, auto_duration=True
    ),
    "seedance-2-0-fast-260128": _Rules(
        frozenset({0, 1, 2}), True, (4, 15), _R2, True, True, auto_duration=True
    ),
    "seedance-2-0-mini-260615": _Rules(
        frozenset({0, 1, 2}), True, (4, 15), _R2, True, True, auto_duration=True
    ),
    "seedance-2-5-260628": _Rules(
        frozenset({0, 1, 2}), True, (4, 30), _R3, True, True, True, auto_duration=True
    ),
    "seedance-2-5-flash-261115": _Rules(
        frozenset({0, 1, 2}), True, (4, 30), _R2, True, True, True, auto_duration=True
    ),
}
_NO_INTL = {"seedance-2-0-mini-260615"}
#: no Volcengine id was seen for 2.5 flash
_NO_CN = {"seedance-2-5-flash-261115"}


def model_ids(surface: str) -> dict[str, str]:
    """The vendor's model ids on ``surface`` ("cn" or "intl"), by stem."""
    ids = {}
    for stem in _MODELS:
        if surface == "cn":
            if stem not in _NO_CN:
                ids[stem] = f"doubao-{stem}"
        elif stem not in _NO_INTL:
            ids[stem] = f"dreamina-{stem}" if stem.startswith("seedance-2") else stem
    return ids


# Top-level keys of the official SDK's create body (volcenginesdkarkruntime 5.0.54).
BODY_KEYS = frozenset(
    {
        "model", "content", "safety_identifier", "callback_url", "return_last_frame",
        "service_tier", "execution_expires_after", "priority", "generate_audio", "draft",
        "camera_fixed", "watermark", "seed", "resolution", "ratio", "duration", "frames",
        "tools", "output_format", "omni_reference_task_type",
    }
)  # fmt: skip
_BOOLS = ("return_last_frame", "generate_audio", "draft", "camera_fixed", "watermark")
_RATIOS = {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"}
_SIZES_10 = {  # output w x h of the 1.0 series (API reference table)
    "480p": {"16:9": (864, 480), "1:1": (640, 640), "9:16": (480, 864)},
    "720p": {"16:9": (1248, 704), "1:1": (960, 960), "9:16": (704, 1248)},
    "1080p": {"16:9": (1920, 1088), "1:1": (1440, 1440), "9:16": (1088, 1920)},
}
_SIZES = {  # output w x h of 1.5 pro and 2.x (1.5 pro table; 4k derived)
    "480p": {"16:9": (864, 496), "1:1": (640, 640), "9:16": (496, 864)},
    "720p": {"16:9": (1280, 720), "1:1": (960, 960), "9:16": (720, 1280)},
    "1080p": {"16:9": (1920, 1080), "1:1": (1440, 1440), "9:16": (1080, 1920)},
    "4k": {"16:9": (3840, 2160), "1:1": (2160, 2160), "9:16": (2160, 3840)},
}
_DATA_URL = re.compile(r"data:image/([a-z]+);base64,(.*)", re.DOTALL)
_IMAGE_FORMATS = {"jpeg", "png", "webp", "bmp", "tiff", "gif"}
_PIL_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tiff"}
_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
}


class ArkError(Exception):
    """Raised by handlers; the middleware answers with Ark's error JSON."""

    def __init__(self, status: int, code: str, message: str, param: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def _bad(message: str, param: str = "") -> ArkError:
    return ArkError(
        400,
        "InvalidParameter",
        f"The parameter `{param}` specified in the request is not valid: {message}",
        param,
    )


@dataclass
class FakeTask:
    """One task as the fake holds it; ``images`` are the decoded inputs as received."""

    id: str
    model: str
    stem: str
    body: dict[str, Any]
    prompt: str
    images: list[dict[str, Any]]
    created_at: float
    status: str = "queued"
    outcome: str = "succeeded"
    error: dict[str, str] | None = None
    polls: int = 0
    running_polls: int = 0
    seed: int = 0


@dataclass(eq=False)
class FakeSeedance:
    """The fake vendor's state and app; see the module docstring."""

    api_key: str = "ark-test-key"
    surface: str = "intl"
    video: bytes | None = field(default=None, repr=False)
    queued_polls: int = 1
    running_polls: int = 1
    concurrency: int | None = None
    rpm: int | None = None
    overdue: bool = False
    quota_exhausted: bool = False
    not_open: Iterable[str] = ()
    url_ttl: float = 86400.0
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeTask] = field(default_factory=dict, init=False)
    peak_running: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._ids = {model_id: stem for stem, model_id in model_ids(self.surface).items()}
        self._lock = threading.Lock()
        self._revoked_before = 0.0
        self._recent: deque[float] = deque()
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        tasks = f"{API}/contents/generations/tasks"
        self.app.add_routes(
            [
                web.post(tasks, self._create),
                web.get(tasks, self._list),
                web.get(tasks + "/{task_id}", self._get),
                web.delete(tasks + "/{task_id}", self._delete),
                web.get("/tos/{task_id}.mp4", self._file),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def base_url(self) -> str:
        """What the adapter's ``TAKESTOCK_SEEDANCE_BASE_URL`` or the SDK's base_url is."""
        assert self.server is not None, "call serve() first"
        return self.server.url + API

    def count_creates(self) -> int:
        with self._lock:
            return len(self.creates)

    def expire_urls(self) -> None:
        """Every video link issued so far now answers 403 (new polls sign anew)."""
        with self._lock:
            self._revoked_before = self.clock() + 1e-6

    def status_of(self, task_id: str) -> str:
        with self._lock:
            return self.tasks[task_id].status

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            authorised = request.headers.get(hdrs.AUTHORIZATION) == f"Bearer {self.api_key}"
            if request.path.startswith(API + "/") and not authorised:
                raise ArkError(
                    401,
                    "AuthenticationError",
                    "The API key or AK/SK in the request is missing or invalid.",
                )
            return await handler(request)
        except ArkError as exc:
            request_id = secrets.token_hex(10)
            return web.json_response(
                {
                    "error": {
                        "code": exc.code,
                        "message": f"{exc.message} Request id: {request_id}",
                        "param": exc.param,
                        "type": _TYPES.get(exc.status, "BadRequest"),
                    }
                },
                status=exc.status,
            )

    def _task(self, request: web.Request) -> FakeTask:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None:
            raise ArkError(
                404, "ResourceNotFound", f"The task {request.match_info['task_id']} was not found."
            )
        return task

    # ---- create --------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            raise ArkError(400, "InvalidParameter", "Content-Type must be application/json.")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object", "body")
        unknown = sorted(set(body) - BODY_KEYS)
        if unknown:
            raise _bad("unknown parameter", unknown[0])
        model = body.get("model")
        stem = self._ids.get(model) if isinstance(model, str) else None
        if stem is None:
            raise ArkError(
                404,
                "InvalidEndpointOrModel.NotFound",
                f"The model or endpoint {model} does not exist or you do not have access to it.",
            )
        if model in set(self.not_open):
            raise ArkError(
                404,
                "ModelNotOpen",
                f"Your account has not activated the model {model}. Please activate the model "
                "service in the Ark Console.",
            )
        if self.overdue:
            raise ArkError(
                403,
                "AccountOverdueError",
                "The request failed because your account has an overdue balance.",
            )
        if self.quota_exhausted:
            raise ArkError(
                429, "QuotaExceeded", f"Your free trial quota for the model {model} is used up."
            )
        self._count_rpm()
        rules = _MODELS[stem]
        prompt, images = _content(body.get("content"), rules)
        _parameters(body, rules, bool(images))
        with self._lock:
            task = FakeTask(
                id=f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)[:5]}",
                model=model,
                stem=stem,
                body=body,
                prompt=prompt,
                images=images,
                created_at=self.clock(),
                seed=body["seed"] if isinstance(body.get("seed"), int) and body["seed"] >= 0
                else secrets.randbelow(2**31),
            )  # fmt: skip
            if "#expire" in prompt:
                task.outcome = "expired"
            elif "#outnsfw" in prompt:
                task.outcome = "failed"
                task.error = {
                    "code": "OutputVideoSensitiveContentDetected.PolicyViolation",
                    "message": "The request failed because the output video may be related to "
                    "copyright restrictions.",
                }
            elif "#fail" in prompt:
                task.outcome = "failed"
                task.error = {
                    "code": "InternalServiceError",
                    "message": "The service encountered an unexpected internal error.",
                }
            self.tasks[task.id] = task
            self.creates.append(body)
        return web.json_response({"id": task.id})

    def _count_rpm(self) -> None:
        if self.rpm is None:
            return
        now = self.clock()
        with self._lock:
            while self._recent and now - self._recent[0] >= 60:
                self._recent.popleft()
            if len(self._recent) >= self.rpm:
                raise ArkError(
                    429,
                    "RateLimitExceeded.EndpointRPMExceeded",
                    "The request has exceeded the rate limit for requests per minute (RPM).",
                )
            self._recent.append(now)

    # ---- read ----------------------------------------------------------------------

    async def _get(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            task.polls += 1
            self._advance(task)
            return web.json_response(self._view(request, task))

    def _advance(self, task: FakeTask) -> None:
        if task.status == "queued" and task.polls > self.queued_polls:
            running = sum(
                1 for t in self.tasks.values() if t.status == "running" and t.model == task.model
            )
            if self.concurrency is None or running < self.concurrency:
                task.status = "running"
                self.peak_running = max(self.peak_running, running + 1)
        elif task.status == "running":
            task.running_polls += 1
            if task.running_polls > self.running_polls:
                task.status = task.outcome

    def _view(self, request: web.Request, task: FakeTask) -> dict[str, Any]:
        body = task.body
        view: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": task.status,
            "created_at": int(task.created_at),
            "updated_at": int(self.clock()),
            "service_tier": body.get("service_tier") or "default",
            "execution_expires_after": body.get("execution_expires_after") or 172800,
        }
        if task.status == "succeeded":
            rules = _MODELS[task.stem]
            resolution = body.get("resolution") or rules.default_resolution
            ratio = body.get("ratio") if body.get("ratio") in _RATIOS else "16:9"
            given = body.get("duration")
            duration = given if isinstance(given, int) and given > 0 else 5
            sizes = (_SIZES_10 if task.stem.startswith("seedance-1-0") else _SIZES)[resolution]
            width, height = sizes.get(ratio, sizes["16:9"])
            tokens = width * height * (24 * duration + 1) // 1024
            view.update(
                content={"video_url": self._sign(request, task)},
                usage={"completion_tokens": tokens, "total_tokens": tokens},
                seed=task.seed,
                resolution=resolution,
                ratio=ratio,
                duration=duration,
                framespersecond=24,
            )
            if _MODELS[task.stem].audio:
                view["generate_audio"] = body.get("generate_audio", True) is not False
        elif task.status == "failed":
            view["error"] = task.error
        return view

    async def _list(self, request: web.Request) -> web.Response:
        wanted_ids = set(request.query.getall("filter.task_ids", []))
        status = request.query.get("filter.status")
        page_num = int(request.query.get("page_num", 1))
        page_size = int(request.query.get("page_size", 10))
        if not (1 <= page_num <= 500 and 1 <= page_size <= 500):
            raise _bad("must be between 1 and 500", "page_size")
        with self._lock:
            found = [
                self._view(request, t)
                for t in sorted(self.tasks.values(), key=lambda t: -t.created_at)
                if (not wanted_ids or t.id in wanted_ids) and (not status or t.status == status)
            ]
        page = found[(page_num - 1) * page_size : page_num * page_size]
        return web.json_response({"items": page, "total": len(found)})

    async def _delete(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            if task.status == "queued":
                task.status = "cancelled"
            elif task.status in ("succeeded", "failed", "expired"):
                del self.tasks[task.id]
            else:
                raise _bad(f"a {task.status} task cannot be cancelled or deleted", "id")
        return web.json_response({})

    # ---- result files --------------------------------------------------------------

    def _signature(self, task_id: str, date: str, expires: str) -> str:
        message = f"{task_id}\n{date}\n{expires}".encode()
        return hmac.new(_TOS_SECRET, message, hashlib.sha256).hexdigest()

    def _sign(self, request: web.Request, task: FakeTask) -> str:
        date = f"{self.clock():.6f}"
        expires = str(int(self.url_ttl))
        signature = self._signature(task.id, date, expires)
        return (
            f"{request.scheme}://{request.host}/tos/{task.id}.mp4?X-Tos-Algorithm=TOS4-HMAC-SHA256"
            f"&X-Tos-Date={date}&X-Tos-Expires={expires}&X-Tos-Signature={signature}"
        )

    async def _file(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        date = request.query.get("X-Tos-Date", "")
        expires = request.query.get("X-Tos-Expires", "")
        given = request.query.get("X-Tos-Signature", "")
        if not hmac.compare_digest(given, self._signature(task_id, date, expires)):
            return _tos_denied("The request signature we calculated does not match.")
        signed_at = float(date)
        with self._lock:
            revoked = signed_at < self._revoked_before
            task = self.tasks.get(task_id)
        if revoked or self.clock() >= signed_at + float(expires):
            return _tos_denied("Request has expired")
        if task is None or task.status != "succeeded":
            return web.Response(status=404, text="NoSuchKey")
        assert self.video is not None
        return _ranged(request, self.video)


# ---- request checks ---------------------------------------------------------------


def _content(content: Any, rules: _Rules) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(content, list) or not content:
        raise ArkError(400, "MissingParameter", "The request is missing `content`.", "content")
    texts = [c for c in content if isinstance(c, dict) and c.get("type") == "text"]
    items = [c for c in content if isinstance(c, dict) and c.get("type") == "image_url"]
    if len(texts) + len(items) != len(content):
        raise _bad("each item must be a text or an image_url object", "content")
    if len(texts) > 1 or any(not isinstance(t.get("text"), str) for t in texts):
        raise _bad("at most one text item with a string `text`", "content")
    prompt = texts[0]["text"] if texts else ""
    if not prompt.strip() and not items:
        raise ArkError(400, "MissingParameter", "A text prompt or an image is required.", "content")
    if "#nsfw" in prompt:
        raise ArkError(
            400,
            "InputTextSensitiveContentDetected",
            "The request failed because the input text may contain sensitive information.",
        )
    if len(items) not in rules.images:
        raise _bad(f"this model does not take {len(items)} image(s)", "content")
    roles = [item.get("role") for item in items]
    if len(items) == 1 and roles[0] not in (None, "first_frame"):
        raise _bad("a single image must be the first frame", "content.role")
    if len(items) == 2 and sorted(map(str, roles)) != ["first_frame", "last_frame"]:
        raise _bad("two images need the roles first_frame and last_frame", "content.role")
    if len(items) == 2 and not rules.last_frame:
        raise _bad("this model takes no last frame", "content.role")
    return prompt, [_image(item, i) for i, item in enumerate(items)]


def _image(item: dict[str, Any], index: int) -> dict[str, Any]:
    param = f"content[{index}].image_url"
    url = (item.get("image_url") or {}).get("url")
    if not isinstance(url, str):
        raise _bad("image_url.url must be a string", param)
    if url.startswith(("http://", "https://")):
        return {"role": item.get("role"), "url": url}
    match = _DATA_URL.fullmatch(url)
    if match is None or match.group(1) not in _IMAGE_FORMATS:
        raise _bad("use data:image/<format>;base64,<data> with a lower-case format", param)
    try:
        data = base64.b64decode(match.group(2), validate=True)
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = _PIL_FORMATS.get(img.format or "", (img.format or "").lower())
    except (binascii.Error, OSError, ValueError):
        raise _bad("the image cannot be decoded", param) from None
    if fmt != match.group(1):
        raise _bad(f"the data is {fmt}, not {match.group(1)}", param)
    if len(data) >= 30 * 2**20:
        raise _bad("the image must be smaller than 30 MB", param)
    if not (300 < width < 6000 and 300 < height < 6000):
        raise _bad("width and height must be between 300 and 6000 px", param)
    if not 0.4 < width / height < 2.5:
        raise _bad("the aspect ratio must be between 0.4 and 2.5", param)
    return {
        "role": item.get("role"),
        "format": fmt,
        "width": width,
        "height": height,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _parameters(body: dict[str, Any], rules: _Rules, with_images: bool) -> None:
    resolution = body.get("resolution")
    if resolution is not None and resolution not in rules.resolutions:
        raise _bad(f"resolution {resolution} is not supported by this model", "resolution")
    ratio = body.get("ratio")
    if ratio is not None:
        allowed = set(_RATIOS) | {"adaptive"}
        if ratio not in allowed:
            raise _bad(f"ratio {ratio} is not supported", "ratio")
        if ratio == "adaptive" and not with_images and not rules.text_adaptive:
            raise _bad("adaptive is not supported for text to video on this model", "ratio")
        if with_images and rules.frames_adaptive_only and ratio != "adaptive":
            raise _bad("with frames this model takes only adaptive", "ratio")
    duration = body.get("duration")
    if duration is not None:
        low, high = rules.durations
        auto = rules.auto_duration and duration == -1
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise _bad("duration must be an integer", "duration")
        if not auto and not low <= duration <= high:
            raise _bad(f"duration must be {low} to {high} seconds", "duration")
    seed = body.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed <= _SEED_MAX
    ):
        raise _bad("seed must be an integer in [-1, 2^32-1]", "seed")
    for key in _BOOLS:
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise _bad(f"{key} must be a boolean", key)
    if body.get("generate_audio") and not rules.audio:
        raise _bad("this model does not generate audio", "generate_audio")
    if body.get("service_tier") not in (None, "default", "flex"):
        raise _bad("service_tier must be default or flex", "service_tier")
    expires = body.get("execution_expires_after")
    if expires is not None and (not isinstance(expires, int) or not 3600 <= expires <= 259200):
        raise _bad("must be in [3600, 259200]", "execution_expires_after")


# ---- responses --------------------------------------------------------------------


def _tos_denied(message: str) -> web.Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    )
    return web.Response(status=403, text=xml, content_type="application/xml")


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _ranged(request: web.Request, data: bytes) -> web.Response:
    """``data``, honouring one byte range the way object storage does."""
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
