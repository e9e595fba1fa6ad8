"""Budgets: caps on what an account, or the prompts of a tag (a project), may spend.

Every cap is checked before anything is sent (:func:`check_budget`, called for each take
a request holds). An account's cap counts in the account's unit; a tag's cap in its own
``unit`` (money unless told), never a sum of different units: a take that cannot be
counted in it is refused. Holds count as spent until they are released.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from takestock.core.credits import get_account
from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = ["BUDGET_PERIODS", "MONEY_UNIT", "budgets", "check_budget", "set_budget"]

_EPSILON = 1e-9

BUDGET_PERIODS = ("day", "month", "total")


def set_budget(
    store: Store,
    *,
    account_id: int | None = None,
    tag: str | None = None,
    period: str = "month",
    cap: float | None,
    unit: str | None = None,
) -> None:
    """Cap what an account, or the prompts of a tag (a project), may spend per period;
    ``cap`` None removes the cap. One cap per account (or tag) and period."""
    if (account_id is None) == (tag is None or not tag.strip()):
        raise InvalidInput("budget", "give an account or a tag (not both)")
    if period not in BUDGET_PERIODS:
        raise InvalidInput("period", f"must be one of {', '.join(BUDGET_PERIODS)}")
    if cap is not None and (cap != cap or cap < 0):
        raise InvalidInput("cap", "must be zero or more")
    key: int | str
    if account_id is not None:
        get_account(store, account_id)
        where, key = "account_id = ?", account_id
    else:
        assert tag is not None
        where, key = "tag = ?", tag.strip()
    with store.tx():
        store.execute(f"DELETE FROM budget WHERE {where} AND period = ?", (key, period))
        if cap is not None:
            store.execute(
                "INSERT INTO budget(account_id, tag, period, cap, unit) VALUES (?, ?, ?, ?, ?)",
                (
                    account_id,
                    None if account_id is not None else key,
                    period,
                    cap,
                    None if account_id is not None else (unit or MONEY_UNIT),
                ),
            )


def budgets(store: Store) -> list[dict[str, Any]]:
    """Every cap: ``{"account_id", "account", "vendor", "tag", "period", "cap", "unit"}``
    (an account's cap is in the account's unit)."""
    rows = store.all(
        "SELECT b.account_id, a.name AS account, a.vendor, b.tag, b.period, b.cap,"
        " COALESCE(b.unit, a.unit) AS unit"
        " FROM budget b LEFT JOIN account a ON a.id = b.account_id"
        " ORDER BY b.tag IS NOT NULL, a.vendor, a.name, b.tag, b.period"
    )
    return [dict(r) for r in rows]


def _tag_spent(store: Store, tag: str, unit: str, since: float) -> float:
    """What the takes of a tag's prompts hold or cost since ``since``, in ``unit``: each
    account's entries in its own unit where it is ``unit``, else through money where
    ``unit`` is the money's currency and the account's worth is known."""
    rows = store.all(
        "SELECT a.unit AS unit, a.money_per_unit AS rate, COALESCE(SUM(l.amount), 0) AS amount"
        " FROM ledger l JOIN account a ON a.id = l.account_id JOIN job j ON j.id = l.job_id"
        " JOIN request r ON r.id = j.request_id"
        " JOIN prompt_tag pt ON pt.prompt_id = (SELECT prompt_id FROM prompt_version"
        "   WHERE id = r.prompt_version_id)"
        " JOIN tag t ON t.id = pt.tag_id AND t.name = ?"
        " WHERE l.kind IN ('reserve', 'release', 'capture') AND l.at >= ?"
        " GROUP BY a.unit, a.money_per_unit",
        (tag, since),
    )
    spent = 0.0
    for row in rows:
        converted = _in_budget_unit(-float(row["amount"]), row["unit"], row["rate"], unit)
        spent += converted or 0.0  # other units are outside this cap (it says which)
    return spent


def _in_budget_unit(amount: float, unit: str, rate: float | None, want: str) -> float | None:
    if unit == want:
        return amount
    if want == MONEY_UNIT and rate:
        return amount * rate
    return None


#: What a tag's budget counts in unless told: money (every vendor's catalog is in USD).
MONEY_UNIT = "USD"


def check_budget(
    store: Store, account_id: int | None, tags: Sequence[str], amount: float, *, now: float
) -> None:
    """Refuse a charge that would pass a budget cap of the account or of a prompt tag.

    An account's cap is in its own unit; a tag's cap in its ``unit`` (money by default),
    never a sum of different units: a take that cannot be counted in it is refused.
    """
    marks = ", ".join("?" * len(tags)) or "NULL"
    caps = store.all(
        f"SELECT * FROM budget WHERE account_id = ? OR tag IN ({marks})", (account_id, *tags)
    )
    account = get_account(store, account_id) if account_id is not None and caps else None
    for cap in caps:
        since = {"day": now - 86400, "month": now - 30 * 86400, "total": 0.0}[cap["period"]]
        if cap["account_id"] is not None:
            spent = -float(
                store.scalar(
                    "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = ?"
                    " AND kind IN ('reserve', 'release', 'capture') AND at >= ?",
                    (cap["account_id"], since),
                )
            )
            scope, unit, needs = "this account", account.unit if account else "", amount
        else:
            unit = cap["unit"] or MONEY_UNIT
            scope = f"tag {cap['tag']!r}"
            spent = _tag_spent(store, cap["tag"], unit, since)
            converted = (
                _in_budget_unit(amount, account.unit, account.money_per_unit, unit)
                if account is not None
                else amount
            )
            if converted is None:
                assert account is not None
                raise InvalidInput(
                    "budget",
                    f"{scope} has a budget in {unit}, and a take on {account.name} costs "
                    f"{amount:g} {account.unit} with no known worth in {unit}; give the "
                    "account its worth (`takestock accounts unit`) or lift the budget",
                )
            needs = converted
        if spent + needs > cap["cap"] + _EPSILON:
            raise InvalidInput(
                "budget",
                f"{scope} has a {cap['period']} budget of {cap['cap']:g} {unit}; "
                f"{spent:g} is spent or held and this needs {needs:g}",
            )
