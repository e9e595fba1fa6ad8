"""The Library screen on real takes: sandbox generations through the engine, and imports."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QDate, QEvent, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices

from takestock.core.jobs import Target, get_job
from takestock.core.prompts import create_prompt
from takestock.core.reasons import DEFAULT_REASONS, list_reasons
from takestock.core.takes import get_take, import_files, rate_take, take_ids
from takestock.core.thumbnails import ThumbnailCache, thumbnail_path
from takestock.core.vendor import GenerationRequest
from takestock.ui.bridge import EngineBridge
from takestock.ui.library_model import (
    TAKE_IDS_MIME,
    LibraryModel,
    ReasonsModel,
    ThumbnailLoader,
    _Requests,
)
from takestock.ui.player import FakeBackend
from takestock.ui.screens.library import RATING_KEYS, LibraryScreen
from takestock.vendors.sandbox_render import render_clip
from takestock.wiring import open_services

LANTERN = "a paper lantern drifting over a misty lake at dusk, slow dolly"
IMPORTS = [
    ("kling", "kling-v2.1", "a fox trotting through fresh snow, low angle"),
    ("veo", "veo-3", "neon rain on a city street at night, handheld"),
    ("veo", "veo-3", "a whale breaching at sunrise, aerial drone"),
    ("kling", "kling-v2.1", "close-up of a violinist's hands, shallow focus"),
]


# ----------------------------------------------------------------- a library to copy


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sandbox takes made by the engine (a saved, tagged prompt) and four imports."""
    root = tmp_path_factory.mktemp("library-template") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TAKESTOCK_HOME", str(root))
        mp.setenv("TAKESTOCK_SANDBOX_LATENCY", "0.2")
        mp.setenv("TAKESTOCK_POLL_INTERVAL", "0.05")
        services = open_services()
        try:
            version = create_prompt(services.store, LANTERN, tags=["night", "water"]).latest
            engine = services.engine()
            request = GenerationRequest(prompt=LANTERN, duration_s=1, resolution="360p")
            _, jobs = engine.enqueue(
                request, [Target("sandbox", "sandbox-v1")], count=2, prompt_version_id=version.id
            )
            done = asyncio.run(engine.run(jobs))
            assert [j.state for j in done] == ["done", "done"], [j.error for j in done]
            clips = root.parent / "clips"
            clips.mkdir()
            for i, (vendor, model, prompt) in enumerate(IMPORTS):
                clip = clips / f"clip{i}.mp4"
                render_clip(clip, prompt=prompt, duration_s=1.0, width=320, height=180, seed=i)
                import_files(
                    services.store, services.library, [clip], vendor=vendor, model=model,
                    prompt=prompt,
                )  # fmt: skip
        finally:
            services.close()
    return root


@pytest.fixture
def home_contents(template):
    return template


class Players:
    """A player factory that counts the backends it made."""

    def __init__(self) -> None:
        self.made: list[FakeBackend] = []

    def __call__(self) -> FakeBackend:
        backend = FakeBackend()
        self.made.append(backend)
        return backend


@pytest.fixture
def players() -> Players:
    return Players()


