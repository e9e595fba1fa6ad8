"""The Wan (DashScope) adapter through the engine, against the fake DashScope service."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    InvalidInput,
    ModelRetired,
    QuotaError,
    RateLimited,
    Rejected,
    TransientError,
)
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle, TaskState
from takestock.vendors.wan import WanAdapter, vendor_error
from tests.fakeserver import Fault
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_wan import KF2V_PATH, T2V_PATH, FakeWan

VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
KEY = "sk-test"
CREATE = T2V_PATH
TASK = "/api/v1/tasks/{id}"
RESULT = "/results/*"


@dataclass
class Kit:
    fake: FakeWan
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: WanAdapter
    key: str = KEY

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def engine(self, **kw: Any) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"wan": self.adapter},
            StaticCredentials({"wan": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_WAN_BASE_URL": self.fake.api_base},
            **kw,
        )

    def generate(self, request: GenerationRequest, model: str = "wan2.6-t2v") -> Job:
        engine = self.engine()
        _, [job_id] = engine.enqueue(request, [Target("wan", model)])
        [job] = asyncio.run(asyncio.wait_for(engine.run([job_id]), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return job

    def creates_sent(self, path: str = CREATE) -> int:
        return len(self.server.requests_to("POST", path))

    def context(self, model: str | None = None) -> CallContext:
        vendor = self.catalog.vendor("wan")
        return CallContext(
            http=httpx.AsyncClient(),
            vendor=vendor,
            base_url=self.fake.api_base,
            model=vendor.models[model] if model else None,
            secrets={"api_key": self.key},
            region="intl",
        )


@pytest.fixture
def serve_fake() -> Iterator[Any]:
    """``serve_fake(**options)`` starts a :class:`FakeWan`; stopped and checked after."""
    started: list[FakeWan] = []

    def make(**options: Any) -> FakeWan:
        fake = FakeWan(video=VIDEO, **options)
        fake.serve()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        assert fake.server is not None
        fake.server.stop()
        fake.server.check()


@pytest.fixture
def kit(tmp_path: Path, serve_fake: Any) -> Any:
    def make(**options: Any) -> Kit:
        paths = DataPaths(tmp_path / f"home-{len(list(tmp_path.iterdir()))}").ensure()
        catalog = load_catalog()
        adapter = WanAdapter(catalog.vendor("wan"))
        return Kit(serve_fake(**options), paths, open_store(paths.database), catalog, adapter)

    return make


def _done(kit: Kit, job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    [take] = list_takes(kit.store, kit.paths.media)
    assert take.path.read_bytes() == VIDEO
    assert kit.fake.count_creates() == 1


def _image(path: Path, size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB") -> Path:
    Image.new(mode, size, (200, 40, 40, 128)[: len(mode)]).save(path, fmt)
    return path


def _decode(url: str) -> tuple[str, Image.Image, bytes]:
    head, _, payload = url.partition(",")
    assert head.startswith("data:")
    assert head.endswith(";base64")
    data = base64.b64decode(payload)
    return head[5:-7], Image.open(io.BytesIO(data)), data


# ------------------------------------------------------------------ happy paths


def test_text_to_video_sends_the_documented_body_and_ends_in_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow",
        negative="blurry",
        duration_s=5,
        resolution="720p",
        aspect="9:16",
        seed=42,
    )
    job = k.generate(request)
    _done(k, job)
    [body] = k.fake.creates
    assert body == {
        "model": "wan2.6-t2v",
        "input": {"prompt": "a red fox in snow", "negative_prompt": "blurry"},
        "parameters": {"duration": 5, "size": "720*1280", "watermark": False, "seed": 42},
    }
    [headers] = k.fake.create_headers
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["X-DashScope-Async"] == "enable"
    assert headers["Content-Type"].startswith("application/json")
    polls = k.server.requests_to("GET", TASK)
    assert len(polls) == 4  # PENDING, RUNNING, RUNNING, SUCCEEDED
    assert all("X-DashScope-Async" not in r.headers for r in polls)
    assert job.vendor_task_id in k.fake.tasks
    assert job.estimate == {"amount": 0.5, "unit": "USD", "money": 0.5, "currency": "USD"}
    assert job.cost_actual is None  # DashScope reports billed seconds, not money


def test_image_to_video_sends_the_image_inline_as_a_data_url(kit, tmp_path):
    k = kit()
    start = _image(tmp_path / "start.jpg", (1280, 720))
    request = GenerationRequest("she turns", image=start, duration_s=3, audio=False)
    job = k.generate(request, "wan2.6-i2v-flash")
    _done(k, job)
    [body] = k.fake.creates
    assert body["model"] == "wan2.6-i2v-flash"
    assert body["parameters"] == {
        "duration": 3,
        "resolution": "1080P",
        "audio": False,
        "watermark": False,
    }
    assert set(body["input"]) == {"prompt", "img_url"}
    mime, img, data = _decode(body["input"]["img_url"])
    assert (mime, img.size) == ("image/jpeg", (1280, 720))
    assert data == start.read_bytes()  # fits the limits: sent unchanged
    # Silent 1080p on the flash model: $0.0375 a second.
    assert job.estimate["amount"] == pytest.approx(0.1125)


def test_a_large_image_is_scaled_into_the_pixel_range_not_cropped(kit, tmp_path):
    k = kit()
    big = _image(tmp_path / "wide.png", (3000, 1500), "PNG")
    job = k.generate(GenerationRequest("", image=big), "wan2.2-i2v-flash")
    _done(k, job)
    mime, img, _ = _decode(k.fake.creates[0]["input"]["img_url"])
    assert (mime, img.size) == ("image/png", (2000, 1000))
    assert "prompt" not in k.fake.creates[0]["input"]
    assert k.fake.creates[0]["parameters"]["resolution"] == "720P"


def test_first_and_last_frame_goes_to_the_kf2v_endpoint(kit, tmp_path):
    k = kit()
    first = _image(tmp_path / "a.jpg", (960, 540))
    last = _image(tmp_path / "b.webp", (960, 540), "WEBP")
    request = GenerationRequest("a sunrise", image=first, last_frame=last, resolution="480p")
    job = k.generate(request, "wan2.2-kf2v-flash")
    _done(k, job)
    assert k.creates_sent(KF2V_PATH) == 1
    assert k.creates_sent(CREATE) == 0
    [body] = k.fake.creates
    assert body["parameters"] == {"duration": 5, "resolution": "480P", "watermark": False}
    assert _decode(body["input"]["first_frame_url"])[2] == first.read_bytes()
    mime, img, _ = _decode(body["input"]["last_frame_url"])
    assert (mime, img.size) == ("image/webp", (960, 540))


def test_wan_2_7_takes_frames_as_a_media_list(kit, tmp_path):
    k = kit()
    first = _image(tmp_path / "a.jpg", (640, 640))
    last = _image(tmp_path / "b.jpg", (640, 640))
    request = GenerationRequest("a bloom", image=first, last_frame=last, duration_s=8)
    job = k.generate(request, "wan2.7-i2v")
    _done(k, job)
    [body] = k.fake.creates
    media = body["input"]["media"]
    assert [m["type"] for m in media] == ["first_frame", "last_frame"]
    assert _decode(media[0]["url"])[2] == first.read_bytes()
    assert body["parameters"] == {"duration": 8, "resolution": "1080P", "watermark": False}


def test_media_text_models_send_a_ratio_and_happyhorse_no_rewrite_switch(kit):
    k = kit()
    _done(k, k.generate(GenerationRequest("a kite", aspect="4:3", resolution="720p"), "wan2.7-t2v"))
    assert k.fake.creates[0]["parameters"] == {
        "duration": 5,
        "resolution": "720P",
        "ratio": "4:3",
        "watermark": False,
    }
    h = kit()
    _done(h, h.generate(GenerationRequest("a horse", duration_s=3), "happyhorse-1.0-t2v"))
    assert h.fake.creates[0] == {
        "model": "happyhorse-1.0-t2v",
        "input": {"prompt": "a horse"},
        "parameters": {"duration": 3, "resolution": "1080P", "ratio": "16:9", "watermark": False},
    }


def test_extras_map_to_their_fields(kit):
    k = kit()
    extra = {
        "prompt_extend": False,
        "watermark": True,
        "shot_type": "single",
        "audio_url": "https://example.com/voice.mp3",
    }
    job = k.generate(GenerationRequest("a talk", extra=extra, duration_s=10))
    _done(k, job)
    [body] = k.fake.creates
    assert body["input"]["audio_url"] == "https://example.com/voice.mp3"
    assert body["parameters"] == {
        "duration": 10,
        "size": "1920*1080",
        "prompt_extend": False,
        "shot_type": "single",
        "watermark": True,
    }


def test_estimates_follow_the_catalog_prices():
    catalog = load_catalog()
    adapter = WanAdapter(catalog.vendor("wan"))
    flash = catalog.model("wan", "wan2.6-i2v-flash")
    # Audio is on by default, so the default estimate is the with-audio price.
    assert adapter.estimate(GenerationRequest("x", duration_s=10), flash).amount == 0.75
    silent = GenerationRequest("x", duration_s=10, resolution="720p", audio=False)
    assert adapter.estimate(silent, flash).amount == 0.25
    horse = catalog.model("wan", "happyhorse-1.0-t2v")
    assert adapter.estimate(GenerationRequest("x", resolution="720p"), horse).amount == 0.7


# ------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        (
            "a fox #nsfw",
            "rejected",
            "Output data may contain inappropriate content. (DataInspectionFailed)",
        ),
        ("a fox #fail", "generation_failed", "(InternalError.Algo)"),
    ],
)
def test_a_failed_task_keeps_the_vendors_code_and_words(kit, prompt, kind, words):
    k = kit()
    job = k.generate(GenerationRequest(prompt))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.fake.count_creates() == 1


def test_a_wrong_key_fails_with_auth_and_names_the_region(kit):
    k = kit()
    k.key = "sk-from-beijing"
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "Invalid API-key provided. (InvalidApiKey)" in job.error
    assert "bound to the region" in job.error
    assert k.fake.count_creates() == 0


def test_an_account_in_arrears_fails_with_quota(kit):
    k = kit(arrears=True)
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "quota")
    assert "(Arrearage)" in job.error
    assert job.vendor_task_id is None


def test_content_refused_at_create_is_rejected(kit):
    k = kit()
    job = k.generate(GenerationRequest("a fox #reject"))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "DataInspectionFailed" in job.error
    assert k.fake.count_creates() == 0


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, "Throttling.AllocationQuota", "quota"),
        (400, "InvalidParameter", "rejected"),
        (403, "Model.AccessDenied", "auth"),
        (413, "BadRequest.TooLarge", "rejected"),
    ],
)
def test_create_time_codes_map_to_the_error_tree(kit, status, code, kind):
    k = kit()
    k.server.script("POST", CREATE, Fault.status(status, json={"code": code, "message": "no"}))
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert f"no ({code})" in job.error
    assert k.creates_sent() == 1  # never retried
    assert k.fake.count_creates() == 0


def test_a_retired_model_is_marked_retired_for_the_user(kit):
    k = kit()
    body = {"code": "ModelNotFound", "message": "Model not exist."}
    k.server.script("POST", CREATE, Fault.status(404, json=body))
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["wan"]["models"]["wan2.6-t2v"]["status"] == "retired"


def test_rate_limit_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    body = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}
    k.server.script("POST", CREATE, Fault.status(429, retry_after=0.3, json=body))
    job = k.generate(GenerationRequest("a fox"))
    _done(k, job)
    first, second = k.server.requests_to("POST", CREATE)
    assert second.at - first.at >= 0.28


def test_a_concurrency_limit_without_retry_after_backs_off_and_succeeds(kit):
    k = kit()
    vendor = k.catalog.vendor("wan")
    quick = {**vendor.extra, "throttle_backoff_s": [0.01, 0.02]}
    k.adapter = WanAdapter(replace(vendor, extra=quick))
    body = {"code": "Throttling", "message": "Too many running tasks for this model"}
    k.server.script("POST", CREATE, Fault.status(429, json=body), Fault.status(429, json=body))
    job = k.generate(GenerationRequest("a fox"))
    _done(k, job)
    assert k.creates_sent() == 3


def test_a_server_error_to_a_create_is_never_resent(kit):
    k = kit()
    body = {"code": "InternalError", "message": "An internal error has occured"}
    k.server.script("POST", CREATE, Fault.status(500, json=body))
    job = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert "cannot look tasks up" in job.error
    assert k.creates_sent() == 1


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.malformed_json())
    job = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert k.creates_sent() == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_and_is_not_resent(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.cut_after(0))  # the task is made; we never hear
    job = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert job.error_kind == "unknown"
    assert k.fake.count_creates() == 1
    assert k.creates_sent() == 1


def test_server_errors_on_a_poll_are_retried(kit):
    k = kit()
    body = {"code": "InternalError", "message": "busy"}
    k.server.script("GET", TASK, Fault.status(500, json=body), Fault.status(503, json=body))
    _done(k, k.generate(GenerationRequest("a fox")))


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", TASK, Fault.malformed_json())
    _done(k, k.generate(GenerationRequest("a fox")))


def test_a_poll_that_never_makes_sense_fails_with_protocol(kit):
    k = kit()
    k.server.script_always("GET", TASK, Fault.malformed_json())
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "protocol")
    assert k.fake.count_creates() == 1


def test_a_task_the_vendor_no_longer_knows_fails(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("wan", "wan2.6-t2v")])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    del k.fake.tasks[job.vendor_task_id]  # older than 24 hours, say
    [job] = asyncio.run(k.engine().run([job_id]))
    assert (job.state, job.error_kind) == ("failed", "generation_failed")
    assert "UNKNOWN" in job.error


def test_an_expired_result_link_fails_the_job_after_one_refresh(kit):
    k = kit(url_ttl=0)
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert len(k.server.requests_to("GET", RESULT)) == 1  # the refresh gave the same link
    assert k.fake.count_creates() == 1
    assert list(k.paths.incoming.iterdir()) == []


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", RESULT, Fault.cut_after(len(VIDEO) // 2))
    _done(k, k.generate(GenerationRequest("a fox")))
    downloads = k.server.requests_to("GET", RESULT)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"


# ----------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str, str]]:
    small = _image(tmp / "small.jpg", (320, 320))
    strip = _image(tmp / "strip.jpg", (4000, 500))
    alpha = _image(tmp / "alpha.png", (800, 600), "PNG", "RGBA")
    frame = _image(tmp / "frame.jpg", (800, 600))
    r = GenerationRequest
    t26, i26, t25, t22, hh, w3 = (
        "wan2.6-t2v",
        "wan2.6-i2v",
        "wan2.5-t2v-preview",
        "wan2.2-t2v-plus",
        "happyhorse-1.0-t2v",
        "wan3.0-video",
    )
    return [
        (t25, r("x", duration_s=7), "duration", "use 5, 10"),
        (t26, r("x", resolution="480p"), "resolution", "use 720p, 1080p"),
        (t25, r("x", resolution="480p", aspect="4:3"), "aspect", "at 480p use 16:9, 9:16, 1:1"),
        (t26, r("x" * 1501), "prompt", "at most 1500"),
        (t26, r("x", negative="n" * 501), "negative", "at most 500"),
        (hh, r("x", negative="blur"), "negative", "no negative prompt"),
        (hh, r("狐" * 2501), "prompt", "at most 2500 when"),
        (t26, r("x", seed=2**31), "seed", "0 to 2147483647"),
        (t22, r("x", audio=True), "audio", "makes no audio"),
        (t26, r("x", image=frame), "mode", "does not do image to video"),
        (i26, r("x", image=frame, last_frame=frame), "mode", "first and last"),
        ("wan2.7-i2v", r("x", last_frame=frame), "image", "needs a first frame"),
        (i26, r("x", image=small), "image", "at least 360 px"),
        (i26, r("x", image=strip), "image", "allowed is 0.18 to 5.56"),
        (i26, r("x", image=alpha), "image", "transparency"),
        (i26, r("x", image=frame, duration_s=15), "duration", "use 2, 3"),
        (t25, r("x", extra={"shot_type": "multi"}), "shot_type", "Wan 2.6 does"),
        (t26, r("x", extra={"shot_type": "many"}), "shot_type", "single, multi"),
        (
            t26,
            r("x", extra={"shot_type": "multi", "prompt_extend": False}),
            "shot_type",
            "prompt_extend",
        ),
        (t26, r("x", extra={"audio_url": "/tmp/a.mp3"}), "audio_url", "public http(s) URL"),
        (t22, r("x", extra={"audio_url": "https://a/b.mp3"}), "audio_url", "no audio track"),
        (hh, r("x", extra={"prompt_extend": True}), "prompt_extend", "no prompt rewriting"),
        (t26, r("x", extra={"watermark": "yes"}), "watermark", "true or false"),
        ("wan2.7-t2v", r("x", audio=False), "audio", "always adds sound"),
        (t26, r("x", audio=False), "audio", "always adds sound"),
        (hh, r("x", audio=False), "audio", "always adds sound"),
        ("happyhorse-1.1-t2v", r("x", audio=False), "audio", "always adds sound"),
        (i26, r("x", image=frame, aspect="16:9"), "aspect", "aspect ratio of its input image"),
        (w3, r("x", image=frame, aspect="16:9"), "aspect", "aspect ratio of its input image"),
        ("wan2.6-i2v-flash", r("x", image=frame, duration_s=1), "duration", "use 2, 3"),
        (w3, r("x", negative="blur"), "negative", "no negative prompt"),
        (w3, r("x", extra={"prompt_extend": False}), "prompt_extend", "no prompt rewriting"),
        (w3, r("x", audio=False), "audio", "always adds sound"),
        (w3, r("x", duration_s=31), "duration", "use 2, 3"),
        (w3, r("x", extra={"reference_images": ["https://e.com/a.png"] * 11}),
         "reference_images", "at most 10"),
        (w3, r("x", image=frame, extra={"reference_images": ["https://e.com/a.png"]}),
         "reference_images", "not both"),
        (w3, r("x", extra={"reference_images": ["/tmp/a.png"]}), "reference_images", "URLs"),
        ("wan2.7-t2v", r("x", extra={"reference_images": ["https://e.com/a.png"]}),
         "reference_images", "takes no reference images"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field, words in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("wan", model)])
        assert refused.value.field == field, (model, refused.value)
        assert words in str(refused.value), (model, str(refused.value))
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_wan3_takes_references_or_frames_and_the_frame_sets_the_shape(kit, tmp_path):
    k = kit()
    refs = ["https://example.com/hero.png", "https://example.com/set.png"]
    request = GenerationRequest("hero walks on set", aspect="9:16", duration_s=20)
    _done(k, k.generate(replace(request, extra={"reference_images": refs}), "wan3.0-video"))
    [body] = k.fake.creates
    assert body["input"]["media"] == [{"type": "reference_image", "url": u} for u in refs]
    assert body["parameters"]["ratio"] == "9:16"
    assert body["parameters"]["duration"] == 20
    assert "negative_prompt" not in body["input"]
    assert "prompt_extend" not in body["parameters"]
    frame = _image(tmp_path / "f.jpg", (1280, 720))
    job = k.generate(GenerationRequest("she runs", image=frame), "wan3.0-video-prime")
    assert job.state == "done"
    second = k.fake.creates[1]
    assert [m["type"] for m in second["input"]["media"]] == ["first_frame"]
    assert "ratio" not in second["parameters"]


def test_image_models_offer_no_aspect_and_only_flash_has_a_sound_switch():
    vendor = load_catalog().vendor("wan")
    for model in vendor.models.values():
        if "text" not in model.modes:
            assert model.aspects == (), model.id
        if model.extra.get("audio_switch"):
            assert model.id == "wan2.6-i2v-flash"
    assert 1 not in vendor.models["wan2.6-i2v-flash"].durations
    assert "happyhorse-1.1-i2v" in vendor.models


def test_a_429_without_retry_after_waits_seconds_that_grow(kit):
    k = kit()
    body = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}
    k.server.script("POST", CREATE, *[Fault.status(429, json=body)] * 7)
    ctx = k.context("wan2.6-t2v")

    async def waits() -> list[float | None]:
        seen: list[float | None] = []
        async with ctx.http:
            for _ in range(7):
                with pytest.raises(RateLimited) as refused:
                    await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
                seen.append(refused.value.retry_after)
            await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
            k.server.script("POST", CREATE, Fault.status(429, json=body))
            with pytest.raises(RateLimited) as again:
                await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
            seen.append(again.value.retry_after)
        return seen

    assert asyncio.run(waits()) == [5, 10, 20, 40, 60, 60, 60, 5]  # reset by a success


# ------------------------------------------------------- cancel, find, balance


def test_cancel_stops_a_pending_task_at_the_vendor(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("wan", "wan2.6-t2v")])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.status_of(job.vendor_task_id) == "CANCELED"
    [request] = k.server.requests_to("POST", "/api/v1/tasks/{id}/cancel")
    assert request.path == f"/api/v1/tasks/{job.vendor_task_id}/cancel"
    assert request.headers["Authorization"] == f"Bearer {KEY}"


def test_a_running_task_cannot_be_cancelled(kit):
    k = kit(queued_polls=0, running_polls=50)
    ctx = k.context("wan2.6-t2v")

    async def go() -> tuple[bool, TaskState]:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
        status = await k.adapter.poll(ctx, handle)
        cancelled = await k.adapter.cancel(ctx, handle)
        await ctx.http.aclose()
        return cancelled, status.state

    assert asyncio.run(go()) == (False, TaskState.RUNNING)


def test_there_is_no_lookup_and_no_balance(kit):
    k = kit()
    assert k.adapter.can_find is False
    ctx = k.context()

    async def go() -> object:
        try:
            return await k.adapter.balance(ctx)
        finally:
            await ctx.http.aclose()

    assert asyncio.run(go()) is None
    assert k.server.count() == 0


def test_a_200_carrying_a_code_is_an_error_not_a_task(kit):
    k = kit()
    k.server.script(
        "POST", CREATE, Fault.status(200, json={"code": "Arrearage", "message": "owed"})
    )
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "quota")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("InvalidApiKey", 401, AuthError),
        ("Workspace.AccessDenied", 403, AuthError),
        ("Arrearage", 400, QuotaError),
        ("Throttling.AllocationQuota", 429, QuotaError),
        ("CommodityNotPurchased", 429, QuotaError),
        ("Throttling.RateQuota", 429, RateLimited),
        ("Throttling.BurstRate", 429, RateLimited),
        ("ModelNotFound", 404, ModelRetired),
        ("Model.NotExist", 404, ModelRetired),
        ("DataInspectionFailed", 400, Rejected),
        ("IPInfringementSuspect", 400, Rejected),
        ("InvalidURL", 400, Rejected),
        ("BadRequest.UnsupportedFileFormat", 415, Rejected),
        ("InternalError.Timeout", 500, TransientError),
        ("ModelUnavailable", 503, TransientError),
        (None, 502, TransientError),
    ],
)
def test_the_error_table(code, status, kind):
    error = vendor_error(code, "words", status=status, retry_after=3.0)
    assert type(error) is kind
    assert error.vendor == "wan"
    assert error.vendor_code == (code or str(status))
    if kind is RateLimited:
        assert error.retry_after == 3.0


def test_a_failed_task_with_a_server_code_is_a_failed_generation():
    vendor = load_catalog().vendor("wan")
    status = WanAdapter(vendor).status(
        {"output": {"task_status": "FAILED", "code": "InternalError", "message": "boom"}}, "t1"
    )
    assert status.state is TaskState.FAILED
    assert isinstance(status.error, GenerationFailed)
    assert status.error.vendor_code == "InternalError"


def test_the_fake_refuses_what_the_vendor_refuses(kit):
    k = kit()
    body = {"model": "wan2.6-t2v", "input": {"prompt": "x"}, "parameters": {"size": "1280*720"}}
    url = k.fake.api_base + "/services/aigc/video-generation/video-synthesis"
    auth = {"Authorization": f"Bearer {KEY}"}
    sync = httpx.post(url, json=body, headers=auth)
    assert (sync.status_code, sync.json()["code"]) == (403, "AccessDenied")
    assert "synchronous" in sync.json()["message"]
    wrong = httpx.post(
        url.replace("video-generation", "image2video"),
        json=body,
        headers={**auth, "X-DashScope-Async": "enable"},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "InvalidParameter")
    bad = {**body, "parameters": {"size": "1280*1280"}}
    refused = httpx.post(url, json=bad, headers={**auth, "X-DashScope-Async": "enable"})
    assert refused.status_code == 400
    assert k.fake.count_creates() == 0
    unknown = httpx.get(k.fake.api_base + "/tasks/nope", headers=auth).json()
    assert unknown["output"]["task_status"] == "UNKNOWN"


def test_a_handle_survives_a_restart(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("wan", "wan2.6-t2v")])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    assert job.state == "running"
    assert job.task_data["model"] == "wan2.6-t2v"
    assert json.dumps(dict(job.task_data))  # serialisable, and holds no secret
    assert KEY not in json.dumps(dict(job.task_data))
    [job] = asyncio.run(k.engine().run([job_id]))
    _done(k, job)
    assert isinstance(job.handle, TaskHandle)


# ------------------------------------------------------------------------ CLI


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_and_refuses_bad_input(home, serve_fake):
    fake = serve_fake()
    env = {"TAKESTOCK_WAN_BASE_URL": fake.api_base, "TAKESTOCK_WAN_API_KEY": KEY}
    result = _cli(
        "generate", "--vendor", "wan", "--model", "wan2.6-t2v", "--prompt", "a paper boat",
        "--duration", "5", "--resolution", "720p", "--aspect", "16:9", "--wait", "--json",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert fake.creates[0]["parameters"]["size"] == "1280*720"

    refused = _cli(
        "generate", "--vendor", "wan", "--model", "wan2.5-t2v-preview", "--prompt", "a boat",
        "--duration", "7", env=env,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "7 s is not offered" in refused.stderr
    assert "nothing was submitted" in refused.stderr
    assert fake.count_creates() == 1
