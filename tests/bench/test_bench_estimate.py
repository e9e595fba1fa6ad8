"""What ``takestock estimate`` costs for a big request: 1 prompt x 40 targets x count 4
on 10 accounts, balances cumulative over the whole request.

Target (issue note, not asserted): <= 50 ms for plan + cumulative pricing. Prints the
median; asserts only that the money adds up.

    .venv/bin/python -m pytest -q -s tests/bench/test_bench_estimate.py
"""

from __future__ import annotations

import statistics
import time

import pytest

from takestock.cli_credits import estimate_lines
from takestock.core.credits import add_account, adjust
from takestock.core.jobs import Target
from takestock.core.vendor import GenerationRequest
from takestock.wiring import open_services

pytestmark = pytest.mark.bench

ACCOUNTS = 10
TARGETS = 40
COUNT = 4


def test_estimate_of_40_targets_x_4_on_10_accounts(home):
    services = open_services()
    try:
        for i in range(ACCOUNTS):
            account = add_account(
                services.store, services.plan_books, vendor="sandbox", name=f"a{i}", kind="api"
            )
            adjust(services.store, account.id, 500, "bench top-up")
        models = ("sandbox-v1", "sandbox-v1-hq")
        targets = [Target("sandbox", models[i % 2], f"a{i % ACCOUNTS}") for i in range(TARGETS)]
        request = GenerationRequest("a heron over a misty river", duration_s=5, resolution="720p")
        engine = services.engine()
        times = []
        lines: list[dict[str, object]] = []
        for _ in range(7):
            t0 = time.perf_counter()
            lines = estimate_lines(services, engine, request, targets, COUNT)
            times.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(times)
        print(
            f"\nestimate: {TARGETS} targets x {COUNT} takes on {ACCOUNTS} accounts: "
            f"median {median:.1f} ms (target <= 50 ms), min {min(times):.1f} ms"
        )
        assert len(lines) == TARGETS
        # Four targets per account: each one pays from what the ones before it left.
        first = [line for line in lines if line["account"] == "a0"]
        afters = [line["balance_after"] for line in first]
        befores = [line["balance_before"] for line in first]
        assert befores[1:] == afters[:-1]
        assert befores[0] == 500
    finally:
        services.close()
