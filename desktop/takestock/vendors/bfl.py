"""Black Forest Labs: FLUX 3 Video over the BFL API.

One create endpoint and a polling URL that the create hands back. Every call carries
``x-key: <key>``, the polling GET included (the result download does not: it is a
signed delivery link).

    POST /v1/flux-3-video   {"prompt", "duration", "resolution": "hd"|"fhd",
                             "generate_audio", "aspect_ratio"?, "seed"?, "version"?,
                             "draft"?, one input at most: "keyframes" | "reference_images" |
                             "reference_video" | "start_video"}
                            or, to render a draft at full quality, {"draft_cache"} alone
                            -> {"id", "polling_url"}
    GET  <polling_url>      -> {"id", "status", "result": {"sample"}, "progress"}
    GET  /v1/credits        -> {"credits"} (1 credit = $0.01)

The polling URL is followed exactly as returned: a task lives in one region
(``api.us1.bfl.ai``, ``api.eu2.bfl.ai`` ...) and another region answers "Task not found".
It is never built from the id. Because the key travels with it, it is followed only to a
BFL host (``*.bfl.ai``, ``*.bfl.ml``) or to the host of the base URL in force (an
override or a test's loopback fake); anything else is refused as an unreadable answer.

Inputs. ``request.image`` opens the clip, ``request.last_frame`` closes it (BFL's
keyframes ``[first, last]``); ``extra["keyframes"]`` gives timed waypoints instead, as
``[[seconds, file_or_url], ...]`` (1 to 10, times increasing at least 1/24 s apart and
within the duration). ``extra["reference_images"]`` (identity and style; never on screen),
``extra["reference_video"]`` and ``extra["start_video"]`` (continue this clip; priced as
an extension) are the other input kinds; BFL takes one kind per request. Local images go
inline as base64 (20 MB each), local MP4s too (50 MB); https URLs are passed on.
``extra["draft"]`` makes a fast HD preview; ``extra["draft_cache"]`` (the signed URL of
a draft's cache) renders that draft at full quality and takes nothing else.
``extra["version"]`` pins a checkpoint. There is no mode field: the input chosen is the
mode (BFL's newer guidance; an older reference listed ``mode``).

States:

    BFL                 TaskState    notes
    Pending             RUNNING      progress 0..1 (planning, then generating)
    Ready               SUCCEEDED    result.sample: MP4, signed for about 2 h
    Error               FAILED       GenerationFailed
    Request Moderated   FAILED       Rejected "content refused" (the prompt or inputs)
    Content Moderated   FAILED       Rejected "content refused" (the output)
    Task not found      RUNNING      for ``extra.not_found_grace_s`` after the create (a
                                     task may not be visible at once); then FAILED

HTTP errors (FastAPI-style ``{"detail": str | [{"loc", "msg", "type"}]}``):

    401, 403                     AuthError
    402                          QuotaError (buy credits)
    429                          RateLimited: too many active tasks (5 per organisation)
                                 or requests; Retry-After when sent
    404 to a create              Rejected "endpoint not found" (never retires the model:
                                 a mistyped base URL answers the same)
    400, 413, 422, other 4xx     Rejected, with the fields BFL names
    5xx                          TransientError (a 5xx create may still have started)
    unreadable body              ProtocolError

Not supported, on purpose: lookup by our id (``can_find`` False: BFL takes no client id
and lists no tasks; a create whose answer is lost becomes ``unknown``), cancel (none
offered), ``batch`` (several drafts per request: one job is one take), ``duration:
"auto"`` (the cost of a take must be known before it is sent), webhooks, keeping a
draft's cache (the result key is unconfirmed and the job has no place for it), the
video edit and upscale tools, model listing.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from takestock.core.catalog import ModelSpec
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    InvalidInput,
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
    Balance,
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

__all__ = ["BflAdapter"]

VENDOR_ID = "bfl"
CREATE = "/v1/flux-3-video"
CREDITS = "/v1/credits"
#: Hosts the key may be sent to when following a polling URL.
BFL_DOMAINS = ("bfl.ai", "bfl.ml")
FRAME_STEP = 1 / 24

_STATES = {
    "Pending": TaskState.RUNNING,
    "Ready": TaskState.SUCCEEDED,
    "Error": TaskState.FAILED,
    "Request Moderated": TaskState.FAILED,
    "Content Moderated": TaskState.FAILED,
    "Task not found": TaskState.FAILED,
}
_INPUT_KINDS = ("keyframes", "reference_images", "reference_video", "start_video")
_VIDEO_TYPES = {".mp4": "video/mp4"}

#: ``request.extra`` keys this adapter reads; anything else is a typo we refuse.
_EXTRAS = {
    "keyframes": "timed keyframes: [[seconds, file or URL], ...]",
    "reference_images": "identity/style references: a list of files or https URLs",
    "reference_video": "a reference video: an MP4 file or https URL",
    "start_video": "continue this clip: an MP4 file or https URL",
    "draft": "true for a fast, cheaper HD preview",
    "draft_cache": "the https URL of a draft's cache, to render it at full quality",
    "version": "pin a FLUX 3 checkpoint (a release tag, or latest)",
}


class BflAdapter(BaseAdapter):
    """FLUX 3 Video on the BFL API.

    Attributes:
        vendor: the ``bfl`` catalog entry (regional hosts, prices in credits, limits).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        where = f"{self.vendor.name} {model.id}"
        _check_extras(request)
        if request.extra.get("draft_cache") is not None:
            _check_enhance(request)
            return
        kinds = _input_kinds(request)
        if len(kinds) > 1:
            raise InvalidInput(kinds[1], f"{' and '.join(kinds)}: {where} takes one input kind")
        validate_common(request, model, self.vendor.name)
        if request.last_frame is not None and request.image is None:
            raise InvalidInput("image", f"{where} needs an opening frame before a closing one")
        duration = request.duration_s or model.default_duration
        if request.extra.get("draft") is True and request.resolution not in (None, "720p"):
            raise InvalidInput("resolution", f"{where} renders drafts at 720p (hd) only")
        if "keyframes" in request.extra:
            _check_keyframes(request.extra["keyframes"], duration, model)
        for index, ref in enumerate(_strings(request.extra.get("reference_images"))):
            _check_image_ref(ref, model, f"reference_images[{index}]")
        limit = int(model.extra.get("max_reference_images", 0))
        count = len(_strings(request.extra.get("reference_images")))
        if limit and count > limit:
            raise InvalidInput("reference_images", f"{count} given; {where} takes at most {limit}")
        for key in ("reference_video", "start_video"):
            if key in request.extra:
                _check_video(request.extra[key], key, int(model.extra.get("video_max_bytes", 0)))

    # ---------------------------------------------------------------- pricing

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """The catalog's per-second price, in BFL credits (1 credit = $0.01).

        A continuation (``start_video``) has its own price. Draft prices are not
        published: a draft is priced as a full render of the same clip, an upper bound,
        and so is rendering a draft's cache, whose length Takestock cannot know (it is
        priced at the longest clip).
        """
        facts = request_facts(request, model)
        facts["extend"] = "start_video" in request.extra
        seconds = float(facts["duration_s"])
        if request.extra.get("draft_cache") is not None:
            seconds = max(model.durations)
            facts["resolution"] = max(model.resolutions, key=lambda r: model.resolutions[r])
        return in_vendor_unit(self.vendor, rule_amount(model, facts, seconds))

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        body = _body(request, model)
        path = str(model.extra.get("endpoint", CREATE))
        response = await send(
            ctx.http, "POST", endpoint(ctx, path), json=body, headers=_headers(ctx)
        )
        data = self._check(ctx, response, creating=True)
        task_id = data.get("id") if isinstance(data, dict) else None
        polling_url = data.get("polling_url") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id or not isinstance(polling_url, str):
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no id and polling_url: "
                f"{scrub(repr(data), ctx)[:200]}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        _check_polling_url(ctx, polling_url)
        return TaskHandle(task_id, {"polling_url": polling_url, "submitted_at": time.time()})

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        polling_url = handle.data.get("polling_url")
        if not isinstance(polling_url, str):
            raise ProtocolError(
                f"{self.vendor.name} task {handle.task_id} has no polling URL on record",
                vendor=VENDOR_ID,
            )
        _check_polling_url(ctx, polling_url)
        response = await send(ctx.http, "GET", polling_url, headers=_headers(ctx))
        data = self._check(ctx, response)
        status = data.get("status") if isinstance(data, dict) else None
        state = _STATES.get(status) if isinstance(status, str) else None
        if state is None:
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no known status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        assert isinstance(status, str)
        if state is TaskState.RUNNING:
            progress = data.get("progress")
            fraction = float(progress) if isinstance(progress, int | float) else None
            return TaskStatus(state, status, progress=fraction)
        if state is TaskState.SUCCEEDED:
            result = data.get("result")
            sample = result.get("sample") if isinstance(result, dict) else None
            results = (ResultRef(sample),) if isinstance(sample, str) and sample else ()
            return TaskStatus(state, status, progress=1.0, results=results)
        if status == "Task not found":
            grace = float(self.vendor.extra.get("not_found_grace_s", 60))
            submitted = handle.data.get("submitted_at")
            if isinstance(submitted, int | float) and time.time() - submitted < grace:
                return TaskStatus(TaskState.RUNNING, status)
        return TaskStatus(state, status, error=self._failure(handle, status, data))

    def _failure(self, handle: TaskHandle, status: str, data: Mapping[str, Any]) -> VendorError:
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": status}
        if status == "Request Moderated":
            return Rejected(
                f"{self.vendor.name} refused the prompt or an input under its content "
                "policy. Change them and try again.",
                title="Content refused",
                **kw,
            )
        if status == "Content Moderated":
            return Rejected(
                f"{self.vendor.name} withheld the video under its content policy; another "
                "prompt may pass.",
                title="Content refused",
                **kw,
            )
        if status == "Task not found":
            return GenerationFailed(
                f"{self.vendor.name} has no task {handle.task_id} at its polling URL (it "
                "expired, or was made in another region)",
                **kw,
            )
        detail = data.get("details") or data.get("result") or ""
        return GenerationFailed(
            f"{self.vendor.name}: the generation failed"
            + (f" ({detail!s:.200})" if detail else ""),
            **kw,
        )

    async def balance(self, ctx: CallContext) -> Balance:
        """``GET /v1/credits``: BFL credits, 1 credit = $0.01."""
        response = await send(ctx.http, "GET", endpoint(ctx, CREDITS), headers=_headers(ctx))
        data = self._check(ctx, response)
        credits = data.get("credits") if isinstance(data, dict) else None
        if isinstance(credits, bool) or not isinstance(credits, int | float):
            raise ProtocolError(
                f"{self.vendor.name} sent a balance without credits: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        per_unit = self.vendor.money_per_unit or 0.01
        return Balance(float(credits), self.vendor.unit, {"usd": round(credits * per_unit, 4)})

    # ----------------------------------------------------------------- errors

    def _check(self, ctx: CallContext, response: httpx.Response, *, creating: bool = False) -> Any:
        if response.status_code >= 400:
            raise self._error(ctx, response, creating=creating)
        return json_body(response, VENDOR_ID)

    def _error(
        self, ctx: CallContext, response: httpx.Response, *, creating: bool = False
    ) -> VendorError:
        status = response.status_code
        detail = scrub(_detail(response), ctx)
        text = f"{self.vendor.name}: {detail} (HTTP {status})"
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": str(status), "status": status}
        if status in (401, 403):
            return AuthError(f"{text} Check the BFL API key (dashboard.bfl.ai).", **kw)
        if status == 402:
            return QuotaError(f"{text} Buy credits at dashboard.bfl.ai.", **kw)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(
                f"{text} BFL runs 5 tasks at once per organisation.",
                retry_after=retry_after,
                **kw,
            )
        if status >= 500:
            return TransientError(text, **kw)
        if creating and status in (404, 410):
            # Not ModelRetired: a mistyped base URL answers the same, and retiring would
            # hide the model from the user.
            return Rejected(
                f"{text} Nothing answers at this endpoint: check the base URL, or whether "
                "BFL moved FLUX 3 Video.",
                title="Endpoint not found",
                **kw,
            )
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"x-key": ctx.secret("api_key")}


