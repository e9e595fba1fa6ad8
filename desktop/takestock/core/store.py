"""The library database: one SQLite file in WAL mode, with numbered migrations.

Every thread opens its own :class:`Store` (SQLite connections are not shared between
threads); WAL lets the GUI read while the engine writes. Opening checks the file's
integrity and refuses, with a message that says what to do, rather than repairing
anything silently. Before the first migration of a new version, a copy of the database
is taken under ``backups/``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from takestock.core.errors import StoreError
from takestock.core.migrations import MIGRATIONS

__all__ = ["SCHEMA_VERSION", "Store", "open_store"]

SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """A connection to the library database.

    Statements run in autocommit mode; :meth:`tx` groups them into one transaction.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE so two writers queue instead of deadlocking.

        Nested calls join the outer transaction, so operations compose.
        """
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StoreError(
            f"The library database {path} failed its integrity check "
            f"({'; '.join(problems[:3])}). Takestock has not changed it. "
            "Quit Takestock, keep a copy of the file, and restore the newest copy from the "
            f"backups folder ({path.parent / 'backups'}), or run `sqlite3 {path.name} .recover`.",
            title="Library database damaged",
        )


def _backup(conn: sqlite3.Connection, path: Path, from_version: int) -> Path:
    folder = path.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{path.stem}-v{from_version}-{stamp}{path.suffix}"
    target = sqlite3.connect(dest)
    try:
        conn.backup(target)
    finally:
        target.close()
    return dest


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The library database {path} was made by a newer Takestock (schema {version}; "
            f"this one knows {SCHEMA_VERSION}). Update Takestock to open it.",
            title="Library made by a newer Takestock",
        )
    if version == SCHEMA_VERSION:
        return
    if version > 0:
        _backup(conn, path, version)
    for number in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def open_store(path: Path) -> Store:
    """Open (creating if needed) the library at ``path``, checked and migrated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    try:
        conn = _connect(path)
        if not fresh:
            _check_integrity(conn, path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{path}: SQLite refused WAL mode (got {mode!r}).")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"The library database {path} could not be opened: {exc}. "
            "Takestock has not changed it.",
            title="Library database damaged",
        ) from exc
    return Store(conn, path)
