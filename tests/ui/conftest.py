"""Fixtures the UI tests share: the app's settings and data under ``tmp_path``, the
services and engine bridge a screen is built on, and a folder for screenshots.

A test module that needs a prepared library says so by overriding ``home_contents``
(a folder copied into the data folder before the services open) or by overriding
``services`` with a fixture that takes the one here and adds to it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from takestock.ui.bridge import EngineBridge
from takestock.wiring import Services, open_services


@pytest.fixture
def qsettings(tmp_path: Path) -> Path:
    """The app's QSettings live under ``tmp_path``, never in the user's."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    return tmp_path


@pytest.fixture
def home_contents() -> Path | None:
    """A folder copied into the data folder before the services open; none here."""
    return None


@pytest.fixture
def services(home: Path, qsettings: Path, home_contents: Path | None) -> Iterator[Services]:
    if home_contents is not None:
        shutil.copytree(home_contents, home)
    s = open_services()
    yield s
    s.close()


@pytest.fixture
def bridge(services: Services) -> Iterator[EngineBridge]:
    b = EngineBridge(services)
    b.start()
    yield b
    b.shutdown()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test saves its screenshots: under ``tmp_path``, so runs never share them;
    TAKESTOCK_SCREENSHOTS names a folder to keep them in instead, for a person to look."""
    folder = Path(os.environ.get("TAKESTOCK_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
