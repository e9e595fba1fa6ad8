"""Spending over time: captures per local day and vendor, summaries, observations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from takestock.core import credits
from takestock.core.credits import (
    account_rules,
    add_account,
    close_account,
    get_account,
    set_base_url,
    set_rule,
)
from takestock.core.errors import InvalidInput
from takestock.core.spending import (
    DaySpend,
    daily_spend,
    last_observations,
    spend_summary,
    window_start,
)
from takestock.core.store import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30: days start on a half hour


def ts(text: str, tz: dt.tzinfo = SHANGHAI) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as s:
        yield s


def _account(store, vendor: str, name: str = "me", *, money: float | None = 0.01) -> int:
    account = add_account(store, {}, vendor=vendor, name=name, kind="web", now=0)
    store.execute("UPDATE account SET money_per_unit = ? WHERE id = ?", (money, account.id))
    credits.adjust(store, account.id, 10_000, "starting balance", now=0)
    return account.id


def _charge(store, account_id: int, amount: float, at: float, actual: float | None = None) -> int:
    """A job held ``amount`` at ``at`` and was charged ``actual`` (default: the hold)."""
    req = store.execute(
        "INSERT INTO request(prompt, params, created_at) VALUES ('p', '{}', 0)"
    ).lastrowid
    job = store.execute(
        "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
        " created_at, updated_at) VALUES (?, 'v', 'm', ?, 'done', hex(randomblob(8)), 0, 0)",
        (req, account_id),
    ).lastrowid
    credits.reserve(store, account_id, job, amount, now=at)
    credits.capture(store, job, amount if actual is None else actual, now=at)
    return job


def test_charges_are_summed_per_local_day_and_vendor(store):
    kling, runway = _account(store, "kling"), _account(store, "runway")
    _charge(store, kling, 10, ts("2026-11-20T09:00"))
    _charge(store, kling, 15, ts("2026-11-20T23:30"))  # late evening: still the 20th
    _charge(store, kling, 7, ts("2026-11-21T00:10"))
    _charge(store, runway, 50, ts("2026-11-20T12:00"), actual=40)  # charged less than held

    got = daily_spend(store, ts("2026-11-20T00:00"), ts("2026-11-22T00:00"), tz=SHANGHAI)

    assert got == [
        DaySpend(dt.date(2026, 11, 20), "kling", 25.0),
        DaySpend(dt.date(2026, 11, 20), "runway", 40.0),
        DaySpend(dt.date(2026, 11, 21), "kling", 7.0),
    ]
    # Seen from UTC, 00:10 on the 21st in Shanghai is still the 20th.
    assert daily_spend(store, 0, ts("2026-12-01T00:00"), tz=dt.UTC) == [
        DaySpend(dt.date(2026, 11, 20), "kling", 32.0),
        DaySpend(dt.date(2026, 11, 20), "runway", 40.0),
    ]


def test_holds_and_refunds_are_not_spending(store):
    kling = _account(store, "kling")
    at = ts("2026-11-20T10:00")
    req = store.execute(
        "INSERT INTO request(prompt, params, created_at) VALUES ('p', '{}', 0)"
    ).lastrowid
    held, refunded = (
        store.execute(
            "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
            " created_at, updated_at) VALUES (?, 'kling', 'm', ?, 'running', ?, 0, 0)",
            (req, kling, f"c{i}"),
        ).lastrowid
        for i in range(2)
    )
    credits.reserve(store, kling, held, 30, now=at)
    credits.reserve(store, kling, refunded, 30, now=at)
    credits.release(store, refunded, now=at + 60, note="the vendor failed it")

    assert daily_spend(store, 0, at + 86400, tz=SHANGHAI) == []
    assert spend_summary(store, 0, at + 86400) == []


def test_the_window_is_half_open(store):
    kling = _account(store, "kling")
    start, end = ts("2026-11-20T00:00"), ts("2026-11-21T00:00")
    _charge(store, kling, 1, start)
    _charge(store, kling, 2, end)
    assert daily_spend(store, start, end, tz=SHANGHAI) == [
        DaySpend(dt.date(2026, 11, 20), "kling", 1.0)
    ]


def test_days_that_start_on_a_half_hour(store):
    kling = _account(store, "kling")
    _charge(store, kling, 3, ts("2026-11-20T23:50", KOLKATA))
    _charge(store, kling, 4, ts("2026-11-21T00:05", KOLKATA))
    got = daily_spend(store, 0, ts("2026-12-01T00:00"), tz=KOLKATA)
    assert got == [
        DaySpend(dt.date(2026, 11, 20), "kling", 3.0),
        DaySpend(dt.date(2026, 11, 21), "kling", 4.0),
    ]


def test_money_leaves_out_accounts_without_a_price(store):
    kling = _account(store, "kling", money=0.015)
    sandbox = _account(store, "sandbox", money=None)
    at = ts("2026-11-20T10:00")
    _charge(store, kling, 100, at)
    _charge(store, kling, 100, at + 60)
    _charge(store, sandbox, 20, at)

    money = daily_spend(store, 0, at + 86400, tz=SHANGHAI, in_money=True)
    assert money == [DaySpend(dt.date(2026, 11, 20), "kling", pytest.approx(3.0))]

    summary = {s.vendor: s for s in spend_summary(store, 0, at + 86400)}
    assert list(summary) == ["kling", "sandbox"]  # most spent first
    assert (summary["kling"].amount, summary["kling"].jobs) == (200.0, 2)
    assert summary["kling"].money == pytest.approx(3.0)
    assert (summary["sandbox"].money, summary["sandbox"].unpriced) == (None, 20.0)
    assert summary["kling"].unit == "credits"


def test_window_start_is_local_midnight_days_ago():
    now = ts("2026-11-26T15:00")
    assert window_start(30, now, SHANGHAI) == ts("2026-10-28T00:00")
    assert window_start(1, now, SHANGHAI) == ts("2026-11-26T00:00")
    with pytest.raises(InvalidInput):
        window_start(0, now)


def test_the_newest_observation_per_account_with_its_drift(store):
    kling, runway = _account(store, "kling"), _account(store, "runway")
    credits.observe(store, kling, 9_000, source="typed by the user", now=100)
    credits.observe(store, kling, 9_990, source="kling balance API", now=200)

    seen = last_observations(store)
    assert set(seen) == {kling}
    assert (seen[kling].observed, seen[kling].computed) == (9_990, 10_000)
    assert (seen[kling].drift, seen[kling].source, seen[kling].at) == (
        -10,
        "kling balance API",
        200,
    )
    assert last_observations(store, [runway]) == {}
    assert last_observations(store, []) == {}


def test_close_an_account_once(store):
    kling = _account(store, "kling")
    close_account(store, kling, "left", now=5)
    account = get_account(store, kling)
    assert (account.closed_at, account.closed_reason) == (5, "left")
    with pytest.raises(InvalidInput, match="closed already"):
        close_account(store, kling)


def test_base_url_overrides_are_checked_and_can_be_cleared(store):
    kling = _account(store, "kling")
    assert set_base_url(store, kling, " https://proxy.example.com/v1/ ") == (
        "https://proxy.example.com/v1"
    )
    assert get_account(store, kling).base_url == "https://proxy.example.com/v1"
    for bad in ("proxy.example.com", "ftp://x.example.com", "https://x.example.com/?k=1"):
        with pytest.raises(InvalidInput):
            set_base_url(store, kling, bad)
    assert get_account(store, kling).base_url == "https://proxy.example.com/v1"
    assert set_base_url(store, kling, "") is None
    assert get_account(store, kling).base_url is None


def test_account_rules_say_which_lack_figures(store):
    kling = _account(store, "kling")
    set_rule(store, kling, now=0, key="daily", kind="daily_free", amount=66, period="daily")
    set_rule(store, kling, now=0, key="monthly", kind="monthly", amount=660, period="monthly",
             timezone="Asia/Shanghai")  # fmt: skip
    rules = account_rules(store, kling)
    assert [(r.key, r.ready) for r in rules] == [("daily", False), ("monthly", True)]
