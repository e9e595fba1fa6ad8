"""The Veo adapter through the engine, against the fake Google service (Gemini API,
Vertex AI with a service account, Vertex express mode)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core import credits
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
from takestock.vendors.veo import (
    Surface,
    VeoAdapter,
    operation_error,
    root_url,
    surface_for,
    vendor_error,
)
from tests.fakeserver import Fault
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_veo import REFRESH_TOKEN, FakeVeo

VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
MODEL = "veo-3.1-generate-001"
CREATE = "/v1beta/models/{model}:predictLongRunning"
POLL = "/v1beta/models/{model}/operations/{op}"
FILES = "/v1beta/files/*"
STORAGE = "/storage/*"
VERTEX = "/v1/projects/{p}/locations/{l}/publishers/google/models/{m}"
VERTEX_CREATE = VERTEX + ":predictLongRunning"
VERTEX_FETCH = VERTEX + ":fetchPredictOperation"


def _google_error(status: int, name: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": name, **extra}}


@dataclass
class Kit:
    fake: FakeVeo
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: VeoAdapter
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def engine(self) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"veo": self.adapter},
            StaticCredentials({"veo": self.secrets}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_VEO_BASE_URL": self.fake.url},
        )

    def generate(
        self, request: GenerationRequest, model: str = MODEL, account: str | None = None
    ) -> Job:
        engine = self.engine()
        _, [job_id] = engine.enqueue(request, [Target("veo", model, account)])
        [job] = asyncio.run(asyncio.wait_for(engine.run([job_id]), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return job

    def vertex(self) -> Kit:
        """Use the fake's service account instead of the API key."""
        assert self.fake.account is not None
        self.secrets = {"service_account_json": self.fake.account.json}
        return self

    def context(self, model: str | None = MODEL, region: str = "default") -> CallContext:
        vendor = self.catalog.vendor("veo")
        return CallContext(
            http=httpx.AsyncClient(follow_redirects=True),
            vendor=vendor,
            base_url=self.fake.url,
            model=vendor.models[model] if model else None,
            secrets=self.secrets,
            region=region,
        )


@pytest.fixture
def serve_fake() -> Iterator[Any]:
    started: list[FakeVeo] = []

    def make(**options: Any) -> FakeVeo:
        fake = FakeVeo(video=VIDEO, **options)
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
        fake = serve_fake(**options)
        adapter = VeoAdapter(catalog.vendor("veo"))
        kit = Kit(fake, paths, open_store(paths.database), catalog, adapter)
        kit.secrets = {"api_key": fake.api_key}
        return kit

    return make


def _done(kit: Kit, job: Job, creates: int = 1) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    takes = list_takes(kit.store, kit.paths.media)
    assert takes[-1].path.read_bytes() == VIDEO
    assert kit.fake.count_creates() == creates


def _failed(job: Job, kind: str) -> None:
    assert (job.state, job.error_kind) == ("failed", kind), (job.state, job.error_kind, job.error)


def _image(path: Path, size: tuple[int, int], fmt: str = "JPEG") -> Path:
    Image.new("RGB", size, (40, 120, 200)).save(path, fmt)
    return path


def _inline(image: dict[str, str]) -> tuple[str, bytes]:
    data = base64.b64decode(image["bytesBase64Encoded"])
    Image.open(io.BytesIO(data)).verify()
    return image["mimeType"], data


# ------------------------------------------------------------ Gemini: happy paths


def test_gemini_text_to_video_sends_the_documented_body_and_ends_in_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow",
        negative="blurry",
        duration_s=6,
        aspect="9:16",
        resolution="720p",
        extra={"person_generation": "allow_all", "enhance_prompt": True},
    )
    job = k.generate(request)
    _done(k, job)
    [(surface, model, body)] = k.fake.creates
    assert (surface, model) == ("gemini", MODEL)
    assert body == {
        "instances": [{"prompt": "a red fox in snow"}],
        "parameters": {
            "sampleCount": 1,
            "durationSeconds": 6,
            "aspectRatio": "9:16",
            "resolution": "720p",
            "negativePrompt": "blurry",
            "personGeneration": "allow_all",
            "enhancePrompt": True,
        },
    }
    [headers] = k.fake.create_headers
    assert headers["x-goog-api-key"] == k.fake.api_key
    assert "Authorization" not in headers
    assert headers["Content-Type"].startswith("application/json")
    assert job.vendor_task_id.startswith(f"models/{MODEL}/operations/")
    assert len(k.server.requests_to("GET", POLL)) == 3  # running, running, done
    assert job.estimate == {"amount": 2.4, "unit": "USD", "money": 2.4, "currency": "USD"}
    assert job.cost_actual is None


