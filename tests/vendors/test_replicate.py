"""Replicate through the engine, against a fake Replicate: catalog-driven models, faults,
finding a lost create by listing, and refreshing the catalog from model schemas."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import GenerationFailed, InvalidInput, RateLimited, VendorError
from takestock.core.http import RetryPolicy
from takestock.core.jobs import Engine, Job, Target, get_job, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    ResultRef,
    TaskHandle,
    TaskState,
)
from takestock.vendors.replicate import ReplicateAdapter, _Sent, _Target
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_replicate import MODELS, FakeModel, FakeReplicate, version_of

KEY = "r8_test_token"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
VEO = "google/veo-3.1"
KLING = "kwaivgi/kling-v3-video"
HAILUO = "minimax/hailuo-02"
VEO_CREATE = "/v1/models/google/veo-3.1/predictions"
PREDICTION = "/v1/predictions/{id}"


@dataclass
class Kit:
    fake: FakeReplicate
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: ReplicateAdapter
    key: str = KEY

    def engine(self, **kw: Any) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"replicate": self.adapter},
            StaticCredentials({"replicate": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_REPLICATE_BASE_URL": self.fake.url},
            **kw,
        )

    def generate(
        self, request: GenerationRequest | None = None, model: str = VEO, count: int = 1
    ) -> list[Job]:
        request = request or GenerationRequest("a paper boat", duration_s=4, resolution="720p")
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("replicate", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str = VEO, **kw: Any) -> CallContext:
        vendor = self.catalog.vendor("replicate")
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.url,
            "model": vendor.models[model],
            "secrets": {"api_key": self.key},
            **kw,
        }
        fields.setdefault("http", httpx.AsyncClient(timeout=10))
        return CallContext(**fields)

    def with_overrides(self, overrides: dict[str, Any]) -> None:
        """Apply a user's catalog override, as a person would by editing the file."""
        self.paths.catalog_overrides.write_text(json.dumps(overrides))
        self.catalog = load_catalog(self.paths.catalog_overrides)
        self.adapter = ReplicateAdapter(self.catalog.vendor("replicate"))

    @property
    def server(self):
        assert self.fake.server is not None
        return self.fake.server

    def posts(self, path: str = VEO_CREATE) -> int:
        return len(self.server.requests_to("POST", path))


@pytest.fixture
def kit(tmp_path):
    fakes: list[FakeReplicate] = []

    def make(**options: Any) -> Kit:
        fake = FakeReplicate(**{"api_token": KEY, "video": VIDEO, **options})
        fake.serve()
        fakes.append(fake)
        paths = DataPaths(tmp_path / f"kit{len(fakes)}").ensure()
        catalog = load_catalog()
        return Kit(
            fake,
            paths,
            open_store(paths.database),
            catalog,
            ReplicateAdapter(catalog.vendor("replicate")),
        )

    yield make
    for fake in fakes:
        assert fake.server is not None
        fake.server.stop()
    for fake in fakes:
        assert fake.server is not None
        fake.server.check()


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 90, 40)).save(path, fmt)
    return path


def noisy(folder: Path, name: str, size: tuple[int, int] = (800, 600)) -> Path:
    """A PNG far over 256 KiB: random pixels do not compress."""
    path = folder / name
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "PNG")
    return path


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


# ---------------------------------------------------------------------------- happy paths


def test_text_to_video_on_veo_becomes_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", negative="blur", duration_s=6, resolution="720p", aspect="9:16",
        seed=42,
    )  # fmt: skip
    [job] = k.generate(request)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = k.server.requests_to("POST", VEO_CREATE)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["Content-Type"].startswith("application/json")
    assert "Prefer" not in create.headers  # we poll
    assert create.json == {
        "input": {
            "prompt": "a red fox in snow",
            "negative_prompt": "blur",
            "duration": 6,
            "resolution": "720p",
            "aspect_ratio": "9:16",
            # Replicate's default is audio on; silence unless asked.
            "generate_audio": False,
            "seed": 42,
        }
    }
    assert job.estimate == {"amount": 1.2, "unit": "USD", "money": 1.2, "currency": "USD"}
    assert job.vendor_state == "succeeded"
    assert job.cost_actual is None  # Replicate reports GPU time, not the price
    # The output was fetched with the token, as the API reference asks.
    [download] = k.server.requests_to("GET", "/delivery/*")
    assert download.headers["Authorization"] == f"Bearer {KEY}"
    assert k.fake.count_creates() == 1


