"""Queue: every job, its state, time and cost; cancel, retry, resolve, attach, open."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from takestock.core.claims import claim_kit
from takestock.core.errors import TakestockError
from takestock.core.generate import attach_file_async
from takestock.core.jobs import Engine, Job, JobEvent
from takestock.core.queue import VIEWS, JobActions, QueueView, job_actions
from takestock.core.watch import VIDEO_SUFFIXES
from takestock.ui.bridge import EngineBridge
from takestock.ui.ops import Changes
from takestock.ui.queue_models import PROGRESS_ROLE, QueueModel
from takestock.ui.queue_posters import ICON, QueuePosters
from takestock.ui.shortcuts import screen_hint, screen_shortcut
from takestock.ui.take_menu import COMPARE_KEY
from takestock.ui.widgets.tables import table_view
from takestock.wiring import Services

__all__ = ["ProgressDelegate", "QueueScreen", "ResolveDialog"]

Index = QModelIndex | QPersistentModelIndex
VIDEO_FILTER = "Videos (" + " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES)) + ")"


def pick_video(parent: QWidget, title: str) -> Path | None:
    """Ask for a video file; None when the user cancels."""
    name, _ = QFileDialog.getOpenFileName(parent, title, "", VIDEO_FILTER)
    return Path(name) if name else None


class ProgressDelegate(QStyledItemDelegate):
    """Draws an active job's progress as a bar; other cells as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = round(float(progress) * 100)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        bar.state = option.state
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class ResolveDialog(QDialog):
    """Asks whether the vendor made a job in doubt; the answer is ``made`` and ``path``.

    Attributes:
        made: True (the vendor made it), False (it made nothing), None (not answered).
        path: the downloaded file, when the user attached one.
    """

    def __init__(
        self,
        job: Job,
        parent: QWidget | None = None,
        *,
        pick: Callable[[], Path | None],
        vendor_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Job %1 is in doubt").replace("%1", str(job.id)))
        self.made: bool | None = None
        self.path: Path | None = None
        self._pick = pick
        words = self.tr(
            "Takestock sent this take to <b>%1</b> (%2) but never learned whether it was "
            "accepted. Look in your %1 history for a video made around %3.<br><br>"
            "Our request id: <code>%4</code>%5<br><br><b>Did %1 make the video?</b>"
        )
        when = QDateTime.fromSecsSinceEpoch(int(job.submitted_at or job.created_at)).toString(
            "yyyy-MM-dd HH:mm"
        )
        task = (
            self.tr("; the vendor's task id: <code>%1</code>").replace("%1", job.vendor_task_id)
            if job.vendor_task_id
            else ""
        )
        text = QLabel(
            words.replace("%1", vendor_name or job.vendor)
            .replace("%2", job.model)
            .replace("%3", when)
            .replace("%4", job.client_request_id)
            .replace("%5", task)
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attach_button = QPushButton(self.tr("Yes — attach the downloaded file…"))
        self.later_button = QPushButton(self.tr("Yes — I'll download it later"))
        self.later_button.setToolTip(
            self.tr("The job waits for the file; the watch folder will offer it when it arrives")
        )
        self.none_button = QPushButton(self.tr("No — it made nothing"))
        self.none_button.setToolTip(
            self.tr("The job fails and its credits are given back; retry it to try again")
        )
        self.cancel_button = QPushButton(self.tr("Not sure yet"))
        buttons = QHBoxLayout()
        for button in (self.attach_button, self.later_button, self.none_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.attach_button.clicked.connect(self._attach)
        self.later_button.clicked.connect(lambda: self.answer(True))
        self.none_button.clicked.connect(lambda: self.answer(False))
        self.cancel_button.clicked.connect(self.reject)

    def _attach(self) -> None:
        path = self._pick()
        if path is not None:
            self.answer(True, path)

    def answer(self, made: bool, path: Path | None = None) -> None:
        self.made, self.path = made, path
        self.accept()


class QueueScreen(QWidget):
    """Every job with its state, progress, time, task id and cost, and what can be done.

    Attributes:
        model: the jobs shown (:class:`~takestock.ui.queue_models.QueueModel`), with
            ``rowCount()`` and ``job(row)``; ``view`` its table.
        views: the tab bar choosing all / active / failed jobs.
        cancel_button, retry_button, resolve_button, attach_button, open_button,
        claim_button: the actions on the selected jobs.
        message: what the last action did, or why it could not.
        resolve_dialog: the dialog open for a job in doubt, if any.

    Signals:
        open_take(int): show this take id in the Library.
        compare_requested(list): compare the selected jobs' takes (C, or the menu).
    """

    open_take = Signal(int)
    compare_requested = Signal(list)

    #: The tabs, in order: (view, label).
    TABS: tuple[tuple[QueueView, str], ...] = (
        ("all", "All"),
        ("active", "Active"),
        ("failed", "Failed and in doubt"),
    )

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        assert {v for v, _ in self.TABS} == set(VIEWS)
        self._services = services
        self._bridge = bridge
        self.resolve_dialog: ResolveDialog | None = None
        self.menu: QMenu | None = None
        self._screen_keys: dict[str, str] = {}
        #: Asks for a video file (tests replace it).
        self.pick_video: Callable[[str], Path | None] = lambda title: pick_video(self, title)
        self.ask_charged: Callable[[Job], float | None] = self._ask_charged
        self.model = QueueModel(services.store)
        self._clock = QTimer(self, interval=1000)
        self._build()
        self._connect_signals()
        self._update_actions()
        self._update_empty()

    def _build(self) -> None:
        self.views = QTabBar()
        for _, label in self.TABS:
            self.views.addTab(self.tr(label))
        self.view = table_view(self.model)
        self.view.setItemDelegateForColumn(QueueModel.PROGRESS, ProgressDelegate(self.view))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.horizontalHeader().setSectionResizeMode(
            QueueModel.PROGRESS, QHeaderView.ResizeMode.Fixed
        )
        self.view.setColumnWidth(QueueModel.PROGRESS, 110)
        # The prompt (with the take's poster) tells jobs apart: second, after the number.
        header = self.view.horizontalHeader()
        header.moveSection(header.visualIndex(QueueModel.PROMPT), 1)
        self.view.setColumnWidth(QueueModel.PROMPT, 280)
        self.view.setIconSize(ICON)
        self.view.verticalHeader().setDefaultSectionSize(ICON.height() + 6)
        self.posters = QueuePosters(
            self.model,
            self._services.store,
            self._services.library.root,
            self._services.paths.thumbnails,
            self.devicePixelRatioF(),
        )
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        self.cancel_button.setToolTip(self.tr("Stop the selected jobs (Del)"))
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.setShortcut(QKeySequence("Ctrl+R"))
        self.retry_button.setToolTip(self.tr("A new job for the same request and model (Ctrl+R)"))
        self.resolve_button = QPushButton(self.tr("Resolve…"))
        self.resolve_button.setShortcut(QKeySequence("Ctrl+U"))
        self.resolve_button.setToolTip(
            self.tr("Say whether the vendor made a job in doubt (Ctrl+U)")
        )
        self.attach_button = QPushButton(self.tr("Attach file…"))
        self.attach_button.setShortcut(QKeySequence("Ctrl+O"))
        self.attach_button.setToolTip(
            self.tr("Attach the video you downloaded from the vendor's site (Ctrl+O)")
        )
        self.open_button = QPushButton(self.tr("Open take"))
        self.open_button.setToolTip(self.tr("Show the take in the Library (Enter)"))
        self.claim_button = QPushButton(self.tr("Copy refund request"))
        self.claim_button.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.claim_button.setToolTip(
            self.tr("The vendor charged and made nothing: copy a request for its support")
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.views)
        top.addStretch(1)
        for button in (
            self.cancel_button,
            self.retry_button,
            self.resolve_button,
            self.attach_button,
            self.open_button,
            self.claim_button,
        ):
            top.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.message)
        self._open_key = QShortcut(QKeySequence(Qt.Key.Key_Return), self.view)
        self._open_key.setContext(Qt.ShortcutContext.WidgetShortcut)

    def _connect_signals(self) -> None:
        self.views.currentChanged.connect(self._on_view_changed)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.view.doubleClicked.connect(lambda _index: self._open_selected())
        self.view.customContextMenuRequested.connect(self._context_menu)
        self._open_key.activated.connect(self._open_selected)
        self.model.modelReset.connect(self._update_empty)
        self.model.rowsInserted.connect(self._update_empty)
        self.model.rowsRemoved.connect(self._update_empty)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.attach_button.clicked.connect(self.attach_selected)
        self.open_button.clicked.connect(self._open_selected)
        self.claim_button.clicked.connect(self.copy_claim)
        self._clock.timeout.connect(self._tick)
        self._bridge.job_changed.connect(self._on_job_changed)
        screen_shortcut(self, COMPARE_KEY, self.compare_selected)

    # ------------------------------------------------------------ the table

    def set_view(self, view: QueueView) -> None:
        self.views.setCurrentIndex([v for v, _ in self.TABS].index(view))

    def _on_view_changed(self, index: int) -> None:
        self.model.set_view(self.TABS[index][0])
        self._update_actions()
        self._run_clock()

    def _on_job_changed(self, event: JobEvent) -> None:
        self.model.job_changed(event)
        self._update_actions()
        self._run_clock()

    def apply_changes(self, changes: Changes) -> None:
        """Jobs made or moved by another process: read the list again, keeping the
        selection (the engine's own jobs arrive one by one through the bridge)."""
        if not changes.jobs:
            return
        kept = [job.id for job in self.selected_jobs()]
        self.model.refresh()
        for job_id in kept:
            self.select_job(job_id)
        self._update_actions()
        self._run_clock()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._run_clock()

    def set_screen_keys(self, keys: Mapping[str, str]) -> None:
        """The keys that show each screen (from the window's actions), for hints."""
        self._screen_keys = dict(keys)
        self._update_empty()

    def shutdown(self) -> None:
        """Stop the poster threads before the library closes."""
        self.posters.shutdown()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._clock.stop()

    def _run_clock(self) -> None:
        """The elapsed time moves once a second while a shown job runs, and only then."""
        if self.isVisible() and self.model.active_rows():
            if not self._clock.isActive():
                self._clock.start()
        else:
            self._clock.stop()

    def _tick(self) -> None:
        if not self.model.tick():
            self._clock.stop()

    def _update_empty(self) -> None:
        if self.model.rowCount():
            self.empty.hide()
            self.view.show()
            return
        go = screen_hint(self._screen_keys, "generate")
        texts: dict[QueueView, str] = {
            "all": self.tr("No jobs yet — generate one on the Generate screen%1.").replace(
                "%1", go
            ),
            "active": self.tr("Nothing is running. Generate on the Generate screen%1.").replace(
                "%1", go
            ),
            "failed": self.tr("Nothing failed and nothing is in doubt."),
        }
        self.empty.setText(texts[self.model.view])
        self.empty.show()
        self.view.hide()

    # ------------------------------------------------------------ selection

    def selected_jobs(self) -> list[Job]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.job(r) for r in rows]

    def select_job(self, job_id: int) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        self.view.selectRow(row)
        return True

    def _actions(self) -> list[tuple[Job, JobActions]]:
        return [(job, job_actions(job)) for job in self.selected_jobs()]

    def _update_actions(self, *_: object) -> None:
        chosen = self._actions()
        one = len(chosen) == 1
        self.cancel_button.setEnabled(any(a.cancel for _, a in chosen))
        self.retry_button.setEnabled(any(a.retry for _, a in chosen))
        self.resolve_button.setEnabled(one and chosen[0][1].resolve)
        self.attach_button.setEnabled(one and chosen[0][1].attach)
        self.open_button.setEnabled(one and chosen[0][1].open_take)
        self.claim_button.setEnabled(one and chosen[0][1].claim)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        for button in (
            self.open_button,
            self.cancel_button,
            self.retry_button,
            self.resolve_button,
            self.attach_button,
            self.claim_button,
        ):
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.addSeparator()
        compare = menu.addAction(self.tr("Compare their takes"))
        compare.setShortcut(COMPARE_KEY)  # shown beside the text; the screen owns the key
        compare.setEnabled(len(self._selected_take_ids()) >= 2)
        compare.triggered.connect(self.compare_selected)
        self.menu = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -------------------------------------------------------------- actions

    def _selected_take_ids(self) -> list[int]:
        return [job.take_id for job in self.selected_jobs() if job.take_id is not None]

    def compare_selected(self) -> None:
        """Compare the takes of the selected finished jobs."""
        ids = self._selected_take_ids()
        if len(ids) < 2:
            self.message.setText(
                self.tr("Select two or more finished jobs (Ctrl+click) to compare their takes.")
            )
            return
        self.compare_requested.emit(ids)

    def cancel_selected(self) -> None:
        for job, actions in self._actions():
            if actions.cancel:
                self._bridge.cancel(job.id)

    def retry_selected(self) -> None:
        for job, actions in self._actions():
            if actions.retry:
                self._bridge.retry(job.id)

    def copy_claim(self) -> None:
        """Put the refund request of the selected job on the clipboard."""
        chosen = self._actions()
        if len(chosen) != 1 or not chosen[0][1].claim:
            return
        job = chosen[0][0]
        QGuiApplication.clipboard().setText(claim_kit(self._services.store, job))
        self.message.setText(
            self.tr("The refund request for job %1 is on the clipboard: paste it to %2's support.")
            .replace("%1", str(job.id))
            .replace("%2", job.vendor)
        )

    def _open_selected(self) -> None:
        chosen = self._actions()
        if len(chosen) == 1 and chosen[0][0].take_id is not None:
            self.open_take.emit(chosen[0][0].take_id)

    def attach_selected(self) -> None:
        """Attach a downloaded file to the selected job waiting for one."""
        chosen = self._actions()
        if len(chosen) != 1 or not chosen[0][1].attach:
            return
        job = chosen[0][0]
        path = self.pick_video(self.tr("The video of job %1").replace("%1", str(job.id)))
        if path is None:
            return
        charged = None
        if job.account_id is not None:  # a membership's job: what did the site take?
            asked = self.ask_charged(job)
            if asked is None:
                return  # cancelled: nothing attached, nothing charged
            charged = asked
        self.attach(job.id, path, charged)

    def _ask_charged(self, job: Job) -> float | None:
        """What the site charged, prefilled with the estimate; None when cancelled."""
        estimate = job.estimate or {}
        unit = str(estimate.get("unit") or self.tr("credits"))
        known = estimate.get("amount")
        label = (
            self.tr("What did the site charge for job %1, in %2? (estimated %3)").replace(
                "%3", f"{float(known):g}"
            )
            if known is not None
            else self.tr(
                "What did the site charge for job %1, in %2? Its price is not published: "
                "Takestock remembers what you say for the next take."
            )
        )
        value, ok = QInputDialog.getDouble(
            self,
            self.tr("The site charged"),
            label.replace("%1", str(job.id)).replace("%2", unit),
            float(known or 0.0),
            0.0,
            1e9,
            2,
        )
        return value if ok else None

    def attach(self, job_id: int, path: Path, charged: float | None = None) -> Future[Any]:
        """Finish a job waiting for a file with ``path`` (on the engine's thread),
        charged what the site charged where the user said so."""
        return self._engine_call(
            lambda engine: attach_file_async(engine, job_id, path, charged=charged),
            self.tr("Job %1 is done: take %2 is in the Library.").replace("%1", str(job_id)),
        )

    def resolve_selected(self) -> None:
        """Ask about the selected job in doubt (a window-modal dialog)."""
        chosen = self._actions()
        if len(chosen) != 1 or not chosen[0][1].resolve:
            return
        job = chosen[0][0]
        vendor = self._services.catalog.vendors.get(job.vendor)
        dialog = ResolveDialog(
            job,
            self,
            pick=lambda: self.pick_video(self.tr("The video the vendor made")),
            vendor_name=vendor.name if vendor else None,
        )
        dialog.finished.connect(lambda _result: self._resolved(job.id, dialog))
        self.resolve_dialog = dialog
        dialog.open()

    def _resolved(self, job_id: int, dialog: ResolveDialog) -> None:
        self.resolve_dialog = None
        dialog.deleteLater()
        if dialog.made is None:
            return
        self.resolve(job_id, dialog.made, dialog.path)

    def resolve(self, job_id: int, made: bool, path: Path | None = None) -> Future[Any]:
        """Settle a job in doubt (see ``Engine.resolve_unknown``), on the engine's thread."""
        if made and path is not None:
            done = self.tr("Job %1 is done with the file you attached.")
        elif made:
            done = self.tr(
                "Job %1 waits for the file: attach it (Ctrl+O) or let the watch folder offer it."
            )
        else:
            done = self.tr("Job %1 is marked failed and its credits are given back.")
        return self._engine_call(
            lambda engine: engine.resolve_unknown_async(job_id, made, path),
            done.replace("%1", str(job_id)),
        )

    def _engine_call(self, fn: Callable[[Engine], Any], done: str) -> Future[Any]:
        future = self._bridge.call(fn)
        future.add_done_callback(
            lambda f: QTimer.singleShot(0, self, lambda: self._called(f, done))
        )
        return future

    def _called(self, future: Future[Any], done: str) -> None:
        try:
            result = future.result()
        except TakestockError as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        self.message.setText(done.replace("%2", str(result)))