@pytest.fixture
def screen(services, bridge, players, qtbot):
    widget = LibraryScreen(services, bridge, player_factory=players)
    widget.resize(1130, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _shot(shots: Path, widget, name: str) -> None:
    widget.grab().save(str(shots / f"{name}.png"))


def _row_of(screen: LibraryScreen, **fields) -> int:
    for row in range(screen.model.rowCount()):
        take = screen.model.take(row)
        if all(getattr(take, k) == v for k, v in fields.items()):
            return row
    raise AssertionError(f"no take with {fields}")


def _select(screen: LibraryScreen, qtbot, row: int) -> None:
    screen.view.setFocus()
    screen.view.selectRow(row)
    qtbot.waitUntil(
        lambda: (
            screen.inspector.details is not None
            and screen.inspector.details.take.id == screen.model.take_id(row)
        ),
        timeout=2000,
    )


# ----------------------------------------------------------------- the grid


def test_every_take_is_in_the_grid_with_its_poster(shots, screen, services, qtbot, qtmodeltester):
    model = screen.model
    assert model.rowCount() == 6
    assert list(model.ids()) == take_ids(services.store)  # newest first
    assert screen.filters.count.text() == "6 takes"
    qtmodeltester.check(model)
    assert screen.thumbnails is not None
    assert screen.thumbnails.wait(20_000)
    qtbot.waitUntil(
        lambda: all(
            model.data(model.index(r), LibraryModel.ThumbnailStateRole) == "ready"
            for r in range(model.rowCount())
        ),
        timeout=10_000,
    )
    take = model.take(0)
    image = model.data(model.index(0), LibraryModel.ThumbnailRole)
    assert not image.isNull()
    assert image.width() <= screen.thumbnails.box.width()
    assert thumbnail_path(services.paths.thumbnails, take.sha256).is_file()
    assert model.data(model.index(0)) == f"{take.vendor} · {take.model}"
    assert take.prompt in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    _shot(shots, screen, "grid")


def test_rows_are_read_lazily_in_blocks(services, qtmodeltester):
    model = LibraryModel(services.store, services.library.root, block=2, cache_rows=2)
    assert model._takes == {}  # ids only until a row is asked for
    first = model.take(0)
    assert set(model._takes) == set(model.ids()[:2])
    model.take(5)
    assert len(model._takes) == 2  # the LRU keeps two
    assert model.take(0) == first
    assert model.row_of(model.take_id(4)) == 4
    assert model.row_of(999_999) is None
    qtmodeltester.check(model)


def test_a_poster_that_cannot_be_made_says_so(services, qtbot, tmp_path):
    loader = ThumbnailLoader(ThumbnailCache(tmp_path / "t"), QSize(160, 90), threads=1)
    model = LibraryModel(services.store, services.library.root, loader)
    take = model.take(0)
    take.path.unlink()  # the video is gone and there is no poster
    assert model.data(model.index(0), LibraryModel.ThumbnailStateRole) == "loading"
    assert model.data(model.index(0), LibraryModel.ThumbnailRole) is None
    assert loader.wait(10_000)
    assert model.data(model.index(0), LibraryModel.ThumbnailStateRole) == "failed"
    assert "no such file" in model.thumbnail_error(take.sha256)
    loader.shutdown()


def test_poster_requests_are_latest_first_and_stale_ones_drop():
    requests = _Requests(limit=3)
    for n in range(6):
        assert requests.push(f"sha{n}", Path(f"/v{n}"))
    assert list(requests.waiting) == ["sha5", "sha4", "sha3"]  # newest first
    assert requests.dropped == 3
    requests.push("sha3", Path("/v3"))  # asked again: to the front
    assert requests.pop() == ("sha3", Path("/v3"))
    assert not requests.push("sha3", Path("/v3"))  # being made: not queued twice
    requests.finish("sha3", None, "boom")
    assert requests.take_done() == [("sha3", None, "boom")]


# ----------------------------------------------------------------- filters


def test_filters_narrow_the_grid(shots, screen, services, qtbot):
    filters, model = screen.filters, screen.model
    filters.vendor.setCurrentIndex(filters.vendor.findData("veo"))
    assert model.rowCount() == 2
    assert {model.take(r).vendor for r in range(2)} == {"veo"}
    assert [filters.model.itemData(i) for i in range(filters.model.count())] == [None, "veo-3"]
    assert filters.count.text() == "2 takes"
    filters.vendor.setCurrentIndex(0)
    assert model.rowCount() == 6

    filters.tag.setCurrentIndex(filters.tag.findData("night"))
    assert {model.take(r).vendor for r in range(model.rowCount())} == {"sandbox"}
    assert model.rowCount() == 2
    filters.clear()
    assert model.rowCount() == 6

    fox = _row_of(screen, vendor="kling", prompt=IMPORTS[0][2])
    rate_take(services.store, model.take_id(fox), verdict="usable", stars=4)
    screen.refresh()
    filters.stars.setCurrentIndex(filters.stars.findData(3))
    assert [model.take(r).prompt for r in range(model.rowCount())] == [IMPORTS[0][2]]
    filters.stars.setCurrentIndex(0)
    filters.verdict.setCurrentIndex(filters.verdict.findData("unrated"))
    assert model.rowCount() == 5

    filters.clear()
    filters.search.setText("WHALE")  # typed: applied after a pause
    assert model.rowCount() == 6
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=2000)
    filters.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=2000)

    tomorrow = QDate.currentDate().addDays(1)
    filters.since.setDate(tomorrow)
    assert model.rowCount() == 0
    assert "No takes match these filters" in screen.view.empty_text
    _shot(shots, screen, "no-match")
    filters.since.setDate(filters.since.minimumDate())
    filters.until.setDate(QDate.currentDate())  # to the end of today
    assert model.rowCount() == 6
    filters.clear()


