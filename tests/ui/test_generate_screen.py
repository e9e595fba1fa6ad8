"""The Generate screen, clicked through on the sandbox: targets, images, fan-out, the web."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication

from takestock.core.credits import add_account
from takestock.core.grants import materialise
from takestock.core.jobs import Target, get_job, get_jobs
from takestock.core.prompts import create_prompt, get_prompt
from takestock.core.takes import get_take
from takestock.ui.bridge import EngineBridge
from takestock.ui.generate_models import TARGET_ROLE
from takestock.ui.screens.generate import WATCH_FOLDER_KEY, GenerateScreen
from tests.fakeserver.media import tiny_mp4

FAST = Target("sandbox", "sandbox-v1", "default")
HQ = Target("sandbox", "sandbox-v1-hq", "default")


@pytest.fixture
def qsettings(qsettings, memory_keyring):
    """The shared settings, watching a Downloads folder, with keys in memory."""
    watched = qsettings / "Downloads"
    watched.mkdir()
    QSettings().setValue(WATCH_FOLDER_KEY, str(watched))
    return qsettings


def _accounts(services) -> None:
    add_account(
        services.store, services.plan_books, vendor="sandbox", name="play", kind="api", plan="free"
    )
    add_account(services.store, services.plan_books, vendor="sandbox", name="site", kind="web")
    materialise(services.store, time.time())


@pytest.fixture
def make_screen(services, qtbot):
    made: list[tuple[GenerateScreen, EngineBridge]] = []

    def make() -> GenerateScreen:
        bridge = EngineBridge(services)
        bridge.start()
        screen = GenerateScreen(services, bridge)
        screen.opened: list[str] = []  # type: ignore[attr-defined]
        screen.open_url = lambda url: screen.opened.append(url.toString())  # type: ignore[attr-defined]
        screen.resize(1400, 860)
        screen.show()
        qtbot.waitExposed(screen)
        made.append((screen, bridge))
        return screen

    yield make
    for screen, bridge in made:
        screen.shutdown()
        if screen.offer is not None:
            screen.offer.close()
        screen.close()
        screen.deleteLater()
        bridge.shutdown()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _png(path: Path, width: int, height: int) -> Path:
    Image.new("RGB", (width, height), (200, 120, 40)).save(path)
    return path


def _drop(widget, path: Path) -> None:
    """Drag ``path`` from a file manager and drop it on ``widget``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    centre = QPointF(widget.rect().center())
    enter = QDragEnterEvent(
        centre,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QCoreApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        centre,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QCoreApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def _row_data(screen: GenerateScreen, target: Target, column: int, role=None):
    index = screen.targets.model.index_of(target, column)
    assert index.isValid(), target
    return index.data(role if role is not None else Qt.ItemDataRole.DisplayRole)


def _enabled(screen: GenerateScreen, target: Target) -> bool:
    index = screen.targets.model.index_of(target)
    return bool(screen.targets.model.flags(index) & Qt.ItemFlag.ItemIsEnabled)


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_targets_are_vendor_model_account_rows_priced_from_the_right_credits(
    services, make_screen, qtmodeltester
):
    _accounts(services)
    screen = make_screen()
    picker = screen.targets
    qtmodeltester.check(picker.model)
    qtmodeltester.check(picker.proxy)
    play = Target("sandbox", "sandbox-v1", "play")
    site = Target("sandbox", "sandbox-v1", "site")
    # With an API account for the sandbox, no bare-key row; the sandbox is ticked first.
    assert picker.selected() == [play]
    assert not picker.model.index_of(FAST).isValid()
    screen.duration.setCurrentText("2")
    screen.resolution.setCurrentText("360p")
    assert picker.cost_label(play).text() == "2 credits"
    assert _row_data(screen, play, 2) == "daily free 2"
    assert _row_data(screen, play, 3) == "98 credits"
    assert _row_data(screen, site, 2) == "balance not tracked"
    assert "(web: made on the site)" in _row_data(screen, site, 0)
    screen.count.setValue(3)
    assert picker.cost_label(play).text() == "3 × 2 = 6 credits"
    assert _row_data(screen, play, 3) == "94 credits"

    # Ticked takes are paid in turn: the second row pays from what the first left.
    hq_play = Target("sandbox", "sandbox-v1-hq", "play")
    screen.duration.setCurrentText("10")
    screen.resolution.setCurrentText("1080p")
    picker.tick(hq_play)
    picker.flush()
    assert picker.selected() == [play, hq_play]
    assert _row_data(screen, play, 3) == "40 credits"  # 3 × 20 from 100
    # 3 × 30 from the 40 left: one take fits, and the summary says which do not.
    assert _row_data(screen, hq_play, 3) == "10 credits — not every take fits"
    assert "play can pay 1 of the 3 takes on sandbox:sandbox-v1-hq" in picker.summary.text()

    # Retired models are not offered; the filter narrows the tree.
    retired = [(v.id, m.id) for v in services.catalog for m in v.models.values() if not m.available]
    assert retired
    assert all(not picker.model.index_of(Target(v, m)).isValid() for v, m in retired)
    picker.filter.setText("v1 hq")
    leaves = _visible_targets(picker)
    assert leaves == {hq_play, Target("sandbox", "sandbox-v1-hq", "site")}


def _visible_targets(picker) -> set[Target]:
    found: set[Target] = set()

    def walk(parent) -> None:
        for row in range(picker.proxy.rowCount(parent)):
            index = picker.proxy.index(row, 0, parent)
            target = index.data(TARGET_ROLE)
            if target is not None:
                found.add(target)
            walk(index)

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    return found


def test_rows_that_cannot_take_the_request_are_disabled_with_the_reason(
    shots, services, make_screen, tmp_path, qtbot, monkeypatch
):
    monkeypatch.setenv("TAKESTOCK_RUNWAY_API_KEY", "test-key")
    screen = make_screen()
    picker = screen.targets
    screen.duration.setCurrentText("6")
    picker.flush()
    assert _enabled(screen, FAST)
    assert not _enabled(screen, HQ)
    assert "6 s is not offered" in _row_data(screen, HQ, 0, Qt.ItemDataRole.ToolTipRole)
    picker.tick(HQ)
    assert picker.selected() == [FAST]  # ticked, but it cannot take it
    assert "cannot take this request" in picker.summary.text()

    # No key: every row of the vendor says so.
    fal = next(t for t in picker.model.ticked() + _all_targets(picker) if t.vendor == "fal")
    assert not _enabled(screen, fal)
    assert "no API key for fal.ai" in _row_data(screen, fal, 0, Qt.ItemDataRole.ToolTipRole)
    gen45 = Target("runway", "gen4.5", "default")
    screen.duration.setCurrentText("5")
    picker.flush()
    assert _enabled(screen, gen45)

    # An image too small for some models: dropped, checked against the ticked ones.
    picker.tick(gen45)
    small = _png(tmp_path / "still.png", 480, 270)
    _drop(screen.first_frame, small)
    assert screen.first_frame.path == small
    assert screen.last_frame.isEnabled()
    qtbot.waitUntil(lambda: "✗" in screen.first_frame.info.text(), timeout=10_000)
    info = screen.first_frame.info.text()
    assert "480×270 PNG" in info
    assert "at least 300 px" in info
    assert "Sandbox v1 HQ" in info
    assert "Gen-4.5" in info
    qtbot.waitUntil(lambda: not _enabled(screen, gen45), timeout=10_000)
    assert "at least 300 px" in _row_data(screen, gen45, 0, Qt.ItemDataRole.ToolTipRole)
    assert _enabled(screen, FAST)  # 64 px is enough for the fast sandbox
    assert screen.request().image == small
    qtbot.waitUntil(lambda: screen.first_frame.preview.pixmap().width() > 0, timeout=5_000)
    screen.prompt.setPlainText("a red fox trotting through fresh snow at dawn, slow dolly")
    picker.flush()
    qtbot.wait(50)
    screen.grab().save(str(shots / "generate-refused.png"))

    screen.first_frame.clear_button.click()
    assert screen.request().image is None
    assert not screen.last_frame.isEnabled()
    qtbot.waitUntil(lambda: _enabled(screen, gen45), timeout=10_000)


def _all_targets(picker) -> list[Target]:
    return [o.target for o in picker.model.options()]


def test_one_click_fans_out_as_one_comparison_group(services, make_screen, qtbot):
    screen = make_screen()
    screen.prompt.setPlainText("a {animal} in the snow")
    assert screen.variables.names() == ["animal"]
    screen.duration.setCurrentText("5")
    screen.resolution.setCurrentText("720p")
    screen.targets.tick(HQ)
    screen.count.setValue(2)
    _click(qtbot, screen.generate_button)
    assert "no value for animal" in screen.message.text()

    screen.variables.editors["animal"].setText("fox")
    with qtbot.waitSignal(screen.queued, timeout=10_000) as queued:
        _click(qtbot, screen.generate_button)
    job_ids = queued.args[0]
    jobs = get_jobs(services.store, job_ids)
    assert len(jobs) == 4
    assert len({j.request_id for j in jobs.values()}) == 1
    assert sorted((j.vendor, j.model) for j in jobs.values()) == sorted(
        [("sandbox", "sandbox-v1")] * 2 + [("sandbox", "sandbox-v1-hq")] * 2
    )
    request = services.store.one(
        "SELECT prompt, prompt_version_id FROM request WHERE id = ?",
        (next(iter(jobs.values())).request_id,),
    )
    assert request["prompt"] == "a fox in the snow"
    version = services.store.one(
        "SELECT text FROM prompt_version WHERE id = ?", (request["prompt_version_id"],)
    )
    assert version["text"] == "a {animal} in the snow"  # the library keeps the template
    assert "Queued 4" in screen.message.text()


def test_a_library_version_is_generated_from_as_it_is(services, make_screen, qtbot):
    prompt = create_prompt(
        services.store,
        "a {animal} crossing a frozen lake",
        title="Lake",
        negative="blurry",
        variables={"animal": "moose"},
    )
    screen = make_screen()
    screen.load_prompt_version(prompt.latest.id)
    assert screen.prompt.toPlainText() == "a {animal} crossing a frozen lake"
    assert screen.negative.text() == "blurry"
    assert "Lake" in screen.source.text()
    assert screen.variables.editors["animal"].placeholderText() == "moose"
    assert screen.request().prompt == "a moose crossing a frozen lake"
    with qtbot.waitSignal(screen.queued, timeout=10_000) as queued:
        _click(qtbot, screen.generate_button)
    [job_id] = queued.args[0]
    request_id = get_job(services.store, job_id).request_id
    linked = services.store.scalar(
        "SELECT prompt_version_id FROM request WHERE id = ?", (request_id,)
    )
    assert linked == prompt.latest.id
    assert len(get_prompt(services.store, prompt.id).tags) == 0


def test_web_only_account_makes_a_manual_job_and_the_watch_folder_brings_its_file(
    shots, services, make_screen, qtbot, tmp_path
):
    _accounts(services)
    screen = make_screen()
    screen.watch_timer.setInterval(100)
    site = Target("sandbox", "sandbox-v1", "site")
    screen.targets.model.set_ticked([site])
    screen.prompt.setPlainText("a paper lantern drifting over a lake")
    screen.duration.setCurrentText("2")
    screen.resolution.setCurrentText("360p")
    with qtbot.waitSignal(screen.queued, timeout=10_000) as queued:
        _click(qtbot, screen.generate_button)
    [job_id] = queued.args[0]
    job = get_job(services.store, job_id)
    assert (job.state, job.manual) == ("running", True)
    assert QGuiApplication.clipboard().text() == "a paper lantern drifting over a lake"
    assert "clipboard" in screen.message.text()
    assert screen.opened == []  # the sandbox's catalog names no site
    assert screen.watch_timer.isActive()

    downloads = Path(QSettings().value(WATCH_FOLDER_KEY))
    made = tmp_path / "made.mp4"
    made.write_bytes(tiny_mp4())
    shutil.copy(made, downloads / "lantern.mp4")
    qtbot.waitUntil(lambda: screen.offer is not None and screen.offer.isVisible(), timeout=10_000)
    offer = screen.offer
    assert offer.current_file() == downloads / "lantern.mp4"
    assert offer.jobs.currentData() == job_id
    assert offer.charged.text() == "as estimated"  # the site's price is known here
    offer.charged.setValue(3)  # the user corrects what the site charged
    offer.grab().save(str(shots / "generate-offer.png"))
    _click(qtbot, offer.attach_button)
    qtbot.waitUntil(lambda: get_job(services.store, job_id).state == "done", timeout=10_000)
    captured = services.store.scalar(
        "SELECT -SUM(amount) FROM ledger WHERE job_id = ? AND kind = 'capture'", (job_id,)
    )
    assert captured == 3
    take_id = get_job(services.store, job_id).take_id
    assert take_id is not None
    take = get_take(services.store, services.library.root, take_id)
    assert take.prompt == "a paper lantern drifting over a lake"
    qtbot.waitUntil(lambda: "attached to job" in screen.message.text(), timeout=5_000)
    assert not offer.isVisible()
    # Nothing waits any more: the folder is no longer watched.
    qtbot.waitUntil(lambda: not screen.watch_timer.isActive(), timeout=5_000)


def test_a_new_video_can_be_imported_as_a_take_of_its_own(services, make_screen, qtbot, tmp_path):
    _accounts(services)
    screen = make_screen()
    screen.watch_timer.setInterval(100)
    screen.targets.model.set_ticked([Target("sandbox", "sandbox-v1", "site")])
    screen.prompt.setPlainText("a windmill at night")
    screen.duration.setCurrentText("2")
    with qtbot.waitSignal(screen.queued, timeout=10_000):
        _click(qtbot, screen.generate_button)
    downloads = Path(QSettings().value(WATCH_FOLDER_KEY))
    (downloads / "notes.txt").write_text("not a video")
    (downloads / "other.mp4").write_bytes(tiny_mp4(seconds=2.0))
    qtbot.waitUntil(lambda: screen.offer is not None and screen.offer.isVisible(), timeout=10_000)
    assert screen.offer.current_file() == downloads / "other.mp4"
    _click(qtbot, screen.offer.import_button)
    qtbot.waitUntil(lambda: "is imported" in screen.message.text(), timeout=10_000)
    take_id = int(screen.message.text().split("take ")[1].split(" ")[0])
    take = get_take(services.store, services.library.root, take_id)
    assert take.source == "imported"
    assert screen.watch_timer.isActive()  # the web job still waits for its own file


def test_the_screen_with_several_vendors(
    shots, services, make_screen, qtbot, tmp_path, monkeypatch
):
    """The screenshot: keys for a few vendors, accounts, an image dropped, a refused row."""
    for vendor in ("KLING", "RUNWAY", "LUMA", "HAILUO"):
        monkeypatch.setenv(f"TAKESTOCK_{vendor}_API_KEY", "test-key")
    _accounts(services)
    add_account(services.store, services.plan_books, vendor="kling", name="studio", kind="web")
    screen = make_screen()
    screen.prompt.setPlainText(
        "a red fox trotting through fresh snow at dawn, {lens} lens, slow dolly in"
    )
    screen.variables.editors["lens"].setText("35mm")
    picker = screen.targets
    veo_on_runway = Target("runway", "veo3.1", "default")
    for target in (
        Target("sandbox", "sandbox-v1-hq", "play"),
        Target("kling", "kling-v2-6", "default"),
        Target("kling", "kling-v2-6", "studio"),
        Target("runway", "gen4.5", "default"),
        veo_on_runway,
        Target("luma", "ray-3.2", "default"),
        Target("hailuo", "MiniMax-Hailuo-2.3", "default"),
    ):
        picker.tick(target)
    _drop(screen.first_frame, _png(tmp_path / "fox-still.png", 1280, 720))
    picker.flush()
    picker._expand()
    qtbot.waitUntil(lambda: "fits" in screen.first_frame.info.text(), timeout=10_000)
    qtbot.waitUntil(lambda: screen.first_frame.preview.pixmap().width() > 0, timeout=5_000)
    assert not picker.model.can_take(veo_on_runway)
    reason = _row_data(screen, veo_on_runway, 0, Qt.ItemDataRole.ToolTipRole)
    assert "5 s is not offered" in reason
    picker.show_details(veo_on_runway)
    assert reason in picker.details.text()
    picker.view.scrollTo(picker.proxy.mapFromSource(picker.model.index_of(veo_on_runway)))
    qtbot.wait(50)
    screen.grab().save(str(shots / "generate.png"))


def _answer_unpriced(qtbot, screen: GenerateScreen, yes: bool) -> None:
    """Click the unknown-price question's button once it is up (it is modal)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    def answer() -> None:
        box = screen.unpriced_box
        if box is None:
            QTimer.singleShot(20, answer)
            return
        button = QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No
        assert "sandbox-mine on play" in box.text()
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(20, answer)


def test_an_unknown_price_is_shown_as_unknown_and_asked_about(services, make_screen, qtbot):
    import json

    from takestock.core.catalog import load_catalog

    over = {"sandbox": {"models": {"sandbox-mine": {"label": "Mine", "durations": [5]}}}}
    services.paths.catalog_overrides.write_text(json.dumps(over), encoding="utf-8")
    services.catalog = load_catalog(services.paths.catalog_overrides)
    _accounts(services)  # play has today's 100 free: a balance an unknown price could pass
    mine = Target("sandbox", "sandbox-mine", "play")
    screen = make_screen()
    screen.prompt.setPlainText("a heron")
    for target in screen.targets.selected():
        screen.targets.tick(target, False)  # the default pick
    screen.targets.tick(mine)
    screen.targets.flush()
    line = screen.targets.model.line(mine)
    assert line is not None, "no line"
    assert line.problem is None, line.problem
    assert screen.targets.cost_label(mine).text() == "unknown credits"  # never "0"
    assert "at an unknown price" in screen.targets.summary.text()

    _answer_unpriced(qtbot, screen, yes=False)
    _click(qtbot, screen.generate_button)
    qtbot.waitUntil(lambda: screen.generate_button.isEnabled(), timeout=10_000)
    assert services.store.scalar("SELECT COUNT(*) FROM job") == 0

    _answer_unpriced(qtbot, screen, yes=True)
    with qtbot.waitSignal(screen.queued, timeout=10_000) as queued:
        _click(qtbot, screen.generate_button)
    [job_id] = queued.args[0]
    job = get_job(services.store, job_id)
    assert job.estimate is not None
    assert job.estimate["amount"] is None
    assert services.store.scalar("SELECT COUNT(*) FROM ledger WHERE job_id = ?", (job_id,)) == 0


def test_a_web_rows_price_follows_the_paying_accounts_plan(services, make_screen, qtbot):
    for name, plan in (("ultra", "ultra"), ("pro", "pro")):
        add_account(
            services.store, services.plan_books, vendor="veo", name=name, kind="web", plan=plan
        )
    screen = make_screen()
    screen.prompt.setPlainText("a fox at dawn")
    screen.duration.setCurrentText("8")
    on_ultra = Target("veo", "veo-3.1-fast-generate-001", "ultra")
    on_pro = Target("veo", "veo-3.1-fast-generate-001", "pro")
    screen.targets.tick(on_ultra)
    screen.targets.flush()
    line = screen.targets.model.line(on_ultra)
    assert line is not None
    assert line.problem is None, line.problem
    assert screen.targets.cost_label(on_ultra).text() == "10 Flow credits"  # Ultra pays half
    assert screen.targets.cost_label(on_pro).text() == "20 Flow credits"
