"""Small pieces that plain REST adapters share (xAI, BFL, Hunyuan): the base URL and a
path, a vendor's words cleared of the account's secrets, and a price from the catalog's
rules with facts the common ones lack (an operation, an extension, a draft).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import InvalidInput
from takestock.core.logs import SecretRegistry, redact
from takestock.core.vendor import CallContext, Estimate

__all__ = ["endpoint", "estimate_of", "rule_amount", "scrub"]


def endpoint(ctx: CallContext, path: str) -> str:
    """``path`` on the base URL in force (catalog, account or environment)."""
    return ctx.base_url.rstrip("/") + path


def scrub(text: str, ctx: CallContext) -> str:
    """The vendor's words without the account's secrets or signed-URL queries.

    Some vendors quote the key back in an auth error; the engine stores and shows error
    messages as they are, so they are cleared here, before they leave the adapter.
    """
    registry = SecretRegistry()
    for value in ctx.secrets.values():
        registry.register(value)
    return redact(text, registry)


def rule_amount(model: ModelSpec, facts: Mapping[str, Any], seconds: float) -> float:
    """``per_take + per_second * seconds`` of the first price rule that fits ``facts``.

    Raises:
        InvalidInput: no rule fits; an unknown price is never taken for zero.
    """
    for rule in model.price:
        if all(facts.get(key) == value for key, value in rule.match.items()):
            return rule.per_take + rule.per_second * seconds
    raise InvalidInput(
        "resolution",
        f"the catalog has no price for {model.id} at {facts.get('resolution')}; "
        "add one in catalog-overrides.json",
    )


def estimate_of(vendor: VendorSpec, amount: float, digits: int = 4) -> Estimate:
    """``amount`` in the vendor's unit, with its money value where the catalog knows it."""
    per_unit = vendor.money_per_unit
    return Estimate(
        amount=round(amount, digits),
        unit=vendor.unit,
        money=None if per_unit is None else round(amount * per_unit, digits),
        currency=vendor.currency,
    )
