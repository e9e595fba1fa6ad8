"""fal.ai through the engine, against a fake fal (queue, storage, CDN, Platform API)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
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
from takestock.core.errors import AuthError, GenerationFailed, InvalidInput, RateLimited
from takestock.core.http import RetryPolicy
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, Mode, TaskHandle, TaskState
from takestock.vendors.fal import FalAdapter, app_path, endpoint_plan
from tests.fakeserver import Fault
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_fal import KEY, FakeFal

VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
KLING = "fal-ai/kling-video/v3/pro"
VEO = "fal-ai/veo3.1"
HAILUO = "minimax/h3-max"
WAN = "alibaba/wan-3.0-prime"
SEEDANCE = "bytedance/seedance-2.5"
KLING_T2V = f"/{KLING}/text-to-video"
KLING_I2V = f"/{KLING}/image-to-video"
KLING_STATUS = "/fal-ai/kling-video/requests/{id}/status"
KLING_RESULT = "/fal-ai/kling-video/requests/{id}"
INITIATE = "/storage/upload/initiate"
CDN = "/cdn/*"


def fal_detail(field: str, msg: str, kind: str) -> dict[str, Any]:
    return {"detail": [{"loc": ["body", field], "msg": msg, "type": kind, "url": "x"}]}


@dataclass
class Kit:
    fake: FakeFal
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: FalAdapter
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
            {"fal": self.adapter},
            StaticCredentials({"fal": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_FAL_BASE_URL": self.fake.base_url},
            **kw,
        )

    def generate(
        self, request: GenerationRequest | None = None, model: str = KLING, count: int = 1
    ) -> list[Job]:
        request = request or GenerationRequest("a paper boat", duration_s=5)
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("fal", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str | None = KLING, **kw: Any) -> CallContext:
        vendor = self.catalog.vendor("fal")
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.base_url,
            "model": vendor.models[model] if model else None,
            "secrets": {"api_key": self.key},
            **kw,
        }
        fields.setdefault("http", httpx.AsyncClient(timeout=10))
        return CallContext(**fields)

    def call(self, make: Any, model: str | None = KLING, **kw: Any) -> Any:
        ctx = self.context(model, **kw)

        async def go() -> Any:
            async with ctx.http:
                return await make(ctx)

        return asyncio.run(go())

    def posts(self, path: str = KLING_T2V) -> int:
        return len(self.server.requests_to("POST", path))

    def with_catalog(self, overrides: dict[str, Any]) -> Kit:
        self.paths.catalog_overrides.write_text(json.dumps(overrides))
        self.catalog = load_catalog(self.paths.catalog_overrides)
        self.adapter = FalAdapter(self.catalog.vendor("fal"))
        return self


@pytest.fixture
def kit(tmp_path):
    servers = []

    def make(**options: Any) -> Kit:
        fake = FakeFal(**{"video": VIDEO, **options})
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / f"kit{len(servers)}").ensure()
        catalog = load_catalog()
        return Kit(
            fake, paths, open_store(paths.database), catalog, FalAdapter(catalog.vendor("fal"))
        )

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 90, 40)).save(path, fmt)
    return path


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


def example_override() -> dict[str, Any]:
    """The catalog's own how-to example, as a user would paste it."""
    vendor = json.loads((Path(__file__).parents[2] / "resources/catalog/fal.json").read_text())
    return vendor["extra"]["how_to_add_a_model"]["example"]


# ---------------------------------------------------------------------------- happy paths


def test_text_to_video_becomes_a_take_polled_under_the_app_id(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", negative="blur", duration_s=5, aspect="9:16", audio=True
    )
    [job] = k.generate(request)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = k.server.requests_to("POST", KLING_T2V)
    assert create.headers["Authorization"] == f"Key {KEY}"
    assert create.headers["Content-Type"] == "application/json"
    assert create.json == {
        "prompt": "a red fox in snow",
        "negative_prompt": "blur",
        "duration": "5",
        "aspect_ratio": "9:16",
        "generate_audio": True,
    }
    # Status and result live under owner/alias, never under the endpoint's sub-path.
    assert len(k.server.requests_to("GET", KLING_STATUS)) == 4  # queued, running twice, completed
    [result] = k.server.requests_to("GET", KLING_RESULT)
    assert result.path == f"/fal-ai/kling-video/requests/{job.vendor_task_id}"
    assert all(r.headers["Authorization"] == f"Key {KEY}" for r in k.server.requests[1:-1])
    [download] = k.server.requests_to("GET", CDN)
    assert "Authorization" not in download.headers  # the key never goes to the CDN
    assert job.estimate == {"amount": 0.84, "unit": "USD", "money": 0.84, "currency": "USD"}
    assert job.vendor_state == "COMPLETED"
    assert k.fake.count_creates() == 1


