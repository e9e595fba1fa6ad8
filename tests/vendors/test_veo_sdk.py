"""Google's ``google-genai`` SDK as a witness: it talks to our fake, and sends what we send.

The 2.x line is used: it is the last that still builds Gemini-API video requests (3.x
refuses ``generate_videos`` outside Vertex). If Google's own client is accepted by the
fake and the adapter's requests match the SDK's (path, auth header, body), the fake
speaks Veo's protocol and cannot drift from it unnoticed. Skipped when the SDK is absent
(``pip install "google-genai>=2.34,<3"``).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.veo import VeoAdapter
from tests.fakeserver.harness import RecordedRequest
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_veo import FakeVeo

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")
errors = pytest.importorskip("google.genai.errors")
service_account = pytest.importorskip("google.oauth2.service_account")

VIDEO = tiny_mp4()
MODEL = "veo-3.1-generate-001"
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


@pytest.fixture
def fake() -> Iterator[FakeVeo]:
    served = FakeVeo(video=VIDEO, running_polls=1)
    served.serve()
    yield served
    assert served.server is not None
    served.server.stop()
    served.server.check()


def _gemini(fake: FakeVeo, key: str | None = None) -> Any:
    return genai.Client(
        api_key=key or fake.api_key, http_options=types.HttpOptions(base_url=fake.url)
    )


def _vertex(fake: FakeVeo) -> Any:
    assert fake.account is not None
    credentials = service_account.Credentials.from_service_account_info(
        fake.account.info, scopes=SCOPES
    )
    return genai.Client(
        vertexai=True,
        project=fake.account.project,
        location=fake.location,
        credentials=credentials,
        http_options=types.HttpOptions(base_url=fake.url),
    )


def _creates(fake: FakeVeo) -> list[RecordedRequest]:
    assert fake.server is not None
    return [r for r in fake.server.requests if r.path.endswith(":predictLongRunning")]


def _ours(fake: FakeVeo, request: GenerationRequest, secrets: dict[str, str]) -> RecordedRequest:
    """Submit ``request`` with the adapter; the recorded create."""
    vendor = load_catalog().vendor("veo")

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.url,
                model=vendor.models[MODEL],
                secrets=secrets,
            )
            await VeoAdapter(vendor).submit(ctx, request, "ts-witness")

    asyncio.run(go())
    return _creates(fake)[-1]


def _jpeg(tmp: Path, name: str, size: tuple[int, int] = (1280, 720)) -> Path:
    path = tmp / name
    Image.new("RGB", size, (30, 120, 200)).save(path, "JPEG")
    return path


def _sdk_image(path: Path) -> Any:
    return types.Image(image_bytes=path.read_bytes(), mime_type="image/jpeg")


def _wait(client: Any, operation: Any) -> Any:
    for _ in range(10):
        if operation.done:
            return operation
        operation = client.operations.get(operation)
    raise AssertionError("the operation never finished")


def _same(sdk: RecordedRequest, ours: RecordedRequest, *auth: str) -> None:
    """Same endpoint, same auth header, same JSON body."""
    assert (ours.method, ours.path) == (sdk.method, sdk.path)
    for header in auth:
        assert ours.headers[header] == sdk.headers[header], header
    assert sdk.headers["Content-Type"].startswith("application/json")
    assert ours.headers["Content-Type"].startswith("application/json")
    assert ours.json == sdk.json


# ------------------------------------------------------------------ Gemini API


def test_sdk_gemini_text_to_video_create_poll_and_download(fake, tmp_path):
    client = _gemini(fake)
    operation = client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="a lighthouse at dusk"),
        config=types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=6,
            aspect_ratio="9:16",
            resolution="720p",
            negative_prompt="blurry",
            person_generation="allow_all",
        ),
    )
    assert operation.name.startswith(f"models/{MODEL}/operations/")
    [sdk] = _creates(fake)
    assert sdk.path == f"/v1beta/models/{MODEL}:predictLongRunning"
    assert sdk.headers["x-goog-api-key"] == fake.api_key

    done = _wait(client, operation)
    [generated] = done.response.generated_videos
    uri = generated.video.uri
    assert uri.startswith(f"{fake.url}/v1beta/files/")
    polls = [r for r in fake.server.requests if "/operations/" in r.path]
    assert [(r.method, r.path) for r in polls] == [("GET", f"/v1beta/{operation.name}")] * 2
    file_name = "files/" + uri.split("/files/")[1].split(":")[0]
    assert client.files.download(file=file_name) == VIDEO

    request = GenerationRequest(
        "a lighthouse at dusk",
        negative="blurry",
        duration_s=6,
        aspect="9:16",
        resolution="720p",
        extra={"person_generation": "allow_all"},
    )
    _same(sdk, _ours(fake, request, {"api_key": fake.api_key}), "x-goog-api-key")


def test_sdk_gemini_first_and_last_frame(fake, tmp_path):
    first, last = _jpeg(tmp_path, "a.jpg"), _jpeg(tmp_path, "b.jpg")
    client = _gemini(fake)  # kept: a collected Client closes its HTTP client
    client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="day to night", image=_sdk_image(first)),
        config=types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=8,
            aspect_ratio="16:9",
            resolution="1080p",
            last_frame=_sdk_image(last),
        ),
    )
    [sdk] = _creates(fake)
    request = GenerationRequest(
        "day to night", image=first, last_frame=last, resolution="1080p", duration_s=8
    )
    _same(sdk, _ours(fake, request, {"api_key": fake.api_key}), "x-goog-api-key")


def test_sdk_gemini_reference_images(fake, tmp_path):
    refs = [_jpeg(tmp_path, f"r{i}.jpg", (800, 800)) for i in range(2)]
    client = _gemini(fake)
    client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="the same hero"),
        config=types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=8,
            aspect_ratio="16:9",
            resolution="720p",
            reference_images=[
                types.VideoGenerationReferenceImage(image=_sdk_image(r), reference_type="asset")
                for r in refs
            ],
        ),
    )
    [sdk] = _creates(fake)
    request = GenerationRequest("the same hero", extra={"reference_images": [str(r) for r in refs]})
    _same(sdk, _ours(fake, request, {"api_key": fake.api_key}), "x-goog-api-key")


def test_sdk_gemini_extension_by_uri(fake):
    client = _gemini(fake)
    first = _wait(
        client,
        client.models.generate_videos(
            model=MODEL, source=types.GenerateVideosSource(prompt="a boat leaves")
        ),
    )
    uri = first.response.generated_videos[0].video.uri
    client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="it sails on", video=types.Video(uri=uri)),
        config=types.GenerateVideosConfig(
            number_of_videos=1, duration_seconds=8, aspect_ratio="16:9", resolution="720p"
        ),
    )
    sdk = _creates(fake)[-1]
    assert sdk.json["instances"][0]["video"] == {"uri": uri}
    request = GenerationRequest("it sails on", extra={"video_uri": uri})
    _same(sdk, _ours(fake, request, {"api_key": fake.api_key}), "x-goog-api-key")


def test_sdk_gemini_refuses_what_the_adapter_refuses_before_sending(fake):
    # The SDK itself refuses seed and the audio switch on the Gemini API.
    client = _gemini(fake)
    for config in ({"seed": 1}, {"generate_audio": False}):
        with pytest.raises(ValueError, match="only supported in Gemini Enterprise"):
            client.models.generate_videos(
                model=MODEL,
                source=types.GenerateVideosSource(prompt="x"),
                config=types.GenerateVideosConfig(**config),
            )
    assert _creates(fake) == []


def test_sdk_reads_the_fakes_errors_as_google_errors(fake):
    wrong_key, client = _gemini(fake, "AIza-wrong"), _gemini(fake)
    with pytest.raises(errors.ClientError) as wrong:
        wrong_key.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt="x"))
    assert (wrong.value.code, wrong.value.status) == (400, "INVALID_ARGUMENT")
    assert wrong.value.message == "API key not valid. Please pass a valid API key."
    with pytest.raises(errors.ClientError) as gone:
        client.models.generate_videos(
            model="veo-3.1-generate-preview", source=types.GenerateVideosSource(prompt="x")
        )
    assert (gone.value.code, gone.value.status) == (404, "NOT_FOUND")
    assert "is no longer available" in gone.value.message
    assert fake.count_creates() == 0


def test_sdk_lists_the_fakes_models_across_pages(fake):
    client = _gemini(fake)
    names = [m.name for m in client.models.list(config={"page_size": 2})]
    assert "models/veo-3.1-generate-001" in names
    assert "models/veo-4.0-generate-preview" in names
    assert len(names) == len(list(fake.listing))
    veo = next(m for m in client.models.list() if m.name == f"models/{MODEL}")
    assert veo.supported_actions == ["predictLongRunning"]


# ------------------------------------------------------------------- Vertex AI


def test_sdk_vertex_create_fetch_and_inline_bytes(fake):
    client = _vertex(fake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        operation = client.models.generate_videos(
            model=MODEL,
            source=types.GenerateVideosSource(prompt="a heron"),
            config=types.GenerateVideosConfig(
                number_of_videos=1,
                duration_seconds=8,
                aspect_ratio="16:9",
                resolution="720p",
                seed=42,
                generate_audio=False,
            ),
        )
        done = _wait(client, operation)
    [sdk] = _creates(fake)
    project = fake.account.project
    assert sdk.path == (
        f"/v1beta1/projects/{project}/locations/us-central1"
        f"/publishers/google/models/{MODEL}:predictLongRunning"
    )
    assert sdk.headers["Authorization"].startswith("Bearer ya29.fake-")
    fetch = [r for r in fake.server.requests if r.path.endswith(":fetchPredictOperation")]
    assert fetch[0].json == {"operationName": operation.name}
    assert done.response.generated_videos[0].video.video_bytes == VIDEO
    assert fake.token_requests[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"

    request = GenerationRequest("a heron", duration_s=8, seed=42, audio=False)
    ours = _ours(fake, request, {"service_account_json": fake.account.json})
    # Same body; the SDK speaks v1beta1 where the REST reference documents v1.
    assert ours.path == sdk.path.replace("/v1beta1/", "/v1/", 1)
    assert ours.json == sdk.json
    assert ours.headers["Authorization"].startswith("Bearer ya29.fake-")
