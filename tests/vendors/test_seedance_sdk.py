"""The official Ark SDK against the fake Seedance: the fake takes exactly what the
vendor's own client sends, and the adapter sends nothing the SDK would not.

Needs ``volcengine-ark-runtime`` (the Ark runtime split out of ``volcengine-python-sdk``;
``volcenginesdkarkruntime``); skipped without it.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import get_type_hints

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.seedance import SeedanceAdapter
from tests.fakeserver.media import tiny_mp4
from tests.vendors.fake_seedance import BODY_KEYS, FakeSeedance

ark = pytest.importorskip("volcenginesdkarkruntime")
content_types = pytest.importorskip(
    "volcenginesdkarkruntime.types.content_generation.create_task_content_param"
)

KEY = "ark-sdk-key"
VIDEO = tiny_mp4(seconds=1.0)
TASKS = "/api/v3/contents/generations/tasks"
MODEL = "seedance-1-5-pro-251215"


@pytest.fixture
def fake():
    vendor = FakeSeedance(api_key=KEY, video=VIDEO, queued_polls=1, running_polls=0)
    server = vendor.serve()
    yield vendor
    server.stop()
    server.check()


@pytest.fixture
def first_frame(tmp_path) -> Path:
    path = tmp_path / "first.png"
    Image.new("RGB", (640, 360), (10, 120, 200)).save(path, "PNG")
    return path


def _data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_the_sdk_creates_polls_lists_and_deletes_a_task_on_the_fake(fake, first_frame):
    client = ark.Ark(base_url=fake.base_url, api_key=KEY, max_retries=0)
    image = {
        "type": "image_url",
        "image_url": {"url": _data_url(first_frame)},
        "role": "first_frame",
    }
    created = client.content_generation.tasks.create(
        model=MODEL,
        content=[{"type": "text", "text": "a red fox in snow"}, image],
        resolution="480p",
        ratio="adaptive",
        duration=4,
        seed=7,
        camera_fixed=False,
        watermark=False,
        generate_audio=False,
    )
    assert created.id.startswith("cgt-")
    statuses = []
    for _ in range(10):
        task = client.content_generation.tasks.get(task_id=created.id)
        statuses.append(task.status)
        if task.status == "succeeded":
            break
    assert statuses == ["queued", "running", "succeeded"]
    assert task.content.video_url.startswith(fake.server.url + "/tos/")
    assert task.usage.completion_tokens == 864 * 496 * (24 * 4 + 1) // 1024
    assert (task.seed, task.resolution, task.duration, task.framespersecond) == (7, "480p", 4, 24)
    assert httpx.get(task.content.video_url).content == VIDEO

    [post] = fake.server.requests_to("POST", TASKS)
    assert post.headers["Authorization"] == f"Bearer {KEY}"
    assert post.headers["Content-Type"] == "application/json"
    sent = {key: value for key, value in post.json.items() if value is not None}
    assert sent == {
        "model": MODEL,
        "content": [{"type": "text", "text": "a red fox in snow"}, image],
        "resolution": "480p",
        "ratio": "adaptive",
        "duration": 4,
        "seed": 7,
        "camera_fixed": False,
        "watermark": False,
        "generate_audio": False,
    }
    assert fake.creates == [post.json]  # accepted as sent, nulls included
    gets = fake.server.requests_to("GET", TASKS + "/{id}")
    assert {r.path for r in gets} == {f"{TASKS}/{created.id}"}
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in gets)

    listed = client.content_generation.tasks.list(task_ids=[created.id], page_size=10)
    assert (listed.total, [t.id for t in listed.items]) == (1, [created.id])
    [listing] = fake.server.requests_to("GET", TASKS)
    assert (listing.query["filter.task_ids"], listing.query["page_size"]) == (created.id, "10")

    client.content_generation.tasks.delete(created.id)  # a finished task: its record goes
    with pytest.raises(ark._exceptions.ArkNotFoundError):
        client.content_generation.tasks.get(task_id=created.id)


def test_the_sdk_cancels_a_queued_task(fake):
    client = ark.Ark(base_url=fake.base_url, api_key=KEY, max_retries=0)
    created = client.content_generation.tasks.create(
        model=MODEL, content=[{"type": "text", "text": "a kite"}], duration=4
    )
    client.content_generation.tasks.delete(created.id)
    assert client.content_generation.tasks.get(task_id=created.id).status == "cancelled"


def test_the_sdk_reads_arks_error_shape_from_the_fake(fake):
    client = ark.Ark(base_url=fake.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(ark._exceptions.ArkAuthenticationError) as refused:
        client.content_generation.tasks.create(model=MODEL, content=[{"type": "text", "text": "x"}])
    assert refused.value.code == "AuthenticationError"
    assert fake.creates == []


def test_the_adapter_sends_only_what_the_sdk_knows(fake, first_frame):
    """Every top-level key and content item the adapter sends is one the SDK's create
    takes, in the SDK's item shapes: the fake and the adapter cannot drift from Ark."""
    vendor = load_catalog().vendor("seedance")
    adapter = SeedanceAdapter(vendor)
    request = GenerationRequest(
        "a red fox",
        image=first_frame,
        duration_s=4,
        resolution="480p",
        aspect="adaptive",
        seed=7,
        audio=True,
        extra={"camera_fixed": True},
    )

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http,
                vendor=vendor,
                base_url=fake.base_url,
                model=vendor.models[MODEL],
                secrets={"api_key": KEY},
            )
            await adapter.submit(ctx, request, "ts-1")

    # What the SDK sends for a bare create: every body key it knows, unset ones as null.
    ark.Ark(base_url=fake.base_url, api_key=KEY, max_retries=0).content_generation.tasks.create(
        model=MODEL, content=[{"type": "text", "text": "a kite"}]
    )
    asyncio.run(go())
    sdk_body, ours = fake.creates
    assert set(ours) <= set(sdk_body)
    assert set(sdk_body) == BODY_KEYS  # the fake's list of known keys is the SDK's
    text_keys = set(get_type_hints(content_types.CreateTaskContentTextParam))
    image_keys = set(get_type_hints(content_types.CreateTaskContentImageParam))
    url_keys = set(get_type_hints(content_types.CreateTaskContentImageDataParam))
    assert set(ours["content"][0]) == text_keys
    assert set(ours["content"][1]) == image_keys
    assert set(ours["content"][1]["image_url"]) == url_keys
    assert ours["content"][1]["role"] == "first_frame"