def test_the_gemini_file_is_fetched_with_the_key_and_its_signed_link_without_it(kit):
    k = kit()
    _done(k, k.generate(GenerationRequest("a fox")))
    [file_request] = k.server.requests_to("GET", FILES)
    assert file_request.headers["x-goog-api-key"] == k.fake.api_key
    assert file_request.query == {"alt": "media"}
    [signed] = k.server.requests_to("GET", STORAGE)
    assert "x-goog-api-key" not in signed.headers
    assert all(k.fake.api_key not in str(r.query) for r in k.server.requests)


def test_gemini_image_to_video_sends_the_image_inline_as_base64(kit, tmp_path):
    k = kit()
    start = _image(tmp_path / "start.jpg", (1280, 720))
    job = k.generate(GenerationRequest("she turns", image=start, duration_s=4))
    _done(k, job)
    [instance] = k.fake.bodies()[0]["instances"]
    assert set(instance) == {"prompt", "image"}
    assert _inline(instance["image"]) == ("image/jpeg", start.read_bytes())


def test_first_and_last_frame_at_1080p(kit, tmp_path):
    k = kit()
    first = _image(tmp_path / "a.jpg", (1280, 720))
    last = _image(tmp_path / "b.png", (1280, 720), "PNG")
    request = GenerationRequest("dusk", image=first, last_frame=last, resolution="1080p")
    job = k.generate(request, "veo-3.1-fast-generate-001")
    _done(k, job)
    body = k.fake.bodies()[0]
    instance = body["instances"][0]
    assert _inline(instance["image"])[1] == first.read_bytes()
    assert _inline(instance["lastFrame"]) == ("image/png", last.read_bytes())
    assert body["parameters"]["resolution"] == "1080p"
    assert body["parameters"]["durationSeconds"] == 8
    assert job.estimate["amount"] == pytest.approx(0.96)  # Fast at 1080p: $0.12/s


def test_reference_images_go_as_assets(kit, tmp_path):
    k = kit()
    refs = [str(_image(tmp_path / f"r{i}.jpg", (800, 800))) for i in range(2)]
    job = k.generate(GenerationRequest("the same hero", extra={"reference_images": refs}))
    _done(k, job)
    [instance] = k.fake.bodies()[0]["instances"]
    assert [r["referenceType"] for r in instance["referenceImages"]] == ["ASSET", "ASSET"]
    assert _inline(instance["referenceImages"][1]["image"])[1] == Path(refs[1]).read_bytes()


def test_a_video_is_extended_by_its_gemini_uri(kit):
    k = kit()
    first = k.generate(GenerationRequest("a boat leaves"))
    _done(k, first)
    uri = first.results[0].url
    second = k.generate(GenerationRequest("it sails on", extra={"video_uri": uri}))
    _done(k, second, creates=2)
    assert k.fake.bodies()[1]["instances"][0] == {"prompt": "it sails on", "video": {"uri": uri}}


def test_inline_gemini_bytes_are_fetched_again_not_stored_in_the_job(kit):
    k = kit(inline_gemini=True)
    job = k.generate(GenerationRequest("a fox"))
    _done(k, job)
    assert job.results[0].url.startswith("veo-inline:gemini/")
    assert job.results[0].size == len(VIDEO)
    assert len(job.results[0].url) < 300
    assert k.server.count("GET", "/v1beta/files") == 0


# -------------------------------------------------------------- Vertex AI


