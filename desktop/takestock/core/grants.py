"""Recurring grants (daily free points, monthly allowances) turned into credit buckets.

Grants are materialised lazily: whenever the app opens or a day passes, every period
that started since the last grant becomes a bucket, and every bucket past its expiry
loses what was left. A closed app therefore loses nothing, and materialising twice
changes nothing (a bucket is unique per rule and period).

Periods are computed in the rule's own time zone with ``zoneinfo``, so "00:00
Asia/Shanghai" is midnight in Beijing whatever the user's zone, across daylight-saving
changes on the user's side; a local reset time that a DST jump skips moves to the first
valid instant after it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = ["GrantRule", "Period", "materialise", "periods", "rule_from_row", "zone"]

UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class GrantRule:
    id: int
    account_id: int
    key: str
    kind: str
    amount: float | None  # None: the vendor does not publish it; the user has to say
    period: str  # daily | monthly | once
    reset_time: str  # "HH:MM" in ``timezone``
    timezone: str | None
    renewal_day: int | None
    expires: str  # end_of_period | never | days:N
    requires: str
    starts_at: float
    ends_at: float | None
    source: str

    @property
    def ready(self) -> bool:
        """Whether the rule has what materialising needs (amount and time zone)."""
        return self.amount is not None and (self.period == "once" or self.timezone is not None)


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "2026-11-25" (daily), "2026-11" (monthly), "once"
    start: float
    end: float | None  # the next period's start; None for "once"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "timezone", f"{name!r} is not a known time zone (e.g. Asia/Shanghai)"
        ) from None


def rule_from_row(row: object) -> GrantRule:
    r = row  # sqlite3.Row
    return GrantRule(
        id=r["id"],  # type: ignore[index]
        account_id=r["account_id"],  # type: ignore[index]
        key=r["key"],  # type: ignore[index]
        kind=r["kind"],  # type: ignore[index]
        amount=r["amount"],  # type: ignore[index]
        period=r["period"],  # type: ignore[index]
        reset_time=r["reset_time"],  # type: ignore[index]
        timezone=r["timezone"],  # type: ignore[index]
        renewal_day=r["renewal_day"],  # type: ignore[index]
        expires=r["expires"],  # type: ignore[index]
        requires=r["requires"],  # type: ignore[index]
        starts_at=r["starts_at"],  # type: ignore[index]
        ends_at=r["ends_at"],  # type: ignore[index]
        source=r["source"],  # type: ignore[index]
    )


_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
_ONE_DAY = dt.timedelta(days=1)


def _local_instant(day: dt.date, hhmm: tuple[int, int], tz: ZoneInfo) -> float:
    """The UTC timestamp of wall-clock ``hhmm`` on ``day`` in ``tz``.

    The zone's offset for that wall time (fold=0) is subtracted: a time repeated by a
    DST fall-back resolves to its first occurrence, one skipped by a spring-forward jump
    to the instant that clocks showed one hour later.
    """
    hour, minute = hhmm
    offset = tz.utcoffset(dt.datetime(day.year, day.month, day.day, hour, minute))
    assert offset is not None
    # Whole seconds from the epoch, counted by day number: a year of daily periods for
    # fifty accounts makes 18,000 of these, and datetime arithmetic costs twice as much.
    wall = (day.toordinal() - _EPOCH_DAY) * 86400 + hour * 3600 + minute * 60
    return float(wall) - offset.total_seconds()


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def periods(rule: GrantRule, since: float, until: float) -> Iterator[Period]:
    """The periods of ``rule`` that overlap (since, until]: the one running at ``since``
    (or at the rule's start, if later) and every one that starts by ``until``."""
    if rule.period == "once":
        if rule.starts_at <= until:
            yield Period("once", rule.starts_at, None)
        return
    assert rule.timezone is not None
    tz = zone(rule.timezone)
    hour, _, minute = rule.reset_time.partition(":")
    hhmm = (int(hour), int(minute))
    begin = max(since, rule.starts_at)
    end = until if rule.ends_at is None else min(until, rule.ends_at)
    local = dt.datetime.fromtimestamp(begin, tz).date() - _ONE_DAY
    if rule.period == "daily":
        day = local
        start = _local_instant(day, hhmm, tz)
        while start <= end:
            following = day + _ONE_DAY
            nxt = _local_instant(following, hhmm, tz)
            if nxt > begin:
                yield Period(day.isoformat(), start, nxt)
            day, start = following, nxt
    elif rule.period == "monthly":
        renewal = rule.renewal_day or 1
        year, month = local.year, local.month - 1
        if month == 0:
            year, month = year - 1, 12
        while True:
            start = _local_instant(_month_day(year, month, renewal), hhmm, tz)
            if start > end:
                return
            ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
            nxt = _local_instant(_month_day(ny, nm, renewal), hhmm, tz)
            if nxt > begin:
                yield Period(f"{year:04d}-{month:02d}", start, nxt)
            year, month = ny, nm
    else:
        raise InvalidInput("period", f"unknown grant period {rule.period!r}")


def _expiry(rule: GrantRule, period: Period) -> float | None:
    if rule.expires == "never":
        return None
    if rule.expires == "end_of_period":
        return period.end
    if rule.expires.startswith("days:"):
        return period.start + float(rule.expires.split(":", 1)[1]) * 86400
    raise InvalidInput("expires", f"unknown expiry rule {rule.expires!r}")


def materialise(store: Store, now: float, *, account_id: int | None = None) -> int:
    """Create the buckets of every period due by ``now`` and expire lapsed ones.

    Returns how many buckets were created. Safe to call any number of times.
    """
    where = "" if account_id is None else " AND account_id = ?"
    params: tuple[object, ...] = () if account_id is None else (account_id,)
    created = 0
    with store.tx():
        rules = [
            rule_from_row(r)
            for r in store.all(f"SELECT * FROM grant_rule WHERE 1 = 1{where}", params)
        ]
        last_by_rule: dict[int, float] = {
            row[0]: row[1]
            for row in store.all(
                "SELECT rule_id, MAX(granted_at) FROM credit_bucket"
                " WHERE rule_id IS NOT NULL GROUP BY rule_id"
            )
        }
        buckets: list[tuple[object, ...]] = []
        for rule in rules:
            if not rule.ready:
                continue
            last = last_by_rule.get(rule.id)
            for period in periods(rule, rule.starts_at if last is None else last, now):
                if last is not None and period.start <= last:
                    continue  # granted already
                label = f"{rule.key} {period.key}"
                expires = _expiry(rule, period)
                # A period that ended while the app was closed lapsed untouched.
                lapsed = int(expires is not None and expires <= now)
                buckets.append(
                    (
                        rule.account_id,
                        rule.kind,
                        label,
                        rule.amount,
                        period.start,
                        expires,
                        rule.id,
                        period.key,
                        lapsed,
                    )
                )
        before = store.scalar("SELECT COALESCE(MAX(id), 0) FROM credit_bucket")
        store.conn.executemany(
            "INSERT OR IGNORE INTO credit_bucket(account_id, kind, label, amount,"
            " granted_at, expires_at, rule_id, period, expired)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            buckets,
        )
        # Each new bucket's grant, and the whole of it written off where it lapsed unseen:
        # nothing can have been spent from a bucket that did not exist yet.
        created = store.execute(
            "INSERT INTO ledger(account_id, bucket_id, kind, amount, at, note)"
            " SELECT account_id, id, 'grant', amount, granted_at, label FROM credit_bucket"
            " WHERE id > ? AND rule_id IS NOT NULL",
            (before,),
        ).rowcount
        store.execute(
            "INSERT INTO ledger(account_id, bucket_id, kind, amount, at, note)"
            " SELECT account_id, id, 'expire', -amount, expires_at, 'expired unspent'"
            " FROM credit_bucket WHERE id > ? AND rule_id IS NOT NULL AND expired = 1",
            (before,),
        )
        _expire(store, now, where, params)
    return created


def _expire(store: Store, now: float, where: str, params: tuple[object, ...]) -> None:
    """Write off what is left of every bucket that lapsed by ``now``, once."""
    lapsing = f"expired = 0 AND expires_at IS NOT NULL AND expires_at <= ?{where}"
    store.execute(
        "INSERT INTO ledger(account_id, bucket_id, kind, amount, at, note)"
        " SELECT account_id, id, 'expire',"
        "  -MAX(0, (SELECT COALESCE(SUM(l.amount), 0) FROM ledger l WHERE l.bucket_id = b.id)),"
        f"  expires_at, 'expired unspent' FROM credit_bucket b WHERE {lapsing}",
        (now, *params),
    )
    store.execute(f"UPDATE credit_bucket SET expired = 1 WHERE {lapsing}", (now, *params))
