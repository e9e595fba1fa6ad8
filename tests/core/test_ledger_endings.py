"""Every way a job ends leaves the ledger right: one capture or one release per hold,
and any charge the vendor reported kept (property tests over random endings)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takestock.core.jobs import FINAL_STATES, get_job, list_jobs
from tests.core.scripted_kit import scripted_kit
from tests.support.ledger import ledger_problems
from tests.support.scripted_adapter import Script

#: Each ending: the script the vendor follows and what the person does afterwards.
ENDINGS: dict[str, tuple[Script, str]] = {
    "done": (Script(), ""),
    "done_charged_more": (Script(cost=7.5), ""),
    "failed": (Script(outcome="fail"), ""),
    "failed_charged": (Script(outcome="fail", cost=4.0), ""),
    "rejected": (Script(submit="reject"), ""),
    "broken_before_sending": (Script(submit="raise"), ""),
    "broken_while_polling": (Script(outcome="raise"), ""),
    "vendor_cancelled": (Script(outcome="vendor_cancel"), ""),
    "cancelled_queued": (Script(), "cancel_queued"),
    "cancelled_running": (Script(outcome="hang"), "cancel_running"),
    "cancelled_downloading": (Script(download="expired"), "cancel_downloading"),
    "download_failed": (Script(download="expired"), ""),
    "download_failed_charged": (Script(download="expired", cost=3.0), ""),
    "download_broke": (Script(download="raise"), ""),
    "download_failed_then_fetched": (Script(download="expired", cost=3.0), "link_back"),
    "lost_not_made": (Script(submit="lost"), "resolve_not_made"),
    "lost_made_with_file": (Script(submit="lost"), "resolve_with_file"),
    "lost_made_then_attached": (Script(submit="lost"), "resolve_then_attach"),
    "failed_then_retried": (Script(outcome="fail"), "retry"),
    "rejected_then_retried": (Script(submit="reject"), "retry"),
}


def _drive_endings(root: Path, endings: list[str]) -> None:
    scripts = {f"take {i}": ENDINGS[name][0] for i, name in enumerate(endings)}
    # Scripts are mutated by a cancel: each take gets its own copy.
    scripts = {k: Script(**vars(v)) for k, v in scripts.items()}
    kit = scripted_kit(root, scripts)
    engine = kit.engine()
    ids = kit.enqueue(engine, list(scripts))
    after = {job_id: ENDINGS[name][1] for job_id, name in zip(ids, endings, strict=True)}
    for job_id, action in after.items():
        if action == "cancel_queued":
            asyncio.run(engine.cancel(job_id))
    kit.run(engine, ids, until="submitted")
    for job_id, action in after.items():
        if action == "cancel_running":
            asyncio.run(engine.cancel(job_id))
        elif action == "cancel_downloading":
            kit.store.execute(  # as a cancel arriving while the take downloads finds it
                "UPDATE job SET state = 'downloading', results = ? WHERE id = ?",
                ('[{"url": "https://files.invalid/x/1.mp4"}]', job_id),
            )
            assert asyncio.run(engine.cancel(job_id)).state == "cancelled"
    kit.run(engine, ids)
    again: list[int] = []
    for job_id, action in after.items():
        job = get_job(kit.store, job_id)
        if action == "resolve_not_made":
            engine.resolve_unknown(job_id, made=False)
        elif action == "resolve_with_file":
            engine.resolve_unknown(job_id, made=True, path=kit.video_file(f"{job_id}.mp4"))
        elif action == "resolve_then_attach":
            engine.resolve_unknown(job_id, made=True)
            asyncio.run(engine.attach_async(job_id, kit.video_file(f"{job_id}.mp4")))
        elif action == "link_back":
            assert job.fetchable_again, (job.state, job.error)
            kit.adapter.link_back.add(job.vendor_task_id or "")
            assert engine.retry(job_id) == job_id  # the same job, fetched again
            again.append(job_id)
        elif action == "retry":
            script = kit.adapter.scripts[f"take {ids.index(job_id)}"]
            script.submit, script.outcome = "ok", "succeed"  # this time it works
            again.append(engine.retry(job_id))
    if again:
        kit.run(engine, again)
    jobs = list_jobs(kit.store)
    assert all(j.state in FINAL_STATES for j in jobs), [(j.id, j.state, j.error) for j in jobs]
    assert ledger_problems(kit.store) == []
    for job_id, name in zip(ids, endings, strict=True):
        job = get_job(kit.store, job_id)
        if name in ("download_failed_then_fetched", "lost_made_with_file"):
            assert job.state == "done", (name, job.error)
        if name.startswith("download_failed") and name != "download_failed_then_fetched":
            assert job.charged_without_output, name
        if name == "cancelled_downloading":
            assert job.cost_actual == 4.0  # the vendor had made it: its charge stands
        if name == "download_failed_then_fetched":
            assert kit.adapter.creates == len(kit.adapter.tasks)  # no second create
    kit.store.close()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from(sorted(ENDINGS)), min_size=1, max_size=8))
def test_any_mix_of_endings_settles_every_hold_once(endings):
    with tempfile.TemporaryDirectory() as root:
        _drive_endings(Path(root), endings)


def test_every_ending_at_least_once():
    with tempfile.TemporaryDirectory() as root:
        _drive_endings(Path(root), sorted(ENDINGS))


def test_a_retried_job_is_held_and_charged_like_the_first(tmp_path):
    kit = scripted_kit(tmp_path / "home", {"a fox": Script(outcome="fail")})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id])
    assert get_job(kit.store, job_id).state == "failed"
    kit.adapter.scripts["a fox"].outcome = "succeed"
    new_id = engine.retry(job_id)
    held = kit.store.scalar(
        "SELECT -SUM(amount) FROM ledger WHERE job_id = ? AND kind = 'reserve'", (new_id,)
    )
    assert held == 4.0  # the estimate, held before anything is sent
    kit.run(engine, [new_id])
    assert get_job(kit.store, new_id).state == "done"
    captured = kit.store.scalar(
        "SELECT -SUM(amount) FROM ledger WHERE job_id = ? AND kind = 'capture'", (new_id,)
    )
    assert captured == 4.0
    assert ledger_problems(kit.store) == []


def test_a_job_in_doubt_is_settled_before_it_is_retried(tmp_path):
    import pytest

    from takestock.core.errors import InvalidInput

    kit = scripted_kit(tmp_path / "home", {"a fox": Script(submit="lost")})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id])
    assert get_job(kit.store, job_id).state == "unknown"
    with pytest.raises(InvalidInput, match="settle a job in doubt first"):
        engine.retry(job_id)
    assert len(list_jobs(kit.store)) == 1
