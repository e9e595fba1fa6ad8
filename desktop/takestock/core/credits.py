"""Memberships and credits: accounts, plans, buckets and an append-only ledger.

Balances are derived from the ledger and never stored twice: a bucket's remaining
amount is the sum of its ledger entries (its grant, then reserves, captures, releases,
expiry, adjustments). Spending follows the vendor's order where it is known (Runway:
expiring allowance before purchased credits); elsewhere the soonest-to-expire bucket
first, then free before paid, and that order is reported as an assumption.

A job's cost moves through the ledger in three steps: *reserve* (a hold at submit, the
estimate), then *capture* (the actual charge, when known) or *release* (a refund: the
vendor made nothing and charged nothing). "Failed" (no video, usually refunded) and
"unusable" (a video the creator rejected, never refunded) stay apart: the first releases
its hold, the second is a capture like any other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from takestock.core.errors import InvalidInput
from takestock.core.grants import GrantRule, materialise, rule_from_row, zone

# Plans are the plan books' data; credits re-exports them for the callers of old.
from takestock.core.plan_books import Plan, PlanBook, load_plan_books
from takestock.core.store import Store
from takestock.core.validation import check_base_url

__all__ = [
    "Account",
    "BucketBalance",
    "Plan",
    "PlanBook",
    "Spend",
    "account_rules",
    "add_account",
    "adjust",
    "adopt",
    "balances",
    "capture",
    "close_account",
    "get_account",
    "list_accounts",
    "load_plan_books",
    "observe",
    "release",
    "reserve",
    "set_base_url",
    "set_default",
    "set_unit",
    "spend_order",
]

#: Free before paid when the vendor does not say: the order of kinds at equal expiry.
_KIND_RANK = {"daily_free": 0, "promo": 1, "bonus": 2, "one_time": 3, "monthly": 4, "top_up": 5}
_EPSILON = 1e-9


# ------------------------------------------------------------------ accounts


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    vendor: str
    name: str
    kind: str  # api | web
    plan: str | None
    timezone: str | None
    region: str
    base_url: str | None
    unit: str
    money_per_unit: float | None
    closed_at: float | None
    closed_reason: str | None
    #: the vendor's account for targets that name none (where it has several)
    is_default: bool = False
    #: False: no unit was given (no plan book, no catalog at hand): the account counts in
    #: its vendor's catalog unit (see :func:`takestock.core.generate.account_unit`)
    unit_given: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "name": self.name,
            "kind": self.kind,
            "plan": self.plan,
            "timezone": self.timezone,
            "region": self.region,
            "unit": self.unit,
            "closed": self.closed_at is not None,
            "closed_reason": self.closed_reason,
            "default": self.is_default,
        }


def _account(row: Any) -> Account:
    return Account(
        id=row["id"],
        vendor=row["vendor"],
        name=row["name"],
        kind=row["kind"],
        plan=row["plan"],
        timezone=row["timezone"],
        region=row["region"],
        base_url=row["base_url"],
        unit=row["unit"] or "credits",
        unit_given=row["unit"] is not None,
        money_per_unit=row["money_per_unit"],
        closed_at=row["closed_at"],
        closed_reason=row["closed_reason"],
        is_default=bool(row["is_default"]),
    )


def get_account(store: Store, name_or_id: str | int, vendor: str | None = None) -> Account:
    if isinstance(name_or_id, int):
        rows = store.all("SELECT * FROM account WHERE id = ?", (name_or_id,))
    elif vendor is not None:
        rows = store.all(
            "SELECT * FROM account WHERE name = ? AND vendor = ?", (name_or_id, vendor)
        )
    else:
        rows = store.all("SELECT * FROM account WHERE name = ?", (name_or_id,))
    if not rows:
        raise InvalidInput("account", f"no account {name_or_id!r}")
    if len(rows) > 1:
        vendors = ", ".join(r["vendor"] for r in rows)
        raise InvalidInput("account", f"{name_or_id!r} names accounts at {vendors}; say which")
    return _account(rows[0])


def list_accounts(store: Store) -> list[Account]:
    return [_account(r) for r in store.all("SELECT * FROM account ORDER BY vendor, name")]


def add_account(
    store: Store,
    books: Mapping[str, PlanBook],
    *,
    vendor: str,
    name: str,
    kind: str,
    plan: str | None = None,
    timezone: str | None = None,
    unit: str | None = None,
    money_per_unit: float | None = None,
    region: str = "default",
    now: float | None = None,
) -> Account:
    """A membership or API account, with its plan's grant rules copied onto it.

    The rules become the account's own: the user can correct any figure (most vendors
    publish none) without touching the shipped plan data. Unknown amounts stay blank.

    The account counts in its plan book's unit; without a book, in ``unit`` (the
    catalog's unit of the vendor: Luma's API counts US cents), worth ``money_per_unit``.
    """
    if kind not in ("api", "web"):
        raise InvalidInput("kind", "must be api or web")
    if not name.strip():
        raise InvalidInput("name", "is empty")
    book = books.get(f"{vendor}/{kind}") or books.get(f"{vendor}/web" if kind == "web" else "")
    chosen: Plan | None = None
    if plan is not None:
        if book is None or plan not in book.plans:
            known = ", ".join(book.plans) if book else "none shipped"
            raise InvalidInput("plan", f"no plan {plan!r} for {vendor} {kind}; known: {known}")
        chosen = book.plans[plan]
    tz = timezone or (book.timezone if book else None)
    if tz is not None:
        zone(tz)
    now = time.time() if now is None else now
    with store.tx():
        if store.one("SELECT 1 FROM account WHERE vendor = ? AND name = ?", (vendor, name)):
            raise InvalidInput("name", f"{vendor} already has an account named {name!r}")
        cur = store.execute(
            "INSERT INTO account(vendor, name, kind, plan, timezone, unit, money_per_unit,"
            " region, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                vendor,
                name.strip(),
                kind,
                plan,
                tz,
                # None: the vendor's catalog unit, which this module does not know
                (book.unit if book else None) or unit,
                book.money_per_unit if book else money_per_unit,
                region,
                now,
            ),
        )
        account_id = cur.lastrowid
        assert account_id is not None
        for grant in chosen.grants if chosen else ():
            # The account's zone fills a plan's unknown one; a plan's own zone stays.
            set_rule(
                store, account_id, now=now, **{**grant, "timezone": grant.get("timezone") or tz}
            )
    materialise(store, now, account_id=account_id)
    return get_account(store, account_id)


_RULE_FIELDS = {
    "key", "kind", "amount", "period", "reset_time", "timezone", "renewal_day", "expires",
    "requires", "source",
}  # fmt: skip


def set_rule(store: Store, account_id: int, *, now: float, **fields: Any) -> None:
    """Add or change one grant rule of an account (e.g. the daily free amount)."""
    unknown = set(fields) - _RULE_FIELDS - {"confidence"}
    if unknown:
        raise InvalidInput("rule", f"unknown fields {sorted(unknown)}")
    if "key" not in fields:
        raise InvalidInput("rule", "needs a key (e.g. daily)")
    if fields.get("timezone"):
        zone(fields["timezone"])
    reset = fields.get("reset_time") or "00:00"
    hour, _, minute = reset.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise InvalidInput("reset_time", f"{reset!r} is not HH:MM")
    fields.pop("confidence", None)
    with store.tx():
        existing = store.one(
            "SELECT * FROM grant_rule WHERE account_id = ? AND key = ?",
            (account_id, fields["key"]),
        )
        if existing is None:
            store.execute(
                "INSERT INTO grant_rule(account_id, key, kind, amount, period, reset_time,"
                " timezone, renewal_day, expires, requires, starts_at, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account_id,
                    fields["key"],
                    fields.get("kind", "daily_free"),
                    fields.get("amount"),
                    fields.get("period", "daily"),
                    reset,
                    fields.get("timezone"),
                    fields.get("renewal_day"),
                    fields.get("expires", "end_of_period"),
                    fields.get("requires", "none"),
                    now,
                    fields.get("source", ""),
                ),
            )
        else:
            changes = {k: v for k, v in fields.items() if k != "key"}
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                store.execute(
                    f"UPDATE grant_rule SET {sets} WHERE id = ?",
                    (*changes.values(), existing["id"]),
                )


# ------------------------------------------------------------------ balances


@dataclass(frozen=True, slots=True)
class BucketBalance:
    id: int | None  # None: the overdraft line
    account_id: int
    kind: str
    label: str
    granted: float
    remaining: float
    granted_at: float
    expires_at: float | None
    #: surfaces that may spend it ("api", "web"); None: any
    usable_on: tuple[str, ...] | None = None

    def spendable_on(self, surface: str) -> bool:
        return self.usable_on is None or surface in self.usable_on

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "usable_on": list(self.usable_on) if self.usable_on is not None else None,
            "label": self.label,
            "granted": self.granted,
            "remaining": round(self.remaining, 6),
            "granted_at": self.granted_at,
            "expires_at": self.expires_at,
        }


def balances(
    store: Store, now: float | None = None, *, account_ids: Iterable[int] | None = None
) -> dict[int, list[BucketBalance]]:
    """Live buckets with what remains in each, per account (one query for all)."""
    now = time.time() if now is None else now
    params: list[Any] = [now]
    where = ""
    if account_ids is not None:
        ids = list(account_ids)
        where = f" AND b.account_id IN ({', '.join('?' * len(ids))})"
        params += ids
    rows = store.all(
        "SELECT b.*, (SELECT COALESCE(SUM(l.amount), 0) FROM ledger l"
        "             WHERE l.bucket_id = b.id) AS remaining"
        " FROM credit_bucket b WHERE (b.expires_at IS NULL OR b.expires_at > ?)" + where,
        params,
    )
    out: dict[int, list[BucketBalance]] = {}
    for r in rows:
        out.setdefault(r["account_id"], []).append(
            BucketBalance(
                id=r["id"],
                account_id=r["account_id"],
                kind=r["kind"],
                label=r["label"],
                granted=r["amount"],
                remaining=r["remaining"],
                granted_at=r["granted_at"],
                expires_at=r["expires_at"],
                usable_on=tuple(json.loads(r["usable_on"])) if r["usable_on"] else None,
            )
        )
    overdrafts = store.all(
        "SELECT account_id, SUM(amount) AS owed FROM ledger WHERE bucket_id IS NULL"
        " AND kind IN ('reserve', 'capture', 'release', 'adjust')"
        # an account that tracks no credits has holds but no balance to overdraw
        " AND account_id IN (SELECT account_id FROM credit_bucket) GROUP BY account_id"
    )
    for r in overdrafts:
        if abs(r["owed"]) > _EPSILON and (account_ids is None or r["account_id"] in out):
            overdraft = BucketBalance(
                id=None,
                account_id=r["account_id"],
                kind="overdraft",
                label="overdraft",
                granted=0.0,
                remaining=r["owed"],
                granted_at=0.0,
                expires_at=None,
            )
            out.setdefault(r["account_id"], []).append(overdraft)
    return out


def total(buckets: Sequence[BucketBalance]) -> float:
    return round(sum(b.remaining for b in buckets), 6)


# ------------------------------------------------------------------ spending


@dataclass(frozen=True, slots=True)
class Spend:
    """How a charge is taken from an account's buckets."""

    parts: tuple[tuple[int | None, float], ...]  # (bucket id or None for overdraft, amount)
    order_known: bool  # False: Takestock assumed the order (shown to the user)


