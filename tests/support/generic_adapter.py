"""A client for the generic fake vendor (tests/fakeserver/generic.py).

It is written exactly as a real adapter is, on ``core.http`` and the error tree, so the
engine is tested through the same seams real vendors use.
"""

from __future__ import annotations

from typing import Any

import httpx

from takestock.core.catalog import VendorSpec, parse_vendor
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
from takestock.core.vendor import (
    Balance,
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter

VENDOR_ID = "genericvideo"


def generic_spec(*, concurrency: int = 8, **model_fields: Any) -> VendorSpec:
    """The catalog entry a test gives the engine for the generic fake vendor."""
    return parse_vendor(
        {
            "id": VENDOR_ID,
            "name": "Generic Video",
            "as_of": "2026-11-25",
            "source": "tests",
            "base_urls": {"default": "http://127.0.0.1:9"},
            "unit": "credits",
            "money_per_unit": 0.1,
            "currency": "USD",
            "concurrency": concurrency,
            "poll_interval_s": 0.01,
            "models": [
                {
                    "id": "gv-1",
                    "durations": [1, 2, 5],
                    "price": [{"per_second": 2}],
                    **model_fields,
                },
                {"id": "gv-old", "durations": [1, 5]},
            ],
        }
    )


_STATES = {
    "queued": TaskState.QUEUED,
    "running": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "cancelled": TaskState.CANCELLED,
}


class GenericAdapter(BaseAdapter):
    vendor_id = VENDOR_ID
    can_find = True

    def __init__(self, vendor: VendorSpec, *, can_find: bool = True) -> None:
        super().__init__(vendor)
        self.can_find = can_find

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        return {"Authorization": f"Bearer {ctx.secret()}"}

    def _error(self, response: httpx.Response) -> VendorError:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = str(error.get("code", response.status_code))
        message = f"Generic Video: {error.get('message', response.reason_phrase)}"
        kw: dict[str, Any] = {
            "vendor": VENDOR_ID,
            "vendor_code": code,
            "status": response.status_code,
        }
        status = response.status_code
        if status == 401:
            return AuthError(message, **kw)
        if status == 402:
            return QuotaError(message, **kw)
        if status == 429:
            return RateLimited(
                message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw
            )
        if code == "model_not_found":
            return ModelRetired(message, **kw)
        if status >= 500:
            return TransientError(message, **kw)
        return Rejected(message, **kw)

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        return json_body(response, VENDOR_ID)

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        if ctx.model is None:
            raise InvalidInput("model", "missing")
        body = {
            "model": ctx.model.id,
            "prompt": request.prompt,
            "duration": request.duration_s or ctx.model.default_duration,
            "client_id": client_request_id,
        }
        response = await send(
            ctx.http, "POST", f"{ctx.base_url}/v1/tasks", json=body, headers=self._headers(ctx)
        )
        data = self._check(response)
        try:
            return TaskHandle(str(data["id"]))
        except (KeyError, TypeError):
            raise ProtocolError(f"create answer without an id: {data!r}") from None

    def _status(self, data: Any) -> TaskStatus:
        try:
            state = _STATES[data["status"]]
        except (KeyError, TypeError):
            raise ProtocolError(f"unreadable task: {data!r}", vendor=VENDOR_ID) from None
        error = None
        if state is TaskState.FAILED:
            err = data.get("error") or {}
            kind = Rejected if err.get("code") == "content_policy" else GenerationFailed
            error = kind(
                f"Generic Video: {err.get('message', 'failed')}",
                vendor=VENDOR_ID,
                vendor_code=err.get("code"),
            )
        results = (ResultRef(data["video_url"]),) if data.get("video_url") else ()
        progress = data.get("progress")
        return TaskStatus(
            state,
            vendor_state=data["status"],
            progress=None if progress is None else progress / 100,
            results=results,
            error=error,
        )

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http, "GET", f"{ctx.base_url}/v1/tasks/{handle.task_id}", headers=self._headers(ctx)
        )
        return self._status(self._check(response))

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v1/tasks",
            params={"client_id": client_request_id},
            headers=self._headers(ctx),
        )
        tasks = self._check(response).get("data", [])
        return TaskHandle(str(tasks[0]["id"])) if tasks else None

    async def balance(self, ctx: CallContext) -> Balance:
        response = await send(
            ctx.http, "GET", f"{ctx.base_url}/v1/balance", headers=self._headers(ctx)
        )
        return Balance(float(self._check(response)["credits"]), "credits")

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/v1/tasks/{handle.task_id}/cancel",
            idempotent=True,
            headers=self._headers(ctx),
        )
        self._check(response)
        return True
