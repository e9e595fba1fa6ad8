"""The Queue screen, clicked through on the sandbox: every kind of job and its actions."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QGuiApplication

from takestock.core import credits
from takestock.core.claims import claim_kit
from takestock.core.credits import add_account
from takestock.core.grants import materialise
from takestock.core.jobs import Target, get_job
from takestock.core.vendor import GenerationRequest
from takestock.ui.bridge import EngineBridge
from takestock.ui.queue_models import QueueModel
from takestock.ui.screens.queue import QueueScreen
from tests.fakeserver.media import tiny_mp4

QUICK = GenerationRequest(prompt="a heron at dusk", duration_s=2, resolution="360p")
PLAY = Target("sandbox", "sandbox-v1", "play")
SITE = Target("sandbox", "sandbox-v1", "site")


@pytest.fixture
def latency() -> float:
    """The sandbox's seconds per take: slow, so a job stays running to be looked at."""
    return 60.0


@pytest.fixture
def home(home, monkeypatch, latency):
    monkeypatch.setenv("TAKESTOCK_SANDBOX_LATENCY", str(latency))
    return home


@pytest.fixture
def services(services):
    """The shared services with two sandbox accounts and today's free points."""
    s = services
    add_account(s.store, s.plan_books, vendor="sandbox", name="play", kind="api", plan="free")
    add_account(s.store, s.plan_books, vendor="sandbox", name="site", kind="web")
    materialise(s.store, time.time())
    return s


def _craft(services, state: str, prompt: str, ago: float = 0.0, **fields: object) -> int:
    """A job left as the engine leaves it in ``state`` (faults the sandbox cannot make)."""
    engine = services.engine()
    request = GenerationRequest(prompt=prompt, duration_s=2, resolution="360p")
    _, [job_id] = engine.enqueue(request, [PLAY])
    sets = ", ".join(f"{k} = ?" for k in fields)
    services.store.execute(
        f"UPDATE job SET state = ?, created_at = ?, finished_at = ?, {sets} WHERE id = ?",
        (state, time.time() - ago, time.time(), *fields.values(), job_id),
    )
    if state == "failed":
        credits.release(services.store, job_id)
    return job_id


@pytest.fixture
def crafted(services):
    return {
        "failed": _craft(
            services,
            "failed",
            "a lighthouse in fog",
            ago=95,
            error="Sandbox failed the task on purpose (#fail)",
            error_kind="generation_failed",
            vendor_task_id="sb-failed",
        ),
        "charged": _craft(
            services,
            "failed",
            "a glass city at noon",
            ago=212,
            error="the vendor kept the credits and made nothing",
            error_kind="generation_failed",
            vendor_task_id="sb-charged",
            cost_actual=2,
            submitted_at=time.time() - 90,
        ),
        "unknown": _craft(
            services,
            "unknown",
            "a kite over dunes",
            ago=48,
            error="Takestock sent this take but never learned whether it was accepted.",
            error_kind="unknown",
            submitted_at=time.time() - 40,
        ),
    }


@pytest.fixture
def bridge(services, crafted):
    b = EngineBridge(services)
    b.start()
    yield b
    b.shutdown()


@pytest.fixture
def screen(services, bridge, qtbot):
    widget = QueueScreen(services, bridge)
    widget.resize(1400, 520)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _row(screen: QueueScreen, job_id: int) -> int:
    row = screen.model.row_of(job_id)
    assert row is not None, f"job {job_id} is not shown"
    return row


def _cell(screen: QueueScreen, job_id: int, column: int) -> str:
    return screen.model.index(_row(screen, job_id), column).data()


def _select(screen: QueueScreen, job_id: int) -> None:
    screen.view.clearSelection()
    assert screen.select_job(job_id)


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _generate(bridge, target: Target, prompt: str = "a heron at dusk") -> int:
    request = GenerationRequest(prompt=prompt, duration_s=2, resolution="360p")
    _, [job_id] = bridge.generate(request, [target]).result(10)
    return job_id


