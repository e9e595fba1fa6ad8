"""Wan video through Alibaba Cloud Model Studio (DashScope): text, image, first+last frame.

Protocol (facts: ``shared/vendors/wan-dashscope.md``; witness: the official ``dashscope``
SDK, see ``tests/vendors/test_wan_sdk.py``)::

    POST {base}/services/aigc/video-generation/video-synthesis      t2v, i2v, Wan 2.7, HappyHorse
    POST {base}/services/aigc/image2video/video-synthesis           first+last frame (kf2v models)
         Authorization: Bearer <api_key>, X-DashScope-Async: enable
         {"model": ..., "input": {...}, "parameters": {...}}
         -> {"request_id", "output": {"task_id", "task_status": "PENDING"}}
    GET  {base}/tasks/{task_id}
         -> {"output": {"task_status", "video_url"?, "code"?, "message"?}, "usage"?}
    POST {base}/tasks/{task_id}/cancel                              only while PENDING

``base`` is ``https://dashscope-intl.aliyuncs.com/api/v1`` (Singapore, the default),
``https://dashscope.aliyuncs.com/api/v1`` (Beijing) and others in the catalog; keys are
bound to the region they were made in. Three request shapes, chosen by the catalog's
``extra.api`` for each model:

    ========== ========================== ============================================
    api        models                     size and images
    ========== ========================== ============================================
    size       wan2.x t2v                 parameters.size "1280*720" (resolution+aspect)
    resolution wan2.x i2v and kf2v        parameters.resolution "720P"; input.img_url,
                                          or first_frame_url + last_frame_url (kf2v
                                          models, on the image2video endpoint)
    media      wan2.7-*, happyhorse-1.0-* parameters.resolution (+ ratio for t2v);
                                          input.media [{"type": "first_frame", "url"}]
    ========== ========================== ============================================

Local images are prepared to the model's limits and sent inline as
``data:<mime>;base64,...`` URLs, which DashScope documents for ``img_url`` and which
clients use for frames and ``media``. Extras read from ``request.extra``:
``prompt_extend`` (bool), ``watermark`` (bool; we always send it, default false),
``shot_type`` ("single"/"multi", Wan 2.6), ``audio_url`` (public wav/mp3 URL, Wan
2.5/2.6), ``reference_images`` (public image URLs, Wan 3.0: media ``reference_image``).
``request.audio`` is sent as ``parameters.audio`` only where the model has that switch
(wan2.6-i2v-flash); the other audio models always add sound, so ``--no-audio`` is refused
for them. In image modes the picture decides the aspect ratio: ``--aspect`` is refused.
Wan 3.0 (``wan3.0-video``) takes no ``negative_prompt`` and no ``prompt_extend``; both are
refused before sending. A 429 without ``Retry-After`` waits 5, 10, 20, 40, 60 s
(``throttle_backoff_s``), as Alibaba advises for a throttled account.

States:

    ============ ============ ===============================================
    task_status  TaskState    note
    ============ ============ ===============================================
    PENDING      QUEUED       the only state in which cancel works
    SUSPENDED    QUEUED       SDK enum; not seen for video
    RUNNING      RUNNING      no progress figure is given
    SUCCEEDED    SUCCEEDED    output.video_url, valid 24 hours
    FAILED       FAILED       output.code / output.message
    CANCELED     CANCELLED
    UNKNOWN      FAILED       task id not found or older than 24 hours
    ============ ============ ===============================================

Errors (HTTP status and the body's ``code``; a 200 that carries a ``code`` and no task is
an error too):

    ============================================ =======================================
    DashScope code (HTTP status)                 error
    ============================================ =======================================
    InvalidApiKey (401)                          AuthError, with the region-bound key hint
    AccessDenied, AccessDenied.Unpurchased,      AuthError (the key may not use the model
    Model.AccessDenied, Workspace.AccessDenied,  or workspace: enable it in the console)
    WorkSpaceNotFound (403/404)
    Arrearage (400), Throttling.AllocationQuota, QuotaError
    PrepaidBillOverdue, PostpaidBillOverdue,
    CommodityNotPurchased (429)
    Throttling, Throttling.RateQuota,            RateLimited, Retry-After kept when sent
    Throttling.BurstRate, LimitRequests, any 429
    ModelNotFound, Model.NotExist (404)          ModelRetired
    DataInspectionFailed, IPInfringementSuspect, Rejected
    InvalidParameter, InvalidURL, BadRequest.*,
    any other 4xx
    InternalError*, SystemError,                 TransientError
    ModelUnavailable, any 5xx
    FAILED task with a server-side code          GenerationFailed (others as above)
    not JSON, or no task_id / task_status        ProtocolError
    ============================================ =======================================

A create refused with 429 is not retried inside ``core.http.send``: the engine re-queues
the job and waits as asked, so a quota code behind the 429 fails at once instead.

Deliberately not supported: ``find`` (DashScope has no client task id, and its task list
cannot be matched to a lost create safely, so ``can_find`` is false and a lost create
becomes ``unknown``); ``balance`` (only Alibaba Cloud's billing OpenAPI, signed with an
AccessKey pair, knows it); the vendor's charge (``usage`` reports billed seconds, no
money); reference-to-video and video editing (no such inputs in a request); the
``oss://`` temporary upload the SDK uses (inline data URLs need no extra hosts); the
``X-DashScope-WorkSpace`` header (use the workspace gateway as the account's base URL).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

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
from takestock.core.http import RetryPolicy, json_body, parse_retry_after, send
from takestock.core.images import prepare_image
from takestock.core.pricing import estimate_from_catalog
from takestock.core.validation import check_image, validate_common
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

__all__ = ["WanAdapter", "vendor_error"]

VENDOR = "wan"
SEED_MAX = 2_147_483_647
ASYNC_HEADER = {"X-DashScope-Async": "enable"}
CREATE_PATHS = {
    "video-generation": "/services/aigc/video-generation/video-synthesis",
    "image2video": "/services/aigc/image2video/video-synthesis",
}
# Creates: connection failures are still retried by ``send``; a 429 goes back to the
# engine, which re-queues the job (see the module docstring).
_CREATE_POLICY = RetryPolicy(retry_statuses=frozenset())
_SHOT_TYPES = ("single", "multi")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")

_STATES = {
    "PENDING": TaskState.QUEUED,
    "SUSPENDED": TaskState.QUEUED,
    "RUNNING": TaskState.RUNNING,
    "SUCCEEDED": TaskState.SUCCEEDED,
    "FAILED": TaskState.FAILED,
    "CANCELED": TaskState.CANCELLED,
    "UNKNOWN": TaskState.FAILED,
}

_AUTH_CODES = frozenset(
    {
        "InvalidApiKey",
        "AccessDenied",
        "AccessDenied.Unpurchased",
        "Model.AccessDenied",
        "Workspace.AccessDenied",
        "WorkSpaceNotFound",
    }
)
_QUOTA_CODES = frozenset(
    {
        "Arrearage",
        "Throttling.AllocationQuota",
        "PrepaidBillOverdue",
        "PostpaidBillOverdue",
        "CommodityNotPurchased",
    }
)
_RATE_CODES = frozenset(
    {"Throttling", "Throttling.RateQuota", "Throttling.BurstRate", "LimitRequests"}
)
_RETIRED_CODES = frozenset({"ModelNotFound", "Model.NotExist"})
_SERVER_CODES = frozenset(
    {
        "InternalError",
        "InternalError.Algo",
        "InternalError.Timeout",
        "SystemError",
        "ModelUnavailable",
        "ModelServiceFailed",
        "ServiceUnavailable",
        "GatewayTimeout",
        "RequestTimeOut",
    }
)


def _region_hint(ctx: CallContext | None) -> str:
    where = ""
    if ctx is not None:
        host = httpx.URL(ctx.base_url).host or ctx.base_url
        where = f" This account uses region {ctx.region!r} ({host})."
    return (
        " DashScope API keys are bound to the region they were made in: a Beijing key"
        f" fails on the Singapore endpoint and the other way round.{where}"
    )


def vendor_error(
    code: str | None,
    message: str,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    ctx: CallContext | None = None,
) -> VendorError:
    """DashScope's ``code`` (and HTTP ``status``) as an error of ``core.errors``."""
    text = f"Wan: {message}" + (f" ({code})" if code else "")
    kw: dict[str, Any] = {
        "vendor": VENDOR,
        "vendor_code": code or (str(status) if status else None),
        "status": status,
    }
    if code in _AUTH_CODES or status in (401, 403):
        hint = _region_hint(ctx) if code == "InvalidApiKey" or status == 401 else ""
        return AuthError(text + "." + hint, **kw)
    if code in _QUOTA_CODES:
        return QuotaError(text + ". Top up or raise the quota in the Model Studio console.", **kw)
    if code in _RATE_CODES or status == 429:
        return RateLimited(text, retry_after=retry_after, **kw)
    if code in _RETIRED_CODES:
        return ModelRetired(text, **kw)
    if code in _SERVER_CODES or (status is not None and status >= 500):
        return TransientError(text, **kw)
    return Rejected(text, **kw)


