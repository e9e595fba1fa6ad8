"""The open app sees every change: its own ops, Compare's ratings, and the command line's
work in another process (SQLite's data_version, then a targeted reload)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from takestock.core.changes import ChangeDetector, Changes
from takestock.core.errors import TakestockError
from takestock.core.store import open_store
from takestock.core.takes import get_take, import_files, rate_take, take_ids
from takestock.ui.bridge import EngineBridge
from takestock.ui.library_model import LibraryModel
from takestock.ui.main_window import MainWindow
from takestock.ui.ops import Ops
from takestock.ui.player import FakeBackend
from takestock.ui.screens.library import LibraryScreen
from takestock.vendors.sandbox_render import render_clip


@pytest.fixture
def services(services, tmp_path):
    s = services
    clips = []
    for i in range(3):
        clip = tmp_path / f"clip{i}.mp4"
        render_clip(clip, prompt=f"a red kite {i}", duration_s=1.0, width=160, height=90, seed=i)
        clips.append(clip)
    import_files(s.store, s.library, clips, vendor="kling", model="kling-v2.1", prompt="a kite")
    return s


def _takestock(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, as a user would run it in a terminal beside the app."""
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


def _tile(screen: LibraryScreen, take_id: int):
    row = screen.model.row_of(take_id)
    assert row is not None
    return screen.model.data(screen.model.index(row), LibraryModel.TileRole)[0]


# ----------------------------------------------------------------- the detector


def test_the_detector_names_the_areas_another_connection_changed(services):
    mine = open_store(services.paths.database)
    try:
        detector = ChangeDetector(mine.conn)
        assert not detector.poll()
        scans = detector.scans
        assert not detector.poll()  # nothing moved: no fingerprint was read
        assert detector.scans == scans
        take_id = take_ids(services.store)[0]
        rate_take(services.store, take_id, verdict="usable")  # another connection
        assert detector.poll().areas() == ["takes"]
        rate_take(mine, take_id, verdict="reject")  # its own connection: not news
        assert not detector.poll()
    finally:
        mine.close()


def test_changes_combine():
    a, b = Changes.of_takes(1), Changes.of_takes(2)
    assert (a | b).take_ids == {1, 2}
    assert (a | Changes(takes=True)).take_ids == frozenset()  # "some takes": all of them
    assert (a | Changes(jobs=True)).areas() == ["takes", "jobs"]
    assert not Changes()
    assert Changes.everything().areas() == ["takes", "jobs", "accounts", "prompts", "catalog"]
    with pytest.raises(ValueError, match="unknown"):
        Changes.of_areas(["take"])


def test_ops_run_off_the_ui_thread_and_report_failures_in_one_place(services, qtbot):
    ops = Ops(services.open_store)
    seen: list[Changes] = []
    failures: list[tuple[str, str]] = []
    ops.changed.connect(seen.append)
    ops.failed.connect(lambda title, message: failures.append((title, message)))
    take_id = take_ids(services.store)[0]
    results: list[int] = []

    def rate(store) -> int:
        rate_take(store, take_id, stars=3)
        return take_id

    ops.write(rate, Changes.of_takes(take_id), results.append)
    assert ops.wait()
    assert results == [take_id]
    assert seen == [Changes.of_takes(take_id)]
    assert get_take(services.store, services.library.root, take_id).stars == 3

    def broken(store):
        raise TakestockError("The take is gone.", title="No such take")

    ops.write(broken, Changes(takes=True))
    assert ops.wait()
    assert failures == [("No such take", "The take is gone.")]
    assert len(seen) == 1  # a failed write changed nothing
    ops.shutdown()


# ----------------------------------------------------------------- another process


def test_the_library_shows_what_the_command_line_does_while_it_runs(shots, services, qtbot):
    bridge = EngineBridge(services)
    bridge.start()
    screen = LibraryScreen(services, bridge, player_factory=FakeBackend)
    screen.resize(1130, 760)
    screen.show()
    qtbot.waitExposed(screen)
    try:
        assert screen.model.rowCount() == 3
        # The user clicks a poster, then rates it in a terminal.
        rect = screen.view.visualRect(screen.model.index(1))
        qtbot.mouseClick(screen.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        take_id = screen.current_take().id
        done = _takestock("rate", str(take_id), "--usable", "--stars", "4")
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: _tile(screen, take_id).verdict == "usable", timeout=5000)
        assert _tile(screen, take_id).stars == 4
        assert screen.inspector.verdict_buttons["usable"].isChecked()  # the inspector too

        made = _takestock(
            "generate", "--vendor", "sandbox", "--model", "sandbox-v1",
            "--prompt", "a lighthouse in a storm", "--duration", "1", "--resolution", "360p",
            "--wait",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        qtbot.waitUntil(lambda: screen.model.rowCount() == 4, timeout=5000)
        assert screen.model.take(0).vendor == "sandbox"  # newest first
        assert screen.current_take().id == take_id  # the user's place is kept
        screen.grab().save(str(shots / "library-after-cli.png"))
    finally:
        screen.close()
        screen.shutdown()
        bridge.shutdown()


# ----------------------------------------------------------------- compare to library


@pytest.mark.slow
def test_a_rating_in_compare_shows_in_the_library(services, qtbot):
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    try:
        library, compare = window.screens["library"], window.screens["compare"]
        ids = take_ids(services.store)[:2]
        compare._backend_factory = lambda take: FakeBackend()
        compare.compare(ids)
        window.show_screen("compare")
        qtbot.mouseClick(compare.cells[1].pick_button, Qt.MouseButton.LeftButton)
        picked = compare.cells[1].take.id
        qtbot.waitUntil(lambda: _tile(library, picked).verdict == "usable", timeout=3000)
    finally:
        window.shutdown()


@pytest.mark.slow
def test_the_queue_and_compare_show_jobs_and_groups_the_command_line_made(shots, services, qtbot):
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    try:
        queue, compare = window.screens["queue"], window.screens["compare"]
        window.show_screen("queue")
        assert queue.model.rowCount() == 0
        made = _takestock(
            "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--vendor", "sandbox",
            "--model", "sandbox-v1", "--prompt", "two gulls fight over a chip",
            "--duration", "1", "--resolution", "360p", "--wait",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        qtbot.waitUntil(lambda: queue.model.rowCount() == 2, timeout=5000)
        assert {queue.model.job(r).state for r in range(2)} == {"done"}
        assert queue.model.data(queue.model.index(0, queue.model.PROMPT)) == (
            "two gulls fight over a chip"
        )
        # A new comparison group is offered in Compare.
        qtbot.waitUntil(lambda: compare.groups.rowCount() == 1, timeout=5000)
        window.grab().save(str(shots / "queue-after-cli.png"))
    finally:
        window.shutdown()
