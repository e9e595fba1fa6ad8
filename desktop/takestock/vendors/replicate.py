"""Replicate, an aggregator: one adapter for every video model it hosts, driven by catalog data.

Replicate runs many vendors' models (Kling, Veo, Hailuo, Wan, Seedance, Luma, ...) behind
one Predictions API. Each model has its own input names, so nothing model-specific lives
here: each catalog model says where to send the create and how our request maps onto the
model's inputs. A user adds a newly hosted model with a catalog override, no code (the
catalog's ``extra.how_to_add_a_model`` has a worked example)::

    "extra": {
      "model": "owner/name",              official model: POST /v1/models/owner/name/predictions
      "version": "owner/name:<64 hex>",   or a pinned version: POST /v1/predictions {"version"}
      "inputs": {                         our request field -> the model's input name
        "prompt": "prompt",
        "image": "start_image",
        "resolution": {"name": "mode", "map": {"720p": "standard", "1080p": "pro"}},
        "resolution+aspect": {"name": "size", "map": {"720p 16:9": "1280*720"}},
        "duration_s": {"name": "seconds", "as": "str"}
      },
      "fixed": {"fps": 24},               sent as is with every create
      "options": ["camera_fixed"],        request.extra keys passed through verbatim
      "rules": [{"when": {"resolution": "1080p"}, "durations": [6], "why": "..."}]
    }

Our fields are ``prompt negative image last_frame duration_s resolution aspect audio
seed``. A field maps to a name (value sent with its natural type) or to ``{"name",
"map", "as"}``: ``map`` translates our value, ``as`` (int, float, str, bool) converts it.
The prompt is always sent (most models require one, even with an image); ``duration_s``,
``resolution`` and ``audio`` are always sent when mapped (the catalog default when the
request names none: the price and a vendor default of "audio on" depend on them); the
aspect is sent when asked for, or as the default for text to video; the rest only when
given. ``rules`` refuse combinations the model's schema cannot express.

Protocol (``Authorization: Bearer <token>``, JSON, base ``https://api.replicate.com``):

    POST /v1/models/{owner}/{name}/predictions  {"input"}              official models
    POST /v1/predictions                        {"version", "input"}   any version
    GET  /v1/predictions/{id}          -> {"status", "output", "error", "logs", "metrics"}
    POST /v1/predictions/{id}/cancel
    GET  /v1/predictions?created_after=  newest first, {"next", "results"} (find)
    POST /v1/files  (multipart "content") -> {"urls": {"get"}}   images over 256 KiB
    GET  /v1/models/{owner}/{name} -> latest_version.openapi_schema   (list_models)

We poll (no ``Prefer: wait``, no webhooks). Images up to ``data_url_max_bytes`` (256 KiB,
Replicate's advice) go inline as data URLs; larger ones are uploaded to Replicate's file
storage first. Outputs live one hour: the engine downloads at once, with the API token
on Replicate's own hosts (the API reference asks for it on output files).

States:

    Replicate    TaskState    notes
    starting     QUEUED       waiting for a worker
    processing   RUNNING      progress from a "NN%|...| a/b" log line when there is one
    succeeded    SUCCEEDED    ``output``: a URL or a list of URLs
    failed       FAILED       ``error`` text kept; an E#### code in it becomes vendor_code
    canceled     CANCELLED
    aborted      FAILED       deadline passed before it started (not charged)
    other        RUNNING      until ``completed_at`` is set, then FAILED

Errors (HTTP problem details ``{"title", "detail", "status"}``; title and detail kept):

    401, 403                                        AuthError
    402 Insufficient credit                         QuotaError
    404 to a create or model look-up,
      422 "Invalid version or not permitted"        ModelRetired
    422 Input validation failed (``detail``)        Rejected
    429 (Retry-After, else "resets in ~Ns")         RateLimited
    5xx                                             TransientError
    other 4xx                                       Rejected
    404 to a poll                                   GenerationFailed (prediction gone)
    failed prediction, safety wording
      ("flagged as sensitive", NSFW, ...)           Rejected
    failed prediction, anything else                GenerationFailed
    unreadable body                                 ProtocolError

Finding a lost create: Replicate takes no id of ours and echoes nothing we can set (no
metadata field; ``webhook`` is not returned in the prediction object, and pointing one at
a made-up host is not a safe marker), so :meth:`find` lists ``GET /v1/predictions`` from
just before the create was sent and takes the prediction of the same model whose input
equals the input we sent (image fields aside: Replicate may rewrite them), skipping
predictions this adapter already handed to a job. In the session that sent it the exact
input is in memory; after a restart :meth:`find_by_fingerprint` rebuilds it from the
job's request and searches around the time the create left (the job's ``submitted_at``),
skipping predictions other jobs hold. A job with no such time stays for the user to
settle, with a message that says where to look.

Not supported, on purpose: balance (Replicate exposes none), deployments, webhooks,
streaming, ``Cancel-After`` deadlines, reference images and other inputs our request
has no field for (set them in ``fixed`` or pass them as ``options``), the vendor's
actual charge (predictions report GPU time, not the price of official models).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    InvalidInput,
    LookupUnavailable,
    ModelRetired,
    ProtocolError,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)
from takestock.core.http import download_to, json_body, parse_retry_after, send
from takestock.core.images import prepare_image
from takestock.core.lost_creates import CreateFingerprint, nearest_task
from takestock.core.pricing import request_facts
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
from takestock.vendors.replicate_schema import (
    _Input,
    _inputs,
    _limits_from_schema,
    _num_in,
    _plain_number,
)

__all__ = ["ReplicateAdapter"]

VENDOR_ID = "replicate"
#: Replicate's advice: data URLs for files up to 256 KB, HTTP URLs above.
DATA_URL_MAX_BYTES = 256 * 1024
#: How far before our clock's send time a lost create is looked for (clock skew).
FIND_SKEW_S = 300.0
#: Pages of ``GET /v1/predictions`` read at most while looking for a lost create.
FIND_MAX_PAGES = 20

_IMAGE_FIELDS = ("image", "last_frame")
#: What a catalog ``rules`` entry may limit, and the request fact each limit reads.
_RULE_LIMITS = (
    ("durations", "duration_s"),
    ("resolutions", "resolution"),
    ("aspects", "aspect"),
    ("modes", "mode"),
)

_STATES = {
    "starting": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "succeeded": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
    "canceled": TaskState.CANCELLED,
    "aborted": TaskState.FAILED,
}
_SAFETY = re.compile(
    r"flagged as sensitive|nsfw|safety|content polic|moderation|sensitive content"
    r"|risk control|inappropriate",
    re.IGNORECASE,
)
_ERROR_CODE = re.compile(r"\b(E\d{3,4})\b")
_PROGRESS = re.compile(r"^\s*(\d+)%\s*\|.+?\|\s*(\d+)/(\d+)")
_RESETS_IN = re.compile(r"resets in ~?(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
_VERSION_ID = re.compile(r"^[0-9a-f]{64}$")
_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".m4v")

_HINTS = {
    401: "Check the API token (replicate.com/account/api-tokens).",
    402: "Add credit at replicate.com/account/billing, then wait a few minutes.",
}


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a model's creates go, and how its predictions are recognised in a list."""

    model: str | None  # "owner/name", when known
    version: str | None  # the 64-hex version id, when pinned

    @property
    def path(self) -> str:
        if self.version is None:
            return f"/v1/models/{self.model}/predictions"
        return "/v1/predictions"

    def matches(self, prediction: Mapping[str, Any]) -> bool:
        if self.model is not None and prediction.get("model") != self.model:
            return False
        return self.version is None or prediction.get("version") == self.version


