"""Cost of a take from a model's price table (catalog data, in the vendor's unit).

A price is known or it is unknown, never silently zero: a model the vendor publishes no
price for is marked ``"price_unpublished"`` in its catalog entry (with the source that
says so), and a request whose settings no rule covers is unknown too. Free models say
so with an explicit rule of zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from takestock.core.catalog import ModelSpec, PriceRule, VendorSpec
from takestock.core.errors import InvalidInput
from takestock.core.vendor import Estimate, GenerationRequest

__all__ = [
    "estimate_from_catalog",
    "estimate_on_site",
    "in_unit",
    "price_rule",
    "priced_or_marked",
    "request_facts",
    "rule_for",
    "unknown_reason",
    "unpublished",
]


def request_facts(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    """The request's priced fields, with the model's defaults filled in."""
    return {
        "mode": request.mode.value,
        "duration_s": request.duration_s or model.default_duration,
        "resolution": request.resolution or model.default_resolution,
        "aspect": request.aspect or model.default_aspect,
        "audio": bool(request.audio),
    }


def unpublished(model: ModelSpec) -> Mapping[str, Any] | None:
    """The catalog's note that the vendor publishes no price for the model, or None.

    It lives in the model's ``extra`` as ``{"price_unpublished": {"source": ..., "as_of":
    ...}}``: the source is the page that lists the model without a price.
    """
    note = model.extra.get("price_unpublished")
    return note if isinstance(note, Mapping) else None


def priced_or_marked(model: ModelSpec) -> bool:
    """Whether the catalog answers for the model's price: a table, or an "unpublished"
    note with its source."""
    note = unpublished(model)
    return bool(model.price) or (note is not None and bool(note.get("source")))


def rule_matches(rule: PriceRule, facts: Mapping[str, Any]) -> bool:
    """Whether every condition of ``rule`` holds for ``facts``."""
    return all(facts.get(key) == value for key, value in rule.match.items())


def _describe(facts: Mapping[str, Any]) -> str:
    audio = ", with sound" if facts.get("audio") else ""
    return f"{facts['resolution']}, {facts['duration_s']:g} s, {facts['mode']}{audio}"


def unknown_reason(model: ModelSpec, vendor: VendorSpec, facts: Mapping[str, Any]) -> str:
    """Why a take on ``model`` with ``facts`` has no price."""
    note = unpublished(model)
    if note is not None:
        source = note.get("source", "")
        return f"no published price for {vendor.name} {model.id} is on record" + (
            f" ({source})" if source else ""
        )
    if not model.price:
        return f"the catalog has no price for {vendor.name} {model.id}"
    return f"the catalog has no price for {vendor.name} {model.id} at {_describe(facts)}"


def rule_for(model: ModelSpec, facts: Mapping[str, Any]) -> PriceRule | None:
    """The first rule that fits (an unpublished model has none)."""
    if unpublished(model) is not None:
        return None
    return next((r for r in model.price if rule_matches(r, facts)), None)


def price_rule(raw: Mapping[str, Any]) -> PriceRule:
    """One price rule as the catalog and the plan books write it."""
    return PriceRule(
        match=raw.get("match", {}),
        per_take=float(raw.get("per_take", 0)),
        per_second=float(raw.get("per_second", 0)),
    )


def estimate_from_catalog(
    request: GenerationRequest, model: ModelSpec, vendor: VendorSpec
) -> Estimate:
    """The first matching price rule's cost; unknown (with the reason) where none fits."""
    facts = request_facts(request, model)
    rule = rule_for(model, facts)
    if rule is None:
        return Estimate.unknown(vendor.unit, unknown_reason(model, vendor, facts), vendor.currency)
    return in_vendor_unit(vendor, rule.per_take + rule.per_second * facts["duration_s"])


def in_vendor_unit(vendor: VendorSpec, amount: float, digits: int = 4) -> Estimate:
    """``amount`` in the vendor's unit, with its money value where the catalog knows it."""
    per_unit = vendor.money_per_unit
    return Estimate(
        amount=round(amount, digits),
        unit=vendor.unit,
        money=None if per_unit is None else round(amount * per_unit, digits),
        currency=vendor.currency,
    )


def estimate_on_site(
    request: GenerationRequest,
    model: ModelSpec,
    rules: Sequence[PriceRule],
    *,
    unit: str,
    money_per_unit: float | None,
    currency: str | None,
    plan: str | None,
    site: str,
) -> Estimate:
    """What a take costs on a vendor's website (a web membership), from the plan book's
    per-model rules; a rule may match the paying account's ``plan`` (Flow: Ultra pays
    half for Veo 3.1 Fast)."""
    facts: dict[str, Any] = {**request_facts(request, model), "plan": plan}
    rule = next((r for r in rules if rule_matches(r, facts)), None)
    if rule is None:
        return Estimate.unknown(
            unit,
            f"{site} publishes no price for {model.id} at {_describe(facts)}"
            + (f" on the {plan} plan" if plan else ""),
            currency,
        )
    amount = rule.per_take + rule.per_second * facts["duration_s"]
    money = None if money_per_unit is None else round(amount * money_per_unit, 4)
    return Estimate(round(amount, 4), unit, money, currency)


def in_unit(
    estimate: Estimate, unit: str, money_per_unit: float | None, *, where: str = "the account"
) -> Estimate:
    """``estimate`` in an account's ``unit``: converted through money where both rates are
    known (a Luma account topped up in dollars pays a take priced in US cents); refused
    where they are not. No sum ever mixes units.
    """
    if estimate.unit == unit:
        return estimate
    if estimate.amount is None:
        return Estimate.unknown(
            unit, estimate.reason or "the price is not known", estimate.currency
        )
    if estimate.money is not None and money_per_unit:
        amount = round(estimate.money / money_per_unit, 4)
        return Estimate(amount, unit, estimate.money, estimate.currency)
    raise InvalidInput(
        "unit",
        f"a take costs {estimate.amount:g} {estimate.unit}, but {where} counts {unit} and "
        f"Takestock knows no rate between them; set the account's unit with "
        f"`takestock accounts unit NAME {estimate.unit!r}` (or give its worth in money)",
    )
