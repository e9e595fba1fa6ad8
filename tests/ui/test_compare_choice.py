"""Compare what you choose: takes selected in the Library or the Queue, and any take of a
group of 20 swapped into any tile by its poster and number."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from takestock.core.jobs import Target
from takestock.core.takes import TakeFilter, list_takes
from takestock.core.vendor import GenerationRequest
from takestock.ui.main_window import MainWindow
from takestock.ui.player import FakeBackend
from takestock.wiring import open_services

GROUP = 20


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, int]:
    """A comparison group of twenty sandbox takes (one request, count 20)."""
    root = tmp_path_factory.mktemp("choice") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAKESTOCK_HOME", str(root))
        mp.setenv("TAKESTOCK_SANDBOX_LATENCY", "0.05")
        mp.setenv("TAKESTOCK_POLL_INTERVAL", "0.02")
        services = open_services()
        try:
            engine = services.engine()
            request_id, jobs = engine.enqueue(
                GenerationRequest("a kite over dunes", duration_s=1, resolution="360p"),
                [Target("sandbox", "sandbox-v1")],
                count=GROUP,
            )
            done = asyncio.run(asyncio.wait_for(engine.run(jobs), 300))
            assert [j.state for j in done] == ["done"] * GROUP
        finally:
            services.close()
    return root, request_id


@pytest.fixture
def window(home, template, tmp_path, qtbot):
    import shutil

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    shutil.copytree(template[0], home)
    services = open_services()
    win = MainWindow(services)
    win.screens["compare"]._backend_factory = lambda take: FakeBackend(length_ms=1000)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    yield win
    win.shutdown()
    services.close()


def _click_poster(qtbot, library, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    library.view.scrollTo(library.model.index(row))
    rect = library.view.visualRect(library.model.index(row))
    qtbot.mouseClick(library.view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_c_compares_exactly_the_takes_selected_in_the_library(shots, window, qtbot):
    library, compare = window.screens["library"], window.screens["compare"]
    window.show_screen("library")
    rows = [2, 5, 7]
    _click_poster(qtbot, library, rows[0])
    for row in rows[1:]:
        _click_poster(qtbot, library, row, Qt.KeyboardModifier.ControlModifier)
    chosen = [library.model.take_id(r) for r in rows]
    assert library.selected_ids() == chosen
    qtbot.keyClick(library.view, Qt.Key.Key_C)
    assert window.current_screen() == "compare"
    assert compare.shown_take_ids() == chosen
    for cell, take_id in zip(compare.cells, chosen, strict=True):
        assert cell.title.text().startswith(f"#{take_id} · sandbox · sandbox-v1")
    window.grab().save(str(shots / "compare-chosen.png"))

    # One take is not a comparison: the Library says how to choose, and stays.
    window.show_screen("library")
    _click_poster(qtbot, library, 0)
    qtbot.keyClick(library.view, Qt.Key.Key_C)
    assert window.current_screen() == "library"
    assert "two to four" in library.keys_help.text()


def test_the_context_menu_compares_and_rates(window, qtbot):
    library, compare = window.screens["library"], window.screens["compare"]
    window.show_screen("library")
    _click_poster(qtbot, library, 1)
    _click_poster(qtbot, library, 3, Qt.KeyboardModifier.ControlModifier)
    chosen = library.selected_ids()
    rect = library.view.visualRect(library.model.index(3))
    library.view.customContextMenuRequested.emit(rect.center())  # a right click
    menu = library.menu
    assert menu is not None
    texts = {a.text(): a for a in menu.actions() if a.text()}
    assert {"Usable", "Reject", "Compare", "Copy prompt", "Reveal in folder"} <= set(texts)
    assert texts["Compare"].shortcut().toString() == "C"  # the key, from the shortcut
    texts["Reject"].trigger()
    assert window.ops.wait()
    assert {library.model.take(library.model.row_of(i)).verdict for i in chosen} == {"reject"}
    library.view.customContextMenuRequested.emit(rect.center())
    texts = {a.text(): a for a in library.menu.actions() if a.text()}
    texts["Copy prompt"].trigger()
    assert QApplication.clipboard().text() == "a kite over dunes"
    texts["Compare"].trigger()
    assert window.current_screen() == "compare"
    assert compare.shown_take_ids() == chosen


def test_every_take_of_a_group_of_twenty_can_be_swapped_into_any_tile(
    shots, window, template, qtbot
):
    compare = window.screens["compare"]
    window.show_screen("compare")
    compare.open_group(template[1])
    group = [t.id for t in list_takes(window._services.store, window._services.library.root,
                                      TakeFilter(request_id=template[1]))]  # fmt: skip
    assert len(compare.cells) == 4
    assert sorted(compare.pool()) == sorted(group)
    assert "4 of 20" in compare.prompt_label.text()
    shown = compare.shown_take_ids()

    qtbot.mouseClick(compare.cells[2].swap_button, Qt.MouseButton.LeftButton)
    picker = compare.picker
    assert picker is not None
    assert picker.isVisible()
    assert sorted(picker.take_ids()) == sorted(group)  # all twenty reachable
    labels = [picker.grid.item(r).text() for r in range(picker.grid.count())]
    assert all(label.startswith("#") and "sandbox-v1" in label for label in labels)
    qtbot.waitUntil(lambda: not compare._posters.is_busy(), timeout=30_000)
    picker.grab().save(str(shots / "picker.png"))
    # The keyboard: the last take of the group, chosen with End and Enter.
    picker.activateWindow()  # a window manager activates a dialog that opens
    qtbot.waitUntil(picker.isActiveWindow, timeout=5000)
    assert picker.grid.hasFocus()
    qtbot.keyClick(picker.grid, Qt.Key.Key_End)
    last = picker.take_ids()[-1]
    qtbot.keyClick(picker.grid, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert compare.shown_take_ids() == [*shown[:2], last, shown[3]]
    assert compare.cells[2].title.text().startswith(f"#{last} ·")
    assert compare.sync is not None
    assert len(compare.sync.backends) == 4  # one transport over the new set

    # A take already on screen trades places.
    compare.choose_take(0)
    compare.picker.pick(shown[1])
    assert compare.shown_take_ids() == [shown[1], shown[0], last, shown[3]]
    # Escape keeps the tile.
    compare.choose_take(3)
    qtbot.keyClick(compare.picker.grid, Qt.Key.Key_Escape)
    assert compare.shown_take_ids()[3] == shown[3]
    window.grab().save(str(shots / "compare-swapped.png"))


def test_the_queue_compares_the_takes_of_the_jobs_selected(window, qtbot):
    queue, compare = window.screens["queue"], window.screens["compare"]
    window.show_screen("queue")
    queue.view.selectRow(0)
    index = queue.model.index(4, 0)
    queue.view.selectionModel().select(
        index, queue.view.selectionModel().SelectionFlag.Select
        | queue.view.selectionModel().SelectionFlag.Rows,
    )  # fmt: skip
    wanted = [queue.model.job(0).take_id, queue.model.job(4).take_id]
    qtbot.keyClick(queue.view, Qt.Key.Key_C)
    assert window.current_screen() == "compare"
    assert compare.shown_take_ids() == wanted
