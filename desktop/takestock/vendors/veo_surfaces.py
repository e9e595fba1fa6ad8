"""Veo's surfaces: which of the Gemini API, Vertex AI and Vertex AI express mode a call
goes to and at what address, how each one's errors read, and the OAuth token exchange
Vertex needs (see ``vendors/veo.py`` for the protocol of each)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from takestock.core.errors import (
    AuthError,
    ConnectFailed,
    GenerationFailed,
    ModelRetired,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)
from takestock.core.http import parse_retry_after as _retry_after_header
from takestock.core.logs import register_secret
from takestock.core.vendor import CallContext

__all__ = [
    "DEFAULT_LOCATION",
    "EXPRESS",
    "GEMINI",
    "SCOPES",
    "SURFACE_NAMES",
    "VENDOR",
    "VERTEX",
    "Surface",
    "TokenCache",
    "http_error",
    "operation_error",
    "root_url",
    "surface_for",
    "vendor_error",
]

VENDOR = "veo"
GEMINI = "gemini"
VERTEX = "vertex"
EXPRESS = "express"
DEFAULT_LOCATION = "us-central1"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


SURFACE_NAMES = {GEMINI: "the Gemini API", VERTEX: "Vertex AI", EXPRESS: "Vertex AI express mode"}


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")

# google.rpc.Code numbers in an operation's ``error``.
_RPC_NAMES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    11: "OUT_OF_RANGE",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}
_REJECTED_RPC = frozenset({3, 9, 11})
_AUTH_RPC = frozenset({7, 16})
_TRANSIENT_STATUSES = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN"})


# ---------------------------------------------------------------------- surfaces


@dataclass(frozen=True, slots=True)
class Surface:
    """Which Google front door a call goes through.

    Attributes:
        kind: ``gemini``, ``vertex`` or ``express``.
        location: the Vertex location (``us-central1``, ``global``); empty on Gemini.
    """

    kind: str
    location: str = ""

    @property
    def name(self) -> str:
        return SURFACE_NAMES[self.kind]


def surface_for(ctx: CallContext) -> Surface:
    """The surface an account's region key and secrets select (see the module doc)."""
    region = ctx.region
    if region == "vertex-express":
        return Surface(EXPRESS, "global")
    if region.startswith("vertex"):
        return Surface(VERTEX, region.removeprefix("vertex").lstrip("-") or DEFAULT_LOCATION)
    if "api_key" not in ctx.secrets and "service_account_json" in ctx.secrets:
        return Surface(VERTEX, DEFAULT_LOCATION)
    return Surface(GEMINI)


def root_url(ctx: CallContext, surface: Surface) -> str:
    """The base URL in force for ``surface`` (an account or environment override wins)."""
    url = ctx.base_url
    catalog_url = ctx.vendor.base_urls.get(ctx.region, "").rstrip("/")
    if surface.kind == VERTEX and not ctx.region.startswith("vertex") and url == catalog_url:
        # A default account that holds only a service account: the catalog's Vertex URL.
        url = ctx.vendor.base_url("vertex")
    return url.replace("{location}", surface.location).rstrip("/")


# ------------------------------------------------------------------------ errors


def vendor_error(
    status: int | None,
    message: str,
    *,
    code: str | None = None,
    reason: str | None = None,
    retry_after: float | None = None,
    stage: str = "create",
    served_elsewhere: bool = False,
) -> VendorError:
    """Google's HTTP error (status, ``status`` name, ErrorInfo ``reason``) as our error.

    ``stage`` is ``create``, ``poll`` or ``list``; ``served_elsewhere`` says that another
    surface serves the model, so a NOT_FOUND here does not mean it is gone.
    """
    label = code or reason or (str(status) if status else None)
    text = f"Veo: {message}" + (f" ({label})" if label else "")
    kw: dict[str, Any] = {"vendor": VENDOR, "vendor_code": label, "status": status}
    lowered = message.lower()
    if reason == "BILLING_DISABLED" or (
        code in ("PERMISSION_DENIED", "FAILED_PRECONDITION") and "billing" in lowered
    ):
        return QuotaError(text + ". Enable billing on the Google Cloud project.", **kw)
    if reason == "API_KEY_INVALID" or status == 401 or code == "UNAUTHENTICATED":
        return AuthError(text, **kw)
    if status == 403 or code == "PERMISSION_DENIED":
        return AuthError(text, **kw)
    if status == 429 or code == "RESOURCE_EXHAUSTED":
        return RateLimited(text, retry_after=retry_after, **kw)
    if status == 404 or code == "NOT_FOUND":
        return _not_found(text, lowered, stage, served_elsewhere, kw)
    if (status is not None and status >= 500) or code in _TRANSIENT_STATUSES:
        return TransientError(text, **kw)
    return Rejected(text, **kw)


def _not_found(
    text: str, lowered: str, stage: str, served_elsewhere: bool, kw: dict[str, Any]
) -> VendorError:
    if stage == "poll":
        return GenerationFailed(text + ". Google no longer knows this operation.", **kw)
    if "no longer available" in lowered or (stage == "create" and not served_elsewhere):
        return ModelRetired(text, **kw)
    return Rejected(text + ". This surface does not serve the model; use another account.", **kw)


