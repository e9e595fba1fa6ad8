"""Keyboard first: each screen's keys work whatever widget inside it was clicked last.

Every test clicks a widget a person could click (closing a popup it opened, as they
would with Escape), then sends the screen's keys and checks what they did.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QSplitterHandle,
    QTextEdit,
    QWidget,
)

from takestock.core.arena import list_duels
from takestock.core.jobs import Target
from takestock.core.takes import import_files, take_ids
from takestock.core.vendor import GenerationRequest
from takestock.ui.main_window import MainWindow
from takestock.ui.player import FakeBackend
from takestock.ui.screens.compare import CompareScreen
from takestock.ui.screens.library import LibraryScreen
from takestock.vendors.sandbox_render import render_clip

TYPING = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def services(services, tmp_path):
    s = services
    clips = []
    for i in range(3):
        clip = tmp_path / f"clip{i}.mp4"
        render_clip(clip, prompt=f"a heron {i}", duration_s=1.0, width=160, height=90, seed=i)
        clips.append(clip)
    import_files(s.store, s.library, clips, vendor="kling", model="kling-v2.1", prompt="a heron")
    return s


def focusable(screen: QWidget) -> list[QWidget]:
    """What a person can click to put the keyboard in: visible, enabled, takes focus."""
    found = []
    for widget in screen.findChildren(QWidget):
        if isinstance(widget, QSplitterHandle) or not widget.isVisibleTo(screen):
            continue
        takes_clicks = widget.focusPolicy() & Qt.FocusPolicy.ClickFocus
        if widget.isEnabled() and takes_clicks and widget.focusProxy() is None:
            found.append(widget)
    return found


def click(qtbot, widget: QWidget) -> None:
    """Click the widget as a person would; a popup it opens is closed with Escape."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.rect().center())
    popup = QApplication.activePopupWidget()
    if popup is not None:
        qtbot.keyClick(popup, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=2000)
        # Offscreen, a closed popup leaves no window active (a real desktop gives the
        # activation back): give it back as the window manager would.
        widget.window().activateWindow()
        qtbot.waitUntil(widget.window().isActiveWindow, timeout=2000)
    if not widget.hasFocus():
        # A click on a busy area (a scroll bar, a gap) need not move focus; the widget
        # still is the one a person would have chosen.
        widget.setFocus(Qt.FocusReason.MouseFocusReason)


def _name(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or widget.accessibleName()})"


# ----------------------------------------------------------------- library


def test_library_keys_work_whatever_was_clicked(shots, services, bridge, qtbot):
    players: list[FakeBackend] = []

    def factory() -> FakeBackend:
        players.append(FakeBackend(length_ms=1000, fps=24))
        return players[-1]

    screen = LibraryScreen(services, bridge, player_factory=factory)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    # The user clicks a poster: the player keys work at once, without clicking the video.
    rect = screen.view.visualRect(screen.model.index(0))
    qtbot.mouseClick(screen.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: screen.inspector.player is not None, timeout=3000)
    qtbot.waitUntil(screen.inspector.player.isVisible, timeout=3000)
    backend = players[0]
    qtbot.keyClick(screen.view, Qt.Key.Key_Period)
    assert backend.position_ms() == round(1000 / 24)
    qtbot.keyClick(screen.view, Qt.Key.Key_Space)
    assert backend.is_playing()
    qtbot.keyClick(screen.view, Qt.Key.Key_K)
    assert not backend.is_playing()

    take_id = screen.current_take().id
    widgets = focusable(screen)
    assert len(widgets) >= 10, [_name(w) for w in widgets]
    for widget in widgets:
        click(qtbot, widget)
        if screen.current_take() is None or screen.current_take().id != take_id:
            screen.select_take(take_id)  # a click on the grid may pick another take
            widget.setFocus()
        if isinstance(widget, TYPING):
            # Letters are typed there, not taken as keys.
            qtbot.keyClick(widget, Qt.Key.Key_X)
            assert screen.ops.wait()
            assert screen.current_take().verdict == "unrated", _name(widget)
            text = widget.text() if hasattr(widget, "text") else widget.toPlainText()
            assert "x" in text.lower() or isinstance(widget, QAbstractSpinBox), _name(widget)
            qtbot.keyClick(widget, Qt.Key.Key_Backspace)
            continue
        qtbot.keyClick(widget, Qt.Key.Key_X)
        assert screen.ops.wait()
        assert screen.current_take().verdict == "reject", _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_U)
        assert screen.ops.wait()
        assert screen.current_take().verdict == "unrated", _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_3)
        assert screen.ops.wait()
        assert screen.current_take().stars == 3, _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_0)
        assert screen.ops.wait()
        assert screen.current_take().stars is None, _name(widget)
        backend = players[-1]
        backend.pause()
        backend.seek(500)
        before = backend.position_ms()
        qtbot.keyClick(widget, Qt.Key.Key_Period)
        assert backend.position_ms() > before, _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Comma)
        qtbot.keyClick(widget, Qt.Key.Key_J)  # J steps back too
        assert backend.position_ms() < before, _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_L)
        assert backend.is_playing(), _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Space)
        assert not backend.is_playing(), _name(widget)
    screen.grab().save(str(shots / "library-keys.png"))


