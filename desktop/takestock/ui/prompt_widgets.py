"""Small widgets the Prompts and Generate screens share: the ``{variables}`` form, the
negative-prompt presets menu, and a word diff drawn as HTML."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)

from takestock.core.errors import TakestockError
from takestock.core.prompts import DiffOp, negative_presets, save_negative_preset
from takestock.core.store import Store

__all__ = ["NegativePresetsButton", "VariablesForm", "diff_html"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("PromptWidgets", text)


_STYLES: Mapping[DiffOp, str] = {
    "equal": "",
    "delete": "background:#fbd3d0;color:#8a1c12;text-decoration:line-through;",
    "insert": "background:#cdeccd;color:#14501a;text-decoration:none;",
}


def diff_html(runs: Sequence[tuple[DiffOp, str]]) -> str:
    """Word-diff runs (see :func:`takestock.core.prompts.diff_versions`) as HTML:
    deletions struck out in red, insertions in green, the rest as is."""
    out = []
    for op, text in runs:
        escaped = html.escape(text).replace("\n", "<br>")
        if op == "equal":
            out.append(escaped)
        else:
            tag = "del" if op == "delete" else "ins"
            out.append(f'<{tag} style="{_STYLES[op]}">{escaped}</{tag}>')
    return "".join(out)


class VariablesForm(QWidget):
    """One line edit per ``{variable}`` of a prompt, in order of first use.

    With ``defaults_as_values`` (the Prompts screen) the lines hold each variable's
    default; otherwise (the Generate screen) they hold the values to fill in, and the
    default shows as a placeholder (an empty line means "use the default").

    Attributes:
        editors: the line edit of each variable, by name.

    Signals:
        changed(): a value was typed.
    """

    changed = Signal()

    def __init__(self, *, defaults_as_values: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._defaults_as_values = defaults_as_values
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QLineEdit] = {}

    def names(self) -> list[str]:
        return list(self.editors)

    def set_variables(self, names: Sequence[str], defaults: Mapping[str, str]) -> None:
        """Show ``names``; what was typed for a name still present is kept."""
        if list(names) == self.names():
            for name, editor in self.editors.items():
                self._apply_default(editor, defaults.get(name, ""), keep=True)
            return
        typed = {name: editor.text() for name, editor in self.editors.items()}
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.editors = {}
        for name in names:
            editor = QLineEdit()
            editor.setObjectName(f"var-{name}")
            self._apply_default(editor, defaults.get(name, ""), keep=False)
            if name in typed and (typed[name] or not self._defaults_as_values):
                editor.setText(typed[name])
            editor.textChanged.connect(self.changed)
            self._layout.addRow(f"{{{name}}}", editor)
            self.editors[name] = editor
        self.setVisible(bool(names))

    def _apply_default(self, editor: QLineEdit, default: str, *, keep: bool) -> None:
        if self._defaults_as_values:
            if not keep:
                editor.setText(default)
            editor.setPlaceholderText(_tr("no default: must be filled when generating"))
        else:
            editor.setPlaceholderText(default or _tr("value (required)"))

    def values(self) -> dict[str, str]:
        """What was typed, by name (empty lines left out)."""
        return {name: e.text().strip() for name, e in self.editors.items() if e.text().strip()}


class NegativePresetsButton(QToolButton):
    """A menu of negative-prompt presets for a line edit, and "Save as preset…".

    Presets are prompts tagged ``negative-preset`` in the library (see
    :mod:`takestock.core.prompts`), so they travel with the data folder.

    Signals:
        chosen(str): a preset's words were put into the line edit.
    """

    chosen = Signal(str)

    def __init__(self, store: Store, target: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._target = target
        self.setText(_tr("Presets"))
        self.setToolTip(_tr("Negative-prompt presets"))
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self)
        self.setMenu(self._menu)
        self._menu.aboutToShow.connect(self.rebuild)

    def rebuild(self) -> None:
        """Read the presets again (another screen may have added one)."""
        self._menu.clear()
        presets = negative_presets(self._store)
        for preset in presets:
            words = preset.latest.text
            action = self._menu.addAction(preset.title)
            action.setToolTip(words)
            action.triggered.connect(lambda _=False, w=words: self.apply(w))
        if not presets:
            empty = self._menu.addAction(_tr("No presets yet"))
            empty.setEnabled(False)
        self._menu.addSeparator()
        save = self._menu.addAction(_tr("Save current as preset…"))
        save.setEnabled(bool(self._target.text().strip()))
        save.triggered.connect(self._ask_and_save)

    def apply(self, words: str) -> None:
        self._target.setText(words)
        self.chosen.emit(words)

    def _ask_and_save(self) -> None:
        name, ok = QInputDialog.getText(
            self, _tr("Save negative preset"), _tr("Name of the preset:")
        )
        if ok and name.strip():
            self.save(name)

    def save(self, name: str) -> bool:
        """Save the line edit's words as preset ``name``; False (and a message) if refused."""
        try:
            save_negative_preset(self._store, name, self._target.text())
        except TakestockError as exc:
            QMessageBox.warning(self, exc.title, exc.message)
            return False
        return True
