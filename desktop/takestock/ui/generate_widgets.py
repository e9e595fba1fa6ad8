"""Widgets of the Generate screen: an input-image drop zone and the watch folder's offer."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from takestock.core.estimates import ImageReport
from takestock.core.queue import WaitingJob
from takestock.ui.generate_models import LatestWorker
from takestock.ui.prompt_models import first_words

__all__ = ["IMAGE_SUFFIXES", "FileOfferDialog", "ImageDrop", "read_thumbnail"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
THUMBNAIL = QSize(168, 96)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Generate", text)


def read_thumbnail(path: Path, size: QSize = THUMBNAIL) -> QImage:
    """A small picture of ``path``, decoded at the small size where the format allows
    (JPEG does); turned as its EXIF says. Safe off the UI thread (a QImage)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and (full.width() > size.width() or full.height() > size.height()):
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return image


def _local_image(event: QDragEnterEvent | QDropEvent) -> Path | None:
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in IMAGE_SUFFIXES:
                return path
    return None


def _size_text(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / 1024 / 1024:.1f} MB"
    return f"{max(1, size_bytes // 1024)} KB"


class ImageDrop(QFrame):
    """A drop zone for one input image: drag a file onto it, or choose one.

    It shows a thumbnail (decoded off the UI thread) and what the ticked models make of
    the image (see :meth:`show_report`).

    Attributes:
        path: the image, or None.
        preview: the thumbnail; ``info`` the facts and the models' verdict.
        choose_button, clear_button: pick a file; take the image away.

    Signals:
        changed(object): the new path, or None when cleared.
    """

    changed = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setMinimumHeight(150)
        self.path: Path | None = None
        self._title = title
        self._thumbnails: LatestWorker[QImage] = LatestWorker("thumbnail", self)
        self.preview = QLabel()
        self.preview.setFixedSize(THUMBNAIL)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("QLabel { background: palette(base); }")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.choose_button = QPushButton(_tr("Choose…"))
        self.clear_button = QPushButton(_tr("Remove"))
        heading = QLabel(f"<b>{html.escape(title)}</b>")
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(heading)
        right.addWidget(self.info, 1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.preview)
        layout.addLayout(right, 1)
        self.choose_button.clicked.connect(self._choose)
        self.clear_button.clicked.connect(lambda: self.set_path(None))
        self._show_empty()

    def _show_empty(self) -> None:
        self.preview.setPixmap(QPixmap())
        self.preview.setText(_tr("drop an\nimage here"))
        self.info.setText(_tr("Optional. Drag an image here, or Choose…"))
        self.clear_button.setEnabled(False)

    def set_path(self, path: Path | None) -> None:
        """Use ``path`` (None: no image); the thumbnail follows."""
        if path == self.path:
            return
        self.path = path
        if path is None:
            self._thumbnails.drop()
            self._show_empty()
        else:
            self.preview.setText(_tr("reading…"))
            self.info.setText(html.escape(path.name))
            self.clear_button.setEnabled(True)
            self._thumbnails.submit(
                lambda _current: read_thumbnail(path), self._show_thumbnail, self._thumbnail_failed
            )
        self.changed.emit(path)

    def _show_thumbnail(self, image: QImage) -> None:
        if image.isNull():
            self.preview.setText(_tr("no preview"))
            return
        self.preview.setPixmap(QPixmap.fromImage(image))

    def _thumbnail_failed(self, error: BaseException) -> None:
        self.preview.setText(_tr("no preview"))

    def show_report(self, report: ImageReport | None, checked: int) -> None:
        """Say what the image is and which of the ``checked`` ticked models refuse it."""
        if self.path is None:
            return
        name = html.escape(self.path.name)
        if report is None:
            self.info.setText(f"{name}<br>{_tr('checking…')}")
            return
        if report.facts is None:
            why = html.escape(report.problems[0][2]) if report.problems else ""
            self.info.setText(f"{name}<br><span style='color:#b3261e'>{why}</span>")
            return
        facts = report.facts
        head = (
            f"{name}<br>{facts.width}×{facts.height} {facts.format.upper()}, "
            f"{_size_text(facts.size_bytes)}"
        )
        if not report.problems:
            verdict = (
                _tr("✓ fits every ticked model")
                if checked
                else _tr("tick a model to check its limits")
            )
            self.info.setText(f"{head}<br><span style='color:#1e6b2a'>{verdict}</span>")
            return
        by_message: dict[str, list[str]] = {}
        for _vendor, model, message in report.problems:
            why = message.split(": ", 1)[-1].replace(f"{self.path.name} ", "", 1)
            by_message.setdefault(why, []).append(model)
        lines = []
        for why, models in by_message.items():
            names = ", ".join(models[:4]) + (
                _tr(" and %1 more").replace("%1", str(len(models) - 4)) if len(models) > 4 else ""
            )
            lines.append(f"✗ {html.escape(why)} — {html.escape(names)}")
        self.info.setText(f"{head}<br><span style='color:#b3261e'>{'<br>'.join(lines)}</span>")

    def _choose(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        name, _ = QFileDialog.getOpenFileName(
            self, self._title, "", _tr("Images (%1)").replace("%1", patterns)
        )
        if name:
            self.set_path(Path(name))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_image(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _local_image(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_path(path)

    def shutdown(self) -> None:
        self._thumbnails.shutdown()


class FileOfferDialog(QDialog):
    """Offers each new video from the watch folder, one at a time, without blocking:
    attach it to a job waiting for a file, import it as a new take, or ignore it.

    Attributes:
        file_label: which file; ``jobs`` the waiting job it would be attached to.
        attach_button, import_button, ignore_button: the three answers.

    Signals:
        attach(int, object, object): attach the file (a Path) to this job id, with what
            the site charged (a float, or None to keep the estimate).
        import_file(object): import the file (a Path) as a new take.
    """

    attach = Signal(int, object, object)
    import_file = Signal(object)

    def __init__(self, waiting: Callable[[], Sequence[WaitingJob]], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("A new video arrived"))
        self.setModal(False)
        self._waiting = waiting
        self._files: list[Path] = []
        self._estimates: dict[int, dict[str, Any]] = {}  # waiting jobs' estimates, by id
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.jobs = QComboBox()
        # What the site charged: it confirms or corrects the estimate (and where the
        # site's price is unknown, it is asked for once and remembered for the model).
        self.charged = QDoubleSpinBox()
        self.charged.setRange(-1, 1_000_000)
        self.charged.setDecimals(2)
        self.charged.setSpecialValueText(_tr("as estimated"))
        self.charged_label = QLabel(_tr("The site charged"))
        self.attach_button = QPushButton(_tr("Attach to this job"))
        self.attach_button.setDefault(True)
        self.import_button = QPushButton(_tr("Import as a new take"))
        self.ignore_button = QPushButton(_tr("Ignore"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(self.ignore_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addWidget(self.jobs)
        charged_row = QHBoxLayout()
        charged_row.addWidget(self.charged_label)
        charged_row.addWidget(self.charged, 1)
        layout.addLayout(charged_row)
        layout.addLayout(buttons)
        self.attach_button.clicked.connect(self._attach)
        self.jobs.currentIndexChanged.connect(self._job_picked)
        self.import_button.clicked.connect(self._import)
        self.ignore_button.clicked.connect(self._next)

    def current_file(self) -> Path | None:
        return self._files[0] if self._files else None

    def offer(self, path: Path) -> None:
        """Queue ``path``; the dialog shows it (now, or after the ones before it)."""
        if path in self._files:
            return
        self._files.append(path)
        if len(self._files) == 1:
            self._show_current()

    def _show_current(self) -> None:
        path = self.current_file()
        if path is None:
            self.hide()
            return
        try:
            size = _size_text(path.stat().st_size)
        except OSError:
            size = "?"
        self.file_label.setText(
            _tr("<b>%1</b> (%2) appeared in %3. Is it the video of a job made on a site?")
            .replace("%1", html.escape(path.name))
            .replace("%2", size)
            .replace("%3", html.escape(str(path.parent)))
        )
        self.jobs.clear()
        self._estimates = {}
        for waiting in self._waiting():
            job = waiting.job
            words = first_words(waiting.prompt, 50) or _tr("(no prompt)")
            label = (
                _tr("job %1 · %2 %3 · %4")
                .replace("%1", str(job.id))
                .replace("%2", job.vendor)
                .replace("%3", job.model)
                .replace("%4", words)
            )
            self.jobs.addItem(label, job.id)
            self._estimates[job.id] = dict(job.estimate or {})
        has_jobs = self.jobs.count() > 0
        self.jobs.setEnabled(has_jobs)
        self.attach_button.setEnabled(has_jobs)
        if not has_jobs:
            self.jobs.addItem(_tr("no job is waiting for a file"))
        self._job_picked()
        self.show()
        self.raise_()

    def _job_picked(self) -> None:
        """The charge field follows the job: "as estimated" where a price is known; a
        figure to type where the site's price is unknown."""
        estimate = self._estimates.get(self.jobs.currentData()) or {}
        unit = str(estimate.get("unit") or "")
        self.charged.setSuffix(f" {unit}" if unit else "")
        known = estimate.get("amount") is not None
        self.charged.setMinimum(-1 if known else 0)
        self.charged.setValue(-1 if known else 0)
        self.charged_label.setText(
            _tr("The site charged") if known else _tr("The site charged (its price is unknown)")
        )

    def charged_value(self) -> float | None:
        value = self.charged.value()
        return None if value < 0 else value

    def _attach(self) -> None:
        path = self.current_file()
        job_id = self.jobs.currentData()
        if path is not None and job_id is not None:
            self.attach.emit(int(job_id), path, self.charged_value())
        self._next()

    def _import(self) -> None:
        path = self.current_file()
        if path is not None:
            self.import_file.emit(path)
        self._next()

    def _next(self) -> None:
        if self._files:
            self._files.pop(0)
        self._show_current()