def test_image_to_video_uploads_the_first_frame_to_fal_storage(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    [job] = k.generate(GenerationRequest("the boat sails", image=first))
    done(job)
    [initiate] = k.server.requests_to("POST", INITIATE)
    assert initiate.query == {"storage_type": "gcs"}
    assert initiate.headers["Authorization"] == f"Key {KEY}"
    assert initiate.json == {"file_name": "first-frame.png", "content_type": "image/png"}
    [put] = k.server.requests_to("PUT", "/upload/{token}")
    assert "Authorization" not in put.headers
    assert put.headers["Content-Type"] == "image/png"
    assert put.body == first.read_bytes()
    [body] = k.fake.creates
    [upload] = k.fake.uploads.values()
    assert upload.data == first.read_bytes()
    assert body == {
        "prompt": "the boat sails",
        "duration": "5",
        "generate_audio": False,  # Kling's default is on (and dearer): ours is off
        "start_image_url": body["start_image_url"],
    }
    assert body["start_image_url"].startswith(k.fake.base_url + "/files/")
    assert "aspect_ratio" not in body  # the picture decides the shape
    [found] = k.fake.requests.values()
    assert found.images["start_image_url"] == {
        "format": "png",
        "width": 640,
        "height": 360,
        "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
        "via": "upload",
    }


def test_first_and_last_frame_on_veo_go_to_its_own_endpoint(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.jpg", (1280, 720), "JPEG")
    last = picture(tmp_path, "b.png", (1280, 720))
    request = GenerationRequest(
        "the door opens", image=first, last_frame=last, resolution="1080p", seed=7
    )
    [job] = k.generate(request, model=VEO)
    done(job)
    [create] = k.server.requests_to("POST", "/fal-ai/veo3.1/first-last-frame-to-video")
    body = create.json
    urls = [u.json for u in k.server.requests_to("POST", INITIATE)]
    assert urls == [
        {"file_name": "first-frame.jpg", "content_type": "image/jpeg"},
        {"file_name": "last-frame.png", "content_type": "image/png"},
    ]
    assert body == {
        "prompt": "the door opens",
        "duration": "8s",
        "resolution": "1080p",
        "generate_audio": False,
        "seed": 7,
        "first_frame_url": body["first_frame_url"],
        "last_frame_url": body["last_frame_url"],
    }
    [found] = k.fake.requests.values()
    assert set(found.images) == {"first_frame_url", "last_frame_url"}
    assert len(k.server.requests_to("GET", "/fal-ai/veo3.1/requests/{id}/status")) >= 3
    assert job.estimate["amount"] == 1.6  # 8 s silent at $0.20/s


def test_hailuo_maps_resolution_names_and_sends_its_required_input(kit):
    k = kit(validate_at="submit")
    request = GenerationRequest("a kite", duration_s=6, resolution="480p", seed=3)
    [job] = k.generate(request, model=HAILUO)
    done(job)
    assert k.fake.creates == [
        {
            "prompt_expansion_mode": "balanced",
            "prompt": "a kite",
            "duration": 6,
            "aspect_ratio": "16:9",
            "resolution": "480P",
            "seed": 3,
        }
    ]
    assert len(k.server.requests_to("GET", "/minimax/h3-max/requests/{id}/status")) >= 3


def test_options_pass_through_and_other_extras_are_left_alone(kit):
    k = kit(validate_at="submit")
    request = GenerationRequest(
        "a fox", duration_s=4, extra={"cfg_scale": 0.7, "camera_fixed": True}
    )
    [job] = k.generate(request, model=KLING)
    done(job)
    assert k.fake.creates[0]["cfg_scale"] == 0.7
    assert "camera_fixed" not in k.fake.creates[0]  # another vendor's option (a fan-out)


def test_every_shipped_model_and_mode_sends_what_its_endpoint_accepts(kit, tmp_path):
    """Each catalog entry against the endpoint's schema (the fake checks at submit and
    refuses any input the schema does not name)."""
    k = kit(validate_at="submit")
    first = picture(tmp_path, "first.png", (1280, 720))
    last = picture(tmp_path, "last.png", (1280, 720))
    vendor = k.catalog.vendor("fal")
    sent = []
    for model in vendor.models.values():
        if not model.available:
            continue
        for mode in model.modes:
            image = first if mode != "text" else None
            request = GenerationRequest(
                "a lighthouse at dusk",
                image=image,
                last_frame=last if mode == "first_last" else None,
                duration_s=model.durations[-1],
                resolution=list(model.resolutions)[-1],
                aspect=model.aspects[-1] if mode == "text" else None,
                audio=True if model.audio else None,
                seed=1 if model.seed and "seed" in endpoint_plan(model, mode).inputs else None,
            )
            k.adapter.validate(request, model)
            handle = k.call(lambda ctx, r=request: k.adapter.submit(ctx, r, "ts-x"), model.id)
            sent.append((model.id, mode, handle.data["endpoint"]))
    assert len(sent) == k.fake.count_creates() == 18
    assert {endpoint for _, _, endpoint in sent} == {f.endpoint for f in k.fake.requests.values()}


def test_a_model_added_by_a_catalog_override_needs_no_code(kit, tmp_path):
    k = kit(validate_at="submit").with_catalog(example_override())
    model = "fal-ai/kling-video/v2.5-turbo/pro"
    first = picture(tmp_path, "first.png")
    [text] = k.generate(GenerationRequest("a heron", duration_s=10, aspect="1:1"), model=model)
    [image] = k.generate(GenerationRequest("a heron lands", image=first), model=model)
    done(text)
    done(image)
    t2v, i2v = k.fake.creates
    assert t2v == {"cfg_scale": 0.5, "prompt": "a heron", "duration": "10", "aspect_ratio": "1:1"}
    assert i2v["image_url"].startswith(k.fake.base_url + "/files/")
    assert {key: v for key, v in i2v.items() if key != "image_url"} == {
        "cfg_scale": 0.5,
        "prompt": "a heron lands",
        "duration": "5",
    }
    assert text.estimate["amount"] == 0.7


def test_an_image_mapped_as_a_data_url_goes_inline(kit, tmp_path):
    override = example_override()
    entry = override["fal"]["models"]["fal-ai/kling-video/v2.5-turbo/pro"]
    entry["extra"]["inputs"]["image"] = {"name": "image_url", "as": "data_url"}
    k = kit().with_catalog(override)
    first = picture(tmp_path, "first.png")
    [job] = k.generate(
        GenerationRequest("a heron lands", image=first), model="fal-ai/kling-video/v2.5-turbo/pro"
    )
    done(job)
    assert k.fake.creates[0]["image_url"].startswith("data:image/png;base64,")
    assert len(k.server.requests_to("POST", INITIATE)) == 0
    [found] = k.fake.requests.values()
    assert found.images["image_url"]["via"] == "data_url"


def test_status_urls_on_another_host_are_never_followed(kit):
    k = kit(foreign_urls=True)
    [job] = k.generate()
    done(job)
    assert (
        len(k.server.requests_to("GET", KLING_STATUS)) >= 3
    )  # rebuilt from the app id, on our host
    assert job.task_data == {"endpoint": f"{KLING}/text-to-video"}


def test_hosts_follow_the_catalog_unless_the_base_url_is_overridden(kit, tmp_path):
    """With the catalog's base URL, storage and balance go to the REST host and the
    Platform API to its own (MockTransport: nothing leaves the machine)."""
    k = kit()
    first = picture(tmp_path, "first.png")
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        url = str(request.url)
        if url.endswith("/storage/upload/initiate?storage_type=gcs"):
            slot = {"upload_url": "https://up.example/u?s=1", "file_url": "https://v3.fal.media/x"}
            return httpx.Response(200, json=slot)
        if url.startswith("https://up.example/"):
            return httpx.Response(200)
        if "billing" in url:
            return httpx.Response(200, text="3.25")
        if "/v1/models" in url:
            return httpx.Response(200, json={"models": [], "next_cursor": None, "has_more": False})
        return httpx.Response(
            200,
            json={
                "request_id": "r1",
                "status_url": "https://queue.fal.run/fal-ai/kling-video/requests/r1/status",
                "response_url": "https://elsewhere.example/fal-ai/kling-video/requests/r1",
            },
        )

    async def go(ctx: CallContext) -> Any:
        handle = await k.adapter.submit(ctx, GenerationRequest("a", image=first), "ts-1")
        return handle, await k.adapter.balance(ctx), await k.adapter.list_models(ctx)

    transport = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    handle, balance, listed = k.call(go, http=transport, base_url="https://queue.fal.run")
    assert seen[:3] == [
        "POST https://rest.fal.ai/storage/upload/initiate?storage_type=gcs",
        "PUT https://up.example/u?s=1",
        f"POST https://queue.fal.run/{KLING}/image-to-video",
    ]
    assert seen[3] == "GET https://rest.fal.ai/billing/user_balance"
    assert seen[4].startswith("GET https://api.fal.ai/v1/models?endpoint_id=")
    assert handle.data == {
        "endpoint": f"{KLING}/image-to-video",
        "status_url": "https://queue.fal.run/fal-ai/kling-video/requests/r1/status",
    }
    assert (balance.amount, balance.unit) == (3.25, "USD")
    assert {e["status"] for e in listed if e["id"] != "fal-ai/sora-2"} == {"retired"}
    assert k.server.count() == 0


def test_app_ids_keep_their_namespace_and_drop_the_sub_path():
    assert app_path("fal-ai/kling-video/v3/pro/text-to-video") == "fal-ai/kling-video"
    assert app_path("fal-ai/veo3.1") == "fal-ai/veo3.1"
    assert app_path("workflows/someone/flow/run") == "workflows/someone/flow"


# -------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("options", "key", "kind", "words"),
    [
        ({}, "wrong-id:wrong-secret", "auth", "No user found for Key ID and Secret"),
        ({}, "no-colon", "auth", "Invalid Key Authorization header format"),
        (
            {"locked": "Exhausted balance. Top up your balance at fal.ai/dashboard/billing."},
            KEY,
            "quota",
            "User is locked. Reason: Exhausted balance",
        ),
        ({"locked": "TOP_UP."}, KEY, "quota", "Top up the fal balance"),
        ({"locked": "Admin lock. Please contact support@fal.ai"}, KEY, "auth", "Admin lock"),
    ],
)
def test_a_refused_create_fails_the_job_with_fals_words(kit, options, key, kind, words):
    k = kit(**options)
    k.key = key
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0
    assert k.posts() == 1


def test_a_locked_account_fails_at_the_upload_and_sends_no_create(kit, tmp_path):
    k = kit(locked="Exhausted balance. Top up your balance at fal.ai/dashboard/billing.")
    [job] = k.generate(GenerationRequest("a", image=picture(tmp_path, "a.png")))
    assert (job.state, job.error_kind) == ("failed", "quota")
    assert k.posts(KLING_I2V) == 0


def test_an_upload_that_keeps_failing_is_not_an_unknown_create(kit, tmp_path, no_backoff):
    k = kit()
    k.server.script_always("POST", INITIATE, Fault.status(503, text="upstream"))
    [job] = k.generate(GenerationRequest("a", image=picture(tmp_path, "a.png")))
    assert (job.state, job.error_kind) == ("failed", "vendor")
    assert "nothing was sent to the model" in job.error
    assert k.posts(KLING_I2V) == 0


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #nsfw", "rejected", "flagged by a content checker. (content_policy_violation)"),
        ("a fox #fail", "generation_failed", "(internal_server_error)"),
        ("a fox #timeout", "generation_failed", "Request timed out (request_timeout)"),
    ],
)
def test_a_failed_run_keeps_fals_message_and_type(kit, prompt, kind, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt, duration_s=5))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_state == "COMPLETED (error)"
    assert job.vendor_task_id
    assert k.fake.count_creates() == 1


