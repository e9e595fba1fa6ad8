"""Tencent's official vclm SDK as a witness of the fields the TokenHub adapter sends.

TokenHub documents its video submit as SubmitHunyuanToVideoJob's parameters in snake
case; ``tencentcloud-sdk-python-vclm`` is Tencent's own model of that action. Each body
the adapter sends (but ``model``, which is TokenHub's) is read back through the SDK's
request model: a field the SDK does not know makes it warn ("fileds are useless"), which
fails here, and the values land where Tencent's model puts them. The catalog's limits
are checked against the SDK's field documentation (200 characters, 720p only, 8 MB of
base64, 50-5000 px, 1:4 to 4:1). The SDK speaks the TC3-signed vclm API, not TokenHub,
so it cannot talk to the fake. Needs ``tencentcloud-sdk-python-vclm``; skipped without.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.hunyuan import HunyuanAdapter
from tests.vendors.fake_hunyuan import FakeHunyuan

vclm = pytest.importorskip("tencentcloud.vclm.v20240523.models")

KEY = "sk-tokenhub-sdk-witness"


@pytest.fixture
def fake():
    vendor = FakeHunyuan(api_key=KEY)
    server = vendor.serve()
    yield vendor
    server.stop()
    server.check()


def _camel(value: Any) -> Any:
    """snake_case keys to Tencent Cloud's CamelCase (logo_add -> LogoAdd, url -> Url)."""
    if isinstance(value, dict):
        return {"".join(p.capitalize() for p in k.split("_")): _camel(v) for k, v in value.items()}
    return value


def _sent(fake: FakeHunyuan, request: GenerationRequest) -> dict[str, Any]:
    vendor = load_catalog().vendor("hunyuan")
    model = vendor.models["hy-video-1.5"]
    adapter = HunyuanAdapter(vendor)
    adapter.validate(request, model)

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            ctx = CallContext(http=http, vendor=vendor, base_url=fake.url, model=model,
                              secrets={"api_key": KEY})  # fmt: skip
            await adapter.submit(ctx, request, "ts-1")

    asyncio.run(go())
    return fake.creates[-1]


def _as_sdk_request(body: dict[str, Any]) -> Any:
    parsed = vclm.SubmitHunyuanToVideoJobRequest()
    fields = _camel({k: v for k, v in body.items() if k != "model"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown field is a warning in the SDK
        parsed._deserialize(fields)
    return parsed


@pytest.mark.parametrize("watermark", [True, False])
def test_an_image_take_sends_only_fields_tencents_model_knows(fake, tmp_path: Path, watermark):
    frame = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (5, 6, 7)).save(frame, "PNG")
    body = _sent(fake, GenerationRequest("雪中的狐狸", image=frame, extra={"watermark": watermark}))
    parsed = _as_sdk_request(body)
    assert parsed.Prompt == "雪中的狐狸"
    assert parsed.Resolution == "720p"
    assert parsed.Image.Base64 == body["image"]["base64"]
    assert parsed.Image.Url is None
    assert parsed.LogoAdd == (1 if watermark else 0)


def test_an_image_url_lands_in_image_url(fake):
    url = "https://example.com/frame.jpg"
    parsed = _as_sdk_request(_sent(fake, GenerationRequest("镜头推进", extra={"image_url": url})))
    assert (parsed.Image.Url, parsed.Image.Base64, parsed.LogoAdd) == (url, None, None)


def test_a_field_tencent_does_not_know_would_be_caught():
    with pytest.raises(UserWarning, match="useless"):
        _as_sdk_request({"prompt": "a", "aspect_ratio": "16:9"})


def test_the_catalog_limits_are_the_ones_tencents_sdk_documents():
    model = load_catalog().vendor("hunyuan").models["hy-video-1.5"]
    prompt_doc = vclm.SubmitHunyuanToVideoJobRequest.Prompt.__doc__
    image_doc = vclm.SubmitHunyuanToVideoJobRequest.Image.__doc__
    resolution_doc = vclm.SubmitHunyuanToVideoJobRequest.Resolution.__doc__
    assert f"{model.prompt_max_chars}个" in prompt_doc
    assert list(model.resolutions) == ["720p"]
    assert "720p" in resolution_doc
    assert "base64不超过8M" in image_doc
    assert model.image.max_bytes == 8_000_000
    assert f"不小于{model.image.min_side}" in image_doc
    assert f"不超过{model.image.max_side}" in image_doc
    assert "1:4 ~ 4:1" in image_doc
    assert (model.image.min_aspect, model.image.max_aspect) == (0.25, 4.0)
