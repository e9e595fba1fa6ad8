"""Seedance (Volcengine Ark / BytePlus ModelArk) through the engine, against a fake Ark."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
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
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle, TaskState
from takestock.vendors.seedance import SeedanceAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_seedance import FakeSeedance

KEY = "ark-test-key"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
FAST = "seedance-1-0-pro-fast-251015"
PRO15 = "seedance-1-5-pro-251215"
FLASH25 = "dreamina-seedance-2-5-flash-261115"
TASKS = "/api/v3/contents/generations/tasks"


def ark_error(code: str, message: str = "scripted") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": "", "type": "BadRequest"}}


@dataclass
class Kit:
    fake: FakeSeedance
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: SeedanceAdapter
    key: str = KEY

    def engine(self, **kw: Any) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"seedance": self.adapter},
            StaticCredentials({"seedance": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_SEEDANCE_BASE_URL": self.fake.base_url},
            **kw,
        )

    def generate(
        self, request: GenerationRequest | None = None, model: str = FAST, count: int = 1
    ) -> list[Job]:
        request = request or GenerationRequest("a paper boat", duration_s=2, resolution="480p")
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("seedance", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str = FAST, **kw: Any) -> CallContext:
        vendor = self.catalog.vendor("seedance")
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.base_url,
            "model": vendor.models[model],
            "secrets": {"api_key": self.key},
            **kw,
        }
        if "http" not in fields:
            fields["http"] = httpx.AsyncClient(timeout=10)
        return CallContext(**fields)

    @property
    def server(self):
        assert self.fake.server is not None
        return self.fake.server

    def posts(self) -> int:
        return len(self.server.requests_to("POST", TASKS))


@pytest.fixture
def kit(tmp_path):
    servers = []

    def make(**options: Any) -> Kit:
        fake = FakeSeedance(**{"api_key": KEY, "video": VIDEO, **options})
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / "kit").ensure()
        catalog = load_catalog()
        return Kit(
            fake,
            paths,
            open_store(paths.database),
            catalog,
            SeedanceAdapter(catalog.vendor("seedance")),
        )

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 90, 40)).save(path, fmt)
    return path


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


# ---------------------------------------------------------------------------- happy paths


def test_text_to_video_becomes_a_take_and_reports_tokens(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", duration_s=5, resolution="720p", aspect="16:9", seed=42, audio=True
    )
    [job] = k.generate(request, model=PRO15)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = k.server.requests_to("POST", TASKS)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["Content-Type"].startswith("application/json")
    assert create.json == {
        "model": "seedance-1-5-pro-251215",
        "content": [{"type": "text", "text": "a red fox in snow"}],
        "resolution": "720p",
        "duration": 5,
        "watermark": False,
        "ratio": "16:9",
        "seed": 42,
        "generate_audio": True,
    }
    tokens = 1280 * 720 * (24 * 5 + 1) // 1024  # 108,900: Ark's own 720p 5 s figure
    assert job.cost_actual == tokens
    assert job.estimate == {"amount": tokens, "unit": "tokens", "money": 0.2614, "currency": "USD"}
    assert k.fake.count_creates() == 1


def test_image_to_video_sends_the_first_frame_inline(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    [job] = k.generate(GenerationRequest("", image=first, duration_s=2, resolution="480p"))
    done(job)
    [body] = k.fake.creates
    assert body["model"] == FAST
    assert body["content"] == [
        {
            "type": "image_url",
            "image_url": {"url": data_url(first, "image/png")},
            "role": "first_frame",
        }
    ]
    assert (body["resolution"], body["duration"], body["watermark"]) == ("480p", 2, False)
    assert "ratio" not in body  # adaptive, Ark's default for a first frame
    assert "generate_audio" not in body  # 1.0 pro fast makes no sound
    [task] = k.fake.tasks.values()
    assert task.images == [
        {
            "role": "first_frame",
            "format": "png",
            "width": 640,
            "height": 360,
            "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
        }
    ]


def test_first_and_last_frame_on_seedance_2(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.jpg", (800, 600), "JPEG")
    last = picture(tmp_path, "b.png", (800, 600))
    request = GenerationRequest("the door opens", image=first, last_frame=last, duration_s=4)
    [job] = k.generate(request, model="dreamina-seedance-2-0-260128")
    done(job)
    [body] = k.fake.creates
    assert body["model"] == "dreamina-seedance-2-0-260128"
    jpeg, png = data_url(first, "image/jpeg"), data_url(last, "image/png")
    assert body["content"] == [
        {"type": "text", "text": "the door opens"},
        {"type": "image_url", "image_url": {"url": jpeg}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": png}, "role": "last_frame"},
    ]
    # Sound is off unless asked: Ark's own default would be on, at twice the price.
    assert body["generate_audio"] is False
    assert body["resolution"] == "720p"
    assert [i["role"] for i in next(iter(k.fake.tasks.values())).images] == [
        "first_frame",
        "last_frame",
    ]


def test_a_volcengine_account_gets_volcengine_model_ids(kit):
    k = kit(surface="cn")
    ctx = k.context(PRO15, region="cn")
    request = GenerationRequest("a kite", duration_s=4, resolution="480p")

    async def go():
        async with ctx.http:
            handle = await k.adapter.submit(ctx, request, "ts-1")
            return handle, await k.adapter.poll(ctx, handle)

    handle, status = asyncio.run(go())
    assert k.fake.creates[0]["model"] == "doubao-seedance-1-5-pro-251215"
    assert handle.data == {"model_id": "doubao-seedance-1-5-pro-251215", "surface": "cn"}
    assert status.state is TaskState.QUEUED


def test_the_base_url_host_names_the_platform(kit):
    """An account whose base URL is a Volcengine host sends Volcengine ids, whatever
    its region says; nothing leaves the machine (MockTransport)."""
    k = kit()
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append({"url": str(request.url), **json.loads(request.content)})
        return httpx.Response(200, json={"id": "cgt-1"})

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            ctx = k.context(PRO15, http=client, base_url="https://ark.cn-beijing.volces.com/api/v3")
            await k.adapter.submit(ctx, GenerationRequest("a kite", duration_s=4), "ts-1")

    asyncio.run(go())
    assert seen[0]["model"] == "doubao-seedance-1-5-pro-251215"
    assert seen[0]["url"] == "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks"
    assert k.server.count() == 0


@pytest.mark.parametrize(
    ("model", "base_url", "words"),
    [
        ("doubao-seedance-2-0-mini-260615", None, "not offered on BytePlus ModelArk"),
        (FLASH25, "https://ark.cn-beijing.volces.com/api/v3", "not offered on Volcengine Ark"),
    ],
)
def test_a_model_missing_on_the_accounts_platform_is_refused_before_anything_is_stored(
    kit, model, base_url, words
):
    k = kit()
    engine = k.engine()
    if base_url is not None:  # an account on the other platform
        engine.environ = {"TAKESTOCK_SEEDANCE_BASE_URL": base_url}
    with pytest.raises(InvalidInput) as refused:
        engine.enqueue(GenerationRequest("a kite", duration_s=4), [Target("seedance", model)])
    assert refused.value.field == "model"
    assert words in str(refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_seedance_25_flash_on_byteplus_and_the_model_choosing_the_length(kit):
    k = kit()
    request = GenerationRequest("a kite", duration_s=-1, resolution="480p")
    [job] = k.generate(request, model=FLASH25)
    assert job.state == "done", job.error
    [body] = k.fake.creates
    assert (body["model"], body["duration"]) == ("dreamina-seedance-2-5-flash-261115", -1)
    vendor = k.catalog.vendor("seedance")
    adapter = SeedanceAdapter(vendor)
    chosen = adapter.estimate(request, vendor.models[FLASH25])
    longest = adapter.estimate(replace(request, duration_s=30), vendor.models[FLASH25])
    assert chosen.amount == longest.amount  # held at the longest the model may pick
    assert chosen.money is None  # no per-token price is on record for flash
    assert -1 in vendor.models["dreamina-seedance-2-5-260628"].durations


# -------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("options", "prompt", "kind", "words", "posts"),
    [
        ({"api_key": "another-key"}, "a fox", "auth", "(AuthenticationError) Check", 1),
        ({"overdue": True}, "a fox", "quota", "(AccountOverdueError) Top up the account", 1),
        # Ark answers QuotaExceeded with HTTP 429, which core.http resends like any 429.
        ({"quota_exhausted": True}, "a fox", "quota", "(QuotaExceeded) The model's free", 5),
        ({"not_open": [FAST]}, "a fox", "auth", "(ModelNotOpen) Activate this model", 1),
        ({}, "a fox #nsfw", "rejected", "(InputTextSensitiveContentDetected) Change", 1),
    ],
)
def test_a_refused_create_fails_the_job_with_arks_words(
    kit, monkeypatch, options, prompt, kind, words, posts
):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    k = kit(**options)
    [job] = k.generate(GenerationRequest(prompt, duration_s=2, resolution="480p"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0
    assert k.posts() == posts


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #outnsfw", "rejected", "(OutputVideoSensitiveContentDetected.PolicyViolation)"),
        ("a fox #fail", "generation_failed", "(InternalServiceError)"),
        ("a fox #expire", "generation_failed", "expired the task"),
    ],
)
def test_a_failed_task_keeps_arks_code_and_message(kit, prompt, kind, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt, duration_s=2, resolution="480p"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id
    assert k.fake.count_creates() == 1


def test_a_bad_parameter_is_rejected_with_the_vendors_message(kit):
    k = kit()
    message = "The parameter `duration` specified in the request is not valid"
    k.server.script("POST", TASKS, Fault.status(400, json=ark_error("InvalidParameter", message)))
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert f"{message} (InvalidParameter)" in job.error


def test_a_model_unknown_to_the_platform_is_marked_retired(kit):
    k = kit(surface="cn")  # a Volcengine server does not know the BytePlus id
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "InvalidEndpointOrModel.NotFound" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["seedance"]["models"][FAST]["status"] == "retired"


def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    busy = ark_error("RateLimitExceeded.EndpointRPMExceeded", "RPM exceeded")
    k.server.script(
        "POST",
        TASKS,
        Fault.status(429, retry_after=0.3, json=busy),
        Fault.status(429, retry_after=0.3, json=busy),
    )
    [job] = k.generate()
    done(job)
    creates = k.server.requests_to("POST", TASKS)
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.28
    assert creates[2].at - creates[1].at >= 0.28
    assert k.fake.count_creates() == 1


def test_the_rpm_limit_without_retry_after_backs_off_and_both_finish(kit, monkeypatch):
    # Ark sends no Retry-After: the client's own backoff paces it (made instant here),
    # and a fast clock lets the fake's one-minute window pass.
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    start = time.time()
    k = kit(rpm=1, clock=lambda: start + (time.time() - start) * 500)
    jobs = k.generate(count=2)
    assert [j.state for j in jobs] == ["done", "done"]
    assert k.fake.count_creates() == 2
    assert k.posts() > 2  # at least one create was refused with 429 and sent again


def test_a_429_that_persists_is_rate_limited_with_arks_code(kit):
    k = kit()
    busy = ark_error("ServerOverloaded", "The service is overloaded.")
    k.server.script_always("POST", TASKS, Fault.status(429, retry_after=0, json=busy))
    ctx = k.context()

    async def go():
        async with ctx.http:
            await k.adapter.submit(ctx, GenerationRequest("a fox", duration_s=2), "ts-1")

    with pytest.raises(RateLimited) as refused:
        asyncio.run(go())
    assert (refused.value.vendor_code, refused.value.retry_after) == ("ServerOverloaded", 0.0)
    assert "The service is overloaded. (ServerOverloaded)" in refused.value.message
    assert k.fake.count_creates() == 0


def test_the_concurrency_limit_queues_at_the_vendor_and_all_finish(kit):
    k = kit(concurrency=1, queued_polls=0, running_polls=2)
    jobs = k.generate(count=3)
    assert [j.state for j in jobs] == ["done"] * 3
    assert k.fake.peak_running == 1
    assert k.fake.count_creates() == 3


# ---------------------------------------------------------------------- transport faults


def test_a_5xx_to_a_poll_is_retried(kit):
    k = kit()
    k.server.script(
        "GET", TASKS + "/{id}", Fault.status(500, json=ark_error("InternalServiceError")),
        Fault.status(503),
    )  # fmt: skip
    [job] = k.generate()
    done(job)


def test_a_5xx_to_a_create_becomes_unknown_and_is_never_resent(kit):
    k = kit()
    k.server.script("POST", TASKS, Fault.status(500, json=ark_error("InternalServiceError")))
    [job] = k.generate()
    assert job.state == "unknown"
    assert "never learned" in job.error
    assert k.posts() == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_not_a_second_charge(kit):
    k = kit()
    k.server.script("POST", TASKS, Fault.cut_after(0))  # Ark made the task; we never heard
    [job] = k.generate()
    assert job.state == "unknown"
    assert "cannot look tasks up by our id" in job.error
    assert k.fake.count_creates() == 1
    assert k.posts() == 1
    assert k.adapter.can_find is False


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", TASKS, Fault.malformed_json())
    [job] = k.generate()
    assert job.state == "unknown"
    assert k.posts() == 1


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", TASKS + "/{id}", Fault.malformed_json())
    [job] = k.generate()
    done(job)


def test_a_poll_that_never_makes_sense_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", TASKS + "/{id}", Fault.malformed_json())
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_expired_result_link_is_signed_again(kit):
    k = kit()
    denied = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    k.server.script("GET", "/tos/*", Fault.status(403, text=denied))
    [job] = k.generate()
    done(job)
    signatures = {r.query["X-Tos-Signature"] for r in k.server.requests_to("GET", "/tos/*")}
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
    k.server.script("GET", "/tos/*", Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate()
    done(job)
    downloads = k.server.requests_to("GET", "/tos/*")
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()


# ------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    return [
        (PRO15, GenerationRequest("a fox", duration_s=3), "duration"),  # 1.5 pro: 4-12 s
        (FAST, GenerationRequest("a fox", duration_s=13), "duration"),  # 1.0: 2-12 s
        ("dreamina-seedance-2-0-260128", GenerationRequest("a fox", duration_s=16), "duration"),
        (FAST, GenerationRequest("a fox", duration_s=2.5), "duration"),  # whole seconds
        ("dreamina-seedance-2-0-fast-260128", GenerationRequest("a", resolution="1080p"),
         "resolution"),
        (FAST, GenerationRequest("a fox", resolution="4k"), "resolution"),
        (FAST, GenerationRequest("a fox", aspect="adaptive"), "aspect"),  # t2v: 1.5/2.x only
        (FAST, GenerationRequest("a fox", aspect="2:1"), "aspect"),
        ("dreamina-seedance-2-5-260628", GenerationRequest("a", image=ok, aspect="16:9"), "aspect"),
        (FAST, GenerationRequest("a fox", image=ok, last_frame=ok), "mode"),  # no last frame
        ("seedance-1-0-lite-t2v-250428", GenerationRequest("a fox", image=ok), "mode"),
        ("seedance-1-0-lite-i2v-250428", GenerationRequest("a fox"), "mode"),
        (FAST, GenerationRequest("a fox", audio=True), "audio"),
        (FAST, GenerationRequest("a fox", negative="blur"), "negative"),
        (FAST, GenerationRequest("a fox --dur 10"), "prompt"),  # old text commands
        (FAST, GenerationRequest("a fox --rs 1080p --rt 9:16"), "prompt"),
        (FAST, GenerationRequest("   "), "prompt"),
        (FAST, GenerationRequest("x" * 5001), "prompt"),
        (FAST, GenerationRequest("a fox", seed=2**32), "seed"),
        (FAST, GenerationRequest("a", image=picture(tmp, "small.png", (300, 300))), "image"),
        (FAST, GenerationRequest("a", image=picture(tmp, "wide.png", (1000, 400))), "image"),
        (FAST, GenerationRequest("a", image=picture(tmp, "tall.png", (400, 1000))), "image"),
        (FAST, GenerationRequest("a", image=ok, last_frame=tmp / "missing.png"), "mode"),
        (PRO15, GenerationRequest("a", image=ok, last_frame=tmp / "missing.png"), "last_frame"),
        (FAST, GenerationRequest("a fox", extra={"camera_fixed": "yes"}), "camera_fixed"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("seedance", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    catalog = k.catalog.vendor("seedance")
    wide = picture(tmp_path, "wide.png", (1240, 500))  # 2.48: inside (0.4, 2.5)
    for model, request in [
        (PRO15, GenerationRequest("a fox", duration_s=12, aspect="adaptive", audio=True)),
        (FAST, GenerationRequest("a fox", duration_s=2, aspect="21:9", seed=2**32 - 1)),
        ("dreamina-seedance-2-5-260628", GenerationRequest("", image=wide, aspect="adaptive")),
        ("dreamina-seedance-2-0-260128", GenerationRequest("a", resolution="4k", duration_s=15)),
        (FAST, GenerationRequest("a fox", extra={"camera_fixed": True})),
    ]:  # fmt: skip
        k.adapter.validate(request, catalog.models[model])


# -------------------------------------------------------------------------- estimates


def test_estimates_follow_arks_token_formula(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("seedance").models
    # The API reference's own example: 1.0 pro, 1080p 16:9, 5 s = 246,840 tokens.
    pro = k.adapter.estimate(
        GenerationRequest("a", duration_s=5), models["seedance-1-0-pro-250528"]
    )
    assert (pro.amount, pro.unit, pro.money, pro.currency) == (246840, "tokens", 0.6171, "USD")
    silent = k.adapter.estimate(
        GenerationRequest("a", duration_s=5, resolution="720p"), models[PRO15]
    )
    loud = k.adapter.estimate(
        GenerationRequest("a", duration_s=5, resolution="720p", audio=True), models[PRO15]
    )
    assert (silent.amount, silent.money, loud.money) == (108900, 0.1307, 0.2614)
    # adaptive follows the first frame: a portrait picture is priced as 9:16.
    tall = picture(tmp_path, "tall.png", (360, 640))
    portrait = k.adapter.estimate(GenerationRequest("", image=tall, duration_s=5), models[FAST])
    assert portrait.amount == 1088 * 1920 * 121 // 1024
    ultra = k.adapter.estimate(
        GenerationRequest("a", resolution="4k", duration_s=5),
        models["dreamina-seedance-2-0-260128"],
    )
    assert (ultra.amount, ultra.money) == (3840 * 2160 * 121 // 1024, 3.9204)


# ------------------------------------------------------------------- cancel and balance


def test_cancel_stops_a_queued_task_at_the_vendor(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(
        GenerationRequest("a fox", duration_s=2, resolution="480p"), [Target("seedance", FAST)]
    )
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.status_of(job.vendor_task_id) == "cancelled"
    assert len(k.server.requests_to("DELETE", TASKS + "/{id}")) == 1


def test_a_running_or_finished_task_is_not_deleted(kit):
    k = kit(queued_polls=0, running_polls=50)
    ctx = k.context()

    async def go():
        async with ctx.http:
            handle = await k.adapter.submit(ctx, GenerationRequest("a", duration_s=2), "ts-1")
            await k.adapter.poll(ctx, handle)  # now running
            running = await k.adapter.cancel(ctx, handle)
            k.fake.tasks[handle.task_id].status = "succeeded"
            finished = await k.adapter.cancel(ctx, handle)
            return handle, running, finished

    handle, running, finished = asyncio.run(go())
    assert (running, finished) == (False, False)
    assert k.server.requests_to("DELETE", TASKS + "/{id}") == []
    assert handle.task_id in k.fake.tasks


def test_a_task_ark_no_longer_knows_fails_the_poll(kit):
    k = kit()
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.poll(ctx, TaskHandle("cgt-20261125000000-gone1"))

    with pytest.raises(GenerationFailed) as failed:
        asyncio.run(go())
    assert failed.value.vendor_code == "ResourceNotFound"
    assert "no longer knows task cgt-20261125000000-gone1" in failed.value.message


def test_there_is_no_balance_endpoint(kit):
    k = kit()
    ctx = k.context()

    async def go():
        async with ctx.http:
            return await k.adapter.balance(ctx)

    assert asyncio.run(go()) is None
    assert k.server.count() == 0


# ----------------------------------------------------------------------------- the CLI


def _cli(home: Path, fake: FakeSeedance, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_SEEDANCE_BASE_URL": fake.base_url,
        "TAKESTOCK_SEEDANCE_API_KEY": KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", "generate", "--vendor", "seedance", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_and_refuses_a_bad_duration(kit, home):
    k = kit()
    result = _cli(
        home, k.fake, "--model", FAST, "--prompt", "a lighthouse at dusk",
        "--duration", "2", "--resolution", "480p", "--aspect", "9:16", "--wait",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert job["vendor_task_id"].startswith("cgt-")
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert k.fake.creates[0]["ratio"] == "9:16"

    refused = _cli(home, k.fake, "--model", FAST, "--prompt", "a fox", "--duration", "20")
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1


def test_every_catalog_model_has_ids_and_prices():
    vendor = load_catalog().vendor("seedance")
    assert vendor.base_urls["default"] == vendor.base_urls["intl"]
    assert "volces.com" in vendor.base_urls["cn"]
    for model in vendor.models.values():
        assert model.extra["model_ids"], model.id
        assert set(model.extra["model_ids"]) <= {"cn", "intl"}
        assert model.id in model.extra["model_ids"].values()
        # Tokens are Ark's unit; a model without a USD price says where none was found.
        assert model.extra.get("token_price_usd_per_m") or model.extra["price_source"], model.id
        assert model.default_resolution in model.resolutions
