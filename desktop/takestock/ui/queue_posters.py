"""Posters for the Queue's finished jobs, so that rows can be told apart at a glance.

Read (or made) off the UI thread by a :class:`~takestock.ui.library_model.ThumbnailLoader`;
a row paints without one until it arrives.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSize
from PySide6.QtGui import QIcon, QImage, QPixmap

from takestock.core.jobs import Job
from takestock.core.store import Store
from takestock.core.takes import takes_by_ids
from takestock.core.thumbnails import ThumbnailCache
from takestock.ui.library_model import ThumbnailLoader
from takestock.ui.queue_models import QueueModel

__all__ = ["ICON", "QueuePosters"]

#: The size of a poster in a Queue row.
ICON = QSize(64, 36)


class QueuePosters(QObject):
    """Gives :class:`QueueModel` the poster of each finished job's take.

    Attributes:
        loader: the :class:`ThumbnailLoader` making them.
    """

    def __init__(
        self, model: QueueModel, store: Store, media_root: Path, thumbnails: Path, ratio: float
    ) -> None:
        super().__init__(model)
        self._model = model
        self._store = store
        self._media_root = media_root
        self._icons: dict[str, QIcon] = {}
        self._shas: dict[int, str] = {}  # take id -> sha256
        self.loader = ThumbnailLoader(ThumbnailCache(thumbnails), ICON * ratio, parent=self)
        self.loader.loaded.connect(self._on_loaded)
        model.posters = self.poster

    def poster(self, job: Job) -> QIcon | None:
        if job.take_id is None:
            return None
        sha = self._shas.get(job.take_id)
        if sha is None:
            found = takes_by_ids(self._store, self._media_root, [job.take_id])
            if not found:
                return None
            sha = self._shas[job.take_id] = found[0].sha256
            self.loader.request(sha, found[0].path)
        return self._icons.get(sha)

    def _on_loaded(self, sha: str, image: QImage) -> None:
        self._icons[sha] = QIcon(QPixmap.fromImage(image))
        column = QueueModel.PROMPT
        for row in range(self._model.rowCount()):
            take_id = self._model.job(row).take_id
            if take_id is not None and self._shas.get(take_id) == sha:
                index = self._model.index(row, column)
                self._model.dataChanged.emit(index, index)

    def shutdown(self) -> None:
        self.loader.shutdown()
