"""The synchronous path: a create that answers with the video itself (LTX's v1 API).

The durability rules are the engine's (``core.jobs``): the job row, in ``submitting``
with its fresh client id, is committed before the create leaves. While the answer
streams into the job's part file the job stays ``submitting``; a crash, a sleep or a
dropped connection there leaves a create the vendor may have charged for and that
nothing can look up (no task id exists until the answer is whole), so the engine's
recovery step marks it ``unknown`` for the user to settle, never sends it again.

Once the whole body is on disk one commit moves the job to ``downloading`` with a
result whose URL is :data:`~takestock.core.vendor.IN_PART_FILE` and the byte count; the
engine's download step then checks and ingests the part file as it does any download.
A crash after that commit resumes at the ingest, with the file already there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from takestock.core.errors import DownloadError
from takestock.core.vendor import IN_PART_FILE, AnswersWithResult, CreatedResult, ResultRef

if TYPE_CHECKING:
    from takestock.core.job_rows import Job
    from takestock.core.jobs.base import EngineBase

__all__ = ["AnswersWithResult", "keep_part_file", "landed"]


def landed(engine: EngineBase, job: Job, created: CreatedResult) -> bool:
    """Record a whole synchronous answer: the job moves to ``downloading`` with the part
    file as its result. False (and the file dropped) where the job moved meanwhile: a
    cancel that committed first stands."""
    result = ResultRef(IN_PART_FILE, size=created.size)
    moved = engine._transition(
        job.id,
        "submitting",
        "downloading",
        vendor_task_id=created.handle.task_id,
        task_data=json.dumps(dict(created.handle.data)),
        results=json.dumps([{"url": result.url, "headers": {}, "size": result.size}]),
        vendor_state=created.vendor_state,
        progress=1.0,
        cost_actual=created.cost,
        error=None,
        error_kind=None,
    )
    if not moved:
        engine.library.part_path(job.id).unlink(missing_ok=True)
    return moved


def keep_part_file(result: ResultRef, dest: Path, vendor_name: str) -> bool:
    """For an adapter's ``download``: True when ``result`` came with the create's answer
    and ``dest`` holds it (nothing to fetch); False for an ordinary link.

    Raises:
        DownloadError: the answer's file is gone (a failed check removed it); there is
            no link to fetch it again, so the job ends "charged, no output".
    """
    if result.url != IN_PART_FILE:
        return False
    if not dest.is_file():
        raise DownloadError(
            f"the video came with {vendor_name}'s answer to the create and is no longer "
            f"on disk; {vendor_name} keeps no link to fetch it again"
        )
    return True
