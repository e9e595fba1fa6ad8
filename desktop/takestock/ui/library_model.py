"""Qt models for the Library: the takes grid (ids first, rows and posters on demand) and
the reasons checklist.

:class:`LibraryModel` holds only the ids of the takes matching the current filter (one
index scan, a few megabytes for 100,000 takes). A row becomes a :class:`Take` when a view
first asks for it: the model fetches the block of rows around it in one query and keeps
the most recent blocks in an LRU cache. Posters come from :class:`ThumbnailLoader`, which
reads (or makes) them on a small thread pool, newest request first, and drops requests
the user has scrolled past; a view paints a placeholder until the picture arrives.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QImage, QImageReader

from takestock.core.errors import TakestockError
from takestock.core.store import Store
from takestock.core.takes import Take, TakeFilter, take_ids, takes_by_ids
from takestock.core.thumbnails import ThumbnailCache

__all__ = [
    "TAKE_IDS_MIME",
    "LibraryModel",
    "ReasonsModel",
    "ThumbnailLoader",
    "fitted",
]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

#: The mime type of a drag's take ids (JSON list), for drops inside Takestock.
TAKE_IDS_MIME = "application/x-takestock-take-ids"


def _tr(text: str) -> str:
    return QCoreApplication.translate("Library", text)


def fitted(size: QSize, box: QSize) -> QSize:
    """``size`` scaled to fit inside ``box``, aspect kept, never enlarged, at least 1x1."""
    if size.width() <= 0 or size.height() <= 0:
        return QSize(box)
    scale = min(box.width() / size.width(), box.height() / size.height(), 1.0)
    return QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))


# --------------------------------------------------------------------------- posters


class _Requests:
    """The loader's shared state: requests waiting, newest first (no Qt, one lock).

    Workers pop from the front; a request asked for again moves to the front; past
    ``limit`` waiting, the oldest are dropped (the user scrolled past them).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.waiting: OrderedDict[str, Path] = OrderedDict()
        self.running: set[str] = set()
        self.done: deque[tuple[str, QImage | None, str]] = deque()
        self.dropped = 0

    def push(self, sha: str, video: Path) -> bool:
        """Queue ``sha`` first; ``False`` when it is already being made."""
        with self.lock:
            if sha in self.running:
                return False
            self.waiting[sha] = video
            self.waiting.move_to_end(sha, last=False)
            while len(self.waiting) > self.limit:
                self.waiting.popitem(last=True)
                self.dropped += 1
            return True

    def pop(self) -> tuple[str, Path] | None:
        with self.lock:
            if not self.waiting:
                return None
            sha, video = self.waiting.popitem(last=False)
            self.running.add(sha)
            return sha, video

    def finish(self, sha: str, image: QImage | None, error: str) -> None:
        with self.lock:
            self.running.discard(sha)
            self.done.append((sha, image, error))

    def take_done(self) -> list[tuple[str, QImage | None, str]]:
        with self.lock:
            done = list(self.done)
            self.done.clear()
            return done

    def busy(self) -> bool:
        with self.lock:
            return bool(self.waiting or self.running or self.done)


class _PosterJob(QRunnable):
    """Works through the loader's requests until none is left (one per pool thread)."""

    def __init__(self, requests: _Requests, cache: ThumbnailCache, box: QSize) -> None:
        super().__init__()
        self._requests = requests
        self._cache = cache
        self._box = QSize(box)

    def run(self) -> None:
        while (item := self._requests.pop()) is not None:
            sha, video = item
            image: QImage | None = None
            error = ""
            try:
                path = self._cache.get_or_make(sha, video)
                reader = QImageReader(str(path))
                # JPEG decodes straight to the smaller size: far cheaper than scaling.
                reader.setScaledSize(fitted(reader.size(), self._box))
                image = reader.read()
                if image.isNull():
                    error = reader.errorString()
                    image = None
            except (TakestockError, OSError, ValueError) as exc:
                error = getattr(exc, "message", None) or str(exc)
            except Exception as exc:  # reported through `failed`, never dropped
                error = repr(exc)
            self._requests.finish(sha, image, error)