def test_a_bad_parameter_at_submit_is_rejected_with_the_field_message(kit):
    k = kit()
    detail = fal_detail("duration", "Input should be '5' or '10'", "enum")
    k.server.script("POST", KLING_T2V, Fault.status(422, json=detail))
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "fal.ai: duration: Input should be '5' or '10'" in job.error
    assert k.fake.count_creates() == 0


def test_a_bad_parameter_found_at_run_time_fails_the_job_as_rejected(kit):
    # A catalog entry that maps a field to a name the endpoint does not know.
    k = kit().with_catalog(
        {"fal": {"models": {KLING: {"extra": {"inputs": {"seed": "seed"}}, "seed": True}}}}
    )
    [job] = k.generate(GenerationRequest("a fox", seed=5))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "seed: Extra inputs are not permitted (extra_forbidden)" in job.error


def test_an_endpoint_fal_no_longer_serves_retires_the_model(kit):
    k = kit().with_catalog(
        {"fal": {"models": {KLING: {"extra": {"endpoints": {"text": "fal-ai/kling-video/v9"}}}}}}
    )
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "Application 'fal-ai/kling-video/v9' not found" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["fal"]["models"][KLING]["status"] == "retired"


def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    busy = {"detail": "Rate limit exceeded"}
    k.server.script(
        "POST",
        KLING_T2V,
        Fault.status(429, retry_after=0.3, json=busy),
        Fault.status(429, retry_after=0.3, json=busy),
    )
    [job] = k.generate()
    done(job)
    creates = k.server.requests_to("POST", KLING_T2V)
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.28
    assert creates[2].at - creates[1].at >= 0.28
    assert k.fake.count_creates() == 1


