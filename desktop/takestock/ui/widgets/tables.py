"""Row tables as the screens show them: whole-row selection, sized to their contents."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

__all__ = ["fit_rows", "table_view"]


def table_view(model: object) -> QTableView:
    """A read-only-looking table of ``model``: rows selected whole, last column stretched."""
    view = QTableView()
    view.setModel(model)  # type: ignore[arg-type]
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return view


def fit_rows(view: QTableView, rows: int, least: int = 3, most: int = 8) -> None:
    """Make ``view`` as tall as its rows (within ``least``..``most``), no empty acre."""
    shown = min(max(rows, least), most)
    row_height = view.verticalHeader().defaultSectionSize()
    frame = 2 * view.frameWidth()
    header = view.horizontalHeader().sizeHint().height()
    view.setFixedHeight(header + shown * row_height + frame + 2)
