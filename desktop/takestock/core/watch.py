"""A watch folder (the user's Downloads by default) for takes made on vendors' websites."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["VIDEO_SUFFIXES", "WatchFolder", "default_watch_folder"]

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".webm", ".mkv", ".m4v"})


def default_watch_folder() -> Path:
    return Path(platformdirs.user_downloads_dir())


@dataclass
class WatchFolder:
    """Finds video files that appeared since the last look.

    A file still being written (its size changed since the previous look) is offered only
    once its size is stable, so a half-downloaded file is never attached.
    """

    folder: Path
    since: float

    def __post_init__(self) -> None:
        self._sizes: dict[Path, int] = {}
        self._offered: set[Path] = set()

    def new_videos(self) -> list[Path]:
        found = []
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return []
        for path in sorted(entries):
            if path.suffix.lower() not in VIDEO_SUFFIXES or path in self._offered:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if stat.st_mtime < self.since:
                continue
            if self._sizes.get(path) == stat.st_size and stat.st_size > 0:
                self._offered.add(path)
                found.append(path)
            self._sizes[path] = stat.st_size
        return found
