"""The sandbox: an offline vendor, so anyone can try every feature without keys.

It plays a remote service faithfully, so that what works on it holds for real vendors:
a create registers a task in the sandbox's own folder (not in our tables) that outlives
our process; polls report queued, then running with progress, then succeeded after a
simulated queue time; the result is fetched like a download (resumable, optionally
slowed down); tasks can be looked up by our client id, cancelled, and charged against a
make-believe balance with a daily free allowance.

Words in the prompt make it misbehave on purpose, to try failure paths:
``#fail`` (the task fails), ``#nsfw`` (the task is refused by "moderation"),
``#reject`` (the create itself is refused).

The sandbox renders a task the moment it is due (after its simulated queue time), in
a pool with one worker per core: threads for the command line, processes for the app (the
GUI keeps its UI thread free of Pillow's and PyAV's hold on the interpreter lock). A poll
in the process that started the render waits briefly for it to end, so the engine hears
of a finished take at once: the in-process equivalent of a vendor's webhook. A task
created by an earlier process is rendered when a poll first finds it due.

Each take has its own seed: the request's, or, when it names none, one derived from the
job's client request id, so two takes of one prompt show different scenes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import hashlib
import json
import multiprocessing
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from takestock.core.catalog import VendorSpec
from takestock.core.errors import (
    GenerationFailed,
    InvalidInput,
    ProtocolError,
    QuotaError,
    Rejected,
    ResultExpired,
)
from takestock.core.pricing import request_facts
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
from takestock.vendors.sandbox_render import dimensions, render_clip

__all__ = ["SandboxAdapter", "SandboxService"]

VENDOR = "sandbox"
STARTING_CREDITS = 10_000.0
_CHUNK = 64 * 1024


def seed_for(client_request_id: str) -> int:
    """The seed of a take whose request names none: stable for the job, different for
    every job (so resending a create renders the same take)."""
    return int.from_bytes(hashlib.sha256(client_request_id.encode()).digest()[:4], "big")


def _cores() -> int:
    """Cores this process may run on (a container or ``taskset`` may allow fewer)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    latency_s: float = 3.0
    download_s: float = 0.0
    daily_free: float = 100.0
    #: Render in a separate process, as a remote vendor would: the GUI keeps its UI
    #: thread free of Pillow's and PyAV's hold on the interpreter lock.
    render_in_process: bool = False
    #: How long a poll waits for a render of this process to end before answering
    #: "running": long enough that a take lands the moment it is made, short enough
    #: that progress still reaches the queue every second.
    push_wait_s: float = 1.0


def _yield_to_the_ui() -> None:
    """In a render worker of the app: every core renders, but the window comes first."""
    if hasattr(os, "nice"):
        os.nice(10)


