"""Play a clip in a PlayerWidget with VLC embedded, grab the screen, print what it shows.

Run by ``test_player_vlc.py`` in a subprocess under Xvfb (``DISPLAY=:n
QT_QPA_PLATFORM=xcb``): the test process itself is offscreen, and Qt cannot change its
platform once started. Usage: ``python vlc_embed_probe.py CLIP OUT_DIR``. Writes
``embedded-surface.png`` (the video area) and ``embedded-player.png`` (the whole widget,
transport bar included) to OUT_DIR and prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PIL import Image, ImageStat
from PySide6.QtCore import QCoreApplication, QPoint
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from takestock.ui.player import DEFAULT_VLC_ARGS, PlayerWidget, VlcBackend


def _spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)


def _grab(widget, dest: Path) -> dict[str, object]:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    screen = QGuiApplication.primaryScreen()
    shot = screen.grabWindow(0, top_left.x(), top_left.y(), widget.width(), widget.height())
    shot.save(str(dest))
    image = Image.open(dest).convert("RGB")
    stat = ImageStat.Stat(image)
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    return {
        "png": str(dest),
        "size": list(image.size),
        "mean": [round(v, 1) for v in stat.mean],
        "stddev": [round(v, 1) for v in stat.stddev],
        "colours": len(colours),
    }


def main(clip: Path, out: Path) -> int:
    app = QApplication(sys.argv[:1])
    # xcb_x11 needs no GL (Xvfb has no XVideo adaptor, and llvmpipe GL is slower).
    backend = VlcBackend([*DEFAULT_VLC_ARGS, "--vout=xcb_x11", "--aout=dummy"])
    widget = PlayerWidget(backend)
    widget.resize(640, 440)
    widget.move(0, 0)
    widget.show()
    _spin(0.3)
    widget.load(clip)
    ready = backend.wait_ready()
    widget.setFocus()
    backend.play()
    _spin(1.0)
    backend.pause()
    widget.refresh()
    _spin(0.4)
    result = {
        "platform": QGuiApplication.platformName(),
        "embedded": backend.embedded,
        "ready": ready,
        "position_ms": backend.position_ms(),
        "length_ms": backend.length_ms(),
        "time_label": widget.transport.time_label.text(),
        "frame_label": widget.transport.frame_label.text(),
        "surface": _grab(widget.surface, out / "embedded-surface.png"),
        "player": _grab(widget, out / "embedded-player.png"),
    }
    widget.release()
    widget.close()
    app.processEvents()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