def test_a_rate_limit_without_retry_after_backs_off_and_both_finish(kit, no_backoff):
    start = time.time()
    k = kit(rpm=1, clock=lambda: start + (time.time() - start) * 500)
    jobs = k.generate(count=2)
    assert [j.state for j in jobs] == ["done", "done"]
    assert k.fake.count_creates() == 2
    assert k.posts() > 2


def test_a_429_that_persists_is_rate_limited(kit):
    k = kit()
    slow = Fault.status(429, retry_after=0, json={"detail": "slow"})
    k.server.script_always("POST", KLING_T2V, slow)
    with pytest.raises(RateLimited) as refused:
        k.call(lambda ctx: k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1"))
    assert (refused.value.retry_after, refused.value.status) == (0.0, 429)
    assert "fal.ai: slow" in refused.value.message
    assert k.fake.count_creates() == 0


def test_over_the_concurrency_limit_fal_queues_and_all_finish(kit):
    k = kit(concurrency=1, queued_polls=0, running_polls=2)
    jobs = k.generate(count=3)
    assert [j.state for j in jobs] == ["done"] * 3
    assert k.fake.peak_running == 1
    assert k.fake.count_creates() == 3


# ---------------------------------------------------------------------- transport faults


def test_a_5xx_to_a_poll_or_a_result_is_retried(kit, no_backoff):
    k = kit()
    k.server.script("GET", KLING_STATUS, Fault.status(503, text="upstream"))
    # More than core.http's own retries: the adapter reports it transient, the engine
    # polls again, and the result (kept an hour) is fetched on the next round.
    nginx = Fault.status(502, text="<html>nginx</html>")
    k.server.script("GET", KLING_RESULT, *[nginx] * 6)
    [job] = k.generate()
    done(job)
    assert len(k.server.requests_to("GET", KLING_RESULT)) == 7
    assert k.fake.count_creates() == 1


def test_a_rate_limit_on_the_result_polls_again_instead_of_failing(kit, no_backoff):
    k = kit()
    busy = Fault.status(429, retry_after=0, json={"detail": "Rate limit exceeded"})
    k.server.script("GET", KLING_RESULT, *[busy] * 5)  # core.http's five tries
    [job] = k.generate()
    done(job)
    assert len(k.server.requests_to("GET", KLING_RESULT)) == 6


def test_a_5xx_to_a_create_becomes_unknown_and_is_never_resent(kit):
    k = kit()
    k.server.script("POST", KLING_T2V, Fault.status(500, json={"detail": "Internal error"}))
    [job] = k.generate()
    assert job.state == "unknown"
    assert k.posts() == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_not_a_second_charge(kit):
    k = kit()
    k.server.script("POST", KLING_T2V, Fault.cut_after(0))  # fal queued it; we never heard
    [job] = k.generate()
    assert job.state == "unknown"
    assert "cannot look tasks up by our id" in job.error
    assert k.fake.count_creates() == 1
    assert k.posts() == 1
    assert k.adapter.can_find is False


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", KLING_T2V, Fault.malformed_json())
    [job] = k.generate()
    assert job.state == "unknown"
    assert k.posts() == 1


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", KLING_STATUS, Fault.malformed_json())
    [job] = k.generate()
    done(job)


def test_a_poll_that_never_makes_sense_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", KLING_STATUS, Fault.malformed_json())
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_expired_result_link_fails_the_job_after_one_look(kit):
    k = kit(url_ttl=0)
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    # The engine asked once more; fal's CDN link is the same, so there is no fresh one.
    assert len(k.server.requests_to("GET", KLING_RESULT)) == 2
    assert len({r.query["sig"] for r in k.server.requests_to("GET", CDN)}) == 1
    assert list(k.paths.incoming.iterdir()) == []
    assert k.fake.count_creates() == 1


def test_a_result_fal_no_longer_keeps_fails_the_job(kit):
    k = kit(result_ttl=-1)
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "generation_failed")
    assert "no longer knows request" in job.error


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


