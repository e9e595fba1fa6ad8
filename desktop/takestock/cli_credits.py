"""The command line for memberships and credits: accounts, balances, estimates."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from takestock.core import budgets, credits, planner
from takestock.core.credits import add_account, balances, get_account, list_accounts, set_rule
from takestock.core.errors import InvalidInput
from takestock.core.grants import materialise
from takestock.core.store import Store
from takestock.core.vendor import GenerationRequest
from takestock.wiring import Services

if TYPE_CHECKING:
    # Estimates go through the engine (and httpx): imported by estimate_lines only, so
    # that `accounts` and `credits` read the ledger without loading the vendors' stack.
    from takestock.core.jobs import Engine, Target

__all__ = ["cmd_accounts", "cmd_credits", "estimate_lines"]

EXIT_OK = 0


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _in(ts: float | None, now: float) -> str:
    if ts is None:
        return ""
    hours = (ts - now) / 3600
    return f" (in {hours:.0f} h)" if hours < 48 else f" (in {hours / 24:.0f} days)"


def _account(services: Services, args: argparse.Namespace) -> credits.Account:
    return get_account(services.store, args.name, getattr(args, "vendor", None))


def cmd_accounts(services: Services, args: argparse.Namespace) -> int:
    store, now = services.store, time.time()
    action = args.accounts_action
    if action == "add":
        if args.kind == "api" or args.region != "default":
            # An API account needs a vendor we speak, in a region it has.
            services.catalog.vendor(args.vendor_id).base_url(args.region)
        vendor = services.catalog.vendors.get(args.vendor_id)
        account = add_account(
            store,
            services.plan_books,
            vendor=args.vendor_id,
            name=args.name,
            kind=args.kind,
            plan=args.plan,
            timezone=args.timezone,
            # Without a plan book the account counts in the catalog's unit of the vendor.
            unit=vendor.unit if vendor is not None and args.kind == "api" else None,
            money_per_unit=(
                vendor.money_per_unit if vendor is not None and args.kind == "api" else None
            ),
            region=args.region,
            now=now,
        )
        missing = [
            r["key"]
            for r in store.all(
                "SELECT key FROM grant_rule WHERE account_id = ?"
                " AND (amount IS NULL OR (timezone IS NULL AND period != 'once'))",
                (account.id,),
            )
        ]
        print(
            f"Added {account.vendor} account {account.name!r} ({account.kind}, counts "
            f"{account.unit})."
        )
        _adopt_sandbox(services, account)
        for key in missing:
            print(
                f"  The {key!r} grant needs figures the vendor does not publish: "
                f"takestock accounts rule {account.name} {key} --amount N --timezone ZONE"
            )
        return EXIT_OK
    if action == "adjust":
        account = _account(services, args)
        expires = dt.datetime.fromisoformat(args.expires).timestamp() if args.expires else None
        surfaces = [s.strip() for s in args.usable_on.split(",")] if args.usable_on else None
        credits.adjust(
            store,
            account.id,
            args.amount,
            args.reason,
            now=now,
            kind=args.kind,
            expires_at=expires,
            usable_on=surfaces,
        )
        print(f"{account.name}: {args.amount:+g} {account.unit} ({args.reason}).")
        return EXIT_OK
    if action == "rule":
        account = _account(services, args)
        fields = {
            k: v
            for k, v in {
                "kind": args.kind,
                "amount": args.amount,
                "period": args.period,
                "reset_time": args.reset,
                "timezone": args.timezone,
                "renewal_day": args.renewal_day,
                "expires": args.expires,
            }.items()
            if v is not None
        }
        set_rule(store, account.id, now=now, key=args.key, source="set by the user", **fields)
        created = materialise(store, now, account_id=account.id)
        print(f"{account.name}: rule {args.key!r} saved; {created} grant(s) added.")
        return EXIT_OK
    if action == "observe":
        account = _account(services, args)
        record = credits.adopt if args.adopt else credits.observe
        drift = record(store, account.id, args.amount, source="typed by the user", now=now)
        print(
            f"{account.name}: the vendor shows {args.amount:g}; Takestock computed "
            f"{args.amount - drift:g}; drift {drift:+g}."
        )
        if args.adopt and drift:
            print(f"  Adopted: the ledger now shows {args.amount:g} {account.unit}.")
        elif drift:
            print(
                f"  To make the ledger agree: takestock accounts observe {account.name} "
                f"{args.amount:g} --adopt"
            )
        suggestion = planner.suggest_reset(store, account.id)
        if suggestion:
            print(
                f"  Balances jump around {suggestion.reset_time} {suggestion.timezone} "
                f"({suggestion.evidence} times): set it with `takestock accounts rule "
                f"{account.name} daily --reset {suggestion.reset_time} "
                f"--timezone {suggestion.timezone}`"
            )
        return EXIT_OK
    if action == "budget":
        return _budget(services, args)
    if action == "default":
        account = credits.set_default(store, _account(services, args).id)
        print(f"{account.vendor}: targets that name no account now use {account.name!r}.")
        return EXIT_OK
    if action == "unit":
        account = credits.set_unit(store, _account(services, args).id, args.unit, args.money)
        worth = f" (1 = {account.money_per_unit:g} in money)" if account.money_per_unit else ""
        print(f"{account.name} counts {account.unit}{worth}.")
        return EXIT_OK
    if action == "close":
        account = _account(services, args)
        credits.close_account(store, account.id, args.reason, now=now)
        print(f"{account.name} is closed: its history stays, new jobs are refused.")
        return EXIT_OK
    materialise(store, now)
    rows = []
    all_balances = balances(store, now)
    tracked_ids = _tracked_accounts(store)
    for account in list_accounts(store):
        buckets = all_balances.get(account.id, [])
        tracked = account.id in tracked_ids
        rows.append({**account.to_json(), "balance": credits.total(buckets) if tracked else None})
    if args.json:
        _print_json({"accounts": rows})
        return EXIT_OK
    if not rows:
        print("No accounts yet: takestock accounts add VENDOR --name NAME --kind api|web")
    for row in rows:
        closed = " [closed]" if row["closed"] else ""
        default = " [default]" if row["default"] else ""
        balance = f"{row['balance']:>10g}" if row["balance"] is not None else f"{'unknown':>10}"
        print(
            f"{row['vendor']:<10} {row['name']:<16} {row['kind']:<4} "
            f"{balance} {row['unit']}{closed}{default}"
        )
    caps = budgets.budgets(store)
    if caps and not args.json:
        print("\nBudgets:")
        for cap in caps:
            scope = f"tag {cap['tag']}" if cap["tag"] else f"{cap['vendor']}/{cap['account']}"
            print(f"    {scope}: at most {cap['cap']:g} {cap['unit']} per {cap['period']}")
    return EXIT_OK


def cmd_credits(services: Services, args: argparse.Namespace) -> int:
    store, now = services.store, time.time()
    if args.credits_action == "reconcile":
        import asyncio  # here: asyncio imports ssl and sockets, which `credits` never uses

        account = _account(services, args)
        result = asyncio.run(services.engine().reconcile(account.id))
        if result is None:
            print(
                f"{account.vendor} has no balance API for {account.name}; type what the vendor "
                f"shows with `takestock accounts observe {account.name} AMOUNT --adopt`."
            )
            return EXIT_OK
        observed, drift = result
        adopted = 0.0
        if args.adopt and drift:
            adopted = credits.adopt(
                store, account.id, observed, source=f"{account.vendor} balance API", now=now
            )
        if args.json:
            _print_json(
                {"account": account.name, "observed": observed, "drift": drift,
                 "adopted": adopted}
            )  # fmt: skip
        else:
            print(f"{account.name}: the vendor reports {observed:g}; drift {drift:+g}.")
            if adopted:
                print(f"  Adopted: the ledger now shows {observed:g} {account.unit}.")
            elif drift:
                print(f"  To adopt it: takestock credits reconcile {account.name} --adopt")
        return EXIT_OK
    materialise(store, now)
    all_balances = balances(store, now)
    report: list[dict[str, Any]] = []
    for account in list_accounts(store):
        buckets = all_balances.get(account.id, [])
        free = [b for b in buckets if b.kind == "daily_free"]
        report.append(
            {
                "account": account.to_json(),
                "balance": credits.total(buckets),
                "free_today": credits.total(free),
                "buckets": [b.to_json() for b in sorted(buckets, key=_expiry_key)],
            }
        )
    expiring = planner.expiring_within(store, 24, now)
    if args.json:
        _print_json(
            {"accounts": report, "expiring_24h": [e.to_json() for e in expiring], "at": now}
        )
        return EXIT_OK
    if not report:
        print("No accounts yet: takestock accounts add VENDOR --name NAME --kind api|web")
    for entry in report:
        shown: dict[str, Any] = entry["account"]
        print(
            f"{shown['vendor']} / {shown['name']} ({shown['kind']}): "
            f"{entry['balance']:g} {shown.get('unit', '')}; free today "
            f"{entry['free_today']:g}"
        )
        for bucket in entry["buckets"]:
            print(
                f"    {bucket['kind']:<10} {bucket['remaining']:>9g} of "
                f"{bucket['granted']:<8g} expires {_when(bucket['expires_at'])}"
                f"{_in(bucket['expires_at'], now)}  {bucket['label']}"
            )
    if expiring:
        print("\nExpiring in the next 24 hours — spend these first:")
        for e in expiring:
            print(
                f"    {e.account.vendor}/{e.account.name}: {e.bucket.remaining:g} "
                f"{e.account.unit} at {_when(e.bucket.expires_at)}"
            )
    return EXIT_OK


def _adopt_sandbox(services: Services, account: credits.Account) -> None:
    """A new sandbox account starts from the sandbox's own balance (it runs here, so
    asking costs nothing); other vendors are asked with ``credits reconcile --adopt``."""
    vendor = services.catalog.vendors.get(account.vendor)
    if vendor is None or not vendor.sandbox or account.kind != "api":
        return
    import asyncio  # see cmd_credits

    result = asyncio.run(services.engine().reconcile(account.id))
    if result is None:
        return
    observed, drift = result
    if drift:
        credits.adopt(services.store, account.id, observed, source="the sandbox's balance")
    print(f"  It starts from the sandbox's balance: {observed:g} {account.unit}.")


def _budget(services: Services, args: argparse.Namespace) -> int:
    store = services.store
    cap = None if args.remove else args.cap
    if cap is None and not args.remove:
        raise InvalidInput("cap", "give --cap N (or --remove)")
    if args.tag:
        if args.name:
            raise InvalidInput("budget", "give an account or --tag, not both")
        unit = args.unit or budgets.MONEY_UNIT
        budgets.set_budget(store, tag=args.tag, period=args.period, cap=cap, unit=unit)
        scope = f"tag {args.tag!r}"
    else:
        if not args.name:
            raise InvalidInput("budget", "name an account, or give --tag T")
        account = _account(services, args)
        budgets.set_budget(store, account_id=account.id, period=args.period, cap=cap)
        scope, unit = account.name, account.unit
    if cap is None:
        print(f"{scope}: no {args.period} budget.")
    else:
        print(f"{scope}: at most {cap:g} {unit} per {args.period}.")
    return EXIT_OK


def _tracked_accounts(store: Store) -> set[int]:
    """``core.estimates.tracked_accounts`` (a test holds them equal), asked here without
    importing the estimates, which import the engine."""
    return {r[0] for r in store.all("SELECT DISTINCT account_id FROM credit_bucket")}


def _expiry_key(bucket: credits.BucketBalance) -> float:
    return bucket.expires_at if bucket.expires_at is not None else float("inf")


def estimate_lines(
    services: Services, engine: Engine, request: GenerationRequest, targets: list[Target],
    count: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """What each target would cost, on which account, from which buckets; sends nothing
    and needs no key. Balances are cumulative: each target pays from what the targets
    before it left, as ``generate`` would hold them."""
    from takestock.core import estimates  # see the note on the imports

    now = time.time()
    materialise(services.store, now)
    planned = engine.plan(request, targets, check_keys=False)
    out = []
    for cost in estimates.cost_request(
        services.store, services.plan_books, planned, count, now=now
    ):
        plan = cost.plan
        funding = cost.funding
        line: dict[str, Any] = {
            "vendor": plan.vendor.id,
            "model": plan.model.id,
            "account": plan.account_name,
            "unit": plan.estimate.unit,
            "count": count,
            "estimate": plan.estimate.to_json(),
            "total": cost.total,
            "fit": cost.fit,
            "affordable": cost.problem is None,
            "why": cost.why,
            "from": [],
            "balance_before": None,
            "balance_after": None,
        }
        if plan.account is None:
            line["why"] = "added on first use; balance unknown"
        if funding is not None and funding.tracked:
            line["from"] = [
                {"bucket": f"{p.kind} {p.label}", "amount": p.amount} for p in funding.parts
            ]
            line["order"] = "the vendor's" if funding.order_known else "assumed"
            line["balance_before"] = funding.before
            line["balance_after"] = funding.after
        if cost.problem is not None:
            line["problem"] = cost.problem
        elif plan.estimate.amount is None:
            line["problem"] = "nothing held: the price is unknown"
        out.append(line)
    return out
