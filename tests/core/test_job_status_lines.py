"""Saying what is happening: who drives a job, a vendor that stopped answering, and a
--wait that keeps the reader informed."""

from __future__ import annotations

import json
import os
import re
import socket
import time

from takestock import cli
from takestock.core.jobs import get_job
from tests.core.scripted_kit import scripted_kit
from tests.support.scripted_adapter import Script

SANDBOX = ["--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a fox", "--duration", "2"]


def _own_job(home, owner: str) -> None:
    import sqlite3

    with sqlite3.connect(home / "takestock.sqlite3") as db:
        db.execute("UPDATE job SET owner = ?", (owner,))


def test_a_job_another_live_process_drives_says_which_and_since_when(home, capsys):
    assert cli.main(["generate", *SANDBOX]) == 0  # submitted, left running
    since = int(time.time()) - 60
    holder = os.getppid()  # alive, and not us
    _own_job(home, f"{socket.gethostname()}:{holder}:cafe:{since}")
    capsys.readouterr()

    assert cli.main(["jobs"]) == 0
    line = capsys.readouterr().out
    assert f"pid {holder}" in line
    assert time.strftime("since %Y-%m-%d %H:%M", time.gmtime(since)) in line

    assert cli.main(["jobs", "--json"]) == 0
    [job] = json.loads(capsys.readouterr().out)["jobs"]
    assert job["held_by"] == {"host": socket.gethostname(), "pid": holder, "since": since}

    assert cli.main(["jobs", "resume", "--wait", "--timeout", "0.5"]) == 4
    said = capsys.readouterr().err
    assert f"driven by another Takestock process (host {socket.gethostname()} pid {holder})" in said
    assert "waiting for it" in said

    _own_job(home, f"{socket.gethostname()}:999999:dead:{since}")  # that process is gone
    assert cli.main(["jobs", "resume", "--wait"]) == 0
    assert "done" in capsys.readouterr().out


def test_wait_without_a_timeout_says_it_is_still_waiting(home, capsys, monkeypatch):
    assert cli.main(["generate", *SANDBOX]) == 0
    _own_job(home, f"{socket.gethostname()}:{os.getppid()}:cafe:{int(time.time())}")
    monkeypatch.setattr(cli, "STILL_WAITING_EVERY_S", 0.01)
    said: list[str] = []
    original = cli._still_waiting

    def still_waiting(services, job_ids):
        line = original(services, job_ids)
        said.append(line or "")
        _own_job(home, f"{socket.gethostname()}:999999:dead:0")  # the other process ends
        return line

    monkeypatch.setattr(cli, "_still_waiting", still_waiting)
    assert cli.main(["jobs", "resume", "--wait"]) == 0
    err = capsys.readouterr().err
    assert said
    assert said[0].startswith("Still waiting for 1 job(s): job 1 running, driven by")
    assert said[0] in err


def test_a_vendor_that_stops_answering_is_said_on_the_job_until_it_answers(tmp_path):
    kit = scripted_kit(tmp_path / "home", {"a fox": Script(silent=5, polls=1)})
    events = []
    now = [1_000_000.0]

    def clock() -> float:
        now[0] += 5
        return now[0]

    engine = kit.engine(on_change=events.append, clock=clock)
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id])
    said = [e.error for e in events if e.error and "not answering" in e.error]
    assert len(said) == 3  # from the third unanswered poll on, each says so
    assert all(
        re.fullmatch(r"Generic Video not answering for \d+ s \(HTTP 503\): retrying", s)
        for s in said
    )
    assert said[0] != said[-1]  # the time grows
    job = get_job(kit.store, job_id)
    assert job.state == "done"
    assert job.error is None  # the first answer cleared it


def test_the_progress_printer_prints_each_distinct_line_once(capsys):
    from takestock.core.jobs import JobEvent

    show = cli._progress_printer(True)
    for _ in range(5):
        show(JobEvent(1, "running", progress=0.0))
    show(JobEvent(1, "running", progress=0.5))
    show(JobEvent(1, "running", error="Kling not answering for 40 s (HTTP 503): retrying"))
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "  job 1: running 0%",
        "  job 1: running 50%",
        "  job 1: running: Kling not answering for 40 s (HTTP 503): retrying",
    ]


def test_the_wait_output_says_what_the_vendor_is_doing(capsys):
    from takestock.cli import _progress_printer
    from takestock.core.jobs import JobEvent

    show = _progress_printer(True)
    show(JobEvent(3, "running", progress=0.4, vendor_state="running KSampler (node 3), step 12/30"))
    show(JobEvent(3, "running", progress=0.4, vendor_state="running KSampler (node 3), step 12/30"))
    show(JobEvent(3, "running", vendor_state="ComfyUI not answering since 14:02: retrying"))
    show(JobEvent(3, "running", progress=0.5, vendor_state="running"))
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "  job 3: running 40% · running KSampler (node 3), step 12/30",
        "  job 3: running · ComfyUI not answering since 14:02: retrying",
        "  job 3: running 50%",
    ]
