"""The context menu on takes (Library, Queue): rate, compare, reveal, copy the prompt.

Each entry shows the key that does the same on the screen, taken from the shortcut
itself, so menus teach the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from takestock.core.takes import Take

__all__ = ["COMPARE_KEY", "copy_prompt", "reveal_in_folder", "take_menu"]

#: Compare the selected takes.
COMPARE_KEY = QKeySequence("C")


def _tr(text: str) -> str:
    return QCoreApplication.translate("TakeMenu", text)


def reveal_in_folder(path: Path) -> bool:
    """Open the folder holding ``path`` in the file manager; ``False`` if none opened."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


def copy_prompt(takes: Sequence[Take]) -> str:
    """Put the takes' prompts on the clipboard (each once, in order); what was copied."""
    prompts = list(dict.fromkeys((t.prompt or "").strip() for t in takes if t.prompt))
    text = "\n\n".join(prompts)
    QGuiApplication.clipboard().setText(text)
    return text


def take_menu(
    parent: QWidget,
    takes: Sequence[Take],
    *,
    rate: Callable[..., Any],
    compare: Callable[[], Any],
    say: Callable[[str], Any],
    keys: dict[str, QKeySequence] | None = None,
) -> QMenu:
    """A menu for ``takes`` (the selection); ``rate(**change)`` applies a rating."""
    keys = keys or {}
    menu = QMenu(parent)

    def add(text: str, slot: Callable[[], Any], key: str = "", enabled: bool = True) -> None:
        action = menu.addAction(text)
        if key in keys:
            action.setShortcut(keys[key])  # shown beside the text; the screen owns the key
        action.setEnabled(enabled)
        action.triggered.connect(slot)

    add(_tr("Usable"), lambda: rate(verdict="usable"), "usable")
    add(_tr("Reject"), lambda: rate(verdict="reject"), "reject")
    add(_tr("Unrated"), lambda: rate(verdict="unrated"), "unrated")
    menu.addSeparator()
    add(_tr("Compare"), compare, "compare", len(takes) >= 2)
    menu.addSeparator()

    def reveal() -> None:
        if not reveal_in_folder(takes[0].path):
            say(
                _tr("No file manager opened the folder; the file is %1").replace(
                    "%1", str(takes[0].path)
                )
            )

    def copy() -> None:
        copy_prompt(takes)
        say(_tr("The prompt is on the clipboard."))

    add(_tr("Reveal in folder"), reveal, enabled=len(takes) == 1)
    add(_tr("Copy prompt"), copy, enabled=any(t.prompt for t in takes))
    return menu
