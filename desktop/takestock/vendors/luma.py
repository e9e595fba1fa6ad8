"""Luma AI: the Agents API (``ray-3.2``, current) and the Dream Machine API (legacy).

Two surfaces in one adapter, chosen per model by the catalog's ``extra.surface``:

    surface          base (catalog ``base_urls``)    models                 paths
    agents           https://agents.lumalabs.ai      ray-3.2                /v1/generations…
    dream_machine    https://api.lumalabs.ai         ray-2, ray-flash-2     /dream-machine/v1/…

``base_urls["default"]`` is the Agents base. A call context carries one base URL, so the
adapter takes each surface's base from the catalog entry, except when the base URL in
force differs from the catalog's for the account's region: then the user or the
environment (``TAKESTOCK_LUMA_BASE_URL``) overrode it, and that one host is used for both
surfaces. Paths are appended to it as above (the two surfaces' paths never collide), so
an override names a host root such as ``http://127.0.0.1:8000``, not ``…/v1``.

Protocol (``Authorization: Bearer <API key>``, JSON; errors are ``{"detail": …}``):

    Agents         POST /v1/generations        {"model", "type": "video", "prompt",
                                                "aspect_ratio"?, "video": {"resolution",
                                                "duration": "5s"|"10s", "start_frame"?,
                                                "end_frame"?, "loop"?, "hdr"?,
                                                "exr_export"?}}  -> 201 {"id", "state"}
                   GET  /v1/generations/{id}   -> {"state", "output": [{"type", "url"}],
                                                   "failure_code", "failure_reason"}
    Dream Machine  POST /dream-machine/v1/generations/video
                                               {"model", "prompt"?, "aspect_ratio"?,
                                                "duration": "5s"|"9s", "resolution",
                                                "loop"?, "keyframes"?: {"frame0", "frame1"}}
                   GET    /dream-machine/v1/generations/{id}  -> {"state", "assets":
                                                 {"video"}, "failure_reason"}
                   DELETE /dream-machine/v1/generations/{id}  removes the generation
                   GET    /dream-machine/v1/credits -> {"credit_balance": USD cents}

The Dream Machine create path is the one the official ``lumaai`` SDK (1.21.0) sends;
Luma's older documentation shows ``POST /dream-machine/v1/generations``.

Frames and extend. A first frame is ``request.image`` (a local file) or
``extra["image_url"]``; a last frame ``request.last_frame`` or ``extra["end_image_url"]``.
``extra["extend_generation_id"]`` continues a prior Luma video (its id as the first
frame); ``extra["reverse_extend_generation_id"]`` leads into one (its id as the last
frame). The Agents API takes local files inline as base64 (``{"data", "media_type"}``),
URLs as ``{"url"}`` and prior videos as ``{"generation_id"}``. Dream Machine takes only
``{"type": "image", "url"}`` or ``{"type": "generation", "id"}`` keyframes and has no
upload, so local files are refused there before anything is sent. Other extras:
``loop``, ``hdr``, ``exr_export`` (Agents only).

States:

    Agents       Dream Machine   TaskState    notes
    queued       queued          QUEUED
    processing   dreaming        RUNNING      no progress figure is reported
    completed    completed       SUCCEEDED    output[0].url (presigned, 1 h) / assets.video
    failed       failed          FAILED       failure_code (Agents) and failure_reason kept

Errors (HTTP status first: Luma's synchronous errors carry no code, so ``vendor_code``
is the status; the ``detail`` text is kept in the message):

    401, 403                                   AuthError
    402, or a detail about insufficient
      credits or balance                       QuotaError
    429 (requests per minute or concurrent)    RateLimited (Retry-After when sent)
    404/410 to a Dream Machine create; a 4xx
      whose detail names the model as unknown  ModelRetired
    a detail about moderation                  Rejected "content refused"
    400, 413, 422, other 4xx                   Rejected
    404 to a poll (generation gone)            GenerationFailed
    5xx                                        TransientError
    unreadable body                            ProtocolError
    failed generation: content_moderated,
      or a Dream Machine reason about
      moderation or blacklisted words          Rejected "content refused"
    image_too_large, unsupported_format,
      corrupt_input, invalid_request,
      "Failed to read user input frames"       Rejected
    budget_exhausted                           QuotaError
    rate_limited                               RateLimited
    generation_failed, output_not_found,
      other reasons                            GenerationFailed

Cost: estimates are catalog data in USD cents (the unit of Dream Machine's balance);
the Agents price depends on resolution, duration and HDR/EXR, so the estimate adds
``hdr`` and ``exr`` to the priced facts. Neither surface reports the actual charge.

Not supported, on purpose: lookup by our id (``can_find`` is False: neither surface
takes a client id, and Dream Machine's list cannot filter by one; a create whose answer
was lost becomes ``unknown``); cancel on the Agents API (it has no cancel; Dream
Machine's DELETE removes a queued or dreaming generation, and Luma does not say whether
that refunds it); multi-keyframe guides (``video.keyframes``), video edit, reframe,
upscale, add-audio and concepts; the Agents Files API (inline base64 needs one request
and no upload state); ``user_id`` and callbacks; model listing (neither surface lists
its models). The balance is Dream Machine's; whether Agents usage draws on it is not
documented.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from takestock.core.pricing import request_facts, rule_for, unknown_reason
from takestock.core.validation import validate_common
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

__all__ = ["LumaAdapter"]

VENDOR_ID = "luma"
AGENTS = "agents"
DREAM = "dream_machine"
_SURFACES = {AGENTS: "Agents API", DREAM: "Dream Machine API"}

_AGENTS_GENERATIONS = "/v1/generations"
_DM_GENERATIONS = "/dream-machine/v1/generations"
_DM_CREATE = "/dream-machine/v1/generations/video"
_DM_CREDITS = "/dream-machine/v1/credits"

_STATES = {
    AGENTS: {
        "queued": TaskState.QUEUED,
        "processing": TaskState.RUNNING,
        "completed": TaskState.SUCCEEDED,
        "failed": TaskState.FAILED,
    },
    DREAM: {
        "queued": TaskState.QUEUED,
        "dreaming": TaskState.RUNNING,
        "completed": TaskState.SUCCEEDED,
        "failed": TaskState.FAILED,
    },
}

#: ``request.extra`` keys this adapter reads; anything else is a typo we refuse.
_EXTRAS = {
    "image_url": "a public https URL of the first frame",
    "end_image_url": "a public https URL of the last frame",
    "extend_generation_id": "continue after a prior Luma video (its generation id)",
    "reverse_extend_generation_id": "lead into a prior Luma video (its generation id)",
    "loop": "true for a seamless loop",
    "hdr": "true for HDR video (Agents API)",
    "exr_export": "true for an EXR file beside the HDR video (Agents API)",
}
_BOOL_EXTRAS = ("loop", "hdr", "exr_export")

_FAILURE_KINDS: dict[str, type[VendorError]] = {
    "content_moderated": Rejected,
    "image_too_large": Rejected,
    "unsupported_format": Rejected,
    "corrupt_input": Rejected,
    "invalid_request": Rejected,
    "budget_exhausted": QuotaError,
    "rate_limited": RateLimited,
}
_MODERATION = re.compile(r"moderat|blacklist", re.IGNORECASE)
_INSUFFICIENT = re.compile(r"insufficient|not enough (credit|balance|fund)", re.IGNORECASE)
_MODEL_GONE = re.compile(
    r"\b(unknown|invalid|unsupported|retired|deprecated) model\b"
    r"|\bmodel\b.{0,60}?\b(not found|no longer|retired|does not exist)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Anchor:
    """One end of the clip: a local file, an image URL, or a prior generation."""

    kind: str  # "file" | "url" | "generation"
    value: str
    field: str  # the request field it came from, for messages


class LumaAdapter(BaseAdapter):
    """Luma's Agents API (``ray-3.2``) and legacy Dream Machine API (``ray-2``).

    Attributes:
        vendor: the ``luma`` catalog entry (base URLs per surface, prices, limits).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        # Luma takes an end frame alone, or a first frame by URL or prior generation.
        validate_common(request, model, self.vendor.name, first_frame_optional=True)
        surface = _surface(model)
        where = f"{self.vendor.name} {model.id}"
        _check_extras(request, surface, where)
        start, end = _anchors(request)
        rules = model.extra
        if not rules.get("local_images", True):
            for anchor in (start, end):
                if anchor is not None and anchor.kind == "file":
                    key = "image_url" if anchor.field == "image" else "end_image_url"
                    raise InvalidInput(
                        anchor.field,
                        f"{where} (the {_SURFACES[surface]}) needs the image at a public https "
                        f"URL and has no upload: pass --extra {key}=https://… instead, or use "
                        "ray-3.2, which takes local files",
                    )
        prompt = request.prompt.strip()
        if rules.get("prompt_required") and not prompt:
            raise InvalidInput("prompt", f"{where} needs a prompt, also with frames")
        minimum = int(rules.get("prompt_min_chars", 0))
        if len(prompt) < minimum and (prompt or (start is None and end is None)):
            raise InvalidInput(
                "prompt", f"is {len(prompt)} characters; {where} needs at least {minimum}"
            )
        duration = request.duration_s or model.default_duration
        resolution = request.resolution or model.default_resolution
        _check_frames(rules, start, end, duration, where)
        _check_loop(request, rules, end, duration, where)
        _check_hdr(request, rules, start, end, duration, resolution, where)

    # ---------------------------------------------------------------- pricing

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """The first catalog price rule that fits, with HDR and EXR among the facts."""
        facts = request_facts(request, model)
        facts["hdr"] = _flag(request, "hdr")
        facts["exr"] = _flag(request, "exr_export")
        rule = rule_for(model, facts)
        if rule is None:
            reason = unknown_reason(model, self.vendor, facts)
            return Estimate.unknown(self.vendor.unit, reason, self.vendor.currency)
        amount = rule.per_take + rule.per_second * facts["duration_s"]
        per_unit = self.vendor.money_per_unit
        return Estimate(
            amount=round(amount, 4),
            unit=self.vendor.unit,
            money=None if per_unit is None else round(amount * per_unit, 4),
            currency=self.vendor.currency,
        )

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        surface = _surface(model)
        if surface == AGENTS:
            url, body = f"{_base(ctx, AGENTS)}{_AGENTS_GENERATIONS}", _agents_body(request, model)
        else:
            url, body = f"{_base(ctx, DREAM)}{_DM_CREATE}", _dream_body(request, model)
        response = await send(ctx.http, "POST", url, json=body, headers=_headers(ctx))
        data = self._check(response, surface, creating=True)
        generation_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(generation_id, str) or not generation_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no generation id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        return TaskHandle(generation_id, {"surface": surface})

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        surface = _handle_surface(ctx, handle)
        path = _AGENTS_GENERATIONS if surface == AGENTS else _DM_GENERATIONS
        response = await send(
            ctx.http,
            "GET",
            f"{_base(ctx, surface)}{path}/{handle.task_id}",
            headers=_headers(ctx),
        )
        if response.status_code == 404:
            detail, _ = _detail(response)
            raise GenerationFailed(
                f"{self.vendor.name} no longer has generation {handle.task_id} (deleted, or "
                f"made with another key): {detail}",
                vendor=VENDOR_ID,
                vendor_code="404",
                status=404,
            )
        return self._status(self._check(response, surface), surface)

    def _status(self, data: Any, surface: str) -> TaskStatus:
        state_name = data.get("state") if isinstance(data, dict) else None
        state = _STATES[surface].get(state_name) if isinstance(state_name, str) else None
        if state is None:
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no known state: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        assert isinstance(state_name, str)
        if state is TaskState.SUCCEEDED:
            url = _result_url(data, surface)
            results = (ResultRef(url),) if url else ()
            return TaskStatus(state, state_name, progress=1.0, results=results)
        if state is TaskState.FAILED:
            return TaskStatus(state, state_name, error=self._failure(data, surface))
        return TaskStatus(state, state_name)

    def _failure(self, data: Mapping[str, Any], surface: str) -> VendorError:
        code = str(data.get("failure_code") or "") if surface == AGENTS else ""
        reason = str(data.get("failure_reason") or "the generation failed without a reason")
        text = f"{self.vendor.name}: {reason}" + (f" ({code})" if code else "")
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": code or None}
        if code == "content_moderated" or _MODERATION.search(reason):
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        if surface == DREAM and "user input frames" in reason.lower():
            return Rejected(f"{text} Luma could not fetch the image URL.", **kw)
        kind = _FAILURE_KINDS.get(code, GenerationFailed)
        return kind(text, **kw)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Dream Machine: delete a queued or dreaming generation (a finished one is left
        in the user's history). The Agents API has no cancel."""
        if _handle_surface(ctx, handle) != DREAM:
            return False
        status = await self.poll(ctx, handle)
        if status.state.final:
            return False
        response = await send(
            ctx.http,
            "DELETE",
            f"{_base(ctx, DREAM)}{_DM_GENERATIONS}/{handle.task_id}",
            headers=_headers(ctx),
        )
        # A retried DELETE whose first answer was lost finds the generation gone.
        if response.status_code < 400 or response.status_code == 404:
            return True
        raise self._error(response, DREAM)

    async def balance(self, ctx: CallContext) -> Balance:
        """Dream Machine's ``credit_balance``, in USD cents."""
        response = await send(
            ctx.http, "GET", f"{_base(ctx, DREAM)}{_DM_CREDITS}", headers=_headers(ctx)
        )
        data = self._check(response, DREAM)
        value = data.get("credit_balance") if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(
                f"{self.vendor.name} sent a balance without credit_balance: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        return Balance(
            float(value),
            "USD cents",
            {"usd": round(float(value) / 100, 4), "source": "Dream Machine GET /credits"},
        )

    # ----------------------------------------------------------------- errors

    def _check(self, response: httpx.Response, surface: str, *, creating: bool = False) -> Any:
        if response.status_code >= 400:
            raise self._error(response, surface, creating=creating)
        return json_body(response, VENDOR_ID)

    def _error(
        self, response: httpx.Response, surface: str, *, creating: bool = False
    ) -> VendorError:
        status = response.status_code
        detail, fields = _detail(response)
        text = f"{self.vendor.name} {_SURFACES[surface]}: {detail} (HTTP {status})"
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": str(status), "status": status}
        if status == 401:
            return AuthError(f"{text} Check the Luma API key.", **kw)
        if status == 403:
            return AuthError(
                f"{text} The account or plan has no access; contact Luma.",
                title="Access denied",
                **kw,
            )
        if status == 402 or _INSUFFICIENT.search(detail):
            return QuotaError(f"{text} Add funds in the Luma API billing page.", **kw)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        if creating and status in (404, 410) and surface == DREAM:
            return ModelRetired(
                f"{text} The legacy Dream Machine API no longer takes creates here.", **kw
            )
        if "model" in fields or _MODEL_GONE.search(detail):
            return ModelRetired(text, **kw)
        if _MODERATION.search(detail):
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _surface(model: ModelSpec) -> str:
    surface = model.extra.get("surface")
    if surface not in _SURFACES:
        raise InvalidInput(
            "model",
            f"{model.id} names no Luma surface in the catalog "
            "(extra.surface must be agents or dream_machine)",
        )
    return str(surface)


def _handle_surface(ctx: CallContext, handle: TaskHandle) -> str:
    surface = handle.data.get("surface")
    if surface in _SURFACES:
        return str(surface)
    return _surface(ctx.model) if ctx.model is not None else AGENTS


def _base(ctx: CallContext, surface: str) -> str:
    """The surface's base URL, or the overriding one for both surfaces (see above)."""
    in_force = ctx.base_url.rstrip("/")
    try:
        catalog = ctx.vendor.base_url(ctx.region).rstrip("/")
    except InvalidInput:
        catalog = None
    own = ctx.vendor.base_urls.get(surface)
    if in_force != catalog or not own:
        return in_force
    return own.rstrip("/")


def _flag(request: GenerationRequest, key: str) -> bool:
    return request.extra.get(key) is True


def _check_extras(request: GenerationRequest, surface: str, where: str) -> None:
    for key, value in request.extra.items():
        if key not in _EXTRAS:
            known = "; ".join(f"{k} ({v})" for k, v in _EXTRAS.items())
            raise InvalidInput(key, f"is not a Luma option; Takestock knows {known}")
        if key in _BOOL_EXTRAS and not isinstance(value, bool):
            raise InvalidInput(key, "must be true or false")
    if surface == DREAM:
        for key in ("hdr", "exr_export"):
            if _flag(request, key):
                raise InvalidInput(key, f"{where} (Dream Machine) makes no HDR video")
    for key in ("image_url", "end_image_url"):
        value = request.extra.get(key)
        if value is not None and (not isinstance(value, str) or not _is_https(value)):
            raise InvalidInput(key, "must be a public https:// URL of a JPEG, PNG or WebP image")
    for key in ("extend_generation_id", "reverse_extend_generation_id"):
        value = request.extra.get(key)
        if value is not None and not _is_uuid(value):
            raise InvalidInput(
                key, f"must be the id of a prior Luma generation (a UUID): {value!r}"
            )


def _is_https(url: str) -> bool:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return parsed.scheme == "https" and bool(parsed.host)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _anchors(request: GenerationRequest) -> tuple[_Anchor | None, _Anchor | None]:
    """The clip's first and last anchors, refusing two for the same end."""

    def pick(options: Sequence[tuple[str, Any, str]], end: str) -> _Anchor | None:
        given = [_Anchor(kind, str(value), field) for kind, value, field in options if value]
        if len(given) > 1:
            names = " and ".join(a.field for a in given)
            raise InvalidInput(given[1].field, f"{names} both set the {end}; give one")
        return given[0] if given else None

    extra = request.extra
    start = pick(
        [
            ("file", request.image, "image"),
            ("url", extra.get("image_url"), "image_url"),
            ("generation", extra.get("extend_generation_id"), "extend_generation_id"),
        ],
        "first frame",
    )
    end = pick(
        [
            ("file", request.last_frame, "last_frame"),
            ("url", extra.get("end_image_url"), "end_image_url"),
            (
                "generation",
                extra.get("reverse_extend_generation_id"),
                "reverse_extend_generation_id",
            ),
        ],
        "last frame",
    )
    return start, end


def _fmt(values: Sequence[Any]) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float | int) else str(v) for v in values)


