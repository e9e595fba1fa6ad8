"""The library database: WAL, migrations with a backup first, refusals with advice."""

from __future__ import annotations

import sqlite3

import pytest

from takestock.core import store as store_module
from takestock.core.errors import StoreError
from takestock.core.store import SCHEMA_VERSION, open_store


def test_a_new_library_is_migrated_and_in_wal_mode(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as store:
        assert store.scalar("PRAGMA user_version") == SCHEMA_VERSION
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.scalar("PRAGMA foreign_keys") == 1
    assert not (tmp_path / "backups").exists()  # nothing to back up on a new library


def test_a_migration_backs_up_first_and_runs_in_one_transaction(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite3"
    with open_store(path) as store:
        store.execute("INSERT INTO tag(name) VALUES ('keep me')")
    extra = [*store_module.MIGRATIONS, ["CREATE TABLE extra (x)", "INSERT INTO extra VALUES (1)"]]
    monkeypatch.setattr(store_module, "MIGRATIONS", extra)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(extra))
    with open_store(path) as store:
        assert store.scalar("PRAGMA user_version") == len(extra)
        assert store.scalar("SELECT x FROM extra") == 1
    [backup] = (tmp_path / "backups").iterdir()
    assert f"-v{SCHEMA_VERSION}-" in backup.name
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT name FROM tag").fetchall() == [("keep me",)]


def test_a_failing_migration_leaves_the_library_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "lib.sqlite3"
    open_store(path).close()
    broken = [*store_module.MIGRATIONS, ["CREATE TABLE half (x)", "THIS IS NOT SQL"]]
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError):
        open_store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables


def test_a_library_from_a_newer_takestock_is_refused(tmp_path):
    path = tmp_path / "lib.sqlite3"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer Takestock"):
        open_store(path)


def test_a_damaged_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "lib.sqlite3"
    with open_store(path) as store:
        store.execute("INSERT INTO tag(name) VALUES ('x')")
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the first page after the header
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError) as refused:
        open_store(path)
    assert "has not changed it" in refused.value.message
    assert path.read_bytes() == before


def test_transactions_nest_and_roll_back_together(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as store:

        def nested() -> None:
            with store.tx():
                store.execute("INSERT INTO tag(name) VALUES ('outer')")
                with store.tx():
                    store.execute("INSERT INTO tag(name) VALUES ('inner')")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            nested()
        assert store.scalar("SELECT COUNT(*) FROM tag") == 0


def test_a_file_that_passed_is_not_read_again_until_it_changes(tmp_path, monkeypatch):
    """quick_check reads every page: it runs once after each change to the file."""
    from takestock.core import store as store_module

    path = tmp_path / "lib.sqlite3"
    with open_store(path) as store:
        store.execute("INSERT INTO tag(name) VALUES ('x')")
    seen: list[bool] = []
    real = store_module._checked_already

    def spied(where):
        seen.append(real(where))
        return seen[-1]

    monkeypatch.setattr(store_module, "_checked_already", spied)
    open_store(path).close()  # checked now: the file changed since it was made
    open_store(path).close()  # unchanged since it passed: not read again
    assert seen == [False, True]
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="integrity check"):
        open_store(path)  # changed: checked again, and refused
    assert seen == [False, True, False]
