"""The Arena screen: compare two takes, cast a blind vote, see the leaderboard change;
per-tag boards, usable rate and cost per usable second; every batch's planned, spent
and refunded. The takes, jobs and ledger are real sandbox ones (see test_compare_screen).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt

from takestock.core.arena import batch_summary, record_duel
from takestock.core.takes import get_take, rate_take
from takestock.ui.arena_models import BatchesModel, GroupsModel, LeaderboardModel
from takestock.ui.bridge import EngineBridge
from takestock.ui.screens.arena import ArenaScreen
from takestock.ui.screens.compare import CompareScreen
from takestock.wiring import open_services
from tests.ui import test_compare_screen as seeded

# The seeded sandbox library and its fixtures are shared with the Compare screen's tests.
library_template = seeded.library_template
home_contents = seeded.home_contents
made = seeded.made
clock = seeded.clock
fake_factory = seeded.fake_factory

RATING = LeaderboardModel.COLUMNS.index("Rating")
DUELS = LeaderboardModel.COLUMNS.index("Duels")
MODEL = LeaderboardModel.COLUMNS.index("Vendor / model")


@pytest.fixture
def arena(services, bridge, qtbot):
    screen = ArenaScreen(services, bridge)
    qtbot.addWidget(screen)
    screen.resize(1180, 560)
    screen.show()
    qtbot.waitExposed(screen)
    yield screen
    screen.close()
    screen.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _text(model, row: int, column: int) -> str:
    return model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole)


def _board(screen: ArenaScreen) -> list[tuple[str, str, str]]:
    m = screen.leaderboard
    return [(_text(m, r, 0), _text(m, r, MODEL), _text(m, r, DUELS)) for r in range(m.rowCount())]


def _model_of(services, take_id: int) -> str:
    take = get_take(services.store, services.library.root, take_id)
    return f"{take.vendor} · {take.model}"


def _revisit(screen) -> None:
    """What switching screens in the main window does."""
    screen.hide()
    screen.show()


def test_the_models_pass_the_model_tester(services, made, qtmodeltester):
    store = services.store
    record_duel(store, *made["takes"]["product"], "a")
    for model in (LeaderboardModel(store), BatchesModel(store), GroupsModel(store)):
        qtmodeltester.check(model)
        assert model.rowCount() > 0
    tagged = LeaderboardModel(store)
    tagged.set_tag("dialogue")
    qtmodeltester.check(tagged)


def test_compare_two_takes_cast_a_blind_vote_and_see_the_arena_change(
    services, bridge, made, clock, arena, qtbot
):
    # Before any vote: both models are listed from their takes, unranked.
    assert [(rank, duels) for rank, _, duels in _board(arena)] == [("—", "0"), ("—", "0")]
    assert _text(arena.leaderboard, 0, RATING) == "no duels"
    assert "No blind duels yet" in arena.summary.text()

    compare = CompareScreen(services, bridge, backend_factory=fake_factory(clock), seed=2)
    qtbot.addWidget(compare)
    compare.resize(1100, 700)
    compare.show()
    qtbot.waitExposed(compare)
    compare.activateWindow()
    qtbot.waitUntil(compare.isActiveWindow, timeout=5_000)
    compare.open_group(made["requests"]["product"])
    compare.stage.setFocus()
    qtbot.keyClick(compare.stage, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    winner, loser = compare.current_pair()
    qtbot.keyClick(compare.stage, Qt.Key.Key_A)  # A is better
    assert not compare.is_blind()  # one pair in a group of two: the round is over

    _revisit(arena)
    board = _board(arena)
    assert board == [
        ("1", _model_of(services, winner), "1"),
        ("2", _model_of(services, loser), "1"),
    ]
    top, bottom = (_text(arena.leaderboard, r, RATING) for r in (0, 1))
    assert int(top.split(" ± ")[0]) > 1500 > int(bottom.split(" ± ")[0])
    assert arena.summary.text() == "1 duel · 2 models rated"
    compare.close()


def test_each_tag_has_its_own_board_beside_usable_rate_and_cost(
    shots, services, made, arena, qtbot
):
    store = services.store
    product, dialogue = made["takes"]["product"], made["takes"]["dialogue"]
    hq_product, hq_dialogue = made["hq"]["product"], made["hq"]["dialogue"]
    v1_product = next(t for t in product if t != hq_product)
    for v1 in (t for t in dialogue if t != hq_dialogue):
        record_duel(store, hq_dialogue, v1, "a")  # hq wins dialogue
    record_duel(store, hq_product, v1_product, "b")  # v1 wins the product shot
    rate_take(store, v1_product, verdict="usable")
    rate_take(store, made["takes"]["short"][0], verdict="reject")
    rate_take(store, hq_dialogue, verdict="usable")
    arena.refresh()

    assert [arena.tag_filter.itemText(i) for i in range(arena.tag_filter.count())] == [
        "All tags",
        "dialogue",
        "product shot",
    ]
    assert _board(arena)[0][1:] == ("sandbox · sandbox-v1-hq", "3")
    arena.tag_filter.setCurrentIndex(2)
    arena.tag_filter.activated.emit(2)
    assert _board(arena)[0][1:] == ("sandbox · sandbox-v1", "1")
    assert arena.summary.text() == "1 duel · 2 models rated · product shot"
    arena.set_tag("dialogue")
    assert _board(arena)[0][1:] == ("sandbox · sandbox-v1-hq", "2")

    arena.set_tag(None)
    m = arena.leaderboard
    rows = {_text(m, r, MODEL): r for r in range(m.rowCount())}
    v1, hq = rows["sandbox · sandbox-v1"], rows["sandbox · sandbox-v1-hq"]
    column = {name: LeaderboardModel.COLUMNS.index(name) for name in LeaderboardModel.COLUMNS}
    assert _text(m, v1, column["Usable"]) == "50% (1 of 2)"
    assert _text(m, v1, column["Failed"]) == "1 of 5"  # the #fail job: no video, not a reject
    assert _text(m, v1, column["Takes"]) == "4"
    # v1 spent 5 + 5 + 5 + 2 credits (the failed job was refunded) for 5 usable seconds.
    assert _text(m, v1, column["Cost per usable second"]) == "3.40 credits/s"
    assert _text(m, hq, column["Cost per usable second"]) == "6 credits/s"  # 30 for 5 s
    assert "1 usable, 1 rejected, 2 not judged yet" in m.data(
        m.index(v1, column["Usable"]), Qt.ItemDataRole.ToolTipRole
    )
    qtbot.wait(20)
    assert arena.grab().save(str(shots / "arena-leaderboard.png"))


def test_batches_show_what_each_group_planned_spent_and_got_refunded(
    shots, services, made, arena, qtbot
):
    arena.tabs.setCurrentIndex(1)
    m = arena.batches
    column = {name: BatchesModel.COLUMNS.index(name) for name in BatchesModel.COLUMNS}
    requests = made["requests"]
    assert [m.request_id(r) for r in range(m.rowCount())] == [
        requests[name] for name in ("failed", "short", "dialogue", "product")
    ]

    def row(name: str) -> dict[str, str]:
        r = [m.request_id(i) for i in range(m.rowCount())].index(requests[name])
        return {c: _text(m, r, i) for c, i in column.items()}

    failed = row("failed")
    assert (failed["Planned"], failed["Spent"], failed["Refunded"]) == (
        "2 credits",
        "0 credits",
        "2 credits",
    )
    assert failed["Jobs"] == "1 failed"
    dialogue = row("dialogue")
    assert (dialogue["Planned"], dialogue["Spent"], dialogue["Refunded"]) == (
        "25 credits",
        "25 credits",
        "0 credits",
    )
    assert dialogue["Targets"] == "sandbox-v1, sandbox-v1-hq"
    assert dialogue["Takes"] == "3"
    assert row("product")["Planned"] == "20 credits"
    summary = batch_summary(services.store, requests["failed"])
    assert summary.untracked == 0  # everything went through the studio account's ledger

    opened: list[int] = []
    arena.compare_requested.connect(opened.append)
    arena.batches_view.setFocus()
    arena.batches_view.selectRow(2)
    qtbot.keyClick(arena.batches_view, Qt.Key.Key_Return)
    assert opened == [requests["dialogue"]]
    qtbot.wait(20)
    assert arena.grab().save(str(shots / "arena-batches.png"))


def test_an_empty_arena_says_what_to_do(shots, home, tmp_path, qtbot):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    services = open_services()
    bridge = EngineBridge(services)
    try:
        screen = ArenaScreen(services, bridge)
        qtbot.addWidget(screen)
        screen.resize(1000, 420)
        screen.show()
        assert screen._board_stack.currentWidget() is screen._board_empty
        assert "Blind vote (Ctrl+B)" in screen._board_empty.text()
        screen.tabs.setCurrentIndex(1)
        assert screen._batches_stack.currentWidget() is screen._batches_empty
        screen.tabs.setCurrentIndex(0)
        assert screen.grab().save(str(shots / "arena-empty.png"))
        screen.close()
    finally:
        bridge.shutdown()
        services.close()
