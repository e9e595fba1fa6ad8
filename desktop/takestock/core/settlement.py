"""How a job's ending reaches the ledger: one capture or one release per hold.

Every way a job ends (done, failed, rejected, cancelled, a download that failed after
the vendor's success, a job in doubt settled by the user, a file attached, a retry)
comes here, inside the same transaction as the state change that ended it. Settling is
idempotent: a job already charged is never charged again (a ``capture`` on a settled
hold would book a second charge), and a release with nothing held books nothing. A
charge the vendor reported is always kept, whatever the ending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from takestock.core import budgets, credits
from takestock.core.store import Store

__all__ = ["charged_amount", "hold_again", "is_charged", "settle"]


def is_charged(store: Store, job_id: int) -> bool:
    """Whether the ledger already holds the job's charge."""
    return bool(
        store.scalar(
            "SELECT 1 FROM ledger WHERE job_id = ? AND kind = 'capture' LIMIT 1", (job_id,)
        )
    )


def _held(store: Store, job_id: int) -> float:
    held = store.scalar(
        "SELECT -COALESCE(SUM(amount), 0) FROM ledger WHERE job_id = ?"
        " AND kind IN ('reserve', 'release')",
        (job_id,),
    )
    return max(0.0, float(held or 0.0))


def _estimated(estimate_json: str | None) -> float | None:
    if not estimate_json:
        return None
    amount = json.loads(estimate_json).get("amount")
    return None if amount is None else float(amount)


def charged_amount(store: Store, job_id: int, reported: float | None) -> float | None:
    """What a job the vendor made costs: the vendor's figure, else the estimate, else
    what is held; None when none of them is known."""
    if reported is not None:
        return reported
    row = store.one("SELECT estimate FROM job WHERE id = ?", (job_id,))
    estimated = _estimated(row["estimate"] if row is not None else None)
    if estimated is not None:
        return estimated
    held = _held(store, job_id)
    return held if held > 0 else None


def settle(
    store: Store,
    job_id: int,
    *,
    made: bool,
    charged: float | None = None,
    now: float,
    note: str = "",
) -> None:
    """Turn a job's hold into its charge (``made`` or ``charged``), or give it back.

    ``charged`` is what the vendor reported it took (None: not reported). A job the
    vendor made without reporting a price is charged its estimate. Call inside the
    transaction that moved the job to its ending.
    """
    row = store.one("SELECT account_id, estimate, state FROM job WHERE id = ?", (job_id,))
    if row is None or row["account_id"] is None or is_charged(store, job_id):
        return
    if made or charged:
        estimated = _estimated(row["estimate"])
        actual = charged_amount(store, job_id, charged)
        words = [note] if note else []
        if charged is not None and estimated is not None and abs(charged - estimated) > 1e-9:
            words.append(f"estimated {estimated:g}, the vendor charged {charged:g}")
        credits.capture(store, job_id, float(actual or 0.0), now=now, note="; ".join(words))
    else:
        credits.release(store, job_id, now=now, note=note or row["state"])


def hold_again(
    store: Store,
    job_id: int,
    *,
    vendor_order: Sequence[str] = ("expiring_first",),
    order_known: bool = False,
    now: float,
) -> None:
    """Hold a retried job's estimate on its account, as the first job's was held.

    Raises InvalidInput when the account cannot pay it (nothing is held then).
    """
    row = store.one("SELECT account_id, estimate FROM job WHERE id = ?", (job_id,))
    if row is None or row["account_id"] is None:
        return
    amount = _estimated(row["estimate"])
    if amount is None or amount <= 0:
        return
    account = credits.get_account(store, row["account_id"])
    budgets.check_budget(store, account.id, (), amount, now=now)
    credits.reserve(
        store,
        account.id,
        job_id,
        amount,
        vendor_order=vendor_order,
        order_known=order_known,
        surface=account.kind,
        now=now,
    )
