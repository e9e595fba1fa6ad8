"""Cost of a take from a model's price table (catalog data, in the vendor's unit)."""

from __future__ import annotations

from typing import Any

from takestock.core.catalog import ModelSpec, PriceRule, VendorSpec
from takestock.core.vendor import Estimate, GenerationRequest

__all__ = ["estimate_from_catalog", "prices_by_plan", "request_facts"]


def request_facts(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    """The request's priced fields, with the model's defaults filled in.

    ``lane`` is the vendor's queue (``--extra lane=relaxed``): a relaxed or low-priority
    lane can cost nothing yet still count as an attempt and as time.
    """
    return {
        "mode": request.mode.value,
        "duration_s": request.duration_s or model.default_duration,
        "resolution": request.resolution or model.default_resolution,
        "aspect": request.aspect or model.default_aspect,
        "audio": bool(request.audio),
        "lane": str(request.extra.get("lane", "standard")),
    }


def prices_by_plan(model: ModelSpec) -> bool:
    """Whether the model's price depends on the plan of the account that pays."""
    return any("plan" in rule.match for rule in model.price)


def _matches(rule: PriceRule, facts: dict[str, Any]) -> bool:
    return all(facts.get(key) == value for key, value in rule.match.items())


def estimate_from_catalog(
    request: GenerationRequest, model: ModelSpec, vendor: VendorSpec, *, plan: str | None = None
) -> Estimate:
    """The first matching price rule's cost; zero where the catalog has no price.

    With ``plan``, rules that match a plan apply (Flow: Ultra pays half for Fast).
    """
    facts = request_facts(request, model)
    if plan is not None:
        facts["plan"] = plan
    rule = next((r for r in model.price if _matches(r, facts)), None)
    amount = 0.0 if rule is None else rule.per_take + rule.per_second * facts["duration_s"]
    money = None if vendor.money_per_unit is None else round(amount * vendor.money_per_unit, 4)
    return Estimate(
        amount=round(amount, 4), unit=vendor.unit, money=money, currency=vendor.currency
    )