def spend_order(
    buckets: Sequence[BucketBalance], vendor_order: Sequence[str] = ("expiring_first",)
) -> list[BucketBalance]:
    """The buckets in the order the vendor spends them."""
    live = [b for b in buckets if b.id is not None and b.remaining > _EPSILON]
    if tuple(vendor_order) == ("expiring_first",):
        return sorted(
            live,
            key=lambda b: (
                b.expires_at if b.expires_at is not None else float("inf"),
                _KIND_RANK.get(b.kind, 9),
                b.granted_at,
            ),
        )
    rank = {kind: i for i, kind in enumerate(vendor_order)}
    return sorted(
        live,
        key=lambda b: (
            rank.get(b.kind, len(rank)),
            b.expires_at if b.expires_at is not None else float("inf"),
            b.granted_at,
        ),
    )


def plan_spend(
    buckets: Sequence[BucketBalance],
    amount: float,
    *,
    vendor_order: Sequence[str] = ("expiring_first",),
    order_known: bool = False,
    allow_overdraft: bool = False,
    what: str = "this take",
) -> Spend:
    """Split ``amount`` over the buckets; refuse when they cannot cover it."""
    parts: list[tuple[int | None, float]] = []
    left = amount
    for bucket in spend_order(buckets, vendor_order):
        if left <= _EPSILON:
            break
        take = min(bucket.remaining, left)
        parts.append((bucket.id, take))
        left -= take
    if left > _EPSILON:
        if not allow_overdraft:
            have = amount - left
            raise InvalidInput(
                "credits",
                f"{what} costs {amount:g} but the account has {have:g} left; "
                "top up, pick another account, or pass --allow-overdraft",
            )
        parts.append((None, left))
    return Spend(tuple(parts), order_known)


