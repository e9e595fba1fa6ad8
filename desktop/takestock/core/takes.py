"""Takes: the videos we hold, what they are, and what the creator thinks of them."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from takestock.core.errors import InvalidInput, MediaError, TakestockError
from takestock.core.library import MediaLibrary, StoredMedia
from takestock.core.prompts import find_or_create_adhoc
from takestock.core.store import Store
from takestock.core.validation import regular_file

__all__ = [
    "VERDICTS",
    "Take",
    "TakeDetails",
    "TakeFacets",
    "TakeFilter",
    "count_takes",
    "get_take",
    "import_each",
    "import_files",
    "insert_take",
    "iter_takes",
    "list_takes",
    "rate_take",
    "rate_takes",
    "take_details",
    "take_facets",
    "take_ids",
    "takes_by_ids",
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
    """Which takes to list; every field left at its default matches everything.

    Attributes:
        vendor: the vendor id, exactly.
        model: the model id, exactly.
        verdict: ``usable``, ``reject`` or ``unrated``.
        search: words that must appear in the prompt (case-insensitive substring).
        request_id: takes of one request (a comparison group).
        min_stars: takes rated at least this many stars (unstarred takes never match).
        tag: takes whose prompt (the prompt version's prompt) carries this tag
            (case-insensitive); takes made from typed, unsaved prompts have no tags.
        since: made at or after this time (seconds since the epoch).
        until: made before this time (seconds since the epoch); ``since <= t < until``.
        limit: at most this many takes (a page); ``None`` for all.
        offset: skip this many takes first (with ``limit``).
    """

    vendor: str | None = None
    model: str | None = None
    verdict: Verdict | None = None
    search: str = ""
    request_id: int | None = None
    limit: int | None = None
    offset: int = 0
    min_stars: int | None = None
    tag: str | None = None
    since: float | None = None
    until: float | None = None


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


def _where(where: TakeFilter) -> tuple[bool, list[str], list[Any]]:
    """(whether the request table is needed, WHERE clauses, parameters) for ``where``.

    Each clause is one an index can serve (vendor, model, verdict, request, created_at
    ranges) or a cheap test on rows already found; the tag becomes a set of request ids
    computed once, not a join per take.
    """
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
    if where.min_stars is not None and where.min_stars > 0:
        clauses.append("take.stars >= ?")
        params.append(where.min_stars)
    if where.since is not None:
        clauses.append("take.created_at >= ?")
        params.append(where.since)
    if where.until is not None:
        clauses.append("take.created_at < ?")
        params.append(where.until)
    if where.tag:
        clauses.append(
            # Nested INs drive index look-ups from the one tag outwards: its prompts,
            # their versions, the requests made from them (request_version), their takes.
            "take.request_id IN (SELECT id FROM request WHERE prompt_version_id IN"
            " (SELECT id FROM prompt_version WHERE prompt_id IN"
            " (SELECT prompt_id FROM prompt_tag WHERE tag_id IN"
            " (SELECT id FROM tag WHERE name = ?))))"
        )
        params.append(where.tag.strip())
    if where.search:
        clauses.append("request.prompt LIKE ? ESCAPE '\\'")
        params.append(_like(where.search))
    return bool(where.search), clauses, params


_NEWEST_FIRST = " ORDER BY take.created_at DESC, take.id DESC"


def _filtered(
    select: str, where: TakeFilter, *, always_join: bool = False
) -> tuple[str, list[Any]]:
    needs_request, clauses, params = _where(where)
    sql = select
    if needs_request or always_join:
        sql += " LEFT JOIN request ON request.id = take.request_id"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return sql, params


def _paged(sql: str, params: list[Any], where: TakeFilter) -> tuple[str, list[Any]]:
    sql += _NEWEST_FIRST
    if where.limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = [*params, where.limit, where.offset]
    return sql, params


def iter_takes(store: Store, media_root: Path, where: TakeFilter = TakeFilter()) -> Iterator[Take]:
    """Takes matching ``where``, newest first, one at a time (a library may be large)."""
    sql, params = _filtered(
        "SELECT take.*, request.prompt AS prompt FROM take", where, always_join=True
    )
    sql, params = _paged(sql, params, where)
    for row in store.execute(sql, params):
        yield _take(row, media_root)


def count_takes(store: Store, where: TakeFilter = TakeFilter()) -> int:
    """How many takes match ``where`` (``limit`` and ``offset`` are ignored)."""
    sql, params = _filtered("SELECT count(*) FROM take", where)
    return int(store.scalar(sql, params))


def take_ids(store: Store, where: TakeFilter = TakeFilter()) -> list[int]:
    """The ids of the takes matching ``where``, newest first (as :func:`iter_takes`).

    Cheap enough to hold for a whole library (100,000 ids are a few megabytes and one
    scan of an index); a view materialises rows from them with :func:`takes_by_ids`.
    """
    sql, params = _filtered("SELECT take.id FROM take", where)
    sql, params = _paged(sql, params, where)
    return [row[0] for row in store.execute(sql, params)]


#: Ids per query in :func:`takes_by_ids` (well under SQLite's limit on parameters).
_ID_BATCH = 500


def takes_by_ids(store: Store, media_root: Path, ids: Iterable[int]) -> list[Take]:
    """The takes with these ids, in the order given; ids with no take are left out."""
    wanted = list(ids)
    found: dict[int, Take] = {}
    for start in range(0, len(wanted), _ID_BATCH):
        batch = wanted[start : start + _ID_BATCH]
        marks = ", ".join("?" * len(batch))
        for row in store.execute(_SELECT + f" WHERE take.id IN ({marks})", batch):
            found[row["id"]] = _take(row, media_root)
    return [found[i] for i in wanted if i in found]


@dataclass(frozen=True, slots=True)
class TakeFacets:
    """What the library's filters can offer: the values that occur.

    Attributes:
        models: model ids by vendor id, both sorted, for vendors that have takes.
        tags: every prompt tag, sorted case-insensitively.
    """

    models: Mapping[str, tuple[str, ...]]
    tags: tuple[str, ...]

    @property
    def vendors(self) -> tuple[str, ...]:
        return tuple(self.models)


def take_facets(store: Store) -> TakeFacets:
    """The vendors and models that have takes, and the prompt tags, for filter menus."""
    models: dict[str, list[str]] = {}
    for row in store.execute("SELECT DISTINCT vendor, model FROM take ORDER BY vendor, model"):
        models.setdefault(row[0], []).append(row[1])
    tags = tuple(
        row[0] for row in store.execute("SELECT name FROM tag ORDER BY name COLLATE NOCASE")
    )
    return TakeFacets({v: tuple(m) for v, m in models.items()}, tags)


@dataclass(frozen=True, slots=True)
class TakeDetails:
    """Everything the inspector shows about one take, gathered in one place.

    Attributes:
        take: the take itself.
        prompt_text: the exact words that made it (the prompt version's text, else the
            request's), or ``None`` for a take with no request (imported without words).
        negative: the negative prompt ("" when none).
        prompt_id: the library prompt it came from; ``None`` for typed, unsaved prompts.
        prompt_title: that prompt's title.
        version: the prompt version's number (1, 2, ...), with ``versions`` the count.
        versions: how many versions the prompt has now.
        tags: the prompt's tags.
        params: the request's parameters as sent (without the prompt words).
        job_state: the job's state, or ``None`` for an imported take.
        vendor_task_id: the vendor's id for the task, for support tickets.
        account: the account's name, when the job ran on a named account.
        estimate: the job's estimate (``amount``, ``unit``, ``money``, ``currency``).
        cost_actual: what the vendor reported charging, in the estimate's unit.
    """

    take: Take
    prompt_text: str | None = None
    negative: str = ""
    prompt_id: int | None = None
    prompt_title: str | None = None
    version: int | None = None
    versions: int | None = None
    tags: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    job_state: str | None = None
    vendor_task_id: str | None = None
    account: str | None = None
    estimate: Mapping[str, Any] | None = None
    cost_actual: float | None = None


def take_details(store: Store, media_root: Path, take_id: int) -> TakeDetails:
    """The take with its prompt version, parameters, job and cost.

    Raises:
        InvalidInput: there is no take ``take_id``.
    """
    take = get_take(store, media_root, take_id)
    details: dict[str, Any] = {"prompt_text": take.prompt}
    if take.request_id is not None:
        request = store.one(
            "SELECT prompt_version_id, params FROM request WHERE id = ?", (take.request_id,)
        )
        if request is not None:
            params = json.loads(request["params"] or "{}")
            details["params"] = {k: v for k, v in params.items() if k not in ("prompt", "negative")}
            details["negative"] = params.get("negative") or ""
            if request["prompt_version_id"] is not None:
                details.update(_version_details(store, request["prompt_version_id"]))
    if take.job_id is not None:
        job = store.one(
            "SELECT job.state, job.vendor_task_id, job.estimate, job.cost_actual,"
            " account.name AS account FROM job LEFT JOIN account ON account.id = job.account_id"
            " WHERE job.id = ?",
            (take.job_id,),
        )
        if job is not None:
            details.update(
                job_state=job["state"],
                vendor_task_id=job["vendor_task_id"],
                account=job["account"],
                estimate=json.loads(job["estimate"]) if job["estimate"] else None,
                cost_actual=job["cost_actual"],
            )
    return TakeDetails(take=take, **details)


def _version_details(store: Store, version_id: int) -> dict[str, Any]:
    row = store.one(
        "SELECT v.prompt_id, v.number, v.text, v.negative, p.title,"
        " (SELECT count(*) FROM prompt_version WHERE prompt_id = v.prompt_id) AS versions"
        " FROM prompt_version v JOIN prompt p ON p.id = v.prompt_id WHERE v.id = ?",
        (version_id,),
    )
    if row is None:
        return {}
    tags = store.all(
        "SELECT name FROM tag JOIN prompt_tag ON tag.id = prompt_tag.tag_id"
        " WHERE prompt_tag.prompt_id = ? ORDER BY name COLLATE NOCASE",
        (row["prompt_id"],),
    )
    return {
        "prompt_text": row["text"],
        "negative": row["negative"],
        "prompt_id": row["prompt_id"],
        "prompt_title": row["title"],
        "version": row["number"],
        "versions": row["versions"],
        "tags": tuple(t[0] for t in tags),
    }


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
    """Set what the creator thinks; fields left as None keep their value.

    ``stars=0`` clears the stars (Lightroom's 0 key).
    """
    rate_takes(store, [take_id], verdict=verdict, stars=stars, reasons=reasons, notes=notes)


def rate_takes(
    store: Store,
    take_ids: Sequence[int],
    *,
    verdict: Verdict | None = None,
    stars: int | None = None,
    reasons: Sequence[str] | None = None,
    notes: str | None = None,
) -> None:
    """:func:`rate_take` for several takes in one transaction: all are rated, or none."""
    if verdict is not None and verdict not in VERDICTS:
        raise InvalidInput("verdict", f"must be one of {', '.join(VERDICTS)}")
    if stars is not None and not 0 <= stars <= 5:
        raise InvalidInput("stars", "must be 1 to 5 (0 clears them)")
    for take_id in take_ids:
        # SQLite integers are 64-bit: a larger id names no take (and cannot be bound).
        if isinstance(take_id, bool) or not 1 <= take_id <= 2**63 - 1:
            raise InvalidInput("take", f"{take_id} is not a take id")
    sets: list[str] = ["rated_at = ?"]
    params: list[Any] = [time.time()]
    if verdict is not None:
        sets.append("verdict = ?")
        params.append(verdict)
    if stars is not None:
        sets.append("stars = ?")
        params.append(stars or None)
    if reasons is not None:
        clean = list(dict.fromkeys(r.strip() for r in reasons if r.strip()))
        sets.append("reasons = ?")
        params.append(json.dumps(clean))
    if notes is not None:
        sets.append("notes = ?")
        params.append(notes)
    with store.tx():
        for take_id in take_ids:
            if store.one("SELECT 1 FROM take WHERE id = ?", (take_id,)) is None:
                raise InvalidInput("take", f"no take {take_id}")
            store.execute(f"UPDATE take SET {', '.join(sets)} WHERE id = ?", (*params, take_id))


def import_each(
    store: Store,
    library: MediaLibrary,
    paths: Sequence[Path],
    *,
    vendor: str = "unknown",
    model: str = "unknown",
    prompt: str | None = None,
) -> tuple[list[int], list[tuple[Path, TakestockError]]]:
    """Import videos made elsewhere, each file on its own: a readable video becomes a
    take (file and row together), any other file is refused and leaves nothing behind.

    Returns the new take ids and the refused files with the reason.
    """
    ids: list[int] = []
    refused: list[tuple[Path, TakestockError]] = []
    for path in paths:
        try:
            ids.append(_import_one(store, library, path, vendor, model, prompt))
        except (InvalidInput, MediaError) as exc:
            refused.append((path, exc))
    return ids, refused


def _import_one(
    store: Store,
    library: MediaLibrary,
    path: Path,
    vendor: str,
    model: str,
    prompt: str | None,
) -> int:
    source = regular_file(path, "path")
    media = library.ingest(source, move=False, suffix=source.suffix or ".mp4")
    try:
        with store.tx():
            request_id: int | None = None
            if prompt:
                version = find_or_create_adhoc(store, prompt)
                cur = store.execute(
                    "INSERT INTO request(prompt_version_id, prompt, params, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (version.id, version.text, json.dumps({"prompt": version.text}), time.time()),
                )
                request_id = cur.lastrowid
            return insert_take(
                store,
                media,
                library.root,
                vendor=vendor,
                model=model,
                request_id=request_id,
                source="imported",
                original_name=source.name,
            )
    except BaseException:
        if media.new:  # ours alone: no take points at it
            media.path.unlink(missing_ok=True)
        raise


def import_files(
    store: Store,
    library: MediaLibrary,
    paths: Sequence[Path],
    *,
    vendor: str = "unknown",
    model: str = "unknown",
    prompt: str | None = None,
) -> list[int]:
    """:func:`import_each`, raising the first refusal once the good files are in."""
    ids, refused = import_each(store, library, paths, vendor=vendor, model=model, prompt=prompt)
    if refused:
        raise refused[0][1]
    return ids
