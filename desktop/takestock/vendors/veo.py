"""Google Veo over the predictLongRunning protocol, on the Gemini API and on Vertex AI.

Facts: ``shared/vendors/veo-gemini.md``; witness: Google's ``google-genai`` SDK (the 2.x
line, the last that still builds Gemini-API video requests), see
``tests/vendors/test_veo_sdk.py``. One wire protocol, three surfaces::

    surface  create                                                poll
    -------  ----------------------------------------------------  ----------------------------
    gemini   POST {root}/v1beta/models/{model}:predictLongRunning   GET {root}/v1beta/{operation}
    vertex   POST {root}/v1/projects/{project}/locations/{loc}/     POST {root}/v1/{model path}
                  publishers/google/models/{model}:predictLongRunning    :fetchPredictOperation
    express  POST {root}/v1/publishers/google/models/{model}         {"operationName": ...}
                  :predictLongRunning

    body  {"instances": [{"prompt", "image"?, "lastFrame"?, "referenceImages"?, "video"?}],
           "parameters": {"sampleCount": 1, "durationSeconds", "aspectRatio", "resolution"?,
                          "negativePrompt"?, "personGeneration"?, "enhancePrompt"?,
                          vertex only: "seed"?, "generateAudio"?}}
    -> {"name": "<operation>"}; poll -> {"name", "done"?, "response"?, "error"?}

Which surface a call uses follows the account's region key: ``default``/``gemini`` is the
Gemini API (header ``x-goog-api-key``) unless the account holds only a service-account
JSON, which means Vertex in ``us-central1``; ``vertex`` and ``vertex-<location>`` are
Vertex AI with an OAuth2 access token, made by ``google-auth`` from the secret
``service_account_json`` (a service-account key or an ``authorized_user`` ADC file, the
JSON text itself; its ``project_id`` or ``quota_project_id`` names the project);
``vertex-express`` is Vertex's API-key express mode. The catalog's ``vertex`` URL holds a
``{location}`` placeholder. Tokens are refreshed in a worker thread (google-auth blocks),
its HTTP calls carried back onto the engine's loop through ``ctx.http``, and cached until
google-auth's refresh margin (3 m 45 s before expiry).

Images are prepared to the model's limits and sent inline as
``{"bytesBase64Encoded", "mimeType"}`` (first frame ``image``, ``lastFrame``, and up to
three ``referenceImages`` of type ``ASSET``, spelled as the SDK sends it). Extras read
from ``request.extra``: ``reference_images`` (list of image paths), ``video_uri`` (extend
a previous Veo video: its Gemini file URI, or a ``gs://`` URI on Vertex),
``person_generation`` (``allow_all``/``allow_adult``/``dont_allow``), ``enhance_prompt``
(bool). ``sampleCount`` is always 1: one job, one take. Surface rules the catalog cannot
express are checked at submit, before anything is sent: the Gemini API takes no seed and
cannot switch Veo 3's sound off; each model lists the surfaces that serve it
(``extra.surfaces``) and the dates a surface shut it down (``extra.retired_on``).

States (a google.longrunning.Operation has no state name):

    ====================================================  ==========  ===============
    operation                                             TaskState   vendor_state
    ====================================================  ==========  ===============
    ``done`` absent or false                              RUNNING     running
    ``done`` + ``response`` with videos                   SUCCEEDED   done
    ``done`` + ``response``, no video, RAI filter count   FAILED      filtered
    ``done`` + ``response``, no video, no filter count    FAILED      empty
    ``done`` + ``error`` (code 1 CANCELLED)               CANCELLED   cancelled
    ``done`` + ``error`` (any other code)                 FAILED      failed
    ====================================================  ==========  ===============

Results: a Gemini video is ``generatedSamples[].video.uri``, fetched with the API key in a
header; Google answers with a redirect to a signed link, which is followed *without* the
key (httpx would forward it), and a signed link that expires mid-download is asked for
again once. Inline bytes (Vertex ``videos[].bytesBase64Encoded`` when no ``storageUri``
is given, Gemini ``encodedVideo``) are not copied into the job row: the result is a
``veo-inline:`` reference, and ``download`` fetches the operation again and writes the
decoded bytes.

Errors (Google's envelope ``{"error": {"code", "message", "status", "details"}}``; the
message and status name are kept):

    ===============================================  =====================================
    HTTP status / ``status`` / ErrorInfo ``reason``  error
    ===============================================  =====================================
    400 reason API_KEY_INVALID, 401 UNAUTHENTICATED  AuthError
    403 PERMISSION_DENIED                            AuthError
    reason BILLING_DISABLED, "billing" in a 403 or   QuotaError
    FAILED_PRECONDITION message
    429 RESOURCE_EXHAUSTED                           RateLimited (Retry-After, else
                                                     RetryInfo ``retryDelay``)
    404 "is no longer available"; 404 NOT_FOUND for  ModelRetired
    a model only this surface serves
    404 NOT_FOUND for a model served elsewhere too   Rejected (use the other surface)
    404 on a poll                                    GenerationFailed (operation unknown)
    400 INVALID_ARGUMENT, FAILED_PRECONDITION, other Rejected
    5xx, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED    TransientError
    OAuth ``invalid_grant`` / bad service account    AuthError
    token endpoint unreachable                       ConnectFailed (nothing was sent)
    operation error 3/9/11                           Rejected (content or parameters)
    operation error 7/16                             AuthError
    operation error, other codes                     GenerationFailed
    zero videos + ``raiMediaFilteredReasons``        Rejected, with the filter's reasons
    not JSON, no operation name                      ProtocolError
    ===============================================  =====================================

``list_models`` reads the Gemini API's ``GET /v1beta/models`` (all pages): the ``veo``
models that support ``predictLongRunning``. A Gemini listing speaks only for models that
only Gemini serves, so models Vertex also serves are passed through and never retired by
it; a listed model that the catalog retired without a dated Gemini shutdown is made
active again; a new id gets the vendor's ``extra.new_model_defaults``.

Deliberately not supported: ``find`` (operation names are chosen by Google and no list
of operations exists, so a lost create becomes ``unknown``); ``cancel`` (no documented
cancel for Veo operations; a started video is billed); ``balance`` (Cloud billing has no
balance); Vertex ``storageUri``/``pubsubTopic``/``fps``/``mask``/``compressionQuality``/
``resizeMode`` and Gemini ``webhookConfig``; application default credentials found on
the machine (the adapter reads no environment: paste the ADC JSON as the secret);
``external_account`` credentials (they can run programs); Gemini Omni Flash (another
protocol, the Interactions API).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import (
    DownloadError,
    GenerationFailed,
    InvalidInput,
    ProtocolError,
    Rejected,
    ResultExpired,
    VendorError,
)
from takestock.core.http import RetryPolicy, download_to, json_body, send
from takestock.core.images import prepare_image
from takestock.core.validation import check_image, validate_common
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
from takestock.vendors.veo_surfaces import (
    EXPRESS,
    GEMINI,
    SURFACE_NAMES,
    VENDOR,
    VERTEX,
    Surface,
    TokenCache,
    http_error,
    operation_error,
    root_url,
    surface_for,
    vendor_error,
)

__all__ = [
    "Surface",
    "VeoAdapter",
    "http_error",
    "operation_error",
    "root_url",
    "surface_for",
    "vendor_error",
]


INLINE = "veo-inline:"
PERSON_GENERATION = ("allow_all", "allow_adult", "dont_allow")
MAX_MODEL_PAGES = 20


# Creates: connection failures are still retried by ``send``; a 429 goes back to the
# engine, which re-queues the job and waits as asked.
_CREATE_POLICY = RetryPolicy(retry_statuses=frozenset())
_REDIRECTS = (301, 302, 303, 307, 308)
_GONE = (401, 403, 404, 410)


# ------------------------------------------------------------------------ adapter


class VeoAdapter(BaseAdapter):
    """Veo models on the Gemini API and Vertex AI; see the module docstring.

    Attributes:
        vendor: the vendor's catalog entry.
    """

    vendor_id = VENDOR
    can_find = False

    def __init__(self, vendor: VendorSpec) -> None:
        super().__init__(vendor)
        self._tokens = TokenCache()

    # ---------------------------------------------------------------- validate

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)
        where = f"{self.vendor.name} {model.id}"
        if request.mode is Mode.FIRST_LAST and request.image is None:
            raise InvalidInput("last_frame", "a last frame needs a first frame too")
        duration = request.duration_s or model.default_duration
        resolution = request.resolution or model.default_resolution
        eight_only = model.extra.get("eight_second_resolutions", ())
        if resolution in eight_only and duration != 8:
            raise InvalidInput(
                "duration", f"{where} makes {resolution} videos of 8 s only, not {duration:g} s"
            )
        self._check_options(request)
        self._check_references(request, model, where, duration)
        self._check_extension(request, model, where, duration, resolution)

    def _check_options(self, request: GenerationRequest) -> None:
        extra = request.extra
        person = extra.get("person_generation")
        if person is not None and person not in PERSON_GENERATION:
            raise InvalidInput(
                "person_generation", f"must be one of {', '.join(PERSON_GENERATION)}"
            )
        if "enhance_prompt" in extra and not isinstance(extra["enhance_prompt"], bool):
            raise InvalidInput("enhance_prompt", "must be true or false")

    def _check_references(
        self, request: GenerationRequest, model: ModelSpec, where: str, duration: float
    ) -> None:
        refs = request.extra.get("reference_images")
        if refs is None:
            return
        limit = int(model.extra.get("reference_images", 0))
        if not limit:
            raise InvalidInput("reference_images", f"{where} takes no reference images")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
            raise InvalidInput("reference_images", "must be a list of image paths")
        if len(refs) > limit:
            raise InvalidInput(
                "reference_images", f"{where} takes at most {limit}, not {len(refs)}"
            )
        if request.image is not None:
            raise InvalidInput("reference_images", "cannot be combined with a first or last frame")
        if duration != 8:
            raise InvalidInput("duration", f"{where} makes reference-image videos of 8 s only")
        aspects = model.extra.get("reference_aspects", model.aspects)
        aspect = request.aspect or model.default_aspect
        if aspect not in aspects:
            raise InvalidInput(
                "aspect", f"{where} makes reference-image videos in {', '.join(aspects)} only"
            )
        for path in refs:
            check_image(Path(path), model.image, field="reference_images")

    def _check_extension(
        self,
        request: GenerationRequest,
        model: ModelSpec,
        where: str,
        duration: float,
        resolution: str,
    ) -> None:
        uri = request.extra.get("video_uri")
        if uri is None:
            return
        if not model.extra.get("extension"):
            raise InvalidInput("video_uri", f"{where} cannot extend videos")
        if not isinstance(uri, str) or not re.match(r"^(https?|gs)://", uri):
            raise InvalidInput(
                "video_uri", "must be the URI of a video Veo made (https:// or gs://)"
            )
        if request.image is not None or request.extra.get("reference_images"):
            raise InvalidInput("video_uri", "an extension takes no images")
        allowed = model.extra.get("extension_resolutions", ("720p",))
        if resolution not in allowed:
            raise InvalidInput("resolution", f"{where} extends videos at {', '.join(allowed)} only")
        if duration != 8:
            raise InvalidInput("duration", f"{where} takes durationSeconds 8 for an extension")

    def _check_surface(
        self, request: GenerationRequest, model: ModelSpec, surface: Surface
    ) -> None:
        """What only the surface decides; raised before anything is sent."""
        where = f"{model.id} on {surface.name}"
        surfaces = model.extra.get("surfaces", (GEMINI, VERTEX))
        kind = VERTEX if surface.kind == EXPRESS else surface.kind
        if kind not in surfaces:
            served = " or ".join(SURFACE_NAMES[s] for s in surfaces if s in SURFACE_NAMES)
            raise InvalidInput("model", f"{where} is not offered; it is served by {served}")
        retired: Mapping[str, str] = model.extra.get("retired_on", {})
        if kind in retired:
            raise InvalidInput("model", f"{where} was shut down on {retired[kind]}")
        if surface.kind == GEMINI:
            if request.seed is not None:
                raise InvalidInput("seed", "the Gemini API takes no seed; use a Vertex AI account")
            if request.audio is False and model.audio:
                raise InvalidInput(
                    "audio",
                    "the Gemini API always adds sound to Veo 3 videos; "
                    "use a Vertex AI account to switch it off",
                )
        uri = request.extra.get("video_uri")
        if uri is not None:
            wanted = "gs://" if surface.kind != GEMINI else "http"
            if not str(uri).startswith(wanted):
                raise InvalidInput(
                    "video_uri",
                    f"{surface.name} extends videos given as {wanted}… URIs"
                    + (" (Cloud Storage)" if wanted == "gs://" else " (Gemini file URIs)"),
                )

    # ------------------------------------------------------------------ create

    def body(
        self, request: GenerationRequest, model: ModelSpec, surface: Surface
    ) -> dict[str, Any]:
        """The predictLongRunning body for ``request`` (images read and encoded here)."""
        instance: dict[str, Any] = {"prompt": request.prompt} if request.prompt.strip() else {}
        if request.image is not None:
            instance["image"] = _image(request.image, model, "image")
        if request.last_frame is not None:
            instance["lastFrame"] = _image(request.last_frame, model, "last_frame")
        refs = request.extra.get("reference_images")
        if refs:
            instance["referenceImages"] = [
                {"image": _image(Path(p), model, "reference_images"), "referenceType": "ASSET"}
                for p in refs
            ]
        uri = request.extra.get("video_uri")
        if uri:
            instance["video"] = (
                {"uri": uri} if surface.kind == GEMINI else {"gcsUri": uri, "mimeType": "video/mp4"}
            )
        return {"instances": [instance], "parameters": self._parameters(request, model, surface)}

    def _parameters(
        self, request: GenerationRequest, model: ModelSpec, surface: Surface
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "sampleCount": 1,
            "durationSeconds": int(request.duration_s or model.default_duration),
            "aspectRatio": request.aspect or model.default_aspect,
        }
        if len(model.resolutions) > 1:
            params["resolution"] = request.resolution or model.default_resolution
        if request.negative.strip():
            params["negativePrompt"] = request.negative
        extra = request.extra
        if extra.get("person_generation") is not None:
            params["personGeneration"] = extra["person_generation"]
        if "enhance_prompt" in extra:
            params["enhancePrompt"] = extra["enhance_prompt"]
        if surface.kind != GEMINI:
            if request.seed is not None:
                params["seed"] = request.seed
            if model.audio:
                params["generateAudio"] = True if request.audio is None else request.audio
        return params

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given")
        surface = surface_for(ctx)
        self._check_surface(request, model, surface)
        headers, project = await self._auth(ctx, surface)
        body = await asyncio.to_thread(self.body, request, model, surface)
        response = await send(
            ctx.http,
            "POST",
            self._create_url(ctx, surface, model.id, project),
            idempotent=False,
            policy=_CREATE_POLICY,
            json=body,
            headers=headers,
        )
        if response.status_code >= 400:
            raise http_error(response, served_elsewhere=_served_elsewhere(model, surface))
        data = _object(response)
        name = data.get("name")
        if not isinstance(name, str) or "/operations/" not in name:
            raise ProtocolError(
                f"Veo answered the create without an operation name: {str(data)[:200]}",
                vendor=VENDOR,
                status=response.status_code,
            )
        return TaskHandle(
            name, {"surface": surface.kind, "location": surface.location, "model": model.id}
        )

    def _create_url(self, ctx: CallContext, surface: Surface, model: str, project: str) -> str:
        root = root_url(ctx, surface)
        if surface.kind == GEMINI:
            return f"{root}/v1beta/models/{model}:predictLongRunning"
        if surface.kind == EXPRESS:
            return f"{root}/v1/publishers/google/models/{model}:predictLongRunning"
        return (
            f"{root}/v1/projects/{project}/locations/{surface.location}"
            f"/publishers/google/models/{model}:predictLongRunning"
        )

    async def _auth(self, ctx: CallContext, surface: Surface) -> tuple[dict[str, str], str]:
        """The auth header for ``surface`` and the project (Vertex only)."""
        if surface.kind != VERTEX:
            return {"x-goog-api-key": ctx.secret("api_key")}, ""
        token, project = await self._tokens.token(ctx, ctx.secret("service_account_json"))
        return {"Authorization": f"Bearer {token}"}, project

    # -------------------------------------------------------------------- poll

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        surface = _handle_surface(handle)
        return self.status(await self._operation(ctx, surface, handle.task_id), surface)

    async def _operation(self, ctx: CallContext, surface: Surface, name: str) -> dict[str, Any]:
        headers, _ = await self._auth(ctx, surface)
        root = root_url(ctx, surface)
        if surface.kind == GEMINI:
            response = await send(ctx.http, "GET", f"{root}/v1beta/{name}", headers=headers)
        else:
            resource = name.rpartition("/operations/")[0]
            response = await send(
                ctx.http,
                "POST",
                f"{root}/v1/{resource}:fetchPredictOperation",
                idempotent=True,  # a read, sent as POST
                json={"operationName": name},
                headers=headers,
            )
        if response.status_code >= 400:
            raise http_error(response, stage="poll")
        return _object(response)

    def status(self, data: Mapping[str, Any], surface: Surface) -> TaskStatus:
        """An operation's JSON as a :class:`TaskStatus`."""
        name = data.get("name")
        if not isinstance(name, str):
            raise ProtocolError(
                f"Veo answered a poll without an operation: {str(data)[:200]}", vendor=VENDOR
            )
        if not data.get("done"):
            return TaskStatus(TaskState.RUNNING, vendor_state="running")
        error = data.get("error")
        if isinstance(error, dict):
            if error.get("code") == 1:
                return TaskStatus(TaskState.CANCELLED, vendor_state="cancelled")
            return TaskStatus(TaskState.FAILED, vendor_state="failed", error=operation_error(error))
        response = data.get("response")
        if not isinstance(response, dict):
            raise ProtocolError(
                f"Veo finished {name} with neither response nor error", vendor=VENDOR
            )
        samples, filtered, reasons = _samples(response)
        results = tuple(
            ref for i, s in enumerate(samples) if (ref := _result(s, surface, name, i)) is not None
        )
        if results:
            return TaskStatus(
                TaskState.SUCCEEDED, vendor_state="done", progress=1.0, results=results
            )
        return _empty(filtered, reasons)

    # ---------------------------------------------------------------- download

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        if result.url.startswith(INLINE):
            await self._download_inline(ctx, result.url, dest)
            return
        root = root_url(ctx, Surface(GEMINI))
        if httpx.URL(result.url).host != httpx.URL(root).host:
            await download_to(ctx.http, result.url, dest, headers=result.headers)
            return  # not Google's file service: the key stays home
        auth = {"x-goog-api-key": ctx.secret("api_key")}
        for attempt in (1, 2):
            target = await self._signed_link(ctx, result.url, auth)
            try:
                if target is None:
                    await download_to(
                        ctx.http, result.url, dest, headers={**result.headers, **auth}
                    )
                else:
                    await download_to(ctx.http, target, dest, headers=result.headers)
                return
            except ResultExpired:
                if target is None or attempt == 2:
                    raise
                # The signed link expired mid-way: Gemini signs a fresh one; resume on it.

    async def _signed_link(self, ctx: CallContext, uri: str, auth: Mapping[str, str]) -> str | None:
        """Where Gemini redirects the file URI (asked with the key), or None if it serves it."""
        try:
            async with ctx.http.stream("GET", uri, headers=auth, follow_redirects=False) as answer:
                status = answer.status_code
                location = answer.headers.get("location")
        except httpx.TransportError as exc:
            raise DownloadError(
                f"the Gemini file service did not answer ({type(exc).__name__})"
            ) from exc
        if status in _REDIRECTS and location:
            return str(urljoin(uri, location))
        if status in _GONE:
            raise ResultExpired(
                f"the Gemini file answered HTTP {status}: it has expired or was deleted"
            )
        if status >= 400:
            raise DownloadError(f"the Gemini file service answered HTTP {status}")
        return None

    async def _download_inline(self, ctx: CallContext, url: str, dest: Path) -> None:
        kind, location, index, name = url.removeprefix(INLINE).split("/", 3)
        data = await self._operation(ctx, Surface(kind, "" if location == "-" else location), name)
        samples, _, _ = _samples(data.get("response") or {})
        try:
            encoded = _inline_bytes(samples[int(index)])
        except (IndexError, ValueError):
            encoded = None
        if encoded is None:
            raise ResultExpired("the operation no longer holds the video's bytes")
        await asyncio.to_thread(_write_base64, encoded, dest)

    # ------------------------------------------------------------------ models

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        surface = surface_for(ctx)
        if surface.kind != GEMINI:
            return None  # only the Gemini API lists its models with their methods
        headers, _ = await self._auth(ctx, surface)
        listed: list[Mapping[str, Any]] = []
        page: str | None = None
        for _ in range(MAX_MODEL_PAGES):
            params = {"pageSize": "1000", **({"pageToken": page} if page else {})}
            response = await send(
                ctx.http,
                "GET",
                f"{root_url(ctx, surface)}/v1beta/models",
                params=params,
                headers=headers,
            )
            if response.status_code >= 400:
                raise http_error(response, stage="list")
            data = _object(response)
            listed += [m for m in data.get("models") or () if isinstance(m, dict)]
            page = data.get("nextPageToken") or None
            if page is None:
                break
        return self.catalog_entries(listed)

    def catalog_entries(self, listed: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Gemini's model list as catalog entries (see the module docstring)."""
        entries: dict[str, dict[str, Any]] = {}
        for raw in listed:
            model_id = str(raw.get("name", "")).removeprefix("models/")
            methods = raw.get("supportedGenerationMethods") or ()
            if model_id.startswith("veo") and "predictLongRunning" in methods:
                entries[model_id] = self._listed_entry(model_id, raw)
        for model in self.vendor.models.values():
            if model.id not in entries and _served_elsewhere(model, Surface(GEMINI)):
                entries[model.id] = {"id": model.id, "label": model.label}
        return list(entries.values())

    def _listed_entry(self, model_id: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        known = self.vendor.models.get(model_id)
        label = str(raw.get("displayName") or (known.label if known else model_id))
        if known is None:
            defaults = dict(self.vendor.extra.get("new_model_defaults", {}))
            return {
                **defaults,
                "id": model_id,
                "label": label,
                "status": "active",
                "status_note": f"{_today()}: listed by the Gemini API; limits are Veo defaults",
                "extra": {**defaults.get("extra", {}), "surfaces": [GEMINI]},
            }
        entry: dict[str, Any] = {"id": model_id, "label": label}
        if known.status == "retired" and GEMINI not in known.extra.get("retired_on", {}):
            entry |= {"status": "active", "status_note": f"{_today()}: listed by the Gemini API"}
        return entry


# ------------------------------------------------------------------------ helpers


def _image(path: Path, model: ModelSpec, field: str) -> dict[str, str]:
    prepared = prepare_image(path, model.image, field=field)
    return {"bytesBase64Encoded": prepared.base64(), "mimeType": prepared.mime}


def _object(response: httpx.Response) -> dict[str, Any]:
    data = json_body(response, VENDOR)
    if not isinstance(data, dict):
        raise ProtocolError(
            f"Veo answered with {type(data).__name__}, not an object",
            vendor=VENDOR,
            status=response.status_code,
        )
    return data


def _served_elsewhere(model: ModelSpec, surface: Surface) -> bool:
    kind = VERTEX if surface.kind == EXPRESS else surface.kind
    return any(s != kind for s in model.extra.get("surfaces", (GEMINI, VERTEX)))


def _handle_surface(handle: TaskHandle) -> Surface:
    kind = str(handle.data.get("surface", GEMINI))
    if kind not in SURFACE_NAMES:
        raise ProtocolError(f"a Veo task handle names no known surface: {kind!r}", vendor=VENDOR)
    return Surface(kind, str(handle.data.get("location", "")))


def _samples(response: Mapping[str, Any]) -> tuple[list[Any], int, list[str]]:
    """(samples, filtered count, filter reasons) from either surface's response."""
    body = response.get("generateVideoResponse", response)  # Gemini wraps it; Vertex not
    if not isinstance(body, dict):
        return [], 0, []
    samples = body.get("generatedSamples") or body.get("videos") or []
    count = body.get("raiMediaFilteredCount") or 0
    reasons = body.get("raiMediaFilteredReasons") or []
    return (
        list(samples) if isinstance(samples, list) else [],
        int(count) if isinstance(count, int) else 0,
        [str(r) for r in reasons] if isinstance(reasons, list) else [],
    )


def _result(sample: Any, surface: Surface, name: str, index: int) -> ResultRef | None:
    if not isinstance(sample, dict):
        return None
    video = sample.get("video", sample)  # Gemini: {"video": {...}}; Vertex: the video itself
    if not isinstance(video, dict):
        return None
    uri = video.get("uri")
    if isinstance(uri, str) and uri.startswith(("http://", "https://")):
        return ResultRef(uri)
    encoded = _inline_bytes(sample)
    if encoded is None:
        return None
    location = surface.location or "-"
    return ResultRef(
        f"{INLINE}{surface.kind}/{location}/{index}/{name}", size=_decoded_size(encoded)
    )


def _inline_bytes(sample: Any) -> str | None:
    video = sample.get("video", sample) if isinstance(sample, dict) else None
    if not isinstance(video, dict):
        return None
    encoded = video.get("bytesBase64Encoded") or video.get("encodedVideo")
    return str(encoded) if isinstance(encoded, str) and encoded else None


def _decoded_size(encoded: str) -> int:
    return len(encoded) * 3 // 4 - encoded[-2:].count("=")


def _write_base64(encoded: str, dest: Path) -> None:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"Veo's inline video is not base64: {exc}", vendor=VENDOR) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def _empty(filtered: int, reasons: list[str]) -> TaskStatus:
    """A finished operation without a video: the safety filter's reasons, or nothing."""
    if filtered or reasons:
        why = "; ".join(reasons) or f"{filtered} video(s) removed"
        error: VendorError = Rejected(
            f"Veo: Google's safety filters removed the video: {why}",
            vendor=VENDOR,
            vendor_code="RAI_MEDIA_FILTERED",
        )
        return TaskStatus(TaskState.FAILED, vendor_state="filtered", error=error)
    error = GenerationFailed("Veo finished the operation without a video", vendor=VENDOR)
    return TaskStatus(TaskState.FAILED, vendor_state="empty", error=error)


def _today() -> str:
    return datetime.date.today().isoformat()