class SandboxService:
    """The make-believe remote end: tasks, results and the ledger under ``root``."""

    def __init__(self, root: Path, settings: SandboxSettings = SandboxSettings()) -> None:
        self.root = root
        self.settings = settings
        self.tasks = root / "tasks"
        self.results = root / "results"
        self.by_client = root / "by-client"
        for folder in (self.tasks, self.results, self.by_client):
            folder.mkdir(parents=True, exist_ok=True)
        self._ledger_lock = threading.Lock()

    # The vendor's own record of every create it received, one JSON line each.
    @property
    def create_log(self) -> Path:
        return self.root / "creates.jsonl"

    def creates(self) -> list[dict[str, Any]]:
        if not self.create_log.exists():
            return []
        lines = self.create_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    # ------------------------------------------------------------------ ledger

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.jsonl"

    def _ledger_lines(self) -> list[dict[str, Any]]:
        if not self.ledger.exists():
            return []
        return [json.loads(x) for x in self.ledger.read_text("utf-8").splitlines() if x]

    def balance(self, now: float | None = None) -> dict[str, float]:
        """Today's free credits left (they reset at 00:00 UTC) and the paid balance."""
        now = time.time() if now is None else now
        today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        spent_by_day: dict[str, float] = {}
        for line in self._ledger_lines():
            day = dt.datetime.fromtimestamp(line["at"], dt.UTC).date().isoformat()
            spent_by_day[day] = spent_by_day.get(day, 0.0) + line["amount"]
        paid = STARTING_CREDITS
        for spent in spent_by_day.values():
            paid -= max(0.0, spent - self.settings.daily_free)
        free_left = max(0.0, self.settings.daily_free - spent_by_day.get(today, 0.0))
        return {"daily_free": free_left, "paid": paid, "total": free_left + paid}

    def _charge(self, task_id: str, amount: float) -> None:
        with self._ledger_lock, self.ledger.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"at": time.time(), "task": task_id, "amount": amount}) + "\n")

    # ------------------------------------------------------------------- tasks

    def create(
        self,
        client_id: str,
        model: str,
        request: dict[str, Any],
        cost: float,
        render: dict[str, Any],
    ) -> str:
        """Register a task; ``render`` fixes duration, aspect and height at create time."""
        prompt = request["prompt"]
        if "#reject" in prompt:
            raise Rejected(
                "Sandbox moderation refused the prompt (#reject)", vendor=VENDOR, vendor_code="1301"
            )
        if cost > self.balance()["total"]:
            raise QuotaError(
                f"Sandbox: not enough credits (this take costs {cost:g}, "
                f"the balance is {self.balance()['total']:g})",
                vendor=VENDOR,
                vendor_code="1102",
            )
        task_id = f"sbx-{uuid.uuid4().hex[:12]}"
        now = time.time()
        task = {
            "id": task_id,
            "client_id": client_id,
            "model": model,
            "request": request,
            "cost": cost,
            "render": render,
            "created_at": now,
            "started_at": now + self.settings.latency_s * 0.2,
            "ready_at": now + self.settings.latency_s,
            "cancelled": False,
        }
        _write_json(self.tasks / f"{task_id}.json", task)
        (self.by_client / client_id).write_text(task_id, encoding="utf-8")
        with self.create_log.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"task": task_id, "client_id": client_id, "at": now}) + "\n")
        self._charge(task_id, cost)
        return task_id

    def task(self, task_id: str) -> dict[str, Any]:
        path = self.tasks / f"{task_id}.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise GenerationFailed(
                f"Sandbox has no task {task_id}", vendor=VENDOR, vendor_code="404"
            ) from None
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"Sandbox task {task_id} is unreadable: {exc}") from exc
        return data

    def find(self, client_id: str) -> str | None:
        try:
            return (self.by_client / client_id).read_text("utf-8").strip()
        except FileNotFoundError:
            return None

    def cancel(self, task_id: str) -> bool:
        task = self.task(task_id)
        if self.result_path(task_id).exists() or task["cancelled"]:
            return False
        task["cancelled"] = True
        _write_json(self.tasks / f"{task_id}.json", task)
        self._charge(task_id, -task["cost"])
        return True

    def result_path(self, task_id: str) -> Path:
        return self.results / f"{task_id}.mp4"

    def status(self, task_id: str, now: float | None = None) -> dict[str, Any]:
        """The task's state; ``rendering``, with what to render, once it is due and
        until its clip is on disk (the adapter's render pool does the rendering)."""
        now = time.time() if now is None else now
        task = self.task(task_id)
        prompt = task["request"]["prompt"]
        if task["cancelled"]:
            return {"state": "cancelled"}
        if now < task["started_at"]:
            return {"state": "queued", "progress": 0.0}
        if now < task["ready_at"]:
            span = max(1e-6, task["ready_at"] - task["started_at"])
            return {"state": "running", "progress": round((now - task["started_at"]) / span, 3)}
        if "#fail" in prompt or "#nsfw" in prompt:
            if not task.get("refunded"):
                task["refunded"] = True
                _write_json(self.tasks / f"{task_id}.json", task)
                self._charge(task_id, -task["cost"])
            code = "content_policy" if "#nsfw" in prompt else "generation_failed"
            return {"state": "failed", "code": code}
        result = self.result_path(task_id)
        if not result.exists():
            return {"state": "rendering", "render": self.render_order(task, result)}
        return {"state": "succeeded", "url": f"sandbox://{task_id}", "size": result.stat().st_size}

    def render_order(self, task: dict[str, Any], result: Path) -> dict[str, Any]:
        """``render_clip``'s arguments for a task (plain data: it may cross processes).

        Two pollers may render at once (two processes); each writes its own temp file
        and the last rename wins with identical content.
        """
        req = GenerationRequest.from_json(task["request"])
        spec = task["render"]
        width, height = dimensions(int(spec["height_px"]), spec["aspect"])
        return {
            "dest": result,
            "prompt": req.prompt,
            "duration_s": float(spec["duration_s"]),
            "width": width,
            "height": height,
            "audio": bool(req.audio),
            # Tasks created before seeds were fixed at create time have none in "render".
            "seed": spec.get("seed", req.seed),
            "image": req.image,
            "last_frame": req.last_frame,
        }


