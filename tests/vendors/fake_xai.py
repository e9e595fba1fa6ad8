"""A fake xAI video API (Grok Imagine) on 127.0.0.1.

It answers the way xAI's REST API does as documented on docs.x.ai and read by an
independent client (``vercel/ai`` ``packages/xai/src/xai-video-model.ts``), with the
enums and limits of the official ``xai-sdk`` 1.21.0 proto. Serve it with
``FakeXai().serve()``; the adapter's base URL is ``fake.url``.

Auth: every ``/v1/*`` request needs ``Authorization: Bearer <api_key>`` exactly; else
401 ``{"code": "...", "error": "Incorrect API key provided: <the key sent>. ..."}`` —
xAI's words, quoting back whatever key was sent, so tests can prove Takestock keeps it
nowhere. Other errors are ``{"code", "error"}`` as well.

``POST /v1/videos/generations``, checked in this order:
    pending requests >= ``max_pending`` -> 429 (``Retry-After: retry_after`` when set);
    body not an object, a key outside the documented ones -> 400;
    ``model`` unknown or in ``retired_models`` -> 404 "The model X does not exist";
    ``prompt`` missing or blank -> 400; ``duration`` not an int 1-15 -> 422;
    ``aspect_ratio`` / ``resolution`` outside the proto's enums (1080p on ``-1.5`` only)
        -> 422; ``image`` and ``reference_images`` together -> 400;
    ``image`` / each of 1-7 ``reference_images`` must be ``{"url"}`` with an https URL or a
        ``data:image/...;base64,`` URI that decodes as an image -> else 400; reference
        images with more than 10 s -> 400;
    the cost (``cost_usd``) above ``credits`` -> 403 "...spending limit..." (xAI refuses a
        team out of credits with 403).
    -> 200 ``{"request_id": <uuid>}``; the cost is taken at once.
``POST /v1/videos/edits`` ``{model, prompt, video: {url}, user?}``: only the models in
    ``editors``; no duration/aspect/resolution (400 as unknown keys).
``POST /v1/videos/extensions`` ``{model, prompt, duration?, video: {url}}``: duration
    2-10 (422 else), default 6.

``GET /v1/videos/{request_id}``: ``pending`` (with ``progress``) for ``pending_polls``
polls, then ``done`` with ``video: {url, duration, respect_moderation: true}``,
``model`` and ``usage.cost_in_usd_ticks``. Prompt markers: "#fail" -> ``failed`` with
``error: {code: "internal_error", message}``; "#nsfw" -> ``done`` with
``respect_moderation: false`` and no url (billed); "#expire" -> ``expired``.
Unknown id -> 404.

``GET /vidgen/{id}.mp4?se=&sig=`` -> the video (a real tiny MP4; ``tests.vendors.
fakeparts.SignedLinks``): ranges honoured; forged, past ``url_ttl`` or issued before
``expire_urls()`` -> 403.

State for assertions: ``creates`` (accepted ``(path, body)``), ``requests_made``,
``count_creates()``, ``credits``, ``expire_urls()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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

__all__ = ["GENERATION_KEYS", "FakeXai", "FakeXaiRequest", "cost_usd"]

GENERATION_KEYS = frozenset(
    {"model", "prompt", "duration", "aspect_ratio", "resolution", "image", "reference_images",
     "user"}
)  # fmt: skip
_EDIT_KEYS = frozenset({"model", "prompt", "video", "user"})
_EXTEND_KEYS = frozenset({"model", "prompt", "duration", "video", "user"})
_ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
_RESOLUTIONS = {
    "grok-imagine-video": ("480p", "720p"),
    "grok-imagine-video-1.5": ("480p", "720p", "1080p"),
}
#: USD per output second by model and resolution; per input image; per input second.
_RATES = {
    "grok-imagine-video": {"480p": 0.05, "720p": 0.07},
    "grok-imagine-video-1.5": {"480p": 0.08, "720p": 0.14, "1080p": 0.25},
}
_IMAGE_USD = {"grok-imagine-video": 0.002, "grok-imagine-video-1.5": 0.01}
_INPUT_VIDEO_USD_S = 0.01
_INPUT_VIDEO_S = 6  # what the fake pretends every input video lasts


def cost_usd(path: str, body: Mapping[str, Any]) -> float:
    """What a create costs at the fake (edits and extensions with a 6 s input)."""
    model = str(body["model"])
    if path.endswith("/edits"):
        return round((_RATES[model]["720p"] + _INPUT_VIDEO_USD_S) * _INPUT_VIDEO_S, 6)
    if path.endswith("/extensions"):
        seconds = int(body.get("duration", 6))
        return round(_RATES[model]["720p"] * seconds + _INPUT_VIDEO_USD_S * _INPUT_VIDEO_S, 6)
    resolution = str(body.get("resolution", "480p"))
    images = len(body.get("reference_images") or ()) + (1 if body.get("image") else 0)
    seconds = int(body.get("duration", 8))
    return round(_RATES[model][resolution] * seconds + images * _IMAGE_USD[model], 6)


class XaiError(Exception):
    """Raised by handlers; the middleware answers ``{"code", "error"}`` with ``status``."""

    def __init__(
        self, status: int, code: str, error: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error
        self.headers = dict(headers or {})


def _bad(message: str, status: int = 400) -> XaiError:
    return XaiError(status, "Client specified an invalid argument", message)


@dataclass
class FakeXaiRequest:
    """One accepted create as the fake holds it.

    Attributes:
        images: what each inline image decoded to ({"field", "format", "width", "height"}).
    """

    id: str
    path: str
    model: str
    body: dict[str, Any]
    cost: float
    polls: int = 0
    outcome: str = "done"  # "done" | "failed" | "moderated" | "expired"
    images: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class FakeXai(ServedFake):
    """The fake vendor's state and its aiohttp app; see the module docstring."""

    api_key: str = "xai-test-key"
    credits: float = 1000.0
    video: bytes | None = field(default=None, repr=False)
    pending_polls: int = 1
    url_ttl: float = 86400.0
    max_pending: int | None = None
    retry_after: float | None = None
    retired_models: Iterable[str] = ()
    editors: Iterable[str] = ("grok-imagine-video",)
    clock: Callable[[], float] = time.time

    creates: list[tuple[str, dict[str, Any]]] = field(default_factory=list, init=False)
    requests_made: dict[str, FakeXaiRequest] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._retired = frozenset(self.retired_models)
        self._editors = frozenset(self.editors)
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self.links = SignedLinks("vidgen", self.url_ttl, self.clock)
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/videos/generations", self._generate),
                web.post("/v1/videos/edits", self._edit),
                web.post("/v1/videos/extensions", self._extend),
                web.get("/v1/videos/{request_id}", self._get),
                web.get(self.links.route, self._file),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def expire_urls(self) -> None:
        self.links.revoke()

    # ---- middleware and helpers ----------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/v1/"):
                auth = request.headers.get(hdrs.AUTHORIZATION, "")
                if auth != f"Bearer {self.api_key}":
                    sent = auth.removeprefix("Bearer ").strip()
                    raise XaiError(
                        401,
                        "Client specified an invalid argument",
                        f"Incorrect API key provided: {sent}. You can obtain an API key from "
                        "https://console.x.ai.",
                    )
            return await handler(request)
        except XaiError as exc:
            return web.json_response(
                {"code": exc.code, "error": exc.error}, status=exc.status, headers=exc.headers
            )

    async def _body(self, request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _bad("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _bad("The request body must be a JSON object")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise _bad(f"Unknown field(s) in request: {', '.join(unknown)}")
        model = body.get("model")
        if model not in _RATES or model in self._retired:
            raise XaiError(
                404,
                "Some requested entity was not found",
                f"The model {model} does not exist or your team does not have access to it.",
            )
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _bad("prompt must be a non-empty string")
        return body

    def _check_capacity(self) -> None:
        if self.max_pending is None:
            return
        with self._lock:
            pending = sum(1 for r in self.requests_made.values() if r.polls <= self.pending_polls)
        if pending >= self.max_pending:
            headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            raise XaiError(
                429,
                "Some resource has been exhausted",
                "Too many requests: the rate limit for grok-imagine-video is 1 request per second",
                headers,
            )

    def _store(self, path: str, body: dict[str, Any], images: list[dict[str, Any]]) -> str:
        cost = cost_usd(path, body)
        with self._lock:
            if cost > self.credits + 1e-9:
                raise XaiError(
                    403,
                    "The caller does not have permission to execute the specified operation",
                    "Your team has reached its monthly spending limit; raise it at console.x.ai",
                )
            self.credits -= cost
            made = FakeXaiRequest(str(uuid.uuid4()), path, body["model"], body, cost, images=images)
            prompt = body["prompt"]
            for marker, outcome in (("#fail", "failed"), ("#nsfw", "moderated"),
                                    ("#expire", "expired")):  # fmt: skip
                if marker in prompt:
                    made.outcome = outcome
            self.requests_made[made.id] = made
            self.creates.append((path, body))
        return made.id

    def _video_ref(self, value: Any) -> None:
        if not isinstance(value, dict) or set(value) != {"url"}:
            raise _bad("video must be {url}")
        if not str(value["url"]).startswith("https://"):
            raise _bad("video.url must be a public https URL")

    # ---- handlers ------------------------------------------------------------------

    async def _generate(self, request: web.Request) -> web.Response:
        self._check_capacity()
        body = await self._body(request, GENERATION_KEYS)
        model = body["model"]
        duration = body.get("duration", 8)
        if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 15:
            raise _bad("duration must be an integer between 1 and 15", 422)
        if body.get("aspect_ratio") is not None and body["aspect_ratio"] not in _ASPECTS:
            raise _bad(f"Invalid aspect_ratio {body['aspect_ratio']}", 422)
        if body.get("resolution") is not None and body["resolution"] not in _RESOLUTIONS[model]:
            raise _bad(f"Invalid resolution {body['resolution']} for {model}", 422)
        if body.get("image") is not None and body.get("reference_images"):
            raise _bad("image and reference_images cannot be used together")
        images = []
        if body.get("image") is not None:
            images.append(_image("image", body["image"]))
        references = body.get("reference_images")
        if references is not None:
            if not isinstance(references, list) or not 1 <= len(references) <= 7:
                raise _bad("reference_images takes 1 to 7 images")
            if duration > 10:
                raise _bad("reference-to-video supports at most 10 seconds")
            images += [_image(f"reference_images[{i}]", r) for i, r in enumerate(references)]
        request_id = self._store("/v1/videos/generations", body, images)
        return web.json_response({"request_id": request_id})

    async def _edit(self, request: web.Request) -> web.Response:
        self._check_capacity()
        body = await self._body(request, _EDIT_KEYS)
        if body["model"] not in self._editors:
            raise _bad(f"{body['model']} does not support video editing")
        self._video_ref(body.get("video"))
        return web.json_response({"request_id": self._store("/v1/videos/edits", body, [])})

    async def _extend(self, request: web.Request) -> web.Response:
        self._check_capacity()
        body = await self._body(request, _EXTEND_KEYS)
        if body["model"] not in self._editors:
            raise _bad(f"{body['model']} does not support video extension")
        duration = body.get("duration", 6)
        if isinstance(duration, bool) or not isinstance(duration, int) or not 2 <= duration <= 10:
            raise _bad("duration must be an integer between 2 and 10", 422)
        self._video_ref(body.get("video"))
        return web.json_response({"request_id": self._store("/v1/videos/extensions", body, [])})

    async def _get(self, request: web.Request) -> web.Response:
        with self._lock:
            made = self.requests_made.get(request.match_info["request_id"])
            if made is None:
                raise XaiError(404, "Some requested entity was not found", "Request not found")
            made.polls += 1
            if made.polls <= self.pending_polls:
                progress = int(100 * made.polls / (self.pending_polls + 1))
                return web.json_response({"status": "pending", "progress": progress})
            usage = {"cost_in_usd_ticks": round(made.cost * 1e10)}
            duration = int(made.body.get("duration", 8))
            if made.outcome == "failed":
                return web.json_response(
                    {
                        "status": "failed",
                        "video": {"duration": 0, "respect_moderation": True},
                        "model": "",
                        "error": {"code": "internal_error", "message": "Video generation failed"},
                    }
                )
            if made.outcome == "expired":
                return web.json_response({"status": "expired", "model": made.model})
            video: dict[str, Any] = {"duration": duration, "respect_moderation": True}
            if made.outcome == "moderated":
                video["respect_moderation"] = False
            else:
                video["url"] = self.links.sign(request, made.id)
            return web.json_response(
                {
                    "status": "done",
                    "video": video,
                    "model": made.model,
                    "usage": usage,
                    "progress": 100,
                }
            )

    async def _file(self, request: web.Request) -> web.Response:
        assert self.video is not None
        return self.links.serve(request, self.video)


def _image(field_name: str, ref: Any) -> dict[str, Any]:
    """Check an ``{"url"}`` image the way xAI fetches it; describe an inline one."""
    if not isinstance(ref, dict) or set(ref) != {"url"} or not isinstance(ref["url"], str):
        raise _bad(f"{field_name} must be {{url}}")
    url = ref["url"]
    if url.startswith("https://"):
        return {"field": field_name, "url": url}
    prefix, sep, data = url.partition(";base64,")
    if not sep or not prefix.startswith("data:image/"):
        raise _bad(f"{field_name}.url must be an https URL or a base64 data URI")
    try:
        raw = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            width, height = img.size
            fmt = (img.format or "").lower()
    except (binascii.Error, ValueError, OSError):
        raise _bad(f"{field_name} could not be decoded as an image") from None
    if prefix.removeprefix("data:image/") not in (fmt, "jpg" if fmt == "jpeg" else fmt):
        raise _bad(f"{field_name} is {fmt}, not {prefix.removeprefix('data:')}")
    return {
        "field": field_name,
        "format": fmt,
        "width": width,
        "height": height,
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
