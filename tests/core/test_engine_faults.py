"""One bad job never stops the others: an unexpected exception in any step ends that
job only, as its money rules say, and a create that could not leave is "not sent"."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from takestock.core import credits
from takestock.core.catalog import Catalog, load_catalog
from takestock.core.jobs import Engine, Target, get_job, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import open_store
from takestock.core.vendor import GenerationRequest, ResultRef, TaskState, TaskStatus
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.support.generic_adapter import VENDOR_ID, GenericAdapter, generic_spec
from tests.support.ledger import ledger_problems

VIDEO = tiny_mp4(seconds=1.0, width=160, height=90)
TARGET = Target(VENDOR_ID, "gv-1", "acct")
KEY = "generic-key-0123456789"


class Kit:
    def __init__(self, root: Path, fake, adapter: GenericAdapter, key: str = KEY) -> None:
        self.fake = fake
        self.paths = DataPaths(root).ensure()
        spec = adapter.vendor
        self.catalog = Catalog({**load_catalog().vendors, spec.id: spec})
        self.store = open_store(self.paths.database)
        account = credits.add_account(self.store, {}, vendor=VENDOR_ID, name="acct", kind="api")
        credits.adjust(self.store, account.id, 1000, "test credits")
        self.adapter = adapter
        self.key = key

    def engine(self, base_url: str | None = None) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {VENDOR_ID: self.adapter},
            StaticCredentials({VENDOR_ID: {"api_key": self.key}}),
            poll_interval=0.01,
            environ={"TAKESTOCK_GENERICVIDEO_BASE_URL": base_url or self.fake.url},
        )

    def run(self, prompts: list[str], base_url: str | None = None):
        engine = self.engine(base_url)
        ids = []
        for prompt in prompts:
            _, [job_id] = engine.enqueue(GenerationRequest(prompt, duration_s=2), [TARGET])
            ids.append(job_id)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        return {job.id: job for job in jobs}, ids

    def free(self) -> float:
        account = credits.get_account(self.store, "acct", VENDOR_ID)
        return credits.total(credits.balances(self.store, account_ids=[account.id])[account.id])


@pytest.fixture
def make(tmp_path, generic_vendor):
    def build(adapter_class: type[GenericAdapter] = GenericAdapter, **kw) -> Kit:
        fake = generic_vendor(video=VIDEO, api_key=kw.pop("server_key", KEY))
        return Kit(tmp_path / "home", fake, adapter_class(generic_spec()), **kw)

    return build


class BreaksBeforeSending(GenericAdapter):
    async def submit(self, ctx, request, client_request_id):
        if "#bug" in request.prompt:
            return request.last_frame.stat()  # an adapter bug: AttributeError on None
        return await super().submit(ctx, request, client_request_id)


class BreaksAfterSending(GenericAdapter):
    async def submit(self, ctx, request, client_request_id):
        handle = await super().submit(ctx, request, client_request_id)
        if "#bug" in request.prompt:
            raise KeyError("task")  # read the answer wrong: the task exists at the vendor
        return handle


class BreaksWhilePolling(GenericAdapter):
    async def poll(self, ctx, handle):
        status = await super().poll(ctx, handle)
        if handle.task_id in self.bad:
            raise RuntimeError("the adapter broke reading the task")
        return status

    async def submit(self, ctx, request, client_request_id):
        handle = await super().submit(ctx, request, client_request_id)
        if "#bug" in request.prompt:
            self.bad.add(handle.task_id)
        return handle

    bad: ClassVar[set[str]] = set()


class AnswersSomethingUnusable(BreaksWhilePolling):
    async def poll(self, ctx, handle):
        status = await GenericAdapter.poll(self, ctx, handle)
        if handle.task_id in self.bad and status.state is TaskState.SUCCEEDED:
            # Headers that are no mapping: recording the result itself fails.
            return TaskStatus(TaskState.SUCCEEDED, results=(ResultRef("x", object()),))  # type: ignore[arg-type]
        return status


class BreaksWhileDownloading(BreaksWhilePolling):
    async def poll(self, ctx, handle):
        return await GenericAdapter.poll(self, ctx, handle)

    async def download(self, ctx, result, dest):
        if any(task in result.url for task in self.bad):
            raise ValueError("the container index is unreadable")
        await super().download(ctx, result, dest)


def _check_others_done(jobs, ids):
    for job_id in ids[1:]:
        assert jobs[job_id].state == "done", (jobs[job_id].state, jobs[job_id].error)


def test_an_adapter_bug_before_the_create_left_fails_only_that_job_as_not_sent(make):
    kit = make(BreaksBeforeSending)
    jobs, ids = kit.run(["a fox #bug", "a fox", "a hare"])
    bad = jobs[ids[0]]
    assert (bad.state, bad.error_kind) == ("failed", "not_sent")
    assert "Nothing was sent" in bad.error
    assert "AttributeError" in bad.error
    _check_others_done(jobs, ids)
    assert kit.fake.count_creates() == 2
    assert ledger_problems(kit.store) == []
    assert kit.free() == 1000 - 2 * 4  # the bad job's hold came back


def test_an_adapter_bug_after_the_create_left_looks_the_task_up_and_never_resends(make):
    kit = make(BreaksAfterSending)
    jobs, ids = kit.run(["a fox #bug", "a fox"])
    assert jobs[ids[0]].state == "done"  # found by our client id, then driven on
    _check_others_done(jobs, ids)
    assert kit.fake.count_creates() == 2
    assert len(kit.fake.server.requests_to("POST", "/v1/tasks")) == 2


@pytest.mark.parametrize(
    ("adapter", "state_words"),
    [(BreaksWhilePolling, "broke reading"), (AnswersSomethingUnusable, "TypeError")],
)
def test_an_adapter_bug_while_polling_fails_that_job_and_gives_its_hold_back(
    make, adapter, state_words
):
    adapter.bad = set()
    kit = make(adapter)
    jobs, ids = kit.run(["a fox #bug", "a fox", "a hare"])
    bad = jobs[ids[0]]
    assert (bad.state, bad.error_kind) == ("failed", "engine_fault")
    assert state_words in bad.error
    assert "Generic Video" in bad.error
    assert not bad.charged_without_output
    _check_others_done(jobs, ids)
    assert ledger_problems(kit.store) == []
    assert kit.free() == 1000 - 2 * 4


def test_a_fault_after_the_vendors_success_keeps_the_charge_and_can_fetch_again(make):
    BreaksWhileDownloading.bad = set()
    kit = make(BreaksWhileDownloading)
    jobs, ids = kit.run(["a fox #bug", "a fox"])
    bad = jobs[ids[0]]
    assert bad.state == "failed"
    assert bad.charged_without_output
    assert bad.fetchable_again
    assert "container index is unreadable" in bad.error
    assert f"takestock jobs retry {bad.id}" in bad.error
    _check_others_done(jobs, ids)
    assert ledger_problems(kit.store) == []
    assert kit.free() == 1000 - 2 * 4  # charged: the vendor made it

    BreaksWhileDownloading.bad = set()  # the file reads again
    engine = kit.engine()
    assert engine.retry(bad.id) == bad.id
    [again] = asyncio.run(engine.run([bad.id]))
    assert again.state == "done"
    assert again.take_id is not None
    assert kit.fake.count_creates() == 2  # fetched again, never made again
    assert ledger_problems(kit.store) == []
    assert kit.free() == 1000 - 2 * 4  # and charged once


def test_a_fault_while_finishing_keeps_the_charge(make, monkeypatch):
    kit = make()

    def broken_insert(*args, **kwargs):
        raise ValueError("no take row")

    monkeypatch.setattr("takestock.core.jobs.steps.insert_take", broken_insert)
    jobs, ids = kit.run(["a fox"])
    job = jobs[ids[0]]
    assert job.state == "failed"
    assert job.charged_without_output
    assert "no take row" in job.error
    assert ledger_problems(kit.store) == []


class LookupBreaks(GenericAdapter):
    async def find(self, ctx, client_request_id):
        raise ValueError("the listing could not be read")


def test_a_broken_lookup_puts_the_job_in_doubt_not_failed(make):
    from tests.fakeserver import Fault

    kit = make(LookupBreaks)
    kit.fake.server.script("POST", "/v1/tasks", Fault.cut_after(0))
    jobs, ids = kit.run(["a fox", "a hare"])
    bad = jobs[ids[0]]
    assert (bad.state, bad.error_kind) == ("unknown", "unknown")
    assert "could not look this take up" in bad.error
    assert jobs[ids[1]].state == "done"
    held = kit.store.scalar("SELECT -SUM(amount) FROM ledger WHERE job_id = ?", (bad.id,))
    assert held == 4  # the hold stays until the user says what the vendor did


@pytest.mark.parametrize("url", ["http://[::1", "not a url", "ftp://x", "http:///v1"])
def test_a_malformed_base_url_fails_as_not_sent(make, url):
    kit = make()
    jobs, ids = kit.run(["a fox"], base_url=url)
    job = jobs[ids[0]]
    assert job.state == "failed"
    assert "Nothing was sent" in job.error
    assert "TAKESTOCK_GENERICVIDEO_BASE_URL" in job.error
    assert kit.fake.server.count() == 0
    assert kit.free() == 1000


def test_a_key_http_cannot_carry_fails_as_not_sent_without_showing_it(make):
    key = "sk-kéy-0123456789"
    kit = make(key=key)
    jobs, ids = kit.run(["a fox"])
    job = jobs[ids[0]]
    assert (job.state, job.error_kind) == ("failed", "not_sent")
    assert "set the key again" in job.error
    assert key not in job.error
    assert kit.fake.server.count() == 0
    assert kit.free() == 1000


def test_a_create_refused_by_the_transport_fails_as_not_sent(make):
    """A scheme httpx cannot send passes the request hook; the transport refuses it."""
    kit = make()
    engine = kit.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])

    class Mangled(GenericAdapter):
        async def submit(self, ctx, request, client_request_id):
            ctx = type(ctx)(**{**vars(ctx), "base_url": "ftp://127.0.0.1"})
            return await super().submit(ctx, request, client_request_id)

    engine.adapters = {VENDOR_ID: Mangled(kit.adapter.vendor)}
    [job] = asyncio.run(engine.run([job_id]))
    assert (job.state, job.error_kind) == ("failed", "not_sent")
    assert kit.free() == 1000


def test_a_job_whose_vendor_is_gone_fails_and_the_rest_go_on(make):
    kit = make()
    engine = kit.engine()
    _, [a, b] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET], count=2)
    kit.store.execute("UPDATE job SET vendor = 'nosuchvendor' WHERE id = ?", (a,))
    jobs = {j.id: j for j in asyncio.run(engine.run([a, b]))}
    assert jobs[a].state == "failed"
    assert jobs[b].state == "done"


def test_a_poisoned_request_row_never_stops_resume(make):
    kit = make()
    engine = kit.engine()
    _, [a, b] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET], count=2)
    request_id = get_job(kit.store, a).request_id
    kit.store.execute("UPDATE request SET params = '{\"prompt\": 5' WHERE id = ?", (request_id,))
    _, [c] = engine.enqueue(GenerationRequest("a hare", duration_s=2), [TARGET])
    jobs = {j.id: j for j in asyncio.run(engine.run())}
    assert jobs[a].state == jobs[b].state == "failed"
    assert jobs[c].state == "done"
    assert ledger_problems(kit.store) == []


def test_attach_and_resolve_read_the_file_off_the_engine_loop(make, tmp_path):
    kit = make()
    engine = kit.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    kit.store.execute("UPDATE job SET state = 'unknown' WHERE id = ?", (job_id,))
    video = tmp_path / "made.mp4"
    video.write_bytes(VIDEO)
    threads: list[str] = []
    ingest = engine.library.ingest

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return ingest(*args, **kwargs)

    engine.library.ingest = spy  # type: ignore[method-assign]
    job = asyncio.run(engine.resolve_unknown_async(job_id, made=True, path=video))
    assert job.state == "done"
    assert threads
    assert threads[0] != threading.main_thread().name
    assert ledger_problems(kit.store) == []


def test_the_kling_adapter_s_bug_on_a_last_frame_alone_is_contained(tmp_path):
    """A last frame without a first reached Kling's adapter and crashed the run."""
    from takestock.vendors.kling import KlingAdapter
    from tests.vendors.fake_kling import ACCESS_KEY, SECRET_KEY, FakeKling
    from tests.vendors.test_kling import kling_spec

    fake = FakeKling(video=VIDEO)
    server = fake.serve()
    try:
        paths = DataPaths(tmp_path / "home").ensure()
        store = open_store(paths.database)
        spec = kling_spec()
        engine = Engine(
            store,
            MediaLibrary(paths),
            Catalog({"kling": spec}),
            {"kling": KlingAdapter(spec)},
            StaticCredentials({"kling": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}}),
            poll_interval=0.01,
            environ={"TAKESTOCK_KLING_BASE_URL": fake.url},
        )
        target = Target("kling", "kling-v2-6")
        _, [bad] = engine.enqueue(GenerationRequest("x", duration_s=5), [target])
        _, [good] = engine.enqueue(GenerationRequest("a fox", duration_s=5), [target])
        last = tmp_path / "last.png"
        Image.new("RGB", (640, 360), "red").save(last)
        params = json.loads(store.scalar("SELECT params FROM request WHERE id = 1"))
        params["last_frame"] = str(last)  # as an unvalidated request would arrive
        store.execute("UPDATE request SET params = ? WHERE id = 1", (json.dumps(params),))
        jobs = {j.id: j for j in asyncio.run(asyncio.wait_for(engine.run(), 60))}
        assert (jobs[bad].state, jobs[bad].error_kind) == ("failed", "not_sent")
        assert "AttributeError" in jobs[bad].error
        assert jobs[good].state == "done"
        assert fake.count_creates() == 1
        assert not [j for j in list_jobs(store) if j.state in ("submitting", "running")]
    finally:
        server.stop()


