"""Hailuo (MiniMax) video generation: the v1 Hailuo API and the v2 API of MiniMax-H3.

Every call carries ``Authorization: Bearer <api_key>``. Keys are bound to the platform
that issued them: a key from platform.minimax.io works only on ``api.minimax.io``
(region ``global``, the default), one from platform.minimaxi.com only on
``api.minimaxi.com`` (region ``cn``); the other host answers "invalid api key".

Protocol (the model's catalog ``extra.api`` picks the surface; the handle remembers it):

    v1   POST /v1/video_generation                 -> {"task_id", "base_resp"}
         GET  /v1/query/video_generation?task_id=  -> {"status", "file_id", "base_resp"}
         GET  /v1/files/retrieve?file_id=          -> {"file": {"download_url", "bytes"}}
    v2   POST /v2/video_generation                 -> {"task_id"}
         GET  /v2/query/video_generation/{id}      -> {"task": {"status", "content": {"url"}}}

The v1 file-retrieve step lives in :meth:`HailuoAdapter.poll`, not in ``download``: a
succeeded poll then hands the engine a ResultRef like any other vendor's, with the byte
count MiniMax announces, and the engine's one-time refresh of an expired link (a poll
again) fetches a fresh ``download_url`` for free. The URL is valid 9 hours; the download
itself needs no key. v1 answers carry their errors inside HTTP 200 as
``base_resp.status_code`` / ``status_msg``; v2 answers may use ``base_resp`` or an
``error`` object: both are read, on every answer.

State mapping (compared case-insensitively; an unknown word counts as still running):

    v1 status                          v2 status    TaskState
    Queueing, Submitted                queued       QUEUED
    Preparing, Processing (any other)  running      RUNNING
    Success                            succeeded    SUCCEEDED
    Fail                               failed       FAILED
    -                                  cancelled    CANCELLED

Error mapping (``base_resp.status_code``, else the HTTP status; MiniMax's words and code
are kept in the message and ``vendor_code``):

    code / HTTP                                      error          on a create
    1004 not authorised, 2049 invalid key, 401/403   AuthError      failed
    1008 insufficient balance, 2056 usage limit, 402 QuotaError     failed
    1002 rate, 1039 tokens, 1041 connections,        RateLimited    queued again
      2045 rate growth, 429 (Retry-After kept)
    1026 / 1027 sensitive input / output             Rejected       failed
    2013 invalid params, 1042 invisible chars, 4xx   Rejected       failed
    2013 naming an unknown model (by its words)      ModelRetired   failed, model retired
    1000, 1001, 1013, 1024, 1033, 5xx, 408           TransientError unknown (may exist)
    any other non-zero code                          VendorError    failed
    a body that is not JSON or lacks its fields      ProtocolError  unknown (may exist)

A failed task (status Fail / failed) becomes ``Rejected`` for sensitive content (1026,
1027 or "sensitive" in its words) and ``GenerationFailed`` otherwise.

Request options beyond the common fields come from ``request.extra``:
``prompt_optimizer``, ``fast_pretreatment``, ``aigc_watermark`` (booleans), each only on
the models whose catalog ``extra.options`` lists it; other keys belong to other vendors
in a fan-out and are ignored. S2V-01 takes the request's image as its subject (character)
reference, not as a first frame (catalog ``extra.image_role``).

Deliberately not supported: finding a task by our id (MiniMax takes no client id and has
no documented task list, so a create whose answer is lost becomes ``unknown``);
balance (no endpoint; 1008 says when it is short); cancel (none documented);
``callback_url`` (needs a public endpoint, and a missed 3-second challenge fails the
create); the legacy ``GroupId`` parameter; v2 reference-to-video (reference images,
video and audio) and multi-angle. MiniMax-H3-Max goes over v2 as MiniMax-H3 does
(480P/768P/1080P, 5-15 s, text and image), its limits from MiniMax's release notes.
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
from takestock.core.validation import check_image
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    Mode,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter

__all__ = ["HailuoAdapter"]

VENDOR = "hailuo"

_V1_STATES = {
    "queueing": TaskState.QUEUED,
    "submitted": TaskState.QUEUED,
    "preparing": TaskState.RUNNING,
    "processing": TaskState.RUNNING,
    "success": TaskState.SUCCEEDED,
    "fail": TaskState.FAILED,
    "failed": TaskState.FAILED,
}
_V2_STATES = {
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.CANCELLED,
    "canceled": TaskState.CANCELLED,
}

_AUTH_CODES = frozenset({1004, 2049})
_QUOTA_CODES = frozenset({1008, 2056})
_RATE_CODES = frozenset({1002, 1039, 1041, 2045})
_SENSITIVE_CODES = frozenset({1026, 1027})
_INVALID_CODES = frozenset({1042, 2013})
_SERVER_CODES = frozenset({1000, 1001, 1013, 1024, 1033})
#: How MiniMax words a 2013 about the model itself (not about its parameters).
_UNKNOWN_MODEL = re.compile(
    r"\b(unknown|invalid|unsupported) model\b"
    r"|\bmodel\b.{0,40}\b(not exist|does not exist|not found)",
    re.IGNORECASE,
)

_REGION_HINT = (
    " MiniMax keys work only on the platform that issued them: a key from "
    "platform.minimax.io needs the account region 'global', one from "
    "platform.minimaxi.com the region 'cn'."
)
_OPTIONS = ("prompt_optimizer", "fast_pretreatment", "aigc_watermark")
#: How far an image's shape may be from a requested aspect ratio and still match it.
_ASPECT_TOLERANCE = 0.02


# ----------------------------------------------------------------------- errors


def _code_of(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _vendor_error(
    code: str | None,
    message: str,
    *,
    status: int | None = None,
    retry_after: float | None = None,
) -> VendorError:
    """One MiniMax error (a body code, else the HTTP status) as the error tree names it."""
    number = _code_of(code)
    text = f"MiniMax: {message}" + (f" (code {code})" if code else "")
    kw: dict[str, Any] = {"vendor": VENDOR, "vendor_code": code, "status": status}
    if number in _AUTH_CODES or (number is None and status in (401, 403)):
        return AuthError(text + "." + _REGION_HINT, **kw)
    if number in _QUOTA_CODES or (number is None and status == 402):
        return QuotaError(f"{text}. Top up the account in the MiniMax console.", **kw)
    if number in _RATE_CODES or (number is None and status == 429):
        return RateLimited(text, retry_after=retry_after, **kw)
    if number in _SENSITIVE_CODES:
        return Rejected(text, title="Refused by MiniMax's content policy", **kw)
    if number == 2013 and _UNKNOWN_MODEL.search(message):
        return ModelRetired(text, **kw)
    if number in _INVALID_CODES:
        return Rejected(text, **kw)
    if number in _SERVER_CODES or (number is None and (status == 408 or (status or 0) >= 500)):
        return TransientError(text, **kw)
    if number is None and status is not None and status >= 400:
        return Rejected(text, **kw)
    return VendorError(text, **kw)


def _body_error(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """(code, message) of an error the body reports, or None for a clean answer."""
    base = data.get("base_resp")
    if isinstance(base, Mapping):
        number = _code_of(base.get("status_code"))
        if number:
            return str(number), str(base.get("status_msg") or "error")
    error = data.get("error")
    if isinstance(error, Mapping) and (error.get("code") or error.get("message")):
        return str(error.get("code") or ""), str(error.get("message") or "error")
    return None


def _http_error(response: httpx.Response) -> VendorError:
    try:
        data = response.json()
    except ValueError:
        data = None
    found = _body_error(data) if isinstance(data, Mapping) else None
    code, message = found or (None, f"HTTP {response.status_code} {response.reason_phrase}")
    return _vendor_error(
        code or None,
        message,
        status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The body of a readable answer; HTTP errors raise as the error tree says."""
    if response.status_code >= 400:
        raise _http_error(response)
    data = json_body(response, VENDOR)
    if not isinstance(data, dict):
        raise ProtocolError(
            f"MiniMax answered with {type(data).__name__}, not an object", vendor=VENDOR
        )
    return data


