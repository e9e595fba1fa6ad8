"""One export run: the takes, their sidecars, the CSV and the editor's files written
into a folder, never over a different file, stopping when the handle asks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from takestock.core.errors import ExportCancelled, InvalidInput, MediaError
from takestock.core.export.clips import clip_for
from takestock.core.export.edl import edl_documents
from takestock.core.export.fcpxml import fcpxml_document
from takestock.core.export.names import (
    WINDOWS_MAX_PATH,
    NameBook,
    _cut,
    is_reserved_on_windows,
    portable_component,
)
from takestock.core.export.records import CSV_COLUMNS, TakeRecord, _csv_row, load_records, sidecar
from takestock.core.library import sha256_of
from takestock.core.store import Store
from takestock.core.takes import Take


class ExportHandle(Protocol):
    """Progress and cancel for an export run off the UI thread (a fake in tests).

    Attributes:
        cancelled: read between takes; once true, the export stops.
    """

    @property
    def cancelled(self) -> bool: ...

    def progress(self, done: int, total: int) -> None: ...


# ===================================================================== export


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to write besides the videos, sidecars and CSV.

    Attributes:
        fcpxml: write an FCPXML event (and its string-out project).
        edl: write CMX 3600 EDLs.
        link: hard-link videos from the library when the folder is on the same file
            system (instant, no space); False always copies (safer when an editor
            writes into its media, which would change the library's file too).
        name: the batch's name: the event's and the batch files' (default
            ``takestock-<date>-<time>``).
        reels: EDL reel names (see :func:`edl_documents`).
        max_path: the longest path to aim for (Windows' MAX_PATH by default).
    """

    fcpxml: bool = False
    edl: bool = False
    link: bool = True
    name: str | None = None
    reels: Literal["ax", "take"] = "ax"
    max_path: int = WINDOWS_MAX_PATH


