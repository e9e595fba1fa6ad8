"""The window builds a screen when it is first shown or asked for, never all eight at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from takestock.ui.main_window import SCREEN_KEYS, MainWindow
from takestock.wiring import Services, open_services


@pytest.fixture
def window(home: Path, qtbot: object, tmp_path: Path) -> Iterator[MainWindow]:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings().setValue("main/screen", "library")  # where the user left off last time
    services: Services = open_services()
    win = MainWindow(services)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    yield win
    win.shutdown()
    services.close()


def test_only_the_screen_shown_is_built(window: MainWindow) -> None:
    assert list(window.screens) == list(SCREEN_KEYS)  # listing keys builds nothing
    assert "arena" in window.screens
    assert window.current_screen() == "library"
    built = window.screens.built()  # type: ignore[attr-defined]
    assert list(built) == ["library"]
    assert window._stack.currentWidget() is built["library"]


def test_showing_a_screen_builds_it_once_in_its_place(window: MainWindow) -> None:
    window.show_screen("credits")
    credits = window.screens["credits"]
    assert window._stack.currentWidget() is credits
    assert window._stack.indexOf(credits) == SCREEN_KEYS.index("credits")
    window.show_screen("library")
    window.show_screen("credits")
    assert window.screens["credits"] is credits
    assert list(window.screens.built()) == ["library", "credits"]  # type: ignore[attr-defined]
    assert window._stack.count() == len(SCREEN_KEYS)


def test_a_screen_asked_for_is_built_without_being_shown(window: MainWindow) -> None:
    generate = window.screens["generate"]
    assert window.current_screen() == "library"
    assert window._stack.indexOf(generate) == SCREEN_KEYS.index("generate")
    # Sidebar clicks reach screens built before they were shown, too.
    window._nav.setCurrentRow(SCREEN_KEYS.index("generate"))
    assert window.current_screen() == "generate"
    assert window._stack.currentWidget() is generate


def test_a_screen_handing_work_on_builds_the_one_it_hands_to(window: MainWindow) -> None:
    library = window.screens["library"]
    library.compare_requested.emit([])  # type: ignore[attr-defined]
    assert window.current_screen() == "compare"
    assert "compare" in window.screens.built()  # type: ignore[attr-defined]
