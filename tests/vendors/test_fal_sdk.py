"""The official ``fal-client`` against the fake fal: the fake takes exactly what fal's own
client sends and answers in shapes the client reads, and the adapter's calls match the
client's (paths, auth header, bodies, the owner/alias rule for request URLs).

Needs ``fal-client`` (``pip install "fal-client>=1.0.3,<2"``); skipped without it. The SDK
builds its hosts from module constants (``https://`` + ``FAL_QUEUE_RUN_HOST``, and
``REST_URL``), so the test points those at the fake's plain-HTTP address.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest, TaskState
from takestock.vendors.fal import FalAdapter
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_fal import KEY, FakeFal

fal_client = pytest.importorskip("fal_client")
fal_module = pytest.importorskip("fal_client.client")

VIDEO = tiny_mp4(seconds=1.0)
T2V = "fal-ai/kling-video/v3/pro/text-to-video"
I2V = "fal-ai/kling-video/v3/pro/image-to-video"
APP = "/fal-ai/kling-video/requests/{id}"


@pytest.fixture
def fake(monkeypatch):
    vendor = FakeFal(video=VIDEO, queued_polls=1, running_polls=0)
    server = vendor.serve()
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", server.url + "/")
    monkeypatch.setattr(fal_module, "REST_URL", server.url)
    yield vendor
    server.stop()
    server.check()


@pytest.fixture
def frame(tmp_path) -> Path:
    path = tmp_path / "first.png"
    Image.new("RGB", (640, 360), (10, 120, 200)).save(path, "PNG")
    return path


def _adapter_calls(fake: FakeFal, request: GenerationRequest) -> tuple[Any, Any]:
    vendor = load_catalog().vendor("fal")
    adapter = FalAdapter(vendor)

    async def go() -> tuple[Any, Any]:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.base_url,
                model=vendor.models["fal-ai/kling-video/v3/pro"],
                secrets={"api_key": KEY},
            )
            handle = await adapter.submit(ctx, request, "ts-1")
            statuses = [await adapter.poll(ctx, handle) for _ in range(3)]
            return handle, statuses

    return asyncio.run(go())


def test_the_sdk_submits_polls_and_fetches_a_result_on_the_fake(fake):
    client = fal_client.SyncClient(key=KEY)
    arguments = {"prompt": "a red fox in snow", "duration": "5", "generate_audio": False}
    handle = client.submit(T2V, arguments=arguments)
    events = list(handle.iter_events(with_logs=True, interval=0.01))
    assert [type(e).__name__ for e in events] == ["Queued", "InProgress", "Completed"]
    assert events[0].position == 0
    assert events[-1].error is None
    result = handle.get(interval=0.01)
    assert result["video"]["file_size"] == len(VIDEO)
    assert httpx.get(result["video"]["url"]).content == VIDEO

    [post] = fake.server.requests_to("POST", f"/{T2V}")
    assert post.headers["Authorization"] == f"Key {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["User-Agent"].startswith("fal-client/")
    assert post.json == arguments
    assert fake.creates == [arguments]
    # The SDK follows the URLs the fake returned: the app id only, no sub-path.
    polls = fake.server.requests_to("GET", APP + "/status")
    assert {p.path for p in polls} == {f"/fal-ai/kling-video/requests/{handle.request_id}/status"}
    assert polls[0].query == {"logs": "true"}
    assert all(p.headers["Authorization"] == f"Key {KEY}" for p in polls)
    assert len(fake.server.requests_to("GET", APP)) == 1


def test_the_sdk_uploads_through_storage_and_finds_requests_by_the_app_rule(fake, frame):
    client = fal_client.SyncClient(key=KEY)
    url = client.upload(frame.read_bytes(), "image/png", "first-frame.png", repository="fal")
    assert httpx.get(url).content == frame.read_bytes()
    [initiate] = fake.server.requests_to("POST", "/storage/upload/initiate")
    assert initiate.query == {"storage_type": "gcs"}
    assert initiate.json == {"file_name": "first-frame.png", "content_type": "image/png"}
    assert initiate.headers["Authorization"] == f"Key {KEY}"

    handle = client.submit(I2V, arguments={"prompt": "it moves", "start_image_url": url})
    # A handle rebuilt from the endpoint id alone (SDK rule: owner/alias) reaches it too.
    status = client.status(I2V, handle.request_id)
    assert isinstance(status, fal_client.Queued)
    client.cancel(I2V, handle.request_id)
    assert client.status(I2V, handle.request_id).error_type == "client_cancelled"
    [cancel] = fake.server.requests_to("PUT", APP + "/cancel")
    assert cancel.path == f"/fal-ai/kling-video/requests/{handle.request_id}/cancel"


def test_the_sdk_reads_fals_error_shapes_from_the_fake(fake):
    with pytest.raises(fal_client.FalClientHTTPError) as refused:
        fal_client.SyncClient(key="wrong:key").submit(T2V, arguments={"prompt": "x"})
    assert (refused.value.status_code, refused.value.message) == (
        401,
        "No user found for Key ID and Secret",
    )
    client = fal_client.SyncClient(key=KEY)
    handle = client.submit(T2V, arguments={"prompt": "a fox #timeout"})
    with pytest.raises(fal_client.FalClientHTTPError) as failed:
        handle.get(interval=0.01)
    assert (failed.value.status_code, failed.value.error_type) == (504, "request_timeout")
    handle = client.submit(T2V, arguments={"prompt": "x", "duration": "99"})
    with pytest.raises(fal_client.FalClientHTTPError) as invalid:
        handle.get(interval=0.01)
    assert invalid.value.status_code == 422
    assert invalid.value.message[0]["loc"] == ["body", "duration"]
    assert fake.count_creates() == 2  # the refused key made nothing


def test_the_adapter_calls_fal_the_way_the_sdk_does(fake, frame):
    """Same request through both: the adapter's create path, auth header, body, upload
    steps and request URLs are the SDK's."""
    client = fal_client.SyncClient(key=KEY)
    url = client.upload(frame.read_bytes(), "image/png", "first-frame.png", repository="fal")
    sdk_handle = client.submit(
        I2V,
        arguments={"prompt": "it moves", "duration": "5", "generate_audio": False,
                   "start_image_url": url},
    )  # fmt: skip
    sdk_polls = [client.status(I2V, sdk_handle.request_id) for _ in range(2)]

    handle, statuses = _adapter_calls(fake, GenerationRequest("it moves", image=frame))
    assert [s.state for s in statuses] == [
        TaskState.QUEUED,
        TaskState.RUNNING,
        TaskState.SUCCEEDED,
    ]
    assert [type(s).__name__ for s in sdk_polls] == ["Queued", "InProgress"]

    sdk_init, our_init = fake.server.requests_to("POST", "/storage/upload/initiate")
    assert (our_init.query, our_init.json) == (sdk_init.query, sdk_init.json)
    assert our_init.headers["Authorization"] == sdk_init.headers["Authorization"]
    sdk_put, our_put = fake.server.requests_to("PUT", "/upload/{token}")
    assert our_put.body == sdk_put.body
    assert our_put.headers["Content-Type"] == sdk_put.headers["Content-Type"]

    sdk_post, our_post = fake.server.requests_to("POST", f"/{I2V}")
    assert our_post.path == sdk_post.path
    assert our_post.headers["Authorization"] == sdk_post.headers["Authorization"]
    sdk_body, our_body = sdk_post.json, our_post.json
    assert sdk_body.pop("start_image_url") != our_body.pop("start_image_url")  # two uploads
    assert our_body == sdk_body

    polls = fake.server.requests_to("GET", APP + "/status")
    sdk_paths = {p.path for p in polls if sdk_handle.request_id in p.path}
    our_paths = {p.path for p in polls if handle.task_id in p.path}
    assert sdk_paths == {f"/fal-ai/kling-video/requests/{sdk_handle.request_id}/status"}
    assert our_paths == {f"/fal-ai/kling-video/requests/{handle.task_id}/status"}
