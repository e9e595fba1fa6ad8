"""FLUX 3 Video (Black Forest Labs) through the engine and the CLI, against a fake BFL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.errors import GenerationFailed, InvalidInput, ProtocolError, RateLimited
from takestock.core.jobs import Target
from takestock.core.takes import list_takes
from takestock.core.vendor import GenerationRequest, TaskHandle
from takestock.vendors.bfl import BflAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.vendors.contract import FaultMatrix, done
from tests.vendors.fake_bfl import FakeBfl
from tests.vendors.kit import VendorKit, instant_backoff, kit_factory, run_cli

__all__ = ["instant_backoff"]  # a fixture, used by name

KEY = "bfl_test_key_0123456789abcdef"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
FLUX = "flux-3-video"
CREATE = "/v1/flux-3-video"
POLL = "/us1/v1/get_result"
FILES = "/delivery/*"
CLIP = "https://cdn.example.com/part-one.mp4"


@pytest.fixture
def kit(tmp_path):
    yield from kit_factory(
        tmp_path,
        "bfl",
        lambda **o: FakeBfl(**{"api_key": KEY, "video": VIDEO, **o}),
        BflAdapter,
        KEY,
        FLUX,
    )


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (30, 160, 90)).save(path, fmt)
    return path


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def creates(k: VendorKit) -> list[Any]:
    return k.server.requests_to("POST", CREATE)


# ---------------------------------------------------------------------------- generation


def test_text_to_video_follows_the_returned_polling_url_to_a_take(kit):
    k = kit()
    request = GenerationRequest("a fox at dawn", duration_s=8, resolution="1080p", seed=7)
    [job] = k.generate(request)
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = creates(k)
    assert create.headers["x-key"] == KEY
    assert "authorization" not in create.headers
    assert create.json == {
        "prompt": "a fox at dawn",
        "duration": 8,
        "resolution": "fhd",
        "generate_audio": True,
        "aspect_ratio": "16:9",
        "seed": 7,
    }
    # Polled where BFL said, with the key; the global get_result was never asked.
    polls = k.server.requests_to("GET", POLL)
    assert polls
    assert {p.query["id"] for p in polls} == {job.vendor_task_id}
    assert all(p.headers["x-key"] == KEY for p in polls)
    assert k.server.requests_to("GET", "/v1/get_result") == []
    # The signed delivery link is fetched without the key.
    assert all("x-key" not in r.headers for r in k.server.requests_to("GET", FILES))
    assert job.task_data["polling_url"].endswith(f"/us1/v1/get_result?id={job.vendor_task_id}")
    assert job.estimate == {"amount": 232.0, "unit": "credits", "money": 2.32, "currency": "USD"}


def test_no_audio_is_sent_as_generate_audio_false(kit):
    k = kit()
    done(k.generate(GenerationRequest("a quiet pond", audio=False))[0])
    [create] = creates(k)
    assert create.json["generate_audio"] is False


def test_an_opening_frame_is_one_keyframe_and_first_and_last_are_two(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    last = picture(tmp_path, "last.jpg", fmt="JPEG")
    done(k.generate(GenerationRequest("she turns", image=first))[0])
    done(k.generate(GenerationRequest("she turns", image=first, last_frame=last))[0])
    one, two = (r.json for r in creates(k))
    assert one["keyframes"] == b64(first)
    assert "aspect_ratio" not in one  # the frame sets the shape ("auto")
    assert two["keyframes"] == [b64(first), b64(last)]


def test_timed_keyframes_and_an_explicit_aspect(kit, tmp_path):
    k = kit()
    seed = picture(tmp_path, "seed.png")
    url = "https://example.com/tree.png"
    keyframes = [[0, str(seed)], [4.5, url], [10, url]]
    request = GenerationRequest(
        "a seed grows", duration_s=10, aspect="9:16", extra={"keyframes": keyframes}
    )
    done(k.generate(request)[0])
    [create] = creates(k)
    assert create.json["keyframes"] == [[0, b64(seed)], [4.5, url], [10, url]]
    assert create.json["aspect_ratio"] == "9:16"


def test_reference_images_and_a_reference_video(kit, tmp_path):
    k = kit()
    hero = picture(tmp_path, "hero.webp", fmt="WEBP")
    done(k.generate(GenerationRequest("the hero", extra={"reference_images": [str(hero)]}))[0])
    done(k.generate(GenerationRequest("the same cast", extra={"reference_video": CLIP}))[0])
    first, second = (r.json for r in creates(k))
    assert first["reference_images"] == [b64(hero)]
    assert second["reference_video"] == CLIP


def test_a_continuation_sends_a_local_clip_inline_and_is_priced_as_one(kit, tmp_path):
    k = kit()
    clip = tmp_path / "part-one.mp4"
    clip.write_bytes(tiny_mp4(seconds=1.0))
    [job] = k.generate(
        GenerationRequest("he rides on", duration_s=10, extra={"start_video": str(clip)})
    )
    done(job)
    [create] = creates(k)
    assert create.json["start_video"] == b64(clip)
    assert job.estimate["amount"] == 410.0  # 41 credits a second at hd


def test_a_draft_and_the_render_of_a_draft_cache(kit):
    k = kit()
    done(k.generate(GenerationRequest("a storm at sea", extra={"draft": True}))[0])
    cache = "https://delivery-us1.bfl.ai/drafts/abc/cache.bin?se=1&sig=2"
    [job] = k.generate(GenerationRequest("", extra={"draft_cache": cache}))
    done(job)
    draft, enhance = (r.json for r in creates(k))
    assert draft["draft"] is True
    assert enhance == {"draft_cache": cache}
    # The cache's clip is unknown: held at the longest, dearest render (20 s at fhd).
    assert job.estimate["amount"] == 580.0


# ---------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("prompt", "state", "kind", "words"),
    [
        ("a fox #fail", "Error", "generation_failed", "the generation failed"),
        ("a fox #refuse", "Request Moderated", "rejected", "refused the prompt or an input"),
        ("a fox #nsfw", "Content Moderated", "rejected", "withheld the video"),
    ],
)
def test_a_failed_task_keeps_bfls_state(kit, prompt, state, kind, words):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt))
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", kind, state)
    assert words in job.error


def test_task_not_found_right_after_the_create_is_waited_out(kit):
    k = kit()
    k.server.script("GET", POLL, Fault.status(200, json={"id": "x", "status": "Task not found"}))
    done(k.generate(GenerationRequest("a fox"))[0])


def test_task_not_found_long_after_the_create_fails_the_job(kit):
    k = kit()
    ctx = k.context()
    stale = TaskHandle(
        "4b1c0000-0000-4000-8000-000000000000",
        {"polling_url": f"{k.fake.url}{POLL}?id=nothing", "submitted_at": time.time() - 3600},
    )
    status = k.call(ctx, lambda: k.adapter.poll(ctx, stale))
    assert status.state.value == "failed"
    assert isinstance(status.error, GenerationFailed)
    assert "another region" in status.error.message


def test_a_polling_url_off_bfl_is_never_sent_the_key(kit):
    k = kit()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"id": "t1", "polling_url": "https://evil.example.net/r?id=t1"}
        )

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            ctx = k.context(http=client, base_url="https://api.bfl.ai")
            await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1")

    with pytest.raises(ProtocolError, match="not a BFL host"):
        asyncio.run(go())
    assert [str(r.url) for r in seen] == ["https://api.bfl.ai/v1/flux-3-video"]


def test_a_regional_polling_url_on_bfl_is_followed(kit):
    k = kit()
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url} {request.headers.get('x-key')}")
        return httpx.Response(200, json={"id": "t1", "status": "Pending", "progress": 0.25})

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            ctx = k.context(http=client, base_url="https://api.bfl.ai")
            handle = TaskHandle("t1", {"polling_url": "https://api.eu2.bfl.ai/v1/get_result?id=t1"})
            return await k.adapter.poll(ctx, handle)

    status = asyncio.run(go())
    assert (status.vendor_state, status.progress) == ("Pending", 0.25)
    assert seen == [f"https://api.eu2.bfl.ai/v1/get_result?id=t1 {KEY}"]


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"credits": 10}, "quota", "Insufficient credits (HTTP 402)"),
    ],
)
def test_a_refused_create_fails_the_job_with_bfls_words(kit, options, kind, words):
    k = kit(**options)
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.fake.count_creates() == 0


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (422, {"detail": [{"loc": ["body", "mode"], "msg": "Field required", "type": "missing"}]},
         "rejected", "mode: Field required (HTTP 422)"),
        (400, {"detail": "Bad request"}, "rejected", "Bad request (HTTP 400)"),
        (401, {"detail": "Unauthorized"}, "auth", "Check the BFL API key"),
        (404, {"detail": "Not Found"}, "rejected", "check the base URL"),
    ],
)  # fmt: skip
def test_create_errors_map_into_the_error_tree(kit, status, body, kind, words):
    k = kit()
    k.server.script("POST", CREATE, Fault.status(status, json=body))
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error


# --------------------------------------------------------------------- rate limits, faults


class TestFaults(FaultMatrix):
    """The shared fault matrix (tests/vendors/contract.py) on this vendor's paths."""

    create = ("POST", CREATE)
    poll = ("GET", POLL)
    files = FILES
    video = VIDEO
    wrong_key = "bfl_WRONG_0a1b2c3d4e5f6a7b8c9d"