def test_defaults_are_sent_explicitly(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a kite"))
    done(job)
    assert k.fake.creates[0]["body"]["input"] == {
        "prompt": "a kite",
        "duration": 8,
        "resolution": "1080p",
        "aspect_ratio": "16:9",
        "generate_audio": False,
    }


def test_image_to_video_on_kling_sends_a_small_image_inline(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    request = GenerationRequest(
        "the fox turns", image=first, duration_s=7, resolution="720p", audio=True
    )
    [job] = k.generate(request, model=KLING)
    done(job)
    [create] = k.fake.creates
    assert create["path"] == "/v1/models/kwaivgi/kling-v3-video/predictions"
    assert create["body"]["input"] == {
        "prompt": "the fox turns",
        "start_image": data_url(first, "image/png"),
        "duration": 7,
        "mode": "standard",  # 720p in Kling's words
        "generate_audio": True,
    }  # no aspect_ratio: the first frame decides
    [image] = k.fake.images[job.vendor_task_id]
    assert (image["via"], image["data"]) == ("data_url", first.read_bytes())
    assert k.server.requests_to("POST", "/v1/files") == []


def test_first_and_last_frame_upload_a_large_image_to_replicate_files(kit, tmp_path):
    k = kit()
    first = noisy(tmp_path, "first.png")  # ~1.4 MB: over the data-URL limit
    last = picture(tmp_path, "last.jpg", (800, 600), "JPEG")
    assert first.stat().st_size > 256 * 1024
    request = GenerationRequest("day to night", image=first, last_frame=last, duration_s=6)
    [job] = k.generate(request, model=HAILUO)
    done(job)
    [upload] = k.server.requests_to("POST", "/v1/files")
    assert upload.headers["Authorization"] == f"Bearer {KEY}"
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    [stored] = k.fake.files.values()
    assert (stored.name, stored.content_type, stored.data) == (
        "first.png",
        "image/png",
        first.read_bytes(),
    )
    body = k.fake.creates[0]["body"]["input"]
    assert body == {
        "prompt": "day to night",
        "first_frame_image": f"{k.fake.url}/v1/files/{stored.id}",
        "last_frame_image": data_url(last, "image/jpeg"),
        "duration": 6,
        "resolution": "768p",
    }
    vias = {i["input"]: i["via"] for i in k.fake.images[job.vendor_task_id]}
    assert vias == {"first_frame_image": "file", "last_frame_image": "data_url"}


def test_a_combined_size_input_and_pass_through_options(kit):
    k = kit()
    request = GenerationRequest(
        "a city at night", duration_s=10, resolution="720p", aspect="9:16", seed=7,
        extra={"enable_prompt_expansion": False, "camera_fixed": True},
    )  # fmt: skip
    [job] = k.generate(request, model="wan-video/wan-2.6-t2v")
    done(job)
    assert k.fake.creates[0]["body"]["input"] == {
        "prompt": "a city at night",
        "duration": 10,
        "size": "720*1280",
        "seed": 7,
        "enable_prompt_expansion": False,  # an option this model declares
    }  # camera_fixed belongs to other models: not sent


def test_a_list_output_is_downloaded_too(kit):
    k = kit(output_list=True)
    [job] = k.generate()
    done(job)


def test_the_documented_example_adds_a_model_with_no_code(kit, tmp_path):
    """The catalog's how_to_add_a_model example, applied as a user's override, works."""
    k = kit()
    how_to = load_catalog().vendor("replicate").extra["how_to_add_a_model"]
    k.with_overrides(how_to["example"])
    model = k.catalog.model("replicate", "kwaivgi/kling-v2.1")
    first, last = picture(tmp_path, "a.png"), picture(tmp_path, "b.png")
    # Its rule: an end image needs pro mode (1080p), refused before anything is sent.
    with pytest.raises(InvalidInput, match="an end image needs pro mode") as refused:
        k.adapter.validate(GenerationRequest("x", image=first, last_frame=last), model)
    assert refused.value.field == "resolution"
    request = GenerationRequest(
        "x", image=first, last_frame=last, resolution="1080p", duration_s=10
    )
    [job] = k.generate(request, model="kwaivgi/kling-v2.1")
    done(job)
    assert k.fake.creates[0] == {
        "path": "/v1/models/kwaivgi/kling-v2.1/predictions",
        "body": {
            "input": {
                "prompt": "x",
                "start_image": data_url(first, "image/png"),
                "end_image": data_url(last, "image/png"),
                "duration": 10,
                "mode": "pro",
            }
        },
    }


def test_a_pinned_version_goes_to_the_predictions_endpoint(kit):
    k = kit()
    pinned = f"{VEO}:{version_of(VEO)}"
    k.with_overrides({"replicate": {"models": {VEO: {"extra": {"version": pinned}}}}})
    [job] = k.generate()
    done(job)
    [create] = k.server.requests_to("POST", "/v1/predictions")
    assert create.json["version"] == pinned
    assert create.json["input"]["prompt"] == "a paper boat"
    assert k.posts() == 0
    assert get_job(k.store, job.id).to_json()["vendor_task_id"] == job.vendor_task_id


def test_progress_is_read_from_the_logs(kit):
    k = kit(queued_polls=0, running_polls=3)
    ctx = k.context()

    async def go():
        async with ctx.http:
            handle = await k.adapter.submit(ctx, GenerationRequest("a"), "ts-1")
            return [await k.adapter.poll(ctx, handle) for _ in range(4)]

    states = run(go())
    assert [s.state for s in states] == [TaskState.RUNNING] * 3 + [TaskState.SUCCEEDED]
    assert [s.progress for s in states] == [0.25, 0.5, 0.75, 1.0]
    assert handle_free(states[-1])


def handle_free(status: Any) -> bool:
    return all(KEY not in r.url for r in status.results)


# -------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"api_token": "another"}, "auth", "Unauthenticated: You did not pass a valid"),
        ({"no_credit": True}, "quota", "insufficient credit to run this model. Go to"),
        ({"retired": [VEO]}, "model_retired", "Not found: The requested resource"),
    ],
)
def test_a_refused_create_fails_the_job_with_replicates_words(kit, options, kind, words):
    k = kit(**options)
    [job] = k.generate(GenerationRequest("a fox", duration_s=4))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0
    assert k.posts() == 1