def test_vertex_with_a_service_account(kit):
    k = kit().vertex()
    request = GenerationRequest("a heron", duration_s=8, seed=42, audio=False)
    job = k.generate(request)
    _done(k, job)
    [(surface, model, body)] = k.fake.creates
    assert (surface, model) == ("vertex", MODEL)
    assert body["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 8,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "seed": 42,
        "generateAudio": False,
    }
    [create] = k.server.requests_to("POST", VERTEX_CREATE)
    assert create.path == (
        f"/v1/projects/{k.fake.account.project}/locations/us-central1"
        f"/publishers/google/models/{MODEL}:predictLongRunning"
    )
    assert create.headers["Authorization"].startswith("Bearer ya29.fake-")
    assert "x-goog-api-key" not in create.headers
    fetches = k.server.requests_to("POST", VERTEX_FETCH)
    assert [r.json for r in fetches] == [{"operationName": job.vendor_task_id}] * len(fetches)
    assert len(fetches) == 4  # three polls, then the download fetches the bytes again
    [token] = k.fake.token_requests  # one token served the create, polls and download
    assert token["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert job.results[0].url.startswith("veo-inline:vertex/us-central1/0/projects/")
    assert job.task_data == {"surface": "vertex", "location": "us-central1", "model": MODEL}


def test_vertex_defaults_audio_on(kit):
    k = kit().vertex()
    _done(k, k.generate(GenerationRequest("a heron")))
    assert k.fake.bodies()[0]["parameters"]["generateAudio"] is True


def test_a_token_near_expiry_is_refreshed(kit):
    k = kit(token_ttl=60).vertex()  # within google-auth's 3 m 45 s margin: always stale
    _done(k, k.generate(GenerationRequest("a heron")))
    calls = len(k.server.requests_to("POST", VERTEX_CREATE)) + len(
        k.server.requests_to("POST", VERTEX_FETCH)
    )
    assert len(k.fake.token_requests) == calls == 5


def test_an_authorized_user_file_is_accepted(kit):
    k = kit()
    k.secrets = {
        "service_account_json": json.dumps(
            {
                "type": "authorized_user",
                "client_id": "123.apps.googleusercontent.com",
                "client_secret": "s3cret",
                "refresh_token": REFRESH_TOKEN,
                "quota_project_id": k.fake.account.project,
                "token_uri": f"{k.fake.url}/token",
            }
        )
    }
    _done(k, k.generate(GenerationRequest("a heron")))
    [token] = k.fake.token_requests
    assert token["grant_type"] == "refresh_token"


def test_a_service_account_google_refuses_fails_with_auth_and_sends_nothing(kit):
    k = kit().vertex()
    info = dict(k.fake.account.info, client_email="someone@else.iam.gserviceaccount.com")
    k.secrets = {"service_account_json": json.dumps(info)}
    job = k.generate(GenerationRequest("a heron"))
    _failed(job, "auth")
    assert "invalid_grant" in job.error
    assert k.server.count("POST", "/v1/") == 0


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("{not json", "cannot be read"),
        ('{"type": "external_account"}', "not accepted"),
        ('{"type": "service_account", "client_email": "a@b"}', "incomplete"),
    ],
)
def test_unusable_credentials_are_an_auth_error(kit, raw, words):
    k = kit()
    k.secrets = {"service_account_json": raw}
    job = k.generate(GenerationRequest("a heron"))
    _failed(job, "auth")
    assert words in job.error
    assert k.server.count() == 0


def test_a_project_the_account_cannot_use_is_an_auth_error(kit):
    k = kit().vertex()
    info = dict(k.fake.account.info, project_id="someone-elses")
    k.secrets = {"service_account_json": json.dumps(info)}
    job = k.generate(GenerationRequest("a heron"))
    _failed(job, "auth")
    assert "aiplatform.endpoints.predict" in job.error
    assert "(PERMISSION_DENIED)" in job.error


def test_vertex_express_mode_through_an_account_region(kit):
    k = kit()
    k.secrets = {"api_key": k.fake.express_key}
    credits.add_account(
        k.store, {}, vendor="veo", name="express", kind="api", region="vertex-express"
    )
    job = k.generate(GenerationRequest("a heron"), account="express")
    _done(k, job)
    [(surface, _, body)] = k.fake.creates
    assert surface == "express"
    assert body["parameters"]["generateAudio"] is True
    [create] = k.server.requests_to("POST", "/v1/publishers/google/models/{m}:predictLongRunning")
    assert create.headers["x-goog-api-key"] == k.fake.express_key
    assert k.fake.token_requests == []


