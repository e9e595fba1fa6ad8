"""Eagle (eagle.cool): push exported takes into a running Eagle library.

Eagle serves a local web API while its app is open. What this module relies on, from
Eagle's API documentation (api.eagle.cool, the API every Eagle since 1.11 Build 21
serves; Eagle 4.0 Build 21 adds a larger ``/api/v2`` beside it, developer.eagle.cool):

- The server listens on ``http://localhost:41595`` and only while the app is open.
- Requests from the same computer need no token; from another one, Eagle wants its API
  token (Preferences → Developer) as ``?token=``.
- Every answer is JSON: ``{"status": "success", "data": ...}``; a failure has another
  status and says why in ``message`` or ``data``.
- ``GET /api/application/info``: ``data`` has ``version``, ``prereleaseVersion``,
  ``buildVersion``, ``execPath``, ``platform``. Used to tell that Eagle is running.
- ``GET /api/folder/list``: ``data`` is the list of top folders, each with ``id``,
  ``name``, ``children`` (folders, nested) and more.
- ``POST /api/folder/create`` ``{"folderName", "parent"?}``: ``data`` is the new folder
  (``id``, ``name``, ``children``, ...), put last in the library's list.
- ``POST /api/item/addFromPath`` ``{"path", "name", "website"?, "annotation"?, "tags"?,
  "folderId"?}``: adds one local file (``path`` and ``name`` required).
- ``POST /api/item/addFromPaths`` ``{"items": [{"path", "name", "website"?,
  "annotation"?, "tags"?}], "folderId"?}``: adds several; the docs suggest it over
  repeated single adds.

Eagle copies each file into its library and does not look for duplicates: pushing the
same takes twice adds them twice.

Errors:

    TakestockError
     └── EagleError            Eagle refused, or answered something we cannot read
          └── EagleNotRunning  nothing answers at Eagle's address: the app is closed
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from takestock.core.errors import EagleError, EagleNotRunning
from takestock.core.export import ExportResult
from takestock.core.logs import redact

__all__ = [
    "ADD_BATCH",
    "DEFAULT_URL",
    "EagleClient",
    # Defined in core.errors; still exported here for the CLI's export command.
    "EagleError",
    "EagleFolder",
    "EagleInfo",
    "EagleItem",
    "EaglePush",
    "items_from_export",
    "push",
]

DEFAULT_URL = "http://localhost:41595"
#: Items per ``addFromPaths`` request: a large selection goes in several.
ADD_BATCH = 100


@dataclass(frozen=True, slots=True)
class EagleInfo:
    """The running Eagle app.

    Attributes:
        version: e.g. ``4.0.0``.
        build: the build, e.g. ``build12``, when Eagle says.
        platform: ``darwin`` or ``win32``.
    """

    version: str
    build: str | None
    platform: str | None


@dataclass(frozen=True, slots=True)
class EagleFolder:
    """A folder of the open Eagle library, with its subfolders."""

    id: str
    name: str
    children: tuple[EagleFolder, ...] = ()

    def walk(self) -> Iterator[EagleFolder]:
        """This folder and every folder below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EagleFolder:
        children = data.get("children") or []
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            children=tuple(cls.from_json(c) for c in children if isinstance(c, Mapping)),
        )


@dataclass(frozen=True, slots=True)
class EagleItem:
    """One local file to add, with what Eagle shows about it.

    Attributes:
        path: the file (absolute).
        name: the item's name in Eagle.
        tags: Eagle tags.
        annotation: Eagle's free-text note.
        website: a source address, when there is one.
    """

    path: Path
    name: str
    tags: tuple[str, ...] = ()
    annotation: str = ""
    website: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": str(self.path), "name": self.name}
        if self.tags:
            data["tags"] = list(self.tags)
        if self.annotation:
            data["annotation"] = self.annotation
        if self.website:
            data["website"] = self.website
        return data


@dataclass(frozen=True, slots=True)
class EaglePush:
    """What a push added.

    Attributes:
        url: Eagle's address.
        version: the Eagle app's version.
        folder: the folder the items went into, or None for the library's root.
        added: how many items were sent and accepted.
    """

    url: str
    version: str
    folder: EagleFolder | None
    added: int

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "version": self.version,
            "folder": {"id": self.folder.id, "name": self.folder.name} if self.folder else None,
            "added": self.added,
        }


