"""Lightricks LTX (``api.ltx.video``): a create that answers with the video itself.

LTX's v1 API is synchronous. The create holds the connection until the clip is made
and answers ``200`` with the MP4 bytes and an ``x-request-id`` header; there is no task
id, nothing to poll and nothing to look up afterwards:

    POST /v1/upload            {}  -> {"upload_url", "storage_uri", "required_headers"}
    PUT  <upload_url>          the image bytes, with ``required_headers`` (no auth)
    POST /v1/text-to-video     {"prompt", "model", "duration", "resolution": "WxH",
                                "fps"?, "generate_audio"?, "camera_motion"?}
    POST /v1/image-to-video    the same + "image_uri", "last_frame_uri"? (LTX-2.3)
                               -> 200 video/mp4 (or application/octet-stream)

So this adapter implements :class:`~takestock.core.vendor.AnswersWithResult`: the
engine commits the job before the create leaves, :meth:`LtxAdapter.create_into` streams
the answer into the job's part file, and the engine ingests it as it does a download
(``core.sync_create``). An answer cut short is ambiguous (LTX may have made and charged
the clip) and, with nothing to look up, the job becomes ``unknown`` for the user.

Errors (``{"type": "error", "error": {"type", "message"}}``):

    401 authentication_error                  AuthError
    402 insufficient_funds_error              QuotaError
    422 content_filtered_error                Rejected (moderation)
    400 invalid_request_error                 Rejected, or ModelRetired naming the model
    429 rate_limit / concurrency_limit_error  RateLimited (Retry-After, else backoff)
    503 service_unavailable, 529 overloaded   RateLimited: LTX says it did not take it
    500 api_error, 504, other 5xx             TransientError: the create is ambiguous
    200 that is not a video                   ProtocolError: ambiguous too

Not supported, on purpose: the v2 asynchronous API (Beta; its paths may change),
audio-to-video, retake, extend, HDR and reframe (they need a video input), lookup,
cancel and a balance (none documented).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from takestock.core.catalog import ModelSpec
from takestock.core.errors import (
    AuthError,
    InvalidInput,
    ModelRetired,
    ProtocolError,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)
from takestock.core.http import (
    DEFAULT_POLICY,
    AmbiguousCreate,
    ConnectFailed,
    json_body,
    parse_retry_after,
    send,
)
from takestock.core.images import prepare_image
from takestock.core.sync_create import keep_part_file
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    CallContext,
    CreatedResult,
    GenerationRequest,
    Mode,
    ResultRef,
    TaskHandle,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter
from takestock.vendors.restkit import endpoint, scrub

__all__ = ["LtxAdapter", "dimensions"]

VENDOR_ID = "ltx"
UPLOAD = "/v1/upload"
TEXT = "/v1/text-to-video"
IMAGE = "/v1/image-to-video"
#: Between two bytes of the answer: LTX holds the connection while it renders.
DEFAULT_READ_TIMEOUT_S = 900.0
_VIDEO_TYPES = ("video/", "application/octet-stream")
_CAMERA = frozenset(
    {"dolly_in", "dolly_out", "dolly_left", "dolly_right", "jib_up", "jib_down", "static",
     "focus_shift"}
)  # fmt: skip
_EXTRAS = {
    "fps": "frames per second (24, 25, 48 or 50, as the model allows)",
    "camera_motion": ", ".join(sorted(_CAMERA)),
    "image_uri": "a public https URL of the first frame, instead of --image",
}
_WIDTH = {720: 1280, 1080: 1920, 1440: 2560, 2160: 3840}
_MODEL_GONE = re.compile(r"\bmodel\b.{0,60}?\b(not found|unknown|not supported|removed|invalid)\b")


def dimensions(resolution: str, height: int, aspect: str) -> str:
    """LTX's ``"WxH"`` for a catalog resolution and aspect (16:9 or 9:16)."""
    width = _WIDTH.get(height)
    if width is None:
        raise InvalidInput("resolution", f"LTX has no size for {resolution}")
    return f"{height}x{width}" if aspect == "9:16" else f"{width}x{height}"


