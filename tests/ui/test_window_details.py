"""The small things a new user trips on: hints that name the real keys, the File menu,
"Open in player" without a player, and Queue rows that can be told apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from takestock.core.jobs import Target
from takestock.core.vendor import GenerationRequest
from takestock.ui.main_window import MainWindow
from takestock.ui.player import FakeBackend
from takestock.ui.queue_models import QueueModel
from takestock.ui.shortcuts import key_text
from takestock.vendors.sandbox_render import render_clip
from takestock.wiring import open_services

pytestmark = pytest.mark.slow


@pytest.fixture
def window(home, qtbot, tmp_path):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    services = open_services()
    win = MainWindow(services)
    win.screens["library"].inspector._player_factory = lambda: FakeBackend(length_ms=1000)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    yield win
    win.shutdown()
    services.close()


def _shot(shots: Path, win, name: str) -> None:
    win.grab().save(str(shots / f"{name}.png"))


def test_empty_screens_name_the_key_the_window_really_binds(shots, window):
    generate_key = key_text(window.go_actions["generate"])
    assert generate_key == "Ctrl+2"  # Generate is the second screen
    library, compare, queue = (window.screens[k] for k in ("library", "compare", "queue"))
    assert f"Generate screen ({generate_key})" in library.view.empty_text
    assert f"Generate screen ({generate_key})" in compare.empty.text()
    assert f"({key_text(window.go_actions['library'])})" in compare.empty.text()
    assert f"Generate screen ({generate_key})" in queue.empty.text()
    arena = window.screens["arena"]
    assert f"Generate screen ({generate_key})" in arena._board_empty.text()
    assert f"Generate screen ({generate_key})" in arena._batches_empty.text()
    shown = [library.view.empty_text, compare.empty.text(), queue.empty.text()]
    shown += [arena._board_empty.text(), arena._batches_empty.text()]
    assert not any("Ctrl+1)" in text for text in shown)
    window.show_screen("library")
    _shot(shots, window, "library-empty")


def test_file_menu_imports_exports_and_quits_from_the_keyboard(shots, window, qtbot, tmp_path):
    clip = tmp_path / "made-elsewhere.mp4"
    render_clip(clip, prompt="a fox in snow", duration_s=1.0, width=160, height=90, seed=3)
    window.file_menu.pick_files = lambda: [clip]
    library = window.screens["library"]
    window.show_screen("library")
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[0] == "&File"
    qtbot.keyClick(library.view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert window.ops.wait()
    qtbot.waitUntil(lambda: library.model.rowCount() == 1, timeout=5000)
    assert "Imported 1 take" in window.statusBar().currentMessage()

    out = tmp_path / "for-the-editor"
    out.mkdir()
    window.file_menu.pick_folder = lambda: out
    qtbot.keyClick(library.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.ops.wait()
    assert [p.suffix for p in out.iterdir() if p.suffix == ".mp4"] == [".mp4"]
    assert "Exported 1 take" in window.statusBar().currentMessage()
    _shot(shots, window, "library-imported")

    qtbot.keyClick(library.view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_open_in_player_says_so_when_no_player_opens(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    clip = tmp_path / "clip.mp4"
    render_clip(clip, prompt="rain", duration_s=1.0, width=160, height=90, seed=1)
    window.file_menu.pick_files = lambda: [clip]
    window.file_menu.import_videos()
    assert window.ops.wait()
    library = window.screens["library"]
    window.show_screen("library")
    qtbot.waitUntil(lambda: library.model.rowCount() == 1, timeout=5000)
    library.view.selectRow(0)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    qtbot.mouseClick(library.inspector.open_button, Qt.MouseButton.LeftButton)
    assert "No video player" in library.keys_help.text()
    assert str(library.current_take().path) in library.keys_help.text()


def test_queue_rows_show_the_prompt_a_poster_and_the_settled_cost(shots, window, qtbot):
    queue = window.screens["queue"]
    window.show_screen("queue")
    request = GenerationRequest("a lighthouse keeper feeds gulls", duration_s=1, resolution="360p")
    window.bridge.generate(request, [Target("sandbox", "sandbox-v1")]).result(10)
    qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: queue.model.job(0).state == "done", timeout=30_000)
    model = queue.model
    prompt = model.index(0, QueueModel.PROMPT)
    assert model.data(prompt) == "a lighthouse keeper feeds gulls"
    assert queue.view.horizontalHeader().visualIndex(QueueModel.PROMPT) == 1  # second
    qtbot.waitUntil(
        lambda: model.data(prompt, Qt.ItemDataRole.DecorationRole) is not None, timeout=20_000
    )
    cost = model.data(model.index(0, QueueModel.COST))
    assert cost
    assert "≈" not in cost  # settled
    _shot(shots, window, "queue-with-prompts")


def _clipped_numbers(root) -> list[str]:
    """Visible one-line labels and table cells with a digit whose text does not fit."""
    from PySide6.QtWidgets import QLabel, QStyle, QTableView

    found = []
    for label in root.findChildren(QLabel):
        text = label.text()
        if not label.isVisible() or label.wordWrap() or not any(c.isdigit() for c in text):
            continue
        if "<" in text or "\n" in text:
            continue  # rich or multi-line text lays itself out
        if label.fontMetrics().horizontalAdvance(text) > label.contentsRect().width() + 1:
            found.append(f"label {text!r} in {label.contentsRect().width()} px")
    for table in root.findChildren(QTableView):
        if not table.isVisible():
            continue
        model, metrics = table.model(), table.fontMetrics()
        # What Qt's item delegate leaves for text: a focus-frame margin on each side.
        margins = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
        for column in range(model.columnCount()):
            if table.isColumnHidden(column):
                continue
            for row in range(min(model.rowCount(), 20)):
                text = str(model.index(row, column).data() or "")
                decorated = model.index(row, column).data(Qt.ItemDataRole.DecorationRole)
                icon = 0 if decorated is None else table.iconSize().width() + margins
                needed = metrics.horizontalAdvance(text) + icon + margins
                if any(c.isdigit() for c in text) and needed > table.columnWidth(column):
                    found.append(f"cell {text!r} in {table.columnWidth(column)} px")
    return found


def test_no_number_is_clipped_at_1280_by_800(shots, window, qtbot, tmp_path):
    window.resize(1280, 800)
    clip = tmp_path / "clip.mp4"
    render_clip(clip, prompt="numbers", duration_s=2.0, width=320, height=180, seed=4)
    window.file_menu.pick_files = lambda: [clip]
    window.file_menu.import_videos()
    assert window.ops.wait()
    request = GenerationRequest("a lighthouse keeper feeds gulls", duration_s=1, resolution="360p")
    window.bridge.generate(request, [Target("sandbox", "sandbox-v1")]).result(10)
    library, queue = window.screens["library"], window.screens["queue"]
    window.show_screen("queue")
    qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: queue.model.job(0).state == "done", timeout=30_000)
    qtbot.wait(200)
    assert _clipped_numbers(queue) == []
    window.show_screen("library")
    qtbot.waitUntil(lambda: library.model.rowCount() == 2, timeout=5000)
    library.view.selectRow(0)
    qtbot.waitUntil(lambda: library.inspector.player is not None, timeout=5000)
    qtbot.waitUntil(library.inspector.player.isVisible, timeout=5000)
    qtbot.wait(200)
    assert _clipped_numbers(library) == []
    _shot(shots, window, "library-1280x800")
