"""A fake Google Veo service (Gemini API, Vertex AI, Vertex express mode, OAuth) for tests.

It speaks the predictLongRunning protocol of ``shared/vendors/veo-gemini.md`` on
127.0.0.1, checking what Google checks, and is itself checked against Google's
``google-genai`` SDK in ``tests/vendors/test_veo_sdk.py``. Serve it with
``FakeVeo(...).serve()``; every surface lives on the one server (``url``).

Gemini API (auth: header ``x-goog-api-key``; missing -> 403 PERMISSION_DENIED, wrong ->
400 INVALID_ARGUMENT with ErrorInfo reason ``API_KEY_INVALID``):

``POST /v1beta/models/{model}:predictLongRunning`` ``{"instances": [{...}], "parameters":
    {...}}`` -> ``{"name": "models/{model}/operations/{id}"}``. Checked: the model is
    served (``retired`` -> 404 "... is no longer available", unknown -> 404 NOT_FOUND);
    one instance with only ``prompt``/``image``/``lastFrame``/``referenceImages``/``video``;
    images ``{"bytesBase64Encoded", "mimeType"}`` that decode as that format (``gcsUri`` is
    refused here); ``lastFrame`` needs ``image``; at most 3 ``asset`` reference images,
    not with ``image``, 8 s and 16:9; ``video.uri`` a file this service made, 720p, 8 s;
    parameters limited to the Gemini set (``seed``, ``generateAudio`` ... -> 400 "`seed`
    isn't supported by this model"), durations/resolutions/aspects per model family,
    1080p/4k at 8 s only, ``sampleCount`` 1..4, ``personGeneration`` values.
    ``billing_disabled=True`` -> 403 PERMISSION_DENIED reason BILLING_DISABLED.
``GET /v1beta/models/{model}/operations/{id}`` -> ``{"name", "done": false}`` for
    ``running_polls`` polls, then done: ``response.generateVideoResponse.generatedSamples
    [{"video": {"uri": "<url>/v1beta/files/{file}:download?alt=media"}}]`` (or inline
    ``encodedVideo`` with ``inline_gemini=True``). Prompt markers: "#filtered" -> zero
    samples with ``raiMediaFilteredCount``/``Reasons``; "#empty" -> zero samples; "#fail"
    -> ``error`` code 13; "#unsafe" -> ``error`` code 3.
``GET /v1beta/files/{file}:download?alt=media`` (key required) -> 302 to
    ``/storage/{file}?sig=&expires=`` (valid ``url_ttl`` s, no key needed, Range
    support, 403 when expired); a deleted file -> 404 NOT_FOUND.
``GET /v1beta/models?pageSize=&pageToken=`` -> ``{"models": [...], "nextPageToken"?}``,
    ``page_size`` per page.

Vertex AI (auth: ``Authorization: Bearer <token from /token>``, else 401
UNAUTHENTICATED; the path's project must be the service account's, else 403):

``POST /{v1,v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}
    :predictLongRunning`` -> ``{"name": "projects/.../operations/{uuid}"}``; the Vertex
    parameter set adds ``seed`` (0..2^32-1), ``generateAudio``, ``storageUri`` ...;
    images may be ``gcsUri``; ``video`` is ``{"gcsUri"}``.
``POST .../models/{m}:fetchPredictOperation`` ``{"operationName"}`` -> the operation;
    done: ``response.videos[{"bytesBase64Encoded", "mimeType"}]`` (``gcsUri`` when a
    ``storageUri`` was given).
Express mode: ``/v1/publishers/google/models/{m}:predictLongRunning`` and
    ``:fetchPredictOperation`` with ``x-goog-api-key: <express_key>``.

``POST /token`` (OAuth2): ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` with
    an RS256 ``assertion`` signed by the service account's key (``iss`` its email, ``aud``
    ``https://oauth2.googleapis.com/token`` as Google wants, ``scope`` with cloud-platform,
    ``exp - iat`` <= 3600), or
    ``grant_type=refresh_token`` for ``authorized_user`` files -> ``{"access_token",
    "expires_in": token_ttl, "token_type": "Bearer"}``; else 400 ``invalid_grant``.

State for assertions: ``creates`` (accepted ``(surface, model, body)``), ``create_headers``,
``operations``, ``token_requests``, ``storage_headers`` (what reached the signed links),
``count_creates()``, ``delete_files()``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from PIL import Image, UnidentifiedImageError

from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4

__all__ = ["FakeVeo", "Operation", "ServiceAccount", "service_account"]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Google's token endpoint wants this audience whatever URL the assertion is posted to.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
REFRESH_TOKEN = "1//fake-refresh-token"
SEED_MAX = 2**32 - 1
RETIRED = frozenset(
    {"veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview"}
)
SERVED = frozenset(
    {
        "veo-3.1-generate-001",
        "veo-3.1-fast-generate-001",
        "veo-3.1-lite-generate-001",
        "veo-2.0-generate-001",
    }
)
_GEMINI_PARAMS = frozenset(
    {
        "sampleCount",
        "durationSeconds",
        "aspectRatio",
        "resolution",
        "personGeneration",
        "negativePrompt",
        "enhancePrompt",
    }
)
_VERTEX_PARAMS = _GEMINI_PARAMS | {
    "seed",
    "generateAudio",
    "fps",
    "storageUri",
    "pubsubTopic",
    "compressionQuality",
    "resizeMode",
}
_INSTANCE_KEYS = frozenset({"prompt", "image", "lastFrame", "referenceImages", "video"})
_MIME = {"image/jpeg": "JPEG", "image/png": "PNG"}
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_DEFAULT_LISTING = (
    ("gemini-3.8-flash", "Gemini 3.8 Flash", ["generateContent", "countTokens"]),
    ("veo-3.1-generate-001", "Veo 3.1", ["predictLongRunning"]),
    ("veo-3.1-fast-generate-001", "Veo 3.1 Fast", ["predictLongRunning"]),
    ("veo-3.1-generate-preview", "Veo 3.1 (preview)", ["predictLongRunning"]),
    ("veo-3.0-generate-001", "Veo 3", ["predictLongRunning"]),
    ("imagen-4.0-generate-001", "Imagen 4", ["predict"]),
    ("veo-4.0-generate-preview", "Veo 4 (preview)", ["predictLongRunning"]),
)


def _family(model: str) -> dict[str, Any]:
    """What a Veo model family takes (the vendor's limits, independent of our catalog)."""
    if model.startswith("veo-2"):
        return {
            "durations": {5, 6, 7, 8},
            "resolutions": {"720p"},
            "refs": False,
            "ext": False,
            "audio": False,
        }
    if "lite" in model:
        return {
            "durations": {4, 6, 8},
            "resolutions": {"720p", "1080p"},
            "refs": False,
            "ext": True,
            "audio": True,
        }
    return {
        "durations": {4, 6, 8},
        "resolutions": {"720p", "1080p", "4k"},
        "refs": True,
        "ext": True,
        "audio": True,
    }


# ------------------------------------------------------------------ service accounts


@dataclass(frozen=True)
class ServiceAccount:
    """A throwaway service account: the JSON text to store and the key to verify with."""

    info: dict[str, Any]
    public_key: rsa.RSAPublicKey

    @property
    def json(self) -> str:
        return json.dumps(self.info)

    @property
    def email(self) -> str:
        return str(self.info["client_email"])

    @property
    def project(self) -> str:
        return str(self.info["project_id"])


@functools.lru_cache(maxsize=1)
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account(token_uri: str, project: str = "takestock-test") -> ServiceAccount:
    """A service-account key file whose token URI is the fake's ``/token``."""
    key = _private_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": f"takestock@{project}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }
    return ServiceAccount(info, key.public_key())


