"""What changed in the library, and a cheap way to learn it when another process wrote.

:class:`Changes` is the one value every face passes around after a write: which areas
of the library changed (takes, jobs, accounts, prompts, catalog). A screen refreshes
only what it holds.

:class:`ChangeDetector` watches the database from its own connection. SQLite's
``PRAGMA data_version`` changes whenever another connection (the CLI, the engine's
thread, a second window) commits; it costs microseconds, so it can be asked several
times a second. Only when it moved does the detector read one small fingerprint per
area (counts, highest ids, and sums over the columns a screen shows) to say *which*
areas changed, so that a progress update of a job does not reload 100,000 takes.
The catalog lives in files, so its fingerprint is the override file's size and time.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["AREAS", "ChangeDetector", "Changes"]

#: The areas a change can touch, in the order they are reported.
AREAS: tuple[str, ...] = ("takes", "jobs", "accounts", "prompts", "catalog")


@dataclass(frozen=True, slots=True)
class Changes:
    """Which parts of the library changed; combine with ``|``.

    ``take_ids`` names the takes a write touched when the writer knows them (a rating
    in Compare), so a view can repaint those alone; empty means "any of them".
    """

    takes: bool = False
    jobs: bool = False
    accounts: bool = False
    prompts: bool = False
    catalog: bool = False
    take_ids: frozenset[int] = frozenset()

    @classmethod
    def everything(cls) -> Changes:
        return cls.of_areas(AREAS)

    @classmethod
    def of_areas(cls, areas: Iterable[str]) -> Changes:
        """The areas named (see :data:`AREAS`); an unknown name is a bug."""
        named = set(areas)
        if unknown := named - set(AREAS):
            raise ValueError(f"unknown areas: {sorted(unknown)}")
        return cls(
            takes="takes" in named,
            jobs="jobs" in named,
            accounts="accounts" in named,
            prompts="prompts" in named,
            catalog="catalog" in named,
        )

    @classmethod
    def of_takes(cls, *take_ids: int) -> Changes:
        return cls(takes=True, take_ids=frozenset(take_ids))

    def __or__(self, other: Changes) -> Changes:
        merged = {f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)}
        # Known ids only stay meaningful if both sides knew theirs.
        if self.takes and other.takes and not (self.take_ids and other.take_ids):
            merged["take_ids"] = frozenset()
        else:
            merged["take_ids"] = self.take_ids | other.take_ids
        return Changes(**merged)

    def __bool__(self) -> bool:
        return any(getattr(self, area) for area in AREAS)

    def areas(self) -> list[str]:
        return [area for area in AREAS if getattr(self, area)]


# One statement per area. Sums are weighted by id so that two opposite edits on
# different rows do not cancel out; lengths stand in for text (a same-length edit of a
# note by another process is the one thing this can miss, until the next write).
_FINGERPRINTS: dict[str, str] = {
    "takes": """
        SELECT count(*), coalesce(max(id), 0),
               total(id * (CASE verdict WHEN 'usable' THEN 1 WHEN 'reject' THEN 2 ELSE 3 END)),
               total(id * coalesce(stars, 0)), total(id * length(reasons)),
               total(id * length(notes)),
               (SELECT count(*) FROM duel), (SELECT coalesce(max(id), 0) FROM duel)
        FROM take""",
    "jobs": """
        SELECT count(*), coalesce(max(id), 0),
               total(id * length(state)), total(id * coalesce(progress, 0)),
               total(id * coalesce(cost_actual, 0)), total(id * coalesce(length(error), 0)),
               total(id * coalesce(attempts, 0))
        FROM job""",
    "accounts": """
        SELECT (SELECT count(*) FROM account), (SELECT total(id * coalesce(closed_at, 0))
                FROM account), (SELECT count(*) FROM ledger),
               (SELECT coalesce(max(id), 0) FROM ledger),
               (SELECT count(*) FROM credit_bucket), (SELECT count(*) FROM grant_rule)""",
    "prompts": """
        SELECT (SELECT count(*) FROM prompt), (SELECT total(updated_at) FROM prompt),
               (SELECT total(id * archived) FROM prompt),
               (SELECT coalesce(max(id), 0) FROM prompt_version),
               (SELECT count(*) FROM tag), (SELECT count(*) FROM prompt_tag)""",
}


class ChangeDetector:
    """Tells which areas changed since it last looked, through ``conn``.

    ``data_version`` ignores commits made through ``conn`` itself, so a face that does
    its own writes on that connection and announces them is not told about them twice.
    Use it on the thread that owns ``conn``; call :meth:`poll` on a timer.

    Attributes:
        catalog_overrides: the user's catalog override file (may not exist).
        checks: how many times :meth:`poll` asked SQLite's ``data_version``.
        scans: how many times it had to read the fingerprints.
    """

    def __init__(self, conn: sqlite3.Connection, catalog_overrides: Path | None = None) -> None:
        self.catalog_overrides = catalog_overrides
        self.checks = 0
        self.scans = 0
        self._conn = conn
        self._version = self._data_version()
        self._prints = self._fingerprints()
        self._catalog = self._catalog_print()

    def _data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _fingerprints(self) -> dict[str, tuple[object, ...]]:
        self.scans += 1
        prints: dict[str, tuple[object, ...]] = {}
        for area, sql in _FINGERPRINTS.items():
            try:
                prints[area] = tuple(self._conn.execute(sql).fetchone())
            except sqlite3.OperationalError as exc:
                # A table an older schema lacks: that area is never reported.
                prints[area] = ("unavailable", str(exc))
        return prints

    def _catalog_print(self) -> tuple[int, int] | None:
        if self.catalog_overrides is None:
            return None
        try:
            stat = os.stat(self.catalog_overrides)
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def poll(self) -> Changes:
        """What changed since the last call (nothing, most of the time, at once)."""
        self.checks += 1
        changed: set[str] = set()
        catalog = self._catalog_print()
        if catalog != self._catalog:
            self._catalog = catalog
            changed.add("catalog")
        version = self._data_version()
        if version != self._version:
            self._version = version
            prints = self._fingerprints()
            for area, value in prints.items():
                if self._prints.get(area) != value:
                    changed.add(area)
            self._prints = prints
        return Changes.of_areas(changed)
