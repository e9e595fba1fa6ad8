"""xAI Grok Imagine through the engine and the CLI, against a fake xAI on 127.0.0.1."""

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
from takestock.core.errors import GenerationFailed, InvalidInput, RateLimited
from takestock.core.jobs import Target
from takestock.core.takes import list_takes
from takestock.core.vendor import GenerationRequest, TaskHandle
from takestock.vendors.xai import XaiAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.vendors.contract import FaultMatrix, done
from tests.vendors.fake_xai import FakeXai, cost_usd
from tests.vendors.kit import VendorKit, instant_backoff, kit_factory, run_cli

__all__ = ["instant_backoff"]  # a fixture, used by name

KEY = "xai-test-key-0123456789"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
GROK = "grok-imagine-video"
GROK15 = "grok-imagine-video-1.5"
GENERATIONS = "/v1/videos/generations"
POLL = "/v1/videos/{id}"
FILES = "/vidgen/*"
SOURCE = "https://vidgen.x.ai/xai-vidgen-bucket/xai-video-1.mp4"


@pytest.fixture
def kit(tmp_path):
    yield from kit_factory(
        tmp_path,
        "xai",
        lambda **o: FakeXai(**{"api_key": KEY, "video": VIDEO, **o}),
        XaiAdapter,
        KEY,
        GROK,
    )


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 90, 40)).save(path, fmt)
    return path


def creates(k: VendorKit, path: str = GENERATIONS) -> list[Any]:
    return k.server.requests_to("POST", path)


# ---------------------------------------------------------------------------- generation


def test_text_to_video_becomes_a_take_with_xais_charge(kit):
    k = kit()
    request = GenerationRequest("a red fox in snow", duration_s=6, resolution="720p", aspect="9:16")
    [job] = k.generate(request)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = creates(k)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.json == {
        "model": GROK,
        "prompt": "a red fox in snow",
        "duration": 6,
        "aspect_ratio": "9:16",
        "resolution": "720p",
    }
    # $0.07/s at 720p; the actual charge is xAI's ticks, 1 tick = 1e-10 USD.
    assert job.estimate == {"amount": 0.42, "unit": "USD", "money": 0.42, "currency": "USD"}
    assert job.cost_actual == pytest.approx(0.42)
    assert job.vendor_state == "done"
    assert k.fake.count_creates() == 1


def test_the_defaults_are_sent_explicitly(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a lighthouse"), model=GROK15)
    done(job)
    [(_, body)] = k.fake.creates
    assert body == {
        "model": GROK15,
        "prompt": "a lighthouse",
        "duration": 8,
        "aspect_ratio": "16:9",
        "resolution": "480p",
    }


def test_image_to_video_sends_the_frame_inline_and_no_aspect(kit, tmp_path):
    k = kit()
    frame = picture(tmp_path, "first.png")
    [job] = k.generate(GenerationRequest("she turns", image=frame, duration_s=5), model=GROK15)
    done(job)
    [(_, body)] = k.fake.creates
    assert "aspect_ratio" not in body  # the frame sets the shape
    assert body["image"] == {
        "url": "data:image/png;base64," + base64.b64encode(frame.read_bytes()).decode()
    }
    [made] = k.fake.requests_made.values()
    assert made.images[0]["width"] == 640
    # $0.08/s at 480p plus $0.01 for the input image.
    assert job.estimate["amount"] == pytest.approx(0.41)


def test_reference_images_mix_files_and_urls(kit, tmp_path):
    k = kit()
    local = picture(tmp_path, "hero.jpg", fmt="JPEG")
    url = "https://example.com/style.png"
    [job] = k.generate(
        GenerationRequest(
            "the hero walks", duration_s=10, extra={"reference_images": [str(local), url]}
        )
    )
    done(job)
    [(_, body)] = k.fake.creates
    assert body["reference_images"][1] == {"url": url}
    assert body["reference_images"][0]["url"].startswith("data:image/jpeg;base64,")
    assert body["aspect_ratio"] == "16:9"
    assert job.estimate["amount"] == pytest.approx(0.5 + 2 * 0.002)


def test_an_edit_goes_to_the_edits_endpoint_with_only_a_video_and_a_prompt(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("make it night", extra={"edit_video": SOURCE}))
    done(job)
    [create] = creates(k, "/v1/videos/edits")
    assert create.json == {"model": GROK, "prompt": "make it night", "video": {"url": SOURCE}}
    assert creates(k) == []
    assert job.task_data == {"operation": "edit"}
    assert job.cost_actual == pytest.approx(cost_usd("/v1/videos/edits", create.json))


def test_an_extension_sends_its_duration_and_defaults_to_six_seconds(kit):
    k = kit()
    [first, second] = [
        k.generate(
            GenerationRequest("the car drives on", duration_s=d, extra={"extend_video": SOURCE})
        )[0]
        for d in (10, None)
    ]
    done(first)
    done(second)
    bodies = [r.json for r in creates(k, "/v1/videos/extensions")]
    assert [b["duration"] for b in bodies] == [10, 6]
    assert bodies[0]["video"] == {"url": SOURCE}


# ---------------------------------------------------------------------- vendor failures


def test_a_failed_generation_keeps_xais_code(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a fox #fail"))
    assert (job.state, job.error_kind, job.vendor_state) == (
        "failed",
        "generation_failed",
        "failed",
    )
    assert "Video generation failed (internal_error)" in job.error


def test_a_moderated_result_is_refused_and_its_charge_kept(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a fox #nsfw", duration_s=4))
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", "rejected", "moderated")
    assert "content moderation" in job.error
    assert job.cost_actual == pytest.approx(0.2)  # xAI bills a moderated video
    assert job.charged_without_output


def test_an_expired_request_fails(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a fox #expire"))
    assert (job.state, job.error_kind) == ("failed", "generation_failed")
    assert "expired before its result was fetched" in job.error


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"credits": 0.01}, "quota", "spending limit"),
        ({"retired_models": [GROK]}, "model_retired", "does not exist"),
    ],
)
def test_a_refused_create_fails_the_job_with_xais_words(kit, options, kind, words):
    k = kit(**options)
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0


