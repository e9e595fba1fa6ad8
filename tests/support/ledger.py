"""The ledger's invariants, checked over every job of a library (tests only).

- A job that ended (done, failed, cancelled) and had a hold has no hold left, and was
  settled exactly once: one capture, or one release, never both and never twice.
- A charge the vendor reported (or the estimate kept for "charged, no output") is what
  the ledger captured; a done job is captured; a job that made nothing and reported no
  charge is not.
"""

from __future__ import annotations

from takestock.core.store import Store

__all__ = ["ledger_problems"]

_EPS = 1e-6


def ledger_problems(store: Store) -> list[str]:
    problems: list[str] = []
    jobs = store.all("SELECT id, state, cost_actual, account_id FROM job ORDER BY id")
    for job in jobs:
        rows = store.all(
            "SELECT kind, amount, at, note FROM ledger WHERE job_id = ? ORDER BY id", (job["id"],)
        )
        reserved = -sum(r["amount"] for r in rows if r["kind"] == "reserve")
        if reserved <= _EPS:
            if any(r["kind"] == "capture" for r in rows):
                problems.append(f"job {job['id']}: captured without a hold")
            continue
        held = -sum(r["amount"] for r in rows if r["kind"] in ("reserve", "release"))
        captures = {(r["at"], r["note"]) for r in rows if r["kind"] == "capture"}
        releases = {
            (r["at"], r["note"])
            for r in rows
            if r["kind"] == "release" and r["note"] != "hold settled"
        }
        captured = -sum(r["amount"] for r in rows if r["kind"] == "capture")
        state = job["state"]
        if len(captures) > 1:
            problems.append(f"job {job['id']} ({state}): captured {len(captures)} times")
        if len(releases) > 1:
            problems.append(f"job {job['id']} ({state}): released {len(releases)} times")
        if state not in ("done", "failed", "cancelled"):
            if captures or releases:
                problems.append(f"job {job['id']} ({state}): settled while still open")
            continue
        if abs(held) > _EPS:
            problems.append(f"job {job['id']} ({state}): {held:g} still held after its end")
        if captures and releases:
            problems.append(f"job {job['id']} ({state}): both captured and released")
        if not captures and not releases:
            problems.append(f"job {job['id']} ({state}): never settled")
        if state == "done" and not captures:
            problems.append(f"job {job['id']}: done but not charged")
        cost = job["cost_actual"]
        if cost:
            if abs(captured - cost) > _EPS:
                problems.append(
                    f"job {job['id']} ({state}): the vendor charged {cost:g}, "
                    f"the ledger captured {captured:g}"
                )
        elif state != "done" and captures:
            problems.append(f"job {job['id']} ({state}): charged though nothing was reported")
    return problems
