"""Shared fixtures. Qt must be told it has no screen before pytest-qt starts it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

# The Qt binding leaks references to None on every void call: importing takestock.ui
# applies the fix (ui/qt_fixes.py) for every test, Qt ones built without it included.
import takestock.ui  # noqa: F401

pytest_plugins = ["tests.keyring_fixture", "tests.fakeserver.fixtures"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh Takestock data folder, with the sandbox and polling made quick."""
    root = tmp_path / "home"
    monkeypatch.setenv("TAKESTOCK_HOME", str(root))
    monkeypatch.setenv("TAKESTOCK_SANDBOX_LATENCY", "0.3")
    monkeypatch.setenv("TAKESTOCK_POLL_INTERVAL", "0.05")
    for name in list(os.environ):
        if name.startswith("TAKESTOCK_") and name.endswith(("_API_KEY", "_BASE_URL")):
            monkeypatch.delenv(name)
    return root
