"""Counting the polls a vendor left unanswered, so a job can say so.

A vendor that is down (a local ComfyUI that was closed, a 503 storm) makes every poll
fail the same way; the engine keeps retrying, and the person watching should read why
("Kling not answering for 40 s: retrying") rather than "running" over and over. The
note is written on the job (``error_kind`` ``not_answering``, the sentence in
``error``), so ``takestock jobs``, ``--wait`` and the Queue all show it; the first
answer clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOT_ANSWERING", "SILENT_POLLS", "Silence"]

#: ``error_kind`` of an active job whose vendor has stopped answering.
NOT_ANSWERING = "not_answering"
#: Unanswered polls in a row (transport errors, 5xx) before a job says so.
SILENT_POLLS = 3


@dataclass
class Silence:
    """Unanswered polls in a row for one job, and since when."""

    polls: int = 0
    since: float | None = None
    last: str = ""

    def missed(self, now: float, why: str) -> None:
        if self.polls == 0:
            self.since = now
        self.polls += 1
        self.last = why

    def answered(self) -> bool:
        """Reset; True when a note was showing and should be cleared."""
        showing = self.polls >= SILENT_POLLS
        self.polls, self.since, self.last = 0, None, ""
        return showing

    @property
    def worth_saying(self) -> bool:
        return self.polls >= SILENT_POLLS

    def sentence(self, vendor_name: str, now: float) -> str:
        waited = max(0.0, now - (self.since if self.since is not None else now))
        why = f" ({self.last})" if self.last else ""
        return f"{vendor_name} not answering for {waited:.0f} s{why}: retrying"