def _task_error(code: str | None, message: str) -> VendorError:
    """Why a task failed: server-side faults are a failed generation, not a retry."""
    error = vendor_error(code, message)
    if isinstance(error, TransientError | RateLimited):
        return GenerationFailed(error.message, vendor=VENDOR, vendor_code=code)
    return error


def _data_url(path: Path, model: ModelSpec, field: str) -> str:
    prepared = prepare_image(path, model.image, field=field)
    return prepared.data_url()


def _pixels(resolution: str) -> str:
    """Our resolution name ("720p") as DashScope spells it ("720P")."""
    return resolution.upper()


class WanAdapter(BaseAdapter):
    """Wan and HappyHorse models on DashScope; see the module docstring.

    Attributes:
        vendor: the vendor's catalog entry.
    """

    vendor_id = VENDOR
    can_find = False

    def __init__(self, vendor: VendorSpec) -> None:
        super().__init__(vendor)
        #: creates refused with 429 in a row, for DashScope's growing backoff
        self._throttled = 0

    def _backed_off(self, exc: RateLimited) -> RateLimited:
        """A 429 without Retry-After waits as Alibaba advises: seconds, doubling, capped
        (a throttled account recovers within about a minute)."""
        self._throttled += 1
        if exc.retry_after is not None:
            return exc
        first, most = (float(x) for x in self.vendor.extra.get("throttle_backoff_s", (5, 60)))
        exc.retry_after = min(most, first * 2 ** (self._throttled - 1))
        return exc

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)
        where = f"{self.vendor.name} {model.id}"
        if request.mode is Mode.FIRST_LAST and request.image is None:
            raise InvalidInput("image", "a last frame needs a first frame too")
        if request.seed is not None and request.seed > SEED_MAX:
            raise InvalidInput("seed", f"{where} takes a seed from 0 to {SEED_MAX}")
        self._check_prompt(request, model, where)
        if request.audio is False and model.audio and not model.extra.get("audio_switch"):
            # DashScope has no switch for these models: they add sound whatever we send.
            raise InvalidInput(
                "audio", f"{where} always adds sound; Alibaba offers no switch to leave it out"
            )
        if request.extra.get("reference_images") and request.image is not None:
            raise InvalidInput(
                "reference_images", f"{where} takes reference images or frames, not both"
            )
        if request.aspect is not None and request.mode is not Mode.TEXT:
            raise InvalidInput(
                "aspect", f"{where} takes the aspect ratio of its input image; leave --aspect out"
            )
        if model.extra.get("api", "size") == "size":
            self._size(request, model)
        for field, path in (("image", request.image), ("last_frame", request.last_frame)):
            if path is not None:
                self._check_image(path, model, field, where)
        self._check_extra(request.extra, model, where)

    def _check_prompt(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        cjk_max = model.extra.get("cjk_prompt_max_chars")
        prompt = request.prompt.strip()
        if cjk_max and _CJK.search(prompt) and len(prompt) > int(cjk_max):
            raise InvalidInput(
                "prompt",
                f"is {len(prompt)} characters; {where} takes at most {cjk_max} when the "
                "prompt holds Chinese, Japanese or Korean text",
            )

    def _size(self, request: GenerationRequest, model: ModelSpec) -> str:
        """The ``W*H`` size for a ``size`` model, or InvalidInput for a missing pairing."""
        resolution = request.resolution or model.default_resolution
        aspect = request.aspect or model.default_aspect
        sizes: Mapping[str, Mapping[str, str]] = self.vendor.extra.get("sizes", {})
        by_aspect = sizes.get(resolution, {})
        if aspect not in by_aspect:
            offered = ", ".join(by_aspect) or "none"
            raise InvalidInput(
                "aspect",
                f"{self.vendor.name} {model.id} offers {aspect} at {resolution} in no size; "
                f"at {resolution} use {offered}",
            )
        return by_aspect[aspect]

    def _check_image(self, path: Path, model: ModelSpec, field: str, where: str) -> None:
        # Pixel range and aspect are the catalog's ImageLimits (checked in
        # validate_common); DashScope also refuses PNGs with an alpha channel.
        if not model.extra.get("no_alpha"):
            return
        facts = check_image(path, model.image, field=field)
        if facts.format != "png":
            return
        with Image.open(path) as img:
            alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        if alpha:
            raise InvalidInput(
                field,
                f"{path.name} is a PNG with transparency, which {where} refuses; "
                "save it without the alpha channel (or as JPEG)",
            )

    def _check_extra(self, extra: Mapping[str, Any], model: ModelSpec, where: str) -> None:
        for key in ("prompt_extend", "watermark"):
            if key in extra and not isinstance(extra[key], bool):
                raise InvalidInput(key, "must be true or false")
        if "prompt_extend" in extra and not model.extra.get("prompt_extend", True):
            raise InvalidInput("prompt_extend", f"{where} has no prompt rewriting to switch")
        shot = extra.get("shot_type")
        if shot is not None:
            if not model.extra.get("shot_type"):
                raise InvalidInput("shot_type", f"{where} takes no shot type (Wan 2.6 does)")
            if shot not in _SHOT_TYPES:
                raise InvalidInput("shot_type", f"must be one of {', '.join(_SHOT_TYPES)}")
            if shot == "multi" and extra.get("prompt_extend") is False:
                raise InvalidInput("shot_type", "multi-shot needs prompt_extend left on")
        self._check_references(extra, model, where)
        audio_url = extra.get("audio_url")
        if audio_url is not None:
            if not model.extra.get("audio_url"):
                raise InvalidInput("audio_url", f"{where} takes no audio track")
            if not isinstance(audio_url, str) or not audio_url.startswith(("http://", "https://")):
                raise InvalidInput(
                    "audio_url", "must be a public http(s) URL of a wav or mp3 file (3-30 s, 15 MB)"
                )

    def _check_references(self, extra: Mapping[str, Any], model: ModelSpec, where: str) -> None:
        refs = extra.get("reference_images")
        if refs is None:
            return
        most = int(model.extra.get("reference_images", 0))
        if not most:
            raise InvalidInput("reference_images", f"{where} takes no reference images")
        if (
            not isinstance(refs, list)
            or not refs
            or not all(isinstance(r, str) and r.startswith(("http://", "https://")) for r in refs)
        ):
            raise InvalidInput("reference_images", "must be a list of public http(s) image URLs")
        if len(refs) > most:
            raise InvalidInput("reference_images", f"{where} takes at most {most}")

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        # Models that add sound by default are priced with it unless asked not to.
        if request.audio is None and model.extra.get("audio_on"):
            request = replace(request, audio=True)
        return estimate_from_catalog(request, model, self.vendor)

    # ------------------------------------------------------------------ create

    def body(self, request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
        """The create body for ``request`` (images read and encoded here)."""
        api = model.extra.get("api", "size")
        resolution = request.resolution or model.default_resolution
        params: dict[str, Any] = {
            "duration": int(request.duration_s or model.default_duration),
        }
        if api == "size":
            params["size"] = self._size(request, model)
        else:
            params["resolution"] = _pixels(resolution)
        if model.extra.get("ratio") and request.mode is Mode.TEXT:
            # With a frame, the picture sets the shape (Wan 3.0 takes all modes).
            params["ratio"] = request.aspect or model.default_aspect
        inputs: dict[str, Any] = {}
        if request.prompt.strip():
            inputs["prompt"] = request.prompt
        if request.negative.strip():
            inputs["negative_prompt"] = request.negative
        inputs.update(self._images(request, model, api))
        self._options(request, model, inputs, params)
        return {"model": model.id, "input": inputs, "parameters": params}

    def _images(self, request: GenerationRequest, model: ModelSpec, api: str) -> dict[str, Any]:
        refs = request.extra.get("reference_images")
        if refs:
            return {"media": [{"type": "reference_image", "url": url} for url in refs]}
        if request.image is None:
            return {}
        first = _data_url(request.image, model, "image")
        last = (
            _data_url(request.last_frame, model, "last_frame")
            if request.last_frame is not None
            else None
        )
        if api == "media":
            media = [{"type": "first_frame", "url": first}]
            if last is not None:
                media.append({"type": "last_frame", "url": last})
            return {"media": media}
        if last is not None:
            return {"first_frame_url": first, "last_frame_url": last}
        return {"img_url": first}

    def _options(
        self,
        request: GenerationRequest,
        model: ModelSpec,
        inputs: dict[str, Any],
        params: dict[str, Any],
    ) -> None:
        extra = request.extra
        if extra.get("audio_url") is not None:
            inputs["audio_url"] = extra["audio_url"]
        if model.extra.get("audio_switch") and request.audio is not None:
            params["audio"] = request.audio
        if "prompt_extend" in extra:
            params["prompt_extend"] = extra["prompt_extend"]
        if extra.get("shot_type") is not None:
            params["shot_type"] = extra["shot_type"]
        params["watermark"] = bool(extra.get("watermark", False))
        if request.seed is not None:
            params["seed"] = request.seed

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given")
        body = await asyncio.to_thread(self.body, request, model)
        path = CREATE_PATHS[model.extra.get("endpoint", "video-generation")]
        response = await send(
            ctx.http,
            "POST",
            ctx.base_url + path,
            idempotent=False,
            policy=_CREATE_POLICY,
            json=body,
            headers={**self._headers(ctx), **ASYNC_HEADER},
        )
        try:
            data = self._read(response, ctx)
        except RateLimited as exc:
            raise self._backed_off(exc) from None
        self._throttled = 0
        output = data.get("output")
        task_id = output.get("task_id") if isinstance(output, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError(
                f"Wan answered the create without a task id: {str(data)[:200]}",
                vendor=VENDOR,
                status=response.status_code,
            )
        return TaskHandle(task_id, {"model": model.id, "request_id": data.get("request_id")})

    # -------------------------------------------------------------------- poll

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http, "GET", f"{ctx.base_url}/tasks/{handle.task_id}", headers=self._headers(ctx)
        )
        return self.status(self._read(response, ctx), handle.task_id)

    def status(self, data: Mapping[str, Any], task_id: str) -> TaskStatus:
        """A task's JSON as a :class:`TaskStatus`."""
        output = data.get("output")
        name = output.get("task_status") if isinstance(output, dict) else None
        state = _STATES.get(name) if isinstance(name, str) else None
        if output is None or state is None or not isinstance(name, str):
            raise ProtocolError(
                f"Wan answered a poll without a known task_status: {str(data)[:200]}", vendor=VENDOR
            )
        if name == "UNKNOWN":
            error: VendorError = GenerationFailed(
                f"Wan no longer knows task {task_id} (UNKNOWN): DashScope keeps task ids "
                "and their videos for 24 hours",
                vendor=VENDOR,
                vendor_code="UNKNOWN",
            )
            return TaskStatus(state, vendor_state=name, error=error)
        if state is TaskState.FAILED:
            code = output.get("code")
            message = output.get("message") or "the task failed"
            return TaskStatus(state, vendor_state=name, error=_task_error(code, str(message)))
        if state is TaskState.SUCCEEDED:
            url = output.get("video_url")
            results = (ResultRef(url),) if isinstance(url, str) and url else ()
            return TaskStatus(state, vendor_state=name, progress=1.0, results=results)
        return TaskStatus(state, vendor_state=name)

    # ------------------------------------------------------------------ cancel

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Cancel a PENDING task; False once it runs (DashScope then finishes it)."""
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/tasks/{handle.task_id}/cancel",
            idempotent=True,
            headers=self._headers(ctx),
        )
        try:
            self._read(response, ctx)
        except Rejected:
            return False
        return True

    # ----------------------------------------------------------------- helpers

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        return {"Authorization": f"Bearer {ctx.secret('api_key')}"}

    def _read(self, response: httpx.Response, ctx: CallContext) -> dict[str, Any]:
        """The answer's JSON object, or the mapped error it carries."""
        status = response.status_code
        if status >= 400:
            raise self._error(response, ctx)
        data = json_body(response, VENDOR)
        if not isinstance(data, dict):
            raise ProtocolError(
                f"Wan answered with {type(data).__name__}, not an object",
                vendor=VENDOR,
                status=status,
            )
        if data.get("code") and not data.get("output"):
            raise vendor_error(
                str(data["code"]), str(data.get("message") or ""), status=status, ctx=ctx
            )
        return data

    def _error(self, response: httpx.Response, ctx: CallContext) -> VendorError:
        code: str | None = None
        message = ""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = str(data["code"]) if data.get("code") else None
            message = str(data.get("message") or "")
        if not message:
            message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        return vendor_error(
            code,
            message,
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            ctx=ctx,
        )
