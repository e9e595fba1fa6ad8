"""The window against a bare one, measured side by side in the same run.

- first paint: process start to the main window's first paint, Takestock on a large
  library against a bare PySide6 QMainWindow (target <= 1.05x);
- memory: peak resident memory (Linux: VmHWM, the program's own) with the Library
  screen open on that library against the bare window's at its first paint (target
  <= 2x), and which heavy packages the Library screen brought in.

Figures are medians, printed and never asserted; the tests assert only that each
process got where it was sent.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q -s tests/bench/test_bench_window.py

Sizes: TAKESTOCK_BENCH_TAKES (default 100000), TAKESTOCK_BENCH_RUNS (default 5).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.test_bench_library import build_library

pytestmark = pytest.mark.bench

TAKES = int(os.environ.get("TAKESTOCK_BENCH_TAKES", "100000"))
RUNS = int(os.environ.get("TAKESTOCK_BENCH_RUNS", "5"))

BARE = """
import resource, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv)
w = QMainWindow(); w.setCentralWidget(QLabel("bare")); w.resize(1280, 800)
class P(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint:
            print(f"first-paint {time.monotonic():.6f}", flush=True)
            hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
            peak = hwm[0].split()[1] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"rss-kb {peak}", flush=True)
            o.removeEventFilter(self); QTimer.singleShot(0, app.quit)
        return False
p = P(w); w.installEventFilter(p); w.show(); app.exec()
"""


def _lines(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, str]]:
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return start, said


def _first_paint_ms(command: list[str], env: dict[str, str]) -> float:
    start, said = _lines(command, env)
    assert "first-paint" in said, said
    return (float(said["first-paint"]) - start) * 1000


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("bench-window") / "home"
    build_library(home, TAKES)
    found = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("config")),
        "PYTHONPYCACHEPREFIX": str(tmp_path_factory.mktemp("pycache")),
    }
    found.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode
    found.pop("TAKESTOCK_DATABASE_URL", None)
    return found


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


BARE_CMD = [sys.executable, "-c", BARE]
APP_CMD = [sys.executable, "-m", "takestock", "gui"]


def test_first_paint_against_a_bare_window(env: dict[str, str]) -> None:
    probe = {**env, "TAKESTOCK_STARTUP_PROBE": "1"}
    _first_paint_ms(BARE_CMD, probe)  # warm the caches
    _first_paint_ms(APP_CMD, probe)
    bare, app = [], []
    for _ in range(RUNS):  # alternating, so that load hits both alike
        bare.append(_first_paint_ms(BARE_CMD, probe))
        app.append(_first_paint_ms(APP_CMD, probe))
    b, a = statistics.median(bare), statistics.median(app)
    print(
        f"\nBENCH window: first paint, median of {RUNS} ({TAKES} takes; load {_load()}): "
        f"Takestock {a:.0f} ms, bare QMainWindow {b:.0f} ms, ratio {a / b:.2f}x "
        "(target <= 1.05x)"
    )


def test_memory_with_the_library_open(env: dict[str, str]) -> None:
    _, bare = _lines(BARE_CMD, env)
    _, app = _lines(APP_CMD, {**env, "TAKESTOCK_STARTUP_PROBE": "library"})
    assert "library-rss-kb" in app, app
    bare_mb, app_mb = int(bare["rss-kb"]) / 1024, int(app["library-rss-kb"]) / 1024
    print(
        f"\nBENCH window: peak memory, Library open on {TAKES} takes: {app_mb:.0f} MB; "
        f"bare window {bare_mb:.0f} MB; ratio {app_mb / bare_mb:.2f}x (target <= 2x); "
        f"heavy packages loaded: {app.get('library-modules', '').strip() or 'none'}"
    )