class LtxAdapter(BaseAdapter):
    """LTX's synchronous v1 API.

    Attributes:
        vendor: the ``ltx`` catalog entry (models, their matrices, prices).
    """

    vendor_id = VENDOR_ID
    can_find = False

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        for key, value in request.extra.items():
            if key not in _EXTRAS:
                known = "; ".join(f"{k} ({v})" for k, v in _EXTRAS.items())
                raise InvalidInput(key, f"is not an LTX option; Takestock knows {known}")
            if key == "camera_motion" and value not in _CAMERA:
                raise InvalidInput(key, f"must be one of {', '.join(sorted(_CAMERA))}")
            if key == "image_uri" and (
                not isinstance(value, str) or not value.startswith("https://")
            ):
                raise InvalidInput(key, "must be a public https:// URL")
        if request.image is not None and "image_uri" in request.extra:
            raise InvalidInput("image_uri", "give the first frame once: --image or image_uri")
        validate_common(request, model, self.vendor.name)
        fps_allowed = [int(f) for f in model.extra.get("fps", [24, 25])]
        fps = request.extra.get("fps")
        if fps is not None and (isinstance(fps, bool) or fps not in fps_allowed):
            raise InvalidInput("fps", f"{fps!r} is not offered by {model.id}; use {fps_allowed}")
        self._check_long(request, model)

    def _check_long(self, request: GenerationRequest, model: ModelSpec) -> None:
        """Clips past ``long_after_s`` only at some resolutions and frame rates; models
        without the key take their short durations only (the catalog lists them)."""
        long_after = model.extra.get("long_after_s")
        seconds = request.duration_s or model.default_duration
        if long_after is None or seconds <= long_after:
            return
        resolution = request.resolution or model.default_resolution
        allowed = list(model.extra.get("long_resolutions", []))
        if resolution not in allowed:
            raise InvalidInput(
                "duration",
                f"{seconds:g} s on {model.id} needs {' or '.join(allowed)}; at {resolution} "
                f"the longest is {long_after:g} s",
            )
        fps = request.extra.get("fps")
        long_fps = [int(f) for f in model.extra.get("long_fps", [])]
        if fps is not None and long_fps and fps not in long_fps:
            raise InvalidInput(
                "fps", f"{seconds:g} s on {model.id} needs {long_fps} frames per second"
            )

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        raise InvalidInput(
            "vendor", "LTX answers the create with the video: the engine calls create_into"
        )

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        raise InvalidInput("job", "an LTX create has no task to poll")

    async def create_into(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str, dest: Path
    ) -> CreatedResult:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        body = await self._body(ctx, request, model)
        path = TEXT if "image_uri" not in body else IMAGE
        read_s = float(self.vendor.extra.get("sync_read_timeout_s", DEFAULT_READ_TIMEOUT_S))
        timeout = httpx.Timeout(connect=10.0, read=read_s, write=60.0, pool=None)
        url = endpoint(ctx, path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 4):
            try:
                async with ctx.http.stream(
                    "POST", url, json=body, headers=_headers(ctx), timeout=timeout
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise self._error(ctx, response)
                    kind = response.headers.get("content-type", "")
                    if response.status_code != 200 or not kind.startswith(_VIDEO_TYPES):
                        await response.aread()
                        dest.unlink(missing_ok=True)
                        raise ProtocolError(
                            f"{self.vendor.name} answered HTTP {response.status_code} "
                            f"({kind or 'no type'}) where a video was due: "
                            f"{scrub(response.text, ctx)[:160]!r}",
                            vendor=VENDOR_ID,
                            status=response.status_code,
                        )
                    with dest.open("wb") as out:
                        # Each piece goes to disk as it comes: a clip can be hundreds of MB.
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
                    request_id = response.headers.get("x-request-id", "")
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached LTX: sending again cannot charge twice.
                if attempt == 3:
                    raise ConnectFailed(
                        f"could not connect to {httpx.URL(url).host} ({exc}); nothing was sent"
                    ) from exc
                await asyncio.sleep(DEFAULT_POLICY.backoff(attempt))
                continue
            except asyncio.CancelledError:
                # The app quits mid-answer: a partial clip is of no use (nothing resumes a
                # synchronous create), and the job is settled by the user.
                dest.unlink(missing_ok=True)
                raise
            except httpx.TransportError as exc:
                dest.unlink(missing_ok=True)
                raise AmbiguousCreate(
                    f"the answer from {self.vendor.name} was cut short "
                    f"({type(exc).__name__}); LTX may have made and charged the clip"
                ) from exc
            size = dest.stat().st_size
            task_id = request_id or f"ltx-sync-{client_request_id}"
            data = {"request_id": request_id} if request_id else {}
            return CreatedResult(TaskHandle(task_id, data), size)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        if not keep_part_file(result, dest, self.vendor.name):
            await super().download(ctx, result, dest)

    # --------------------------------------------------------------- the body

    async def _body(
        self, ctx: CallContext, request: GenerationRequest, model: ModelSpec
    ) -> dict[str, Any]:
        resolution = request.resolution or model.default_resolution
        aspect = request.aspect or model.default_aspect
        body: dict[str, Any] = {
            "prompt": request.prompt.strip(),
            "model": model.id,
            "duration": int(request.duration_s or model.default_duration),
            "resolution": dimensions(resolution, model.resolutions[resolution], aspect),
        }
        if "fps" in request.extra:
            body["fps"] = int(request.extra["fps"])
        if request.audio is not None:
            body["generate_audio"] = bool(request.audio)
        if "camera_motion" in request.extra:
            body["camera_motion"] = request.extra["camera_motion"]
        if request.image is not None:
            body["image_uri"] = await self._upload(ctx, request.image, model, "image")
        elif "image_uri" in request.extra:
            body["image_uri"] = request.extra["image_uri"]
        if request.mode is Mode.FIRST_LAST and request.last_frame is not None:
            body["last_frame_uri"] = await self._upload(
                ctx, request.last_frame, model, "last_frame"
            )
        return body

    async def _upload(self, ctx: CallContext, path: Path, model: ModelSpec, field: str) -> str:
        """Upload a local image; its ``storage_uri`` (valid 24 h) goes in the create."""
        image = prepare_image(path, model.image, field=field)
        # Asking for an upload URL costs nothing: safe to retry like a GET.
        response = await send(
            ctx.http, "POST", endpoint(ctx, UPLOAD), json={}, headers=_headers(ctx),
            idempotent=True,
        )  # fmt: skip
        if response.status_code >= 400:
            raise self._error(ctx, response)
        slot = json_body(response, VENDOR_ID)
        upload_url = slot.get("upload_url") if isinstance(slot, dict) else None
        storage_uri = slot.get("storage_uri") if isinstance(slot, dict) else None
        if not isinstance(upload_url, str) or not isinstance(storage_uri, str):
            raise ProtocolError(
                f"{self.vendor.name} gave no upload URL: {scrub(str(slot), ctx)[:160]}",
                vendor=VENDOR_ID,
            )
        required = slot.get("required_headers")
        headers = (
            {str(k): str(v) for k, v in required.items()} if isinstance(required, dict) else {}
        )
        put = await send(
            ctx.http, "PUT", upload_url, content=image.data, headers=headers, idempotent=True
        )
        if put.status_code >= 400:
            raise Rejected(
                f"{self.vendor.name} refused the {field.replace('_', ' ')} upload "
                f"(HTTP {put.status_code})",
                vendor=VENDOR_ID,
                status=put.status_code,
            )
        return storage_uri

    # ------------------------------------------------------------------ errors

    def _error(self, ctx: CallContext, response: httpx.Response) -> VendorError:
        status = response.status_code
        code, message = _error_parts(response)
        message = scrub(message, ctx)
        text = f"{self.vendor.name}: {message} (HTTP {status}" + (f", {code})" if code else ")")
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or str(status)}
        kw["status"] = status
        if status in (401, 403) or code == "authentication_error":
            return AuthError(f"{text} Check the LTX API key (console.ltx.video).", **kw)
        if status == 402 or code == "insufficient_funds_error":
            return QuotaError(f"{text} Add credit to the LTX account.", **kw)
        if status in (429, 503, 529):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        if _MODEL_GONE.search(message.lower()):
            return ModelRetired(text, **kw)
        return Rejected(text, **kw)


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(type, message) from LTX's error envelope, or the start of whatever came."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return str(error.get("type") or ""), str(error.get("message") or "").strip()
        if isinstance(body.get("message"), str):
            return str(body.get("type") or ""), body["message"]
    snippet = response.text[:160].replace("\n", " ").strip()
    return "", f"{response.reason_phrase} {snippet}".strip() or f"HTTP {response.status_code}"
