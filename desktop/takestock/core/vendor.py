"""The contract every vendor adapter implements, and the values that cross it.

The engine (``core.jobs``) knows adapters only through :class:`VendorAdapter`; the
composition root (``app.py``, ``cli.py``) hands it a mapping of vendor id to adapter.
Adapters never touch the database: they translate between Takestock's request and one
vendor's protocol, and translate the vendor's faults into ``core.errors``.

A call's life: ``validate`` (no network) → ``estimate`` → ``submit`` (returns a
:class:`TaskHandle` that the engine commits at once) → ``poll`` until a final
:class:`TaskStatus` → ``download`` of each :class:`ResultRef` into a file the engine
verifies. ``find`` recovers a create whose answer was lost, where the vendor lets us
name the task; ``balance`` and ``cancel`` where the vendor offers them.

A synchronous vendor (LTX) answers the create with the video itself: its adapter also
implements :class:`AnswersWithResult`, whose ``create_into`` streams the answer into
the job's part file and returns a :class:`CreatedResult`. The engine then records a
:class:`ResultRef` whose URL is :data:`IN_PART_FILE` and ingests the file the way a
download is ingested; there is no task to poll and none to look up, so an answer cut
short leaves the job ``unknown`` for the user to settle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    ModelRetired,
    ProtocolError,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)

if TYPE_CHECKING:
    # Only annotations name httpx here: importing it (~70 ms) at the top would put it in
    # every command that lists jobs or takes and never talks to a vendor.
    import httpx

__all__ = [
    "IN_PART_FILE",
    "AnswersWithResult",
    "AuthError",
    "Balance",
    "CallContext",
    "ChecksPlatform",
    "CreatedResult",
    "Estimate",
    "GenerationFailed",
    "GenerationRequest",
    "Mode",
    "ModelRetired",
    "ProtocolError",
    "QuotaError",
    "RateLimited",
    "Rejected",
    "ResultRef",
    "TaskHandle",
    "TaskState",
    "TaskStatus",
    "TransientError",
    "VendorAdapter",
    "VendorError",
]


class Mode(StrEnum):
    """What the vendor is asked to start from."""

    TEXT = "text"  # text to video
    IMAGE = "image"  # first frame (image to video)
    FIRST_LAST = "first_last"  # first and last frame


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One take as the user asked for it, vendor-neutral.

    ``None`` means "the model's default". Paths are local files; adapters prepare and
    send them the way their vendor accepts them.
    """

    prompt: str
    negative: str = ""
    image: Path | None = None
    last_frame: Path | None = None
    duration_s: float | None = None
    aspect: str | None = None
    resolution: str | None = None
    audio: bool | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> Mode:
        if self.last_frame is not None:
            return Mode.FIRST_LAST
        if self.image is not None:
            return Mode.IMAGE
        return Mode.TEXT

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "negative": self.negative,
            "image": str(self.image) if self.image else None,
            "last_frame": str(self.last_frame) if self.last_frame else None,
            "duration_s": self.duration_s,
            "aspect": self.aspect,
            "resolution": self.resolution,
            "audio": self.audio,
            "seed": self.seed,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GenerationRequest:
        return cls(
            prompt=data["prompt"],
            negative=data.get("negative") or "",
            image=Path(data["image"]) if data.get("image") else None,
            last_frame=Path(data["last_frame"]) if data.get("last_frame") else None,
            duration_s=data.get("duration_s"),
            aspect=data.get("aspect"),
            resolution=data.get("resolution"),
            audio=data.get("audio"),
            seed=data.get("seed"),
            extra=data.get("extra") or {},
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    """What one take will cost, in the vendor's own unit and in money where known.

    ``amount`` None: the price is unknown (never read as free); ``reason`` says why
    (the vendor publishes none, or the catalog has no price for these settings).
    """

    amount: float | None
    unit: str
    money: float | None = None
    currency: str | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.amount is not None

    @classmethod
    def unknown(cls, unit: str, reason: str, currency: str | None = None) -> Estimate:
        return cls(None, unit, None, currency, reason)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "amount": self.amount,
            "unit": self.unit,
            "money": self.money,
            "currency": self.currency,
        }
        if self.amount is None:
            out["reason"] = self.reason or "the price is not known"
        return out


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance as the vendor reports it."""

    amount: float
    unit: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class TaskState(StrEnum):
    """A vendor task's state, mapped from the vendor's own names."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


