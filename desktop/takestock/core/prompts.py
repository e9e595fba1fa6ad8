"""The prompt library: prompts with immutable versions, tags and ``{variables}``.

Every edit makes a new version; a version never changes once written (a trigger in
the schema enforces it), so a take always points at the exact words that made it.
Variables are written ``{name}`` in the text (``{{`` and ``}}`` for literal braces)
and filled when a request is made.
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = [
    "Prompt",
    "PromptVersion",
    "archive_prompt",
    "create_prompt",
    "edit_prompt",
    "find_or_create_adhoc",
    "get_prompt",
    "get_version",
    "list_prompts",
    "render",
    "variables_in",
]


@dataclass(frozen=True, slots=True)
class PromptVersion:
    id: int
    prompt_id: int
    number: int
    text: str
    negative: str
    variables: Mapping[str, str]  # name -> default value ("" when none)
    created_at: float


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    title: str
    archived: bool
    latest: PromptVersion
    tags: tuple[str, ...] = field(default=())


_formatter = string.Formatter()


def variables_in(text: str) -> list[str]:
    """The ``{variable}`` names in ``text``, in order of first use."""
    names: list[str] = []
    try:
        parsed = list(_formatter.parse(text))
    except ValueError as exc:
        raise InvalidInput(
            "prompt", f"unbalanced braces ({exc}); write {{{{ or }}}} for a literal brace"
        ) from exc
    for _literal, name, _spec, _conv in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise InvalidInput(
                "prompt", f"{{{name}}} is not a valid variable name (letters, digits, _)"
            )
        if name not in names:
            names.append(name)
    return names


def render(text: str, values: Mapping[str, str], defaults: Mapping[str, str] = {}) -> str:
    """Fill ``{variables}``; every variable needs a value or a non-empty default."""
    names = variables_in(text)
    filled = {name: values.get(name) or defaults.get(name, "") for name in names}
    missing = [name for name, value in filled.items() if not value]
    if missing:
        raise InvalidInput("variables", f"no value for {', '.join(missing)}")
    return text.format_map(filled)


def _version(row: Any) -> PromptVersion:
    return PromptVersion(
        id=row["id"],
        prompt_id=row["prompt_id"],
        number=row["number"],
        text=row["text"],
        negative=row["negative"],
        variables=json.loads(row["variables"]),
        created_at=row["created_at"],
    )


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("prompt", "is empty")
    variables_in(text)
    return text


def _set_tags(store: Store, prompt_id: int, tags: Sequence[str]) -> None:
    store.execute("DELETE FROM prompt_tag WHERE prompt_id = ?", (prompt_id,))
    for name in {t.strip() for t in tags if t.strip()}:
        store.execute("INSERT OR IGNORE INTO tag(name) VALUES (?)", (name,))
        tag_id = store.scalar("SELECT id FROM tag WHERE name = ?", (name,))
        store.execute("INSERT INTO prompt_tag VALUES (?, ?)", (prompt_id, tag_id))


def _insert_version(
    store: Store, prompt_id: int, text: str, negative: str, variables: Mapping[str, str]
) -> int:
    number = 1 + int(
        store.scalar(
            "SELECT COALESCE(MAX(number), 0) FROM prompt_version WHERE prompt_id = ?",
            (prompt_id,),
        )
    )
    declared = {name: variables.get(name, "") for name in variables_in(text)}
    cur = store.execute(
        "INSERT INTO prompt_version(prompt_id, number, text, negative, variables, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (prompt_id, number, text, negative.strip(), json.dumps(declared), time.time()),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def create_prompt(
    store: Store,
    text: str,
    *,
    title: str | None = None,
    negative: str = "",
    variables: Mapping[str, str] | None = None,
    tags: Sequence[str] = (),
) -> Prompt:
    text = _check_text(text)
    now = time.time()
    with store.tx():
        cur = store.execute(
            "INSERT INTO prompt(title, created_at, updated_at) VALUES (?, ?, ?)",
            ((title or _title_from(text)).strip(), now, now),
        )
        assert cur.lastrowid is not None
        _insert_version(store, cur.lastrowid, text, negative, variables or {})
        _set_tags(store, cur.lastrowid, tags)
    return get_prompt(store, cur.lastrowid)


def edit_prompt(
    store: Store,
    prompt_id: int,
    *,
    text: str | None = None,
    negative: str | None = None,
    variables: Mapping[str, str] | None = None,
    title: str | None = None,
    tags: Sequence[str] | None = None,
) -> Prompt:
    """A new version when the words change; title and tags change in place."""
    current = get_prompt(store, prompt_id)
    new_text = _check_text(text) if text is not None else current.latest.text
    new_negative = negative.strip() if negative is not None else current.latest.negative
    new_vars = dict(current.latest.variables) | dict(variables or {})
    with store.tx():
        changed = (new_text, new_negative, new_vars) != (
            current.latest.text,
            current.latest.negative,
            dict(current.latest.variables),
        )
        if changed:
            _insert_version(store, prompt_id, new_text, new_negative, new_vars)
        if title is not None:
            store.execute("UPDATE prompt SET title = ? WHERE id = ?", (title.strip(), prompt_id))
        if tags is not None:
            _set_tags(store, prompt_id, tags)
        store.execute("UPDATE prompt SET updated_at = ? WHERE id = ?", (time.time(), prompt_id))
    return get_prompt(store, prompt_id)


def archive_prompt(store: Store, prompt_id: int, archived: bool = True) -> None:
    get_prompt(store, prompt_id)
    store.execute("UPDATE prompt SET archived = ? WHERE id = ?", (int(archived), prompt_id))


def get_version(store: Store, version_id: int) -> PromptVersion:
    row = store.one("SELECT * FROM prompt_version WHERE id = ?", (version_id,))
    if row is None:
        raise InvalidInput("prompt_version", f"no prompt version {version_id}")
    return _version(row)


def versions(store: Store, prompt_id: int) -> list[PromptVersion]:
    rows = store.all(
        "SELECT * FROM prompt_version WHERE prompt_id = ? ORDER BY number", (prompt_id,)
    )
    return [_version(r) for r in rows]


def get_prompt(store: Store, prompt_id: int) -> Prompt:
    row = store.one("SELECT * FROM prompt WHERE id = ?", (prompt_id,))
    if row is None:
        raise InvalidInput("prompt", f"no prompt {prompt_id}")
    latest = store.one(
        "SELECT * FROM prompt_version WHERE prompt_id = ? ORDER BY number DESC LIMIT 1",
        (prompt_id,),
    )
    tags = store.all(
        "SELECT name FROM tag JOIN prompt_tag ON tag.id = tag_id WHERE prompt_id = ? ORDER BY name",
        (prompt_id,),
    )
    return Prompt(
        id=row["id"],
        title=row["title"],
        archived=bool(row["archived"]),
        latest=_version(latest),
        tags=tuple(t["name"] for t in tags),
    )


def list_prompts(
    store: Store, *, search: str = "", tag: str | None = None, archived: bool = False
) -> list[Prompt]:
    sql = "SELECT DISTINCT p.id FROM prompt p JOIN prompt_version v ON v.prompt_id = p.id"
    where = ["p.archived = ?"]
    params: list[Any] = [int(archived)]
    if tag:
        sql += " JOIN prompt_tag pt ON pt.prompt_id = p.id JOIN tag t ON t.id = pt.tag_id"
        where.append("t.name = ?")
        params.append(tag)
    if search:
        where.append("(p.title LIKE ? ESCAPE '\\' OR v.text LIKE ? ESCAPE '\\')")
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    rows = store.all(f"{sql} WHERE {' AND '.join(where)} ORDER BY p.updated_at DESC", params)
    return [get_prompt(store, r["id"]) for r in rows]


def find_or_create_adhoc(store: Store, text: str, negative: str = "") -> PromptVersion:
    """The version with exactly these words, or a new prompt for them.

    Used when a prompt is typed rather than picked from the library, so that repeated
    generations of the same words gather under one prompt.
    """
    text = _check_text(text)
    row = store.one(
        "SELECT * FROM prompt_version WHERE text = ? AND negative = ? ORDER BY id DESC LIMIT 1",
        (text, negative.strip()),
    )
    if row is not None:
        return _version(row)
    return create_prompt(store, text, negative=negative).latest


def _title_from(text: str, limit: int = 60) -> str:
    first = text.strip().splitlines()[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"
