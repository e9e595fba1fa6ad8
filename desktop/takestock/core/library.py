"""The media store: video files kept by content under ``media/ab/abcdef….ext``.

A file enters only whole and checked: it is probed (a readable video with a duration),
its first picture decoded, hashed, and renamed into place in one step. Files in progress live in
``media/.incoming`` and never appear in the library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from takestock.core.media import MediaInfo, check_decodes, probe
from takestock.core.paths import DataPaths

__all__ = ["MediaLibrary", "StoredMedia", "sha256_of"]


@dataclass(frozen=True, slots=True)
class StoredMedia:
    sha256: str
    path: Path
    info: MediaInfo
    new: bool = True


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class MediaLibrary:
    def __init__(self, paths: DataPaths) -> None:
        self.root = paths.media
        self.incoming = paths.incoming
        self.incoming.mkdir(parents=True, exist_ok=True)

    def part_path(self, job_id: int) -> Path:
        """Where a job's download accumulates; kept across restarts so it can resume."""
        return self.incoming / f"job-{job_id}.part"

    def target_for(self, sha256: str, suffix: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def ingest(self, source: Path, *, move: bool, suffix: str = ".mp4") -> StoredMedia:
        """Check ``source`` and put it in the store; raises ``MediaError`` if unreadable.

        With ``move`` the source is consumed (downloads); otherwise it is copied
        (imports of the user's own files, which stay where they are).
        ``StoredMedia.new`` says whether this call put the file there (so a caller whose
        record then fails can take it out again without touching another take's file).
        """
        info = probe(source)
        check_decodes(source)
        sha = sha256_of(source)
        target = self.target_for(sha, suffix.lower())
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if move:
                source.unlink()
            return StoredMedia(sha, target, info, new=False)
        if move:
            os.replace(source, target)
        else:
            fd, tmp = tempfile.mkstemp(dir=self.incoming, suffix=".import")
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredMedia(sha, target, info)
