"""Accounts and credits from the command line, with the sandbox's real balance."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.test_cli import ok_json, takestock

pytestmark = pytest.mark.slow

GEN = [
    "generate",
    "--vendor",
    "sandbox",
    "--model",
    "sandbox-v1",
    "--prompt",
    "a heron",
    "--duration",
    "2",
    "--resolution",
    "360p",
]


def _sandbox_account(name: str = "play") -> None:
    out = takestock("accounts", "add", "sandbox", "--name", name, "--kind", "api", "--plan", "free")
    assert out.returncode == 0, out.stderr


def test_an_account_gets_its_plans_daily_grant_and_spends_it(home):
    _sandbox_account()
    credits = ok_json("credits")
    [entry] = credits["accounts"]
    assert entry["free_today"] == 100
    estimate = ok_json("estimate", *GEN[1:], "--account", "play")
    [line] = estimate["targets"]
    assert (line["total"], line["account"], line["order"]) == (2, "play", "the vendor's")
    assert line["from"][0]["bucket"].startswith("daily_free")

    ok_json(*GEN, "--account", "play", "--wait")
    assert ok_json("credits")["accounts"][0]["free_today"] == 98


def test_a_failed_take_gives_its_hold_back(home):
    _sandbox_account()
    failing = [w if w != "a heron" else "a heron #fail" for w in GEN]
    result = takestock(*failing, "--account", "play", "--wait")
    assert result.returncode == 3
    assert ok_json("credits")["accounts"][0]["free_today"] == 100
    with sqlite3.connect(home / "takestock.sqlite3") as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM ledger WHERE job_id IS NOT NULL")]
    assert kinds == ["reserve", "release"]


def _balance(name: str) -> float:
    return next(a for a in ok_json("accounts")["accounts"] if a["name"] == name)["balance"]


def test_generate_refuses_what_the_account_cannot_pay_unless_told(home):
    _sandbox_account()
    assert takestock("accounts", "observe", "play", "100", "--adopt").returncode == 0
    big = [
        "generate",
        "--vendor",
        "sandbox",
        "--model",
        "sandbox-v1-hq",
        "--prompt",
        "x",
        "--duration",
        "10",
        "--resolution",
        "1080p",
        "--count",
        "4",
        "--account",
        "play",
    ]
    refused = takestock(*big)
    assert refused.returncode == 2
    assert "play can pay 3 of the 4 takes" in refused.stderr
    assert ok_json("jobs")["jobs"] == []
    allowed = takestock(*big, "--allow-overdraft")
    assert allowed.returncode == 0, allowed.stderr


def test_a_budget_cap_is_checked_before_submit(home):
    _sandbox_account()
    assert takestock("accounts", "budget", "play", "--cap", "3", "--period", "day").returncode == 0
    ok_json(*GEN, "--account", "play")
    refused = takestock(*GEN, "--account", "play")
    assert refused.returncode == 2
    assert "day budget of 3" in refused.stderr


def test_reconcile_records_drift_against_the_sandbox_balance_api(home):
    _sandbox_account()  # it starts from the sandbox's balance (10,000 paid, 100 free)
    ok_json(*GEN, "--account", "play", "--wait")
    out = ok_json("credits", "reconcile", "play")
    assert out["observed"] == 10098
    assert out["drift"] == 0
    # A take billed to the same sandbox from elsewhere shows as drift at the next look.
    _sandbox_account("elsewhere")
    takestock(*GEN, "--account", "elsewhere", "--wait", env={"TAKESTOCK_SANDBOX_LATENCY": "0"})
    assert ok_json("credits", "reconcile", "play")["drift"] == -2


def test_web_only_flow_attach_a_downloaded_file_and_keep_the_cost(home, tmp_path):
    downloaded = tmp_path / "from-the-site.mp4"
    made = ok_json(*GEN, "--wait")["jobs"][0]["take"]
    downloaded.write_bytes(Path(made["path"]).read_bytes())
    assert (
        takestock("accounts", "add", "sandbox", "--name", "site", "--kind", "web").returncode == 0
    )
    takestock("accounts", "adjust", "site", "50", "--reason", "what the site shows")

    pending = takestock(*GEN, "--account", "site")
    assert pending.returncode == 0, pending.stderr
    assert "make the take on the vendor's site" in pending.stderr
    job = ok_json("jobs")["jobs"][-1]
    assert (job["state"], job["manual"]) == ("running", True)
    assert _balance("site") == 48  # the estimate is held

    resumed = ok_json("jobs", "resume", "--wait")
    assert all(j["id"] != job["id"] for j in resumed["jobs"])  # nothing to poll: it waits

    attached = takestock("jobs", "attach", str(job["id"]), str(downloaded))
    assert attached.returncode == 0, attached.stderr
    done = next(j for j in ok_json("jobs")["jobs"] if j["id"] == job["id"])
    assert done["state"] == "done"
    assert done["take_id"] is not None
    assert _balance("site") == 48  # cost kept

    again = takestock(*GEN, "--account", "site")
    second = ok_json("jobs")["jobs"][-1]
    assert again.returncode == 0
    assert ok_json("jobs", "cancel", str(second["id"]))["state"] == "cancelled"
    assert _balance("site") == 48  # cancelling refunded


def test_accounts_add_refuses_unknown_plans_and_zones(home):
    bad_plan = takestock(
        "accounts", "add", "sandbox", "--name", "x", "--kind", "api", "--plan", "gold"
    )
    assert bad_plan.returncode == 2
    assert "known: free" in bad_plan.stderr
    bad_zone = takestock(
        "accounts", "add", "kling", "--name", "x", "--kind", "web", "--timezone", "Mars/Base"
    )
    assert bad_zone.returncode == 2
    assert ok_json("accounts")["accounts"] == []


def test_unknown_daily_rules_are_left_for_the_user_to_state(home):
    out = takestock("accounts", "add", "kling", "--name", "me", "--kind", "web", "--plan", "free")
    assert "needs figures the vendor does not publish" in out.stdout
    assert ok_json("credits")["accounts"][0]["free_today"] == 0
    rule = takestock("accounts", "rule", "me", "daily", "--timezone", "Asia/Shanghai")
    assert rule.returncode == 0, rule.stderr
    assert ok_json("credits")["accounts"][0]["free_today"] == 66


def test_expiring_credits_are_listed(home):
    _sandbox_account()
    soon = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 3 * 3600))
    takestock(
        "accounts",
        "adjust",
        "play",
        "40",
        "--reason",
        "promo",
        "--kind",
        "promo",
        "--expires",
        soon,
    )
    out = ok_json("credits")
    labels = {e["label"] for e in out["expiring_24h"]}
    assert "promo" in labels
    assert json.dumps(out)


def test_an_account_in_another_region_talks_to_that_regions_host(home):
    added = takestock("accounts", "add", "kling", "--name", "cn", "--kind", "api", "--region", "cn")
    assert added.returncode == 0, added.stderr
    assert ok_json("accounts")["accounts"][0]["region"] == "cn"
    wrong = takestock(
        "accounts", "add", "kling", "--name", "x", "--kind", "api", "--region", "mars"
    )
    assert wrong.returncode == 2
    assert "no region 'mars'" in wrong.stderr


def test_a_web_account_needs_no_key_and_is_not_priced_in_api_units(home):
    assert takestock("accounts", "add", "kling", "--name", "me", "--kind", "web").returncode == 0
    out = takestock(
        "estimate", "--target", "kling:kling-v2-6@me", "--prompt", "a fox", "--duration", "5"
    )
    assert out.returncode == 0, out.stderr
    assert "unknown credits" in out.stdout  # never read as free
    assert "nothing held: the price is unknown" in out.stdout
    made = takestock(
        "generate", "--target", "kling:kling-v2-6@me", "--prompt", "a fox", "--duration", "5"
    )
    assert made.returncode == 0, made.stderr
    assert ok_json("jobs")["jobs"][0]["manual"] is True
