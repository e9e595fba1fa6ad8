"""Which process drives a job: the owner token on its row, read back for people.

A job is claimed by writing ``host:pid:engine-token:since`` into ``job.owner``
(``since``: the claim's time, whole seconds since the epoch). One process drives a job
at a time; a claim whose process is gone is taken over on resume. Another machine's
claim (a shared data folder) is never taken: its process cannot be checked from here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Holder", "claim_token", "holder_from", "owner_alive", "same_engine"]


@dataclass(frozen=True, slots=True)
class Holder:
    """The process holding a job: where it runs, its pid, and since when."""

    host: str
    pid: int | None
    since: float | None

    def describe(self) -> str:
        since = (
            time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
            if self.since is not None
            else ""
        )
        pid = f" pid {self.pid}" if self.pid is not None else ""
        return f"another Takestock process (host {self.host}{pid}){since}"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "since": self.since}


def claim_token(engine_owner: str, now: float) -> str:
    """The owner value an engine writes when it claims a job at ``now``."""
    return f"{engine_owner}:{int(now)}"


def same_engine(owner: str, engine_owner: str) -> bool:
    return owner == engine_owner or owner.startswith(engine_owner + ":")


def holder_from(owner: str | None) -> Holder | None:
    """The holder an owner value names (older rows have no ``since``)."""
    if not owner:
        return None
    parts = owner.split(":")
    host = parts[0]
    pid = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    since = float(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None
    return Holder(host, pid, since)


def owner_alive(owner: str, host: str) -> bool:
    """Whether the process named by ``owner`` may still be driving its job."""
    holder = holder_from(owner)
    if holder is None:
        return False
    if holder.host != host:
        return True  # another machine's claim (a shared folder): never steal it
    if holder.pid is None:
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