def _raise_body_error(response: httpx.Response, data: Mapping[str, Any]) -> None:
    found = _body_error(data)
    if found is not None:
        code, message = found
        raise _vendor_error(
            code or None,
            message,
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


def _task_error(code: str | None, message: str) -> VendorError:
    """Why an accepted task made nothing."""
    kw: dict[str, Any] = {"vendor": VENDOR, "vendor_code": code}
    text = f"MiniMax: {message}" + (f" (code {code})" if code else "")
    if _code_of(code) in _SENSITIVE_CODES or "sensitive" in message.lower():
        return Rejected(text, title="Refused by MiniMax's content policy", **kw)
    return GenerationFailed(text, **kw)


# ------------------------------------------------------------------- validation


def _aspect_value(aspect: str) -> float | None:
    width, sep, height = aspect.partition(":")
    try:
        return float(width) / float(height) if sep else None
    except (ValueError, ZeroDivisionError):
        return None


def _check_resolution_rules(request: GenerationRequest, model: ModelSpec, where: str) -> None:
    """Per-resolution limits from the catalog: which modes and durations each allows."""
    resolution = request.resolution or model.default_resolution
    rule = model.extra.get("resolution_rules", {}).get(resolution)
    if not rule:
        return
    modes = rule.get("modes")
    if modes and request.mode.value not in modes:
        allowed = " and ".join(m.replace("_", "+") for m in modes)
        raise InvalidInput("resolution", f"{where} makes {resolution} only in {allowed} mode")
    durations = rule.get("durations")
    duration = request.duration_s or model.default_duration
    if durations and duration not in durations:
        allowed = ", ".join(f"{d:g}" for d in durations)
        raise InvalidInput(
            "duration", f"{where} makes {resolution} only at {allowed} s, not {duration:g} s"
        )


def _check_image_aspect(request: GenerationRequest, model: ModelSpec, where: str) -> None:
    """With a first frame, the video takes the image's shape: a different aspect is refused."""
    if request.aspect is None or request.image is None:
        return
    if model.extra.get("image_role") == "subject_reference":
        return  # a subject to keep, not a frame: the shape is the model's own
    wanted = _aspect_value(request.aspect)
    facts = check_image(request.image, model.image)
    actual = facts.width / facts.height
    if wanted is None or abs(actual - wanted) > _ASPECT_TOLERANCE * wanted:
        raise InvalidInput(
            "aspect",
            f"{where} takes the aspect ratio from the first frame ({facts.width}x"
            f"{facts.height}), not {request.aspect}; leave the aspect unset or crop the image",
        )


def _check_options(request: GenerationRequest, model: ModelSpec, where: str) -> None:
    offered = model.extra.get("options", ())
    for name in _OPTIONS:
        if name not in request.extra:
            continue
        if name not in offered:
            raise InvalidInput("extra", f"{where} takes no {name}")
        if not isinstance(request.extra[name], bool):
            raise InvalidInput("extra", f"{name} must be true or false")


# ----------------------------------------------------------------------- adapter


class HailuoAdapter(BaseAdapter):
    """MiniMax's Hailuo models (v1) and MiniMax-H3 (v2); see the module docstring.

    Attributes:
        vendor: the ``hailuo`` catalog entry.
    """

    vendor_id = VENDOR
    can_find = False

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        super().validate(request, model)
        where = f"{self.vendor.name} {model.id}"
        if request.mode is Mode.FIRST_LAST and request.image is None:
            raise InvalidInput("image", "a last frame needs a first frame as well")
        if model.extra.get("prompt_required") and not request.prompt.strip():
            raise InvalidInput("prompt", f"is empty; {where} needs words with every request")
        if model.extra.get("always_audio") and request.audio is False:
            raise InvalidInput("audio", f"{where} always makes sound; leave audio unset")
        _check_resolution_rules(request, model, where)
        _check_image_aspect(request, model, where)
        _check_options(request, model, where)

    # ---- submit

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model was given for the create")
        api = str(model.extra.get("api", "v1"))
        if api == "v2":
            body, path = self._v2_body(request, model), "/v2/video_generation"
        else:
            body, path = self._v1_body(request, model), "/v1/video_generation"
        response = await send(
            ctx.http,
            "POST",
            ctx.base_url + path,
            idempotent=False,
            json=body,
            headers=self._headers(ctx),
        )
        data = _answer(response)
        _raise_body_error(response, data)
        task_id = data.get("task_id")
        if not isinstance(task_id, str | int) or not str(task_id):
            raise ProtocolError(
                f"MiniMax accepted the create without a task_id: {data!r:.200}", vendor=VENDOR
            )
        return TaskHandle(str(task_id), {"api": api})

    def _v1_body(self, request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model.id}
        if request.prompt.strip():
            body["prompt"] = request.prompt
        if not model.extra.get("fixed_output"):
            body["duration"] = int(request.duration_s or model.default_duration)
            body["resolution"] = (request.resolution or model.default_resolution).upper()
        if request.image is not None:
            image = prepare_image(request.image, model.image).data_url()
            if model.extra.get("image_role") == "subject_reference":
                body["subject_reference"] = [{"type": "character", "image": [image]}]
            else:
                body["first_frame_image"] = image
        if request.last_frame is not None:
            body["last_frame_image"] = prepare_image(
                request.last_frame, model.image, field="last_frame"
            ).data_url()
        body.update({k: request.extra[k] for k in _OPTIONS if k in request.extra})
        return body

    def _v2_body(self, request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": request.prompt}]
        frames = (
            ("first_frame", request.image, "image"),
            ("last_frame", request.last_frame, "last_frame"),
        )
        for role, path, field in frames:
            if path is not None:
                url = prepare_image(path, model.image, field=field).data_url()
                content.append({"type": "image_url", "image_url": {"url": url}, "role": role})
        body: dict[str, Any] = {
            "model": model.id,
            "content": content,
            "resolution": (request.resolution or model.default_resolution).upper(),
            "duration": int(request.duration_s or model.default_duration),
            # Text alone needs a shape; a first frame gives its own ("adaptive").
            "ratio": "adaptive"
            if request.mode is not Mode.TEXT
            else request.aspect or model.default_aspect,
        }
        body.update({k: request.extra[k] for k in _OPTIONS if k in request.extra})
        return body

    # ---- poll

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        if handle.data.get("api") == "v2":
            return await self._poll_v2(ctx, handle)
        return await self._poll_v1(ctx, handle)

    async def _poll_v1(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v1/query/video_generation",
            params={"task_id": handle.task_id},
            headers=self._headers(ctx),
        )
        data = _answer(response)
        word = data.get("status")
        if not isinstance(word, str) or not word:
            _raise_body_error(response, data)  # a refused query, not a task's state
            raise ProtocolError(
                f"MiniMax answered a query without a status: {data!r:.200}", vendor=VENDOR
            )
        state = _V1_STATES.get(word.lower(), TaskState.RUNNING)
        if state is TaskState.FAILED:
            found = _body_error(data)
            code, message = found or (None, "")
            message = str(data.get("error_message") or message or "the task failed")
            return TaskStatus(state, vendor_state=word, error=_task_error(code, message))
        if state is not TaskState.SUCCEEDED:
            return TaskStatus(state, vendor_state=word)
        file_id = data.get("file_id")
        if not isinstance(file_id, str | int) or not str(file_id):
            raise ProtocolError(
                f"MiniMax reported Success without a file_id: {data!r:.200}", vendor=VENDOR
            )
        result = await self._retrieve(ctx, str(file_id))
        return TaskStatus(state, vendor_state=word, progress=1.0, results=(result,))

    async def _retrieve(self, ctx: CallContext, file_id: str) -> ResultRef:
        """A fresh download link for a finished task's file (valid 9 hours)."""
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v1/files/retrieve",
            params={"file_id": file_id},
            headers=self._headers(ctx),
        )
        data = _answer(response)
        _raise_body_error(response, data)
        file = data.get("file")
        if not isinstance(file, Mapping):
            raise ProtocolError(
                f"MiniMax answered files/retrieve without a file: {data!r:.200}", vendor=VENDOR
            )
        url = file.get("download_url") or file.get("backup_download_url")
        if not isinstance(url, str) or not url:
            raise ProtocolError(f"MiniMax's file {file_id} has no download_url", vendor=VENDOR)
        size = file.get("bytes")
        return ResultRef(url, size=size if isinstance(size, int) and size > 0 else None)

    async def _poll_v2(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v2/query/video_generation/{handle.task_id}",
            headers=self._headers(ctx),
        )
        data = _answer(response)
        task = data.get("task", data)
        word = task.get("status") if isinstance(task, Mapping) else None
        if not isinstance(task, Mapping) or not isinstance(word, str) or not word:
            _raise_body_error(response, data)
            raise ProtocolError(
                f"MiniMax answered a v2 query without a status: {data!r:.200}", vendor=VENDOR
            )
        state = _V2_STATES.get(word.lower(), TaskState.RUNNING)
        if state is TaskState.FAILED:
            error = task.get("error")
            error = error if isinstance(error, Mapping) else {}
            code = str(error.get("code") or "") or None
            message = str(error.get("message") or "the task failed")
            return TaskStatus(state, vendor_state=word, error=_task_error(code, message))
        if state is not TaskState.SUCCEEDED:
            return TaskStatus(state, vendor_state=word)
        content = task.get("content")
        url = content.get("url") if isinstance(content, Mapping) else task.get("url")
        if not isinstance(url, str) or not url:
            raise ProtocolError(
                f"MiniMax reported success without a video URL: {data!r:.200}", vendor=VENDOR
            )
        return TaskStatus(state, vendor_state=word, progress=1.0, results=(ResultRef(url),))

    # ---- helpers

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        key = ctx.secret("api_key").strip()  # pasted keys often carry a newline
        if not key:
            raise AuthError(
                f"The API key for {self.vendor.name} is empty. Set it again with "
                f"`takestock keys set {VENDOR}` or in Settings.",
                vendor=VENDOR,
            )
        return {"Authorization": f"Bearer {key}"}
