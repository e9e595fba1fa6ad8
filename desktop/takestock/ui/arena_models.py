"""Qt models for the Compare and Arena screens, and the words they use for costs.

:class:`GroupsModel` and :class:`BatchesModel` hold request ids (one query) and fetch
each row's facts from the core only when a view asks for them, keeping them in a cache
that :meth:`refresh` and :meth:`invalidate` clear. :class:`LeaderboardModel` holds the
whole board: a Bradley–Terry fit is global (one vote moves every rating), so its rows are
computed together by :func:`takestock.core.arena.standings` on :meth:`refresh`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import QApplication

from takestock.core.arena import (
    BatchSummary,
    CostTally,
    GroupInfo,
    JobCost,
    Standing,
    batch_ids,
    batch_summary,
    comparison_groups,
    group_info,
    standings,
)
from takestock.core.store import Store
from takestock.ui.models.table import ListTableModel
from takestock.ui.preferences import QT_TRANSLATE_NOOP

__all__ = [
    "BatchesModel",
    "GroupsModel",
    "LeaderboardModel",
    "ago_text",
    "amount_text",
    "job_cost_text",
    "money_text",
    "plural",
    "tally_text",
    "wait_text",
]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: How many rows' facts a lazy model keeps.
CACHE_ROWS = 512
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("Arena", text, disambiguation, n)


# ------------------------------------------------------------------- words


def plural(n: int, one: str, many: str, context: str = "Arena") -> str:
    """``one`` or ``many`` with ``%n`` filled: English reads right with no translation
    file loaded, and a translation can still give every numerus form for ``%n``."""
    return QCoreApplication.translate(context, one if n == 1 else many, None, n)


def amount_text(value: float) -> str:
    """An amount in the user's locale: whole numbers bare, else up to two decimals."""
    locale = QLocale()
    if abs(value - round(value)) < 1e-6:
        return locale.toString(round(value))
    return locale.toString(value, "f", 2 if abs(value) < 100 else 1)


def money_text(value: float, currency: str | None) -> str:
    symbol = _SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    decimals = 3 if 0 < abs(value) < 0.1 else 2
    return QLocale().toCurrencyString(value, symbol, decimals)


def _unit_text(amount: float, unit: str) -> str:
    return f"{amount_text(amount)} {unit}"


def job_cost_text(cost: JobCost | None) -> str:
    """What a take's job cost: "≈5 credits ($0.25)"; "" for an imported take."""
    if cost is None:
        return ""
    amount = cost.spent if cost.spent > 1e-9 or cost.refunded > 1e-9 else cost.planned
    text = ("≈" if cost.estimated else "") + _unit_text(amount, cost.unit)
    if cost.refunded > 1e-9:
        text = _tr("%1 (refunded)").replace("%1", _unit_text(cost.refunded, cost.unit))
    if cost.money_per_unit and amount > 0:
        text += f" ({money_text(amount * cost.money_per_unit, cost.currency)})"
    return text


def tally_text(tallies: Sequence[CostTally], pick: Callable[[CostTally], float]) -> str:
    """One figure of a group's costs over its units: "20 credits + 5 seconds"."""
    parts = []
    for tally in tallies:
        value = pick(tally)
        if abs(value) > 1e-9 or len(tallies) == 1:
            parts.append(_unit_text(value, tally.unit))
    return " + ".join(parts) if parts else "0"


