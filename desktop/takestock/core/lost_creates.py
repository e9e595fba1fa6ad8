"""Finding a lost create by what it carried, for vendors that keep no id of ours.

Some vendors (Replicate) take no client id, so a create whose answer was lost can only
be recognised in the vendor's task listing: same model, same input, created around the
moment our create left. In the session that sent it the adapter remembers the exact
input; after a restart the engine hands it a :class:`CreateFingerprint` built from the
job's row (the request, the time the create left, and the tasks other jobs already
hold, so that identical takes of one request never claim the same task twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle

__all__ = ["CreateFingerprint", "FindsByFingerprint", "nearest_task"]

#: How long after our create left the vendor's record of it may be dated.
ANSWER_WINDOW_S = 300.0


@dataclass(frozen=True, slots=True)
class CreateFingerprint:
    """What identifies one lost create in a vendor's listing.

    Attributes:
        request: what the create asked for (the adapter turns it into its own input).
        sent_at: when the create left (epoch seconds; the job's ``submitted_at``).
        taken: task ids other jobs already hold: never this job's.
    """

    request: GenerationRequest
    sent_at: float
    taken: frozenset[str] = frozenset()

    def in_window(self, created_at: float | None, skew_s: float) -> bool:
        """Whether a task dated ``created_at`` could be this create's."""
        if created_at is None:
            return False
        return self.sent_at - skew_s <= created_at <= self.sent_at + ANSWER_WINDOW_S


@runtime_checkable
class FindsByFingerprint(Protocol):
    """An adapter that can search its vendor's listing for a lost create."""

    async def find_by_fingerprint(
        self, ctx: CallContext, fingerprint: CreateFingerprint
    ) -> TaskHandle | None: ...


def nearest_task(
    candidates: Iterable[tuple[str, float | None]], fingerprint: CreateFingerprint, skew_s: float
) -> str | None:
    """The id of the matching task dated nearest to the create, not held by another job.

    ``candidates`` are (task id, created_at) of the listed tasks that already match the
    model and input.
    """
    best: tuple[float, str] | None = None
    for task_id, created_at in candidates:
        if task_id in fingerprint.taken or not fingerprint.in_window(created_at, skew_s):
            continue
        assert created_at is not None
        gap = abs(created_at - fingerprint.sent_at)
        if best is None or gap < best[0]:
            best = (gap, task_id)
    return None if best is None else best[1]