@dataclass(frozen=True, slots=True)
class TaskHandle:
    """What we must remember to find a vendor task again, committed with the job.

    ``data`` holds what the vendor needs beside the id to poll it (an endpoint, an
    operation name); it must be JSON-serialisable and never contain a secret.
    """

    task_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResultRef:
    """Where a finished result can be fetched. URLs are short-lived: fetch at once.

    ``headers`` are extra request headers the download needs (never a secret: the
    adapter adds auth in ``download``); ``size`` is the byte count if the vendor said.
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None


#: The URL of a result whose bytes came with the create's answer: they are already in
#: the job's part file, and there is no link to fetch them again.
IN_PART_FILE = "takestock:part-file"


@dataclass(frozen=True, slots=True)
class CreatedResult:
    """A synchronous create's answer, its video already written to the part file.

    Attributes:
        handle: what the vendor called the request (an ``x-request-id``), kept on the
            job for the user's questions to the vendor; it cannot be polled.
        size: the bytes written.
        cost: the vendor's charge in its unit, where the answer says.
        vendor_state: the vendor's word for the outcome, shown to the user.
    """

    handle: TaskHandle
    size: int
    cost: float | None = None
    vendor_state: str = "completed"


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """One poll's answer.

    Attributes:
        state: our state name for the vendor's state.
        vendor_state: the vendor's own word for it, shown to the user.
        progress: 0..1 where the vendor reports progress.
        results: result files, for a succeeded task.
        error: why a failed task failed, as a :class:`VendorError`.
        cost: the vendor's actual charge, in its unit, where it reports one.
    """

    state: TaskState
    vendor_state: str = ""
    progress: float | None = None
    results: tuple[ResultRef, ...] = ()
    error: VendorError | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True)
class CallContext:
    """Everything an adapter call may use, handed in by the engine.

    Attributes:
        http: the vendor's shared client (timeouts and limits set by ``core.http``).
        vendor: the vendor's catalog entry.
        model: the model of the job, when the call is about one.
        base_url: the base URL in force (catalog, account or environment override).
        secrets: the account's secrets by field name (``api_key``, ...); empty where
            the vendor needs none. Never logged, never stored.
        region: the account's region key in ``vendor.base_urls``.
    """

    http: httpx.AsyncClient
    vendor: VendorSpec
    base_url: str
    model: ModelSpec | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)
    region: str = "default"

    def secret(self, name: str = "api_key") -> str:
        try:
            return self.secrets[name]
        except KeyError:
            raise AuthError(
                f"No {name.replace('_', ' ')} is set for {self.vendor.name}. "
                f"Add it with `takestock keys set {self.vendor.id}` or in Settings.",
                vendor=self.vendor.id,
            ) from None


@runtime_checkable
class VendorAdapter(Protocol):
    """One vendor's protocol. Implementations live under ``takestock.vendors``.

    Attributes:
        vendor_id: the catalog id of the vendor this adapter speaks to.
        can_find: whether :meth:`find` can look a task up by our client request id.
    """

    vendor_id: str
    can_find: bool

    def validate(self, request: GenerationRequest, model: ModelSpec) -> None:
        """Raise :class:`~takestock.core.errors.InvalidInput` for anything the vendor
        would refuse or charge for nothing. No network."""

    def estimate(self, request: GenerationRequest, model: ModelSpec) -> Estimate:
        """What one take of ``request`` will cost."""

    async def submit(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str
    ) -> TaskHandle:
        """Send the create. Raise only errors that say whether the vendor took it:
        a :class:`VendorError` means it did not; an ``httpx.TransportError`` or a
        :class:`TransientError` leaves it unknown."""

    async def poll(self, ctx: CallContext, handle: TaskHandle) -> TaskStatus:
        """The task's state now."""

    async def find(self, ctx: CallContext, client_request_id: str) -> TaskHandle | None:
        """The task created with ``client_request_id``, or None if the vendor has none.
        Only called when ``can_find`` is true."""

    async def download(self, ctx: CallContext, result: ResultRef, dest: Path) -> None:
        """Write the result's bytes to ``dest``, resuming from its current size where
        the vendor allows. Raise :class:`~takestock.core.errors.ResultExpired` when
        the link no longer answers."""

    async def balance(self, ctx: CallContext) -> Balance | None:
        """The account's balance, or None where the vendor does not expose one."""

    async def cancel(self, ctx: CallContext, handle: TaskHandle) -> bool:
        """Ask the vendor to stop the task; False where the vendor cannot."""

    async def list_models(self, ctx: CallContext) -> list[dict[str, Any]] | None:
        """The vendor's current models as catalog model entries (``id``, ``status``,
        ``status_note``, and whatever limits the vendor reports), or None where the
        vendor cannot list them. ``takestock vendors refresh`` merges the answer into
        the user's catalog overrides: new ids are added, vanished ones marked retired."""


@runtime_checkable
class AnswersWithResult(Protocol):
    """A vendor whose create answers with the video itself: no task, no poll, no link.

    The engine calls :meth:`create_into` instead of ``submit``. Its errors mean what
    ``submit``'s do: a :class:`VendorError` says the vendor refused (nothing charged);
    an ``httpx.TransportError``, a :class:`TransientError` or a
    :class:`ProtocolError` leave it unknown: the vendor may have made and charged the
    video, and nothing can be looked up, so the job waits for the user, never resent.
    ``download`` of an :data:`IN_PART_FILE` result keeps the file in place.
    """

    async def create_into(
        self, ctx: CallContext, request: GenerationRequest, client_request_id: str, dest: Path
    ) -> CreatedResult:
        """Send the create and stream the video it answers with into ``dest``."""


@runtime_checkable
class ChecksPlatform(Protocol):
    """A vendor whose models differ by platform or region (Ark: Volcengine or BytePlus).

    ``validate`` sees only the request and the model; the planner calls
    :meth:`validate_platform` too, with the account's region and the base URL in force,
    so a model the account's platform lacks is refused before anything is stored.
    """

    def validate_platform(self, model: ModelSpec, region: str, base_url: str) -> None:
        """Raise :class:`~takestock.core.errors.InvalidInput` (field ``model``) where the
        platform of ``region`` / ``base_url`` does not offer ``model``. No network."""
