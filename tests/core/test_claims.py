"""The refund-request text for a charge that made nothing."""

from __future__ import annotations

from takestock.core.claims import claim_kit
from takestock.core.jobs import get_job
from tests.core.test_engine import kit  # noqa: F401 (fixture)


def test_a_claim_kit_names_the_task_account_times_error_and_charge(kit):  # noqa: F811
    k = kit()
    [job] = k.generate("a fox #fail")
    text = claim_kit(k.store, job)
    assert f"task {job.vendor_task_id}" in text
    assert "Account: default" in text
    assert "Generic Video" in text  # the vendor's own words
    assert "Charged: unknown" in text
    k.store.execute("UPDATE job SET cost_actual = 12 WHERE id = ?", (job.id,))
    charged = get_job(k.store, job.id)
    assert charged.charged_without_output
    assert "Charged: 12" in claim_kit(k.store, charged)
