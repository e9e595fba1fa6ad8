"""Leave out of the bundle what Takestock does not use, with what only that needed.

PyInstaller's Qt hooks collect every plugin of a kind (all platforms, all input contexts,
all platform themes) and then every library those plugins link to, copied from the
build machine. :func:`trim` drops the plugins named here and, with them, each library
that nothing kept still links to: the GTK 3 theme plugin takes GTK, ATK, Pango and
Cairo with it; the virtual keyboard takes Qt Quick and QML.

Used by ``takestock.spec``; it has no PyInstaller import, so it can be tested alone.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence

__all__ = ["LINUX_SYSTEM", "UNWANTED", "needed_linux", "needed_pyinstaller", "trim"]

#: (destination, source, typecode): PyInstaller's TOC entries.
Entry = tuple[str, str, str]

# Qt plugins: PySide6/Qt/plugins on Linux and macOS, PySide6/plugins on Windows.
_PLUGINS = "PySide6/*plugins"

#: Libraries the Linux bundle takes from the system, with the Debian package of each
#: (build-deb.sh's Depends). The bundle's folder comes first on the library path of the
#: whole process, so a copy in the bundle would also be what the system's libvlc plugins,
#: Mesa's drivers and input methods get: a C++ runtime older than theirs ("GLIBCXX_3.4.32
#: not found"), a fontconfig that cannot read the system's configuration, a PulseAudio
#: client that does not match the server. Copies made by auditwheel for a wheel
#: (``av.libs/``, ``pillow.libs/``) are private to it and stay.
LINUX_SYSTEM: tuple[tuple[str, str], ...] = (
    ("libstdc++.so.6", "libstdc++6"),
    ("libgcc_s.so.1", "libgcc-s1"),
    ("libmvec.so.1", "libc6"),  # part of glibc: it must match the system's libc
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libgthread-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libpulse.so.0", "libpulse0"),
    ("libpulsecommon-*.so", "libpulse0"),
    ("libX11.so.6", "libx11-6"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libXau.so.6", "libxau6"),
    ("libXdmcp.so.6", "libxdmcp6"),
    ("libXext.so.6", "libxext6"),
    ("libXrandr.so.2", "libxrandr2"),
    ("libXrender.so.1", "libxrender1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-glx.so.0", "libxcb-glx0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
)

#: Patterns over destinations in the bundle ("/"-separated), per platform.
UNWANTED: dict[str, tuple[str, ...]] = {
    "common": (
        # The on-screen keyboard: it alone pulls in Qt Quick, QML and their plugins.
        f"{_PLUGINS}/platforminputcontexts/*virtualkeyboard*",
        # Qt's network-reachability backends: the app's HTTP goes through httpx.
        f"{_PLUGINS}/networkinformation/*",
    ),
    "linux": (
        # The GTK 3 platform theme: with it comes GTK 3 (8 MB) and its stack, copied from
        # the build machine only because something there had installed GTK.
        f"{_PLUGINS}/platformthemes/libqgtk3.so",
        # Wayland: VLC 3 cannot embed into a Wayland surface, so the app runs on X11
        # (XWayland on a Wayland desktop); Qt picks xcb when no wayland plugin is there.
        f"{_PLUGINS}/platforms/libqwayland*.so",
        f"{_PLUGINS}/wayland-*/*",
        # Platforms for embedded devices and their input and EGL device plugins.
        f"{_PLUGINS}/platforms/libqeglfs.so",
        f"{_PLUGINS}/platforms/libqlinuxfb.so",
        f"{_PLUGINS}/platforms/libqminimalegl.so",
        f"{_PLUGINS}/platforms/libqvkkhrdisplay.so",
        f"{_PLUGINS}/platforms/libqvnc.so",
        f"{_PLUGINS}/egldeviceintegrations/*",
        f"{_PLUGINS}/generic/*",
        # The system's libvlc is used (the .deb depends on libvlc5): a bundled copy would
        # look for its plugins inside the bundle and find none.
        "libvlc.so*",
        "libvlccore.so*",
        *(pattern for pattern, _package in LINUX_SYSTEM),
    ),
    "win32": (),
    "darwin": (),
}


def _matches(dest: str, patterns: Sequence[str]) -> bool:
    dest = dest.replace(os.sep, "/")
    return any(fnmatch.fnmatchcase(dest, pattern) for pattern in patterns)


def needed_linux(paths: Iterable[str]) -> dict[str, set[str]]:
    """DT_NEEDED names of each ELF file, from one ``objdump -p`` run per 200 files."""
    objdump = shutil.which("objdump")
    if objdump is None:  # PyInstaller itself needs objdump on Linux, so this is a broken setup
        raise RuntimeError("objdump is missing: install binutils")
    found: dict[str, set[str]] = {}
    paths = list(dict.fromkeys(paths))
    for start in range(0, len(paths), 200):
        chunk = paths[start : start + 200]
        result = subprocess.run(
            [objdump, "-p", *chunk], capture_output=True, text=True, check=False
        )
        current: set[str] | None = None
        for line in result.stdout.splitlines():
            # A file's section begins with "<path>:     file format elf64-x86-64".
            head, sep, _fmt = line.partition(":     file format ")
            if sep:
                current = found.setdefault(head, set())
            elif current is not None and line.strip().startswith("NEEDED"):
                current.add(line.split()[-1])
    return found


def needed_pyinstaller(paths: Iterable[str]) -> dict[str, set[str]]:
    """Imported library names of each file, through PyInstaller (pefile or macholib)."""
    from PyInstaller.depend.bindepend import get_imports

    return {
        path: {os.path.basename(name) for name, _resolved in get_imports(path)} for path in paths
    }


def trim(
    binaries: Sequence[Entry],
    patterns: Sequence[str],
    needed: Callable[[Iterable[str]], dict[str, set[str]]] | None = None,
) -> tuple[list[Entry], list[Entry]]:
    """``binaries`` without those matching ``patterns`` and the libraries only they need.

    A library is dropped when every bundled file that links to it is dropped too. Returns
    (kept, dropped).
    """
    if needed is None:
        needed = needed_linux if sys.platform.startswith("linux") else needed_pyinstaller
    dropped = {dest for dest, _src, _kind in binaries if _matches(dest, patterns)}
    if not dropped:
        return list(binaries), []
    by_name: dict[str, list[str]] = {}
    for dest, _src, _kind in binaries:
        by_name.setdefault(os.path.basename(dest), []).append(dest)
    links = needed([src for _dest, src, _kind in binaries if os.path.isfile(src)])
    deps = {
        dest: {d for name in links.get(src, ()) for d in by_name.get(name, ())}
        for dest, src, _kind in binaries
    }
    # Candidates: everything the dropped files link to, directly or not.
    candidates: set[str] = set()
    todo = list(dropped)
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep not in candidates and dep not in dropped:
                candidates.add(dep)
                todo.append(dep)
    # Keep a candidate as soon as a kept file links to it, and then what it links to.
    kept_candidates: set[str] = set()
    todo = [dest for dest, _src, _kind in binaries if dest not in dropped | candidates]
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep in candidates and dep not in kept_candidates:
                kept_candidates.add(dep)
                todo.append(dep)
    gone = dropped | (candidates - kept_candidates)
    kept = [entry for entry in binaries if entry[0] not in gone]
    return kept, [entry for entry in binaries if entry[0] in gone]