def _check_frames(
    rules: Mapping[str, Any],
    start: _Anchor | None,
    end: _Anchor | None,
    duration: float,
    where: str,
) -> None:
    allowed = rules.get("frame_durations")
    anchored = [a for a in (start, end) if a is not None]
    if anchored and allowed and duration not in allowed:
        raise InvalidInput(
            "duration",
            f"{where} takes {_fmt(allowed)} s with {anchored[0].field}; "
            f"{duration:g} s is text to video only",
        )


def _check_loop(
    request: GenerationRequest,
    rules: Mapping[str, Any],
    end: _Anchor | None,
    duration: float,
    where: str,
) -> None:
    if not _flag(request, "loop"):
        return
    if end is not None:
        raise InvalidInput("loop", f"{where} cannot loop a clip with {end.field} (an end anchor)")
    allowed = rules.get("loop_durations")
    if allowed and duration not in allowed:
        raise InvalidInput("loop", f"{where} loops only {_fmt(allowed)} s clips")


def _check_hdr(
    request: GenerationRequest,
    rules: Mapping[str, Any],
    start: _Anchor | None,
    end: _Anchor | None,
    duration: float,
    resolution: str,
    where: str,
) -> None:
    if _flag(request, "exr_export") and not _flag(request, "hdr"):
        raise InvalidInput("exr_export", "needs hdr=true")
    if not _flag(request, "hdr"):
        return
    resolutions = rules.get("hdr_resolutions") or ()
    if resolution not in resolutions:
        raise InvalidInput(
            "hdr", f"{where} makes HDR at {', '.join(resolutions)} only, not {resolution}"
        )
    durations = rules.get("hdr_durations")
    if durations and duration not in durations:
        raise InvalidInput("hdr", f"{where} makes HDR clips of {_fmt(durations)} s only")
    if _flag(request, "loop"):
        raise InvalidInput("hdr", f"{where} cannot loop an HDR clip")
    for anchor in (start, end):
        if anchor is not None and anchor.kind == "generation":
            raise InvalidInput("hdr", f"{where} extends videos in standard dynamic range only")


