"""Qt models over the prompt library: prompts matching a query, and one prompt's versions.

:class:`PromptListModel` holds only ids (one query per refresh) and reads each prompt
when a view first asks for it, keeping what it read until the next refresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from takestock.core.prompts import Prompt, PromptVersion, get_prompt, prompt_ids, versions
from takestock.core.store import Store

__all__ = ["PromptListModel", "PromptQuery", "VersionsModel", "first_words"]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: The prompt's id, on every row.
ID_ROLE = Qt.ItemDataRole.UserRole


def _tr(text: str) -> str:
    return QCoreApplication.translate("Prompts", text)


def first_words(text: str, limit: int = 70) -> str:
    """The text on one line, cut at a word near ``limit`` characters."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True, slots=True)
class PromptQuery:
    """What the prompt list shows: a search, a tag, archived prompts or the others."""

    search: str = ""
    tag: str | None = None
    archived: bool = False


class PromptListModel(QAbstractListModel):
    """Prompts matching a :class:`PromptQuery`, most recently changed first.

    ``ID_ROLE`` (``UserRole``) gives a row's prompt id; the tooltip, its latest words.
    """

    def __init__(self, store: Store, query: PromptQuery | None = None) -> None:
        super().__init__()
        self._store = store
        self._query = query or PromptQuery()
        self._ids: list[int] = []
        self._cache: dict[int, Prompt] = {}
        self.refresh()

    @property
    def query(self) -> PromptQuery:
        return self._query

    def set_query(self, query: PromptQuery) -> None:
        self._query = query
        self.refresh()

    def refresh(self) -> None:
        ids = prompt_ids(
            self._store,
            search=self._query.search.strip(),
            tag=self._query.tag,
            archived=self._query.archived,
        )
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        self.endResetModel()

    def prompt(self, row: int) -> Prompt:
        prompt_id = self._ids[row]
        cached = self._cache.get(prompt_id)
        if cached is None:
            cached = self._cache[prompt_id] = get_prompt(self._store, prompt_id)
        return cached

    def prompt_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, prompt_id: int) -> int | None:
        try:
            return self._ids.index(prompt_id)
        except ValueError:
            return None

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        prompt = self.prompt(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            tags = f"  · {', '.join(prompt.tags)}" if prompt.tags else ""
            return f"{prompt.title}{tags}"
        versions_text = _tr("version %1").replace("%1", str(prompt.latest.number))
        return f"{prompt.latest.text}\n\n{versions_text}"


class VersionsModel(QAbstractListModel):
    """One prompt's versions, oldest first (a prompt has tens, not thousands)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._prompt_id: int | None = None
        self._versions: list[PromptVersion] = []

    @property
    def prompt_id(self) -> int | None:
        return self._prompt_id

    def set_prompt(self, prompt_id: int | None) -> None:
        self._prompt_id = prompt_id
        self.refresh()

    def refresh(self) -> None:
        found = versions(self._store, self._prompt_id) if self._prompt_id is not None else []
        self.beginResetModel()
        self._versions = found
        self.endResetModel()

    def version(self, row: int) -> PromptVersion:
        return self._versions[row]

    def row_of(self, version_id: int) -> int | None:
        return next((i for i, v in enumerate(self._versions) if v.id == version_id), None)

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._versions)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._versions):
            return None
        version = self._versions[index.row()]
        if role == ID_ROLE:
            return version.id
        if role == Qt.ItemDataRole.DisplayRole:
            made = time.strftime("%d %b %H:%M", time.localtime(version.created_at))
            return f"v{version.number}  ·  {made}  ·  {first_words(version.text, 60)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            negative = version.negative or _tr("(none)")
            return f"{version.text}\n\n{_tr('Negative:')} {negative}"
        return None