def test_a_sandbox_job_with_a_last_frame_alone_no_longer_poisons_resume(home, capsys):
    """The sandbox raised ValueError rendering it; every later resume crashed on it."""
    import sqlite3

    from takestock import cli

    base = ["generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--duration", "1"]
    assert cli.main([*base, "--prompt", "x"]) == 0
    assert cli.main([*base, "--prompt", "a fox"]) == 0
    last = home / "last.png"
    Image.new("RGB", (640, 360), "red").save(last)
    with sqlite3.connect(home / "takestock.sqlite3") as db:  # as an unchecked request would be
        db.execute(
            "UPDATE request SET params = json_set(params, '$.last_frame', ?) WHERE id = 1",
            (str(last),),
        )
        # ... and still queued, as a crash before its create would leave it.
        db.execute("UPDATE job SET state = 'queued', vendor_task_id = NULL WHERE id = 1")
    capsys.readouterr()
    assert cli.main(["jobs", "resume", "--wait"]) == 3
    out = capsys.readouterr()
    assert "takestock: unexpected error" not in out.err
    lines = out.out.splitlines()
    assert lines[0].startswith("job 1")
    assert "failed" in lines[0]
    assert "last_frame needs image" in out.out
    assert any(line.startswith("job 2") and "done" in line for line in lines)
    assert cli.main(["jobs", "resume", "--wait"]) == 0
    assert "No jobs to resume." in capsys.readouterr().out


def test_a_locked_keyring_while_the_vendor_works_leaves_the_job_resumable(make):
    from takestock.core.errors import SecretsUnavailable

    kit = make()
    first = kit.engine()
    _, [job_id] = first.enqueue(GenerationRequest("a fox", duration_s=2), [TARGET])
    asyncio.run(first.run([job_id], until="submitted"))

    class Locked(StaticCredentials):
        def secrets_for(self, vendor_id, fields, account="default"):
            raise SecretsUnavailable("The keyring is locked: unlock it, then resume.")

    locked = kit.engine()
    locked.credentials = Locked({})
    [job] = asyncio.run(locked.run([job_id]))
    assert (job.state, job.error_kind) == ("running", "secrets")
    assert "unlock it" in job.error
    [job] = asyncio.run(kit.engine().run([job_id]))
    assert job.state == "done"
    assert kit.fake.count_creates() == 1
    assert ledger_problems(kit.store) == []
