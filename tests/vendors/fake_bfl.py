"""A fake Black Forest Labs API (FLUX 3 Video) on 127.0.0.1.

It answers the way BFL documents (``black-forest-labs/skills`` API quick references and
FLUX 3 guidance; docs.bfl.ml get_result, errors and credits pages). Serve it with
``FakeBfl().serve()``; the adapter's base URL is ``fake.url``.

Auth: every ``/v1/*`` and ``/<region>/v1/*`` request needs ``x-key: <api_key>``; else 403
``{"detail": "Not authenticated - Invalid Authentication: key <the key sent> not found"}``
(quoting the key back, so tests can prove Takestock keeps it nowhere). Errors are
FastAPI's ``{"detail": str}`` or ``{"detail": [{"loc", "msg", "type"}]}``.

``POST /v1/flux-3-video``, checked in this order:
    active tasks >= ``max_active`` (5) -> 429 (``Retry-After`` when ``retry_after`` set);
    body not an object, a key BFL does not know -> 422 ``extra_forbidden``;
    ``draft_cache`` with any other field -> 422; else ``prompt`` missing -> 422;
    enums (``aspect_ratio``, ``resolution`` hd/fhd, ``duration`` "auto" or 5-20) -> 422;
    more than one input kind -> 422 naming the alternatives; ``batch`` without
        ``draft`` -> 422;
    keyframes: a string, a list of 1-10 strings, or a list of ``[seconds, image]`` with
        times non-negative, increasing by >= 1/24 s and within the duration -> else 422;
        images are https URLs or base64 PNG/JPEG/WebP that decode -> else 422;
    ``start_video`` / ``reference_video``: an https URL or base64 MP4 -> else 422;
    cost (credits; see ``cost_credits``) above ``credits`` -> 402 "Insufficient credits".
    -> 200 ``{"id", "polling_url": "<fake>/<region>/v1/get_result?id=<id>"}``; the cost is
    taken at once and given back when the task ends in Error.

``GET /<region>/v1/get_result?id=`` (the returned URL): ``Pending`` with a float
``progress`` for ``pending_polls`` polls, then ``Ready`` with ``result.sample`` (a signed
delivery link). Prompt markers: "#fail" -> ``Error``; "#refuse" -> ``Request Moderated``;
"#nsfw" -> ``Content Moderated``. An unknown id -> ``{"status": "Task not found"}``.
``GET /v1/get_result?id=`` on the global path always answers "Task not found": the task
lives in its region, so an adapter that builds the URL instead of following it fails.

``GET /v1/credits`` -> ``{"credits"}``. ``GET /delivery/{id}.mp4?se=&sig=`` -> the video
(``tests.vendors.fakeparts.SignedLinks``; ranges honoured; a request that carries the key
-> 400); forged, past ``url_ttl`` or issued before ``expire_urls()`` -> 403.

State for assertions: ``creates`` (accepted bodies), ``tasks``, ``count_creates()``,
``credits``, ``peak_active``, ``expire_urls()``.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

from tests.fakeserver import FakeServer
from tests.fakeserver.faults import Handler
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fakeparts import ServedFake, SignedLinks

__all__ = ["BODY_KEYS", "FakeBfl", "FakeBflTask", "cost_credits"]

BODY_KEYS = frozenset(
    {"prompt", "aspect_ratio", "resolution", "duration", "generate_audio", "seed", "version",
     "draft", "batch", "keyframes", "reference_images", "reference_video", "start_video",
     "draft_cache", "webhook_url"}
)  # fmt: skip
_INPUTS = ("keyframes", "reference_images", "reference_video", "start_video")
_ASPECTS = ("auto", "21:9", "2:1", "16:9", "4:3", "1:1", "3:4", "9:16")
_RATE = {"hd": 17, "fhd": 29}
_EXTEND_RATE = {"hd": 41, "fhd": 53}
_MP4_MAGIC = b"ftyp"


def cost_credits(body: Mapping[str, Any]) -> float:
    """Credits a create costs at the fake (a draft cache renders as 10 s fhd)."""
    if "draft_cache" in body:
        return float(_RATE["fhd"] * 10)
    resolution = str(body.get("resolution", "hd"))
    seconds = body.get("duration", 5)
    seconds = 5 if seconds == "auto" else int(seconds)
    rate = _EXTEND_RATE if "start_video" in body else _RATE
    return float(rate[resolution] * seconds)


class BflError(Exception):
    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _invalid(loc: list[str], msg: str, kind: str = "value_error") -> BflError:
    return BflError(422, [{"loc": ["body", *loc], "msg": msg, "type": kind}])


@dataclass
class FakeBflTask:
    id: str
    region: str
    body: dict[str, Any]
    cost: float
    polls: int = 0
    outcome: str = "Ready"
    refunded: bool = False


@dataclass(eq=False)
class FakeBfl(ServedFake):
    """The fake vendor's state and its aiohttp app; see the module docstring."""

    api_key: str = "bfl_test_key"
    credits: float = 100_000.0
    video: bytes | None = field(default=None, repr=False)
    pending_polls: int = 1
    region: str = "us1"
    url_ttl: float = 7200.0
    max_active: int = 5
    retry_after: float | None = None
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeBflTask] = field(default_factory=dict, init=False)
    peak_active: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self.links = SignedLinks("delivery", self.url_ttl, self.clock)
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/flux-3-video", self._create),
                web.get("/v1/get_result", self._global_result),
                web.get("/{region}/v1/get_result", self._result),
                web.get("/v1/credits", self._credits),
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
            if "/v1/" in request.path:
                sent = request.headers.get("x-key", "")
                if sent != self.api_key:
                    raise BflError(
                        403, f"Not authenticated - Invalid Authentication: key {sent} not found"
                    )
            return await handler(request)
        except BflError as exc:
            return web.json_response({"detail": exc.detail}, status=exc.status, headers=exc.headers)

    def _active(self) -> int:
        return sum(1 for t in self.tasks.values() if t.polls <= self.pending_polls)

    # ---- handlers ------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        with self._lock:
            if self._active() >= self.max_active:
                headers = (
                    {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
                )
                raise BflError(
                    429,
                    f"You have reached the limit of {self.max_active} active tasks; wait for "
                    "one to finish",
                    headers,
                )
        try:
            body = await request.json()
        except ValueError:
            raise BflError(400, "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _invalid([], "Input should be a valid dictionary", "dict_type")
        _check_body(body)
        cost = cost_credits(body)
        with self._lock:
            if cost > self.credits:
                raise BflError(402, "Insufficient credits")
            self.credits -= cost
            task = FakeBflTask(str(uuid.uuid4()), self.region, body, cost)
            prompt = str(body.get("prompt", ""))
            for marker, outcome in (("#fail", "Error"), ("#refuse", "Request Moderated"),
                                    ("#nsfw", "Content Moderated")):  # fmt: skip
                if marker in prompt:
                    task.outcome = outcome
            self.tasks[task.id] = task
            self.creates.append(body)
            self.peak_active = max(self.peak_active, self._active())
        polling_url = f"{request.scheme}://{request.host}/{task.region}/v1/get_result?id={task.id}"
        return web.json_response({"id": task.id, "polling_url": polling_url})

    async def _global_result(self, request: web.Request) -> web.Response:
        return web.json_response({"id": request.query.get("id"), "status": "Task not found"})

    async def _result(self, request: web.Request) -> web.Response:
        task_id = request.query.get("id", "")
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.region != request.match_info["region"]:
                return web.json_response({"id": task_id, "status": "Task not found"})
            task.polls += 1
            if task.polls <= self.pending_polls:
                progress = round(task.polls / (self.pending_polls + 1), 2)
                return web.json_response(
                    {"id": task.id, "status": "Pending", "result": None, "progress": progress}
                )
            if task.outcome == "Error" and not task.refunded:
                task.refunded = True
                self.credits += task.cost
            result = None
            if task.outcome == "Ready":
                result = {"sample": self.links.sign(request, task.id)}
            return web.json_response(
                {"id": task.id, "status": task.outcome, "result": result, "progress": None}
            )

    async def _credits(self, request: web.Request) -> web.Response:
        with self._lock:
            return web.json_response({"credits": self.credits})

    async def _file(self, request: web.Request) -> web.Response:
        if request.headers.get("x-key"):
            return web.Response(status=400, text="delivery links take no key")
        assert self.video is not None
        return self.links.serve(request, self.video)


# ---- request checks -----------------------------------------------------------------


def _check_body(body: dict[str, Any]) -> None:
    for key in body:
        if key not in BODY_KEYS:
            raise _invalid([key], "Extra inputs are not permitted", "extra_forbidden")
    if "draft_cache" in body:
        others = sorted(set(body) - {"draft_cache", "webhook_url"})
        if others:
            raise _invalid(others[:1], "draft_enhance takes no other generation fields")
        return
    if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
        raise _invalid(["prompt"], "Field required", "missing")
    if body.get("aspect_ratio", "auto") not in _ASPECTS:
        raise _invalid(["aspect_ratio"], f"Input should be one of {', '.join(_ASPECTS)}")
    if body.get("resolution", "hd") not in _RATE:
        raise _invalid(["resolution"], "Input should be 'hd' or 'fhd'")
    duration = body.get("duration", "auto")
    if duration != "auto" and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 5 <= duration <= 20
    ):
        raise _invalid(["duration"], "Input should be 'auto' or an integer from 5 to 20")
    if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        raise _invalid(["generate_audio"], "Input should be a valid boolean", "bool_type")
    given = [k for k in _INPUTS if k in body]
    if len(given) > 1:
        raise BflError(
            422,
            f"Only one input kind per request; got {', '.join(given)}. Choose one of t2v, "
            "i2v/k2v (keyframes), ir2v (reference_images), vr2v (reference_video), f2v "
            "(start_video).",
        )
    if "batch" in body and body.get("draft") is not True:
        raise _invalid(["batch"], "batch is only allowed with draft: true")
    if "keyframes" in body:
        _check_keyframes(body["keyframes"], duration)
    for index, ref in enumerate(body.get("reference_images") or ()):
        _check_image(ref, ["reference_images", str(index)])
    for key in ("start_video", "reference_video"):
        if key in body:
            _check_video(body[key], key)


def _check_keyframes(value: Any, duration: Any) -> None:
    if isinstance(value, str):
        _check_image(value, ["keyframes"])
        return
    if not isinstance(value, list) or not 1 <= len(value) <= 10:
        raise _invalid(["keyframes"], "keyframes takes an image or a list of 1 to 10")
    if all(isinstance(v, str) for v in value):
        for index, image in enumerate(value):
            _check_image(image, ["keyframes", str(index)])
        return
    times = []
    for index, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int | float)):
            raise _invalid(["keyframes", str(index)], "expected [seconds, image]")
        times.append(float(pair[0]))
        _check_image(pair[1], ["keyframes", str(index), "1"])
    steps = [b - a for a, b in itertools.pairwise(times)]
    if times[0] < 0 or any(step < 1 / 24 - 1e-9 for step in steps):
        raise _invalid(["keyframes"], "times must be non-negative and at least 1/24 s apart")
    if duration != "auto" and times[-1] > duration:
        raise _invalid(["keyframes"], f"keyframe at {times[-1]:g}s is past the duration")


def _check_image(value: Any, loc: list[str]) -> None:
    if not isinstance(value, str):
        raise _invalid(loc, "Input should be a URL or base64 image")
    if value.startswith("https://"):
        return
    try:
        raw = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            fmt = img.format
    except (binascii.Error, ValueError, OSError):
        raise _invalid(loc, "could not decode the image (URL or base64 PNG/JPEG/WebP)") from None
    if fmt not in ("PNG", "JPEG", "WEBP"):
        raise _invalid(loc, f"{fmt} images are not supported")


def _check_video(value: Any, key: str) -> None:
    if isinstance(value, str) and value.startswith("https://"):
        return
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid([key], "expected an https URL or a base64 MP4") from None
    if raw[4:8] != _MP4_MAGIC:
        raise _invalid([key], "the video is not an MP4")
