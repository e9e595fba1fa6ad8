"""Credits: grants in the vendor's time zone, a ledger that balances, spending in order."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takestock.core import budgets, credits
from takestock.core.credits import add_account, balances, set_rule, total
from takestock.core.errors import InvalidInput
from takestock.core.grants import materialise
from takestock.core.store import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ts(text: str, tz: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as s:
        yield s


def _job(store, account_id: int) -> int:
    """A bare job row to hang ledger entries on."""
    req = store.execute(
        "INSERT INTO request(prompt, params, created_at) VALUES ('p', '{}', 0)"
    ).lastrowid
    return store.execute(
        "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
        " created_at, updated_at) VALUES (?, 'kling', 'm', ?, 'queued', hex(randomblob(8)), 0, 0)",
        (req, account_id),
    ).lastrowid


def _kling(store, *, now: float, amount: float = 66, tz: str = "Asia/Shanghai"):
    account = add_account(store, {}, vendor="kling", name="me", kind="web", now=now)
    set_rule(
        store,
        account.id,
        now=now,
        key="daily",
        kind="daily_free",
        amount=amount,
        period="daily",
        reset_time="00:00",
        timezone=tz,
    )
    materialise(store, now, account_id=account.id)
    return account


def _free_left(store, account_id: int, now: float) -> float:
    return total(balances(store, now, account_ids=[account_id]).get(account_id, []))


# ----------------------------------------------------------------- time zones


@pytest.mark.parametrize("user_zone", ["Europe/Berlin", "America/Los_Angeles"])
def test_a_kling_daily_grant_resets_at_midnight_in_shanghai_wherever_the_user_is(store, user_zone):
    start = ts("2026-03-26 10:00", user_zone)
    account = _kling(store, now=start)
    job = _job(store, account.id)
    credits.reserve(store, account.id, job, 50, now=start)
    assert _free_left(store, account.id, start) == 16

    beijing_day = dt.datetime.fromtimestamp(start, SHANGHAI).date()
    midnight = dt.datetime.combine(beijing_day + dt.timedelta(days=1), dt.time(), SHANGHAI)
    # One minute before midnight in Beijing: still today's points.
    before = midnight.timestamp() - 60
    materialise(store, before)
    assert _free_left(store, account.id, before) == 16
    # One minute after: yesterday's 16 are gone, today's 66 are there.
    after = midnight.timestamp() + 60
    materialise(store, after)
    assert _free_left(store, account.id, after) == 66
    expired = store.scalar(
        "SELECT SUM(amount) FROM ledger WHERE kind = 'expire' AND account_id = ?", (account.id,)
    )
    assert expired == -16


def test_resets_stay_at_shanghai_midnight_across_the_users_daylight_saving_change(store):
    # Europe/Berlin moves its clocks forward on 2026-03-29; Shanghai has no DST.
    account = _kling(store, now=ts("2026-03-27 12:00", "Europe/Berlin"))
    materialise(store, ts("2026-04-01 12:00", "Europe/Berlin"))
    starts = [
        dt.datetime.fromtimestamp(r[0], SHANGHAI).strftime("%m-%d %H:%M")
        for r in store.all(
            "SELECT granted_at FROM credit_bucket WHERE account_id = ? ORDER BY granted_at",
            (account.id,),
        )
    ]
    assert starts == [
        "03-27 00:00",
        "03-28 00:00",
        "03-29 00:00",
        "03-30 00:00",
        "03-31 00:00",
        "04-01 00:00",
    ]
    berlin = [
        dt.datetime.fromtimestamp(r[0], ZoneInfo("Europe/Berlin")).strftime("%H:%M")
        for r in store.all("SELECT granted_at FROM credit_bucket ORDER BY granted_at")
    ]
    # Seen from Berlin the reset moves from 17:00 to 18:00 when Berlin goes to summer time.
    assert berlin[:2] == ["17:00", "17:00"]
    assert berlin[-1] == "18:00"


def test_a_reset_in_a_zone_with_daylight_saving_follows_its_wall_clock(store):
    account = _kling(
        store, now=ts("2026-03-06 12:00", "America/Los_Angeles"), tz="America/Los_Angeles"
    )
    materialise(store, ts("2026-03-10 12:00", "America/Los_Angeles"))
    local = [
        dt.datetime.fromtimestamp(r[0], ZoneInfo("America/Los_Angeles")).strftime("%d %H:%M")
        for r in store.all(
            "SELECT granted_at FROM credit_bucket WHERE account_id = ?", (account.id,)
        )
    ]
    assert local == ["06 00:00", "07 00:00", "08 00:00", "09 00:00", "10 00:00"]


def test_a_closed_app_loses_nothing_and_grants_do_not_double(store):
    now = ts("2026-01-01 12:00", "Asia/Shanghai")
    account = _kling(store, now=now)
    year_later = ts("2027-01-01 12:00", "Asia/Shanghai")
    created = materialise(store, year_later)
    assert created == 365
    assert materialise(store, year_later) == 0
    buckets = store.scalar("SELECT COUNT(*) FROM credit_bucket WHERE account_id = ?", (account.id,))
    assert buckets == 366
    assert _free_left(store, account.id, year_later) == 66  # only today's are live


def test_a_monthly_allowance_renews_on_its_day_even_in_short_months(store):
    now = ts("2026-01-31 09:00")
    account = add_account(store, {}, vendor="runway", name="studio", kind="web", now=now)
    set_rule(
        store,
        account.id,
        now=now,
        key="monthly",
        kind="monthly",
        amount=625,
        period="monthly",
        renewal_day=31,
        timezone="UTC",
    )
    materialise(store, ts("2026-04-01 00:00"))
    periods = [r[0] for r in store.all("SELECT period FROM credit_bucket ORDER BY granted_at")]
    starts = [
        dt.datetime.fromtimestamp(r[0], ZoneInfo("UTC")).date().isoformat()
        for r in store.all("SELECT granted_at FROM credit_bucket ORDER BY granted_at")
    ]
    assert periods == ["2026-01", "2026-02", "2026-03"]
    assert starts == ["2026-01-31", "2026-02-28", "2026-03-31"]


def test_a_rule_without_an_amount_waits_for_the_user(store):
    now = ts("2026-05-01 12:00")
    account = add_account(store, {}, vendor="hailuo", name="me", kind="web", now=now)
    set_rule(store, account.id, now=now, key="daily", amount=None, timezone="Asia/Shanghai")
    assert materialise(store, now + 5 * 86400) == 0
    with pytest.raises(InvalidInput, match="time zone"):
        set_rule(store, account.id, now=now, key="daily", timezone="Mars/Olympus")


# ------------------------------------------------------------------- ledger

amounts = st.floats(min_value=0.5, max_value=200, allow_nan=False).map(lambda x: round(x, 2))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grants=st.lists(amounts, min_size=1, max_size=4),
    spends=st.lists(
        st.tuples(amounts, st.sampled_from(["capture", "release", "hold"])), max_size=12
    ),
)
def test_the_ledger_never_goes_negative_without_overdraft_and_refunds_are_neutral(
    tmp_path_factory, grants, spends
):
    now = ts("2026-06-01 08:00")
    with open_store(tmp_path_factory.mktemp("l") / "lib.sqlite3") as store:
        account = add_account(store, {}, vendor="vidu", name="a", kind="api", now=now)
        for i, amount in enumerate(grants):
            credits.adjust(store, account.id, amount, f"top-up {i}", now=now)
        expected = sum(grants)
        for amount, outcome in spends:
            job = _job(store, account.id)
            before = _free_left(store, account.id, now)
            try:
                credits.reserve(store, account.id, job, amount, now=now)
            except InvalidInput:
                assert amount > before + 1e-9
                continue
            if outcome == "release":
                credits.release(store, job, now=now)
            elif outcome == "capture":
                credits.capture(store, job, amount, now=now)
                expected -= amount
            else:
                expected -= amount
            left = _free_left(store, account.id, now)
            assert left >= -1e-9
            assert left == pytest.approx(expected, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(granted=amounts, spent_fraction=st.floats(min_value=0, max_value=1))
def test_expiry_removes_exactly_the_unspent_part(tmp_path_factory, granted, spent_fraction):
    now = ts("2026-06-01 08:00")
    with open_store(tmp_path_factory.mktemp("e") / "lib.sqlite3") as store:
        account = add_account(store, {}, vendor="kling", name="a", kind="web", now=now)
        credits.adjust(
            store, account.id, granted, "promo", now=now, kind="promo", expires_at=now + 3600
        )
        spent = round(granted * spent_fraction, 2)
        if spent > 0:
            credits.capture(store, _job(store, account.id), 0, now=now)  # no hold: no-op
            job = _job(store, account.id)
            credits.reserve(store, account.id, job, spent, now=now)
            credits.capture(store, job, spent, now=now)
        materialise(store, now + 7200)
        materialise(store, now + 9000)
        expired = store.scalar("SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE kind = 'expire'")
        assert expired == pytest.approx(-(granted - spent), abs=1e-6)
        assert _free_left(store, account.id, now + 9000) == 0


def test_spending_takes_the_soonest_to_expire_then_free_before_paid(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="kling", name="a", kind="web", now=now)
    credits.adjust(
        store, account.id, 100, "paid pack", now=now, kind="top_up", expires_at=now + 300 * 86400
    )
    credits.adjust(store, account.id, 10, "promo", now=now, kind="promo", expires_at=now + 86400)
    job = _job(store, account.id)
    spend = credits.reserve(store, account.id, job, 25, now=now)
    labels = dict(store.all("SELECT id, label FROM credit_bucket"))
    assert [(labels[b], a) for b, a in spend.parts] == [("promo", 10), ("paid pack", 15)]
    assert spend.order_known is False


def test_a_vendor_order_beats_the_default(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="runway", name="a", kind="web", now=now)
    credits.adjust(store, account.id, 100, "purchased", now=now, kind="top_up")
    credits.adjust(
        store, account.id, 50, "allowance", now=now, kind="monthly", expires_at=now + 10 * 86400
    )
    spend = credits.reserve(
        store,
        account.id,
        _job(store, account.id),
        60,
        now=now,
        vendor_order=("monthly", "top_up"),
        order_known=True,
    )
    labels = dict(store.all("SELECT id, label FROM credit_bucket"))
    assert [(labels[b], a) for b, a in spend.parts] == [("allowance", 50), ("purchased", 10)]


def test_overdraft_only_when_asked(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="vidu", name="a", kind="api", now=now)
    credits.adjust(store, account.id, 10, "start", now=now)
    with pytest.raises(InvalidInput, match="costs 30 but the account has 10 left"):
        credits.reserve(store, account.id, _job(store, account.id), 30, now=now)
    credits.reserve(store, account.id, _job(store, account.id), 30, now=now, allow_overdraft=True)
    assert _free_left(store, account.id, now) == -20


def test_observations_record_drift_without_changing_the_ledger(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="vidu", name="a", kind="api", now=now)
    credits.adjust(store, account.id, 100, "start", now=now)
    assert credits.observe(store, account.id, 93, source="vidu api", now=now) == -7
    assert _free_left(store, account.id, now) == 100
    row = store.one("SELECT observed, computed, note FROM ledger WHERE kind = 'observe'")
    assert tuple(row) == (93, 100, "vidu api")


def test_the_ledger_is_append_only(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="vidu", name="a", kind="api", now=now)
    credits.adjust(store, account.id, 5, "x", now=now)
    with pytest.raises(Exception, match="append-only"):
        store.execute("UPDATE ledger SET amount = 1000")
    with pytest.raises(Exception, match="append-only"):
        store.execute("DELETE FROM ledger")


def test_budgets_cap_an_account(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="vidu", name="a", kind="api", now=now)
    credits.adjust(store, account.id, 1000, "x", now=now)
    store.execute(
        "INSERT INTO budget(account_id, period, cap) VALUES (?, 'day', 50)", (account.id,)
    )
    job = _job(store, account.id)
    credits.reserve(store, account.id, job, 40, now=now)
    budgets.check_budget(store, account.id, [], 10, now=now)
    with pytest.raises(InvalidInput, match="day budget of 50"):
        budgets.check_budget(store, account.id, [], 11, now=now)
    credits.release(store, job, now=now)
    budgets.check_budget(store, account.id, [], 50, now=now)


def test_bonus_credits_only_some_surfaces_may_spend_stay_out_of_api_jobs(store):
    now = ts("2026-06-01 08:00")
    account = add_account(store, {}, vendor="kling", name="a", kind="api", now=now)
    credits.adjust(store, account.id, 100, "bonus", now=now, kind="bonus", usable_on=["web"])
    credits.adjust(store, account.id, 10, "paid", now=now)
    with pytest.raises(InvalidInput, match="has 10 left"):
        credits.reserve(store, account.id, _job(store, account.id), 30, now=now, surface="api")
    spend = credits.reserve(store, account.id, _job(store, account.id), 30, now=now, surface="web")
    assert sum(a for _, a in spend.parts) == 30


def test_a_sites_plan_tier_prices_come_from_its_plan_book():
    """Flow bills Veo 3.1 Fast at 20 credits, 10 on Ultra: the paying account's plan
    picks the rule (shipped data, through the same path the engine uses)."""
    from takestock.core.catalog import load_catalog
    from takestock.core.jobs import check_and_price
    from takestock.core.vendor import GenerationRequest

    catalog = load_catalog()
    books = credits.load_plan_books()
    vendor = catalog.vendor("veo")
    fast = catalog.model("veo", "veo-3.1-fast-generate-001")
    quality = catalog.model("veo", "veo-3.1-generate-001")
    flow = books["veo/web"]
    plain = GenerationRequest("a fox", duration_s=8)

    def price(model, plan, request=plain):
        return check_and_price(None, request, vendor, model, web_book=flow, plan=plan)

    assert (price(fast, "ultra").amount, price(fast, "pro").amount) == (10, 20)
    assert price(fast, None).unit == "Flow credits"
    assert price(quality, "ultra").amount == 100
    short = price(quality, "pro", GenerationRequest("a fox", duration_s=4))
    assert short.amount is None  # Quality is 8 s only on Flow: no published price
    assert "publishes no price" in (short.reason or "")


# ------------------------------------------- one request on shared buckets, adopt


def _planned(account, amount: float):
    from takestock.core.catalog import load_catalog
    from takestock.core.generate import Planned
    from takestock.core.jobs import Target
    from takestock.core.vendor import Estimate

    catalog = _planned.__dict__.setdefault("catalog", load_catalog())
    vendor = catalog.vendor("sandbox")
    model = catalog.model("sandbox", "sandbox-v1")
    estimate = Estimate(amount, "credits")
    return Planned(Target("sandbox", model.id, account.name), vendor, model, estimate, account)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    buckets=st.lists(
        st.tuples(st.integers(1, 2), amounts, st.sampled_from(["top_up", "promo"])),
        max_size=5,
    ),
    targets=st.lists(
        st.tuples(st.integers(1, 2), st.floats(min_value=0.5, max_value=60)),
        min_size=1,
        max_size=6,
    ),
    count=st.integers(1, 4),
)
def test_a_requests_holds_are_cumulative_and_match_the_estimate(
    tmp_path_factory, buckets, targets, count
):
    """Targets and counts of one request on the same accounts: the takes the estimate
    says fit are exactly those the engine holds job after job, and the balance after
    each target is the ledger's."""
    from takestock.core.estimates import cost_request

    now = ts("2026-06-01 08:00")
    with open_store(tmp_path_factory.mktemp("req") / "lib.sqlite3") as store:
        accounts = {
            n: add_account(store, {}, vendor="sandbox", name=f"a{n}", kind="api", now=now)
            for n in (1, 2)
        }
        for n, amount, kind in buckets:
            credits.adjust(store, accounts[n].id, amount, "grant", now=now, kind=kind)
        tracked = {accounts[n].id for n, _, _ in buckets}
        planned = [_planned(accounts[n], round(cost, 2)) for n, cost in targets]
        predicted = cost_request(store, {}, planned, count, now=now)
        for plan, cost in zip(planned, predicted, strict=True):
            held = 0
            for _ in range(count):
                try:
                    credits.reserve(
                        store, plan.account.id, _job(store, plan.account.id),
                        plan.estimate.amount, now=now,
                    )  # fmt: skip
                except InvalidInput:
                    break
                held += 1
            assert held == cost.fit
            if plan.account.id not in tracked:
                assert cost.fit == count  # no balance to refuse from
                continue
            assert (cost.problem is None) == (cost.fit == count)
            left = total(balances(store, now, account_ids=[plan.account.id])[plan.account.id])
            assert cost.funding is not None
            assert left == pytest.approx(cost.funding.after, abs=1e-6)
            assert left >= -1e-6  # never overdrawn without being told


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grants=st.lists(amounts, max_size=4),
    holds=st.lists(st.floats(min_value=0.5, max_value=80), max_size=4),
    observed=st.floats(min_value=0, max_value=5000),
)
def test_adopting_makes_the_ledger_equal_the_vendors_figure(
    tmp_path_factory, grants, holds, observed
):
    now = ts("2026-06-01 08:00")
    with open_store(tmp_path_factory.mktemp("adopt") / "lib.sqlite3") as store:
        account = add_account(store, {}, vendor="sandbox", name="a", kind="api", now=now)
        for amount in grants:
            credits.adjust(store, account.id, amount, "grant", now=now)
        for amount in holds:
            credits.reserve(
                store, account.id, _job(store, account.id), amount, now=now,
                allow_overdraft=True,
            )  # fmt: skip
        before = total(balances(store, now, account_ids=[account.id]).get(account.id, []))
        adjusted = credits.adopt(store, account.id, observed, source="typed", now=now)
        after = total(balances(store, now, account_ids=[account.id]).get(account.id, []))
        assert after == pytest.approx(observed, abs=1e-6)
        # Holds on an account that tracked no balance count once it does.
        assert adjusted == pytest.approx(observed - (sum(grants) - sum(holds)), abs=1e-4)
        if grants:
            assert adjusted == pytest.approx(observed - before, abs=1e-6)
        # Adopting the same figure again changes nothing.
        assert credits.adopt(store, account.id, observed, source="typed", now=now) == 0
        rows = store.all("SELECT kind FROM ledger WHERE kind IN ('adjust', 'observe')")
        kinds = [r[0] for r in rows]
        assert kinds.count("observe") == 2