def _ledger(
    store: Store,
    account_id: int,
    kind: str,
    parts: Iterable[tuple[int | None, float]],
    *,
    job_id: int | None,
    at: float,
    note: str = "",
    sign: float = -1.0,
) -> None:
    store.conn.executemany(
        "INSERT INTO ledger(account_id, bucket_id, job_id, kind, amount, at, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(account_id, b, job_id, kind, sign * a, at, note) for b, a in parts],
    )


def reserve(
    store: Store,
    account_id: int,
    job_id: int,
    amount: float,
    *,
    vendor_order: Sequence[str] = ("expiring_first",),
    order_known: bool = False,
    allow_overdraft: bool = False,
    surface: str = "api",
    now: float | None = None,
) -> Spend:
    """Hold ``amount`` for a job at submit; raises InvalidInput when it cannot be paid.

    Only buckets the job's ``surface`` may spend are used (``api`` for jobs Takestock
    sends, ``web`` for takes made on the vendor's site).

    An account that tracks no credits at all (no bucket ever) is not refused: Takestock
    cannot know its balance, and says so elsewhere.
    """
    now = time.time() if now is None else now
    account = get_account(store, account_id)
    if account.closed_at is not None:
        raise InvalidInput(
            "account", f"{account.name} is closed ({account.closed_reason or 'read-only'})"
        )
    tracked = store.scalar(
        "SELECT 1 FROM credit_bucket WHERE account_id = ? LIMIT 1", (account_id,)
    )
    if amount <= 0:
        return Spend((), order_known)
    if not tracked:
        # No balance to refuse from, but the hold is recorded (bucket-less) so that its
        # capture, the account's budget and the spending reports see the charge.
        _ledger(store, account_id, "reserve", [(None, amount)], job_id=job_id, at=now,
                note="hold at submit")  # fmt: skip
        return Spend(((None, amount),), order_known)
    buckets = [
        b
        for b in balances(store, now, account_ids=[account_id]).get(account_id, [])
        if b.spendable_on(surface)
    ]
    spend = plan_spend(
        buckets,
        amount,
        vendor_order=vendor_order,
        order_known=order_known,
        allow_overdraft=allow_overdraft,
        what=f"job {job_id}",
    )
    _ledger(store, account_id, "reserve", spend.parts, job_id=job_id, at=now, note="hold at submit")
    return spend