class SandboxAdapter(BaseAdapter):
    """The sandbox's client side, written as any vendor adapter is."""

    vendor_id = VENDOR
    can_find = True

    def __init__(self, vendor: VendorSpec, service: SandboxService) -> None:
        super().__init__(vendor)
        self.service = service
        # Rendering is CPU-bound: one render per core at a time.
        self._workers = _cores()
        self._pool: concurrent.futures.Executor | None = None
        #: Renders this process started, by task id (each on the loop that started it).
        self._renders: dict[str, asyncio.Task[None]] = {}

    def _render_pool(self) -> concurrent.futures.Executor:
        if self._pool is None:
            if self.service.settings.render_in_process:
                # spawn: a fork of a process running Qt and threads is not safe.
                context = multiprocessing.get_context("spawn")
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self._workers, context, initializer=_yield_to_the_ui
                )
            else:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self._workers, thread_name_prefix="sandbox-render"
                )
        return self._pool

    def close(self) -> None:
        """Stop the render workers. Left to the interpreter's exit, a process pool's
        clean-up runs after ``concurrent.futures`` is torn down and fails noisily."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _render(self, task_id: str) -> asyncio.Task[None]:
        """The render of ``task_id`` in this process, started now if it was not."""
        loop = asyncio.get_running_loop()
        render = self._renders.get(task_id)
        if render is None or render.get_loop() is not loop:
            render = loop.create_task(self._render_when_due(task_id))
            self._renders[task_id] = render
            # Forgotten once finished, polled or not (a cancelled job is never polled
            # again): a later poll finds the clip on disk, or renders again and meets
            # the same failure.
            render.add_done_callback(functools.partial(self._forget, task_id))
        return render

    def _forget(self, task_id: str, render: asyncio.Task[None]) -> None:
        if self._renders.get(task_id) is render:
            del self._renders[task_id]
        if not render.cancelled():
            render.exception()  # seen: a poll renders again and reports the failure

    async def _render_when_due(self, task_id: str) -> None:
        task = await asyncio.to_thread(self.service.task, task_id)
        delay = task["ready_at"] - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        raw = await asyncio.to_thread(self.service.status, task_id)
        if raw["state"] == "rendering":
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(
                self._render_pool(), functools.partial(render_clip, **raw["render"])
            )

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        model = ctx.model
        if model is None:
            raise InvalidInput("model", "no model given")
        facts = request_facts(request, model)
        render = {
            "duration_s": facts["duration_s"],
            "aspect": facts["aspect"],
            "height_px": model.resolutions[facts["resolution"]],
            "seed": request.seed if request.seed is not None else seed_for(client_request_id),
        }
        # The sandbox charges its catalog price; a model a user added without one (to try
        # the unknown-price path) costs nothing here.
        cost = self.estimate(request, model).amount or 0.0
        task_id = await asyncio.to_thread(
            self.service.create, client_request_id, model.id, request.to_json(), cost, render
        )
        # As a vendor's farm would, start on the task without waiting to be asked.
        self._render(task_id)
        return TaskHandle(task_id)

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        render = self._render(handle.task_id)
        if not render.done():
            await asyncio.wait((render,), timeout=self.service.settings.push_wait_s)
        if render.done():
            failure = None if render.cancelled() else render.exception()
            if failure is not None:
                return TaskStatus(
                    TaskState.FAILED,
                    vendor_state="failed",
                    error=GenerationFailed(
                        f"Sandbox could not render the take: {failure}",
                        vendor=VENDOR,
                        vendor_code="render_error",
                    ),
                )
        raw = await asyncio.to_thread(self.service.status, handle.task_id)
        if raw["state"] == "rendering":  # due, and its render is still under way
            raw = {"state": "running", "progress": 0.99}
        state = raw["state"]
        if state == "succeeded":
            return TaskStatus(
                TaskState.SUCCEEDED,
                vendor_state="succeed",
                progress=1.0,
                results=(ResultRef(raw["url"], size=raw["size"]),),
            )
        if state == "failed":
            error: GenerationFailed | Rejected
            if raw["code"] == "content_policy":
                error = Rejected(
                    "Sandbox moderation blocked the result (#nsfw)",
                    vendor=VENDOR,
                    vendor_code=raw["code"],
                )
            else:
                error = GenerationFailed(
                    "Sandbox failed the task on purpose (#fail); credits were refunded",
                    vendor=VENDOR,
                    vendor_code=raw["code"],
                )
            return TaskStatus(TaskState.FAILED, vendor_state="failed", error=error)
        if state == "cancelled":
            return TaskStatus(TaskState.CANCELLED, vendor_state="cancelled")
        return TaskStatus(
            TaskState.RUNNING if state == "running" else TaskState.QUEUED,
            vendor_state=state,
            progress=raw.get("progress"),
        )

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        task_id = await asyncio.to_thread(self.service.find, client_request_id)
        return TaskHandle(task_id) if task_id else None

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        """Copy the result, resuming a partial file, paced like a slow network if asked."""
        task_id = result.url.removeprefix("sandbox://")
        source = self.service.result_path(task_id)
        if not source.exists():
            raise ResultExpired(f"Sandbox no longer has the result of {task_id}")
        total = source.stat().st_size
        offset = dest.stat().st_size if dest.exists() else 0
        if offset > total:
            dest.unlink()
            offset = 0
        pause = self.service.settings.download_s * _CHUNK / max(1, total)
        with source.open("rb") as src, dest.open("ab" if offset else "wb") as out:
            src.seek(offset)
            while chunk := src.read(_CHUNK):
                out.write(chunk)
                out.flush()
                if pause:
                    await asyncio.sleep(pause)

    async def balance(self, ctx: CallContext) -> Balance:
        raw = await asyncio.to_thread(self.service.balance)
        return Balance(raw["total"], self.vendor.unit, detail=raw)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        return await asyncio.to_thread(self.service.cancel, handle.task_id)