def test_a_retired_model_is_marked_retired_in_the_users_catalog(kit):
    k = kit(retired=[VEO])
    [job] = k.generate()
    assert job.error_kind == "model_retired"
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["replicate"]["models"][VEO]["status"] == "retired"


@pytest.mark.parametrize(
    ("prompt", "kind", "code", "words"),
    [
        ("a fox #nsfw", "rejected", "E005", "flagged as sensitive"),
        ("a fox #fail", "generation_failed", "E1001", "out of memory"),
    ],
)
def test_a_failed_prediction_keeps_replicates_message(kit, prompt, kind, code, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt, duration_s=4))
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", kind, "failed")
    assert words in job.error
    assert job.vendor_task_id
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.poll(ctx, TaskHandle(job.vendor_task_id))

    assert run(go()).error.vendor_code == code
    assert k.fake.count_creates() == 1


def test_a_bad_parameter_is_rejected_with_the_detail(kit):
    k = kit()
    detail = "- input.duration: duration must be one of the following: 4, 6, 8\n"
    k.server.script(
        "POST",
        VEO_CREATE,
        Fault.status(
            422, json={"title": "Input validation failed", "detail": detail, "status": 422}
        ),
    )
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "Input validation failed: - input.duration: duration must be one of" in job.error
    assert k.fake.count_creates() == 0


def test_the_fake_refuses_an_input_the_schema_lacks(kit):
    """Catalog typos cannot pass unseen: the fake refuses unknown input names (422)."""
    k = kit()
    k.with_overrides({"replicate": {"models": {VEO: {"extra": {"fixed": {"frames": 9}}}}}})
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "Additional property frames is not allowed" in job.error


def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    busy = {"title": "Request was throttled", "status": 429,
            "detail": "Request was throttled. Your rate limit resets in ~1s."}  # fmt: skip
    k.server.script(
        "POST", VEO_CREATE, Fault.status(429, retry_after=0.3, json=busy),
        Fault.status(429, retry_after=0.3, json=busy),
    )  # fmt: skip
    [job] = k.generate()
    done(job)
    creates = k.server.requests_to("POST", VEO_CREATE)
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.28
    assert k.fake.count_creates() == 1