def _check_polling_url(ctx: CallContext, url: str) -> None:
    """Refuse to send the key anywhere but BFL or the host the user pointed us at."""
    parsed: httpx.URL | None
    base: httpx.URL | None
    try:
        parsed, base = httpx.URL(url), httpx.URL(ctx.base_url)
    except httpx.InvalidURL:
        parsed = base = None
    host = parsed.host if parsed is not None else ""
    on_bfl = (
        parsed is not None
        and parsed.scheme == "https"
        and any(host == d or host.endswith("." + d) for d in BFL_DOMAINS)
    )
    on_base = (
        parsed is not None
        and base is not None
        and ((parsed.scheme, host, parsed.port) == (base.scheme, base.host, base.port))
    )
    if not (on_bfl or on_base):
        raise ProtocolError(
            f"{ctx.vendor.name} sent a polling URL on {host or 'no host'}, which is not a BFL "
            "host; Takestock will not send your key there",
            vendor=VENDOR_ID,
        )


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _check_extras(request: GenerationRequest) -> None:
    for key, value in request.extra.items():
        if key not in _EXTRAS:
            known = "; ".join(f"{k} ({v})" for k, v in _EXTRAS.items())
            raise InvalidInput(key, f"is not a BFL option; Takestock knows {known}")
        if key == "draft" and not isinstance(value, bool):
            raise InvalidInput(key, "must be true or false")
        if key == "reference_images" and (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise InvalidInput(key, 'must be a list of files or URLs, e.g. ["a.png"]')
        if key in ("reference_video", "start_video", "version") and (
            not isinstance(value, str) or not value.strip()
        ):
            raise InvalidInput(key, "must be a file name, an https URL or a tag")
        if key == "draft_cache" and (
            not isinstance(value, str) or not value.startswith("https://")
        ):
            raise InvalidInput(key, "must be the https URL of a draft's cache")


def _check_enhance(request: GenerationRequest) -> None:
    """Rendering a draft's cache takes the cache alone: it pins everything else."""
    given = [
        name
        for name, value in (
            ("prompt", request.prompt.strip()),
            ("image", request.image),
            ("last_frame", request.last_frame),
            ("duration", request.duration_s),
            ("aspect", request.aspect),
            ("resolution", request.resolution),
            ("audio", request.audio),
            ("seed", request.seed),
            ("negative", request.negative.strip()),
        )
        if value
    ] + [k for k in request.extra if k != "draft_cache"]
    if given:
        raise InvalidInput(
            given[0],
            "rendering a draft (draft_cache) takes nothing else: the cache pins the prompt, "
            f"seed and settings; leave out {', '.join(given)}",
        )


def _input_kinds(request: GenerationRequest) -> list[str]:
    kinds = []
    if request.image is not None or request.last_frame is not None:
        kinds.append("image" if request.image is not None else "last_frame")
    kinds += [k for k in _INPUT_KINDS if k in request.extra]
    return kinds


def _check_image_ref(ref: str, model: ModelSpec, field: str) -> None:
    if _is_url(ref):
        if not ref.startswith("https://"):
            raise InvalidInput(field, "must be a local file or a public https:// URL")
        return
    check_image(Path(ref), model.image, field=field)


def _check_keyframes(value: Any, duration: float, model: ModelSpec) -> None:
    pairs = value if isinstance(value, list) else None
    if not pairs or not all(
        isinstance(p, list)
        and len(p) == 2
        and isinstance(p[0], int | float)
        and not isinstance(p[0], bool)
        and isinstance(p[1], str)
        for p in pairs
    ):
        raise InvalidInput(
            "keyframes", 'must be [[seconds, file or URL], ...], e.g. [[0,"a.png"],[4.5,"b.png"]]'
        )
    limit = int(model.extra.get("max_keyframes", 10))
    if len(pairs) > limit:
        raise InvalidInput("keyframes", f"{len(pairs)} given; at most {limit}")
    times = [float(p[0]) for p in pairs]
    for index, (before, after) in enumerate(itertools.pairwise(times)):
        if after - before < FRAME_STEP - 1e-9:
            raise InvalidInput(
                "keyframes",
                f"times must increase by at least 1/24 s; {after:g} follows {before:g} "
                f"(keyframe {index + 1})",
            )
    if times[0] < 0 or times[-1] > duration:
        raise InvalidInput(
            "keyframes", f"times must lie within 0 and the duration ({duration:g} s)"
        )
    for index, pair in enumerate(pairs):
        _check_image_ref(pair[1], model, f"keyframes[{index}]")


def _check_video(value: str, field: str, max_bytes: int) -> None:
    if _is_url(value):
        if not value.startswith("https://"):
            raise InvalidInput(field, "must be an MP4 file or a public https:// URL")
        return
    path = Path(value).expanduser()
    if path.suffix.lower() not in _VIDEO_TYPES:
        raise InvalidInput(field, f"{path.name} is not an .mp4 video")
    try:
        size = path.stat().st_size
    except OSError:
        raise InvalidInput(field, f"{path} does not exist") from None
    if max_bytes and size > max_bytes:
        raise InvalidInput(
            field, f"{path.name} is {size / 1e6:.1f} MB; BFL takes at most {max_bytes / 1e6:g} MB"
        )


def _image(ref: str, model: ModelSpec, field: str) -> str:
    if _is_url(ref):
        return ref
    return prepare_image(Path(ref), model.image, field=field).base64()


def _video(ref: str) -> str:
    if _is_url(ref):
        return ref
    return base64.b64encode(Path(ref).expanduser().read_bytes()).decode("ascii")


def _keyframes(request: GenerationRequest, model: ModelSpec) -> Any:
    if "keyframes" in request.extra:
        return [
            [p[0], _image(str(p[1]), model, f"keyframes[{i}]")]
            for i, p in enumerate(request.extra["keyframes"])
        ]
    if request.image is not None and request.last_frame is not None:
        return [
            _image(str(request.image), model, "image"),
            _image(str(request.last_frame), model, "last_frame"),
        ]
    if request.image is not None:
        return _image(str(request.image), model, "image")
    return None


def _body(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    extra = request.extra
    if extra.get("draft_cache") is not None:
        return {"draft_cache": extra["draft_cache"]}
    names: Mapping[str, str] = model.extra.get("resolution_names", {})
    resolution = request.resolution or model.default_resolution
    body: dict[str, Any] = {
        "prompt": request.prompt.strip(),
        "duration": int(request.duration_s or model.default_duration),
        "resolution": names.get(resolution, resolution),
        "generate_audio": request.audio if request.audio is not None else model.audio,
    }
    keyframes = _keyframes(request, model)
    has_input = keyframes is not None or any(k in extra for k in _INPUT_KINDS)
    aspect = request.aspect or (None if has_input else model.default_aspect)
    if aspect:
        body["aspect_ratio"] = aspect
    if request.seed is not None:
        body["seed"] = request.seed
    if keyframes is not None:
        body["keyframes"] = keyframes
    if "reference_images" in extra:
        body["reference_images"] = [
            _image(ref, model, f"reference_images[{i}]")
            for i, ref in enumerate(_strings(extra["reference_images"]))
        ]
    for key in ("reference_video", "start_video"):
        if key in extra:
            body[key] = _video(str(extra[key]))
    if extra.get("draft") is True:
        body["draft"] = True
    if "version" in extra:
        body["version"] = extra["version"]
    return body


def _detail(response: httpx.Response) -> str:
    """BFL's ``detail`` as text: a message, or FastAPI's list of field errors."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail.strip():
        return detail.strip()
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
            else:
                parts.append(str(item))
        if parts:
            return "; ".join(parts)
    snippet = response.text[:160].replace("\n", " ").strip()
    return f"{response.reason_phrase} {snippet}".strip() or f"HTTP {response.status_code}"