def test_a_vertex_location_comes_from_the_region_key():
    vendor = load_catalog().vendor("veo")
    key, sa = {"api_key": "k"}, {"service_account_json": "{}"}
    cases = [
        ("default", key, Surface("gemini"), "https://generativelanguage.googleapis.com"),
        ("default", sa, Surface("vertex", "us-central1"), "https://us-central1-aiplatform.googleapis.com"),
        ("vertex", sa, Surface("vertex", "us-central1"), "https://us-central1-aiplatform.googleapis.com"),
        ("vertex-global", sa, Surface("vertex", "global"), "https://aiplatform.googleapis.com"),
        ("vertex-express", key, Surface("express", "global"), "https://aiplatform.googleapis.com"),
    ]  # fmt: skip

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            for region, secrets, surface, root in cases:
                ctx = CallContext(
                    http=http,
                    vendor=vendor,
                    base_url=vendor.base_url(region),
                    secrets=secrets,
                    region=region,
                )
                assert surface_for(ctx) == surface, region
                assert root_url(ctx, surface) == root, region

    asyncio.run(go())


# ------------------------------------------------------------ vendor failures


def test_a_video_the_safety_filter_removed_fails_with_the_filters_reason(kit):
    k = kit()
    job = k.generate(GenerationRequest("a famous actor #filtered"))
    _failed(job, "rejected")
    assert job.vendor_state == "filtered"
    assert "may involve a real person" in job.error
    assert "Support codes: 58061214" in job.error
    assert k.fake.count_creates() == 1


def test_vertex_filtered_videos_fail_the_same_way(kit):
    k = kit().vertex()
    job = k.generate(GenerationRequest("a famous actor #filtered"))
    _failed(job, "rejected")
    assert "58061214" in job.error


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #fail", "generation_failed", "internal error. (INTERNAL)"),
        (
            "a fox #unsafe",
            "rejected",
            "usage guidelines. Support codes: 29310472 (INVALID_ARGUMENT)",
        ),
        ("a fox #empty", "generation_failed", "without a video"),
    ],
)
def test_a_failed_operation_keeps_googles_code_and_words(kit, prompt, kind, words):
    k = kit()
    job = k.generate(GenerationRequest(prompt))
    _failed(job, kind)
    assert words in job.error


def test_a_wrong_api_key_fails_with_auth(kit):
    k = kit()
    k.secrets = {"api_key": "AIza-wrong"}
    job = k.generate(GenerationRequest("a fox"))
    _failed(job, "auth")
    assert "API key not valid. Please pass a valid API key. (INVALID_ARGUMENT)" in job.error
    assert k.fake.count_creates() == 0


def test_billing_disabled_is_a_quota_error(kit):
    k = kit(billing_disabled=True)
    job = k.generate(GenerationRequest("a fox"))
    _failed(job, "quota")
    assert "requires billing to be enabled" in job.error
    assert job.vendor_task_id is None


def test_a_model_google_says_is_gone_is_marked_retired(kit):
    k = kit(retired={"veo-3.1-fast-generate-001"})
    job = k.generate(GenerationRequest("a fox"), "veo-3.1-fast-generate-001")
    _failed(job, "model_retired")
    assert "is no longer available" in job.error
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["veo"]["models"]["veo-3.1-fast-generate-001"]["status"] == "retired"


def test_a_model_one_surface_does_not_serve_is_not_retired_for_the_other(kit):
    k = kit(served={MODEL})
    job = k.generate(GenerationRequest("a fox"), "veo-3.1-lite-generate-001")
    _failed(job, "rejected")
    assert "use another account" in job.error
    assert not k.paths.catalog_overrides.exists()


def test_rate_limit_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    body = _google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for requests per minute.")
    k.server.script("POST", CREATE, Fault.status(429, retry_after=0.3, json=body))
    job = k.generate(GenerationRequest("a fox"))
    _done(k, job)
    first, second = k.server.requests_to("POST", CREATE)
    assert second.at - first.at >= 0.28