class EagleClient:
    """Eagle's local API over an injected ``httpx.AsyncClient``.

    Attributes:
        base_url: Eagle's address, ``http://localhost:41595`` by default.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_URL,
        *,
        token: str | None = None,
    ) -> None:
        self._client = client
        self.base_url = base_url.rstrip("/")
        self._token = token

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """The ``data`` of Eagle's answer to one request."""
        params = {"token": self._token} if self._token else None
        try:
            response = await self._client.request(
                method, f"{self.base_url}{path}", json=body, params=params
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise EagleNotRunning(
                f"Eagle is not running at {self.base_url} (nothing answered: "
                f"{type(exc).__name__}). Open the Eagle app with the library you want, "
                "then try again."
            ) from exc
        except httpx.HTTPError as exc:
            raise EagleError(
                f"Eagle at {self.base_url} did not answer {path} ({type(exc).__name__}); "
                "it may be busy importing. Try again in a moment."
            ) from exc
        if response.status_code in (401, 403):
            raise EagleError(
                f"Eagle refused {path} (HTTP {response.status_code}): it wants its API "
                "token (Eagle → Preferences → Developer).",
                title="Eagle wants a token",
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, Mapping):
            raise EagleError(
                f"{self.base_url}{path} answered HTTP {response.status_code} with something "
                "that is not Eagle's API; is another program using Eagle's port?"
            )
        if response.status_code >= 400 or answer.get("status") != "success":
            said = answer.get("message") or answer.get("data") or answer.get("status")
            raise EagleError(
                f"Eagle refused {path} (HTTP {response.status_code}): {redact(str(said))}"
            )
        return answer.get("data")

    async def info(self) -> EagleInfo:
        """The running app; raises :class:`EagleNotRunning` when Eagle is closed."""
        data = await self._call("GET", "/api/application/info")
        if not isinstance(data, Mapping) or "version" not in data:
            raise EagleError(f"{self.base_url} does not describe itself as Eagle does")
        return EagleInfo(
            version=str(data["version"]),
            build=None if data.get("buildVersion") is None else str(data["buildVersion"]),
            platform=None if data.get("platform") is None else str(data["platform"]),
        )

    async def folders(self) -> list[EagleFolder]:
        """The library's top folders, each with its subfolders."""
        data = await self._call("GET", "/api/folder/list")
        if not isinstance(data, list):
            raise EagleError("Eagle's folder list is not a list")
        return [EagleFolder.from_json(f) for f in data if isinstance(f, Mapping)]

    async def create_folder(self, name: str, parent: str | None = None) -> EagleFolder:
        body: dict[str, Any] = {"folderName": name}
        if parent:
            body["parent"] = parent
        data = await self._call("POST", "/api/folder/create", body)
        if not isinstance(data, Mapping) or "id" not in data:
            raise EagleError("Eagle created a folder but did not say its id")
        return EagleFolder.from_json(data)

    async def folder_named(self, name: str) -> EagleFolder:
        """The top folder called ``name``, created when there is none."""
        for folder in await self.folders():
            if folder.name == name:
                return folder
        return await self.create_folder(name)

    async def add_from_path(self, item: EagleItem, folder_id: str | None = None) -> None:
        body = item.to_json()
        if folder_id:
            body["folderId"] = folder_id
        await self._call("POST", "/api/item/addFromPath", body)

    async def add_from_paths(
        self, items: Sequence[EagleItem], folder_id: str | None = None
    ) -> None:
        body: dict[str, Any] = {"items": [i.to_json() for i in items]}
        if folder_id:
            body["folderId"] = folder_id
        await self._call("POST", "/api/item/addFromPaths", body)


async def push(
    eagle: EagleClient,
    items: Sequence[EagleItem],
    folder_name: str | None = None,
    *,
    batch: int = ADD_BATCH,
) -> EaglePush:
    """Add ``items`` to the open Eagle library, into the top folder ``folder_name``
    (created if missing) or the library's root; ``batch`` items per request."""
    info = await eagle.info()
    folder = await eagle.folder_named(folder_name) if folder_name else None
    folder_id = folder.id if folder else None
    added = 0
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        if len(chunk) == 1:
            await eagle.add_from_path(chunk[0], folder_id)
        else:
            await eagle.add_from_paths(chunk, folder_id)
        added += len(chunk)
    return EaglePush(eagle.base_url, info.version, folder, added)


def items_from_export(result: ExportResult) -> list[EagleItem]:
    """One Eagle item per exported take: the exported file, named as in the folder.

    Tags: vendor, model, verdict, stars, reasons and the prompt's tags. Annotation: the
    prompt, the negative prompt, and the take id (to find it again in Takestock).
    """
    items = []
    for exported in result.takes:
        record = exported.record
        take = record.take
        stars = [f"{take.stars} star" + ("s" if take.stars != 1 else "")] if take.stars else []
        tags = [take.vendor, take.model, take.verdict, *stars, *take.reasons, *record.tags]
        notes = [record.prompt] if record.prompt else []
        if record.negative:
            notes.append(f"Negative: {record.negative}")
        notes.append(f"Takestock take {take.id}")
        items.append(
            EagleItem(
                path=exported.file,
                name=exported.file.stem,
                tags=tuple(dict.fromkeys(t for t in tags if t)),
                annotation="\n\n".join(notes),
            )
        )
    return items
