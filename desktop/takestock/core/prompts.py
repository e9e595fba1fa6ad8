"""The prompt library: prompts with immutable versions, tags and ``{variables}``.

Every edit makes a new version; a version never changes once written (a trigger in
the schema enforces it), so a take always points at the exact words that made it.
Variables are written ``{name}`` in the text (``{{`` and ``}}`` for literal braces)
and filled when a request is made.

Negative-prompt presets are prompts too, tagged :data:`NEGATIVE_PRESET_TAG`: their text
is the words to avoid. Keeping them in the library (not in per-machine settings) means
they travel with the data folder, are versioned like any prompt, and are there for the
command line as well; :func:`list_prompts` leaves them out unless asked for the tag.
"""

from __future__ import annotations

import difflib
import json
import re
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = [
    "NEGATIVE_PRESET_TAG",
    "DiffOp",
    "Prompt",
    "PromptVersion",
    "archive_prompt",
    "create_prompt",
    "diff_versions",
    "duplicate_prompt",
    "edit_prompt",
    "find_or_create_adhoc",
    "get_prompt",
    "get_version",
    "list_prompts",
    "list_tags",
    "negative_presets",
    "prompt_ids",
    "render",
    "save_negative_preset",
    "variables_in",
    "versions",
]

#: The tag that makes a prompt a negative-prompt preset (its text is the words to avoid).
NEGATIVE_PRESET_TAG = "negative-preset"

DiffOp = Literal["equal", "insert", "delete"]


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


def prompt_ids(
    store: Store,
    *,
    search: str = "",
    tag: str | None = None,
    archived: bool = False,
    exclude_tags: Sequence[str] = (NEGATIVE_PRESET_TAG,),
) -> list[int]:
    """Ids of the prompts that match, most recently changed first.

    ``search`` looks in titles and in every version's text. Prompts carrying one of
    ``exclude_tags`` are left out unless ``tag`` names that tag (presets stay out of the
    prompt list by default).
    """
    sql = "SELECT DISTINCT p.id, p.updated_at FROM prompt p"
    sql += " JOIN prompt_version v ON v.prompt_id = p.id"
    where = ["p.archived = ?"]
    params: list[Any] = [int(archived)]
    if tag:
        sql += " JOIN prompt_tag pt ON pt.prompt_id = p.id JOIN tag t ON t.id = pt.tag_id"
        where.append("t.name = ?")
        params.append(tag)
    excluded = [t for t in exclude_tags if not tag or t.lower() != tag.lower()]
    if excluded:
        where.append(
            "NOT EXISTS (SELECT 1 FROM prompt_tag xt JOIN tag x ON x.id = xt.tag_id"
            f" WHERE xt.prompt_id = p.id AND x.name IN ({', '.join('?' * len(excluded))}))"
        )
        params += excluded
    if search:
        where.append("(p.title LIKE ? ESCAPE '\\' OR v.text LIKE ? ESCAPE '\\')")
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    rows = store.all(
        f"{sql} WHERE {' AND '.join(where)} ORDER BY p.updated_at DESC, p.id DESC", params
    )
    return [r["id"] for r in rows]


def list_prompts(
    store: Store,
    *,
    search: str = "",
    tag: str | None = None,
    archived: bool = False,
    exclude_tags: Sequence[str] = (NEGATIVE_PRESET_TAG,),
) -> list[Prompt]:
    """The prompts that match (see :func:`prompt_ids`), most recently changed first."""
    ids = prompt_ids(store, search=search, tag=tag, archived=archived, exclude_tags=exclude_tags)
    return [get_prompt(store, prompt_id) for prompt_id in ids]


def list_tags(store: Store, *, archived: bool = False) -> list[str]:
    """The tags in use on prompts (archived ones or not), by name; presets' tag included."""
    rows = store.all(
        "SELECT DISTINCT t.name FROM tag t JOIN prompt_tag pt ON pt.tag_id = t.id"
        " JOIN prompt p ON p.id = pt.prompt_id WHERE p.archived = ? ORDER BY t.name COLLATE NOCASE",
        (int(archived),),
    )
    return [r["name"] for r in rows]


def duplicate_prompt(store: Store, version_id: int, *, title: str | None = None) -> Prompt:
    """A new prompt starting from one version's words, negative, variables and tags.

    The copy has its own history (its version 1); the original is not touched.
    """
    version = get_version(store, version_id)
    source = get_prompt(store, version.prompt_id)
    return create_prompt(
        store,
        version.text,
        title=title or f"{source.title} (copy of v{version.number})",
        negative=version.negative,
        variables=version.variables,
        tags=source.tags,
    )


_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
#: Diff tokens: runs of white space, single CJK characters (those scripts do not space
#: their words), runs of other word characters, single punctuation marks.
_TOKENS = re.compile(rf"\s+|[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def diff_versions(a: PromptVersion | str, b: PromptVersion | str) -> list[tuple[DiffOp, str]]:
    """What changed from ``a`` to ``b``, word by word (punctuation and CJK characters
    on their own): ``(op, text)`` runs in order.

    ``op`` is ``equal``, ``delete`` (only in ``a``) or ``insert`` (only in ``b``); a
    replaced run is a delete followed by an insert. Joining the ``equal`` and ``delete``
    runs gives ``a`` back; ``equal`` and ``insert`` give ``b``. Versions are compared by
    their text; pass strings to compare anything else (their negatives).
    """
    old = a.text if isinstance(a, PromptVersion) else a
    new = b.text if isinstance(b, PromptVersion) else b
    left, right = _TOKENS.findall(old), _TOKENS.findall(new)
    runs: list[tuple[DiffOp, str]] = []

    def add(op: DiffOp, tokens: Sequence[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if runs and runs[-1][0] == op:
            runs[-1] = (op, runs[-1][1] + text)
        else:
            runs.append((op, text))

    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", left[i1:i2])
        else:
            add("delete", left[i1:i2])
            add("insert", right[j1:j2])
    return runs


def negative_presets(store: Store) -> list[Prompt]:
    """The negative-prompt presets, by title."""
    presets = list_prompts(store, tag=NEGATIVE_PRESET_TAG)
    return sorted(presets, key=lambda p: p.title.casefold())


def save_negative_preset(store: Store, title: str, words: str) -> Prompt:
    """Save ``words`` as a negative preset named ``title``; a preset of that name gets a
    new version instead of a twin."""
    if not title.strip():
        raise InvalidInput("title", "name the preset")
    for preset in negative_presets(store):
        if preset.title.casefold() == title.strip().casefold():
            return edit_prompt(store, preset.id, text=words)
    return create_prompt(store, words, title=title, tags=[NEGATIVE_PRESET_TAG])


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
