"""A fake Kling on 127.0.0.1: both of Kling's video APIs, its auth, codes and shapes.

What it checks the way Kling does (facts: shared/vendors/kling.md and the kling.ai
document snapshot of 2026-09-20):

Auth: ``Authorization: Bearer <token>`` on every API path. A token is either the API key
    (``api_key``; accepted everywhere) or an HS256 JWT signed with ``secret_key`` whose
    ``iss`` is ``access_key``, with ``exp`` and ``nbf`` (accepted on ``/v1/*`` and
    ``/account/*`` only; the new API answers 401/1002 "does not support AK/SK").
    Missing header 401/1001; not a Bearer, unknown key, bad signature or issuer 401/1002;
    ``nbf`` in the future 401/1003; ``exp`` past 401/1004.

``POST /v1/videos/{text2video,image2video}`` — ``model_name`` (the models Kling serves
    there; kling-v1 answers 1201 "discontinued"; unknown 404/1203), ``mode`` std|pro
    (masters pro only), ``duration`` a *string* the model offers, ``prompt`` (t2v: required)
    and ``negative_prompt`` ≤ 2500 chars, ``aspect_ratio`` (t2v), ``image``/``image_tail``
    (i2v: base64 with no ``data:`` prefix, or an http(s) URL; jpg/png, ≤ 10 MB, sides
    ≥ 300 px, aspect 1:2.5–2.5:1; ``image_tail`` only where the model has it), ``sound``
    on|off (v2.6 and v3 only; v2.6 pro only and not with a tail), ``cfg_scale`` 0–1 (v1.x
    only), ``camera_control`` (v1.5 i2v, pro, 5 s; not with a tail), ``external_task_id``
    (unique per account: 400/1201 "already exists"). → ``data.task_id``.
``GET /v1/videos/{kind}/{id}`` — by task id or external id; unknown 400/1201 "Task not
    found by id/external id". ``GET /v1/videos/{kind}?pageNum&pageSize`` lists.
``POST /{text-to-video,image-to-video}/{model}`` — the new API (kling-3.0-turbo,
    kling-3.0, kling-2.6, kling-2.5-turbo): ``prompt`` or ``contents[]`` (prompt,
    first_frame, last_frame), ``settings`` (resolution, int duration, aspect_ratio for
    t2v, audio native|off where the model has the field), ``options.external_task_id``.
    → ``data.id``. ``GET /tasks?task_ids=|external_task_ids=`` → ``data: [...]`` (unknown
    ids are simply absent).
``GET /account/costs?start_time&end_time`` (ms, both required) → resource packs; a
    second call within ``costs_min_interval`` s answers 429/1302 (Kling asks QPS ≤ 1).

A create costs Kling's price in units, taken at once (429/1102 when the packs run
short) and given back if the task fails; more running tasks than ``concurrency`` →
429/1303. Prompt markers: "#nsfw" → 400/1301 at create; "#risk" → the task fails with
"Failure to pass the risk control system"; "#fail" → it fails with an internal error.
Each GET of a task by its system id is a poll: "submitted" for ``queued_polls`` polls,
"processing" for ``running_polls``, then final. A finished task's video URL is stable,
signed, and answers 403 once past ``url_ttl`` or after ``expire_urls()``; Range works.

State for assertions: ``creates`` (``{"path", "body", "auth"}`` of accepted creates),
``tasks``, ``count_creates(external_id)``, ``units``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import hdrs, web
from PIL import Image

from tests.fakeserver import FakeServer, tiny_mp4
from tests.fakeserver.faults import Handler
from tests.fakeserver.generic import _ranged

__all__ = ["FakeKling", "KlingTask"]

ACCESS_KEY = "AK-kling-0123456789abcdef"
SECRET_KEY = "SK-kling-fedcba9876543210-0f1e2d3c4b5a"
API_KEY = "kling-api-key-5f3c9a1e2d4b6c8e"

_LONG = [str(d) for d in range(3, 16)]
_SHORT = ["5", "10"]
#: v1 models: endpoints, durations, modes, tail, sound.
V1_MODELS: dict[str, dict[str, Any]] = {
    "kling-v1-5": {"kinds": {"image2video"}, "tail": {"pro"}, "cfg": True, "camera": True},
    "kling-v1-6": {"kinds": {"text2video", "image2video"}, "tail": {"pro"}, "cfg": True},
    "kling-v2-master": {"kinds": {"text2video", "image2video"}, "modes": {"pro"}},
    "kling-v2-1": {"kinds": {"image2video"}, "tail": {"pro"}},
    "kling-v2-1-master": {"kinds": {"text2video", "image2video"}, "modes": {"pro"}},
    "kling-v2-5-turbo": {"kinds": {"text2video", "image2video"}},
    "kling-v2-6": {"kinds": {"text2video", "image2video"}, "tail": {"pro"}, "sound": {"pro"}},
    "kling-v3": {
        "kinds": {"text2video", "image2video"},
        "tail": {"std", "pro"},
        "sound": {"std", "pro"},
        "durations": _LONG,
    },
}
#: new-API models: resolutions, durations, audio field, last frame, prompt cap.
NEW_MODELS: dict[str, dict[str, Any]] = {
    "kling-3.0-turbo": {"res": {"720p", "1080p"}, "dur": range(3, 16), "audio": False,
                        "last": None, "prompt": 3072},
    "kling-3.0": {"res": {"720p", "1080p", "4k"}, "dur": range(3, 16), "audio": True,
                  "last": {"720p", "1080p", "4k"}, "prompt": 3072},
    "kling-2.6": {"res": {"720p", "1080p"}, "dur": (5, 10), "audio": True,
                  "audio_res": {"1080p"}, "last": {"1080p"}, "prompt": 2500},
    "kling-2.5-turbo": {"res": {"720p", "1080p"}, "dur": (5, 10), "audio": False,
                        "last": {"1080p"}, "prompt": 2500},
}  # fmt: skip
RETIRED = {"kling-v1"}
AUTH = web.RequestKey("auth", str)
_MODE_RES = {"std": "720p", "pro": "1080p"}


class _KlingError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> _KlingError:
    return _KlingError(400, 1201, message)


def price(model: str, resolution: str, seconds: float, audio: bool) -> float:
    """Kling's list price in units (kling.md §7, the 2026 video price list)."""
    per_clip = {
        "kling-v1-5": (2, 3.5),
        "kling-v1-6": (2, 3.5),
        "kling-v2-1": (2, 3.5),
        "kling-v2-master": (10, 10),
        "kling-v2-1-master": (10, 10),
        "kling-v2-5-turbo": (1.5, 2.5),
        "kling-v2-6": (1.5, 5 if audio else 2.5),
    }
    if model in per_clip:
        std, pro = per_clip[model]
        return (pro if resolution == "1080p" else std) * seconds / 5
    per_second = {
        "kling-v3": {"720p": 0.9 if audio else 0.6, "1080p": 1.2 if audio else 0.8},
        "kling-3.0": {"720p": 0.9 if audio else 0.6, "1080p": 1.2 if audio else 0.8, "4k": 3.0},
        "kling-3.0-turbo": {"720p": 0.8, "1080p": 1.0},
        "kling-2.6": {"720p": 0.3, "1080p": 1.0 if audio else 0.5},
        "kling-2.5-turbo": {"720p": 0.3, "1080p": 0.5},
    }
    return per_second[model][resolution] * seconds


