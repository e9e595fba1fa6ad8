"""Jobs in doubt settled by the user, and the queue's rules about what applies to a job."""

from __future__ import annotations

import time

import pytest

from takestock.core import credits
from takestock.core.claims import claim_kit
from takestock.core.credits import add_account
from takestock.core.errors import InvalidInput, MediaError
from takestock.core.grants import materialise
from takestock.core.jobs import Target, get_job, get_jobs, job_ids
from takestock.core.queue import elapsed_s, job_actions, needs_attention, waiting_for_files
from takestock.core.takes import get_take
from takestock.core.vendor import GenerationRequest
from takestock.wiring import open_services
from tests.fakeserver.media import tiny_mp4

REQUEST = GenerationRequest(prompt="a heron at dusk", duration_s=2, resolution="360p")


@pytest.fixture
def services(home):
    s = open_services()
    add_account(s.store, s.plan_books, vendor="sandbox", name="play", kind="api", plan="free")
    materialise(s.store, time.time())
    yield s
    s.close()


def _free(services) -> float:
    account = credits.get_account(services.store, "play")
    buckets = credits.balances(services.store, account_ids=[account.id])[account.id]
    return credits.total(buckets)


def _in_doubt(services) -> int:
    """A job whose create left and whose answer never came (as the engine leaves it)."""
    engine = services.engine()
    _, [job_id] = engine.enqueue(REQUEST, [Target("sandbox", "sandbox-v1", "play")])
    services.store.execute(
        "UPDATE job SET state = 'unknown', error_kind = 'unknown', finished_at = ?,"
        " error = 'never learned' WHERE id = ?",
        (time.time(), job_id),
    )
    return job_id


def test_the_vendor_made_nothing_the_job_fails_and_the_hold_comes_back(services):
    job_id = _in_doubt(services)
    assert _free(services) == 98  # held
    assert job_actions(get_job(services.store, job_id)).resolve
    job = services.engine().resolve_unknown(job_id, made=False)
    assert (job.state, job.error_kind) == ("failed", "not_made")
    assert _free(services) == 100
    assert job_actions(job).retry
    assert not job_actions(job).resolve
    assert not job.charged_without_output


def test_the_vendor_made_it_the_downloaded_file_becomes_the_take(services, tmp_path):
    job_id = _in_doubt(services)
    video = tmp_path / "from-history.mp4"
    video.write_bytes(tiny_mp4())
    events = []
    engine = services.engine(on_change=events.append)
    job = engine.resolve_unknown(job_id, made=True, path=video)
    assert job.state == "done"
    assert job.take_id is not None
    take = get_take(services.store, services.library.root, job.take_id)
    assert (take.job_id, take.prompt) == (job_id, REQUEST.prompt)
    assert _free(services) == 98  # charged
    assert events[-1].take_id == job.take_id
    assert job_actions(job).open_take


def test_made_but_not_downloaded_the_job_waits_for_its_file(services, tmp_path):
    job_id = _in_doubt(services)
    job = services.engine().resolve_unknown(job_id, made=True)
    assert (job.state, job.manual, job.finished_at) == ("running", True, None)
    assert [w.job.id for w in waiting_for_files(services.store)] == [job_id]
    assert waiting_for_files(services.store)[0].prompt == REQUEST.prompt
    assert job_actions(job).attach
    video = tmp_path / "later.mp4"
    video.write_bytes(tiny_mp4())
    services.engine().attach(job_id, video)
    assert get_job(services.store, job_id).state == "done"
    assert waiting_for_files(services.store) == []


def test_a_file_that_is_not_a_video_changes_nothing(services, tmp_path):
    job_id = _in_doubt(services)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(MediaError):
        services.engine().resolve_unknown(job_id, made=True, path=junk)
    assert get_job(services.store, job_id).state == "unknown"
    assert _free(services) == 98


def test_only_a_job_in_doubt_is_resolved(services):
    engine = services.engine()
    _, [job_id] = engine.enqueue(REQUEST, [Target("sandbox", "sandbox-v1")])
    with pytest.raises(InvalidInput, match="only a job in doubt"):
        engine.resolve_unknown(job_id, made=False)


def test_jobs_are_read_by_id_and_listed_newest_first(services):
    engine = services.engine()
    _, ids = engine.enqueue(REQUEST, [Target("sandbox", "sandbox-v1")], count=3)
    assert job_ids(services.store) == sorted(ids, reverse=True)
    assert job_ids(services.store, states=("done",)) == []
    found = get_jobs(services.store, [ids[0], 999, ids[2]])
    assert sorted(found) == [ids[0], ids[2]]


def test_elapsed_runs_until_the_job_ends_and_attention_is_called_for(services):
    job_id = _in_doubt(services)
    job = get_job(services.store, job_id)
    assert elapsed_s(job, job.created_at + 3600) == pytest.approx(
        (job.finished_at or 0) - job.created_at
    )
    assert needs_attention(job)
    services.store.execute(
        "UPDATE job SET state = 'failed', cost_actual = 2, vendor_task_id = 'sb-1',"
        " error = 'the vendor failed' WHERE id = ?",
        (job_id,),
    )
    charged = get_job(services.store, job_id)
    actions = job_actions(charged)
    assert charged.charged_without_output
    assert needs_attention(charged)
    assert actions.claim
    assert actions.retry
    assert not actions.cancel
    engine = services.engine()
    _, [running] = engine.enqueue(REQUEST, [Target("sandbox", "sandbox-v1")])
    job = get_job(services.store, running)
    assert elapsed_s(job, job.created_at + 12) == 12
    assert job_actions(job).cancel
    assert not job_actions(job).retry


def test_the_refund_request_names_the_task_account_and_charge(services):
    job_id = _in_doubt(services)
    services.store.execute(
        "UPDATE job SET state = 'failed', cost_actual = 2, vendor_task_id = 'sb-42',"
        " submitted_at = 1, finished_at = 60, error = 'moderation' WHERE id = ?",
        (job_id,),
    )
    kit = claim_kit(services.store, get_job(services.store, job_id))
    assert kit.splitlines() == [
        "Refund request: sandbox task sb-42",
        "Account: play",
        "Model: sandbox-v1",
        "Submitted: 1970-01-01 00:00:01 UTC",
        "Failed: 1970-01-01 00:01:00 UTC",
        "Error: moderation",
        "Charged: 2",
        "No video was delivered for this task. Please refund the credits charged.",
    ]