def wait_text(seconds: float | None) -> str:
    """ "1.7 s", "2 min 05 s", "1 h 03 min"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return _tr("%1 s").replace("%1", QLocale().toString(seconds, "f", 1))
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return _tr("%1 min %2 s").replace("%1", str(minutes)).replace("%2", f"{secs:02d}")
    hours, minutes = divmod(minutes, 60)
    return _tr("%1 h %2 min").replace("%1", str(hours)).replace("%2", f"{minutes:02d}")


def ago_text(ts: float, now: float) -> str:
    seconds = max(0.0, now - ts)
    if seconds < 60:
        return _tr("just now")
    if seconds < 3600:
        return _tr("%n min ago", "", int(seconds // 60))
    if seconds < 86400:
        return _tr("%n h ago", "", int(seconds // 3600))
    return plural(int(seconds // 86400), "%n day ago", "%n days ago")


def _muted() -> QBrush:
    return QApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ------------------------------------------------------------------- lazy rows


class _LazyRows:
    """Request ids, and their facts fetched on first use and kept in a bounded cache."""

    def __init__(self, fetch: Callable[[int], Any]) -> None:
        self.ids: list[int] = []
        self._fetch = fetch
        self._cache: dict[int, Any] = {}

    def get(self, row: int) -> Any:
        request_id = self.ids[row]
        found = self._cache.get(request_id)
        if found is None:
            if len(self._cache) >= CACHE_ROWS:
                self._cache.pop(next(iter(self._cache)))
            found = self._cache[request_id] = self._fetch(request_id)
        return found

    def clear(self) -> None:
        self._cache.clear()

    def forget(self, request_id: int) -> bool:
        return self._cache.pop(request_id, None) is not None


class GroupsModel(QAbstractListModel):
    """Comparison groups (requests with two or more takes), newest first.

    ``Qt.ItemDataRole.UserRole`` gives the request id.
    """

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._store = store
        self._clock = clock
        self._rows = _LazyRows(lambda rid: group_info(self._store, rid))
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._rows.ids = comparison_groups(self._store)
        self._rows.clear()
        self.endResetModel()

    def request_id(self, row: int) -> int:
        return self._rows.ids[row]

    def row_of(self, request_id: int) -> int | None:
        try:
            return self._rows.ids.index(request_id)
        except ValueError:
            return None

    def group(self, row: int) -> GroupInfo:
        info: GroupInfo = self._rows.get(row)
        return info

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows.ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows.ids):
            return None
        if role == Qt.ItemDataRole.UserRole:
            return self._rows.ids[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        info = self.group(index.row())
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{info.prompt}\n" + "\n".join(info.models)
        return (
            plural(len(info.take_ids), "#%1 · %2 — %n take, %3", "#%1 · %2 — %n takes, %3")
            .replace("%1", str(info.request_id))
            .replace("%2", _one_line(info.prompt, 60))
            .replace("%3", ago_text(info.created_at, self._clock()))
        )


# ------------------------------------------------------------------ leaderboard


class LeaderboardModel(ListTableModel):
    """Vendor-models ranked from blind duels, beside their usable rate and cost.

    Rows with no duels come last, unranked. ``Qt.ItemDataRole.UserRole`` gives the
    ``vendor:model`` key.
    """

    COLUMNS = (
        QT_TRANSLATE_NOOP("LeaderboardModel", "Rank"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Vendor / model"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Rating"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Duels"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Won–lost–tied"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Usable"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Failed"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Cost per usable second"),
        QT_TRANSLATE_NOOP("LeaderboardModel", "Takes"),
    )
    _NUMERIC = frozenset({0, 2, 3, 5, 6, 7, 8})

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._tag: str | None = None
        self._rows: list[Standing] = []
        self.refresh()

    @property
    def tag(self) -> str | None:
        return self._tag

    def set_tag(self, tag: str | None) -> None:
        self._tag = tag or None
        self.refresh()

    def refresh(self) -> None:
        rows = standings(self._store, self._tag)
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def standing(self, row: int) -> Standing:
        return self._rows[row]

    def duels(self) -> int:
        """Duels counted on the board (each duel is counted by both its models)."""
        return sum(r.rating.duels for r in self._rows if r.rating) // 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self._header_tip(section)
        return super().headerData(section, orientation, role)

    def _header_tip(self, section: int) -> str | None:
        if section == 2:
            return _tr(
                "Bradley–Terry rating from your blind duels, on the Elo scale: 1500 is the "
                "average model; 100 points more wins about 64% of duels. ± is a 95% range."
            )
        if section == 5:
            return _tr("Usable takes among those you judged (usable or rejected).")
        if section == 6:
            return _tr("Jobs that made no video (not the same as a rejected take).")
        if section == 7:
            return _tr(
                "Everything spent on this model, rejected and failed takes included, "
                "divided by the seconds of usable video it made."
            )
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return row.key
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and row.rating is None:
            return _muted()
        if role == Qt.ItemDataRole.FontRole and column == 1 and row.rating and row.rating.rank == 1:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _display(self, row: Standing, column: int) -> str:
        rating, usage = row.rating, row.usage
        if column == 0:
            return str(rating.rank) if rating else "—"
        if column == 1:
            return f"{row.vendor} · {row.model}"
        if column == 2:
            if rating is None:
                return _tr("no duels")
            return f"{rating.rating:.0f} ± {rating.margin:.0f}"
        if column == 3:
            return str(rating.duels) if rating else "0"
        if column == 4:
            return f"{rating.wins}–{rating.losses}–{rating.ties}" if rating else ""
        if usage is None:
            return ""
        if column == 5:
            rate = usage.usable_rate
            if rate is None:
                return _tr("not judged") if usage.takes else ""
            return (
                _tr("%1 (%2 of %3)")
                .replace("%1", QLocale().toString(rate * 100, "f", 0) + "%")
                .replace("%2", str(usage.usable))
                .replace("%3", str(usage.usable + usage.rejected))
            )
        if column == 6:
            if not usage.jobs:
                return ""
            return _tr("%1 of %2").replace("%1", str(usage.failed)).replace("%2", str(usage.jobs))
        if column == 7:
            per = usage.cost_per_usable_second()
            if per is None:
                return "—"
            amount, unit, money, currency = per
            text = _tr("%1 %2/s").replace("%1", amount_text(amount)).replace("%2", unit)
            if money:
                text += f" ({money_text(money, currency)}/s)"
            return text
        return str(usage.takes)

    def _tooltip(self, row: Standing, column: int) -> str | None:
        rating, usage = row.rating, row.usage
        if column == 2 and rating is not None:
            return (
                plural(
                    rating.duels,
                    "95% range %1–%2 from %n duel with other models",
                    "95% range %1–%2 from %n duels with other models",
                )
                .replace("%1", f"{rating.low:.0f}")
                .replace("%2", f"{rating.high:.0f}")
            )
        if column == 2:
            return _tr("Vote in blind mode on the Compare screen to rate this model.")
        if column == 5 and usage is not None:
            return (
                _tr("%1 usable, %2 rejected, %3 not judged yet")
                .replace("%1", str(usage.usable))
                .replace("%2", str(usage.rejected))
                .replace("%3", str(usage.unrated))
            )
        if column == 7 and usage is not None and usage.cost:
            spent = tally_text(usage.cost, lambda t: t.spent)
            return (
                _tr("%1 spent for %2 s of usable video%3")
                .replace("%1", spent)
                .replace("%2", amount_text(usage.usable_seconds))
                .replace(
                    "%3",
                    _tr(" (partly estimated)") if any(t.estimated for t in usage.cost) else "",
                )
            )
        return None


# ---------------------------------------------------------------------- batches


class BatchesModel(ListTableModel):
    """Every comparison group with what it planned to cost, spent and got refunded.

    Rows hold request ids; each row's :class:`BatchSummary` is read from the core when a
    view first shows it. ``Qt.ItemDataRole.UserRole`` gives the request id.
    """

    COLUMNS = (
        QT_TRANSLATE_NOOP("BatchesModel", "Group"),
        QT_TRANSLATE_NOOP("BatchesModel", "When"),
        QT_TRANSLATE_NOOP("BatchesModel", "Prompt"),
        QT_TRANSLATE_NOOP("BatchesModel", "Targets"),
        QT_TRANSLATE_NOOP("BatchesModel", "Jobs"),
        QT_TRANSLATE_NOOP("BatchesModel", "Takes"),
        QT_TRANSLATE_NOOP("BatchesModel", "Planned"),
        QT_TRANSLATE_NOOP("BatchesModel", "Spent"),
        QT_TRANSLATE_NOOP("BatchesModel", "Refunded"),
    )
    _NUMERIC = frozenset({0, 4, 5, 6, 7, 8})

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._store = store
        self._clock = clock
        self._now = clock()
        self._cache = _LazyRows(lambda rid: batch_summary(self._store, rid))
        self.refresh()

    def refresh(self) -> None:
        ids = batch_ids(self._store)
        self.beginResetModel()
        self._now = self._clock()
        self._cache.ids = ids
        self._cache.clear()
        self.endResetModel()

    def invalidate(self, request_id: int) -> None:
        """Forget one group's figures (a job of it changed); the view re-reads them."""
        self._cache.forget(request_id)
        if request_id in self._cache.ids:
            row = self._cache.ids.index(request_id)
            last = self.columnCount() - 1
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))
        else:
            self.refresh()

    def request_id(self, row: int) -> int:
        return self._cache.ids[row]

    def summary(self, row: int) -> BatchSummary:
        found: BatchSummary = self._cache.get(row)
        return found

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._cache.ids)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {
                6: _tr("The sum of the estimates when the group was queued."),
                7: _tr("Charged, from the credits ledger where the account tracks credits."),
                8: _tr("Holds given back because the vendor made nothing and charged nothing."),
            }.get(section)
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cache.ids):
            return None
        column = index.column()
        if role == Qt.ItemDataRole.UserRole:
            return self._cache.ids[index.row()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(self.summary(index.row()), column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(self.summary(index.row()), column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 8:
            s = self.summary(index.row())
            return None if any(t.refunded > 1e-9 for t in s.cost) else _muted()
        return None

    def _display(self, s: BatchSummary, column: int) -> str:
        if column == 0:
            return f"#{s.request_id}"
        if column == 1:
            return ago_text(s.created_at, self._now)
        if column == 2:
            return _one_line(s.prompt, 120)
        if column == 3:
            return ", ".join(t.partition(":")[2] or t for t in s.targets)
        if column == 4:
            parts = [_tr("%n done", "", s.done)] if s.done or not (s.failed or s.active) else []
            if s.failed:
                parts.append(_tr("%n failed", "", s.failed))
            if s.active:
                parts.append(_tr("%n running", "", s.active))
            return " · ".join(parts)
        if column == 5:
            return str(s.takes) + (f" ({s.usable} ✓)" if s.usable else "")
        if column == 6:
            return tally_text(s.cost, lambda t: t.planned)
        if column == 7:
            text = tally_text(s.cost, lambda t: t.spent)
            held = [t for t in s.cost if t.held > 1e-9]
            if held:
                text += _tr(" (+%1 held)").replace("%1", tally_text(held, lambda t: t.held))
            return ("≈" if any(t.estimated for t in s.cost) else "") + text
        return tally_text(s.cost, lambda t: t.refunded)

    def _tooltip(self, s: BatchSummary, column: int) -> str | None:
        if column in (2, 3):
            return f"{s.prompt}\n\n" + "\n".join(s.targets)
        if column in (6, 7, 8):
            lines = []
            for t in s.cost:
                if t.currency and t.money_planned:
                    lines.append(
                        _tr("%1: planned %2, spent %3, refunded %4")
                        .replace("%1", t.unit)
                        .replace("%2", money_text(t.money_planned or 0.0, t.currency))
                        .replace("%3", money_text(t.money_spent or 0.0, t.currency))
                        .replace("%4", money_text(t.money_refunded or 0.0, t.currency))
                    )
            if s.untracked:
                lines.append(
                    plural(
                        s.untracked,
                        "%n job ran on no account that tracks credits: what it spent is the "
                        "vendor's figure or the estimate, and a refund is not known.",
                        "%n jobs ran on no account that tracks credits: what they spent is the "
                        "vendor's figure or the estimate, and refunds are not known.",
                    )
                )
            return "\n".join(lines) or None
        return None