# ----------------------------------------------------------------- compare


@pytest.fixture
def group(services) -> int:
    """One prompt on three models: a comparison group of real sandbox takes."""
    import asyncio

    engine = services.engine()
    request_id, jobs = engine.enqueue(
        GenerationRequest("a heron lands on a jetty", duration_s=5, resolution="720p"),
        [Target("sandbox", "sandbox-v1"), Target("sandbox", "sandbox-v1-hq")] * 2,
    )
    done = asyncio.run(asyncio.wait_for(engine.run(jobs), 120))
    assert [j.state for j in done] == ["done"] * 4
    return request_id


def test_a_whole_blind_session_runs_on_a_b_t_after_one_click(services, group, bridge, qtbot):
    screen = CompareScreen(
        services, bridge, backend_factory=lambda t: FakeBackend(length_ms=1000), seed=5
    )
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    screen.open_group(group)
    click(qtbot, screen.blind_button)  # the mouse starts the round...
    assert screen.is_blind()
    total = screen.blind_progress()[1]
    assert total >= 2
    for n in range(total):  # ...and the keyboard finishes it, with no click between votes
        assert screen.is_blind()
        focused = QApplication.focusWidget()
        assert focused is not None
        assert screen.isAncestorOf(focused), focused
        qtbot.keyClick(focused, "ABT"[n % 3])
    assert not screen.is_blind()
    assert len(list_duels(services.store)) == total
    assert screen.reveal.isVisible()


def test_compare_player_keys_work_whatever_was_clicked(services, group, bridge, qtbot):
    screen = CompareScreen(
        services, bridge, backend_factory=lambda t: FakeBackend(length_ms=1000), seed=5
    )
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    screen.open_group(group)
    widgets = focusable(screen)
    assert len(widgets) >= 4, [_name(w) for w in widgets]
    for widget in widgets:
        click(qtbot, widget)
        if screen.sync is None:  # a click that changed the comparison
            screen.open_group(group)
            widget = screen.stage
        screen.sync.pause()
        screen.sync.seek(500)
        before = [b.position_ms() for b in screen.sync.backends]
        qtbot.keyClick(widget, Qt.Key.Key_Period)
        after = [b.position_ms() for b in screen.sync.backends]
        assert all(a > b for a, b in zip(after, before, strict=True)), _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Space)
        assert screen.sync.is_playing(), _name(widget)
        qtbot.keyClick(widget, Qt.Key.Key_K)
        assert not screen.sync.is_playing(), _name(widget)


# ----------------------------------------------------------------- switching screens


@pytest.mark.slow
def test_screen_keys_work_right_after_ctrl_number(services, qtbot):
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    try:
        library, compare = window.screens["library"], window.screens["compare"]
        compare._backend_factory = lambda take: FakeBackend(length_ms=1000)
        compare.compare(take_ids(services.store)[:2])
        nav = window._nav
        for screen_key, focus_key, check in (
            ("library", "Ctrl+F", lambda: library.filters.search.hasFocus()),
            ("compare", "Ctrl+L", lambda: compare.transport.loop_button.isChecked()),
        ):
            click(qtbot, nav)  # the keyboard starts in the sidebar
            number = window.go_actions[screen_key].shortcut().toString()
            qtbot.keyClick(nav, number[-1], Qt.KeyboardModifier.ControlModifier)
            assert window.current_screen() == screen_key
            focused = QApplication.focusWidget()
            qtbot.keyClick(focused, focus_key[-1], Qt.KeyboardModifier.ControlModifier)
            assert check(), screen_key
        # A screen picked with the mouse takes the keys too.
        click(qtbot, nav)
        rect = nav.visualItemRect(nav.item(list(window.screens).index("library")))
        qtbot.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert library.isAncestorOf(QApplication.focusWidget())
    finally:
        window.shutdown()


def test_auto_advance_moves_to_the_next_take_after_a_rating(services, bridge, qtbot):
    screen = LibraryScreen(services, bridge, player_factory=lambda: FakeBackend(length_ms=1000))
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    assert not screen.auto_advance.isChecked()  # off until asked for, as in Lightroom
    qtbot.mouseClick(screen.auto_advance, Qt.MouseButton.LeftButton)
    assert screen.auto_advance.isChecked()
    first, second = screen.model.take_id(0), screen.model.take_id(1)
    rect = screen.view.visualRect(screen.model.index(0))
    qtbot.mouseClick(screen.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(screen.view, Qt.Key.Key_P)
    assert screen.ops.wait()
    assert screen.current_take().id == second  # the next take is up
    assert screen.model.take(0).verdict == "usable"
    qtbot.keyClick(screen.view, Qt.Key.Key_X)
    assert screen.ops.wait()
    assert screen.model.take(1).verdict == "reject"
    # Ctrl+Shift+A turns it off: a rating stays on its take.
    qtbot.keyClick(screen.view, Qt.Key.Key_A, CTRL_SHIFT)
    assert not screen.auto_advance.isChecked()
    current = screen.current_take().id
    qtbot.keyClick(screen.view, Qt.Key.Key_U)
    assert screen.ops.wait()
    assert screen.current_take().id == current
    assert first != second
    screen.shutdown()
