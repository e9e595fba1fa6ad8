"""Qt table models over accounts and their credit buckets, and the words they use.

Both models are read from the core (``list_accounts``, ``balances``, the ledger's last
observation) on ``refresh()``; they hold one row per account or bucket and compute
nothing the core does not say.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from takestock.core.credits import Account, BucketBalance, PlanBook, balances, list_accounts, total
from takestock.core.grants import materialise
from takestock.core.spending import Observation, last_observations
from takestock.core.store import Store
from takestock.ui.models.table import ListTableModel
from takestock.ui.preferences import QT_TRANSLATE_NOOP

__all__ = [
    "AccountRow",
    "AccountsModel",
    "BucketsModel",
    "amount_text",
    "until_text",
    "when_text",
]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: Credits that lapse within this many hours are drawn as urgent.
URGENT_HOURS = 24


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("Credits", text, disambiguation, n)


def amount_text(value: float) -> str:
    """A credit amount in the user's locale: whole numbers bare, else two decimals."""
    locale = QLocale()
    if abs(value - round(value)) < 1e-6:
        return locale.toString(round(value))
    return locale.toString(value, "f", 2)


def when_text(ts: float | None) -> str:
    if ts is None:
        return _tr("never")
    return QDateTime.fromSecsSinceEpoch(int(ts)).toString("yyyy-MM-dd HH:mm")