@dataclass(slots=True)
class _Sent:
    """What a create carried, kept in memory so :meth:`ReplicateAdapter.find` can
    recognise the prediction if the answer is lost."""

    target: _Target
    input: dict[str, Any] | None = None  # without image fields; None: not sent yet
    sent_at: float | None = None


class ReplicateAdapter(BaseAdapter):
    """Every catalog model hosted on Replicate, through one Predictions API.

    Attributes:
        vendor: the ``replicate`` catalog entry (models with their ``extra`` maps).
    """

    vendor_id = VENDOR_ID
    can_find = True

    def __init__(self, vendor: VendorSpec) -> None:
        super().__init__(vendor)
        self._sent: dict[str, _Sent] = {}
        self._claimed: set[str] = set()

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        super().validate(request, model)
        where = f"{self.vendor.name} {model.id}"
        _target(model)
        inputs = _inputs(model)
        for field in _IMAGE_FIELDS:
            if getattr(request, field) is not None and field not in inputs:
                raise InvalidInput(field, f"the catalog entry of {where} maps no {field} input")
        combined = inputs.get("resolution+aspect")
        if combined is not None:
            key = _combined_key(request, model)
            if key not in combined.mapping:
                offered = ", ".join(combined.mapping)
                raise InvalidInput(
                    "aspect", f"{where} takes these resolution and aspect pairs: {offered}"
                )
        for name in model.extra.get("options", ()):
            value = request.extra.get(name)
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InvalidInput(name, "must be text, a number, or true/false")
        self._check_rules(request, model, where)

    def _check_rules(self, request: GenerationRequest, model: ModelSpec, where: str) -> None:
        facts = request_facts(request, model)
        for rule in model.extra.get("rules", ()):
            if not _rule_applies(rule.get("when", {}), facts):
                continue
            why = rule.get("why") or "the model's schema does not allow this combination"
            for key, fact in _RULE_LIMITS:
                allowed = rule.get(key)
                if allowed is None or facts[fact] in allowed or _num_in(facts[fact], allowed):
                    continue
                field = {"duration_s": "duration"}.get(fact, fact)
                raise InvalidInput(field, f"{why} ({where} allows {_listing(allowed)} here)")

    # --------------------------------------------------------------- protocol

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        target = _target(model)
        sent = self._sent[client_request_id] = _Sent(target)
        body_input, comparable = await self._input(ctx, request, model)
        body: dict[str, Any] = {"input": body_input}
        if target.version is not None:
            body["version"] = model.extra["version"]
        sent.input, sent.sent_at = comparable, time.time()
        response = await send(
            ctx.http, "POST", ctx.base_url + target.path, json=body, headers=_headers(ctx)
        )
        data = self._check(response, creating=True)
        prediction_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(prediction_id, str) or not prediction_id:
            raise ProtocolError(
                f"{self.vendor.name} accepted the create but sent no prediction id: {data!r:.200}",
                vendor=VENDOR_ID,
                status=response.status_code,
            )
        self._claimed.add(prediction_id)
        del self._sent[client_request_id]  # answered: nothing to find
        return TaskHandle(prediction_id, _handle_data(target))

    async def _input(
        self, ctx: CallContext, request: GenerationRequest, model: ModelSpec
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The create's ``input``, and the same without images (what ``find`` compares)."""
        inputs = _inputs(model)
        comparable = _comparable_input(request, model)
        out = dict(comparable)
        for field in _IMAGE_FIELDS:
            path = getattr(request, field)
            if path is not None:
                out[inputs[field].name] = await self._image(ctx, path, model, field)
        return out, comparable

    async def _image(self, ctx: CallContext, path: Path, model: ModelSpec, field: str) -> str:
        """A data URL for a small image, else the URL of an upload to Replicate's files."""
        prepared = prepare_image(path, model.image, field=field)
        limit = int(self.vendor.extra.get("data_url_max_bytes", DATA_URL_MAX_BYTES))
        if len(prepared.data) <= limit:
            return prepared.data_url()
        name = f"{path.stem}{prepared.suffix}"
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/v1/files",
            idempotent=True,  # an upload twice costs nothing but storage
            files={"content": (name, prepared.data, prepared.mime)},
            headers=_headers(ctx),
        )
        data = self._check(response)
        url = (data.get("urls") or {}).get("get") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise ProtocolError(
                f"{self.vendor.name} stored {name} but sent no URL for it: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        return url

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        response = await send(
            ctx.http,
            "GET",
            f"{ctx.base_url}/v1/predictions/{handle.task_id}",
            headers=_headers(ctx),
        )
        if response.status_code == 404:
            raise GenerationFailed(
                f"{self.vendor.name} no longer knows prediction {handle.task_id}: "
                f"{_problem(response)[1]}",
                vendor=VENDOR_ID,
                vendor_code="404",
                status=404,
            )
        return self._status(self._check(response))

    def _status(self, data: Any) -> TaskStatus:
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, str) or not status:
            raise ProtocolError(
                f"{self.vendor.name} answered a poll with no status: {data!r:.200}",
                vendor=VENDOR_ID,
            )
        state = _STATES.get(status)
        if state is None:  # a status newer than this module: final once it completed
            state = TaskState.FAILED if data.get("completed_at") else TaskState.RUNNING
        if state is TaskState.SUCCEEDED:
            results = _results(data.get("output"))
            if not results and data.get("data_removed"):
                error = GenerationFailed(
                    f"{self.vendor.name} has already removed the output (outputs are kept "
                    "one hour)",
                    vendor=VENDOR_ID,
                    vendor_code="data_removed",
                )
                return TaskStatus(TaskState.FAILED, status, error=error)
            return TaskStatus(state, status, progress=1.0, results=results)
        if state is TaskState.FAILED:
            return TaskStatus(state, status, error=self._task_error(status, data))
        if state is TaskState.CANCELLED:
            return TaskStatus(state, status)
        return TaskStatus(state, status, progress=_progress(data.get("logs")))

    def _task_error(self, status: str, data: Mapping[str, Any]) -> VendorError:
        if status == "aborted":
            return GenerationFailed(
                f"{self.vendor.name} aborted the prediction before it started (its deadline "
                "passed); it was not charged",
                vendor=VENDOR_ID,
                vendor_code="aborted",
            )
        text = str(data.get("error") or f"the prediction ended as {status!r} without a reason")
        found = _ERROR_CODE.search(text)
        code = found.group(1) if found else None
        message = f"{self.vendor.name}: {text}"
        if _SAFETY.search(text):
            return Rejected(
                f"{message} Change the prompt or image and try again.",
                vendor=VENDOR_ID,
                vendor_code=code,
                title="Content refused",
            )
        return GenerationFailed(message, vendor=VENDOR_ID, vendor_code=code)

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        """The prediction our lost create made, matched by model, input and time."""
        sent = self._sent.get(client_request_id)
        if sent is None:
            raise LookupUnavailable(
                f"Takestock sent this take to {self.vendor.name} but never learned whether it "
                "was accepted, and only the session that sent it can recognise the "
                f"prediction ({self.vendor.name} keeps no id of ours). Check "
                "replicate.com/predictions: if it made the video, import it; otherwise "
                "retry the job. Sending it again blindly could charge you twice.",
                vendor=VENDOR_ID,
                title="Create not confirmed",
            )
        if sent.sent_at is None or sent.input is None:
            return None  # failed before the create left: nothing to find
        best: tuple[float, str] | None = None
        async for prediction in self._listed(ctx, sent.sent_at - FIND_SKEW_S):
            prediction_id = prediction.get("id")
            if (
                not isinstance(prediction_id, str)
                or prediction_id in self._claimed
                or prediction.get("source") == "web"
                or not sent.target.matches(prediction)
                or not _same_input(prediction.get("input"), sent.input)
            ):
                continue
            gap = abs((_timestamp(prediction.get("created_at")) or 0.0) - sent.sent_at)
            if best is None or gap < best[0]:
                best = (gap, prediction_id)
        if best is None:
            return None
        self._claimed.add(best[1])
        return TaskHandle(best[1], _handle_data(sent.target))

    async def find_by_fingerprint(
        self, ctx: CallContext, fingerprint: CreateFingerprint
    ) -> TaskHandle | None:
        """The prediction a lost create made, found after a restart: the listing around
        the time the create left, matched by model (or version) and the input the
        request makes, never a prediction another job holds or one made on the web."""
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "the job names no model")
        target = _target(model)
        ours = _comparable_input(fingerprint.request, model)
        matching: list[tuple[str, float | None]] = []
        async for prediction in self._listed(ctx, fingerprint.sent_at - FIND_SKEW_S):
            prediction_id = prediction.get("id")
            if (
                isinstance(prediction_id, str)
                and prediction_id not in self._claimed
                and prediction.get("source") != "web"
                and target.matches(prediction)
                and _same_input(prediction.get("input"), ours)
            ):
                matching.append((prediction_id, _timestamp(prediction.get("created_at"))))
        found = nearest_task(matching, fingerprint, FIND_SKEW_S)
        if found is None:
            return None
        self._claimed.add(found)
        return TaskHandle(found, _handle_data(target))

    async def _listed(self, ctx: CallContext, since: float) -> AsyncIterator[dict[str, Any]]:
        """Predictions created since ``since`` (epoch seconds), newest first, page by page."""
        url: str | None = f"{ctx.base_url}/v1/predictions"
        params: dict[str, str] | None = {"created_after": _iso(since)}
        for _ in range(FIND_MAX_PAGES):
            if url is None:
                return
            response = await send(ctx.http, "GET", url, params=params, headers=_headers(ctx))
            page = self._check(response)
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise ProtocolError(
                    f"{self.vendor.name} listed predictions without results: {page!r:.200}",
                    vendor=VENDOR_ID,
                )
            for prediction in results:
                if not isinstance(prediction, dict):
                    continue
                created = _timestamp(prediction.get("created_at"))
                if created is not None and created < since:
                    return  # newest first: the rest is older still
                yield prediction
            url, params = _same_host(ctx.base_url, page.get("next")), None

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        response = await send(
            ctx.http,
            "POST",
            f"{ctx.base_url}/v1/predictions/{handle.task_id}/cancel",
            idempotent=True,  # cancelling twice is harmless
            headers=_headers(ctx),
        )
        self._check(response)
        return True

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        headers = dict(result.headers)
        if _replicate_host(result.url, ctx.base_url):
            headers.update(_headers(ctx))
        await download_to(ctx.http, result.url, dest, headers=headers)

    # ------------------------------------------------------------ model list

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        """Each catalog model refreshed from its schema; 404 marks it retired."""
        entries = []
        for model in self.vendor.models.values():
            if not model.available:
                continue  # retired in the catalog: leave it as it is
            entries.append(await self._refreshed(ctx, model))
        return entries

    async def _refreshed(self, ctx: CallContext, model: ModelSpec) -> dict[str, Any]:
        target = _target(model)
        if target.model is None:
            return {"id": model.id}  # a bare version id: nothing to look up
        if target.version is None:
            path = f"/v1/models/{target.model}"
        else:
            path = f"/v1/models/{target.model}/versions/{target.version}"
        response = await send(ctx.http, "GET", ctx.base_url + path, headers=_headers(ctx))
        if response.status_code == 404:
            title, detail = _problem(response)
            today = time.strftime("%Y-%m-%d")
            return {
                "id": model.id,
                "status": "retired",
                "status_note": f"{today}: {self.vendor.name} answered 404 ({detail or title})",
            }
        data = self._check(response)
        version = data.get("latest_version") if target.version is None else data
        schema = version.get("openapi_schema") if isinstance(version, dict) else None
        return {"id": model.id, **_limits_from_schema(model, schema)}

    # ----------------------------------------------------------------- errors

    def _check(self, response: httpx.Response, *, creating: bool = False) -> Any:
        if response.status_code >= 400:
            raise self._error(response, creating=creating)
        return json_body(response, VENDOR_ID)

    def _error(self, response: httpx.Response, *, creating: bool = False) -> VendorError:
        status = response.status_code
        title, detail = _problem(response)
        text = f"{self.vendor.name}: {title}" + (f": {detail}" if detail else "")
        hint = _HINTS.get(status)
        text = f"{text} {hint}" if hint else text
        kw: dict[str, Any] = {"vendor": VENDOR_ID, "vendor_code": title, "status": status}
        if status in (401, 403):
            return AuthError(text, **kw)
        if status == 402:
            return QuotaError(text, **kw)
        if status == 429:
            after = parse_retry_after(response.headers.get("retry-after"))
            if after is None:
                found = _RESETS_IN.search(detail)
                after = float(found.group(1)) if found else None
            return RateLimited(text, retry_after=after, **kw)
        if (status == 404 and creating) or "invalid version" in title.lower():
            return ModelRetired(text, **kw)
        if status >= 500:
            return TransientError(text, **kw)
        if _SAFETY.search(detail):
            return Rejected(
                f"{text} Change the prompt or image and try again.", title="Content refused", **kw
            )
        return Rejected(text, **kw)


