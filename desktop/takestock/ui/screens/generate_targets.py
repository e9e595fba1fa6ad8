"""The Generate screen's targets: a tree of vendor → model → account with a checkbox
each, and per row what a take costs, which credits pay and the balance after."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTreeView, QVBoxLayout, QWidget

from takestock.core import estimates
from takestock.core.credits import list_accounts
from takestock.core.estimates import CheckKey, ModelCheck, TargetOption
from takestock.core.jobs import Target
from takestock.core.vendor import GenerationRequest
from takestock.ui.generate_models import LatestWorker, TargetsFilter, TargetsModel
from takestock.wiring import Services

__all__ = ["CostReadout", "TargetPicker"]

#: How long typing or clicking waits before the costs are worked out again (ms).
COST_DELAY_MS = 250

_KeyKey = tuple[str, str | None]  # (vendor, account name or None for the API key)


def _key_key(option: TargetOption) -> _KeyKey:
    return (option.vendor.id, option.account.name if option.account else None)


@dataclass(frozen=True, slots=True)
class CostReadout:
    """A target's cost as shown in its row (``text()``, like the label it once was)."""

    value: str

    def text(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the worker found for one request: each model's answer and missing keys."""

    request: GenerationRequest
    checks: dict[CheckKey, ModelCheck]
    keys: dict[_KeyKey, str | None]


class TargetPicker(QWidget):
    """The targets as a tree (vendor → model → account) with a checkbox each, a filter,
    and per row what a take costs, which credits pay and the balance after.

    Rows that cannot take the request are disabled, with the reason as their tooltip.
    Costs follow :meth:`set_request` after a short pause, latest wins: the models'
    checks (which read input images and the keyring) run off the UI thread.

    Attributes:
        filter: the text that narrows the tree.
        model: the :class:`TargetsModel`; ``proxy`` its filter; ``view`` the tree.
        summary: what the ticked targets add up to, and what is wrong with them.

    Signals:
        changed(): the ticked targets changed.
    """

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._request = GenerationRequest(prompt="")
        self._count = 1
        self._checked: _Checked | None = None
        self._keys: dict[_KeyKey, str | None] = {}
        self._worker: LatestWorker[_Checked | None] = LatestWorker("targets", self)
        self._timer = QTimer(self, singleShot=True, interval=COST_DELAY_MS)
        self._accounts_seen: tuple[Any, ...] = ()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter vendors, models, accounts (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        self.model = TargetsModel(self._options())
        self.proxy = TargetsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTreeView()
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAllColumnsShowFocus(True)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(0, 240)
        self.view.setColumnWidth(1, 90)
        self.view.setColumnWidth(3, 100)
        self.view.setMouseTracking(True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.summary)
        self._connect_signals()
        first = estimates.default_target(self.model.options())
        if first is not None:
            self.model.tick(first)
        self._expand()

    def _connect_signals(self) -> None:
        self.filter.textChanged.connect(self._on_filter)
        self._timer.timeout.connect(self._start)
        self.model.ticked_changed.connect(self._on_ticked)
        self.view.entered.connect(self._show_index_details)
        self.view.selectionModel().currentChanged.connect(self._show_index_details)

    def _show_index_details(self, index: QModelIndex, *_: object) -> None:
        source = self.proxy.mapToSource(index.siblingAtColumn(0))
        self.details.setText(self.model.details(source) if source.isValid() else "")

    def show_details(self, target: Target) -> None:
        """Say under the tree what a row's tooltip says (also for keyboard users)."""
        self.details.setText(self.model.details(self.model.index_of(target)))

    # -------------------------------------------------------------- options

    def _options(self) -> list[TargetOption]:
        accounts = list_accounts(self._services.store)
        self._accounts_seen = tuple((a.id, a.name, a.kind, a.closed_at) for a in accounts)
        return estimates.target_options(self._services.catalog, self._services.adapters, accounts)

    def refresh_accounts(self) -> None:
        """Read the accounts again (another screen may have added or closed one) and
        forget which keys were missing (they may have been set meanwhile)."""
        self._keys.clear()
        seen = self._accounts_seen
        options = self._options()
        if self._accounts_seen != seen:
            self.model.set_options(options)
            self._expand()
        self._checked = None
        self._timer.start()

    def _expand(self) -> None:
        """Open the vendors and models with a ticked target; everything while filtering."""
        if self.filter.text().strip():
            self.view.expandAll()
            return
        self.view.collapseAll()
        for target in self.model.ticked():
            source = self.model.index_of(target)
            index = self.proxy.mapFromSource(source.parent())
            while index.isValid():
                self.view.expand(index)
                index = index.parent()

    def _on_filter(self, text: str) -> None:
        self.proxy.set_text(text)
        self._expand()

    # ---------------------------------------------------------------- ticks

    def selected(self) -> list[Target]:
        """The ticked targets that can take the request, in the order ticked."""
        return self.model.selected()

    def tick(self, target: Target, on: bool = True) -> None:
        self.model.tick(target, on)

    def cost_label(self, target: Target) -> CostReadout:
        """The row's cost, brought up to date first (see :meth:`flush`)."""
        self.flush()
        return CostReadout(self.model.cost(target))

    def _on_ticked(self) -> None:
        self._update_summary()
        self.changed.emit()

    # ---------------------------------------------------------------- costs

    def set_request(self, request: GenerationRequest, count: int) -> None:
        """Work the costs out for ``request`` once typing pauses (latest wins)."""
        if count != self._count and request == self._request:
            self._count = count
            self._apply()
            return
        self._request, self._count = request, count
        self._timer.start()

    def reprice(self) -> None:
        """The ticks changed: the same checks, paid for in another order."""
        if self._checked is not None and self._checked.request == self._request:
            self._apply()

    def _start(self) -> None:
        request = self._request
        if self._checked is not None and self._checked.request == request:
            self._apply()
            return
        options = self._prioritised()
        known = dict(self._keys)
        services = self._services

        def work(current: Callable[[], bool]) -> _Checked | None:
            return _check(services, request, options, known, current)

        self._worker.submit(work, self._checked_arrived, self._check_failed)

    def _prioritised(self) -> list[TargetOption]:
        """Ticked targets first: their rows are what the user looks at."""
        ticked = set(self.model.ticked())
        options = self.model.options()
        return [o for o in options if o.target in ticked] + [
            o for o in options if o.target not in ticked
        ]

    def flush(self) -> None:
        """Bring the costs up to date now, on this thread (reading a figure, tests)."""
        if not (self._timer.isActive() or self._worker.busy or self._checked is None):
            return
        self._timer.stop()
        self._worker.drop()
        checked = _check(
            self._services, self._request, self._prioritised(), dict(self._keys), lambda: True
        )
        assert checked is not None
        self._checked_arrived(checked)

    def _checked_arrived(self, checked: _Checked | None) -> None:
        if checked is None:
            return
        self._checked = checked
        self._keys.update(checked.keys)
        self._apply()

    def _check_failed(self, error: BaseException) -> None:
        self.summary.setText(
            "<span style='color:#b3261e'>"
            + self.tr("Costs could not be worked out: %1").replace("%1", str(error))
            + "</span>"
        )

    def _apply(self) -> None:
        checked = self._checked
        if checked is None:
            return
        options = self.model.options()
        keys = {o.target: self._keys.get(_key_key(o)) for o in options}
        lines = estimates.target_lines(
            self._services.store,
            self._services.plan_books,
            options,
            checked.checks,
            keys,
            count=self._count,
            ticked=self.model.ticked(),
        )
        self.model.set_lines(lines)
        self._update_summary()

    def _update_summary(self) -> None:
        ticked = self.model.ticked()
        chosen = self.model.selected()
        if not ticked:
            self.summary.setText(self.tr("Tick at least one model to generate."))
            return
        totals: dict[str, float] = {}
        unknown = 0
        short: list[str] = []
        for target in chosen:
            line = self.model.line(target)
            if line is None or line.check.estimate is None:
                continue
            unit = line.check.estimate.unit
            if line.total is None:
                unknown += line.count  # an unknown price is not added as zero
            else:
                totals[unit] = totals.get(unit, 0.0) + line.total
            funding = line.funding
            if funding is not None and funding.tracked and funding.problem:
                short.append(funding.problem)  # which takes no longer fit, and why
        cost = " + ".join(f"{amount:g} {unit}" for unit, amount in totals.items())
        parts = [
            self.tr("%n target(s)", "", len(chosen)),
            self.tr("%n take(s) in all", "", len(chosen) * self._count),
        ]
        if cost:
            parts.append(cost)
        if unknown:
            parts.append(self.tr("%n take(s) at an unknown price", "", unknown))
        text = " · ".join(parts)
        refused = len(ticked) - len(chosen)
        if refused:
            text += (
                "<br><span style='color:#8a5a00'>"
                + self.tr(
                    "%n ticked row(s) cannot take this request (greyed; see the tooltip).",
                    "",
                    refused,
                )
                + "</span>"
            )
        if short:
            text += "<br><span style='color:#b3261e'>" + "; ".join(short) + "</span>"
        self.summary.setText(text)

    def shutdown(self) -> None:
        self._timer.stop()
        self._worker.shutdown()


def _check(
    services: Services,
    request: GenerationRequest,
    options: Sequence[TargetOption],
    known_keys: Mapping[_KeyKey, str | None],
    current: Callable[[], bool],
) -> _Checked | None:
    """Each model's answer to ``request`` and each target's missing key; None when a
    newer request made this one moot. Reads images and the keyring: off the UI thread."""
    checks: dict[CheckKey, ModelCheck] = {}
    keys: dict[_KeyKey, str | None] = {}
    for option in options:
        if not current():
            return None
        key = estimates.check_key(option)
        if key not in checks:
            found = estimates.check_models(
                services.catalog, services.adapters, services.plan_books, request, [option]
            )
            checks.update(found)
        who = _key_key(option)
        if who not in known_keys and who not in keys:
            keys[who] = estimates.key_problem(services.credentials, option.vendor, option.account)
    return _Checked(request, checks, keys)
