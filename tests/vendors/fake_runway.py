"""A fake Runway API (api.dev.runwayml.com) on 127.0.0.1.

It answers the way Runway does, from the official ``runwayml`` SDK 5.24.0 (the create
types per model, the task and organization types, the ``tasks.delete`` docstring),
docs.dev.runwayml.com/assets/inputs (data URIs), runwayml/skills (failure codes, 429 on
the daily limit) and third-party captures of live answers (the validator's error shape,
204 to a DELETE and 404 after it), so the adapter is tested against the vendor's rules
and not its own. Serve it with ``FakeRunway().serve()``; its ``url`` is the base URL.

Auth: every ``/v1/*`` request needs ``Authorization: Bearer <api_key>`` exactly (else 401)
    and ``X-Runway-Version: 2024-11-06`` (else 400; Runway calls it required, the wording
    is ours). Errors are ``{"error": str}``, validation errors
    ``{"error": "Validation of body failed", "issues": [{"code", "path", "message", ...}],
    "docUrl"}`` with every issue at once, as Runway's validator does.

``POST /v1/{text_to_video,image_to_video,video_to_video}``, checked in this order:
    body not an object -> 400; ``model`` not served at that endpoint -> 400
    ``invalid_union`` on path ``["model"]`` ("No matching discriminator"); then every issue
    at once: unknown keys (``unrecognized_keys``: the validator is strict), missing
    required keys, ``ratio`` / ``resolution`` / ``duration`` outside the model's values,
    ``promptText`` empty or over the model's limit in UTF-16 code units, ``seed`` outside
    0..2^32-1, ``promptImage`` (a string or ``[{uri, position}]``: positions the model
    allows, ``first`` required, no duplicates) and video URIs, each an ``https://`` URL or a
    ``data:`` URI of the right media type, under 5 MiB encoded, that decodes (images must
    open as JPEG/PNG/WebP) -> 400 listing them. Then: the estimate over ``credits`` ->
    400 "You do not have enough credits to run this task."; the model's day count at its
    ``daily_limit`` -> 429 naming the daily limit. Accepted: the estimate is taken at
    once -> 200 ``{"id": <uuid>, "estimatedCost": {"credits"}}``.

``GET /v1/tasks/{id}``: each GET moves the task on: ``PENDING`` for ``pending_polls``
    polls, then ``THROTTLED`` while ``concurrency`` tasks of its model run, ``RUNNING``
    (``progress`` 0..1) for ``running_polls``, then final. Prompt markers: "#safety" ->
    FAILED ``SAFETY.INPUT.TEXT`` (credits kept), "#outsafety" -> ``SAFETY.OUTPUT.VIDEO``,
    "#badoutput" -> ``INTERNAL.BAD_OUTPUT.CODE01``, "#asset" -> ``ASSET.INVALID`` (all
    three refunded: ``cost`` 0). SUCCEEDED carries ``output`` (a CloudFront-style URL with
    a fresh ``_jwt`` at every answer, valid ``url_ttl`` s) and ``cost``. Unknown or
    deleted -> 404 ``{"error": "Could not find Task"}``.

``DELETE /v1/tasks/{id}`` -> 204, no body: a PENDING/THROTTLED task is cancelled and
    refunded, a RUNNING one cancelled and not refunded, a finished one deleted; either
    way it cannot be fetched again (404), unless ``keep_cancelled`` shows it CANCELLED.

``GET /v1/organization`` -> ``{"creditBalance", "tier": {"maxMonthlyCreditSpend",
    "models": {m: {"maxConcurrentGenerations", "maxDailyGenerations"}}}, "usage":
    {"models": {m: {"dailyGenerations"}}}}``.

``GET /files/{task}/output.mp4?_jwt=`` -> the video (a real tiny MP4), ``Accept-Ranges``,
    single ``Range`` requests answered 206; forged, expired or revoked -> 403.

State for assertions: ``creates`` (accepted bodies), ``tasks``, ``count_creates()``,
``credits``, ``expire_urls()``, ``status_of()``, ``peak_running``.
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

__all__ = ["API_VERSION", "RULES", "FakeRunway", "FakeTask"]

API_VERSION = "2024-11-06"
DOC_URL = "https://docs.dev.runwayml.com/api"
DATA_URI_MAX = 5 * 1024 * 1024
SEED_MAX = 2**32 - 1
_SECRET = b"fake-cloudfront-key"


@dataclass(frozen=True)
class Rules:
    """What one model takes at one endpoint (runwayml 5.24.0 create types)."""

    required: frozenset[str]
    optional: frozenset[str]
    durations: frozenset[int] = frozenset()
    ratios: frozenset[str] = frozenset()
    resolutions: frozenset[str] = frozenset()
    positions: frozenset[str] = frozenset({"first"})
    prompt_max: int = 1000
    rate: float = 0.0  # credits per second, this fake's price list
    audio_rate: float | None = None
    default_duration: int = 5


def _r(required: str, optional: str = "", **kw: Any) -> Rules:
    return Rules(frozenset(required.split()), frozenset(optional.split()), **kw)


_GEN4_RATIOS = frozenset({"1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"})
_VEO_RATIOS = frozenset({"1280:720", "720:1280", "1080:1920", "1920:1080"})
_SEEDANCE25_RATIOS = frozenset(
    {
        "992:432", "854:480", "752:560", "640:640", "560:752", "480:854",
        "1470:630", "1280:720", "1112:834", "960:960", "834:1112", "720:1280",
        "2206:946", "1920:1080", "1664:1248", "1440:1440", "1248:1664", "1080:1920",
    }
)  # fmt: skip
_KLING25_RATIOS = frozenset(
    {"1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280"}
)
_GROK_RATIOS = frozenset({"1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"})
_GEN45 = dict(durations=frozenset(range(2, 11)), rate=12)
_VEO = dict(durations=frozenset({4, 6, 8}), ratios=_VEO_RATIOS, default_duration=8)
_SEEDANCE25 = dict(
    durations=frozenset(range(4, 31)), ratios=_SEEDANCE25_RATIOS, prompt_max=15000, rate=30
)
_GROK = dict(
    durations=frozenset(range(1, 16)), resolutions=frozenset({"480p", "720p", "1080p"}), rate=16
)

#: (endpoint, model) -> rules. Only the models the tests use; any other is "unknown".
RULES: dict[tuple[str, str], Rules] = {
    ("text_to_video", "gen4.5"): _r(
        "model promptText ratio duration", "seed contentModeration outputFormat proresProfile",
        ratios=frozenset({"1280:720", "720:1280"}), **_GEN45,
    ),
    ("image_to_video", "gen4.5"): _r(
        "model promptImage promptText ratio duration",
        "seed contentModeration outputFormat proresProfile", ratios=_GEN4_RATIOS, **_GEN45,
    ),
    ("image_to_video", "gen4_turbo"): _r(
        "model promptImage ratio", "duration promptText seed contentModeration",
        durations=frozenset(range(2, 11)), ratios=_GEN4_RATIOS, rate=5,
    ),
    ("text_to_video", "veo3.1"): _r(
        "model promptText ratio", "audio duration negativePrompt seed", rate=20, audio_rate=40,
        **_VEO,
    ),
    ("image_to_video", "veo3.1"): _r(
        "model promptImage ratio", "audio duration negativePrompt promptText seed",
        positions=frozenset({"first", "last"}), rate=20, audio_rate=40, **_VEO,
    ),
    ("text_to_video", "veo3.1_fast"): _r(
        "model promptText ratio", "audio duration negativePrompt seed", rate=10, audio_rate=15,
        **_VEO,
    ),
    ("image_to_video", "veo3.1_fast"): _r(
        "model promptImage ratio", "audio duration negativePrompt promptText seed",
        positions=frozenset({"first", "last"}), rate=10, audio_rate=15, **_VEO,
    ),
    ("text_to_video", "kling2.5_turbo_pro"): _r(
        "model promptText", "cfgScale duration ratio", durations=frozenset({5, 10}),
        ratios=_KLING25_RATIOS, prompt_max=2500, rate=7,
    ),
    ("image_to_video", "kling2.5_turbo_pro"): _r(
        "model promptImage promptText", "cfgScale duration", durations=frozenset({5, 10}),
        positions=frozenset({"first", "last"}), prompt_max=2500, rate=7,
    ),
    ("text_to_video", "grok_imagine_1_5"): _r(
        "model promptText", "duration ratio referenceAudio references resolution",
        ratios=_GROK_RATIOS, **_GROK,
    ),
    ("image_to_video", "grok_imagine_1_5"): _r(
        "model promptImage", "duration promptText resolution", **_GROK
    ),
    ("text_to_video", "seedance2_5"): _r(
        "model", "audio draft draftTaskId duration outputFormat promptText ratio referenceAudio "
        "references referenceVideos seed", **_SEEDANCE25,
    ),
    ("image_to_video", "seedance2_5"): _r(
        "model promptImage", "audio draft duration outputFormat promptText ratio referenceAudio "
        "seed", positions=frozenset({"first", "last"}), **_SEEDANCE25,
    ),
    ("video_to_video", "seedance2_5"): _r(
        "model promptVideo", "audio draft duration mode outputFormat promptText ratio "
        "referenceAudio references referenceVideos seed", **_SEEDANCE25,
    ),
    ("video_to_video", "aleph2"): _r(
        "model videoUri", "contentModeration keyframes outputFormat promptText proresProfile "
        "ratio seed targetAspectRatio", rate=15,
    ),
    ("video_to_video", "gemini_omni_flash"): _r("model promptText videoUri", "references", rate=10),
}  # fmt: skip

_IMAGE_TYPES = {"jpeg": "JPEG", "jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_DATA = re.compile(r"data:([a-z]+)/([a-z0-9.+-]+);base64,(.*)", re.DOTALL)
_FAILURES = {
    "#safety": ("SAFETY.INPUT.TEXT", "The prompt did not pass input moderation.", False),
    "#outsafety": ("SAFETY.OUTPUT.VIDEO", "The output did not pass moderation.", True),
    "#badoutput": ("INTERNAL.BAD_OUTPUT.CODE01", "The output was of poor quality.", True),
    "#asset": ("ASSET.INVALID", "An input asset could not be read.", True),
}


class RunwayError(Exception):
    """Raised by handlers; the middleware answers with Runway's error JSON."""

    def __init__(
        self, status: int, message: str, issues: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.issues = status, message, issues


def _invalid(issues: list[dict[str, Any]]) -> RunwayError:
    return RunwayError(400, "Validation of body failed", issues)


@dataclass
class FakeTask:
    """One task as the fake holds it; ``inputs`` are the decoded images and videos."""

    id: str
    model: str
    endpoint: str
    body: dict[str, Any]
    estimate: int
    created_at: float
    inputs: list[dict[str, Any]] = field(default_factory=list)
    status: str = "PENDING"
    polls: int = 0
    running_polls: int = 0
    failure: tuple[str, str, bool] | None = None  # code, message, refunded
    cost: int | None = None
    deleted: bool = False


@dataclass(eq=False)
class FakeRunway:
    """The fake vendor's state and app; see the module docstring."""

    api_key: str = "rw-test-key"
    credits: int = 100_000
    video: bytes | None = field(default=None, repr=False)
    pending_polls: int = 1
    running_polls: int = 1
    concurrency: int | None = None
    daily_limit: int | None = None
    keep_cancelled: bool = False
    url_ttl: float = 86400.0
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeTask] = field(default_factory=dict, init=False)
    daily: dict[str, int] = field(default_factory=dict, init=False)
    peak_running: int = field(default=0, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._revoked_before = 0.0
        self.app = web.Application(middlewares=[self._middleware], client_max_size=16 * 2**20)
        self.app.add_routes(
            [
                *(web.post(f"/v1/{e}", self._create) for e in self.endpoints()),
                web.get("/v1/tasks/{task_id}", self._get),
                web.delete("/v1/tasks/{task_id}", self._delete),
                web.get("/v1/organization", self._organization),
                web.get("/files/{task_id}/output.mp4", self._file),
            ]
        )

    @staticmethod
    def endpoints() -> list[str]:
        return ["text_to_video", "image_to_video", "video_to_video"]

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        assert self.server is not None, "call serve() first"
        return self.server.url

    def count_creates(self) -> int:
        with self._lock:
            return len(self.creates)

    def expire_urls(self) -> None:
        """Every output URL issued so far now answers 403 (new polls sign anew)."""
        with self._lock:
            self._revoked_before = self.clock() + 1e-6

    def status_of(self, task_id: str) -> str:
        with self._lock:
            return self.tasks[task_id].status

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/v1/"):
                if request.headers.get(hdrs.AUTHORIZATION) != f"Bearer {self.api_key}":
                    raise RunwayError(401, "Unauthorized: the API secret is missing or invalid.")
                if request.headers.get("X-Runway-Version") != API_VERSION:
                    raise RunwayError(
                        400, f"The X-Runway-Version header must be set to {API_VERSION}."
                    )
            return await handler(request)
        except RunwayError as exc:
            body: dict[str, Any] = {"error": exc.message}
            if exc.issues is not None:
                body.update(issues=exc.issues, docUrl=DOC_URL)
            return web.json_response(body, status=exc.status)

    def _task(self, request: web.Request) -> FakeTask:
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or (task.deleted and not self.keep_cancelled):
            raise RunwayError(404, "Could not find Task")
        return task

    # ---- create --------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        endpoint = request.path.removeprefix("/v1/")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _invalid([_issue("invalid_type", [], "Invalid input: expected object")])
        model = body.get("model")
        rules = RULES.get((endpoint, model)) if isinstance(model, str) else None
        if rules is None:
            raise _invalid(
                [
                    {
                        "code": "invalid_union",
                        "errors": [],
                        "note": "No matching discriminator",
                        "discriminator": "model",
                        "path": ["model"],
                        "message": "Invalid input",
                    }
                ]
            )
        inputs: list[dict[str, Any]] = []
        issues = _check_body(body, rules, inputs)
        if issues:
            raise _invalid(issues)
        estimate = _estimate(body, rules)
        with self._lock:
            if estimate > self.credits:
                raise RunwayError(400, "You do not have enough credits to run this task.")
            if self.daily_limit is not None and self.daily.get(model, 0) >= self.daily_limit:
                raise RunwayError(
                    429,
                    f"You have reached the daily generation limit of {self.daily_limit} for "
                    f"{model}. The limit applies to a rolling 24-hour window.",
                )
            self.credits -= estimate
            self.daily[model] = self.daily.get(model, 0) + 1
            task = FakeTask(
                str(uuid.uuid4()), model, endpoint, body, estimate, self.clock(), inputs
            )
            prompt = body.get("promptText") or ""
            task.failure = next((f for m, f in _FAILURES.items() if m in prompt), None)
            self.tasks[task.id] = task
            self.creates.append(body)
        return web.json_response({"id": task.id, "estimatedCost": {"credits": estimate}})

    # ---- tasks ---------------------------------------------------------------------

    async def _get(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            if not task.deleted:
                task.polls += 1
                self._advance(task)
            return web.json_response(self._view(request, task))

    def _advance(self, task: FakeTask) -> None:
        if task.status in ("PENDING", "THROTTLED") and task.polls > self.pending_polls:
            if task.failure is not None:
                self._finish(task, "FAILED")
                return
            running = sum(
                1 for t in self.tasks.values() if t.status == "RUNNING" and t.model == task.model
            )
            if self.concurrency is not None and running >= self.concurrency:
                task.status = "THROTTLED"
                return
            task.status = "RUNNING"
            self.peak_running = max(self.peak_running, running + 1)
        elif task.status == "RUNNING":
            task.running_polls += 1
            if task.running_polls > self.running_polls:
                self._finish(task, "SUCCEEDED")

    def _finish(self, task: FakeTask, status: str) -> None:
        task.status = status
        refunded = status == "FAILED" and task.failure is not None and task.failure[2]
        task.cost = 0 if refunded else task.estimate
        if refunded:
            self.credits += task.estimate

    def _view(self, request: web.Request, task: FakeTask) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": task.id,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(task.created_at)),
            "status": task.status,
        }
        if task.status in ("SUCCEEDED", "FAILED", "CANCELLED"):
            view["cost"] = {"credits": task.cost}
        else:
            view["estimatedCost"] = {"credits": task.estimate}
        if task.status == "RUNNING":
            view["progress"] = round(task.running_polls / (self.running_polls + 1), 2)
        elif task.status == "SUCCEEDED":
            view["output"] = [self._sign(request, task)]
        elif task.status == "FAILED":
            assert task.failure is not None
            view["failureCode"], view["failure"] = task.failure[0], task.failure[1]
        return view

    async def _delete(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._task(request)
            if task.status in ("PENDING", "THROTTLED", "RUNNING"):
                refund = task.status != "RUNNING"  # refunds follow what the server sees
                task.status = "CANCELLED"
                task.cost = 0 if refund else task.estimate
                if refund:
                    self.credits += task.estimate
            task.deleted = True
        return web.Response(status=204)

    async def _organization(self, request: web.Request) -> web.Response:
        with self._lock:
            models = sorted({model for _, model in RULES})
            return web.json_response(
                {
                    "creditBalance": self.credits,
                    "tier": {
                        "maxMonthlyCreditSpend": 10_000,
                        "models": {
                            m: {
                                "maxConcurrentGenerations": self.concurrency,
                                "maxDailyGenerations": self.daily_limit,
                            }
                            for m in models
                        },
                    },
                    "usage": {
                        "models": {m: {"dailyGenerations": n} for m, n in self.daily.items()}
                    },
                }
            )

    # ---- result files --------------------------------------------------------------

    def _token(self, task_id: str, issued: str) -> str:
        mac = hmac.new(_SECRET, f"{task_id}\n{issued}".encode(), hashlib.sha256).hexdigest()
        return f"{issued}.{mac}"

    def _sign(self, request: web.Request, task: FakeTask) -> str:
        token = self._token(task.id, f"{self.clock():.6f}")
        return f"{request.scheme}://{request.host}/files/{task.id}/output.mp4?_jwt={token}"

    async def _file(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        token = request.query.get("_jwt", "")
        issued, _, _ = token.rpartition(".")
        denied = web.Response(
            status=403,
            text="<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
            content_type="text/xml",
        )
        if not issued or not hmac.compare_digest(token, self._token(task_id, issued)):
            return denied
        with self._lock:
            signed_at = float(issued)
            if signed_at < self._revoked_before or self.clock() >= signed_at + self.url_ttl:
                return denied
            task = self.tasks.get(task_id)
            if task is None or task.status != "SUCCEEDED":
                return denied
        assert self.video is not None
        return _ranged(request, self.video)


# ---- checks ------------------------------------------------------------------------


def _issue(code: str, path: list[Any], message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "path": path, "message": message, **extra}


def _check_body(
    body: Mapping[str, Any], rules: Rules, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    allowed = rules.required | rules.optional
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        names = ", ".join(f"'{k}'" for k in unknown)
        issues.append(
            _issue("unrecognized_keys", [], f"Unrecognized key(s) in object: {names}", keys=unknown)
        )
    for key in sorted(rules.required - set(body)):
        issues.append(
            _issue("invalid_type", [key], "Invalid input: expected value, received undefined")
        )
    checks: dict[str, Callable[[Any, Rules], str | None]] = {
        "promptText": _prompt,
        "negativePrompt": lambda v, r: None if isinstance(v, str) else "expected string",
        "duration": _duration,
        "ratio": lambda v, r: _one_of(v, r.ratios) if r.ratios else _string(v),
        "resolution": lambda v, r: _one_of(v, r.resolutions),
        "seed": _seed,
        "audio": lambda v, r: None if isinstance(v, bool) else "expected boolean",
        "contentModeration": _moderation,
    }
    for key, check in checks.items():
        if key in body and key in allowed:
            problem = check(body[key], rules)
            if problem:
                issues.append(_issue("invalid_value", [key], problem))
    if "promptImage" in body:
        issues += _prompt_image(body["promptImage"], rules, inputs)
    for key in ("videoUri", "promptVideo"):
        if key in body:
            problem = _uri(body[key], "video", inputs)
            if problem:
                issues.append(_issue("invalid_value", [key], problem))
    return issues


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "expected string"


def _one_of(value: Any, values: Iterable[str]) -> str | None:
    options = sorted(values)
    if value in options:
        return None
    return "Invalid option: expected one of " + "|".join(f'"{o}"' for o in options)


def _prompt(value: Any, rules: Rules) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "Too small: expected string to have >=1 characters"
    units = len(value.encode("utf-16-le")) // 2
    if units > rules.prompt_max:
        return f"Too big: expected string to have <={rules.prompt_max} characters"
    return None


def _duration(value: Any, rules: Rules) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Invalid input: expected int"
    if rules.durations and value not in rules.durations:
        low, high = min(rules.durations), max(rules.durations)
        return (
            f"Duration must be one of {sorted(rules.durations)}"
            if len(rules.durations) < high - low + 1
            else f"Duration must be between {low} and {high}"
        )
    return None


def _seed(value: Any, rules: Rules) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        return f"Expected an integer between 0 and {SEED_MAX}"
    return None


def _moderation(value: Any, rules: Rules) -> str | None:
    if not isinstance(value, dict) or set(value) - {"publicFigureThreshold"}:
        return "Unrecognized key in contentModeration"
    return _one_of(value.get("publicFigureThreshold", "auto"), ("auto", "low"))


def _prompt_image(value: Any, rules: Rules, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries = [{"uri": value, "position": "first"}] if isinstance(value, str) else value
    if not isinstance(entries, list) or not entries:
        return [_issue("invalid_type", ["promptImage"], "Expected a string or an array")]
    issues = []
    positions = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {"uri", "position"}:
            issues.append(_issue("invalid_type", ["promptImage", n], "Expected {uri, position}"))
            continue
        position = entry.get("position")
        if position not in rules.positions:
            issues.append(
                _issue(
                    "invalid_value",
                    ["promptImage", n, "position"],
                    _one_of(position, rules.positions) or "",
                )
            )
        positions.append(position)
        problem = _uri(entry.get("uri"), "image", inputs, position=position)
        if problem:
            issues.append(_issue("invalid_value", ["promptImage", n, "uri"], problem))
    if "first" not in positions:
        issues.append(
            _issue("custom", ["promptImage"], "You must specify a frame in position `first`.")
        )
    if len(set(positions)) != len(positions):
        issues.append(
            _issue(
                "custom",
                ["promptImage"],
                "Duplicate position values are not allowed. Each position (`first`, `last`) "
                "may only be used once.",
            )
        )
    return issues


def _uri(value: Any, kind: str, inputs: list[dict[str, Any]], **facts: Any) -> str | None:
    if not isinstance(value, str):
        return "expected string"
    if value.startswith(("https://", "runway://")):
        inputs.append({"kind": kind, "uri": value, **facts})
        return None
    match = _DATA.fullmatch(value)
    if match is None:
        return "Must be an HTTPS URL, a Runway upload URI or a base64 data URI"
    if len(value) >= DATA_URI_MAX:
        return "The data URI must be under 5MB"
    media, subtype, payload = match.groups()
    if media != kind:
        return f"Expected a data URI of type {kind}/*"
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "The data URI is not valid base64"
    record: dict[str, Any] = {
        "kind": kind,
        "mime": f"{media}/{subtype}",
        "sha256": hashlib.sha256(data).hexdigest(),
        **facts,
    }
    if kind == "image":
        pil_name = _IMAGE_TYPES.get(subtype)
        try:
            with Image.open(io.BytesIO(data)) as img:
                record.update(format=(img.format or "").lower(), width=img.width, height=img.height)
                actual = img.format
        except OSError:
            return "The image could not be read"
        if pil_name is None or actual != pil_name:
            return f"Unsupported or mismatched image type image/{subtype}"
    inputs.append(record)
    return None


def _estimate(body: Mapping[str, Any], rules: Rules) -> int:
    seconds = body.get("duration") if isinstance(body.get("duration"), int) else None
    rate = rules.audio_rate if body.get("audio") and rules.audio_rate else rules.rate
    return int(rate * (seconds or rules.default_duration))


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _ranged(request: web.Request, data: bytes) -> web.Response:
    """Serve ``data`` honouring a single byte range."""
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
