"""A form with OK/Cancel whose OK asks the screen first (Credits' and Settings' dialogs)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

__all__ = ["FormDialog", "error_label"]


def error_label() -> QLabel:
    """A hidden red label for a form's error, shown by :meth:`FormDialog.show_error`."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #c62828;")
    label.hide()
    return label


class FormDialog(QDialog):
    """A form with OK/Cancel whose OK asks the screen first.

    OK emits ``submitted``; the screen does the work and closes the dialog with
    ``accept()``, or leaves it open with ``show_error()``.

    Signals:
        submitted(): OK was pressed.
    """

    submitted = Signal()

    def __init__(self, title: str, parent: QWidget | None, ok_text: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok_text:
            self.ok_button.setText(ok_text)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

    def _submit(self) -> None:
        self.error.hide()
        self.submitted.emit()

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
