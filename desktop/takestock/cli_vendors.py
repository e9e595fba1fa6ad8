"""The command line for vendors: what each offers and costs, and its keys.

``takestock vendors`` lists every model with its limits and its price rules, in the
vendor's unit (and in money where the catalog knows the rate); a price no one has
published is said to be unknown, with the reason, never shown as free.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from takestock.core.catalog import ModelSpec, PriceRule, VendorSpec
from takestock.core.errors import InvalidInput, SecretsUnavailable
from takestock.core.pricing import unknown_reason, unpublished
from takestock.core.secrets import check_secret_text
from takestock.wiring import Services

__all__ = ["cmd_keys", "cmd_vendors", "price_json", "price_text"]

EXIT_OK = 0


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _rules(model: ModelSpec) -> tuple[PriceRule, ...]:
    """The rules a take on ``model`` is priced by: none where the price is unpublished
    (the catalog may still hold an old table then, which pricing ignores too)."""
    return () if unpublished(model) is not None else model.price


def price_json(vendor: VendorSpec, model: ModelSpec) -> dict[str, Any]:
    """``model``'s price: its rules in ``unit`` (and ``currency`` at ``money_per_unit``
    where known), or ``unknown`` with the reason when there are none."""
    rules = _rules(model)
    return {
        "unit": vendor.unit,
        "currency": vendor.currency,
        "money_per_unit": vendor.money_per_unit,
        "rules": [
            {"match": dict(r.match), "per_take": r.per_take, "per_second": r.per_second}
            for r in rules
        ],
        "unknown": None if rules else unknown_reason(model, vendor, {}),
    }


def _condition(match: Mapping[str, Any]) -> str:
    parts = []
    for key, value in match.items():
        if key == "duration_s":
            parts.append(f"{value:g} s" if isinstance(value, int | float) else f"{value} s")
        elif value is True:
            parts.append(key)
        elif value is False:
            parts.append(f"no {key}")
        elif key in ("resolution", "mode"):
            parts.append(str(value))
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts) if parts else "any"


def _money(amount: float, price: Mapping[str, Any], per: str) -> str:
    rate, currency = price["money_per_unit"], price["currency"]
    if rate is None or not currency or currency == price["unit"]:
        return ""
    return f" (≈{amount * rate:.4g} {currency}/{per})"


def price_text(price: Mapping[str, Any]) -> str:
    """One line: each rule as ``cost (when)``, or ``unknown (why)``."""
    if price["unknown"] is not None:
        return f"unknown ({price['unknown']})"
    unit, shown = price["unit"], []
    for rule in price["rules"]:
        costs = []
        if rule["per_take"]:
            per_take = rule["per_take"]
            costs.append(f"{per_take:g} {unit}/take{_money(per_take, price, 'take')}")
        if rule["per_second"]:
            per_s = rule["per_second"]
            costs.append(f"{per_s:g} {unit}/s{_money(per_s, price, 's')}")
        cost = " + ".join(costs) if costs else f"0 {unit} (free)"
        shown.append(f"{cost} [{_condition(rule['match'])}]")
    return "; ".join(shown)


def cmd_vendors(services: Services, args: argparse.Namespace) -> int:
    if getattr(args, "vendors_action", None) == "refresh":
        services.catalog.vendor(args.vendor)
        if args.vendor not in services.adapters:
            raise InvalidInput("vendor", f"Takestock cannot talk to {args.vendor} yet")
        import asyncio  # here: asyncio imports ssl and sockets, which listing never uses

        changes = asyncio.run(services.engine().refresh_models(args.vendor))
        if changes is None:
            print(f"{args.vendor} cannot list its models; edit catalog-overrides.json instead.")
            return EXIT_OK
        if args.json:
            _print_json(changes)
        else:
            for what, ids in changes.items():
                if ids:
                    print(f"{what}: {', '.join(ids)}")
            print(f"Saved in {services.paths.catalog_overrides}")
        return EXIT_OK
    out: list[dict[str, Any]] = []
    for vendor in services.catalog:
        keys: dict[str, str | None] = {}
        for field in vendor.secrets:
            try:
                keys[field] = services.credentials.source(vendor.id, field)
            except SecretsUnavailable:
                keys[field] = None  # said once below; listing vendors must still work
        out.append(
            {
                "id": vendor.id,
                "name": vendor.name,
                "supported": vendor.id in services.adapters,
                "sandbox": vendor.sandbox,
                "as_of": vendor.as_of,
                "unit": vendor.unit,
                "key_set": not vendor.missing_secrets(f for f, src in keys.items() if src),
                "keys": keys,
                "models": [
                    {
                        "id": m.id,
                        "label": m.label,
                        "status": m.status,
                        "status_note": m.status_note,
                        "modes": list(m.modes),
                        "durations": list(m.durations),
                        "resolutions": list(m.resolutions),
                        "aspects": list(m.aspects),
                        "audio": m.audio,
                        "prompt_max_chars": m.prompt_max_chars,
                        "price": price_json(vendor, m),
                    }
                    for m in vendor.models.values()
                ],
            }
        )
    if args.json:
        _print_json({"vendors": out})
        return EXIT_OK
    if any(vendor.secrets for vendor in services.catalog):
        try:
            services.credentials.backend_name()
        except SecretsUnavailable as exc:
            _say(f"Note: {exc.message}")
    for v in out:
        if v["sandbox"]:
            key = "no key needed (sandbox)"
        else:
            key = "key set" if v["key_set"] else f"no key: takestock keys set {v['id']}"
        state = "" if v["supported"] else " [not yet supported]"
        print(f"{v['id']:<10} {v['name']}{state} — {key}")
        for m in v["models"]:
            durations = ",".join(f"{d:g}" for d in m["durations"])
            flag = "" if m["status"] == "active" else f" [{m['status']}]"
            print(
                f"    {m['id']:<22}{flag} {'/'.join(m['modes'])}; {durations} s; "
                f"{', '.join(m['resolutions'])}; {', '.join(m['aspects'])}"
                + ("; audio" if m["audio"] else "")
            )
            print(f"{'':<26}price: {price_text(m['price'])}")
    return EXIT_OK


def cmd_keys(services: Services, args: argparse.Namespace) -> int:
    vendor = services.catalog.vendor(args.vendor)
    if not vendor.secrets:
        raise InvalidInput("vendor", f"{vendor.name} needs no key")
    if args.keys_action == "delete":
        fields = (args.field,) if args.field else vendor.secrets
        removed = [f for f in fields if services.credentials.delete(vendor.id, f, args.account)]
        print(
            f"Removed {', '.join(removed)} for {vendor.name}." if removed else "Nothing to remove."
        )
        return EXIT_OK
    fields = vendor.secrets
    if args.field:
        if args.field not in vendor.secrets:
            raise InvalidInput("field", f"{vendor.name} keys are {', '.join(vendor.secrets)}")
        fields = (args.field,)
    elif vendor.auth_options:
        fields = vendor.auth_options[0]
    values = _read_secrets(fields)
    for field, value in values.items():
        services.credentials.set(vendor.id, field, value, args.account)
    print(f"Stored {', '.join(values)} for {vendor.name} in the system keyring.")
    return EXIT_OK


def _read_secrets(fields: Sequence[str]) -> dict[str, str]:
    """One secret per field: prompted on a terminal, else one line each from stdin.

    Standard input is read as bytes and checked here, so that no decoding error (whose
    text would quote the bytes) can carry a key into a message or the log.
    """
    values: dict[str, str] = {}
    lines = None if sys.stdin.isatty() else _stdin_lines()
    for index, field in enumerate(fields):
        label = field.replace("_", " ")
        if lines is None:
            value = getpass.getpass(f"{label}: ")
        else:
            value = lines[index] if index < len(lines) else ""
        value = value.strip()
        if not value:
            raise InvalidInput("key", f"no {label} given (one line per field on standard input)")
        values[field] = check_secret_text(value, label)
    return values


def _stdin_lines() -> list[str]:
    lines = []
    for number, raw in enumerate(sys.stdin.buffer.read().splitlines(), 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                "key",
                f"line {number} of standard input is not text: byte {exc.start + 1} is not "
                "UTF-8 (the key is not shown); nothing was stored",
            ) from None
    return lines
