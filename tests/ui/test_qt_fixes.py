"""The Qt binding's lost references to None: every process that imports the UI survives.

Each test runs a fresh interpreter: the tests' own process already has the fix (from
``tests/conftest.py`` and from importing ``takestock.ui``), so only a new process shows
whether importing the UI package is enough on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CALLS = 100_000

#: 100,000 rounds of the void calls that painting and labels make, in a fresh process.
#: ``PRELUDE`` runs first: it decides whether the UI package (and its fix) is imported.
SCRIPT = """
import sys
{prelude}
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QLabel

class Emitter(QObject):
    ping = Signal()

app = QApplication([])
label, emitter = QLabel(), Emitter()
image = QImage(64, 64, QImage.Format.Format_ARGB32)
painter = QPainter(image)
font, pen, rect = QFont(), QPen(QColor(255, 0, 0)), QRectF(2, 2, 40, 20)
start = sys.getrefcount(None)
for _ in range({rounds}):
    label.setText("x")
    painter.setFont(font)
    painter.setPen(pen)
    painter.drawRoundedRect(rect, 4, 4)
    emitter.ping.emit()
painter.end()
print(start - sys.getrefcount(None), flush=True)
"""


def _run(prelude: str, rounds: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = textwrap.dedent(SCRIPT).format(prelude=prelude, rounds=rounds)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_process_that_imports_the_ui_survives_100k_void_calls() -> None:
    # Four void calls and one emit a round: 100,000 calls, twenty times None's references.
    done = _run("import takestock.ui", CALLS // 5)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "none_dealloc" not in done.stderr


def test_importing_any_ui_module_applies_the_fix() -> None:
    """A benchmark child imports a screen module, never the package by name."""
    done = _run("import takestock.ui.library_model", CALLS // 5)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_the_binding_still_drops_references_without_the_fix() -> None:
    """The reason the workaround exists. When this fails, PySide6 no longer loses
    references: remove ``keep_singletons_alive`` (WORKAROUND in ``ui/qt_fixes.py``)."""
    done = _run("", 50)  # few: True has only a few hundred references to lose
    assert done.returncode == 0, done.stderr[-2000:]
    lost = int(done.stdout.split()[-1])
    assert lost >= 150, f"only {lost} references to None lost over 200 void calls"
