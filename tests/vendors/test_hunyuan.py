"""Tencent Hunyuan video on TokenHub through the engine and the CLI, against a fake."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.errors import InvalidInput, RateLimited
from takestock.core.jobs import Target
from takestock.core.takes import list_takes
from takestock.core.vendor import GenerationRequest
from takestock.vendors.hunyuan import HunyuanAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.vendors.contract import FaultMatrix, done
from tests.vendors.fake_hunyuan import PRICE, FakeHunyuan
from tests.vendors.kit import VendorKit, instant_backoff, kit_factory, run_cli

__all__ = ["instant_backoff"]  # a fixture, used by name

KEY = "sk-tokenhub-0123456789abcdef"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
HY = "hy-video-1.5"
SUBMIT = "/v1/api/video/submit"
QUERY = "/v1/api/video/query"
FILES = "/cos/*"


@pytest.fixture
def kit(tmp_path):
    yield from kit_factory(
        tmp_path,
        "hunyuan",
        lambda **o: FakeHunyuan(**{"api_key": KEY, "video": VIDEO, **o}),
        HunyuanAdapter,
        KEY,
        HY,
    )


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (220, 40, 120)).save(path, fmt)
    return path


def submits(k: VendorKit) -> list[Any]:
    return k.server.requests_to("POST", SUBMIT)


# ---------------------------------------------------------------------------- generation


def test_text_to_video_is_submitted_and_queried_to_a_take(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("一只红狐狸在雪中奔跑"))
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [submit] = submits(k)
    assert submit.headers["Authorization"] == f"Bearer {KEY}"
    assert submit.json == {"model": HY, "prompt": "一只红狐狸在雪中奔跑", "resolution": "720p"}
    queries = k.server.requests_to("POST", QUERY)
    assert {q.json["id"] for q in queries} == {job.vendor_task_id}
    assert all(q.headers["Authorization"] == f"Bearer {KEY}" for q in queries)
    assert job.vendor_state == "completed"
    assert job.estimate == {"amount": 1.5, "unit": "CNY", "money": 1.5, "currency": "CNY"}
    assert "request_id" in job.task_data


def test_a_first_frame_goes_inline_and_a_url_is_passed_on(kit, tmp_path):
    k = kit()
    frame = picture(tmp_path, "first.png")
    url = "https://example.com/first.jpg"
    done(k.generate(GenerationRequest("她转身微笑", image=frame, extra={"watermark": False}))[0])
    done(k.generate(GenerationRequest("镜头推进", extra={"image_url": url, "watermark": True}))[0])
    first, second = (r.json for r in submits(k))
    assert first["image"] == {"base64": base64.b64encode(frame.read_bytes()).decode()}
    assert first["logo_add"] == 0
    assert (second["image"], second["logo_add"]) == ({"url": url}, 1)


# ---------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("prompt", "kind", "words"),
    [
        ("a fox #fail", "generation_failed", "generation failed (FailedOperation.InnerError)"),
        ("a fox #audit", "rejected", "did not pass the audit"),
    ],
)
def test_a_failed_task_keeps_tencents_code(kit, prompt, kind, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt))
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", kind, "failed")
    assert words in job.error


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"balance": 1.0}, "quota", "insufficient (HTTP 402, insufficient_balance)"),
        ({"retired_models": [HY]}, "model_retired", "does not exist"),
    ],
)
def test_a_refused_submit_fails_the_job_with_tencents_words(kit, options, kind, words):
    k = kit(**options)
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.fake.count_creates() == 0


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (400, {"error": {"message": "prompt contains sensitive words", "code": "x"}},
         "rejected", "sensitive words"),
        (403, {"Response": {"Error": {"Code": "AuthFailure.SecretIdNotFound",
                                      "Message": "key not found"}, "RequestId": "r"}},
         "auth", "key not found (HTTP 403, AuthFailure.SecretIdNotFound)"),
        (200, {"Response": {"Error": {"Code": "FailedOperation.UserUnAuthError",
                                      "Message": "account in arrears"}, "RequestId": "r"}},
         "quota", "arrears"),
        (400, {"Response": {"Error": {"Code": "InvalidParameterValue.Model",
                                      "Message": "bad model"}}}, "model_retired", "bad model"),
    ],
)  # fmt: skip
def test_submit_errors_map_into_the_error_tree(kit, status, body, kind, words):
    k = kit()
    k.server.script("POST", SUBMIT, Fault.status(status, json=body))
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error


# --------------------------------------------------------------------- rate limits, faults


class TestFaults(FaultMatrix):
    """The shared fault matrix (tests/vendors/contract.py) on this vendor's paths."""

    create = ("POST", SUBMIT)
    poll = ("POST", QUERY)
    files = FILES
    video = VIDEO
    wrong_key = "sk-tokenhub-WRONG-0a1b2c3d4e5f"


