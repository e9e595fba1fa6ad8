"""File ▸ Import…, Export…, Quit (Ctrl+Q).

Import brings videos made elsewhere into the library (as ``takestock import`` does);
Export writes the Library's selected takes (all the takes shown when none is selected)
to a folder, with their sidecars, a CSV and a timeline for an editor (as
``takestock export`` does). Both run through :class:`~takestock.ui.ops.Ops`: off the UI
thread, failures shown in the window's one place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

if TYPE_CHECKING:  # the core loads after the first paint
    from takestock.core.library import MediaLibrary
    from takestock.core.store import Store
    from takestock.core.takes import Take
    from takestock.ui.ops import Ops

__all__ = ["FileMenu"]

VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.webm *.mkv);;All files (*)"


class FileMenu(QObject):
    """The window's File menu.

    Attributes:
        import_action, export_action, quit_action: its entries (import and export are
            off until the library is open).
        pick_files: asks for videos to import (tests replace it).
        pick_folder: asks for the folder to export into (tests replace it).
        selected_takes: the takes an export writes (set when the library opens).
    """

    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self._window = window
        self._library: MediaLibrary | None = None
        self._ops: Ops | None = None
        self.import_action = QAction(self.tr("&Import videos…"), self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.export_action = QAction(self.tr("&Export takes…"), self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)  # macOS: the app menu
        for action in (self.import_action, self.export_action):
            action.setEnabled(False)
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self.pick_files: Callable[[], list[Path]] = self._ask_files
        self.pick_folder: Callable[[], Path | None] = self._ask_folder
        self.selected_takes: Callable[[], list[Take]] = list
        self.import_action.triggered.connect(self.import_videos)
        self.export_action.triggered.connect(self.export_takes)
        self.quit_action.triggered.connect(window.close)

    def open(
        self, library: MediaLibrary, ops: Ops, selected_takes: Callable[[], list[Take]]
    ) -> None:
        """Enable the menu once the library is open; it imports into ``library``."""
        self._library, self._ops, self.selected_takes = library, ops, selected_takes
        self.import_action.setEnabled(True)
        self.export_action.setEnabled(True)

    def _say(self, message: str) -> None:
        self._window.statusBar().showMessage(message, 8000)

    def _ask_files(self) -> list[Path]:
        names, _ = QFileDialog.getOpenFileNames(
            self._window, self.tr("Import videos made elsewhere"), "", self.tr(VIDEO_FILTER)
        )
        return [Path(n) for n in names]

    def _ask_folder(self) -> Path | None:
        name = QFileDialog.getExistingDirectory(self._window, self.tr("Export takes to"))
        return Path(name) if name else None

    def import_videos(self) -> None:
        """Ask for videos and bring them into the library (all or none)."""
        from takestock.core.takes import import_files
        from takestock.ui.ops import Changes

        if self._library is None or self._ops is None:
            return
        paths = self.pick_files()
        if not paths:
            return
        library = self._library

        def work(store: Store) -> list[int]:
            return import_files(store, library, paths)

        self._ops.write(
            work,
            Changes(takes=True),
            lambda ids: self._say(self.tr("Imported %n take(s).", "", len(ids))),
        )
        self._say(self.tr("Importing…"))

    def export_takes(self) -> None:
        """Ask for a folder and export the selected takes into it."""
        from takestock.core.export import ExportResult, export_takes

        if self._ops is None:
            return
        takes = self.selected_takes()
        if not takes:
            self._say(self.tr("No takes to export: the Library shows none."))
            return
        folder = self.pick_folder()
        if folder is None:
            return

        def work(store: Store) -> ExportResult:
            return export_takes(store, takes, folder)

        def done(result: ExportResult) -> None:
            self._say(
                self.tr("Exported %n take(s) to %1.", "", len(result.takes)).replace(
                    "%1", str(result.folder)
                )
            )

        self._ops.query(work, done)
        self._say(self.tr("Exporting…"))
