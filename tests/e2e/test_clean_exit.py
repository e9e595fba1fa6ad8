"""Quitting leaves nothing for the interpreter to clean up after itself.

The app renders sandbox clips in a pool of worker processes; left to the interpreter's
exit, the pool's clean-up can run after ``concurrent.futures`` is torn down and print
``AttributeError: 'NoneType' object has no attribute 'util'``. Closing the services (the
app does it on quit, the CLI after each command) stops the workers first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import asyncio, multiprocessing
    from takestock.core.jobs import Engine, Target
    from takestock.core.vendor import GenerationRequest
    from takestock.wiring import open_services

    services = open_services(gui=True)  # the app's services: renders in processes
    engine = Engine(
        services.store, services.library, services.catalog, services.adapters,
        services.credentials, poll_interval=0.05,
    )
    request = GenerationRequest(prompt="a lighthouse", duration_s=1, resolution="360p")
    _, ids = engine.enqueue(request, [Target("sandbox", "sandbox-v1")])
    [job] = asyncio.run(engine.run(ids))
    workers = len(multiprocessing.active_children())
    services.close()
    print(job.state, workers, len(multiprocessing.active_children()))
    """
)


def test_closing_the_apps_services_stops_the_render_workers(tmp_path: Path) -> None:
    env = {**os.environ, "TAKESTOCK_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=180
    )
    assert result.returncode == 0, result.stderr
    state, workers_before, workers_after = result.stdout.split()
    assert state == "done", result.stderr
    assert int(workers_before) >= 1, "the take was rendered in a worker process"
    assert workers_after == "0", "closing the services stops every worker"
    assert "Traceback" not in result.stderr, result.stderr
