"""The Linux bundle: PyInstaller builds it, build-deb.sh packages it, and it runs.

One build per run (about a minute, in a temporary folder): the onedir bundle from
``installers/pyinstaller/takestock.spec``, then the ``.deb`` and ``.tar.gz`` from
``installers/linux/build-deb.sh --fast``. The tests check the package's control data and
file list, that its Depends covers every library the bundle links to outside itself, and
run ``takestock --version``, ``gui`` (to its first paint) and ``--self-test`` from the
unpacked ``.deb``, offscreen with a fresh HOME and TAKESTOCK_HOME, side by side with
``python -m takestock`` doing the same. The build time, the sizes and the start-up times
are printed (figures, never asserted).

Without PyInstaller (the ``bundle`` extra), dpkg-deb, objdump or desktop-file-validate,
these tests skip, except on CI (``CI`` set), where a missing tool fails them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "installers" / "pyinstaller" / "takestock.spec"
BUILD_DEB = ROOT / "installers" / "linux" / "build-deb.sh"
MAKE_ICONS = ROOT / "installers" / "make_icons.py"
DESKTOP_ENTRY = ROOT / "resources" / "takestock.desktop"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
#: As build-deb.sh writes it: a PEP 440 pre-release sorts before its release with a tilde.
DEB_VERSION = re.sub(r"\.?(a|b|rc|dev)(\d+)", r"~\1\2", VERSION)
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

#: What Qt's xcb platform and the player need from the system, at the least.
REQUIRED_DEPENDS = {
    "libvlc5",
    "vlc-plugin-base",
    "vlc-plugin-video-output",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libglib2.0-0",
    "libdbus-1-3",
    "libx11-xcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
}

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the Linux bundle builds on Linux only"
)
pytestmark = [linux_only]


def _need(*tools: str, pyinstaller: bool = False) -> None:
    """Skip (fail on CI) unless the tools are there."""
    missing = [t for t in tools if shutil.which(t) is None]
    if pyinstaller and importlib.util.find_spec("PyInstaller") is None:
        missing.insert(0, "PyInstaller (pip install -e '.[bundle]')")
    if not missing:
        return
    message = f"bundling tools missing: {', '.join(missing)}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must build the bundle: install them)")
    pytest.skip(f"{message}; make test runs this where they are installed")


def _run(
    args: Sequence[str | Path], timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _tail(result: subprocess.CompletedProcess[str], chars: int = 3000) -> str:
    return f"exit {result.returncode}\n{(result.stdout + result.stderr)[-chars:]}"


def _du_mb(path: Path) -> float:
    """Disk usage, as ``du`` counts it."""
    out = _run(["du", "-sk", path]).stdout.split()[0]
    return int(out) / 1024


# ------------------------------------------------------------------ fast checks


def test_desktop_entry_is_valid():
    _need("desktop-file-validate")
    result = _run(["desktop-file-validate", DESKTOP_ENTRY])
    assert result.returncode == 0, _tail(result)
    assert not result.stdout.strip(), _tail(result)  # hints are printed with exit 0
    entry = dict(
        line.split("=", 1) for line in DESKTOP_ENTRY.read_text().splitlines() if "=" in line
    )
    assert entry["Exec"] == "takestock"
    assert entry["Icon"] == "takestock"


#: How far a committed icon may stand from this machine's rendering of the SVG, per RGBA
#: channel on the 0-255 scale. Qt's rasteriser differs by machine (antialiasing on
#: edges, a pixel here and there), never by a drawing: a changed SVG moves the mean by
#: tens, a rasteriser by well under one.
ICON_MEAN_TOLERANCE = 3.0
ICON_MAX_TOLERANCE = 160

_RENDER_ICONS = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import make_icons
out = Path(sys.argv[2])
for size in sorted({*make_icons.PNG_SIZES, *make_icons.ICO_SIZES, *make_icons.ICNS_SIZES}):
    make_icons.render(size).save(out / f"{size}.png")
"""


def _pixel_distance(a, b) -> tuple[float, int]:
    """Per-channel mean and largest absolute difference of two RGBA images."""
    from PIL import ImageChops, ImageStat

    assert a.size == b.size, (a.size, b.size)
    diff = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    mean = max(ImageStat.Stat(diff).mean)
    largest = max(high for _, high in diff.getextrema())
    return mean, largest


def _close_enough(a, b) -> bool:
    mean, largest = _pixel_distance(a, b)
    return mean <= ICON_MEAN_TOLERANCE and largest <= ICON_MAX_TOLERANCE


