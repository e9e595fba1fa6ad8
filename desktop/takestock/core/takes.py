"""Takes: the videos we hold, what they are, and what the creator thinks of them."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from takestock.core.errors import InvalidInput
from takestock.core.library import MediaLibrary, StoredMedia
from takestock.core.prompts import find_or_create_adhoc
from takestock.core.store import Store

__all__ = [
    "VERDICTS",
    "Take",
    "TakeFilter",
    "get_take",
    "import_files",
    "insert_take",
    "iter_takes",
    "list_takes",
    "rate_take",
]

Verdict = Literal["usable", "reject", "unrated"]
VERDICTS: tuple[Verdict, ...] = ("usable", "reject", "unrated")


@dataclass(frozen=True, slots=True)
class Take:
    id: int
    job_id: int | None
    request_id: int | None
    vendor: str
    model: str
    path: Path
    sha256: str
    size_bytes: int
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool
    verdict: Verdict
    stars: int | None
    reasons: tuple[str, ...]
    notes: str
    source: str
    prompt: str | None
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "request_id": self.request_id,
            "vendor": self.vendor,
            "model": self.model,
            "path": str(self.path),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "duration_s": self.duration_s,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "video_codec": self.video_codec,
            "has_audio": self.has_audio,
            "verdict": self.verdict,
            "stars": self.stars,
            "reasons": list(self.reasons),
            "notes": self.notes,
            "source": self.source,
            "prompt": self.prompt,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class TakeFilter:
    vendor: str | None = None
    model: str | None = None
    verdict: Verdict | None = None
    search: str = ""
    request_id: int | None = None
    limit: int | None = None
    offset: int = 0


_SELECT = """
    SELECT take.*, request.prompt AS prompt
    FROM take LEFT JOIN request ON request.id = take.request_id
"""


def _take(row: sqlite3.Row, media_root: Path) -> Take:
    return Take(
        id=row["id"],
        job_id=row["job_id"],
        request_id=row["request_id"],
        vendor=row["vendor"],
        model=row["model"],
        path=media_root / row["path"],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        duration_s=row["duration_s"],
        width=row["width"],
        height=row["height"],
        fps=row["fps"],
        video_codec=row["video_codec"],
        has_audio=bool(row["has_audio"]),
        verdict=row["verdict"],
        stars=row["stars"],
        reasons=tuple(json.loads(row["reasons"])),
        notes=row["notes"],
        source=row["source"],
        prompt=row["prompt"],
        created_at=row["created_at"],
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_takes(store: Store, media_root: Path, where: TakeFilter = TakeFilter()) -> list[Take]:
    """Takes matching ``where``, newest first."""
    return list(iter_takes(store, media_root, where))


def iter_takes(store: Store, media_root: Path, where: TakeFilter = TakeFilter()) -> Iterator[Take]:
    """Takes matching ``where``, newest first, one at a time (a library may be large)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("take.vendor", where.vendor),
        ("take.model", where.model),
        ("take.verdict", where.verdict),
        ("take.request_id", where.request_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if where.search:
        clauses.append("request.prompt LIKE ? ESCAPE '\\'")
        params.append(_like(where.search))
    sql = _SELECT + (" WHERE " + " AND ".join(clauses) if clauses else "")
    sql += " ORDER BY take.created_at DESC, take.id DESC"
    if where.limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [where.limit, where.offset]
    for row in store.execute(sql, params):
        yield _take(row, media_root)


def get_take(store: Store, media_root: Path, take_id: int) -> Take:
    row = store.one(_SELECT + " WHERE take.id = ?", (take_id,))
    if row is None:
        raise InvalidInput("take", f"no take {take_id}")
    return _take(row, media_root)


def insert_take(
    store: Store,
    stored: StoredMedia,
    media_root: Path,
    *,
    vendor: str,
    model: str,
    job_id: int | None = None,
    request_id: int | None = None,
    source: str = "generated",
    original_name: str | None = None,
) -> int:
    """Record a take; call inside the transaction that finishes its job."""
    info = stored.info
    cur = store.execute(
        "INSERT INTO take(job_id, request_id, vendor, model, sha256, path, size_bytes,"
        " duration_s, width, height, fps, video_codec, has_audio, source, original_name,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job_id,
            request_id,
            vendor,
            model,
            stored.sha256,
            stored.path.relative_to(media_root).as_posix(),
            info.size_bytes,
            info.duration_s,
            info.width,
            info.height,
            info.fps,
            info.video_codec,
            int(info.has_audio),
            source,
            original_name,
            time.time(),
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def rate_take(
    store: Store,
    take_id: int,
    *,
    verdict: Verdict | None = None,
    stars: int | None = None,
    reasons: Sequence[str] | None = None,
    notes: str | None = None,
) -> None:
    """Set what the creator thinks; fields left as None keep their value."""
    if verdict is not None and verdict not in VERDICTS:
        raise InvalidInput("verdict", f"must be one of {', '.join(VERDICTS)}")
    if stars is not None and not 1 <= stars <= 5:
        raise InvalidInput("stars", "must be 1 to 5")
    if store.one("SELECT 1 FROM take WHERE id = ?", (take_id,)) is None:
        raise InvalidInput("take", f"no take {take_id}")
    sets: list[str] = ["rated_at = ?"]
    params: list[Any] = [time.time()]
    if verdict is not None:
        sets.append("verdict = ?")
        params.append(verdict)
    if stars is not None:
        sets.append("stars = ?")
        params.append(stars)
    if reasons is not None:
        clean = list(dict.fromkeys(r.strip() for r in reasons if r.strip()))
        sets.append("reasons = ?")
        params.append(json.dumps(clean))
    if notes is not None:
        sets.append("notes = ?")
        params.append(notes)
    store.execute(f"UPDATE take SET {', '.join(sets)} WHERE id = ?", (*params, take_id))


def import_files(
    store: Store,
    library: MediaLibrary,
    paths: Sequence[Path],
    *,
    vendor: str = "unknown",
    model: str = "unknown",
    prompt: str | None = None,
) -> list[int]:
    """Import videos made elsewhere (a vendor's website); every file is checked first.

    Either all files are imported or none: a file that is not a readable video stops
    the import before anything is recorded.
    """
    stored: list[tuple[Path, StoredMedia]] = []
    for path in paths:
        if not path.is_file():
            raise InvalidInput("path", f"{path} is not a file")
        stored.append((path, library.ingest(path, move=False, suffix=path.suffix or ".mp4")))
    request_id: int | None = None
    with store.tx():
        if prompt:
            version = find_or_create_adhoc(store, prompt)
            cur = store.execute(
                "INSERT INTO request(prompt_version_id, prompt, params, created_at)"
                " VALUES (?, ?, ?, ?)",
                (version.id, version.text, json.dumps({"prompt": version.text}), time.time()),
            )
            request_id = cur.lastrowid
        return [
            insert_take(
                store,
                media,
                library.root,
                vendor=vendor,
                model=model,
                request_id=request_id,
                source="imported",
                original_name=path.name,
            )
            for path, media in stored
        ]
