"""What a job cost, and sums of job costs per unit (the arena's cost columns).

Costs. A job's cost is what the ledger says where the job ran on an account that
tracks credits (captures are spent; a release with no capture is a refund; a reserve
not yet settled is held); elsewhere it is the vendor's reported charge, else the
estimate for a job that made a take (marked as estimated). Failed jobs (no video) and
rejected takes (a video the creator judged unusable) stay apart everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from takestock.core.store import Store

__all__ = ["CostTally", "JobCost"]

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class JobCost:
    """What one job cost, in the vendor's unit (and money where the estimate says).

    Attributes:
        planned: the estimate at submit.
        spent: captured by the ledger, else the vendor's reported charge, else the
            estimate for a job that made a take (``estimated``).
        refunded: a hold given back with nothing charged (ledger accounts only).
        held: reserved and not yet settled (a job still running).
        money_per_unit: from the estimate (money / amount), when it says.
        tracked: the job ran on an account whose ledger tracks credits.
        estimated: ``spent`` is the estimate, not a figure the vendor or ledger gave.
    """

    job_id: int
    unit: str
    planned: float
    spent: float
    refunded: float
    held: float
    money_per_unit: float | None
    currency: str | None
    tracked: bool
    estimated: bool


def _job_costs(store: Store, where: str, params: Sequence[Any]) -> dict[int, JobCost]:
    jobs = store.all(
        "SELECT job.id, job.state, job.estimate, job.cost_actual, job.account_id,"
        " account.unit AS account_unit, account.money_per_unit AS account_money"
        " FROM job LEFT JOIN account ON account.id = job.account_id WHERE " + where,
        params,
    )
    if not jobs:
        return {}
    ids = [r["id"] for r in jobs]
    ledger: dict[int, dict[str, tuple[float, int]]] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for r in store.all(
            "SELECT job_id, kind, SUM(amount) AS total, COUNT(*) AS n FROM ledger"
            f" WHERE job_id IN ({', '.join('?' * len(part))}) GROUP BY job_id, kind",
            part,
        ):
            ledger.setdefault(r["job_id"], {})[r["kind"]] = (float(r["total"]), int(r["n"]))
    out: dict[int, JobCost] = {}
    for r in jobs:
        estimate: Mapping[str, Any] = json.loads(r["estimate"]) if r["estimate"] else {}
        planned = float(estimate.get("amount") or 0.0)
        unit = str(estimate.get("unit") or r["account_unit"] or "credits")
        money = estimate.get("money")
        per_unit: float | None = None
        if money is not None and planned > 0:
            per_unit = float(money) / planned
        elif r["account_money"] is not None:
            per_unit = float(r["account_money"])
        entries = ledger.get(r["id"], {})
        spent = refunded = held = 0.0
        tracked = "reserve" in entries or "capture" in entries
        estimated = False
        if "capture" in entries:
            spent = -entries["capture"][0]
        elif tracked:
            reserved = -entries["reserve"][0]
            released = entries.get("release", (0.0, 0))[0]
            refunded = released
            held = max(reserved - released, 0.0)
        elif r["cost_actual"] is not None:
            spent = float(r["cost_actual"])
        elif r["state"] == "done":
            spent, estimated = planned, True
        out[r["id"]] = JobCost(
            job_id=r["id"],
            unit=unit,
            planned=planned,
            spent=spent,
            refunded=refunded,
            held=held,
            money_per_unit=per_unit,
            currency=estimate.get("currency"),
            tracked=tracked,
            estimated=estimated,
        )
    return out


@dataclass(frozen=True, slots=True)
class CostTally:
    """Sums of job costs in one unit; money where every job's estimate gave a rate."""

    unit: str
    planned: float = 0.0
    spent: float = 0.0
    refunded: float = 0.0
    held: float = 0.0
    money_planned: float | None = 0.0
    money_spent: float | None = 0.0
    money_refunded: float | None = 0.0
    currency: str | None = None
    estimated: bool = False

    def plus(self, cost: JobCost) -> CostTally:
        rate = cost.money_per_unit

        def add(total: float | None, amount: float) -> float | None:
            if total is None or (rate is None and amount > _EPS):
                return None
            return total + amount * (rate or 0.0)

        return CostTally(
            unit=self.unit,
            planned=self.planned + cost.planned,
            spent=self.spent + cost.spent,
            refunded=self.refunded + cost.refunded,
            held=self.held + cost.held,
            money_planned=add(self.money_planned, cost.planned),
            money_spent=add(self.money_spent, cost.spent),
            money_refunded=add(self.money_refunded, cost.refunded),
            currency=self.currency or cost.currency,
            estimated=self.estimated or cost.estimated,
        )


def _tally(costs: Iterable[JobCost]) -> tuple[CostTally, ...]:
    by_unit: dict[str, CostTally] = {}
    for cost in costs:
        by_unit[cost.unit] = by_unit.get(cost.unit, CostTally(cost.unit)).plus(cost)
    return tuple(by_unit.values())
