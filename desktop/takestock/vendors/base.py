"""What most adapters share: catalog validation and pricing, and plain HTTP downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.http import download_to
from takestock.core.pricing import estimate_from_catalog
from takestock.core.validation import validate_common
from takestock.core.vendor import (
    Balance,
    CallContext,
    Estimate,
    GenerationRequest,
    ResultRef,
    TaskHandle,
)

__all__ = ["BaseAdapter"]


class BaseAdapter:
    """Defaults for the parts of :class:`~takestock.core.vendor.VendorAdapter` that
    follow from the catalog; a vendor module overrides what its protocol does.

    Attributes:
        vendor: the vendor's catalog entry (names, units, prices).
    """

    vendor_id = ""
    can_find = False

    def __init__(self, vendor: VendorSpec) -> None:
        self.vendor = vendor

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        validate_common(request, model, self.vendor.name)

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        return estimate_from_catalog(request, model, self.vendor)

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        raise NotImplementedError(f"{self.vendor.name} cannot look tasks up by our id")

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        await download_to(ctx.http, result.url, dest, headers=result.headers)

    async def balance(self, ctx: CallContext) -> Balance | None:
        return None

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        return False

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        return None