def test_a_retired_model_is_marked_in_the_overrides(kit):
    k = kit(retired_models=[GROK15])
    [job] = k.generate(GenerationRequest("a fox"), model=GROK15)
    assert job.error_kind == "model_retired"
    overrides = json.loads(k.paths.catalog_overrides.read_text())
    assert overrides["xai"]["models"][GROK15]["status"] == "retired"


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (400, {"code": "bad", "error": "Invalid prompt"}, "rejected", "Invalid prompt (HTTP 400)"),
        (422, {"error": {"message": "bad duration", "type": "x", "code": "y"}}, "rejected",
         "bad duration (HTTP 422)"),
        (403, {"code": "x", "error": "This key is blocked"}, "auth", "blocked"),
        (402, {"code": "x", "error": "Your team has insufficient credits"}, "quota",
         "insufficient credits"),
        (400, {"code": "x", "error": "The model grok-x does not exist"}, "model_retired",
         "does not exist"),
        (403, {"code": "x", "error": "Insufficient permissions for this model"}, "auth",
         "Insufficient permissions"),
        # A bare 404 is as likely a mistyped base URL: refused, the model not retired.
        (404, {"code": "x", "error": "Not Found"}, "rejected", "Not Found (HTTP 404)"),
    ],
)  # fmt: skip
def test_create_errors_map_into_the_error_tree(kit, status, body, kind, words):
    k = kit()
    k.server.script("POST", GENERATIONS, Fault.status(status, json=body))
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.fake.count_creates() == 0
    assert (kind == "model_retired") == k.paths.catalog_overrides.exists()


# --------------------------------------------------------------------- rate limits, faults


class TestFaults(FaultMatrix):
    """The shared fault matrix (tests/vendors/contract.py) on this vendor's paths."""

    create = ("POST", GENERATIONS)
    poll = ("GET", POLL)
    files = FILES
    video = VIDEO
    wrong_key = "xai-WRONG-0a1b2c3d4e5f6a7b8c9d"