def test_every_kind_of_job_shows_its_state_time_and_cost(
    screen, services, bridge, crafted, qtbot, qtmodeltester, tmp_path
):
    running = _generate(bridge, PLAY)
    waiting = _generate(bridge, SITE, "a red fox in snow")
    made = _generate(bridge, SITE, "a paper boat")
    video = tmp_path / "boat.mp4"
    video.write_bytes(tiny_mp4())
    screen.attach(made, video).result(10)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 6, timeout=5_000)
    qtbot.waitUntil(lambda: "running" in _cell(screen, running, QueueModel.STATE), timeout=10_000)
    qtmodeltester.check(screen.model)

    assert _cell(screen, crafted["charged"], QueueModel.COST) == "charged 2 credits, no output"
    assert _cell(screen, crafted["failed"], QueueModel.COST) == "not charged"  # released
    assert _cell(screen, crafted["failed"], 9).startswith("Sandbox failed the task")
    assert _cell(screen, crafted["unknown"], QueueModel.STATE).startswith("in doubt")
    assert _cell(screen, waiting, QueueModel.STATE) == "waiting for your file"
    assert _cell(screen, made, QueueModel.STATE) == "done"
    assert _cell(screen, made, 8).startswith("take ")
    assert _cell(screen, running, 6).startswith("sbx-")  # the vendor's task id
    assert _cell(screen, running, 2) == "play"

    # The clock of a running job moves every second; ended jobs keep theirs.
    before = _cell(screen, running, QueueModel.ELAPSED)
    ended = _cell(screen, crafted["failed"], QueueModel.ELAPSED)
    qtbot.waitUntil(lambda: _cell(screen, running, QueueModel.ELAPSED) != before, timeout=3_000)
    assert _cell(screen, crafted["failed"], QueueModel.ELAPSED) == ended

    # What can be done follows the job.
    _select(screen, running)
    assert screen.cancel_button.isEnabled()
    assert not screen.retry_button.isEnabled()
    _select(screen, crafted["charged"])
    assert screen.claim_button.isEnabled()
    assert screen.retry_button.isEnabled()
    _click(qtbot, screen.claim_button)
    job = get_job(services.store, crafted["charged"])
    assert QGuiApplication.clipboard().text() == claim_kit(services.store, job)
    assert "refund request" in screen.message.text()
    _select(screen, waiting)
    assert screen.attach_button.isEnabled()
    assert not screen.resolve_button.isEnabled()

    opened: list[int] = []
    screen.open_take.connect(opened.append)
    _select(screen, made)
    _click(qtbot, screen.open_button)
    assert opened == [get_job(services.store, made).take_id]


def test_views_show_active_or_failed_jobs(screen, bridge, crafted, qtbot):
    running = _generate(bridge, PLAY)
    qtbot.waitUntil(lambda: screen.model.row_of(running) is not None, timeout=5_000)
    screen.set_view("active")
    assert [screen.model.job(r).id for r in range(screen.model.rowCount())] == [running]
    screen.set_view("failed")
    shown = {screen.model.job(r).id for r in range(screen.model.rowCount())}
    assert shown == set(crafted.values())
    # A job that fails while the failed view is shown comes in.
    rejected = _generate(bridge, PLAY, "a heron #reject")
    qtbot.waitUntil(lambda: screen.model.row_of(rejected) is not None, timeout=10_000)
    screen.set_view("active")
    _select(screen, running)
    _click(qtbot, screen.cancel_button)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 0, timeout=10_000)
    assert "Nothing is running" in screen.empty.text()
    assert screen.empty.isVisible()


def test_a_failed_job_is_retried_as_a_new_job(screen, services, crafted, qtbot):
    _select(screen, crafted["failed"])
    _click(qtbot, screen.retry_button)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 4, timeout=5_000)
    newest = screen.model.job(0)
    assert newest.id > crafted["failed"]
    assert newest.request_id == get_job(services.store, crafted["failed"]).request_id


