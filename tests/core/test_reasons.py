"""The list of reasons: seeded by the migration, extended by the user, never losing a take's."""

from __future__ import annotations

from pathlib import Path

import pytest

from takestock.core.errors import InvalidInput
from takestock.core.reasons import (
    DEFAULT_REASONS,
    MAX_REASON_LENGTH,
    add_reason,
    clean_reason,
    list_reasons,
    reason_choices,
    remove_reason,
)
from takestock.core.store import open_store


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "db.sqlite3") as s:
        yield s


def test_a_new_library_starts_with_the_defaults(store):
    assert list_reasons(store) == list(DEFAULT_REASONS)
    for name in ("morphing", "physics", "hands", "faces", "text", "lip sync", "audio"):
        assert name in DEFAULT_REASONS  # the list
    assert "prompt ignored" in DEFAULT_REASONS


def test_added_reasons_go_at_the_end_once(store):
    assert add_reason(store, "  camera   shake ") == "camera shake"
    assert add_reason(store, "Camera Shake") == "camera shake"  # listed already
    assert add_reason(store, "HANDS") == "hands"
    assert list_reasons(store) == [*DEFAULT_REASONS, "camera shake"]


def test_bad_names_are_refused(store):
    for bad in ("", "   ", "x" * (MAX_REASON_LENGTH + 1)):
        with pytest.raises(InvalidInput):
            add_reason(store, bad)
    assert clean_reason("x" * MAX_REASON_LENGTH) == "x" * MAX_REASON_LENGTH


def test_removing_a_reason_takes_it_off_the_list_only(store):
    assert remove_reason(store, "flicker")
    assert not remove_reason(store, "flicker")
    assert "flicker" not in list_reasons(store)
    add_reason(store, "flicker")
    assert list_reasons(store)[-1] == "flicker"


def test_a_takes_own_reasons_are_offered_after_the_list():
    listed = ["morphing", "hands"]
    assert reason_choices(listed, ["Hands", "wrong camera move"]) == [
        "morphing",
        "hands",
        "wrong camera move",
    ]
    assert reason_choices(listed, []) == listed
