"""Sandbox takes, from the request to the take in the library, against rendering alone.

Target (issue 15): 50 sandbox takes of 2 s at 360p land in at most 1.3x the wall time of
the floor: PyAV rendering the same 50 clips one after another in one process
(``render_clip``, the sandbox's own renderer, with the seeds the takes get). Prints
figures and ratios; asserts only behaviour (50 takes, 50 different files).

Each side runs in a fresh process, so its wall time and CPU (user + system, the
process and its render workers) are its own. Takestock's side is the engine as the
command line runs it (renders in a thread pool) and as the app runs it (renders in a
process pool, so the UI thread never waits on the interpreter lock). The sandbox's
make-believe queue time is set to 0 (``TAKESTOCK_SANDBOX_LATENCY``): the floor has none,
and the wait it simulates would dwarf both. No ``TAKESTOCK_POLL_INTERVAL``: polling
follows the sandbox's catalog entry and the adapter's completion push, as in use.

The floor is measured before and after Takestock's runs and the lower one is used: on a
shared machine the load moves between runs.

Run: ``pytest -q -s tests/bench/test_bench_sandbox.py``. ``TAKESTOCK_BENCH_SANDBOX_TAKES``
sets the number of takes (default 50).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.bench

TAKES = int(os.environ.get("TAKESTOCK_BENCH_SANDBOX_TAKES", "50"))
DURATION_S, RESOLUTION, ASPECT = 2.0, "360p", "16:9"
PROMPT = "a paper boat on a rainy street"
REPO = Path(__file__).resolve().parents[2]


def floor_child(home: str, out: str) -> None:
    """Render the clips the takes would be, one after another, with nothing around it."""
    from takestock.vendors.sandbox import seed_for
    from takestock.vendors.sandbox_render import dimensions, render_clip

    width, height = dimensions(360, ASPECT)
    folder = Path(home) / "floor"
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(TAKES):
        render_clip(
            folder / f"{i}.mp4",
            prompt=PROMPT,
            duration_s=DURATION_S,
            width=width,
            height=height,
            seed=seed_for(f"bench-{i}"),
        )
    wall = time.perf_counter() - started
    Path(out).write_text(json.dumps({"wall_s": wall, "cpu_s": time.process_time() - cpu}))


def takes_child(home: str, mode: str, out: str) -> None:
    """Enqueue the takes and drive them to the library, as the command line or app does."""
    import asyncio

    os.environ["TAKESTOCK_HOME"] = home
    os.environ["TAKESTOCK_SANDBOX_LATENCY"] = "0"
    os.environ.pop("TAKESTOCK_POLL_INTERVAL", None)
    from takestock.core.jobs import Target
    from takestock.core.takes import list_takes
    from takestock.core.vendor import GenerationRequest
    from takestock.wiring import open_services

    services = open_services(gui=mode == "app")
    engine = services.engine()
    request = GenerationRequest(
        prompt=PROMPT, duration_s=DURATION_S, resolution=RESOLUTION, aspect=ASPECT
    )
    started = time.perf_counter()
    ids: list[int] = []
    for first in range(0, TAKES, 20):  # 20 takes is the most one request asks for
        count = min(20, TAKES - first)
        ids += engine.enqueue(request, [Target("sandbox", "sandbox-v1")], count=count)[1]
    jobs = asyncio.run(engine.run(ids))
    wall = time.perf_counter() - started
    takes = list_takes(services.store, services.paths.media)
    figures = {
        "wall_s": wall,
        "states": sorted({j.state for j in jobs}),
        "takes": len(takes),
        "distinct": len({t.sha256 for t in takes}),
    }
    Path(out).write_text(json.dumps(figures))
    services.close()
    # At exit the render pool's worker processes are joined, so their CPU counts here.


def _child(function: str, *args: str) -> dict[str, Any]:
    """Run ``function`` of this module in a fresh process; its figures and its CPU."""
    out = Path(args[0]) / f"{function}-{time.monotonic_ns()}.json"
    code = (
        f"import sys; from tests.bench.test_bench_sandbox import {function};"
        f" {function}(*sys.argv[1:])"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO / "desktop"), str(REPO), os.environ.get("PYTHONPATH")) if p
        ),
    }
    before = os.times()
    done = subprocess.run(
        [sys.executable, "-c", code, *args, str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
        check=False,
    )
    after = os.times()
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["process_cpu_s"] = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return figures


def test_sandbox_takes_against_the_pyav_floor(tmp_path: Path) -> None:
    load_before = os.getloadavg()
    first = _child("floor_child", str(tmp_path / "floor1"))
    runs = {}
    for mode in ("command-line", "app"):
        home = tmp_path / mode
        home.mkdir()
        runs[mode] = _child("takes_child", str(home), mode)
    second = _child("floor_child", str(tmp_path / "floor2"))
    load_after = os.getloadavg()

    for mode, run in runs.items():
        assert run["states"] == ["done"], (mode, run)
        assert run["takes"] == TAKES, (mode, run)
        assert run["distinct"] == TAKES, (mode, run)  # every take its own picture

    floor = min(first["wall_s"], second["wall_s"])
    lines = [
        f"\nBENCH sandbox: {TAKES} takes of {DURATION_S:g} s at {RESOLUTION} {ASPECT}; "
        f"load {load_before[0]:.2f} -> {load_after[0]:.2f}",
        f"  floor (PyAV, one process, one clip after another): wall {first['wall_s']:.2f} s"
        f" then {second['wall_s']:.2f} s; CPU {first['cpu_s']:.2f} s",
    ]
    for mode, run in runs.items():
        lines.append(
            f"  Takestock ({mode}): wall {run['wall_s']:.2f} s = {run['wall_s'] / floor:.2f}x"
            f" the floor (target <= 1.3x); CPU with its workers {run['process_cpu_s']:.2f} s"
            f" = {run['process_cpu_s'] / first['process_cpu_s']:.2f}x the floor's process"
        )
    print("\n".join(lines))
