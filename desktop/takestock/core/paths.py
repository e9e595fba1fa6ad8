"""Where Takestock keeps its data on this machine.

``TAKESTOCK_HOME`` overrides the platform's data folder, for tests and portable installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

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
        for folder in (self.root, self.media, self.incoming, self.thumbnails, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def data_paths() -> DataPaths:
    home = os.environ.get("TAKESTOCK_HOME")
    root = Path(home) if home else Path(platformdirs.user_data_dir("Takestock", appauthor=False))
    return DataPaths(root.expanduser().resolve())
