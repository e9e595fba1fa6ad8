"""A cancel racing a completion: whichever commits first wins, the other changes
nothing; a done job with a take never becomes cancelled."""

from __future__ import annotations

import asyncio

from takestock.core.jobs import get_job
from tests.core.scripted_kit import scripted_kit
from tests.support.ledger import ledger_problems
from tests.support.scripted_adapter import Script


def test_a_completion_that_commits_first_wins_over_a_cancel(tmp_path):
    kit = scripted_kit(tmp_path / "home", {"a fox": Script()})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id], until="submitted")
    finished = asyncio.Event()
    engine.on_change = lambda event: event.state == "done" and finished.set()

    class SlowCancel(type(kit.adapter)):  # type: ignore[misc]
        async def cancel(self, ctx, handle):
            await finished.wait()  # the vendor answers the cancel after the job is done
            return True

    engine.adapters = {k: SlowCancel(**vars(kit.adapter)) for k in engine.adapters}

    async def race():
        return await asyncio.gather(engine.cancel(job_id), engine.run([job_id]))

    cancelled, _ = asyncio.run(asyncio.wait_for(race(), 30))
    job = get_job(kit.store, job_id)
    assert (job.state, cancelled.state) == ("done", "done")
    assert job.take_id is not None
    assert ledger_problems(kit.store) == []


def test_a_cancel_that_commits_first_wins_over_a_completion(tmp_path):
    kit = scripted_kit(tmp_path / "home", {"a fox": Script()})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id], until="submitted")
    gate = asyncio.Event()
    kit.adapter.gate = gate  # the vendor's "succeeded" arrives after the cancel commits

    async def race():
        driving = asyncio.ensure_future(engine.run([job_id]))
        await asyncio.sleep(0)
        job = await engine.cancel(job_id)
        kit.adapter.tasks[job.vendor_task_id or ""].script.outcome = "succeed"
        gate.set()
        await driving
        return job

    cancelled = asyncio.run(asyncio.wait_for(race(), 30))
    job = get_job(kit.store, job_id)
    assert (cancelled.state, job.state) == ("cancelled", "cancelled")
    assert job.take_id is None
    assert ledger_problems(kit.store) == []


def test_cancel_no_longer_overwrites_a_finished_job(tmp_path):
    kit = scripted_kit(tmp_path / "home", {"a fox": Script()})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    kit.run(engine, [job_id])
    stale = get_job(kit.store, job_id)
    assert stale.state == "done"
    # A cancel that read the job while it ran commits nothing once it is done.
    assert not engine._transition(job_id, "running", "cancelled")
    assert get_job(kit.store, job_id).state == "done"


def test_a_cancel_follows_a_job_that_only_moved_on_and_stops_it_at_the_vendor(tmp_path):
    """Queued when read, sent by the time the cancel commits: the cancel does not give
    up (the job would run on and charge); it waits for the create's answer, asks the
    vendor to stop the task, and the job ends cancelled with its hold given back."""
    kit = scripted_kit(tmp_path / "home", {"a fox": Script()})
    engine = kit.engine()
    [job_id] = kit.enqueue(engine, ["a fox"])
    stopped: list[str] = []

    class Recording(type(kit.adapter)):  # type: ignore[misc]
        async def cancel(self, ctx, handle):
            stopped.append(handle.task_id)
            return True

    engine.adapters = {k: Recording(**vars(kit.adapter)) for k in engine.adapters}
    moves = iter(
        [
            # While the cancel waits, the create leaves, then its answer arrives.
            ("UPDATE job SET state = 'submitting' WHERE id = ?", (job_id,)),
            ("UPDATE job SET state = 'running', vendor_task_id = 't-1' WHERE id = ?", (job_id,)),
        ]
    )
    real_transition = engine._transition

    def moved_on_first(job, from_state, to_state, **fields):
        move = next(moves, None)
        if move is not None:  # the engine's own step commits just before the cancel's
            kit.store.execute(*move)
        return real_transition(job, from_state, to_state, **fields)

    engine._transition = moved_on_first

    async def no_wait(_seconds: float) -> None:
        move = next(moves, None)
        if move is not None:
            kit.store.execute(*move)

    engine._sleep = no_wait
    job = asyncio.run(asyncio.wait_for(engine.cancel(job_id), 30))
    assert job.state == "cancelled"
    assert stopped == ["t-1"]
    assert ledger_problems(kit.store) == []
