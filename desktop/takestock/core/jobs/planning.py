"""What one take is asked for, and the check and price every take passes before it queues.

:meth:`Engine.plan <takestock.core.jobs.Engine.plan>` and ``enqueue`` delegate to
``core.generate``, which calls :func:`check_and_price` for each target.
"""

from __future__ import annotations

from dataclasses import dataclass

from takestock.core import credits
from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import InvalidInput
from takestock.core.pricing import estimate_from_catalog, estimate_on_site
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    Estimate,
    GenerationRequest,
    VendorAdapter,
)

__all__ = ["Target", "check_and_price"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where one take is asked for: a vendor's model, optionally on a named account."""

    vendor: str
    model: str
    account: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """``vendor:model`` or ``vendor:model@account``."""
        spec, _, account = text.partition("@")
        vendor, sep, model = spec.partition(":")
        if not sep or not vendor or not model:
            raise InvalidInput("target", f"{text!r} is not VENDOR:MODEL")
        return cls(vendor.strip(), model.strip(), account.strip() or None)


def check_and_price(
    adapter: VendorAdapter | None,
    request: GenerationRequest,
    vendor: VendorSpec,
    model: ModelSpec,
    *,
    web_book: credits.PlanBook | None = None,
    plan: str | None = None,
    on_site: bool = False,
) -> Estimate:
    """Validate one take of ``request`` on ``model`` and price it; raises InvalidInput.

    Without an adapter (a web-only account of a vendor Takestock cannot talk to) the
    catalog's common limits and prices hold. ``web_book`` is the plan book of a web-only
    account's site: the take is priced from its per-model table in the site's credits,
    on the paying account's ``plan``, or is unknown where the site publishes none.
    ``on_site``: made on the vendor's website (a web-only account), whose credits are
    not the API's: without a plan book its price is unknown.
    """
    if adapter is not None:
        adapter.validate(request, model)
        estimate = adapter.estimate(request, model)
    else:
        validate_common(request, model, vendor.name)
        estimate = estimate_from_catalog(request, model, vendor)
    if web_book is None:
        if on_site and not vendor.sandbox:  # the sandbox's make-believe site: API prices
            return Estimate.unknown(
                "credits",
                f"{vendor.name}'s site publishes no price for {model.id}; say what it "
                "charged when you attach the file (Takestock remembers it)",
            )
        return estimate
    rules = web_book.model_prices.get(model.id)
    if not rules:
        return Estimate.unknown(
            web_book.unit,
            f"{web_book.name} does not publish what {model.id} costs on its site; say what "
            "it charged when you attach the file (Takestock remembers it for the next take)",
            web_book.currency,
        )
    return estimate_on_site(
        request,
        model,
        rules,
        unit=web_book.unit,
        money_per_unit=web_book.money_per_unit,
        currency=web_book.currency,
        plan=plan,
        site=web_book.name,
    )