# ------------------------------------------------------------------------ state


class _ApiError(Exception):
    """Raised by handlers; the middleware answers with Google's error envelope."""

    def __init__(self, status: int, name: str, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message
        self.reason = reason

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message, "status": self.name}
        if self.reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.reason,
                    "domain": "googleapis.com",
                }
            ]
        return {"error": error}


def _bad(message: str) -> _ApiError:
    return _ApiError(400, "INVALID_ARGUMENT", message)


@dataclass
class Operation:
    """One predictLongRunning operation as the fake holds it."""

    name: str
    surface: str
    model: str
    body: dict[str, Any]
    polls: int = 0
    files: list[str] = field(default_factory=list)


@dataclass
class _Signed:
    file_id: str
    expires: int


@dataclass(eq=False)
class FakeVeo:
    """The fake Google service's state and its aiohttp app; see the module docstring.

    Attributes:
        account: the service account Vertex accepts (made at ``serve()`` unless given).
        creates: accepted creates as ``(surface, model, body)``, in order.
        operations: operations by name.
        token_requests: the form bodies ``/token`` received.
        storage_headers: request headers of every signed-link download.
    """

    api_key: str = "AIza-test-key"
    express_key: str = "AQ.express-test-key"
    location: str = "us-central1"
    video: bytes | None = field(default=None, repr=False)
    running_polls: int = 2
    url_ttl: float = 3600.0
    token_ttl: int = 3600
    page_size: int = 2
    inline_gemini: bool = False
    billing_disabled: bool = False
    served: Iterable[str] = SERVED
    retired: Iterable[str] = RETIRED
    listing: Iterable[tuple[str, str, list[str]]] = _DEFAULT_LISTING
    account: ServiceAccount | None = None

    creates: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list, init=False)
    create_headers: list[dict[str, str]] = field(default_factory=list, init=False)
    operations: dict[str, Operation] = field(default_factory=dict, init=False)
    token_requests: list[dict[str, str]] = field(default_factory=list, init=False)
    storage_headers: list[dict[str, str]] = field(default_factory=list, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._served = frozenset(self.served)
        self._retired = frozenset(self.retired)
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._signed: dict[str, _Signed] = {}
        self._tokens: dict[str, float] = {}
        self.app = web.Application(middlewares=[self._errors])
        vertex = "/{ver:v1|v1beta1}/projects/{project}/locations/{location}/publishers/google"
        self.app.add_routes(
            [
                web.post("/v1beta/models/{model}:predictLongRunning", self._gemini_create),
                web.get("/v1beta/models/{model}/operations/{op}", self._gemini_poll),
                web.get("/v1beta/models", self._list_models),
                web.get("/v1beta/files/{file}:download", self._file),
                web.get("/storage/{file}", self._storage),
                web.post("/token", self._token),
                web.post(vertex + "/models/{model}:predictLongRunning", self._vertex_create),
                web.post(vertex + "/models/{model}:fetchPredictOperation", self._vertex_fetch),
                web.post(
                    "/v1/publishers/google/models/{model}:predictLongRunning", self._express_create
                ),
                web.post(
                    "/v1/publishers/google/models/{model}:fetchPredictOperation",
                    self._express_fetch,
                ),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        if self.account is None:
            self.account = service_account(f"{self.server.url}/token")
        return self.server

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("call serve() first")
        return self.server.url

    def count_creates(self, surface: str | None = None) -> int:
        with self._lock:
            return sum(1 for s, _, _ in self.creates if surface is None or s == surface)

    def delete_files(self) -> None:
        """Forget every generated file (Gemini keeps them two days)."""
        with self._lock:
            self._files.clear()

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, _, body in self.creates]

    # ---- middleware ----------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except _ApiError as exc:
            return web.json_response(exc.body(), status=exc.status)

    def _gemini_auth(self, request: web.Request, key: str | None = None) -> None:
        sent = request.headers.get("x-goog-api-key")
        if sent is None:
            raise _ApiError(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if sent != (key or self.api_key):
            raise _ApiError(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                reason="API_KEY_INVALID",
            )

    def _vertex_auth(self, request: web.Request) -> None:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        token = header.removeprefix("Bearer ")
        with self._lock:
            expires = self._tokens.get(token) if header.startswith("Bearer ") else None
        if expires is None or expires <= time.time():
            raise _ApiError(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                reason="ACCESS_TOKEN_EXPIRED" if expires else "CREDENTIALS_MISSING",
            )
        assert self.account is not None
        project = request.match_info["project"]
        if project != self.account.project:
            raise _ApiError(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/projects/{project}' (or it may not exist).",
                reason="IAM_PERMISSION_DENIED",
            )
        if request.match_info["location"] != self.location:
            raise _bad(f"Veo is not available in location {request.match_info['location']}.")

    def _billing(self) -> None:
        if self.billing_disabled:
            raise _ApiError(
                403,
                "PERMISSION_DENIED",
                "This API method requires billing to be enabled. Please enable billing on "
                "project #123456 by visiting the Cloud console, then retry.",
                reason="BILLING_DISABLED",
            )

    # ---- creates -------------------------------------------------------------------

    async def _gemini_create(self, request: web.Request) -> web.Response:
        self._gemini_auth(request)
        model = request.match_info["model"]
        return await self._create(request, "gemini", model, f"models/{model}")

    async def _vertex_create(self, request: web.Request) -> web.Response:
        self._vertex_auth(request)
        info = request.match_info
        prefix = (
            f"projects/{info['project']}/locations/{info['location']}"
            f"/publishers/google/models/{info['model']}"
        )
        return await self._create(request, "vertex", info["model"], prefix)

    async def _express_create(self, request: web.Request) -> web.Response:
        self._gemini_auth(request, self.express_key)
        model = request.match_info["model"]
        return await self._create(request, "express", model, f"publishers/google/models/{model}")

    async def _create(
        self, request: web.Request, surface: str, model: str, prefix: str
    ) -> web.Response:
        self._billing()
        if model in self._retired:
            raise _ApiError(
                404,
                "NOT_FOUND",
                f"models/{model} is no longer available to new users. Please use "
                "veo-3.1-generate-001 instead.",
            )
        if model not in self._served:
            raise _ApiError(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "predictLongRunning. Call ListModels to see the list of available models and "
                "their supported methods.",
            )
        try:
            body = await request.json()
        except ValueError:
            raise _bad("Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise _bad("Invalid JSON payload received. Expected an object.")
        self._check_body(body, surface, model)
        op_id = secrets.token_hex(6) if surface == "gemini" else str(uuid.uuid4())
        name = f"{prefix}/operations/{op_id}"
        with self._lock:
            self.operations[name] = Operation(name, surface, model, body)
            self.creates.append((surface, model, body))
            self.create_headers.append(dict(request.headers))
        return web.json_response({"name": name})

    # ---- body checks ---------------------------------------------------------------

    def _check_body(self, body: dict[str, Any], surface: str, model: str) -> None:
        instances = body.get("instances")
        if not isinstance(instances, list) or len(instances) != 1:
            raise _bad("instances must hold exactly one instance.")
        instance = instances[0]
        if not isinstance(instance, dict):
            raise _bad("instances[0] must be an object.")
        unknown = set(instance) - _INSTANCE_KEYS
        if unknown:
            raise _bad(f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}.")
        params = body.get("parameters", {})
        if not isinstance(params, dict):
            raise _bad("parameters must be an object.")
        allowed = _GEMINI_PARAMS if surface == "gemini" else _VERTEX_PARAMS
        for name in params:
            if name not in allowed:
                raise _bad(
                    f"`{name}` isn't supported by this model. Please remove it or refer to "
                    "the documentation for supported usage."
                )
        family = _family(model)
        self._check_instance(instance, surface, family)
        self._check_params(params, instance, surface, family)

    def _check_instance(
        self, instance: dict[str, Any], surface: str, family: dict[str, Any]
    ) -> None:
        prompt = instance.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise _bad("prompt must be a string.")
        if not (prompt or "").strip() and "image" not in instance and "video" not in instance:
            raise _bad("A prompt is required.")
        for key in ("image", "lastFrame"):
            if key in instance:
                self._check_image(instance[key], surface, key)
        if "lastFrame" in instance and "image" not in instance:
            raise _bad("lastFrame requires image (the first frame).")
        refs = instance.get("referenceImages")
        if refs is not None:
            if not family["refs"]:
                raise _bad("referenceImages isn't supported by this model.")
            if not isinstance(refs, list) or not 1 <= len(refs) <= 3:
                raise _bad("referenceImages takes 1 to 3 images.")
            if "image" in instance:
                raise _bad("image and referenceImages cannot both be set.")
            for i, ref in enumerate(refs):
                kind = str(ref.get("referenceType", "")).lower() if isinstance(ref, dict) else ""
                if kind not in ("asset", "style") or (surface == "gemini" and kind == "style"):
                    raise _bad(f"referenceImages[{i}].referenceType must be asset.")
                self._check_image(ref.get("image"), surface, f"referenceImages[{i}].image")
        if "video" in instance:
            if not family["ext"]:
                raise _bad("video extension isn't supported by this model.")
            self._check_video(instance["video"], surface)

    def _check_image(self, image: Any, surface: str, where: str) -> None:
        if not isinstance(image, dict):
            raise _bad(f"{where} must be an object.")
        if "gcsUri" in image:
            if surface == "gemini":
                raise _bad(f"{where}.gcsUri isn't supported by this model.")
            if not str(image["gcsUri"]).startswith("gs://"):
                raise _bad(f"{where}.gcsUri must be a gs:// URI.")
            return
        mime = image.get("mimeType")
        if mime not in _MIME:
            raise _bad(f"{where}.mimeType must be image/jpeg or image/png.")
        try:
            data = base64.b64decode(str(image.get("bytesBase64Encoded", "")), validate=True)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
        except (binascii.Error, ValueError, UnidentifiedImageError):
            raise _bad(f"{where}.bytesBase64Encoded is not a readable image.") from None
        if fmt != _MIME[mime]:
            raise _bad(f"{where} is {fmt}, not {mime}.")

    def _check_video(self, video: Any, surface: str) -> None:
        if not isinstance(video, dict):
            raise _bad("video must be an object.")
        if surface == "gemini":
            uri = str(video.get("uri", ""))
            match = re.search(r"/files/([a-z0-9]+)", uri)
            with self._lock:
                known = match is not None and match.group(1) in self._files
            if not known:
                raise _bad("video.uri must name a video generated by Veo.")
        elif not str(video.get("gcsUri", "")).startswith("gs://"):
            raise _bad("video.gcsUri must be a gs:// URI.")

    def _check_params(
        self, params: dict[str, Any], instance: dict[str, Any], surface: str, family: dict[str, Any]
    ) -> None:
        duration = params.get("durationSeconds", 8)
        if isinstance(duration, bool) or duration not in family["durations"]:
            raise _bad(f"durationSeconds must be one of {sorted(family['durations'])}.")
        resolution = params.get("resolution", "720p")
        if resolution not in family["resolutions"]:
            raise _bad(f"resolution {resolution!r} isn't supported by this model.")
        aspect = params.get("aspectRatio", "16:9")
        if aspect not in ("16:9", "9:16"):
            raise _bad("aspectRatio must be 16:9 or 9:16.")
        if resolution in ("1080p", "4k") and duration != 8:
            raise _bad(f"{resolution} requires durationSeconds 8.")
        if "referenceImages" in instance and (duration != 8 or aspect != "16:9"):
            raise _bad("referenceImages requires durationSeconds 8 and aspectRatio 16:9.")
        if "video" in instance and (duration != 8 or resolution != "720p"):
            raise _bad("video extension requires durationSeconds 8 and 720p.")
        count = params.get("sampleCount", 1)
        if isinstance(count, bool) or count not in (1, 2, 3, 4):
            raise _bad("sampleCount must be 1 to 4.")
        person = params.get("personGeneration")
        if person is not None and person not in ("allow_all", "allow_adult", "dont_allow"):
            raise _bad("personGeneration must be allow_all, allow_adult or dont_allow.")
        for flag in ("enhancePrompt", "generateAudio"):
            if flag in params and not isinstance(params[flag], bool):
                raise _bad(f"{flag} must be a boolean.")
        seed = params.get("seed")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX
        ):
            raise _bad(f"seed must be an integer from 0 to {SEED_MAX}.")
        if "generateAudio" in params and not family["audio"]:
            raise _bad("generateAudio isn't supported by this model.")

    # ---- operations ----------------------------------------------------------------

    async def _gemini_poll(self, request: web.Request) -> web.Response:
        self._gemini_auth(request)
        name = f"models/{request.match_info['model']}/operations/{request.match_info['op']}"
        return web.json_response(self._advance(request, name, "gemini"))

    async def _vertex_fetch(self, request: web.Request) -> web.Response:
        self._vertex_auth(request)
        info = request.match_info
        prefix = (
            f"projects/{info['project']}/locations/{info['location']}"
            f"/publishers/google/models/{info['model']}"
        )
        return web.json_response(
            self._advance(request, await self._named(request, prefix), "vertex")
        )

    async def _express_fetch(self, request: web.Request) -> web.Response:
        self._gemini_auth(request, self.express_key)
        prefix = f"publishers/google/models/{request.match_info['model']}"
        return web.json_response(
            self._advance(request, await self._named(request, prefix), "express")
        )

    async def _named(self, request: web.Request, prefix: str) -> str:
        try:
            body = await request.json()
        except ValueError:
            body = None
        name = body.get("operationName") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.startswith(prefix + "/operations/"):
            raise _bad("operationName must name an operation of this model.")
        return name

    def _advance(self, request: web.Request, name: str, surface: str) -> dict[str, Any]:
        with self._lock:
            op = self.operations.get(name)
            if op is None or op.surface != surface:
                raise _ApiError(404, "NOT_FOUND", f"Operation {name} not found.")
            op.polls += 1
            if op.polls <= self.running_polls:
                return {"name": name, "done": False}
            return {"name": name, "done": True, **self._outcome(request, op)}

    def _outcome(self, request: web.Request, op: Operation) -> dict[str, Any]:
        prompt = str(op.body["instances"][0].get("prompt") or "")
        if "#fail" in prompt:
            return {
                "error": {
                    "code": 13,
                    "message": "Video generation failed due to an internal error.",
                }
            }
        if "#unsafe" in prompt:
            return {
                "error": {
                    "code": 3,
                    "message": "The prompt could not be submitted. This prompt contains words "
                    "that violate Vertex AI's usage guidelines. Support codes: 29310472",
                }
            }
        if "#filtered" in prompt:
            return {"response": self._wrap(op, [], filtered=True)}
        if "#empty" in prompt:
            return {"response": self._wrap(op, [])}
        if not op.files:
            count = int(op.body.get("parameters", {}).get("sampleCount", 1))
            for _ in range(count):
                file_id = secrets.token_hex(8)
                assert self.video is not None
                self._files[file_id] = self.video
                op.files.append(file_id)
        return {"response": self._wrap(op, [self._sample(request, op, f) for f in op.files])}

    def _sample(self, request: web.Request, op: Operation, file_id: str) -> dict[str, Any]:
        video = self._files.get(file_id, b"")
        encoded = base64.b64encode(video).decode()
        if op.surface == "gemini":
            if self.inline_gemini:
                return {"video": {"encodedVideo": encoded, "encoding": "video/mp4"}}
            uri = f"{request.scheme}://{request.host}/v1beta/files/{file_id}:download?alt=media"
            return {"video": {"uri": uri}}
        storage = op.body.get("parameters", {}).get("storageUri")
        if storage:
            return {
                "gcsUri": f"{storage.rstrip('/')}/{file_id}/sample_0.mp4",
                "mimeType": "video/mp4",
            }
        return {"bytesBase64Encoded": encoded, "mimeType": "video/mp4"}

    def _wrap(self, op: Operation, samples: list[Any], *, filtered: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {"raiMediaFilteredCount": 1 if filtered else 0}
        if filtered:
            result["raiMediaFilteredReasons"] = [
                "Unable to generate videos because the prompt may involve a real person. "
                "Support codes: 58061214"
            ]
        if op.surface == "gemini":
            if samples:
                result["generatedSamples"] = samples
            return {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
                "PredictLongRunningResponse",
                "generateVideoResponse": result,
            }
        if samples:
            result["videos"] = samples
        return {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            **result,
        }

    # ---- files ---------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        self._gemini_auth(request)
        file_id = request.match_info["file"]
        if request.query.get("alt") != "media":
            raise _bad("alt=media is required to download a file.")
        with self._lock:
            if file_id not in self._files:
                raise _ApiError(404, "NOT_FOUND", f"File {file_id} not found.")
            sig = secrets.token_hex(8)
            expires = math.floor(time.time() + self.url_ttl)
            self._signed[sig] = _Signed(file_id, expires)
        location = f"/storage/{file_id}?sig={sig}&expires={expires}"
        raise web.HTTPFound(location)

    async def _storage(self, request: web.Request) -> web.Response:
        with self._lock:
            self.storage_headers.append(dict(request.headers))
            signed = self._signed.get(request.query.get("sig", ""))
            if signed is None or signed.file_id != request.match_info["file"]:
                raise _ApiError(403, "PERMISSION_DENIED", "Invalid signature.")
            if time.time() >= signed.expires:
                raise _ApiError(403, "PERMISSION_DENIED", "The signed URL has expired.")
            data = self._files.get(signed.file_id)
        if data is None:
            raise _ApiError(404, "NOT_FOUND", "No such object.")
        return _ranged(request, data)

    async def _list_models(self, request: web.Request) -> web.Response:
        self._gemini_auth(request)
        entries = [
            {
                "name": f"models/{model}",
                "version": "001",
                "displayName": label,
                "description": f"{label} from the fake service",
                "supportedGenerationMethods": methods,
            }
            for model, label, methods in self.listing
        ]
        start = int(request.query.get("pageToken") or 0)
        size = min(self.page_size, int(request.query.get("pageSize") or 50))
        page: dict[str, Any] = {"models": entries[start : start + size]}
        if start + size < len(entries):
            page["nextPageToken"] = str(start + size)
        return web.json_response(page)

    # ---- OAuth ---------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        with self._lock:
            self.token_requests.append(form)
        ok = (
            self._jwt_ok(request, form.get("assertion", ""))
            if form.get("grant_type") == JWT_GRANT
            else form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") == REFRESH_TOKEN
        )
        if not ok:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                status=400,
            )
        token = f"ya29.fake-{secrets.token_hex(6)}"
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return web.json_response(
            {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}
        )

    def _jwt_ok(self, request: web.Request, assertion: str) -> bool:
        assert self.account is not None
        try:
            head, payload, signature = assertion.split(".")
            header = json.loads(_b64url(head))
            claims = json.loads(_b64url(payload))
            self.account.public_key.verify(
                _b64url(signature),
                f"{head}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return False
        now = time.time()
        return (
            header.get("alg") == "RS256"
            and claims.get("iss") == self.account.email
            and claims.get("aud") == GOOGLE_TOKEN_AUDIENCE
            and CLOUD_SCOPE in str(claims.get("scope", "")).split()
            and claims.get("exp", 0) > now
            and claims.get("exp", 0) - claims.get("iat", 0) <= 3600
        )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _ranged(request: web.Request, data: bytes) -> web.Response:
    headers = {hdrs.ACCEPT_RANGES: "bytes"}
    match = _RANGE.fullmatch(request.headers.get(hdrs.RANGE, "").strip())
    if match is None:
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    start = int(match.group(1))
    end = min(int(match.group(2)), len(data) - 1) if match.group(2) else len(data) - 1
    if start >= len(data):
        headers[hdrs.CONTENT_RANGE] = f"bytes */{len(data)}"
        return web.Response(status=416, headers=headers)
    headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end}/{len(data)}"
    return web.Response(
        status=206, body=data[start : end + 1], content_type="video/mp4", headers=headers
    )
