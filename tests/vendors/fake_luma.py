"""A fake Luma: the Agents API (``ray-3.2``) and the legacy Dream Machine API on one host.

It answers the way Luma does, from the official SDKs (``luma-agents`` 0.5.0 and
``lumaai`` 1.21.0: paths, body fields, response shapes, enums) and Luma's documentation
(docs.agents.lumalabs.ai error-handling and rate-limit guides; docs.lumalabs.ai errors
page), so the adapter is tested against the vendor's rules, not its own. Serve it with
``FakeLuma().serve()``; the one base URL for both surfaces is ``fake.url`` (the adapter's
override), and the SDKs take ``fake.url + "/v1"`` and ``fake.url + "/dream-machine/v1"``.

Auth: every ``/v1/*`` and ``/dream-machine/*`` request needs ``Authorization: Bearer
<api_key>`` exactly; else 401 ``{"detail": "Invalid API key provided"}``. Errors are
``{"detail": str}``, or FastAPI's list of ``{"loc", "msg", "type"}`` for a body that
does not fit the schema (422).

Agents ``POST /v1/generations``, checked in this order:
    concurrent (non-terminal) generations >= ``max_concurrent`` -> 429 (with
        ``Retry-After: retry_after`` when set);
    body not an object, a top-level or ``video`` key the SDK does not know, ``prompt``
        missing, ``model`` not ``uni-1``/``uni-1-max``/``ray-3.2`` (or in
        ``retired_models``), an enum value the SDK does not list -> 422 (list detail);
    ``type`` other than ``video`` -> 400 (this fake serves video only); an aspect ratio
        ray-3.2 does not take (the SDK lists 12; the model takes 6) -> 400;
    rule combinations (Luma: "parameter combination rejected") -> 422: anchor frames or
        extend with 10 s; ``keyframes`` with start/end/loop; loop with 10 s, HDR or an end
        frame; HDR below 720p, with 10 s or with extend; EXR without HDR;
    media refs: exactly one of url/data/generation_id/file_id; ``data`` needs a
        ``media_type`` of image/jpeg|png|webp and must decode as that image (else 422;
        over 50 MB -> 413); ``url`` must be http(s); ``generation_id`` must name a
        completed Agents video -> else 422;
    cost (USD cents; see ``agents_cost``) above ``credits`` -> 402 "Insufficient credits".
    -> 201 ``{"id": <uuid>, "type": "video", "model", "state": "queued", "created_at"}``;
    the cost is taken at once and given back when the generation fails.

Agents ``GET /v1/generations/{id}``: ``queued`` for ``queued_polls`` polls, then
    ``processing`` for ``processing_polls``, then ``completed`` with ``output: [{"type":
    "video", "url": <presigned>}]`` or ``failed`` with ``failure_code`` and
    ``failure_reason``. Prompt markers: "#nsfw" -> ``content_moderated``, "#fail" ->
    ``generation_failed``, "#budget" -> ``budget_exhausted``. Unknown id -> 404.

Dream Machine ``POST /dream-machine/v1/generations/video`` (what ``lumaai`` 1.21.0
sends) and ``POST /dream-machine/v1/generations`` (the older documented path), checked:
    ``dream_machine_gone`` -> 404 ``{"detail": "Not Found"}`` on every Dream Machine path;
    concurrency as above; unknown keys, a ``model`` other than ``ray-2``/``ray-flash-2``
        (or retired), enum values outside the SDK's -> 422 (list detail);
    keyframes: ``frame0``/``frame1`` each ``{"type": "image", "url"}`` or ``{"type":
        "generation", "id"}`` of a completed Dream Machine generation -> else 400;
        both null -> 400 "No keyframes provided";
    prompt: required without an image keyframe, 3 to 5000 characters -> 400 with the
        errors page's words; loop with an end frame or an interpolation -> 400 with the
        errors page's words ("Loop is not supported for end frame", ...);
    cost above ``credits`` -> 400 "Insufficient credits" (the status is our assumption:
        the errors page names no status for it).
    -> 201, the Generation object (``id``, ``generation_type``, ``state: queued``,
    ``model``, ``created_at``, ``assets: null``, ``failure_reason: null``, ``request``).

Dream Machine ``GET …/generations/{id}``: ``queued`` -> ``dreaming`` -> ``completed``
    (``assets.video`` presigned) or ``failed`` (``failure_reason``: "#nsfw" -> "Advanced
    prompt moderation failed", "#fail" -> "Job failed", an image URL that is not
    http(s) -> "Failed to read user input frames"). ``GET …/generations?limit&offset``
    lists, newest first. ``DELETE …/generations/{id}`` -> 204 and the generation is
    gone (404 after). ``GET /dream-machine/v1/credits`` -> ``{"credit_balance": cents}``.

``GET /cdn/{id}.mp4?X-Amz-Date&X-Amz-Expires&X-Amz-Signature`` -> the video (a real
tiny MP4) with ``Accept-Ranges: bytes`` and single ``Range`` requests answered 206; a
forged signature, a link past ``url_ttl`` or issued before ``expire_urls()`` -> 403
with S3's XML ``AccessDenied``.

State for assertions: ``creates`` (accepted ``(surface, body)``), ``generations``,
``count_creates()``, ``credits``, ``peak_active``, ``expire_urls()``, ``state_of()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import re
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

__all__ = [
    "AGENTS_BODY_KEYS",
    "DREAM_BODY_KEYS",
    "VIDEO_OPTION_KEYS",
    "FakeGeneration",
    "FakeLuma",
    "agents_cost",
    "dream_cost",
]

_S3_SECRET = b"fake-s3-secret"

# The SDKs' schemas: luma_agents.types.generation_create_params / video_options_param,
# lumaai.types.generation_create_params.
AGENTS_BODY_KEYS = frozenset(
    {
        "prompt", "aspect_ratio", "image_ref", "layering", "model", "output_format",
        "source", "style", "type", "user_id", "video", "web_search",
    }
)  # fmt: skip
VIDEO_OPTION_KEYS = frozenset(
    {
        "duration", "edit", "end_frame", "exr_export", "hdr", "keyframe_indexes",
        "keyframes", "loop", "resolution", "source_position", "start_frame",
    }
)  # fmt: skip
DREAM_BODY_KEYS = frozenset(
    {
        "model", "aspect_ratio", "callback_url", "concepts", "duration",
        "generation_type", "keyframes", "loop", "prompt", "resolution",
    }
)  # fmt: skip
_AGENTS_MODELS = ("uni-1", "uni-1-max", "ray-3.2")
_AGENTS_ASPECTS = (
    "3:1", "2:1", "21:9", "16:9", "4:3", "3:2", "1:1", "3:4", "2:3", "9:16", "1:2", "1:3"
)  # fmt: skip
_RAY32_ASPECTS = frozenset({"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"})
_AGENTS_TYPES = ("image", "image_edit", "video", "video_edit", "video_reframe", "layering")
_DREAM_MODELS = ("ray-2", "ray-flash-2")
_DREAM_ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
_REF_KEYS = ("url", "data", "generation_id", "file_id")
_IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

#: USD cents per 5-second block (SDR), and 5-second HDR / HDR+EXR prices.
_AGENTS_BLOCK = {"360p": 6, "540p": 15, "720p": 30, "1080p": 120}
_AGENTS_HDR = {"720p": 60, "1080p": 240}
_AGENTS_EXR = {"720p": 90, "1080p": 360}
#: USD per million output pixels, at 16:9 and 24 fps.
_DREAM_RATE = {"ray-2": 0.0064, "ray-flash-2": 0.0022}
_DREAM_PIXELS = {"540p": 960 * 540, "720p": 1280 * 720, "1080p": 1920 * 1080, "4k": 3840 * 2160}


def agents_cost(video: Mapping[str, Any]) -> float:
    """What an Agents video costs in USD cents (extend: one 5 s block)."""
    resolution = video.get("resolution") or "720p"
    if video.get("hdr"):
        return float((_AGENTS_EXR if video.get("exr_export") else _AGENTS_HDR)[resolution])
    blocks = 2 if video.get("duration") == "10s" else 1
    return float(_AGENTS_BLOCK[resolution] * blocks)


def dream_cost(body: Mapping[str, Any]) -> float:
    """What a Dream Machine video costs in USD cents."""
    seconds = 9 if body.get("duration") == "9s" else 5
    pixels = _DREAM_PIXELS[body.get("resolution") or "720p"] * 24 * seconds
    return round(pixels / 1e6 * _DREAM_RATE[body["model"]] * 100, 2)


class LumaError(Exception):
    """Raised by handlers; the middleware answers ``{"detail": …}`` with ``status``."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _schema(loc: Iterable[str], msg: str, kind: str) -> LumaError:
    """FastAPI's 422 for a body that does not fit the schema."""
    return LumaError(422, [{"loc": ["body", *loc], "msg": msg, "type": kind}])