def test_icon_files_are_rendered_from_the_svg(tmp_path):
    from PIL import Image, ImageOps

    # A subprocess: the renderer makes a QGuiApplication, which must not be this
    # process's (pytest-qt needs a QApplication here).
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    script = [sys.executable, "-c", _RENDER_ICONS, str(MAKE_ICONS.parent), str(tmp_path)]
    result = _run(script, timeout=120, env=env)
    assert result.returncode == 0, _tail(result)
    make_icons = _load(MAKE_ICONS)
    rendered = {
        size: Image.open(tmp_path / f"{size}.png").convert("RGBA")
        for size in {*make_icons.PNG_SIZES, *make_icons.ICO_SIZES, *make_icons.ICNS_SIZES}
    }
    icons = ROOT / "resources" / "icons"
    files = {icons / f"takestock-{size}.png": (size,) for size in ICON_SIZES}
    files[icons / "takestock.ico"] = make_icons.ICO_SIZES
    files[icons / "takestock.icns"] = make_icons.ICNS_SIZES
    far: list[str] = []
    for path, sizes in files.items():
        stored = make_icons._stored(path)
        if path.suffix == ".icns":  # Pillow reads back only some of the entries it writes
            assert max(stored) == max(sizes), path
        else:
            assert sorted(stored) == sorted(sizes), path
        for width, image in stored.items():
            mean, largest = _pixel_distance(image, rendered[width])
            print(f"{path.name} {width}px: mean {mean:.2f}, max {largest}")
            if not _close_enough(image, rendered[width]):
                far.append(f"{path.name} at {width}px (mean {mean:.2f}, max {largest})")
    assert not far, f"stale icon files, run installers/make_icons.py: {', '.join(far)}"
    # The measure tells a different drawing from a different rasteriser.
    for size in (16, 64, 256):
        assert not _close_enough(rendered[size], ImageOps.mirror(rendered[size].rotate(90)))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_takestock_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _installer_module(name: str):
    path = ROOT / "installers" / "pyinstaller" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_takestock_installers_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("patterns", "dropped"),
    [
        # The GTK theme goes, with GTK and ATK; GLib stays, Qt links to it too.
        (["PySide6/*plugins/platformthemes/libqgtk3.so"], {"gtk3", "libgtk", "libatk"}),
        # Drop GLib as well: now nothing kept links to it.
        (["PySide6/*plugins/platformthemes/libqgtk3.so", "libglib*"], None),
        ([], set()),
    ],
)
def test_trim_drops_what_only_the_dropped_link_to(patterns, dropped):
    trim = _installer_module("trim")
    files = {
        "gtk3": "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "libgtk": "libgtk-3.so.0",
        "libatk": "libatk-1.0.so.0",
        "libglib": "libglib-2.0.so.0",
        "qtcore": "PySide6/Qt/lib/libQt6Core.so.6",
    }
    links = {
        "gtk3": {"libgtk-3.so.0", "libglib-2.0.so.0"},
        "libgtk": {"libatk-1.0.so.0", "libglib-2.0.so.0"},
        "qtcore": {"libglib-2.0.so.0"},
    }
    binaries = [(dest, f"/src/{key}", "BINARY") for key, dest in files.items()]
    kept, gone = trim.trim(
        binaries, patterns, needed=lambda _paths: {f"/src/{k}": v for k, v in links.items()}
    )
    if dropped is None:
        dropped = {"gtk3", "libgtk", "libatk", "libglib"}
    assert {dest for dest, _src, _kind in gone} == {files[key] for key in dropped}
    assert len(kept) + len(gone) == len(binaries)


# ------------------------------------------------------------------ the build


@dataclass
class Built:
    bundle: Path
    deb: Path
    tarball: Path
    figures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    _need("dpkg-deb", "objdump", pyinstaller=True)
    base = tmp_path_factory.mktemp("bundle")
    start = time.perf_counter()
    result = _run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            base / "dist",
            "--workpath",
            base / "work",
            SPEC,
        ],
        timeout=600,
    )
    build_s = time.perf_counter() - start
    assert result.returncode == 0, f"PyInstaller failed: {_tail(result)}"
    bundle = base / "dist" / "takestock"

    start = time.perf_counter()
    result = _run([BUILD_DEB, "--fast", bundle, base / "out"], timeout=300)
    package_s = time.perf_counter() - start
    assert result.returncode == 0, f"build-deb.sh failed: {_tail(result)}"
    deb, tarball = (Path(p) for p in result.stdout.split())
    figures = {
        "PyInstaller build": f"{build_s:.1f} s",
        "bundle size (du)": f"{_du_mb(bundle):.0f} MB",
        ".deb + .tar.gz (--fast)": f"{package_s:.1f} s",
        ".deb size (zstd -3)": f"{deb.stat().st_size / 2**20:.0f} MB",
        ".tar.gz size (gzip -1)": f"{tarball.stat().st_size / 2**20:.0f} MB",
    }
    yield Built(bundle, deb, tarball, figures)
    shutil.rmtree(base, ignore_errors=True)