def test_a_throttle_without_retry_after_reads_the_reset_from_the_detail(kit, monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    k = kit(rpm=0, retry_after=None)  # every create is throttled
    ctx = k.context()

    async def go():
        async with ctx.http:
            await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")

    with pytest.raises(RateLimited) as refused:
        run(go())
    assert refused.value.retry_after == 60.0  # "resets in ~60s"
    assert refused.value.vendor_code == "Request was throttled"
    assert k.fake.count_creates() == 0


def test_a_concurrency_throttle_queues_the_job_until_it_passes(kit, monkeypatch):
    # Replicate words a concurrency limit as a 429 too; the engine waits and sends again.
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    k = kit()
    many = {"title": "Too many requests", "status": 429,
            "detail": "You have reached the limit of concurrent predictions."}  # fmt: skip
    k.server.script("POST", VEO_CREATE, *[Fault.status(429, json=many)] * 6)
    jobs = k.generate(count=1)
    done(jobs[0])
    assert k.posts() == 7
    assert k.fake.count_creates() == 1


# ---------------------------------------------------------------------- transport faults


def test_a_5xx_to_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", PREDICTION, Fault.status(500), Fault.status(503))
    [job] = k.generate()
    done(job)


def test_a_5xx_to_a_create_is_looked_up_before_anything_is_resent(kit):
    k = kit()
    k.server.script("POST", VEO_CREATE, Fault.status(502))  # refused: nothing made
    [job] = k.generate()
    done(job)
    lookups = k.server.requests_to("GET", "/v1/predictions")
    assert lookups
    assert "created_after" in lookups[0].query
    assert k.posts() == 2
    assert k.fake.count_creates() == 1


def test_a_lost_create_answer_is_found_by_listing_not_sent_twice(kit):
    k = kit(page_size=1)
    # The account's other predictions: another model, another prompt, one from the web.
    now = time.time()
    k.fake.add_prediction(KLING, {"prompt": "a paper boat"}, created_at=now - 5)
    k.fake.add_prediction(VEO, {"prompt": "something else"}, created_at=now - 4)
    same = {"prompt": "a paper boat", "duration": 4, "resolution": "720p",
            "aspect_ratio": "16:9", "generate_audio": False}  # fmt: skip
    k.fake.add_prediction(VEO, same, created_at=now - 3, source="web")
    k.fake.add_prediction(VEO, same, created_at=now - 3600)  # long before our create
    k.server.script("POST", VEO_CREATE, Fault.cut_after(0))  # made; the answer lost
    [job] = k.generate()
    done(job)
    assert k.posts() == 1
    assert k.fake.count_creates() == 1
    made = k.fake.creates[0]
    [ours] = [p for p in k.fake.predictions.values() if p.input is made["body"]["input"]]
    assert job.vendor_task_id == ours.id
    pages = k.server.requests_to("GET", "/v1/predictions")
    assert len(pages) >= 2  # page_size=1: it paged on
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in pages)


def test_a_create_that_never_arrived_is_sent_again_once(kit):
    k = kit()
    k.server.script("POST", VEO_CREATE, Fault.drop())  # closed before the handler ran
    [job] = k.generate()
    done(job)
    assert k.server.requests_to("GET", "/v1/predictions")  # looked first
    assert k.posts() == 2
    assert k.fake.count_creates() == 1


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", VEO_CREATE, Fault.malformed_json())
    [job] = k.generate()
    done(job)
    assert k.fake.count_creates() == 1


def test_fan_out_jobs_each_find_their_own_prediction(kit):
    """Three identical creates; two answers lost: each job ends with a distinct prediction."""
    k = kit()
    k.server.script("POST", VEO_CREATE, Fault.cut_after(0), Fault.cut_after(0))
    jobs = k.generate(count=3)
    assert [j.state for j in jobs] == ["done"] * 3
    assert len({j.vendor_task_id for j in jobs}) == 3
    assert k.fake.count_creates() == 3
    assert k.posts() == 3


def test_after_a_restart_a_lost_create_is_not_guessed(kit):
    """A fresh adapter never saw the input: the job becomes unknown rather than guessed
    or resent, and the user decides."""
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(
        GenerationRequest("a fox", duration_s=4), [Target("replicate", VEO)]
    )
    k.store.execute("UPDATE job SET state = 'submitting' WHERE id = ?", (job_id,))  # a crash
    [job] = asyncio.run(engine.run([job_id]))
    assert (job.state, job.error_kind) == ("unknown", "unknown")
    assert "replicate.com/predictions" in job.error
    assert k.server.count() == 0


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", PREDICTION, Fault.malformed_json())
    [job] = k.generate()
    done(job)


