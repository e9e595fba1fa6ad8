"""The official Runway SDK against the fake Runway: the fake takes exactly what the
vendor's own client sends and answers in shapes the client validates strictly, and the
adapter sends the very bodies and headers the SDK sends for the same take.

Needs ``runwayml`` (the official Stainless-generated SDK); skipped without it.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.runway import RunwayAdapter
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_runway import API_VERSION, FakeRunway

runwayml = pytest.importorskip("runwayml")

KEY = "rw-sdk-key"
VIDEO = tiny_mp4(seconds=1.0)


@pytest.fixture
def fake():
    vendor = FakeRunway(api_key=KEY, video=VIDEO, pending_polls=1, running_polls=1)
    server = vendor.serve()
    yield vendor
    server.stop()
    server.check()


def sdk(fake: FakeRunway, key: str = KEY) -> Any:
    # Strict validation: every answer of the fake must parse into the SDK's own types.
    return runwayml.RunwayML(
        api_key=key, base_url=fake.url, max_retries=0, _strict_response_validation=True
    )


@pytest.fixture
def frame(tmp_path) -> Path:
    path = tmp_path / "first.png"
    Image.new("RGB", (1280, 720), (10, 120, 200)).save(path, "PNG")
    return path


def _data_url(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def _submit(fake: FakeRunway, model: str, request: GenerationRequest) -> None:
    vendor = load_catalog().vendor("runway")
    adapter = RunwayAdapter(vendor)
    adapter.validate(request, vendor.models[model])

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.url,
                model=vendor.models[model],
                secrets={"api_key": KEY},
            )
            await adapter.submit(ctx, request, "ts-1")

    asyncio.run(go())


def test_the_sdk_creates_polls_and_downloads_a_task_on_the_fake(fake, frame):
    client = sdk(fake)
    created = client.image_to_video.create(
        model="gen4.5",
        prompt_image=_data_url(frame),
        prompt_text="a red fox in snow",
        ratio="1280:720",
        duration=5,
        seed=7,
        content_moderation={"public_figure_threshold": "low"},
    )
    assert created.estimated_cost.credits == 60
    statuses = []
    for _ in range(10):
        task = client.tasks.retrieve(created.id)
        statuses.append(task.status)
        if task.status == "SUCCEEDED":
            break
    assert statuses == ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert task.cost.credits == 60
    assert httpx.get(task.output[0]).content == VIDEO

    [post] = fake.server.requests_to("POST", "/v1/image_to_video")
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["X-Runway-Version"] == API_VERSION
    assert post.headers["Content-Type"] == "application/json"
    assert post.json == {
        "model": "gen4.5",
        "promptImage": _data_url(frame),
        "promptText": "a red fox in snow",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 7,
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    assert fake.creates == [post.json]
    gets = fake.server.requests_to("GET", "/v1/tasks/{id}")
    assert {r.path for r in gets} == {f"/v1/tasks/{created.id}"}
    assert all(r.headers["X-Runway-Version"] == API_VERSION for r in gets)


def test_every_task_state_of_the_fake_parses_in_the_sdk(fake):
    client = sdk(fake)
    slow = FakeRunway(api_key=KEY, video=VIDEO, pending_polls=1, concurrency=1, running_polls=5)
    slow_server = slow.serve()
    try:
        other = sdk(slow)
        seen: set[str] = set()
        first = other.text_to_video.create(
            model="gen4.5", prompt_text="a", ratio="1280:720", duration=2
        )
        second = other.text_to_video.create(
            model="gen4.5", prompt_text="b", ratio="1280:720", duration=2
        )
        for _ in range(4):
            seen.add(other.tasks.retrieve(first.id).status)
            seen.add(other.tasks.retrieve(second.id).status)
        assert {"PENDING", "RUNNING", "THROTTLED"} <= seen
        running = other.tasks.retrieve(first.id)
        assert 0 < running.progress < 1
    finally:
        slow_server.stop()
        slow_server.check()
    failed = client.text_to_video.create(
        model="veo3.1", prompt_text="a fox #safety", ratio="720:1280", duration=4, audio=False
    )
    for _ in range(3):
        task = client.tasks.retrieve(failed.id)
    assert (task.status, task.failure_code, task.cost.credits) == (
        "FAILED",
        "SAFETY.INPUT.TEXT",
        80,
    )
    assert task.failure


def test_the_sdk_cancels_a_task_and_reads_the_organization(fake):
    client = sdk(fake)
    created = client.text_to_video.create(
        model="veo3.1_fast", prompt_text="a kite", ratio="1920:1080", duration=8, audio=True
    )
    assert client.tasks.delete(created.id) is None
    [delete] = fake.server.requests_to("DELETE", "/v1/tasks/{id}")
    assert delete.headers["Accept"] == "*/*"
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(created.id)
    org = client.organization.retrieve()
    assert org.credit_balance == 100_000  # the 120 credits held were refunded
    assert org.usage.models["veo3.1_fast"].daily_generations == 1
    assert org.tier.max_monthly_credit_spend == 10_000


def test_the_sdk_reads_runways_error_shapes_from_the_fake(fake):
    with pytest.raises(runwayml.AuthenticationError):
        sdk(fake, key="wrong").text_to_video.create(
            model="gen4.5", prompt_text="x", ratio="1280:720", duration=5
        )
    with pytest.raises(runwayml.BadRequestError) as refused:
        sdk(fake).text_to_video.create(
            model="gen4.5", prompt_text="x", ratio="1104:832", duration=11
        )
    assert refused.value.body["error"] == "Validation of body failed"
    assert sorted(i["path"][0] for i in refused.value.body["issues"]) == ["duration", "ratio"]
    assert fake.creates == []


@pytest.mark.parametrize(
    ("model", "sdk_call", "request_kw"),
    [
        (
            "veo3.1",
            {
                "endpoint": "text_to_video",
                "prompt_text": "a red fox",
                "ratio": "1080:1920",
                "duration": 6,
                "audio": True,
                "seed": 42,
                "negative_prompt": "blur",
            },
            {
                "prompt": "a red fox",
                "duration_s": 6,
                "resolution": "1080p",
                "aspect": "9:16",
                "audio": True,
                "seed": 42,
                "negative": "blur",
            },
        ),
        (
            "gen4_turbo",
            {
                "endpoint": "image_to_video",
                "prompt_text": "drift",
                "ratio": "960:960",
                "duration": 3,
            },
            {"prompt": "drift", "duration_s": 3, "aspect": "1:1", "frame": True},
        ),
        (
            "veo3.1_fast",
            {
                "endpoint": "image_to_video",
                "prompt_text": "open",
                "ratio": "1280:720",
                "duration": 4,
                "audio": False,
                "last": True,
            },
            {"prompt": "open", "duration_s": 4, "frame": True, "last": True},
        ),
        (
            "aleph2",
            {"endpoint": "video_to_video", "prompt_text": "make it winter", "seed": 3},
            {"prompt": "make it winter", "seed": 3, "video": True},
        ),
    ],
)
def test_the_adapter_sends_what_the_sdk_sends(fake, frame, tmp_path, model, sdk_call, request_kw):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(VIDEO)
    call = dict(sdk_call)
    endpoint = call.pop("endpoint")
    request = dict(request_kw)
    frames = []
    if request.pop("frame", False):
        frames.append({"uri": _data_url(frame), "position": "first"})
        request["image"] = frame
    if call.pop("last", False):
        frames.append({"uri": _data_url(frame), "position": "last"})
        request["last_frame"] = frame
    request.pop("last", None)
    if frames:
        call["prompt_image"] = frames
    if request.pop("video", False):
        call["video_uri"] = _data_url(clip, "video/mp4")
        request["extra"] = {"video": str(clip)}

    getattr(sdk(fake), endpoint).create(model=model, **call)
    _submit(fake, model, GenerationRequest(**request))

    sdk_post, ours = fake.server.requests_to("POST", f"/v1/{endpoint}")
    assert ours.json == sdk_post.json
    for header in ("Authorization", "X-Runway-Version", "Content-Type"):
        assert ours.headers[header] == sdk_post.headers[header]
    assert fake.count_creates() == 2