@dataclass
class KlingTask:
    """One task as the fake Kling holds it."""

    id: str
    external_id: str
    api: str  # "v1" or "new"
    kind: str  # text2video / image2video / text-to-video / image-to-video
    model: str
    prompt: str
    cost: float
    created_ms: int
    outcome: str = "succeed"
    reason: str = ""
    polls: int = 0
    refunded: bool = False


@dataclass(eq=False)
class FakeKling:
    """The fake's state and its aiohttp app; see the module docstring."""

    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    api_key: str | None = API_KEY
    units: float = 1000.0
    concurrency: int = 5
    queued_polls: int = 1
    running_polls: int = 1
    url_ttl: float = 3600.0
    costs_min_interval: float = 1.0
    video: bytes | None = field(default=None, repr=False)
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, KlingTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._next_id = 860_000_000_000_000_001
        self._revoked: set[str] = set()
        self._last_costs: float | None = None
        self._url_key = uuid.uuid4().bytes
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/videos/{kind:text2video|image2video}", self._create_v1),
                web.get("/v1/videos/{kind:text2video|image2video}", self._list_v1),
                web.get("/v1/videos/{kind:text2video|image2video}/{id}", self._get_v1),
                web.post("/{product:text-to-video|image-to-video}/{model}", self._create_new),
                web.get("/tasks", self._get_new),
                web.get("/account/costs", self._costs),
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

    def count_creates(self, external_id: str | None = None) -> int:
        with self._lock:
            if external_id is None:
                return len(self.creates)
            return sum(1 for t in self.tasks.values() if t.external_id == external_id)

    def expire_urls(self) -> None:
        """Every result URL issued so far answers 403 from now on."""
        with self._lock:
            self._revoked.update(self.tasks)

    def jwt_for(self, *, now: float | None = None, **claims: Any) -> str:
        """A token as Kling's docs sign it (for tests of the fake itself)."""
        now = self.clock() if now is None else now
        payload = {"iss": self.access_key, "exp": int(now) + 1800, "nbf": int(now) - 5, **claims}
        return jwt.encode(payload, self.secret_key, algorithm="HS256", headers={"typ": "JWT"})

    # ---- auth and errors -----------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if not request.path.startswith("/files/"):
                new_api = not request.path.startswith(("/v1/", "/account/"))
                request[AUTH] = self._authorise(request, new_api=new_api)
            return await handler(request)
        except _KlingError as exc:
            return web.json_response(
                {"code": exc.code, "message": exc.message, "request_id": str(uuid.uuid4())},
                status=exc.status,
            )

    def _authorise(self, request: web.Request, *, new_api: bool) -> str:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        if not header:
            raise _KlingError(401, 1001, "Authorization is empty")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token or token != token.strip():
            raise _KlingError(401, 1002, "Authorization is invalid")
        if self.api_key is not None and hmac.compare_digest(token, self.api_key):
            return "api_key"
        if token.count(".") != 2:
            raise _KlingError(401, 1002, "Authorization is invalid")
        if new_api:
            raise _KlingError(
                401,
                1002,
                "Authentication error. The current API does not support AK/SK; please go to "
                "the console (https://kling.ai/dev/api-key) to create API key.",
            )
        try:
            if jwt.get_unverified_header(token).get("alg") != "HS256":
                raise _KlingError(401, 1002, "Authorization is invalid")
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=["HS256"],
                options={"require": ["iss", "exp", "nbf"]},
            )
        except jwt.ExpiredSignatureError:
            raise _KlingError(401, 1004, "Authorization has expired") from None
        except jwt.ImmatureSignatureError:
            raise _KlingError(401, 1003, "Authorization is not yet valid") from None
        except jwt.InvalidTokenError:
            raise _KlingError(401, 1002, "Authorization is invalid") from None
        if claims["iss"] != self.access_key:
            raise _KlingError(401, 1000, "Authentication failed")
        return "jwt"

    # ---- validation helpers --------------------------------------------------------

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _KlingError(400, 1200, "Invalid request parameters") from None
        if not isinstance(body, dict):
            raise _KlingError(400, 1200, "Invalid request parameters")
        return body

    @staticmethod
    def _image(value: Any, name: str) -> None:
        if not isinstance(value, str) or not value:
            raise _bad(f"{name} must be a string")
        if value.startswith(("http://", "https://")):
            return
        if value.startswith("data:"):
            raise _bad(f"{name}: the Base64 string must not carry a data: prefix")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(f"{name} is neither a URL nor Base64") from None
        if len(raw) > 10 * 1024 * 1024:
            raise _bad(f"{name} is larger than 10MB")
        try:
            with Image.open(io.BytesIO(raw)) as img:
                fmt, (w, h) = img.format, img.size
        except OSError:
            raise _bad(f"{name} is not a picture") from None
        if fmt not in ("JPEG", "PNG"):
            raise _bad(f"{name} must be jpg/jpeg/png")
        if min(w, h) < 300 or not 0.4 <= w / h <= 2.5:
            raise _bad(f"{name}: sides must be >= 300px and aspect 1:2.5 ~ 2.5:1")

    @staticmethod
    def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
        value = body.get(key, "")
        if not isinstance(value, str):
            raise _bad(f"{key} must be a string")
        if required and not value.strip():
            raise _bad(f"{key} is required")
        if len(value) > limit:
            raise _bad(f"{key} cannot exceed {limit} characters")
        return value

    # ---- v1 ------------------------------------------------------------------------

    async def _create_v1(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        body = await self._body(request)
        model = body.get("model_name", "kling-v1")
        if model in RETIRED:
            raise _bad(f"The model '{model}' has been discontinued and is no longer available.")
        spec = V1_MODELS.get(model)
        if spec is None or kind not in spec["kinds"]:
            raise _KlingError(404, 1203, f"model {model} not found for {kind}")
        mode = body.get("mode", "std")
        if mode not in spec.get("modes", {"std", "pro"}):
            raise _bad(f"mode {mode!r} is not supported by {model}")
        duration = body.get("duration", "5")
        if not isinstance(duration, str) or duration not in spec.get("durations", _SHORT):
            raise _bad(f"duration {duration!r} is invalid")
        prompt = self._text(body, "prompt", 2500, required=kind == "text2video")
        self._text(body, "negative_prompt", 2500)
        tail = body.get("image_tail")
        if kind == "text2video":
            if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
                raise _bad("aspect_ratio is invalid")
        else:
            if not body.get("image") and not tail:
                raise _bad("image and image_tail cannot both be empty")
            if body.get("image"):
                self._image(body["image"], "image")
            if tail:
                self._image(tail, "image_tail")
                if mode not in spec.get("tail", set()):
                    raise _bad(f"image_tail is not supported by {model} in {mode} mode")
        sound = body.get("sound", "off")
        if sound not in ("on", "off") or (sound == "on" and mode not in spec.get("sound", ())):
            raise _bad(f"sound {sound!r} is not supported by {model} in {mode} mode")
        if sound == "on" and tail and model == "kling-v2-6":
            raise _bad("sound is not supported together with image_tail")
        if "cfg_scale" in body:
            cfg = body["cfg_scale"]
            if not spec.get("cfg") or not isinstance(cfg, int | float) or not 0 <= cfg <= 1:
                raise _bad("cfg_scale is not supported or out of [0, 1]")
        if "camera_control" in body:
            ok = spec.get("camera") and mode == "pro" and duration == "5" and not tail
            if not ok or not isinstance(body["camera_control"], dict):
                raise _bad("camera_control is not supported with these parameters")
        cost = price(model, _MODE_RES[mode], float(duration), sound == "on")
        external = body.get("external_task_id")
        task = self._start(request, external, "v1", kind, model, prompt, cost, body)
        data = {
            "task_id": task.id,
            "task_status": "submitted",
            "task_info": {"external_task_id": task.external_id},
            "created_at": task.created_ms,
            "updated_at": task.created_ms,
        }
        return self._ok(request, data)

    async def _get_v1(self, request: web.Request) -> web.Response:
        kind, key = request.match_info["kind"], request.match_info["id"]
        with self._lock:
            task = self.tasks.get(key)
            by_id = task is not None
            if task is None:
                task = next((t for t in self.tasks.values() if t.external_id == key), None)
            if task is None or task.api != "v1" or task.kind != kind:
                raise _bad("Task not found by id/external id")
            if by_id:
                task.polls += 1
            return self._ok(request, self._v1_view(request, task))

    async def _list_v1(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        try:
            page = int(request.query.get("pageNum", "1"))
            size = int(request.query.get("pageSize", "30"))
        except ValueError:
            raise _bad("pageNum and pageSize must be integers") from None
        if not (1 <= page <= 1000 and 1 <= size <= 500):
            raise _bad("pageNum must be in [1,1000] and pageSize in [1,500]")
        with self._lock:
            mine = [t for t in self.tasks.values() if t.api == "v1" and t.kind == kind][::-1]
            chunk = mine[(page - 1) * size : page * size]
            return self._ok(request, [self._v1_view(request, t) for t in chunk])

    # ---- the new API ---------------------------------------------------------------

    async def _create_new(self, request: web.Request) -> web.Response:
        product, model = request.match_info["product"], request.match_info["model"]
        spec = NEW_MODELS.get(model)
        if spec is None:
            raise _KlingError(404, 1203, f"model {model} not found")
        body = await self._body(request)
        settings = body.get("settings") or {}
        options = body.get("options") or {}
        if not isinstance(settings, dict) or not isinstance(options, dict):
            raise _bad("settings and options must be objects")
        resolution = settings.get("resolution", "720p")
        duration = settings.get("duration", 5)
        if resolution not in spec["res"]:
            raise _bad(f"settings.resolution {resolution!r} is invalid for {model}")
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise _bad("settings.duration must be an integer")
        if duration not in spec["dur"]:
            raise _bad(f"settings.duration {duration} is invalid for {model}")
        audio = settings.get("audio")
        if audio is not None and (not spec["audio"] or audio not in ("native", "off")):
            raise _bad(f"settings.audio is invalid for {model}")
        if audio == "native" and resolution not in spec.get("audio_res", spec["res"]):
            raise _bad("When audio=native, only 1080p videos are supported")
        if product == "text-to-video":
            prompt = self._text(body, "prompt", spec["prompt"], required=True)
            if settings.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
                raise _bad("settings.aspect_ratio is invalid")
        else:
            prompt = self._contents(body.get("contents"), spec, model, resolution)
        with_audio = audio == "native" or model == "kling-3.0-turbo"
        cost = price(model, resolution, float(duration), with_audio)
        external = options.get("external_task_id")
        task = self._start(request, external, "new", product, model, prompt, cost, body)
        data = {
            "id": task.id,
            "status": "submitted",
            "create_time": task.created_ms,
            "update_time": task.created_ms,
            "external_id": task.external_id,
        }
        return self._ok(request, data)

    def _contents(self, contents: Any, spec: dict[str, Any], model: str, resolution: str) -> str:
        if not isinstance(contents, list) or not contents:
            raise _bad("contents is required")
        kinds = [c.get("type") if isinstance(c, dict) else None for c in contents]
        if kinds.count("first_frame") != 1 or kinds.count("last_frame") > 1:
            raise _bad("contents needs exactly one first_frame (last-frame-only is not supported)")
        prompt = ""
        for item in contents:
            if item.get("type") == "prompt":
                prompt = self._text(item, "text", spec["prompt"])
            elif item.get("type") in ("first_frame", "last_frame"):
                self._image(item.get("url"), item["type"])
            else:
                raise _bad(f"contents type {item.get('type')!r} is not supported here")
        if "last_frame" in kinds and (spec["last"] is None or resolution not in spec["last"]):
            raise _bad(f"last_frame is not supported by {model} at {resolution}")
        return prompt

    async def _get_new(self, request: web.Request) -> web.Response:
        ids, externals = request.query.get("task_ids"), request.query.get("external_task_ids")
        if bool(ids) == bool(externals):
            raise _bad("task_ids or external_task_ids is required (one of them)")
        wanted = (ids or externals or "").split(",")
        with self._lock:
            found = []
            for task in self.tasks.values():
                if (task.id if ids else task.external_id) in wanted:
                    if ids:
                        task.polls += 1
                    found.append(self._new_view(request, task))
            return self._ok(request, found)

    # ---- account -------------------------------------------------------------------

    async def _costs(self, request: web.Request) -> web.Response:
        try:
            start = int(request.query["start_time"])
            end = int(request.query["end_time"])
        except (KeyError, ValueError):
            raise _bad("start_time and end_time (Unix ms) are required") from None
        if start >= end:
            raise _bad("start_time must be earlier than end_time")
        with self._lock:
            now = time.monotonic()
            if self._last_costs is not None and now - self._last_costs < self.costs_min_interval:
                raise _KlingError(429, 1302, "Too many requests; rate limit exceeded")
            self._last_costs = now
            packs = [
                self._pack("Trial-Video-100Units-5Con-1Months", 100, self.units, "online"),
                self._pack("Video Generation - 10,000 entries", 200, 118, "expired"),
                self._pack("Image Generation - 1,000 entries", 1000, 640, "online"),
            ]
        return self._ok(request, {"code": 0, "msg": "success",
                                  "resource_pack_subscribe_infos": packs})  # fmt: skip

    def _pack(self, name: str, total: float, remaining: float, status: str) -> dict[str, Any]:
        ms = int(self.clock() * 1000)
        return {
            "resource_pack_name": name,
            "resource_pack_id": hashlib.md5(name.encode()).hexdigest(),
            "resource_pack_type": "decreasing_total",
            "total_quantity": float(total),
            "remaining_quantity": float(remaining),
            "purchase_time": ms - 86_400_000,
            "effective_time": ms - 86_400_000,
            "invalid_time": ms + 29 * 86_400_000,
            "status": status,
        }

    # ---- tasks ---------------------------------------------------------------------

    def _start(
        self,
        request: web.Request,
        external: Any,
        api: str,
        kind: str,
        model: str,
        prompt: str,
        cost: float,
        body: dict[str, Any],
    ) -> KlingTask:
        if "#nsfw" in prompt:
            raise _KlingError(400, 1301, "Failure to pass the risk control system")
        with self._lock:
            if external is not None and not isinstance(external, str):
                raise _bad("external_task_id must be a string")
            if external and any(t.external_id == external for t in self.tasks.values()):
                raise _bad(f"external_task_id {external} already exists")
            running = sum(1 for t in self.tasks.values() if self._status(t) in (0, 1))
            if running >= self.concurrency:
                raise _KlingError(429, 1303, "parallel task over resource pack limit")
            if self.units < cost:
                raise _KlingError(429, 1102, "Account balance not enough")
            self.units -= cost
            task = KlingTask(
                id=str(self._next_id),
                external_id=external or "",
                api=api,
                kind=kind,
                model=model,
                prompt=prompt,
                cost=cost,
                created_ms=int(self.clock() * 1000),
            )
            self._next_id += 1
            if "#risk" in prompt:
                task.outcome, task.reason = "failed", "Failure to pass the risk control system"
            elif "#fail" in prompt:
                task.outcome, task.reason = "failed", "Task failed due to an internal error"
            self.tasks[task.id] = task
            self.creates.append({"path": request.path, "body": body, "auth": request[AUTH]})
        return task

    def _status(self, task: KlingTask) -> int:
        """0 submitted, 1 processing, 2 final."""
        if task.polls <= self.queued_polls:
            return 0
        return 1 if task.polls <= self.queued_polls + self.running_polls else 2

    def _state(self, task: KlingTask) -> str:
        phase = self._status(task)
        if phase < 2:
            return ("submitted", "processing")[phase]
        if task.outcome == "failed" and not task.refunded:
            task.refunded = True
            self.units += task.cost
        return task.outcome

    def _video_url(self, request: web.Request, task: KlingTask) -> str:
        expires = int(task.created_ms / 1000 + self.url_ttl)
        sig = hmac.new(self._url_key, f"{task.id}:{expires}".encode(), "sha256").hexdigest()
        return f"{request.scheme}://{request.host}/files/{task.id}.mp4?expires={expires}&sig={sig}"

    def _v1_view(self, request: web.Request, task: KlingTask) -> dict[str, Any]:
        state = self._state(task)
        view: dict[str, Any] = {
            "task_id": task.id,
            "task_status": state,
            "task_status_msg": task.reason if state == "failed" else "",
            "task_info": {"external_task_id": task.external_id},
            "created_at": task.created_ms,
            "updated_at": task.created_ms + 1000 * task.polls,
        }
        if state == "succeed":
            view["task_result"] = {
                "videos": [{"id": f"v{task.id}", "url": self._video_url(request, task),
                            "duration": "5.1"}]
            }  # fmt: skip
            view["final_unit_deduction"] = f"{task.cost:g}"
        elif state == "failed":
            view["final_unit_deduction"] = "0"
        return view

    def _new_view(self, request: web.Request, task: KlingTask) -> dict[str, Any]:
        state = self._state(task)
        state = "succeeded" if state == "succeed" else state
        view: dict[str, Any] = {
            "id": task.id,
            "status": state,
            "message": task.reason if state == "failed" else "",
            "create_time": task.created_ms,
            "update_time": task.created_ms + 1000 * task.polls,
            "external_id": task.external_id,
            "outputs": [],
            "billing": [],
        }
        if state == "succeeded":
            url = self._video_url(request, task)
            view["outputs"] = [{"type": "video", "id": f"v{task.id}", "url": url,
                                "watermark_url": url + "&wm=1", "duration": "5.1"}]  # fmt: skip
            view["billing"] = [
                {"charge_type": "unit", "amount": f"{task.cost:g}", "package_type": "video"}
            ]
        return view

    @staticmethod
    def _ok(request: web.Request, data: Any) -> web.Response:
        return web.json_response(
            {"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data}
        )

    # ---- results -------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        try:
            expires = int(request.query.get("expires", ""))
        except ValueError:
            expires = 0
        sig = hmac.new(self._url_key, f"{task_id}:{expires}".encode(), "sha256").hexdigest()
        with self._lock:
            task = self.tasks.get(task_id)
            good = task is not None and hmac.compare_digest(sig, request.query.get("sig", ""))
            revoked = task_id in self._revoked
        if not good or revoked or self.clock() >= expires:
            return web.Response(status=403, text="<Error><Code>AccessDenied</Code></Error>")
        assert self.video is not None
        return _ranged(request, self.video)
