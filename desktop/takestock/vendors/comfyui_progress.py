"""Progress of a running ComfyUI prompt, heard on ComfyUI's websocket.

The history and the queue decide every state (``vendors.comfyui``); the socket only
says which node runs and how far its sampler is, so a socket that cannot be had costs
nothing but progress. Messages (``/ws?clientId=``): ``executing`` ``{"node",
"prompt_id"}`` (``node: null`` when the prompt ends), ``progress`` ``{"value", "max",
"node", "prompt_id"}``, ``progress_state`` ``{"prompt_id", "nodes": {id: {"state",
"value", "max"}}}`` (newer servers), ``execution_success`` / ``_error`` /
``_interrupted``. Binary frames (previews) are skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect

from takestock import __version__

__all__ = ["Listeners", "Watch", "running_text"]

log = logging.getLogger(__name__)
_MARKS = re.compile(r"\s*takestock:\S*")


@dataclass
class Watch:
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
        """The running node's share done (0..0.99), once it has made a step."""
        if not self.value or not self.max:
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
            elif str(data["node"]) != self.node:
                # A new node: the last one's step count says nothing about it.
                self.node = str(data["node"])
                self.value = self.max = None
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


class Listeners:
    """Websocket listeners for running prompts, kept by the adapter between polls.

    Each listener is a task on the loop that polls; it never blocks a poll, ends by
    itself (final event, ``idle_s`` without a poll, three failed connections), and dies
    with its loop. A poll from a new loop (a new ``asyncio.run``) starts a new one.
    """

    def __init__(self, *, idle_s: float = 60.0, attempts: int = 3) -> None:
        self.idle_s = idle_s
        self.attempts = attempts
        self._watches: dict[str, Watch] = {}

    def __len__(self) -> int:
        """How many listeners are connected or connecting now."""
        return sum(1 for w in self._watches.values() if w.task is not None and not w.task.done())

    @property
    def watching(self) -> list[str]:
        """The prompt ids with a listener kept (running, finished or failed)."""
        return list(self._watches)

    def get(self, prompt_id: str) -> Watch | None:
        return self._watches.get(prompt_id)

    def watch(self, base_url: str, prompt_id: str, client_id: str) -> Watch:
        """The prompt's listener, started (or restarted after a failure) as needed."""
        loop = asyncio.get_running_loop()
        self._prune()
        watch = self._watches.get(prompt_id)
        if watch is not None and watch.loop is not loop:
            self._drop(watch)
            watch = None
        if watch is None:
            url = _ws_url(base_url, client_id)
            watch = self._watches[prompt_id] = Watch(prompt_id, url, loop)
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

    def _drop(self, watch: Watch) -> None:
        self._watches.pop(watch.prompt_id, None)
        task = watch.task
        if task is None or task.done() or watch.loop.is_closed():
            return
        if watch.loop is asyncio.get_running_loop():
            task.cancel()
        else:
            watch.loop.call_soon_threadsafe(task.cancel)

    async def _listen(self, watch: Watch) -> None:
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


def _feed_text(watch: Watch, text: str) -> None:
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


def running_text(prompt: Any, watch: Watch) -> str:
    """ "running KSampler (node 3), step 12/30": the node the socket last named."""
    if watch.node is None:
        return "running"
    node = prompt.get(watch.node) if isinstance(prompt, dict) else None
    name = ""
    if isinstance(node, dict):
        meta = node.get("_meta")
        title = meta.get("title") if isinstance(meta, dict) else None
        name = _MARKS.sub("", str(title or "")).strip() or str(node.get("class_type") or "")
    text = f"running {name} (node {watch.node})" if name else f"running node {watch.node}"
    if watch.value and watch.max:
        text += f", step {watch.value:g}/{watch.max:g}"
    return text
