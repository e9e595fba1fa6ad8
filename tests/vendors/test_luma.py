"""Luma (Agents API and legacy Dream Machine API) through the engine, against a fake Luma."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import GenerationFailed, InvalidInput, RateLimited
from takestock.core.http import RetryPolicy
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle
from takestock.vendors.luma import LumaAdapter
from tests.fakeserver import FakeServer, Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_luma import FakeLuma

KEY = "luma-api-test-key"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
RAY3 = "ray-3.2"
RAY2 = "ray-2"
AGENTS = "/v1/generations"
DM_CREATE = "/dream-machine/v1/generations/video"
DM_GEN = "/dream-machine/v1/generations/{id}"
CDN = "/cdn/*"


@dataclass
class Kit:
    fake: FakeLuma
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: LumaAdapter
    key: str = KEY

    def engine(self, **kw: Any) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"luma": self.adapter},
            StaticCredentials({"luma": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_LUMA_BASE_URL": self.fake.url},
            **kw,
        )

    def generate(
        self, request: GenerationRequest | None = None, model: str = RAY3, count: int = 1
    ) -> list[Job]:
        request = request or GenerationRequest("a paper boat", resolution="540p")
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("luma", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str | None = RAY3, **kw: Any) -> CallContext:
        vendor = self.catalog.vendor("luma")
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.url,
            "model": vendor.models[model] if model else None,
            "secrets": {"api_key": self.key},
            **kw,
        }
        if "http" not in fields:
            fields["http"] = httpx.AsyncClient(timeout=10)
        return CallContext(**fields)

    def call(self, ctx: CallContext, make: Any) -> Any:
        async def go() -> Any:
            async with ctx.http:
                return await make()

        return asyncio.run(go())

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def posts(self, path: str = AGENTS) -> int:
        return len(self.server.requests_to("POST", path))


@pytest.fixture
def kit(tmp_path):
    servers = []

    def make(**options: Any) -> Kit:
        fake = FakeLuma(**{"api_key": KEY, "video": VIDEO, **options})
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / "kit").ensure()
        catalog = load_catalog()
        return Kit(
            fake, paths, open_store(paths.database), catalog, LumaAdapter(catalog.vendor("luma"))
        )

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


@pytest.fixture
def instant_backoff(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (40, 120, 200)).save(path, fmt)
    return path


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


def luma_detail(message: str) -> dict[str, Any]:
    return {"detail": message}


# ------------------------------------------------------------------ Agents API (ray-3.2)


def test_text_to_video_on_the_agents_api_becomes_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", duration_s=10, resolution="1080p", aspect="9:16"
    )
    [job] = k.generate(request)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = k.server.requests_to("POST", AGENTS)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["Content-Type"].startswith("application/json")
    assert create.json == {
        "model": "ray-3.2",
        "type": "video",
        "prompt": "a red fox in snow",
        "aspect_ratio": "9:16",
        "video": {"resolution": "1080p", "duration": "10s"},
    }
    assert job.vendor_state == "completed"
    # 1080p: $1.20 per 5 s block, two blocks.
    assert job.estimate == {"amount": 240.0, "unit": "USD cents", "money": 2.4, "currency": "USD"}
    assert k.fake.count_creates() == 1
    assert k.server.count("*", "/dream-machine") == 0


def test_image_to_video_sends_the_local_frame_inline(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    [job] = k.generate(GenerationRequest("she turns and smiles", image=first, resolution="720p"))
    done(job)
    [(surface, body)] = k.fake.creates
    assert surface == "agents"
    assert body == {
        "model": "ray-3.2",
        "type": "video",
        "prompt": "she turns and smiles",
        "video": {
            "resolution": "720p",
            "duration": "5s",
            "start_frame": {"data": b64(first), "media_type": "image/png"},
        },
    }  # no aspect_ratio: the frame sets it
    [gen] = k.fake.generations.values()
    assert gen.images == [
        {
            "field": "start_frame",
            "format": "image/png",
            "width": 640,
            "height": 360,
            "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
        }
    ]


def test_first_and_last_frame_with_a_url_and_a_file(kit, tmp_path):
    k = kit()
    last = picture(tmp_path, "last.jpg", (800, 600), "JPEG")
    request = GenerationRequest(
        "the door opens",
        last_frame=last,
        aspect="4:3",
        extra={"image_url": "https://example.com/first.jpg", "loop": False},
    )
    [job] = k.generate(request)
    done(job)
    [(_, body)] = k.fake.creates
    assert body["aspect_ratio"] == "4:3"
    assert body["video"] == {
        "resolution": "720p",
        "duration": "5s",
        "start_frame": {"url": "https://example.com/first.jpg"},
        "end_frame": {"data": b64(last), "media_type": "image/jpeg"},
    }


def test_extend_and_reverse_extend_by_generation_id(kit):
    k = kit()
    prior = k.fake.add_completed("agents", RAY3)
    [forward] = k.generate(
        GenerationRequest("the camera keeps rising", extra={"extend_generation_id": prior})
    )
    [backward] = k.generate(
        GenerationRequest("how it began", extra={"reverse_extend_generation_id": prior})
    )
    done(forward)
    done(backward)
    (_, first), (_, second) = k.fake.creates
    assert first["video"]["start_frame"] == {"generation_id": prior}
    assert second["video"]["end_frame"] == {"generation_id": prior}
    assert "end_frame" not in first["video"]
    assert "start_frame" not in second["video"]


def test_hdr_and_exr_are_sent_and_priced(kit):
    k = kit()
    request = GenerationRequest(
        "neon rain", resolution="1080p", extra={"hdr": True, "exr_export": True}
    )
    [job] = k.generate(request)
    done(job)
    [(_, body)] = k.fake.creates
    assert body["video"] == {
        "resolution": "1080p",
        "duration": "5s",
        "hdr": True,
        "exr_export": True,
    }
    assert job.estimate["amount"] == 360.0
    assert k.fake.credits == 100_000 - 360


# -------------------------------------------------------- Dream Machine API (legacy ray-2)


def test_text_to_video_on_dream_machine_uses_its_own_paths(kit):
    k = kit()
    request = GenerationRequest("an old lighthouse", duration_s=9, resolution="540p", aspect="21:9")
    [job] = k.generate(request, model=RAY2)
    done(job)
    [create] = k.server.requests_to("POST", DM_CREATE)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.json == {
        "model": "ray-2",
        "prompt": "an old lighthouse",
        "aspect_ratio": "21:9",
        "duration": "9s",
        "resolution": "540p",
    }
    polls = k.server.requests_to("GET", DM_GEN)
    assert {r.path for r in polls} == {f"/dream-machine/v1/generations/{job.vendor_task_id}"}
    assert job.vendor_state == "completed"
    assert job.estimate == {"amount": 72.0, "unit": "USD cents", "money": 0.72, "currency": "USD"}
    assert k.posts(AGENTS) == 0


def test_dream_machine_keyframes_take_image_urls(kit):
    k = kit()
    request = GenerationRequest(
        "a tiger walks",
        extra={
            "image_url": "https://cdn.example.com/a.jpg",
            "end_image_url": "https://cdn.example.com/b.jpg",
        },
    )
    [job] = k.generate(request, model="ray-flash-2")
    done(job)
    [(surface, body)] = k.fake.creates
    assert surface == "dream_machine"
    assert body == {
        "model": "ray-flash-2",
        "prompt": "a tiger walks",
        "duration": "5s",
        "resolution": "720p",
        "keyframes": {
            "frame0": {"type": "image", "url": "https://cdn.example.com/a.jpg"},
            "frame1": {"type": "image", "url": "https://cdn.example.com/b.jpg"},
        },
    }


def test_dream_machine_extends_forwards_and_backwards(kit):
    k = kit()
    prior = k.fake.add_completed("dream_machine", RAY2)
    [forward] = k.generate(
        GenerationRequest("it flies on", extra={"extend_generation_id": prior, "loop": True}),
        model=RAY2,
    )
    [backward] = k.generate(
        GenerationRequest("before the jump", extra={"reverse_extend_generation_id": prior}),
        model=RAY2,
    )
    done(forward)
    done(backward)
    (_, first), (_, second) = k.fake.creates
    assert first["keyframes"] == {"frame0": {"type": "generation", "id": prior}}
    assert first["loop"] is True
    assert second["keyframes"] == {"frame1": {"type": "generation", "id": prior}}


def test_a_local_image_is_refused_for_dream_machine_with_what_to_do(kit, tmp_path):
    k = kit()
    with pytest.raises(InvalidInput) as refused:
        k.engine().enqueue(
            GenerationRequest("a tiger", image=picture(tmp_path, "a.png")), [Target("luma", RAY2)]
        )
    assert refused.value.field == "image"
    assert "public https URL" in refused.value.message
    assert "--extra image_url=" in refused.value.message
    assert k.server.count() == 0


# ------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("model", "prompt", "kind", "words"),
    [
        (RAY3, "a fox #nsfw", "rejected", "violated content guidelines (content_moderated)"),
        (RAY3, "a fox #fail", "generation_failed", "(generation_failed)"),
        (RAY3, "a fox #budget", "quota", "(budget_exhausted)"),
        (RAY2, "a fox #nsfw", "rejected", "Advanced prompt moderation failed"),
        (RAY2, "a fox #fail", "generation_failed", "Luma AI: Job failed"),
    ],
)
def test_a_failed_generation_keeps_lumas_reason(kit, model, prompt, kind, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt, resolution="720p"), model=model)
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", kind, "failed")
    assert words in job.error
    assert job.vendor_task_id
    assert k.fake.count_creates() == 1
    assert k.fake.credits == 100_000  # Luma refunds a failed generation


@pytest.mark.parametrize(
    ("model", "options", "kind", "words"),
    [
        (RAY3, {"api_key": "another"}, "auth", "Invalid API key provided (HTTP 401)"),
        (RAY2, {"api_key": "another"}, "auth", "Invalid API key provided (HTTP 401)"),
        (RAY3, {"credits": 1}, "quota", "Insufficient credits (HTTP 402)"),
        (RAY2, {"credits": 1}, "quota", "Insufficient credits (HTTP 400)"),
    ],
)
def test_a_refused_create_fails_the_job_with_lumas_words(kit, model, options, kind, words):
    k = kit(**options)
    [job] = k.generate(GenerationRequest("a fox", resolution="720p"), model=model)
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (400, luma_detail("video.resolution 4k is not supported"), "rejected", "4k is not"),
        (
            422,
            {"detail": [{"loc": ["body", "video", "duration"], "msg": "bad", "type": "x"}]},
            "rejected",
            "video.duration: bad",
        ),
        (422, luma_detail("Bad image data (base64 or URL)"), "rejected", "Bad image data"),
        (413, luma_detail("Input media exceeds size limit"), "rejected", "exceeds size limit"),
        (403, luma_detail("Access denied: client suspended"), "auth", "client suspended"),
        (400, luma_detail("Prompt not allowed: moderation failed"), "rejected", "moderation"),
        (404, luma_detail("Not Found"), "rejected", "Not Found"),  # not a retired model
        (400, luma_detail("hdr is not supported for model ray-3.2"), "rejected", "hdr is not"),
        (400, luma_detail("Model ray-3.2 is no longer available"), "model_retired", "no longer"),
    ],
)
def test_create_errors_map_into_the_error_tree(kit, status, body, kind, words):
    k = kit()
    k.server.script("POST", AGENTS, Fault.status(status, json=body))
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert f"(HTTP {status})" in job.error
    assert k.fake.count_creates() == 0


def test_an_unknown_model_is_marked_retired(kit):
    k = kit(retired_models=[RAY2])
    [job] = k.generate(GenerationRequest("a fox"), model=RAY2)
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "model: Input should be 'ray-flash-2'" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["luma"]["models"][RAY2]["status"] == "retired"


def test_a_closed_dream_machine_api_retires_its_model(kit):
    k = kit(dream_machine_gone=True)
    [job] = k.generate(GenerationRequest("a fox"), model="ray-flash-2")
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "Not Found (HTTP 404)" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["luma"]["models"]["ray-flash-2"]["status"] == "retired"


def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    busy = luma_detail("Rate limit exceeded")
    k.server.script(
        "POST",
        AGENTS,
        Fault.status(429, retry_after=0.3, json=busy),
        Fault.status(429, retry_after=0.3, json=busy),
    )
    [job] = k.generate()
    done(job)
    creates = k.server.requests_to("POST", AGENTS)
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.28
    assert creates[2].at - creates[1].at >= 0.28
    assert k.fake.count_creates() == 1


@pytest.mark.parametrize("retry_after", [None, 0.05])
def test_the_concurrency_limit_queues_the_take_until_a_slot_frees(
    kit, instant_backoff, retry_after
):
    k = kit(max_concurrent=1, retry_after=retry_after, queued_polls=1, processing_polls=3)
    jobs = k.generate(count=2, model=RAY2, request=GenerationRequest("a fox"))
    assert [j.state for j in jobs] == ["done", "done"]
    assert k.fake.peak_active == 1
    assert k.fake.count_creates() == 2
    assert k.posts(DM_CREATE) > 2  # refused with 429 at least once, then sent again


def test_a_429_that_persists_is_rate_limited_with_its_retry_after(kit):
    k = kit(max_concurrent=0, retry_after=0)
    ctx = k.context()
    with pytest.raises(RateLimited) as refused:
        k.call(ctx, lambda: k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1"))
    assert (refused.value.vendor_code, refused.value.retry_after) == ("429", 0.0)
    assert "Concurrent generation limit reached" in refused.value.message
    assert k.fake.count_creates() == 0


# ---------------------------------------------------------------------- transport faults


def test_a_5xx_to_a_poll_is_retried(kit, instant_backoff):
    k = kit()
    k.server.script("GET", AGENTS + "/{id}", Fault.status(502), Fault.status(503))
    [job] = k.generate()
    done(job)


def test_a_5xx_to_a_create_becomes_unknown_and_is_never_resent(kit):
    k = kit()
    k.server.script("POST", DM_CREATE, Fault.status(500, json=luma_detail("Internal error")))
    [job] = k.generate(GenerationRequest("a fox"), model=RAY2)
    assert job.state == "unknown"
    assert "never learned" in job.error
    assert k.posts(DM_CREATE) == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_not_a_second_charge(kit):
    k = kit()
    k.server.script("POST", AGENTS, Fault.cut_after(0))  # Luma made it; we never heard
    [job] = k.generate()
    assert job.state == "unknown"
    assert "cannot look tasks up by our id" in job.error
    assert k.fake.count_creates() == 1
    assert k.posts() == 1
    assert k.adapter.can_find is False


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", AGENTS, Fault.malformed_json(201))
    [job] = k.generate()
    assert job.state == "unknown"
    assert k.posts() == 1


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", DM_GEN, Fault.malformed_json())
    [job] = k.generate(GenerationRequest("a fox"), model=RAY2)
    done(job)


def test_a_poll_that_never_makes_sense_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", AGENTS + "/{id}", Fault.malformed_json())
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_expired_result_link_is_presigned_again(kit):
    k = kit()
    expired = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    k.server.script("GET", CDN, Fault.status(403, text=expired))
    [job] = k.generate()
    done(job)
    signatures = {r.query["X-Amz-Signature"] for r in k.server.requests_to("GET", CDN)}
    assert len(signatures) == 2
    assert k.fake.count_creates() == 1


def test_a_link_that_stays_expired_fails_the_job(kit):
    k = kit(url_ttl=0)
    [job] = k.generate(GenerationRequest("a fox"), model=RAY2)
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert list(k.paths.incoming.iterdir()) == []
    assert k.fake.count_creates() == 1


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", CDN, Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate()
    done(job)
    downloads = k.server.requests_to("GET", CDN)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()


def test_a_generation_luma_no_longer_has_fails_the_poll(kit):
    k = kit()
    ctx = k.context(RAY2)
    gone = TaskHandle("5f0c2a6e-1111-4e4e-9999-000000000000", {"surface": "dream_machine"})
    with pytest.raises(GenerationFailed) as failed:
        k.call(ctx, lambda: k.adapter.poll(ctx, gone))
    assert failed.value.vendor_code == "404"
    assert "no longer has generation 5f0c2a6e" in failed.value.message


# ------------------------------------------------------------------------- validation


def _refusals(tmp: Path, prior: str) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    url = "https://example.com/a.jpg"
    return [
        (RAY3, GenerationRequest("a fox", duration_s=9), "duration"),
        (RAY2, GenerationRequest("a fox", duration_s=10), "duration"),
        (RAY3, GenerationRequest("a fox", resolution="4k"), "resolution"),
        (RAY2, GenerationRequest("a fox", resolution="360p"), "resolution"),
        (RAY3, GenerationRequest("a fox", aspect="9:21"), "aspect"),
        (RAY3, GenerationRequest("a fox", audio=True), "audio"),
        (RAY3, GenerationRequest("a fox", seed=1), "seed"),
        (RAY2, GenerationRequest("a fox", negative="blur"), "negative"),
        (RAY3, GenerationRequest("x" * 6001), "prompt"),
        (RAY2, GenerationRequest("x" * 5001), "prompt"),
        (RAY2, GenerationRequest("ab"), "prompt"),  # Dream Machine: at least 3 characters
        (RAY3, GenerationRequest("", image=ok), "prompt"),  # the Agents API needs a prompt
        (RAY3, GenerationRequest("a fox", image=ok, duration_s=10), "duration"),
        (RAY3, GenerationRequest("a fox", duration_s=10, extra={"extend_generation_id": prior}),
         "duration"),
        (RAY3, GenerationRequest("a fox", duration_s=10, extra={"loop": True}), "loop"),
        (RAY3, GenerationRequest("a fox", last_frame=ok, extra={"loop": True}), "loop"),
        (RAY2, GenerationRequest("a fox", extra={"end_image_url": url, "loop": True}), "loop"),
        (RAY2, GenerationRequest("a fox", extra={"reverse_extend_generation_id": prior,
                                                 "loop": True}), "loop"),
        (RAY3, GenerationRequest("a fox", resolution="540p", extra={"hdr": True}), "hdr"),
        (RAY3, GenerationRequest("a fox", resolution="360p", extra={"hdr": True}), "hdr"),
        (RAY3, GenerationRequest("a fox", duration_s=10, extra={"hdr": True}), "hdr"),
        (RAY3, GenerationRequest("a fox", extra={"hdr": True, "loop": True}), "hdr"),
        (RAY3, GenerationRequest("a fox", extra={"hdr": True, "extend_generation_id": prior}),
         "hdr"),
        (RAY3, GenerationRequest("a fox", extra={"exr_export": True}), "exr_export"),
        (RAY2, GenerationRequest("a fox", extra={"hdr": True}), "hdr"),
        (RAY3, GenerationRequest("a fox", extra={"hdr": "yes"}), "hdr"),
        (RAY3, GenerationRequest("a fox", extra={"image_uri": url}), "image_uri"),  # a typo
        (RAY3, GenerationRequest("a fox", extra={"image_url": "http://example.com/a.jpg"}),
         "image_url"),
        (RAY2, GenerationRequest("a fox", extra={"image_url": "/home/me/a.jpg"}), "image_url"),
        (RAY3, GenerationRequest("a fox", extra={"extend_generation_id": "gen-1"}),
         "extend_generation_id"),
        (RAY3, GenerationRequest("a fox", image=ok, extra={"image_url": url}), "image_url"),
        (RAY3, GenerationRequest("a fox", image=ok, extra={"extend_generation_id": prior}),
         "extend_generation_id"),
        (RAY2, GenerationRequest("a fox", extra={"end_image_url": url,
                                                 "reverse_extend_generation_id": prior}),
         "reverse_extend_generation_id"),
        (RAY2, GenerationRequest("a fox", image=ok), "image"),
        (RAY2, GenerationRequest("a fox", last_frame=ok, extra={"image_url": url}), "last_frame"),
        (RAY3, GenerationRequest("a", image=picture(tmp, "small.png", (200, 200))), "image"),
        (RAY3, GenerationRequest("a", image=picture(tmp, "wide.png", (1300, 400))), "image"),
        (RAY3, GenerationRequest("a", image=tmp / "missing.png"), "image"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    prior = "5f0c2a6e-1111-4e4e-9999-000000000000"
    for model, request, field in _refusals(tmp_path, prior):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("luma", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("luma").models
    prior = "5f0c2a6e-1111-4e4e-9999-000000000000"
    url = "https://example.com/a.jpg"
    for model, request in [
        (RAY3, GenerationRequest("a fox", duration_s=10, resolution="360p", aspect="21:9")),
        (RAY3, GenerationRequest("a", resolution="720p", extra={"hdr": True, "exr_export": True})),
        (RAY3, GenerationRequest("a fox", image=picture(tmp_path, "a.webp", fmt="WEBP"),
                                 extra={"loop": True})),
        (RAY3, GenerationRequest("x" * 6000, extra={"end_image_url": url})),
        (RAY2, GenerationRequest("abc", duration_s=9, resolution="4k", aspect="9:21")),
        (RAY2, GenerationRequest("abc", extra={"image_url": url, "loop": True}, aspect="1:1")),
        (RAY2, GenerationRequest("a fox", extra={"extend_generation_id": prior,
                                                 "end_image_url": url})),
        ("ray-flash-2", GenerationRequest("x" * 5000, extra={"loop": True})),
    ]:  # fmt: skip
        k.adapter.validate(request, models[model])


# -------------------------------------------------------------------------- estimates


@pytest.mark.parametrize(
    ("model", "request_", "cents"),
    [
        (RAY3, GenerationRequest("a", resolution="360p"), 6.0),
        (RAY3, GenerationRequest("a", resolution="540p", duration_s=10), 30.0),
        (RAY3, GenerationRequest("a"), 30.0),  # the default: 720p, 5 s
        (RAY3, GenerationRequest("a", resolution="720p", extra={"hdr": True}), 60.0),
        (
            RAY3,
            GenerationRequest("a", resolution="720p", extra={"hdr": True, "exr_export": True}),
            90.0,
        ),
        (RAY3, GenerationRequest("a", resolution="1080p", extra={"hdr": True}), 240.0),
        (RAY2, GenerationRequest("a"), 71.0),
        (RAY2, GenerationRequest("a", resolution="4k", duration_s=9), 1147.0),
        ("ray-flash-2", GenerationRequest("a", resolution="540p"), 14.0),
    ],
)
def test_estimates_follow_lumas_prices_in_usd_cents(kit, model, request_, cents):
    k = kit()
    estimate = k.adapter.estimate(request_, k.catalog.vendor("luma").models[model])
    assert (estimate.amount, estimate.unit, estimate.currency) == (cents, "USD cents", "USD")
    assert estimate.money == round(cents / 100, 4)


# -------------------------------------------------------------- cancel, balance, models


def test_cancel_deletes_a_running_dream_machine_generation(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("luma", RAY2)])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    [delete] = k.server.requests_to("DELETE", DM_GEN)
    assert delete.path == f"/dream-machine/v1/generations/{job.vendor_task_id}"
    assert delete.headers["Authorization"] == f"Bearer {KEY}"
    assert job.vendor_task_id not in k.fake.generations


def test_a_finished_dream_machine_generation_is_not_deleted(kit):
    k = kit(queued_polls=0, processing_polls=0)
    ctx = k.context(RAY2)

    async def go() -> tuple[TaskHandle, bool]:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
        return handle, await k.adapter.cancel(ctx, handle)

    handle, cancelled = k.call(ctx, go)
    assert cancelled is False
    assert k.server.requests_to("DELETE", DM_GEN) == []
    assert k.fake.state_of(handle.task_id) == "completed"


def test_the_agents_api_cannot_cancel_and_sends_nothing_to_try(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("luma", RAY3)])
    asyncio.run(engine.run([job_id], until="submitted"))
    before = len(k.server.requests)
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"  # ours; Luma keeps making it
    assert len(k.server.requests) == before
    assert k.fake.state_of(job.vendor_task_id) == "queued"


def test_the_balance_is_dream_machines_credit_balance_in_usd_cents(kit):
    k = kit(credits=1234.5)
    ctx = k.context(None)
    balance = k.call(ctx, lambda: k.adapter.balance(ctx))
    assert (balance.amount, balance.unit) == (1234.5, "USD cents")
    assert balance.detail["usd"] == 12.345
    [read] = k.server.requests_to("GET", "/dream-machine/v1/credits")
    assert read.headers["Authorization"] == f"Bearer {KEY}"


def test_luma_cannot_list_its_models(kit):
    k = kit()
    ctx = k.context(None)
    assert k.call(ctx, lambda: k.adapter.list_models(ctx)) is None
    assert asyncio.run(k.engine().refresh_models("luma")) is None
    assert k.server.count() == 0


# ------------------------------------------------------------------- base URL per surface


def _urls_seen(k: Kit, base_url: str, region: str = "default") -> list[str]:
    """Where a create of each surface and a balance go; nothing leaves (MockTransport)."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.endswith("/credits"):
            return httpx.Response(200, json={"credit_balance": 5})
        return httpx.Response(201, json={"id": "5f0c2a6e-1111-4e4e-9999-000000000000"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            for model in (RAY3, RAY2):
                ctx = k.context(model, http=client, base_url=base_url, region=region)
                await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
            await k.adapter.balance(k.context(None, http=client, base_url=base_url, region=region))

    asyncio.run(go())
    return seen


def test_each_surface_has_its_own_host_from_the_catalog(kit):
    k = kit()
    assert _urls_seen(k, "https://agents.lumalabs.ai") == [
        "https://agents.lumalabs.ai/v1/generations",
        "https://api.lumalabs.ai/dream-machine/v1/generations/video",
        "https://api.lumalabs.ai/dream-machine/v1/credits",
    ]
    # An account whose region names the Dream Machine host changes nothing.
    assert _urls_seen(k, "https://api.lumalabs.ai", region="dream_machine")[0] == (
        "https://agents.lumalabs.ai/v1/generations"
    )
    assert k.server.count() == 0


def test_an_overridden_base_url_serves_both_surfaces(kit):
    k = kit()
    assert _urls_seen(k, "https://luma-proxy.example.net/") == [
        "https://luma-proxy.example.net/v1/generations",
        "https://luma-proxy.example.net/dream-machine/v1/generations/video",
        "https://luma-proxy.example.net/dream-machine/v1/credits",
    ]


# ----------------------------------------------------------------------------- the CLI


def _cli(home: Path, fake: FakeLuma, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_LUMA_BASE_URL": fake.url,
        "TAKESTOCK_LUMA_API_KEY": KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_refuses_a_bad_duration_and_cannot_refresh(kit, home):
    k = kit(queued_polls=0, processing_polls=0)
    result = _cli(
        home, k.fake, "generate", "--vendor", "luma", "--model", RAY3,
        "--prompt", "a lighthouse at dusk", "--resolution", "540p", "--aspect", "1:1",
        "--extra", "loop=true", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    [(_, body)] = k.fake.creates
    assert (body["aspect_ratio"], body["video"]["loop"]) == ("1:1", True)

    refused = _cli(
        home, k.fake, "generate", "--vendor", "luma", "--model", RAY2, "--prompt", "a fox",
        "--duration", "10", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1

    refresh = _cli(home, k.fake, "vendors", "refresh", "luma", "--json")
    assert refresh.returncode == 0, refresh.stderr
    assert "luma cannot list its models" in refresh.stdout
    assert k.fake.count_creates() == 1


def test_the_catalog_names_a_surface_and_prices_for_every_model():
    vendor = load_catalog().vendor("luma")
    assert vendor.base_urls["default"] == vendor.base_urls["agents"]
    assert (vendor.unit, vendor.money_per_unit, vendor.currency) == ("USD cents", 0.01, "USD")
    for model in vendor.models.values():
        assert model.extra["surface"] in vendor.base_urls, model.id
        assert model.price, model.id
        assert model.default_resolution in model.resolutions
    assert vendor.models[RAY3].status == "active"
    assert {vendor.models[m].status for m in (RAY2, "ray-flash-2")} == {"deprecated"}
