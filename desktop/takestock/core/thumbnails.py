"""The thumbnail cache: one JPEG poster per take's content, rebuilt whenever it is missing.

Posters live under the data folder's ``cache/thumbnails/`` as ``ab/<sha256>.jpg``, keyed
by the sha256 of the take's file, so two takes holding the same bytes share one poster
and a poster never goes stale (content-addressed files never change). The cache can be
deleted at any time: :meth:`ThumbnailCache.get_or_make` makes what is missing from the
video with :func:`takestock.core.media.poster_frame`.

Safe to call from several threads at once: a poster is written under a unique temporary
name and renamed into place, so a reader never sees half a JPEG, and two threads making
the same poster both succeed (the later rename wins, with identical bytes).
"""

from __future__ import annotations

import re
from pathlib import Path

from takestock.core.media import poster_frame

__all__ = ["THUMBNAIL_SIZE", "ThumbnailCache", "thumbnail_path"]

#: The largest poster made, in pixels (width, height); the aspect is kept, never enlarged.
THUMBNAIL_SIZE: tuple[int, int] = (320, 320)

_SHA256 = re.compile(r"[0-9a-f]{64}")


def thumbnail_path(root: Path, sha256: str) -> Path:
    """Where the poster of the file with this ``sha256`` lives under ``root``.

    Raises:
        ValueError: ``sha256`` is not 64 lower-case hex digits (it names a file: nothing
            else may reach the file system through it).
    """
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return root / sha256[:2] / f"{sha256}.jpg"


class ThumbnailCache:
    """Posters of takes, one JPEG per content hash.

    Attributes:
        root: the cache folder (``DataPaths.thumbnails``); created when first written.
        max_size: the bounding box posters are scaled into.
    """

    def __init__(self, root: Path, *, max_size: tuple[int, int] = THUMBNAIL_SIZE) -> None:
        self.root = Path(root)
        self.max_size = max_size

    def path_for(self, sha256: str) -> Path:
        """Where the poster for ``sha256`` is (or would be) kept."""
        return thumbnail_path(self.root, sha256)

    def get(self, sha256: str) -> Path | None:
        """The cached poster, or ``None`` when it has not been made (or was deleted)."""
        path = self.path_for(sha256)
        return path if path.is_file() else None

    def get_or_make(self, sha256: str, video: Path) -> Path:
        """The poster for ``sha256``, made from ``video`` first when it is missing.

        Raises:
            MediaError: no poster is cached and ``video`` is missing or unreadable.
            ValueError: ``sha256`` is not a hex digest.
        """
        path = self.path_for(sha256)
        if path.is_file():
            return path
        return poster_frame(Path(video), path, max_size=self.max_size)

    def discard(self, sha256: str) -> None:
        """Forget one poster (it is made again on next use)."""
        self.path_for(sha256).unlink(missing_ok=True)
