"""Random requests and random faults through the real engine: every job ends final or
resumable (a resume with the faults gone settles it), the ledger's invariants hold, and
a CLI ``jobs resume`` always exits 0, 3 or 4.

Run with ``-s`` to see the figures. ``TAKESTOCK_FUZZ_ROUNDS`` (default 6) and
``TAKESTOCK_FUZZ_SEED`` scale and replay a run.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from takestock import cli
from takestock.core import credits
from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import InvalidInput
from takestock.core.jobs import ACTIVE_STATES, FINAL_STATES, Engine, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import open_store
from takestock.core.vendor import GenerationRequest
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.support.generic_adapter import VENDOR_ID, GenericAdapter, generic_spec
from tests.support.ledger import ledger_problems

ROUNDS = int(os.environ.get("TAKESTOCK_FUZZ_ROUNDS", "6"))
SEED = int(os.environ.get("TAKESTOCK_FUZZ_SEED", "20261206"))
VIDEO = tiny_mp4(seconds=1.0, width=160, height=90)
KEY = "fuzz-key-0123456789"
TARGET = Target(VENDOR_ID, "gv-1", "acct")
STEPS = ("submit_before", "submit_after", "poll", "find", "download")


class FaultyAdapter(GenericAdapter):
    """The generic adapter, breaking at random in any step while ``rate`` > 0."""

    def __init__(self, vendor, rng: random.Random, tally: Counter[str]) -> None:
        super().__init__(vendor)
        self.rng, self.tally, self.rate = rng, tally, 0.04

    def _maybe(self, step: str) -> None:
        if self.rate and self.rng.random() < self.rate:
            self.tally[f"exception in {step}"] += 1
            raise self.rng.choice([RuntimeError, ValueError, KeyError, OSError])(step)

    async def submit(self, ctx, request, client_request_id):
        self._maybe("submit_before")
        handle = await super().submit(ctx, request, client_request_id)
        self._maybe("submit_after")
        return handle

    async def poll(self, ctx, handle):
        self._maybe("poll")
        return await super().poll(ctx, handle)

    async def find(self, ctx, client_request_id):
        self._maybe("find")
        return await super().find(ctx, client_request_id)

    async def download(self, ctx, result, dest):
        self._maybe("download")
        await super().download(ctx, result, dest)


SERVER_FAULTS = {
    "create 429": ("POST", "/v1/tasks", lambda: Fault.status(429, retry_after=0.01)),
    "create 500": ("POST", "/v1/tasks", lambda: Fault.status(500)),
    "create answer cut": ("POST", "/v1/tasks", lambda: Fault.cut_after(0)),
    "create dropped": ("POST", "/v1/tasks", lambda: Fault.drop()),
    "create malformed": ("POST", "/v1/tasks", lambda: Fault.malformed_json()),
    "poll 503": ("GET", "/v1/tasks/{id}", lambda: Fault.status(503)),
    "poll malformed": ("GET", "/v1/tasks/{id}", lambda: Fault.malformed_json()),
    "link expired": ("GET", "/files/*", lambda: Fault.status(403)),
    "download cut": ("GET", "/files/*", lambda: Fault.cut_after(100)),
    "download truncated": ("GET", "/files/*", lambda: Fault.truncate(200)),
}
PROMPTS = ["a fox", "a heron at dusk", "a red kite", "a fox #fail", "a fox #nsfw", "", "x" * 2100]


def _random_request(rng: random.Random) -> tuple[GenerationRequest, int]:
    duration = rng.choice([1, 2, 5, 1, 2, 5, 3])  # 3 s is refused by the catalog
    return GenerationRequest(rng.choice(PROMPTS), duration_s=duration), rng.choice([1, 1, 2])


async def _cancel_at_random(engine: Engine, ids: list[int], rng: random.Random, tally) -> None:
    for job_id in rng.sample(ids, k=len(ids) // 4):
        await asyncio.sleep(rng.uniform(0, 0.3))
        try:
            await engine.cancel(job_id)
            tally["cancel"] += 1
        except InvalidInput:
            tally["cancel after the end"] += 1


def _round(root: Path, fake, rng: random.Random, figures: Counter[str]) -> None:
    paths = DataPaths(root).ensure()
    spec = generic_spec()
    catalog = Catalog({**load_catalog().vendors, spec.id: spec})
    store = open_store(paths.database)
    account = credits.add_account(store, {}, vendor=VENDOR_ID, name="acct", kind="api")
    credits.adjust(store, account.id, 10_000, "fuzz credits")
    faults: Counter[str] = Counter()
    adapter = FaultyAdapter(spec, rng, faults)
    engine = Engine(
        store,
        MediaLibrary(paths),
        catalog,
        {VENDOR_ID: adapter},
        StaticCredentials({VENDOR_ID: {"api_key": KEY}}),
        poll_interval=0.01,
        environ={"TAKESTOCK_GENERICVIDEO_BASE_URL": fake.url},
    )
    ids: list[int] = []
    for _ in range(rng.randint(4, 9)):
        request, count = _random_request(rng)
        figures["requests"] += 1
        try:
            ids += engine.enqueue(request, [TARGET], count=count)[1]
        except InvalidInput:
            figures["refused as bad input"] += 1
    for _ in range(rng.randint(1, 6)):
        name = rng.choice(sorted(SERVER_FAULTS))
        method, path, fault = SERVER_FAULTS[name]
        fake.server.script(method, path, fault())
        faults[name] += 1

    async def drive() -> None:
        await asyncio.gather(engine.run(ids), _cancel_at_random(engine, ids, rng, faults))

    asyncio.run(asyncio.wait_for(drive(), 120))
    # Whatever is still active must be resumable: with the faults gone, a resume ends it.
    fake.server.clear_scripts()
    adapter.rate = 0
    asyncio.run(asyncio.wait_for(engine.run(), 120))
    jobs = list_jobs(store)
    left = [(j.id, j.state, j.error) for j in jobs if j.state in ACTIVE_STATES]
    assert not left, left
    assert all(j.state in FINAL_STATES or j.state == "unknown" for j in jobs)
    assert ledger_problems(store) == []
    figures["jobs"] += len(jobs)
    figures.update(f"ended {j.state}" for j in jobs)
    figures.update(f"  failed as {j.error_kind}" for j in jobs if j.state == "failed")
    figures.update(f"fault: {k}" for k in faults.elements())
    store.close()


def test_random_requests_and_faults_leave_every_job_settled(tmp_path, generic_vendor):
    rng = random.Random(SEED)
    figures: Counter[str] = Counter()
    for n in range(ROUNDS):
        fake = generic_vendor(video=VIDEO, api_key=KEY, credits=1e9, queued_polls=1)
        _round(tmp_path / f"round{n}", fake, rng, figures)
        fake.server.stop()
    print(f"\nengine fuzz (seed {SEED}, {ROUNDS} rounds):")
    for name, count in sorted(figures.items()):
        print(f"  {name}: {count}")
    assert figures["jobs"] > 0


def _poison(home: Path, rng: random.Random, tally: Counter[str]) -> None:
    """Damage what a crash or a bad input could leave in the rows the CLI resumes."""
    with sqlite3.connect(home / "takestock.sqlite3") as db:
        rows = db.execute("SELECT id, request_id FROM job").fetchall()
        for job_id, request_id in rng.sample(rows, k=min(len(rows), 2)):
            how = rng.choice(["params", "last_frame", "state", "vendor"])
            tally[f"poisoned {how}"] += 1
            if how == "params":
                db.execute("UPDATE request SET params = '{' WHERE id = ?", (request_id,))
            elif how == "last_frame":
                db.execute(
                    "UPDATE request SET params = json_set(params, '$.last_frame', ?) WHERE id = ?",
                    (str(home / "nowhere.png"), request_id),
                )
            elif how == "state":
                db.execute("UPDATE job SET state = 'submitting' WHERE id = ?", (job_id,))
            else:
                db.execute("UPDATE job SET vendor = 'gone' WHERE id = ?", (job_id,))


@pytest.mark.parametrize("seed", range(3))
def test_cli_resume_always_exits_0_3_or_4(home, capsys, seed):
    rng = random.Random(SEED + seed)
    tally: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    for _ in range(3):
        prompt = rng.choice(["a fox", "a fox #fail", "a fox #nsfw", "a heron"])
        code = cli.main(
            ["generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", prompt,
             "--duration", "1", "--count", str(rng.randint(1, 2))]
        )  # fmt: skip
        assert code in (0, 3, 4)
    _poison(home, rng, tally)
    for args in (["--wait", "--timeout", str(rng.choice([0.2, 1.0]))], [], ["--wait"]):
        code = cli.main(["jobs", "resume", *args])
        codes[code] += 1
        assert code in (0, 3, 4), capsys.readouterr()
    out = capsys.readouterr()
    assert "takestock: unexpected error" not in out.err  # the CLI never crashed
    print(f"\nCLI resume fuzz (seed {SEED + seed}): {dict(tally)}, exit codes {dict(codes)}")
