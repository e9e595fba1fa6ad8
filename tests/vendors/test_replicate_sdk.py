"""The official ``replicate`` client as a witness: it talks to our fake, and sends what we send.

If Replicate's own client (1.0.7, the stable line) is accepted by the fake and the
adapter's requests match the client's (path, headers, body), the fake speaks Replicate
and cannot drift from it unnoticed. Skipped when the client is absent
(``pip install "replicate>=1.0.7,<2"``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle
from takestock.vendors.replicate import ReplicateAdapter
from tests.fakeserver.harness import RecordedRequest
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_replicate import MODELS, FakeReplicate, version_of

replicate = pytest.importorskip("replicate")
from replicate.exceptions import ReplicateError  # noqa: E402

KEY = "r8_sdk_token"
VIDEO = tiny_mp4()
VEO = "google/veo-3.1"


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    served = FakeReplicate(api_token=KEY, video=VIDEO, queued_polls=1, running_polls=1)
    served.serve()
    yield served
    assert served.server is not None
    served.server.stop()
    served.server.check()


@pytest.fixture
def client(fake: FakeReplicate) -> Any:
    sdk = replicate.Client(api_token=KEY, base_url=fake.url)
    sdk.poll_interval = 0.01
    return sdk


def _posts(fake: FakeReplicate, path: str) -> list[RecordedRequest]:
    assert fake.server is not None
    return [r for r in fake.server.requests if r.method == "POST" and r.path == path]


def _ours(fake: FakeReplicate, model: str, request: GenerationRequest, **extra: Any) -> TaskHandle:
    catalog = load_catalog()
    vendor = catalog.vendor("replicate")
    spec = vendor.models[model]
    if extra:
        spec = dataclasses.replace(spec, extra={**spec.extra, **extra})

    async def go() -> TaskHandle:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.url,
                model=spec,
                secrets={"api_key": KEY},
            )
            return await ReplicateAdapter(vendor).submit(ctx, request, "ts-witness")

    return asyncio.run(go())


def _same_request(sdk: RecordedRequest, ours: RecordedRequest) -> None:
    assert (ours.method, ours.path) == (sdk.method, sdk.path)
    assert ours.headers["Authorization"] == sdk.headers["Authorization"] == f"Bearer {KEY}"
    assert sdk.headers["Content-Type"].startswith("application/json")
    assert ours.headers["Content-Type"].startswith("application/json")
    assert ours.json == sdk.json


def test_sdk_create_on_an_official_model_matches_ours(fake, client):
    inputs = {
        "prompt": "a lighthouse at dusk",
        "negative_prompt": "blur",
        "duration": 6,
        "resolution": "720p",
        "aspect_ratio": "9:16",
        "generate_audio": False,
        "seed": 7,
    }
    prediction = client.predictions.create(model=VEO, input=inputs)
    assert prediction.status == "starting"
    assert prediction.urls["get"].endswith(f"/v1/predictions/{prediction.id}")
    [sdk] = _posts(fake, "/v1/models/google/veo-3.1/predictions")
    assert sdk.headers["User-Agent"].startswith("replicate-python/")
    assert "Prefer" not in sdk.headers
    request = GenerationRequest(
        "a lighthouse at dusk", negative="blur", duration_s=6, resolution="720p",
        aspect="9:16", seed=7,
    )  # fmt: skip
    _ours(fake, VEO, request)
    ours = _posts(fake, "/v1/models/google/veo-3.1/predictions")[-1]
    _same_request(sdk, ours)
    assert fake.count_creates() == 2


def test_sdk_create_by_version_matches_ours(fake, client):
    version = version_of("minimax/hailuo-02")
    inputs = {"prompt": "waves", "duration": 6, "resolution": "768p"}
    prediction = client.predictions.create(version=version, input=inputs)
    assert prediction.version == version
    [sdk] = _posts(fake, "/v1/predictions")
    assert sdk.json == {"version": version, "input": inputs}
    _ours(fake, "minimax/hailuo-02", GenerationRequest("waves"), version=version)
    _same_request(sdk, _posts(fake, "/v1/predictions")[-1])


def test_sdk_polls_waits_and_downloads_what_we_poll(fake, client):
    prediction = client.predictions.create(model=VEO, input={"prompt": "a kite"})
    first = client.predictions.get(prediction.id)
    assert first.status == "starting"
    prediction.wait()
    assert prediction.status == "succeeded"
    assert prediction.metrics["predict_time"] > 0
    assert isinstance(prediction.output, str)
    # The client fetches output files with its API client, token included.
    response = client._client.get(prediction.output)
    assert response.content == VIDEO
    assert fake.server is not None
    polls = [r for r in fake.server.requests if r.path == f"/v1/predictions/{prediction.id}"]
    assert all(r.method == "GET" for r in polls)
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in polls)

    vendor = load_catalog().vendor("replicate")

    async def ours() -> Any:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(http=http, vendor=vendor, base_url=fake.url, secrets={"api_key": KEY})
            return await ReplicateAdapter(vendor).poll(ctx, TaskHandle(prediction.id))

    status = asyncio.run(ours())
    assert status.vendor_state == "succeeded"
    assert status.results[0].url.split("?")[0] == prediction.output.split("?")[0]


def test_sdk_cancel_and_list_read_the_fakes_answers(fake, client):
    fake.queued_polls = 50
    made = [client.predictions.create(model=VEO, input={"prompt": f"p{i}"}) for i in range(3)]
    canceled = client.predictions.cancel(made[0].id)
    assert canceled.status == "canceled"
    [cancel] = _posts(fake, f"/v1/predictions/{made[0].id}/cancel")
    assert cancel.headers["Authorization"] == f"Bearer {KEY}"
    fake.page_size = 2
    page = client.predictions.list()
    assert [p.id for p in page.results] == [made[2].id, made[1].id]  # newest first
    assert page.next is not None
    rest = client.predictions.list(page.next)
    assert [p.id for p in rest.results] == [made[0].id]
    assert rest.results[0].input == {"prompt": "p0"}


def test_sdk_file_upload_is_what_we_upload(fake, client, tmp_path: Path):
    path = tmp_path / "frame.png"
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(path)
    uploaded = client.files.create(path)
    assert uploaded.urls["get"] == f"{fake.url}/v1/files/{uploaded.id}"
    assert uploaded.content_type == "image/png"
    # The client's own upload is a valid image input for a model.
    client.predictions.create(
        model="wan-video/wan-2.5-i2v", input={"prompt": "x", "image": uploaded.urls["get"]}
    )
    [sdk_upload] = _posts(fake, "/v1/files")
    assert sdk_upload.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="content"; filename="frame.png"' in sdk_upload.body


def test_sdk_reads_the_model_schema_that_list_models_reads(fake, client):
    model = client.models.get(VEO)
    schema = model.latest_version.openapi_schema
    assert model.latest_version.id == version_of(VEO)
    properties = schema["components"]["schemas"]["Input"]["properties"]
    assert set(properties) == set(MODELS[VEO].inputs)
    vendor = load_catalog().vendor("replicate")

    async def ours() -> Any:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(http=http, vendor=vendor, base_url=fake.url, secrets={"api_key": KEY})
            return await ReplicateAdapter(vendor).list_models(ctx)

    entries = {e["id"]: e for e in asyncio.run(ours())}
    assert entries[VEO]["durations"] == [4, 6, 8]
    assert entries[VEO]["aspects"] == ["16:9", "9:16"]


def test_sdk_reads_the_fakes_errors_as_replicate_errors(fake):
    wrong = replicate.Client(api_token="r8_wrong", base_url=fake.url)
    with pytest.raises(ReplicateError) as unauthenticated:
        wrong.predictions.create(model=VEO, input={"prompt": "x"})
    assert unauthenticated.value.status == 401
    assert unauthenticated.value.title == "Unauthenticated"
    sdk = replicate.Client(api_token=KEY, base_url=fake.url)
    with pytest.raises(ReplicateError) as invalid:
        sdk.predictions.create(model=VEO, input={"prompt": "x", "duration": 5})
    assert invalid.value.status == 422
    assert "duration must be one of the following: 4, 6, 8" in (invalid.value.detail or "")
    with pytest.raises(ReplicateError) as missing:
        sdk.models.get("nobody/nothing")
    assert missing.value.status == 404
    assert fake.count_creates() == 0