# --------------------------------------------------------------------- helpers


def _headers(ctx: CallContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.secret('api_key')}"}


def _target(model: ModelSpec) -> _Target:
    """The model's create endpoint from ``extra.version`` / ``extra.model`` / its id."""
    version = model.extra.get("version")
    if version is not None:
        name, _, version_id = str(version).rpartition(":")
        if not _VERSION_ID.match(version_id) and not name and "/" in version_id:
            return _Target(version_id, None)  # "owner/name" in the version field
        if not _VERSION_ID.match(version_id):
            raise InvalidInput(
                "model",
                f"{model.id}: extra.version must be a 64-hex version id or owner/name:<id>, "
                f"not {version!r}",
            )
        return _Target(name or None, version_id)
    name = str(model.extra.get("model") or model.id)
    owner, slash, rest = name.partition("/")
    if not slash or not owner or not rest or "/" in rest:
        raise InvalidInput(
            "model", f"{model.id}: set extra.model to the Replicate model as owner/name"
        )
    return _Target(name, None)


def _handle_data(target: _Target) -> dict[str, Any]:
    return {"model": target.model, "version": target.version}


def _our_values(
    request: GenerationRequest, model: ModelSpec, inputs: Mapping[str, _Input]
) -> Iterator[tuple[str, Any]]:
    """(our field, our value) for each mapped field the create carries, images aside."""
    yield "prompt", request.prompt.strip()  # most models require it, even with an image
    if "negative" in inputs and request.negative.strip():
        yield "negative", request.negative.strip()
    if "duration_s" in inputs:
        yield "duration_s", request.duration_s or model.default_duration
    if "resolution" in inputs:
        yield "resolution", request.resolution or model.default_resolution
    if "resolution+aspect" in inputs:
        yield "resolution+aspect", _combined_key(request, model)
    if "aspect" in inputs:
        aspect = request.aspect
        if aspect is None and request.mode is Mode.TEXT and model.default_aspect:
            aspect = model.default_aspect
        if aspect is not None:
            yield "aspect", aspect
    if "audio" in inputs:
        yield "audio", bool(request.audio)
    if "seed" in inputs and request.seed is not None:
        yield "seed", request.seed


