"""Memberships as the vendors sell them: the plan books shipped in
``resources/catalog/plans/`` (plans and their grants, the site's unit and money value,
the order credits are spent in, and what each model costs on the site where published).

Data, not code: a vendor changing its plans is an edit of a JSON file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from takestock.core.catalog import PriceRule
from takestock.core.pricing import price_rule

__all__ = ["Plan", "PlanBook", "load_plan_books"]


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    label: str
    grants: tuple[Mapping[str, Any], ...]
    price: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True, slots=True)
class PlanBook:
    """One vendor surface's plans as shipped in ``resources/catalog/plans/``."""

    vendor: str
    name: str
    surface: str  # web | api
    unit: str
    money_per_unit: float | None
    currency: str | None
    timezone: str | None  # the vendor's zone for resets, where known
    spend_order: tuple[str, ...]  # bucket kinds in order, or ("expiring_first",)
    spend_order_known: bool
    plans: Mapping[str, Plan]
    as_of: str
    source: str
    #: what each model costs on the site, where published (rules may match ``plan``)
    model_prices: Mapping[str, tuple[PriceRule, ...]] = field(default_factory=dict)
    model_prices_source: str = ""


def _plan(plan_id: str, raw: Mapping[str, Any]) -> Plan:
    return Plan(
        plan_id,
        raw.get("label", plan_id),
        tuple(raw.get("grants", ())),
        raw.get("price", {}),
        raw.get("source", ""),
    )


def load_plan_books() -> dict[str, PlanBook]:
    """Every shipped plan book, keyed ``vendor`` or ``vendor/surface``."""
    folder = resources.files("takestock.resources") / "catalog" / "plans"
    books: dict[str, PlanBook] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        raw = json.loads(entry.read_text(encoding="utf-8"))
        order = tuple(raw.get("spend_order", ()))
        book = PlanBook(
            vendor=raw["vendor"],
            name=raw["name"],
            surface=raw.get("surface", "web"),
            unit=raw.get("unit", "credits"),
            money_per_unit=raw.get("money_per_unit"),
            currency=raw.get("currency"),
            timezone=raw.get("timezone"),
            spend_order=order or ("expiring_first",),
            spend_order_known=bool(order),
            plans={pid: _plan(pid, p) for pid, p in raw.get("plans", {}).items()},
            as_of=raw["as_of"],
            source=raw["source"],
            model_prices={
                model: tuple(price_rule(r) for r in rules)
                for model, rules in raw.get("model_prices", {}).get("models", {}).items()
            },
            model_prices_source=raw.get("model_prices", {}).get("source", ""),
        )
        books[f"{book.vendor}/{book.surface}"] = book
    return books