def test_a_request_fal_does_not_know_fails_the_poll(kit):
    k = kit()
    handle = TaskHandle("nope", {"endpoint": f"{KLING}/text-to-video"})
    with pytest.raises(GenerationFailed) as failed:
        k.call(lambda ctx: k.adapter.poll(ctx, handle))
    assert "no longer knows request nope" in failed.value.message


# ------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    return [
        (KLING, GenerationRequest("a fox", duration_s=16), "duration"),  # 3-15 s
        (KLING, GenerationRequest("a fox", duration_s=5.5), "duration"),
        (VEO, GenerationRequest("a fox", duration_s=5), "duration"),  # 4, 6, 8 s
        (KLING, GenerationRequest("a fox", resolution="720p"), "resolution"),
        (HAILUO, GenerationRequest("a fox", resolution="1080p"), "resolution"),
        (KLING, GenerationRequest("a fox", aspect="4:3"), "aspect"),
        (KLING, GenerationRequest("a fox", image=ok, aspect="16:9"), "aspect"),  # the picture
        (SEEDANCE, GenerationRequest("a fox", image=ok, aspect="16:9"), "aspect"),
        (HAILUO, GenerationRequest("a fox", negative="blur"), "negative"),
        (KLING, GenerationRequest("a fox", seed=1), "seed"),
        (WAN, GenerationRequest("a fox", seed=2**31), "seed"),  # 0..2147483647
        (HAILUO, GenerationRequest("a fox", audio=True), "audio"),
        (HAILUO, GenerationRequest("", image=ok), "prompt"),  # a prompt is required
        (SEEDANCE, GenerationRequest(" ", image=ok), "prompt"),
        (KLING, GenerationRequest("x" * 2501), "prompt"),
        (KLING, GenerationRequest("   "), "prompt"),
        (KLING, GenerationRequest("a", image=picture(tmp, "small.png", (200, 200))), "image"),
        (KLING, GenerationRequest("a", image=picture(tmp, "wide.png", (1300, 500))), "image"),
        (KLING, GenerationRequest("a", image=ok, last_frame=tmp / "missing.png"), "last_frame"),
        (KLING, GenerationRequest("a fox", extra={"cfg_scale": [1]}), "cfg_scale"),
        ("fal-ai/sora-2", GenerationRequest("a fox"), "model"),  # retired
    ]


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("fal", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("fal").models
    ok = picture(tmp_path, "ok.png")
    for model, request in [
        (KLING, GenerationRequest("a fox", duration_s=15, aspect="1:1", audio=True)),
        (KLING, GenerationRequest("", image=ok, resolution="1080p")),  # its only resolution
        (VEO, GenerationRequest("a fox", duration_s=4, resolution="4k", seed=2**32 - 1)),
        (VEO, GenerationRequest("a fox", image=ok, aspect="9:16")),  # Veo takes it with images
        (WAN, GenerationRequest("a fox", duration_s=30, seed=2**31 - 1, aspect="adaptive")),
        (HAILUO, GenerationRequest("a fox", duration_s=15, aspect="21:9")),
    ]:
        k.adapter.validate(request, models[model])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"endpoints": {"text": None}, "endpoint": None}, "names no endpoint for text to video"),
        ({"inputs": {"length": "duration"}}, "maps unknown fields ['length']"),
        ({"inputs": {"duration_s": {"name": "duration", "as": "roman"}}}, "'as' must be one of"),
        ({"inputs": {"image": {"name": "image_url", "as": "string"}}}, "an image is sent 'as'"),
        ({"inputs": {"seed": {"name": "seed", "typo": 1}}}, "unknown keys ['typo']"),
    ],
)
def test_a_broken_catalog_entry_is_refused_by_name(kit, extra, words):
    k = kit().with_catalog({"fal": {"models": {KLING: {"extra": extra}}}})
    with pytest.raises(InvalidInput) as refused:
        k.adapter.validate(GenerationRequest("a fox"), k.catalog.vendor("fal").models[KLING])
    assert refused.value.field == "model"
    assert words in refused.value.message


