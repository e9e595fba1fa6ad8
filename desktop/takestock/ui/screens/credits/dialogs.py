"""The Credits screen's dialogs: add an account, top up, state a rule, record what the
vendor shows, cap spending, close an account. Each is a form whose OK asks the screen,
which does the work and closes it or shows the error."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from takestock.core import budgets
from takestock.core.catalog import Catalog
from takestock.core.credits import Account, PlanBook
from takestock.core.grants import GrantRule
from takestock.core.planner import ResetSuggestion
from takestock.ui.credits_models import amount_text
from takestock.ui.widgets.forms import FormDialog

__all__ = [
    "AddAccountDialog",
    "AdjustDialog",
    "BudgetDialog",
    "CloseAccountDialog",
    "ObserveDialog",
    "RuleDialog",
]

#: Zones offered first for resets; every other zone can be typed or picked below them.
COMMON_ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Singapore",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
)


@functools.cache
def _zones() -> tuple[str, ...]:
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    return (*COMMON_ZONES, *rest)


def _zone_box(current: str | None, blank: str) -> QComboBox:
    """An editable combo of time zones; the first entry (empty) means ``blank``."""
    box = QComboBox()
    box.setEditable(True)
    box.addItem("")
    box.addItems(list(_zones()))
    box.setItemData(0, blank, Qt.ItemDataRole.ToolTipRole)
    _line(box).setPlaceholderText(blank)
    completer = QCompleter(list(_zones()), box)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    box.setCompleter(completer)
    box.setCurrentText(current or "")
    return box


def _line(box: QComboBox) -> QLineEdit:
    edit = box.lineEdit()
    assert edit is not None, "an editable combo box"
    return edit


class AddAccountDialog(FormDialog):
    """A vendor (from the catalog and the shipped plan books), name, kind, plan, zone."""

    def __init__(
        self,
        catalog: Catalog,
        plan_books: Mapping[str, PlanBook],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Add an account"), parent, self.tr("Add"))
        self._catalog = catalog
        self._plan_books = plan_books
        self.vendor = QComboBox()
        for vendor_id, name in self._vendors():
            self.vendor.addItem(name, vendor_id)
        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("e.g. main, work, cn-site"))
        self.kind = QComboBox()
        self.kind.addItem(self.tr("API (a developer key)"), "api")
        self.kind.addItem(self.tr("Web or app membership"), "web")
        self.plan = QComboBox()
        self.timezone = _zone_box(None, self.tr("the vendor's zone, where known"))
        self.region = QComboBox()
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color: palette(mid);")
        self.form.addRow(self.tr("Vendor"), self.vendor)
        self.form.addRow(self.tr("Name"), self.name)
        self.form.addRow(self.tr("Kind"), self.kind)
        self.form.addRow(self.tr("Plan"), self.plan)
        self.form.addRow(self.tr("Time zone of resets"), self.timezone)
        self.form.addRow(self.tr("Region"), self.region)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.about)
        self.setMinimumWidth(520)
        self.vendor.currentIndexChanged.connect(self._update_choices)
        self.kind.currentIndexChanged.connect(self._update_choices)
        self._update_choices()

    def _vendors(self) -> list[tuple[str, str]]:
        names = {v.id: v.name for v in self._catalog}
        for book in self._plan_books.values():
            names.setdefault(book.vendor, book.name)
        return sorted(((vid, f"{name} ({vid})") for vid, name in names.items()), key=str)

    def select(self, vendor: str, kind: str) -> None:
        self.vendor.setCurrentIndex(self.vendor.findData(vendor))
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def _update_choices(self) -> None:
        vendor, kind = self.vendor.currentData(), self.kind.currentData()
        book = self._plan_books.get(f"{vendor}/{kind}")
        self.plan.clear()
        self.plan.addItem(self.tr("no plan (I'll state the rules)"), None)
        if book is not None:
            for plan_id, plan in book.plans.items():
                self.plan.addItem(plan.label, plan_id)
            self.plan.setCurrentIndex(1 if book.plans else 0)
            self.about.setText(
                self.tr("Plans as of %1 — %2").replace("%1", book.as_of).replace("%2", book.source)
            )
        else:
            self.about.setText(
                self.tr(
                    "No plans shipped for this vendor and kind: add the account without a "
                    "plan, then state its rules or top it up."
                )
            )
        spec = self._catalog.vendors.get(vendor)
        self.region.clear()
        for region in spec.base_urls if spec else ("default",):
            self.region.addItem(region)
        _line(self.timezone).setPlaceholderText(
            book.timezone
            if book and book.timezone
            else self.tr("not published: say it, or let Takestock learn it")
        )

    def values(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor.currentData(),
            "name": self.name.text().strip(),
            "kind": self.kind.currentData(),
            "plan": self.plan.currentData(),
            "timezone": self.timezone.currentText().strip() or None,
            "region": self.region.currentText() or "default",
        }


class AdjustDialog(FormDialog):
    """A top-up (positive, a new bucket that may expire) or a correction (negative)."""

    def __init__(self, account: Account, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Top up or adjust %1").replace("%1", f"{account.vendor} / {account.name}"),
            parent,
        )
        self.amount = QDoubleSpinBox()
        self.amount.setRange(-10_000_000, 10_000_000)
        self.amount.setDecimals(2)
        self.amount.setSuffix(f" {account.unit}")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(
            self.tr("e.g. bought a 1,000-credit pack (it stays in the ledger)")
        )
        self.kind = QComboBox()
        for kind, label in (
            ("top_up", self.tr("top-up (bought)")),
            ("promo", self.tr("promo")),
            ("bonus", self.tr("bonus")),
        ):
            self.kind.addItem(label, kind)
        self.expires = QCheckBox(self.tr("Expires"))
        self.expires_at = QDateTimeEdit(QDateTime.currentDateTime().addDays(30))
        self.expires_at.setCalendarPopup(True)
        self.expires_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.expires_at.setEnabled(False)
        expiry = QHBoxLayout()
        expiry.addWidget(self.expires)
        expiry.addWidget(self.expires_at, 1)
        self.form.addRow(self.tr("Amount (negative corrects)"), self.amount)
        self.form.addRow(self.tr("Reason"), self.reason)
        self.form.addRow(self.tr("Kind"), self.kind)
        self.form.addRow(self.tr("Expiry"), expiry)
        self.setMinimumWidth(440)
        self.expires.toggled.connect(self.expires_at.setEnabled)
        self.amount.valueChanged.connect(self._update)

    def _update(self) -> None:
        grant = self.amount.value() > 0
        self.kind.setEnabled(grant)
        self.expires.setEnabled(grant)
        self.expires_at.setEnabled(grant and self.expires.isChecked())

    def values(self) -> dict[str, Any]:
        expires = self.expires.isChecked() and self.amount.value() > 0
        return {
            "amount": self.amount.value(),
            "reason": self.reason.text().strip(),
            "kind": self.kind.currentData(),
            "expires_at": float(self.expires_at.dateTime().toSecsSinceEpoch()) if expires else None,
        }


class RuleDialog(FormDialog):
    """A grant rule: how many free points a day (or a month), when they reset, where."""

    PERIODS = ("daily", "monthly", "once")
    KINDS = ("daily_free", "monthly", "promo", "bonus", "one_time")

    def __init__(
        self, account: Account, rules: Sequence[GrantRule], parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("State a rule for %1").replace("%1", f"{account.vendor} / {account.name}"),
            parent,
            self.tr("Save rule"),
        )
        self._rules = {r.key: r for r in rules}
        self.key = QComboBox()
        self.key.setEditable(True)
        self.key.addItems(sorted({"daily", *self._rules}))
        self.kind = QComboBox()
        self.kind.addItems(list(self.KINDS))
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0, 10_000_000)
        self.amount.setDecimals(2)
        self.amount.setSuffix(f" {account.unit}")
        self.period = QComboBox()
        self.period.addItems(list(self.PERIODS))
        self.reset = QTimeEdit(QTime(0, 0))
        self.reset.setDisplayFormat("HH:mm")
        self.timezone = _zone_box(account.timezone, self.tr("required for daily and monthly"))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.form.addRow(self.tr("Rule"), self.key)
        self.form.addRow(self.tr("Kind"), self.kind)
        self.form.addRow(self.tr("Amount each period"), self.amount)
        self.form.addRow(self.tr("Period"), self.period)
        self.form.addRow(self.tr("Resets at"), self.reset)
        self.form.addRow(self.tr("In time zone"), self.timezone)
        self.form.addRow(self.note)
        self.setMinimumWidth(440)
        self.key.currentTextChanged.connect(self._fill)
        self._fill(self.key.currentText())

    def _fill(self, key: str) -> None:
        rule = self._rules.get(key)
        if rule is None:
            self.note.setText(self.tr("A new rule."))
            return
        self.kind.setCurrentText(rule.kind)
        self.amount.setValue(rule.amount or 0)
        self.period.setCurrentText(rule.period)
        hour, _, minute = rule.reset_time.partition(":")
        self.reset.setTime(QTime(int(hour), int(minute)))
        self.timezone.setCurrentText(rule.timezone or "")
        source = rule.source or self.tr("unknown")
        missing = "" if rule.ready else self.tr(" It lacks figures, so grants nothing yet.")
        self.note.setText(self.tr("Now from: %1.").replace("%1", source) + missing)

    def values(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "key": self.key.currentText().strip(),
            "kind": self.kind.currentText(),
            "amount": self.amount.value(),
            "period": self.period.currentText(),
            "reset_time": self.reset.time().toString("HH:mm"),
        }
        zone = self.timezone.currentText().strip()
        if zone:
            fields["timezone"] = zone
        return fields


class ObserveDialog(FormDialog):
    """Type the balance the vendor shows; see the drift and, where balances jump at one
    hour, a reset time to apply (only on the user's click).

    Signals:
        apply_requested(object): the ResetSuggestion to set as the daily rule's reset.
    """

    apply_requested = Signal(object)

    def __init__(self, account: Account, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("What %1 shows").replace("%1", f"{account.vendor} / {account.name}"),
            parent,
            self.tr("Record"),
        )
        self._unit = account.unit
        self._suggestion: ResetSuggestion | None = None
        self.amount = QDoubleSpinBox()
        self.amount.setRange(-10_000_000, 10_000_000)
        self.amount.setDecimals(2)
        self.amount.setSuffix(f" {account.unit}")
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.suggestion = QLabel()
        self.suggestion.setWordWrap(True)
        self.apply_button = QPushButton(self.tr("Apply this reset"))
        self.form.addRow(self.tr("Balance the vendor shows"), self.amount)
        apply_row = QHBoxLayout()
        apply_row.addStretch(1)
        apply_row.addWidget(self.apply_button)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.outcome)
        layout.insertWidget(2, self.suggestion)
        layout.insertLayout(3, apply_row)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Close"))
        self.suggestion.hide()
        self.apply_button.hide()
        self.setMinimumWidth(460)
        self.apply_button.clicked.connect(self._apply)

    def value(self) -> float:
        return self.amount.value()

    def show_result(
        self, observed: float, drift: float, suggestion: ResetSuggestion | None
    ) -> None:
        computed = observed - drift
        if abs(drift) < 1e-6:
            text = self.tr("Recorded %1 %2: Takestock agrees.")
        else:
            text = self.tr("Recorded %1 %2; Takestock computed %3: drift %4.")
        self.outcome.setText(
            text.replace("%1", amount_text(observed))
            .replace("%2", self._unit)
            .replace("%3", amount_text(computed))
            .replace("%4", ("+" if drift > 0 else "−") + amount_text(abs(drift)))
        )
        self._suggestion = suggestion
        self.suggestion.setVisible(suggestion is not None)
        self.apply_button.setVisible(suggestion is not None)
        self.apply_button.setEnabled(True)
        if suggestion is not None:
            self.suggestion.setText(
                self.tr(
                    "Balances jumped around %1 %2 (%3 times): that looks like the daily "
                    "reset. Apply it to the daily rule?"
                )
                .replace("%1", suggestion.reset_time)
                .replace("%2", suggestion.timezone)
                .replace("%3", str(suggestion.evidence))
            )
        self.adjustSize()

    def show_applied(self) -> None:
        self.apply_button.setEnabled(False)
        self.suggestion.setText(self.suggestion.text() + " " + self.tr("Applied."))

    def _apply(self) -> None:
        if self._suggestion is not None:
            self.apply_requested.emit(self._suggestion)


class BudgetDialog(FormDialog):
    """Cap what this account, or the prompts of a tag (a project), may spend per period.

    A tag's cap counts one unit (money unless told): never a sum of different units.
    """

    def __init__(self, account: Account, tags: Sequence[str], parent: QWidget | None) -> None:
        super().__init__(self.tr("Budget"), parent, self.tr("Save"))
        self._account = account
        self.scope = QComboBox()
        self.scope.addItem(self.tr("This account (%1)").replace("%1", account.name), None)
        for tag in tags:
            self.scope.addItem(self.tr("Tag %1").replace("%1", tag), tag)
        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText(self.tr("or a new tag (project)"))
        self.period = QComboBox()
        for period in budgets.BUDGET_PERIODS:
            self.period.addItem(period, period)
        self.period.setCurrentIndex(budgets.BUDGET_PERIODS.index("month"))
        self.cap = QDoubleSpinBox()
        self.cap.setRange(0, 100_000_000)
        self.cap.setDecimals(2)
        self.no_cap = QCheckBox(self.tr("No cap (remove it)"))
        self.unit = QLineEdit(budgets.MONEY_UNIT)
        self.form.addRow(self.tr("For"), self.scope)
        self.form.addRow("", self.new_tag)
        self.form.addRow(self.tr("Per"), self.period)
        self.form.addRow(self.tr("At most"), self.cap)
        self.form.addRow(self.tr("A tag's cap counts"), self.unit)
        self.form.addRow("", self.no_cap)
        self.scope.currentIndexChanged.connect(self._update)
        self.new_tag.textChanged.connect(self._update)
        self._update()

    def _tag(self) -> str | None:
        typed = self.new_tag.text().strip()
        return typed or self.scope.currentData()

    def _update(self) -> None:
        tag = self._tag()
        self.unit.setEnabled(tag is not None)
        self.cap.setSuffix(" " + (self.unit.text() if tag is not None else self._account.unit))

    def values(self) -> dict[str, Any]:
        return {
            "tag": self._tag(),
            "period": self.period.currentData(),
            "cap": None if self.no_cap.isChecked() else self.cap.value(),
            "unit": self.unit.text().strip() or budgets.MONEY_UNIT,
        }


class CloseAccountDialog(FormDialog):
    """Close an account: its history stays, new jobs on it are refused."""

    def __init__(self, account: Account, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Close %1").replace("%1", f"{account.vendor} / {account.name}"),
            parent,
            self.tr("Close account"),
        )
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(self.tr("e.g. cancelled the plan; the vendor shut down"))
        explain = QLabel(
            self.tr(
                "Its history and takes stay; new jobs on it are refused. This cannot be undone."
            )
        )
        explain.setWordWrap(True)
        self.form.addRow(explain)
        self.form.addRow(self.tr("Reason"), self.reason)
        self.setMinimumWidth(420)

    def values(self) -> dict[str, Any]:
        return {"reason": self.reason.text().strip() or "closed"}


# ----------------------------------------------------------------- the timeline
