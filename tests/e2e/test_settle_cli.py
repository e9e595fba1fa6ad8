"""`takestock jobs settle`: a job whose create went unanswered (unknown) is settled from
the command line, as the Queue's "Settle…" does: the hold given back when the vendor
made nothing, charged with the take when it did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import ok_json, takestock

pytestmark = pytest.mark.slow

SMALL = ["--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a heron", "--duration",
         "1", "--resolution", "360p"]  # fmt: skip


def _in_doubt(home: Path) -> int:
    """A job as a lost create leaves it: sent, never answered, held."""
    queued = takestock("generate", *SMALL, "--account", "play")
    assert queued.returncode == 0, queued.stderr
    job_id = max(j["id"] for j in ok_json("jobs")["jobs"])
    with sqlite3.connect(home / "takestock.sqlite3") as db:
        db.execute("UPDATE job SET state = 'unknown' WHERE id = ?", (job_id,))
    return job_id


def _free() -> float:
    return next(a for a in ok_json("accounts")["accounts"] if a["name"] == "play")["balance"]


def test_settle_gives_the_hold_back_or_charges_with_the_take(home):
    added = takestock("accounts", "add", "sandbox", "--name", "play", "--kind", "api")
    assert added.returncode == 0, added.stderr
    assert takestock("accounts", "observe", "play", "100", "--adopt").returncode == 0

    lost = _in_doubt(home)
    assert _free() == 99  # held
    settled = takestock("jobs", "settle", str(lost), "--not-made", "--json")
    assert settled.returncode == 0, settled.stderr
    assert ok_json("jobs")["jobs"][-1]["state"] == "failed"
    assert _free() == 100  # given back

    made = _in_doubt(home)
    done = takestock("generate", *SMALL, "--account", "play", "--wait", "--json")
    clip = Path(ok_json("takes")["takes"][0]["path"])
    assert done.returncode == 0, done.stderr
    settled = takestock("jobs", "settle", str(made), "--made", "--file", str(clip))
    assert settled.returncode == 0, settled.stderr
    job = next(j for j in ok_json("jobs")["jobs"] if j["id"] == made)
    assert (job["state"], job["take_id"] is not None) == ("done", True)
    assert _free() == 98  # the take settled here and the one made to supply its file

    again = takestock("jobs", "settle", str(made), "--not-made")
    assert again.returncode == 2
    assert "only a job in doubt" in again.stderr
    wrong = takestock("jobs", "settle", str(made), "--not-made", "--file", str(clip))
    assert wrong.returncode == 2
