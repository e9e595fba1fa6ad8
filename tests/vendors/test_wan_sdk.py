"""The official ``dashscope`` SDK as a witness: it talks to our fake, and sends what we send.

If Alibaba's own client is accepted by the fake and the adapter's requests match the
SDK's (path, headers, body fields), the fake speaks DashScope and cannot drift from it
unnoticed. Skipped when the SDK is absent (``pip install "dashscope>=2.0.2,<3"``).
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle
from takestock.vendors.wan import WanAdapter
from tests.fakeserver.harness import RecordedRequest
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_wan import KF2V_PATH, T2V_PATH, FakeWan

dashscope = pytest.importorskip("dashscope")
VideoSynthesis = dashscope.VideoSynthesis

KEY = "sk-test"
VIDEO = tiny_mp4()
# What the SDK adds to ``input`` beyond the documented fields: the deprecated
# ``extend_prompt`` flag and its own routing name.
SDK_ONLY_INPUT = {"extend_prompt", "function"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWan]:
    served = FakeWan(video=VIDEO, queued_polls=1, running_polls=0)
    served.serve()
    monkeypatch.setattr(dashscope, "base_http_api_url", served.api_base)
    yield served
    assert served.server is not None
    served.server.stop()
    served.server.check()


def _ours(fake: FakeWan, model: str, request: GenerationRequest) -> tuple[RecordedRequest, str]:
    """Submit ``request`` with the adapter; the recorded create and the task id."""
    vendor = load_catalog().vendor("wan")

    async def go() -> TaskHandle:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.api_base,
                model=vendor.models[model],
                secrets={"api_key": KEY},
            )
            return await WanAdapter(vendor).submit(ctx, request, "ts-witness")

    handle = asyncio.run(go())
    assert fake.server is not None
    return _creates(fake)[-1], handle.task_id


def _creates(fake: FakeWan) -> list[RecordedRequest]:
    assert fake.server is not None
    return [r for r in fake.server.requests if r.method == "POST" and "synthesis" in r.path]


def _same_request(sdk: RecordedRequest, ours: RecordedRequest) -> None:
    """Same endpoint, same auth and async headers, same body fields."""
    assert (ours.method, ours.path) == (sdk.method, sdk.path)
    for header in ("Authorization", "X-DashScope-Async"):
        assert ours.headers[header] == sdk.headers[header], header
    assert sdk.headers["Content-Type"].startswith("application/json")
    assert ours.headers["Content-Type"].startswith("application/json")
    assert sdk.json is not None
    assert ours.json is not None
    assert ours.json["model"] == sdk.json["model"]
    sdk_input = {k: v for k, v in sdk.json["input"].items() if k not in SDK_ONLY_INPUT}
    assert ours.json["input"] == sdk_input
    assert ours.json["parameters"] == sdk.json["parameters"]
    assert set(sdk.json) == {"model", "input", "parameters"}


def _jpeg(tmp: Path, name: str, size: tuple[int, int] = (800, 600)) -> Path:
    path = tmp / name
    Image.new("RGB", size, (30, 120, 200)).save(path, "JPEG")
    return path


def _data_url(path: Path) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def test_sdk_text_to_video_create_fetch_wait_and_download(fake):
    response = VideoSynthesis.async_call(
        model="wan2.6-t2v",
        prompt="a lighthouse at dusk",
        negative_prompt="blurry",
        size="1280*720",
        duration=5,
        seed=7,
        prompt_extend=False,
        watermark=False,
        api_key=KEY,
    )
    assert response.status_code == 200, response
    task_id = response.output.task_id
    assert response.output.task_status == "PENDING"
    [sdk] = _creates(fake)
    assert sdk.path == T2V_PATH
    assert sdk.headers["Authorization"] == f"Bearer {KEY}"
    assert sdk.headers["X-DashScope-Async"] == "enable"
    assert sdk.json["input"]["prompt"] == "a lighthouse at dusk"
    assert sdk.json["parameters"]["size"] == "1280*720"

    fetched = VideoSynthesis.fetch(task_id, api_key=KEY)
    assert fetched.output.task_status == "PENDING"
    done = VideoSynthesis.wait(task_id, api_key=KEY)
    assert done.output.task_status == "SUCCEEDED"
    assert done.usage.video_duration == 5
    assert httpx.get(done.output.video_url).content == VIDEO
    polls = [r for r in fake.server.requests if r.method == "GET" and r.path.endswith(task_id)]
    assert [r.path for r in polls] == [f"/api/v1/tasks/{task_id}"] * 2
    assert all("X-DashScope-Async" not in r.headers for r in polls)

    request = GenerationRequest(
        "a lighthouse at dusk",
        negative="blurry",
        duration_s=5,
        resolution="720p",
        aspect="16:9",
        seed=7,
        extra={"prompt_extend": False, "watermark": False},
    )
    ours, _ = _ours(fake, "wan2.6-t2v", request)
    _same_request(sdk, ours)
    assert fake.count_creates() == 2


def test_sdk_image_to_video_with_an_inline_image(fake, tmp_path):
    image = _jpeg(tmp_path, "start.jpg")
    response = VideoSynthesis.async_call(
        model="wan2.6-i2v-flash",
        prompt="waves roll in",
        img_url=_data_url(image),
        resolution="720P",
        duration=4,
        audio=False,
        watermark=False,
        api_key=KEY,
    )
    assert response.status_code == 200, response
    [sdk] = _creates(fake)
    request = GenerationRequest(
        "waves roll in", image=image, resolution="720p", duration_s=4, audio=False
    )
    ours, _ = _ours(fake, "wan2.6-i2v-flash", request)
    _same_request(sdk, ours)


def test_sdk_first_and_last_frame_uses_the_kf2v_endpoint(fake, tmp_path):
    first, last = _jpeg(tmp_path, "a.jpg"), _jpeg(tmp_path, "b.jpg")
    response = VideoSynthesis.async_call(
        model="wan2.2-kf2v-flash",
        prompt="day turns to night",
        first_frame_url=_data_url(first),
        last_frame_url=_data_url(last),
        resolution="720P",
        duration=5,
        watermark=False,
        api_key=KEY,
    )
    assert response.status_code == 200, response
    [sdk] = _creates(fake)
    assert sdk.path == KF2V_PATH
    request = GenerationRequest("day turns to night", image=first, last_frame=last)
    ours, _ = _ours(fake, "wan2.2-kf2v-flash", request)
    _same_request(sdk, ours)


def test_sdk_wan_2_7_media_list(fake, tmp_path):
    first = _jpeg(tmp_path, "a.jpg", (640, 640))
    response = VideoSynthesis.async_call(
        model="wan2.7-i2v",
        prompt="the flower opens",
        media=[{"type": "first_frame", "url": _data_url(first)}],
        resolution="1080P",
        duration=6,
        watermark=False,
        api_key=KEY,
    )
    assert response.status_code == 200, response
    [sdk] = _creates(fake)
    ours, _ = _ours(
        fake, "wan2.7-i2v", GenerationRequest("the flower opens", image=first, duration_s=6)
    )
    _same_request(sdk, ours)


def test_sdk_cancel_matches_ours_and_reads_the_fakes_refusal(fake):
    created = VideoSynthesis.async_call(
        model="wan2.6-t2v", prompt="x", size="1280*720", api_key=KEY
    )
    task_id = created.output.task_id
    cancelled = VideoSynthesis.cancel(task_id, api_key=KEY)
    assert cancelled.status_code == 200, cancelled
    assert fake.status_of(task_id) == "CANCELED"
    again = VideoSynthesis.cancel(task_id, api_key=KEY)
    assert (again.status_code, again.code) == (400, "UnsupportedOperation")
    [sdk_cancel, _] = [r for r in fake.server.requests if r.path.endswith("/cancel")]
    assert sdk_cancel.path == f"/api/v1/tasks/{task_id}/cancel"
    assert sdk_cancel.method == "POST"
    assert sdk_cancel.headers["Authorization"] == f"Bearer {KEY}"


def test_sdk_reads_the_fakes_errors_as_dashscope_errors(fake):
    wrong = VideoSynthesis.async_call(model="wan2.6-t2v", prompt="x", api_key="sk-wrong")
    assert (wrong.status_code, wrong.code) == (401, "InvalidApiKey")
    assert wrong.message == "Invalid API-key provided."
    unknown = VideoSynthesis.async_call(model="wan9-t2v", prompt="x", api_key=KEY)
    assert (unknown.status_code, unknown.code) == (404, "ModelNotFound")
    gone = VideoSynthesis.fetch("no-such-task", api_key=KEY)
    assert gone.output.task_status == "UNKNOWN"
    assert fake.count_creates() == 0


def test_the_image_sent_inline_is_the_prepared_file(fake, tmp_path):
    image = _jpeg(tmp_path, "start.jpg")
    ours, _ = _ours(fake, "wan2.6-i2v", GenerationRequest("x", image=image))
    assert ours.json is not None
    head, _, payload = ours.json["input"]["img_url"].partition(",")
    assert head == "data:image/jpeg;base64"
    assert Image.open(io.BytesIO(base64.b64decode(payload))).size == (800, 600)
    assert base64.b64decode(payload) == image.read_bytes()


def test_the_request_shape_does_not_depend_on_how_it_is_called(fake: Any) -> None:
    # The SDK's VideoSynthesis.call does async_call + wait: same create as above.
    fake.queued_polls = 0
    result = VideoSynthesis.call(
        model="wanx2.1-t2v-turbo", prompt="a kite", size="832*480", duration=3, api_key=KEY
    )
    assert result.output.task_status == "SUCCEEDED"
    [sdk] = _creates(fake)
    ours, _ = _ours(
        fake, "wanx2.1-t2v-turbo", GenerationRequest("a kite", resolution="480p", duration_s=3)
    )
    assert ours.json is not None
    assert ours.json["parameters"] == {**sdk.json["parameters"], "watermark": False}