def until_text(ts: float | None, now: float) -> str:
    """How long until ``ts``: "in 35 min", "in 20 h", "in 3 days"; "" when never."""
    if ts is None:
        return ""
    seconds = ts - now
    if seconds <= 0:
        return _tr("lapsed")
    if seconds < 3600:
        return _tr("in %n min", "", max(1, int(seconds // 60)))
    hours = seconds / 3600
    if hours < 48:
        return _tr("in %n h", "", round(hours))
    return _tr("in %n day(s)", "", round(hours / 24))


def _muted() -> QBrush:
    return QApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


def _urgent() -> QBrush:
    return QBrush(QColor("#c62828"))


def _kind_text(kind: str) -> str:
    return {
        "daily_free": _tr("daily free"),
        "monthly": _tr("monthly"),
        "top_up": _tr("top-up"),
        "promo": _tr("promo"),
        "bonus": _tr("bonus"),
        "one_time": _tr("one-time"),
        "overdraft": _tr("overdraft"),
    }.get(kind, kind)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account as the table shows it."""

    account: Account
    balance: float
    free_today: float
    next_expiry: float | None  # the soonest expiry of credits still unspent
    tracked: bool  # any live bucket at all
    book: PlanBook | None
    observation: Observation | None


class AccountsModel(ListTableModel):
    """Every account with its balance, today's free points and next expiry.

    ``Qt.ItemDataRole.UserRole`` on any cell gives the account's id.
    """

    COLUMNS = (
        QT_TRANSLATE_NOOP("AccountsModel", "Vendor"),
        QT_TRANSLATE_NOOP("AccountsModel", "Account"),
        QT_TRANSLATE_NOOP("AccountsModel", "Kind"),
        QT_TRANSLATE_NOOP("AccountsModel", "Plan"),
        QT_TRANSLATE_NOOP("AccountsModel", "Balance"),
        QT_TRANSLATE_NOOP("AccountsModel", "Free today"),
        QT_TRANSLATE_NOOP("AccountsModel", "Next expiry"),
        QT_TRANSLATE_NOOP("AccountsModel", "Vendor shows"),
        QT_TRANSLATE_NOOP("AccountsModel", "Spend order"),
    )
    _NUMERIC = frozenset({4, 5, 7})

    def __init__(
        self,
        store: Store,
        plan_books: Mapping[str, PlanBook],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._store = store
        self._books = plan_books
        self._clock = clock
        self._rows: list[AccountRow] = []
        self._now = clock()
        self.refresh()

    def refresh(self) -> None:
        now = self._clock()
        materialise(self._store, now)
        all_balances = balances(self._store, now)
        seen = last_observations(self._store)
        rows = []
        for account in list_accounts(self._store):
            buckets = all_balances.get(account.id, [])
            expiries = [b.expires_at for b in buckets if b.expires_at and b.remaining > 1e-9]
            rows.append(
                AccountRow(
                    account=account,
                    balance=total(buckets),
                    free_today=total([b for b in buckets if b.kind == "daily_free"]),
                    next_expiry=min(expiries) if expiries else None,
                    tracked=bool(buckets),
                    book=self._books.get(f"{account.vendor}/{account.kind}"),
                    observation=seen.get(account.id),
                )
            )
        self.beginResetModel()
        self._now = now
        self._rows = rows
        self.endResetModel()

    def row(self, row: int) -> AccountRow:
        return self._rows[row]

    def account(self, row: int) -> Account:
        return self._rows[row].account

    def row_of(self, account_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.account.id == account_id), None)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        r = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, column)
        if role == Qt.ItemDataRole.UserRole:
            return r.account.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.account.closed_at is not None:
                return _muted()
            soon = r.next_expiry is not None and r.next_expiry - self._now < URGENT_HOURS * 3600
            return _urgent() if column == 6 and soon else None
        if role == Qt.ItemDataRole.FontRole and column == 8 and not self._order_known(r):
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def _order_known(self, r: AccountRow) -> bool:
        return r.book is not None and r.book.spend_order_known

    def _display(self, r: AccountRow, column: int) -> str:
        a = r.account
        if column == 0:
            return a.vendor
        if column == 1:
            if a.closed_at is not None:
                return _tr("%1 (closed)").replace("%1", a.name)
            return a.name
        if column == 2:
            return a.kind
        if column == 3:
            if a.plan and r.book and a.plan in r.book.plans:
                return r.book.plans[a.plan].label
            return a.plan or ""
        if column == 4:
            if not r.tracked:
                return "—"
            return f"{amount_text(r.balance)} {a.unit}"
        if column == 5:
            return amount_text(r.free_today) if r.free_today > 1e-9 else ""
        if column == 6:
            return until_text(r.next_expiry, self._now)
        if column == 7:
            if r.observation is None:
                return ""
            drift = r.observation.drift
            shown = amount_text(r.observation.observed)
            if abs(drift) < 1e-6:
                return shown
            sign = "+" if drift > 0 else "−"
            return (
                _tr("%1 (drift %2)")
                .replace("%1", shown)
                .replace("%2", sign + amount_text(abs(drift)))
            )
        return _tr("vendor's") if self._order_known(r) else _tr("assumed")

    def _tooltip(self, r: AccountRow, column: int) -> str | None:
        a = r.account
        if column == 1 and a.closed_at is not None:
            return (
                _tr("Closed %1: %2")
                .replace("%1", when_text(a.closed_at))
                .replace("%2", a.closed_reason or "")
            )
        if column == 4 and not r.tracked:
            return _tr(
                "Takestock tracks no credits for this account yet: top up, state a rule, "
                "or record what the vendor shows."
            )
        if column == 6 and r.next_expiry is not None:
            return when_text(r.next_expiry)
        if column == 7 and r.observation is not None:
            o = r.observation
            return (
                _tr("Seen %1 (%2). Takestock computed %3 then.")
                .replace("%1", when_text(o.at))
                .replace("%2", o.source)
                .replace("%3", amount_text(o.computed))
            )
        if column == 8:
            if self._order_known(r):
                assert r.book is not None
                order = " → ".join(_kind_text(k) for k in r.book.spend_order)
                return _tr("The vendor spends credits in this order: %1").replace("%1", order)
            return _tr(
                "The vendor does not say which credits it spends first. Takestock assumes "
                "the soonest-expiring first, then free before paid."
            )
        return None


class BucketsModel(ListTableModel):
    """One account's live credit buckets, soonest expiry first."""

    COLUMNS = (
        QT_TRANSLATE_NOOP("BucketsModel", "Kind"),
        QT_TRANSLATE_NOOP("BucketsModel", "Remaining"),
        QT_TRANSLATE_NOOP("BucketsModel", "Of"),
        QT_TRANSLATE_NOOP("BucketsModel", "Expires"),
        QT_TRANSLATE_NOOP("BucketsModel", "In"),
        QT_TRANSLATE_NOOP("BucketsModel", "Label"),
    )
    _NUMERIC = frozenset({1, 2})

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._store = store
        self._clock = clock
        self._account: Account | None = None
        self._rows: list[BucketBalance] = []
        self._now = clock()

    @property
    def account(self) -> Account | None:
        return self._account

    def set_account(self, account: Account | None) -> None:
        self._account = account
        self.refresh()

    def refresh(self) -> None:
        now = self._clock()
        buckets: Sequence[BucketBalance] = []
        if self._account is not None:
            account_id = self._account.id
            buckets = balances(self._store, now, account_ids=[account_id]).get(account_id, [])
        self.beginResetModel()
        self._now = now
        self._rows = sorted(
            buckets,
            key=lambda b: (b.expires_at is None, b.expires_at or 0.0, b.granted_at),
        )
        self.endResetModel()

    def buckets(self) -> list[BucketBalance]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        b = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                _kind_text(b.kind),
                amount_text(b.remaining),
                amount_text(b.granted) if b.id is not None else "",
                when_text(b.expires_at) if b.id is not None else "",
                until_text(b.expires_at, self._now),
                b.label,
            )[column]
        if role == Qt.ItemDataRole.UserRole:
            return b.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole:
            urgent = (
                b.expires_at is not None
                and b.remaining > 1e-9
                and b.expires_at - self._now < URGENT_HOURS * 3600
            )
            if (urgent and column in (3, 4)) or b.remaining < -1e-9:
                return _urgent()
            if b.remaining <= 1e-9:
                return _muted()
        if role == Qt.ItemDataRole.ToolTipRole and b.id is None:
            return _tr("Charged beyond what the buckets held (the vendor had charged already).")
        return None