def test_a_quota_limit_without_retry_after_waits_for_googles_retry_delay(kit):
    k = kit()
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.3s"}]
    body = _google_error(
        429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", details=details
    )
    k.server.script("POST", CREATE, Fault.status(429, json=body), Fault.status(429, json=body))
    job = k.generate(GenerationRequest("a fox"))
    _done(k, job)
    creates = k.server.requests_to("POST", CREATE)
    assert len(creates) == 3
    assert creates[2].at - creates[1].at >= 0.28


def test_a_bare_429_backs_off_and_succeeds(kit):
    k = kit().vertex()
    k.server.script("POST", VERTEX_CREATE, Fault.status(429, text="Too Many Requests"))
    _done(k, k.generate(GenerationRequest("a fox")))
    assert len(k.server.requests_to("POST", VERTEX_CREATE)) == 2


def test_a_bad_parameter_google_refuses_is_rejected_and_not_resent(kit):
    k = kit()
    body = _google_error(400, "INVALID_ARGUMENT", "Unsupported aspect ratio for this model.")
    k.server.script("POST", CREATE, Fault.status(400, json=body))
    job = k.generate(GenerationRequest("a fox"))
    _failed(job, "rejected")
    assert "Unsupported aspect ratio for this model. (INVALID_ARGUMENT)" in job.error
    assert len(k.server.requests_to("POST", CREATE)) == 1


def test_a_server_error_to_a_create_is_never_resent(kit):
    k = kit()
    body = _google_error(500, "INTERNAL", "Internal error encountered.")
    k.server.script("POST", CREATE, Fault.status(500, json=body))
    job = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert "cannot look tasks up" in job.error
    assert len(k.server.requests_to("POST", CREATE)) == 1


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.malformed_json())
    job = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert len(k.server.requests_to("POST", CREATE)) == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_and_is_not_resent(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.cut_after(0))  # the operation starts; we never hear
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("unknown", "unknown")
    assert k.fake.count_creates() == 1
    assert len(k.server.requests_to("POST", CREATE)) == 1


def test_server_errors_on_a_poll_are_retried(kit):
    k = kit()
    body = _google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
    k.server.script("GET", POLL, Fault.status(500), Fault.status(503, json=body))
    _done(k, k.generate(GenerationRequest("a fox")))


def test_a_vertex_fetch_that_fails_once_is_retried(kit):
    k = kit().vertex()
    k.server.script("POST", VERTEX_FETCH, Fault.status(503), Fault.malformed_json())
    _done(k, k.generate(GenerationRequest("a fox")))


def test_a_poll_that_never_makes_sense_fails_with_protocol(kit):
    k = kit()
    k.server.script_always("GET", POLL, Fault.malformed_json())
    job = k.generate(GenerationRequest("a fox"))
    _failed(job, "protocol")
    assert k.fake.count_creates() == 1


def test_an_operation_google_no_longer_knows_fails(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("veo", MODEL)])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    del k.fake.operations[job.vendor_task_id]
    [job] = asyncio.run(k.engine().run([job_id]))
    _failed(job, "generation_failed")
    assert "no longer knows this operation" in job.error


def test_an_expired_signed_link_is_asked_for_again_once_then_fails(kit):
    k = kit(url_ttl=0)
    job = k.generate(GenerationRequest("a fox"))
    _failed(job, "result_expired")
    assert len(k.server.requests_to("GET", FILES)) == 2  # a fresh link was asked for once
    assert len(k.server.requests_to("GET", STORAGE)) == 2
    assert k.fake.count_creates() == 1
    assert list(k.paths.incoming.iterdir()) == []


def test_a_deleted_file_fails_as_expired(kit):
    k = kit()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("veo", MODEL)])
    k.server.script_always(
        "GET", FILES, Fault.status(404, json=_google_error(404, "NOT_FOUND", "gone"))
    )
    [job] = asyncio.run(engine.run([job_id]))
    _failed(job, "result_expired")


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", STORAGE, Fault.cut_after(len(VIDEO) // 2))
    _done(k, k.generate(GenerationRequest("a fox")))
    downloads = k.server.requests_to("GET", STORAGE)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"


