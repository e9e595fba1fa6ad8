"""Kling through the engine against a loopback fake Kling (tests/vendors/fake_kling.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, VendorSpec, parse_vendor
from takestock.core.errors import AuthError, InvalidInput
from takestock.core.http import RetryPolicy
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle
from takestock.vendors.kling import KlingAdapter
from tests.fakeserver import FakeServer, Fault, tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_kling import ACCESS_KEY, API_KEY, SECRET_KEY, FakeKling

VIDEO = tiny_mp4(seconds=1.0, width=320, height=180)
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)
AKSK = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
KEY = {"api_key": API_KEY}
T2V = "/v1/videos/text2video"
I2V = "/v1/videos/image2video"


def kling_spec() -> VendorSpec:
    text = (resources.files("takestock.resources") / "catalog" / "kling.json").read_text("utf-8")
    return parse_vendor(json.loads(text))


@dataclass
class Kit:
    fake: FakeKling
    paths: DataPaths
    store: Store
    spec: VendorSpec
    secrets: dict[str, str]
    adapter: KlingAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.adapter = KlingAdapter(self.spec, read_policy=FAST)

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def engine(self) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            Catalog({"kling": self.spec}),
            {"kling": self.adapter},
            StaticCredentials({"kling": self.secrets}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_KLING_BASE_URL": self.fake.url},
        )

    def generate(self, model: str, request: GenerationRequest, count: int = 1) -> list[Job]:
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("kling", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def bodies(self, path: str) -> list[Any]:
        return [r.json for r in self.server.requests_to("POST", path)]

    def ctx(self, client: httpx.AsyncClient, model: str | None = None) -> CallContext:
        return CallContext(
            http=client,
            vendor=self.spec,
            base_url=self.fake.url,
            model=self.spec.models[model] if model else None,
            secrets=self.secrets,
        )


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Callable[..., Kit]]:
    servers: list[FakeServer] = []

    def make(secrets: dict[str, str] | None = None, **options: Any) -> Kit:
        fake = FakeKling(video=VIDEO, **options)
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / f"home{len(servers)}").ensure()
        return Kit(fake, paths, open_store(paths.database), kling_spec(), dict(secrets or AKSK))

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


def picture(folder: Path, name: str, size: tuple[int, int], fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 40, 90)).save(path, fmt)
    return path


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


def claims(request: Any) -> dict[str, Any]:
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"])


# ---------------------------------------------------------------- the happy paths


def test_text_to_video_with_an_access_key_pair_makes_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a paper boat on a rainy street",
        negative="blur",
        duration_s=10,
        aspect="9:16",
        resolution="1080p",
        audio=True,
    )
    [job] = k.generate("kling-v2-6", request)
    done(job)
    [body] = k.bodies(T2V)
    assert body == {
        "model_name": "kling-v2-6",
        "mode": "pro",
        "duration": "10",
        "external_task_id": job.client_request_id,
        "prompt": "a paper boat on a rainy street",
        "negative_prompt": "blur",
        "aspect_ratio": "9:16",
        "sound": "on",
    }
    [create] = k.server.requests_to("POST", T2V)
    token = claims(create)
    assert token["iss"] == ACCESS_KEY
    assert token["exp"] - token["nbf"] == 1805
    assert abs(token["exp"] - time.time() - 1800) < 60
    polls = k.server.requests_to("GET", T2V + "/{id}")
    assert {r.path for r in polls} == {f"{T2V}/{job.vendor_task_id}"}
    assert job.cost_actual == 10.0
    assert job.estimate == {"amount": 10.0, "unit": "units", "money": 1.4, "currency": "USD"}
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert k.fake.count_creates(job.client_request_id) == 1


def test_image_to_video_sends_the_picture_as_plain_base64(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png", (640, 360))
    [job] = k.generate("kling-v3", GenerationRequest("it moves", image=first, duration_s=7))
    done(job)
    [body] = k.bodies(I2V)
    assert body["image"] == base64.b64encode(first.read_bytes()).decode()
    assert not body["image"].startswith("data:")
    assert (body["model_name"], body["mode"], body["duration"]) == ("kling-v3", "std", "7")
    assert (body["prompt"], body["sound"]) == ("it moves", "off")
    assert "aspect_ratio" not in body
    assert "image_tail" not in body
    assert job.handle.data == {"api": "v1", "endpoint": "image2video"}
    assert job.cost_actual == pytest.approx(4.2)


def test_first_and_last_frame_goes_to_pro_and_converts_webp(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.png", (600, 600))
    last = picture(tmp_path, "b.webp", (600, 600), "WEBP")
    request = GenerationRequest("", image=first, last_frame=last, duration_s=5)
    [job] = k.generate("kling-v1-6", request)
    done(job)
    [body] = k.bodies(I2V)
    assert body["mode"] == "pro"  # first+last exists only in pro mode on v1.6
    assert "prompt" not in body  # optional for image to video; empty is not sent
    tail = Image.open(io.BytesIO(base64.b64decode(body["image_tail"])))
    assert (tail.format, tail.size) == ("JPEG", (600, 600))
    assert job.estimate["amount"] == 3.5


def test_the_new_api_text_to_video_with_an_api_key(kit):
    k = kit(KEY)
    [job] = k.generate("kling-3.0-turbo", GenerationRequest("a lighthouse", duration_s=3))
    done(job)
    [body] = k.bodies("/text-to-video/kling-3.0-turbo")
    assert body == {
        "prompt": "a lighthouse",
        "settings": {"resolution": "720p", "duration": 3, "aspect_ratio": "16:9"},
        "options": {"external_task_id": job.client_request_id},
    }
    [create] = k.server.requests_to("POST", "/text-to-video/{model}")
    assert create.headers["Authorization"] == f"Bearer {API_KEY}"
    polls = k.server.requests_to("GET", "/tasks")
    assert polls
    assert all(r.query == {"task_ids": job.vendor_task_id} for r in polls)
    assert job.handle.data == {"api": "new"}
    assert job.cost_actual == pytest.approx(2.4)


def test_the_new_api_first_and_last_frame_with_native_audio(kit, tmp_path):
    k = kit(KEY)
    first = picture(tmp_path, "a.png", (480, 640))
    last = picture(tmp_path, "b.png", (480, 640))
    request = GenerationRequest(
        "she turns", image=first, last_frame=last, duration_s=4, resolution="1080p", audio=True
    )
    [job] = k.generate("kling-3.0", request)
    done(job)
    [body] = k.bodies("/image-to-video/kling-3.0")
    assert body["contents"] == [
        {"type": "prompt", "text": "she turns"},
        {"type": "first_frame", "url": base64.b64encode(first.read_bytes()).decode()},
        {"type": "last_frame", "url": base64.b64encode(last.read_bytes()).decode()},
    ]
    assert body["settings"] == {"resolution": "1080p", "duration": 4, "audio": "native"}
    assert body["options"] == {"external_task_id": job.client_request_id}
    assert job.cost_actual == pytest.approx(4.8)


def test_an_api_key_alone_also_drives_the_v1_api(kit):
    k = kit(KEY)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    assert {r.headers["Authorization"] for r in k.server.requests if "/files/" not in r.path} == {
        f"Bearer {API_KEY}"
    }
    assert k.fake.creates[0]["auth"] == "api_key"


def test_extras_reach_kling(kit, tmp_path):
    k = kit()
    image = picture(tmp_path, "a.png", (640, 640))
    camera = {"type": "simple", "config": {"zoom": 5}}
    request = GenerationRequest(
        "push in",
        image=image,
        duration_s=5,
        resolution="1080p",
        extra={"cfg_scale": 0.7, "camera_control": camera, "watermark": True, "other": 1},
    )
    [job] = k.generate("kling-v1-5", request)
    done(job)
    [body] = k.bodies(I2V)
    assert body["cfg_scale"] == 0.7
    assert body["camera_control"] == camera
    assert body["watermark_info"] == {"enabled": True}
    assert "other" not in body


# ---------------------------------------------------------------------- auth


def test_a_new_api_model_without_an_api_key_sends_nothing(kit):
    k = kit(AKSK)
    [job] = k.generate("kling-3.0-turbo", GenerationRequest("a lighthouse", duration_s=3))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "API key" in job.error
    assert k.server.count() == 0


def test_tokens_are_cached_and_renewed_after_25_minutes(kit):
    k = kit()
    now = [time.time() - 26 * 60]
    k.adapter = KlingAdapter(k.spec, read_policy=FAST, clock=lambda: now[0])
    [first] = k.generate("kling-v2-5-turbo", GenerationRequest("one", duration_s=5))
    now[0] += 60  # 25 minutes after signing: still the same token
    [second] = k.generate("kling-v2-5-turbo", GenerationRequest("two", duration_s=5))
    now[0] = time.time()  # 26 minutes after signing: a fresh one
    [third] = k.generate("kling-v2-5-turbo", GenerationRequest("three", duration_s=5))
    for job in (first, second, third):
        done(job)
    api = [r for r in k.server.requests if "/files/" not in r.path]
    tokens = [r.headers["Authorization"] for r in api]
    first_token = tokens[0]
    cut = next(i for i, t in enumerate(tokens) if t != first_token)
    assert set(tokens[:cut]) == {first_token}
    assert len(set(tokens[cut:])) == 1
    assert api[cut].json["prompt"] == "three"


def test_a_token_kling_calls_expired_is_signed_again_once(kit):
    k = kit()
    calls = [0]

    def clock() -> float:  # the first token is signed an hour ago, then time is right
        calls[0] += 1
        return time.time() - 3600 if calls[0] == 1 else time.time()

    k.adapter = KlingAdapter(k.spec, read_policy=FAST, clock=clock)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    assert len(k.server.requests_to("POST", T2V)) == 2
    assert k.fake.count_creates() == 1


@pytest.mark.parametrize(("skew", "code"), [(-3600, "1004"), (600, "1003")])
def test_a_wrong_clock_fails_with_kling_codes_and_no_task(kit, skew, code):
    k = kit()
    k.adapter = KlingAdapter(k.spec, read_policy=FAST, clock=lambda: time.time() + skew)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert f"(code {code})" in job.error
    assert "clock" in job.error
    assert len(k.server.requests_to("POST", T2V)) == 2  # signed again once, then given up
    assert k.fake.count_creates() == 0


def test_a_wrong_secret_key_is_an_auth_failure(kit):
    k = kit({"access_key": ACCESS_KEY, "secret_key": "not-the-secret-key-of-this-account"})
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "Authorization is invalid (code 1002)" in job.error


@pytest.mark.parametrize(
    ("path", "token", "code"),
    [
        ("/tasks?task_ids=1", None, 1001),
        ("/tasks?task_ids=1", "Basic abc", 1002),
        ("/tasks?task_ids=1", "JWT", 1002),  # the new API refuses AK/SK tokens
        ("/account/costs?start_time=1&end_time=2", "Bearer nope", 1002),
        ("/account/costs?start_time=1&end_time=2", "WRONG_ISS", 1000),
        ("/account/costs?start_time=1&end_time=2", "JWT", 0),
        ("/tasks?task_ids=1", "KEY", 0),
    ],
)
def test_the_fake_checks_auth_like_kling(kit, path, token, code):
    k = kit()
    headers = {}
    if token is not None:
        headers["Authorization"] = {
            "JWT": f"Bearer {k.fake.jwt_for()}",
            "WRONG_ISS": f"Bearer {k.fake.jwt_for(iss='AK-someone-else')}",
            "KEY": f"Bearer {API_KEY}",
        }.get(token, token)
    answer = httpx.get(k.fake.url + path, headers=headers).json()
    assert answer["code"] == code
    if token == "JWT" and path.startswith("/tasks"):
        assert "does not support AK/SK" in answer["message"]


# ------------------------------------------------------- failures and their codes


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #risk", "rejected", "risk control"),
        ("a fox #fail", "generation_failed", "internal error"),
        ("a fox #nsfw", "rejected", "risk control system (code 1301)"),
    ],
)
def test_kling_failures_keep_its_words(kit, prompt, kind, words):
    k = kit()
    units = k.fake.units
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest(prompt, duration_s=5))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.error.startswith("Kling: ")
    assert k.fake.units == units  # failed tasks are not charged
    if "#nsfw" not in prompt:
        assert job.cost_actual == 0.0


def test_an_empty_resource_pack_is_a_quota_error_sent_once(kit):
    k = kit(units=1)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "quota")
    assert "(code 1102)" in job.error
    assert "resource pack" in job.error
    assert len(k.server.requests_to("POST", T2V)) == 1  # a 429 that is not "try again"


@pytest.mark.parametrize("retry_after", [0.3, None])
@pytest.mark.parametrize(
    ("code", "message"),
    [(1302, "Too many requests"), (1303, "parallel task over resource pack limit")],
)
def test_rate_and_concurrency_limits_wait_and_create_once(kit, code, message, retry_after):
    k = kit()
    refusal = Fault.status(429, retry_after=retry_after, json={"code": code, "message": message})
    k.server.script("POST", T2V, refusal)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    first, second = k.server.requests_to("POST", T2V)
    if retry_after is not None:
        assert second.at - first.at >= 0.28
    assert k.fake.count_creates(job.client_request_id) == 1


def test_kling_s_own_concurrency_limit_is_waited_out(kit):
    k = kit(concurrency=1, queued_polls=2)
    request = GenerationRequest("a kite", duration_s=5)
    jobs = k.generate("kling-v2-5-turbo", request, count=3)
    for job in jobs:
        done(job)
    assert k.fake.count_creates() == 3
    refused = [r for r in k.server.requests_to("POST", T2V) if r.fault is None]
    assert len(refused) > 3  # some creates met 1303 and were sent again later


def test_a_bad_parameter_is_rejected_with_the_vendors_words(kit):
    k = kit()
    bad = Fault.status(400, json={"code": 1201, "message": "duration value is invalid"})
    k.server.script("POST", T2V, bad)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert job.error == "Kling: duration value is invalid (code 1201)"


def test_a_discontinued_model_is_retired_for_the_user(kit):
    k = kit()
    gone = "The model 'kling-v2-5-turbo' has been discontinued and is no longer available."
    k.server.script("POST", T2V, Fault.status(400, json={"code": 1201, "message": gone}))
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["kling"]["models"]["kling-v2-5-turbo"]["status"] == "retired"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(500, json={"code": 5000, "message": "Server internal error"}),
        Fault.status(504, json={"code": 5002, "message": "Server internal timeout"}),
        Fault.status(502, text="<html>Bad Gateway</html>"),
        Fault.malformed_json(),
    ],
    ids=["5000", "5002", "502-html", "malformed"],
)
def test_a_create_without_a_clear_answer_is_looked_up_before_sending_again(kit, fault):
    k = kit()
    k.server.script("POST", T2V, fault)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    lookups = k.server.requests_to("GET", f"{T2V}/{job.client_request_id}")
    assert lookups  # asked Kling by our id first: the fault ran no handler, so none
    assert len(k.server.requests_to("POST", T2V)) == 2
    assert k.fake.count_creates(job.client_request_id) == 1


def test_server_errors_on_polls_are_retried(kit):
    k = kit()
    k.server.script(
        "GET",
        T2V + "/{id}",
        Fault.status(500, json={"code": 5000, "message": "Server internal error"}),
        Fault.status(503, json={"code": 5001, "message": "Server temporarily unavailable"}),
        Fault.malformed_json(),
    )
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    assert k.fake.count_creates() == 1


def test_a_gateway_error_page_is_read_by_its_status(kit):
    k = kit()
    k.server.script("POST", T2V, Fault.status(403, text="<html>Forbidden</html>"))
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "HTTP 403 with a body that is not JSON" in job.error
    assert k.fake.count_creates() == 0


def test_a_poll_that_never_reads_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", T2V + "/{id}", Fault.malformed_json())
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_a_task_kling_does_not_show_yet_is_polled_again(kit):
    k = kit()
    lag = Fault.status(400, json={"code": 1201, "message": "Task not found by id/external id"})
    k.server.script("GET", T2V + "/{id}", lag)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)


# ------------------------------------------------------------------- downloads


def test_an_expired_result_link_fails_without_a_second_create(kit):
    k = kit(url_ttl=0)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert k.fake.count_creates() == 1
    assert list(k.paths.incoming.iterdir()) == []


def test_a_revoked_link_answers_403(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(
        GenerationRequest("a kite", duration_s=5), [Target("kling", "kling-v2-5-turbo")]
    )
    asyncio.run(engine.run([job_id], until="submitted"))
    k.fake.expire_urls()
    [job] = asyncio.run(k.engine().run([job_id]))
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert all(r.fault is None for r in k.server.requests_to("GET", "/files/*"))


def test_a_download_cut_short_resumes(kit):
    k = kit()
    k.server.script("GET", "/files/*", Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    _, second = k.server.requests_to("GET", "/files/*")
    assert second.headers["Range"] == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert k.fake.count_creates() == 1


# ------------------------------------------------------------- lost answers


@pytest.mark.parametrize(
    ("secrets", "model", "path"),
    [
        (AKSK, "kling-v2-5-turbo", T2V),
        (KEY, "kling-3.0-turbo", "/text-to-video/kling-3.0-turbo"),
    ],
)
def test_a_create_whose_answer_is_lost_is_found_by_our_id(kit, secrets, model, path):
    k = kit(secrets)
    k.server.script("POST", path, Fault.cut_after(0))  # Kling made it; we never heard
    [job] = k.generate(model, GenerationRequest("a kite", duration_s=5))
    done(job)
    assert len(k.server.requests_to("POST", path)) == 1
    assert k.fake.count_creates(job.client_request_id) == 1


def test_a_create_that_never_arrived_is_sent_again(kit):
    k = kit(KEY)
    path = "/text-to-video/kling-3.0-turbo"
    k.server.script("POST", path, Fault.drop())
    [job] = k.generate("kling-3.0-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    [lookup] = [r for r in k.server.requests_to("GET", "/tasks") if "external_task_ids" in r.query]
    assert lookup.query == {"external_task_ids": job.client_request_id}
    assert len(k.server.requests_to("POST", path)) == 2
    assert k.fake.count_creates(job.client_request_id) == 1


def test_kling_s_duplicate_id_answer_leads_to_the_existing_task(kit):
    k = kit()
    k.server.script("POST", T2V, Fault.cut_after(0))
    # Kling's read side lags: the first lookup does not see the task yet.
    lag = Fault.status(400, json={"code": 1201, "message": "Task not found by id/external id"})
    k.server.script("GET", T2V + "/{id}", lag)
    [job] = k.generate("kling-v2-5-turbo", GenerationRequest("a kite", duration_s=5))
    done(job)
    assert len(k.server.requests_to("POST", T2V)) == 2  # the resend met "already exists"
    assert k.fake.count_creates(job.client_request_id) == 1


def test_find_asks_each_endpoint_the_model_has(kit, tmp_path):
    async def go(k: Kit) -> tuple[TaskHandle | None, TaskHandle | None]:
        async with httpx.AsyncClient() as client:
            ctx = k.ctx(client, "kling-v3")
            handle = await k.adapter.submit(
                ctx,
                GenerationRequest("x", image=picture(tmp_path, "a.png", (400, 400))),
                "ts-found",
            )
            assert handle.data == {"api": "v1", "endpoint": "image2video"}
            return await k.adapter.find(ctx, "ts-found"), await k.adapter.find(ctx, "ts-none")

    k = kit()
    found, missing = asyncio.run(go(k))
    assert found == TaskHandle(next(iter(k.fake.tasks)), {"api": "v1", "endpoint": "image2video"})
    assert missing is None
    asked = [r.path for r in k.server.requests_to("GET", "/v1/videos/*")]
    assert f"{T2V}/ts-none" in asked
    assert f"{I2V}/ts-none" in asked


# ------------------------------------------------------------ refused locally


@pytest.mark.parametrize(
    ("model", "overrides", "field", "words"),
    [
        ("kling-v2-6", {"duration_s": 7}, "duration", "7 s is not offered"),
        ("kling-v2-6", {"prompt": "x" * 2501}, "prompt", "at most 2500"),
        ("kling-3.0", {"prompt": "x" * 3073}, "prompt", "at most 3072"),
        ("kling-v2-6", {"prompt": "  "}, "prompt", "is empty"),
        ("kling-v2-6", {"negative": "n" * 2501}, "negative", "at most 2500"),
        ("kling-3.0", {"negative": "blur"}, "negative", "no negative prompt"),
        ("kling-v2-6", {"seed": 7}, "seed", "takes no seed"),
        ("kling-v2-5-turbo", {"audio": True}, "audio", "makes no audio"),
        ("kling-3.0-turbo", {"audio": False}, "audio", "always makes native audio"),
        ("kling-v3", {"resolution": "4k"}, "resolution", "4k is not offered"),
        ("kling-v2-6", {"aspect": "4:3"}, "aspect", "4:3 is not offered"),
        ("kling-v2-6", {"audio": True, "resolution": "720p"}, "resolution", "audio only at 1080p"),
        ("kling-2.6", {"audio": True, "resolution": "720p"}, "resolution", "audio only at 1080p"),
        ("kling-v1-6", {"extra": {"cfg_scale": 1.5}}, "cfg_scale", "from 0 to 1"),
        ("kling-v2-6", {"extra": {"cfg_scale": 0.5}}, "cfg_scale", "only Kling 1.x"),
        ("kling-v2-6", {"extra": {"camera_control": {"type": "down_back"}}}, "camera_control",
         "no camera control"),
        ("kling-v2-6", {"extra": {"watermark": "yes"}}, "watermark", "true or false"),
        ("kling-v1", {}, "model", "retired"),
    ],
)  # fmt: skip
def test_kling_limits_are_refused_before_anything_is_sent(kit, model, overrides, field, words):
    k = kit()
    request = GenerationRequest(**{"prompt": "a fox", **overrides})
    with pytest.raises(InvalidInput) as refused:
        k.engine().enqueue(request, [Target("kling", model)])
    assert refused.value.field == field
    assert words in refused.value.message
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


@pytest.mark.parametrize(
    ("model", "frames", "overrides", "field", "words"),
    [
        ("kling-v2-5-turbo", 2, {}, "mode", "does not do first and last frame"),
        ("kling-3.0-turbo", 2, {}, "mode", "does text to video, image to video"),
        ("kling-v1-6", 2, {"resolution": "720p"}, "resolution", "last frame only at 1080p"),
        ("kling-v2-6", 2, {"audio": True}, "audio", "no audio with a last frame"),
        ("kling-v3", 1, {"aspect": "9:16"}, "aspect", "from the image"),
        ("kling-v1-5", 1, {"extra": {"camera_control": {"type": "simple", "config": {"zoom": 1}}},
                           "duration_s": 10, "resolution": "1080p"}, "camera_control", "5 s"),
        ("kling-v1-5", 1, {"extra": {"camera_control": {"type": "simple",
                                                        "config": {"zoom": 1, "pan": 2}}},
                           "resolution": "1080p"}, "camera_control", "exactly one"),
        ("kling-v1-5", 1, {"extra": {"camera_control": {"type": "simple", "config": {"zoom": 11}}},
                           "resolution": "1080p"}, "camera_control", "-10 to 10"),
        ("kling-v1-5", 1, {"extra": {"camera_control": {"type": "down_back", "config": {}}},
                           "resolution": "1080p"}, "camera_control", "only with type simple"),
        ("kling-v1-5", 2, {"extra": {"camera_control": {"type": "down_back"}},
                           "resolution": "1080p"}, "camera_control", "not both"),
    ],
)  # fmt: skip
def test_image_rules_are_refused_before_anything_is_sent(
    kit, tmp_path, model, frames, overrides, field, words
):
    k = kit()
    first = picture(tmp_path, "a.png", (640, 640))
    last = picture(tmp_path, "b.png", (640, 640)) if frames == 2 else None
    request = GenerationRequest(**{"prompt": "a fox", "image": first, "last_frame": last,
                                   "duration_s": 5, **overrides})  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        k.engine().enqueue(request, [Target("kling", model)])
    assert refused.value.field == field
    assert words in refused.value.message
    assert k.server.count() == 0


@pytest.mark.parametrize(
    ("size", "words"), [((299, 600), "at least 300 px"), ((1200, 400), "aspect ratio of 3.00")]
)
def test_pictures_kling_cannot_take_are_refused(kit, tmp_path, size, words):
    k = kit()
    image = picture(tmp_path, "bad.png", size)
    with pytest.raises(InvalidInput, match=words):
        k.engine().enqueue(GenerationRequest("a fox", image=image), [Target("kling", "kling-v2-6")])
    assert k.server.count() == 0


def test_estimates_follow_kling_s_price_list():
    adapter = KlingAdapter(kling_spec())
    models = adapter.vendor.models

    def units(model: str, **kw: Any) -> float:
        return adapter.estimate(GenerationRequest("a fox", **kw), models[model]).amount

    assert units("kling-v3", duration_s=10, resolution="1080p", audio=True) == 12.0
    assert units("kling-v3", duration_s=3) == pytest.approx(1.8)
    assert units("kling-v2-6", duration_s=5, audio=True) == 5.0  # sound forces pro (1080p)
    assert units("kling-v2-master", duration_s=10) == 20.0
    assert units("kling-3.0-turbo", duration_s=15, resolution="1080p") == 15.0
    assert units("kling-3.0", duration_s=5, resolution="4k") == 15.0
    assert units("kling-2.5-turbo", duration_s=10) == 3.0
    estimate = adapter.estimate(GenerationRequest("a fox"), models["kling-v2-5-turbo"])
    assert (estimate.amount, estimate.money, estimate.currency) == (1.5, 0.21, "USD")


# ------------------------------------------------------------- balance, cancel


def test_balance_counts_online_video_packs_and_keeps_to_one_call_a_second(kit):
    k = kit(costs_min_interval=0.25)
    k.adapter.balance_interval_s = 0.3

    async def go() -> tuple[Any, Any]:
        async with httpx.AsyncClient() as client:
            ctx = k.ctx(client)
            return await k.adapter.balance(ctx), await k.adapter.balance(ctx)

    k.fake.units = 91.2
    first, second = asyncio.run(go())
    assert (first.amount, first.unit) == (91.2, "units")
    assert second.amount == 91.2
    assert [p["name"] for p in first.detail["packs"]] == [
        "Trial-Video-100Units-5Con-1Months",
        "Video Generation - 10,000 entries",
        "Image Generation - 1,000 entries",
    ]
    calls = k.server.requests_to("GET", "/account/costs")
    assert len(calls) == 2  # no 1302: the adapter waited
    assert calls[1].at - calls[0].at >= 0.25
    start, end = int(calls[0].query["start_time"]), int(calls[0].query["end_time"])
    assert abs(end - time.time() * 1000) < 60_000
    assert end - start > 180 * 86_400_000
    assert claims(calls[0])["iss"] == ACCESS_KEY


def test_balance_with_an_api_key_and_a_refusal(kit):
    k = kit(KEY, costs_min_interval=0)
    k.adapter.balance_interval_s = 0

    async def go() -> Any:
        async with httpx.AsyncClient() as client:
            return await k.adapter.balance(k.ctx(client))

    assert asyncio.run(go()).amount == 1000.0
    refusal = Fault.status(401, json={"code": 1000, "message": "nope"})
    k.server.script("GET", "/account/costs", refusal)
    with pytest.raises(AuthError, match=r"Kling: nope \(code 1000\)"):
        asyncio.run(go())


def test_kling_has_no_cancel(kit):
    k = kit()

    async def go() -> bool:
        async with httpx.AsyncClient() as client:
            return await k.adapter.cancel(k.ctx(client), TaskHandle("1", {"api": "v1"}))

    assert asyncio.run(go()) is False
    assert k.server.count() == 0


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
def test_the_cli_generates_a_take_from_kling(home):
    fake = FakeKling(video=VIDEO)
    server = fake.serve()
    try:
        env = {
            "TAKESTOCK_KLING_BASE_URL": fake.url,
            "TAKESTOCK_KLING_ACCESS_KEY": ACCESS_KEY,
            "TAKESTOCK_KLING_SECRET_KEY": SECRET_KEY,
        }
        result = _cli(
            "generate", "--vendor", "kling", "--model", "kling-v2-5-turbo",
            "--prompt", "a paper boat", "--duration", "5", "--wait", "--json", env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        [job] = json.loads(result.stdout)["jobs"]
        assert job["state"] == "done"
        assert Path(job["take"]["path"]).read_bytes() == VIDEO
        assert fake.creates[0]["auth"] == "jwt"
        assert fake.creates[0]["body"]["external_task_id"] == job["client_request_id"]

        refused = _cli(
            "generate", "--vendor", "kling", "--model", "kling-v2-5-turbo",
            "--prompt", "a paper boat", "--duration", "7", env=env,
        )  # fmt: skip
        assert refused.returncode == 2
        assert "7 s is not offered" in refused.stderr
        assert fake.count_creates() == 1
    finally:
        server.stop()
    server.check()
    with sqlite3.connect(home / "takestock.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM job").fetchone()[0] == 1
