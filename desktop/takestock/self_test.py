"""``takestock --self-test``: the app, offscreen, against a temporary library.

It runs one sandbox generation through the GUI's own code path (the Generate screen
and the engine's bridge), renders every screen to PNG under ``<data folder>/self-test``,
prints that folder, and exits 0 only if all of it worked. Installers run it on the
bundled app.

It never touches the user's library: the data folder is a new temporary one, whatever
``TAKESTOCK_HOME`` says (a library there may hold jobs the self-test would resume and
pay for), unless ``home`` names one (``--home DIR``). A studio's shared database and
media root are ignored for the same reason.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["run_self_test"]

TIMEOUT_S = 90.0


#: Settings that would point the self-test at a library shared with the user or a studio.
_FOREIGN_LIBRARY = ("TAKESTOCK_DATABASE_URL", "TAKESTOCK_MEDIA_ROOT")


def _prepare_environment(home: Path | None = None) -> Path:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="takestock-self-test-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ["TAKESTOCK_HOME"] = str(root)
    for name in _FOREIGN_LIBRARY:
        os.environ.pop(name, None)
    os.environ.setdefault("TAKESTOCK_SANDBOX_LATENCY", "0.5")
    os.environ.setdefault("TAKESTOCK_POLL_INTERVAL", "0.1")
    return Path(os.environ["TAKESTOCK_HOME"])


def run_self_test(home: Path | None = None) -> int:
    """Run the self-test in ``home`` (a new temporary folder when ``None``)."""
    home = _prepare_environment(home)
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    import takestock.ui  # noqa: F401  (its import applies the Qt binding's fixes)

    app = QApplication(sys.argv[:1])
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(home))
    from takestock.ui.main_window import MainWindow
    from takestock.ui.screens.generate import GenerateScreen
    from takestock.wiring import open_services

    out = home / "self-test"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    services = open_services(gui=True)
    window = MainWindow(services)
    window.resize(1280, 800)
    window.show()
    try:
        generate = window.screens["generate"]
        assert isinstance(generate, GenerateScreen)
        generate.prompt.setPlainText("Takestock self-test: a paper boat on a pond")
        generate.duration.setCurrentText("2")
        generate.resolution.setCurrentText("480p")
        done: list[int] = []
        failed: list[str] = []

        def watch(event: object) -> None:
            state = getattr(event, "state", "")
            if state == "done" and getattr(event, "take_id", None):
                done.append(event.take_id)  # type: ignore[attr-defined]
            elif state in ("failed", "cancelled", "unknown"):
                failed.append(str(getattr(event, "error", state)))

        window.bridge.job_changed.connect(watch)
        generate.generate_button.click()
        deadline = time.monotonic() + TIMEOUT_S
        while not done and not failed and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.02)
        if failed:
            problems.append(f"the sandbox job failed: {failed[0]}")
        elif not done:
            problems.append(f"the sandbox job did not finish within {TIMEOUT_S:g} s")
        for key in window.screens:
            window.show_screen(key)
            # Screens refresh on short debounce timers: let them settle before the grab.
            settle = time.monotonic() + 0.6
            while time.monotonic() < settle:
                QCoreApplication.processEvents()
                time.sleep(0.01)
            path = out / f"{key}.png"
            if not window.grab().save(str(path)):
                problems.append(f"could not render the {key} screen")
    except Exception as exc:  # the self-test reports whatever broke, then fails
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        window.shutdown()
        window.close()
        services.close()
        app.processEvents()
    print(out)
    for problem in problems:
        print(f"self-test: {problem}", file=sys.stderr)
    return 0 if not problems else 1
