"""Every error Takestock shows a person, in one tree.

Each error carries a short ``title`` and a ``message`` that the CLI prints and the GUI
shows as is, so the message says what happened and what to do about it.

    TakestockError
     ├── InvalidInput            bad input caught before anything was sent or charged
     ├── StoreError              the library database cannot be opened or trusted
     │    └── StorageFault       the computer refused a write; the library is intact
     │         ├── DiskFull
     │         └── FolderNotWritable
     ├── SecretsUnavailable      no working OS keyring, and no key in the environment
     ├── MediaError              a file is not a video we can read
     ├── DownloadError           a result could not be fetched or failed verification
     │    └── ResultExpired      the vendor's result URL no longer answers
     ├── CatalogError            a shipped catalog or the user's overrides are invalid
     ├── EngineFault             an unexpected error ended one job
     ├── NotSent                 a create could not be sent; nothing reached the vendor
     ├── ExportCancelled         an export stopped on request; what was written stays
     ├── EagleError              Eagle refused, or answered as something else
     │    └── EagleNotRunning    nothing answers at Eagle's address
     └── VendorError             the vendor said no, or said something we cannot read
          ├── AuthError          key missing, wrong, or expired
          ├── QuotaError         not enough credits or balance
          ├── RateLimited        too many requests or tasks at once (retry_after)
          ├── Rejected           the vendor refused the input or the content policy
          ├── ModelRetired       the vendor no longer serves this model id
          ├── GenerationFailed   the vendor accepted the task and then made nothing
          ├── LookupUnavailable  the vendor cannot say whether it has a task of ours
          ├── TransientError     a network fault or 5xx that may pass
          │    ├── AmbiguousCreate  a create left unanswered: the task may exist
          │    └── ConnectFailed    the vendor could not be reached: nothing was sent
          └── ProtocolError      an answer we cannot read

``kind`` is the stable, lower-case name stored with a failed job and printed in JSON.
Every subclass lives here, so the tree above is the whole of it; modules that raised
one before it moved here (http, store, eagle, faults) still name it in their
``__all__`` for callers that import it from them.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousCreate",
    "AuthError",
    "CatalogError",
    "ConnectFailed",
    "DiskFull",
    "DownloadError",
    "EagleError",
    "EagleNotRunning",
    "EngineFault",
    "ExportCancelled",
    "FolderNotWritable",
    "GenerationFailed",
    "InvalidInput",
    "LookupUnavailable",
    "MediaError",
    "ModelRetired",
    "NotSent",
    "ProtocolError",
    "QuotaError",
    "RateLimited",
    "Rejected",
    "ResultExpired",
    "SecretsUnavailable",
    "StorageFault",
    "StoreError",
    "TakestockError",
    "TransientError",
    "VendorError",
]


class TakestockError(Exception):
    """Base of every error meant for a person to read."""

    title = "Something went wrong"
    kind = "error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class InvalidInput(TakestockError):
    """Input that a vendor would refuse or charge for nothing; nothing was sent.

    Attributes:
        field: the request field at fault (``prompt``, ``duration``, ``image``, ...).
    """

    title = "Invalid input"
    kind = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class StoreError(TakestockError):
    title = "Library database problem"
    kind = "store"


class StorageFault(StoreError):
    """The computer refused a write (full disk, read-only folder, no permission): the
    library itself is intact, and the same command works once the cause is fixed."""

    title = "Cannot write to the data folder"
    kind = "storage"


class DiskFull(StorageFault):
    title = "Disk full"
    kind = "disk_full"


class FolderNotWritable(StorageFault):
    title = "Data folder is read-only"
    kind = "read_only"


class SecretsUnavailable(TakestockError):
    title = "No keyring available"
    kind = "secrets"


class MediaError(TakestockError):
    title = "Unreadable video"
    kind = "media"


class DownloadError(TakestockError):
    title = "Download failed"
    kind = "download"


class ResultExpired(DownloadError):
    title = "Result link expired"
    kind = "result_expired"


class CatalogError(TakestockError):
    title = "Catalog problem"
    kind = "catalog"


class EngineFault(TakestockError):
    """Something unexpected happened while driving one job; the job ended there."""

    title = "Job stopped by an unexpected error"
    kind = "engine_fault"


class NotSent(TakestockError):
    """The create could not be sent at all; nothing reached the vendor."""

    title = "Not sent"
    kind = "not_sent"


class ExportCancelled(TakestockError):
    """The export was stopped; the files already written are whole and stay."""

    title = "Export stopped"
    kind = "cancelled"


class EagleError(TakestockError):
    """Eagle answered with an error, or with something that is not Eagle's API."""

    title = "Eagle refused"
    kind = "eagle"


class EagleNotRunning(EagleError):
    """Nothing answers at Eagle's address: the app is closed (or on another port)."""

    title = "Eagle is not running"
    kind = "eagle_not_running"


class VendorError(TakestockError):
    """The vendor refused or failed; ``vendor_code`` and the vendor's own words are kept.

    Attributes:
        vendor: vendor id.
        vendor_code: the vendor's error code or HTTP status, as text, when there is one.
        status: the HTTP status, when there is one.
    """

    title = "The vendor refused"
    kind = "vendor"

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        vendor_code: str | None = None,
        status: int | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message, title=title)
        self.vendor = vendor
        self.vendor_code = vendor_code
        self.status = status


class AuthError(VendorError):
    title = "Key rejected"
    kind = "auth"


class QuotaError(VendorError):
    title = "Not enough credits"
    kind = "quota"


class RateLimited(VendorError):
    """Too many requests or too many running tasks.

    Attributes:
        retry_after: seconds the vendor asked us to wait, when it said.
    """

    title = "Rate limited"
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Rejected(VendorError):
    title = "Input or content refused"
    kind = "rejected"


class ModelRetired(VendorError):
    title = "Model no longer available"
    kind = "model_retired"


class GenerationFailed(VendorError):
    title = "Generation failed"
    kind = "generation_failed"


class LookupUnavailable(VendorError):
    """Asked for a task whose create went unanswered, the vendor cannot tell us: the
    job becomes *unknown* and the user decides."""

    title = "Create not confirmed"
    kind = "unknown"


class TransientError(VendorError):
    title = "Vendor temporarily unavailable"
    kind = "transient"


class ProtocolError(VendorError):
    title = "Unreadable answer from the vendor"
    kind = "protocol"


class AmbiguousCreate(TransientError):
    """A create left without an answer: the vendor may or may not have made the task."""

    title = "No answer to the create"
    kind = "ambiguous_create"


class ConnectFailed(TransientError):
    """The vendor could not be reached at all: nothing was sent."""

    title = "Vendor unreachable"
    kind = "unreachable"
