"""Loopback fake vendor servers for tests: `FakeServer`, scripted `Fault`s, and the
generic fake video vendor the job-engine tests use. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

from .faults import (
    CutAfterFault,
    DelayFault,
    DropFault,
    Fault,
    MalformedJsonFault,
    StatusFault,
    TruncateFault,
)
from .generic import FakeTask, GenericVideoVendor
from .harness import FakeServer, HandlerError, RecordedRequest
from .media import tiny_mp4

__all__ = [
    "CutAfterFault",
    "DelayFault",
    "DropFault",
    "FakeServer",
    "FakeTask",
    "Fault",
    "GenericVideoVendor",
    "HandlerError",
    "MalformedJsonFault",
    "RecordedRequest",
    "StatusFault",
    "TruncateFault",
    "tiny_mp4",
]
