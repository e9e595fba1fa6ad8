"""The official xAI SDK as a witness of what the adapter sends and reads.

``xai-sdk`` speaks gRPC, not the REST API the adapter uses, so it cannot talk to the
REST fake. What it can witness without a network: its own request builder
(``client.video.prepare`` / ``prepare_extension`` build the proto without sending) names
the same fields, with the same values, that the adapter puts in its JSON bodies for the
same take; its enums are the catalog's aspects and resolutions; its model literals
contain the catalog's ids; its deferred statuses are the ones the adapter maps; and its
tick is the adapter's. Needs ``xai-sdk`` (a test-only dependency); skipped without it.
"""

from __future__ import annotations

import asyncio
import typing
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors import xai as xai_adapter
from tests.vendors.fake_xai import FakeXai

xai_sdk = pytest.importorskip("xai_sdk")
json_format = pytest.importorskip("google.protobuf.json_format")

from xai_sdk import cost as sdk_cost  # noqa: E402
from xai_sdk.proto.v6 import deferred_pb2  # noqa: E402
from xai_sdk.types import model as sdk_models  # noqa: E402
from xai_sdk.types import video as sdk_video  # noqa: E402

KEY = "xai-sdk-witness-key"


@pytest.fixture
def fake():
    vendor = FakeXai(api_key=KEY)
    server = vendor.serve()
    yield vendor
    server.stop()
    server.check()


def _client() -> Any:
    # No call is made: prepare() only builds the request. The host is loopback anyway.
    return xai_sdk.Client(api_key=KEY, api_host="127.0.0.1:9", use_insecure_channel=True)


def _as_rest(message: Any) -> dict[str, Any]:
    """The SDK's proto as the REST JSON it corresponds to: enum names to values,
    ``image_url`` to ``url``, the ``detail`` hint dropped."""
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)
    aspects = {v: k for k, v in sdk_video.VideoAspectRatioMap.items()}
    resolutions = {v: k for k, v in sdk_video.VideoResolutionMap.items()}

    def image(ref: dict[str, Any]) -> dict[str, str]:
        return {"url": ref["image_url"]}

    if "aspect_ratio" in data:
        data["aspect_ratio"] = aspects[getattr(sdk_video.video_pb2, data["aspect_ratio"])]
    if "resolution" in data:
        data["resolution"] = resolutions[getattr(sdk_video.video_pb2, data["resolution"])]
    if "image" in data:
        data["image"] = image(data["image"])
    if "reference_images" in data:
        data["reference_images"] = [image(r) for r in data["reference_images"]]
    return data


def _sent(fake: FakeXai, model: str, request: GenerationRequest) -> dict[str, Any]:
    vendor = load_catalog().vendor("xai")
    adapter = xai_adapter.XaiAdapter(vendor)
    adapter.validate(request, vendor.models[model])

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(
                http=http, vendor=vendor, base_url=fake.url, model=vendor.models[model],
                secrets={"api_key": KEY},
            )  # fmt: skip
            await adapter.submit(ctx, request, "ts-1")

    asyncio.run(go())
    return fake.creates[-1][1]


def test_a_generation_names_the_fields_the_sdk_builds(fake, tmp_path):
    frame = tmp_path / "first.png"
    Image.new("RGB", (640, 360), (1, 2, 3)).save(frame, "PNG")
    sent = _sent(
        fake,
        "grok-imagine-video-1.5",
        GenerationRequest("a fox", image=frame, duration_s=6, resolution="720p"),
    )
    built = _client().video.prepare(
        "a fox", "grok-imagine-video-1.5", image_url=sent["image"]["url"], duration=6,
        resolution="720p",
    )  # fmt: skip
    assert sent == _as_rest(built.video_request)


def test_text_and_references_name_the_fields_the_sdk_builds(fake):
    urls = ["https://example.com/a.png", "https://example.com/b.png"]
    sent = _sent(
        fake,
        "grok-imagine-video",
        GenerationRequest("a hero", duration_s=10, aspect="3:2", extra={"reference_images": urls}),
    )
    built = _client().video.prepare(
        "a hero", "grok-imagine-video", duration=10, aspect_ratio="3:2", resolution="480p",
        reference_image_urls=urls,
    )  # fmt: skip
    assert sent == _as_rest(built.video_request)


def test_an_extension_names_the_fields_the_sdk_builds(fake):
    source = "https://vidgen.x.ai/a.mp4"
    sent = _sent(
        fake,
        "grok-imagine-video",
        GenerationRequest("on", duration_s=4, extra={"extend_video": source}),
    )
    built = _client().video.prepare_extension("on", "grok-imagine-video", source, duration=4)
    assert sent == json_format.MessageToDict(
        built.video_extension_request, preserving_proto_field_name=True
    )


def test_the_catalog_speaks_the_sdks_enums_models_statuses_and_ticks():
    vendor = load_catalog().vendor("xai")
    sdk_aspects = set(typing.get_args(sdk_video.VideoAspectRatio))
    sdk_resolutions = set(typing.get_args(sdk_video.VideoResolution))
    sdk_ids = set(typing.get_args(sdk_models.VideoGenerationModel))
    for model in vendor.models.values():
        assert model.id in sdk_ids, model.id
        assert set(model.aspects) <= sdk_aspects, model.id
        assert set(model.resolutions) <= sdk_resolutions, model.id
    statuses = {name.lower() for name, _ in deferred_pb2.DeferredStatus.items()}
    assert set(xai_adapter._STATES) == statuses - {"invalid_deferred_status"}
    assert xai_adapter.USD_PER_TICK == sdk_cost.USD_PER_TICK