def _enum(loc: Iterable[str], value: Any, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        words = ", ".join(repr(a) for a in allowed)
        raise _schema(loc, f"Input should be {words}", "literal_error")


@dataclass
class FakeGeneration:
    """One generation as the fake holds it.

    Attributes:
        outcome: how it ends ("completed" or "failed").
        images: what each inline image decoded to ({"field", "format", "width",
            "height", "sha256"}), for assertions.
    """

    id: str
    surface: str  # "agents" | "dream_machine"
    model: str
    body: dict[str, Any]
    cost: float
    created_at: float
    state: str = "queued"
    polls: int = 0
    outcome: str = "completed"
    failure_code: str | None = None
    failure_reason: str | None = None
    refunded: bool = False
    images: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state not in ("completed", "failed")


@dataclass(eq=False)
class FakeLuma:
    """The fake vendor's state and its aiohttp app; see the module docstring."""

    api_key: str = "luma-api-test"
    credits: float = 100_000.0
    video: bytes | None = field(default=None, repr=False)
    queued_polls: int = 1
    processing_polls: int = 1
    url_ttl: float = 3600.0
    max_concurrent: int | None = None
    retry_after: float | None = None
    retired_models: Iterable[str] = ()
    dream_machine_gone: bool = False
    clock: Callable[[], float] = time.time

    creates: list[tuple[str, dict[str, Any]]] = field(default_factory=list, init=False)
    generations: dict[str, FakeGeneration] = field(default_factory=dict, init=False)
    peak_active: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retired = frozenset(self.retired_models)
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._revoked_before = 0.0
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/generations", self._agents_create),
                web.get("/v1/generations/{gen_id}", self._agents_get),
                web.post("/dream-machine/v1/generations", self._dream_create),
                web.post("/dream-machine/v1/generations/video", self._dream_create),
                web.get("/dream-machine/v1/generations", self._dream_list),
                web.get("/dream-machine/v1/generations/{gen_id}", self._dream_get),
                web.delete("/dream-machine/v1/generations/{gen_id}", self._dream_delete),
                web.get("/dream-machine/v1/credits", self._credits),
                web.get("/cdn/{gen_id}.mp4", self._file),
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

    def count_creates(self, surface: str | None = None) -> int:
        """Accepted creates (each one charged), all or on one surface."""
        with self._lock:
            return sum(1 for s, _ in self.creates if surface in (None, s))

    def expire_urls(self) -> None:
        """Make every result link issued so far answer 403 (new polls sign anew)."""
        with self._lock:
            self._revoked_before = self.clock() + 1e-6

    def state_of(self, gen_id: str) -> str:
        with self._lock:
            return self.generations[gen_id].state

    def add_completed(self, surface: str, model: str) -> str:
        """A finished generation of ``surface`` (to extend), without a create."""
        gen = FakeGeneration(
            str(uuid.uuid4()), surface, model, {}, 0.0, self.clock(), state="completed"
        )
        with self._lock:
            self.generations[gen.id] = gen
        return gen.id

    # ---- middleware and helpers ----------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/dream-machine/") and self.dream_machine_gone:
                raise LumaError(404, "Not Found")
            if request.path.startswith(("/v1/", "/dream-machine/")):
                auth = request.headers.get(hdrs.AUTHORIZATION)
                if auth != f"Bearer {self.api_key}":
                    raise LumaError(401, "Invalid API key provided")
            return await handler(request)
        except LumaError as exc:
            return web.json_response({"detail": exc.detail}, status=exc.status, headers=exc.headers)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise LumaError(400, "Content-Type must be application/json")
        try:
            body = await request.json()
        except ValueError:
            raise LumaError(400, "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _schema([], "Input should be a valid dictionary", "dict_type")
        return body

    def _check_capacity(self) -> None:
        if self.max_concurrent is None:
            return
        with self._lock:
            active = sum(1 for g in self.generations.values() if g.active)
        if active >= self.max_concurrent:
            headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            raise LumaError(
                429,
                f"Concurrent generation limit reached ({self.max_concurrent} active)",
                headers,
            )

    def _generation(self, request: web.Request, surface: str) -> FakeGeneration:
        gen = self.generations.get(request.match_info["gen_id"])
        if gen is None or gen.surface != surface:
            raise LumaError(404, "Generation not found")
        return gen

    def _store(self, surface: str, model: str, body: dict[str, Any], cost: float) -> FakeGeneration:
        prompt = str(body.get("prompt") or "")
        with self._lock:
            if self.credits < cost:
                raise LumaError(402 if surface == "agents" else 400, "Insufficient credits")
            self.credits -= cost
            gen = FakeGeneration(str(uuid.uuid4()), surface, model, body, cost, self.clock())
            _outcome(gen, prompt)
            self.generations[gen.id] = gen
            self.creates.append((surface, body))
            active = sum(1 for g in self.generations.values() if g.active)
            self.peak_active = max(self.peak_active, active)
        return gen

    def _advance(self, gen: FakeGeneration, running: str) -> None:
        gen.polls += 1
        if gen.polls > self.queued_polls + self.processing_polls:
            gen.state = gen.outcome
        elif gen.polls > self.queued_polls:
            gen.state = running
        if gen.state == "failed" and not gen.refunded:
            gen.refunded = True
            self.credits += gen.cost

    def _sign(self, request: web.Request, gen: FakeGeneration) -> str:
        date = f"{self.clock():.6f}"
        expires = f"{self.url_ttl:g}"
        signature = _signature(gen.id, date, expires)
        return (
            f"{request.scheme}://{request.host}/cdn/{gen.id}.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-Signature={signature}"
        )

    # ---- Agents API ----------------------------------------------------------------

    async def _agents_create(self, request: web.Request) -> web.Response:
        self._check_capacity()
        body = await self._body(request)
        video = _agents_schema(body, self._retired)
        if body.get("type", "image") != "video":
            raise LumaError(400, "This fake serves type=video only")
        if body["model"] != "ray-3.2":
            raise LumaError(400, f"Model {body['model']} does not support type=video")
        aspect = body.get("aspect_ratio")
        if aspect is not None and aspect not in _RAY32_ASPECTS:
            raise LumaError(400, f"aspect_ratio {aspect} is not supported for ray-3.2 video")
        _agents_rules(video)
        images = []
        for key in ("start_frame", "end_frame"):
            if video.get(key) is not None:
                images += self._agents_ref(key, video[key])
        gen = self._store("agents", "ray-3.2", body, agents_cost(video))
        gen.images = images
        return web.json_response(
            {
                "id": gen.id,
                "type": "video",
                "model": gen.model,
                "state": "queued",
                "created_at": _iso(gen.created_at),
            },
            status=201,
        )

    def _agents_ref(self, key: str, ref: Any) -> list[dict[str, Any]]:
        if not isinstance(ref, dict):
            raise _schema(["video", key], "Input should be a valid dictionary", "dict_type")
        given = [k for k in _REF_KEYS if ref.get(k) is not None]
        if len(given) != 1:
            raise LumaError(
                422, f"video.{key}: provide exactly one of url, data, generation_id, file_id"
            )
        if given == ["generation_id"]:
            with self._lock:
                prior = self.generations.get(str(ref["generation_id"]))
            if prior is None or prior.surface != "agents" or prior.state != "completed":
                raise LumaError(
                    422, f"video.{key}.generation_id: no completed video {ref['generation_id']}"
                )
            return []
        if given == ["url"]:
            if not str(ref["url"]).startswith(("http://", "https://")):
                raise LumaError(422, f"video.{key}.url must be an http(s) URL")
            return []
        if given == ["file_id"]:
            raise LumaError(422, f"video.{key}.file_id: no such file")
        return [_decode(key, ref)]

    async def _agents_get(self, request: web.Request) -> web.Response:
        with self._lock:
            gen = self._generation(request, "agents")
            self._advance(gen, "processing")
            view: dict[str, Any] = {
                "id": gen.id,
                "type": "video",
                "model": gen.model,
                "state": gen.state,
                "created_at": _iso(gen.created_at),
            }
            if gen.state == "completed":
                view["output"] = [{"type": "video", "url": self._sign(request, gen)}]
            elif gen.state == "failed":
                view["failure_code"] = gen.failure_code
                view["failure_reason"] = gen.failure_reason
        return web.json_response(view)

    # ---- Dream Machine API ---------------------------------------------------------

    async def _dream_create(self, request: web.Request) -> web.Response:
        self._check_capacity()
        body = await self._body(request)
        _dream_schema(body, self._retired)
        frames = self._dream_keyframes(body.get("keyframes"))
        _dream_prompt(body, frames)
        _dream_loop(body, frames)
        gen = self._store("dream_machine", body["model"], body, dream_cost(body))
        for frame in frames.values():
            if frame.get("type") == "image" and not str(frame.get("url", "")).startswith(
                ("http://", "https://")
            ):
                gen.outcome, gen.failure_reason = "failed", "Failed to read user input frames"
        return web.json_response(self._dream_view(request, gen), status=201)

    def _dream_keyframes(self, keyframes: Any) -> dict[str, dict[str, Any]]:
        if keyframes is None:
            return {}
        if not isinstance(keyframes, dict) or set(keyframes) - {"frame0", "frame1"}:
            raise _schema(["keyframes"], "Input should be {frame0?, frame1?}", "model_type")
        frames = {k: v for k, v in keyframes.items() if v is not None}
        if not frames:
            raise LumaError(400, "No keyframes provided")
        for name, frame in frames.items():
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "image" and set(frame) == {"type", "url"} and isinstance(frame["url"], str):
                continue
            if kind == "generation" and set(frame) == {"type", "id"}:
                with self._lock:
                    prior = self.generations.get(str(frame["id"]))
                if prior is None or prior.surface != "dream_machine":
                    raise LumaError(400, f"keyframes.{name}: generation {frame['id']} not found")
                if prior.state != "completed":
                    raise LumaError(400, f"keyframes.{name}: generation {frame['id']} not done")
                continue
            raise _schema(
                ["keyframes", name],
                "Input should be {type: image, url} or {type: generation, id}",
                "union_tag_invalid",
            )
        return frames

    def _dream_view(self, request: web.Request, gen: FakeGeneration) -> dict[str, Any]:
        assets = None
        if gen.state == "completed":
            assets = {"video": self._sign(request, gen), "image": None, "progress_video": None}
        return {
            "id": gen.id,
            "generation_type": "video",
            "state": gen.state,
            "failure_reason": gen.failure_reason if gen.state == "failed" else None,
            "created_at": _iso(gen.created_at),
            "assets": assets,
            "model": gen.model,
            "request": gen.body,
        }

    async def _dream_get(self, request: web.Request) -> web.Response:
        with self._lock:
            gen = self._generation(request, "dream_machine")
            self._advance(gen, "dreaming")
            return web.json_response(self._dream_view(request, gen))

    async def _dream_list(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", 10))
        offset = int(request.query.get("offset", 0))
        with self._lock:
            mine = sorted(
                (g for g in self.generations.values() if g.surface == "dream_machine"),
                key=lambda g: -g.created_at,
            )
            page = [self._dream_view(request, g) for g in mine[offset : offset + limit]]
        return web.json_response(
            {
                "generations": page,
                "count": len(page),
                "has_more": offset + limit < len(mine),
                "limit": limit,
                "offset": offset,
            }
        )

    async def _dream_delete(self, request: web.Request) -> web.Response:
        with self._lock:
            gen = self._generation(request, "dream_machine")
            del self.generations[gen.id]
        return web.Response(status=204)

    async def _credits(self, request: web.Request) -> web.Response:
        with self._lock:
            return web.json_response({"credit_balance": self.credits})

    # ---- result files --------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        gen_id = request.match_info["gen_id"]
        date = request.query.get("X-Amz-Date", "")
        expires = request.query.get("X-Amz-Expires", "")
        given = request.query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(given, _signature(gen_id, date, expires)):
            return _denied("The request signature we calculated does not match.")
        signed_at = float(date)
        with self._lock:
            revoked = signed_at < self._revoked_before
            gen = self.generations.get(gen_id)
        if revoked or self.clock() >= signed_at + float(expires):
            return _denied("Request has expired")
        if gen is None or gen.state != "completed":
            return web.Response(status=404, text="NoSuchKey")
        assert self.video is not None
        return _ranged(request, self.video)


# ---- request checks ---------------------------------------------------------------


def _outcome(gen: FakeGeneration, prompt: str) -> None:
    agents = gen.surface == "agents"
    if "#nsfw" in prompt:
        gen.outcome = "failed"
        gen.failure_code = "content_moderated" if agents else None
        gen.failure_reason = (
            "The prompt or input image violated content guidelines"
            if agents
            else "Advanced prompt moderation failed"
        )
    elif "#budget" in prompt and agents:
        gen.outcome, gen.failure_code = "failed", "budget_exhausted"
        gen.failure_reason = "Ran out of funds mid-generation"
    elif "#fail" in prompt:
        gen.outcome = "failed"
        gen.failure_code = "generation_failed" if agents else None
        gen.failure_reason = "Internal model error during generation" if agents else "Job failed"


def _agents_schema(body: dict[str, Any], retired: frozenset[str]) -> dict[str, Any]:
    for key in body:
        if key not in AGENTS_BODY_KEYS:
            raise _schema([key], "Extra inputs are not permitted", "extra_forbidden")
    if not isinstance(body.get("prompt"), str):
        raise _schema(["prompt"], "Field required", "missing")
    _enum(["model"], body.get("model", "uni-1"), (m for m in _AGENTS_MODELS if m not in retired))
    _enum(["type"], body.get("type", "image"), _AGENTS_TYPES)
    if body.get("aspect_ratio") is not None:
        _enum(["aspect_ratio"], body["aspect_ratio"], _AGENTS_ASPECTS)
    video = body.get("video") or {}
    if not isinstance(video, dict):
        raise _schema(["video"], "Input should be a valid dictionary", "dict_type")
    for key in video:
        if key not in VIDEO_OPTION_KEYS:
            raise _schema(["video", key], "Extra inputs are not permitted", "extra_forbidden")
    if video.get("duration") is not None:
        _enum(["video", "duration"], video["duration"], ("5s", "10s"))
    if video.get("resolution") is not None:
        _enum(["video", "resolution"], video["resolution"], ("360p", "540p", "720p", "1080p"))
    for key in ("loop", "hdr", "exr_export"):
        if video.get(key) is not None and not isinstance(video[key], bool):
            raise _schema(["video", key], "Input should be a valid boolean", "bool_type")
    return video


def _agents_rules(video: dict[str, Any]) -> None:
    """The combinations ray-3.2 refuses (422: "parameter combination rejected")."""
    ten = video.get("duration") == "10s"
    frames = [k for k in ("start_frame", "end_frame") if video.get(k) is not None]
    extend = any(isinstance(video.get(k), dict) and video[k].get("generation_id") for k in frames)
    problems = [
        (bool(video.get("keyframes")) and bool(frames or video.get("loop")),
         "video.keyframes is mutually exclusive with start_frame, end_frame and loop"),
        (ten and bool(frames), "anchor frames and extend are not supported with 10s"),
        (bool(video.get("loop")) and ten, "loop is not supported with duration=10s"),
        (bool(video.get("loop")) and bool(video.get("hdr")), "loop is not supported with hdr"),
        (bool(video.get("loop")) and video.get("end_frame") is not None,
         "loop is not supported with an end_frame"),
        (bool(video.get("hdr")) and video.get("resolution", "720p") not in ("720p", "1080p"),
         "hdr requires resolution 720p or 1080p"),
        (bool(video.get("hdr")) and ten, "hdr is not supported with duration=10s"),
        (bool(video.get("hdr")) and extend, "extend is standard dynamic range only"),
        (bool(video.get("exr_export")) and not video.get("hdr"), "exr_export requires hdr=true"),
    ]  # fmt: skip
    for broken, message in problems:
        if broken:
            raise LumaError(422, message)


def _decode(key: str, ref: dict[str, Any]) -> dict[str, Any]:
    mime = ref.get("media_type")
    if mime not in _IMAGE_TYPES:
        raise LumaError(422, f"video.{key}.media_type must be an image type with data")
    try:
        data = base64.b64decode(str(ref["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise LumaError(422, f"video.{key}.data is not valid base64") from None
    if len(data) > 50 * 2**20:
        raise LumaError(413, "Input media exceeds the 50 MB limit")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            fmt = img.format
    except OSError:
        raise LumaError(422, f"video.{key}.data cannot be decoded as an image") from None
    if fmt != _IMAGE_TYPES[mime]:
        raise LumaError(422, f"video.{key}.data is {fmt}, not {mime}")
    return {
        "field": key,
        "format": mime,
        "width": width,
        "height": height,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _dream_schema(body: dict[str, Any], retired: frozenset[str]) -> None:
    for key in body:
        if key not in DREAM_BODY_KEYS:
            raise _schema([key], "Extra inputs are not permitted", "extra_forbidden")
    if "model" not in body:
        raise _schema(["model"], "Field required", "missing")
    _enum(["model"], body["model"], (m for m in _DREAM_MODELS if m not in retired))
    if body.get("aspect_ratio") is not None:
        _enum(["aspect_ratio"], body["aspect_ratio"], _DREAM_ASPECTS)
    if body.get("duration") is not None:
        _enum(["duration"], body["duration"], ("5s", "9s"))
    if body.get("resolution") is not None:
        _enum(["resolution"], body["resolution"], ("540p", "720p", "1080p", "4k"))
    if body.get("generation_type") is not None:
        _enum(["generation_type"], body["generation_type"], ("video",))
    if body.get("loop") is not None and not isinstance(body["loop"], bool):
        raise _schema(["loop"], "Input should be a valid boolean", "bool_type")


def _dream_prompt(body: dict[str, Any], frames: dict[str, dict[str, Any]]) -> None:
    prompt = body.get("prompt")
    has_image = any(f.get("type") == "image" for f in frames.values())
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        if not has_image:
            raise LumaError(400, "Prompt is required")
        return
    if not isinstance(prompt, str):
        raise _schema(["prompt"], "Input should be a valid string", "string_type")
    if len(prompt) < 3:
        raise LumaError(400, "Prompt is too short, minimum length is 3 characters")
    if len(prompt) > 5000:
        raise LumaError(400, "Prompt is too long, maximum length is 5000 characters")


def _dream_loop(body: dict[str, Any], frames: dict[str, dict[str, Any]]) -> None:
    if not body.get("loop") or "frame1" not in frames:
        return
    first = frames.get("frame0", {}).get("type")
    last = frames["frame1"]["type"]
    message = {
        (None, "image"): "Loop is not supported for end frame",
        ("image", "image"): "Loop is not supported for keyframes",
        (None, "generation"): "Loop is not supported for extend reverse",
        ("generation", "image"): "Loop is not supported for interpolate video to image",
        ("image", "generation"): "Loop is not supported for interpolate image to video",
        ("generation", "generation"): "Loop is not supported for interpolate between two videos",
    }[(first, last)]
    raise LumaError(400, message)


# ---- responses --------------------------------------------------------------------


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def _signature(gen_id: str, date: str, expires: str) -> str:
    return hmac.new(_S3_SECRET, f"{gen_id}\n{date}\n{expires}".encode(), "sha256").hexdigest()


def _denied(message: str) -> web.Response:
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