def _control(deb: Path) -> dict[str, str]:
    result = _run(["dpkg-deb", "--field", deb])
    assert result.returncode == 0, _tail(result)
    fields: dict[str, str] = {}
    key = ""
    for line in result.stdout.splitlines():
        if line.startswith((" ", "\t")):
            fields[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _package_names(relation: str) -> set[str]:
    """Package names in a Depends-style field: versions and alternatives taken apart."""
    names = set()
    for clause in relation.split(","):
        for alternative in clause.split("|"):
            name = re.sub(r"\(.*?\)|\[.*?\]|:\w+", "", alternative).strip()
            if name:
                names.add(name)
    return names


@pytest.mark.slow
def test_deb_control_data(built: Built):
    result = _run(["dpkg-deb", "--info", built.deb])
    assert result.returncode == 0, _tail(result)
    fields = _control(built.deb)
    assert fields["Package"] == "takestock"
    assert fields["Version"] == DEB_VERSION
    assert fields["Architecture"] == _run(["dpkg", "--print-architecture"]).stdout.strip()
    assert int(fields["Installed-Size"]) > 50_000  # KiB
    depends = _package_names(fields["Depends"])
    assert depends >= REQUIRED_DEPENDS, f"missing from Depends: {REQUIRED_DEPENDS - depends}"
    assert re.search(r"libc6 \(>= 2\.\d+\)", fields["Depends"]), fields["Depends"]


@pytest.mark.slow
def test_deb_file_list(built: Built):
    result = _run(["dpkg-deb", "--contents", built.deb])
    assert result.returncode == 0, _tail(result)
    entries = {}
    for line in result.stdout.splitlines():
        mode, owner, *_rest = line.split(None, 5)
        path = line.split(" ./", 1)[1].split(" -> ")[0]
        entries["./" + path.rstrip("/")] = (mode, owner)
    wanted = [
        "./opt/takestock/takestock",
        "./usr/bin/takestock",
        "./usr/share/applications/takestock.desktop",
        "./usr/share/icons/hicolor/scalable/apps/takestock.svg",
        "./opt/takestock/_internal/licenses/README.txt",
        f"./opt/takestock/_internal/takestock-{VERSION}.dist-info/METADATA",
        *(f"./usr/share/icons/hicolor/{s}x{s}/apps/takestock.png" for s in ICON_SIZES),
    ]
    missing = [path for path in wanted if path not in entries]
    assert not missing, f"not in the .deb: {missing}"
    for exe in ("./opt/takestock/takestock", "./usr/bin/takestock"):
        assert entries[exe] == ("-rwxr-xr-x", "root/root"), (exe, entries[exe])
    # The shipped catalog, as the source tree has it.
    resources = ROOT / "resources"
    catalog = sorted(p.relative_to(resources) for p in resources.glob("catalog/**/*.json"))
    bundled = "./opt/takestock/_internal/takestock/resources/"
    missing = [str(c) for c in catalog if f"{bundled}{c.as_posix()}" not in entries]
    assert not missing, f"catalog files not bundled: {missing}"
    # What the spec leaves out (trim.py): the system's libvlc is used; no GTK, no Wayland.
    unwanted = re.compile(r"/(libvlc(core)?\.so|libqgtk3\.so|libgtk-3\.so|libqwayland)")
    assert not [p for p in entries if unwanted.search(p)]


def _elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def _external_libraries(bundle: Path) -> tuple[set[str], set[str]]:
    """Libraries the bundle's ELF files load from outside it, and those not found at all."""
    internal = bundle / "_internal"
    elves = [
        str(p) for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink() and _elf(p)
    ]
    elves.append(str(bundle / "takestock"))
    # As the bootloader runs it: the bundle's folder first on the library path.
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    outside, not_found = set(), set()
    for start in range(0, len(elves), 100):
        result = _run(["ldd", *elves[start : start + 100]], env=env)
        for line in result.stdout.splitlines():
            name, arrow, target = line.strip().partition(" => ")
            if not arrow:
                continue
            if target.startswith("not found"):
                not_found.add(name)
            elif (path := target.split(" (")[0]) and not path.startswith(str(bundle)):
                outside.add(path)
    return outside, not_found


def _owning_packages(paths: set[str]) -> dict[str, str]:
    """The Debian package of each file (usr-merged or not)."""
    candidates = {}
    for path in paths:
        real = os.path.realpath(path)
        for alias in (path, real, real.removeprefix("/usr"), "/usr" + path):
            candidates[alias] = path
    result = _run(["dpkg", "-S", *sorted(candidates)])
    owners: dict[str, str] = {}
    for line in result.stdout.splitlines():
        packages, _, file = line.rpartition(": ")
        if file in candidates:
            owners[candidates[file]] = packages.split(",")[0].split(":")[0].strip()
    return owners


def _installed_closure(packages: set[str]) -> set[str]:
    """``packages`` and everything they depend on, as installed here."""
    seen, todo = set(), set(packages)
    while todo:
        seen |= todo
        result = _run(
            ["dpkg-query", "-W", "-f", "${Depends},${Pre-Depends},${Provides}\n", *sorted(todo)]
        )
        todo = _package_names(result.stdout.replace("\n", ",")) - seen
    return seen


@pytest.mark.slow
def test_deb_depends_cover_every_library_the_bundle_links(built: Built):
    outside, not_found = _external_libraries(built.bundle)
    assert not not_found, f"libraries the bundle needs and this machine lacks: {not_found}"
    owners = _owning_packages(outside)
    unowned = sorted(outside - set(owners))
    assert not unowned, f"libraries from no Debian package: {unowned}"
    covered = _installed_closure(_package_names(_control(built.deb)["Depends"]))
    uncovered = {f"{pkg} ({Path(lib).name})" for lib, pkg in owners.items() if pkg not in covered}
    assert not uncovered, (
        f"the bundle links to these; the .deb does not depend on them: {uncovered}"
    )


# ------------------------------------------------------------------ running it


def _fresh_env(home: Path) -> dict[str, str]:
    """A user who never ran Takestock: a new HOME and data folder, no keys, offscreen."""
    home.mkdir(parents=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "TAKESTOCK_HOME": str(home / "takestock"),
        "QT_QPA_PLATFORM": "offscreen",
    }


def _timed(args: Sequence[str | Path], env: dict[str, str], timeout: float = 180):
    start = time.perf_counter()
    result = _run(args, env=env, timeout=timeout)
    return result, time.perf_counter() - start


@pytest.mark.slow
def test_bundled_app_runs_like_the_source(built: Built, tmp_path: Path, capsys):
    # The app as the .deb ships it: unpacked, permissions and symlinks as packaged.
    unpacked = tmp_path / "unpacked"
    result = _run(["dpkg-deb", "--extract", built.deb, unpacked])
    assert result.returncode == 0, _tail(result)
    bundled = [unpacked / "opt" / "takestock" / "takestock"]
    source = [sys.executable, "-m", "takestock"]
    times: dict[str, dict[str, float]] = {"bundle": {}, "python -m takestock": {}}
    for label, command in (("bundle", bundled), ("python -m takestock", source)):
        version_s = []
        for run in range(3):
            env = _fresh_env(tmp_path / f"{label[:6]}-version-{run}")
            result, seconds = _timed([*command, "--version"], env)
            assert result.returncode == 0, _tail(result)
            assert result.stdout.strip() == f"Takestock {VERSION}"
            version_s.append(seconds)
        times[label]["--version (median of 3)"] = statistics.median(version_s)

        paint_s = []
        for run in range(3):
            env = _fresh_env(tmp_path / f"{label[:6]}-gui-{run}")
            env["TAKESTOCK_STARTUP_PROBE"] = "1"  # app.py prints the first paint's time, quits
            start = time.monotonic()
            result, _seconds = _timed([*command, "gui"], env, timeout=120)
            assert result.returncode == 0, _tail(result)
            painted = re.search(r"^first-paint ([0-9.]+)$", result.stdout, re.MULTILINE)
            assert painted, f"no first-paint line: {_tail(result)}"
            paint_s.append(float(painted[1]) - start)
        times[label]["gui: first paint (median of 3)"] = statistics.median(paint_s)

        env = _fresh_env(tmp_path / f"{label[:6]}-self-test")
        # The self-test never uses the user's library (TAKESTOCK_HOME): it makes its own
        # folder, or uses the one --home names, and prints where it rendered the screens.
        chosen = tmp_path / f"{label[:6]}-self-test-home"
        result, seconds = _timed([*command, "--self-test", "--home", str(chosen)], env)
        assert result.returncode == 0, _tail(result)
        out = Path(result.stdout.strip().splitlines()[-1])
        assert out.resolve() == (chosen / "self-test").resolve()
        assert not (Path(env["TAKESTOCK_HOME"]) / "self-test").exists()
        assert sorted(p.name for p in out.glob("*.png")), f"no screens rendered in {out}"
        times[label]["--self-test"] = seconds

    lines = [f"{name:<32} {value}" for name, value in built.figures.items()]
    lines.append(f"{'':<32} {'bundle':>8} {'python -m':>10}")
    for name in times["bundle"]:
        bundle_s, source_s = times["bundle"][name], times["python -m takestock"][name]
        lines.append(f"{name:<32} {bundle_s:>7.2f}s {source_s:>9.2f}s")
    with capsys.disabled():  # figures for the note, shown under -q too
        print("\nLinux bundle figures:\n  " + "\n  ".join(lines))
