"""A ComfyUI server of the user's: a saved workflow, filled in, queued, followed, fetched.

Protocol (facts: ``shared/vendors/comfyui.md``, cross-checked against ComfyUI's own
``server.py``, ``execution.py`` and ``main.py``; there is no official Python client)::

    POST {base}/upload/image      multipart: image=<file>, type=input, overwrite=true
                                  -> {"name", "subfolder", "type"}
    POST {base}/prompt            {"prompt": <API-format graph>, "client_id", "prompt_id"}
                                  -> {"prompt_id", "number", "node_errors"}
    GET  {base}/history/{id}      {} until the prompt has run, then {id: {"outputs",
                                  "status": {"status_str", "completed", "messages"}}}
    GET  {base}/queue             {"queue_running": [...], "queue_pending": [...]}, each
                                  item [number, prompt_id, prompt, extra_data, outputs]
    GET  {base}/view?filename=&subfolder=&type=output          the video (Range works)
    POST {base}/queue {"delete": [id]}, POST {base}/interrupt {"prompt_id"}     cancel
    WS   {base}/ws?clientId=<ours> status, execution_start, executing, progress, executed,
                                  execution_success / execution_error / _interrupted
    GET  {base}/object_info       node classes and their inputs (``list_models`` only)

``base`` is ``http://127.0.0.1:8188`` unless the account or ``TAKESTOCK_COMFYUI_BASE_URL``
says otherwise; a reverse proxy that serves only the ``/api/...`` aliases works with a
base URL ending in ``/api``. Stock ComfyUI has no authentication, so no secret is asked.

A *model* here is a workflow saved with ComfyUI's "Export (API)", named by the catalog
entry's ``extra.workflow`` (or a request's ``extra["workflow"]``): an absolute path, a
path relative to ``extra.workflows_dir`` (the model's, else the vendor's), or
``resource:comfyui/<file>`` for the samples shipped with Takestock. A user adds one with
a catalog override such as::

    {"comfyui": {"extra": {"workflows_dir": "/home/me/comfy-api"},
                 "models": {"my-wan": {"modes": ["image"], "durations": [3, 5],
                                       "extra": {"workflow": "wan_i2v_api.json", "fps": 16,
                                                 "frames_step": 4, "frames_offset": 1}}}}}

or lets ``takestock vendors refresh comfyui`` list every ``*.json`` in ``workflows_dir``.
Takestock fills only the inputs the workflow marks, in a copy of the graph: a node whose
title holds ``takestock:FIELD[=input][,FIELD...]`` (``takestock:prompt``,
``takestock:width,height,length=num_frames``), or the entry's ``extra.inputs`` map
``{"FIELD": ["node id", "input"]}``. Fields:

    =========== ================================= ===============================
    field       filled with                       default input names
    =========== ================================= ===============================
    prompt      the prompt                        text, prompt, positive_prompt
    negative    the negative prompt, when given   text, negative_prompt, prompt
    seed        the seed, else a random one       seed, noise_seed
    width       from resolution and aspect        width
    height      (``extra.sizes`` or computed)     height
    length      frames: duration x fps, rounded   length, num_frames, frames,
                to ``frames_step`` k + offset     frame_count, video_length
    fps         the entry's ``extra.fps``         fps, frame_rate
    image       the uploaded first frame          image
    last_frame  the uploaded last frame           image
    output      (nothing: marks the save node whose video is the take)
    =========== ================================= ===============================

A request that needs a field the workflow does not mark is refused before anything is
sent. Without a seed each take gets a random one (kept in the task data), or ComfyUI's
cache would hand back the same video; without an aspect, an image-to-video take uses the
catalog aspect nearest its picture's. Input images are uploaded under a name made from
their bytes, so a retry or a second take overwrites rather than piles up.

Our prompt id is the job's client request id as a UUID (``ts-<hex>`` read as hex), so a
create whose answer was lost is found again in the history or the queue; a server too
old to take our id is matched by our ``client_id`` (``takestock-<prompt id>``).

States (there is no state field; it is derived):

    ========================================= ========= ================================
    where the prompt is                       TaskState vendor_state
    ========================================= ========= ================================
    ``queue_pending``                         QUEUED    "queued" / "queued, N ahead"
    ``queue_running``                         RUNNING   "running" / "running node N"
    history: "success"                        SUCCEEDED "success in S s"
    history: "error" + execution_error        FAILED    "error"
    history: "error" + execution_interrupted  CANCELLED "interrupted"
    history without status (old servers)      SUCCEEDED when a video was saved, else
                                                        FAILED "success, no video"
    neither queued nor in the history         FAILED    "gone" (deleted, or a restart:
                                                        ComfyUI keeps history in memory)
    ========================================= ========= ================================

Progress comes from the websocket: one listener per running prompt (its own
``clientId``), started by ``poll``, keeping the latest ``progress`` value/max, and ended
by the prompt's last event, by ``poll`` seeing a final state, by a minute without polls,
or by the event loop closing. The history and the queue decide every state; when the
socket cannot be had (a proxy without upgrades, a dropped connection three times) polling
goes on without progress.

Errors:

    ============================================ =====================================
    ComfyUI answer                               error
    ============================================ =====================================
    no server at the base URL                    ConnectFailed ("is ComfyUI running?")
    401, 403 (a proxy's login; an Origin check)  AuthError
    429 (a proxy's limit)                        RateLimited, Retry-After kept
    400 ``prompt_outputs_failed_validation``,    Rejected, with each node's messages
    ``invalid_prompt``, ``prompt_no_outputs``,   (a missing model file or custom node
    ``no_prompt``; 200 with ``node_errors``      shows here); a partly valid prompt is
    (then deleted from the queue); 404, 413      deleted from the queue first
    5xx                                          TransientError
    ``execution_error`` in the history           GenerationFailed, ``exception_type``
                                                 as the code, the node named
    not JSON, or JSON of the wrong shape         ProtocolError
    ============================================ =====================================

A missing model file is Rejected, not ModelRetired: the workflow is fine, the server
lacks a file (``takestock vendors refresh comfyui`` names what is missing).

Cost: ComfyUI is free; the catalog has no prices, estimates are 0, and the run's own
time is given in the final ``vendor_state``.

Deliberately not supported: ``balance`` (nothing to pay); authentication (stock
ComfyUI has none; put the server behind a proxy on the loopback or a VPN); ComfyUI's own
paid "API nodes" (they need a comfy.org key in ``extra_data``; use those vendors here
directly); audio inputs; masks; several videos from one prompt (the first saved video is
the take).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from takestock import __version__
from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    InvalidInput,
    ProtocolError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)
from takestock.core.http import ConnectFailed, RetryPolicy, json_body, parse_retry_after, send
from takestock.core.images import prepare_image
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter

__all__ = [
    "ComfyUIAdapter",
    "Workflow",
    "client_id_for",
    "frame_count",
    "frame_size",
    "load_workflow",
    "parse_workflow",
    "prompt_id_for",
    "vendor_error",
]

log = logging.getLogger(__name__)

VENDOR = "comfyui"
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".m4v", ".avi")
# A server on the user's machine answers at once or is not running: retry briefly.
_POLICY = RetryPolicy(attempts=3, base_delay=0.25, max_delay=2.0)
# Creates: connection failures are retried by ``send``; a 429 goes back to the engine.
_CREATE_POLICY = RetryPolicy(attempts=3, base_delay=0.25, max_delay=2.0, retry_statuses=frozenset())
_NAMESPACE = uuid.UUID("5f0c1c8e-9a57-4d3e-8c55-2b1f0e7f3a11")
_MARK = re.compile(r"takestock:([A-Za-z_][\w=,.\-]*)")
_INPUTS: dict[str, tuple[str, ...]] = {
    "prompt": ("text", "prompt", "positive_prompt"),
    "negative": ("text", "negative_prompt", "prompt"),
    "seed": ("seed", "noise_seed"),
    "width": ("width",),
    "height": ("height",),
    "length": ("length", "num_frames", "frames", "frame_count", "video_length"),
    "fps": ("fps", "frame_rate"),
    "image": ("image",),
    "last_frame": ("image",),
    "output": (),
}
_ALIASES = {
    "size": ("width", "height"),
    "frames": ("length",),
    "start_image": ("image",),
    "first_frame": ("image",),
    "end_image": ("last_frame",),
    "negative_prompt": ("negative",),
}
_HISTORY_SCAN = 64  # recent history entries searched for a prompt an old server renamed


def prompt_id_for(client_request_id: str) -> str:
    """Our prompt id for a job: its ``ts-<hex>`` client request id read as a UUID."""
    try:
        return str(uuid.UUID(hex=client_request_id.removeprefix("ts-")))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, client_request_id))


def client_id_for(prompt_id: str) -> str:
    """The websocket client id a prompt is queued under (one socket per prompt)."""
    return f"takestock-{prompt_id}"


# ---------------------------------------------------------------------------- workflow


@dataclass(frozen=True, slots=True)
class Slot:
    """One input of one node that Takestock fills."""

    node: str
    input: str


@dataclass(frozen=True, slots=True)
class Workflow:
    """An API-format graph and where its marked inputs are.

    Attributes:
        name: where it came from, for messages.
        graph: node id -> ``{"class_type", "inputs", "_meta"}``.
        slots: field -> the inputs that take it (a seed may go to two samplers).
    """

    name: str
    graph: Mapping[str, Any]
    slots: Mapping[str, tuple[Slot, ...]]

    def has(self, name: str) -> bool:
        return bool(self.slots.get(name))

    def value(self, name: str) -> Any:
        """The workflow's own literal value for a field, or None."""
        for slot in self.slots.get(name, ()):
            value = self.graph[slot.node]["inputs"].get(slot.input)
            if not isinstance(value, list):
                return value
        return None

    def filled(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A deep copy of the graph with ``values`` put into their slots."""
        graph = copy.deepcopy(dict(self.graph))
        for name, value in values.items():
            for slot in self.slots.get(name, ()):
                graph[slot.node]["inputs"][slot.input] = value
        return graph


def _workflow_text(ref: str, model: ModelSpec, vendor: VendorSpec) -> tuple[str, str]:
    """(name, JSON text) of the workflow ``ref`` names."""
    if ref.startswith("resource:"):
        resource = resources.files("takestock.resources").joinpath(ref.removeprefix("resource:"))
        try:
            return ref, resource.read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                "workflow", f"the shipped workflow {ref} is missing ({exc})"
            ) from None
    path = Path(ref).expanduser()
    if not path.is_absolute():
        folder = model.extra.get("workflows_dir") or vendor.extra.get("workflows_dir")
        if not folder:
            raise InvalidInput(
                "workflow",
                f"{ref} is a relative path and no workflows_dir is set: give an absolute "
                "path, or set extra.workflows_dir in the catalog overrides",
            )
        path = Path(str(folder)).expanduser() / path
    try:
        return str(path), path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput("workflow", f"{path} cannot be read ({exc.strerror or exc})") from None


def _check_graph(name: str, data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "nodes" in data and "links" in data:
        raise InvalidInput(
            "workflow",
            f"{name} is in ComfyUI's UI format; save it with Workflow > Export (API) instead",
        )
    if not isinstance(data, dict) or not data:
        raise InvalidInput("workflow", f"{name} is not an API-format workflow (no nodes)")
    for node_id, node in data.items():
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("class_type"), str)
            or not isinstance(node.get("inputs"), dict)
        ):
            raise InvalidInput(
                "workflow",
                f"{name}: node {node_id} has no class_type and inputs; is this an "
                "API-format workflow (Workflow > Export (API))?",
            )
    return data


def _marks(title: str) -> list[tuple[str, str | None]]:
    """(field, input or None) for each ``takestock:`` mark in a node title."""
    found: list[tuple[str, str | None]] = []
    for group in _MARK.findall(title):
        for item in filter(None, group.split(",")):
            name, _, wanted = item.partition("=")
            for canonical in _ALIASES.get(name, (name,)):
                found.append((canonical, wanted or None))
    return found


def _slot_for(
    name: str, field_name: str, node_id: str, node: Mapping[str, Any], wanted: str | None
) -> Slot | None:
    if field_name not in _INPUTS:
        known = ", ".join(_INPUTS)
        raise InvalidInput(
            "workflow", f"{name}: node {node_id} marks unknown field {field_name!r}; known: {known}"
        )
    if field_name == "output":
        return Slot(node_id, "")
    if wanted:
        return Slot(node_id, wanted)
    inputs = node["inputs"]
    for candidate in _INPUTS[field_name]:
        if candidate in inputs:
            return Slot(node_id, candidate)
    raise InvalidInput(
        "workflow",
        f"{name}: node {node_id} ({node['class_type']}) is marked takestock:{field_name} but "
        f"has no input named {' or '.join(_INPUTS[field_name])}; name it: "
        f"takestock:{field_name}=<input>",
    )


def _explicit_slots(name: str, graph: Mapping[str, Any], raw: Any) -> dict[str, list[Slot]]:
    """The catalog's ``extra.inputs``: field -> [node, input] or a list of those."""
    slots: dict[str, list[Slot]] = {}
    if not raw:
        return slots
    if not isinstance(raw, Mapping):
        raise InvalidInput("workflow", "extra.inputs must map fields to [node id, input name]")
    for field_name, spec in raw.items():
        pairs = spec if spec and isinstance(spec[0], list) else [spec]
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InvalidInput(
                    "workflow", f"extra.inputs.{field_name} must be [node id, input name]"
                )
            node_id, input_name = str(pair[0]), str(pair[1])
            if node_id not in graph:
                raise InvalidInput(
                    "workflow", f"{name} has no node {node_id} (named by extra.inputs)"
                )
            if field_name not in _INPUTS:
                raise InvalidInput("workflow", f"extra.inputs names unknown field {field_name!r}")
            slots.setdefault(field_name, []).append(Slot(node_id, input_name))
    return slots


def parse_workflow(name: str, data: Any, explicit: Any = None) -> Workflow:
    """A workflow from its parsed JSON and the catalog's ``extra.inputs``, if any."""
    graph = _check_graph(name, data)
    slots = _explicit_slots(name, graph, explicit)
    titled: dict[str, list[Slot]] = {}
    for node_id, node in graph.items():
        meta = node.get("_meta")
        title = meta.get("title", "") if isinstance(meta, dict) else ""
        for field_name, wanted in _marks(str(title)):
            slot = _slot_for(name, field_name, node_id, node, wanted)
            if slot is not None:
                titled.setdefault(field_name, []).append(slot)
    for field_name, found in titled.items():
        slots.setdefault(field_name, found)  # the catalog's map wins where it speaks
    return Workflow(name, graph, {k: tuple(v) for k, v in slots.items()})


def load_workflow(
    request: GenerationRequest | None, model: ModelSpec, vendor: VendorSpec
) -> Workflow:
    """The workflow a request runs on a model; InvalidInput when it cannot be used."""
    ref = (request.extra.get("workflow") if request is not None else None) or model.extra.get(
        "workflow"
    )
    if not ref:
        raise InvalidInput(
            "workflow",
            f"{vendor.name} {model.id} names no workflow: set extra.workflow in its catalog "
            "entry to a file saved with Export (API)",
        )
    name, text = _workflow_text(str(ref), model, vendor)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("workflow", f"{name} is not valid JSON ({exc})") from None
    return parse_workflow(name, data, model.extra.get("inputs"))


def frame_size(resolution: str, aspect: str, model: ModelSpec) -> tuple[int, int]:
    """(width, height) for a resolution and aspect: the catalog's ``extra.sizes`` table,
    else the short side from ``resolutions`` and the long one rounded to
    ``extra.size_multiple`` (16)."""
    sizes = model.extra.get("sizes") or {}
    listed = sizes.get(resolution, {}).get(aspect)
    if listed:
        return int(listed[0]), int(listed[1])
    short = model.resolutions[resolution]
    try:
        w, h = (float(part) for part in aspect.split(":"))
    except ValueError:
        raise InvalidInput("aspect", f"{aspect} is not W:H") from None
    step = int(model.extra.get("size_multiple", 16))

    def snap(value: float) -> int:
        return max(step, round(value / step) * step)

    if w >= h:
        return snap(short * w / h), snap(short)
    return snap(short), snap(short * h / w)


def frame_count(duration_s: float, fps: float, model: ModelSpec) -> int:
    """Frames for a duration: ``frames_step * k + frames_offset`` nearest duration x fps
    (Wan and Hunyuan take 4k+1 frames, LTX 8k+1)."""
    step = int(model.extra.get("frames_step", 1))
    offset = int(model.extra.get("frames_offset", 0))
    return max(1, round(duration_s * fps / step)) * step + offset


# --------------------------------------------------------------------------- listener


@dataclass
class _Watch:
    """One prompt's websocket listener and what it heard last."""

    prompt_id: str
    url: str
    loop: asyncio.AbstractEventLoop
    task: asyncio.Task[None] | None = None
    polled_at: float = field(default_factory=time.monotonic)
    attempts: int = 0
    node: str | None = None
    value: float | None = None
    max: float | None = None
    finished: bool = False
    failed: str | None = None

    @property
    def progress(self) -> float | None:
        if self.value is None or not self.max:
            return None
        return max(0.0, min(0.99, self.value / self.max))

    def feed(self, message: Mapping[str, Any]) -> None:
        """Take one JSON event; events of other prompts are ignored."""
        kind, data = message.get("type"), message.get("data")
        if not isinstance(data, dict) or data.get("prompt_id") != self.prompt_id:
            return
        if kind == "executing":
            if data.get("node") is None:
                self.finished = True
            else:
                self.node = str(data["node"])
        elif kind == "progress":
            self.node = str(data.get("node") or self.node or "") or None
            self.value, self.max = _number(data.get("value")), _number(data.get("max"))
        elif kind == "progress_state":
            self._progress_state(data.get("nodes"))
        elif kind in ("execution_success", "execution_error", "execution_interrupted"):
            self.finished = True

    def _progress_state(self, nodes: Any) -> None:
        if not isinstance(nodes, dict):
            return
        for node_id, state in nodes.items():
            if isinstance(state, dict) and state.get("state") == "running":
                self.node = str(node_id)
                self.value, self.max = _number(state.get("value")), _number(state.get("max"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _Listeners:
    """Websocket listeners for running prompts, kept by the adapter between polls.

    Each listener is a task on the loop that polls; it never blocks a poll, ends by
    itself (final event, ``idle_s`` without a poll, three failed connections), and dies
    with its loop. A poll from a new loop (a new ``asyncio.run``) starts a new one.
    """

    def __init__(self, *, idle_s: float = 60.0, attempts: int = 3) -> None:
        self.idle_s = idle_s
        self.attempts = attempts
        self._watches: dict[str, _Watch] = {}

    def __len__(self) -> int:
        """How many listeners are connected or connecting now."""
        return sum(1 for w in self._watches.values() if w.task is not None and not w.task.done())

    @property
    def watching(self) -> list[str]:
        """The prompt ids with a listener kept (running, finished or failed)."""
        return list(self._watches)

    def get(self, prompt_id: str) -> _Watch | None:
        return self._watches.get(prompt_id)

    def watch(self, base_url: str, prompt_id: str, client_id: str) -> _Watch:
        """The prompt's listener, started (or restarted after a failure) as needed."""
        loop = asyncio.get_running_loop()
        self._prune()
        watch = self._watches.get(prompt_id)
        if watch is not None and watch.loop is not loop:
            self._drop(watch)
            watch = None
        if watch is None:
            url = _ws_url(base_url, client_id)
            watch = self._watches[prompt_id] = _Watch(prompt_id, url, loop)
        watch.polled_at = time.monotonic()
        running = watch.task is not None and not watch.task.done()
        if not running and not watch.finished and watch.attempts < self.attempts:
            watch.attempts += 1
            watch.task = loop.create_task(self._listen(watch), name=f"comfyui-ws-{prompt_id}")
        return watch

    def _prune(self) -> None:
        """Forget ended listeners of prompts nobody has polled for a while (a job whose
        driver was cancelled, say)."""
        stale = time.monotonic() - self.idle_s
        for watch in list(self._watches.values()):
            ended = watch.task is None or watch.task.done()
            if ended and watch.polled_at < stale:
                self._watches.pop(watch.prompt_id, None)

    def stop(self, prompt_id: str) -> None:
        watch = self._watches.pop(prompt_id, None)
        if watch is not None:
            self._drop(watch)

    def _drop(self, watch: _Watch) -> None:
        self._watches.pop(watch.prompt_id, None)
        task = watch.task
        if task is None or task.done() or watch.loop.is_closed():
            return
        if watch.loop is asyncio.get_running_loop():
            task.cancel()
        else:
            watch.loop.call_soon_threadsafe(task.cancel)

    async def _listen(self, watch: _Watch) -> None:
        try:
            async with connect(
                watch.url,
                open_timeout=10,
                max_size=16 * 1024 * 1024,  # preview images come as binary frames
                proxy=None,  # a local server: never through the environment's proxy
                user_agent_header=f"Takestock/{__version__}",
                close_timeout=2,
            ) as ws:
                while not watch.finished:
                    try:
                        async with asyncio.timeout(self.idle_s):
                            message = await ws.recv()
                    except TimeoutError:
                        if time.monotonic() - watch.polled_at >= self.idle_s:
                            if self._watches.get(watch.prompt_id) is watch:
                                del self._watches[watch.prompt_id]  # nobody asks any more
                            return
                        continue
                    if isinstance(message, str):
                        _feed_text(watch, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure leaves polling on the history alone
            watch.failed = f"{type(exc).__name__}: {exc}"
            log.info("ComfyUI progress socket for %s closed: %s", watch.prompt_id, watch.failed)


def _feed_text(watch: _Watch, text: str) -> None:
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        return
    if isinstance(message, dict):
        watch.feed(message)


def _ws_url(base_url: str, client_id: str) -> str:
    url = httpx.URL(base_url)
    scheme = "wss" if url.scheme == "https" else "ws"
    path = url.path.rstrip("/") + "/ws"
    return str(url.copy_with(scheme=scheme, path=path, params={"clientId": client_id}))


# ----------------------------------------------------------------------------- errors


def vendor_error(
    status: int | None,
    message: str,
    *,
    code: str | None = None,
    retry_after: float | None = None,
) -> VendorError:
    """An HTTP status (and ComfyUI's error ``type``) as an error of ``core.errors``."""
    text = f"ComfyUI: {message}"
    kw: dict[str, Any] = {
        "vendor": VENDOR,
        "vendor_code": code or (str(status) if status else None),
        "status": status,
    }
    if status in (401, 403):
        return AuthError(
            text + ". Stock ComfyUI asks for no login: a proxy in front of it refused us, "
            "or the server refused our Origin.",
            **kw,
        )
    if status == 429:
        return RateLimited(text, retry_after=retry_after, **kw)
    if status is not None and status >= 500:
        return TransientError(text, **kw)
    if status == 404:
        return Rejected(text + ". Is this the address of a ComfyUI server?", **kw)
    if status == 413:
        return Rejected(text + ". The upload is over the server's --max-upload-size.", **kw)
    return Rejected(text, **kw)


def _node_messages(node_errors: Any, limit: int = 4) -> str:
    """ComfyUI's ``node_errors`` as short readable lines."""
    if not isinstance(node_errors, dict):
        return ""
    lines = []
    for node_id, info in list(node_errors.items())[:limit]:
        if not isinstance(info, dict):
            continue
        for error in info.get("errors") or []:
            if isinstance(error, dict):
                detail = f": {error['details']}" if error.get("details") else ""
                lines.append(
                    f"node {node_id} ({info.get('class_type', '?')}): "
                    f"{error.get('message', 'invalid')}{detail}"
                )
    more = len(node_errors) - limit
    if more > 0:
        lines.append(f"and {more} more nodes")
    return "; ".join(lines)


def _refusal(data: Any, status: int) -> VendorError:
    """A refused prompt (400, or 200 with ``node_errors``) as Rejected."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = str(error.get("type") or "") or None
        message = str(error.get("message") or "the workflow was refused")
    else:
        code, message = None, str(error or "the workflow was refused")
    nodes = _node_messages(data.get("node_errors") if isinstance(data, dict) else None)
    if nodes:
        message = f"{message}: {nodes}"
    elif isinstance(error, dict) and error.get("details"):
        message = f"{message} ({error['details']})"
    return Rejected(
        f"ComfyUI refused the workflow: {message}"[:1500],
        vendor=VENDOR,
        vendor_code=code,
        status=status,
    )


# ---------------------------------------------------------------------------- adapter


class ComfyUIAdapter(BaseAdapter):
    """A ComfyUI server running the user's workflows; see the module docstring.

    Attributes:
        vendor: the vendor's catalog entry.
        listeners: the websocket listeners of running prompts (progress only).
    """

    vendor_id = VENDOR
    can_find = True

    def __init__(self, vendor: VendorSpec) -> None:
        super().__init__(vendor)
        self.listeners = _Listeners()

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)
        workflow = load_workflow(request, model, self.vendor)
        self._check_marks(request, model, workflow)
        if request.duration_s is not None:
            self._fps(model, workflow)
        if request.resolution is not None or request.aspect is not None:
            frame_size(
                request.resolution or model.default_resolution,
                request.aspect or model.default_aspect,
                model,
            )

    def _check_marks(self, request: GenerationRequest, model: ModelSpec, wf: Workflow) -> None:
        needs = [
            ("prompt", "prompt", bool(request.prompt.strip())),
            ("negative", "negative", bool(request.negative.strip())),
            ("seed", "seed", request.seed is not None),
            ("duration", "length", request.duration_s is not None),
            ("resolution", "width", request.resolution is not None or request.aspect is not None),
            ("resolution", "height", request.resolution is not None or request.aspect is not None),
            ("image", "image", request.image is not None),
            ("last_frame", "last_frame", request.last_frame is not None),
        ]
        for request_field, mark, needed in needs:
            if needed and not wf.has(mark):
                raise InvalidInput(
                    request_field,
                    f"the workflow {wf.name} of {self.vendor.name} {model.id} has no input "
                    f"marked takestock:{mark}; mark one (a node title holding "
                    f"takestock:{mark}) or leave {request_field} out",
                )

    def _fps(self, model: ModelSpec, wf: Workflow) -> float:
        fps = model.extra.get("fps") or wf.value("fps")
        if not isinstance(fps, int | float) or fps <= 0:
            raise InvalidInput(
                "duration",
                f"{self.vendor.name} {model.id} does not say its frame rate: set extra.fps in "
                "its catalog entry or mark the frame-rate input takestock:fps",
            )
        return float(fps)

    # ------------------------------------------------------------------ create

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given")
        workflow = await asyncio.to_thread(load_workflow, request, model, self.vendor)
        images = {}
        for name, path in (("image", request.image), ("last_frame", request.last_frame)):
            if path is not None:
                images[name] = await asyncio.to_thread(prepare_image, path, model.image, field=name)
        first = images.get("image")
        shape = (first.width, first.height) if first is not None else None
        values, seed = self._values(request, model, workflow, shape)
        for name, prepared in images.items():
            values[name] = await self._upload(ctx, prepared.data, prepared.suffix, prepared.mime)
        prompt_id = prompt_id_for(client_request_id)
        client_id = client_id_for(prompt_id)
        body = {"prompt": workflow.filled(values), "client_id": client_id, "prompt_id": prompt_id}
        response = await self._send(
            ctx, "POST", "/prompt", idempotent=False, policy=_CREATE_POLICY, json=body
        )
        if response.status_code == 400:
            raise _refusal(_json_or_none(response), 400)
        data = self._read(response)
        task_id = data.get("prompt_id")
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError(
                f"ComfyUI answered the prompt without a prompt_id: {str(data)[:200]}",
                vendor=VENDOR,
                status=response.status_code,
            )
        if data.get("node_errors"):
            # Queued for its valid outputs only: take it back rather than run half of it.
            await self._delete_from_queue(ctx, task_id)
            raise _refusal(data, response.status_code)
        return TaskHandle(task_id, self._handle_data(workflow, client_id, data, seed, prompt_id))

    @staticmethod
    def _handle_data(
        workflow: Workflow, client_id: str, answer: Mapping[str, Any], seed: int | None, ours: str
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"client_id": client_id, "number": answer.get("number")}
        outputs = [slot.node for slot in workflow.slots.get("output", ())]
        if outputs:
            data["output_nodes"] = outputs
        if seed is not None:
            data["seed"] = seed
        if answer.get("prompt_id") != ours:
            data["server_chose_id"] = True  # an old ComfyUI that ignores our prompt id
        return data

    def _values(
        self,
        request: GenerationRequest,
        model: ModelSpec,
        wf: Workflow,
        image_shape: tuple[int, int] | None = None,
    ) -> tuple[dict[str, Any], int | None]:
        """What goes into the marked inputs (images are added after upload)."""
        values: dict[str, Any] = {}
        if wf.has("prompt"):
            values["prompt"] = request.prompt
        if request.negative.strip():
            values["negative"] = request.negative
        seed = None
        if wf.has("seed"):
            # No seed asked: a fresh one, or ComfyUI's cache would give the same take.
            seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
            values["seed"] = seed
        aspect = request.aspect
        if aspect is None and image_shape is not None and wf.has("width") and model.aspects:
            aspect = _closest_aspect(image_shape, model.aspects)  # keep the picture's shape
        if request.resolution is not None or aspect is not None:
            width, height = frame_size(
                request.resolution or model.default_resolution,
                aspect or model.default_aspect,
                model,
            )
            if wf.has("width") and wf.has("height"):
                values["width"], values["height"] = width, height
        if request.duration_s is not None:
            fps = self._fps(model, wf)
            values["length"] = frame_count(request.duration_s, fps, model)
            if wf.has("fps") and model.extra.get("fps"):
                values["fps"] = model.extra["fps"]
        return values, seed

    async def _upload(self, ctx: CallContext, data: bytes, suffix: str, mime: str) -> str:
        """Upload an input image; returns the name a LoadImage node takes."""
        # Named by content: sending it again (a retry, a second take) overwrites itself.
        name = f"takestock-{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
        response = await self._send(
            ctx,
            "POST",
            "/upload/image",
            idempotent=True,
            files={"image": (name, data, mime)},
            data={"type": "input", "overwrite": "true"},
        )
        answer = self._read(response)
        stored = answer.get("name")
        if not isinstance(stored, str) or not stored:
            raise ProtocolError(
                f"ComfyUI answered the upload without a name: {str(answer)[:200]}", vendor=VENDOR
            )
        subfolder = answer.get("subfolder") or ""
        return f"{subfolder}/{stored}" if subfolder else stored

    # -------------------------------------------------------------------- poll

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        prompt_id = handle.task_id
        client_id = str(handle.data.get("client_id") or client_id_for(prompt_id))
        watch = self.listeners.watch(ctx.base_url, prompt_id, client_id)
        status = await self._status(ctx, handle)
        if status.state.final:
            self.listeners.stop(prompt_id)
        elif status.state is TaskState.RUNNING:
            node = f" node {watch.node}" if watch.node else ""
            status = TaskStatus(status.state, f"running{node}", progress=watch.progress)
        return status

    async def _status(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        prompt_id = handle.task_id
        entry = await self._history(ctx, prompt_id)
        if entry is None:
            queued = await self._queue_place(ctx, prompt_id)
            if queued is not None:
                return queued
            # It may have finished between the two reads: the history is written first.
            entry = await self._history(ctx, prompt_id)
        if entry is None:
            error = GenerationFailed(
                f"ComfyUI no longer knows prompt {prompt_id}: it was deleted from the queue, "
                "or the server restarted (ComfyUI keeps its queue and history in memory)",
                vendor=VENDOR,
                vendor_code="gone",
            )
            return TaskStatus(TaskState.FAILED, "gone", error=error)
        return self._finished(ctx, entry, handle)

    def _finished(
        self, ctx: CallContext, entry: Mapping[str, Any], handle: TaskHandle
    ) -> TaskStatus:
        status = entry.get("status")
        messages = status.get("messages") if isinstance(status, dict) else None
        events = _events(messages)
        if isinstance(status, dict) and status.get("status_str") == "error":
            if "execution_interrupted" in events:
                return TaskStatus(TaskState.CANCELLED, "interrupted")
            return TaskStatus(TaskState.FAILED, "error", error=_execution_error(events))
        results = self._results(ctx, entry.get("outputs"), handle)
        if not results:
            saved = _saved_files(entry.get("outputs"))
            listed = ", ".join(str(f["filename"]) for _, f in saved[:4]) or "nothing"
            error = GenerationFailed(
                f"ComfyUI finished but saved no video (it saved {listed}); end the workflow "
                "with SaveVideo or VHS_VideoCombine",
                vendor=VENDOR,
                vendor_code="no_video",
            )
            return TaskStatus(TaskState.FAILED, "success, no video", error=error)
        took = _seconds(events)
        vendor_state = f"success in {took:.1f} s" if took is not None else "success"
        return TaskStatus(TaskState.SUCCEEDED, vendor_state, progress=1.0, results=results)

    def _results(self, ctx: CallContext, outputs: Any, handle: TaskHandle) -> tuple[ResultRef, ...]:
        """The saved videos, the most likely take first."""
        preferred = set(handle.data.get("output_nodes") or ())
        ranked = []
        for node_id, item in _saved_files(outputs):
            filename = str(item.get("filename", ""))
            if not filename.lower().endswith(VIDEO_SUFFIXES):
                continue
            kind = str(item.get("type") or "output")
            rank = (node_id not in preferred, kind != "output", not filename.endswith(".mp4"))
            query = {
                "filename": filename,
                "subfolder": str(item.get("subfolder") or ""),
                "type": kind,
            }
            url = str(httpx.URL(ctx.base_url + "/view", params=query))
            ranked.append((rank, url))
        ranked.sort(key=lambda pair: pair[0])
        return tuple(ResultRef(url) for _, url in ranked)

    async def _history(self, ctx: CallContext, prompt_id: str) -> Mapping[str, Any] | None:
        data = self._read(await self._send(ctx, "GET", f"/history/{prompt_id}"))
        entry = data.get(prompt_id)
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise ProtocolError(
                f"ComfyUI answered a history read with {str(entry)[:120]}", vendor=VENDOR
            )
        return entry

    async def _queue(self, ctx: CallContext) -> tuple[list[Any], list[Any]]:
        data = self._read(await self._send(ctx, "GET", "/queue"))
        running, pending = data.get("queue_running"), data.get("queue_pending")
        if not isinstance(running, list) or not isinstance(pending, list):
            raise ProtocolError(
                f"ComfyUI answered /queue without its two lists: {str(data)[:200]}", vendor=VENDOR
            )
        return running, pending

    async def _queue_place(self, ctx: CallContext, prompt_id: str) -> TaskStatus | None:
        running, pending = await self._queue(ctx)
        if any(_item_id(item) == prompt_id for item in running):
            return TaskStatus(TaskState.RUNNING, "running")
        mine = [item for item in pending if _item_id(item) == prompt_id]
        if not mine:
            return None
        number = _item_number(mine[0])
        ahead = len(running) + sum(1 for item in pending if _item_number(item) < number)
        return TaskStatus(TaskState.QUEUED, f"queued, {ahead} ahead" if ahead else "queued")

    # ------------------------------------------------------------------- find

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        """Our prompt by its id; on a server that chose its own id, by our client id."""
        prompt_id = prompt_id_for(client_request_id)
        client_id = client_id_for(prompt_id)
        data = {"client_id": client_id}
        if await self._history(ctx, prompt_id) is not None:
            return TaskHandle(prompt_id, data)
        running, pending = await self._queue(ctx)
        for item in running + pending:
            if _item_id(item) == prompt_id or _item_client(item) == client_id:
                return TaskHandle(str(_item_id(item)), data)
        recent = self._read(await self._send(ctx, "GET", f"/history?max_items={_HISTORY_SCAN}"))
        for key, entry in recent.items():
            item = entry.get("prompt") if isinstance(entry, dict) else None
            if _item_client(item) == client_id:
                return TaskHandle(str(key), data)
        return None

    # ----------------------------------------------------------------- cancel

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Delete a queued prompt, interrupt a running one; False once it has ended."""
        prompt_id = handle.task_id
        self.listeners.stop(prompt_id)
        running, pending = await self._queue(ctx)
        if any(_item_id(item) == prompt_id for item in pending):
            await self._delete_from_queue(ctx, prompt_id)
            return True
        if any(_item_id(item) == prompt_id for item in running):
            # Older servers interrupt whatever runs: we checked that it is ours.
            response = await self._send(
                ctx, "POST", "/interrupt", idempotent=True, json={"prompt_id": prompt_id}
            )
            self._check(response)
            return True
        return False

    async def _delete_from_queue(self, ctx: CallContext, prompt_id: str) -> None:
        response = await self._send(
            ctx, "POST", "/queue", idempotent=True, json={"delete": [prompt_id]}
        )
        self._check(response)

    # ------------------------------------------------------------ list models

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        """The workflows this server can run: each catalog workflow, and each ``*.json``
        in ``extra.workflows_dir``, checked against the server's node classes and model
        files (``GET /object_info``). One that cannot run is listed as retired, saying
        what is missing; a later refresh makes it active again."""
        info = self._read(await self._send(ctx, "GET", "/object_info"))
        entries = []
        known: set[str] = set()
        for model in self.vendor.models.values():
            if not model.extra.get("workflow"):
                continue
            try:
                workflow = load_workflow(None, model, self.vendor)
            except InvalidInput as exc:
                entries.append({"id": model.id, "status": "retired", "status_note": str(exc)})
                continue
            known.add(_where(workflow.name))
            entries.append({"id": model.id, **_availability(workflow, info)})
        entries += await asyncio.to_thread(self._folder_entries, info, known)
        return entries

    def _folder_entries(self, info: Mapping[str, Any], known: set[str]) -> list[dict[str, Any]]:
        folder = self.vendor.extra.get("workflows_dir")
        if not folder:
            return []
        entries = []
        taken = set(self.vendor.models)
        for path in sorted(Path(str(folder)).expanduser().glob("*.json")):
            if _where(str(path)) in known:
                continue
            try:
                workflow = parse_workflow(str(path), json.loads(path.read_text(encoding="utf-8")))
            except (OSError, json.JSONDecodeError, InvalidInput) as exc:
                log.info("skipping %s: %s", path, exc)
                continue
            model_id = _slug(path.stem, taken)
            taken.add(model_id)
            entries.append(
                _new_entry(model_id, path, workflow, self.vendor) | _availability(workflow, info)
            )
        return entries

    # ----------------------------------------------------------------- helpers

    async def _send(
        self, ctx: CallContext, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        kwargs.setdefault("policy", _POLICY)
        try:
            return await send(ctx.http, method, ctx.base_url + path, **kwargs)
        except ConnectFailed as exc:
            raise ConnectFailed(
                f"ComfyUI does not answer at {ctx.base_url}: is it running? (start it, or set "
                f"the account's base URL); nothing was sent",
                vendor=VENDOR,
            ) from exc

    def _check(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise self._error(response)

    def _read(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object, or the mapped error it carries."""
        self._check(response)
        data = json_body(response, VENDOR)
        if not isinstance(data, dict):
            raise ProtocolError(
                f"ComfyUI answered with {type(data).__name__}, not an object",
                vendor=VENDOR,
                status=response.status_code,
            )
        return data

    def _error(self, response: httpx.Response) -> VendorError:
        data = _json_or_none(response)
        code = None
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        if isinstance(data, dict) and data.get("error"):
            error = data["error"]
            if isinstance(error, dict):
                code = str(error.get("type") or "") or None
                message = str(error.get("message") or message)
            else:
                message = str(error)
        return vendor_error(
            response.status_code,
            message,
            code=code,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


# ------------------------------------------------------------------ small readers


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _item_id(item: Any) -> Any:
    return item[1] if isinstance(item, list | tuple) and len(item) > 1 else None


def _item_number(item: Any) -> float:
    number = item[0] if isinstance(item, list | tuple) and item else None
    return float(number) if isinstance(number, int | float) else math.inf


def _item_client(item: Any) -> Any:
    extra = item[3] if isinstance(item, list | tuple) and len(item) > 3 else None
    return extra.get("client_id") if isinstance(extra, dict) else None


def _events(messages: Any) -> dict[str, Mapping[str, Any]]:
    """History status messages by type (the last of each)."""
    events: dict[str, Mapping[str, Any]] = {}
    for message in messages or ():
        if isinstance(message, list | tuple) and len(message) == 2 and isinstance(message[1], dict):
            events[str(message[0])] = message[1]
    return events


def _seconds(events: Mapping[str, Mapping[str, Any]]) -> float | None:
    start = events.get("execution_start", {}).get("timestamp")
    end = events.get("execution_success", {}).get("timestamp")
    if isinstance(start, int | float) and isinstance(end, int | float) and end >= start:
        return (end - start) / 1000
    return None


def _execution_error(events: Mapping[str, Mapping[str, Any]]) -> VendorError:
    data = events.get("execution_error", {})
    kind = str(data.get("exception_type") or "") or None
    detail = str(data.get("exception_message") or "").strip() or "the run failed"
    where = ""
    if data.get("node_id") is not None:
        where = f" in node {data['node_id']} ({data.get('node_type', '?')})"
    short = (kind or "error").rsplit(".", 1)[-1]
    return GenerationFailed(
        f"ComfyUI failed{where}: {detail[:800]} ({short})", vendor=VENDOR, vendor_code=kind
    )


def _saved_files(outputs: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(node id, file entry) for every file in a history entry's outputs."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    if not isinstance(outputs, dict):
        return found
    for node_id, output in outputs.items():
        if not isinstance(output, dict):
            continue
        for key in ("videos", "gifs", "images"):
            for item in output.get(key) or ():
                if isinstance(item, dict) and item.get("filename"):
                    found.append((str(node_id), item))
    return found


def _combo(spec: Any) -> list[Any] | None:
    """The allowed values of an ``object_info`` input spec, when it is a list."""
    if not isinstance(spec, list) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        options = spec[1].get("options")
        return options if isinstance(options, list) else None
    return None


def _availability(workflow: Workflow, info: Mapping[str, Any]) -> dict[str, Any]:
    """``status`` (and a note) for a workflow against the server's ``object_info``."""
    filled = {(s.node, s.input) for slots in workflow.slots.values() for s in slots}
    missing_nodes: list[str] = []
    missing_files: list[str] = []
    for node_id, node in workflow.graph.items():
        spec = info.get(node["class_type"])
        if not isinstance(spec, dict):
            missing_nodes.append(node["class_type"])
            continue
        inputs = spec.get("input") or {}
        declared = {**(inputs.get("required") or {}), **(inputs.get("optional") or {})}
        for name, value in node["inputs"].items():
            allowed = _combo(declared.get(name))
            if (node_id, name) in filled or allowed is None or isinstance(value, list):
                continue
            if value not in allowed:
                missing_files.append(f"{value} ({node['class_type']}.{name})")
    if not missing_nodes and not missing_files:
        return {"status": "active", "status_note": ""}
    parts = []
    if missing_nodes:
        parts.append("nodes not installed: " + ", ".join(sorted(set(missing_nodes))))
    if missing_files:
        parts.append("values the server does not have: " + ", ".join(missing_files[:6]))
    note = f"{time.strftime('%Y-%m-%d')}: this ComfyUI cannot run it yet; " + "; ".join(parts)
    return {"status": "retired", "status_note": note}


def _slug(stem: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-.") or "workflow"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _new_entry(model_id: str, path: Path, workflow: Workflow, vendor: VendorSpec) -> dict[str, Any]:
    """A catalog model entry for a workflow file found in ``workflows_dir``."""
    modes = []
    if workflow.has("prompt") and not workflow.has("image"):
        modes.append("text")
    if workflow.has("image"):
        modes.append("image")
        if workflow.has("last_frame"):
            modes.append("first_last")
    entry: dict[str, Any] = {
        "id": model_id,
        "label": f"{path.stem} (ComfyUI workflow)",
        "modes": modes or ["text"],
        "negative_prompt": workflow.has("negative"),
        "seed": workflow.has("seed"),
        "extra": {"workflow": str(path.resolve())},
    }
    defaults: Mapping[str, Any] = vendor.extra.get("new_workflow_defaults") or {}
    if workflow.has("length") and defaults.get("durations"):
        entry["durations"] = list(defaults["durations"])
        entry["default_duration"] = defaults.get("default_duration", defaults["durations"][0])
    if workflow.has("width") and workflow.has("height"):
        for key in ("resolutions", "default_resolution", "aspects", "default_aspect"):
            if key in defaults:
                entry[key] = defaults[key]
    fps = workflow.value("fps")
    if isinstance(fps, int | float) and fps > 0:
        entry["extra"]["fps"] = fps
    return entry


def _where(name: str) -> str:
    """A workflow's name made comparable: resources as named, files as resolved paths."""
    return name if name.startswith("resource:") else str(Path(name).expanduser().resolve())


def _closest_aspect(shape: tuple[int, int], aspects: Sequence[str]) -> str:
    """The catalog aspect nearest an image's width / height."""
    ratio = shape[0] / shape[1]

    def distance(aspect: str) -> float:
        w, _, h = aspect.partition(":")
        try:
            return abs(math.log((float(w) / float(h)) / ratio))
        except (ValueError, ZeroDivisionError):
            return math.inf

    return min(aspects, key=distance)