def _retry_delay(details: Sequence[Any]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` ("12s", "1.5s") from an error's details."""
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _reason(details: Sequence[Any]) -> str | None:
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("ErrorInfo"):
            reason = detail.get("reason")
            return str(reason) if reason else None
    return None


def http_error(
    response: httpx.Response, *, stage: str = "create", served_elsewhere: bool = False
) -> VendorError:
    """A non-2xx answer as our error, reading Google's error envelope where there is one."""
    try:
        data = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    code = reason = None
    details: Sequence[Any] = ()
    message = ""
    if isinstance(error, dict):
        code = str(error["status"]) if error.get("status") else None
        message = str(error.get("message") or "")
        raw_details = error.get("details")
        details = raw_details if isinstance(raw_details, list) else ()
        reason = _reason(details)
    if not message:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    retry_after = _retry_after_header(response.headers.get("retry-after"))
    if retry_after is None:
        retry_after = _retry_delay(details)
    return vendor_error(
        response.status_code,
        message,
        code=code,
        reason=reason,
        retry_after=retry_after,
        stage=stage,
        served_elsewhere=served_elsewhere,
    )


def operation_error(error: Mapping[str, Any]) -> VendorError:
    """A finished operation's ``error`` (a google.rpc.Status) as our error."""
    number = error.get("code")
    code = int(number) if isinstance(number, int) else None
    name = _RPC_NAMES.get(code, str(code)) if code is not None else None
    message = str(error.get("message") or "the operation failed")
    text = f"Veo: {message}" + (f" ({name})" if name else "")
    kw: dict[str, Any] = {"vendor": VENDOR, "vendor_code": name}
    if code in _REJECTED_RPC:
        return Rejected(text, **kw)
    if code in _AUTH_RPC:
        return AuthError(text, **kw)
    return GenerationFailed(text, **kw)


# -------------------------------------------------------------------------- OAuth


class _LoopTransport:
    """google-auth's ``Request`` interface over the engine's client, from a worker thread.

    google-auth refreshes synchronously; its token request is scheduled on the engine's
    loop with ``ctx.http`` and waited for in the thread that runs the refresh.
    """

    def __init__(self, http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.http = http
        self.loop = loop

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        from google.auth import exceptions

        call = self.http.request(
            method, url, content=body, headers=dict(headers or {}), timeout=timeout or 60.0
        )
        future = asyncio.run_coroutine_threadsafe(call, self.loop)
        try:
            response = future.result((timeout or 60.0) + 5.0)
        except (httpx.TransportError, TimeoutError) as exc:
            # google-auth's classes carry no annotations.
            raise exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return _AuthResponse(response)


class _AuthResponse:
    """google-auth's ``Response`` interface over an httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.data = response.content


@dataclass
class _Account:
    """Loaded credentials for one service-account JSON, with its project."""

    credentials: Any
    project: str
    lock: threading.Lock


class TokenCache:
    """Access tokens per credentials JSON, refreshed only when google-auth says so."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._lock = threading.Lock()

    def account(self, raw: str) -> _Account:
        key = hashlib.sha256(raw.encode()).hexdigest()
        with self._lock:
            found = self._accounts.get(key)
            if found is None:
                found = self._accounts[key] = _load_account(raw)
            return found

    async def token(self, ctx: CallContext, raw: str) -> tuple[str, str]:
        """(access token, project) for the credentials JSON ``raw``."""
        account = self.account(raw)
        if not account.credentials.valid:
            transport = _LoopTransport(ctx.http, asyncio.get_running_loop())
            await asyncio.to_thread(_refresh, account, transport)
        token = str(account.credentials.token)
        register_secret(token)  # the access token signed from the key: never echoed
        return token, account.project


def _load_account(raw: str) -> _Account:
    try:
        info = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AuthError(
            f"Veo: the service account JSON cannot be read ({exc.msg} at character "
            f"{exc.pos}). Paste the whole key file.",
            vendor=VENDOR,
        ) from None
    if not isinstance(info, dict):
        raise AuthError("Veo: the service account JSON is not an object", vendor=VENDOR)
    kind = info.get("type")
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            credentials: Any = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(SCOPES)
            )
        elif kind == "authorized_user":
            from google.oauth2 import credentials as user_credentials

            credentials = user_credentials.Credentials.from_authorized_user_info(  # type: ignore[no-untyped-call]
                info, scopes=list(SCOPES)
            )
            if info.get("token_uri"):  # as for service accounts, the file's endpoint wins
                credentials = credentials.with_token_uri(info["token_uri"])
        else:
            raise AuthError(
                f"Veo: credentials of type {kind!r} are not accepted; use a service account "
                "key or an authorized_user file from `gcloud auth application-default login`",
                vendor=VENDOR,
            )
    except (ValueError, KeyError) as exc:
        raise AuthError(
            f"Veo: the service account JSON is incomplete: {exc}", vendor=VENDOR
        ) from None
    project = info.get("project_id") or info.get("quota_project_id")
    if not isinstance(project, str) or not project:
        raise AuthError(
            'Veo: the credentials name no Google Cloud project; add "project_id" to the JSON',
            vendor=VENDOR,
        )
    return _Account(credentials, project, threading.Lock())


def _refresh(account: _Account, transport: _LoopTransport) -> None:
    """Refresh in a worker thread; one refresh at a time per account."""
    from google.auth import exceptions

    with account.lock:
        if account.credentials.valid:
            return  # another job refreshed it while this one waited
        try:
            account.credentials.refresh(transport)
        except exceptions.RefreshError as exc:
            raise AuthError(
                f"Veo: Google refused the service account's token request: {exc}",
                vendor=VENDOR,
                vendor_code="invalid_grant",
            ) from None
        except exceptions.TransportError as exc:
            raise ConnectFailed(
                f"Veo: the Google token endpoint could not be reached ({exc}); nothing was sent",
                vendor=VENDOR,
            ) from None