def test_an_empty_library_says_what_to_do(shots, home, tmp_path, bridge_free_services, qtbot):
    services, bridge = bridge_free_services
    widget = LibraryScreen(services, bridge, player_factory=FakeBackend)
    qtbot.addWidget(widget)
    widget.resize(1130, 760)
    widget.show()
    assert widget.model.rowCount() == 0
    assert "Generate screen" in widget.view.empty_text  # the key comes from the window
    _shot(shots, widget, "empty-library")
    widget.shutdown()


@pytest.fixture
def bridge_free_services(home, qsettings):
    s = open_services()
    b = EngineBridge(s)
    yield s, b
    b.shutdown()
    s.close()


# ----------------------------------------------------------------- rating


def test_rating_keys_update_the_database_and_the_badge(shots, screen, services, qtbot):
    store, root, model, view = services.store, services.library.root, screen.model, screen.view
    _select(screen, qtbot, 0)
    take_id = model.take_id(0)
    qtbot.keyClick(view, Qt.Key.Key_P)
    assert screen.ops.wait()
    qtbot.keyClick(view, Qt.Key.Key_4)
    assert screen.ops.wait()
    assert (get_take(store, root, take_id).verdict, get_take(store, root, take_id).stars) == (
        "usable",
        4,
    )
    tile = model.data(model.index(0), LibraryModel.TileRole)[0]  # what the delegate paints
    assert (tile.verdict, tile.stars) == ("usable", 4)
    assert screen.inspector.verdict_buttons["usable"].isChecked()
    assert [b.text() for b in screen.inspector.star_buttons] == ["★"] * 4 + ["☆"]

    qtbot.keyClick(view, Qt.Key.Key_0)  # Lightroom: 0 clears the stars

    assert screen.ops.wait()
    assert get_take(store, root, take_id).stars is None

    # Shift+Right extends the selection: X rejects both.
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert len(screen.selected_ids()) == 2
    qtbot.keyClick(view, Qt.Key.Key_X)
    assert screen.ops.wait()
    assert {get_take(store, root, i).verdict for i in screen.selected_ids()} == {"reject"}
    assert model.data(model.index(1), LibraryModel.TakeRole).verdict == "reject"

    # The same keys work with the focus in the inspector (not while typing notes).
    screen.inspector.reasons_view.setFocus()
    qtbot.keyClick(screen.inspector.reasons_view, Qt.Key.Key_U)
    assert screen.ops.wait()
    assert {get_take(store, root, i).verdict for i in screen.selected_ids()} == {"unrated"}
    screen.inspector.notes.setFocus()
    qtbot.keyClicks(screen.inspector.notes, "P5")
    assert screen.inspector.notes.toPlainText() == "P5"
    assert {get_take(store, root, i).verdict for i in screen.selected_ids()} == {"unrated"}
    screen.view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_X)
    assert screen.ops.wait()
    assert {get_take(store, root, i).verdict for i in screen.selected_ids()} == {"reject"}
    screen.thumbnails.wait(20_000)
    _shot(shots, screen, "rated")


