"""Keys that belong to a screen, whatever widget inside it has the focus.

Each screen's keys are ``QShortcut`` s on the screen with the
``WidgetWithChildrenShortcut`` context: they fire when the focus is anywhere inside the
screen (a poster, a button, a combo box, the video), and never on another screen.
Widgets that take typing (line edits, text edits, spin boxes) claim printable keys
through Qt's ``ShortcutOverride``, so "P" typed into a search field is a letter, not a
rating. Two shortcuts for one key in one screen would be ambiguous and both would stay
silent: register each key once, here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:  # the player pulls in PyAV; the main window imports this module first
    from takestock.ui.player import Transport

__all__ = [
    "GRID_PLAYER_KEYS",
    "PLAYER_KEYS",
    "key_text",
    "player_shortcuts",
    "screen_hint",
    "screen_shortcut",
]

_K = Qt.Key
#: The player keys (see :func:`~takestock.ui.player.handle_transport_key`).
PLAYER_KEYS: tuple[Qt.Key, ...] = (
    _K.Key_Space,
    _K.Key_J,
    _K.Key_K,
    _K.Key_L,
    _K.Key_Comma,
    _K.Key_Period,
    _K.Key_Left,
    _K.Key_Right,
    _K.Key_Home,
    _K.Key_End,
    _K.Key_M,
)
#: Beside a grid of posters the arrows, Home and End move through the grid instead.
GRID_PLAYER_KEYS: tuple[Qt.Key, ...] = tuple(
    k for k in PLAYER_KEYS if k not in (_K.Key_Left, _K.Key_Right, _K.Key_Home, _K.Key_End)
)


def screen_shortcut(
    screen: QWidget,
    key: QKeySequence | QKeySequence.StandardKey | Qt.Key | str,
    slot: Callable[[], object],
    *,
    repeat: bool = False,
) -> QShortcut:
    """``key`` runs ``slot`` while the focus is anywhere inside ``screen``.

    ``repeat``: holding the key down repeats it (stepping frames, J held).
    """
    shortcut = QShortcut(QKeySequence(key), screen)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.setAutoRepeat(repeat)
    shortcut.activated.connect(slot)
    return shortcut


def player_shortcuts(
    screen: QWidget,
    transport: Callable[[], Transport | None],
    after: Callable[[], object],
    keys: Iterable[Qt.Key] = PLAYER_KEYS,
) -> list[QShortcut]:
    """The player keys on ``screen``, driving whatever ``transport()`` returns then
    (nothing while it returns ``None``); ``after()`` runs after each key that acted."""

    from takestock.ui.player import handle_transport_key

    def press(key: Qt.Key) -> None:
        target = transport()
        if target is not None and handle_transport_key(target, key):
            after()

    stepping = (_K.Key_J, _K.Key_Comma, _K.Key_Period, _K.Key_Left, _K.Key_Right)
    return [
        screen_shortcut(screen, key, functools.partial(press, key), repeat=key in stepping)
        for key in keys
    ]


def screen_hint(keys: Mapping[str, str], screen: str) -> str:
    """ " (Ctrl+2)" for the key that shows ``screen`` (as the window bound it), or ""."""
    key = keys.get(screen)
    return f" ({key})" if key else ""


def key_text(source: QAction | QShortcut | QKeySequence) -> str:
    """The key of an action or shortcut as the platform writes it ("Ctrl+2", "⌘2"), so
    that hints follow the keys actually bound."""
    if isinstance(source, QAction):
        sequence = source.shortcut()
    elif isinstance(source, QShortcut):
        sequence = source.key()
    else:
        sequence = source
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)
