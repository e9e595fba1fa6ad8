"""Vidu through the engine against a loopback fake that speaks Vidu's protocol."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, VendorSpec, load_catalog
from takestock.core.errors import AuthError, InvalidInput, RateLimited, Rejected
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import (
    CallContext,
    GenerationRequest,
    TaskHandle,
    TaskState,
    VendorAdapter,
)
from takestock.vendors.vidu import ViduAdapter
from tests.fakeserver import FakeServer, Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_vidu import ViduFake, error_body

VIDEO = tiny_mp4(seconds=1.0, width=192, height=108)
KEY = "vidu-test-key"


@dataclass
class Kit:
    fake: ViduFake
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: ViduAdapter
    key: str = KEY

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    @property
    def vendor(self) -> VendorSpec:
        return self.catalog.vendor("vidu")

    def engine(self) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"vidu": self.adapter},
            StaticCredentials({"vidu": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_VIDU_BASE_URL": self.fake.url},
        )

    def generate(self, model: str, request: GenerationRequest) -> Job:
        engine = self.engine()
        _, [job_id] = engine.enqueue(request, [Target("vidu", model)])
        [job] = asyncio.run(asyncio.wait_for(engine.run([job_id]), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return job

    def creates(self, endpoint: str = "*") -> list[Any]:
        return self.server.requests_to("POST", f"/ent/v2/{endpoint}")

    def ctx(self, model: str | None = None) -> CallContext:
        vendor = self.vendor
        return CallContext(
            http=httpx.AsyncClient(),
            vendor=vendor,
            base_url=self.fake.url,
            model=vendor.models[model] if model else None,
            secrets={"api_key": self.key},
        )


@pytest.fixture
def kit(tmp_path) -> Iterator[Any]:
    fakes: list[ViduFake] = []

    def make(**options: Any) -> Kit:
        fake = ViduFake(api_key=KEY, video=VIDEO, **options)
        fake.serve()
        fakes.append(fake)
        paths = DataPaths(tmp_path / "home").ensure()
        catalog = load_catalog()
        return Kit(
            fake, paths, open_store(paths.database), catalog, ViduAdapter(catalog.vendor("vidu"))
        )

    yield make
    for fake in fakes:
        assert fake.server is not None
        fake.server.stop()
        fake.server.check()


def _image(path: Path, size: tuple[int, int], fmt: str = "PNG", color: str = "teal") -> Path:
    Image.new("RGB", size, color).save(path, fmt)
    return path


def _done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


def _data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


# ------------------------------------------------------------------ happy paths


def test_text_to_video_becomes_a_take_with_every_field_sent(kit):
    k = kit()
    request = GenerationRequest(
        "a paper lantern drifting over a river",
        duration_s=4,
        resolution="1080p",
        aspect="9:16",
        seed=42,
        extra={"movement_amplitude": "small", "bgm": True, "style": "anime", "other": 1},
    )
    job = k.generate("viduq2", request)
    _done(job)
    [create] = k.creates()
    assert create.path == "/ent/v2/text2video"
    assert create.headers["Authorization"] == f"Token {KEY}"
    assert create.headers["Content-Type"] == "application/json"
    assert create.json == {
        "model": "viduq2",
        "prompt": "a paper lantern drifting over a river",
        "duration": 4,
        "resolution": "1080p",
        "aspect_ratio": "9:16",
        "seed": 42,
        "movement_amplitude": "small",
        "bgm": True,
        "style": "anime",
        "payload": job.client_request_id,
    }
    polls = k.server.requests_to("GET", "/ent/v2/tasks/{id}/creations")
    assert {p.path for p in polls} == {f"/ent/v2/tasks/{job.vendor_task_id}/creations"}
    assert all(p.headers["Authorization"] == f"Token {KEY}" for p in polls)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert job.cost_actual == k.fake.tasks[job.vendor_task_id].cost
    assert job.vendor_state == "success"


def test_image_to_video_sends_the_png_as_a_data_url(kit, tmp_path):
    k = kit()
    png = _image(tmp_path / "first.png", (640, 360))
    request = GenerationRequest(
        "the cat turns its head", image=png, duration_s=6, audio=True, seed=0
    )
    job = k.generate("viduq2-pro", request)
    _done(job)
    [create] = k.creates()
    assert create.path == "/ent/v2/img2video"
    assert create.json == {
        "model": "viduq2-pro",
        "prompt": "the cat turns its head",
        "duration": 6,
        "seed": 0,
        "audio": True,
        "payload": job.client_request_id,
        "images": [_data_url(png, "image/png")],
    }


def test_first_and_last_frames_go_in_order_and_a_bmp_becomes_jpeg(kit, tmp_path):
    k = kit()
    first = _image(tmp_path / "first.png", (800, 600), color="navy")
    last = _image(tmp_path / "last.bmp", (820, 600), "BMP", color="orange")
    job = k.generate(
        "viduq2-turbo",
        GenerationRequest("", image=first, last_frame=last, duration_s=8, resolution="540p"),
    )
    _done(job)
    [create] = k.creates()
    assert create.path == "/ent/v2/start-end2video"
    body = create.json
    assert "prompt" not in body
    assert (body["duration"], body["resolution"]) == (8, "540p")
    first_url, last_url = body["images"]
    assert first_url == _data_url(first, "image/png")
    assert last_url.startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(last_url.split(",", 1)[1])))
    assert (sent.format, sent.size) == ("JPEG", (820, 600))


def test_q3_text_to_video_sends_audio_off_when_asked(kit):
    k = kit()
    job = k.generate("viduq3-pro", GenerationRequest("rain on a tin roof", audio=False))
    _done(job)
    [create] = k.creates()
    assert create.json["audio"] is False
    assert "duration" not in create.json  # None: Vidu's default


def test_a_watermark_request_downloads_the_watermarked_copy(kit):
    k = kit()
    job = k.generate("viduq2", GenerationRequest("a lighthouse", extra={"watermark": True}))
    _done(job)
    [download] = k.server.requests_to("GET", "/files/*")
    assert download.query["sig"].startswith("wm")


# ------------------------------------------------------------ vendor failures


@pytest.mark.parametrize(
    ("prompt", "kind", "code"),
    [
        ("a fox #policy", "rejected", "CreationPolicyViolation"),
        ("a fox #fail", "generation_failed", "InternalServiceFailure"),
    ],
)
def test_a_failed_task_keeps_vidus_code(kit, prompt, kind, code):
    k = kit()
    job = k.generate("viduq2", GenerationRequest(prompt))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert code in job.error
    assert job.error.startswith("Vidu: ")
    assert job.cost_actual == 0


def test_a_wrong_key_fails_with_auth(kit):
    k = kit()
    k.key = "wrong"
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "Unauthorized" in job.error
    assert k.fake.count_creates() == 0


def test_too_few_credits_fails_with_quota(kit):
    k = kit(credits=1)
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "quota")
    assert "CreditInsufficient" in job.error
    assert job.vendor_task_id is None


def test_a_prompt_refused_at_create_is_rejected(kit):
    k = kit()
    job = k.generate("viduq2", GenerationRequest("a fox #audit"))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "AuditSubmitIllegal" in job.error
    assert "submit is illegal" in job.error


def test_a_bad_parameter_is_rejected_with_vidus_words(kit):
    k = kit()
    k.server.script(
        "POST",
        "/ent/v2/text2video",
        Fault.status(400, json=error_body(400, "FieldInvalid", "invalid field: duration")),
    )
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "invalid field: duration (FieldInvalid)" in job.error


def test_an_unavailable_model_is_retired_for_the_user(kit):
    k = kit(retired_models=["viduq2"])
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["vidu"]["models"]["viduq2"]["status"] == "retired"


@pytest.mark.parametrize(
    ("reason", "retry_after"),
    [("QuotaExceeded", 0.3), ("TooManyRequests", None), ("SystemThrottling", 0.2)],
)
def test_rate_and_concurrency_limits_are_retried_without_duplicates(kit, reason, retry_after):
    k = kit()
    fault = Fault.status(429, retry_after=retry_after, json=error_body(429, reason, reason))
    k.server.script("POST", "/ent/v2/text2video", fault)
    job = k.generate("viduq2", GenerationRequest("a fox"))
    _done(job)
    creates = k.creates("text2video")
    assert len(creates) == 2
    assert k.fake.count_creates() == 1
    if retry_after:
        assert creates[1].at - creates[0].at >= retry_after - 0.02


def test_a_429_that_outlasts_the_retries_says_when_to_come_back(kit):
    k = kit()
    fault = Fault.status(429, retry_after=0.05, json=error_body(429, "QuotaExceeded", "q"))
    k.server.script_always("POST", "/ent/v2/text2video", fault)

    async def call() -> None:
        ctx = k.ctx("viduq2")
        async with ctx.http:
            await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")

    with pytest.raises(RateLimited) as raised:
        asyncio.run(call())
    assert raised.value.retry_after == 0.05
    assert raised.value.vendor_code == "QuotaExceeded"
    assert raised.value.status == 429
    assert len(k.creates()) == 5  # core.http's attempts, each refused before acceptance
    assert k.fake.count_creates() == 0


def test_a_500_to_a_create_becomes_unknown_and_is_not_resent(kit):
    k = kit()
    k.server.script(
        "POST",
        "/ent/v2/text2video",
        Fault.status(
            500, json=error_body(500, "InternalServiceFailure", "internal service failure")
        ),
    )
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert len(k.creates()) == 1


def test_malformed_json_to_a_create_becomes_unknown(kit):
    k = kit()
    k.server.script("POST", "/ent/v2/text2video", Fault.malformed_json())
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert len(k.creates()) == 1


def test_a_lost_create_answer_becomes_unknown_with_our_id_at_vidu(kit):
    k = kit()
    k.server.script("POST", "/ent/v2/text2video", Fault.cut_after(0))
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert "never learned" in job.error
    assert len(k.creates()) == 1
    # Vidu made (and charged) the task; its payload names our job for support.
    assert k.fake.count_creates(job.client_request_id) == 1
    assert k.adapter.can_find is False


def test_5xx_and_malformed_json_on_polls_are_retried(kit):
    k = kit()
    k.server.script(
        "GET",
        "/ent/v2/tasks/{id}/creations",
        Fault.status(502),
        Fault.status(503),
        Fault.malformed_json(),
    )
    job = k.generate("viduq2", GenerationRequest("a fox"))
    _done(job)
    assert k.fake.count_creates() == 1


def test_polls_that_never_parse_fail_with_protocol(kit):
    k = kit()
    k.server.script_always("GET", "/ent/v2/tasks/{id}/creations", Fault.malformed_json())
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_expired_result_url_is_signed_afresh_once(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.status(403, text="AccessDenied"))
    job = k.generate("viduq2", GenerationRequest("a fox"))
    _done(job)
    assert len({r.query["sig"] for r in k.server.requests_to("GET", "/files/*")}) == 2
    assert k.fake.count_creates() == 1


def test_a_result_url_that_stays_expired_fails_the_job(kit):
    k = kit(url_ttl=0)
    job = k.generate("viduq2", GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert k.fake.count_creates() == 1
    assert list(k.paths.incoming.iterdir()) == []


def test_a_download_cut_short_resumes_with_a_range(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.cut_after(len(VIDEO) // 2))
    job = k.generate("viduq2", GenerationRequest("a fox"))
    _done(job)
    downloads = k.server.requests_to("GET", "/files/*")
    assert downloads[1].headers["Range"] == f"bytes={len(VIDEO) // 2}-"
    assert k.fake.count_creates() == 1


# ----------------------------------------------------------------- validation


def _refusals(tmp_path: Path) -> list[tuple[str, GenerationRequest, str]]:
    png = _image(tmp_path / "ok.png", (640, 360))
    tall = _image(tmp_path / "tall.png", (200, 900))
    tiny = _image(tmp_path / "tiny.png", (100, 100))
    square = _image(tmp_path / "square.png", (600, 600))
    return [
        ("viduq2", GenerationRequest("a fox", duration_s=11), "duration"),
        ("viduq2", GenerationRequest("a fox", duration_s=2.5), "duration"),
        ("viduq2", GenerationRequest("a fox", resolution="360p"), "resolution"),
        ("viduq2", GenerationRequest("a fox", aspect="21:9"), "aspect"),
        ("viduq1", GenerationRequest("a fox", aspect="4:3"), "aspect"),
        ("viduq1", GenerationRequest("a fox", duration_s=4), "duration"),
        ("viduq2", GenerationRequest("   "), "prompt"),
        ("viduq2", GenerationRequest("x" * 2001), "prompt"),
        ("vidu1.5", GenerationRequest("x" * 1501), "prompt"),
        ("viduq2", GenerationRequest("a fox", negative="blur"), "negative"),
        ("viduq2", GenerationRequest("a fox", seed=2147483648), "seed"),
        ("viduq2", GenerationRequest("a fox", image=png), "mode"),
        ("viduq2-pro", GenerationRequest("a fox"), "mode"),
        ("viduq2-pro", GenerationRequest("a fox", image=png, aspect="16:9"), "aspect"),
        ("viduq2-pro-fast", GenerationRequest("a fox", image=png, resolution="540p"), "resolution"),
        (
            "viduq2-pro",
            GenerationRequest("a fox", image=png, last_frame=png, duration_s=9),
            "duration",
        ),
        (
            "vidu2.0",
            GenerationRequest("a fox", image=png, duration_s=8, resolution="1080p"),
            "resolution",
        ),
        ("vidu2.0", GenerationRequest("a fox", image=png, duration_s=5), "duration"),
        ("viduq2", GenerationRequest("a fox", audio=True), "audio"),
        ("viduq2-pro", GenerationRequest("a", image=png, last_frame=png, audio=True), "audio"),
        ("viduq2-pro", GenerationRequest("a fox", image=tall), "image"),
        ("viduq2-pro", GenerationRequest("a fox", image=tiny), "image"),
        ("viduq2-pro", GenerationRequest("a fox", image=tmp_path / "none.png"), "image"),
        ("viduq2-pro", GenerationRequest("a", image=png, last_frame=square), "last_frame"),
        (
            "viduq2",
            GenerationRequest("a fox", extra={"movement_amplitude": "huge"}),
            "movement_amplitude",
        ),
        ("viduq2", GenerationRequest("a fox", extra={"style": "noir"}), "style"),
        ("viduq2-pro", GenerationRequest("a", image=png, extra={"style": "anime"}), "style"),
        ("viduq2", GenerationRequest("a fox", extra={"bgm": "yes"}), "bgm"),
        ("viduq3-pro", GenerationRequest("a fox", extra={"bgm": True}), "bgm"),
        ("viduq2", GenerationRequest("a fox", extra={"is_rec": True}), "is_rec"),
        ("viduq2-pro", GenerationRequest("a", image=png, extra={"voice_id": "v1"}), "voice_id"),
        (
            "viduq2-pro",
            GenerationRequest("a", image=png, audio=True, extra={"off_peak": True}),
            "off_peak",
        ),
        ("vidu1.5", GenerationRequest("a fox", duration_s=8, resolution="360p"), "resolution"),
    ]


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("vidu", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_allowed_combinations_pass_validation(kit, tmp_path):
    k = kit()
    png = _image(tmp_path / "ok.png", (640, 360))
    near = _image(tmp_path / "near.png", (700, 360))
    q3_pair = GenerationRequest("a", image=png, last_frame=near, audio=True, duration_s=16)
    for model, request in [
        ("viduq3-pro", q3_pair),
        ("viduq3-turbo", GenerationRequest("a", aspect="3:4", audio=True)),
        ("viduq3-pro", GenerationRequest("a", audio=True, extra={"off_peak": True})),
        ("viduq2-pro", GenerationRequest("", image=png, audio=True, extra={"voice_id": "v"})),
        ("viduq2-pro", GenerationRequest("a", image=png, extra={"is_rec": True})),
        ("vidu2.0", GenerationRequest("a", image=png, duration_s=8, resolution="720p")),
        ("viduq1-classic", GenerationRequest("a", image=png, last_frame=png)),
    ]:
        k.adapter.validate(request, k.catalog.model("vidu", model))


def test_an_oversized_body_is_refused_before_sending(kit, tmp_path):
    k = kit()
    png = _image(tmp_path / "ok.png", (640, 360))
    adapter = ViduAdapter(_with_extra(k.vendor, max_body_bytes=1000))

    async def call() -> None:
        ctx = k.ctx("viduq2-pro")
        async with ctx.http:
            await adapter.submit(ctx, GenerationRequest("a", image=png), "ts-1")

    with pytest.raises(InvalidInput, match="at most"):
        asyncio.run(call())
    assert k.server.count() == 0


def _with_extra(vendor: VendorSpec, **extra: Any) -> VendorSpec:
    return dataclasses.replace(vendor, extra={**vendor.extra, **extra})


# --------------------------------------------------- estimate, balance, cancel


def test_estimates_follow_the_catalog_off_peak_and_recommended_prompts(kit, tmp_path):
    k = kit()
    adapter, model = k.adapter, k.catalog.model
    q3 = model("vidu", "viduq3-pro")
    assert adapter.estimate(GenerationRequest("a", duration_s=5), q3).amount == 150
    off_peak = GenerationRequest("a", duration_s=5, resolution="1080p", extra={"off_peak": True})
    assert adapter.estimate(off_peak, q3).amount == 80
    png = tmp_path / "x.png"
    rec = GenerationRequest("a", image=png, extra={"is_rec": True})
    assert adapter.estimate(rec, model("vidu", "viduq1")).amount == 90
    old = model("vidu", "vidu1.5")
    assert adapter.estimate(GenerationRequest("a"), old).amount == 40  # 4 s: 360p
    assert adapter.estimate(GenerationRequest("a", duration_s=8), old).amount == 200  # 720p
    q2 = GenerationRequest("a", duration_s=3, resolution="540p")
    assert adapter.estimate(q2, model("vidu", "viduq2")).amount == 14


def test_balance_reports_remaining_credits_and_packs(kit):
    k = kit(credits=1234)

    async def call() -> Any:
        ctx = k.ctx()
        async with ctx.http:
            return await k.adapter.balance(ctx)

    balance = asyncio.run(call())
    assert (balance.amount, balance.unit) == (1234, "credits")
    assert balance.detail["remains"][0]["concurrency_limit"] == 5
    assert balance.detail["packages"][0]["valid_to"] == "2027-11-01T00:00:00Z"
    [request] = k.server.requests_to("GET", "/ent/v2/credits")
    assert request.query == {"show_detail": "true"}
    assert request.headers["Authorization"] == f"Token {KEY}"


def test_balance_with_a_wrong_key_is_an_auth_error(kit):
    k = kit()
    k.key = "nope"

    async def call() -> Any:
        ctx = k.ctx()
        async with ctx.http:
            return await k.adapter.balance(ctx)

    with pytest.raises(AuthError, match="Unauthorized"):
        asyncio.run(call())


def test_an_off_peak_task_is_cancelled_at_vidu(kit):
    k = kit()
    engine = k.engine()
    request = GenerationRequest("a fox", extra={"off_peak": True})
    _, [job_id] = engine.enqueue(request, [Target("vidu", "viduq2")])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    assert job.state == "running"
    before = k.fake.credits
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.state_of(job.vendor_task_id) == "failed"
    assert k.fake.credits > before  # refunded
    [cancel] = k.server.requests_to("POST", "/ent/v2/tasks/{id}/cancel")
    assert cancel.json == {"id": job.vendor_task_id}
    assert cancel.headers["Authorization"] == f"Token {KEY}"


def test_a_cancel_vidu_refuses_says_why_and_a_cancelled_task_polls_as_cancelled(kit):
    k = kit(queued_polls=0, running_polls=5)
    adapter = k.adapter

    async def scenario() -> tuple[Any, Any]:
        ctx = k.ctx("viduq2")
        async with ctx.http:
            handle = await adapter.submit(ctx, GenerationRequest("a fox"), "ts-9")
            first = await adapter.poll(ctx, handle)
            assert first.state is TaskState.RUNNING
            with pytest.raises(Rejected, match="can not cancel"):
                await adapter.cancel(ctx, handle)
            k.fake.tasks[handle.task_id].cancelled = True
            return handle, await adapter.poll(ctx, handle)

    _, status = asyncio.run(scenario())
    assert status.state is TaskState.CANCELLED
    assert status.vendor_state == "failed"
    assert status.cost == 0


def test_progress_is_read_as_a_fraction_or_a_percent(kit):
    adapter = kit().adapter
    handle = TaskHandle("1")
    for raw, expected in [(0.4, 0.4), (40, 0.4), (None, None)]:
        data = {"state": "processing", "credits": 10, "progress": raw, "creations": []}
        assert adapter._status(data, handle).progress == expected


def test_the_adapter_is_a_vendor_adapter_with_regions(kit):
    k = kit()
    assert isinstance(k.adapter, VendorAdapter)
    vendor = k.vendor
    assert vendor.base_url() == "https://api.vidu.com"
    assert vendor.base_url("international") == "https://api.vidu.com"
    assert vendor.base_url("mainland") == "https://api.vidu.cn"
    assert vendor.secrets == ("api_key",)


# ------------------------------------------------------------------------ CLI


def _cli(home: Path, fake: ViduFake, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_VIDU_BASE_URL": fake.url,
        "TAKESTOCK_VIDU_API_KEY": KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_vidu_take_and_refuses_bad_input(home, kit):
    k = kit()
    result = _cli(
        home, k.fake, "generate", "--vendor", "vidu", "--model", "viduq2",
        "--prompt", "a kite over dunes", "--duration", "2", "--resolution", "540p",
        "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    [create] = k.creates()
    assert create.json["payload"] == job["client_request_id"]

    refused = _cli(
        home, k.fake, "generate", "--vendor", "vidu", "--model", "viduq2",
        "--prompt", "a kite", "--duration", "12", "--wait", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr + refused.stdout
    assert k.fake.count_creates() == 1