def test_the_inspector_buttons_rate_too(screen, services, qtbot):
    _select(screen, qtbot, 2)
    take_id = screen.model.take_id(2)
    qtbot.mouseClick(screen.inspector.verdict_buttons["reject"], Qt.MouseButton.LeftButton)
    assert screen.ops.wait()
    qtbot.mouseClick(screen.inspector.star_buttons[2], Qt.MouseButton.LeftButton)
    assert screen.ops.wait()
    take = get_take(services.store, services.library.root, take_id)
    assert (take.verdict, take.stars) == ("reject", 3)
    qtbot.mouseClick(screen.inspector.star_buttons[2], Qt.MouseButton.LeftButton)  # again: off
    assert screen.ops.wait()
    assert get_take(services.store, services.library.root, take_id).stars is None


def test_rating_keys_are_lightrooms():
    assert RATING_KEYS[Qt.Key.Key_P] == {"verdict": "usable"}
    assert RATING_KEYS[Qt.Key.Key_X] == {"verdict": "reject"}
    assert RATING_KEYS[Qt.Key.Key_U] == {"verdict": "unrated"}
    assert [RATING_KEYS[getattr(Qt.Key, f"Key_{n}")] for n in range(6)] == [
        {"stars": n} for n in range(6)
    ]


def test_reasons_are_saved_and_the_list_grows(screen, services, qtbot, qtmodeltester):
    _select(screen, qtbot, 1)
    take_id = screen.model.take_id(1)
    reasons = screen.inspector.reasons
    qtmodeltester.check(reasons)
    assert reasons.names == list(DEFAULT_REASONS)
    hands = reasons.index(reasons.names.index("hands"))
    assert reasons.setData(hands, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert screen.ops.wait()
    assert get_take(services.store, services.library.root, take_id).reasons == ("hands",)

    screen.inspector.add_reason_edit.setFocus()
    qtbot.keyClicks(screen.inspector.add_reason_edit, "wrong season")
    qtbot.keyClick(screen.inspector.add_reason_edit, Qt.Key.Key_Return)
    assert list_reasons(services.store)[-1] == "wrong season"
    assert get_take(services.store, services.library.root, take_id).reasons == (
        "hands",
        "wrong season",
    )
    assert reasons.checked() == ["hands", "wrong season"]
    assert screen.inspector.add_reason_edit.text() == ""

    # Another take offers the grown list, nothing ticked.
    _select(screen, qtbot, 0)
    assert reasons.names[-1] == "wrong season"
    assert reasons.checked() == []
    _select(screen, qtbot, 1)
    assert reasons.checked() == ["hands", "wrong season"]


def test_a_takes_own_reason_is_offered_even_off_the_list(screen, services, qtbot):
    rate_take(services.store, screen.model.take_id(3), reasons=["flickering sky"])
    screen.refresh()
    _select(screen, qtbot, 3)
    assert screen.inspector.reasons.names[-1] == "flickering sky"
    assert screen.inspector.reasons.checked() == ["flickering sky"]
    model = ReasonsModel()
    model.set_reasons(["a", "b"], ["B"])
    assert model.checked() == ["b"]


def test_notes_are_saved_after_a_pause(screen, services, qtbot):
    _select(screen, qtbot, 0)
    take_id = screen.model.take_id(0)
    screen.inspector.notes.setFocus()
    qtbot.keyClicks(screen.inspector.notes, "great light, keep")
    qtbot.waitUntil(
        lambda: (
            get_take(services.store, services.library.root, take_id).notes == "great light, keep"
        ),
        timeout=3000,
    )
    qtbot.keyClicks(screen.inspector.notes, "!")
    _select(screen, qtbot, 1)  # moving on saves at once
    assert screen.ops.wait()
    assert get_take(services.store, services.library.root, take_id).notes == ("great light, keep!")


# ----------------------------------------------------------------- inspector


def test_the_inspector_shows_the_prompt_parameters_and_cost(shots, screen, services, qtbot):
    row = _row_of(screen, vendor="sandbox")
    _select(screen, qtbot, row)
    inspector = screen.inspector
    take = screen.model.take(row)
    job = get_job(services.store, take.job_id)
    assert inspector.title.text().startswith(f"Take #{take.id} · sandbox · sandbox-v1")
    assert inspector.prompt.text() == LANTERN
    assert "Version 1 of 1" in inspector.prompt_version.text()
    assert "#night" in inspector.prompt_version.text()
    assert "duration_s: 1" in inspector.params.text()
    assert "resolution: 360p" in inspector.params.text()
    assert job.vendor_task_id in inspector.job.text()
    estimate = job.estimate or {}
    assert f"Estimated {estimate['amount']:g} {estimate['unit']}" in inspector.cost.text()
    assert "1.0 s" in inspector.facts.text()
    screen.thumbnails.wait(20_000)
    qtbot.waitUntil(lambda: inspector.player is not None and inspector.player.isVisible())
    _shot(shots, screen, "inspector")

    imported = _row_of(screen, vendor="veo")
    _select(screen, qtbot, imported)
    assert inspector.job.text() == "Imported — no job"
    assert inspector.prompt.text() in {p for _, _, p in IMPORTS}


def test_one_player_backend_follows_the_selection(screen, players, qtbot):
    _select(screen, qtbot, 0)
    qtbot.waitUntil(lambda: bool(players.made) and players.made[0].path is not None, timeout=2000)
    for row in (1, 2, 3):
        _select(screen, qtbot, row)
    expected = screen.model.take(3).path
    qtbot.waitUntil(lambda: players.made[0].path == expected, timeout=2000)
    assert len(players.made) == 1  # one backend, reused
    assert screen.inspector.player is not None
    assert screen.inspector.player.backend is players.made[0]
    screen.view.clearSelection()
    screen.view.setCurrentIndex(screen.model.index(-1))
    assert screen.inspector.details is None


# ----------------------------------------------------------------- hand-off


def test_dragging_takes_carries_their_files(screen, qtbot):
    model, view = screen.model, screen.view
    assert view.dragEnabled()
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    _select(screen, qtbot, 0)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    indexes = view.selectionModel().selectedIndexes()
    assert len(indexes) == 3
    mime = model.mimeData(indexes)  # what QAbstractItemView.startDrag hands the drag
    urls = mime.urls()
    assert [u.isLocalFile() for u in urls] == [True, True, True]
    paths = [Path(u.toLocalFile()) for u in urls]
    assert paths == [model.take(r).path for r in range(3)]
    assert all(p.is_file() for p in paths)
    assert mime.hasFormat("text/uri-list")
    assert json.loads(bytes(mime.data(TAKE_IDS_MIME)).decode()) == list(model.ids()[:3])


def test_enter_opens_the_take_in_the_systems_player(screen, qtbot, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    _select(screen, qtbot, 1)
    qtbot.keyClick(screen.view, Qt.Key.Key_Return)
    assert [Path(u.toLocalFile()) for u in opened] == [screen.model.take(1).path]


def test_a_finished_job_appears_and_the_selection_stays(screen, bridge, qtbot):
    _select(screen, qtbot, 2)
    chosen = screen.model.take_id(2)
    request = GenerationRequest(prompt="a kite over dunes", duration_s=1, resolution="360p")
    bridge.generate(request, [Target("sandbox", "sandbox-v1")]).result(10)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 7, timeout=30_000)
    assert screen.model.take(0).prompt == "a kite over dunes"  # newest first
    assert screen.current_take().id == chosen
    assert screen.selected_ids() == [chosen]
    assert screen.filters.count.text() == "7 takes"


def test_painting_cannot_use_up_none(screen):
    """WORKAROUND check (PySide6 6.12.0 on CPython 3.11): void calls take a reference
    from None each; a scroll makes hundreds of thousands of them."""
    viewport = screen.view.viewport()
    for _ in range(100_000):
        viewport.update()  # void: one reference each, without the workaround
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > 1 << 39
