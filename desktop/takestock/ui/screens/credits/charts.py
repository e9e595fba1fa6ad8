"""The Credits screen's pictures: what lapses when (:class:`ExpiryTimeline`) and spending
over time (:class:`SpendChart`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QLocale, QMargins, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QCursor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from takestock.core.spending import VendorSpend, daily_spend, spend_summary, window_start
from takestock.core.store import Store
from takestock.ui.credits_models import URGENT_HOURS, amount_text, until_text, when_text

#: How many days the spending chart shows.
SPEND_DAYS = 30


def _day_text(day: dt.date, pattern: str) -> str:
    """A date in the user's language, e.g. "Thu 26" for ``ddd d``."""
    return QLocale().toString(QDate(day.year, day.month, day.day), pattern)


@dataclass(frozen=True, slots=True)
class TimelineItem:
    label: str
    amount: float
    unit: str
    expires_at: float


class ExpiryTimeline(QWidget):
    """What lapses in the next days, drawn as bars from now to each expiry.

    Red lapses within a day, amber within three, green later. Items past the horizon
    are summed up in one line under the bars.
    """

    HORIZON_DAYS = 7
    _ROW = 24
    _HEADER = 22
    _FOOTER = 20
    _LABEL_WIDTH = 170

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[TimelineItem] = []
        self._later: list[TimelineItem] = []
        self._now = time.time()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_items(self, items: Sequence[TimelineItem], now: float) -> None:
        horizon = now + self.HORIZON_DAYS * 86400
        ordered = sorted((i for i in items if i.expires_at > now), key=lambda i: i.expires_at)
        self._now = now
        self._items = [i for i in ordered if i.expires_at <= horizon]
        self._later = [i for i in ordered if i.expires_at > horizon]
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def items(self) -> list[TimelineItem]:
        """What lapses within the horizon, soonest first."""
        return list(self._items)

    def sizeHint(self) -> QSize:
        rows = max(1, len(self._items))
        return QSize(420, self._HEADER + rows * self._ROW + self._FOOTER + 4)

    def _color(self, item: TimelineItem) -> QColor:
        hours = (item.expires_at - self._now) / 3600
        if hours < URGENT_HOURS:
            return QColor("#e53935")
        if hours < 72:
            return QColor("#fb8c00")
        return QColor("#43a047")

    def _paint_axis(
        self,
        painter: QPainter,
        x_at: Callable[[float], float],
        left: int,
        right: int,
        rows_bottom: int,
    ) -> None:
        """Day ticks at local midnights, labelled with the weekday, and "now"."""
        palette = self.palette()
        muted = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        grid = palette.color(QPalette.ColorRole.Mid)
        day = dt.datetime.fromtimestamp(self._now).date()
        for offset in range(1, self.HORIZON_DAYS + 1):
            when = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time())
            x = x_at(when.timestamp())
            if x + 30 > right:
                break
            painter.setPen(grid)
            painter.drawLine(int(x), self._HEADER - 4, int(x), rows_bottom)
            painter.setPen(muted)
            painter.drawText(
                QRectF(x - 40, 2, 80, self._HEADER - 6),
                Qt.AlignmentFlag.AlignCenter,
                _day_text(when.date(), "ddd d"),
            )
        painter.setPen(muted)
        painter.drawText(
            QRectF(left - 30, 2, 60, self._HEADER - 6), Qt.AlignmentFlag.AlignCenter, self.tr("now")
        )
        painter.setPen(grid)
        painter.drawLine(left, self._HEADER - 4, left, rows_bottom)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        muted = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        left, right = self._LABEL_WIDTH, self.width() - 12
        span = self.HORIZON_DAYS * 86400
        rows_bottom = self._HEADER + max(1, len(self._items)) * self._ROW

        def x_at(ts: float) -> float:
            return left + (ts - self._now) / span * (right - left)

        if not self._items:
            painter.setPen(muted)
            painter.drawText(
                QRectF(12, 0, self.width() - 24, self._HEADER + self._ROW),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.tr("Nothing lapses in the next 7 days."),
            )
        else:
            self._paint_axis(painter, x_at, left, right, rows_bottom)
        metrics = painter.fontMetrics()
        for row, item in enumerate(self._items):
            top = self._HEADER + row * self._ROW
            painter.setPen(text)
            label = metrics.elidedText(item.label, Qt.TextElideMode.ElideRight, left - 16)
            painter.drawText(
                QRectF(4, top, left - 12, self._ROW),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            end = max(x_at(item.expires_at), left + 3)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._color(item))
            painter.drawRoundedRect(QRectF(left, top + 4, end - left, self._ROW - 8), 3, 3)
            caption = (
                f"{amount_text(item.amount)} {item.unit} · {until_text(item.expires_at, self._now)}"
            )
            width = metrics.horizontalAdvance(caption) + 12
            if end - left > width:
                painter.setPen(QColor("white"))
                box = QRectF(left + 6, top, end - left - 12, self._ROW)
                align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
            else:
                painter.setPen(text)
                box = QRectF(end + 6, top, right - end, self._ROW)
                align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
            painter.drawText(box, align, caption)
        if self._later:
            painter.setPen(muted)
            first = self._later[0]
            more = (
                self.tr("Later: %1 %2 on %3")
                .replace("%1", amount_text(first.amount))
                .replace("%2", first.unit)
                .replace("%3", when_text(first.expires_at))
            )
            if len(self._later) > 1:
                more += self.tr(" and %n more", "", len(self._later) - 1)
            painter.drawText(
                QRectF(left, rows_bottom + 2, right - left, self._FOOTER),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                more,
            )
        painter.end()


# ------------------------------------------------------------------- the chart


