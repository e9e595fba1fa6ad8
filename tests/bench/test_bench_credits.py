"""Credits at scale: 50 accounts, 5 years of daily grants, 100,000 spends.

Targets (issue notes, not asserted): all balances <= 50 ms; a year of missed grants
materialised <= 100 ms (issue 15). Prints figures, wall time and this process's CPU time
(on a shared machine the wall time also counts waiting for a core), and the load
average; asserts only that the numbers add up.
Sizes: TAKESTOCK_BENCH_ACCOUNTS (50), TAKESTOCK_BENCH_YEARS (5), TAKESTOCK_BENCH_SPENDS
(100000).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -s tests/bench/test_bench_credits.py
"""

from __future__ import annotations

import os
import random
import statistics
import time

import pytest

from takestock.core.credits import add_account, balances, set_rule, total
from takestock.core.grants import materialise
from takestock.core.store import open_store

pytestmark = pytest.mark.bench

ACCOUNTS = int(os.environ.get("TAKESTOCK_BENCH_ACCOUNTS", "50"))
YEARS = int(os.environ.get("TAKESTOCK_BENCH_YEARS", "5"))
SPENDS = int(os.environ.get("TAKESTOCK_BENCH_SPENDS", "100000"))
DAY = 86400.0
NOW = 1_795_600_000.0  # 2026-11-25


def _accounts(store, count: int, *, start: float, prefix: str) -> list[int]:
    ids = []
    for i in range(count):
        account = add_account(store, {}, vendor="kling", name=f"{prefix}{i}", kind="web", now=start)
        set_rule(
            store,
            account.id,
            now=start,
            key="daily",
            kind="daily_free",
            amount=66,
            period="daily",
            timezone="Asia/Shanghai",
        )
        ids.append(account.id)
    return ids


def _timed(fn, runs: int = 7) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def test_balances_and_grants_at_scale(tmp_path):
    store = open_store(tmp_path / "lib.sqlite3")
    start = NOW - YEARS * 365 * DAY
    ids = _accounts(store, ACCOUNTS, start=start, prefix="acct")

    t0 = time.perf_counter()
    created = materialise(store, NOW)
    five_years_ms = (time.perf_counter() - t0) * 1000
    assert created >= ACCOUNTS * YEARS * 365

    # Spends as the engine leaves them: a hold, its release, and the capture, on the
    # bucket of the day the take was made.
    buckets = store.all("SELECT id, account_id, granted_at FROM credit_bucket")
    rng = random.Random(7)
    rows = []
    for _ in range(SPENDS):
        bucket = rng.choice(buckets)
        at = bucket["granted_at"] + rng.uniform(0, DAY - 1)
        amount = rng.choice((1.0, 2.0, 5.0))
        rows += [
            (bucket["account_id"], bucket["id"], "reserve", -amount, at),
            (bucket["account_id"], bucket["id"], "release", amount, at + 60),
            (bucket["account_id"], bucket["id"], "capture", -amount, at + 60),
        ]
    t0 = time.perf_counter()
    with store.tx():
        store.conn.executemany(
            "INSERT INTO ledger(account_id, bucket_id, kind, amount, at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    insert_s = time.perf_counter() - t0
    ledger_rows = store.scalar("SELECT COUNT(*) FROM ledger")

    all_ms, result = _timed(lambda: balances(store, NOW))
    assert set(result) == set(ids)
    assert all(total(b) <= 66 for b in result.values())

    one_ms, _ = _timed(lambda: balances(store, NOW, account_ids=[ids[0]]))

    # A year of missed grants: accounts whose app was closed for a year.
    _accounts(store, ACCOUNTS, start=NOW - 365 * DAY, prefix="late")
    t0, c0 = time.perf_counter(), time.process_time()
    year = materialise(store, NOW)
    year_ms = (time.perf_counter() - t0) * 1000
    year_cpu_ms = (time.process_time() - c0) * 1000
    assert year >= ACCOUNTS * 365
    again_ms, again = _timed(lambda: materialise(store, NOW), runs=3)
    assert again == 0

    print(
        f"\nBENCH credits: accounts={ACCOUNTS} years={YEARS} spends={SPENDS} "
        f"ledger rows={ledger_rows}\n"
        f"  all balances: median {all_ms:.1f} ms (target <= 50); one account {one_ms:.2f} ms\n"
        f"  materialise a year of missed grants for {ACCOUNTS} accounts ({year} buckets): "
        f"{year_ms:.0f} ms, CPU {year_cpu_ms:.0f} ms (target <= 100);"
        f" again (nothing due) {again_ms:.1f} ms\n"
        f"  materialise {YEARS} years from scratch: {five_years_ms:.0f} ms; "
        f"spend rows inserted in {insert_s:.1f} s; load {os.getloadavg()[0]:.2f}"
    )
    store.close()
