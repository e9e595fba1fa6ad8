"""Runway's developer API: its own models and the other vendors' models it hosts.

One API (``https://api.dev.runwayml.com``) serves Runway's Gen-4.5, Gen-4 Turbo and
Aleph 2 beside Veo 3.1, Kling, Seedance, Gemini Omni Flash and Grok Imagine, each chosen
by ``model`` in the body. Every call carries ``Authorization: Bearer <key>`` and
``X-Runway-Version`` (the catalog's ``extra.api_version``, 2024-11-06). Bodies are
camelCase JSON and strictly checked: an unknown key is a 400.

    POST   /v1/text_to_video      {"model", "promptText", "ratio", "duration", ...}
    POST   /v1/image_to_video     {..., "promptImage": [{"uri", "position": "first"|"last"}]}
    POST   /v1/video_to_video     {..., "videoUri" | "promptVideo": <data URI or https URL>}
                                  -> {"id", "estimatedCost": {"credits"}}
    GET    /v1/tasks/{id}         -> {"status", "progress", "output": [url], "cost": {"credits"},
                                      "failure", "failureCode"}
    DELETE /v1/tasks/{id}         cancels a PENDING/THROTTLED/RUNNING task (204); on a
                                  finished task it deletes it, so we never send it there
    GET    /v1/organization       -> {"creditBalance", "tier": {...}, "usage": {...}}

Which body fields a model takes at each endpoint, its ratio table and its prompt rules
are catalog data (``extra.fields``, ``extra.ratios``, ``extra.text_ratios``,
``extra.prompt_required``, ``extra.video_field``): the code holds only the protocol.
Our aspect and resolution pick Runway's pixel ratio (``"1280:720"``); with a first frame
and no aspect the ratio nearest the picture's shape is chosen. Images go inline as
``data:`` URIs (the encoded URI must stay under 5 MiB). Video to video takes
``request.extra["video"]``: a local file (sent as a data URI, so at most about 3.7 MB)
or an ``https://`` / ``runway://`` URI, which is passed on as is.

States:

    Runway      TaskState    notes
    PENDING     QUEUED
    THROTTLED   QUEUED       vendor_state "THROTTLED": waiting for a slot of the tier's
                             concurrency; queued at Runway, not refused
    RUNNING     RUNNING      progress 0..1
    SUCCEEDED   SUCCEEDED    output[0], a signed URL for 24-48 h; a new GET signs anew;
                             cost.credits is the final charge
    FAILED      FAILED       failureCode / failure kept; cost.credits (0 when refunded)
    CANCELLED   CANCELLED    cost.credits

Failure codes of a FAILED task:

    SAFETY.INPUT.*          Rejected          credits kept: "charged, no output"
    SAFETY.OUTPUT.*         Rejected          refunded; another prompt may pass
    ASSET.INVALID           Rejected          an input file Runway cannot use
    INTERNAL.BAD_OUTPUT.*,
      INTERNAL, other       GenerationFailed  refunded; may be tried again

HTTP errors (the body is ``{"error": str, "issues": [{"code", "path", "message"}]}``;
the vendor's words, issue paths and first issue code are kept):

    401                                    AuthError
    403                                    AuthError "not allowed for this key"
    "not have enough credits" (any status) QuotaError
    429 naming the daily limit             QuotaError "daily generation limit" (a rolling
                                           24 h window: waiting minutes will not help)
    429                                    RateLimited (Retry-After when sent)
    400 whose issue is the model id        ModelRetired (Runway lists no such model now)
    other 400 / 4xx                        Rejected
    404 to a poll                          GenerationFailed (the task was deleted)
    5xx                                    TransientError
    unreadable body                        ProtocolError

Not supported, on purpose: lookup by our id (``can_find`` is False: Runway has no
client id, idempotency key or task list, so a create whose answer is lost becomes
``unknown``), model listing (no endpoint; ``list_models`` is None), uploads through
``/v1/uploads`` (use an https URL for larger videos), reference images, audio or videos,
Kling multi-shot, ``duration: "auto"``, Seedance draft mode, non-mp4 ``outputFormat``
(it costs more per second and would not probe as a take), Aleph keyframes and
outpainting, and the generic ``/v1/generate/video`` and recipe endpoints.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from takestock.core.catalog import ModelSpec
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    InvalidInput,
    ModelRetired,
    ProtocolError,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)
from takestock.core.http import json_body, parse_retry_after, send
from takestock.core.images import prepare_image
from takestock.core.validation import check_image, validate_common
from takestock.core.vendor import (
    Balance,
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter

__all__ = ["RunwayAdapter"]

VENDOR_ID = "runway"
#: Used only when the catalog names no version (``extra.api_version``).
DEFAULT_API_VERSION = "2024-11-06"
#: The encoded data URI must be under 5 MiB (docs.dev.runwayml.com/assets/inputs).
DEFAULT_DATA_URI_MAX = 5 * 1024 * 1024

_ENDPOINTS = {
    "text": "/v1/text_to_video",
    "image": "/v1/image_to_video",
    "video": "/v1/video_to_video",
}
_KIND_NAMES = {"text": "text to video", "image": "image to video", "video": "video to video"}

_STATES = {
    "PENDING": TaskState.QUEUED,
    "THROTTLED": TaskState.QUEUED,
    "RUNNING": TaskState.RUNNING,
    "SUCCEEDED": TaskState.SUCCEEDED,
    "FAILED": TaskState.FAILED,
    "CANCELLED": TaskState.CANCELLED,
    "CANCELED": TaskState.CANCELLED,  # the spelling some of Runway's own guides use
}

_PUBLIC_FIGURE = ("auto", "low")
_VIDEO_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}
#: Issue codes a validator gives a ``model`` it does not know (zod's names).
_MODEL_ISSUES = ("invalid_union", "invalid_value", "invalid_enum_value", "invalid_literal")


class RunwayAdapter(BaseAdapter):
    """Runway's API and the models it hosts.

    Attributes:
        vendor: the ``runway`` catalog entry (API version, data-URI limit, models).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        kind = _kind(request)
        where = f"{self.vendor.name} {model.id}"
        fields = _fields(model, kind)
        if kind == "video":
            self._check_video_request(request, model, where)
            self._check_fields(request, model, kind, fields, where)
            # The common checks, with the model's own video mode standing for the mode.
            validate_common(request, replace(model, modes=(*model.modes, "text")), self.vendor.name)
        else:
            validate_common(request, model, self.vendor.name)
            self._check_fields(request, model, kind, fields, where)
        prompt = request.prompt.strip()
        if _utf16_len(prompt) > model.prompt_max_chars:
            raise InvalidInput(
                "prompt",
                f"is {_utf16_len(prompt)} UTF-16 code units long (emoji count twice); {where} "
                f"takes at most {model.prompt_max_chars}",
            )
        if not prompt and kind in model.extra.get("prompt_required", ()):
            raise InvalidInput("prompt", f"{where} needs a prompt for {_KIND_NAMES[kind]} too")
        self._ratio(request, model, kind)  # refuses an aspect the endpoint does not take

    def _check_video_request(
        self, request: GenerationRequest, model: ModelSpec, where: str
    ) -> None:
        if "video" not in model.modes:
            raise InvalidInput("mode", f"{where} does not do video to video")
        if request.image is not None or request.last_frame is not None:
            raise InvalidInput("image", "video to video takes a video, not frames as well")
        if not request.prompt.strip():
            raise InvalidInput("prompt", "video to video needs a prompt: the change to make")
        self._video_uri(request.extra["video"], encode=False)  # refuses what we cannot send

    def _check_fields(
        self,
        request: GenerationRequest,
        model: ModelSpec,
        kind: str,
        fields: Sequence[str],
        where: str,
    ) -> None:
        what = f"{where} {_KIND_NAMES[kind]}"
        if request.duration_s is not None and "duration" not in fields:
            raise InvalidInput("duration", f"{what} takes no duration: it follows the input")
        if request.resolution is not None and not {"ratio", "resolution"} & set(fields):
            raise InvalidInput("resolution", f"{what} takes no resolution: it follows the input")
        if request.aspect is not None and "ratio" not in fields:
            raise InvalidInput("aspect", f"{what} takes no aspect ratio: it follows the input")
        if request.audio and "audio" not in fields:
            raise InvalidInput("audio", f"{what} makes no audio")
        if request.seed is not None and "seed" not in fields:
            raise InvalidInput("seed", f"{what} takes no seed")
        if request.negative.strip() and "negativePrompt" not in fields:
            raise InvalidInput("negative", f"{what} takes no negative prompt")
        threshold = request.extra.get("public_figure_threshold")
        if threshold is not None:
            if "contentModeration" not in fields:
                raise InvalidInput("public_figure_threshold", f"{what} takes no moderation setting")
            if threshold not in _PUBLIC_FIGURE:
                raise InvalidInput("public_figure_threshold", "must be auto or low")
        if request.last_frame is not None and request.image is None:
            raise InvalidInput("image", f"{where} needs a first frame before a last frame")

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        kind = _kind(request)
        body = self._body(request, model, kind)
        response = await send(
            ctx.http, "POST", ctx.base_url + _ENDPOINTS[kind], json=body, headers=self._headers(ctx)
        )
        data = self._check(response)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no task id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        handle: dict[str, Any] = {"kind": kind}
        estimated = _credits(data.get("estimatedCost"))
        if estimated is not None:
            handle["estimated_credits"] = estimated
        return TaskHandle(task_id, handle)

    def _body(self, request: GenerationRequest, model: ModelSpec, kind: str) -> dict[str, Any]:
        fields = _fields(model, kind)
        body: dict[str, Any] = {"model": model.id}
        prompt = request.prompt.strip()
        if prompt:
            body["promptText"] = prompt
        frames: list[dict[str, Any]] = []
        if kind == "image":
            frames = self._frames(request, model)
            body["promptImage"] = [{"uri": f["uri"], "position": f["position"]} for f in frames]
        if kind == "video":
            body[str(model.extra.get("video_field", "videoUri"))] = self._video_uri(
                request.extra["video"]
            )
        if "duration" in fields:
            body["duration"] = int(request.duration_s or model.default_duration)
        ratio = self._ratio(request, model, kind, frames[0]["shape"] if frames else None)
        if ratio is not None:
            body["ratio"] = ratio
        if "resolution" in fields:
            body["resolution"] = request.resolution or model.default_resolution
        if "audio" in fields:
            body["audio"] = bool(request.audio)  # always said: Veo's default is sound, at 2x
        if request.seed is not None and "seed" in fields:
            body["seed"] = request.seed
        if request.negative.strip() and "negativePrompt" in fields:
            body["negativePrompt"] = request.negative.strip()
        threshold = request.extra.get("public_figure_threshold")
        if threshold is not None and "contentModeration" in fields:
            body["contentModeration"] = {"publicFigureThreshold": threshold}
        return body

    def _frames(self, request: GenerationRequest, model: ModelSpec) -> list[dict[str, Any]]:
        frames = []
        for field, position, path in (
            ("image", "first", request.image),
            ("last_frame", "last", request.last_frame),
        ):
            if path is not None:
                prepared = prepare_image(path, model.image, field=field)
                uri = prepared.data_url()
                self._check_data_uri(len(uri), field, path.name)
                shape = prepared.width / prepared.height
                frames.append({"uri": uri, "position": position, "shape": shape})
        return frames

    def _ratio(
        self,
        request: GenerationRequest,
        model: ModelSpec,
        kind: str,
        shape: float | None = None,
    ) -> str | None:
        """Runway's ratio string for our aspect and resolution, or None where the
        endpoint takes none; InvalidInput where the pair is not offered."""
        if "ratio" not in _fields(model, kind):
            return None
        where = f"{self.vendor.name} {model.id} {_KIND_NAMES[kind]}"
        resolution = request.resolution or model.default_resolution
        table: Mapping[str, str] = model.extra.get("ratios", {}).get(resolution, {})
        allowed = dict(table)
        if kind == "text" and model.extra.get("text_ratios"):
            allowed = {a: r for a, r in table.items() if r in model.extra["text_ratios"]}
        if not allowed:
            raise InvalidInput("resolution", f"{where} has no ratios at {resolution}")
        aspect = request.aspect
        if aspect is None:
            if shape is None and kind == "image" and request.image is not None:
                facts = check_image(request.image, model.image)
                shape = facts.width / facts.height
            aspect = _nearest(allowed, shape) if shape is not None else model.default_aspect
        if aspect not in allowed:
            offered = ", ".join(allowed)
            raise InvalidInput(
                "aspect", f"{aspect} is not offered by {where} at {resolution}; use {offered}"
            )
        return allowed[aspect]

    def _video_uri(self, video: Any, *, encode: bool = True) -> str:
        """The input video as Runway takes it: a URI passed on, or a file inlined
        (``encode=False`` only checks that it can be)."""
        if not isinstance(video, str | Path) or not str(video).strip():
            raise InvalidInput("video", "give a video file or an https:// URL")
        text = str(video).strip()
        if text.startswith(("https://", "runway://")):
            return text
        if text.startswith(("http://", "data:")):
            raise InvalidInput("video", "Runway fetches https:// URLs only")
        path = Path(text).expanduser()
        mime = _VIDEO_TYPES.get(path.suffix.lower())
        if mime is None:
            raise InvalidInput("video", f"{path.name} is not an .mp4, .mov or .webm video")
        try:
            size = path.stat().st_size
        except OSError:
            raise InvalidInput("video", f"{path} does not exist") from None
        prefix = f"data:{mime};base64,"
        self._check_data_uri(len(prefix) + 4 * math.ceil(size / 3), "video", path.name)
        return prefix + (base64.b64encode(path.read_bytes()).decode("ascii") if encode else "")

    def _check_data_uri(self, length: int, field: str, name: str) -> None:
        limit = int(self.vendor.extra.get("data_uri_max_bytes", DEFAULT_DATA_URI_MAX))
        if length >= limit:
            raise InvalidInput(
                field,
                f"{name} would be a {length / 2**20:.1f} MiB data URI; Runway takes under "
                f"{limit / 2**20:g} MiB inline (about {limit * 3 / 4 / 2**20:.1f} MiB of file). "
                "Give an https:// URL instead",
            )

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v1/tasks/{handle.task_id}",
            headers=self._headers(ctx),
        )
        if response.status_code == 404:
            message, _ = _error_parts(response)
            raise GenerationFailed(
                f"{self.vendor.name} no longer has task {handle.task_id} ({message}); "
                "a cancelled or deleted task cannot be fetched again",
                vendor=VENDOR_ID,
                vendor_code="404",
                status=404,
            )
        return self._status(self._check(response))

    def _status(self, data: Any) -> TaskStatus:
        status = data.get("status") if isinstance(data, dict) else None
        state = _STATES.get(status) if isinstance(status, str) else None
        if state is None:
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no known status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        assert isinstance(status, str)
        cost = _credits(data.get("cost"))
        if state is TaskState.SUCCEEDED:
            output = data.get("output")
            urls = (
                [u for u in output if isinstance(u, str) and u] if isinstance(output, list) else []
            )
            results = tuple(ResultRef(url) for url in urls)
            return TaskStatus(state, status, progress=1.0, results=results, cost=cost)
        if state is TaskState.FAILED:
            return TaskStatus(state, status, error=self._task_error(data, cost), cost=cost)
        progress = data.get("progress")
        fraction = float(progress) if isinstance(progress, int | float) else None
        return TaskStatus(state, status, progress=fraction, cost=cost)

    def _task_error(self, data: Mapping[str, Any], cost: float | None) -> VendorError:
        code = str(data.get("failureCode") or "")
        reason = str(data.get("failure") or "the task failed without a reason")
        text = f"{self.vendor.name}: {reason}" + (f" ({code})" if code else "")
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or None}
        if code.startswith("SAFETY.INPUT"):
            kept = f" Runway kept the {cost:g} credits" if cost else " Runway keeps the credits"
            return Rejected(
                f"{text}.{kept} for input moderation failures; change the prompt or image.",
                title="Content refused",
                **kw,
            )
        if code.startswith("SAFETY"):
            return Rejected(
                f"{text}. The output was refused; another prompt may pass.",
                title="Content refused",
                **kw,
            )
        if code.startswith("ASSET"):
            return Rejected(f"{text}. Check the input file.", title="Input refused", **kw)
        return GenerationFailed(text, **kw)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Cancel a task that has not finished. A finished task is left alone: DELETE
        would erase it from Runway's history and refund nothing. A RUNNING task is
        cancelled but not refunded."""
        try:
            status = await self.poll(ctx, handle)
        except GenerationFailed as exc:
            if exc.status == 404:
                return True  # already gone: cancelled or deleted elsewhere
            raise
        if status.state.final:
            return status.state is TaskState.CANCELLED
        response = await send(
            ctx.http,
            "DELETE",
            f"{ctx.base_url}/v1/tasks/{handle.task_id}",
            headers={**self._headers(ctx), "Accept": "*/*"},
        )
        # 404: a retried DELETE whose first answer was lost finds the task gone.
        if response.status_code < 400 or response.status_code == 404:
            return True
        raise self._error(response)

    async def balance(self, ctx: CallContext) -> Balance:
        """``creditBalance`` from ``GET /v1/organization``, with the tier's limits and
        today's use per model in ``detail``."""
        response = await send(
            ctx.http, "GET", f"{ctx.base_url}/v1/organization", headers=self._headers(ctx)
        )
        data = self._check(response)
        credits = data.get("creditBalance") if isinstance(data, dict) else None
        if isinstance(credits, bool) or not isinstance(credits, int | float):
            raise ProtocolError(
                f"{self.vendor.name} sent an organization without a creditBalance: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        return Balance(float(credits), self.vendor.unit, _limits(data))

    # ----------------------------------------------------------------- errors

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        version = str(self.vendor.extra.get("api_version") or DEFAULT_API_VERSION)
        return {"Authorization": f"Bearer {ctx.secret('api_key')}", "X-Runway-Version": version}

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        return json_body(response, VENDOR_ID)

    def _error(self, response: httpx.Response) -> VendorError:
        status = response.status_code
        message, issues = _error_parts(response)
        detail = "; ".join(_issue_text(i) for i in issues)
        text = f"{self.vendor.name}: {message}" + (f" ({detail})" if detail else "")
        first_code = str(issues[0].get("code") or "") if issues else ""
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": first_code or str(status),
            "status": status,
        }
        lowered = message.lower()
        if status == 401:
            return AuthError(f"{text}. Check the Runway API key (dev.runwayml.com).", **kw)
        if "enough credits" in lowered or "insufficient credit" in lowered:
            return QuotaError(f"{text}. Buy API credits at dev.runwayml.com.", **kw)
        if status == 429 and "daily" in lowered:
            return QuotaError(
                f"{text}. The tier's daily generation limit counts a rolling 24 hours; "
                "try again later or move up a tier.",
                title="Daily generation limit reached",
                **{**kw, "vendor_code": "daily_limit"},
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status == 403:
            return AuthError(text, title="Not allowed for this key", **kw)
        if status == 400 and any(_is_model_issue(i) for i in issues):
            return ModelRetired(text, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _kind(request: GenerationRequest) -> str:
    """Which endpoint a request goes to: ``text``, ``image`` or ``video``."""
    if request.extra.get("video") is not None:
        return "video"
    return "text" if request.image is None and request.last_frame is None else "image"


def _fields(model: ModelSpec, kind: str) -> Sequence[str]:
    fields: Mapping[str, Sequence[str]] = model.extra.get("fields", {})
    return fields.get(kind, ())


def _nearest(allowed: Mapping[str, str], shape: float) -> str:
    """The aspect name closest to ``shape`` (width / height), on a log scale."""

    def value(name: str) -> float:
        width, _, height = name.partition(":")
        return float(width) / float(height)

    return min(allowed, key=lambda name: abs(math.log(value(name) / shape)))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _credits(value: Any) -> float | None:
    credits = value.get("credits") if isinstance(value, dict) else None
    if isinstance(credits, bool) or not isinstance(credits, int | float):
        return None
    return float(credits)


def _limits(data: Mapping[str, Any]) -> dict[str, Any]:
    """The tier's limits and the day's use, by model, from an organization answer."""
    tier, usage = _dict(data.get("tier")), _dict(data.get("usage"))
    limits, used = _dict(tier.get("models")), _dict(usage.get("models"))
    models: dict[str, Any] = {}
    for model_id in sorted(set(limits) | set(used)):
        limit, today = _dict(limits.get(model_id)), _dict(used.get(model_id))
        models[model_id] = {
            "max_concurrent_generations": limit.get("maxConcurrentGenerations"),
            "max_daily_generations": limit.get("maxDailyGenerations"),
            "daily_generations": today.get("dailyGenerations", 0),
        }
    return {"max_monthly_credit_spend": tier.get("maxMonthlyCreditSpend"), "models": models}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _error_parts(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    """(message, issues) from Runway's ``{"error", "issues"}``, tolerant of junk."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        issues = body.get("issues")
        kept = [i for i in issues if isinstance(i, dict)] if isinstance(issues, list) else []
        return body["error"], kept
    snippet = response.text[:120].replace("\n", " ").strip()
    return f"HTTP {response.status_code} {response.reason_phrase} {snippet}".strip(), []


def _issue_text(issue: Mapping[str, Any]) -> str:
    path = issue.get("path")
    where = ".".join(str(p) for p in path) if isinstance(path, list) and path else ""
    message = str(issue.get("message") or issue.get("code") or "invalid")
    return f"{where}: {message}" if where else message


def _is_model_issue(issue: Mapping[str, Any]) -> bool:
    return issue.get("path") == ["model"] and issue.get("code") in _MODEL_ISSUES