def _prepared(anchor: _Anchor, model: ModelSpec) -> tuple[str, str]:
    """(base64, MIME type) of a local file anchor, within the model's image limits."""
    prepared = prepare_image(Path(anchor.value), model.image, field=anchor.field)
    return prepared.base64(), prepared.mime


def _agents_ref(anchor: _Anchor, model: ModelSpec) -> dict[str, str]:
    if anchor.kind == "file":
        data, mime = _prepared(anchor, model)
        return {"data": data, "media_type": mime}
    if anchor.kind == "url":
        return {"url": anchor.value}
    return {"generation_id": anchor.value}


def _dream_ref(anchor: _Anchor) -> dict[str, str]:
    if anchor.kind == "url":
        return {"type": "image", "url": anchor.value}
    if anchor.kind == "generation":
        return {"type": "generation", "id": anchor.value}
    raise InvalidInput(anchor.field, "Dream Machine takes images only by public URL")


def _aspect(request: GenerationRequest, model: ModelSpec, anchored: bool) -> str | None:
    """The asked aspect; the model's default for text only (frames set their own)."""
    return request.aspect or (None if anchored else model.default_aspect)


def _agents_body(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    start, end = _anchors(request)
    duration = request.duration_s or model.default_duration
    video: dict[str, Any] = {
        "resolution": request.resolution or model.default_resolution,
        "duration": f"{duration:g}s",
    }
    if start is not None:
        video["start_frame"] = _agents_ref(start, model)
    if end is not None:
        video["end_frame"] = _agents_ref(end, model)
    for key in _BOOL_EXTRAS:
        if _flag(request, key):
            video[key] = True
    body: dict[str, Any] = {"model": model.id, "type": "video", "prompt": request.prompt.strip()}
    aspect = _aspect(request, model, start is not None or end is not None)
    if aspect:
        body["aspect_ratio"] = aspect
    body["video"] = video
    return body


def _dream_body(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    start, end = _anchors(request)
    duration = request.duration_s or model.default_duration
    body: dict[str, Any] = {"model": model.id}
    if request.prompt.strip():
        body["prompt"] = request.prompt.strip()
    aspect = _aspect(request, model, start is not None or end is not None)
    if aspect:
        body["aspect_ratio"] = aspect
    body["duration"] = f"{duration:g}s"
    body["resolution"] = request.resolution or model.default_resolution
    if _flag(request, "loop"):
        body["loop"] = True
    keyframes: dict[str, dict[str, str]] = {}
    if start is not None:
        keyframes["frame0"] = _dream_ref(start)
    if end is not None:
        keyframes["frame1"] = _dream_ref(end)
    if keyframes:
        body["keyframes"] = keyframes
    return body


def _result_url(data: Mapping[str, Any], surface: str) -> str | None:
    if surface == DREAM:
        assets = data.get("assets")
        url = assets.get("video") if isinstance(assets, dict) else None
        return url if isinstance(url, str) and url else None
    outputs = data.get("output")
    if not isinstance(outputs, list):
        return None
    items = [o for o in outputs if isinstance(o, dict) and isinstance(o.get("url"), str)]
    videos = [o for o in items if o.get("type") == "video"] or items
    return str(videos[0]["url"]) if videos else None


def _detail(response: httpx.Response) -> tuple[str, set[str]]:
    """Luma's ``detail`` as text, and the request fields it names (validation errors)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail.strip():
        return detail.strip(), set()
    if isinstance(detail, list):
        parts, fields = [], set()
        for item in detail:
            if not isinstance(item, dict):
                parts.append(str(item))
                continue
            loc = [str(p) for p in item.get("loc", ()) if p != "body"]
            fields.update(loc[-1:])
            parts.append(f"{'.'.join(loc)}: {item.get('msg', '')}".strip(": "))
        if parts:
            return "; ".join(parts), fields
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"]), set()
    snippet = response.text[:120].replace("\n", " ").strip()
    return f"{response.reason_phrase} {snippet}".strip() or f"HTTP {response.status_code}", set()
