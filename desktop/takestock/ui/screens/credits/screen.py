"""Credits: every account's balance by bucket, what lapses when, today's free points,
spending over time, and reconciliation with the balance the vendor shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from takestock.core import budgets, credits, planner
from takestock.core.credits import Account, account_rules, add_account, close_account, set_rule
from takestock.core.errors import InvalidInput, TakestockError
from takestock.core.grants import materialise
from takestock.core.jobs import JobEvent
from takestock.core.planner import ResetSuggestion
from takestock.core.prompts import list_tags
from takestock.core.spending import last_observations
from takestock.ui.bridge import EngineBridge
from takestock.ui.credits_models import (
    URGENT_HOURS,
    AccountsModel,
    BucketsModel,
    amount_text,
    until_text,
    when_text,
)
from takestock.ui.screens.credits.charts import SPEND_DAYS, ExpiryTimeline, SpendChart, TimelineItem
from takestock.ui.screens.credits.dialogs import (
    AddAccountDialog,
    AdjustDialog,
    BudgetDialog,
    CloseAccountDialog,
    ObserveDialog,
    RuleDialog,
)
from takestock.ui.widgets.forms import FormDialog
from takestock.ui.widgets.futures import deliver
from takestock.ui.widgets.tables import fit_rows, table_view
from takestock.wiring import Services

REFRESH_DEBOUNCE_MS = 300


# ------------------------------------------------------------------ the screen


class CreditsScreen(QWidget):
    """Accounts with their credits; what to spend first; what the vendor shows.

    Attributes:
        accounts: the accounts' model; ``accounts_view`` shows it.
        buckets: the selected account's buckets; ``buckets_view`` shows them.
        timeline: what the selected account loses in the next 7 days.
        spend: daily charges of the last 30 days.
        banner: "Expiring in the next 24 hours — spend these first", when any.
        message: the outcome of the last action.
        dialog: the dialog open now, if any (tests drive it).

    Signals:
        changed(): this screen changed accounts or credits.
    """

    changed = Signal()

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self._reconciling: set[int] = set()
        self.dialog: QDialog | None = None
        self.accounts = AccountsModel(services.store, services.plan_books)
        self.buckets = BucketsModel(services.store)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DEBOUNCE_MS)
        self._tick = QTimer(self)
        self._tick.setInterval(60_000)
        self._build()
        self._connect_signals()
        self.refresh()
        self._tick.start()

    # ---------------------------------------------------------------- layout

    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet(
            "background: #fff3e0; color: #5d2c00; border: 1px solid #ef6c00;"
            " border-radius: 4px; padding: 6px;"
        )
        self.banner.hide()

        self.add_button = QPushButton(self.tr("Add account…"))
        self.adjust_button = QPushButton(self.tr("Top up / adjust…"))
        self.rule_button = QPushButton(self.tr("State a rule…"))
        self.observe_button = QPushButton(self.tr("Record what the vendor shows…"))
        self.reconcile_button = QPushButton(self.tr("Reconcile"))
        self.adopt_button = QPushButton(self.tr("Adopt the vendor's balance"))
        self.adopt_button.setToolTip(
            self.tr("Write the adjustment that makes the ledger equal the vendor's last figure")
        )
        self.budget_button = QPushButton(self.tr("Budget…"))
        self.close_button = QPushButton(self.tr("Close account…"))
        actions = QHBoxLayout()
        for button in (
            self.add_button,
            self.adjust_button,
            self.rule_button,
            self.observe_button,
            self.reconcile_button,
            self.adopt_button,
            self.budget_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.close_button)

        self.accounts_view = table_view(self.accounts)
        self.accounts_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.accounts_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.accounts_empty = QLabel(
            self.tr(
                "No accounts yet. Add the memberships and API accounts you use: Takestock "
                "then shows their credits, what lapses when, and today's free points."
            )
        )
        self.accounts_empty.setWordWrap(True)
        self.accounts_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._accounts_stack = QStackedWidget()
        self._accounts_stack.addWidget(self.accounts_view)
        self._accounts_stack.addWidget(self.accounts_empty)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buckets_view = table_view(self.buckets)
        self.buckets_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.buckets_empty = QLabel()
        self.buckets_empty.setWordWrap(True)
        self.buckets_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._buckets_stack = QStackedWidget()
        self._buckets_stack.addWidget(self.buckets_view)
        self._buckets_stack.addWidget(self.buckets_empty)
        self.timeline = ExpiryTimeline()
        self.buckets_box = QGroupBox(self.tr("Credits by bucket"))
        left = QVBoxLayout(self.buckets_box)
        left.addWidget(self._buckets_stack)
        self.timeline_title = QLabel(self.tr("Lapsing in the next 7 days"))
        left.addWidget(self.timeline_title)
        left.addWidget(self.timeline)
        left.addStretch(1)

        self.spend = SpendChart(self._services.store)
        spend_box = QGroupBox(self.tr("Spending, last %1 days").replace("%1", str(SPEND_DAYS)))
        QVBoxLayout(spend_box).addWidget(self.spend)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.buckets_box)
        lower.addWidget(spend_box)
        lower.setStretchFactor(0, 11)
        lower.setStretchFactor(1, 9)
        lower.setSizes([550, 450])

        upper = QWidget()
        top = QVBoxLayout(upper)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.banner)
        top.addLayout(actions)
        top.addWidget(self._accounts_stack, 1)
        top.addWidget(self.message)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _connect_signals(self) -> None:
        self.add_button.clicked.connect(self._add_account)
        self.adjust_button.clicked.connect(self._adjust)
        self.rule_button.clicked.connect(self._state_rule)
        self.observe_button.clicked.connect(self._observe)
        self.reconcile_button.clicked.connect(lambda: self.reconcile())
        self.adopt_button.clicked.connect(self.adopt)
        self.budget_button.clicked.connect(self._budget)
        self.close_button.clicked.connect(self._close_account)
        self.accounts_view.selectionModel().currentRowChanged.connect(self._show_account)
        self._bridge.job_changed.connect(self._on_job_changed)
        self._refresh_timer.timeout.connect(self.refresh)
        self._tick.timeout.connect(self._on_tick)

    # ------------------------------------------------------------ refreshing

    def selected_account(self) -> Account | None:
        index = self.accounts_view.currentIndex()
        if not index.isValid():
            return None
        return self.accounts.account(index.row())

    def select_account(self, account_id: int) -> None:
        row = self.accounts.row_of(account_id)
        if row is not None:
            self.accounts_view.selectRow(row)
            self.accounts_view.setCurrentIndex(self.accounts.index(row, 0))

    def refresh(self) -> None:
        """Read everything again (materialising grants that came due)."""
        selected = self.selected_account()
        self.accounts.refresh()
        has_accounts = self.accounts.rowCount() > 0
        self._accounts_stack.setCurrentWidget(
            self.accounts_view if has_accounts else self.accounts_empty
        )
        if selected is not None and self.accounts.row_of(selected.id) is not None:
            self.select_account(selected.id)
        elif has_accounts:
            self.select_account(self.accounts.account(0).id)
        self._show_account()
        self._update_banner()
        self.spend.refresh()

    def _show_account(self) -> None:
        account = self.selected_account()
        self.buckets.set_account(account)
        now = time.time()
        if account is None:
            self.buckets_box.setTitle(self.tr("Credits by bucket"))
            self.buckets_empty.setText(self.tr("Select an account to see its credits by bucket."))
        else:
            self.buckets_box.setTitle(
                self.tr("Credits of %1").replace("%1", f"{account.vendor} / {account.name}")
            )
            self.buckets_empty.setText(
                self.tr(
                    "No credits tracked for this account yet: top it up, state its daily "
                    "rule, or record what the vendor shows."
                )
            )
        self._buckets_stack.setCurrentWidget(
            self.buckets_view if self.buckets.rowCount() else self.buckets_empty
        )
        fit_rows(self.buckets_view, self.buckets.rowCount())
        self._buckets_stack.setFixedHeight(self.buckets_view.height())
        items = [
            TimelineItem(b.label or b.kind, b.remaining, account.unit, b.expires_at)
            for b in self.buckets.buckets()
            if account is not None and b.expires_at is not None and b.remaining > 1e-9
        ]
        self.timeline.set_items(items, now)
        self.timeline.setVisible(account is not None)
        self.timeline_title.setVisible(account is not None)
        self._update_buttons()

    def _update_banner(self) -> None:
        now = time.time()
        expiring = planner.expiring_within(self._services.store, URGENT_HOURS, now)
        if not expiring:
            self.banner.hide()
            return
        lines = [
            self.tr("%1 / %2: <b>%3 %4</b> at %5 (%6)")
            .replace("%1", e.account.vendor)
            .replace("%2", e.account.name)
            .replace("%3", amount_text(e.bucket.remaining))
            .replace("%4", e.account.unit)
            .replace("%5", when_text(e.bucket.expires_at))
            .replace("%6", until_text(e.bucket.expires_at, now))
            for e in expiring
        ]
        self.banner.setText(
            "<b>"
            + self.tr("Expiring in the next 24 hours — spend these first:")
            + "</b> "
            + " · ".join(lines)
        )
        self.banner.show()

    def _update_buttons(self) -> None:
        account = self.selected_account()
        open_account = account is not None and account.closed_at is None
        for button in (
            self.adjust_button,
            self.rule_button,
            self.observe_button,
            self.budget_button,
        ):
            button.setEnabled(open_account)
        seen = (
            last_observations(self._services.store, [account.id]).get(account.id)
            if account is not None
            else None
        )
        self.adopt_button.setEnabled(
            account is not None
            and open_account
            and seen is not None
            and abs(seen.observed - self._ledger_total(account)) > 1e-6
        )
        self.close_button.setEnabled(open_account)
        can_reconcile = (
            account is not None
            and open_account
            and account.kind == "api"
            and account.vendor in self._services.adapters
            and account.id not in self._reconciling
        )
        self.reconcile_button.setEnabled(can_reconcile)
        self.reconcile_button.setToolTip(
            self.tr("Web accounts have no balance API: record what the vendor shows instead")
            if account is not None and account.kind != "api"
            else self.tr("Ask the vendor's balance API (API accounts) and compare with the ledger")
        )

    def _on_job_changed(self, event: JobEvent) -> None:
        if self.isVisible():
            self._refresh_timer.start()

    def _on_tick(self) -> None:
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        # Hidden, nothing needs redrawing; showing again reads everything afresh.
        self._refresh_timer.stop()
        super().hideEvent(event)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _done(self, dialog: QDialog, text: str) -> None:
        dialog.accept()
        self.dialog = None
        self._say(text)
        self.refresh()
        self.changed.emit()

    def _open(self, dialog: FormDialog, on_submit: Callable[[], None]) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.submitted.connect(on_submit)
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    # --------------------------------------------------------------- actions

    def _add_account(self) -> None:
        dialog = AddAccountDialog(self._services.catalog, self._services.plan_books, self)
        self._open(dialog, lambda: self._add_submitted(dialog))

    def _add_submitted(self, dialog: AddAccountDialog) -> None:
        v = dialog.values()
        store = self._services.store
        try:
            if v["kind"] == "api" or v["region"] != "default":
                # An API account needs a vendor Takestock speaks, in a region it has.
                self._services.catalog.vendor(v["vendor"]).base_url(v["region"])
            vendor = self._services.catalog.vendors.get(v["vendor"])
            if vendor is not None and v["kind"] == "api":
                # Without a plan book the account counts in the catalog's unit.
                v |= {"unit": vendor.unit, "money_per_unit": vendor.money_per_unit}
            account = add_account(store, self._services.plan_books, **v)
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        if vendor is not None and vendor.sandbox and account.kind == "api":
            self.reconcile(account, adopt=True)  # it starts from the sandbox's balance
        text = self.tr("Added %1 account %2 (%3).").replace("%1", account.vendor)
        text = text.replace("%2", repr(account.name)).replace("%3", account.kind)
        missing = [r.key for r in account_rules(store, account.id) if not r.ready]
        if missing:
            text += " " + self.tr(
                "Its %1 grant needs figures the vendor does not publish: use State a rule."
            ).replace("%1", ", ".join(repr(k) for k in missing))
        self._done(dialog, text)
        self.select_account(account.id)

    def _adjust(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        dialog = AdjustDialog(account, self)
        self._open(dialog, lambda: self._adjust_submitted(dialog, account))

    def _adjust_submitted(self, dialog: AdjustDialog, account: Account) -> None:
        v = dialog.values()
        if abs(v["amount"]) < 1e-9:
            dialog.show_error(
                self.tr("Say how much: a positive amount tops up, a negative one corrects.")
            )
            return
        try:
            credits.adjust(
                self._services.store,
                account.id,
                v["amount"],
                v["reason"],
                kind=v["kind"],
                expires_at=v["expires_at"],
            )
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        sign = "+" if v["amount"] > 0 else "−"
        self._done(
            dialog,
            self.tr("%1: %2 %3 (%4).")
            .replace("%1", f"{account.vendor} / {account.name}")
            .replace("%2", sign + amount_text(abs(v["amount"])))
            .replace("%3", account.unit)
            .replace("%4", v["reason"]),
        )

    def _state_rule(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        dialog = RuleDialog(account, account_rules(self._services.store, account.id), self)
        self._open(dialog, lambda: self._rule_submitted(dialog, account))

    def _rule_submitted(self, dialog: RuleDialog, account: Account) -> None:
        fields = dialog.values()
        store, now = self._services.store, time.time()
        if not fields["key"]:
            dialog.show_error(self.tr("Name the rule (e.g. daily)."))
            return
        try:
            set_rule(store, account.id, now=now, source="set by the user", **fields)
            created = materialise(store, now, account_id=account.id)
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        text = self.tr("%1: rule %2 saved; %n grant(s) added.", "", created)
        self._done(
            dialog,
            text.replace("%1", f"{account.vendor} / {account.name}").replace(
                "%2", repr(fields["key"])
            ),
        )

    def _observe(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        dialog = ObserveDialog(account, self)
        dialog.apply_requested.connect(
            lambda suggestion: self._apply_reset(dialog, account, suggestion)
        )
        self._open(dialog, lambda: self._observe_submitted(dialog, account))

    def _observe_submitted(self, dialog: ObserveDialog, account: Account) -> None:
        store = self._services.store
        try:
            drift = credits.observe(store, account.id, dialog.value(), source="typed by the user")
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        dialog.show_result(dialog.value(), drift, planner.suggest_reset(store, account.id))
        self._say(self._drift_text(account, dialog.value(), drift))
        self.refresh()
        self.changed.emit()

    def _apply_reset(self, dialog: ObserveDialog, account: Account, s: ResetSuggestion) -> None:
        store, now = self._services.store, time.time()
        try:
            set_rule(
                store,
                account.id,
                now=now,
                key="daily",
                reset_time=s.reset_time,
                timezone=s.timezone,
                source=f"learned from {s.evidence} balance jumps, applied by the user",
            )
            materialise(store, now, account_id=account.id)
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        dialog.show_applied()
        self._say(
            self.tr("%1: daily reset set to %2 %3.")
            .replace("%1", f"{account.vendor} / {account.name}")
            .replace("%2", s.reset_time)
            .replace("%3", s.timezone)
        )
        self.refresh()
        self.changed.emit()

    def _drift_text(self, account: Account, observed: float, drift: float) -> str:
        text = self.tr("%1: the vendor shows %2 %3; Takestock computed %4; drift %5.")
        return (
            text.replace("%1", f"{account.vendor} / {account.name}")
            .replace("%2", amount_text(observed))
            .replace("%3", account.unit)
            .replace("%4", amount_text(observed - drift))
            .replace("%5", ("+" if drift >= 0 else "−") + amount_text(abs(drift)))
        )

    def reconcile(self, account: Account | None = None, *, adopt: bool = False) -> None:
        """Ask the vendor's balance API off the UI thread; show observed and drift
        (``adopt``: and make the ledger equal it)."""
        account = account or self.selected_account()
        if account is None or account.id in self._reconciling:
            return
        self._reconciling.add(account.id)
        self._update_buttons()
        asking = self.tr("Asking %1 for the balance of %2…")
        self._say(asking.replace("%1", account.vendor).replace("%2", account.name))
        account_id = account.id
        future = self._bridge.run(lambda engine: engine.reconcile(account_id))
        deliver(future, self, lambda f: self._reconciled(account, f, adopt))

    def _reconciled(
        self, account: Account, future: Future[tuple[float, float] | None], adopt: bool = False
    ) -> None:
        self._reconciling.discard(account.id)
        try:
            result = future.result()
        except TakestockError as exc:
            self._say(f"{exc.title}: {exc.message}")
            self._update_buttons()
            return
        except Exception as exc:  # shown, never dropped (STYLE.md 5)
            self._say(self.tr("Reconcile failed: %1").replace("%1", repr(exc)))
            self._update_buttons()
            return
        if result is None:
            self._say(
                self.tr("%1 has no balance API for %2: record what the vendor shows instead.")
                .replace("%1", account.vendor)
                .replace("%2", account.name)
            )
        else:
            observed, drift = result
            self._say(self._drift_text(account, observed, drift))
            if adopt and drift:
                self.adopt(account)
                return
        self.refresh()
        self.changed.emit()

    def _ledger_total(self, account: Account) -> float:
        now = time.time()
        buckets = credits.balances(self._services.store, now, account_ids=[account.id])
        return credits.total(buckets.get(account.id, []))

    def adopt(self, account: Account | None = None) -> None:
        """Make the ledger equal the vendor's last figure (typed or from its API)."""
        account = account or self.selected_account()
        if account is None:
            return
        store = self._services.store
        seen = last_observations(store, [account.id]).get(account.id)
        if seen is None:
            self._say(self.tr("Record what the vendor shows first, or reconcile."))
            return
        try:
            moved = credits.adopt(store, account.id, seen.observed, source=seen.source)
        except TakestockError as exc:
            self._say(f"{exc.title}: {exc.message}")
            return
        self._say(
            self.tr("%1 now shows %2 %3, as the vendor does (adjusted by %4).")
            .replace("%1", f"{account.vendor} / {account.name}")
            .replace("%2", amount_text(seen.observed))
            .replace("%3", account.unit)
            .replace("%4", ("+" if moved >= 0 else "−") + amount_text(abs(moved)))
        )
        self.refresh()
        self.changed.emit()

    def _budget(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        dialog = BudgetDialog(account, list_tags(self._services.store), self)
        self._open(dialog, lambda: self._budget_submitted(dialog, account))

    def _budget_submitted(self, dialog: BudgetDialog, account: Account) -> None:
        v = dialog.values()
        try:
            if v["tag"] is None:
                budgets.set_budget(
                    self._services.store, account_id=account.id, period=v["period"], cap=v["cap"]
                )
            else:
                budgets.set_budget(
                    self._services.store,
                    tag=v["tag"],
                    period=v["period"],
                    cap=v["cap"],
                    unit=v["unit"],
                )
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        scope = v["tag"] and self.tr("tag %1").replace("%1", repr(v["tag"]))
        scope = scope or f"{account.vendor} / {account.name}"
        text = (
            self.tr("%1: no %2 budget.")
            if v["cap"] is None
            else self.tr("%1: at most %3 %4 per %2; checked before anything is sent.")
        )
        self._done(
            dialog,
            text.replace("%1", scope)
            .replace("%2", v["period"])
            .replace("%3", amount_text(v["cap"] or 0))
            .replace("%4", v["unit"] if v["tag"] else account.unit),
        )

    def _close_account(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        dialog = CloseAccountDialog(account, self)
        self._open(dialog, lambda: self._close_submitted(dialog, account))

    def _close_submitted(self, dialog: CloseAccountDialog, account: Account) -> None:
        try:
            close_account(self._services.store, account.id, dialog.values()["reason"])
        except InvalidInput as exc:
            dialog.show_error(exc.message)
            return
        self._done(
            dialog,
            self.tr("%1 is closed: its history stays, new jobs on it are refused.").replace(
                "%1", f"{account.vendor} / {account.name}"
            ),
        )
