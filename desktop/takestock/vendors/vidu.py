"""Vidu (Shengshu): the enterprise video API, ``/ent/v2``.

Protocol in brief (facts: ``shared/vendors/vidu.md``; limits and prices live in
``resources/catalog/vidu.json``):

- Auth: ``Authorization: Token <api_key>`` (the word ``Token``, not ``Bearer``). Keys are
  per platform: ``api.vidu.com`` (international, the default) or ``api.vidu.cn``
  (mainland); the catalog names them ``international`` and ``mainland``.
- Create: ``POST /ent/v2/text2video`` | ``/img2video`` (one first frame) |
  ``/start-end2video`` (first and last frame) with JSON; images go inline as data URLs
  (``data:image/png;base64,...``), the whole body at most 20 MB. The answer carries
  ``task_id`` and the ``credits`` the task will cost. Our ``client_request_id`` travels
  in ``payload``, which Vidu only echoes back.
- Poll: ``GET /ent/v2/tasks/{id}/creations`` → ``state``, ``credits`` (the charge, 0
  when failed), ``err_code``, ``creations[].url`` (signed; Vidu says 24 h, ComfyUI's
  client says 1 h: we assume 1 h and download at once; a poll signs fresh URLs).
- Cancel: ``POST /ent/v2/tasks/{id}/cancel`` (``{"id": ...}``), answered ``{}``; only
  a task not yet running can be cancelled (off-peak tasks wait up to 48 h).
- Balance: ``GET /ent/v2/credits?show_detail=true`` → ``remains[]`` per pack type,
  ``packages[]`` with validity dates.

States:

    =============== ============ ==========================================
    Vidu state      TaskState    note
    =============== ============ ==========================================
    created         QUEUED
    queueing        QUEUED       over the account's concurrency, or off-peak
    processing      RUNNING      ``progress`` read where sent (0..1 or %)
    success         SUCCEEDED    ``creations[0].url`` (``watermarked_url``
                                 when a watermark was asked for)
    failed          FAILED       ``err_code`` mapped as below
    failed          CANCELLED    ``err_code`` = ``UserCancelled``
    =============== ============ ==========================================

Errors. HTTP errors carry ``{"code": <status>, "reason": <code>, "message": ...}``;
a failed task carries the same codes in ``err_code``:

    ======================================= ================== ==================
    Vidu code (HTTP status)                 error              on a failed task
    ======================================= ================== ==================
    Unauthorized (401), Forbidden (403)     AuthError          —
    CreditInsufficient (400)                QuotaError         QuotaError
    QuotaExceeded, TooManyRequests,         RateLimited        —
    SystemThrottling (429)                  (``Retry-After``)
    TaskPromptPolicyViolation,              Rejected           Rejected
    AuditSubmitIllegal,
    CreationPolicyViolation (400)
    ModelUnavailable (400)                  ModelRetired       ModelRetired
    Field*, BadRequest, Image*,             Rejected           GenerationFailed
    PageSizeOutOfRange, other 4xx
    OperationInProcess (400), Canceled      TransientError     GenerationFailed
    (499), InternalServiceFailure, 5xx
    UserCancelled                           —                  state CANCELLED
    not JSON                                ProtocolError      —
    ======================================= ================== ==================

Vendor-specific options come in ``GenerationRequest.extra``: ``movement_amplitude``
(auto/small/medium/large), ``bgm``, ``style`` (general/anime, text only), ``off_peak``
(cheaper, runs within 48 h), ``is_rec`` (Vidu writes the prompt, +10 credits; not for
text), ``voice_id`` (with audio), ``watermark``. Other keys are left for other vendors.

Deliberately not supported: ``reference2video`` (subjects and reference images have no
place in the vendor-neutral request: a text request with references would pass
validation for models that do no text-to-video), ``callback_url`` (a desktop app has
no public address), image URLs (we always send the file), extension, lip-sync and
upscaling. ``find`` is impossible: Vidu has no task listing and no client task id, so
a create whose answer is lost becomes ``unknown`` (its ``payload`` names our id for
Vidu's support).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from takestock.core.catalog import ModelSpec, VendorSpec
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
from takestock.core.images import PreparedImage, prepare_image
from takestock.core.pricing import estimate_from_catalog
from takestock.core.validation import check_image, validate_common
from takestock.core.vendor import (
    Balance,
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

__all__ = ["ViduAdapter"]

VENDOR_ID = "vidu"

_STATES = {
    "created": TaskState.QUEUED,
    "queueing": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "success": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}

_AUTH = frozenset({"Unauthorized", "Forbidden"})
_QUOTA = frozenset({"CreditInsufficient"})
_RATE = frozenset({"QuotaExceeded", "TooManyRequests", "SystemThrottling"})
_POLICY = frozenset({"TaskPromptPolicyViolation", "AuditSubmitIllegal", "CreationPolicyViolation"})
_RETIRED = frozenset({"ModelUnavailable"})
_TRANSIENT = frozenset({"OperationInProcess", "Canceled", "InternalServiceFailure"})
_CANCELLED = "UserCancelled"

#: What Vidu's error-code page says each code means, for failed tasks (which carry
#: only the code) and for answers without a message.
_MEANING = {
    "CreditInsufficient": "not enough credits; top up in the Vidu dashboard",
    "QuotaExceeded": "over the account's concurrency limit",
    "TooManyRequests": "requests are too frequent",
    "SystemThrottling": "Vidu is throttling; try again later",
    "TaskPromptPolicyViolation": "the prompt was refused by Vidu's content policy",
    "AuditSubmitIllegal": "the input did not pass Vidu's safety review",
    "CreationPolicyViolation": "the generated video was refused by Vidu's content policy",
    "ModelUnavailable": "the model is not available",
    "ImageDownloadFailure": "Vidu could not fetch the image",
    "ImageFormatInvalid": "the image format was refused",
    "PageSizeOutOfRange": "the image is too large or its aspect ratio is out of range",
    "InternalServiceFailure": "Vidu failed internally; try again",
    "UserCancelled": "the task was cancelled",
}

_MODE_NAMES = {
    "text": "text to video",
    "image": "image to video",
    "first_last": "first and last frame",
}
_AMPLITUDES = ("auto", "small", "medium", "large")
_STYLES = ("general", "anime")
_BOOL_OPTIONS = ("bgm", "off_peak", "is_rec", "watermark")


def _fmt(value: float) -> str:
    return f"{value:g}"


def _error_class(code: str, status: int | None) -> type[VendorError]:
    """The error kind of a Vidu code or HTTP status (see the module table)."""
    if code in _AUTH or status in (401, 403):
        return AuthError
    if code in _QUOTA:
        return QuotaError
    if code in _RATE or status == 429:
        return RateLimited
    if code in _RETIRED:
        return ModelRetired
    if code in _POLICY:
        return Rejected
    if code in _TRANSIENT or (status is not None and status >= 500):
        return TransientError
    return Rejected


def _failure(code: str) -> VendorError:
    """The error of a task that Vidu reports as failed with ``err_code``."""
    kind: type[VendorError] = GenerationFailed
    if code in _QUOTA:
        kind = QuotaError
    elif code in _POLICY:
        kind = Rejected
    elif code in _RETIRED:
        kind = ModelRetired
    meaning = _MEANING.get(code, "the task failed")
    shown = f"{meaning} ({code})" if code else "the task failed without an error code"
    return kind(f"Vidu: {shown}", vendor=VENDOR_ID, vendor_code=code or None)


class ViduAdapter(BaseAdapter):
    """Vidu's ``/ent/v2`` API (see the module docstring).

    Attributes:
        vendor: Vidu's catalog entry; ``extra`` holds the endpoint names and limits.
    """

    vendor_id = VENDOR_ID
    can_find = False  # no task listing, no client task id: only ``payload`` is echoed

    def __init__(self, vendor: VendorSpec) -> None:
        super().__init__(vendor)

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        where = f"{self.vendor.name} {model.id}"
        if request.mode is not Mode.TEXT and request.aspect is not None:
            raise InvalidInput(
                "aspect", f"{where} takes the aspect ratio from the image; leave it unset"
            )
        validate_common(request, model, self.vendor.name)
        self._check_duration(request, model, where)
        self._check_resolution(request, model, where)
        self._check_audio(request, model, where)
        seed_max = int(self.vendor.extra.get("seed_max", 2147483647))
        if request.seed is not None and request.seed > seed_max:
            raise InvalidInput("seed", f"must be between 0 and {seed_max} for {where}")
        self._check_extra(request, model, where)
        if request.image is not None and request.last_frame is not None:
            self._check_frame_pair(request.image, request.last_frame, model)

    def _check_duration(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        if request.duration_s is None:
            return
        by_mode: Mapping[str, Any] = model.extra.get("durations_by_mode", {})
        allowed = by_mode.get(request.mode.value)
        if allowed is not None and request.duration_s not in allowed:
            raise InvalidInput(
                "duration",
                f"{_fmt(request.duration_s)} s is not offered by {where} in "
                f"{_MODE_NAMES[request.mode.value]}; use "
                f"{_fmt(min(allowed))} to {_fmt(max(allowed))} s",
            )

    def _check_resolution(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        if request.resolution is None:
            return
        duration = request.duration_s or model.default_duration
        by_duration: Mapping[str, Any] = model.extra.get("resolutions_by_duration", {})
        allowed = by_duration.get(_fmt(duration))
        if allowed is not None and request.resolution not in allowed:
            raise InvalidInput(
                "resolution",
                f"{request.resolution} is not offered by {where} at {_fmt(duration)} s; "
                f"use {', '.join(allowed)}",
            )

    def _check_audio(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        if not request.audio:
            return
        modes = model.extra.get("audio_modes", list(model.modes) if model.audio else [])
        if request.mode.value not in modes:
            offered = " or ".join(_MODE_NAMES.get(m, m) for m in modes)
            raise InvalidInput(
                "audio",
                f"{where} makes sound only in {offered}, not in {_MODE_NAMES[request.mode.value]}",
            )

    def _check_extra(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        extra = request.extra
        for name in _BOOL_OPTIONS:
            if name in extra and not isinstance(extra[name], bool):
                raise InvalidInput(name, "must be true or false")
        amplitude = extra.get("movement_amplitude")
        if amplitude is not None and amplitude not in _AMPLITUDES:
            raise InvalidInput("movement_amplitude", f"must be one of {', '.join(_AMPLITUDES)}")
        style = extra.get("style")
        if style is not None:
            if style not in _STYLES:
                raise InvalidInput("style", f"must be one of {', '.join(_STYLES)}")
            if request.mode is not Mode.TEXT:
                raise InvalidInput("style", f"{where} takes a style only for text to video")
        if extra.get("bgm") and not model.extra.get("bgm", True):
            raise InvalidInput("bgm", f"{where} adds no background music")
        if extra.get("is_rec") and request.mode is Mode.TEXT:
            raise InvalidInput("is_rec", "Vidu recommends prompts only when given a first frame")
        voice = extra.get("voice_id")
        if voice is not None and (not isinstance(voice, str) or not request.audio):
            raise InvalidInput("voice_id", "needs audio on and a voice id as text")
        if (
            extra.get("off_peak")
            and request.audio
            and not model.extra.get("off_peak_with_audio", False)
        ):
            raise InvalidInput("off_peak", f"{where} cannot make sound in off-peak mode")

    def _check_frame_pair(self, image: Path, last_frame: Path, model: ModelSpec) -> None:
        first = check_image(image, model.image, field="image")
        last = check_image(last_frame, model.image, field="last_frame")
        low, high = self.vendor.extra.get("first_last_aspect_ratio_range", (0.8, 1.25))
        ratio = (first.width / first.height) / (last.width / last.height)
        if not low <= ratio <= high:
            raise InvalidInput(
                "last_frame",
                f"the first and last frames must have similar shapes: their aspect ratios "
                f"differ by a factor of {ratio:.2f}; Vidu takes {_fmt(low)} to {_fmt(high)}",
            )

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """Catalog price for the resolution Vidu will use, then off-peak and ``is_rec``."""
        if request.resolution is None:
            duration = _fmt(request.duration_s or model.default_duration)
            default = model.extra.get("default_resolution_by_duration", {}).get(duration)
            if default is not None:
                request = dataclasses.replace(request, resolution=default)
        base = estimate_from_catalog(request, model, self.vendor)
        if base.amount is None:
            return base
        amount = base.amount
        if request.extra.get("off_peak"):
            amount *= float(self.vendor.extra.get("off_peak_factor", 1.0))
        if request.extra.get("is_rec"):
            amount += float(self.vendor.extra.get("is_rec_credits", 0))
        money = None if self.vendor.money_per_unit is None else amount * self.vendor.money_per_unit
        return Estimate(
            round(amount, 4),
            base.unit,
            None if money is None else round(money, 4),
            base.currency,
        )

    # ------------------------------------------------------------------- calls

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        return {"Authorization": f"Token {ctx.secret('api_key')}"}

    def _error(self, response: httpx.Response) -> VendorError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("reason") or "")
        status = response.status_code
        said = str(body.get("message") or _MEANING.get(code) or response.reason_phrase)
        message = f"Vidu: {said} ({code or f'HTTP {status}'})"
        kind = _error_class(code, status)
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or str(status)}
        if kind is RateLimited:
            after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(message, retry_after=after, status=status, **kw)
        return kind(message, status=status, **kw)

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        data = json_body(response, VENDOR_ID)
        if not isinstance(data, dict):
            raise ProtocolError(f"Vidu answered with {data!r}, not an object", vendor=VENDOR_ID)
        return data

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given for the Vidu task")
        body = self._body(request, model, client_request_id)
        images = await self._images(request, model)
        if images:
            body["images"] = [image.data_url() for image in images]
        content = json.dumps(body).encode()
        limit = int(self.vendor.extra.get("max_body_bytes", 20 * 1024 * 1024))
        if len(content) > limit:
            raise InvalidInput(
                "image",
                f"the request with its images is {len(content) // 1024} KiB; Vidu takes at "
                f"most {limit // 1024} KiB: use smaller images",
            )
        endpoint = self.vendor.extra["endpoints"][request.mode.value]
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/ent/v2/{endpoint}",
            idempotent=False,
            content=content,
            headers={**self._headers(ctx), "Content-Type": "application/json"},
        )
        data = self._check(response)
        task_id = data.get("task_id")
        if not task_id:
            raise ProtocolError(f"Vidu's create answer has no task_id: {data!r}", vendor=VENDOR_ID)
        return TaskHandle(
            str(task_id), {"endpoint": endpoint, "watermark": bool(body.get("watermark"))}
        )

    def _body(
        self, request: GenerationRequest, model: ModelSpec, client_request_id: str
    ) -> dict[str, Any]:
        """The create body without images, field by field (None: Vidu's default)."""
        mode = request.mode
        extra = request.extra
        body: dict[str, Any] = {"model": model.id}
        if request.prompt.strip():
            body["prompt"] = request.prompt.strip()
        if request.duration_s is not None:
            body["duration"] = int(request.duration_s)
        if request.resolution is not None:
            body["resolution"] = request.resolution
        if mode is Mode.TEXT and request.aspect is not None:
            body["aspect_ratio"] = request.aspect
        if request.seed is not None:
            body["seed"] = request.seed
        audio_modes = model.extra.get("audio_modes", ())
        if request.audio is not None and mode.value in audio_modes:
            body["audio"] = request.audio
        for name in ("movement_amplitude", "voice_id", *_BOOL_OPTIONS):
            if extra.get(name) is not None:
                body[name] = extra[name]
        if mode is Mode.TEXT and extra.get("style") is not None:
            body["style"] = extra["style"]
        body["payload"] = client_request_id
        return body

    async def _images(self, request: GenerationRequest, model: ModelSpec) -> list[PreparedImage]:
        """The frames as Vidu takes them, prepared off the event loop."""
        frames = [("image", request.image), ("last_frame", request.last_frame)]
        return [
            await asyncio.to_thread(prepare_image, path, model.image, field=field)
            for field, path in frames
            if path is not None
        ]

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/ent/v2/tasks/{handle.task_id}/creations",
            headers=self._headers(ctx),
        )
        return self._status(self._check(response), handle)

    def _status(self, data: Mapping[str, Any], handle: TaskHandle) -> TaskStatus:
        word = str(data.get("state") or "")
        state = _STATES.get(word)
        if state is None:
            raise ProtocolError(f"Vidu reported an unknown task state {word!r}", vendor=VENDOR_ID)
        credits = data.get("credits")
        cost = float(credits) if isinstance(credits, int | float) else None
        if state is TaskState.FAILED:
            code = str(data.get("err_code") or "")
            if code == _CANCELLED:
                return TaskStatus(TaskState.CANCELLED, vendor_state=word, cost=cost)
            return TaskStatus(state, vendor_state=word, error=_failure(code), cost=cost)
        results: tuple[ResultRef, ...] = ()
        if state is TaskState.SUCCEEDED:
            results = self._results(data.get("creations"), bool(handle.data.get("watermark")))
        return TaskStatus(
            state,
            vendor_state=word,
            progress=_progress(data.get("progress")),
            results=results,
            cost=cost,
        )

    def _results(self, creations: Any, watermarked: bool) -> tuple[ResultRef, ...]:
        if not isinstance(creations, list):
            raise ProtocolError("Vidu's finished task has no creations list", vendor=VENDOR_ID)
        refs = []
        for creation in creations:
            if not isinstance(creation, dict):
                continue
            url = (watermarked and creation.get("watermarked_url")) or creation.get("url")
            if url:
                refs.append(ResultRef(str(url)))
        return tuple(refs)

    async def balance(self, ctx: CallContext) -> Balance:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/ent/v2/credits",
            params={"show_detail": "true"},
            headers=self._headers(ctx),
        )
        data = self._check(response)
        remains = data.get("remains")
        if not isinstance(remains, list):
            raise ProtocolError("Vidu's credits answer has no remains list", vendor=VENDOR_ID)
        total = sum(float(r.get("credit_remain") or 0) for r in remains if isinstance(r, dict))
        packages = data.get("packages") if isinstance(data.get("packages"), list) else []
        return Balance(total, self.vendor.unit, {"remains": remains, "packages": packages})

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Cancel a task Vidu has not started (queued or off-peak); Vidu refuses others."""
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/ent/v2/tasks/{handle.task_id}/cancel",
            idempotent=True,  # cancelling twice cannot charge anything
            json={"id": handle.task_id},
            headers=self._headers(ctx),
        )
        if response.status_code >= 400:
            raise self._error(response)
        return True


def _progress(value: Any) -> float | None:
    """Vidu's optional ``progress``, as 0..1 whether it came as a fraction or a percent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    fraction = value / 100 if value > 1 else float(value)
    return max(0.0, min(1.0, fraction))
