"""Kling (Kuaishou): text, image and first+last-frame video over Kling's two HTTP APIs.

Kling runs two API designs side by side, and the catalog says which one serves a model
(``extra.api``):

=========  ==============================================  ============================
           ``v1`` (kling-v1 … kling-v3)                     ``new`` (kling-3.0-turbo …)
=========  ==============================================  ============================
create     ``POST /v1/videos/{text2video,image2video}``     ``POST /{text-to-video,
           (``model_name`` in the body)                     image-to-video}/{model}``
poll       ``GET /v1/videos/{endpoint}/{task_id}``          ``GET /tasks?task_ids=``
find       ``GET /v1/videos/{endpoint}/{external_task_id}`` ``GET /tasks?external_task_ids=``
auth       HS256 JWT from access key + secret key, or       API key only (JWTs are refused
           ``Bearer <api key>``                             with 1002)
result     ``data.task_result.videos[0].url``               ``data[0].outputs[type=video]``
charge     ``final_unit_deduction``                         ``billing[charge_type=unit]``
=========  ==============================================  ============================

Every create carries ``external_task_id`` = our client request id, which Kling keeps
unique per account, so a create whose answer was lost is found again by that id
(``can_find``); Kling refuses a second create with the same id (1201 "already exists"),
which this adapter answers by looking the task up rather than failing. Images go inline
as plain base64 (no ``data:`` prefix), prepared to the model's limits. The balance is
``GET /account/costs`` (no ``/v1``; QPS ≤ 1, paced here): the remaining units of the
online resource packs whose name says video. Poll ``TaskHandle.data`` holds
``{"api": "v1", "endpoint": "text2video" | "image2video"}`` or ``{"api": "new"}``.

Auth: with an access key and a secret key the ``v1`` calls carry a JWT (``iss`` = access
key, ``exp`` = now + 1800 s, ``nbf`` = now − 5 s), cached per access key and re-signed
after 25 minutes or when Kling answers 1003/1004; with only an API key every call
carries ``Bearer <api key>``. ``new`` models always need the API key.

States:

=====================  ==========
Kling                  TaskState
=====================  ==========
submitted              QUEUED
processing             RUNNING
succeed / succeeded    SUCCEEDED
failed                 FAILED
=====================  ==========

Errors (HTTP status, then Kling's ``code``; the vendor's message and code are kept):

================================  ===================================================
code                              error
================================  ===================================================
1000–1004, 1100, 1103, 1304       AuthError (1003/1004 are re-signed once first)
1101, 1102                        QuotaError (arrears; resource pack used up/expired)
1302, 1303                        RateLimited (``retry_after`` from ``Retry-After``)
1300, 1301, 1200–1202             Rejected (policy, content safety, bad parameter)
1203, "discontinued" messages     ModelRetired
1201 "already exists" on create   AmbiguousCreate: the task exists; find it
1201 "not found" / 1203 on a GET  the task is unknown: ``find`` → None, ``poll`` →
                                  ProtocolError (Kling's read replica can lag)
5000–5002, HTTP 5xx               TransientError
unreadable body                   ProtocolError
failed task, risk/policy words    Rejected; any other failed task: GenerationFailed
================================  ===================================================

``request.extra`` keys Kling understands: ``cfg_scale`` (0–1, v1.x models only),
``camera_control`` (``{"type", "config"}``, only where the model's catalog entry allows
it), ``watermark`` (bool: also make a watermarked copy). Other keys are ignored.

Deliberately not supported: omni video, multi-image, video extension, lip-sync, avatar,
motion control, multi-shot, voices and elements (none fits a one-prompt, two-frame
request cleanly); motion brush masks; callbacks (we poll); cancel (Kling has none);
image inputs by URL (we send the local file inline).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt

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
from takestock.core.http import (
    DEFAULT_POLICY,
    AmbiguousCreate,
    RetryPolicy,
    json_body,
    parse_retry_after,
    send,
)
from takestock.core.images import prepare_image
from takestock.core.logs import register_secret
from takestock.core.pricing import estimate_from_catalog
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    Balance,
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

__all__ = ["KlingAdapter"]

VENDOR_ID = "kling"
TOKEN_TTL_S = 1800
TOKEN_RENEW_S = 25 * 60
NBF_SKEW_S = 5
#: How far back ``balance`` asks for resource packs (standard packs last 180 days).
BALANCE_WINDOW_S = 366 * 24 * 3600
#: Answers "that external_task_id already exists" tolerated per client id before the
#: create is refused for good (each one sends the engine to look the task up).
MAX_DUPLICATE_ANSWERS = 3

#: A create is never re-sent once any answer came back: Kling's 429s include codes
#: that are not "try again" (1102: the resource pack is used up).
CREATE_POLICY = RetryPolicy(retry_statuses=frozenset())

_STATES = {
    "submitted": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "succeed": TaskState.SUCCEEDED,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}
_V1_ENDPOINT = {Mode.TEXT: "text2video", Mode.IMAGE: "image2video", Mode.FIRST_LAST: "image2video"}
_NEW_PRODUCT = {
    Mode.TEXT: "text-to-video",
    Mode.IMAGE: "image-to-video",
    Mode.FIRST_LAST: "image-to-video",
}
_CAMERA_TYPES = frozenset(
    {"simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"}
)
_CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
_POLICY_WORDS = re.compile(r"risk|secur|policy|sensitive|moderat|violat|inappropriate", re.I)
_AUTH_CODES = frozenset({1000, 1001, 1002, 1003, 1004, 1100, 1103, 1304})
_REJECT_CODES = frozenset({1200, 1201, 1202, 1300, 1301})
_HINTS = {
    1003: " Check this computer's clock: Kling reads our token as not yet valid.",
    1004: " Check this computer's clock: Kling reads our token as expired.",
    1101: " The account is in arrears: settle the bill in the Kling developer console.",
    1102: " Buy a video resource pack in the Kling developer console.",
    1103: " This account may not use this API or model.",
    1303: " Too many tasks are running for your resource pack; Takestock waits and retries.",
}


class _TaskNotFound(ProtocolError):
    """Kling does not know the task asked for (a lookup's "not found")."""


@dataclass(frozen=True, slots=True)
class _Auth:
    header: str
    jwt_key: str | None = None  # the access key a JWT was signed for


class _TokenCache:
    """JWTs per access key, renewed well before Kling's 30-minute expiry.

    Single-loop safe: signing has no await, so no two coroutines interleave in it.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[str, float, str]] = {}

    def token(self, access_key: str, secret_key: str) -> str:
        now = self._clock()
        fingerprint = hashlib.sha256(secret_key.encode()).hexdigest()
        cached = self._tokens.get(access_key)
        if cached is not None:
            token, issued, signed_with = cached
            if signed_with == fingerprint and 0 <= now - issued < TOKEN_RENEW_S:
                return token
        issued_at = int(now)
        claims = {"iss": access_key, "exp": issued_at + TOKEN_TTL_S, "nbf": issued_at - NBF_SKEW_S}
        with warnings.catch_warnings():
            # Kling issues the secret key: its length is not ours to choose or to warn about.
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            token = jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})
        register_secret(token)  # Kling may quote it back in an error: scrub it everywhere
        self._tokens[access_key] = (token, now, fingerprint)
        return token

    def forget(self, access_key: str) -> None:
        self._tokens.pop(access_key, None)


class KlingAdapter(BaseAdapter):
    """Kling's v1 and new video APIs; see the module docstring.

    Attributes:
        vendor: Kling's catalog entry.
        can_find: True: Kling looks tasks up by the ``external_task_id`` we send.
    """

    vendor_id = VENDOR_ID
    can_find = True
    #: Kling asks for at most one ``/account/costs`` call per second.
    balance_interval_s = 1.0

    def __init__(
        self,
        vendor: VendorSpec,
        *,
        clock: Callable[[], float] = time.time,
        read_policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        super().__init__(vendor)
        self._clock = clock
        self._read_policy = read_policy
        self._tokens = _TokenCache(clock)
        self._duplicates: dict[str, int] = {}
        self._balance_lock = asyncio.Lock()
        self._last_balance: float | None = None

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)
        settled = self._settle(request, model)
        where = f"Kling {model.id}"
        if request.mode is not Mode.TEXT and request.aspect is not None:
            raise InvalidInput(
                "aspect", f"{where} takes the aspect ratio from the image in image to video"
            )
        if request.audio is False and model.extra.get("audio_always"):
            raise InvalidInput("audio", f"{where} always makes native audio; it cannot be off")
        extra = request.extra
        if "cfg_scale" in extra:
            _check_cfg_scale(extra["cfg_scale"], model, where)
        if "camera_control" in extra:
            _check_camera(extra["camera_control"], settled, model, where)
        if "watermark" in extra and not isinstance(extra["watermark"], bool):
            raise InvalidInput("watermark", "must be true or false")

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        return estimate_from_catalog(self._settle(request, model), model, self.vendor)

    def _settle(self, request: GenerationRequest, model: ModelSpec) -> GenerationRequest:
        """The request with Kling's defaults and resolution rules applied.

        Some combinations exist only at some resolutions (first+last frame or sound at
        1080p on several models); an unset resolution takes the one that works, a set
        one that does not work is refused.
        """
        where = f"Kling {model.id}"
        allowed = list(model.resolutions)
        reasons = []
        if request.mode is Mode.FIRST_LAST and "first_last_resolutions" in model.extra:
            allowed = [r for r in allowed if r in model.extra["first_last_resolutions"]]
            reasons.append("first and last frame")
        if request.audio and "audio_resolutions" in model.extra:
            allowed = [r for r in allowed if r in model.extra["audio_resolutions"]]
            reasons.append("audio")
        no_audio_with_tail = model.extra.get("first_last_audio") is False
        if request.audio and request.mode is Mode.FIRST_LAST and no_audio_with_tail:
            raise InvalidInput("audio", f"{where} makes no audio with a last frame")
        resolution = request.resolution
        if resolution is None:
            resolution = model.default_resolution if model.default_resolution in allowed else None
            resolution = resolution or (allowed[0] if allowed else None)
        if resolution is None or resolution not in allowed:
            field = "resolution" if request.resolution is not None else "mode"
            raise InvalidInput(
                field,
                f"{where} does {' and '.join(reasons)} only at {', '.join(allowed) or 'no'} "
                "resolution",
            )
        return replace(
            request,
            resolution=resolution,
            duration_s=request.duration_s or model.default_duration,
            aspect=request.aspect or model.default_aspect,
        )

    # ------------------------------------------------------------------ calls

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = _model(ctx)
        settled = self._settle(request, model)
        if _api(model) == "new":
            product = _NEW_PRODUCT[settled.mode]
            path = f"/{product}/{model.id}"
            body = _new_body(settled, model, client_request_id)
            data: dict[str, Any] = {"api": "new"}
        else:
            endpoint = _V1_ENDPOINT[settled.mode]
            path = f"/v1/videos/{endpoint}"
            body = _v1_body(settled, model, client_request_id)
            data = {"api": "v1", "endpoint": endpoint}
        try:
            envelope = await self._call(ctx, "POST", path, api=data["api"], json=body, create=True)
        except Rejected as exc:
            duplicate = self._duplicate(exc, client_request_id)
            if duplicate is None:
                raise
            raise duplicate from exc
        task = _data(envelope)
        task_id = task.get("task_id") if data["api"] == "v1" else task.get("id")
        if not task_id:
            raise ProtocolError(
                f"Kling accepted the create but sent no task id: {envelope!r:.200}",
                vendor=VENDOR_ID,
            )
        self._duplicates.pop(client_request_id, None)
        return TaskHandle(str(task_id), data)

    def _duplicate(self, exc: Rejected, client_request_id: str) -> VendorError | None:
        """A create refused because our id already exists means an earlier one arrived."""
        if "already exist" not in exc.message.lower():
            return None
        seen = self._duplicates.get(client_request_id, 0) + 1
        self._duplicates[client_request_id] = seen
        if seen > MAX_DUPLICATE_ANSWERS:
            return Rejected(
                f"{exc.message}. Kling has a task with Takestock's id {client_request_id} but "
                "does not show it; look for it in your Kling history before retrying.",
                vendor=VENDOR_ID,
                vendor_code=exc.vendor_code,
                status=exc.status,
            )
        return AmbiguousCreate(
            f"{exc.message}: an earlier create of this take reached Kling; looking it up",
            vendor=VENDOR_ID,
            vendor_code=exc.vendor_code,
            status=exc.status,
        )

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        if handle.data.get("api") == "new":
            tasks = await self._new_tasks(ctx, "task_ids", handle.task_id)
            task = next((t for t in tasks if str(t.get("id")) == handle.task_id), None)
            if task is None:
                raise _TaskNotFound(
                    f"Kling does not show task {handle.task_id} (yet)", vendor=VENDOR_ID
                )
            return _new_status(task)
        endpoint = handle.data.get("endpoint", "text2video")
        envelope = await self._call(
            ctx, "GET", f"/v1/videos/{endpoint}/{handle.task_id}", api="v1", lookup=True
        )
        return _v1_status(_data(envelope))

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        model = _model(ctx)
        if _api(model) == "new":
            tasks = await self._new_tasks(ctx, "external_task_ids", client_request_id)
            for task in tasks:
                if task.get("external_id") in (None, client_request_id) and task.get("id"):
                    return TaskHandle(str(task["id"]), {"api": "new"})
            return None
        endpoints = dict.fromkeys(
            _V1_ENDPOINT[Mode(m)] for m in model.modes if m in Mode._value2member_map_
        )
        for endpoint in endpoints:
            try:
                envelope = await self._call(
                    ctx, "GET", f"/v1/videos/{endpoint}/{client_request_id}", api="v1", lookup=True
                )
            except _TaskNotFound:
                continue
            task_id = _data(envelope).get("task_id")
            if task_id:
                return TaskHandle(str(task_id), {"api": "v1", "endpoint": endpoint})
        return None

    async def balance(self, ctx: CallContext) -> Balance:
        async with self._balance_lock:
            if self._last_balance is not None:
                wait = self._last_balance + self.balance_interval_s - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            now_ms = int(self._clock() * 1000)
            params = {"start_time": now_ms - BALANCE_WINDOW_S * 1000, "end_time": now_ms}
            try:
                envelope = await self._call(ctx, "GET", "/account/costs", api="v1", params=params)
            finally:
                self._last_balance = time.monotonic()
        return _balance(_data(envelope), self.vendor.unit)

    # ------------------------------------------------------------------ HTTP

    async def _new_tasks(self, ctx: CallContext, key: str, value: str) -> list[dict[str, Any]]:
        envelope = await self._call(ctx, "GET", "/tasks", api="new", params={key: value})
        tasks = envelope.get("data")
        if not isinstance(tasks, list):
            raise ProtocolError(
                f"Kling's task list is not a list: {envelope!r:.200}", vendor=VENDOR_ID
            )
        return [t for t in tasks if isinstance(t, dict)]

    def _auth(self, ctx: CallContext, api: str) -> _Auth:
        access, secret = ctx.secrets.get("access_key"), ctx.secrets.get("secret_key")
        api_key = ctx.secrets.get("api_key")
        if api == "new":
            if not api_key:
                raise AuthError(
                    f"Kling serves {_model_name(ctx)} only on its new API, which takes an API "
                    "key (an access key and secret key are refused there). Create one at "
                    f"kling.ai/dev/api-key and add it with `takestock keys set {VENDOR_ID} "
                    "--field api_key`.",
                    vendor=VENDOR_ID,
                )
            return _Auth(f"Bearer {api_key}")
        if access and secret:
            return _Auth(f"Bearer {self._tokens.token(access, secret)}", jwt_key=access)
        if api_key:
            return _Auth(f"Bearer {api_key}")
        ctx.secret("access_key")  # raises AuthError naming what is missing
        ctx.secret("secret_key")
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(
        self,
        ctx: CallContext,
        method: str,
        path: str,
        *,
        api: str,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        create: bool = False,
        lookup: bool = False,
    ) -> dict[str, Any]:
        """One Kling call; the envelope on ``code == 0``, else the mapped error.

        A JWT refused as expired or not yet valid (1003/1004) is re-signed and the call
        sent once more: Kling refused it before doing anything, so even a create is safe.
        """
        for attempt in (1, 2):
            auth = self._auth(ctx, api)
            response = await send(
                ctx.http,
                method,
                f"{ctx.base_url}{path}",
                idempotent=not create,
                policy=CREATE_POLICY if create else self._read_policy,
                headers={"Authorization": auth.header, "Content-Type": "application/json"},
                json=json,
                params=params,
            )
            envelope = _envelope(response)
            code = envelope.get("code")
            if response.is_success and code == 0:
                return envelope
            if attempt == 1 and auth.jwt_key and code in (1003, 1004):
                self._tokens.forget(auth.jwt_key)
                continue
            raise _error(response, envelope, lookup=lookup)
        raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------- bodies


def _model(ctx: CallContext) -> ModelSpec:
    if ctx.model is None:
        raise InvalidInput("model", "a Kling call needs the job's model")
    return ctx.model


def _model_name(ctx: CallContext) -> str:
    return ctx.model.id if ctx.model is not None else "this model"


def _api(model: ModelSpec) -> str:
    return "new" if model.extra.get("api") == "new" else "v1"


def _image(path: Any, model: ModelSpec, field: str) -> str:
    """The image as plain base64: Kling refuses a ``data:`` prefix."""
    return prepare_image(path, model.image, field=field).base64()


def _v1_body(request: GenerationRequest, model: ModelSpec, client_id: str) -> dict[str, Any]:
    assert request.resolution is not None
    assert request.duration_s is not None
    body: dict[str, Any] = {
        "model_name": model.id,
        "mode": model.extra.get("mode_map", {}).get(request.resolution, "std"),
        "duration": f"{request.duration_s:g}",
        "external_task_id": client_id,
    }
    prompt = request.prompt.strip()
    if prompt or request.mode is Mode.TEXT:
        body["prompt"] = prompt
    if request.negative.strip():
        body["negative_prompt"] = request.negative.strip()
    if request.mode is Mode.TEXT:
        body["aspect_ratio"] = request.aspect
    else:
        body["image"] = _image(request.image, model, "image")
        if request.last_frame is not None:
            body["image_tail"] = _image(request.last_frame, model, "last_frame")
    if model.audio:
        body["sound"] = "on" if request.audio else "off"
    extra = request.extra
    if "cfg_scale" in extra:
        body["cfg_scale"] = float(extra["cfg_scale"])
    if "camera_control" in extra:
        body["camera_control"] = dict(extra["camera_control"])
    if "watermark" in extra:
        body["watermark_info"] = {"enabled": bool(extra["watermark"])}
    return body


def _new_body(request: GenerationRequest, model: ModelSpec, client_id: str) -> dict[str, Any]:
    assert request.duration_s is not None
    settings: dict[str, Any] = {
        "resolution": request.resolution,
        "duration": int(request.duration_s),
    }
    if model.audio and not model.extra.get("audio_always"):
        settings["audio"] = "native" if request.audio else "off"
    options: dict[str, Any] = {"external_task_id": client_id}
    if "watermark" in request.extra:
        options["watermark_info"] = {"enabled": bool(request.extra["watermark"])}
    prompt = request.prompt.strip()
    if request.mode is Mode.TEXT:
        settings["aspect_ratio"] = request.aspect
        return {"prompt": prompt, "settings": settings, "options": options}
    contents: list[dict[str, Any]] = []
    if prompt:
        contents.append({"type": "prompt", "text": prompt})
    contents.append({"type": "first_frame", "url": _image(request.image, model, "image")})
    if request.last_frame is not None:
        contents.append(
            {"type": "last_frame", "url": _image(request.last_frame, model, "last_frame")}
        )
    return {"contents": contents, "settings": settings, "options": options}


def _check_cfg_scale(value: Any, model: ModelSpec, where: str) -> None:
    if not model.extra.get("cfg_scale"):
        raise InvalidInput("cfg_scale", f"{where} takes no cfg_scale (only Kling 1.x models do)")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput("cfg_scale", f"must be a number from 0 to 1, not {value!r}")


def _check_camera(value: Any, request: GenerationRequest, model: ModelSpec, where: str) -> None:
    allowed = model.extra.get("camera_control")
    if not allowed:
        raise InvalidInput("camera_control", f"{where} takes no camera control")
    if request.mode is Mode.FIRST_LAST:
        raise InvalidInput("camera_control", "Kling takes a camera move or a last frame, not both")
    if (
        request.mode.value not in allowed["modes"]
        or request.resolution not in allowed["resolutions"]
        or request.duration_s not in allowed["durations"]
    ):
        durations = ", ".join(f"{d:g} s" for d in allowed["durations"])
        raise InvalidInput(
            "camera_control",
            f"{where} moves the camera only in {', '.join(allowed['modes'])} mode at "
            f"{', '.join(allowed['resolutions'])}, {durations}",
        )
    if not isinstance(value, Mapping) or value.get("type") not in _CAMERA_TYPES:
        raise InvalidInput(
            "camera_control", f"type must be one of {', '.join(sorted(_CAMERA_TYPES))}"
        )
    config = value.get("config")
    if value["type"] != "simple":
        if config is not None:
            raise InvalidInput("camera_control", "config goes only with type simple")
        return
    if not isinstance(config, Mapping) or set(config) - set(_CAMERA_AXES):
        raise InvalidInput("camera_control", f"config takes {', '.join(_CAMERA_AXES)}")
    moves = [axis for axis in _CAMERA_AXES if config.get(axis)]
    if len(moves) != 1:
        raise InvalidInput("camera_control", "config needs exactly one non-zero value")
    amount = config[moves[0]]
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not -10 <= amount <= 10:
        raise InvalidInput("camera_control", f"{moves[0]} must be from -10 to 10")


# --------------------------------------------------------------------- answers


def _envelope(response: httpx.Response) -> dict[str, Any]:
    """Kling's JSON envelope; a body that is not JSON is mapped by its HTTP status."""
    try:
        body = response.json()
    except ValueError:
        if response.is_success:
            json_body(response, VENDOR_ID)  # raises ProtocolError quoting the body
        # An error page from a proxy or gateway: its HTTP status says enough.
        snippet = response.text[:80].replace("\n", " ")
        return {"message": f"HTTP {response.status_code} with a body that is not JSON: {snippet!r}"}
    if not isinstance(body, dict):
        raise ProtocolError(f"Kling answered with {body!r:.120}", vendor=VENDOR_ID)
    return body


def _data(envelope: Mapping[str, Any]) -> dict[str, Any]:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(
            f"Kling's answer has no data object: {envelope!r:.200}", vendor=VENDOR_ID
        )
    return data


def _error(
    response: httpx.Response, envelope: Mapping[str, Any], *, lookup: bool = False
) -> VendorError:
    """Kling's code (and HTTP status) as an error from ``core.errors``."""
    status = response.status_code
    raw_code = envelope.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    said = str(envelope.get("message") or response.reason_phrase or "no message")
    message = f"Kling: {said} (code {code if code is not None else status})"
    message += _HINTS.get(code or 0, "")
    kw: dict[str, Any] = {
        "vendor": VENDOR_ID,
        "vendor_code": str(code if code is not None else status),
        "status": status,
    }
    lowered = said.lower()
    if lookup and (code == 1203 or status == 404 or (code == 1201 and "not found" in lowered)):
        return _TaskNotFound(message, **kw)
    if code in _AUTH_CODES or (code is None and status in (401, 403)):
        return AuthError(message, **kw)
    if code in (1101, 1102):
        return QuotaError(message, **kw)
    if code in (1302, 1303) or (code is None and status == 429):
        return RateLimited(
            message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw
        )
    if code == 1203 or "discontinued" in lowered or "no longer available" in lowered:
        return ModelRetired(message, **kw)
    if code in _REJECT_CODES:
        return Rejected(message, **kw)
    if (code is not None and 5000 <= code < 6000) or status >= 500:
        return TransientError(message, **kw)
    if status == 429:
        return RateLimited(
            message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw
        )
    if 400 <= status < 500:
        return Rejected(message, **kw)
    return ProtocolError(f"{message}: an answer Takestock does not know", **kw)


def _state(raw: Any) -> TaskState:
    try:
        return _STATES[str(raw)]
    except KeyError:
        raise ProtocolError(
            f"Kling reported an unknown task status {raw!r}", vendor=VENDOR_ID
        ) from None


def _failure(reason: str) -> VendorError:
    message = f"Kling: {reason or 'the task failed without a reason'}"
    kind = Rejected if _POLICY_WORDS.search(reason) else GenerationFailed
    return kind(message, vendor=VENDOR_ID)


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _v1_status(task: Mapping[str, Any]) -> TaskStatus:
    raw = task.get("task_status")
    state = _state(raw)
    videos = (task.get("task_result") or {}).get("videos") or []
    results = tuple(
        ResultRef(str(v["url"])) for v in videos if isinstance(v, dict) and v.get("url")
    )
    error = _failure(str(task.get("task_status_msg") or "")) if state is TaskState.FAILED else None
    return TaskStatus(
        state,
        vendor_state=str(raw),
        results=results if state is TaskState.SUCCEEDED else (),
        error=error,
        cost=_number(task.get("final_unit_deduction")),
    )


def _new_status(task: Mapping[str, Any]) -> TaskStatus:
    raw = task.get("status")
    state = _state(raw)
    outputs = task.get("outputs") or []
    results = tuple(
        ResultRef(str(o["url"]))
        for o in outputs
        if isinstance(o, dict) and o.get("type") == "video" and o.get("url")
    )
    units = [
        _number(b.get("amount"))
        for b in task.get("billing") or []
        if isinstance(b, dict) and b.get("charge_type") == "unit"
    ]
    cost = sum(u for u in units if u is not None) if units else None
    error = _failure(str(task.get("message") or "")) if state is TaskState.FAILED else None
    return TaskStatus(
        state,
        vendor_state=str(raw),
        results=results if state is TaskState.SUCCEEDED else (),
        error=error,
        cost=cost,
    )


def _balance(data: Mapping[str, Any], unit: str) -> Balance:
    inner = data.get("code", 0)
    if inner not in (0, None):
        raise ProtocolError(
            f"Kling's balance answer says {data.get('msg')!r} ({inner})", vendor=VENDOR_ID
        )
    packs = data.get("resource_pack_subscribe_infos")
    if not isinstance(packs, list):
        raise ProtocolError(
            f"Kling's balance answer has no pack list: {data!r:.200}", vendor=VENDOR_ID
        )
    total = 0.0
    listed = []
    for pack in packs:
        if not isinstance(pack, dict):
            continue
        name = str(pack.get("resource_pack_name", ""))
        remaining = _number(pack.get("remaining_quantity")) or 0.0
        video = "video" in name.lower() or "视频" in name
        if video and pack.get("status") == "online":
            total += remaining
        listed.append(
            {
                "name": name,
                "id": pack.get("resource_pack_id"),
                "status": pack.get("status"),
                "total": _number(pack.get("total_quantity")),
                "remaining": remaining,
                "video": video,
                "expires_at_ms": pack.get("invalid_time"),
            }
        )
    return Balance(
        round(total, 4),
        unit,
        {
            "packs": listed,
            "counted": "remaining units of online packs named video",
            "note": "Kling's remaining quantities can lag by up to 12 hours",
        },
    )