def _held(store: Store, job_id: int) -> tuple[int | None, list[tuple[int | None, float]]]:
    rows = store.all(
        "SELECT account_id, bucket_id, -SUM(amount) AS held FROM ledger WHERE job_id = ?"
        " AND kind IN ('reserve', 'release') GROUP BY account_id, bucket_id",
        (job_id,),
    )
    account = rows[0]["account_id"] if rows else None
    return account, [(r["bucket_id"], r["held"]) for r in rows if r["held"] > _EPSILON]


def release(store: Store, job_id: int, *, now: float | None = None, note: str = "") -> float:
    """Give back a job's hold (the vendor made nothing, or the job was cancelled)."""
    now = time.time() if now is None else now
    account_id, held = _held(store, job_id)
    if account_id is None or not held:
        return 0.0
    _ledger(store, account_id, "release", held, job_id=job_id, at=now, note=note, sign=+1.0)
    return sum(a for _, a in held)


def capture(
    store: Store, job_id: int, actual: float, *, now: float | None = None, note: str = ""
) -> None:
    """Turn a job's hold into its actual charge, from the same buckets in the same order.

    A charge above the hold is taken from the last bucket held (and may overdraw it: the
    vendor has charged already; the ledger records what happened).
    """
    now = time.time() if now is None else now
    account_id, held = _held(store, job_id)
    if account_id is None:
        # Nothing was held (the price was unknown): the charge is taken now, in order.
        _capture_unheld(store, job_id, actual, now=now, note=note)
        return
    with store.tx():
        _ledger(
            store,
            account_id,
            "release",
            held,
            job_id=job_id,
            at=now,
            sign=+1.0,
            note="hold settled",
        )
        parts: list[tuple[int | None, float]] = []
        left = actual
        for bucket_id, amount in held:
            take = min(amount, left)
            if take > _EPSILON:
                parts.append((bucket_id, take))
            left -= take
        if left > _EPSILON:
            last = held[-1][0] if held else None
            parts.append((last, left))
        _ledger(store, account_id, "capture", parts, job_id=job_id, at=now, note=note)


