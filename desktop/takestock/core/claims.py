"""Refund requests for charges that made nothing, worded for a vendor's support desk."""

from __future__ import annotations

import time

from takestock.core.jobs import Job
from takestock.core.store import Store

__all__ = ["claim_kit"]

_WHEN = "%Y-%m-%d %H:%M:%S UTC"


def claim_kit(store: Store, job: Job) -> str:
    """What a vendor's support needs to refund a charge that made nothing.

    The same text for ``takestock jobs claim-kit`` and the Queue's "Copy refund
    request": the task id, account, model, times (UTC), the vendor's error and the charge.
    """
    account = "default"
    if job.account_id is not None:
        account = store.scalar("SELECT name FROM account WHERE id = ?", (job.account_id,))
    return "\n".join(
        [
            f"Refund request: {job.vendor} task {job.vendor_task_id or '(no task id)'}",
            f"Account: {account}",
            f"Model: {job.model}",
            f"Submitted: {time.strftime(_WHEN, time.gmtime(job.submitted_at or job.created_at))}",
            f"Failed: {time.strftime(_WHEN, time.gmtime(job.finished_at or job.created_at))}",
            f"Error: {job.error or 'none given'}",
            f"Charged: {job.cost_actual:g}" if job.cost_actual else "Charged: unknown",
            "No video was delivered for this task. Please refund the credits charged.",
        ]
    )
