"""Answers a creator asks each morning: what expires soon, what can I still make for
free today, which account should this take use, and when do my free points reset."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from takestock.core.credits import Account, BucketBalance, balances, list_accounts, total
from takestock.core.grants import materialise
from takestock.core.store import Store

__all__ = [
    "AccountChoice",
    "Expiring",
    "ResetSuggestion",
    "expiring_within",
    "free_today",
    "suggest_account",
    "suggest_reset",
]

#: Time zones a reset is most often tied to, tried in this order when guessing.
CANDIDATE_ZONES = (
    "Asia/Shanghai",
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "Asia/Singapore",
)


@dataclass(frozen=True, slots=True)
class Expiring:
    account: Account
    bucket: BucketBalance

    def to_json(self) -> dict[str, object]:
        return {"account": self.account.name, "vendor": self.account.vendor,
                **self.bucket.to_json()}  # fmt: skip


def expiring_within(store: Store, hours: float, now: float | None = None) -> list[Expiring]:
    """Unspent credits that lapse within ``hours``, soonest first."""
    now = time.time() if now is None else now
    materialise(store, now)
    accounts = {a.id: a for a in list_accounts(store)}
    horizon = now + hours * 3600
    found = [
        Expiring(accounts[account_id], bucket)
        for account_id, buckets in balances(store, now).items()
        for bucket in buckets
        if bucket.expires_at is not None and bucket.expires_at <= horizon and bucket.remaining > 0
    ]
    return sorted(found, key=lambda e: e.bucket.expires_at or 0)


@dataclass(frozen=True, slots=True)
class FreeToday:
    account: Account
    free_left: float
    takes: int  # of the cheapest take the user priced (0 when none was given)


def free_today(
    store: Store, cheapest_take: Mapping[str, float], now: float | None = None
) -> list[FreeToday]:
    """Per account, today's free points left and how many takes they still make.

    ``cheapest_take`` maps a vendor id to the cost of its cheapest take, in its unit.
    """
    now = time.time() if now is None else now
    materialise(store, now)
    out = []
    all_balances = balances(store, now)
    for account in list_accounts(store):
        free = [b for b in all_balances.get(account.id, []) if b.kind == "daily_free"]
        left = total(free)
        price = cheapest_take.get(account.vendor, 0)
        out.append(FreeToday(account, left, int(left // price) if price > 0 else 0))
    return [f for f in out if f.free_left > 0]


@dataclass(frozen=True, slots=True)
class AccountChoice:
    account: Account
    cost: float
    money: float | None
    soonest_expiry: float | None
    can_afford: bool
    reason: str


def suggest_account(
    store: Store, vendor: str, cost: float, now: float | None = None
) -> list[AccountChoice]:
    """The vendor's open accounts, best first: those that can afford the take, cheapest in
    money, then the one whose credits expire soonest (spend what would be lost)."""
    now = time.time() if now is None else now
    materialise(store, now)
    all_balances = balances(store, now)
    choices = []
    for account in list_accounts(store):
        if account.vendor != vendor or account.closed_at is not None:
            continue
        buckets = [b for b in all_balances.get(account.id, []) if b.remaining > 0]
        left = total(buckets)
        expiries = [b.expires_at for b in buckets if b.expires_at is not None]
        money = None if account.money_per_unit is None else cost * account.money_per_unit
        tracked = bool(buckets) or bool(
            store.scalar("SELECT 1 FROM credit_bucket WHERE account_id = ?", (account.id,))
        )
        can = not tracked or left >= cost
        reason = (
            "balance unknown"
            if not tracked
            else f"{left:g} {account.unit} left"
            if can
            else f"only {left:g} {account.unit} left"
        )
        choices.append(
            AccountChoice(account, cost, money, min(expiries) if expiries else None, can, reason)
        )
    return sorted(
        choices,
        key=lambda c: (
            not c.can_afford,
            c.money if c.money is not None else float("inf"),
            c.soonest_expiry if c.soonest_expiry is not None else float("inf"),
        ),
    )


@dataclass(frozen=True, slots=True)
class ResetSuggestion:
    """A guess at a daily reset, from jumps seen in balance observations; never applied
    without the user's yes."""

    reset_time: str
    timezone: str
    evidence: int  # how many jumps agree

    def to_json(self) -> dict[str, object]:
        return {"reset_time": self.reset_time, "timezone": self.timezone,
                "evidence": self.evidence}  # fmt: skip


def suggest_reset(
    store: Store, account_id: int, *, min_evidence: int = 3, zones: Sequence[str] = CANDIDATE_ZONES
) -> ResetSuggestion | None:
    """When observed balances jump up between two looks with nothing recorded to explain
    it, the reset happened in that window; windows that share one whole hour point at it.
    The hour is reported in the first candidate zone where it is local midnight, else in
    UTC."""
    rows = store.all(
        "SELECT at, observed FROM ledger WHERE account_id = ? AND kind = 'observe' ORDER BY at",
        (account_id,),
    )
    windows: list[tuple[float, float]] = []
    for (t0, seen0), (t1, seen1) in itertools.pairwise(rows):
        explained = store.scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = ? AND at > ?"
            " AND at <= ? AND kind IN ('adjust', 'grant')",
            (account_id, t0, t1),
        )
        if seen1 - seen0 - explained > 0 and t1 - t0 <= 36 * 3600:
            windows.append((t0, t1))
    hours: Counter[int] = Counter()
    for t0, t1 in windows:
        first = int(t0 // 3600) + 1
        for hour in range(first, int(t1 // 3600) + 1):
            hours[hour % 24] += 1
    if not hours:
        return None
    count = max(hours.values())
    if count < min_evidence:
        return None
    # Several hours can fit every window; a local midnight in a likely zone wins.
    fitting = sorted(h for h, n in hours.items() if n == count)
    for name in zones:
        for hour in fitting:
            local = dt.datetime(2026, 1, 15, hour, tzinfo=dt.UTC).astimezone(ZoneInfo(name))
            if local.hour == 0 and local.minute == 0:
                return ResetSuggestion("00:00", name, count)
    return ResetSuggestion(f"{fitting[0]:02d}:00", "UTC", count)