def _capture_unheld(store: Store, job_id: int, actual: float, *, now: float, note: str) -> None:
    row = store.one(
        "SELECT j.account_id, a.kind FROM job j JOIN account a ON a.id = j.account_id"
        " WHERE j.id = ?",
        (job_id,),
    )
    if row is None or actual <= _EPSILON:
        return
    account_id = int(row["account_id"])
    buckets = [
        b
        for b in balances(store, now, account_ids=[account_id]).get(account_id, [])
        if b.spendable_on(row["kind"])
    ]
    parts = plan_spend(buckets, actual, allow_overdraft=True).parts
    _ledger(store, account_id, "capture", parts, job_id=job_id, at=now, note=note)


def adjust(
    store: Store,
    account_id: int,
    amount: float,
    reason: str,
    *,
    now: float | None = None,
    kind: str = "top_up",
    expires_at: float | None = None,
    usable_on: Sequence[str] | None = None,
) -> None:
    """A manual change: a top-up (new bucket) when positive, a correction when negative.

    ``usable_on`` limits a new bucket to some surfaces (bonus credits the vendor lets only
    its website spend: ``["web"]``).
    """
    if not reason.strip():
        raise InvalidInput("reason", "say why (it stays in the ledger)")
    if amount == 0:
        raise InvalidInput("amount", "is zero: nothing to adjust")
    now = time.time() if now is None else now
    get_account(store, account_id)
    with store.tx():
        if amount > 0:
            surfaces = json.dumps(sorted(set(usable_on))) if usable_on else None
            cur = store.execute(
                "INSERT INTO credit_bucket(account_id, kind, label, amount, granted_at,"
                " expires_at, usable_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account_id, kind, reason.strip(), amount, now, expires_at, surfaces),
            )
            store.execute(
                "INSERT INTO ledger(account_id, bucket_id, kind, amount, at, note)"
                " VALUES (?, ?, 'adjust', ?, ?, ?)",
                (account_id, cur.lastrowid, amount, now, reason.strip()),
            )
            return
        buckets = balances(store, now, account_ids=[account_id]).get(account_id, [])
        spend = plan_spend(buckets, -amount, allow_overdraft=True)
        _ledger(store, account_id, "adjust", spend.parts, job_id=None, at=now, note=reason.strip())


def observe(
    store: Store, account_id: int, observed: float, *, source: str, now: float | None = None
) -> float:
    """Record a balance seen at the vendor (API or typed by the user); returns the drift.

    The ledger's own figure is not changed: the difference is kept as a reconciliation
    row for the user to see, and settled only by an explicit adjustment.
    """
    now = time.time() if now is None else now
    materialise(store, now, account_id=account_id)
    computed = total(balances(store, now, account_ids=[account_id]).get(account_id, []))
    store.execute(
        "INSERT INTO ledger(account_id, kind, amount, at, note, observed, computed)"
        " VALUES (?, 'observe', 0, ?, ?, ?, ?)",
        (account_id, now, source, observed, computed),
    )
    return round(observed - computed, 6)


