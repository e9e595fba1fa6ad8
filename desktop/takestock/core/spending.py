"""Spending over time and what the vendors last showed, read from the ledger.

Only *captures* count as spending: they are the actual charges. An open hold is not
spent yet, and a refund gives a hold back without ever becoming a capture. Days are
calendar days in the zone given (the user's own by default), so a take made at 23:30
counts on the day the user made it.

Daily sums are grouped in SQL by quarter hour (every zone's offset from UTC is a whole
number of quarter hours) and turned into local days in Python: the work is bounded by
the length of the window, not by the size of the ledger.

The last part holds small account edits that the GUI and the command line share.
They belong with the accounts in ``core.credits`` and are kept here only until they
move there.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = [
    "DaySpend",
    "Observation",
    "VendorSpend",
    "daily_spend",
    "last_observations",
    "spend_summary",
    "window_start",
]

_QUARTER_HOUR = 900


class DaySpend(NamedTuple):
    """What one vendor charged on one local day (in its unit, or in money)."""

    day: dt.date
    vendor: str
    amount: float


@dataclass(frozen=True, slots=True)
class VendorSpend:
    """One vendor's charges over a window, in its own unit.

    ``money`` is in the catalog's currency (US dollars), None when an account of the
    vendor has no money figure; ``unpriced`` then says how much of ``amount`` that is.
    """

    vendor: str
    unit: str
    amount: float
    jobs: int
    money: float | None
    unpriced: float


@dataclass(frozen=True, slots=True)
class Observation:
    """The newest balance seen at the vendor for an account, against the ledger's."""

    account_id: int
    at: float
    observed: float
    computed: float
    source: str

    @property
    def drift(self) -> float:
        return round(self.observed - self.computed, 6)


def window_start(days: int, now: float | None = None, tz: dt.tzinfo | None = None) -> float:
    """The local midnight that starts a window of ``days`` calendar days ending today."""
    if days < 1:
        raise InvalidInput("days", "must be at least 1")
    now = time.time() if now is None else now
    today = dt.datetime.fromtimestamp(now, tz).date() - dt.timedelta(days=days - 1)
    midnight = dt.datetime(today.year, today.month, today.day)
    if tz is not None:
        return midnight.replace(tzinfo=tz).timestamp()
    return midnight.timestamp()  # the machine's own zone


def daily_spend(
    store: Store,
    since: float,
    until: float,
    *,
    tz: dt.tzinfo | None = None,
    in_money: bool = False,
) -> list[DaySpend]:
    """Captured charges per local day and vendor in [since, until), oldest day first.

    With ``in_money``, amounts are in the catalog's currency and accounts without a
    money figure are left out (:func:`spend_summary` says how much that is).
    Days and vendors with no charge are absent.
    """
    value = "-l.amount * a.money_per_unit" if in_money else "-l.amount"
    priced = " AND a.money_per_unit IS NOT NULL" if in_money else ""
    rows = store.all(
        f"SELECT a.vendor AS vendor, CAST(l.at / {_QUARTER_HOUR} AS INTEGER) AS slot,"
        f" SUM({value}) AS amount"
        # CROSS JOIN keeps accounts outside, so each account's captures come from the
        # ledger_account index (account_id, kind, at) instead of a scan of the ledger.
        " FROM account a CROSS JOIN ledger l ON l.account_id = a.id"
        f" WHERE l.kind = 'capture' AND l.at >= ? AND l.at < ?{priced}"
        " GROUP BY a.vendor, slot",
        (since, until),
    )
    sums: dict[tuple[dt.date, str], float] = {}
    for row in rows:
        day = dt.datetime.fromtimestamp(row["slot"] * _QUARTER_HOUR, tz).date()
        key = (day, row["vendor"])
        sums[key] = sums.get(key, 0.0) + row["amount"]
    return [
        DaySpend(day, vendor, round(amount, 6))
        for (day, vendor), amount in sorted(sums.items())
        if abs(amount) > 1e-9
    ]


def spend_summary(store: Store, since: float, until: float) -> list[VendorSpend]:
    """Per vendor: what was captured in [since, until), on how many jobs, and its money.

    Most spent first. A vendor whose accounts use different units (rare: a web and an
    API surface) gets one line per unit.
    """
    rows = store.all(
        "SELECT a.vendor AS vendor, COALESCE(a.unit, 'credits') AS unit,"
        " SUM(-l.amount) AS amount, COUNT(DISTINCT l.job_id) AS jobs,"
        " SUM(CASE WHEN a.money_per_unit IS NULL THEN 0 ELSE -l.amount * a.money_per_unit END)"
        "   AS money,"
        " SUM(CASE WHEN a.money_per_unit IS NULL THEN -l.amount ELSE 0 END) AS unpriced"
        " FROM account a CROSS JOIN ledger l ON l.account_id = a.id"
        " WHERE l.kind = 'capture' AND l.at >= ? AND l.at < ?"
        " GROUP BY a.vendor, unit",
        (since, until),
    )
    out = [
        VendorSpend(
            vendor=r["vendor"],
            unit=r["unit"],
            amount=round(r["amount"], 6),
            jobs=r["jobs"],
            money=None if abs(r["unpriced"]) > 1e-9 else round(r["money"], 6),
            unpriced=round(r["unpriced"], 6),
        )
        for r in rows
    ]
    return sorted(out, key=lambda s: (-s.amount, s.vendor, s.unit))


def last_observations(
    store: Store, account_ids: Iterable[int] | None = None
) -> dict[int, Observation]:
    """The newest balance observation (typed by the user or from an API) per account."""
    where = ""
    params: tuple[int, ...] = ()
    if account_ids is not None:
        ids = tuple(account_ids)
        if not ids:
            return {}
        where, params = f" WHERE a.id IN ({', '.join('?' * len(ids))})", ids
    rows = store.all(
        "SELECT l.account_id, l.at, l.observed, l.computed, l.note FROM account a"
        " JOIN ledger l ON l.id = (SELECT MAX(id) FROM ledger"
        "   WHERE account_id = a.id AND kind = 'observe')" + where,
        params,
    )
    return {
        r["account_id"]: Observation(
            r["account_id"], r["at"], r["observed"], r["computed"] or 0.0, r["note"]
        )
        for r in rows
    }
