"""The sandbox adapter: renders start on their own, polls hear of them at once, every
core renders, and every take has its own seed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

import takestock.vendors.sandbox as sandbox
from takestock.core.catalog import load_catalog
from takestock.core.errors import GenerationFailed
from takestock.core.vendor import CallContext, GenerationRequest, TaskState
from takestock.vendors.sandbox import SandboxAdapter, SandboxService, SandboxSettings, seed_for

REQUEST = GenerationRequest(prompt="a kite", duration_s=1, resolution="360p", aspect="16:9")


def _adapter(root: Path, **settings: Any) -> SandboxAdapter:
    spec = load_catalog().vendor("sandbox")
    fields = {"latency_s": 0.0, "push_wait_s": 60.0, **settings}
    return SandboxAdapter(spec, SandboxService(root, SandboxSettings(**fields)))


def _run(adapter: SandboxAdapter, body: Callable[[CallContext], Coroutine[Any, Any, Any]]) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=adapter.vendor,
                base_url="sandbox:",
                model=adapter.vendor.models["sandbox-v1"],
            )
            return await body(ctx)

    return asyncio.run(go())


class GatedRender:
    """Stands in for ``render_clip``: writes a file once the test opens the gate, and
    counts how many renders ran at once."""

    def __init__(self, parties: int = 1) -> None:
        self.gate = threading.Event()
        self.together = threading.Barrier(parties, timeout=30)
        self.started = threading.Semaphore(0)
        self.seeds: list[int | None] = []

    def __call__(self, dest: Path, **order: Any) -> None:
        self.seeds.append(order["seed"])
        self.started.release()
        self.together.wait()
        assert self.gate.wait(30), "the test never opened the gate"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(f"clip {order['seed']}".encode())


def test_a_poll_answers_the_moment_the_render_ends(tmp_path, monkeypatch):
    render = GatedRender()
    monkeypatch.setattr(sandbox, "render_clip", render)
    adapter = _adapter(tmp_path)

    async def body(ctx: CallContext) -> Any:
        handle = await adapter.submit(ctx, REQUEST, "client-1")
        poll = asyncio.create_task(adapter.poll(ctx, handle))
        # The render started without a poll asking for it; the poll waits on it.
        await asyncio.to_thread(render.started.acquire, True, 30)
        await asyncio.sleep(0)
        waiting = not poll.done()
        render.gate.set()
        return waiting, await poll

    waiting, status = _run(adapter, body)
    assert waiting
    assert status.state is TaskState.SUCCEEDED  # in the same poll: no second round trip
    assert status.results[0].size == len(b"clip ") + len(str(seed_for("client-1")))


def test_a_poll_still_answers_running_while_a_long_render_goes_on(tmp_path, monkeypatch):
    render = GatedRender()
    monkeypatch.setattr(sandbox, "render_clip", render)
    adapter = _adapter(tmp_path, push_wait_s=0.01)

    async def body(ctx: CallContext) -> Any:
        handle = await adapter.submit(ctx, REQUEST, "client-1")
        await asyncio.to_thread(render.started.acquire, True, 30)
        first = await adapter.poll(ctx, handle)
        render.gate.set()
        second = await adapter.poll(ctx, handle)
        return first, second

    first, second = _run(adapter, body)
    assert first.state is TaskState.RUNNING
    assert second.state is TaskState.SUCCEEDED


def test_renders_use_every_core(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_cores", lambda: 3)
    render = GatedRender(parties=3)  # breaks (and fails the takes) unless 3 run at once
    monkeypatch.setattr(sandbox, "render_clip", render)
    adapter = _adapter(tmp_path)
    render.gate.set()

    async def body(ctx: CallContext) -> Any:
        handles = [await adapter.submit(ctx, REQUEST, f"client-{i}") for i in range(3)]
        return await asyncio.gather(*(adapter.poll(ctx, h) for h in handles))

    statuses = _run(adapter, body)
    assert [s.state for s in statuses] == [TaskState.SUCCEEDED] * 3


def test_each_take_gets_its_own_seed_unless_the_request_names_one(tmp_path, monkeypatch):
    render = GatedRender()
    render.gate.set()
    monkeypatch.setattr(sandbox, "render_clip", render)
    adapter = _adapter(tmp_path)
    seeded = GenerationRequest(prompt="a kite", duration_s=1, resolution="360p", seed=7)

    async def body(ctx: CallContext) -> Any:
        for client_id, request in (("a", REQUEST), ("b", REQUEST), ("c", seeded)):
            await adapter.poll(ctx, await adapter.submit(ctx, request, client_id))

    _run(adapter, body)
    assert render.seeds == [seed_for("a"), seed_for("b"), 7]
    assert seed_for("a") != seed_for("b")
    assert seed_for("a") == seed_for("a")  # a resent create renders the same take


def test_a_render_that_fails_fails_the_take(tmp_path, monkeypatch):
    def broken(dest: Path, **order: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sandbox, "render_clip", broken)
    adapter = _adapter(tmp_path)

    async def body(ctx: CallContext) -> Any:
        return await adapter.poll(ctx, await adapter.submit(ctx, REQUEST, "client-1"))

    status = _run(adapter, body)
    assert status.state is TaskState.FAILED
    assert isinstance(status.error, GenerationFailed)
    assert "disk full" in str(status.error)


def test_a_task_left_by_another_process_is_rendered_when_polled(tmp_path, monkeypatch):
    render = GatedRender()
    render.gate.set()
    monkeypatch.setattr(sandbox, "render_clip", render)
    first, second = _adapter(tmp_path), _adapter(tmp_path)
    # The first process creates the task and goes away before rendering it.
    monkeypatch.setattr(first, "_render", lambda task_id: None)

    async def body(ctx: CallContext) -> Any:
        handle = await first.submit(ctx, REQUEST, "client-1")
        return await second.poll(ctx, handle)

    assert _run(second, body).state is TaskState.SUCCEEDED
    assert render.seeds == [seed_for("client-1")]


@pytest.mark.slow
def test_the_app_renders_real_takes_in_worker_processes(tmp_path):
    adapter = _adapter(tmp_path, render_in_process=True)

    async def body(ctx: CallContext) -> Any:
        handles = [await adapter.submit(ctx, REQUEST, f"client-{i}") for i in range(2)]
        return await asyncio.gather(*(adapter.poll(ctx, h) for h in handles))

    statuses = _run(adapter, body)
    assert [s.state for s in statuses] == [TaskState.SUCCEEDED] * 2
    clips = [
        adapter.service.result_path(s.results[0].url.removeprefix("sandbox://")) for s in statuses
    ]
    assert clips[0].read_bytes() != clips[1].read_bytes()


@pytest.mark.slow
def test_two_takes_of_one_prompt_differ(home):
    def takestock(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "takestock", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "TAKESTOCK_SANDBOX_LATENCY": "0"},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    takestock(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "x",
        "--duration", "1", "--resolution", "360p", "--count", "2", "--wait",
    )  # fmt: skip
    takes = json.loads(takestock("takes", "--json"))["takes"]
    assert len(takes) == 2
    assert takes[0]["sha256"] != takes[1]["sha256"]
