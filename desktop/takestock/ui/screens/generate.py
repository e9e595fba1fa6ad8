"""Generate: a prompt, its input images and parameters, and the targets it fans out to.

One click sends one request to every ticked target as one comparison group. Targets on
web-only accounts become manual jobs: the prompt goes to the clipboard, the vendor's site
opens, and the watch folder offers the downloaded file to the job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QRegularExpression,
    QSettings,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QRegularExpressionValidator,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from takestock.core import estimates
from takestock.core.errors import InvalidInput, TakestockError
from takestock.core.estimates import ImageReport
from takestock.core.generate import UnpricedTakes, attach_file_async
from takestock.core.grants import materialise
from takestock.core.jobs import Target, get_jobs
from takestock.core.prompts import (
    PromptVersion,
    get_prompt,
    get_version,
    render,
    variables_in,
)
from takestock.core.queue import waiting_for_files
from takestock.core.takes import import_files
from takestock.core.vendor import GenerationRequest
from takestock.core.watch import WatchFolder, default_watch_folder
from takestock.ui.bridge import EngineBridge
from takestock.ui.generate_models import LatestWorker
from takestock.ui.generate_widgets import FileOfferDialog, ImageDrop
from takestock.ui.prompt_models import PromptListModel
from takestock.ui.prompt_widgets import NegativePresetsButton, VariablesForm
from takestock.ui.screens.generate_targets import CostReadout, TargetPicker
from takestock.wiring import Services

__all__ = ["WATCH_FOLDER_KEY", "CostReadout", "GenerateScreen", "TargetPicker"]

#: The QSettings key of the folder watched for videos downloaded from vendors' sites.
WATCH_FOLDER_KEY = "watch_folder"
#: How often the watch folder is looked at while a job waits for a file (ms).
WATCH_INTERVAL_MS = 2000


class GenerateScreen(QWidget):
    """Write or pick a prompt, drop reference images, set parameters, tick targets,
    generate: one request fanned out as one comparison group.

    Attributes:
        library: pick a prompt from the library.
        prompt, negative, variables: the words (``{variables}`` get a small form).
        first_frame, last_frame: the input images (:class:`ImageDrop`).
        duration, aspect, resolution, audio, seed, count: the parameters.
        targets: the :class:`TargetPicker`, with ``selected()`` and ``cost_label()``.
        generate_button, message: generate; what happened (or why not).
        offer: the watch folder's offer of a new video (created when first needed).
        watch_timer: looks at the watch folder while a job waits for a file.
        open_url: opens a vendor's site (tests replace it).

    Signals:
        queued(list): job ids just queued.
    """

    queued = Signal(list)

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self._version: PromptVersion | None = None  # the library version loaded, if any
        self._defaults: dict[str, str] = {}
        self._watcher: WatchFolder | None = None
        self._reports: dict[str, LatestWorker[ImageReport]] = {}
        self.offer: FileOfferDialog | None = None
        self.unpriced_box: QMessageBox | None = None  # open while the user decides
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.watch_timer = QTimer(self, interval=WATCH_INTERVAL_MS)
        self._build()
        self._connect_signals()
        self._update_request()
        self._check_watch()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        store = self._services.store
        self.library = QComboBox()
        self.library.setModel(PromptListModel(store))
        self.library.setPlaceholderText(self.tr("Pick a prompt from the library… (Ctrl+L)"))
        self.library.setCurrentIndex(-1)
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(
            self.tr("Describe the shot: subject, motion, camera, light. {name} is a variable.")
        )
        self.variables = VariablesForm(defaults_as_values=False)
        self.variables.hide()
        self.negative = QLineEdit()
        self.negative.setPlaceholderText(self.tr("What to avoid (negative prompt)"))
        self.presets = NegativePresetsButton(store, self.negative)
        self.first_frame = ImageDrop(self.tr("First frame"))
        self.last_frame = ImageDrop(self.tr("Last frame"))
        self.last_frame.setEnabled(False)
        self.last_frame.setToolTip(self.tr("Add a first frame first"))

        catalog_models = [m for v in self._services.catalog for m in v.models.values()]
        available = [m for m in catalog_models if m.available]
        self.duration = QComboBox()
        for seconds in sorted({d for m in available for d in m.durations}):
            self.duration.addItem(f"{seconds:g}")
        self.duration.setCurrentText("5")
        self.aspect = QComboBox()
        common = ["16:9", "9:16", "1:1"]
        others = sorted({a for m in available for a in m.aspects} - set(common))
        self.aspect.addItem(self.tr("from the image"), None)
        for aspect in common + others:
            self.aspect.addItem(aspect, aspect)
        self.aspect.setCurrentIndex(1)
        self.aspect.setToolTip(
            self.tr("With a first frame, most models take the image's own shape")
        )
        self.resolution = QComboBox()
        heights: dict[str, int] = {}
        for model in available:
            for name, height in model.resolutions.items():
                heights[name] = min(height, heights.get(name, height))
        self.resolution.addItems(sorted(heights, key=lambda n: (heights[n], n)))
        self.resolution.setCurrentText("720p")
        self.audio = QCheckBox(self.tr("Audio"))
        self.seed = QLineEdit()
        self.seed.setPlaceholderText(self.tr("random"))
        self.seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}")))
        self.count = QSpinBox()
        self.count.setRange(1, 20)
        self.count.setToolTip(
            self.tr("Takes per ticked target: all of them are one comparison group")
        )
        self.targets = TargetPicker(self._services)
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setDefault(True)
        self.generate_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.generate_button.setToolTip(self.tr("Send to every ticked target (Ctrl+Enter)"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        negative_row = QHBoxLayout()
        negative_row.addWidget(self.negative, 1)
        negative_row.addWidget(self.presets)
        params = QFormLayout()
        params.addRow(self.tr("Duration (s)"), self.duration)
        params.addRow(self.tr("Aspect"), self.aspect)
        params.addRow(self.tr("Resolution"), self.resolution)
        params.addRow(self.tr("Seed"), self.seed)
        params.addRow(self.tr("Takes per target"), self.count)
        params.addRow("", self.audio)
        images = QVBoxLayout()
        images.addWidget(self.first_frame)
        images.addWidget(self.last_frame)
        below = QHBoxLayout()
        below.addLayout(images, 3)
        below.addLayout(params, 2)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.library)
        left_layout.addWidget(self.source)
        left_layout.addWidget(self.prompt, 1)
        left_layout.addWidget(self.variables)
        left_layout.addLayout(negative_row)
        left_layout.addLayout(below)
        targets_box = QGroupBox(self.tr("Targets"))
        targets_layout = QVBoxLayout(targets_box)
        targets_layout.addWidget(self.targets)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(targets_box, 1)
        right_layout.addWidget(self.message)
        right_layout.addWidget(self.generate_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([540, 820])
        layout = QHBoxLayout(self)
        layout.addWidget(split)
        self.setTabOrder(self.library, self.prompt)
        self.setTabOrder(self.prompt, self.negative)
        self._find_target = QShortcut(QKeySequence.StandardKey.Find, self)
        self._find_target.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._pick_prompt = QShortcut(QKeySequence("Ctrl+L"), self)
        self._pick_prompt.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _connect_signals(self) -> None:
        self.generate_button.clicked.connect(self._generate)
        self.library.activated.connect(self._on_library_picked)
        self.prompt.textChanged.connect(self._on_prompt_changed)
        self.negative.textChanged.connect(self._update_request)
        self.variables.changed.connect(self._update_request)
        for combo in (self.duration, self.aspect, self.resolution):
            combo.currentTextChanged.connect(self._update_request)
        self.audio.toggled.connect(self._update_request)
        self.seed.textChanged.connect(self._update_request)
        self.count.valueChanged.connect(self._update_request)
        self.first_frame.changed.connect(self._on_first_frame)
        self.last_frame.changed.connect(self._on_last_frame)
        self.targets.changed.connect(self._on_targets_changed)
        self.watch_timer.timeout.connect(self._poll_watch)
        self._find_target.activated.connect(self.targets.filter.setFocus)
        self._pick_prompt.activated.connect(self.library.showPopup)
        self._bridge.job_changed.connect(self._on_job_changed)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        materialise(self._services.store, time.time())
        library = self.library.model()
        if isinstance(library, PromptListModel):
            library.refresh()
            self.library.setCurrentIndex(-1)
        self.targets.refresh_accounts()

    # -------------------------------------------------------------- request

    def request(self) -> GenerationRequest:
        """The request as the form says, with ``{variables}`` filled where they can be
        (the raw words otherwise: :meth:`_generate` says what is missing)."""
        text = self.prompt.toPlainText().strip()
        with contextlib.suppress(InvalidInput):
            text = render(text, self.variables.values(), self._defaults)
        seed = self.seed.text().strip()
        return GenerationRequest(
            prompt=text,
            negative=self.negative.text().strip(),
            image=self.first_frame.path,
            last_frame=self.last_frame.path if self.first_frame.path else None,
            duration_s=float(self.duration.currentText()),
            aspect=self.aspect.currentData(),
            resolution=self.resolution.currentText(),
            audio=self.audio.isChecked() or None,
            seed=int(seed) if seed else None,
        )

    def _update_request(self) -> None:
        self.targets.set_request(self.request(), self.count.value())

    def _on_prompt_changed(self) -> None:
        text = self.prompt.toPlainText()
        if self._version is not None and text.strip() != self._version.text:
            self._version = None
            self.source.setText(self.tr("Edited: it will be kept as a new prompt."))
        try:
            names = variables_in(text)
        except InvalidInput:
            names = self.variables.names()
        self.variables.set_variables(names, self._defaults)
        self._update_request()

    def _on_library_picked(self, row: int) -> None:
        model = self.library.model()
        if isinstance(model, PromptListModel) and 0 <= row < model.rowCount():
            self.load_prompt_version(model.prompt(row).latest.id)

    def load_prompt_version(self, version_id: int) -> None:
        """Put a library version's words, negative and variable defaults in the form
        (the slot for ``PromptsScreen.use_prompt``); the request will point at it."""
        version = get_version(self._services.store, version_id)
        title = get_prompt(self._services.store, version.prompt_id).title
        self._defaults = dict(version.variables)
        self._version = None
        self.prompt.setPlainText(version.text)
        self.negative.setText(version.negative)
        self._version = version
        self.source.setText(
            self.tr("From the library: <b>%1</b>, v%2")
            .replace("%1", title)
            .replace("%2", str(version.number))
        )
        self.variables.set_variables(variables_in(version.text), self._defaults)
        self.prompt.setFocus()

    # ---------------------------------------------------------------- images

    def _on_first_frame(self, path: Path | None) -> None:
        # A first frame has a shape of its own; an aspect picked for text is dropped.
        if path is not None and self.aspect.currentIndex() == 1:
            self.aspect.setCurrentIndex(0)
        elif path is None and self.aspect.currentIndex() == 0:
            self.aspect.setCurrentIndex(1)
        self.last_frame.setEnabled(path is not None)
        self.last_frame.setToolTip("" if path else self.tr("Add a first frame first"))
        if path is None:
            self.last_frame.set_path(None)
        self._check_image(self.first_frame, "image")
        self._update_request()

    def _on_last_frame(self, _path: Path | None) -> None:
        self._check_image(self.last_frame, "last_frame")
        self._update_request()

    def _on_targets_changed(self) -> None:
        self.targets.reprice()
        self._check_image(self.first_frame, "image")
        self._check_image(self.last_frame, "last_frame")

    def _check_image(self, drop: ImageDrop, field: str) -> None:
        """Hold the image against each ticked model's limits, off the UI thread."""
        path = drop.path
        if path is None:
            return
        catalog = self._services.catalog
        models = [
            (catalog.vendor(t.vendor), catalog.vendor(t.vendor).models[t.model])
            for t in dict.fromkeys(self.targets.model.ticked())
        ]
        unique = list({(v.id, m.id): (v, m) for v, m in models}.values())
        worker = self._reports.get(field)
        if worker is None:
            worker = self._reports[field] = LatestWorker(f"image-{field}", self)
        drop.show_report(None, len(unique))
        worker.submit(
            lambda _current: estimates.image_report(path, unique, field=field),
            lambda report: drop.show_report(report, len(unique)),
            lambda error: drop.show_report(ImageReport(None, (("", "", str(error)),)), len(unique)),
        )

    # -------------------------------------------------------------- generate

    def _generate(self, *, allow_unpriced: bool = False) -> None:
        targets = self.targets.selected()
        if not targets:
            self.message.setText(self.tr("Tick at least one target that can take this request."))
            return
        text = self.prompt.toPlainText().strip()
        try:
            render(text, self.variables.values(), self._defaults)
        except InvalidInput as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        request = self.request()
        version_id: int | None = None
        version = self._version
        if version is not None and (version.text, version.negative) == (text, request.negative):
            version_id = version.id
        self.generate_button.setEnabled(False)
        self.message.setText(self.tr("Sending…"))
        # Typed words are filed in the library in the same transaction as the jobs.
        future = self._send(request, targets, version_id, text or None, allow_unpriced)
        future.add_done_callback(
            lambda f: QTimer.singleShot(0, self, lambda: self._generated(f, request, targets))
        )

    def _send(
        self,
        request: GenerationRequest,
        targets: list[Target],
        version_id: int | None,
        text: str | None = None,
        allow_unpriced: bool = False,
    ) -> Future[tuple[int, list[int]]]:
        return self._bridge.generate(
            request,
            targets,
            self.count.value(),
            prompt_version_id=version_id,
            prompt_text=text,
            allow_unpriced=allow_unpriced,
        )

    def _generated(
        self,
        future: Future[tuple[int, list[int]]],
        request: GenerationRequest,
        targets: list[Target],
    ) -> None:
        self.generate_button.setEnabled(True)
        try:
            _, job_ids = future.result()
        except UnpricedTakes as exc:
            self.message.setText("")
            if self._ask_unpriced(exc):
                self._generate(allow_unpriced=True)
            return
        except TakestockError as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        jobs = get_jobs(self._services.store, job_ids)
        manual = [jobs[i] for i in job_ids if i in jobs and jobs[i].manual]
        text = self.tr("Queued %n take(s).", "", len(job_ids))
        if manual:
            text += " " + self._hand_to_sites(request, manual, targets)
            self._check_watch()
        self.message.setText(text)
        self.targets.reprice()  # the holds changed the balances
        self.queued.emit(job_ids)

    def _ask_unpriced(self, exc: UnpricedTakes) -> bool:
        """Takes at an unknown price on an account that watches its spending: the user
        decides (the command line's ``--allow-unpriced``)."""
        lines = "\n".join(
            f"• {p.vendor.name} {p.model.id} on {p.account_name}: "
            f"{p.estimate.reason or self.tr('the price is not known')}"
            for p in exc.targets
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Unknown price"),
            self.tr(
                "Takestock does not know what these takes cost, so nothing is held and the "
                "balance and budget checks cannot protect them:\n\n%1\n\nGenerate anyway? "
                "The charge is recorded when the vendor (or you) reports it."
            ).replace("%1", lines),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.unpriced_box = box
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            self.unpriced_box = None

    def _hand_to_sites(
        self, request: GenerationRequest, manual: list[Any], targets: list[Target]
    ) -> str:
        """Web-only targets: the prompt to the clipboard, each vendor's site opened."""
        QGuiApplication.clipboard().setText(request.prompt)
        options = {o.target: o for o in self.targets.model.options()}
        opened: list[str] = []
        for target in dict.fromkeys(targets):
            option = options.get(target)
            if option is None or not option.manual:
                continue
            url = estimates.web_url(option)
            if url and url not in opened:
                self.open_url(QUrl(url))
                opened.append(url)
        ids = ", ".join(str(j.id) for j in manual)
        site = self.tr("its site is open") if opened else self.tr("open the vendor's site yourself")
        return (
            self.tr(
                "Job(s) %1 wait for you: the prompt is on the clipboard and %2. Make the take "
                "there and download it: Takestock watches %3 and will offer the file (or "
                "attach it from the Queue, Ctrl+O)."
            )
            .replace("%1", ids)
            .replace("%2", site)
            .replace("%3", str(self.watch_folder()))
        )

    # ---------------------------------------------------------- watch folder

    def watch_folder(self) -> Path:
        """The folder watched for videos from vendors' sites (QSettings ``watch_folder``,
        the user's Downloads by default)."""
        value = QSettings().value(WATCH_FOLDER_KEY, "")
        return Path(str(value)) if value else default_watch_folder()

    def _on_job_changed(self, event: Any) -> None:
        if not self.watch_timer.isActive() and event.state in ("queued", "running"):
            self._check_watch()

    def _check_watch(self) -> None:
        """Watch while a job waits for a file, from when the oldest such job began."""
        waiting = waiting_for_files(self._services.store)
        if not waiting:
            self.watch_timer.stop()
            self._watcher = None
            return
        folder = self.watch_folder()
        since = min(w.job.created_at for w in waiting) - 5
        if self._watcher is None or self._watcher.folder != folder:
            self._watcher = WatchFolder(folder, since)
        else:
            self._watcher.since = min(self._watcher.since, since)
        if not self.watch_timer.isActive():
            self.watch_timer.start()

    def _poll_watch(self) -> None:
        self._check_watch()
        if self._watcher is None:
            return
        for path in self._watcher.new_videos():
            self._offer(path)

    def _offer(self, path: Path) -> None:
        if self.offer is None:
            self.offer = FileOfferDialog(lambda: waiting_for_files(self._services.store), self)
            self.offer.attach.connect(self._attach_offered)
            self.offer.import_file.connect(self._import_offered)
        self.offer.offer(path)

    def _attach_offered(self, job_id: int, path: Path, charged: float | None = None) -> None:
        self._engine_call(
            lambda engine: attach_file_async(engine, job_id, path, charged=charged),
            self.tr("%1 is attached to job %2: take %3 is in the Library.")
            .replace("%1", path.name)
            .replace("%2", str(job_id)),
        )

    def _import_offered(self, path: Path) -> None:
        self._engine_call(
            lambda engine: import_files(engine.store, engine.library, [path])[0],
            self.tr("%1 is imported: take %3 is in the Library.").replace("%1", path.name),
        )

    def _engine_call(self, fn: Callable[[Any], Any], done: str) -> None:
        future = self._bridge.call(fn)
        future.add_done_callback(
            lambda f: QTimer.singleShot(0, self, lambda: self._called(f, done))
        )

    def _called(self, future: Future[Any], done: str) -> None:
        try:
            result = future.result()
        except TakestockError as exc:
            self.message.setText(f"<b>{exc.title}</b>: {exc.message}")
            return
        self.message.setText(done.replace("%3", str(result)))

    def shutdown(self) -> None:
        """Stop the background workers and the watch folder (the window closes)."""
        self.watch_timer.stop()
        self.targets.shutdown()
        self.first_frame.shutdown()
        self.last_frame.shutdown()
        for worker in self._reports.values():
            worker.shutdown()
