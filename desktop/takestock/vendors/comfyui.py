"""A ComfyUI server of the user's: a saved workflow, checked, filled in, queued, followed,
fetched, and found again when ComfyUI forgets it.

Protocol (facts: ``shared/vendors/comfyui.md``, cross-checked against ComfyUI's own
``server.py``, ``execution.py``, ``main.py``, ``app/model_manager.py`` and the front
end's ``executionUtil.ts``; there is no official Python client)::

    GET  {base}/object_info/{class}   one node class: its inputs (the files a loader
                                  accepts), ``input_order``, display name; {} if absent
    GET  {base}/models, /models/{folder}    the model folders and the files in one
    POST {base}/upload/image      multipart: image=<file>, type=input, overwrite=true
                                  -> {"name", "subfolder", "type"}
    POST {base}/prompt            {"prompt": <API-format graph>, "client_id", "prompt_id"}
                                  -> {"prompt_id", "number", "node_errors"}
    GET  {base}/history/{id}      {} until the prompt has run, then {id: {"outputs",
                                  "status": {"status_str", "completed", "messages"}}}
    GET  {base}/history?max_items=N   the latest entries, each with its "prompt" item
    GET  {base}/queue             {"queue_running": [...], "queue_pending": [...]}, each
                                  item [number, prompt_id, prompt, extra_data, outputs]
    GET  {base}/view?filename=&subfolder=&type=output          the video (Range works)
    POST {base}/queue {"delete": [id]}, POST {base}/interrupt {"prompt_id"}     cancel
    WS   {base}/ws?clientId=<ours> executing, progress, ... (``comfyui_progress``)
    GET  {base}/object_info       every node class (``list_models`` only)

``base`` is ``http://127.0.0.1:8188`` unless the account or ``TAKESTOCK_COMFYUI_BASE_URL``
says otherwise; a reverse proxy that serves only the ``/api/...`` aliases works with a
base URL ending in ``/api``. Stock ComfyUI has no authentication, so no secret is asked.

A *model* here is a workflow file, saved the normal way (Workflow > Save: the UI format,
converted with the server's node classes by ``comfyui_convert``, as ComfyUI's front end
does) or with Export (API), named by the catalog entry's ``extra.workflow`` (or a
request's ``extra["workflow"]``): an absolute path, a path relative to
``extra.workflows_dir`` (the model's, else the vendor's), or ``resource:comfyui/<file>``
for the samples shipped with Takestock. A user adds one with a catalog override such as::

    {"comfyui": {"extra": {"workflows_dir": "/home/me/comfy"},
                 "models": {"my-wan": {"modes": ["image"], "durations": [3, 5],
                                       "extra": {"workflow": "wan_i2v.json", "fps": 16,
                                                 "frames_step": 4, "frames_offset": 1}}}}}

or lets ``takestock vendors refresh comfyui`` list every ``*.json`` in ``workflows_dir``.
Takestock fills only the inputs the workflow marks (``comfyui_workflow``); a request
that needs a field the workflow does not mark is refused before anything is sent.

Before anything is uploaded or queued, the workflow's node classes and the files its
loaders name are checked against the server (``/object_info/{class}``): a missing
custom node or model file is refused as invalid input naming each one and the
``ComfyUI/models/<folder>/`` it goes in (from the loader, a UI file's
``properties.models``, the catalog's ``extra.model_files``, or the ``/models`` lists).

Our prompt id is the job's client request id as a UUID (``ts-<hex>`` read as hex), so a
create whose answer was lost is found again in the history or the queue; a server too
old to take our id is matched by our ``client_id`` (``takestock-<prompt id>``). Each
save node's ``filename_prefix`` gets the prompt's own suffix, and the handle keeps the
filled graph, so a prompt ComfyUI forgot can be finished or sent again.

States (there is no state field; it is derived):

    ========================================= ========= ================================
    where the prompt is                       TaskState vendor_state
    ========================================= ========= ================================
    ``queue_pending``                         QUEUED    "queued" / "queued, N ahead"
    ``queue_running``                         RUNNING   "running KSampler (node 3),
                                                        step 12/30" (from the socket)
    history: "success"                        SUCCEEDED "success in S s"
    history: "error" + execution_error        FAILED    "error"
    history: "error" + execution_interrupted  CANCELLED "interrupted"
    history without status (old servers)      SUCCEEDED when a video was saved, else
                                                        FAILED "success, no video"
    forgotten (a restart empties ComfyUI's    SUCCEEDED "found ... after ComfyUI forgot
    queue and history), its video on disk               the prompt"
    forgotten, no video, no later prompt      QUEUED    "sent again: ComfyUI restarted
                                                        and forgot it" (free: it costs
                                                        only the machine's time)
    forgotten while later prompts ran (so     FAILED    "gone"
    deleted from ComfyUI's queue, not lost)
    the server does not answer                RUNNING   "ComfyUI not answering since
                                                        HH:MM: retrying"
    ========================================= ========= ================================

Errors: ``comfyui_answers``; no server when creating: ConnectFailed ("is it running?").
``takestock vendors refresh comfyui`` marks a workflow the server lacks files or nodes
for retired, saying what it lacks, until a refresh finds it complete.

Cost: ComfyUI is free; the catalog has no prices, estimates are 0, and the run's own
time is given in the final ``vendor_state``.

Not supported: ``balance`` (nothing to pay); authentication (stock ComfyUI has none);
ComfyUI's paid "API nodes" (use those vendors here directly); subgraphs in UI-format
files; audio inputs; masks; several videos from one prompt (the first is the take).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import (
    ConnectFailed,
    GenerationFailed,
    InvalidInput,
    ProtocolError,
    TransientError,
    VendorError,
)
from takestock.core.http import RetryPolicy, json_body, parse_retry_after, send
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
from takestock.vendors.comfyui_answers import (
    VENDOR,
    VIDEO_SUFFIXES,
    client_id_for,
    events,
    execution_error,
    item_client,
    item_id,
    item_number,
    json_or_none,
    output_candidates,
    own_prefixes,
    prompt_id_for,
    refusal,
    run_seconds,
    saved_files,
    saved_under,
    vendor_error,
)
from takestock.vendors.comfyui_progress import Listeners, running_text
from takestock.vendors.comfyui_workflow import (
    Missing,
    Source,
    Workflow,
    availability,
    check_on_server,
    closest_aspect,
    frame_count,
    frame_size,
    load_workflow,
    missing_message,
    missing_note,
    new_entry,
    parse_workflow,
    read_workflow,
    slug,
    where,
)

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

# A server on the user's machine answers at once or is not running: retry briefly.
_POLICY = RetryPolicy(attempts=3, base_delay=0.25, max_delay=2.0)
# Creates: connection failures are retried by ``send``; a 429 goes back to the engine.
_CREATE_POLICY = RetryPolicy(attempts=3, base_delay=0.25, max_delay=2.0, retry_statuses=frozenset())
# Probes for a forgotten prompt's file: one try each, a 404 is an answer.
_PROBE_POLICY = RetryPolicy(attempts=1)
_HISTORY_SCAN = 64  # recent history entries searched: a renamed prompt, a forgotten one's files
_REQUEUED = "sent again: ComfyUI restarted and forgot it"


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
        self.listeners = Listeners()
        # When each server (by base URL) stopped answering; gone once it answers.
        self._down_since: dict[str, float] = {}
        # Prompts this process sent again after ComfyUI forgot them: the state says so.
        self._requeued: set[str] = set()

    # ------------------------------------------------------------------ checks

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)
        source = read_workflow(request, model, self.vendor)
        self._check_marks(request, model, source.name, source.marked())
        if request.duration_s is not None and not source.ui:
            self._fps(model, source.parse())
        if request.resolution is not None or request.aspect is not None:
            frame_size(
                request.resolution or model.default_resolution,
                request.aspect or model.default_aspect,
                model,
            )

    def _check_marks(
        self, request: GenerationRequest, model: ModelSpec, name: str, has: Callable[[str], bool]
    ) -> None:
        sized = request.resolution is not None or request.aspect is not None
        needs = [
            ("prompt", "prompt", bool(request.prompt.strip())),
            ("negative", "negative", bool(request.negative.strip())),
            ("seed", "seed", request.seed is not None),
            ("duration", "length", request.duration_s is not None),
            ("resolution", "width", sized),
            ("resolution", "height", sized),
            ("image", "image", request.image is not None),
            ("last_frame", "last_frame", request.last_frame is not None),
        ]
        for request_field, mark, needed in needs:
            if needed and not has(mark):
                raise InvalidInput(
                    request_field,
                    f"the workflow {name} of {self.vendor.name} {model.id} has no input "
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

    async def checked_workflow(self, ctx: CallContext, source: Source) -> Workflow:
        """The workflow read against the server; InvalidInput naming every node and
        model file the server lacks, and the folder each file goes in."""
        info = await self._node_info(ctx, source.node_classes())
        workflow, missing = check_on_server(source, info)
        if missing:
            missing = await self._place(ctx, missing)
            raise InvalidInput("workflow", missing_message(source.name, missing))
        assert workflow is not None  # only missing nodes keep it from being read
        return workflow

    async def _node_info(self, ctx: CallContext, classes: Iterable[str]) -> dict[str, Any]:
        """``/object_info/{class}`` for each class (the whole list can take seconds to
        build on a server with many custom nodes); absent classes are left out."""

        async def one(name: str) -> dict[str, Any]:
            return self._read(await self._send(ctx, "GET", f"/object_info/{quote(name, safe='')}"))

        answers = await asyncio.gather(*(one(name) for name in sorted(classes)))
        info: dict[str, Any] = {}
        for answer in answers:
            info.update((k, v) for k, v in answer.items() if isinstance(v, dict))
        return info

    async def _place(self, ctx: CallContext, missing: list[Missing]) -> list[Missing]:
        """Missing files whose folder the loader does not tell, placed by finding the
        ``/models/{folder}`` list that is exactly what the input offers."""
        unplaced = [m for m in missing if m.input is not None and not m.folder and m.allowed]
        if not unplaced:
            return missing
        try:
            folders = json_body(await self._send(ctx, "GET", "/models"), VENDOR)
            listed = {}
            for folder in folders if isinstance(folders, list) else ():
                files = json_body(
                    await self._send(ctx, "GET", f"/models/{quote(str(folder))}"), VENDOR
                )
                if isinstance(files, list) and files:
                    listed[str(folder)] = set(map(str, files))
        except (VendorError, ValueError) as exc:  # an older server without /models
            log.info("could not list ComfyUI's model folders: %s", exc)
            return missing
        placed = []
        for item in missing:
            if item in unplaced:
                matches = [f for f, files in listed.items() if files == set(item.allowed)]
                if len(matches) == 1:
                    item = dataclasses.replace(item, folder=matches[0])
            placed.append(item)
        return placed

    # ------------------------------------------------------------------ create

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given")
        source = await asyncio.to_thread(read_workflow, request, model, self.vendor)
        workflow = await self.checked_workflow(ctx, source)
        if request.duration_s is not None:
            self._fps(model, workflow)  # a UI-format file's frame rate is known only now
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
        graph = workflow.filled(values)
        marked = {slot.node for slot in workflow.slots.get("output", ())}
        prefixes = own_prefixes(graph, marked, prompt_id)
        data = await self._queue_prompt(ctx, graph, client_id, prompt_id)
        handle = self._handle_data(workflow, client_id, data, seed, prompt_id)
        handle.update(prompt=graph, prefixes=prefixes)
        return TaskHandle(str(data["prompt_id"]), handle)

    async def _queue_prompt(
        self, ctx: CallContext, graph: Mapping[str, Any], client_id: str, prompt_id: str
    ) -> dict[str, Any]:
        body = {"prompt": graph, "client_id": client_id, "prompt_id": prompt_id}
        response = await self._send(
            ctx, "POST", "/prompt", idempotent=False, policy=_CREATE_POLICY, json=body
        )
        if response.status_code == 400:
            raise refusal(json_or_none(response), 400)
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
            raise refusal(data, response.status_code)
        return data

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
            aspect = closest_aspect(image_shape, model.aspects)  # keep the picture's shape
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

    # -------------------------------------------------------------------- poll

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        prompt_id = handle.task_id
        client_id = str(handle.data.get("client_id") or client_id_for(prompt_id))
        # Listening starts before the read, so the first node's events are heard.
        watch = self.listeners.watch(ctx.base_url, prompt_id, client_id)
        try:
            status = await self._status(ctx, handle)
        except (ConnectFailed, TransientError) as exc:
            if not isinstance(exc, ConnectFailed) and exc.status is not None:
                raise  # a 5xx: the server answers, the engine retries
            # Down, or restarting: say so in the job's state, and keep polling.
            since = self._down_since.setdefault(ctx.base_url, time.time())
            log.info("ComfyUI at %s does not answer: %s", ctx.base_url, exc)
            when = time.strftime("%H:%M", time.localtime(since))
            return TaskStatus(TaskState.RUNNING, f"ComfyUI not answering since {when}: retrying")
        if self._down_since.pop(ctx.base_url, None) is not None:
            self.listeners.stop(prompt_id)  # its socket gave up while the server was away
        if status.state.final:
            self.listeners.stop(prompt_id)
            if prompt_id in self._requeued:
                self._requeued.discard(prompt_id)  # the take's record keeps saying so
                status = dataclasses.replace(
                    status, vendor_state=f"{status.vendor_state} ({_REQUEUED})"
                )
            return status
        text, progress = status.vendor_state, status.progress
        if status.state is TaskState.RUNNING:
            text, progress = running_text(handle.data.get("prompt"), watch), watch.progress
        if prompt_id in self._requeued and text != _REQUEUED:
            text += f" ({_REQUEUED})"
        return TaskStatus(status.state, text, progress=progress)

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
            return await self._forgotten(ctx, handle)
        return self._finished(ctx, entry, handle)

    async def _forgotten(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        """A prompt neither queued nor in the history: ComfyUI restarted (it keeps both
        in memory), or someone deleted it from the queue."""
        prompt_id = handle.task_id
        found = await self._find_outputs(ctx, handle)
        if found:
            name = httpx.URL(found[0].url).params.get("filename")
            return TaskStatus(
                TaskState.SUCCEEDED,
                f"found {name} after ComfyUI forgot the prompt",
                progress=1.0,
                results=found,
            )
        prompt = handle.data.get("prompt")
        if (
            isinstance(prompt, dict)
            and not handle.data.get("server_chose_id")
            and not await self._ran_after(ctx, handle.data.get("number"))
        ):
            # Nothing later ran, so the server restarted: send the same prompt again,
            # under the same id (ComfyUI forgot it; it costs only the machine's time).
            client_id = str(handle.data.get("client_id") or client_id_for(prompt_id))
            try:
                await self._queue_prompt(ctx, prompt, client_id, prompt_id)
            except VendorError as exc:
                if isinstance(exc, TransientError):
                    raise
                return TaskStatus(TaskState.FAILED, "refused when sent again", error=exc)
            log.warning("ComfyUI forgot prompt %s; sent it again", prompt_id)
            self._requeued.add(prompt_id)
            self.listeners.stop(prompt_id)
            return TaskStatus(TaskState.QUEUED, _REQUEUED)
        error = GenerationFailed(
            f"ComfyUI no longer knows prompt {prompt_id} and saved no video for it: it was "
            "deleted from ComfyUI's queue while other prompts went on (or the server "
            "restarted and has run other prompts since)",
            vendor=VENDOR,
            vendor_code="gone",
        )
        return TaskStatus(TaskState.FAILED, "gone", error=error)

    async def _find_outputs(self, ctx: CallContext, handle: TaskHandle) -> tuple[ResultRef, ...]:
        """A forgotten prompt's video, by the file-name prefix we gave its save node:
        in the recent history of other prompts, else asked of ``/view`` by name."""
        prefixes = [p for p in handle.data.get("prefixes") or () if isinstance(p, str)]
        if not prefixes:
            return ()
        recent = self._read(await self._send(ctx, "GET", f"/history?max_items={_HISTORY_SCAN}"))
        for entry in recent.values():
            outputs = entry.get("outputs") if isinstance(entry, dict) else None
            mine = {
                node: item
                for node, item in saved_files(outputs)
                if any(saved_under(item, prefix) for prefix in prefixes)
            }
            results = self._results(ctx, {n: {"videos": [i]} for n, i in mine.items()}, handle)
            if results:
                return results
        for prefix in prefixes:
            if "%" in prefix:  # a date or size pattern: the name cannot be known
                continue
            for subfolder, filename in output_candidates(prefix):
                query = {"filename": filename, "subfolder": subfolder, "type": "output"}
                url = str(httpx.URL(ctx.base_url + "/view", params=query))
                response = await self._send(
                    ctx, "GET", "/view", params=query, headers={"Range": "bytes=0-0"},
                    policy=_PROBE_POLICY,
                )  # fmt: skip
                await response.aclose()
                if response.status_code in (200, 206):
                    return (ResultRef(url),)
        return ()

    async def _ran_after(self, ctx: CallContext, number: Any) -> bool:
        """Whether the server has queued a prompt after ours (numbers start again from 0
        when ComfyUI restarts): then ours was deleted, not lost."""
        if not isinstance(number, int | float):
            return False
        running, pending = await self._queue(ctx)
        recent = self._read(await self._send(ctx, "GET", f"/history?max_items={_HISTORY_SCAN}"))
        items = (
            running + pending + [e.get("prompt") for e in recent.values() if isinstance(e, dict)]
        )
        return any(item_number(item) > number for item in items if item_id(item) is not None)

    def _finished(
        self, ctx: CallContext, entry: Mapping[str, Any], handle: TaskHandle
    ) -> TaskStatus:
        status = entry.get("status")
        messages = status.get("messages") if isinstance(status, dict) else None
        found = events(messages)
        if isinstance(status, dict) and status.get("status_str") == "error":
            if "execution_interrupted" in found:
                return TaskStatus(TaskState.CANCELLED, "interrupted")
            return TaskStatus(TaskState.FAILED, "error", error=execution_error(found))
        results = self._results(ctx, entry.get("outputs"), handle)
        if not results:
            saved = saved_files(entry.get("outputs"))
            listed = ", ".join(str(f["filename"]) for _, f in saved[:4]) or "nothing"
            error = GenerationFailed(
                f"ComfyUI finished but saved no video (it saved {listed}); end the workflow "
                "with SaveVideo or VHS_VideoCombine",
                vendor=VENDOR,
                vendor_code="no_video",
            )
            return TaskStatus(TaskState.FAILED, "success, no video", error=error)
        took = run_seconds(found)
        vendor_state = f"success in {took:.1f} s" if took is not None else "success"
        return TaskStatus(TaskState.SUCCEEDED, vendor_state, progress=1.0, results=results)

    def _results(self, ctx: CallContext, outputs: Any, handle: TaskHandle) -> tuple[ResultRef, ...]:
        """The saved videos, the most likely take first."""
        preferred = set(handle.data.get("output_nodes") or ())
        ranked = []
        for node_id, item in saved_files(outputs):
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
        if any(item_id(item) == prompt_id for item in running):
            return TaskStatus(TaskState.RUNNING, "running")
        mine = [item for item in pending if item_id(item) == prompt_id]
        if not mine:
            return None
        number = item_number(mine[0])
        ahead = len(running) + sum(1 for item in pending if item_number(item) < number)
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
            if item_id(item) == prompt_id or item_client(item) == client_id:
                return TaskHandle(str(item_id(item)), data)
        recent = self._read(await self._send(ctx, "GET", f"/history?max_items={_HISTORY_SCAN}"))
        for key, entry in recent.items():
            item = entry.get("prompt") if isinstance(entry, dict) else None
            if item_client(item) == client_id:
                return TaskHandle(str(key), data)
        return None

    # ----------------------------------------------------------------- cancel

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Delete a queued prompt, interrupt a running one; False once it has ended."""
        prompt_id = handle.task_id
        self.listeners.stop(prompt_id)
        running, pending = await self._queue(ctx)
        if any(item_id(item) == prompt_id for item in pending):
            await self._delete_from_queue(ctx, prompt_id)
            return True
        if any(item_id(item) == prompt_id for item in running):
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
        what is missing and where it goes; a later refresh makes it active again."""
        info = self._read(await self._send(ctx, "GET", "/object_info"))
        entries = []
        known: set[str] = set()
        for model in self.vendor.models.values():
            if not model.extra.get("workflow"):
                continue
            try:
                source = read_workflow(None, model, self.vendor)
                known.add(where(source.name))
                workflow, missing = check_on_server(source, info)
            except InvalidInput as exc:
                entries.append({"id": model.id, "status": "retired", "status_note": str(exc)})
                continue
            if workflow is None or missing:
                note = missing_note(await self._place(ctx, missing))
                entries.append({"id": model.id, "status": "retired", "status_note": note})
                continue
            entries.append({"id": model.id, **availability(workflow, info)})
        entries += await asyncio.to_thread(self._folder_entries, info, known)
        return entries

    def _folder_entries(self, info: Mapping[str, Any], known: set[str]) -> list[dict[str, Any]]:
        folder = self.vendor.extra.get("workflows_dir")
        if not folder:
            return []
        entries = []
        taken = set(self.vendor.models)
        for path in sorted(Path(str(folder)).expanduser().glob("*.json")):
            if where(str(path)) in known:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                workflow, _ = check_on_server(Source(str(path), data), info)
            except (OSError, json.JSONDecodeError, InvalidInput) as exc:
                log.info("skipping %s: %s", path, exc)
                continue
            if workflow is None:
                log.info("skipping %s: this server lacks its nodes", path)
                continue
            model_id = slug(path.stem, taken)
            taken.add(model_id)
            entries.append(
                new_entry(model_id, path, workflow, self.vendor) | availability(workflow, info)
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
        data = json_or_none(response)
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