# ----------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str, str]]:
    small = _image(tmp / "small.jpg", (200, 200))
    frame = _image(tmp / "frame.jpg", (1280, 720))
    ref = str(frame)
    r = GenerationRequest
    std, lite, fast = MODEL, "veo-3.1-lite-generate-001", "veo-3.1-fast-generate-001"
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media"
    return [
        (std, r("x", duration_s=5), "duration", "use 4, 6, 8"),
        (std, r("x", resolution="1080p", duration_s=4), "duration", "1080p videos of 8 s only"),
        (fast, r("x", resolution="4k", duration_s=6), "duration", "4k videos of 8 s only"),
        (lite, r("x", resolution="4k"), "resolution", "use 720p, 1080p"),
        (std, r("x", aspect="1:1"), "aspect", "use 16:9, 9:16"),
        (std, r("x" * 2001), "prompt", "at most 2000"),
        (std, r("x", last_frame=frame), "image", "needs a first frame"),
        (lite, r("x", image=frame, last_frame=frame), "mode", "first and last"),
        (std, r("x", image=small), "image", "at least 300 px"),
        (std, r("x", seed=2**32), "seed", "between 0 and"),
        ("veo-3.1-generate-preview", r("x"), "model", "retired"),
        (lite, r("x", extra={"reference_images": [ref]}), "reference_images", "no reference"),
        (std, r("x", extra={"reference_images": [ref] * 4}), "reference_images", "at most 3"),
        (std, r("x", extra={"reference_images": ref}), "reference_images", "list of image"),
        (
            std,
            r("x", image=frame, extra={"reference_images": [ref]}),
            "reference_images",
            "first or last frame",
        ),
        (std, r("x", aspect="9:16", extra={"reference_images": [ref]}), "aspect", "16:9 only"),
        (std, r("x", duration_s=6, extra={"reference_images": [ref]}), "duration", "8 s only"),
        (
            std,
            r("x", extra={"reference_images": [str(small)]}),
            "reference_images",
            "at least 300",
        ),
        (std, r("x", extra={"video_uri": "/tmp/a.mp4"}), "video_uri", "URI of a video"),
        (
            std,
            r("x", resolution="1080p", extra={"video_uri": uri}),
            "resolution",
            "at 720p only",
        ),
        (std, r("x", duration_s=4, extra={"video_uri": uri}), "duration", "8 for an extension"),
        (std, r("x", extra={"person_generation": "everyone"}), "person_generation", "allow_all"),
        (std, r("x", extra={"enhance_prompt": "yes"}), "enhance_prompt", "true or false"),
    ]


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field_name, words in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("veo", model)])
        assert refused.value.field == field_name, (model, str(refused.value))
        assert words in str(refused.value), (model, str(refused.value))
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


@pytest.mark.parametrize(
    ("vertex", "request_", "words"),
    [
        (False, GenerationRequest("x", seed=7), "takes no seed"),
        (False, GenerationRequest("x", audio=False), "always adds sound"),
        (False, GenerationRequest("x", extra={"video_uri": "gs://b/v.mp4"}), "Gemini file URIs"),
        (True, GenerationRequest("x", extra={"video_uri": "https://a/b"}), "Cloud Storage"),
    ],
)
def test_what_only_the_surface_decides_is_refused_before_the_create(kit, vertex, request_, words):
    k = kit()
    if vertex:
        k.vertex()
    job = k.generate(request_)
    _failed(job, "invalid_input")
    assert words in job.error
    assert k.server.count("POST", "/v1") == 0


# ----------------------------------------------------------- models, find, etc.


def test_list_models_reads_every_page_and_keeps_what_gemini_cannot_speak_for(kit):
    k = kit()
    ctx = k.context(None)

    async def go() -> list[dict[str, Any]] | None:
        try:
            return await k.adapter.list_models(ctx)
        finally:
            await ctx.http.aclose()

    entries = {e["id"]: e for e in asyncio.run(go()) or []}
    pages = k.server.requests_to("GET", "/v1beta/models")
    assert [r.query.get("pageToken") for r in pages] == [None, "2", "4", "6"]
    assert all(r.headers["x-goog-api-key"] == k.fake.api_key for r in pages)
    assert "gemini-3.8-flash" not in entries
    assert "imagen-4.0-generate-001" not in entries
    new = entries["veo-4.0-generate-preview"]
    assert new["status"] == "active"
    assert new["durations"] == [4, 6, 8]
    assert new["extra"]["surfaces"] == ["gemini"]
    assert entries["veo-3.0-generate-001"]["status"] == "active"  # no dated Gemini shutdown
    assert "status" not in entries["veo-3.1-generate-preview"]  # shut down 2026-10-22
    assert entries["veo-3.1-lite-generate-001"] == {
        "id": "veo-3.1-lite-generate-001",
        "label": "Veo 3.1 Lite",
    }  # Vertex serves it: a Gemini listing does not retire it
    assert "veo-3.1-fast-generate-preview" not in entries


