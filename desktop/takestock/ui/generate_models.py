"""The Generate screen's target tree (vendor → model → account) and its background worker.

:class:`TargetsModel` is built from :func:`takestock.core.estimates.target_options` and
shows the :class:`~takestock.core.estimates.TargetLine` of each option: what a take costs,
which credits pay, the balance after, or why the option cannot take the request (the row
is then disabled and the reason is its tooltip). The lines are computed elsewhere
(:class:`LatestWorker` off the UI thread, then ``target_lines`` on it) and handed in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from takestock.core.estimates import Funding, TargetLine, TargetOption
from takestock.core.jobs import Target

__all__ = [
    "FILTER_ROLE",
    "TARGET_ROLE",
    "LatestWorker",
    "TargetsFilter",
    "TargetsModel",
    "cost_text",
    "funding_text",
]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: The row's Target (leaf rows only).
TARGET_ROLE = Qt.ItemDataRole.UserRole
#: The words a filter matches on a row: vendor, model and account names and ids.
FILTER_ROLE = Qt.ItemDataRole.UserRole + 1
#: Above this many changed rows, the whole tree is redrawn in one go.
REDRAW_ONE_BY_ONE = 48
_RED = QColor("#b3261e")
_MUTED = QColor("#6b6b6b")

T = TypeVar("T")


def _tr(text: str) -> str:
    return QCoreApplication.translate("Targets", text)


def _g(value: float) -> str:
    return f"{value:g}"


_KIND_WORDS = {
    "daily_free": "daily free",
    "monthly": "monthly",
    "top_up": "top-up",
    "promo": "promo",
    "bonus": "bonus",
    "one_time": "one-time",
    "overdraft": "overdraft",
}


def cost_text(line: TargetLine) -> str:
    """``20 credits``; with several takes ``3 × 20 = 60 credits``; "" when refused."""
    estimate = line.check.estimate
    if estimate is None or line.problem is not None:
        return "—"
    if estimate.amount is None:
        return _tr("unknown %1").replace("%1", estimate.unit)  # never shown as free
    total = line.total or 0.0
    if line.count == 1:
        return f"{_g(estimate.amount)} {estimate.unit}"
    return f"{line.count} × {_g(estimate.amount)} = {_g(total)} {estimate.unit}"


def funding_text(line: TargetLine) -> str:
    """Which credits pay: ``daily free 10 + top-up 5``; or why nothing is tracked."""
    if line.problem is not None:
        return line.problem
    option = line.option
    if option.account is None:
        return _tr("API key (no balance tracked)")
    estimate = line.check.estimate
    if estimate is not None and estimate.amount is None:
        reason = estimate.reason or _tr("the price is not known")
        if option.manual:
            return _tr("on the site: say what it charged (%1)").replace("%1", reason)
        return reason
    funding = line.funding
    if funding is None:
        return ""
    if not funding.tracked:
        return _tr("balance not tracked")
    parts = [
        f"{_tr(_KIND_WORDS.get(p.kind, p.kind))} {_g(p.amount)}" for p in funding.parts if p.amount
    ]
    text = " + ".join(parts) or _tr("nothing")
    return text if funding.order_known else text + " " + _tr("(order assumed)")


def _after_text(funding: Funding | None) -> str:
    if funding is None or not funding.tracked:
        return ""
    unit = funding.account.unit
    if funding.problem is not None:
        # Takes stop at the first that does not fit: what is left after the ones that do.
        return (
            _tr("%1 %2 — not every take fits").replace("%1", _g(funding.after)).replace("%2", unit)
        )
    return f"{_g(funding.after)} {unit}"


@dataclass
class _Node:
    """One row of the tree: a vendor, a model, or a target (an account or the API key)."""

    kind: Literal["vendor", "model", "target"]
    id: int
    parent: int | None
    row: int
    label: str
    search: str
    option: TargetOption | None = None  # targets; a model's first option for vendors/models
    children: list[int] = field(default_factory=list)


class TargetsModel(QAbstractItemModel):
    """Vendors, their models and each model's accounts, with a checkbox per target.

    A vendor's or model's checkbox ticks every target under it that can take the
    request. ``TARGET_ROLE`` on a target row gives its :class:`Target`.

    Signals:
        ticked_changed(): the ticked targets changed.
    """

    ticked_changed = Signal()

    COLUMNS = ("Vendor · model · account", "Cost", "Paid from", "Balance after")

    def __init__(self, options: Sequence[TargetOption] = ()) -> None:
        super().__init__()
        self._nodes: list[_Node] = []
        self._roots: list[int] = []
        self._by_target: dict[Target, int] = {}
        self._ticked: list[Target] = []  # in the order they were ticked
        self._lines: dict[Target, TargetLine] = {}
        self._build(options)

    # ------------------------------------------------------------ structure

    def set_options(self, options: Sequence[TargetOption]) -> None:
        """Rebuild the tree (accounts changed); ticks on targets still offered stay."""
        self.beginResetModel()
        self._build(options)
        self._ticked = [t for t in self._ticked if t in self._by_target]
        self._lines = {t: line for t, line in self._lines.items() if t in self._by_target}
        self.endResetModel()
        self.ticked_changed.emit()

    def _add(
        self, kind: Literal["vendor", "model", "target"], parent: int | None, **kw: Any
    ) -> int:
        siblings = self._roots if parent is None else self._nodes[parent].children
        node = _Node(kind=kind, id=len(self._nodes), parent=parent, row=len(siblings), **kw)
        self._nodes.append(node)
        siblings.append(node.id)
        return node.id

    def _build(self, options: Sequence[TargetOption]) -> None:
        self._nodes, self._roots, self._by_target = [], [], {}
        for _, by_vendor in itertools.groupby(options, key=lambda o: o.vendor.id):
            group = list(by_vendor)
            vendor = group[0].vendor
            vendor_node = self._add(
                "vendor",
                None,
                label=vendor.name,
                search=f"{vendor.name} {vendor.id}",
                option=group[0],
            )
            for _, by_model in itertools.groupby(group, key=lambda o: o.model.id):
                targets = list(by_model)
                model = targets[0].model
                label = model.label
                if model.status == "deprecated":
                    label += " · " + _tr("deprecated")
                model_node = self._add(
                    "model",
                    vendor_node,
                    label=label,
                    search=f"{vendor.name} {vendor.id} {model.label} {model.id}",
                    option=targets[0],
                )
                for option in targets:
                    account = option.account
                    if account is None:
                        name = _tr("default (API key)")
                    elif option.manual:
                        name = _tr("%1 (web: made on the site)").replace("%1", account.name)
                    else:
                        name = account.name
                    node = self._add(
                        "target",
                        model_node,
                        label=name,
                        search=f"{vendor.name} {vendor.id} {model.label} {model.id} {name}",
                        option=option,
                    )
                    self._by_target[option.target] = node

    def options(self) -> list[TargetOption]:
        return [self._nodes[n].option for n in self._by_target.values()]  # type: ignore[misc]

    def index_of(self, target: Target, column: int = 0) -> QModelIndex:
        node = self._by_target.get(target)
        if node is None:
            return QModelIndex()
        return self.createIndex(self._nodes[node].row, column, node)

    def _node(self, index: Index) -> _Node:
        return self._nodes[index.internalId()]

    def _leaves(self, node: _Node) -> list[_Node]:
        if node.kind == "target":
            return [node]
        return [leaf for child in node.children for leaf in self._leaves(self._nodes[child])]

    # ---------------------------------------------------------------- ticks

    def ticked(self) -> list[Target]:
        """Ticked targets, in the order they were ticked (refused ones included)."""
        return list(self._ticked)

    def selected(self) -> list[Target]:
        """Ticked targets that can take the request, in the order they were ticked."""
        return [t for t in self._ticked if self.can_take(t)]

    def can_take(self, target: Target) -> bool:
        line = self._lines.get(target)
        return line is None or line.problem is None

    def set_ticked(self, targets: Iterable[Target]) -> None:
        wanted = [t for t in dict.fromkeys(targets) if t in self._by_target]
        changed = set(wanted) ^ set(self._ticked)
        self._ticked = wanted
        self._refresh_ticks(changed)

    def tick(self, target: Target, on: bool = True) -> None:
        if target not in self._by_target or (target in self._ticked) == on:
            return
        if on:
            self._ticked.append(target)
        else:
            self._ticked.remove(target)
        self._refresh_ticks({target})

    def _refresh_ticks(self, changed: set[Target]) -> None:
        if not changed:
            return
        touched: set[int] = set()
        for target in changed:
            up: int | None = self._by_target[target]
            while up is not None:
                touched.add(up)
                up = self._nodes[up].parent
        for node_id in touched:
            index = self.createIndex(self._nodes[node_id].row, 0, node_id)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.ticked_changed.emit()

    def _check_state(self, node: _Node) -> Qt.CheckState:
        if node.kind == "target":
            assert node.option is not None
            ticked = node.option.target in self._ticked
            return Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        leaves = self._leaves(node)
        on = [leaf for leaf in leaves if leaf.option and leaf.option.target in self._ticked]
        if not on:
            return Qt.CheckState.Unchecked
        takeable = [leaf for leaf in leaves if leaf.option and self.can_take(leaf.option.target)]
        if takeable and all(leaf in on for leaf in takeable):
            return Qt.CheckState.Checked
        return Qt.CheckState.PartiallyChecked

    # ---------------------------------------------------------------- lines

    def set_lines(self, lines: Mapping[Target, TargetLine]) -> None:
        """Show new costs and refusals; the rows that changed are redrawn (all at once
        when most did), the tree keeps its shape and what is expanded."""
        changed = {t for t in set(lines) | set(self._lines) if lines.get(t) != self._lines.get(t)}
        self._lines = dict(lines)
        nodes: set[int] = set()
        for target in changed:
            node: int | None = self._by_target.get(target)
            while node is not None and node not in nodes:
                nodes.add(node)
                node = self._nodes[node].parent
        if len(nodes) > REDRAW_ONE_BY_ONE:
            self.layoutAboutToBeChanged.emit()
            self.layoutChanged.emit()
            return
        last = len(self.COLUMNS) - 1
        for node_id in nodes:
            node_ = self._nodes[node_id]
            self.dataChanged.emit(
                self.createIndex(node_.row, 0, node_id), self.createIndex(node_.row, last, node_id)
            )

    def line(self, target: Target) -> TargetLine | None:
        return self._lines.get(target)

    def cost(self, target: Target) -> str:
        line = self._lines.get(target)
        return cost_text(line) if line is not None else ""

    def _model_line(self, node: _Node) -> TargetLine | None:
        """A model row shows what its targets share: its first target's line."""
        for leaf in self._leaves(node):
            if leaf.option is not None and (line := self._lines.get(leaf.option.target)):
                return line
        return None

    # ------------------------------------------------------------- Qt model

    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        siblings = self._nodes[parent.internalId()].children if parent.isValid() else self._roots
        if not (0 <= row < len(siblings) and 0 <= column < len(self.COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, child: Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not child.isValid():
            return QModelIndex()
        parent = self._node(child).parent
        if parent is None:
            return QModelIndex()
        return self.createIndex(self._nodes[parent].row, 0, parent)

    def rowCount(self, parent: Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self._roots)
        if parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return QCoreApplication.translate("TargetsModel", self.COLUMNS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        node = self._node(index)
        flags = Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        if node.kind == "target":
            assert node.option is not None
            if self.can_take(node.option.target):
                flags |= Qt.ItemFlag.ItemIsEnabled
        elif any(
            leaf.option is not None and self.can_take(leaf.option.target)
            for leaf in self._leaves(node)
        ):
            flags |= Qt.ItemFlag.ItemIsEnabled
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole or index.column():
            return False
        on = Qt.CheckState(value) != Qt.CheckState.Unchecked
        node = self._node(index)
        if node.kind != "target" and self._check_state(node) == Qt.CheckState.Checked:
            on = False  # a full group unticks as a whole
        targets = [
            leaf.option.target
            for leaf in self._leaves(node)
            if leaf.option is not None and (not on or self.can_take(leaf.option.target))
        ]
        changed = {t for t in targets if (t in self._ticked) != on}
        if on:
            self._ticked += [t for t in targets if t not in self._ticked]
        else:
            self._ticked = [t for t in self._ticked if t not in set(targets)]
        self._refresh_ticks(changed)
        return True

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        column = index.column()
        if role == FILTER_ROLE:
            return node.search
        if role == TARGET_ROLE:
            return node.option.target if node.kind == "target" and node.option else None
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return self._check_state(node)
        line = self._line_for(node)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, line, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, line)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 3 and line is not None and line.funding and line.funding.problem:
                return _RED if line.funding.tracked else None
            if column == 2 and line is not None and line.problem is not None:
                return _MUTED
            return None
        if role == Qt.ItemDataRole.FontRole and node.kind == "vendor" and column == 0:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _line_for(self, node: _Node) -> TargetLine | None:
        if node.kind == "target":
            assert node.option is not None
            return self._lines.get(node.option.target)
        if node.kind == "model":
            return self._model_line(node)
        return None

    def _display(self, node: _Node, line: TargetLine | None, column: int) -> str:
        if column == 0:
            return node.label
        if node.kind == "vendor":
            leaves = self._leaves(node)
            if column == 1:
                ok = sum(1 for leaf in leaves if leaf.option and self.can_take(leaf.option.target))
                return _tr("%1 of %2 can").replace("%1", str(ok)).replace("%2", str(len(leaves)))
            if column == 2:
                return self._shared_problem(leaves) or ""
            return ""
        if line is None:
            return "…" if column == 1 else ""
        if node.kind == "model":
            if column == 1:
                return cost_text(line)
            if column == 2 and line.check.problem is not None:
                return line.check.problem.message
            return ""
        if column == 1:
            return cost_text(line)
        if column == 2:
            return funding_text(line)
        return _after_text(line.funding)

    def details(self, index: Index) -> str:
        """A row's name and what its tooltip says (why it is refused, or how it is paid)."""
        if not index.isValid():
            return ""
        node = self._node(index)
        names = [node.label]
        parent = node.parent
        while parent is not None:
            names.insert(0, self._nodes[parent].label)
            parent = self._nodes[parent].parent
        why = self._tooltip(node, self._line_for(node))
        return " · ".join(names) + (f": {why}" if why else "")

    def _shared_problem(self, leaves: list[_Node]) -> str | None:
        """The one reason every target of a vendor is refused for, if there is one
        (typically a missing key)."""
        reasons = set()
        for leaf in leaves:
            line = self._lines.get(leaf.option.target) if leaf.option else None
            if line is None or line.problem is None:
                return None
            reasons.add(line.key_problem or line.problem)
        return reasons.pop() if len(reasons) == 1 else None

    def _tooltip(self, node: _Node, line: TargetLine | None) -> str | None:
        if node.kind == "vendor":
            return self._shared_problem(self._leaves(node))
        if line is None:
            return None
        if node.kind == "model":
            return line.check.problem.message if line.check.problem else None
        if line.problem is not None:
            return line.problem
        funding = line.funding
        if funding is None or not funding.tracked:
            return None
        parts = ", ".join(
            f"{_tr(_KIND_WORDS.get(p.kind, p.kind))} {p.label}: {_g(p.amount)}"
            for p in funding.parts
        )
        order = _tr("the vendor's order") if funding.order_known else _tr("order assumed")
        text = (
            _tr("Held from %1 (%2). Balance %3 → %4 %5.")
            .replace("%1", parts or _tr("nothing"))
            .replace("%2", order)
            .replace("%3", _g(funding.before))
            .replace("%4", _g(funding.after))
            .replace("%5", funding.account.unit)
        )
        if funding.problem:
            text += "\n" + funding.problem
        return text


class TargetsFilter(QSortFilterProxyModel):
    """Shows the rows whose vendor, model or account contains the typed text (and their
    parents); every row when the text is empty."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())


class LatestWorker(QObject, Generic[T]):
    """Runs work off the UI thread, one piece at a time; only the newest piece counts.

    A piece that has not started when a newer one comes is skipped; a running piece can
    ask ``current()`` and stop early. Results (and errors) of a piece that is no longer
    the newest are dropped. Deliveries happen on the UI thread.
    """

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"takestock-{name}")
        self._pool = pool
        self._closed = False
        self._serial = 0
        self._pending = False
        self.destroyed.connect(lambda *_: pool.shutdown(wait=False, cancel_futures=True))

    @property
    def busy(self) -> bool:
        """Whether work was submitted and its answer has not come yet."""
        return self._pending

    def submit(
        self,
        work: Callable[[Callable[[], bool]], T],
        deliver: Callable[[T], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        """Run ``work(current)`` off the UI thread, then ``deliver(result)`` (or
        ``fail(error)``) on it, unless newer work was submitted meanwhile; nothing once
        shut down (a debounce timer may still fire as the window closes)."""
        if self._closed:
            return
        self._serial += 1
        serial = self._serial
        self._pending = True

        def current() -> bool:
            return serial == self._serial

        def run() -> T | None:
            return work(current) if current() else None

        future = self._pool.submit(run)
        future.add_done_callback(
            lambda f: QTimer.singleShot(0, self, lambda: self._done(serial, f, deliver, fail))
        )

    def drop(self) -> None:
        """Forget the work in flight: its result will not be delivered."""
        self._serial += 1
        self._pending = False

    def _done(
        self,
        serial: int,
        future: Future[Any],
        deliver: Callable[[T], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        if serial != self._serial:
            return
        self._pending = False
        error = future.exception()
        if error is not None:
            fail(error)
        else:
            deliver(future.result())

    def shutdown(self) -> None:
        self._closed = True
        self.drop()
        self._pool.shutdown(wait=False, cancel_futures=True)