class ThumbnailLoader(QObject):
    """Posters read or made off the UI thread, newest request first.

    Requests wait in a queue bounded by ``max_waiting``: asking again for a poster moves
    it to the front, and the oldest fall off the end, so when the user scrolls fast only
    what is on screen now gets made. Results are collected on the UI thread by a timer
    that runs only while there is work, several per repaint.

    Attributes:
        cache: the disk cache posters are read from and made into.
        box: the size posters are scaled to fit (device pixels).
        pool: the ``QThreadPool`` the work runs on: ``threads`` threads, by default one
            fewer than the cores (at least one, at most four).

    Signals:
        loaded(str, QImage): a poster is ready: sha256, picture.
        failed(str, str): no poster could be had: sha256, why.
    """

    loaded = Signal(str, QImage)
    failed = Signal(str, str)

    def __init__(
        self,
        cache: ThumbnailCache,
        box: QSize,
        *,
        threads: int | None = None,
        max_waiting: int = 64,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache = cache
        self.box = QSize(box)
        self.pool = QThreadPool(self)
        if threads is None:
            # Leave a core to the UI thread: decoding competes with painting for the GIL.
            threads = min(4, (os.cpu_count() or 2) - 1)
        self.pool.setMaxThreadCount(max(1, threads))
        self._requests = _Requests(max_waiting)
        self._jobs = 0
        self._timer = QTimer(self, interval=15)
        self._timer.timeout.connect(self._collect)

    @property
    def dropped(self) -> int:
        """Requests dropped unmade because newer ones pushed them out."""
        return self._requests.dropped

    def request(self, sha: str, video: Path) -> None:
        """Ask for the poster of ``sha`` (made from ``video`` if not cached)."""
        if not self._requests.push(sha, video):
            return
        if self._jobs < self.pool.maxThreadCount():
            self._jobs += 1
            self.pool.start(_PosterJob(self._requests, self.cache, self.box))
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        """Drop every waiting request (the ones being made finish and are delivered)."""
        with self._requests.lock:
            self._requests.waiting.clear()

    def is_busy(self) -> bool:
        return self._requests.busy()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until every request is made and delivered; for tests and shutdown."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self.is_busy() and time.monotonic() < deadline:
            self.pool.waitForDone(20)
            self._collect()
        return not self.is_busy()

    def shutdown(self) -> None:
        """Cancel what waits and wait for the threads (a closing screen)."""
        self.cancel()
        self.pool.waitForDone()
        self._requests.take_done()
        self._timer.stop()

    def _collect(self) -> None:
        for sha, image, error in self._requests.take_done():
            if image is not None:
                self.loaded.emit(sha, image)
            else:
                self.failed.emit(sha, error)
        # A job exits when it finds the queue empty; count what is still running.
        self._jobs = min(self._jobs, self.pool.activeThreadCount())
        with self._requests.lock:
            waiting = bool(self._requests.waiting)
        while waiting and self._jobs < self.pool.maxThreadCount():
            self._jobs += 1
            self.pool.start(_PosterJob(self._requests, self.cache, self.box))
        if not self._requests.busy():
            self._timer.stop()


# --------------------------------------------------------------------------- takes


class LibraryModel(QAbstractListModel):
    """The takes matching a filter, newest first, as a flat list for a grid.

    Holds the matching ids; rows are read in blocks of ``block`` when first shown and
    kept in an LRU cache of ``cache_rows``. Posters (``ThumbnailRole``) are requested
    from ``loader`` the first time a row is painted and kept, ``cache_images`` of them,
    by content hash.

    Roles: ``DisplayRole`` the caption (vendor · model), ``ToolTipRole`` the prompt and
    date, ``TakeRole`` the :class:`Take`, ``ThumbnailRole`` the poster ``QImage`` (or
    ``None`` while it loads or when there is none), ``ThumbnailStateRole`` one of
    ``"loading"``, ``"ready"``, ``"failed"``, ``"off"`` (no loader), and ``TileRole``
    the three as one tuple (take, poster, state): what a delegate paints, in one call.

    Attributes:
        loader: the :class:`ThumbnailLoader`, or ``None`` for a grid without posters.
        where: the current filter.

    Signals:
        reset_done(): the ids were fetched again (a filter or a refresh).
    """

    TakeRole = Qt.ItemDataRole.UserRole + 1
    ThumbnailRole = Qt.ItemDataRole.UserRole + 2
    ThumbnailStateRole = Qt.ItemDataRole.UserRole + 3
    TileRole = Qt.ItemDataRole.UserRole + 4

    reset_done = Signal()

    def __init__(
        self,
        store: Store,
        media_root: Path,
        loader: ThumbnailLoader | None = None,
        *,
        where: TakeFilter | None = None,
        block: int = 64,
        cache_rows: int = 2048,
        cache_images: int = 400,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._media_root = Path(media_root)
        self.loader = loader
        self.where = where or TakeFilter()
        self._block = block
        self._cache_rows = cache_rows
        self._cache_images = cache_images
        self._ids: list[int] = []
        self._rows_by_id: dict[int, int] | None = None
        self._takes: OrderedDict[int, Take] = OrderedDict()
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._failed: dict[str, str] = {}
        self._waiting_rows: dict[str, set[int]] = {}
        if loader is not None:
            loader.loaded.connect(self._on_loaded)
            loader.failed.connect(self._on_failed)
        self.refresh()

    # ------------------------------------------------------------ ids

    def set_filter(self, where: TakeFilter) -> None:
        """Show the takes matching ``where`` (the ids are fetched at once)."""
        self.where = where
        self.refresh()

    def refresh(self) -> None:
        """Fetch the ids again (new takes, changed ratings) and forget cached rows."""
        self.set_ids(take_ids(self._store, self.where))

    def set_ids(self, ids: list[int]) -> None:
        """Show these ids (read elsewhere for :attr:`where`) and forget cached rows."""
        self.beginResetModel()
        self._ids = ids
        self._rows_by_id = None
        self._takes.clear()
        self._waiting_rows.clear()
        self.endResetModel()
        if self.loader is not None:
            self.loader.cancel()
        self.reset_done.emit()

    def ids(self) -> Sequence[int]:
        """The ids shown, in row order (do not change the list)."""
        return self._ids

    def take_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, take_id: int) -> int | None:
        """The row showing ``take_id``, or ``None`` when the filter hides it."""
        if self._rows_by_id is None:
            self._rows_by_id = {tid: row for row, tid in enumerate(self._ids)}
        return self._rows_by_id.get(take_id)

    # ------------------------------------------------------------ rows

    def take(self, row: int) -> Take:
        """The take in ``row``, read from the store if it is not cached.

        Raises:
            IndexError: no such row.
            KeyError: the take was deleted since the ids were fetched.
        """
        take_id = self._ids[row]
        found = self._takes.get(take_id)
        if found is not None:
            self._takes.move_to_end(take_id)
            return found
        start = row - row % self._block
        block = self._ids[start : start + self._block]
        for fetched in takes_by_ids(self._store, self._media_root, block):
            self._takes[fetched.id] = fetched
        while len(self._takes) > self._cache_rows:
            self._takes.popitem(last=False)
        return self._takes[take_id]

    def forget(self, take_ids: Iterable[int]) -> None:
        """Read these takes again when next shown (after a rating), repainting them."""
        for take_id in take_ids:
            self._takes.pop(take_id, None)
            row = self.row_of(take_id)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index)

    def _take_or_none(self, row: int) -> Take | None:
        try:
            return self.take(row)
        except (IndexError, KeyError):
            return None

    # ------------------------------------------------------------ Qt

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role not in _ROLES:
            return None
        take = self._take_or_none(index.row())
        if take is None:
            return None
        if role == self.TileRole:
            image = self._image(take, index.row())
            return take, image, "ready" if image is not None else self._image_state(take)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{take.vendor} · {take.model}"
        if role == Qt.ItemDataRole.ToolTipRole:
            made = time.strftime("%Y-%m-%d %H:%M", time.localtime(take.created_at))
            prompt = (take.prompt or _tr("(no prompt)")).strip()
            if len(prompt) > 300:
                prompt = prompt[:299] + "…"
            return f"{prompt}\n{take.vendor} · {take.model} · {made}"
        if role == self.TakeRole:
            return take
        if role == self.ThumbnailRole:
            return self._image(take, index.row())
        return self._image_state(take)

    def _image(self, take: Take, row: int) -> QImage | None:
        image = self._images.get(take.sha256)
        if image is not None:
            self._images.move_to_end(take.sha256)
            return image
        if self.loader is not None and take.sha256 not in self._failed:
            self._waiting_rows.setdefault(take.sha256, set()).add(row)
            self.loader.request(take.sha256, take.path)
        return None

    def _image_state(self, take: Take) -> str:
        if take.sha256 in self._images:
            return "ready"
        if take.sha256 in self._failed:
            return "failed"
        return "off" if self.loader is None else "loading"

    def thumbnail_error(self, sha256: str) -> str | None:
        """Why the poster for ``sha256`` could not be had, if it could not."""
        return self._failed.get(sha256)

    def _on_loaded(self, sha: str, image: QImage) -> None:
        self._images[sha] = image
        self._images.move_to_end(sha)
        while len(self._images) > self._cache_images:
            self._images.popitem(last=False)
        self._notify(sha)

    def _on_failed(self, sha: str, error: str) -> None:
        self._failed[sha] = error
        self._notify(sha)

    def _notify(self, sha: str) -> None:
        roles = [self.ThumbnailRole, self.ThumbnailStateRole]
        for row in sorted(self._waiting_rows.pop(sha, ())):
            if row < len(self._ids):
                index = self.index(row)
                self.dataChanged.emit(index, index, roles)

    # ------------------------------------------------------------ drag

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", TAKE_IDS_MIME]

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """File URLs of the takes (editors' bins and file managers take these), in row
        order, and their ids for drops inside Takestock."""
        rows = sorted({i.row() for i in indexes if i.isValid()})
        takes = [t for t in (self._take_or_none(r) for r in rows) if t is not None]
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(t.path)) for t in takes])
        mime.setData(TAKE_IDS_MIME, QByteArray(json.dumps([t.id for t in takes]).encode()))
        return mime


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        LibraryModel.TakeRole,
        LibraryModel.ThumbnailRole,
        LibraryModel.ThumbnailStateRole,
        LibraryModel.TileRole,
    }
)


