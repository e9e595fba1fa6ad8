"""An in-process adapter whose every task follows a script: for engine tests that need
many jobs and exact control of each ending (no network; the generic fake vendor covers
the HTTP side). Each request's prompt names its :class:`Script`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from takestock.core.catalog import VendorSpec
from takestock.core.errors import (
    AmbiguousCreate,
    GenerationFailed,
    Rejected,
    ResultExpired,
    TransientError,
)
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
    TaskStatus,
)
from takestock.vendors.base import BaseAdapter
from tests.support.generic_adapter import VENDOR_ID

__all__ = ["Script", "ScriptedAdapter"]


@dataclass
class Script:
    """What the vendor does with one take.

    submit: ``ok``, ``reject`` (refused at create), ``lost`` (made, answer lost),
        ``raise`` (the adapter breaks before anything is sent).
    outcome: ``succeed``, ``fail``, ``vendor_cancel``, ``raise`` (the adapter breaks
        while polling), ``hang`` (runs until cancelled).
    cost: the charge the vendor reports (None: not reported).
    download: ``ok``, ``expired`` (until ``link_back``), ``raise`` (adapter breaks).
    """

    submit: str = "ok"
    outcome: str = "succeed"
    cost: float | None = None
    download: str = "ok"
    polls: int = 1
    #: Polls the vendor leaves unanswered (HTTP 503) before it answers again.
    silent: int = 0


@dataclass
class _Task:
    script: Script
    polls: int = 0


@dataclass
class ScriptedAdapter(BaseAdapter):
    vendor: VendorSpec
    scripts: Mapping[str, Script]
    video: bytes
    can_find: bool = False
    creates: int = 0
    tasks: dict[str, _Task] = field(default_factory=dict)
    link_back: set[str] = field(default_factory=set)
    #: Set by a test to hold every poll's answer until it is set.
    gate: asyncio.Event | None = None
    cancels: list[str] = field(default_factory=list)
    vendor_id = VENDOR_ID

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        script = self.scripts[request.prompt]
        if script.submit == "reject":
            raise Rejected("Generic Video: the prompt was refused", vendor=VENDOR_ID)
        if script.submit == "raise":
            raise ValueError("the adapter could not build the create")
        self.creates += 1
        task_id = f"task-{self.creates}"
        self.tasks[task_id] = _Task(script)
        if script.submit == "lost":
            raise AmbiguousCreate("the answer to the create was lost")
        return TaskHandle(task_id)

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        if self.gate is not None:
            await self.gate.wait()
        task = self.tasks[handle.task_id]
        script = task.script
        if script.silent > 0:
            script.silent -= 1
            raise TransientError("Generic Video answered HTTP 503", vendor=VENDOR_ID, status=503)
        task.polls += 1
        if script.outcome == "raise":
            raise RuntimeError("the adapter broke reading the task")
        if task.polls <= script.polls or script.outcome == "hang":
            return TaskStatus(TaskState.RUNNING, "running", progress=0.5)
        if script.outcome == "fail":
            error = GenerationFailed("Generic Video: failed", vendor=VENDOR_ID)
            return TaskStatus(TaskState.FAILED, "failed", error=error, cost=script.cost)
        if script.outcome == "vendor_cancel":
            return TaskStatus(TaskState.CANCELLED, "cancelled", cost=script.cost)
        url = f"https://files.invalid/{handle.task_id}/{task.polls}.mp4"
        return TaskStatus(
            TaskState.SUCCEEDED, "succeeded", results=(ResultRef(url),), cost=script.cost
        )

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        task_id = result.url.split("/")[3]
        script = self.tasks[task_id].script
        if script.download == "expired" and task_id not in self.link_back:
            raise ResultExpired("the result link answered HTTP 403: it has expired")
        if script.download == "raise" and task_id not in self.link_back:
            raise RuntimeError("the adapter broke writing the file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.video)

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        self.cancels.append(handle.task_id)
        self.tasks[handle.task_id].script.outcome = "vendor_cancel"
        return True