def _free(services) -> float:
    account = credits.get_account(services.store, "play")
    return credits.total(credits.balances(services.store, account_ids=[account.id])[account.id])


def test_resolving_a_job_in_doubt_that_made_nothing_gives_the_credits_back(
    shots, screen, services, crafted, qtbot
):
    held = _free(services)
    _select(screen, crafted["unknown"])
    _click(qtbot, screen.resolve_button)
    dialog = screen.resolve_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert "a kite" not in dialog.windowTitle()
    dialog.grab().save(str(shots / "queue-resolve.png"))
    _click(qtbot, dialog.none_button)
    qtbot.waitUntil(
        lambda: get_job(services.store, crafted["unknown"]).state == "failed", timeout=5_000
    )
    assert _free(services) == held + 2
    qtbot.waitUntil(lambda: "given back" in screen.message.text(), timeout=5_000)


def test_resolving_a_job_in_doubt_with_the_downloaded_file_makes_its_take(
    screen, services, crafted, qtbot, tmp_path
):
    video = tmp_path / "from-history.mp4"
    video.write_bytes(tiny_mp4())
    screen.pick_video = lambda _title: video
    _select(screen, crafted["unknown"])
    screen.resolve_selected()
    assert screen.resolve_dialog is not None
    _click(qtbot, screen.resolve_dialog.attach_button)
    qtbot.waitUntil(
        lambda: get_job(services.store, crafted["unknown"]).state == "done", timeout=10_000
    )
    qtbot.waitUntil(lambda: _cell(screen, crafted["unknown"], 8).startswith("take "), timeout=5_000)
    _select(screen, crafted["unknown"])
    assert screen.open_button.isEnabled()


@pytest.mark.parametrize("latency", [5.0])
def test_the_queue_with_a_job_under_way(shots, screen, services, bridge, crafted, qtbot, tmp_path):
    """The screenshot: running (with progress), waiting, done, failed, in doubt, charged."""
    waiting = _generate(bridge, SITE, "a red fox in snow")
    made = _generate(bridge, SITE, "a paper boat")
    video = tmp_path / "boat.mp4"
    video.write_bytes(tiny_mp4())
    screen.attach(made, video).result(10)
    running = _generate(bridge, PLAY, "a heron lifting off a misty river")
    qtbot.waitUntil(
        lambda: (screen.model.job(_row(screen, running)).progress or 0) >= 0.3, timeout=10_000
    )
    assert screen.model.index(_row(screen, running), QueueModel.PROGRESS).data().endswith("%")
    assert waiting != made
    _select(screen, made)
    qtbot.wait(50)
    screen.grab().save(str(shots / "queue.png"))


def test_attach_asks_what_the_site_charged_and_charges_that(
    screen, services, bridge, qtbot, tmp_path
):
    waiting = _generate(bridge, SITE, "a red fox in snow")
    qtbot.waitUntil(lambda: screen.model.row_of(waiting) is not None, timeout=5_000)
    video = tmp_path / "fox.mp4"
    video.write_bytes(tiny_mp4())
    asked: list[int] = []
    screen.pick_video = lambda title: video
    screen.ask_charged = lambda job: asked.append(job.id) or None  # the user cancels
    _select(screen, waiting)
    _click(qtbot, screen.attach_button)
    assert asked == [waiting]
    assert get_job(services.store, waiting).state == "running"  # nothing attached

    screen.ask_charged = lambda job: 7.0  # the site took 7
    _click(qtbot, screen.attach_button)
    qtbot.waitUntil(lambda: get_job(services.store, waiting).state == "done", timeout=10_000)
    charged = services.store.scalar(
        "SELECT -SUM(amount) FROM ledger WHERE job_id = ? AND kind = 'capture'", (waiting,)
    )
    assert charged == 7.0
