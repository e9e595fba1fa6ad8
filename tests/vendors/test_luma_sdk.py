"""Luma's official SDKs against the fake Luma: the fake takes exactly what the vendor's
own clients send, and the adapter sends nothing those clients would not.

Two SDKs, one per surface: ``luma-agents`` (``luma_agents``, the Agents API and
``ray-3.2``) and ``lumaai`` (the legacy Dream Machine API). Each test is skipped when its
SDK is not installed.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any, get_args, get_type_hints

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.luma import LumaAdapter
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_luma import (
    AGENTS_BODY_KEYS,
    DREAM_BODY_KEYS,
    VIDEO_OPTION_KEYS,
    FakeLuma,
)

KEY = "luma-api-sdk-key"
VIDEO = tiny_mp4(seconds=1.0)


@pytest.fixture
def agents_sdk() -> Any:
    return pytest.importorskip("luma_agents")


@pytest.fixture
def lumaai_sdk() -> Any:
    return pytest.importorskip("lumaai")


@pytest.fixture
def fake():
    vendor = FakeLuma(api_key=KEY, video=VIDEO, queued_polls=1, processing_polls=1)
    server = vendor.serve()
    yield vendor
    server.stop()
    server.check()


@pytest.fixture
def first_frame(tmp_path) -> Path:
    path = tmp_path / "first.png"
    Image.new("RGB", (640, 360), (10, 120, 200)).save(path, "PNG")
    return path


def _poll(get: Any, gen_id: str, final: tuple[str, ...] = ("completed", "failed")) -> list[Any]:
    seen = []
    for _ in range(10):
        generation = get(gen_id)
        seen.append(generation)
        if generation.state in final:
            break
    return seen


def _adapter_body(fake: FakeLuma, model: str, request: GenerationRequest) -> dict[str, Any]:
    """What the adapter sends for ``request`` to the fake, as the fake accepted it."""
    vendor = load_catalog().vendor("luma")
    adapter = LumaAdapter(vendor)
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
    return fake.creates[-1][1]


def _keys(typed_dict: Any) -> set[str]:
    return set(get_type_hints(typed_dict))


def _literals(annotation: Any) -> set[Any]:
    """Every Literal value inside an annotation (through Optional, Union, aliases)."""
    values: set[Any] = set()
    for arg in get_args(annotation) or ():
        if isinstance(arg, str):
            values.add(arg)
        else:
            values |= _literals(arg)
    return values


# ---------------------------------------------------------------------- Agents API


def test_the_agents_sdk_creates_and_polls_a_video_on_the_fake(agents_sdk, fake, first_frame):
    client = agents_sdk.Luma(auth_token=KEY, base_url=fake.url + "/v1", max_retries=0)
    frame = {"data": base64.b64encode(first_frame.read_bytes()).decode(), "media_type": "image/png"}
    video = {"resolution": "720p", "duration": "5s", "start_frame": frame, "loop": True}
    created = client.generations.create(
        model="ray-3.2",
        type="video",
        prompt="a red fox in snow",
        aspect_ratio="16:9",
        video=video,
    )
    assert (created.state, created.model, created.type) == ("queued", "ray-3.2", "video")
    seen = _poll(client.generations.get, created.id)
    assert [g.state for g in seen] == ["queued", "processing", "completed"]
    [output] = seen[-1].output
    assert output.type == "video"
    assert httpx.get(output.url).content == VIDEO

    [post] = fake.server.requests_to("POST", "/v1/generations")
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.json == {
        "model": "ray-3.2",
        "type": "video",
        "prompt": "a red fox in snow",
        "aspect_ratio": "16:9",
        "video": video,
    }
    assert fake.creates == [("agents", post.json)]
    gets = fake.server.requests_to("GET", "/v1/generations/{id}")
    assert {r.path for r in gets} == {f"/v1/generations/{created.id}"}
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in gets)
    [gen] = fake.generations.values()
    assert (gen.images[0]["field"], gen.images[0]["width"]) == ("start_frame", 640)


def test_the_agents_sdk_extends_a_video_by_its_generation_id(agents_sdk, fake):
    client = agents_sdk.Luma(auth_token=KEY, base_url=fake.url + "/v1", max_retries=0)
    prior = fake.add_completed("agents", "ray-3.2")
    created = client.generations.create(
        model="ray-3.2",
        type="video",
        prompt="the camera keeps rising",
        video={"duration": "5s", "start_frame": {"generation_id": prior}},
    )
    assert _poll(client.generations.get, created.id)[-1].state == "completed"


def test_the_agents_sdk_reads_the_fakes_errors(agents_sdk, fake):
    wrong = agents_sdk.Luma(auth_token="wrong", base_url=fake.url + "/v1", max_retries=0)
    with pytest.raises(agents_sdk.AuthenticationError) as refused:
        wrong.generations.create(model="ray-3.2", type="video", prompt="a fox")
    assert refused.value.body == {"detail": "Invalid API key provided"}
    client = agents_sdk.Luma(auth_token=KEY, base_url=fake.url + "/v1", max_retries=0)
    with pytest.raises(agents_sdk.UnprocessableEntityError) as combo:
        client.generations.create(
            model="ray-3.2", type="video", prompt="a fox", video={"duration": "10s", "loop": True}
        )
    assert combo.value.body == {"detail": "loop is not supported with duration=10s"}
    fake.credits = 0
    with pytest.raises(agents_sdk.APIStatusError) as broke:
        client.generations.create(model="ray-3.2", type="video", prompt="a fox")
    assert broke.value.status_code == 402
    assert fake.creates == []


def test_the_adapter_sends_only_what_the_agents_sdk_knows(agents_sdk, fake, first_frame):
    types = pytest.importorskip("luma_agents.types")
    create = types.generation_create_params.GenerationCreateParams
    options = types.VideoOptionsParam
    assert _keys(create) == AGENTS_BODY_KEYS  # the fake's schema is the SDK's
    assert _keys(options) == VIDEO_OPTION_KEYS
    request = GenerationRequest(
        "a red fox",
        image=first_frame,
        last_frame=first_frame,
        resolution="1080p",
        aspect="21:9",
        extra={"hdr": True, "exr_export": True},
    )
    body = _adapter_body(fake, "ray-3.2", request)
    assert set(body) <= _keys(create)
    assert set(body["video"]) <= _keys(options)
    hints = get_type_hints(create)
    assert body["model"] in _literals(hints["model"])
    assert body["type"] in _literals(hints["type"])
    assert body["aspect_ratio"] in _literals(hints["aspect_ratio"])
    option_hints = get_type_hints(options)
    assert body["video"]["duration"] in _literals(option_hints["duration"])
    assert body["video"]["resolution"] in _literals(option_hints["resolution"])
    for frame in ("start_frame", "end_frame"):
        assert set(body["video"][frame]) <= _keys(types.ImageRefParam)
    # Every model the catalog sends to the Agents API is one the SDK names.
    vendor = load_catalog().vendor("luma")
    agents_models = {m.id for m in vendor.models.values() if m.extra["surface"] == "agents"}
    assert agents_models <= _literals(hints["model"])


# ------------------------------------------------------------------- Dream Machine


def test_the_lumaai_sdk_creates_polls_lists_and_deletes_on_the_fake(lumaai_sdk, fake):
    client = lumaai_sdk.LumaAI(
        auth_token=KEY, base_url=fake.url + "/dream-machine/v1", max_retries=0
    )
    keyframes = {"frame0": {"type": "image", "url": "https://cdn.example.com/a.jpg"}}
    created = client.generations.create(
        model="ray-2",
        prompt="a tiger walking in snow",
        aspect_ratio="9:16",
        duration="9s",
        resolution="540p",
        loop=True,
        keyframes=keyframes,
    )
    assert (created.state, created.model) == ("queued", "ray-2")
    seen = _poll(client.generations.get, created.id)
    assert [g.state for g in seen] == ["queued", "dreaming", "completed"]
    assert httpx.get(seen[-1].assets.video).content == VIDEO

    [post] = fake.server.requests_to("POST", "/dream-machine/v1/generations/video")
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.json == {
        "model": "ray-2",
        "prompt": "a tiger walking in snow",
        "aspect_ratio": "9:16",
        "duration": "9s",
        "resolution": "540p",
        "loop": True,
        "keyframes": keyframes,
    }
    assert fake.creates == [("dream_machine", post.json)]

    listed = client.generations.list(limit=5)
    assert [g.id for g in listed.generations] == [created.id]
    balance = client.credits.get()
    assert balance.credit_balance == pytest.approx(100_000 - 71.66, abs=0.01)
    client.generations.delete(created.id)
    with pytest.raises(lumaai_sdk.NotFoundError):
        client.generations.get(created.id)


def test_the_lumaai_sdk_reads_the_fakes_errors(lumaai_sdk, fake):
    wrong = lumaai_sdk.LumaAI(
        auth_token="wrong", base_url=fake.url + "/dream-machine/v1", max_retries=0
    )
    with pytest.raises(lumaai_sdk.AuthenticationError):
        wrong.credits.get()
    client = lumaai_sdk.LumaAI(
        auth_token=KEY, base_url=fake.url + "/dream-machine/v1", max_retries=0
    )
    with pytest.raises(lumaai_sdk.BadRequestError) as refused:
        client.generations.create(
            model="ray-2",
            prompt="a tiger",
            loop=True,
            keyframes={"frame1": {"type": "image", "url": "https://cdn.example.com/b.jpg"}},
        )
    assert refused.value.body == {"detail": "Loop is not supported for end frame"}
    assert fake.creates == []


def test_the_adapter_sends_only_what_the_lumaai_sdk_knows(lumaai_sdk, fake):
    params = pytest.importorskip("lumaai.types.generation_create_params")
    create = params.GenerationCreateParams
    assert _keys(create) == DREAM_BODY_KEYS
    prior = fake.add_completed("dream_machine", "ray-2")
    request = GenerationRequest(
        "a tiger walks",
        duration_s=9,
        resolution="4k",
        aspect="9:21",
        extra={
            "extend_generation_id": prior,
            "end_image_url": "https://cdn.example.com/b.jpg",
        },
    )
    body = _adapter_body(fake, "ray-flash-2", request)
    assert set(body) <= _keys(create)
    hints = get_type_hints(create)
    for key in ("model", "aspect_ratio", "duration", "resolution"):
        assert body[key] in _literals(hints[key]), key
    assert set(body["keyframes"]) <= _keys(params.Keyframes)
    assert set(body["keyframes"]["frame0"]) == _keys(params.KeyframesFrame0GenerationReference)
    assert set(body["keyframes"]["frame1"]) == _keys(params.KeyframesFrame1ImageReference)
    vendor = load_catalog().vendor("luma")
    dream = {m.id for m in vendor.models.values() if m.extra["surface"] == "dream_machine"}
    assert dream <= _literals(hints["model"])