def adopt(
    store: Store, account_id: int, observed: float, *, source: str, now: float | None = None
) -> float:
    """Make the ledger agree with the balance the vendor shows; returns the adjustment.

    The observation is recorded as :func:`observe` does, then one ``adjust`` entry moves
    the ledger's figure onto the vendor's: a new bucket for credits Takestock did not know
    of (history from before Takestock, a top-up made elsewhere), or a correction spent
    from the buckets in their usual order for credits the vendor no longer has.
    """
    now = time.time() if now is None else now
    reason = f"adopted the vendor's balance ({source})"
    with store.tx():
        observe(store, account_id, observed, source=source, now=now)
        if not store.scalar("SELECT 1 FROM credit_bucket WHERE account_id = ?", (account_id,)):
            # From now on the account tracks a balance; its holds so far (kept bucket-less
            # while it had none) count in it.
            store.execute(
                "INSERT INTO credit_bucket(account_id, kind, label, amount, granted_at)"
                " VALUES (?, 'top_up', ?, 0, ?)",
                (account_id, reason, now),
            )
        held = balances(store, now, account_ids=[account_id]).get(account_id, [])
        moved = round(observed - total(held), 6)
        if abs(moved) > _EPSILON:
            adjust(store, account_id, moved, reason, now=now)
    return round(moved, 6)


def set_default(store: Store, account_id: int) -> Account:
    """Mark the account its vendor's default: targets that name no account use it."""
    account = get_account(store, account_id)
    if account.closed_at is not None:
        raise InvalidInput("account", f"{account.name} is closed")
    with store.tx():
        store.execute("UPDATE account SET is_default = 0 WHERE vendor = ?", (account.vendor,))
        store.execute("UPDATE account SET is_default = 1 WHERE id = ?", (account_id,))
    return get_account(store, account_id)


def set_unit(
    store: Store, account_id: int, unit: str, money_per_unit: float | None = None
) -> Account:
    """What the account counts in (``USD cents`` for Luma's API), and what one unit is
    worth in money where known; estimates are converted into it, never summed across."""
    if not unit.strip():
        raise InvalidInput("unit", "is empty")
    if money_per_unit is not None and not money_per_unit > 0:
        raise InvalidInput("money_per_unit", "must be more than zero")
    get_account(store, account_id)
    if store.scalar("SELECT 1 FROM ledger WHERE account_id = ? AND amount != 0", (account_id,)):
        raise InvalidInput(
            "unit",
            "the account's ledger already counts in its unit; add a new account for the new "
            "unit (or close this one)",
        )
    store.execute(
        "UPDATE account SET unit = ?, money_per_unit = ? WHERE id = ?",
        (unit.strip(), money_per_unit, account_id),
    )
    return get_account(store, account_id)


# ------------------------------------------------------------ account edits


def account_rules(store: Store, account_id: int) -> list[GrantRule]:
    """The account's grant rules, by key; ``GrantRule.ready`` says which lack figures."""
    return [
        rule_from_row(r)
        for r in store.all(
            "SELECT * FROM grant_rule WHERE account_id = ? ORDER BY key", (account_id,)
        )
    ]


def close_account(
    store: Store, account_id: int, reason: str = "closed", *, now: float | None = None
) -> None:
    """The vendor shut down or the user left: history stays, new jobs are refused."""
    account = get_account(store, account_id)
    if account.closed_at is not None:
        raise InvalidInput("account", f"{account.name} is closed already")
    store.execute(
        "UPDATE account SET closed_at = ?, closed_reason = ? WHERE id = ?",
        (time.time() if now is None else now, reason.strip() or "closed", account_id),
    )


def set_base_url(store: Store, account_id: int, url: str | None) -> str | None:
    """Override the vendor's base URL for one account; blank or None goes back to the
    catalog's. Returns the URL stored."""
    get_account(store, account_id)
    url = (url or "").strip().rstrip("/") or None
    if url is not None:
        check_base_url(url, "base_url")  # also refuses a malformed host or port
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise InvalidInput("base_url", "holds a query or fragment; give the address alone")
    store.execute("UPDATE account SET base_url = ? WHERE id = ?", (url, account_id))
    return url