def test_refresh_updates_the_users_catalog(kit):
    k = kit()
    changes = asyncio.run(k.engine().refresh_models("veo"))
    assert changes is not None
    assert "veo-4.0-generate-preview" in changes["added"]
    assert changes["retired"] == []
    catalog = load_catalog(k.paths.catalog_overrides)
    assert catalog.model("veo", "veo-4.0-generate-preview").durations == (4.0, 6.0, 8.0)
    assert catalog.model("veo", "veo-3.0-generate-001").status == "active"
    assert catalog.vendor("veo").models["veo-3.1-generate-preview"].status == "retired"


def test_vertex_accounts_cannot_list_models(kit):
    k = kit().vertex()
    ctx = k.context(None)

    async def go() -> object:
        try:
            return await k.adapter.list_models(ctx)
        finally:
            await ctx.http.aclose()

    assert asyncio.run(go()) is None
    assert k.server.count() == 0


def test_there_is_no_lookup_no_cancel_and_no_balance(kit):
    k = kit()
    assert k.adapter.can_find is False
    ctx = k.context()
    handle = TaskHandle(f"models/{MODEL}/operations/x", {"surface": "gemini", "model": MODEL})

    async def go() -> tuple[object, bool]:
        try:
            return await k.adapter.balance(ctx), await k.adapter.cancel(ctx, handle)
        finally:
            await ctx.http.aclose()

    assert asyncio.run(go()) == (None, False)
    assert k.server.count() == 0


def test_a_cancel_asks_nothing_of_google_and_the_job_is_cancelled(kit):
    k = kit(running_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("veo", MODEL)])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.server.count("POST", "/v1beta/models/veo-3.1-generate-001/operations") == 0


def test_a_handle_survives_a_restart_and_holds_no_secret(kit):
    k = kit().vertex()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("veo", MODEL)])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    assert job.state == "running"
    assert "PRIVATE KEY" not in json.dumps(dict(job.task_data))
    [job] = asyncio.run(k.engine().run([job_id]))
    _done(k, job)


@pytest.mark.parametrize(
    ("status", "name", "reason", "kind"),
    [
        (400, "INVALID_ARGUMENT", "API_KEY_INVALID", AuthError),
        (401, "UNAUTHENTICATED", None, AuthError),
        (403, "PERMISSION_DENIED", None, AuthError),
        (403, "PERMISSION_DENIED", "BILLING_DISABLED", QuotaError),
        (400, "FAILED_PRECONDITION", None, Rejected),
        (429, "RESOURCE_EXHAUSTED", None, RateLimited),
        (404, "NOT_FOUND", None, ModelRetired),
        (400, "INVALID_ARGUMENT", None, Rejected),
        (500, "INTERNAL", None, TransientError),
        (503, "UNAVAILABLE", None, TransientError),
        (504, "DEADLINE_EXCEEDED", None, TransientError),
    ],
)
def test_the_error_table(status, name, reason, kind):
    error = vendor_error(status, "words", code=name, reason=reason, retry_after=3.0)
    assert type(error) is kind
    assert error.vendor == "veo"
    assert error.vendor_code == name
    assert "words" in error.message
    if kind is RateLimited:
        assert error.retry_after == 3.0