@pytest.mark.parametrize("retry_after", [None, 0.05])
def test_the_five_task_limit_queues_takes_until_a_slot_frees(kit, instant_backoff, retry_after):
    k = kit(max_active=1, retry_after=retry_after, pending_polls=2)
    jobs = k.generate(GenerationRequest("a fox"), count=2)
    assert [j.state for j in jobs] == ["done", "done"]
    assert k.fake.peak_active == 1
    assert k.fake.count_creates() == 2
    assert len(creates(k)) > 2  # refused with 429 at least once, then sent again


def test_a_429_that_persists_is_rate_limited(kit):
    k = kit(max_active=0, retry_after=0)
    ctx = k.context()
    with pytest.raises(RateLimited) as refused:
        k.call(ctx, lambda: k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-1"))
    assert refused.value.retry_after == 0.0
    assert "active tasks" in refused.value.message


# ----------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    url = "https://example.com/a.png"
    clip = tmp / "clip.mov"
    clip.write_bytes(b"not mp4")
    big = tmp / "big.mp4"
    big.write_bytes(b"\0" * 50_000_001)
    cache = "https://delivery.bfl.ai/cache"
    return [
        (GenerationRequest("a fox", duration_s=4), "duration"),
        (GenerationRequest("a fox", duration_s=21), "duration"),
        (GenerationRequest("a fox", resolution="4k"), "resolution"),
        (GenerationRequest("a fox", aspect="9:21"), "aspect"),
        (GenerationRequest("a fox", negative="blur"), "negative"),
        (GenerationRequest(""), "prompt"),
        (GenerationRequest("a fox", last_frame=ok), "image"),
        (GenerationRequest("a fox", image=ok, extra={"reference_images": [url]}),
         "reference_images"),
        (GenerationRequest("a", extra={"start_video": CLIP, "reference_video": CLIP}),
         "start_video"),
        (GenerationRequest("a", extra={"keyframes": [[0, url], [0.01, url]]}), "keyframes"),
        (GenerationRequest("a", extra={"keyframes": [[0, url], [6, url]]}), "keyframes"),
        (GenerationRequest("a", extra={"keyframes": [[-1, url]]}), "keyframes"),
        (GenerationRequest("a", extra={"keyframes": [[i, url] for i in range(11)]}, duration_s=20),
         "keyframes"),
        (GenerationRequest("a", extra={"keyframes": ["a.png"]}), "keyframes"),
        (GenerationRequest("a", extra={"keyframes": [[0, "http://x.test/a.png"]]}), "keyframes[0]"),
        (GenerationRequest("a", extra={"reference_images": []}), "reference_images"),
        (GenerationRequest("a", extra={"start_video": str(clip)}), "start_video"),
        (GenerationRequest("a", extra={"start_video": str(big)}), "start_video"),
        (GenerationRequest("a", extra={"start_video": str(tmp / "none.mp4")}), "start_video"),
        (GenerationRequest("a", extra={"draft": "yes"}), "draft"),
        (GenerationRequest("a", resolution="1080p", extra={"draft": True}), "resolution"),
        (GenerationRequest("a", extra={"draft_cache": cache}), "prompt"),
        (GenerationRequest("", duration_s=5, extra={"draft_cache": cache}), "duration"),
        (GenerationRequest("", extra={"draft_cache": cache, "draft": True}), "draft"),
        (GenerationRequest("", extra={"draft_cache": "http://x.test/c"}), "draft_cache"),
        (GenerationRequest("a", extra={"batch": 4}), "batch"),
        (GenerationRequest("a", extra={"mode": "t2v"}), "mode"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    for request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            k.engine().enqueue(request, [Target("bfl", FLUX)])
        assert refused.value.field == field, (request, refused.value)
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    model = k.catalog.vendor("bfl").models[FLUX]
    ok = picture(tmp_path, "ok.png")
    url = "https://example.com/a.png"
    for request in [
        GenerationRequest("a fox", duration_s=20, resolution="1080p", aspect="21:9", seed=0),
        GenerationRequest("", image=ok),
        GenerationRequest(
            "a", duration_s=5, extra={"keyframes": [[0, url], [1 / 24, url], [5, url]]}
        ),
        GenerationRequest("a", extra={"draft": True, "version": "latest"}),
        GenerationRequest("a", extra={"start_video": CLIP}),
    ]:
        k.adapter.validate(request, model)


# ----------------------------------------------------------------------- money, balance


@pytest.mark.parametrize(
    ("request_", "credits"),
    [
        (GenerationRequest("a"), 85.0),
        (GenerationRequest("a", duration_s=20, resolution="1080p"), 580.0),
        (GenerationRequest("a", extra={"start_video": CLIP}, resolution="1080p"), 265.0),
        (GenerationRequest("a", extra={"draft": True}), 85.0),  # upper bound: the full price
    ],
)
def test_estimates_are_bfl_credits_of_a_cent(kit, request_, credits):
    k = kit()
    estimate = k.adapter.estimate(request_, k.catalog.vendor("bfl").models[FLUX])
    assert (estimate.amount, estimate.unit, estimate.currency) == (credits, "credits", "USD")
    assert estimate.money == pytest.approx(credits / 100)


def test_the_balance_is_bfls_credits(kit):
    k = kit(credits=1234.5)
    ctx = k.context()
    balance = k.call(ctx, lambda: k.adapter.balance(ctx))
    assert (balance.amount, balance.unit, balance.detail["usd"]) == (1234.5, "credits", 12.345)
    [read] = k.server.requests_to("GET", "/v1/credits")
    assert read.headers["x-key"] == KEY


def test_bfl_cannot_cancel_or_find_and_sends_nothing_to_try(kit):
    k = kit(pending_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("bfl", FLUX)])
    asyncio.run(engine.run([job_id], until="submitted"))
    before = len(k.server.requests)
    assert asyncio.run(engine.cancel(job_id)).state == "cancelled"
    assert len(k.server.requests) == before
    assert k.adapter.can_find is False


def test_the_catalog_prices_every_resolution_and_names_regions():
    vendor = load_catalog().vendor("bfl")
    assert vendor.base_url("eu") == "https://api.eu.bfl.ai"
    assert (vendor.unit, vendor.money_per_unit, vendor.concurrency) == ("credits", 0.01, 5)
    adapter = BflAdapter(vendor)
    for model in vendor.models.values():
        for resolution in model.resolutions:
            assert adapter.estimate(GenerationRequest("a", resolution=resolution), model).amount > 0


# --------------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_the_cli_generates_refuses_and_lists_flux(kit, home):
    k = kit(pending_polls=0)
    result = run_cli(
        home, "bfl", k.fake.url, KEY, "generate", "--vendor", "bfl", "--model", FLUX,
        "--prompt", "a harbour at dawn", "--duration", "6", "--no-audio", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    [body] = k.fake.creates
    assert (body["duration"], body["generate_audio"]) == (6, False)

    refused = run_cli(
        home, "bfl", k.fake.url, KEY, "generate", "--vendor", "bfl", "--model", FLUX,
        "--prompt", "a fox", "--duration", "30", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1

    listed = run_cli(home, "bfl", k.fake.url, KEY, "vendors", "--json")
    [bfl] = [v for v in json.loads(listed.stdout)["vendors"] if v["id"] == "bfl"]
    assert (bfl["supported"], bfl["key_set"]) == (True, True)
    assert [m["id"] for m in bfl["models"]] == [FLUX]