def test_estimates_follow_the_catalog_prices(kit):
    k = kit()
    models = k.catalog.vendor("fal").models
    veo = k.adapter.estimate(
        GenerationRequest("a", duration_s=8, resolution="4k", audio=True), models[VEO]
    )
    standard = k.adapter.estimate(
        GenerationRequest("a", duration_s=5), models["fal-ai/kling-video/v3/standard"]
    )
    assert (veo.amount, veo.money, veo.currency) == (4.8, 4.8, "USD")
    assert standard.amount == 0.42


# ------------------------------------------------------------------- cancel and balance


def test_cancel_removes_a_queued_request_and_the_poll_says_cancelled(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("fal", KLING)])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    [put] = k.server.requests_to("PUT", "/fal-ai/kling-video/requests/{id}/cancel")
    assert put.headers["Authorization"] == f"Key {KEY}"
    status = k.call(lambda ctx: k.adapter.poll(ctx, job.handle))
    assert (status.state, status.vendor_state) == (
        TaskState.CANCELLED,
        "COMPLETED (client_cancelled)",
    )


def test_cancel_of_a_finished_or_unknown_request_says_no(kit):
    k = kit(queued_polls=0, running_polls=0)

    async def go(ctx: CallContext) -> tuple[bool, bool]:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")
        while (await k.adapter.poll(ctx, handle)).state is not TaskState.SUCCEEDED:
            pass
        finished = await k.adapter.cancel(ctx, handle)
        unknown = await k.adapter.cancel(ctx, TaskHandle("gone", handle.data))
        return finished, unknown

    assert k.call(go) == (False, False)


