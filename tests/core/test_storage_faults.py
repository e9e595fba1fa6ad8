"""Faults of the computer are told apart from damage: a full disk, a read-only folder
and a refused permission each say so; only a failed integrity check says "damaged"."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from takestock.core.errors import (
    DiskFull,
    FolderNotWritable,
    InvalidInput,
    StorageFault,
    StoreError,
)
from takestock.core.paths import DataPaths
from takestock.core.store import storage_fault


def _sqlite_error(code: int, text: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DiskFull),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), DiskFull),
        (OSError(errno.EROFS, "Read-only file system"), FolderNotWritable),
        (OSError(errno.EACCES, "Permission denied"), StorageFault),
        (sqlite3.OperationalError("database or disk is full"), DiskFull),
        (_sqlite_error(13, "database or disk is full"), DiskFull),
        (_sqlite_error(8, "attempt to write a readonly database"), FolderNotWritable),
    ],
)
def test_faults_of_the_computer_are_named(tmp_path: Path, exc: BaseException, kind: type) -> None:
    fault = storage_fault(exc, tmp_path / "takestock.sqlite3")
    assert type(fault) is kind
    assert "damaged" not in fault.message.lower()
    assert "backup" not in fault.message.lower()
    assert "Nothing in the library was changed" in fault.message


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.EIO, "Input/output error"),
        _sqlite_error(10, "disk I/O error"),
        _sqlite_error(11, "database disk image is malformed"),
        _sqlite_error(26, "file is not a database"),
        ValueError("not a storage fault"),
    ],
)
def test_other_errors_are_not_called_faults_of_the_computer(
    tmp_path: Path, exc: BaseException
) -> None:
    # An I/O error on a healthy, writable folder with free space is no full disk.
    assert storage_fault(exc, tmp_path / "takestock.sqlite3") is None


def test_a_file_where_the_data_folder_should_be_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("x")
    monkeypatch.setenv("TAKESTOCK_HOME", str(blocker))
    with pytest.raises(InvalidInput) as refused:
        DataPaths(blocker).ensure()
    assert refused.value.field == "TAKESTOCK_HOME"
    assert str(blocker) in refused.value.message


def test_storage_faults_are_store_errors() -> None:
    # The GUI shows StoreError as it is; these belong there, with their own titles.
    assert issubclass(StorageFault, StoreError)
    assert DiskFull("x").title == "Disk full"
    assert FolderNotWritable("x").title == "Data folder is read-only"