def test_not_found_depends_on_what_was_asked():
    gone = vendor_error(404, "models/x is no longer available", code="NOT_FOUND")
    assert type(gone) is ModelRetired
    elsewhere = vendor_error(404, "not found", code="NOT_FOUND", served_elsewhere=True)
    assert type(elsewhere) is Rejected
    assert type(vendor_error(404, "x", code="NOT_FOUND", stage="poll")) is GenerationFailed
    billing = vendor_error(400, "enable billing first", code="FAILED_PRECONDITION")
    assert type(billing) is QuotaError


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (3, Rejected, "INVALID_ARGUMENT"),
        (9, Rejected, "FAILED_PRECONDITION"),
        (7, AuthError, "PERMISSION_DENIED"),
        (13, GenerationFailed, "INTERNAL"),
        (8, GenerationFailed, "RESOURCE_EXHAUSTED"),
        (14, GenerationFailed, "UNAVAILABLE"),
    ],
)
def test_operation_errors(code, kind, name):
    error = operation_error({"code": code, "message": "words"})
    assert type(error) is kind
    assert error.vendor_code == name


def test_a_cancelled_operation_is_a_cancelled_task():
    adapter = VeoAdapter(load_catalog().vendor("veo"))
    status = adapter.status(
        {"name": "models/m/operations/o", "done": True, "error": {"code": 1, "message": "x"}},
        Surface("gemini"),
    )
    assert status.state is TaskState.CANCELLED


def test_the_fake_refuses_what_google_refuses(kit):
    k = kit()
    url = f"{k.fake.url}/v1beta/models/{MODEL}:predictLongRunning"
    key = {"x-goog-api-key": k.fake.api_key}

    def post(body: dict[str, Any], headers: dict[str, str] = key) -> httpx.Response:
        return httpx.post(url, json=body, headers=headers)

    base = {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": 8}}
    assert post(base, {}).json()["error"]["status"] == "PERMISSION_DENIED"
    for parameters, words in [
        ({"seed": 1}, "`seed` isn't supported"),
        ({"generateAudio": False}, "`generateAudio` isn't supported"),
        ({"durationSeconds": 5}, "durationSeconds"),
        ({"durationSeconds": 4, "resolution": "1080p"}, "requires durationSeconds 8"),
    ]:
        answer = post({**base, "parameters": parameters})
        assert answer.status_code == 400, parameters
        assert words in answer.json()["error"]["message"]
    gcs = {"instances": [{"prompt": "x", "image": {"gcsUri": "gs://a/b.png"}}]}
    assert "gcsUri isn't supported" in post(gcs).json()["error"]["message"]
    assert k.fake.count_creates() == 0


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
def test_the_cli_generates_a_take_refuses_bad_input_and_refreshes_models(home, serve_fake):
    fake = serve_fake()
    env = {"TAKESTOCK_VEO_BASE_URL": fake.url, "TAKESTOCK_VEO_API_KEY": fake.api_key}
    result = _cli(
        "generate", "--vendor", "veo", "--model", MODEL, "--prompt", "a paper boat",
        "--duration", "8", "--resolution", "720p", "--aspect", "16:9", "--wait", "--json",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO

    refused = _cli(
        "generate", "--vendor", "veo", "--model", MODEL, "--prompt", "a boat",
        "--duration", "5", env=env,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "5 s is not offered" in refused.stderr
    assert fake.count_creates() == 1

    refreshed = _cli("vendors", "refresh", "veo", "--json", env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    changes = json.loads(refreshed.stdout)
    assert changes["added"] == ["veo-4.0-generate-preview"]
    listed = json.loads(_cli("vendors", "--json", env=env).stdout)
    [veo] = [v for v in listed["vendors"] if v["id"] == "veo"]
    assert "veo-4.0-generate-preview" in {m["id"] for m in veo["models"]}


@pytest.mark.slow
def test_the_cli_uses_vertex_with_a_service_account_from_the_environment(home, serve_fake):
    fake = serve_fake()
    env = {
        "TAKESTOCK_VEO_BASE_URL": fake.url,
        "TAKESTOCK_VEO_SERVICE_ACCOUNT_JSON": fake.account.json,
        # WORKAROUND: core.jobs.resolve_secrets asks the keyring for the first auth option
        # (api_key) before it tries the second from the environment, and fails where no
        # keyring works; an empty in-memory keyring stands in for the user's.
        "PYTHON_KEYRING_BACKEND": "tests.secrets_support.MemoryKeyring",
    }
    result = _cli(
        "generate", "--vendor", "veo", "--model", MODEL, "--prompt", "a heron", "--seed", "3",
        "--wait", "--json", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert fake.creates[0][0] == "vertex"
    assert fake.creates[0][2]["parameters"]["seed"] == 3