def test_balance_reads_the_rest_hosts_bare_number(kit):
    k = kit(balance=12.75)
    balance = k.call(lambda ctx: k.adapter.balance(ctx), model=None)
    assert (balance.amount, balance.unit) == (12.75, "USD")
    [get] = k.server.requests_to("GET", "/billing/user_balance")
    assert get.headers["Authorization"] == f"Key {KEY}"


def test_balance_is_none_where_the_endpoint_is_gone_and_an_error_on_a_bad_key(kit):
    k = kit()
    k.server.script("GET", "/billing/user_balance", Fault.status(404, text="Not Found"))
    assert k.call(lambda ctx: k.adapter.balance(ctx), model=None) is None
    k.key = "bad:key"
    with pytest.raises(AuthError):
        k.call(lambda ctx: k.adapter.balance(ctx), model=None)


# --------------------------------------------------------------------- list the models


def test_refresh_keeps_the_catalog_in_step_with_fals_schemas(kit):
    k = kit(page_size=4)
    changes = asyncio.run(k.engine().refresh_models("fal"))
    shipped = k.catalog.vendor("fal").models
    # The shipped data already says what fal's schemas say: nothing to change.
    assert changes["added"] == changes["updated"] == changes["retired"] == []
    assert sorted(changes["unchanged"]) == sorted(shipped)
    gets = k.server.requests_to("GET", "/v1/models")
    assert len(gets) == 4  # 13 endpoints, 4 a page, one cursor after another
    assert all(g.query["expand"] == "openapi-3.0" for g in gets)
    assert "cursor" not in gets[0].query
    assert all(g.query["cursor"] for g in gets[1:])