def _combined_key(request: GenerationRequest, model: ModelSpec) -> str:
    resolution = request.resolution or model.default_resolution
    return f"{resolution} {request.aspect or model.default_aspect}"


def _listing(values: Sequence[Any]) -> str:
    return ", ".join(str(_plain_number(v)) for v in values)


def _rule_applies(when: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    for key, wanted in when.items():
        have = facts.get(key)
        options = wanted if isinstance(wanted, list) else [wanted]
        if have not in options and not _num_in(have, options):
            return False
    return True


def _comparable_input(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    """The create's ``input`` without its images: what a listed prediction is matched by
    (images travel as uploads or data URLs that the listing does not echo alike)."""
    inputs = _inputs(model)
    out: dict[str, Any] = dict(model.extra.get("fixed", {}))
    for field, value in _our_values(request, model, inputs):
        out[inputs[field].name] = inputs[field].value(value)
    for name in model.extra.get("options", ()):
        if request.extra.get(name) is not None:
            out[name] = request.extra[name]
    return out


def _same_input(listed: Any, ours: Mapping[str, Any]) -> bool:
    """Every input we sent (images aside) has the same value in the listed prediction."""
    if not isinstance(listed, dict):
        return False
    return all(_canonical(listed.get(k)) == _canonical(v) for k, v in ours.items())


def _canonical(value: Any) -> str:
    return json.dumps(_plain_number(value), sort_keys=True)


def _results(output: Any) -> tuple[ResultRef, ...]:
    """The video URL(s) of ``output``: a URL, a list of URLs, or a mapping of them."""
    if isinstance(output, str):
        urls = [output]
    elif isinstance(output, list):
        urls = [u for u in output if isinstance(u, str)]
    elif isinstance(output, dict):
        urls = [u for u in output.values() if isinstance(u, str)]
    else:
        urls = []
    urls = [u for u in urls if u.startswith(("https://", "http://"))]
    videos = [u for u in urls if httpx.URL(u).path.lower().endswith(_VIDEO_SUFFIXES)]
    return tuple(ResultRef(u) for u in (videos or urls))


def _progress(logs: Any) -> float | None:
    if not isinstance(logs, str):
        return None
    for line in reversed(logs.splitlines()):
        found = _PROGRESS.match(line)
        if found:
            return min(1.0, int(found.group(1)) / 100)
    return None


def _problem(response: httpx.Response) -> tuple[str, str]:
    """(title, detail) of Replicate's problem-details body, tolerant of anything else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or f"HTTP {response.status_code}")
        detail = str(body.get("detail") or "").strip()
        return title, detail
    snippet = response.text[:120].replace("\n", " ").strip()
    return f"HTTP {response.status_code}", snippet


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Replicate writes nanoseconds at times; Python reads at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _same_host(base_url: str, next_url: Any) -> str | None:
    """The next page's URL on our base URL's host: the token goes nowhere else."""
    if not isinstance(next_url, str) or not next_url:
        return None
    url = httpx.URL(next_url)
    query = f"?{url.query.decode()}" if url.query else ""
    return f"{base_url}{url.path}{query}"


def _replicate_host(url: str, base_url: str) -> bool:
    host = httpx.URL(url).host
    base_host = httpx.URL(base_url).host
    return host == base_host or host == "replicate.delivery" or host.endswith(".replicate.delivery")
