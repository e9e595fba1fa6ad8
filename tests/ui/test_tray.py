"""Tray notifications: real sandbox jobs that finish or fail, and credits about to lapse."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings

from takestock.core import credits
from takestock.core.credits import add_account
from takestock.core.jobs import JobEvent, Target
from takestock.core.vendor import GenerationRequest
from takestock.ui.preferences import Preferences
from takestock.ui.tray import TrayNotifier

SANDBOX = Target("sandbox", "sandbox-v1")


@pytest.fixture
def prefs(services):
    return Preferences(QSettings())


@pytest.fixture
def tray(services, bridge, prefs, qtbot):
    notifier = TrayNotifier(services, bridge, prefs)
    yield notifier
    notifier.shutdown()
    notifier.deleteLater()


def _generate(bridge, prompt: str) -> int:
    request = GenerationRequest(prompt=prompt, duration_s=1, resolution="360p")
    _, job_ids = bridge.generate(request, [SANDBOX]).result(10)
    return job_ids[0]


def test_without_a_tray_messages_are_still_recorded(tray, bridge):
    assert not tray.available  # offscreen has no system tray
    tray.notify("Hello", "world")
    assert tray.sent == [("Hello", "world")]
    tray.shutdown()
    bridge.job_changed.emit(JobEvent(1, "failed", error="after shutdown"))
    assert tray.check_expiring() == []
    assert tray.sent == [("Hello", "world")]


def test_a_finished_take_and_a_failed_job_are_announced_once(tray, bridge, qtbot):
    with qtbot.waitSignal(tray.notified, timeout=60_000) as ready:
        job_id = _generate(bridge, "a paper lantern over a lake")
    title, text = ready.args
    assert title == "Take ready"
    assert "is ready" in text
    assert "sandbox · sandbox-v1" in text

    with qtbot.waitSignal(tray.notified, timeout=60_000) as failed:
        failed_id = _generate(bridge, "a lantern #fail")
    title, text = failed.args
    assert title == "Job failed"
    assert f"Job {failed_id} (sandbox · sandbox-v1)" in text
    assert "on purpose" in text

    # The same outcome reported again is not announced twice.
    count = len(tray.sent)
    bridge.job_changed.emit(JobEvent(job_id, "done", take_id=1))
    bridge.job_changed.emit(JobEvent(failed_id, "failed", error="again"))
    assert len(tray.sent) == count


def test_preferences_silence_job_messages(tray, prefs, bridge, qtbot):
    prefs.set("notify_take_ready", False)
    prefs.set("notify_job_failed", False)
    bridge.job_changed.emit(JobEvent(41, "done", take_id=7))
    bridge.job_changed.emit(JobEvent(42, "failed", error="quota"))
    bridge.job_changed.emit(JobEvent(43, "running", progress=0.5))
    assert tray.sent == []
    prefs.set("notify_job_failed", True)
    bridge.job_changed.emit(JobEvent(44, "failed", error="quota"))
    assert tray.sent == [("Job failed", "Job 44: quota")]


def test_lapsing_credits_are_warned_about_once_each(tray, prefs, services):
    store, now = services.store, time.time()
    kling = add_account(store, {}, vendor="kling", name="me", kind="web")
    credits.adjust(store, kling.id, 300, "promo pack", kind="promo", expires_at=now + 5 * 3600)
    credits.adjust(store, kling.id, 900, "top-up", expires_at=now + 30 * 3600)

    warned = tray.check_expiring()  # default: within 12 hours
    assert [e.bucket.remaining for e in warned] == [300]
    title, text = tray.sent[-1]
    assert "12 hour(s)" in title
    assert "kling / me: 300 credits in 5 h" in text
    assert tray.check_expiring() == []  # once each

    prefs.set("expiry_warning_hours", 48)
    assert [e.bucket.remaining for e in tray.check_expiring()] == [900]
    assert len(tray.sent) == 2

    prefs.set("expiry_warning_hours", 0)  # never
    credits.adjust(store, kling.id, 50, "bonus", kind="bonus", expires_at=now + 3600)
    assert tray.check_expiring() == []


def test_the_check_runs_on_a_timer(tray, services, qtbot):
    kling = add_account(services.store, {}, vendor="kling", name="me", kind="web")
    credits.adjust(services.store, kling.id, 66, "daily points", kind="promo",
                   expires_at=time.time() + 3600)  # fmt: skip
    with qtbot.waitSignal(tray.notified, timeout=2_000):
        tray._timer.setInterval(10)  # the 10-minute look, sped up
    assert "kling / me: 66 credits in 60 min" in tray.sent[-1][1] or (
        "kling / me: 66 credits in 59 min" in tray.sent[-1][1]
    )
