"""fal.ai: one adapter for the many video models fal hosts, driven by catalog entries.

fal hosts other vendors' models (Kling, Veo, Hailuo, Wan, Seedance, ...) behind one queue
protocol. Each hosted model is an *endpoint* (``fal-ai/kling-video/v3/pro/text-to-video``)
with its own input fields, so what differs between models is data: a catalog entry maps
each of our modes to an endpoint and each of our request fields to that endpoint's input.
A newly hosted model is added with a catalog override entry, no code (see below and the
catalog's ``extra.how_to_add_a_model``).

Protocol (facts: ``shared/vendors/fal.md``; witness: the official ``fal-client`` SDK,
``tests/vendors/test_fal_sdk.py``); every call carries ``Authorization: Key <id:secret>``::

    POST {queue}/{endpoint}                      body = the endpoint's input JSON
         -> {"request_id", "status_url", "response_url", "cancel_url"}
    GET  {queue}/{owner}/{alias}/requests/{id}/status
         -> {"status": "IN_QUEUE", "queue_position"} | {"status": "IN_PROGRESS"}
          | {"status": "COMPLETED", "error"?, "error_type"?}
    GET  {queue}/{owner}/{alias}/requests/{id}   the result: {"video": {"url", "file_size"}}
    PUT  {queue}/{owner}/{alias}/requests/{id}/cancel
    POST {rest}/storage/upload/initiate?storage_type=gcs  {"file_name", "content_type"}
         -> {"upload_url", "file_url"}; then PUT the bytes to upload_url
    GET  {rest}/billing/user_balance             a bare number of US dollars
    GET  {platform}/models?endpoint_id=..&expand=openapi-3.0   status and input schemas

Status, result and cancel live under the app id alone (``owner/alias``, with a
``workflows/`` or ``comfy/`` namespace kept), never under the endpoint's sub-path: we use
the URLs fal returns when they are on the queue host we talk to, and build them by that
rule otherwise (a URL on another host would be handed our key, so it is never followed).

Hosts: ``{queue}`` is the base URL (``https://queue.fal.run``); ``{rest}`` and
``{platform}`` come from the catalog's ``extra.rest_base_url`` (``https://rest.fal.ai``) and
``extra.platform_base_url`` (``https://api.fal.ai/v1``). When the base URL in force is not
the catalog's (``TAKESTOCK_FAL_BASE_URL``, an account override), every host is derived
from it: the queue and REST APIs at its root, the Platform API under ``/v1``. A proxy or a
test server therefore serves all three.

The catalog entry of a model (``extra``)::

    "endpoints": {"text": "fal-ai/veo3.1",
                  "image": "fal-ai/veo3.1/image-to-video",
                  "first_last": {"endpoint": "fal-ai/veo3.1/first-last-frame-to-video",
                                 "inputs": {"image": {"name": "first_frame_url", "as": "url"},
                                            "last_frame": {"name": "last_frame_url",
                                                           "as": "url"}}}},
    "inputs": {"prompt": "prompt", "negative": "negative_prompt",
               "duration_s": {"name": "duration", "as": "seconds"},
               "aspect": "aspect_ratio", "resolution": "resolution",
               "image": {"name": "image_url", "as": "url"},
               "audio": "generate_audio", "seed": "seed"},
    "fixed": {"auto_fix": false},
    "options": ["safety_tolerance"]

``endpoints`` maps a mode (``text``, ``image``, ``first_last``) to an endpoint id, or to
``{"endpoint", "inputs", "fixed"}`` whose ``inputs`` and ``fixed`` override the
model-wide ones for that mode (``null`` removes a field: ``{"aspect": null}`` where the
picture decides the shape). ``extra.endpoint`` alone serves every mode. ``inputs`` maps our
request fields (``prompt``, ``negative``, ``duration_s``, ``aspect``, ``resolution``,
``image``, ``last_frame``, ``audio``, ``seed``) to the endpoint's input names: a string is
the name with the value as is; an object has ``name``, optional ``map`` (our value ->
theirs, e.g. ``{"768p": "768P"}``) and optional ``as``:

    ========== ============================ ===================================
    as         sends                        e.g.
    ========== ============================ ===================================
    (none)     the value (5.0 -> 5)         ``"seed": 7``
    string     a number as text             ``"duration": "5"``
    seconds    a number with an ``s``       ``"duration": "8s"``
    integer    a whole number               ``"duration": 5``
    number     a number                     ``"cfg_scale": 0.5``
    boolean    true or false                ``"generate_audio": false``
    url        the image, uploaded to fal   ``"image_url": "https://v3.fal.media/..."``
    data_url   the image inline             ``"image_url": "data:image/png;base64,..."``
    ========== ============================ ===================================

The spellings of the Replicate adapter's catalog entries are accepted too (``str``,
``int``, ``float``, ``bool``). ``fixed`` inputs are sent as they are (a required field such
as Hailuo's ``prompt_expansion_mode``); ``options`` names endpoint inputs a user may set
per request (``takestock generate --extra cfg_scale=0.7``), sent verbatim; other
``--extra`` keys are left to the vendors that take them (one request may fan out).

What we send: the prompt and negative when not empty; the duration and resolution always
(the catalog default when not chosen, so the estimate holds); the aspect when chosen, and
its default in text to video; audio always on models with sound (off unless asked:
several endpoints default to on, at a higher price); the seed when chosen; images
prepared to the model's limits and uploaded to fal storage (``url``; fal's docs: URLs
work with every model, data URIs with some). A field the user set that the endpoint does
not take is refused before anything is sent. Further checks read
``extra.prompt_required`` (true where the endpoint needs a prompt even with an image) and
``extra.seed_max``.

States:

    ============================= ============ =========================================
    fal                           TaskState    note
    ============================= ============ =========================================
    IN_QUEUE                      QUEUED       ``queue_position`` shown; over the account's
                                               concurrency fal queues, it never refuses
    IN_PROGRESS                   RUNNING      no progress figure
    COMPLETED, result has video   SUCCEEDED    ``video.url`` (CDN), ``file_size``; the
                                               result JSON is kept 1 hour: fetched at once
    COMPLETED + error             FAILED       the result's error body, as below
    COMPLETED + client_cancelled  CANCELLED
    ============================= ============ =========================================

Errors (model errors are ``{"detail": [{"loc", "msg", "type"}]}``, request errors
``{"detail": "...", "error_type"}`` or the ``X-Fal-Error-Type`` header):

    ============================================== =====================================
    fal answer                                     error
    ============================================== =====================================
    401, 403                                       AuthError
    403 "User is locked. Reason: Exhausted         QuotaError (top up at fal.ai/dashboard)
    balance" / "TOP_UP", 402
    429                                            RateLimited (Retry-After when sent)
    404 / 410 to a create                          ModelRetired (fal no longer serves it)
    422 ``content_policy_violation``               Rejected "Content refused"
    422 and other 4xx (field messages kept)        Rejected
    5xx                                            TransientError
    a failed run: content policy / validation      Rejected
    a failed run: anything else (timeouts,         GenerationFailed, with fal's message
    runner errors, ``no_media_generated``)         and ``error_type``
    404 to a poll (request unknown or expired)     GenerationFailed
    unreadable body, no ``request_id``             ProtocolError
    ============================================== =====================================

A failed upload before the create is reported as such (nothing was sent to the model):
it never leaves the job ``unknown``.

Not supported, on purpose: lookup by our id (``can_find`` is False: fal takes no client
reference and its Platform request listing cannot be searched by one, so a create whose
answer was lost becomes ``unknown``); webhooks (a desktop app has no public URL);
streaming status; ``X-Fal-Request-Timeout`` and queue priority; endpoint inputs that are
neither mapped nor options (multi-prompt, elements, reference videos); the actual charge
(fal's result does not report one). Balance reads ``/billing/user_balance`` on the REST host, which
answers with the normal key (used by many 2026 clients; undocumented): the documented
Platform billing API needs an admin key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
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
from takestock.core.http import RetryPolicy, json_body, parse_retry_after, send
from takestock.core.images import prepare_image
from takestock.core.vendor import (
    Balance,
    CallContext,
    GenerationRequest,
    Mode,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter
from takestock.vendors.fal_schema import (
    _FIELD_NAMES,
    _IMAGE_FIELDS,
    _MODE_NAMES,
    _NAMESPACES,
    VENDOR_ID,
    EndpointPlan,
    InputSpec,
    convert_value,
    endpoint_plan,
    model_plans,
    refreshed_entry,
    request_values,
)

__all__ = ["EndpointPlan", "FalAdapter", "InputSpec", "app_path", "endpoint_plan"]

_PAGE = 50  # the Platform API takes 1 to 50 endpoint ids per call
_FAILED_RUN = {"internal_server_error", "generation_timeout", "no_media_generated"}
_ONCE = RetryPolicy(attempts=1)
_RETRIED = RetryPolicy()
_LOCKED = re.compile(r"exhausted balance|top[ _-]?up|insufficient", re.IGNORECASE)


# ------------------------------------------------------------------ the adapter


class FalAdapter(BaseAdapter):
    """Video models hosted on fal.ai, one catalog entry per model.

    Attributes:
        vendor: the ``fal`` catalog entry (hosts, models, endpoint maps).
    """

    vendor_id = VENDOR_ID
    can_find = False

    # ---------------------------------------------------------------- checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        super().validate(request, model)
        plan = endpoint_plan(model, request.mode)
        where = f"{self.vendor.name} {model.id}"
        mode = _MODE_NAMES[plan.mode]
        for name, chosen in _chosen(request):
            if name in plan.inputs or _is_default(name, chosen, model):
                continue
            if name == "aspect" and request.mode is not Mode.TEXT:
                raise InvalidInput("aspect", f"{where} takes the aspect ratio of its first frame")
            raise InvalidInput(name, f"{where} takes no {_FIELD_NAMES[name]} in {mode}")
        if model.extra.get("prompt_required") and not request.prompt.strip():
            raise InvalidInput("prompt", f"is empty; {where} needs a prompt in {mode}")
        for name in model.extra.get("options", ()):
            value = request.extra.get(name)
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InvalidInput(name, "must be text, a number, or true/false")
        seed_max = model.extra.get("seed_max")
        if request.seed is not None and seed_max is not None and request.seed > int(seed_max):
            raise InvalidInput("seed", f"must be between 0 and {int(seed_max)} on {where}")

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        plan = endpoint_plan(model, request.mode)
        body = await self._body(ctx, request, model, plan)
        queue = ctx.base_url
        response = await send(
            ctx.http, "POST", f"{queue}/{plan.endpoint}", json=body, headers=_headers(ctx)
        )
        if response.status_code in (404, 410):
            code, message = _error_parts(response)
            raise ModelRetired(
                f"{self.vendor.name}: {message} (fal no longer serves {plan.endpoint})",
                vendor=VENDOR_ID,
                vendor_code=code or str(response.status_code),
                status=response.status_code,
            )
        data = self._check(response)
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no request_id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        handle: dict[str, Any] = {"endpoint": plan.endpoint}
        for key in ("status_url", "response_url", "cancel_url"):
            url = data.get(key)
            if isinstance(url, str) and url.startswith(queue + "/"):
                handle[key] = url
        return TaskHandle(request_id, handle)

    async def _body(
        self, ctx: CallContext, request: GenerationRequest, model: ModelSpec, plan: EndpointPlan
    ) -> dict[str, Any]:
        body: dict[str, Any] = dict(plan.fixed)
        for name in model.extra.get("options", ()):
            if request.extra.get(name) is not None:
                body[name] = request.extra[name]
        for name, value in request_values(request, model).items():
            spec = plan.inputs.get(name)
            if spec is not None and value is not None:
                body[spec.name] = convert_value(spec, value)
        for name in _IMAGE_FIELDS:
            path = request.image if name == "image" else request.last_frame
            spec = plan.inputs.get(name)
            if path is not None and spec is not None:
                body[spec.name] = await self._image(ctx, model, name, path, spec)
        return body

    async def _image(
        self, ctx: CallContext, model: ModelSpec, name: str, path: Path, spec: InputSpec
    ) -> str:
        prepared = prepare_image(path, model.image, field=name)
        if spec.as_ == "data_url":
            return prepared.data_url()
        file_name = f"{'first' if name == 'image' else 'last'}-frame{prepared.suffix}"
        try:
            return await self._upload(ctx, prepared.data, prepared.mime, file_name)
        except RateLimited:
            raise  # refused before anything was made: the engine queues the job again
        except (TransientError, ProtocolError, httpx.TransportError) as exc:
            # Nothing was sent to the model yet: say so, rather than leave it "unknown".
            raise VendorError(
                f"{self.vendor.name}: uploading the {_FIELD_NAMES[name]} to fal storage "
                f"failed ({exc}); nothing was sent to the model. Retry the job.",
                vendor=VENDOR_ID,
                vendor_code=getattr(exc, "vendor_code", None),
                title="Image upload failed",
            ) from exc

    async def _upload(self, ctx: CallContext, data: bytes, mime: str, file_name: str) -> str:
        """fal storage: initiate (signed upload URL + file URL), then PUT the bytes."""
        response = await send(
            ctx.http,
            "POST",
            f"{_rest(ctx)}/storage/upload/initiate",
            idempotent=True,  # an unused upload slot costs nothing
            params={"storage_type": "gcs"},
            json={"file_name": file_name, "content_type": mime},
            headers=_headers(ctx),
        )
        answer = self._check(response)
        upload_url = answer.get("upload_url") if isinstance(answer, dict) else None
        file_url = answer.get("file_url") if isinstance(answer, dict) else None
        if not isinstance(upload_url, str) or not isinstance(file_url, str):
            raise TransientError(
                f"fal storage answered without upload_url/file_url: {answer!r:.200}",
                vendor=VENDOR_ID,
            )
        # The signed URL carries its own authority: no Key header goes there.
        put = await send(
            ctx.http,
            "PUT",
            upload_url,
            idempotent=True,
            content=data,
            headers={"Content-Type": mime},
        )
        if put.status_code >= 400:
            raise TransientError(
                f"fal storage refused the upload with HTTP {put.status_code}",
                vendor=VENDOR_ID,
                status=put.status_code,
            )
        return file_url

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http, "GET", _url(ctx, handle, "status_url"), headers=_headers(ctx)
        )
        if response.status_code == 404:
            raise self._gone(handle, response)
        data = self._check(response)
        status = data.get("status") if isinstance(data, dict) else None
        if status == "IN_QUEUE":
            position = data.get("queue_position")
            shown = f"IN_QUEUE (position {position})" if isinstance(position, int) else status
            return TaskStatus(TaskState.QUEUED, shown)
        if status == "IN_PROGRESS":
            return TaskStatus(TaskState.RUNNING, status)
        if status != "COMPLETED":
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no known status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        return await self._result(ctx, handle, data)

    async def _result(
        self, ctx: CallContext, handle: TaskHandle, status: Mapping[str, Any]
    ) -> TaskStatus:
        """A completed request: fetch its result at once (fal keeps it for an hour)."""
        error_type = status.get("error_type")
        if error_type in ("client_cancelled", "client_disconnected") and status.get("error"):
            return TaskStatus(TaskState.CANCELLED, f"COMPLETED ({error_type})")
        failed = bool(status.get("error"))
        response = await send(
            ctx.http,
            "GET",
            _url(ctx, handle, "response_url"),
            headers=_headers(ctx),
            # A failed run's result is its error: asking again would only repeat it.
            policy=_ONCE if failed else _RETRIED,
        )
        code = response.status_code
        if code >= 400:
            if not failed and code == 404:
                raise self._gone(handle, response)
            about_the_call = code in (401, 403, 429) or code >= 500
            if not failed and about_the_call and not _model_error(response):
                raise self._error(response)  # not the run's answer: poll again
            return self._failed(self._run_error(response, status))
        data = json_body(response, VENDOR_ID)
        if failed:
            return self._failed(self._run_error(None, status))
        video = _video(data)
        if video is None:
            return TaskStatus(TaskState.SUCCEEDED, "COMPLETED", progress=1.0)
        url, size = video
        return TaskStatus(
            TaskState.SUCCEEDED, "COMPLETED", progress=1.0, results=(ResultRef(url, size=size),)
        )

    @staticmethod
    def _failed(error: VendorError) -> TaskStatus:
        if error.vendor_code == "client_cancelled":
            return TaskStatus(TaskState.CANCELLED, "COMPLETED (cancelled)")
        return TaskStatus(TaskState.FAILED, "COMPLETED (error)", error=error)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Ask fal to cancel: a queued request is removed; a running one gets a signal its
        app may ignore, and a receipt does not prove a refund."""
        response = await send(
            ctx.http,
            "PUT",
            _url(ctx, handle, "cancel_url"),
            idempotent=True,
            headers=_headers(ctx),
        )
        if response.status_code < 400:
            return True
        if response.status_code in (400, 404):  # ALREADY_COMPLETED, NOT_FOUND
            return False
        raise self._error(response)

    async def balance(self, ctx: CallContext) -> Balance | None:
        response = await send(
            ctx.http, "GET", f"{_rest(ctx)}/billing/user_balance", headers=_headers(ctx)
        )
        if response.status_code == 404:
            return None  # the undocumented endpoint is gone: no balance rather than an error
        data = self._check(response)
        if isinstance(data, Mapping):
            data = data.get("balance", data.get("user_balance"))
        try:
            amount = float(data)
        except (TypeError, ValueError):
            raise ProtocolError(
                f"{self.vendor.name} answered the balance with {data!r:.80}", vendor=VENDOR_ID
            ) from None
        return Balance(amount, self.vendor.unit, {"source": "rest /billing/user_balance"})

    # ------------------------------------------------------------ list models

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        """Each catalog model's status, modes and limits as fal lists its endpoints now.

        Asks the Platform API for the catalog's endpoints with their OpenAPI schemas; a
        model keeps the modes whose endpoint fal still lists, is deprecated when one of
        them is, and retired when none is left. Durations, resolutions, aspects, the
        prompt length and image limits are read from the schemas through the model's own
        field map. Models retired in the catalog are passed through unchanged.
        """
        plans: dict[str, dict[str, EndpointPlan]] = {}
        for model in self.vendor.models.values():
            if model.available:
                plans[model.id] = model_plans(model)
        wanted = sorted({p.endpoint for by_mode in plans.values() for p in by_mode.values()})
        listed: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(wanted), _PAGE):
            listed |= await self._listed(ctx, wanted[start : start + _PAGE])
        today = time.strftime("%Y-%m-%d")
        entries = []
        for model in self.vendor.models.values():
            if not model.available:
                entries.append(
                    {"id": model.id, "status": model.status, "status_note": model.status_note}
                )
                continue
            entries.append(refreshed_entry(model, plans[model.id], listed, today))
        return entries

    async def _listed(self, ctx: CallContext, ids: list[str]) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        cursor: str | None = None
        for _ in range(100):  # pages; a runaway cursor stops here
            params: list[tuple[str, str]] = [("endpoint_id", i) for i in ids]
            params.append(("expand", "openapi-3.0"))
            if cursor:
                params.append(("cursor", cursor))
            response = await send(
                ctx.http, "GET", f"{_platform(ctx)}/models", params=params, headers=_headers(ctx)
            )
            data = self._check(response)
            models = data.get("models") if isinstance(data, dict) else None
            if not isinstance(models, list):
                raise ProtocolError(
                    f"{self.vendor.name} listed models without a 'models' list: {data!r:.200}",
                    vendor=VENDOR_ID,
                )
            for entry in models:
                if isinstance(entry, dict) and isinstance(entry.get("endpoint_id"), str):
                    found[entry["endpoint_id"]] = entry
            cursor = data.get("next_cursor")
            if not data.get("has_more") or not cursor:
                break
        return found

    # ---------------------------------------------------------------- errors

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        return json_body(response, VENDOR_ID)

    def _error(self, response: httpx.Response) -> VendorError:
        status = response.status_code
        code, message = _error_parts(response)
        text = f"{self.vendor.name}: {message}"
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code or str(status),
            "status": status,
        }
        if status == 402 or (status in (401, 403) and _LOCKED.search(message)):
            return QuotaError(f"{text} Top up the fal balance at fal.ai/dashboard/billing.", **kw)
        if status in (401, 403):
            locked = "locked" in message.lower()
            return AuthError(
                text if locked else f"{text} Check the fal key (id:secret).",
                title="Account locked" if locked else None,
                **kw,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(text, retry_after=retry_after, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        if code == "content_policy_violation":
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        return Rejected(text, **kw)

    def _run_error(self, response: httpx.Response | None, status: Mapping[str, Any]) -> VendorError:
        """Why a completed run made nothing: the result's error body, else the status's."""
        if response is not None:
            code, message = _error_parts(response)
        else:
            code, message = "", ""
        code = code or str(status.get("error_type") or "")
        message = message or str(status.get("error") or "the run failed without a reason")
        text = f"{self.vendor.name}: {message}" + (f" ({code})" if code else "")
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code or None,
            "status": None if response is None else response.status_code,
        }
        if code == "content_policy_violation":
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        http = 0 if response is None else response.status_code
        if 400 <= http < 500 and http not in (408, 499) and code not in _FAILED_RUN:
            return Rejected(text, **kw)
        return GenerationFailed(text, **kw)

    def _gone(self, handle: TaskHandle, response: httpx.Response) -> GenerationFailed:
        code, message = _error_parts(response)
        return GenerationFailed(
            f"{self.vendor.name} no longer knows request {handle.task_id} ({message}); "
            "fal keeps results for an hour",
            vendor=VENDOR_ID,
            vendor_code=code or "404",
            status=404,
        )


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Key {ctx.secret('api_key')}"}


def _overridden(ctx: CallContext) -> bool:
    """Whether the base URL in force is not the catalog's (then it serves every host)."""
    try:
        default = ctx.vendor.base_url(ctx.region)
    except InvalidInput:
        return True
    return ctx.base_url.rstrip("/") != default.rstrip("/")


def _rest(ctx: CallContext) -> str:
    if _overridden(ctx):
        return ctx.base_url
    return str(ctx.vendor.extra.get("rest_base_url", "https://rest.fal.ai")).rstrip("/")


def _platform(ctx: CallContext) -> str:
    if _overridden(ctx):
        return f"{ctx.base_url}/v1"
    return str(ctx.vendor.extra.get("platform_base_url", "https://api.fal.ai/v1")).rstrip("/")


def app_path(endpoint: str) -> str:
    """``owner/alias`` of an endpoint id (with its namespace): where its requests live."""
    parts = [p for p in endpoint.split("/") if p]
    if parts and parts[0] in _NAMESPACES:
        return "/".join(parts[:3])
    return "/".join(parts[:2])


def _url(ctx: CallContext, handle: TaskHandle, key: str) -> str:
    given = handle.data.get(key)
    if isinstance(given, str) and given.startswith(ctx.base_url + "/"):
        return given
    base = f"{ctx.base_url}/{app_path(str(handle.data.get('endpoint', '')))}"
    base += f"/requests/{handle.task_id}"
    return {"status_url": base + "/status", "cancel_url": base + "/cancel"}.get(key, base)


def _chosen(request: GenerationRequest) -> Iterable[tuple[str, Any]]:
    """The request fields the user set (a default or an empty value is not a choice)."""
    values = {
        "prompt": request.prompt.strip() or None,
        "negative": request.negative.strip() or None,
        "duration_s": request.duration_s,
        "aspect": request.aspect,
        "resolution": request.resolution,
        "image": request.image,
        "last_frame": request.last_frame,
        "audio": True if request.audio else None,
        "seed": request.seed,
    }
    return [(name, value) for name, value in values.items() if value is not None]


def _is_default(name: str, value: Any, model: ModelSpec) -> bool:
    """A duration or resolution the endpoint cannot be told is fine when it is the one
    the model makes anyway."""
    if name == "duration_s":
        return bool(value == model.default_duration)
    if name == "resolution":
        return bool(value == model.default_resolution)
    return False


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(type, message) from fal's two error shapes, tolerant of anything else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    header_type = response.headers.get("x-fal-error-type", "")
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail:
        messages, code = [], ""
        for item in detail:
            if not isinstance(item, dict):
                continue
            loc = [str(p) for p in item.get("loc") or () if p != "body"]
            msg = str(item.get("msg") or "invalid")
            messages.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
            code = code or str(item.get("type") or "")
        if messages:
            return code or header_type, "; ".join(messages)
    if isinstance(detail, str) and detail:
        kind = body.get("error_type") if isinstance(body, dict) else None
        return str(kind or header_type), detail
    if isinstance(body, dict) and isinstance(body.get("status"), str):
        return body["status"], body["status"]
    snippet = response.text[:120].replace("\n", " ").strip()
    return header_type, f"HTTP {response.status_code} {response.reason_phrase} {snippet}".strip()


def _model_error(response: httpx.Response) -> bool:
    """Whether an error answer is the model's own (fal's ``detail`` list of typed errors)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("detail"), list)


def _video(data: Any) -> tuple[str, int | None] | None:
    """The video's URL and size from a result: ``video`` (object or URL) or ``videos[0]``."""
    if not isinstance(data, dict):
        return None
    video = data.get("video")
    if video is None and isinstance(data.get("videos"), list) and data["videos"]:
        video = data["videos"][0]
    if isinstance(video, str) and video:
        return video, None
    if isinstance(video, dict) and isinstance(video.get("url"), str) and video["url"]:
        size = video.get("file_size")
        return video["url"], size if isinstance(size, int) and size > 0 else None
    return None
