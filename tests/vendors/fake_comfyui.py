"""A fake ComfyUI server for the ComfyUI adapter's tests.

It speaks the HTTP and websocket protocol of ``shared/vendors/comfyui.md`` on 127.0.0.1,
shaped after ComfyUI's own ``server.py`` (routes, and every route again under ``/api``),
``execution.py`` (``validate_prompt`` and its error dictionaries, the executor's
messages) and ``main.py`` (the history entry and its ``status``). There is no official
client to witness it, so the shapes follow those files closely. Serve it with
``FakeComfyUI(...).serve()``.

``POST /prompt`` ``{"prompt", "client_id"?, "prompt_id"?, "number"?, "front"?,
    "extra_data"?}``: the graph is validated like ComfyUI's ``validate_prompt`` against
    the fake's node classes (``NODES``: a few core nodes with their real input names):
    unknown class -> 400 ``invalid_prompt`` "Cannot execute because node X does not
    exist."; no output node -> 400 ``prompt_no_outputs``; per node
    ``required_input_missing``, ``bad_linked_input``, ``return_type_mismatch``,
    ``value_not_in_list`` (model files the fake "has", in ``files``),
    ``value_smaller_than_min`` / ``value_bigger_than_max``, and LoadImage's
    ``custom_validation_failed`` "Invalid image file" for an image never uploaded. When
    no output is valid: 400 ``prompt_outputs_failed_validation`` with ``node_errors``;
    when some are: 200 with ``node_errors`` and the prompt queued for the valid ones.
    A ``prompt_id`` must be a UUID (newer servers validate it; our assumption: 400);
    ``honour_prompt_id=False`` plays a server from before client ids (its own uuid4).
    No body -> 400 ``no_prompt``. Success: ``{"prompt_id", "number", "node_errors": {}}``.

Execution: one prompt at a time, lowest ``number`` first, on the server's loop. For a
    client with a socket open under its ``client_id``: ``execution_start``,
    ``execution_cached``, ``executing`` per node, ``progress`` per sampler step (and a
    binary preview frame), ``executed`` for the save node, then ``execution_success``
    and ``executing`` with ``node: null``; or ``execution_error`` (a positive prompt
    holding "#error": a ``torch.OutOfMemoryError`` in the KSampler) or
    ``execution_interrupted`` (after ``POST /interrupt``). The history entry is written
    before the final ``executing``, as in ``main.py``. ``paused=True`` holds the queue.
    Unrelated broadcasts (``status``, a custom node's ``crystools.monitor``) go to every
    socket.

``GET /history/{id}`` ({} until done), ``GET /history?max_items=``, ``GET /queue``,
``POST /queue`` ``{"delete"}``/``{"clear"}``, ``POST /interrupt`` (``{"prompt_id"}``
    optional: then only that prompt), ``POST /upload/image`` (multipart ``image``,
    ``type``, ``subfolder``, ``overwrite``; a taken name gets " (1)" unless the bytes are
    the same), ``GET /view`` (``filename``, ``subfolder``, ``type``; Range; 404 once the
    file is deleted), ``GET /object_info`` and ``/object_info/{class}`` (``{}`` for a
    class it lacks; ``input_order``; combos of newer nodes as ``["COMBO", {"options"}]``),
    ``GET /models`` and ``/models/{folder}`` (``app/model_manager.py``: folder names,
    then file names; 404 for an unknown folder), ``GET /ws?clientId=``
    (``ws_enabled=False``: 404, like a proxy that does not upgrade; ``drop_ws_after``
    closes sockets after that many progress events).

``restart()`` plays a ComfyUI restart: queue and history (kept in memory) gone, a
    running prompt killed without a message or history entry, numbering from 0 again;
    files written to output/ and uploads stay. Each save node's counter continues the
    highest one of its prefix, as ``folder_paths.get_save_image_path`` does.

State for assertions: ``prompts`` (accepted bodies), ``uploads`` (name -> bytes),
``upload_forms``, ``ws_clients``, ``history``, ``runs`` (prompt ids in the order run).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_comfyui_nodes import (
    DISPLAY,
    FILES,
    FOLDERS,
    NODES,
    SAMPLERS,
    NodeClass,
    PromptCheck,
    err,
    multipart,
    order,
    positive_text,
    text,
)

__all__ = ["NODES", "FakeComfyUI", "NodeClass"]

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_OOM = "Allocation on device 0 would exceed allowed memory. (out of memory)"
_JPEG = b"\xff\xd8\xff\xe0fake preview\xff\xd9"


@dataclass
class _Run:
    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]

    def item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass(eq=False)
class FakeComfyUI:
    """The fake server's state and its aiohttp ``app``; see the module docstring."""

    video: bytes = field(default_factory=tiny_mp4, repr=False)
    steps: int = 3
    step_s: float = 0.01
    paused: bool = False
    honour_prompt_id: bool = True
    ws_enabled: bool = True
    drop_ws_after: int | None = None
    files: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in FILES.items()}
    )
    nodes: dict[str, NodeClass] = field(default_factory=lambda: dict(NODES))

    prompts: list[dict[str, Any]] = field(default_factory=list, init=False)
    uploads: dict[str, bytes] = field(default_factory=dict, init=False)
    upload_forms: list[dict[str, str]] = field(default_factory=list, init=False)
    ws_clients: list[str] = field(default_factory=list, init=False)
    history: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    runs: list[str] = field(default_factory=list, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Run] = []
        self._running: _Run | None = None
        self._interrupt = False
        self._killed = False
        self._number = 0
        self._outputs: dict[tuple[str, str, str], bytes] = {}
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._progress_sent = 0
        self.app = web.Application()
        routes = [
            web.post("/prompt", self._post_prompt),
            web.get("/prompt", self._get_prompt),
            web.get("/queue", self._get_queue),
            web.post("/queue", self._post_queue),
            web.post("/interrupt", self._post_interrupt),
            web.get("/history", self._get_history),
            web.get("/history/{prompt_id}", self._get_history_item),
            web.post("/history", self._post_history),
            web.post("/upload/image", self._upload),
            web.get("/view", self._view),
            web.get("/object_info", self._object_info),
            web.get("/object_info/{node_class}", self._object_info_one),
            web.get("/models", self._models),
            web.get("/models/{folder}", self._model_files),
            web.get("/ws", self._ws),
        ]
        # ComfyUI serves every route twice: as is and under /api.
        api = [web.route(r.method, "/api" + r.path, r.handler) for r in routes]
        self.app.add_routes(api + routes)
        self.app.on_startup.append(self._start_worker)
        self.app.on_shutdown.append(self._close_sockets)

    # ---- for tests ---------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        assert self.server is not None, "call serve() first"
        return self.server.url

    def count_prompts(self) -> int:
        with self._lock:
            return len(self.prompts)

    def resume(self) -> None:
        with self._lock:
            self.paused = False

    def pending_ids(self) -> list[str]:
        with self._lock:
            return [r.prompt_id for r in self._queue]

    def running_id(self) -> str | None:
        with self._lock:
            return self._running.prompt_id if self._running else None

    def delete_outputs(self) -> None:
        with self._lock:
            self._outputs.clear()

    def restart(self) -> None:
        """What a server restart does: the queue and the history (kept in memory) are
        gone, a prompt running is killed without a trace, the numbering starts again;
        files written to output/ and input/ stay."""
        with self._lock:
            self._queue.clear()
            self.history.clear()
            self._number = 0
            if self._running is not None:
                self._killed = True

    def wait_running(self, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = self.running_id()
            if running is not None:
                return running
            time.sleep(0.005)
        raise TimeoutError("no prompt started running")

    # ---- validation (execution.validate_prompt) -------------------------------------

    def _allowed(self, spec: Any) -> list[Any] | None:
        if isinstance(spec, str) and spec.startswith("@"):
            folder = spec[1:].removesuffix("+upload")
            return list(self.uploads) if folder == "input" else self.files.get(folder, [])
        if isinstance(spec, list) and spec and isinstance(spec[0], list):
            return spec[0]
        return None

    # ---- HTTP --------------------------------------------------------------------------

    async def _post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid json"}, status=400)
        if not isinstance(body, dict) or "prompt" not in body:
            error = err("no_prompt", "No prompt provided", "No prompt provided")
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt_id = str(uuid.uuid4())
        if self.honour_prompt_id and "prompt_id" in body:
            prompt_id = str(body["prompt_id"])
            if not _UUID.match(prompt_id):
                error = err(
                    "invalid_prompt",
                    f"Invalid prompt_id format: expected UUID, got {prompt_id[:40]!r}",
                    "",
                )
                return web.json_response({"error": error, "node_errors": {}}, status=400)
        error, good, node_errors = PromptCheck(self.nodes, self._allowed, self.uploads).validate(
            body["prompt"]
        )
        if error is not None:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        with self._lock:
            if "number" in body:
                number = float(body["number"])
            else:
                number = -self._number if body.get("front") else self._number
                self._number += 1
            self._queue.append(_Run(number, prompt_id, body["prompt"], extra, good))
            self.prompts.append(body)
        await self._broadcast_status()
        return web.json_response(
            {"prompt_id": prompt_id, "number": number, "node_errors": node_errors}
        )

    async def _get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response(self._queue_info())

    def _queue_info(self) -> dict[str, Any]:
        with self._lock:
            remaining = len(self._queue) + (1 if self._running else 0)
        return {"exec_info": {"queue_remaining": remaining}}

    async def _get_queue(self, request: web.Request) -> web.Response:
        with self._lock:
            running = [self._running.item()] if self._running else []
            pending = [r.item() for r in self._queue]
        return web.json_response({"queue_running": running, "queue_pending": pending})

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            if body.get("clear"):
                self._queue.clear()
            for prompt_id in body.get("delete") or ():
                self._queue = [r for r in self._queue if r.prompt_id != prompt_id]
        await self._broadcast_status()
        return web.Response(status=200)

    async def _post_interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        wanted = body.get("prompt_id") if isinstance(body, dict) else None
        with self._lock:
            if self._running is not None and wanted in (None, self._running.prompt_id):
                self._interrupt = True
        return web.Response(status=200)

    async def _get_history(self, request: web.Request) -> web.Response:
        max_items = request.query.get("max_items")
        with self._lock:
            items = list(self.history.items())
        if max_items is not None:
            items = items[-int(max_items) :]
        return web.json_response(dict(items))

    async def _get_history_item(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        with self._lock:
            entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def _post_history(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            if body.get("clear"):
                self.history.clear()
            for prompt_id in body.get("delete") or ():
                self.history.pop(prompt_id, None)
        return web.Response(status=200)

    async def _upload(self, request: web.Request) -> web.Response:
        # The harness has read the body already; parse the multipart form from it.
        form = multipart(request.headers.get("Content-Type", ""), await request.read())
        image = form.get("image")
        if image is None or not image[0]:
            return web.Response(status=400)
        name, content_type, data = image
        kind = text(form.get("type")) or "input"
        subfolder = text(form.get("subfolder"))
        overwrite = text(form.get("overwrite")) in ("true", "1")
        with self._lock:
            self.upload_forms.append(
                {
                    "filename": name,
                    "content_type": content_type,
                    "type": kind,
                    "subfolder": subfolder,
                    "overwrite": text(form.get("overwrite")),
                }
            )
            key = f"{subfolder}/{name}" if subfolder else name
            stem, dot, ext = name.rpartition(".")
            i = 1
            while not overwrite and key in self.uploads and self.uploads[key] != data:
                name = f"{stem} ({i}){dot}{ext}"
                key = f"{subfolder}/{name}" if subfolder else name
                i += 1
            self.uploads[key] = data
        return web.json_response({"name": name, "subfolder": subfolder, "type": kind})

    async def _view(self, request: web.Request) -> web.Response:
        filename = request.query.get("filename")
        if not filename:
            return web.Response(status=404)
        if filename.startswith("/") or ".." in filename:
            return web.Response(status=400)
        key = (request.query.get("type", "output"), request.query.get("subfolder", ""), filename)
        with self._lock:
            data = self._outputs.get(key)
        if data is None:
            return web.Response(status=404)
        headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'filename="{filename}"'}
        match = _RANGE.fullmatch(request.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            if start >= len(data):
                return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return web.Response(
                status=206, body=data[start:], headers=headers, content_type="video/mp4"
            )
        return web.Response(body=data, headers=headers, content_type="video/mp4")

    def _node_info(self, name: str, cls: NodeClass) -> dict[str, Any]:
        """One class as ``server.py``'s ``node_info`` describes it."""

        def spec(value: Any) -> Any:
            allowed = self._allowed(value)
            if isinstance(value, str) and allowed is not None:
                upload = {"image_upload": True} if value.endswith("+upload") else {}
                return [allowed, upload] if upload else [allowed]
            if cls.v3 and isinstance(value, list) and value and isinstance(value[0], list):
                return ["COMBO", {"options": value[0], **(value[1] if len(value) > 1 else {})}]
            return value

        return {
            "input": {
                "required": {k: spec(v) for k, v in cls.required.items()},
                "optional": {k: spec(v) for k, v in cls.optional.items()},
            },
            "input_order": {"required": list(cls.required), "optional": list(cls.optional)},
            "output": list(cls.returns),
            "output_is_list": [False] * len(cls.returns),
            "output_name": list(cls.returns),
            "output_node": cls.output_node,
            "name": name,
            "display_name": DISPLAY.get(name, name),
            "description": "",
            "python_module": "nodes",
            "category": "fake",
        }

    async def _object_info(self, request: web.Request) -> web.Response:
        return web.json_response({n: self._node_info(n, c) for n, c in self.nodes.items()})

    async def _object_info_one(self, request: web.Request) -> web.Response:
        # server.py: {class: info} for a known class, {} for any other name.
        name = request.match_info["node_class"]
        cls = self.nodes.get(name)
        return web.json_response({name: self._node_info(name, cls)} if cls else {})

    async def _models(self, request: web.Request) -> web.Response:
        # app/model_manager.py: the folder names, then one folder's file names.
        with self._lock:
            return web.json_response(sorted(set(self.files) | set(FOLDERS)))

    async def _model_files(self, request: web.Request) -> web.Response:
        folder = request.match_info["folder"]
        if folder not in self.files and folder not in FOLDERS:
            return web.Response(status=404)
        with self._lock:
            return web.json_response(list(self.files.get(folder, [])))

    # ---- websocket ---------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not self.ws_enabled:
            return web.Response(status=404)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        with self._lock:
            self._sockets.pop(sid, None)  # ComfyUI: a reconnect replaces the old socket
            self._sockets[sid] = ws
            self.ws_clients.append(sid)
        try:
            await ws.send_json(
                {"type": "status", "data": {"status": self._queue_info(), "sid": sid}}
            )
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            with self._lock:
                if self._sockets.get(sid) is ws:
                    del self._sockets[sid]
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        with self._lock:
            sockets = list(self._sockets.values())
        for ws in sockets:
            await ws.close()

    async def _send(self, sid: str | None, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._sockets.values()) if sid is None else [self._sockets.get(sid)]
        for ws in targets:
            if ws is not None and not ws.closed:
                with suppress(ConnectionError):  # a client that just went away
                    await ws.send_json({"type": kind, "data": data})

    async def _send_bytes(self, sid: str | None, data: bytes) -> None:
        with self._lock:
            ws = self._sockets.get(sid) if sid else None
        if ws is not None and not ws.closed:
            with suppress(ConnectionError):
                await ws.send_bytes(data)

    async def _broadcast_status(self) -> None:
        await self._send(None, "status", {"status": self._queue_info()})

    # ---- the executor --------------------------------------------------------------------

    async def _start_worker(self, app: web.Application) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while True:
            with self._lock:
                run = None
                if self._queue and not self.paused:
                    run = min(self._queue, key=lambda r: r.number)
                    self._queue.remove(run)
                    self._running = run
                    self._interrupt = self._killed = False
            if run is None:
                await asyncio.sleep(0.002)
                continue
            try:
                await self._execute(run)
            finally:
                with self._lock:
                    self._running = None
                await self._broadcast_status()

    async def _execute(self, run: _Run) -> None:
        sid = run.extra_data.get("client_id")
        messages: list[list[Any]] = []
        self.runs.append(run.prompt_id)

        async def add(kind: str, data: dict[str, Any], broadcast: bool = False) -> None:
            data = {**data, "timestamp": int(time.time() * 1000)}
            messages.append([kind, data])
            await self._send(None if broadcast else sid, kind, data)

        await add("execution_start", {"prompt_id": run.prompt_id})
        await add("execution_cached", {"nodes": [], "prompt_id": run.prompt_id})
        await self._send(None, "crystools.monitor", {"cpu_utilization": 12.5})
        outputs: dict[str, Any] = {}
        executed: list[str] = []
        for node_id in order(run.prompt, run.outputs):
            node = run.prompt[node_id]
            await self._send(
                sid,
                "executing",
                {"node": node_id, "display_node": node_id, "prompt_id": run.prompt_id},
            )
            failure = await self._run_node(run, node_id, node, sid)
            if failure == "killed":
                return  # the process died: no message, no history
            if failure == "interrupted":
                await add(
                    "execution_interrupted",
                    {
                        "prompt_id": run.prompt_id,
                        "node_id": node_id,
                        "node_type": node["class_type"],
                        "executed": executed,
                    },
                    broadcast=True,
                )
                self._finish(run, outputs, messages, success=False)
                return
            if failure == "error":
                await add(
                    "execution_error",
                    {
                        "prompt_id": run.prompt_id,
                        "node_id": node_id,
                        "node_type": node["class_type"],
                        "executed": executed,
                        "exception_message": _OOM,
                        "exception_type": "torch.OutOfMemoryError",
                        "traceback": ['  File "execution.py", line 1, in execute\n'],
                        "current_inputs": {},
                        "current_outputs": {},
                    },
                )
                self._finish(run, outputs, messages, success=False)
                return
            executed.append(node_id)
            ui = self._save(run, node_id, node)
            if ui is not None:
                outputs[node_id] = ui
                await self._send(
                    sid,
                    "executed",
                    {
                        "node": node_id,
                        "display_node": node_id,
                        "output": ui,
                        "prompt_id": run.prompt_id,
                    },
                )
        await add("execution_success", {"prompt_id": run.prompt_id})
        self._finish(run, outputs, messages, success=True)
        await self._send(sid, "executing", {"node": None, "prompt_id": run.prompt_id})

    async def _run_node(
        self, run: _Run, node_id: str, node: dict[str, Any], sid: str | None
    ) -> str | None:
        if node["class_type"] not in SAMPLERS:
            return None
        for step in range(1, self.steps + 1):
            with self._lock:
                if self._killed:
                    return "killed"
                if self._interrupt:
                    return "interrupted"
            if step == 2 and positive_text(run.prompt, node).find("#error") >= 0:
                return "error"
            await self._send(
                sid,
                "progress",
                {"value": step, "max": self.steps, "prompt_id": run.prompt_id, "node": node_id},
            )
            await self._send_bytes(sid, (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + _JPEG)
            self._progress_sent += 1
            if self.drop_ws_after is not None and self._progress_sent >= self.drop_ws_after:
                await self._close_sockets(self.app)
            await asyncio.sleep(self.step_s)
        with self._lock:
            if self._killed:
                return "killed"
            return "interrupted" if self._interrupt else None

    def _save(self, run: _Run, node_id: str, node: dict[str, Any]) -> dict[str, Any] | None:
        kind = node["class_type"]
        if kind not in ("SaveVideo", "VHS_VideoCombine", "SaveImage"):
            return None
        prefix = str(node["inputs"].get("filename_prefix") or "ComfyUI")
        subfolder, _, stem = prefix.rpartition("/")
        # folder_paths.get_save_image_path: one past the highest counter of this prefix.
        with self._lock:
            taken = [k for k in self._outputs if k[1] == subfolder and k[2].startswith(stem + "_")]
        count = len(taken) + 1
        if kind == "SaveImage":
            filename = f"{stem}_{count:05}_.png"
            entry = {"filename": filename, "subfolder": subfolder, "type": "output"}
            with self._lock:
                self._outputs[("output", subfolder, filename)] = b"\x89PNG fake"
            return {"images": [entry]}
        filename = f"{stem}_{count:05}_.mp4"
        entry = {"filename": filename, "subfolder": subfolder, "type": "output"}
        with self._lock:
            self._outputs[("output", subfolder, filename)] = self.video
        if kind == "VHS_VideoCombine":
            preview = f"{stem}_{count:05}.png"
            with self._lock:
                self._outputs[("output", subfolder, preview)] = b"\x89PNG fake"
            return {
                "gifs": [
                    {
                        **entry,
                        "format": "video/h264-mp4",
                        "frame_rate": 16.0,
                        "workflow": preview,
                        "fullpath": f"/srv/ComfyUI/output/{subfolder}/{filename}",
                    }
                ]
            }
        return {"images": [entry], "animated": [True]}

    def _finish(
        self, run: _Run, outputs: dict[str, Any], messages: list[list[Any]], *, success: bool
    ) -> None:
        entry = {
            "prompt": run.item(),
            "outputs": outputs,
            "status": {
                "status_str": "success" if success else "error",
                "completed": success,
                "messages": messages,
            },
            "meta": {
                nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                for nid in outputs
            },
        }
        with self._lock:
            self.history[run.prompt_id] = entry
