"""The Compare screen on real sandbox takes: a group in a synced grid, one transport,
the wipe, "Best", and blind votes cast from the keyboard.

Players are :class:`FakeBackend` s on a test clock (the app uses ``best_backend()``);
the takes, their jobs and costs, and the wipe's decoded frames are real.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from takestock.core import credits
from takestock.core.arena import list_duels
from takestock.core.jobs import Target, list_jobs
from takestock.core.media import poster_frame
from takestock.core.prompts import create_prompt
from takestock.core.takes import TakeFilter, get_take, list_takes
from takestock.core.vendor import GenerationRequest
from takestock.ui.bridge import EngineBridge
from takestock.ui.player import FakeBackend, frame_at
from takestock.ui.screens.compare import CompareScreen
from takestock.wiring import Services, open_services

V1 = Target("sandbox", "sandbox-v1", "studio")
HQ = Target("sandbox", "sandbox-v1-hq", "studio")
FRAME_MS = 1000 / 24


# ------------------------------------------------------------------ the library


def seed_library(services: Services) -> dict[str, Any]:
    """Real sandbox takes on a credit-tracking account: two tagged comparison groups, a
    short take of its own, and a batch that failed (and was refunded)."""
    store = services.store
    credits.add_account(
        store, services.plan_books, vendor="sandbox", name="studio", kind="api", plan="free"
    )
    engine = services.engine()
    requests: dict[str, int] = {}
    job_ids: list[int] = []

    def ask(name: str, text: str, tags: list[str], targets: list[Target], **params: Any) -> None:
        version = create_prompt(store, text, tags=tags).latest
        request_id, ids = engine.enqueue(
            GenerationRequest(version.text, **params),
            targets,
            prompt_version_id=version.id,
            tags=tags,
        )
        requests[name] = request_id
        job_ids.extend(ids)

    clip = {"duration_s": 5, "resolution": "720p"}
    ask("product", "a perfume bottle on wet black stone, slow push-in", ["product shot"],
        [V1, HQ], **clip)  # fmt: skip
    ask("dialogue", "two friends argue over a map in a rainy car", ["dialogue"],
        [V1, HQ, V1], **clip)  # fmt: skip
    ask("short", "a paper boat races down a gutter stream", ["product shot"], [V1],
        duration_s=2, resolution="480p", seed=7)  # fmt: skip
    ask("failed", "#fail a storm over the harbour at night", [], [V1], duration_s=2,
        resolution="480p")  # fmt: skip
    jobs = asyncio.run(asyncio.wait_for(engine.run(job_ids), 120))
    assert [j.state for j in jobs].count("done") == 6, [(j.state, j.error) for j in jobs]
    root = services.library.root
    takes: dict[str, list[int]] = {}
    hq: dict[str, int] = {}  # each group's sandbox-v1-hq take (jobs finish in any order)
    for name, rid in requests.items():
        found = list(reversed(list_takes(store, root, TakeFilter(request_id=rid))))
        takes[name] = [t.id for t in found]
        hq.update((name, t.id) for t in found if t.model == "sandbox-v1-hq")
    return {"requests": requests, "takes": takes, "hq": hq}


@pytest.fixture(scope="module")
def library_template(tmp_path_factory):
    """One seeded data folder per test module; each test works on its own copy."""
    root = tmp_path_factory.mktemp("compare-template") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAKESTOCK_HOME", str(root))
        mp.setenv("TAKESTOCK_SANDBOX_LATENCY", "0.2")
        mp.setenv("TAKESTOCK_POLL_INTERVAL", "0.05")
        for name in list(os.environ):
            if name.startswith("TAKESTOCK_") and name.endswith(("_API_KEY", "_BASE_URL")):
                mp.delenv(name)
        services = open_services()
        try:
            made = seed_library(services)
        finally:
            services.close()
    return root, made


@pytest.fixture
def home_contents(library_template):
    return library_template[0]


@pytest.fixture
def made(library_template) -> dict[str, Any]:
    return library_template[1]


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000


@pytest.fixture
def clock() -> Clock:
    return Clock()


class StillBackend(FakeBackend):
    """A fake player that also paints the take's real frame at its position, so that
    screenshots show pictures (offscreen grabs cannot see VLC's or Qt's video output)."""

    def __init__(self, take, folder: Path, **kw: Any) -> None:
        super().__init__(length_ms=take.duration_s * 1000, fps=take.fps, **kw)
        self._take, self._folder = take, folder
        self._label: QLabel | None = None
        self._shown: tuple[int, int, int] | None = None

    def attach(self, widget: QWidget) -> None:
        self._label = QLabel(widget)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setScaledContents(False)
        (widget.layout() or QVBoxLayout(widget)).addWidget(self._label)

    def tick(self) -> bool:
        ended = super().tick()
        frame = frame_at(self.position_ms(), self.fps())
        if self._label is None:
            return ended
        size = self._label.size()
        if (frame, size.width(), size.height()) != self._shown:
            self._shown = (frame, size.width(), size.height())
            dest = self._folder / f"{self._take.id}-{frame}.jpg"
            if not dest.exists():
                poster_frame(self._take.path, dest, at_s=frame / self.fps(), max_size=(640, 640))
            pixmap = QPixmap(str(dest)).scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self._label.setPixmap(pixmap)
        return ended


def fake_factory(clock: Clock):
    return lambda take: FakeBackend(length_ms=take.duration_s * 1000, fps=take.fps, clock=clock)


@pytest.fixture
def make_screen(services, bridge, qtbot, clock):
    made_screens: list[CompareScreen] = []

    def make(factory=None, seed: int | None = 1) -> CompareScreen:
        screen = CompareScreen(
            services, bridge, backend_factory=factory or fake_factory(clock), seed=seed
        )
        qtbot.addWidget(screen)
        screen.resize(1280, 780)
        screen.show()
        qtbot.waitExposed(screen)
        screen.activateWindow()
        qtbot.waitUntil(screen.isActiveWindow, timeout=5_000)  # shortcuts need it
        made_screens.append(screen)
        return screen

    yield make
    for screen in made_screens:
        screen.close()
        screen.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _shot(shots: Path, widget: QWidget, name: str) -> None:
    assert widget.grab().save(str(shots / f"{name}.png"))


def _positions(screen: CompareScreen) -> list[int]:
    assert screen.sync is not None
    return [b.position_ms() for b in screen.sync.backends]


def _key(qtbot, screen: CompareScreen, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier):
    screen.stage.setFocus()
    qtbot.keyClick(screen.stage, key, modifier)


# ------------------------------------------------------------------------ tests


def test_the_newest_group_opens_with_who_made_each_take_what_it_cost_and_the_wait(
    make_screen, made, services
):
    screen = make_screen()
    dialogue = made["requests"]["dialogue"]
    # The newest group with two takes or more opens by itself.
    assert screen.request_id() == dialogue
    assert screen.groups.rowCount() == 2
    assert screen.group_combo.currentText().startswith(f"#{dialogue} · two friends")
    assert screen.take_ids() == made["takes"]["dialogue"]
    assert len(screen.cells) == 3
    titles = [c.title.text() for c in screen.cells]  # each names its take: #id · vendor · model
    assert titles == [f"#{c.take.id} · sandbox · {c.take.model}" for c in screen.cells]
    assert sorted(c.take.model for c in screen.cells) == [
        "sandbox-v1",
        "sandbox-v1",
        "sandbox-v1-hq",
    ]
    hq = next(c for c in screen.cells if c.take.id == made["hq"]["dialogue"]).details.text()
    assert hq.startswith("15 credits · waited ")  # captured from the account's ledger
    assert " s · 5.0 s · 1280×720 · 24 fps" in hq
    assert "two friends argue" in screen.prompt_label.text()

    product = made["requests"]["product"]
    screen.group_combo.setCurrentIndex(screen.groups.row_of(product))
    screen.group_combo.activated.emit(screen.groups.row_of(product))
    assert screen.take_ids() == made["takes"]["product"]
    v1 = next(c for c in screen.cells if c.take.model == "sandbox-v1")
    assert v1.details.text().startswith("5 credits · waited ")
    job = next(j for j in list_jobs(services.store, request_id=product) if j.model == "sandbox-v1")
    wait = job.finished_at - job.submitted_at
    assert f"waited {wait:.1f} s" in v1.details.text()


def test_one_transport_plays_steps_and_scrubs_every_player(make_screen, made, clock, qtbot):
    screen = make_screen()
    screen.open_group(made["requests"]["product"])
    sync = screen.sync
    assert sync is not None
    assert all(not c.player.transport.isVisible() for c in screen.cells)
    assert screen.transport is not None
    assert screen.transport.isVisible()

    _key(qtbot, screen, Qt.Key.Key_Space)
    assert all(b.is_playing() for b in sync.backends)
    clock.advance(1000)
    assert _positions(screen) == [1000, 1000]

    _key(qtbot, screen, Qt.Key.Key_Period)  # pause and step one frame, every player
    assert not any(b.is_playing() for b in sync.backends)
    assert {frame_at(p, 24) for p in _positions(screen)} == {25}
    _key(qtbot, screen, Qt.Key.Key_Comma)
    _key(qtbot, screen, Qt.Key.Key_Comma)
    assert {frame_at(p, 24) for p in _positions(screen)} == {23}
    screen.transport.refresh()
    assert screen.transport.frame_label.text() == "Frame 24 / 120"

    screen.transport.slider.sliderMoved.emit(3000)  # a scrub drags every player
    assert _positions(screen) == [3000, 3000]
    screen.transport.forward_button.click()
    assert {frame_at(p, 24) for p in _positions(screen)} == {73}
    _key(qtbot, screen, Qt.Key.Key_Home)
    assert _positions(screen) == [0, 0]


def test_clips_of_different_lengths_align_by_start_or_by_relative_time_and_loop(
    make_screen, made, clock, qtbot
):
    screen = make_screen()
    long_take, short_take = made["hq"]["product"], made["takes"]["short"][0]
    screen.compare([long_take, short_take])
    assert screen.request_id() is None  # two groups: "any takes"
    assert "different prompts" in screen.prompt_label.text()
    long_b, short_b = screen.sync.backends
    assert (long_b.length_ms(), short_b.length_ms()) == (5000, 2000)

    screen.sync.seek(3000)  # by start: the short clip rests on its last frame
    assert long_b.position_ms() == 3000
    assert short_b.position_ms() == pytest.approx(2000 - FRAME_MS, abs=1)

    _key(qtbot, screen, Qt.Key.Key_R)  # relative: the same fraction of each clip
    assert screen.align_combo.currentData() == "relative"
    screen.sync.seek(2500)
    assert (long_b.position_ms(), short_b.position_ms()) == (2500, 1000)
    _key(qtbot, screen, Qt.Key.Key_Space)
    clock.advance(500)
    assert long_b.position_ms() == 3000
    assert short_b.position_ms() == pytest.approx(1200, abs=1)  # 0.4× to finish together
    _key(qtbot, screen, Qt.Key.Key_K)

    _key(qtbot, screen, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert screen.sync.loop()
    assert screen.transport.loop_button.isChecked()
    _key(qtbot, screen, Qt.Key.Key_R)
    assert screen.sync.alignment() == "start"
    assert screen.sync.loop()  # the loop stays on across alignments


def test_best_marks_the_take_usable_and_leaves_the_others(make_screen, made, services, qtbot):
    screen = make_screen()
    screen.open_group(made["requests"]["dialogue"])
    rated: list[int] = []
    screen.take_rated.connect(rated.append)
    _key(qtbot, screen, Qt.Key.Key_2)
    assert screen.ops.wait()
    first, second, third = (
        get_take(services.store, services.library.root, t) for t in screen.take_ids()
    )
    assert (first.verdict, second.verdict, third.verdict) == ("unrated", "usable", "unrated")
    assert rated == [second.id]
    assert screen.cells[1].title.text().endswith("✓")
    assert not screen.cells[1].pick_button.isEnabled()
    assert "usable" in screen.message.text()
    qtbot.mouseClick(screen.cells[2].pick_button, Qt.MouseButton.LeftButton)
    assert screen.ops.wait()
    assert get_take(services.store, services.library.root, third.id).verdict == "usable"


def test_a_blind_round_hides_names_records_each_keyboard_vote_and_reveals(
    make_screen, made, services, qtbot
):
    screen = make_screen(seed=3)
    dialogue = made["requests"]["dialogue"]
    screen.open_group(dialogue)
    votes: list[int] = []
    screen.duel_recorded.connect(votes.append)

    _key(qtbot, screen, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert screen.is_blind()
    assert screen.blind_bar.isVisible()
    assert screen.blind_progress() == (0, 2)  # two pairs of different models; not v1 vs v1
    first = screen.current_pair()
    assert screen.shown_take_ids() == list(first)
    assert [c.title.text() for c in screen.cells] == ["A", "B"]
    for cell in screen.cells:
        assert "sandbox" not in cell.details.text() + cell.title.text() + cell.toolTip()
        assert not cell.pick_button.isVisible()
    assert "Blind duel 1 of 2" in screen.blind_label.text()
    _key(qtbot, screen, Qt.Key.Key_2)  # "Best" is off while blind
    assert all(
        get_take(services.store, services.library.root, t).verdict == "unrated"
        for t in screen.take_ids()
    )

    _key(qtbot, screen, Qt.Key.Key_B)
    second = screen.current_pair()
    assert second is not None
    assert set(second) != set(first)
    assert "1 pair to go" in screen.message.text()
    _key(qtbot, screen, Qt.Key.Key_T)

    duels = list_duels(services.store)
    assert [(d.take_a, d.take_b, d.winner, d.request_id) for d in duels] == [
        (*first, "b", dialogue),
        (*second, "tie", dialogue),
    ]
    assert votes == [d.id for d in duels]
    # The round is over: names are back and the votes are revealed.
    assert not screen.is_blind()
    assert not screen.blind_button.isChecked()
    assert len(screen.cells) == 3
    assert screen.reveal.isVisible()
    text = screen.reveal.text()
    assert "sandbox-v1-hq" in text
    assert "beat" in text
    assert "tied" in text


def test_the_same_seed_shuffles_the_same_way_and_skipping_records_nothing(
    make_screen, made, services, qtbot
):
    orders = []
    for _ in range(2):
        screen = make_screen(seed=11)
        screen.open_group(made["requests"]["dialogue"])
        screen.set_blind(True)
        orders.append((screen.blind_seed, screen.current_pair()))
        _key(qtbot, screen, Qt.Key.Key_S)
        _key(qtbot, screen, Qt.Key.Key_S)
        assert not screen.is_blind()
    assert orders[0] == orders[1]
    assert list_duels(services.store) == []
    assert "no votes" in screen.message.text()


def test_the_wipe_shows_both_takes_real_frames_at_the_playhead(make_screen, made, qtbot):
    screen = make_screen()
    long_take, short_take = made["hq"]["product"], made["takes"]["short"][0]
    screen.compare([long_take, short_take])
    screen.set_alignment("relative")
    _key(qtbot, screen, Qt.Key.Key_W)
    assert screen.wipe_button.isChecked()
    assert screen.stage.currentWidget() is screen.wipe.parentWidget()
    qtbot.waitUntil(lambda: all(i is not None for i in screen.wipe.images), timeout=15_000)
    assert (screen.wipe.images[0].width(), screen.wipe.images[0].height()) == (1280, 720)
    assert (screen.wipe.images[1].width(), screen.wipe.images[1].height()) == (854, 480)
    assert screen.wipe.labels == [
        f"#{long_take} · sandbox · sandbox-v1-hq",
        f"#{short_take} · sandbox · sandbox-v1",
    ]

    before = screen.wipe.images[0]
    screen.sync.seek(2500)  # halfway through each clip, relative
    screen._on_tick()
    qtbot.waitUntil(lambda: not screen.loader.busy() and screen.wipe.images[0] is not before,
                    timeout=15_000)  # fmt: skip
    assert screen.wipe_panel.last_pos[:2] == (60, 24)  # frame 60 of 120, frame 24 of 48

    width = screen.wipe.picture_rect()
    qtbot.mousePress(
        screen.wipe,
        Qt.MouseButton.LeftButton,
        pos=QPoint(round(width.left() + width.width() * 0.25), round(width.center().y())),
    )
    assert screen.wipe.divider == pytest.approx(0.25, abs=0.01)
    _key(qtbot, screen, Qt.Key.Key_BracketRight)
    assert screen.wipe.divider == pytest.approx(0.30, abs=0.01)
    _key(qtbot, screen, Qt.Key.Key_W)
    assert screen.stage.currentWidget() is screen.grid_page


def test_four_takes_fill_a_two_by_two_grid_and_the_wipe_picks_two(make_screen, made, qtbot):
    screen = make_screen()
    takes = made["takes"]
    screen.compare([*takes["dialogue"], *takes["product"]])  # five: the first four are shown
    assert len(screen.cells) == 4
    assert "4 of 5 takes shown" in screen.prompt_label.text()
    positions = [screen._grid.getItemPosition(screen._grid.indexOf(c))[:2] for c in screen.cells]
    assert positions == [(0, 0), (0, 1), (1, 0), (1, 1)]
    screen.set_wipe(True)
    assert screen.left_choice.isVisible()
    assert screen.left_choice.count() == 4
    screen.right_choice.setCurrentIndex(3)
    screen.right_choice.activated.emit(3)
    assert screen.wipe.labels == [screen.cells[0].name(), screen.cells[3].name()]


def test_screenshots(shots, make_screen, made, qtbot, tmp_path):
    frames = tmp_path / "stills"
    frames.mkdir()
    screen = make_screen(factory=lambda take: StillBackend(take, frames), seed=5)
    takes = made["takes"]
    screen.compare([*takes["dialogue"], takes["short"][0]], request_id=None)
    screen.sync.seek(1800)
    qtbot.wait(150)
    _shot(shots, screen, "compare-grid")

    screen.open_group(made["requests"]["product"])
    screen.compare([made["hq"]["product"], takes["short"][0]])
    screen.set_alignment("relative")
    screen.sync.seek(2200)
    screen.set_wipe(True)
    screen.wipe.set_divider(0.42)
    qtbot.waitUntil(lambda: all(i is not None for i in screen.wipe.images), timeout=15_000)
    qtbot.waitUntil(lambda: not screen.loader.busy(), timeout=15_000)
    qtbot.wait(50)
    _shot(shots, screen, "compare-wipe")
    screen.set_wipe(False)

    screen.open_group(made["requests"]["dialogue"])
    screen.set_blind(True)
    screen.sync.seek(2600)
    qtbot.wait(150)
    _shot(shots, screen, "compare-blind")
    screen.vote("a")
    screen.vote("b")
    qtbot.wait(150)
    _shot(shots, screen, "compare-revealed")


def test_an_empty_library_says_what_to_do_and_opens_the_first_group_when_it_lands(
    shots, home, tmp_path, qtbot
):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    services = open_services()
    bridge = EngineBridge(services)
    bridge.start()
    try:
        screen = CompareScreen(services, bridge, backend_factory=fake_factory(Clock()))
        qtbot.addWidget(screen)
        screen.resize(900, 500)
        screen.show()
        assert screen.stage.currentWidget() is screen.empty
        assert "Generate screen" in screen.empty.text()  # the key comes from the window
        assert screen.group_combo.placeholderText() == "No comparison groups yet"
        assert not screen.blind_button.isEnabled()
        assert not screen.wipe_button.isEnabled()
        screen.set_wipe(True)
        assert not screen.wipe_button.isChecked()
        _shot(shots, screen, "compare-empty")

        v1 = Target("sandbox", "sandbox-v1")
        request = GenerationRequest("a kite over dunes", duration_s=2, resolution="480p")
        request_id, _ = bridge.generate(request, [v1, v1]).result(10)
        qtbot.waitUntil(lambda: screen.request_id() == request_id, timeout=60_000)
        assert len(screen.cells) == 2
        assert screen.stage.currentWidget() is screen.grid_page
        assert screen.group_combo.currentIndex() == 0
        screen.close()
    finally:
        bridge.shutdown()
        services.close()