def test_a_429_that_persists_is_rate_limited(kit):
    k = kit(max_pending=0, retry_after=0)
    ctx = k.context()
    with pytest.raises(RateLimited) as refused:
        k.call(ctx, lambda: k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1"))
    assert refused.value.retry_after == 0.0
    assert "1 request per second" in refused.value.message


def test_a_request_xai_does_not_know_fails_the_poll(kit):
    k = kit()
    ctx = k.context()
    gone = TaskHandle("d97415a1-0000-4000-8000-000000000000", {"operation": "generate"})
    with pytest.raises(GenerationFailed) as failed:
        k.call(ctx, lambda: k.adapter.poll(ctx, gone))
    assert "has no request d97415a1" in failed.value.message


# ----------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    url = "https://example.com/a.png"
    eight = [url] * 8
    return [
        (GROK, GenerationRequest("a fox", duration_s=16), "duration"),
        (GROK, GenerationRequest("a fox", resolution="1080p"), "resolution"),
        (GROK, GenerationRequest("a fox", aspect="21:9"), "aspect"),
        (GROK, GenerationRequest("a fox", seed=3), "seed"),
        (GROK, GenerationRequest("a fox", negative="blur"), "negative"),
        (GROK, GenerationRequest("a fox", audio=False), "audio"),
        (GROK, GenerationRequest("x" * 4097), "prompt"),
        (GROK, GenerationRequest(""), "prompt"),
        (GROK, GenerationRequest("a fox", image=ok, last_frame=ok), "mode"),
        (GROK, GenerationRequest("a fox", image=ok, aspect="1:1"), "aspect"),
        (GROK, GenerationRequest("a fox", image=picture(tmp, "tiny.png", (100, 100))), "image"),
        (GROK, GenerationRequest("a fox", image=ok, extra={"image_url": url}), "image_url"),
        (GROK, GenerationRequest("a fox", extra={"image_url": "http://x.test/a.png"}), "image_url"),
        (GROK, GenerationRequest("a fox", extra={"reference_images": eight}), "reference_images"),
        (GROK, GenerationRequest("a fox", extra={"reference_images": "a.png"}), "reference_images"),
        (GROK, GenerationRequest("a fox", image=ok, extra={"reference_images": [url]}),
         "reference_images"),
        (GROK, GenerationRequest("a fox", duration_s=12, extra={"reference_images": [url]}),
         "duration"),
        (GROK, GenerationRequest("a fox", extra={"reference_images": ["http://x.test/a.png"]}),
         "reference_images[0]"),
        (GROK, GenerationRequest("a fox", extra={"reference_images": [str(tmp / "none.png")]}),
         "reference_images[0]"),
        (GROK, GenerationRequest("", extra={"edit_video": SOURCE}), "prompt"),
        (GROK, GenerationRequest("a", duration_s=5, extra={"edit_video": SOURCE}), "duration"),
        (GROK, GenerationRequest("a", aspect="1:1", extra={"edit_video": SOURCE}), "aspect"),
        (GROK, GenerationRequest("a", resolution="720p", extra={"extend_video": SOURCE}),
         "resolution"),
        (GROK, GenerationRequest("a", image=ok, extra={"extend_video": SOURCE}), "image"),
        (GROK, GenerationRequest("a", duration_s=1, extra={"extend_video": SOURCE}), "duration"),
        (GROK, GenerationRequest("a", duration_s=11, extra={"extend_video": SOURCE}), "duration"),
        (GROK, GenerationRequest("a", extra={"edit_video": "/tmp/a.mp4"}), "edit_video"),
        (GROK, GenerationRequest("a", extra={"edit_video": SOURCE, "extend_video": SOURCE}),
         "extend_video"),
        (GROK15, GenerationRequest("a", extra={"edit_video": SOURCE}), "edit_video"),
        (GROK15, GenerationRequest("a", extra={"extend_video": SOURCE}), "extend_video"),
        (GROK15, GenerationRequest("a", extra={"loop": True}), "loop"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            k.engine().enqueue(request, [Target("xai", model)])
        assert refused.value.field == field, (model, request, refused.value)
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("xai").models
    ok = picture(tmp_path, "ok.webp", fmt="WEBP")
    url = "https://example.com/a.png"
    for model, request in [
        (GROK15, GenerationRequest("a fox", duration_s=15, resolution="1080p", aspect="2:3")),
        (GROK, GenerationRequest("a fox", duration_s=1, audio=True)),
        (GROK, GenerationRequest("", image=ok)),
        (GROK, GenerationRequest("a", extra={"image_url": url})),
        (GROK, GenerationRequest("a", duration_s=10, extra={"reference_images": [url] * 7})),
        (GROK, GenerationRequest("x" * 4096, extra={"edit_video": SOURCE})),
        (GROK, GenerationRequest("a", duration_s=2, extra={"extend_video": SOURCE})),
    ]:
        k.adapter.validate(request, models[model])


# ------------------------------------------------------------------------------- estimates


@pytest.mark.parametrize(
    ("model", "request_", "usd"),
    [
        (GROK, GenerationRequest("a"), 0.4),  # 8 s at 480p
        (GROK, GenerationRequest("a", duration_s=10, resolution="720p"), 0.7),
        (GROK15, GenerationRequest("a", duration_s=4, resolution="1080p"), 1.0),
        (GROK15, GenerationRequest("a", duration_s=2, extra={"image_url": SOURCE}), 0.17),
        # An edit: the longest input (8.7 s) at 720p plus $0.01/s for the input video.
        (GROK, GenerationRequest("a", extra={"edit_video": SOURCE}), 0.696),
        # An extension: 6 s at 480p plus the longest input (15 s) at $0.01/s.
        (GROK, GenerationRequest("a", extra={"extend_video": SOURCE}), 0.45),
    ],
)
def test_estimates_follow_xais_prices_in_usd(kit, model, request_, usd):
    k = kit()
    estimate = k.adapter.estimate(request_, k.catalog.vendor("xai").models[model])
    assert (estimate.unit, estimate.currency) == ("USD", "USD")
    assert estimate.amount == pytest.approx(usd)
    assert estimate.money == pytest.approx(usd)


def test_every_model_has_a_price_for_every_resolution():
    vendor = load_catalog().vendor("xai")
    adapter = XaiAdapter(vendor)
    for model in vendor.models.values():
        for resolution in model.resolutions:
            estimate = adapter.estimate(GenerationRequest("a", resolution=resolution), model)
            assert estimate.amount > 0, (model.id, resolution)


# --------------------------------------------------------------- what xAI does not offer


def test_xai_cannot_cancel_find_or_report_a_balance_and_sends_nothing(kit):
    k = kit(pending_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("xai", GROK)])
    asyncio.run(engine.run([job_id], until="submitted"))
    before = len(k.server.requests)
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"  # ours; xAI keeps making it
    assert len(k.server.requests) == before
    ctx = k.context()
    assert k.call(ctx, lambda: k.adapter.balance(ctx)) is None
    assert k.adapter.can_find is False


def test_a_regional_host_comes_from_the_catalog():
    vendor = load_catalog().vendor("xai")
    assert vendor.base_url("eu-west-1") == "https://eu-west-1.api.x.ai"
    assert vendor.base_url() == "https://api.x.ai"


# --------------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_the_cli_generates_refuses_and_lists_grok(kit, home):
    k = kit(pending_polls=0)
    result = run_cli(
        home, "xai", k.fake.url, KEY, "generate", "--vendor", "xai", "--model", GROK15,
        "--prompt", "a lighthouse at dusk", "--resolution", "720p", "--duration", "3",
        "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    [(_, body)] = k.fake.creates
    assert (body["resolution"], body["duration"]) == ("720p", 3)

    refused = run_cli(
        home, "xai", k.fake.url, KEY, "generate", "--vendor", "xai", "--model", GROK,
        "--prompt", "a fox", "--no-audio", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "audio" in refused.stderr
    assert k.fake.count_creates() == 1

    listed = run_cli(home, "xai", k.fake.url, KEY, "vendors", "--json")
    assert listed.returncode == 0, listed.stderr
    [xai] = [v for v in json.loads(listed.stdout)["vendors"] if v["id"] == "xai"]
    assert (xai["supported"], xai["key_set"]) == (True, True)
    assert {m["id"] for m in xai["models"]} == {GROK, GROK15}


@pytest.mark.slow
def test_the_cli_never_shows_or_stores_a_key_xai_quotes_back(kit, home):
    k = kit()
    wrong = "xai-WRONG-ffeeddccbbaa99887766"
    result = run_cli(
        home, "xai", k.fake.url, wrong, "generate", "--vendor", "xai", "--model", GROK,
        "--prompt", "a fox", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode != 0
    [job] = json.loads(result.stdout)["jobs"]
    assert job["error_kind"] == "auth"
    assert wrong not in result.stdout + result.stderr
    for path in home.rglob("*"):
        if path.is_file():
            assert wrong.encode() not in path.read_bytes(), path
