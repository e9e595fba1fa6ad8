"""The licence texts of what the bundle ships, gathered into ``<bundle>/licenses``.

Each Python distribution Takestock needs at run time (pyproject's dependencies, followed
recursively through the build environment's installed metadata) contributes the licence files its
wheel carries, under ``licenses/<name>/``. Python's own licence comes from the build
interpreter. The Qt for Python wheels carry no licence file, so ``licenses/README.txt``
names Qt's licence and where its source is, and libVLC's and FFmpeg's. The About box
opens this folder.

Used by ``takestock.spec``; it has no PyInstaller import, so it can be tested alone.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

__all__ = ["README", "licence_datas", "runtime_distributions"]

_LICENCE_FILE = re.compile(r"(licen[cs]e|copying|notice|authors)", re.IGNORECASE)

README = """\
Takestock bundles the components below. Each folder here holds the licence files that
the component's own package ships; PYTHON holds Python's.

Qt 6 and Qt for Python (PySide6, shiboken6): GNU LGPL 3.0
  https://www.gnu.org/licenses/lgpl-3.0.html
  Source: https://download.qt.io/official_releases/QtForPython/ and
  https://download.qt.io/official_releases/qt/
  Qt's libraries are separate files under _internal/PySide6/Qt/lib and can be replaced.

FFmpeg: Qt Multimedia's (under _internal/PySide6/Qt/lib) is GNU LGPL 2.1 or later;
  PyAV's (under _internal/av.libs) is GNU LGPL 3.0 or later as built, and links the x264
  and x265 encoders, which are GNU GPL 2.0 or later.
  Source: https://ffmpeg.org/ and https://github.com/PyAV-Org/pyav-ffmpeg

libVLC (Windows and macOS bundles, under vlc/ and beside the app's libraries):
  GNU LGPL 2.1 or later. Source: https://www.videolan.org/vlc/download-sources.html
  On Linux the system's libVLC is used and none is bundled.
"""


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wanted(line: str) -> str | None:
    requirement = Requirement(line)
    if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
        return requirement.name
    return None


def runtime_distributions(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need at run time, recursively.

    Raises PackageNotFoundError for a top-level requirement that is not installed (the
    bundle would lack it too); a nested one for another platform is skipped.
    """
    found: dict[str, metadata.Distribution] = {}
    todo = [(name, True) for name in map(_wanted, requirements) if name]
    while todo:
        name, top = todo.pop()
        if _key(name) in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if top:
                raise
            continue
        found[_key(name)] = dist
        todo += [(sub, False) for sub in map(_wanted, dist.requires or []) if sub]
    return sorted(found.values(), key=lambda d: _key(d.metadata["Name"]))


def licence_datas(workdir: Path, requirements: list[str]) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for PyInstaller's ``datas``."""
    datas = []
    for dist in runtime_distributions(requirements):
        name = _key(dist.metadata["Name"])
        for file in dist.files or []:
            if _LICENCE_FILE.search(file.name) and file.suffix not in (".py", ".pyc"):
                path = Path(str(file.locate()))
                if path.is_file():
                    datas.append((str(path), f"licenses/{name}"))
    python_licence = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if not python_licence.is_file():  # Windows keeps it beside python.exe
        python_licence = Path(sys.base_prefix) / "LICENSE.txt"
    if python_licence.is_file():
        datas.append((str(python_licence), "licenses/PYTHON"))
    workdir.mkdir(parents=True, exist_ok=True)
    readme = workdir / "README.txt"
    readme.write_text(README, encoding="utf-8")
    datas.append((str(readme), "licenses"))
    return datas
