"""Where Takestock keeps its data on this machine.

``TAKESTOCK_HOME`` overrides the platform's data folder, for tests and portable installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from takestock.core.errors import InvalidInput
from takestock.core.store import storage_fault

__all__ = ["DataPaths", "data_paths"]


@dataclass(frozen=True, slots=True)
class DataPaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "takestock.sqlite3"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def incoming(self) -> Path:
        """Downloads in progress; on the media folder's file system so renames are atomic."""
        return self.root / "media" / ".incoming"

    @property
    def thumbnails(self) -> Path:
        return self.root / "cache" / "thumbnails"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def catalog_overrides(self) -> Path:
        return self.root / "catalog-overrides.json"

    @property
    def sandbox(self) -> Path:
        """The sandbox vendor's own state: it plays a remote service, not part of our tables."""
        return self.root / "sandbox"

    def ensure(self) -> DataPaths:
        """Make the folders; a file in the way, a full disk or a read-only place is
        said as such (InvalidInput naming TAKESTOCK_HOME, or a StorageFault)."""
        for folder in (self.root, self.media, self.incoming, self.thumbnails, self.logs):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                blocker = next((p for p in (folder, *folder.parents) if p.is_file()), folder)
                raise InvalidInput(
                    "TAKESTOCK_HOME" if os.environ.get("TAKESTOCK_HOME") else "data folder",
                    f"{blocker} is a file, where Takestock needs a folder; point "
                    "TAKESTOCK_HOME at a folder (it is made if missing)",
                ) from None
            except OSError as exc:
                fault = storage_fault(exc, _existing_parent(folder))
                if fault is None:
                    raise
                raise fault from exc
        return self


def _existing_parent(folder: Path) -> Path:
    return next((p for p in (folder, *folder.parents) if p.exists()), folder)


def data_paths() -> DataPaths:
    home = os.environ.get("TAKESTOCK_HOME")
    if home and "\x00" in home:
        raise InvalidInput("TAKESTOCK_HOME", "contains a NUL character")
    root = Path(home) if home else Path(platformdirs.user_data_dir("Takestock", appauthor=False))
    try:
        return DataPaths(root.expanduser().resolve())
    except (OSError, RuntimeError) as exc:  # RuntimeError: a link loop before Python 3.13
        raise InvalidInput("TAKESTOCK_HOME", f"{home or root} cannot be used ({exc})") from None
