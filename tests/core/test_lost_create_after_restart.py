"""A create whose answer was lost, then a restart: Replicate's listing is searched by
the request's fingerprint, the prediction is found, and nothing is created twice."""

from __future__ import annotations

import asyncio
import time

import pytest

from takestock.core.catalog import load_catalog
from takestock.core.jobs import Engine, Target, get_job
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import open_store
from takestock.core.vendor import GenerationRequest
from takestock.vendors.replicate import ReplicateAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_replicate import FakeReplicate

KEY = "r8_restart_token_0123"
VEO = "google/veo-3.1"
CREATE = "/v1/models/google/veo-3.1/predictions"
REQUEST = GenerationRequest("a paper boat", duration_s=4, resolution="720p")


@pytest.fixture
def replicate(tmp_path):
    fake = FakeReplicate(api_token=KEY, video=tiny_mp4(seconds=2.0, width=320, height=180))
    fake.serve()
    paths = DataPaths(tmp_path / "home").ensure()
    catalog = load_catalog()

    def engine() -> Engine:
        """A fresh process: a new store connection and a new adapter (empty memory)."""
        return Engine(
            open_store(paths.database),
            MediaLibrary(paths),
            catalog,
            {"replicate": ReplicateAdapter(catalog.vendor("replicate"))},
            StaticCredentials({"replicate": {"api_key": KEY}}),
            poll_interval=0.01,
            environ={"TAKESTOCK_REPLICATE_BASE_URL": fake.url},
        )

    yield fake, engine
    assert fake.server is not None
    fake.server.stop()
    fake.server.check()


async def _send_then_die(engine: Engine, job_ids: list[int]) -> None:
    """Send the creates and stop before any lookup, as a killed process would."""

    async def died(job, driving):
        raise asyncio.CancelledError

    engine._recover = died  # type: ignore[method-assign]
    async with engine.running():
        for job_id in job_ids:
            with pytest.raises(asyncio.CancelledError):
                await engine.drive(job_id)


def test_a_restart_finds_the_prediction_by_fingerprint_and_creates_nothing_twice(replicate):
    fake, engine = replicate
    first = engine()
    _, ids = first.enqueue(REQUEST, [Target("replicate", VEO)], count=2)
    fake.server.script("POST", CREATE, Fault.cut_after(0), Fault.cut_after(0))  # made; lost
    asyncio.run(_send_then_die(first, ids))
    assert [get_job(first.store, i).state for i in ids] == ["submitting", "submitting"]
    # Someone else's prediction with the same input, made on the website, is never ours.
    fake.add_prediction(
        VEO, dict(fake.creates[0]["body"]["input"]), created_at=time.time(), source="web"
    )

    jobs = asyncio.run(asyncio.wait_for(engine().run(ids), 60))
    assert [j.state for j in jobs] == ["done", "done"], [j.error for j in jobs]
    assert len({j.vendor_task_id for j in jobs}) == 2  # identical takes, distinct tasks
    made = {p.id for p in fake.predictions.values() if p.source != "web"}
    assert {j.vendor_task_id for j in jobs} == made
    assert fake.count_creates() == 2
    assert len(fake.server.requests_to("POST", CREATE)) == 2


def test_a_restart_with_nothing_listed_sends_the_create_once_more(replicate):
    fake, engine = replicate
    first = engine()
    _, [job_id] = first.enqueue(REQUEST, [Target("replicate", VEO)])
    fake.server.script("POST", CREATE, Fault.drop())  # closed before the vendor acted
    asyncio.run(_send_then_die(first, [job_id]))
    [job] = asyncio.run(asyncio.wait_for(engine().run([job_id]), 60))
    assert job.state == "done"
    assert fake.server.requests_to("GET", "/v1/predictions")  # looked before resending
    assert fake.count_creates() == 1
