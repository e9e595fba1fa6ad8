"""A fake Eagle app: the part of Eagle's local web API (api.eagle.cool) that exports use.

It answers as Eagle documents: ``{"status": "success", "data": ...}``, and for a
request it cannot honour ``{"status": "error", "message": ...}``. Like Eagle, it needs
``path`` and ``name`` for every item, refuses a file that is not there (Eagle copies
the file into its library at once) and an unknown ``folderId``; with ``token`` set it
wants ``?token=`` as Eagle does for requests from another machine.

    eagle = FakeEagle()
    with FakeServer(eagle.routes()) as srv:
        ...  # EagleClient(client, srv.url)
        assert eagle.items[0]["tags"] == [...]
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["FakeEagle"]


class FakeEagle:
    """State of the fake library: its folders (nested) and the items added.

    Attributes:
        folders: top folders, Eagle's shape (``id``, ``name``, ``children``, ...).
        items: every item added, as sent, with ``folders`` set to ``[folderId]``.
        token: when set, every request must carry ``?token=`` with it.
    """

    def __init__(self, *, token: str | None = None, version: str = "4.0.0") -> None:
        self.folders: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.token = token
        self.version = version
        self._ids = (f"M{n:012d}" for n in itertools.count(1))

    # ---- helpers ---------------------------------------------------------------

    def folder(self, name: str, parent: str | None = None) -> dict[str, Any]:
        """Create a folder (as the app would), under ``parent`` when given."""
        folder = {
            "id": next(self._ids),
            "name": name,
            "description": "",
            "children": [],
            "modificationTime": int(time.time() * 1000),
            "tags": [],
            "imageCount": 0,
            "descendantImageCount": 0,
            "pinyin": name.upper(),
            "extendTags": [],
        }
        siblings = self.folders if parent is None else self._find(parent)["children"]
        siblings.append(folder)
        return folder

    def _walk(self, folders: list[dict[str, Any]]) -> Any:
        for folder in folders:
            yield folder
            yield from self._walk(folder["children"])

    def _find(self, folder_id: str) -> dict[str, Any]:
        for folder in self._walk(self.folders):
            if folder["id"] == folder_id:
                return folder
        raise KeyError(folder_id)

    @staticmethod
    def _ok(data: Any = None) -> web.Response:
        body: dict[str, Any] = {"status": "success"}
        if data is not None:
            body["data"] = data
        return web.json_response(body)

    @staticmethod
    def _error(message: str) -> web.Response:
        return web.json_response({"status": "error", "message": message})

    def _authorised(self, request: web.Request) -> bool:
        return self.token is None or request.query.get("token") == self.token

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            # Any content type: Eagle's own samples send the JSON as plain text.
            body = json.loads(await request.text())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _add(self, item: Any, folder_id: Any) -> str | None:
        """Add one item; the reason it cannot be added, or None."""
        if not isinstance(item, dict) or not item.get("path") or not item.get("name"):
            return "path and name are required"
        if not Path(item["path"]).is_file():
            return f"file not found: {item['path']}"
        if folder_id is not None:
            try:
                self._find(folder_id)
            except KeyError:
                return f"folder {folder_id} not found"
        if "tags" in item and not isinstance(item["tags"], list):
            return "tags must be a list"
        added = {**item, "id": next(self._ids), "folders": [folder_id] if folder_id else []}
        added["size"] = Path(item["path"]).stat().st_size
        self.items.append(added)
        return None

    # ---- routes ----------------------------------------------------------------

    def routes(self) -> web.RouteTableDef:
        routes = web.RouteTableDef()

        @routes.get("/api/application/info")
        async def info(request: web.Request) -> web.Response:
            if not self._authorised(request):
                return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
            return self._ok(
                {
                    "version": self.version,
                    "prereleaseVersion": None,
                    "buildVersion": "build21",
                    "execPath": "/Applications/Eagle.app/Contents/MacOS/Eagle",
                    "platform": "darwin",
                }
            )

        @routes.get("/api/folder/list")
        async def folder_list(request: web.Request) -> web.Response:
            if not self._authorised(request):
                return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
            return self._ok(self.folders)

        @routes.post("/api/folder/create")
        async def folder_create(request: web.Request) -> web.Response:
            if not self._authorised(request):
                return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
            body = await self._body(request)
            if not body or not str(body.get("folderName", "")).strip():
                return self._error("folderName is required")
            parent = body.get("parent")
            if parent is not None:
                try:
                    self._find(parent)
                except KeyError:
                    return self._error(f"parent folder {parent} not found")
            folder = self.folder(body["folderName"], parent)
            return self._ok(
                {
                    "id": folder["id"],
                    "name": folder["name"],
                    "images": [],
                    "folders": [],
                    "modificationTime": folder["modificationTime"],
                    "imagesMappings": {},
                    "tags": [],
                    "children": [],
                    "isExpand": True,
                }
            )

        @routes.post("/api/item/addFromPath")
        async def add_from_path(request: web.Request) -> web.Response:
            if not self._authorised(request):
                return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
            body = await self._body(request)
            if body is None:
                return self._error("invalid JSON")
            problem = self._add(
                {k: v for k, v in body.items() if k != "folderId"}, body.get("folderId")
            )
            return self._error(problem) if problem else self._ok()

        @routes.post("/api/item/addFromPaths")
        async def add_from_paths(request: web.Request) -> web.Response:
            if not self._authorised(request):
                return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
            body = await self._body(request)
            if body is None or not isinstance(body.get("items"), list) or not body["items"]:
                return self._error("items is required")
            for item in body["items"]:
                problem = self._add(item, body.get("folderId"))
                if problem:
                    return self._error(problem)
            return self._ok()

        return routes
