"""Small pieces that plain REST adapters share (xAI, BFL, Hunyuan): the base URL and a
path, a vendor's words cleared of the account's secrets before an adapter cuts them
short (a cut key would no longer be recognised downstream), and a price from the
catalog's rules with facts the common ones lack (an operation, an extension, a draft).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from takestock.core.catalog import ModelSpec
from takestock.core.errors import InvalidInput
from takestock.core.logs import redact
from takestock.core.pricing import rule_matches
from takestock.core.vendor import CallContext

__all__ = ["endpoint", "rule_amount", "scrub"]


def endpoint(ctx: CallContext, path: str) -> str:
    """``path`` on the base URL in force (catalog, account or environment)."""
    return ctx.base_url.rstrip("/") + path


def scrub(text: str, ctx: CallContext) -> str:
    """The vendor's words without the account's secrets or signed-URL queries.

    The engine redacts every error it keeps, but an adapter that cuts a vendor's text
    short must clear it first: a key cut in two is no longer recognised.
    """
    return redact(text, secrets=ctx.secrets.values())


def rule_amount(model: ModelSpec, facts: Mapping[str, Any], seconds: float) -> float:
    """``per_take + per_second * seconds`` of the first price rule that fits ``facts``
    (``seconds`` may differ from the request's: an edit is priced on its input).

    Raises:
        InvalidInput: no rule fits; an unknown price is never taken for zero.
    """
    for rule in model.price:
        if rule_matches(rule, facts):
            return rule.per_take + rule.per_second * seconds
    raise InvalidInput(
        "resolution",
        f"the catalog has no price for {model.id} at {facts.get('resolution')}; "
        "add one in catalog-overrides.json",
    )
