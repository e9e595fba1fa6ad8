"""The player widget, its keys and the sync group, on the deterministic fake backend."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from takestock.ui.player import (
    FakeBackend,
    PlayerWidget,
    QtMultimediaBackend,
    SyncGroup,
    TransportBar,
    best_backend,
    format_time,
    frame_at,
)

FPS = 24.0
FRAME_MS = 1000 / FPS


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


def _player(qtbot, backend: FakeBackend, **kwargs) -> PlayerWidget:
    widget = PlayerWidget(backend, **kwargs)
    qtbot.addWidget(widget)
    widget.resize(720, 480)
    widget.show()
    widget.load(Path("take.mp4"))
    return widget


@pytest.fixture
def player(qtbot, clock) -> PlayerWidget:
    return _player(qtbot, FakeBackend(length_ms=5000, fps=FPS, clock=clock))


def _key(qtbot, widget: PlayerWidget, key: Qt.Key, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(widget, key)


def _shot(widget: PlayerWidget, name: str) -> None:
    folder = os.environ.get("TAKESTOCK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


# ----------------------------------------------------------------- helpers


def test_time_and_frame_arithmetic():
    assert format_time(1250) == "00:01.25"
    assert format_time(5000) == "00:05.00"
    assert format_time(3_725_010) == "1:02:05.01"
    # Frame starts rounded to whole milliseconds still name their own frame.
    assert [frame_at(round(i * FRAME_MS), FPS) for i in range(200)] == list(range(200))
    assert frame_at(FRAME_MS * 3 - 1, FPS) == 2


# ----------------------------------------------------------------- keys


def test_space_plays_and_pauses_keeping_the_rate(player, qtbot, clock):
    backend = player.backend
    backend.set_rate(0.5)
    _key(qtbot, player, Qt.Key.Key_Space)
    assert backend.is_playing()
    clock.advance(1000)
    assert backend.position_ms() == 500
    _key(qtbot, player, Qt.Key.Key_Space)
    assert not backend.is_playing()
    assert backend.rate() == 0.5
    clock.advance(1000)
    assert backend.position_ms() == 500


def test_l_shuttles_forward_j_slows_then_steps_back_and_k_stops(player, qtbot, clock):
    backend = player.backend
    backend.set_rate(0.5)
    _key(qtbot, player, Qt.Key.Key_L)
    assert (backend.is_playing(), backend.rate()) == (True, 1.0)
    rates = []
    for _ in range(3):
        _key(qtbot, player, Qt.Key.Key_L)
        rates.append(backend.rate())
    assert rates == [2.0, 4.0, 4.0]
    assert player.transport.speed.currentText() == "4×"
    clock.advance(500)
    assert backend.position_ms() == 2000

    _key(qtbot, player, Qt.Key.Key_J)
    assert backend.rate() == 2.0
    _key(qtbot, player, Qt.Key.Key_J)
    assert backend.rate() == 1.0
    assert backend.position_ms() == 2000
    _key(qtbot, player, Qt.Key.Key_J)  # at 1×: pause and step back one frame
    assert (backend.position_ms(), backend.is_playing()) == (round(47 * FRAME_MS), False)

    backend.set_rate(2.0)
    _key(qtbot, player, Qt.Key.Key_K)
    assert (backend.is_playing(), backend.rate()) == (False, 1.0)
    _key(qtbot, player, Qt.Key.Key_J, 3)  # held down (repeated): frame after frame back
    assert (backend.position_ms(), backend.is_playing()) == (round(44 * FRAME_MS), False)


def test_comma_and_period_step_one_frame_and_pause(player, qtbot, clock):
    backend = player.backend
    _key(qtbot, player, Qt.Key.Key_Period, 3)
    assert backend.position_ms() == round(3 * FRAME_MS)
    assert player.transport.frame_label.text() == "Frame 4 / 120"
    _key(qtbot, player, Qt.Key.Key_Comma)
    assert backend.position_ms() == round(2 * FRAME_MS)

    _key(qtbot, player, Qt.Key.Key_Space)
    clock.advance(1010)  # 1093 ms: inside frame 26
    _key(qtbot, player, Qt.Key.Key_Period)
    assert not backend.is_playing()
    assert backend.position_ms() == round(27 * FRAME_MS)
    _key(qtbot, player, Qt.Key.Key_Comma, 40)
    assert backend.position_ms() == 0


def test_arrows_home_and_end(player, qtbot):
    backend = player.backend
    _key(qtbot, player, Qt.Key.Key_Right, 2)
    assert backend.position_ms() == 2000
    _key(qtbot, player, Qt.Key.Key_Left)
    assert backend.position_ms() == 1000
    _key(qtbot, player, Qt.Key.Key_Left, 2)
    assert backend.position_ms() == 0
    _key(qtbot, player, Qt.Key.Key_Space)
    _key(qtbot, player, Qt.Key.Key_End)
    assert not backend.is_playing()
    assert backend.position_ms() == round(119 * FRAME_MS)
    assert player.transport.frame_label.text() == "Frame 120 / 120"
    _key(qtbot, player, Qt.Key.Key_Right)
    assert backend.position_ms() == round(119 * FRAME_MS)
    _key(qtbot, player, Qt.Key.Key_Home)
    assert backend.position_ms() == 0


def test_the_bar_shows_times_and_the_frame(player):
    player.backend.seek(1250)
    player.refresh()
    bar = player.transport
    assert bar.time_label.text() == "00:01.25 / 00:05.00"
    assert bar.frame_label.text() == "Frame 31 / 120"
    assert (bar.slider.maximum(), bar.slider.value()) == (5000, 1250)


def test_scrubbing_seeks(player):
    bar = player.transport
    bar.slider.setSliderDown(True)
    bar.slider.sliderMoved.emit(3210)
    bar.slider.setSliderDown(False)
    assert player.backend.position_ms() == 3210


def test_play_to_the_end_stops_once_or_loops(player, qtbot, clock):
    backend = player.backend
    ended = []
    player.ended.connect(lambda: ended.append(True))
    _key(qtbot, player, Qt.Key.Key_Space)
    clock.advance(6000)
    player.refresh()
    player.refresh()
    assert ended == [True]
    assert (backend.is_playing(), backend.position_ms()) == (False, 5000)
    assert player.transport.time_label.text() == "00:05.00 / 00:05.00"

    qtbot.mouseClick(player.transport.loop_button, Qt.MouseButton.LeftButton)
    assert backend.loop()
    _key(qtbot, player, Qt.Key.Key_Space)  # from the end: starts over
    clock.advance(6000)
    player.refresh()
    assert ended == [True]
    assert (backend.is_playing(), backend.position_ms()) == (True, 1000)


def test_position_changed_is_emitted_when_it_moves(player, qtbot, clock):
    seen: list[int] = []
    player.position_changed.connect(seen.append)
    _key(qtbot, player, Qt.Key.Key_Space)
    clock.advance(500)
    player.refresh()
    player.refresh()
    assert seen == [500]


def test_mute_loop_and_speed_controls(player, qtbot):
    backend = player.backend
    bar = player.transport
    qtbot.mouseClick(bar.mute_button, Qt.MouseButton.LeftButton)
    assert backend.muted()
    _key(qtbot, player, Qt.Key.Key_M)
    assert not backend.muted()
    assert not bar.mute_button.isChecked()
    qtbot.mouseClick(bar.loop_button, Qt.MouseButton.LeftButton)
    assert backend.loop()
    index = bar.speed.findData(0.25)
    bar.speed.setCurrentIndex(index)
    bar.speed.activated.emit(index)
    assert backend.rate() == 0.25
    assert [bar.speed.itemText(i) for i in range(bar.speed.count())] == [
        "0.25×",
        "0.5×",
        "0.75×",
        "1×",
        "1.25×",
        "1.5×",
        "2×",
    ]
    qtbot.mouseClick(bar.forward_button, Qt.MouseButton.LeftButton)
    assert backend.position_ms() == round(FRAME_MS)
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert backend.is_playing()
    _shot(player, "player-offscreen-fake")


def test_controls_leave_the_keys_to_the_player(player):
    bar = player.transport
    for control in (bar.play_button, bar.slider, bar.speed, bar.loop_button, bar.mute_button):
        assert control.focusPolicy() == Qt.FocusPolicy.NoFocus


# ----------------------------------------------------------------- fallback banner


def test_the_fallback_banner_shows_once_and_closes(qtbot, clock):
    backend = FakeBackend(clock=clock)
    backend.fallback_reason = "libvlc was not found."
    widget = _player(qtbot, backend)
    assert widget.banner.isVisible()
    assert "Qt Multimedia" in widget._banner_text.text()
    assert "libvlc was not found." in widget._banner_text.text()
    _shot(widget, "player-offscreen-fallback-banner")
    qtbot.mouseClick(widget._banner_close, Qt.MouseButton.LeftButton)
    assert not widget.banner.isVisible()
    widget.load(Path("another.mp4"))
    assert not widget.banner.isVisible()

    quiet = FakeBackend(clock=clock)
    quiet.fallback_reason = "libvlc was not found."
    second = _player(qtbot, quiet, show_notice=False)  # the other cells of a compare grid
    assert not second.banner.isVisible()


def test_no_banner_when_nothing_fell_back(player):
    assert not player.banner.isVisible()


def test_best_backend_falls_back_when_vlc_cannot_start(monkeypatch, qapp):
    fake_vlc = types.ModuleType("vlc")
    fake_vlc.Instance = lambda *args: None  # what python-vlc returns without plugins
    monkeypatch.setitem(sys.modules, "vlc", fake_vlc)
    backend = best_backend()
    try:
        assert isinstance(backend, QtMultimediaBackend)
        assert "plugins are missing" in backend.fallback_reason
    finally:
        backend.release()

    monkeypatch.setitem(sys.modules, "vlc", None)  # import vlc raises ImportError
    backend = best_backend()
    try:
        assert backend.name == "qt"
        assert "python-vlc could not load libvlc" in backend.fallback_reason
    finally:
        backend.release()

    backend = best_backend(prefer="qt")
    try:
        assert (backend.name, backend.fallback_reason) == ("qt", None)
    finally:
        backend.release()


# ----------------------------------------------------------------- sync group


def _pair(clock: Clock, *, b_ms: float = 3000, skew: float = 1.0):
    a = FakeBackend(length_ms=5000, fps=FPS, clock=clock)
    b = FakeBackend(length_ms=b_ms, fps=FPS, clock=clock, skew=skew)
    for backend in (a, b):
        backend.load(Path("take.mp4"))
    return a, b


def test_sync_by_start_shares_one_clock(qapp, clock):
    short, long_ = _pair(clock)[::-1]
    group = SyncGroup([short, long_], align="start", interval_ms=0)
    assert group.leader is long_  # the longest clip keeps time
    group.seek(2000)
    assert (long_.position_ms(), short.position_ms()) == (2000, 2000)
    group.seek(4000)
    assert short.position_ms() == round(71 * FRAME_MS)  # its last frame

    group.seek(1000)
    group.play()
    clock.advance(1000)
    assert (long_.position_ms(), short.position_ms()) == (2000, 2000)
    clock.advance(1500)  # the short clip ends and holds; the group plays on
    group.tick()
    group.correct_drift()
    assert (long_.position_ms(), short.is_playing(), group.is_playing()) == (3500, False, True)
    assert group.corrections == 0
    group.pause()
    assert short.position_ms() == 3000


def test_sync_by_relative_time_keeps_fractions_and_scales_rates(qapp, clock):
    a, b = _pair(clock)
    group = SyncGroup([a, b], align="relative", interval_ms=0)
    assert group.leader is a
    group.seek(2500)
    assert (a.position_ms(), b.position_ms()) == (2500, 1500)
    group.set_rate(2.0)
    assert (a.rate(), b.rate()) == (2.0, pytest.approx(1.2))
    group.play()
    clock.advance(500)
    assert a.position_ms() / a.length_ms() == pytest.approx(b.position_ms() / b.length_ms())
    group.set_alignment("start")
    assert (a.rate(), b.rate(), b.position_ms()) == (2.0, 2.0, round(71 * FRAME_MS))


def test_drift_beyond_a_frame_is_corrected(qapp, clock):
    a, b = _pair(clock, b_ms=5000, skew=1.05)  # b's clock runs 5% fast
    group = SyncGroup([a, b], align="start", interval_ms=0)
    corrected: list[tuple[int, int]] = []
    group.drift_corrected.connect(lambda i, ms: corrected.append((i, ms)))
    group.play()
    drifts = []
    for _ in range(10):
        clock.advance(250)
        group.correct_drift()
        drifts.append(b.position_ms() - a.position_ms())
    # 12.5 ms of drift per tick: corrected every fourth tick, never more than a frame off.
    assert max(abs(d) for d in drifts) <= FRAME_MS
    assert group.corrections == len(corrected) == 2
    assert all(index == 1 and FRAME_MS < ms < 2 * FRAME_MS for index, ms in corrected)


def test_group_frame_steps_and_pauses_everyone(qapp, clock):
    a, b = _pair(clock)
    group = SyncGroup([a, b], align="start", interval_ms=0)
    group.play()
    clock.advance(1000)
    group.step_frame(1)
    assert (a.is_playing(), b.is_playing()) == (False, False)
    assert a.position_ms() == b.position_ms() == round(25 * FRAME_MS)
    assert b.stepped == 1  # stepped on its own, not re-seeked
    group.step_frame(-2)
    assert a.position_ms() == b.position_ms() == round(23 * FRAME_MS)


def test_group_loops_at_the_leaders_end(qapp, clock):
    a, b = _pair(clock)
    group = SyncGroup([a, b], align="start", interval_ms=0)
    group.set_loop(True)
    assert (a.loop(), b.loop()) == (True, False)
    group.seek(4500)
    group.play()
    clock.advance(1000)  # the leader wraps to 500; the follower had ended at 3000
    group.tick()
    group.correct_drift()
    assert (a.position_ms(), b.position_ms(), b.is_playing()) == (500, 500, True)


def test_a_transport_bar_drives_the_group(qtbot, clock):
    a, b = _pair(clock)
    group = SyncGroup([a, b], align="relative", interval_ms=0)
    bar = TransportBar(group)
    qtbot.addWidget(bar)
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert (a.is_playing(), b.is_playing()) == (True, True)
    qtbot.mouseClick(bar.mute_button, Qt.MouseButton.LeftButton)
    assert (a.muted(), b.muted()) == (True, True)
    group.seek(2500)
    bar.refresh()
    assert bar.time_label.text() == "00:02.50 / 00:05.00"


def test_groups_hold_two_to_four(qapp, clock):
    with pytest.raises(ValueError, match="2 to 4"):
        SyncGroup([FakeBackend(clock=clock)], interval_ms=0)
    with pytest.raises(ValueError, match="2 to 4"):
        SyncGroup([FakeBackend(clock=clock) for _ in range(5)], interval_ms=0)
