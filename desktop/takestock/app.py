"""The GUI's composition root: builds the services and the main window, runs Qt."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["run_gui"]


def _probe_first_paint(window: object, app: object) -> None:
    """For the start-up benchmark: print ``time.monotonic()`` at the window's first paint,
    then quit."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                print(f"first-paint {time.monotonic():.6f}", flush=True)
                watched.removeEventFilter(self)
                QTimer.singleShot(0, app.quit)  # type: ignore[attr-defined]
            return False

    probe = FirstPaint(window)  # type: ignore[arg-type]
    window.installEventFilter(probe)  # type: ignore[attr-defined]


def _peak_rss_kb() -> int:
    # Linux: the peak of this program's own memory. getrusage's ru_maxrss is not that:
    # it keeps the peak of the process before exec (a benchmark's big pytest parent).
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


def _probe_library(window: Any, app: Any) -> None:
    """For the memory benchmark: once the library is open, show the Library screen, let
    it settle, print ``library-rss-kb`` (the process's peak resident memory), then quit."""
    from PySide6.QtCore import QTimer

    def settled() -> None:
        print(f"library-rss-kb {_peak_rss_kb()}", flush=True)
        print(f"library-modules {' '.join(sorted(_heavy_modules()))}", flush=True)
        app.quit()

    def opened() -> None:
        window.show_screen("library")
        QTimer.singleShot(1500, settled)

    window.ready.connect(opened)


def _heavy_modules() -> set[str]:
    """Which of the big optional packages this process has imported so far."""
    return {name for name in ("av", "httpx", "vlc", "PIL", "keyring") if name in sys.modules}


def run_gui(argv: list[str] | None = None) -> int:
    # Qt first, so the window shows before the heavier imports of the core.
    from PySide6.QtWidgets import QApplication

    import takestock.ui  # noqa: F401  (its import applies the Qt binding's fixes)

    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Takestock")
    app.setOrganizationName("Takestock")
    # Lets Linux desktops match the window to takestock.desktop and its icon.
    app.setDesktopFileName("takestock")
    from takestock.ui.i18n import install_translations

    install_translations(app)  # after the names above: it reads the language preference

    from takestock.ui.main_window import MainWindow

    opened: list[Any] = []

    def open_library() -> Any:
        # After the first paint: the core and the vendors' libraries load here.
        from takestock.core.logs import setup_logging
        from takestock.ui.about import app_icon
        from takestock.wiring import open_services

        app.setWindowIcon(app_icon())
        services = open_services(gui=True)
        setup_logging(services.paths.logs)
        opened.append(services)
        return services

    window = MainWindow(open_services=open_library)
    window.show()
    probe = os.environ.get("TAKESTOCK_STARTUP_PROBE")
    if probe == "library":
        _probe_library(window, app)
    elif probe:
        _probe_first_paint(window, app)
    try:
        return app.exec()
    finally:
        window.shutdown()
        for services in opened:
            services.close()
