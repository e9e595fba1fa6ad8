"""The About box, and the app's icon.

:class:`AboutDialog` shows the name, the version (from the package metadata, which
pyproject sets and the bundle carries), the data folder, and the components the app
ships with and their licences. :func:`app_icon` loads the icon from
``takestock.resources/icons`` for the window, the tray and the dialog.
"""

from __future__ import annotations

import importlib
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType

from PySide6.QtCore import QCoreApplication, Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from takestock import __version__

__all__ = ["ICON_SIZES", "AboutDialog", "Component", "app_icon", "bundled_components"]

#: The PNG sizes shipped in ``resources/icons`` (rendered from the SVG by
#: installers/make_icons.py).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _tr(text: str) -> str:
    return QCoreApplication.translate("AboutDialog", text)


def app_icon() -> QIcon:
    """Takestock's icon at every shipped size; empty if the files are missing."""
    icon = QIcon()
    folder = resources.files("takestock.resources") / "icons"
    for size in ICON_SIZES:
        pixmap = QPixmap()
        try:
            data = (folder / f"takestock-{size}.png").read_bytes()
        except OSError:
            continue
        if pixmap.loadFromData(data, "PNG"):
            icon.addPixmap(pixmap)
    return icon


# ------------------------------------------------------------------ components


@dataclass(frozen=True, slots=True)
class Component:
    """Something Takestock ships with, as the About box lists it.

    Attributes:
        name: what it is called.
        version: as found at run time; "" when it cannot be told (not loaded yet).
        licence: its licence, in short.
    """

    name: str
    version: str
    licence: str


def _loaded(name: str) -> ModuleType | None:
    """The module if it imports; None if it is not installed or its library fails."""
    try:
        return importlib.import_module(name)
    except Exception:  # a binding whose native library is broken fails in many ways
        return None


def _attr(name: str, attribute: str = "__version__", *, load: bool = True) -> Callable[[], str]:
    def version() -> str:
        module = _loaded(name) if load else sys.modules.get(name)
        return str(getattr(module, attribute, "")) if module is not None else ""

    return version


def _dist(name: str) -> Callable[[], str]:
    def version() -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:  # frozen: only takestock's metadata is bundled
            return ""

    return version


def _libvlc() -> str:
    # Only once the player has loaded it: importing python-vlc loads libvlc, and a broken
    # libvlc can take the process down (python-vlc exits on a bad PYTHON_VLC_LIB_PATH).
    vlc = sys.modules.get("vlc")
    if vlc is None:
        return ""
    try:
        raw = vlc.libvlc_get_version()
    except Exception:  # the library went away or never loaded
        return ""
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _components() -> tuple[tuple[str, Callable[[], str], str], ...]:
    return (
        ("Python", platform.python_version, "PSF License 2.0"),
        ("Qt", qVersion, "LGPL 3.0"),
        ("Qt for Python (PySide6)", _attr("PySide6"), "LGPL 3.0"),
        ("libVLC", _libvlc, "LGPL 2.1 or later"),
        ("python-vlc", _attr("vlc", load=False), "LGPL 2.1 or later"),
        ("FFmpeg in Qt Multimedia", lambda: "", "LGPL 2.1 or later"),
        (
            "FFmpeg in PyAV",
            _attr("av", "ffmpeg_version_info"),
            # PyAV's wheels build FFmpeg with the x264 and x265 encoders linked in.
            _tr("LGPL 3.0 or later; with x264, x265: GPL 2.0 or later"),
        ),
        ("PyAV", _attr("av"), "BSD 3-Clause"),
        ("Pillow", _attr("PIL"), "MIT-CMU"),
        ("HTTPX", _attr("httpx"), "BSD 3-Clause"),
        ("keyring", _dist("keyring"), "MIT"),
        ("platformdirs", _attr("platformdirs"), "MIT"),
        ("PyJWT", _attr("jwt"), "MIT"),
        ("google-auth", _attr("google.auth"), "Apache 2.0"),
        ("cryptography", _attr("cryptography"), "Apache 2.0 or BSD 3-Clause"),
        ("websockets", _attr("websockets"), "BSD 3-Clause"),
    )


def bundled_components() -> list[Component]:
    """The components with their versions as found now (cheap: most are loaded already)."""
    return [Component(name, version(), licence) for name, version, licence in _components()]


def licence_folder() -> Path | None:
    """Where the bundle keeps the licence texts; None when running from source."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:
        return None
    folder = Path(bundle) / "licenses"
    return folder if folder.is_dir() else None


# ------------------------------------------------------------------ dialog


class AboutDialog(QDialog):
    """Name, version, data folder, and the licences of the bundled components.

    Attributes:
        data_folder: the folder the dialog shows (and opens on request).
        components: what the component table lists.
    """

    def __init__(
        self,
        data_folder: Path,
        parent: QWidget | None = None,
        components: list[Component] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Takestock"))
        self.data_folder = data_folder
        self.components = bundled_components() if components is None else components
        self._licences = licence_folder()

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        name = QLabel("Takestock")
        font = name.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        name.setFont(font)
        self.version_label = QLabel(self.tr("Version %s") % __version__)
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        tagline = QLabel(self.tr("One studio for AI video made with many vendors."))
        heading = QVBoxLayout()
        heading.addWidget(name)
        heading.addWidget(self.version_label)
        heading.addWidget(tagline)
        heading.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(heading, 1)

        self.folder_label = QLabel(str(data_folder))
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setWordWrap(True)
        self._open_folder = QPushButton(self.tr("Open"))
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel(self.tr("Data folder:")))
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self._open_folder)

        table = QGridLayout()
        table.setHorizontalSpacing(16)
        table.setVerticalSpacing(2)
        for column, title in enumerate((self.tr("Built with"), "", self.tr("Licence"))):
            header = QLabel(f"<b>{title}</b>")
            table.addWidget(header, 0, column)
        for row, component in enumerate(self.components, start=1):
            table.addWidget(QLabel(component.name), row, 0)
            table.addWidget(QLabel(component.version), row, 1)
            table.addWidget(QLabel(component.licence), row, 2)
        table.setColumnStretch(2, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self._copy = buttons.addButton(
            self.tr("Copy details"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self._open_licences = buttons.addButton(
            self.tr("Licence texts"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self._open_licences.setVisible(self._licences is not None)
        self._buttons = buttons

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addSpacing(8)
        layout.addLayout(folder_row)
        layout.addSpacing(8)
        layout.addLayout(table)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._buttons.rejected.connect(self.reject)
        self._open_folder.clicked.connect(self._on_open_folder)
        self._copy.clicked.connect(self._on_copy)
        self._open_licences.clicked.connect(self._on_open_licences)

    def details(self) -> str:
        """Plain text for a bug report: version, platform, data folder, components."""
        lines = [
            f"Takestock {__version__}",
            f"{platform.system()} {platform.release()} ({platform.machine()})",
            f"Qt platform: {QGuiApplication.platformName()}",
            f"Data folder: {self.data_folder}",
        ]
        lines += [f"{c.name} {c.version}".rstrip() for c in self.components]
        return "\n".join(lines)

    def _on_open_folder(self) -> None:
        self.data_folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))

    def _on_open_licences(self) -> None:
        if self._licences is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._licences)))

    def _on_copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details())
