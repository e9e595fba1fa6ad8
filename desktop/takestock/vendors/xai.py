"""xAI: Grok Imagine video over xAI's REST API.

One host (``https://api.x.ai``, or a regional ``https://<region>.api.x.ai``, catalog
``base_urls``) and one key (``Authorization: Bearer <key>``). Three creates share one
poll; every create answers ``{"request_id"}``:

    POST /v1/videos/generations  {"model", "prompt", "duration", "aspect_ratio"?,
                                  "resolution", "image"?: {"url"},
                                  "reference_images"?: [{"url"}, ...]}
    POST /v1/videos/edits        {"model", "prompt", "video": {"url"}}
    POST /v1/videos/extensions   {"model", "prompt", "duration", "video": {"url"}}
    GET  /v1/videos/{request_id} -> {"status", "progress", "video": {"url", "duration",
                                     "respect_moderation"}, "usage":
                                     {"cost_in_usd_ticks"}, "error": {"code", "message"}}

Image URLs are ``https://`` or ``data:`` URIs; a local file goes inline as a data URI.
Videos to edit or extend must be at a public ``https://`` URL (a Grok result link is
one, for 24 hours): xAI fetches them itself and documents no inline form for video.

What goes where: ``request.image`` (or ``extra["image_url"]``) is the first frame; with
it the output takes the image's shape, so an aspect is refused. ``extra
["reference_images"]`` (1 to the model's ``extra.max_reference_images``, local files or
https URLs) makes reference-to-video, at most ``extra.reference_max_duration`` seconds
and never with a first frame. ``extra["edit_video"]`` edits a video by prompt (no
duration, aspect or resolution: the output follows the input); ``extra["extend_video"]``
continues one for ``extra.extend_durations`` seconds (default ``extra.extend_default``).
Which of these a model offers is catalog data (``extra.operations``,
``extra.max_reference_images``).

States (a failed task is HTTP 200 with ``status: "failed"``):

    xAI        TaskState    notes
    pending    RUNNING      progress 0-100
    done       SUCCEEDED    video.url (MP4, about 24 h); usage.cost_in_usd_ticks is the
                            charge (1 tick = 1e-10 USD)
    done, but  FAILED       respect_moderation false and no url: Rejected "content
    moderated               refused"; xAI still bills it, so the cost is kept
    failed     FAILED       error.code / error.message kept (GenerationFailed; Rejected
                            for an input or content code)
    expired    FAILED       the request lapsed before its result was fetched

HTTP errors. xAI's body is ``{"code", "error"}`` on most endpoints and OpenAI's
``{"error": {"message", "type", "code"}}`` on some; both are read. A vendor message that
quotes the key back (an auth failure) is scrubbed before it is kept anywhere.

    401                                          AuthError
    403 or 429 about credits or a spending limit QuotaError
    403                                          AuthError "not allowed"
    429                                          RateLimited (Retry-After when sent;
                                                 1 request/s on video models)
    a 4xx naming the model as unknown            ModelRetired
    400, 413, 415, 422, other 4xx                Rejected
    404 to a poll                                GenerationFailed (request unknown)
    5xx                                          TransientError
    unreadable body                              ProtocolError

Not supported, on purpose: lookup by our id (``can_find`` False: no client id, no
idempotency key and no listing, so a create whose answer is lost becomes ``unknown``),
cancel (none offered), a balance (none exposed; the charge comes with each result),
turning audio off, last frames, keyframes and reference audio on ``-1.5`` (only the
gRPC names of those fields are published, not the REST ones), the Files API and
``storage_options``, model listing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
from takestock.core.pricing import in_vendor_unit, request_facts
from takestock.core.validation import check_image, validate_common
from takestock.core.vendor import (
    CallContext,
    Estimate,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter
from takestock.vendors.restkit import endpoint, rule_amount, scrub

__all__ = ["XaiAdapter"]

VENDOR_ID = "xai"
GENERATE, EDIT, EXTEND = "generate", "edit", "extend"
_PATHS = {
    GENERATE: "/v1/videos/generations",
    EDIT: "/v1/videos/edits",
    EXTEND: "/v1/videos/extensions",
}
_NAMES = {GENERATE: "generation", EDIT: "video edit", EXTEND: "video extension"}
#: 1 tick = 1e-10 USD (xai-sdk ``cost.py``: USD_PER_TICK).
USD_PER_TICK = 1e-10

_STATES = {
    "pending": TaskState.RUNNING,
    "done": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "expired": TaskState.FAILED,
}

#: ``request.extra`` keys this adapter reads; anything else is a typo we refuse.
_EXTRAS = {
    "image_url": "a public https URL of the first frame",
    "reference_images": "reference images: a list of local files or https URLs",
    "edit_video": "an https URL of a video to edit by prompt",
    "extend_video": "an https URL of a video to continue",
}

_QUOTA = re.compile(
    r"credits?\b|spending limit|billing|insufficient (funds|credit|balance)|\bbalance\b",
    re.IGNORECASE,
)
_MODEL_GONE = re.compile(
    r"\bmodel\b.{0,80}?\b(not found|does not exist|no longer|unknown|retired|deprecated)\b",
    re.IGNORECASE,
)
_REFUSED = re.compile(r"moderat|content|policy|safety|invalid|unsupported", re.IGNORECASE)


class XaiAdapter(BaseAdapter):
    """xAI's Grok Imagine video models.

    Attributes:
        vendor: the ``xai`` catalog entry (regional hosts, prices, limits).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        where = f"{self.vendor.name} {model.id}"
        _check_extras(request)
        operation = _operation(request)
        if operation not in model.extra.get("operations", (GENERATE,)):
            raise InvalidInput(f"{operation}_video", f"{where} does not do {_NAMES[operation]}s")
        if request.audio is False:
            raise InvalidInput(
                "audio",
                f"{where} always makes sound; xAI's API documents no switch to turn it off",
            )
        if operation == GENERATE:
            validate_common(request, model, self.vendor.name)
            self._check_generation(request, model, where)
            return
        # Edits and extensions take a video and a prompt, nothing that shapes the output.
        if request.image is not None or request.last_frame is not None or _has_frame_url(request):
            raise InvalidInput("image", f"a {_NAMES[operation]} takes a video, not frames")
        if request.extra.get("reference_images"):
            raise InvalidInput(
                "reference_images", f"a {_NAMES[operation]} takes no reference images"
            )
        if not request.prompt.strip():
            raise InvalidInput("prompt", f"a {_NAMES[operation]} needs a prompt: what to change")
        if len(request.prompt.strip()) > model.prompt_max_chars:
            raise InvalidInput(
                "prompt",
                f"is {len(request.prompt.strip())} characters; {where} takes at most "
                f"{model.prompt_max_chars}",
            )
        for field, value in (
            ("aspect", request.aspect),
            ("resolution", request.resolution),
            ("seed", request.seed),
        ):
            if value is not None:
                raise InvalidInput(
                    field, f"a {_NAMES[operation]} takes no {field}: the output follows the input"
                )
        if request.negative.strip():
            raise InvalidInput("negative", f"{where} takes no negative prompt")
        if operation == EDIT and request.duration_s is not None:
            raise InvalidInput("duration", "a video edit is as long as the video it edits")
        if operation == EXTEND and request.duration_s is not None:
            allowed = model.extra.get("extend_durations", ())
            if request.duration_s not in allowed:
                raise InvalidInput(
                    "duration",
                    f"{request.duration_s:g} s: {where} extends by {_span(allowed)} s",
                )

    def _check_generation(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        if request.image is not None and request.extra.get("image_url"):
            raise InvalidInput("image_url", "give the first frame once: --image or image_url")
        framed = request.image is not None or _has_frame_url(request)
        if framed and request.aspect is not None:
            raise InvalidInput(
                "aspect", f"{where} takes the shape of the first frame; leave the aspect out"
            )
        references = _references(request)
        if not references:
            return
        limit = int(model.extra.get("max_reference_images", 0))
        if not limit:
            raise InvalidInput("reference_images", f"{where} takes no reference images")
        if framed:
            raise InvalidInput(
                "reference_images", "reference images and a first frame cannot go together"
            )
        if len(references) > limit:
            raise InvalidInput(
                "reference_images", f"{len(references)} given; {where} takes 1 to {limit}"
            )
        longest = float(model.extra.get("reference_max_duration", 0)) or None
        duration = request.duration_s or model.default_duration
        if longest is not None and duration > longest:
            raise InvalidInput(
                "duration",
                f"{duration:g} s: with reference images {where} makes at most {longest:g} s",
            )
        for index, reference in enumerate(references):
            field = f"reference_images[{index}]"
            if _is_url(reference):
                if not reference.startswith("https://"):
                    raise InvalidInput(field, "must be a local file or a public https:// URL")
            else:
                check_image(Path(reference), model.image, field=field)

    # ---------------------------------------------------------------- pricing

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """The catalog's per-second price for the output, plus xAI's charges for inputs.

        An edit's length is its input's, which Takestock does not know before sending:
        it is priced at the longest input xAI takes (``extra.edit_max_input_s``) at the
        dearest rate it offers, an upper bound. An extension is priced for the seconds
        it adds plus its input at the longest input xAI takes (``extend_max_input_s``).
        The actual charge comes with the result.
        """
        operation = _operation(request)
        rules = model.extra
        facts = request_facts(request, model)
        seconds = float(facts["duration_s"])
        if operation == EDIT:
            seconds = float(rules.get("edit_max_input_s", 0))
            facts["resolution"] = max(model.resolutions, key=lambda r: model.resolutions[r])
        elif operation == EXTEND:
            seconds = float(request.duration_s or rules.get("extend_default", 6))
        amount = rule_amount(model, facts, seconds)
        images = len(_references(request)) + (
            1 if request.image is not None or _has_frame_url(request) else 0
        )
        amount += images * float(rules.get("input_image_usd", 0))
        video_rate = float(rules.get("input_video_usd_per_s", 0))
        if operation == EDIT:
            amount += video_rate * seconds
        elif operation == EXTEND:
            amount += video_rate * float(rules.get("extend_max_input_s", 0))
        return in_vendor_unit(self.vendor, amount, digits=6)

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        operation = _operation(request)
        body = _body(request, model, operation)
        response = await send(
            ctx.http, "POST", endpoint(ctx, _PATHS[operation]), json=body, headers=_headers(ctx)
        )
        data = self._check(ctx, response, creating=True)
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no request_id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        return TaskHandle(request_id, {"operation": operation})

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http, "GET", endpoint(ctx, f"/v1/videos/{handle.task_id}"), headers=_headers(ctx)
        )
        if response.status_code == 404:
            code, message = _error_parts(response)
            raise GenerationFailed(
                f"{self.vendor.name} has no request {handle.task_id} "
                f"({scrub(message, ctx)}); it was made with another key or has lapsed",
                vendor=VENDOR_ID,
                vendor_code=code or "404",
                status=404,
            )
        return self._status(ctx, self._check(ctx, response))

    def _status(self, ctx: CallContext, data: Any) -> TaskStatus:
        status = data.get("status") if isinstance(data, dict) else None
        state = _STATES.get(status) if isinstance(status, str) else None
        if state is None:
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no known status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        assert isinstance(status, str)
        cost = _cost(data.get("usage"))
        video = data.get("video") if isinstance(data.get("video"), dict) else {}
        if state is TaskState.RUNNING:
            progress = data.get("progress")
            fraction = progress / 100 if isinstance(progress, int | float) else None
            return TaskStatus(state, status, progress=fraction, cost=cost)
        if state is TaskState.SUCCEEDED:
            url = video.get("url")
            if isinstance(url, str) and url and video.get("respect_moderation") is not False:
                return TaskStatus(state, status, 1.0, results=(ResultRef(url),), cost=cost)
            refused = Rejected(
                f"{self.vendor.name} made the video but withheld it under its content "
                "moderation; xAI bills it all the same. Change the prompt or image.",
                vendor=VENDOR_ID,
                vendor_code="respect_moderation",
                title="Content refused",
            )
            return TaskStatus(TaskState.FAILED, "moderated", error=refused, cost=cost)
        if status == "expired":
            lapsed = GenerationFailed(
                f"{self.vendor.name}: the request expired before its result was fetched",
                vendor=VENDOR_ID,
                vendor_code="expired",
            )
            return TaskStatus(state, status, error=lapsed, cost=cost)
        return TaskStatus(state, status, error=self._failure(ctx, data), cost=cost)

    def _failure(self, ctx: CallContext, data: Mapping[str, Any]) -> VendorError:
        raw = data.get("error")
        error = raw if isinstance(raw, dict) else {}
        code = str(error.get("code") or "")
        message = scrub(str(error.get("message") or "the generation failed"), ctx)
        text = f"{self.vendor.name}: {message}" + (f" ({code})" if code else "")
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or None}
        if code != "internal_error" and _REFUSED.search(f"{code} {message}"):
            return Rejected(text, **kw)
        return GenerationFailed(text, **kw)

    # ----------------------------------------------------------------- errors

    def _check(self, ctx: CallContext, response: httpx.Response, *, creating: bool = False) -> Any:
        if response.status_code >= 400:
            raise self._error(ctx, response, creating=creating)
        return json_body(response, VENDOR_ID)

    def _error(
        self, ctx: CallContext, response: httpx.Response, *, creating: bool = False
    ) -> VendorError:
        status = response.status_code
        code, message = _error_parts(response)
        message = scrub(message, ctx)
        text = f"{self.vendor.name}: {message} (HTTP {status})"
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code or str(status),
            "status": status,
        }
        if status == 401:
            return AuthError(f"{text} Check the xAI API key (console.x.ai).", **kw)
        if status in (402, 403, 429) and _QUOTA.search(message):
            return QuotaError(f"{text} Add credits or raise the limit at console.x.ai.", **kw)
        if status == 403:
            return AuthError(text, title="Not allowed for this key", **kw)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        # Only a refusal that names the model retires it: a bare 404 is as likely a
        # mistyped base URL, and retiring would hide the model from the user.
        if creating and _MODEL_GONE.search(message):
            return ModelRetired(text, **kw)
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _check_extras(request: GenerationRequest) -> None:
    for key, value in request.extra.items():
        if key not in _EXTRAS:
            known = "; ".join(f"{k} ({v})" for k, v in _EXTRAS.items())
            raise InvalidInput(key, f"is not an xAI option; Takestock knows {known}")
        if key == "reference_images":
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise InvalidInput(key, 'must be a list of files or URLs, e.g. ["a.png","b.png"]')
        elif not isinstance(value, str) or not value.startswith("https://"):
            raise InvalidInput(key, "must be a public https:// URL")
    if request.extra.get("edit_video") and request.extra.get("extend_video"):
        raise InvalidInput("extend_video", "edit_video and extend_video cannot go together")


