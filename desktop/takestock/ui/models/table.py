"""A flat table over a Python list: the rows, columns and header every table model here
repeated, written once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

__all__ = ["LEFT", "RIGHT", "ROOT", "Index", "ListTableModel"]

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class ListTableModel(QAbstractTableModel):
    """One row per item of ``_rows``, one column per title in ``COLUMNS``.

    A subclass names its ``COLUMNS`` with ``QT_TRANSLATE_NOOP`` under its own class name,
    the context the header translates them in; it sets ``_NUMERIC`` to right-align the
    columns holding numbers (header and cells), and writes ``data``. Models whose rows
    live elsewhere override ``rowCount``.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    #: Right-aligned columns; ``None``: the header leaves alignment to the style.
    _NUMERIC: ClassVar[frozenset[int] | None] = None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: Sequence[Any] = []

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            # The context is the subclass's name, as its QT_TRANSLATE_NOOP marks say.
            return QCoreApplication.translate(type(self).__name__, self.COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and self._NUMERIC is not None:
            return RIGHT if section in self._NUMERIC else LEFT
        return None

    def alignment(self, column: int) -> Qt.AlignmentFlag:
        """The alignment of a cell in ``column``: numbers right, text left."""
        return RIGHT if self._NUMERIC and column in self._NUMERIC else LEFT