@dataclass(frozen=True, slots=True)
class ExportedTake:
    """One take as written.

    Attributes:
        record: the take and its metadata.
        file: the video in the folder.
        sidecar: its ``.json`` beside it.
        how: ``hardlink``, ``copy``, or ``existing`` (the same file was there already).
    """

    record: TakeRecord
    file: Path
    sidecar: Path
    how: Literal["hardlink", "copy", "existing"]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote (what changed, for the UI to show)."""

    folder: Path
    takes: tuple[ExportedTake, ...]
    csv: Path
    fcpxml: Path | None
    edls: tuple[Path, ...]
    warnings: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "count": len(self.takes),
            "takes": [
                {
                    "take_id": t.record.take.id,
                    "file": str(t.file),
                    "sidecar": str(t.sidecar),
                    "how": t.how,
                }
                for t in self.takes
            ],
            "csv": str(self.csv),
            "fcpxml": str(self.fcpxml) if self.fcpxml else None,
            "edl": [str(p) for p in self.edls],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


def check_folder(folder: Path) -> Path:
    """``folder`` made absolute, if it can be an export's target: an existing folder, or a
    new one whose parent exists. Raises :class:`InvalidInput` otherwise."""
    folder = Path(os.path.abspath(folder.expanduser()))
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("to", f"{folder} is a file, not a folder")
    if not folder.exists() and not folder.parent.is_dir():
        raise InvalidInput(
            "to", f"{folder.parent} does not exist; create it or pick another folder"
        )
    return folder


def _link_new(tmp: Path, dst: Path) -> None:
    """Put the finished ``tmp`` at ``dst``, refusing (FileExistsError) if ``dst`` exists."""
    try:
        os.link(tmp, dst)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (FAT, exFAT, some network shares): a checked rename. Another
        # writer could slip in between the check and the rename; Windows' rename refuses
        # to replace, and nothing but this export writes these new names.
        if os.path.lexists(dst):
            raise FileExistsError(dst) from None
        os.rename(tmp, dst)
        return
    tmp.unlink()


def _temp_beside(dst: Path) -> Path:
    # Short whatever the final name: a name near 255 bytes leaves no room for more.
    return dst.with_name(f".takestock-{secrets.token_hex(8)}.part")


def _write_new(dst: Path, data: bytes) -> None:
    """Write a new file whole (temporary file, then linked into place)."""
    tmp = _temp_beside(dst)
    try:
        tmp.write_bytes(data)
        _link_new(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _place(src: Path, dst: Path, link: bool) -> Literal["hardlink", "copy"]:
    """Hard-link ``src`` at ``dst`` when allowed and possible, else copy it whole."""
    if link:
        try:
            os.link(src, dst)
            return "hardlink"
        except FileExistsError:
            raise
        except OSError:
            pass  # another file system (EXDEV), or one without links: copy instead
    tmp = _temp_beside(dst)
    try:
        shutil.copyfile(src, tmp)
        shutil.copystat(src, tmp)
        _link_new(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return "copy"


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _batch_path(book: NameBook, stem: str, ext: str) -> Path:
    clean = _cut(portable_component(stem), 200) or "takestock"
    if is_reserved_on_windows(clean + ext):
        clean += "_"
    return book.folder / f"{book.claim(clean, [ext])}{ext}"


def export_takes(
    store: Store,
    takes: Sequence[Take],
    folder: Path,
    options: ExportOptions = ExportOptions(),
    *,
    handle: ExportHandle | None = None,
    now: float | None = None,
) -> ExportResult:
    """Write ``takes`` into ``folder`` (created if its parent exists), see the module doc.

    Everything is checked before the first file is written: the folder, that there is
    something to export, and that every take's file is in the library. Re-exporting the
    same takes into the same folder reuses the identical files already there; a file
    that differs is never replaced: the new one gets `` (2)`` in its name.

    Raises:
        InvalidInput: no takes, or the folder cannot be used.
        MediaError: a take's file is missing from the library.
        ExportCancelled: ``handle.cancelled`` became true.
    """
    started = time.monotonic()
    if not takes:
        raise InvalidInput("takes", "no takes match: nothing to export")
    folder = check_folder(folder)
    missing = [t.id for t in takes if not t.path.is_file()]
    if missing:
        raise MediaError(
            f"the file of take {', '.join(map(str, missing))} is missing from the library "
            "(moved or deleted outside Takestock); nothing was exported.",
            title="Take file missing",
        )
    records = load_records(store, takes)
    folder.mkdir(exist_ok=True)
    when = dt.datetime.fromtimestamp(time.time() if now is None else now)
    batch = options.name or f"takestock-{when:%Y%m%d-%H%M%S}"
    book = NameBook(folder, options.max_path)
    exported: list[ExportedTake] = []
    warnings: list[str] = []
    total = len(records)
    for done, record in enumerate(records):
        if handle is not None:
            if handle.cancelled:
                raise ExportCancelled(
                    f"stopped after {done} of {total} takes; the files written are whole."
                )
            handle.progress(done, total)
        exported.append(_export_one(book, record, options.link))
    if handle is not None:
        handle.progress(total, total)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in exported:
        writer.writerow(_csv_row(sidecar(item.record, item.file.name)))
    csv_path = _batch_path(book, batch, ".csv")
    # With a byte-order mark, spreadsheets read the UTF-8 (any prompt's script) as such.
    _write_new(csv_path, buffer.getvalue().encode("utf-8-sig"))

    fcpxml_path: Path | None = None
    edl_paths: list[Path] = []
    if options.fcpxml or options.edl:
        clips = []
        for item in exported:
            clip, warning = clip_for(item.record, item.file)
            clips.append(clip)
            if warning:
                warnings.append(warning)
        if options.fcpxml:
            fcpxml_path = _batch_path(book, batch, ".fcpxml")
            _write_new(fcpxml_path, fcpxml_document(clips, batch).encode("utf-8"))
        if options.edl:
            for index, text in enumerate(edl_documents(clips, batch, reels=options.reels)):
                stem = batch if index == 0 else f"{batch} part {index + 1}"
                path = _batch_path(book, stem, ".edl")
                _write_new(path, text.encode("utf-8"))
                edl_paths.append(path)
    return ExportResult(
        folder=folder,
        takes=tuple(exported),
        csv=csv_path,
        fcpxml=fcpxml_path,
        edls=tuple(edl_paths),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
    )


def _same_file(path: Path, take: Take) -> bool:
    try:
        if path.stat().st_size != take.size_bytes:
            return False
        if path.samefile(take.path):
            return True
    except OSError:
        return False
    return sha256_of(path) == take.sha256


def _export_one(book: NameBook, record: TakeRecord, link: bool) -> ExportedTake:
    take = record.take
    ext = (take.path.suffix or ".mp4").lower()
    stem = book.fit(record.title, take.vendor, take.model, take.id, max(ext, ".json", key=len))

    def reuse(paths: Mapping[str, Path]) -> bool:
        data = _json_bytes(sidecar(record, paths[ext].name))
        return _same_file(paths[ext], take) and paths[".json"].read_bytes() == data

    for _ in range(3):
        name = book.claim(stem, [ext, ".json"], reuse)
        video, side = book.folder / f"{name}{ext}", book.folder / f"{name}.json"
        if video.exists() and side.exists():
            return ExportedTake(record, video, side, "existing")  # reuse() found them equal
        try:
            how = _place(take.path, video, link)
        except FileExistsError:
            continue  # someone wrote that name meanwhile: take the next one
        try:
            _write_new(side, _json_bytes(sidecar(record, video.name)))
        except FileExistsError:
            video.unlink()
            continue
        return ExportedTake(record, video, side, how)
    raise InvalidInput("to", f"{book.folder} keeps changing under the export; try again")
