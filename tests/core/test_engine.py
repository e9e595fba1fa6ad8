"""The engine against a loopback fake vendor: states, faults, recovery, no double creates."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import InvalidInput
from takestock.core.jobs import Engine, Job, Target, get_job, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.media import probe
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import GenerationRequest
from tests.fakeserver import Fault
from tests.fakeserver.generic import GenericVideoVendor
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.support.generic_adapter import VENDOR_ID, GenericAdapter, generic_spec

VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
TARGET = Target(VENDOR_ID, "gv-1")


@dataclass
class Kit:
    fake: GenericVideoVendor
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: GenericAdapter
    key: str = "test-key"

    def engine(self, **kw: object) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {VENDOR_ID: self.adapter},
            StaticCredentials({VENDOR_ID: {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_GENERICVIDEO_BASE_URL": self.fake.url},
            **kw,  # type: ignore[arg-type]
        )

    def generate(self, prompt: str = "a fox", count: int = 1, **kw: object) -> list[Job]:
        engine = self.engine()
        request = GenerationRequest(prompt=prompt, duration_s=2, **kw)  # type: ignore[arg-type]
        _, ids = engine.enqueue(request, [TARGET], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    @property
    def server(self):
        assert self.fake.server is not None
        return self.fake.server

    def leftovers(self) -> list[Path]:
        return list(self.paths.incoming.iterdir())


@pytest.fixture
def kit(tmp_path, generic_vendor):
    def make(*, can_find: bool = True, concurrency: int = 8, **options: object) -> Kit:
        fake = generic_vendor(video=VIDEO, **options)
        paths = DataPaths(tmp_path / "home").ensure()
        spec = generic_spec(concurrency=concurrency)
        catalog = Catalog({**load_catalog().vendors, spec.id: spec})
        return Kit(
            fake,
            paths,
            open_store(paths.database),
            catalog,
            GenericAdapter(spec, can_find=can_find),
        )

    return make


def _done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error)
    assert job.take_id is not None


def test_a_job_goes_from_queued_to_a_verified_take(kit):
    k = kit()
    [job] = k.generate("a red fox in snow")
    _done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert take.path.read_bytes() == VIDEO
    assert probe(take.path).width == 320
    assert take.prompt == "a red fox in snow"
    assert k.fake.count_creates(job.client_request_id) == 1
    assert k.fake.creates[0]["prompt"] == "a red fox in snow"
    assert job.vendor_task_id
    assert job.submitted_at
    assert job.finished_at
    assert json.loads(json.dumps(job.estimate)) == {
        "amount": 4.0,
        "unit": "credits",
        "money": 0.4,
        "currency": "USD",
    }
    assert k.leftovers() == []


def test_one_request_fans_out_to_distinct_jobs(kit):
    k = kit()
    jobs = k.generate(count=3)
    assert [j.state for j in jobs] == ["done"] * 3
    assert len({j.client_request_id for j in jobs}) == 3
    assert len({j.request_id for j in jobs}) == 1
    assert k.fake.count_creates() == 3


def test_the_row_is_committed_before_the_create_and_the_task_id_on_arrival(kit):
    k = kit()
    seen: dict[str, object] = {}

    def committed(sql: str, *params: object) -> object:
        # A second connection sees only what was committed.
        other = sqlite3.connect(k.paths.database)
        try:
            return other.execute(sql, params).fetchone()
        finally:
            other.close()

    class Spy(GenericAdapter):
        async def submit(self, ctx, request, client_request_id):
            seen["at_create"] = committed(
                "SELECT state FROM job WHERE client_request_id = ?", client_request_id
            )
            return await super().submit(ctx, request, client_request_id)

        async def poll(self, ctx, handle):
            seen.setdefault(
                "at_first_poll",
                committed(
                    "SELECT vendor_task_id FROM job WHERE vendor_task_id = ?", handle.task_id
                ),
            )
            return await super().poll(ctx, handle)

    k.adapter = Spy(k.adapter.vendor)
    [job] = k.generate()
    _done(job)
    assert seen["at_create"] == ("submitting",)
    assert seen["at_first_poll"] == (job.vendor_task_id,)


def test_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    k.server.script(
        "POST", "/v1/tasks", Fault.status(429, retry_after=0.4), Fault.status(429, retry_after=0.4)
    )
    [job] = k.generate()
    _done(job)
    creates = k.server.requests_to("POST", "/v1/tasks")
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.38
    assert creates[2].at - creates[1].at >= 0.38
    assert k.fake.count_creates() == 1


def test_429_without_retry_after_backs_off_and_succeeds(kit):
    k = kit()
    k.server.script("POST", "/v1/tasks", Fault.status(429))
    [job] = k.generate()
    _done(job)
    assert k.fake.count_creates() == 1


def test_a_500_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", "/v1/tasks/{id}", Fault.status(500), Fault.status(503))
    [job] = k.generate()
    _done(job)


def test_a_500_to_a_create_is_never_resent_blindly(kit):
    k = kit()
    k.server.script("POST", "/v1/tasks", Fault.status(500, json={"error": {"code": "oops"}}))
    [job] = k.generate()
    _done(job)
    # The engine looked the task up by our id before sending the create again.
    lookups = [r for r in k.server.requests_to("GET", "/v1/tasks") if "client_id" in r.query]
    assert lookups
    assert lookups[0].query["client_id"] == job.client_request_id
    assert k.fake.count_creates() == 1


def test_a_create_whose_answer_is_lost_is_found_by_client_id(kit):
    k = kit()
    k.server.script("POST", "/v1/tasks", Fault.cut_after(0))  # the vendor made it; we never heard
    [job] = k.generate()
    _done(job)
    assert k.fake.count_creates() == 1
    assert len(k.server.requests_to("POST", "/v1/tasks")) == 1


def test_a_lost_answer_without_lookup_becomes_unknown_and_is_not_resent(kit):
    k = kit(can_find=False)
    k.server.script("POST", "/v1/tasks", Fault.drop())
    [job] = k.generate()
    assert job.state == "unknown"
    assert "never learned" in job.error
    assert len(k.server.requests_to("POST", "/v1/tasks")) == 1


def test_malformed_json_to_a_create_is_treated_as_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", "/v1/tasks", Fault.malformed_json())
    [job] = k.generate()
    _done(job)
    assert k.fake.count_creates() == 1


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", "/v1/tasks/{id}", Fault.malformed_json())
    [job] = k.generate()
    _done(job)


def test_a_poll_that_never_makes_sense_fails_with_a_clear_error(kit):
    k = kit()
    k.server.script_always("GET", "/v1/tasks/{id}", Fault.malformed_json())
    [job] = k.generate()
    assert job.state == "failed"
    assert job.error_kind == "protocol"
    assert "not JSON" in job.error


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate()
    _done(job)
    downloads = k.server.requests_to("GET", "/files/*")
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert k.leftovers() == []


def test_a_connection_dropped_mid_download_is_retried(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.drop(), Fault.cut_after(100))
    [job] = k.generate()
    _done(job)


def test_a_truncated_download_fails_verification_and_leaves_nothing(kit):
    k = kit()
    k.server.script_always("GET", "/files/*", Fault.truncate(len(VIDEO) // 3))
    [job] = k.generate()
    assert job.state == "failed"
    assert job.error_kind == "download"
    assert job.charged_without_output
    assert job.fetchable_again
    assert "not a readable video" in job.error
    assert list_takes(k.store, k.paths.media) == []
    assert k.leftovers() == []
    assert not list(k.paths.media.glob("??/*"))


def test_an_expired_link_is_refreshed_once(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.status(403, json={"error": {"code": "url_expired"}}))
    [job] = k.generate()
    _done(job)
    assert len({r.query["sig"] for r in k.server.requests_to("GET", "/files/*")}) == 2


def test_a_link_that_stays_expired_fails_the_job(kit):
    k = kit()
    k.server.script_always("GET", "/files/*", Fault.status(403))
    [job] = k.generate()
    assert job.state == "failed"
    assert job.error_kind == "result_expired"
    assert k.leftovers() == []


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #fail", "generation_failed", "Generic Video"),
        ("a fox #nsfw", "rejected", "Generic Video"),
    ],
)
def test_a_vendor_failure_keeps_the_vendors_words(kit, prompt, kind, words):
    k = kit()
    [job] = k.generate(prompt)
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error


def test_not_enough_credits_fails_at_submit(kit):
    k = kit(credits=1)
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "quota")
    assert job.vendor_task_id is None


def test_a_wrong_key_fails_with_auth(kit):
    k = kit()
    k.key = "wrong"
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "auth")


def test_a_retired_model_fails_and_is_marked_retired_for_the_user(kit):
    k = kit(retired_models=["gv-1"])
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "no longer available" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides[VENDOR_ID]["models"]["gv-1"]["status"] == "retired"


def test_an_unreachable_vendor_fails_without_sending_anything(kit):
    k = kit()
    engine = k.engine()
    engine.environ = {"TAKESTOCK_GENERICVIDEO_BASE_URL": "http://127.0.0.1:9"}
    _, ids = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    [job] = asyncio.run(engine.run(ids))
    assert (job.state, job.error_kind) == ("failed", "unreachable")
    assert "nothing was sent" in job.error


def test_invalid_input_is_refused_before_anything_is_stored(kit):
    k = kit()
    engine = k.engine()
    for request, target, field in [
        (GenerationRequest("a fox", duration_s=3), TARGET, "duration"),
        (GenerationRequest("   "), TARGET, "prompt"),
        (GenerationRequest("x" * 2001), TARGET, "prompt"),
        (GenerationRequest("a fox"), Target("nope", "gv-1"), "vendor"),
        (GenerationRequest("a fox"), Target(VENDOR_ID, "nope"), "model"),
        (GenerationRequest("a fox", image=Path("/no/such.png")), TARGET, "mode"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [target])
        assert refused.value.field == field
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_a_missing_key_is_refused_before_anything_is_stored(kit):
    k = kit()
    engine = k.engine()
    engine.credentials = StaticCredentials({})
    with pytest.raises(InvalidInput, match="TAKESTOCK_GENERICVIDEO_API_KEY"):
        engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    assert list_jobs(k.store) == []


def test_a_submitted_job_resumes_in_a_new_engine_without_a_second_create(kit):
    k = kit()
    first = k.engine()
    _, ids = first.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    [job] = asyncio.run(first.run(ids, until="submitted"))
    assert job.state == "running"
    [job] = asyncio.run(k.engine().run())
    _done(job)
    assert k.fake.count_creates() == 1


def test_a_job_claimed_by_a_live_process_is_left_alone(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    other = f"{engine._host}:{os.getppid()}:cafe"  # a live process that is not us
    k.store.execute("UPDATE job SET owner = ? WHERE id = ?", (other, job_id))
    [job] = asyncio.run(k.engine().run([job_id]))
    assert job.state == "queued"
    k.store.execute(
        "UPDATE job SET owner = ? WHERE id = ?", (f"{engine._host}:999999:dead", job_id)
    )
    [job] = asyncio.run(k.engine().run([job_id]))
    _done(job)


def test_cancel_stops_a_running_job_at_the_vendor(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.status_of(job.vendor_task_id) == "cancelled"
    with pytest.raises(InvalidInput):
        asyncio.run(engine.cancel(job_id))


def test_retry_makes_a_new_job_for_the_same_request(kit):
    k = kit()
    [job] = k.generate("a fox #fail")
    new_id = k.engine().retry(job.id)
    assert get_job(k.store, new_id).request_id == job.request_id
    assert get_job(k.store, job.id).state == "failed"


def test_concurrency_limit_is_respected(kit):
    k = kit(concurrency=2, queued_polls=2, running_polls=2)
    peak = 0

    def watch(event):
        nonlocal peak
        running = k.store.scalar("SELECT COUNT(*) FROM job WHERE state IN ('submitting','running')")
        peak = max(peak, running)

    engine = k.engine(on_change=watch)
    _, ids = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET], count=6)
    jobs = asyncio.run(engine.run(ids))
    assert all(j.state == "done" for j in jobs)
    assert peak <= 2


def test_secrets_are_resolved_per_auth_option_without_touching_unneeded_fields():
    from takestock.core.catalog import parse_vendor
    from takestock.core.errors import SecretsUnavailable
    from takestock.core.jobs import resolve_secrets

    vendor = parse_vendor(
        {
            "id": "dual",
            "name": "Dual",
            "as_of": "2026-11-25",
            "source": "tests",
            "base_urls": {"default": "http://127.0.0.1:9"},
            "secrets": ["access_key", "secret_key", "api_key"],
            "auth_options": [["access_key", "secret_key"], ["api_key"]],
        }
    )
    asked: list[tuple[str, ...]] = []

    class Recording(StaticCredentials):
        def secrets_for(self, vendor_id, fields, account="default"):
            asked.append(tuple(fields))
            return super().secrets_for(vendor_id, fields, account)

    pair = Recording({"dual": {"access_key": "ak", "secret_key": "sk"}})
    assert resolve_secrets(pair, vendor, "default") == {"access_key": "ak", "secret_key": "sk"}
    assert asked == [("access_key", "secret_key"), ("api_key",)]
    both = StaticCredentials({"dual": {"api_key": "k", "access_key": "ak", "secret_key": "s"}})
    assert resolve_secrets(both, vendor, "default") == {
        "access_key": "ak",
        "secret_key": "s",
        "api_key": "k",
    }
    one = StaticCredentials({"dual": {"api_key": " k ", "access_key": "ak"}})
    assert resolve_secrets(one, vendor, "default") == {"api_key": "k", "access_key": "ak"}

    class NoKeyring(StaticCredentials):
        def secrets_for(self, vendor_id, fields, account="default"):
            if "api_key" in fields:
                raise SecretsUnavailable("no keyring")
            return super().secrets_for(vendor_id, fields, account)

    second_in_env = NoKeyring({"dual": {"access_key": "ak", "secret_key": "sk"}})
    flipped = replace(vendor, auth_options=(("api_key",), ("access_key", "secret_key")))
    assert resolve_secrets(second_in_env, flipped, "default") == {
        "access_key": "ak",
        "secret_key": "sk",
    }
    with pytest.raises(SecretsUnavailable):
        resolve_secrets(NoKeyring({}), flipped, "default")
    env_only = NoKeyring({"dual": {"access_key": "ak", "secret_key": "sk"}})
    assert resolve_secrets(env_only, vendor, "default") == {"access_key": "ak", "secret_key": "sk"}
    partial = StaticCredentials({"dual": {"access_key": "ak"}})
    assert vendor.missing_secrets(resolve_secrets(partial, vendor, "default")) == ["secret_key"]


def test_refreshing_models_adds_new_ones_and_retires_vanished_ones(kit):
    k = kit()

    class Listing(GenericAdapter):
        async def list_models(self, ctx):
            return [{"id": "gv-1", "label": "GV one"}, {"id": "gv-2", "durations": [4, 8]}]

    k.adapter = Listing(k.adapter.vendor)
    changes = asyncio.run(k.engine().refresh_models(VENDOR_ID))
    assert changes == {
        "added": ["gv-2"],
        "updated": ["gv-1"],
        "unchanged": [],
        "retired": ["gv-old"],
    }

    overrides = json.loads(k.paths.catalog_overrides.read_text())[VENDOR_ID]["models"]
    assert overrides["gv-2"]["durations"] == [4, 8]
    assert overrides["gv-old"]["status"] == "retired"
    assert "no longer listed" in overrides["gv-old"]["status_note"]


def test_a_nested_run_shares_the_open_clients(kit):
    k = kit()
    engine = k.engine()

    async def nested() -> bool:
        async with engine.running():
            client = engine._client(k.catalog.vendor(VENDOR_ID))
            async with engine.running():
                assert engine._client(k.catalog.vendor(VENDOR_ID)) is client
            return not client.is_closed and engine._exit is not None

    assert asyncio.run(nested())


def test_a_refresh_that_finds_nothing_new_changes_nothing(kit):
    k = kit()
    listed = [{"id": "gv-1", "durations": [1, 2, 5]}, {"id": "gv-old", "durations": [1, 5]}]

    class Listing(GenericAdapter):
        async def list_models(self, ctx):
            return listed

    k.adapter = Listing(k.adapter.vendor)
    changes = asyncio.run(k.engine().refresh_models(VENDOR_ID))
    assert changes == {"added": [], "updated": [], "unchanged": ["gv-1", "gv-old"], "retired": []}
    assert not k.paths.catalog_overrides.exists()


def test_a_refresh_can_drop_a_resolution(kit):
    k = kit()

    class Listing(GenericAdapter):
        async def list_models(self, ctx):
            return [{"id": "gv-1", "resolutions": {"480p": 480}}, {"id": "gv-old"}]

    k.adapter = Listing(k.adapter.vendor)
    asyncio.run(k.engine().refresh_models(VENDOR_ID))
    saved = json.loads(k.paths.catalog_overrides.read_text())[VENDOR_ID]["models"]["gv-1"]
    assert saved["resolutions"] == {"480p": 480, "720p": None}


def test_forgotten_secrets_are_read_again(kit):
    k = kit()
    engine = k.engine()
    creds = engine.credentials
    assert isinstance(creds, StaticCredentials)

    async def key_seen() -> str:
        async with engine.running():
            return engine._context_for(VENDOR_ID, None).secrets["api_key"]

    assert asyncio.run(key_seen()) == "test-key"
    creds.secrets[VENDOR_ID]["api_key"] = "rotated-key"
    assert asyncio.run(key_seen()) == "test-key"  # cached for the engine's life
    engine.forget_secrets(VENDOR_ID)
    assert asyncio.run(key_seen()) == "rotated-key"
