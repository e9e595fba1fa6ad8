"""The library database: one SQLite file in WAL mode, with numbered migrations.

Every thread opens its own :class:`Store` (SQLite connections are not shared between
threads); WAL lets the GUI read while the engine writes. Opening checks the file's
integrity (once after each change to the file) and refuses, with a message that says
what to do, rather than repairing anything silently. Before the first migration of a
new version, a copy of the database is taken under ``backups/``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from takestock.core.errors import DiskFull, FolderNotWritable, StorageFault, StoreError
from takestock.core.migrations import MIGRATIONS

__all__ = [
    "SCHEMA_VERSION",
    # Defined in core.errors; still exported here for the engine and the CLI.
    "StorageFault",
    "Store",
    "open_store",
    "storage_fault",
]

SCHEMA_VERSION = len(MIGRATIONS)

# SQLite's primary result codes (the low byte of ``sqlite_errorcode``).
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR = 3, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def _folder_state(folder: Path) -> str | None:
    """ "full", "read_only" or None, from what the file system reports now."""
    try:
        vfs = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        return None
    if vfs.f_flag & getattr(os, "ST_RDONLY", 1):
        return "read_only"
    if vfs.f_bavail == 0 or vfs.f_favail == 0:
        return "full"
    if not os.access(folder, os.W_OK):
        return "read_only"
    return None


def storage_fault(exc: BaseException, where: Path) -> StorageFault | None:
    """The true cause of ``exc`` when the disk or the folder refused, else None.

    ``where`` is the file or folder being written (its folder is examined). A full disk
    and a read-only folder are told apart from damage: only a file that fails its
    integrity check is called damaged, since the advice for damage (restore a backup)
    would replace a healthy library with an older one.
    """
    folder = where if where.is_dir() else where.parent
    state: str | None = None
    if isinstance(exc, OSError):
        code = exc.errno
        if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            state = "full"
        elif code == errno.EROFS:
            state = "read_only"
        elif code in (errno.EACCES, errno.EPERM):
            state = "denied"
        else:
            return None
    elif isinstance(exc, sqlite3.Error):
        primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if primary == _SQLITE_FULL or "disk is full" in str(exc):
            state = "full"
        elif primary in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_IOERR, _SQLITE_CANTOPEN):
            # An I/O error or a refused open is often a full disk (the WAL's shared
            # memory cannot grow) or a read-only mount; ask the file system which.
            state = _folder_state(folder) or ("read_only" if primary == _SQLITE_READONLY else None)
            if state is None and primary == _SQLITE_PERM:
                state = "denied"
        if state is None:
            return None
    else:
        return None
    if state == "full":
        return DiskFull(
            f"The disk holding {folder} is full: Takestock cannot write there. Nothing in "
            "the library was changed or lost; free some space and run the command again."
        )
    if state == "read_only":
        return FolderNotWritable(
            f"The data folder {folder} is read-only (a read-only disk or mount, or its "
            "permissions): Takestock cannot write there. Nothing in the library was "
            "changed; make the folder writable, or set TAKESTOCK_HOME to a writable "
            "folder, and run the command again."
        )
    return StorageFault(
        f"Permission denied writing in {folder}. Nothing in the library was changed; give "
        "your user write access to it (or set TAKESTOCK_HOME to a folder you own) and run "
        "the command again.",
        title="No permission to write the data folder",
    )


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


def _is_damage(exc: sqlite3.Error) -> bool:
    primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _checked_stamp(path: Path) -> Path:
    return path.with_name(f".{path.name}.checked")


def _file_mark(path: Path) -> str:
    """The file's size and modification time: what a write or a wreck would change."""
    info = path.stat()
    return f"{info.st_size} {info.st_mtime_ns}"


def _checked_already(path: Path) -> bool:
    """Whether the file is byte for byte as it was when it last passed its check.

    ``PRAGMA quick_check`` reads every page (half a second at 100,000 takes), and a
    command-line query takes milliseconds: checking once after each change to the file,
    rather than at every open, keeps the guard and the speed. Between checks a damaged
    page still shows, as SQLite's "malformed" error, when it is read.
    """
    try:
        return _checked_stamp(path).read_text(encoding="ascii") == _file_mark(path)
    except (OSError, UnicodeDecodeError):
        return False


def _remember_checked(path: Path) -> None:
    # A read-only folder keeps no stamp: the next open checks again, nothing worse.
    with contextlib.suppress(OSError):
        _checked_stamp(path).write_text(_file_mark(path), encoding="ascii")


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    if _checked_already(path):
        return
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        if not _is_damage(exc):
            raise  # the disk or the folder refused: said as such by open_store
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StoreError(
            f"The library database {path} failed its integrity check "
            f"({'; '.join(problems[:3])}). Takestock has not changed it. "
            "Quit Takestock, keep a copy of the file, and restore the newest copy from the "
            f"backups folder ({path.parent / 'backups'}), or run `sqlite3 {path.name} .recover`.",
            title="Library database damaged",
        )
    _remember_checked(path)


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_fault(exc, path.parent) or StoreError(
            f"The folder for the library {path.parent} cannot be made: {exc.strerror}."
        ) from exc
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
    except sqlite3.Error as exc:
        fault = storage_fault(exc, path)
        if fault is not None:
            raise fault from exc
        damaged = isinstance(exc, sqlite3.DatabaseError) and _is_damage(exc)
        raise StoreError(
            f"The library database {path} could not be opened: {exc}. "
            "Takestock has not changed it.",
            title="Library database damaged" if damaged else "Library database problem",
        ) from exc
    return Store(conn, path)
