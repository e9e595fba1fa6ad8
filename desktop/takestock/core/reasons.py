"""Reasons: why a take was rejected (or kept), from a list the user can extend.

The list lives in the ``reason`` table, in the user's order. A fresh library starts with
:data:`DEFAULT_REASONS`. A take stores the names of its reasons (``take.reasons``), so
removing a reason from the list never changes a take that already carries it; the
inspector shows such a reason next to the listed ones (:func:`reason_choices`).
"""

from __future__ import annotations

from collections.abc import Iterable

from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = [
    "DEFAULT_REASONS",
    "MAX_REASON_LENGTH",
    "add_reason",
    "clean_reason",
    "list_reasons",
    "reason_choices",
    "remove_reason",
]

#: The list a new library starts with (migration 4 seeds it; keep the two in step for
#: new libraries by adding a migration, never by editing a shipped one).
DEFAULT_REASONS: tuple[str, ...] = (
    "morphing",
    "physics",
    "hands",
    "faces",
    "text",
    "lip sync",
    "audio",
    "prompt ignored",
    "camera",
    "flicker",
    "artefacts",
    "style",
)

#: Longer names would not fit a checkbox in the inspector.
MAX_REASON_LENGTH = 40


def clean_reason(name: str) -> str:
    """``name`` trimmed, inner whitespace collapsed; the form stored and compared.

    Raises:
        InvalidInput: the name is empty or longer than :data:`MAX_REASON_LENGTH`.
    """
    clean = " ".join(name.split())
    if not clean:
        raise InvalidInput("reason", "is empty")
    if len(clean) > MAX_REASON_LENGTH:
        raise InvalidInput("reason", f"is longer than {MAX_REASON_LENGTH} characters")
    return clean


def list_reasons(store: Store) -> list[str]:
    """The reasons the user can pick, in their order."""
    return [row[0] for row in store.execute("SELECT name FROM reason ORDER BY position, id")]


def add_reason(store: Store, name: str) -> str:
    """Add ``name`` at the end of the list and return it as stored.

    A name already listed (in any letter case) is not added twice: the listed spelling
    is returned.

    Raises:
        InvalidInput: the name is empty or too long.
    """
    clean = clean_reason(name)
    with store.tx():
        existing = store.scalar("SELECT name FROM reason WHERE name = ?", (clean,))
        if existing is not None:
            return str(existing)
        store.execute(
            "INSERT INTO reason(name, position)"
            " VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM reason))",
            (clean,),
        )
    return clean


def remove_reason(store: Store, name: str) -> bool:
    """Take ``name`` off the list (takes keep it); whether it was listed."""
    cur = store.execute("DELETE FROM reason WHERE name = ?", (" ".join(name.split()),))
    return cur.rowcount > 0


def reason_choices(listed: Iterable[str], on_take: Iterable[str]) -> list[str]:
    """The reasons to offer for one take: the list, then the take's own that it lacks.

    Comparison ignores letter case; each name appears once, in the listed spelling.
    """
    choices: list[str] = []
    seen: set[str] = set()
    for name in (*listed, *on_take):
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            choices.append(name)
    return choices
