"""The first window, clicked through as a person would, on the sandbox vendor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from takestock.core.jobs import Target
from takestock.core.takes import get_take
from takestock.ui.main_window import MainWindow
from takestock.wiring import open_services

pytestmark = pytest.mark.slow


@pytest.fixture
def window(home, qtbot):
    services = open_services()
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    services.close()


def _shot(win: MainWindow, name: str) -> None:
    folder = os.environ.get("TAKESTOCK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        win.grab().save(str(Path(folder) / f"{name}.png"))


def test_generate_watch_the_queue_and_rate_with_the_keyboard(window, qtbot):
    win = window
    win.prompt.setPlainText("a paper lantern drifting over a lake")
    win.duration.setCurrentText("2")
    win.resolution.setCurrentText("480p")
    assert win.targets.selected() == [Target("sandbox", "sandbox-v1")]
    qtbot.mouseClick(win.generate_button, Qt.MouseButton.LeftButton)

    jobs = win.queue_view.model()
    qtbot.waitUntil(lambda: jobs.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: jobs.job(0).state == "done", timeout=60_000)
    _shot(win, "queue")

    win.tabs.setCurrentIndex(1)
    takes = win.library_view.model()
    qtbot.waitUntil(lambda: takes.rowCount() == 1, timeout=5_000)
    win.library_view.setFocus()
    win.library_view.selectRow(0)
    qtbot.keyClick(win.library_view, Qt.Key.Key_P)
    qtbot.keyClick(win.library_view, Qt.Key.Key_4)
    take = get_take(win._services.store, win._services.library.root, takes.take(0).id)
    assert (take.verdict, take.stars) == ("usable", 4)
    qtbot.keyClick(win.library_view, Qt.Key.Key_X)
    take = get_take(win._services.store, win._services.library.root, take.id)
    assert take.verdict == "reject"
    _shot(win, "library")


def test_invalid_input_is_shown_and_nothing_is_queued(window, qtbot):
    win = window
    win.prompt.setPlainText("")
    qtbot.mouseClick(win.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "prompt" in win.message.text(), timeout=5_000)
    assert win.queue_view.model().rowCount() == 0
    assert win.generate_button.isEnabled()


def test_costs_follow_the_parameters(window):
    win = window
    win.duration.setCurrentText("10")
    win.resolution.setCurrentText("1080p")
    _, label = win.targets._boxes[Target("sandbox", "sandbox-v1")]
    assert label.text() == "20 credits"  # sandbox-v1: 2 credits a second at 1080p