def test_refresh_reads_limits_from_the_schemas_through_the_field_map(kit):
    stale = {
        KLING: {"durations": [5, 10], "image": {"max_bytes": 1048576, "min_side": 100}},
        HAILUO: {"resolutions": {"768p": 768}, "prompt_max_chars": 2000},
        WAN: {"aspects": ["16:9"], "default_aspect": "16:9"},
    }
    k = kit().with_catalog({"fal": {"models": stale}})
    changes = asyncio.run(k.engine().refresh_models("fal"))
    assert sorted(changes["updated"]) == sorted(stale)
    models = load_catalog(k.paths.catalog_overrides).vendor("fal").models
    assert models[KLING].durations == tuple(float(d) for d in range(3, 16))
    assert (models[KLING].image.max_bytes, models[KLING].image.min_side) == (10485760, 300)
    assert dict(models[HAILUO].resolutions) == {"480p": 480, "768p": 768}  # "480P" read back
    assert models[HAILUO].prompt_max_chars == 50000
    assert models[WAN].aspects == ("adaptive", "16:9", "4:3", "1:1", "3:4", "9:16")
    assert models[WAN].default_aspect == "16:9"


def test_refresh_drops_gone_endpoints_deprecates_and_retires(kit):
    k = kit(
        unlisted=[
            "fal-ai/veo3.1/first-last-frame-to-video",
            "alibaba/wan-3.0-prime/text-to-video",
            "alibaba/wan-3.0-prime/image-to-video",
        ],
        deprecated=["minimax/h3-max/text-to-video"],
    )
    changes = asyncio.run(k.engine().refresh_models("fal"))
    assert changes["retired"] == []  # the adapter said so itself: listed with a status
    models = load_catalog(k.paths.catalog_overrides).vendor("fal").models
    assert models[VEO].modes == ("text", "image")
    assert "no longer lists fal-ai/veo3.1/first-last-frame-to-video" in models[VEO].status_note
    assert models[VEO].status == "active"
    assert models[HAILUO].status == "deprecated"
    assert "minimax/h3-max/text-to-video deprecated" in models[HAILUO].status_note
    assert models[WAN].status == "retired"
    assert models["fal-ai/sora-2"].status == "retired"
    with pytest.raises(InvalidInput, match="retired"):
        load_catalog(k.paths.catalog_overrides).model("fal", WAN)


# ----------------------------------------------------------------------------- the CLI


def _cli(home: Path, fake: FakeFal, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_FAL_BASE_URL": fake.base_url,
        "TAKESTOCK_FAL_API_KEY": KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_refuses_a_bad_duration_and_refreshes(kit, home):
    k = kit()
    result = _cli(
        home, k.fake, "generate", "--vendor", "fal", "--model", KLING,
        "--prompt", "a lighthouse at dusk", "--duration", "4", "--aspect", "9:16",
        "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert k.fake.creates[0]["aspect_ratio"] == "9:16"

    refused = _cli(
        home, k.fake, "generate", "--vendor", "fal", "--model", KLING, "--prompt", "a fox",
        "--duration", "20", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1

    refresh = _cli(home, k.fake, "vendors", "refresh", "fal", "--json")
    assert refresh.returncode == 0, refresh.stderr
    changes = json.loads(refresh.stdout)
    assert KLING in changes["unchanged"]
    assert changes["added"] == changes["retired"] == []


def test_the_shipped_catalog_maps_every_mode_of_every_model(kit):
    vendor = load_catalog().vendor("fal")
    assert vendor.base_urls == {"default": "https://queue.fal.run"}
    assert vendor.extra["rest_base_url"] == "https://rest.fal.ai"
    for model in vendor.models.values():
        for mode in model.modes:
            plan = endpoint_plan(model, Mode(mode))
            assert "prompt" in plan.inputs, (model.id, mode)
            if mode != "text":
                assert "image" in plan.inputs, (model.id, mode)
            if mode == "first_last":
                assert "last_frame" in plan.inputs, (model.id, mode)
        if model.available:
            assert model.default_duration in model.durations
