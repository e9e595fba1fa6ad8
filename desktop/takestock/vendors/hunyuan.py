"""Tencent Hunyuan video (``hy-video-1.5``) through TokenHub, Tencent's API-key platform.

TokenHub takes one API key (``Authorization: Bearer <key>``; no TC3 request signing)
on a host per region (catalog ``base_urls``: mainland, Guangzhou, international). Its
generic video API is a submit and a query, both POSTs:

    POST /v1/api/video/submit  {"model", "prompt", "resolution": "720p",
                                "image"?: {"url"} | {"base64"}, "logo_add"?: 0 | 1}
                               -> {"id", "request_id", "object": "video", "created_at",
                                   "status": "queued"}
    POST /v1/api/video/query   {"id"} -> {"id", "status", "progress", "data": {"url"},
                                          "error"?}

The fields are documented as SubmitHunyuanToVideoJob's (the older TC3-signed vclm API)
in snake case, so its limits hold: a prompt (always required) of at most 200 characters,
720p only, an image by URL (10 MB) or inline base64 (8 MB), and a watermark unless
``logo_add`` is 0.
A local first frame (``request.image``) goes inline; ``extra["image_url"]`` passes a
public https URL on instead. ``extra["watermark"]`` (true/false) sets ``logo_add``; left
out, Tencent's default (a watermark) applies.

States:

    TokenHub     TaskState    notes
    queued       QUEUED
    processing   RUNNING      progress 0-100
    completed    SUCCEEDED    data.url (its lifetime is not documented: fetched at once)
    failed       FAILED       the error's code and message kept (GenerationFailed, or
                              Rejected for a content or parameter code)
    cancelled    CANCELLED

HTTP errors: TokenHub answers OpenAI-style ``{"error": {"message", "type", "code"}}``;
Tencent Cloud's ``{"Response": {"Error": {"Code", "Message"}}}`` is read too.

    401, 403, AuthFailure.*                      AuthError
    402, or a message about balance / arrears    QuotaError
    429, RequestLimitExceeded                    RateLimited (Retry-After when sent)
    a code or message naming the model unknown   ModelRetired
    400, 422, other 4xx                          Rejected
    5xx                                          TransientError
    unreadable body                              ProtocolError

Not supported, on purpose: lookup by our id (``can_find`` False: no client id and no
listing, so a create whose answer is lost becomes ``unknown``), cancel and a balance
(none found on TokenHub), TokenHub's second, newer "wand" video API (its query path is
not documented), the legacy vclm API (TC3 signing with a SecretId and SecretKey), other
TokenHub video models (yt-video-*), model listing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter
from takestock.vendors.restkit import endpoint, scrub

__all__ = ["HunyuanAdapter"]

VENDOR_ID = "hunyuan"
SUBMIT = "/v1/api/video/submit"
QUERY = "/v1/api/video/query"

_STATES = {
    "queued": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "completed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.CANCELLED,
}
_EXTRAS = {
    "image_url": "a public https URL of the first frame",
    "watermark": "true or false: Tencent's logo on the video (default: Tencent's, on)",
}
_QUOTA = re.compile(r"insufficient|balance|arrear|欠费|余额|quota", re.IGNORECASE)
_MODEL_GONE = re.compile(
    r"\bmodel\b.{0,60}?\b(not found|not exist|does not exist|unsupported|offline|no longer)\b"
    r"|InvalidParameterValue\.Model|ModelNotFound",
    re.IGNORECASE,
)
_REFUSED = re.compile(r"moderat|audit|sensitive|content|policy|invalid|parameter", re.IGNORECASE)


class HunyuanAdapter(BaseAdapter):
    """Hunyuan video on TokenHub.

    Attributes:
        vendor: the ``hunyuan`` catalog entry (regional hosts, price, limits).
    """

    vendor_id = VENDOR_ID
    can_find = False

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        for key, value in request.extra.items():
            if key not in _EXTRAS:
                known = "; ".join(f"{k} ({v})" for k, v in _EXTRAS.items())
                raise InvalidInput(key, f"is not a Hunyuan option; Takestock knows {known}")
            if key == "watermark" and not isinstance(value, bool):
                raise InvalidInput(key, "must be true or false")
            if key == "image_url" and (
                not isinstance(value, str) or not value.startswith("https://")
            ):
                raise InvalidInput(key, "must be a public https:// URL")
        if request.image is not None and request.extra.get("image_url"):
            raise InvalidInput("image_url", "give the first frame once: --image or image_url")
        validate_common(request, model, self.vendor.name)
        if not request.prompt.strip():
            raise InvalidInput("prompt", f"{self.vendor.name} needs a prompt, also with an image")

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        body = _body(request, model)
        response = await send(
            ctx.http, "POST", endpoint(ctx, SUBMIT), json=body, headers=_headers(ctx)
        )
        data = self._check(ctx, response, creating=True)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        request_id = data.get("request_id")
        return TaskHandle(
            task_id, {"request_id": request_id} if isinstance(request_id, str) else {}
        )

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        # A query is a POST that changes nothing: safe to retry like a GET.
        response = await send(
            ctx.http,
            "POST",
            endpoint(ctx, QUERY),
            json={"id": handle.task_id},
            headers=_headers(ctx),
            idempotent=True,
        )
        data = self._check(ctx, response)
        status = data.get("status") if isinstance(data, dict) else None
        state = _STATES.get(status) if isinstance(status, str) else None
        if state is None:
            raise ProtocolError(
                f"{self.vendor.name} answered a query with no known status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        assert isinstance(status, str)
        if state is TaskState.SUCCEEDED:
            result = data.get("data")
            url = result.get("url") if isinstance(result, dict) else None
            results = (ResultRef(url),) if isinstance(url, str) and url else ()
            return TaskStatus(state, status, progress=1.0, results=results)
        if state is TaskState.FAILED:
            return TaskStatus(state, status, error=self._failure(ctx, data))
        progress = data.get("progress")
        fraction = progress / 100 if isinstance(progress, int | float) else None
        return TaskStatus(state, status, progress=fraction)

    def _failure(self, ctx: CallContext, data: Mapping[str, Any]) -> VendorError:
        raw = data.get("error")
        error = raw if isinstance(raw, dict) else {}
        code = str(error.get("code") or data.get("error_code") or "")
        message = str(
            error.get("message") or data.get("error_message") or data.get("message") or ""
        )
        message = scrub(message or "the generation failed without a reason", ctx)
        text = f"{self.vendor.name}: {message}" + (f" ({code})" if code else "")
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or None}
        if _REFUSED.search(f"{code} {message}"):
            return Rejected(text, **kw)
        return GenerationFailed(text, **kw)

    # ----------------------------------------------------------------- errors

    def _check(self, ctx: CallContext, response: httpx.Response, *, creating: bool = False) -> Any:
        if response.status_code >= 400:
            raise self._error(ctx, response, creating=creating)
        data = json_body(response, VENDOR_ID)
        # Tencent Cloud's envelope reports some errors with HTTP 200.
        envelope = data.get("Response") if isinstance(data, dict) else None
        if isinstance(envelope, dict) and isinstance(envelope.get("Error"), dict):
            raise self._error(ctx, response, creating=creating)
        return data

    def _error(
        self, ctx: CallContext, response: httpx.Response, *, creating: bool = False
    ) -> VendorError:
        status = response.status_code
        code, message = _error_parts(response)
        message = scrub(message, ctx)
        text = f"{self.vendor.name}: {message} (HTTP {status}" + (f", {code})" if code else ")")
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code or str(status),
            "status": status,
        }
        if status in (401, 403) or code.startswith("AuthFailure"):
            return AuthError(
                f"{text} Check the TokenHub API key and its region (console.cloud.tencent.com).",
                **kw,
            )
        if status == 402 or _QUOTA.search(f"{code} {message}"):
            return QuotaError(f"{text} Top up the Tencent Cloud account.", **kw)
        if status == 429 or code.startswith(("RequestLimitExceeded", "LimitExceeded")):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status >= 500 or code.startswith(("InternalError", "FailedOperation.Internal")):
            return TransientError(text, **kw)
        if creating and _MODEL_GONE.search(f"{code} {message}"):
            return ModelRetired(text, **kw)
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _body(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model.id,
        "prompt": request.prompt.strip(),
        "resolution": request.resolution or model.default_resolution,
    }
    if request.image is not None:
        body["image"] = {"base64": prepare_image(request.image, model.image).base64()}
    elif request.extra.get("image_url"):
        body["image"] = {"url": request.extra["image_url"]}
    if "watermark" in request.extra:
        body["logo_add"] = 1 if request.extra["watermark"] else 0
    return body


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(code, message) from TokenHub's or Tencent Cloud's error shape."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        envelope = body.get("Response")
        if isinstance(envelope, dict) and isinstance(envelope.get("Error"), dict):
            error = envelope["Error"]
            return str(error.get("Code") or ""), str(error.get("Message") or "").strip()
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or error.get("type") or ""), str(
                error.get("message") or ""
            ).strip() or response.reason_phrase
        if isinstance(error, str) and error.strip():
            return str(body.get("code") or ""), error.strip()
        if isinstance(body.get("message"), str):
            return str(body.get("code") or ""), body["message"]
    snippet = response.text[:160].replace("\n", " ").strip()
    return "", f"{response.reason_phrase} {snippet}".strip() or f"HTTP {response.status_code}"
