"""Kill Takestock mid-job with SIGKILL; resuming finishes every job with no second create."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from takestock.core.media import probe

pytestmark = pytest.mark.slow

JOBS = 2


def _states(db: Path) -> list[str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return [r[0] for r in conn.execute("SELECT state FROM job ORDER BY id")]
    except sqlite3.OperationalError:
        return []  # not created yet


def _wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("kill_in", ["running", "downloading"])
def test_sigkill_then_resume_makes_one_take_per_job_and_one_create_each(home, kill_in):
    env = {
        **os.environ,
        "TAKESTOCK_SANDBOX_LATENCY": "3",
        "TAKESTOCK_SANDBOX_DOWNLOAD_SECONDS": "4",
        "TAKESTOCK_POLL_INTERVAL": "0.1",
    }
    command = [
        sys.executable, "-m", "takestock", "generate", "--vendor", "sandbox",
        "--model", "sandbox-v1", "--prompt", f"killed while {kill_in}",
        "--duration", "2", "--resolution", "480p", "--count", str(JOBS), "--wait",
    ]  # fmt: skip
    victim = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = home / "takestock.sqlite3"
    incoming = home / "media" / ".incoming"
    try:
        if kill_in == "running":
            _wait_for(lambda: _states(db) == ["running"] * JOBS, "both jobs running")
        else:
            _wait_for(
                lambda: (
                    "downloading" in _states(db)
                    and any(p.stat().st_size > 0 for p in incoming.glob("*.part"))
                ),
                "a download under way",
            )
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    states_at_kill = _states(db)
    assert kill_in in states_at_kill
    assert "done" not in states_at_kill or kill_in == "downloading"

    resumed = subprocess.run(
        [sys.executable, "-m", "takestock", "jobs", "resume", "--wait", "--json"],
        env={**env, "TAKESTOCK_SANDBOX_DOWNLOAD_SECONDS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(db) as conn:
        jobs = conn.execute("SELECT id, state, client_request_id FROM job").fetchall()
        takes = conn.execute("SELECT job_id, path FROM take").fetchall()
    assert [state for _, state, _ in jobs] == ["done"] * JOBS
    assert sorted(job_id for job_id, _ in takes) == sorted(job_id for job_id, _, _ in jobs)

    creates = [
        json.loads(line) for line in (home / "sandbox" / "creates.jsonl").read_text().splitlines()
    ]
    per_client = {cid: sum(c["client_id"] == cid for c in creates) for _, _, cid in jobs}
    assert per_client == {cid: 1 for _, _, cid in jobs}, "the vendor saw a second create"

    for _, path in takes:
        info = probe(home / "media" / path)
        assert abs(info.duration_s - 2.0) < 0.1
    assert list(incoming.glob("*.part")) == []
