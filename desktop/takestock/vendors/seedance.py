"""Seedance (ByteDance) video generation on Volcengine Ark and BytePlus ModelArk.

Two surfaces speak one protocol (the BytePlus SDK is a re-branded copy of the Volcengine
one); keys are per platform and model ids differ (``doubao-seedance-…`` on Volcengine,
``seedance-…`` / ``dreamina-seedance-…`` on BytePlus):

    region ``cn``    https://ark.cn-beijing.volces.com/api/v3          Volcengine Ark
    region ``intl``  https://ark.ap-southeast.bytepluses.com/api/v3    BytePlus ModelArk
    ``default`` is ``intl``.

Each catalog model is one Seedance model with its id per surface in
``extra.model_ids``; the surface is the base URL's host where it names one (an account
base-URL override to a Volcengine host sends Volcengine ids), else the account's region.
A model without an id on that surface is refused when the take is planned
(``validate_platform``), before anything is stored or sent.

Protocol (``Authorization: Bearer <ARK API key>``, JSON):

    POST   /contents/generations/tasks       {"model", "content": [text?, image_url...],
                                              "resolution", "ratio"?, "duration", "seed"?,
                                              "camera_fixed"?, "watermark", "generate_audio"?}
                                             -> {"id": "cgt-…"}
    GET    /contents/generations/tasks/{id}  -> {"status", "content": {"video_url"},
                                                 "usage": {"completion_tokens"}, "error"}
    DELETE /contents/generations/tasks/{id}  cancels a queued task (deletes a finished one)

Parameters go in the body (the "new, strongly checked" form); the older ``--rs 720p
--dur 5`` text commands are weakly checked (a typo silently becomes the default), so a
prompt that carries them is refused. Images go inline as ``data:image/<fmt>;base64,…``
with ``role`` ``first_frame`` / ``last_frame``. ``generate_audio`` is always sent for
models with sound: the vendor's default is *on* (on 1.5 pro twice the price), ours off.

States:

    Ark          TaskState    notes
    queued       QUEUED       also while over the per-model concurrency limit
    running      RUNNING      no progress figure is reported
    succeeded    SUCCEEDED    content.video_url (24 h), usage.completion_tokens = cost
    failed       FAILED       error.code / error.message kept
    cancelled    CANCELLED    only a queued task can be cancelled
    expired      FAILED       past execution_expires_after (default 48 h)

Errors (HTTP status and ``error.code``; the vendor's message and code are kept):

    AuthenticationError, 401                      AuthError
    AccessDenied, other 403                       AuthError
    ModelNotOpen (404)                            AuthError  "activate the model"
    AccountOverdueError (403)                     QuotaError
    QuotaExceeded, SetLimitExceeded (429)         QuotaError (free quota / safe-mode cap)
    RateLimitExceeded.*, *RateLimitExceeded,
      ServerOverloaded, ModelLoadingError, 429    RateLimited (Retry-After when sent)
    InvalidEndpointOrModel.NotFound,
      InvalidEndpoint.NotFound                    ModelRetired
    *SensitiveContentDetected*, *RiskDetection    Rejected "content refused"
    InvalidParameter, MissingParameter, other 4xx Rejected
    404 to a poll (task gone)                     GenerationFailed
    InternalServiceError, 5xx                     TransientError (failed task: GenerationFailed)
    unreadable body                               ProtocolError

``duration`` -1 (Seedance 2.5: the model picks 4-30 s) is a catalog duration of its own:
it is sent as -1 and estimated at the longest duration, a hold the reported usage settles.

Cost: Ark bills tokens = width × height × (24 × seconds + 1) / 1024 of the output; the
estimate uses the catalog's output-size tables and USD-per-million-token prices, and a
finished task reports ``usage.completion_tokens`` as the actual cost.

Not supported, on purpose: lookup by our id (``can_find`` is False: Ark takes no client
task id and its list cannot filter by one; ``safety_identifier`` is an end-user id for
abuse tracking, not ours to overload), balance (no data-plane endpoint), reference
images/videos/audio, draft mode, ``frames``, flex tier, callbacks,
Ark endpoint ids (``ep-…``) and AK/SK auth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
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
from takestock.core.pricing import request_facts
from takestock.core.validation import check_image
from takestock.core.vendor import (
    CallContext,
    Estimate,
    GenerationRequest,
    Mode,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter

__all__ = ["SeedanceAdapter"]

VENDOR_ID = "seedance"
_TASKS = "/contents/generations/tasks"

_STATES = {
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.CANCELLED,
    "expired": TaskState.FAILED,
}

_SURFACES = {"cn": "Volcengine Ark (region cn)", "intl": "BytePlus ModelArk (region intl)"}
_HOSTS = (("volces.com", "cn"), ("bytepluses.com", "intl"))

#: The old in-prompt parameter commands; Ark reads them only weakly, so we refuse them.
_TEXT_COMMAND = re.compile(
    r"(?<!\S)--(rs|resolution|rt|ratio|dur|duration|frames|seed|cf|camerafixed|wm|watermark)\b",
    re.IGNORECASE,
)

_RATIOS = {"16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "3:4": 3 / 4, "9:16": 9 / 16, "21:9": 21 / 9}

_HINTS = {
    "AuthenticationError": "Check the Ark API key; Volcengine and BytePlus keys are separate.",
    "AccountOverdueError": "Top up the account in the Volcengine or BytePlus billing console.",
    "QuotaExceeded": "The model's free token quota is used up; enable paid use in the Ark console.",
    "SetLimitExceeded": "The account's safe-experience spending cap was reached (Ark console).",
    "ModelNotOpen": "Activate this model for the account in the Ark console (model activation).",
}


class SeedanceAdapter(BaseAdapter):
    """Seedance video models on Volcengine Ark / BytePlus ModelArk.

    Attributes:
        vendor: the ``seedance`` catalog entry (base URLs, output sizes, notes).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        super().validate(request, model)
        where = f"{self.vendor.name} {model.id}"
        command = _TEXT_COMMAND.search(request.prompt)
        if command:
            raise InvalidInput(
                "prompt",
                f"contains the Seedance text command {command.group(0)!r}; set duration, "
                "resolution, aspect and seed as fields instead (Ark would read the command "
                "loosely and fall back to defaults on a typo)",
            )
        self._check_aspect(request, model, where)
        for field, path in (("image", request.image), ("last_frame", request.last_frame)):
            if path is not None:
                facts = check_image(path, model.image, field=field)
                ratio = facts.width / facts.height
                if ratio <= model.image.min_aspect or ratio >= model.image.max_aspect:
                    raise InvalidInput(
                        field,
                        f"{path.name} has an aspect ratio of {ratio:.2f}; Ark takes ratios "
                        f"strictly between {model.image.min_aspect:g} and "
                        f"{model.image.max_aspect:g} (width / height)",
                    )
        camera_fixed = request.extra.get("camera_fixed")
        if camera_fixed is not None and not isinstance(camera_fixed, bool):
            raise InvalidInput("camera_fixed", "must be true or false")
        if not model.extra.get("model_ids"):
            raise InvalidInput("model", f"{where} has no model id in the catalog")

    def _check_aspect(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        aspect = request.aspect
        if aspect is None:
            return
        if request.mode is Mode.TEXT:
            if aspect == "adaptive" and not model.extra.get("text_adaptive", False):
                raise InvalidInput(
                    "aspect",
                    f"adaptive follows the first frame on {where}; for text to video "
                    "choose a ratio",
                )
            return
        allowed: Sequence[str] = model.extra.get("image_aspects") or model.aspects
        if aspect not in allowed:
            raise InvalidInput(
                "aspect",
                f"{where} takes only {', '.join(allowed)} with a first frame "
                "(the video follows the image)",
            )

    def validate_platform(self, model: ModelSpec, region: str, base_url: str) -> None:
        """Refuse, before anything is stored, a model the account's platform lacks."""
        _model_id_on(_surface_of(base_url, region), model)

    # ---------------------------------------------------------------- pricing

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """Tokens = width × height × (fps × seconds + 1) / 1024, priced per million."""
        facts = request_facts(request, model)
        width, height = self._frame_size(model, facts["resolution"], request)
        fps = int(self.vendor.extra.get("fps", 24))
        seconds = int(facts["duration_s"])
        if seconds < 0:
            # -1: the model picks the length. Hold the longest it may pick; the task's
            # usage.completion_tokens settles the actual charge.
            seconds = int(max(model.durations))
        tokens = width * height * (fps * seconds + 1) // 1024
        price = _price_per_million(model, facts)
        money = None if price is None else round(tokens * price / 1_000_000, 4)
        return Estimate(
            amount=float(tokens),
            unit=self.vendor.unit,
            money=money,
            currency=self.vendor.currency if money is not None else None,
        )

    def _frame_size(
        self, model: ModelSpec, resolution: str, request: GenerationRequest
    ) -> tuple[int, int]:
        ratio = _output_ratio(request, model)
        table = self.vendor.extra.get("frame_sizes", {}).get(model.extra.get("frame_table", ""))
        size = (table or {}).get(resolution, {}).get(ratio)
        if size:
            return int(size[0]), int(size[1])
        short = model.resolutions.get(resolution, 720)
        value = _RATIOS[ratio]
        if value >= 1:
            return round(short * value), short
        return short, round(short / value)

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        model_id = _model_id(ctx, model)
        body = self._body(request, model, model_id)
        response = await send(
            ctx.http, "POST", f"{ctx.base_url}{_TASKS}", json=body, headers=_headers(ctx)
        )
        data = self._check(response)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no task id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        return TaskHandle(task_id, {"model_id": model_id, "surface": _surface(ctx)})

    def _body(self, request: GenerationRequest, model: ModelSpec, model_id: str) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if request.prompt.strip():
            content.append({"type": "text", "text": request.prompt.strip()})
        if request.image is not None:
            content.append(_image_item(request, model, "image", "first_frame"))
        if request.last_frame is not None:
            content.append(_image_item(request, model, "last_frame", "last_frame"))
        duration = request.duration_s or model.default_duration
        body: dict[str, Any] = {
            "model": model_id,
            "content": content,
            "resolution": request.resolution or model.default_resolution,
            "duration": int(duration),
            "watermark": False,
        }
        if request.aspect is not None:
            body["ratio"] = request.aspect
        if request.seed is not None:
            body["seed"] = request.seed
        if model.audio:
            body["generate_audio"] = bool(request.audio)
        camera_fixed = request.extra.get("camera_fixed")
        if camera_fixed is not None:
            body["camera_fixed"] = bool(camera_fixed)
        return body

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http, "GET", f"{ctx.base_url}{_TASKS}/{handle.task_id}", headers=_headers(ctx)
        )
        code, message = _error_parts(response) if response.status_code == 404 else ("", "")
        if response.status_code == 404 and not _model_code(code):
            raise GenerationFailed(
                f"{self.vendor.name} no longer knows task {handle.task_id} (task data is kept "
                f"24 hours): {message}",
                vendor=VENDOR_ID,
                vendor_code=code or "404",
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
        usage = data.get("usage") or {}
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        cost = float(tokens) if isinstance(tokens, int | float) else None
        if status == "succeeded":
            content = data.get("content") or {}
            url = content.get("video_url") if isinstance(content, dict) else None
            results = (ResultRef(url),) if isinstance(url, str) and url else ()
            return TaskStatus(state, status, progress=1.0, results=results, cost=cost)
        if status == "failed":
            return TaskStatus(state, status, error=self._task_error(data.get("error")), cost=cost)
        if status == "expired":
            error = GenerationFailed(
                f"{self.vendor.name} expired the task: it stayed queued or running longer "
                "than its execution_expires_after (48 hours by default)",
                vendor=VENDOR_ID,
                vendor_code="expired",
            )
            return TaskStatus(state, status, error=error, cost=cost)
        return TaskStatus(state, status)

    def _task_error(self, error: Any) -> VendorError:
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "")
        message = str(error.get("message") or "the task failed without a reason")
        text = f"{self.vendor.name}: {message}" + (f" ({code})" if code else "")
        if _sensitive(code):
            return Rejected(
                text + " Change the prompt or image and try again.",
                vendor=VENDOR_ID,
                vendor_code=code,
                title="Content refused",
            )
        return GenerationFailed(text, vendor=VENDOR_ID, vendor_code=code or None)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Cancel a queued task. A running task cannot be stopped, and a finished one is
        left alone (DELETE would erase it from the vendor's history)."""
        status = await self.poll(ctx, handle)
        if status.state is not TaskState.QUEUED:
            return status.state is TaskState.CANCELLED
        response = await send(
            ctx.http, "DELETE", f"{ctx.base_url}{_TASKS}/{handle.task_id}", headers=_headers(ctx)
        )
        if response.status_code < 400:
            return True
        # A retried DELETE whose first answer was lost is refused: look before failing.
        if (await self.poll(ctx, handle)).state is TaskState.CANCELLED:
            return True
        raise self._error(response)

    # ----------------------------------------------------------------- errors

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        return json_body(response, VENDOR_ID)

    def _error(self, response: httpx.Response) -> VendorError:
        status = response.status_code
        code, message = _error_parts(response)
        hint = _HINTS.get(code, "")
        text = f"{self.vendor.name}: {message}" + (f" ({code})" if code else "")
        text = f"{text} {hint}".strip()
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code or str(status),
            "status": status,
        }
        if code in ("QuotaExceeded", "SetLimitExceeded") or "Overdue" in code:
            return QuotaError(text, **kw)
        if code == "ModelNotOpen":
            return AuthError(text, title="Model not activated", **kw)
        if code == "AuthenticationError" or status in (401, 403):
            return AuthError(text, **kw)
        if _model_code(code):
            return ModelRetired(text, **kw)
        if (
            status == 429
            or "RateLimit" in code
            or code in ("ServerOverloaded", "ModelLoadingError")
        ):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if _sensitive(code):
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        if status >= 500 or code == "InternalServiceError":
            return TransientError(text, **kw)
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _surface(ctx: CallContext) -> str:
    return _surface_of(ctx.base_url, ctx.region)


