"""The first window, clicked through as a person would, on the sandbox vendor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from takestock.core.jobs import Target
from takestock.core.takes import get_take
from takestock.ui.main_window import MainWindow
from takestock.wiring import open_services

pytestmark = pytest.mark.slow


@pytest.fixture
def window(home, qtbot, tmp_path):
    # The window remembers its layout: keep each test's memory to itself.
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
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
    gen, queue, library = (win.screens[k] for k in ("generate", "queue", "library"))
    _shot(win, "generate")
    gen.prompt.setPlainText("a paper lantern drifting over a lake")
    gen.duration.setCurrentText("2")
    gen.resolution.setCurrentText("480p")
    assert gen.targets.selected() == [Target("sandbox", "sandbox-v1", "default")]
    qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: win.current_screen() == "queue", timeout=10_000)
    qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: queue.model.job(0).state == "done", timeout=60_000)
    _shot(win, "queue")

    win.show_screen("library")
    qtbot.waitUntil(lambda: library.model.rowCount() == 1, timeout=5_000)
    library.view.setFocus()
    library.view.selectRow(0)
    qtbot.keyClick(library.view, Qt.Key.Key_P)
    qtbot.keyClick(library.view, Qt.Key.Key_4)
    assert win.ops.wait()
    store, root = win._services.store, win._services.library.root
    take = get_take(store, root, library.model.take(0).id)
    assert (take.verdict, take.stars) == ("usable", 4)
    qtbot.keyClick(library.view, Qt.Key.Key_X)
    assert win.ops.wait()
    assert get_take(store, root, take.id).verdict == "reject"
    _shot(win, "library")


def test_invalid_input_is_shown_and_nothing_is_queued(window, qtbot):
    gen = window.screens["generate"]
    gen.prompt.setPlainText("")
    qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "prompt" in gen.message.text(), timeout=5_000)
    assert window.screens["queue"].model.rowCount() == 0
    assert gen.generate_button.isEnabled()


def test_costs_follow_the_parameters(window):
    gen = window.screens["generate"]
    gen.duration.setCurrentText("10")
    gen.resolution.setCurrentText("1080p")
    label = gen.targets.cost_label(Target("sandbox", "sandbox-v1", "default"))
    assert label.text() == "20 credits"  # sandbox-v1: 2 credits a second at 1080p


def test_screens_switch_with_ctrl_and_a_number(window, qtbot):
    for index, key in enumerate(window.screens, start=1):
        if index > 9:
            break
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{index}"), Qt.KeyboardModifier.ControlModifier)
        assert window.current_screen() == key


def test_self_test_runs_a_generation_and_renders_every_screen(tmp_path):
    import subprocess
    import sys

    home = tmp_path / "user-library"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKESTOCK_")}
    env["TAKESTOCK_HOME"] = str(home)  # the user's library: the self-test stays out of it
    result = subprocess.run(
        [sys.executable, "-m", "takestock", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.name == "self-test"
    assert home not in folder.parents
    assert not home.exists()
    shots = sorted(p.name for p in folder.glob("*.png"))
    assert {"generate.png", "queue.png", "library.png"} <= set(shots)


def test_opening_a_take_from_the_queue_shows_it_in_the_library(window, qtbot):
    gen, queue, library = (window.screens[k] for k in ("generate", "queue", "library"))
    gen.prompt.setPlainText("a heron at dawn")
    gen.duration.setCurrentText("2")
    gen.resolution.setCurrentText("480p")
    qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: queue.model.job(0).take_id is not None, timeout=60_000)
    take_id = queue.model.job(0).take_id
    queue.open_take.emit(take_id)
    assert window.current_screen() == "library"
    assert library.model.take_id(library.view.currentIndex().row()) == take_id