# --------------------------------------------------------------------------- reasons


class ReasonsModel(QAbstractListModel):
    """A checklist of reasons: the user's list plus any the shown take carries.

    Attributes:
        names: the reasons offered, in order.

    Signals:
        checked_changed(list): the user ticked or cleared one; the reasons now ticked.
    """

    checked_changed = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self._checked: set[str] = set()

    def set_reasons(self, names: Sequence[str], checked: Iterable[str]) -> None:
        """Offer ``names`` with ``checked`` ticked (compared ignoring case)."""
        wanted = {c.casefold() for c in checked}
        self.beginResetModel()
        self.names = list(names)
        self._checked = {n for n in self.names if n.casefold() in wanted}
        self.endResetModel()

    def checked(self) -> list[str]:
        """The ticked reasons, in list order."""
        return [n for n in self.names if n in self._checked]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.names)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.names):
            return None
        name = self.names[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.CheckStateRole:
            return (
                Qt.CheckState.Checked if name in self._checked else Qt.CheckState.Unchecked
            ).value
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        name = self.names[index.row()]
        state = value.value if isinstance(value, Qt.CheckState) else int(value)
        if state == Qt.CheckState.Checked.value:
            self._checked.add(name)
        else:
            self._checked.discard(name)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit(self.checked())
        return True
