"""Notifications from the system tray: a take is ready, a job failed, credits lapse soon.

Where the desktop has no system tray, nothing is shown, and every message is still
recorded in ``sent`` and emitted as ``notified`` (what tests and a history view read).
The preferences are read at each event, so a change on the Settings screen applies at
once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon

from takestock.core import planner
from takestock.core.errors import TakestockError
from takestock.core.jobs import JobEvent, get_job
from takestock.ui.bridge import EngineBridge
from takestock.ui.credits_models import amount_text, until_text, when_text
from takestock.ui.preferences import Preferences
from takestock.wiring import Services

__all__ = ["TrayNotifier"]

#: How often lapsing credits are looked for.
CHECK_INTERVAL_MS = 10 * 60 * 1000
#: The first look waits for the window to settle.
FIRST_CHECK_MS = 5_000
#: How long a tray message stays up.
MESSAGE_MS = 10_000
#: At most this many buckets are named in one message.
MAX_LINES = 4


class TrayNotifier(QObject):
    """Shows tray messages for finished and failed jobs and for credits about to lapse.

    Each job is announced once per outcome and each bucket warned about once.

    Attributes:
        sent: every (title, text) notified, oldest first.
        available: whether a system tray icon is shown.

    Signals:
        notified(str, str): a message's title and text, tray or no tray.
        open_requested(): the user clicked the icon or a message (show the window).
    """

    notified = Signal(str, str)
    open_requested = Signal()

    def __init__(
        self,
        services: Services,
        bridge: EngineBridge,
        preferences: Preferences | None = None,
        parent: QObject | None = None,
        *,
        icon: QIcon | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._bridge = bridge
        self._clock = clock
        self.preferences = preferences if preferences is not None else Preferences(parent=self)
        self.sent: list[tuple[str, str]] = []
        self._announced: set[tuple[int, str]] = set()
        self._warned: set[int] = set()
        self._stopped = False
        self._tray: QSystemTrayIcon | None = None
        self._menu: QMenu | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray = QSystemTrayIcon(icon or self._default_icon(), self)
            self._tray.setToolTip("Takestock")
            self._menu = QMenu()
            show = QAction(self.tr("Open Takestock"), self._menu)
            show.triggered.connect(self.open_requested)
            self._menu.addAction(show)
            self._tray.setContextMenu(self._menu)
            self._tray.show()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._connect_signals()
        self._timer.start()
        QTimer.singleShot(FIRST_CHECK_MS, self, self.check_expiring)

    @property
    def available(self) -> bool:
        return self._tray is not None

    def shutdown(self) -> None:
        """Stop looking and listening and take the icon away (before the store closes)."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        with suppress(RuntimeError, TypeError):  # already disconnected
            self._bridge.job_changed.disconnect(self._on_job_changed)
        if self._tray is not None:
            self._tray.hide()

    def _connect_signals(self) -> None:
        self._bridge.job_changed.connect(self._on_job_changed)
        self._timer.timeout.connect(self.check_expiring)
        if self._tray is not None:
            self._tray.activated.connect(self._on_activated)
            self._tray.messageClicked.connect(self.open_requested)

    @staticmethod
    def _default_icon() -> QIcon:
        app = QApplication.instance()
        if isinstance(app, QApplication) and not app.windowIcon().isNull():
            return app.windowIcon()
        return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    # ---------------------------------------------------------------- jobs

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.state == "done" and event.take_id is not None:
            outcome, wanted = "done", "notify_take_ready"
        elif event.state == "failed":
            outcome, wanted = "failed", "notify_job_failed"
        else:
            return
        if not self._first(event.job_id, outcome) or not self.preferences.flag(wanted):
            return
        if outcome == "done":
            self.notify(self.tr("Take ready"), self._take_text(event))
        else:
            self.notify(self.tr("Job failed"), self._failure_text(event))

    def _first(self, job_id: int, outcome: str) -> bool:
        if (job_id, outcome) in self._announced:
            return False
        self._announced.add((job_id, outcome))
        return True

    def _where(self, job_id: int) -> tuple[str, str | None]:
        """``vendor · model`` of a job, and its recorded error, where it can be read."""
        try:
            job = get_job(self._services.store, job_id)
        except TakestockError:
            return "", None
        return f"{job.vendor} · {job.model}", job.error

    def _take_text(self, event: JobEvent) -> str:
        where, _ = self._where(event.job_id)
        text = self.tr("Take %1 is ready").replace("%1", str(event.take_id))
        return text + (f" ({where})." if where else ".")

    def _failure_text(self, event: JobEvent) -> str:
        where, error = self._where(event.job_id)
        text = self.tr("Job %1").replace("%1", str(event.job_id))
        if where:
            text += f" ({where})"
        reason = event.error or error
        return text + (f": {reason}" if reason else self.tr(" failed."))

    # ------------------------------------------------------------- credits

    def check_expiring(self) -> list[planner.Expiring]:
        """Warn once about each bucket lapsing within the preferred hours; returns the
        buckets warned about now."""
        hours = self.preferences.number("expiry_warning_hours")
        if hours <= 0 or self._stopped:
            return []
        now = self._clock()
        found = [
            e
            for e in planner.expiring_within(self._services.store, hours, now)
            if e.bucket.id is not None and e.bucket.id not in self._warned
        ]
        if not found:
            return []
        self._warned.update(e.bucket.id for e in found if e.bucket.id is not None)
        lines = [
            f"{e.account.vendor} / {e.account.name}: {amount_text(e.bucket.remaining)} "
            f"{e.account.unit} {until_text(e.bucket.expires_at, now)} "
            f"({when_text(e.bucket.expires_at)})"
            for e in found[:MAX_LINES]
        ]
        if len(found) > MAX_LINES:
            lines.append(self.tr("and %n more", "", len(found) - MAX_LINES))
        title = QCoreApplication.translate(
            "TrayNotifier", "Credits lapse within %n hour(s): spend them first", "", hours
        )
        self.notify(title, "\n".join(lines))
        return found

    # -------------------------------------------------------------- output

    def notify(self, title: str, text: str) -> None:
        """Record the message, emit ``notified`` and show it in the tray if there is one."""
        self.sent.append((title, text))
        self.notified.emit(title, text)
        if self._tray is not None:
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
