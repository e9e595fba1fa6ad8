"""The Library's filter bar: search, verdict, stars, vendor, model, tags and dates."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate, QDateTime, QLocale, Qt, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from takestock.core.takes import VERDICTS, TakeFacets, TakeFilter

SEARCH_DEBOUNCE_MS = 200


# --------------------------------------------------------------------------- filters


class LibraryFilters(QWidget):
    """The filter bar: vendor, model, verdict, least stars, tag, prompt text, dates.

    Typing in the search box waits ``SEARCH_DEBOUNCE_MS`` for a pause; the other
    controls apply at once.

    Attributes:
        search, vendor, model, verdict, stars, tag, since, until: the controls.
        clear_button: puts every filter back to "all".
        count: says how many takes match.

    Signals:
        changed(TakeFilter): the filter the user now asks for.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._facets = TakeFacets({}, ())
        self._quiet = False
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search prompts (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(160)
        self.vendor = QComboBox()
        self.model = QComboBox()
        self.model.setMinimumContentsLength(10)
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.verdict = QComboBox()
        self.verdict.addItem(self.tr("Any verdict"), None)
        for verdict, text in zip(
            VERDICTS, (self.tr("Usable"), self.tr("Reject"), self.tr("Unrated")), strict=True
        ):
            self.verdict.addItem(text, verdict)
        self.stars = QComboBox()
        self.stars.addItem(self.tr("Any stars"), None)
        for n in range(1, 6):
            self.stars.addItem("★" * n + ("+" if n < 5 else ""), n)
        self.tag = QComboBox()
        self.since = self._date_edit(self.tr("from any day"))
        self.until = self._date_edit(self.tr("to any day"))
        self.clear_button = QToolButton()
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Show every take (Ctrl+Shift+L)"))
        self.count = QLabel()
        self.count.setMinimumWidth(80)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for box, tip in (
            (self.vendor, self.tr("Vendor")),
            (self.model, self.tr("Model")),
            (self.verdict, self.tr("Verdict")),
            (self.stars, self.tr("Least stars")),
            (self.tag, self.tr("Tag of the prompt")),
        ):
            box.setToolTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 2)
        for widget in (self.vendor, self.model, self.verdict, self.stars, self.tag):
            layout.addWidget(widget)
        layout.addWidget(self.since)
        layout.addWidget(self.until)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.count)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self.set_facets(self._facets)
        self._connect_signals()

    def _date_edit(self, blank: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        # The earliest date stands for "no limit", shown as ``blank``.
        edit.setMinimumDate(QDate(2000, 1, 1))
        edit.setSpecialValueText(blank)
        edit.setDate(edit.minimumDate())
        edit.setToolTip(blank)
        return edit

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._timer.start)
        self._timer.timeout.connect(self._emit)
        self.vendor.currentIndexChanged.connect(self._on_vendor)
        for box in (self.model, self.verdict, self.stars, self.tag):
            box.currentIndexChanged.connect(self._emit)
        self.since.dateChanged.connect(self._emit)
        self.until.dateChanged.connect(self._emit)
        self.clear_button.clicked.connect(self.clear)

    def set_facets(self, facets: TakeFacets) -> None:
        """Offer the vendors, models and tags that occur, keeping what is chosen."""
        self._facets = facets
        self._quiet = True
        try:
            self._fill(self.vendor, self.tr("All vendors"), facets.vendors)
            self._fill_models()
            self._fill(self.tag, self.tr("All tags"), facets.tags)
        finally:
            self._quiet = False

    def _fill(self, box: QComboBox, everything: str, values: Sequence[str]) -> None:
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(everything, None)
        for value in values:
            box.addItem(value, value)
        if current is not None and current not in values:
            box.addItem(current, current)  # keep a choice that no take has any more
        box.setCurrentIndex(max(0, box.findData(current)))
        box.blockSignals(False)

    def _fill_models(self) -> None:
        vendor = self.vendor.currentData()
        if vendor is None:
            models = sorted({m for ms in self._facets.models.values() for m in ms})
        else:
            models = list(self._facets.models.get(vendor, ()))
        self._fill(self.model, self.tr("All models"), models)

    def _on_vendor(self) -> None:
        self._quiet = True
        try:
            self._fill_models()
        finally:
            self._quiet = False
        self._emit()

    def _day_start(self, date: QDate) -> float:
        return float(QDateTime(date, QTime(0, 0)).toSecsSinceEpoch())

    def where(self) -> TakeFilter:
        """The filter the controls describe."""
        since = until = None
        if self.since.date() > self.since.minimumDate():
            since = self._day_start(self.since.date())
        if self.until.date() > self.until.minimumDate():
            until = self._day_start(self.until.date().addDays(1))  # the whole last day
        return TakeFilter(
            vendor=self.vendor.currentData(),
            model=self.model.currentData(),
            verdict=self.verdict.currentData(),
            min_stars=self.stars.currentData(),
            tag=self.tag.currentData(),
            search=self.search.text().strip(),
            since=since,
            until=until,
        )

    def clear(self) -> None:
        """Every filter back to "all" (one change, not eight)."""
        self._quiet = True
        try:
            self.search.clear()
            self._timer.stop()
            for box in (self.vendor, self.verdict, self.stars, self.tag):
                box.setCurrentIndex(0)
            self._fill_models()
            self.model.setCurrentIndex(0)
            self.since.setDate(self.since.minimumDate())
            self.until.setDate(self.until.minimumDate())
        finally:
            self._quiet = False
        self._emit()

    def show_count(self, shown: int) -> None:
        number = QLocale().toString(shown)
        self.count.setText(self.tr("1 take") if shown == 1 else self.tr("%s takes") % number)

    def _emit(self) -> None:
        if not self._quiet:
            self._timer.stop()
            self.changed.emit(self.where())
