"""The GUI's composition root: builds the services and the main window, runs Qt."""

from __future__ import annotations

import os
import sys

__all__ = ["run_gui"]


def run_gui(argv: list[str] | None = None) -> int:
    # Qt first, so the window shows before the heavier imports of the core.
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Takestock")
    app.setOrganizationName("Takestock")

    from takestock.core.errors import TakestockError
    from takestock.core.logs import setup_logging
    from takestock.ui.main_window import MainWindow
    from takestock.wiring import open_services

    try:
        services = open_services()
    except TakestockError as exc:
        QMessageBox.critical(None, exc.title, exc.message)
        return 1
    setup_logging(services.paths.logs)
    window = MainWindow(services)
    window.show()
    if os.environ.get("TAKESTOCK_GUI_SMOKE"):
        # Used by tests: show, paint once, quit.
        from PySide6.QtCore import QTimer

        QTimer.singleShot(200, app.quit)
    try:
        return app.exec()
    finally:
        window.shutdown()
        services.close()