def _surface_of(base_url: str, region: str) -> str:
    """``cn`` or ``intl``: the host decides where it is an Ark host, else the region."""
    host = httpx.URL(base_url).host
    for domain, surface in _HOSTS:
        if host == domain or host.endswith("." + domain):
            return surface
    return "cn" if region == "cn" else "intl"


def _model_id(ctx: CallContext, model: ModelSpec) -> str:
    return _model_id_on(_surface(ctx), model)


def _model_id_on(surface: str, model: ModelSpec) -> str:
    ids: Mapping[str, str] = model.extra.get("model_ids", {})
    model_id = ids.get(surface)
    if not model_id:
        offered = ", ".join(_SURFACES[s] for s in ids if s in _SURFACES) or "no platform"
        raise InvalidInput(
            "model",
            f"{model.id} is not offered on {_SURFACES[surface]}; it is on {offered}. "
            "Use an account of that platform.",
        )
    return model_id


def _image_item(
    request: GenerationRequest, model: ModelSpec, field: str, role: str
) -> dict[str, Any]:
    path = request.image if field == "image" else request.last_frame
    assert path is not None
    prepared = prepare_image(path, model.image, field=field)
    return {"type": "image_url", "image_url": {"url": prepared.data_url()}, "role": role}


def _output_ratio(request: GenerationRequest, model: ModelSpec) -> str:
    """The ratio the output will have, as far as we can tell before the vendor picks."""
    aspect = request.aspect or (model.default_aspect if request.mode is Mode.TEXT else None)
    if aspect in _RATIOS:
        return str(aspect)
    if request.image is not None:  # adaptive: the first frame decides
        try:
            facts = check_image(request.image, model.image)
        except InvalidInput:
            return "16:9"
        value = facts.width / facts.height
        return min(_RATIOS, key=lambda name: abs(math.log(_RATIOS[name] / value)))
    return "16:9"


def _price_per_million(model: ModelSpec, facts: Mapping[str, Any]) -> float | None:
    for rule in model.extra.get("token_price_usd_per_m", ()):
        match: Mapping[str, Any] = rule.get("match", {})
        if all(facts.get(key) == value for key, value in match.items()):
            return float(rule["price"])
    return None


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(code, message) from Ark's ``{"error": {"code", "message"}}``, tolerant of junk."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or "") or f"HTTP {response.status_code}"
        return code, message
    snippet = response.text[:120].replace("\n", " ").strip()
    return "", f"HTTP {response.status_code} {response.reason_phrase} {snippet}".strip()


def _model_code(code: str) -> bool:
    return code.startswith(("InvalidEndpointOrModel", "InvalidEndpoint.NotFound"))


def _sensitive(code: str) -> bool:
    return "SensitiveContent" in code or "RiskDetection" in code