def test_an_expired_result_link_is_fetched_again(kit):
    k = kit()
    k.server.script("GET", "/delivery/*", Fault.status(403, text="Forbidden"))
    [job] = k.generate()
    done(job)
    signatures = {r.query["sig"] for r in k.server.requests_to("GET", "/delivery/*")}
    assert len(signatures) == 2
    assert k.fake.count_creates() == 1


def test_a_link_that_stays_expired_fails_the_job(kit):
    k = kit(url_ttl=0)
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert list(k.paths.incoming.iterdir()) == []
    assert k.fake.count_creates() == 1


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", "/delivery/*", Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate()
    done(job)
    downloads = k.server.requests_to("GET", "/delivery/*")
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()


def test_a_prediction_replicate_no_longer_knows_fails_the_poll(kit):
    k = kit()
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.poll(ctx, TaskHandle("gone0000000000000000000000"))

    with pytest.raises(GenerationFailed, match="no longer knows prediction gone0"):
        run(go())


def test_the_token_never_goes_to_a_foreign_host(kit):
    """Paging follows ``next`` on our own host only; downloads elsewhere carry no token."""
    k = kit()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/predictions" and "cursor" not in request.url.params:
            return httpx.Response(
                200, json={"next": "https://elsewhere.example/v1/predictions?cursor=2",
                           "previous": None, "results": []},
            )  # fmt: skip
        if request.url.path == "/v1/predictions":
            return httpx.Response(200, json={"next": None, "previous": None, "results": []})
        return httpx.Response(200, content=VIDEO)

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            ctx = k.context(http=client, base_url="https://api.replicate.com")
            # As if a create of ours had left and its answer been lost.
            k.adapter._sent["ts-1"] = _Sent(_Target(VEO, None), {"prompt": "x"}, 1.0e9)
            assert await k.adapter.find(ctx, "ts-1") is None
            for url in ("https://replicate.delivery/xezq/out.mp4", "https://cdn.example/out.mp4"):
                await k.adapter.download(ctx, ResultRef(url), k.paths.incoming / "x.part")

    run(go())
    hosts = [(r.url.host, "Authorization" in r.headers) for r in seen]
    assert hosts == [
        ("api.replicate.com", True),
        ("api.replicate.com", True),  # the foreign next link, moved to our host
        ("replicate.delivery", True),
        ("cdn.example", False),
    ]
    assert seen[1].url.params["cursor"] == "2"


# ------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    return [
        (VEO, GenerationRequest("a fox", duration_s=5), "duration"),
        (VEO, GenerationRequest("a fox", resolution="4k"), "resolution"),
        (VEO, GenerationRequest("a fox", aspect="1:1"), "aspect"),
        (VEO, GenerationRequest("   "), "prompt"),
        (VEO, GenerationRequest("x" * 2001), "prompt"),
        (VEO, GenerationRequest("a fox", seed=2**32), "seed"),
        (KLING, GenerationRequest("a fox", seed=1), "seed"),
        (KLING, GenerationRequest("x" * 2501), "prompt"),
        (KLING, GenerationRequest("a fox", duration_s=16), "duration"),
        (KLING, GenerationRequest("a", image=picture(tmp, "small.png", (200, 200))), "image"),
        (KLING, GenerationRequest("a", image=picture(tmp, "wide.png", (1300, 500))), "image"),
        (KLING, GenerationRequest("a", image=ok, last_frame=tmp / "missing.png"), "last_frame"),
        (HAILUO, GenerationRequest("a fox", resolution="1080p", duration_s=10), "duration"),
        (HAILUO, GenerationRequest("a fox", negative="blur"), "negative"),
        (HAILUO, GenerationRequest("a fox", audio=True), "audio"),
        (HAILUO, GenerationRequest("a fox", aspect="9:16"), "aspect"),
        ("minimax/hailuo-2.3", GenerationRequest("a", image=ok, last_frame=ok), "mode"),
        ("wan-video/wan-2.5-i2v", GenerationRequest("a fox"), "mode"),
        ("wan-video/wan-2.5-i2v", GenerationRequest("a", image=ok, aspect="16:9"), "aspect"),
        ("wan-video/wan-2.6-t2v", GenerationRequest("a", image=ok), "mode"),
        ("bytedance/seedance-1.5-pro", GenerationRequest("a", duration_s=3), "duration"),
        ("bytedance/seedance-1.5-pro", GenerationRequest("a", extra={"camera_fixed": [1]}),
         "camera_fixed"),
        ("luma/ray-2-720p", GenerationRequest("a", duration_s=6), "duration"),
        ("kwaivgi/kling-v2.1-master", GenerationRequest("a", image=ok, last_frame=ok), "mode"),
        ("openai/sora-2", GenerationRequest("a"), "model"),  # retired
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("replicate", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_a_broken_catalog_entry_is_refused_with_what_to_fix(kit):
    k = kit()
    cases = [
        ({"extra": {"model": "not-a-model"}}, "owner/name"),
        ({"extra": {"version": "owner/name:abc"}}, "64-hex"),
        ({"extra": {"inputs": {"prompt": "prompt", "fps": "fps"}}}, "extra.inputs has ['fps']"),
        ({"extra": {"inputs": {"prompt": {"name": "prompt", "as": "list"}}}}, "'as' must be"),
    ]
    for override, words in cases:
        k.with_overrides({"replicate": {"models": {VEO: override}}})
        model = k.catalog.model("replicate", VEO)
        with pytest.raises(InvalidInput, match=re.escape(words)):
            k.adapter.validate(GenerationRequest("a fox"), model)
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("replicate").models
    ok = picture(tmp_path, "ok.png")
    for model, request in [
        (VEO, GenerationRequest("a", image=ok, last_frame=ok, duration_s=8, audio=True, seed=0)),
        (KLING, GenerationRequest("a", duration_s=15, aspect="1:1", negative="blur")),
        (HAILUO, GenerationRequest("a", resolution="768p", duration_s=10)),
        (HAILUO, GenerationRequest("a", resolution="1080p", duration_s=6)),
        ("wan-video/wan-2.6-t2v", GenerationRequest("a", resolution="1080p", aspect="9:16")),
        ("bytedance/seedance-1.5-pro",
         GenerationRequest("a", aspect="9:21", extra={"camera_fixed": True})),
        ("luma/ray-2-720p", GenerationRequest("a", image=ok, last_frame=ok, duration_s=9)),
    ]:  # fmt: skip
        k.adapter.validate(request, models[model])


# ----------------------------------------------------------------- cancel and balance


def test_cancel_stops_the_prediction_at_replicate(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("replicate", VEO)])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.status_of(job.vendor_task_id) == "canceled"
    [cancel] = k.server.requests_to("POST", "/v1/predictions/{id}/cancel")
    assert cancel.path == f"/v1/predictions/{job.vendor_task_id}/cancel"
    assert cancel.headers["Authorization"] == f"Bearer {KEY}"


def test_a_prediction_canceled_elsewhere_ends_the_job_cancelled(kit):
    k = kit(queued_polls=2)
    ctx = k.context()

    async def go():
        async with ctx.http:
            handle = await k.adapter.submit(ctx, GenerationRequest("a"), "ts-1")
            assert await k.adapter.cancel(ctx, handle)
            return await k.adapter.poll(ctx, handle)

    status = run(go())
    assert (status.state, status.vendor_state) == (TaskState.CANCELLED, "canceled")


def test_there_is_no_balance_endpoint(kit):
    k = kit()
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.balance(ctx)

    assert run(go()) is None
    assert k.server.count() == 0


# ------------------------------------------------------------------ the model list


def test_refresh_reads_limits_from_schemas_and_retires_what_is_gone(kit, monkeypatch):
    hailuo = MODELS["minimax/hailuo-2.3"]
    monkeypatch.setitem(
        MODELS,
        hailuo.name,
        FakeModel(hailuo.name, {**hailuo.inputs, "duration": {"enum": [6, 10, 15], "default": 10}}),
    )
    k = kit(retired=["luma/ray-2-720p"])
    changes = asyncio.run(k.engine().refresh_models("replicate"))
    assert changes is not None
    assert changes["retired"] == []  # every catalog model was answered for
    assert "luma/ray-2-720p" in changes["updated"]
    catalog = load_catalog(k.paths.catalog_overrides)
    models = catalog.vendor("replicate").models
    assert models["luma/ray-2-720p"].status == "retired"
    assert "Replicate answered 404" in models["luma/ray-2-720p"].status_note
    assert models["minimax/hailuo-2.3"].durations == (6.0, 10.0, 15.0)
    assert models["minimax/hailuo-2.3"].default_duration == 10.0
    # Integer ranges become lists; enums behind Cog's allOf refs are followed.
    assert models[KLING].durations == tuple(float(d) for d in range(3, 16))
    assert models["bytedance/seedance-1.5-pro"].durations[0] == 2.0
    assert models[VEO].aspects == ("16:9", "9:16")
    assert models[VEO].default_resolution == "1080p"
    # Mapped values are read back in our terms: Kling's mode standard/pro is 720p/1080p.
    assert dict(models[KLING].resolutions) == {"720p": 720, "1080p": 1080}
    assert models[KLING].default_resolution == "1080p"
    # wan 2.6's size pairs are not a plain list: left as the catalog has them.
    assert models["wan-video/wan-2.6-t2v"].aspects == ("16:9", "9:16")
    # Retired in the shipped catalog: not asked about, not touched.
    assert models["openai/sora-2"].status == "retired"
    looked = {r.path for r in k.server.requests}
    assert "/v1/models/openai/sora-2" not in looked
    assert "/v1/models/google/veo-3.1" in looked


def test_refresh_fails_loudly_on_a_server_error_rather_than_retiring(kit, monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    k = kit()
    k.server.script_always("GET", "/v1/models/minimax/hailuo-02", Fault.status(500))
    with pytest.raises(VendorError):
        asyncio.run(k.engine().refresh_models("replicate"))
    assert not k.paths.catalog_overrides.exists()


def test_refresh_reads_a_pinned_version(kit):
    k = kit()
    pinned = f"{HAILUO}:{version_of(HAILUO)}"
    k.with_overrides({"replicate": {"models": {HAILUO: {"extra": {"version": pinned}}}}})
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.list_models(ctx)

    entries = {e["id"]: e for e in run(go())}
    assert entries[HAILUO]["resolutions"] == {"512p": 512, "768p": 768, "1080p": 1080}
    assert entries[HAILUO]["default_resolution"] == "1080p"
    assert k.server.requests_to("GET", f"/v1/models/{HAILUO}/versions/{version_of(HAILUO)}")


# ----------------------------------------------------------------------------- the CLI


def _cli(home: Path, fake: FakeReplicate, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_REPLICATE_BASE_URL": fake.url,
        "TAKESTOCK_REPLICATE_API_KEY": KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_and_refuses_a_bad_duration(kit, home):
    k = kit()
    result = _cli(
        home, k.fake, "generate", "--vendor", "replicate", "--model", VEO,
        "--prompt", "a lighthouse at dusk", "--duration", "4", "--resolution", "720p",
        "--aspect", "9:16", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert k.fake.creates[0]["body"]["input"]["aspect_ratio"] == "9:16"

    refused = _cli(
        home, k.fake, "generate", "--vendor", "replicate", "--model", VEO,
        "--prompt", "a fox", "--duration", "5", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1


@pytest.mark.slow
def test_the_cli_refreshes_the_catalog_from_replicate(kit, home):
    k = kit(retired=[HAILUO])
    result = _cli(home, k.fake, "vendors", "refresh", "replicate", "--json")
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)
    assert VEO in changes["updated"] + changes["unchanged"]
    assert changes["retired"] == []
    overrides = json.loads((home / "catalog-overrides.json").read_text())
    assert overrides["replicate"]["models"][HAILUO]["status"] == "retired"
    refused = _cli(
        home, k.fake, "generate", "--vendor", "replicate", "--model", HAILUO,
        "--prompt", "a fox", "--json",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "retired" in refused.stderr


def test_every_catalog_model_maps_its_fields_onto_the_fakes_schema():
    """Each shipped model's inputs name inputs its schema has (the fake mirrors the
    models' API pages), so a rename at Replicate shows up here first."""
    vendor = load_catalog().vendor("replicate")
    assert vendor.base_urls == {"default": "https://api.replicate.com"}
    for model in vendor.models.values():
        if not model.available:
            continue
        schema = MODELS[model.extra["model"]].inputs
        for field, spec in model.extra["inputs"].items():
            name = spec if isinstance(spec, str) else spec["name"]
            assert name in schema, (model.id, field, name)
        for name in (*model.extra.get("options", ()), *model.extra.get("fixed", {})):
            assert name in schema, (model.id, name)
        assert model.default_resolution in model.resolutions
