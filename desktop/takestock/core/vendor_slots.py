"""How many of a vendor's tasks run at once: one counter per vendor, shared by its jobs."""

from __future__ import annotations

import asyncio

__all__ = ["VendorSlots"]


class VendorSlots:
    """How many of a vendor's tasks may run at once (its concurrency limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_use = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_use < self.limit)
            self.in_use += 1

    def occupy(self) -> None:
        """Count a task the vendor already runs (a resumed job) without waiting."""
        self.in_use += 1

    async def release(self) -> None:
        async with self._changed:
            self.in_use -= 1
            self._changed.notify_all()