def _operation(request: GenerationRequest) -> str:
    if request.extra.get("edit_video"):
        return EDIT
    if request.extra.get("extend_video"):
        return EXTEND
    return GENERATE


def _has_frame_url(request: GenerationRequest) -> bool:
    return bool(request.extra.get("image_url"))


def _references(request: GenerationRequest) -> list[str]:
    value = request.extra.get("reference_images")
    return [str(v).strip() for v in value] if isinstance(value, list) else []


def _is_url(value: str) -> bool:
    return "://" in value or value.startswith("data:")


def _span(values: Sequence[float]) -> str:
    return f"{min(values):g} to {max(values):g}" if values else "no"


def _image_url(value: str, model: ModelSpec, field: str) -> str:
    if _is_url(value):
        return value
    return prepare_image(Path(value), model.image, field=field).data_url()


def _body(request: GenerationRequest, model: ModelSpec, operation: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model.id, "prompt": request.prompt.strip()}
    if operation == EDIT:
        body["video"] = {"url": request.extra["edit_video"]}
        return body
    if operation == EXTEND:
        duration = request.duration_s or model.extra.get("extend_default", 6)
        body["duration"] = int(duration)
        body["video"] = {"url": request.extra["extend_video"]}
        return body
    body["duration"] = int(request.duration_s or model.default_duration)
    frame = request.extra.get("image_url") or (str(request.image) if request.image else None)
    if frame is None:
        body["aspect_ratio"] = request.aspect or model.default_aspect
    body["resolution"] = request.resolution or model.default_resolution
    if frame is not None:
        body["image"] = {"url": _image_url(frame, model, "image")}
    references = _references(request)
    if references:
        body["reference_images"] = [
            {"url": _image_url(ref, model, f"reference_images[{i}]")}
            for i, ref in enumerate(references)
        ]
    return body


def _cost(usage: Any) -> float | None:
    ticks = usage.get("cost_in_usd_ticks") if isinstance(usage, dict) else None
    if isinstance(ticks, bool) or not isinstance(ticks, int | float):
        return None
    return round(ticks * USD_PER_TICK, 10)


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(code, message) from either of xAI's error shapes, tolerant of junk."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or error.get("type") or ""), str(
                error.get("message") or ""
            ).strip() or response.reason_phrase
        if isinstance(error, str) and error.strip():
            return str(body.get("code") or ""), error.strip()
    snippet = response.text[:160].replace("\n", " ").strip()
    return "", f"{response.reason_phrase} {snippet}".strip() or f"HTTP {response.status_code}"