class SpendChart(QWidget):
    """Daily charges of the last 30 days as stacked bars, per vendor.

    Vendors' credits are not worth the same, so bars of several vendors stack only in
    money; each vendor can also be shown alone, in its own unit.

    Attributes:
        mode: the combo that picks money (data None) or one vendor (its id).
        summary: a line per vendor: charged, on how many jobs, and its money.
    """

    def __init__(
        self, store: Store, days: int = SPEND_DAYS, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self._store = store
        self._days = days
        self._clock = clock
        self._totals: list[VendorSpend] = []
        self.mode = QComboBox()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.chart = QChart()
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart.setBackgroundRoundness(0)
        self.view = QChartView(self.chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(220)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(mid);")
        self._stack = QStackedWidget()
        self._stack.addWidget(self.view)
        self._stack.addWidget(self.empty)
        self._mode_row = QWidget()
        top = QHBoxLayout(self._mode_row)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel(self.tr("Show")))
        top.addWidget(self.mode, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._mode_row)
        layout.addWidget(self.summary)
        layout.addWidget(self._stack, 1)
        self.mode.activated.connect(lambda _i: self._draw())

    def refresh(self) -> None:
        now = self._clock()
        self._since = window_start(self._days, now)
        self._until = now + 1
        self._totals = spend_summary(self._store, self._since, self._until)
        had_choice = self.mode.count() > 0
        chosen = self.mode.currentData()
        self.mode.clear()
        self.mode.addItem(self.tr("All vendors, in US$"), None)
        for spend in self._totals:
            self.mode.addItem(f"{spend.vendor} — {spend.unit}", spend.vendor)
        index = self.mode.findData(chosen) if had_choice else -1
        if index < 0:
            priced = any((s.money or 0) > 0 for s in self._totals)
            index = 0 if priced or not self._totals else 1
        self.mode.setCurrentIndex(index)
        self._mode_row.setVisible(bool(self._totals))
        self.summary.setText(self._summary_text())
        self._draw()

    def _summary_text(self) -> str:
        if not self._totals:
            return ""
        parts = []
        for s in self._totals:
            part = self.tr("%1: %2 %3 on %n job(s)", "", s.jobs)
            part = part.replace("%1", s.vendor).replace("%2", amount_text(s.amount))
            part = part.replace("%3", s.unit)
            if s.money:
                part += f" ≈ US${s.money:,.2f}"
            parts.append(part)
        return "\n".join(parts)

    def _days_list(self) -> list[dt.date]:
        first = dt.datetime.fromtimestamp(self._since).date()
        return [first + dt.timedelta(days=i) for i in range(self._days)]

    def series(self) -> dict[str, list[float]]:
        """The bars drawn: per vendor, one value per day, oldest first."""
        vendor = self.mode.currentData()
        rows = daily_spend(self._store, self._since, self._until, in_money=vendor is None)
        days = self._days_list()
        position = {day: i for i, day in enumerate(days)}
        out: dict[str, list[float]] = {}
        for day, vendor_id, amount in rows:
            if vendor is not None and vendor_id != vendor:
                continue
            if day in position:
                out.setdefault(vendor_id, [0.0] * len(days))[position[day]] += amount
        return out

    def _hovered(self, status: bool, index: int, bar_set: QBarSet) -> None:
        if not status:
            QToolTip.hideText()
            return
        days = self._days_list()
        if not 0 < index <= len(days):  # the padding categories
            return
        day = days[index - 1]
        unit = "US$" if self.mode.currentData() is None else self.mode.currentText()
        QToolTip.showText(
            QCursor.pos(),
            f"{_day_text(day, 'ddd d MMM')}: {bar_set.label()} {amount_text(bar_set.at(index))} "
            f"{unit.split(' — ')[-1]}",
        )

    def _draw(self) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        data = self.series()
        if not data:
            self._stack.setCurrentWidget(self.empty)
            self.empty.setText(
                self.tr("Nothing priced in money: pick a vendor above to see its credits.")
                if self._totals
                else self.tr(
                    "No spending in the last 30 days. What your takes are charged will show "
                    "here, per day and vendor."
                )
            )
            return
        self._stack.setCurrentWidget(self.view)
        bars = QStackedBarSeries()
        bars.setBarWidth(0.8)
        # WORKAROUND: Qt Charts (6.12) never draws the first and last labels of a bar
        # category axis whose labels are rotated; an empty category at each end keeps
        # the first day's and today's labels on screen.
        for vendor_id, values in sorted(data.items()):
            bar_set = QBarSet(vendor_id)
            bar_set.append([0.0, *values, 0.0])
            bars.append(bar_set)
        bars.hovered.connect(self._hovered)
        self.chart.addSeries(bars)
        days = self._days_list()
        x_axis = QBarCategoryAxis()
        x_axis.append(["\u2009", *(_day_text(d, "MMM d") for d in days), "\u2009\u2009"])
        x_axis.setLabelsAngle(-90)
        x_axis.setTruncateLabels(False)
        font = x_axis.labelsFont()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        x_axis.setLabelsFont(font)
        x_axis.setGridLineVisible(False)
        y_axis = QValueAxis()
        peak = max(sum(v[i] for v in data.values()) for i in range(len(days)))
        y_axis.setRange(0, peak * 1.15 if peak > 0 else 1)
        y_axis.applyNiceNumbers()
        money = self.mode.currentData() is None
        y_axis.setLabelFormat("%.2f" if money and peak < 10 else "%.0f")
        y_axis.setTitleText(
            self.tr("US$ a day") if money else self.mode.currentText().split(" — ")[-1]
        )
        self.chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        bars.attachAxis(x_axis)
        bars.attachAxis(y_axis)
        self.chart.legend().setVisible(True)