def test_one_job_at_a_time_waits_for_a_slot(kit, instant_backoff):
    k = kit(max_running=1)
    jobs = k.generate(GenerationRequest("a fox"), count=2)
    assert [j.state for j in jobs] == ["done", "done"]
    assert k.fake.count_creates() == 2


def test_a_429_that_persists_is_rate_limited(kit):
    k = kit(max_running=0, retry_after=0)
    ctx = k.context()
    with pytest.raises(RateLimited) as refused:
        k.call(ctx, lambda: k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1"))
    assert (refused.value.retry_after, refused.value.vendor_code) == (0.0, "RequestLimitExceeded")


def test_a_submit_whose_answer_is_lost_becomes_unknown_not_a_second_charge(kit):
    k = kit()
    k.server.script("POST", SUBMIT, Fault.cut_after(0))
    [job] = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown"
    assert k.fake.count_creates() == 1
    assert k.fake.balance == 100.0 - PRICE  # charged once, never twice


# ----------------------------------------------------------------------------- validation


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    ok = picture(tmp_path, "ok.png")
    for request, field in [
        (GenerationRequest("x" * 201), "prompt"),
        (GenerationRequest(""), "prompt"),
        (GenerationRequest("", image=ok), "prompt"),
        (GenerationRequest("a fox", duration_s=10), "duration"),
        (GenerationRequest("a fox", resolution="1080p"), "resolution"),
        (GenerationRequest("a fox", aspect="16:9"), "aspect"),
        (GenerationRequest("a fox", audio=True), "audio"),
        (GenerationRequest("a fox", seed=1), "seed"),
        (GenerationRequest("a fox", negative="blur"), "negative"),
        (GenerationRequest("a fox", image=ok, last_frame=ok), "mode"),
        (GenerationRequest("a fox", image=picture(tmp_path, "s.png", (40, 40))), "image"),
        (GenerationRequest("a fox", image=picture(tmp_path, "w.png", (1000, 200))), "image"),
        (GenerationRequest("a", image=ok, extra={"image_url": "https://e.com/a.png"}), "image_url"),
        (GenerationRequest("a", extra={"image_url": "http://e.com/a.png"}), "image_url"),
        (GenerationRequest("a", extra={"watermark": "no"}), "watermark"),
        (GenerationRequest("a", extra={"duration": 10}), "duration"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            k.engine().enqueue(request, [Target("hunyuan", HY)])
        assert refused.value.field == field, (request, refused.value)
    assert k.server.count() == 0


def test_the_catalog_prices_a_take_and_names_the_regions():
    vendor = load_catalog().vendor("hunyuan")
    assert vendor.base_url("intl") == "https://tokenhub-intl.tencentcloudmaas.com"
    model = vendor.models[HY]
    estimate = HunyuanAdapter(vendor).estimate(GenerationRequest("a"), model)
    assert (estimate.amount, estimate.unit, estimate.currency) == (1.5, "CNY", "CNY")
    assert model.prompt_max_chars == 200


def test_hunyuan_cannot_cancel_find_or_report_a_balance(kit):
    k = kit(queued_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("hunyuan", HY)])
    asyncio.run(engine.run([job_id], until="submitted"))
    before = len(k.server.requests)
    assert asyncio.run(engine.cancel(job_id)).state == "cancelled"
    assert len(k.server.requests) == before
    ctx = k.context()
    assert k.call(ctx, lambda: k.adapter.balance(ctx)) is None
    assert k.adapter.can_find is False


# --------------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_the_cli_generates_refuses_and_lists_hunyuan(kit, home, tmp_path):
    k = kit(queued_polls=0, processing_polls=0)
    frame = picture(tmp_path, "frame.jpg", fmt="JPEG")
    result = run_cli(
        home, "hunyuan", k.fake.url, KEY, "generate", "--vendor", "hunyuan", "--model", HY,
        "--prompt", "灯塔在黄昏", "--image", str(frame), "--extra", "watermark=false",
        "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    [body] = k.fake.creates
    assert (body["logo_add"], set(body["image"])) == (0, {"base64"})

    refused = run_cli(
        home, "hunyuan", k.fake.url, KEY, "generate", "--vendor", "hunyuan", "--model", HY,
        "--prompt", "x" * 300, "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "prompt" in refused.stderr
    assert k.fake.count_creates() == 1

    listed = run_cli(home, "hunyuan", k.fake.url, KEY, "vendors", "--json")
    [hy] = [v for v in json.loads(listed.stdout)["vendors"] if v["id"] == "hunyuan"]
    assert (hy["supported"], hy["key_set"], [m["id"] for m in hy["models"]]) == (True, True, [HY])
