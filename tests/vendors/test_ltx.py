"""Lightricks LTX, whose create answers with the video, through the engine and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.errors import InvalidInput
from takestock.core.jobs import Target, get_job
from takestock.core.takes import list_takes
from takestock.core.vendor import IN_PART_FILE, AnswersWithResult, GenerationRequest
from takestock.vendors.ltx import LtxAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.vendors.contract import done
from tests.vendors.fake_ltx import FakeLtx
from tests.vendors.kit import VendorKit, instant_backoff, kit_factory, run_cli

__all__ = ["instant_backoff"]  # a fixture, used by name

KEY = "ltx-sk-0123456789abcdef"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
FAST = "ltx-2-5-fast"
T2V = "/v1/text-to-video"
I2V = "/v1/image-to-video"


@pytest.fixture
def kit(tmp_path):
    yield from kit_factory(
        tmp_path,
        "ltx",
        lambda **o: FakeLtx(**{"api_key": KEY, "video": VIDEO, **o}),
        LtxAdapter,
        KEY,
        FAST,
    )


def picture(folder: Path, name: str, size: tuple[int, int] = (1280, 720)) -> Path:
    path = folder / name
    Image.new("RGB", size, (30, 120, 200)).save(path, "PNG")
    return path


def creates(k: VendorKit) -> list[Any]:
    return k.server.requests_to("POST", T2V) + k.server.requests_to("POST", I2V)


def no_part_files(k: VendorKit) -> bool:
    return not list(k.paths.incoming.glob("*.part"))


# ---------------------------------------------------------------------------- generation


def test_the_create_answers_with_the_video_and_it_becomes_a_take(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a heron lands", resolution="720p", duration_s=4))
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert len(k.server.requests) == 1, "one create, nothing to poll or download"
    [sent] = creates(k)
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.json == {
        "prompt": "a heron lands", "model": FAST, "duration": 4, "resolution": "1280x720",
    }  # fmt: skip
    assert job.vendor_task_id.startswith("req-")  # LTX's x-request-id, for support
    assert job.estimate == {"amount": 0.36, "unit": "USD", "money": 0.36, "currency": "USD"}
    assert no_part_files(k)


def test_portrait_sound_fps_and_camera_travel_in_ltx_words(kit):
    k = kit()
    request = GenerationRequest(
        "rain on a window", aspect="9:16", audio=False, duration_s=8,
        extra={"fps": 50, "camera_motion": "dolly_in"},
    )  # fmt: skip
    done(k.generate(request, model="ltx-2-3-pro")[0])
    [sent] = creates(k)
    assert sent.json["resolution"] == "1080x1920"
    assert (sent.json["generate_audio"], sent.json["fps"]) == (False, 50)
    assert sent.json["camera_motion"] == "dolly_in"


def test_local_frames_are_uploaded_then_named_by_their_storage_uri(kit, tmp_path):
    k = kit()
    first, last = picture(tmp_path, "a.png"), picture(tmp_path, "b.png")
    request = GenerationRequest("a door opens", image=first, last_frame=last)
    done(k.generate(request, model="ltx-2-3-fast")[0])
    assert k.server.count("POST", "/v1/upload") == 2
    puts = k.server.requests_to("PUT", "/storage/*")
    assert [p.body for p in puts] == [first.read_bytes(), last.read_bytes()]
    assert all("Authorization" not in p.headers for p in puts)
    [sent] = k.server.requests_to("POST", I2V)
    assert {sent.json["image_uri"], sent.json["last_frame_uri"]} == set(k.fake.uploads)
    done(k.generate(GenerationRequest("x", extra={"image_uri": "https://e.com/a.png"}))[0])
    assert k.server.requests_to("POST", I2V)[-1].json["image_uri"] == "https://e.com/a.png"


def test_ltx_is_a_synchronous_vendor_of_the_contract():
    adapter = LtxAdapter(load_catalog().vendor("ltx"))
    assert isinstance(adapter, AnswersWithResult)
    assert adapter.can_find is False


# --------------------------------------------------------------------- faults and money


def test_a_429_with_retry_after_waits_and_sends_once_more(kit):
    k = kit()
    k.server.script("POST", T2V, Fault.status(429, retry_after=0.3))
    done(k.generate(GenerationRequest("a fox"))[0])
    sent = creates(k)
    assert len(sent) == 2
    assert sent[1].at - sent[0].at >= 0.28
    assert k.fake.count_creates() == 1


@pytest.mark.parametrize("status", [429, 503, 529])
def test_a_refusal_that_says_ltx_took_nothing_is_sent_again_later(kit, status):
    k = kit()
    k.server.script("POST", T2V, Fault.status(status), Fault.status(status))
    done(k.generate(GenerationRequest("a fox"))[0])
    assert len(creates(k)) == 3
    assert k.fake.count_creates() == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500), Fault.status(504), Fault.cut_after(0), Fault.drop()],
    ids=["500", "504", "headers-only", "dropped"],
)
def test_an_answer_that_never_arrives_whole_is_unknown_and_never_resent(kit, fault):
    k = kit()
    k.server.script("POST", T2V, fault)
    [job] = k.generate(GenerationRequest("a fox"))
    assert job.state == "unknown", (job.state, job.error)
    assert "never learned" in job.error
    assert len(creates(k)) == 1
    assert list_takes(k.store, k.paths.media) == []
    assert no_part_files(k)


def test_a_video_cut_mid_body_is_unknown_the_vendor_charged_once(kit):
    k = kit()
    k.server.script("POST", T2V, Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate(GenerationRequest("a fox", resolution="720p", duration_s=5))
    assert job.state == "unknown"
    assert k.fake.count_creates() == 1
    assert k.fake.balance == pytest.approx(100.0 - 0.45)  # charged once, never twice
    assert no_part_files(k)


def test_a_200_that_is_not_a_video_is_unknown(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a fox #garble"))
    assert (job.state, job.error_kind) == ("unknown", "unknown")
    assert k.fake.count_creates() == 1


def test_a_whole_answer_that_is_not_a_playable_video_is_charged_no_output(kit):
    k = kit()
    k.server.script("POST", T2V, Fault.truncate(len(VIDEO) // 3))
    [job] = k.generate(GenerationRequest("a fox", resolution="720p", duration_s=5))
    assert (job.state, job.error_kind) == ("failed", "download")
    assert "charged for it" in job.error
    assert job.cost_actual == pytest.approx(0.45)
    assert len(creates(k)) == 1
    assert no_part_files(k)
    # A retry fetches again from the stored result, which was the answer itself: it
    # fails again, saying so, and never sends a second (charged) create.
    engine = k.engine()
    assert engine.retry(job.id) == job.id
    [again] = asyncio.run(engine.run([job.id]))
    assert again.state == "failed"
    assert "keeps no link to fetch it again" in again.error
    assert len(creates(k)) == 1


@pytest.mark.parametrize(
    ("prompt", "options", "kind", "words"),
    [
        ("a fox #filter", {}, "rejected", "blocked by the filter (HTTP 422"),
        ("a fox", {"balance": 0.01}, "quota", "insufficient funds (HTTP 402"),
    ],
)
def test_a_refused_create_fails_with_ltx_words_and_charges_nothing(
    kit, prompt, options, kind, words
):
    k = kit(**options)
    [job] = k.generate(GenerationRequest(prompt))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.fake.count_creates() == 0


def test_an_auth_failure_quoting_the_key_keeps_it_nowhere(kit):
    k = kit()
    k.key = "ltx-sk-WRONG-9f8e7d6c"
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "[redacted]" in job.error
    assert k.key not in job.error
    stored = b"".join(p.read_bytes() for p in k.paths.database.parent.glob("*") if p.is_file())
    assert k.key.encode() not in stored


def test_an_unreachable_host_fails_without_sending(kit, instant_backoff):
    k = kit()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    k.fake = SimpleNamespace(url=dead, server=k.fake.server)
    [job] = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "unreachable")
    assert "nothing was sent" in job.error


# ------------------------------------------------------------ a create held open, cut off


def _held(k: VendorKit) -> tuple[Any, int]:
    """An engine and a queued job whose create the fake will hold open (rendering)."""
    k.fake.hold.clear()
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a long shot"), [Target("ltx", FAST)])
    return engine, job_id


def test_quitting_while_ltx_renders_leaves_a_job_to_settle_never_a_second_create(kit):
    k = kit()
    engine, job_id = _held(k)

    async def quit_mid_render() -> None:
        async with engine.running():
            task = asyncio.ensure_future(engine.drive(job_id))
            assert await asyncio.to_thread(k.fake.held.wait, 30)
            task.cancel()  # the app quits; the laptop sleeps
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(quit_mid_render())
    assert get_job(k.store, job_id).state == "submitting"
    assert no_part_files(k)
    k.fake.hold.set()
    [job] = asyncio.run(k.engine().run([job_id]))
    assert job.state == "unknown"
    assert k.fake.count_creates() == 1
    assert len(creates(k)) == 1
    settled = k.engine().resolve_unknown(job_id, made=False)
    assert (settled.state, settled.error_kind) == ("failed", "not_made")


def test_a_cancel_while_ltx_renders_stands_when_the_video_arrives(kit):
    k = kit()
    engine, job_id = _held(k)

    async def cancel_mid_render() -> Any:
        async with engine.running():
            task = asyncio.ensure_future(engine.drive(job_id))
            assert await asyncio.to_thread(k.fake.held.wait, 30)
            cancelled = await engine.cancel(job_id)
            k.fake.hold.set()
            await task
            return cancelled

    assert asyncio.run(cancel_mid_render()).state == "cancelled"
    assert get_job(k.store, job_id).state == "cancelled"
    assert list_takes(k.store, k.paths.media) == []
    assert no_part_files(k)


def test_a_crash_after_the_answer_landed_resumes_at_the_ingest(kit):
    k = kit()
    engine = k.engine()

    async def dies_before_the_ingest(*_: Any) -> None:
        return None

    engine._download = dies_before_the_ingest  # type: ignore[method-assign]
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("ltx", FAST)])
    asyncio.run(engine.run([job_id], until="submitted"))
    job = get_job(k.store, job_id)
    assert job.state == "downloading"  # the answer is on disk, not yet in the library
    assert [r.url for r in job.results] == [IN_PART_FILE]
    done(asyncio.run(k.engine().run([job_id]))[0])
    assert len(creates(k)) == 1


# ----------------------------------------------------------------------------- validation


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    ok = picture(tmp_path, "ok.png")
    for request, model, field in [
        (GenerationRequest("x" * 5001), FAST, "prompt"),
        (GenerationRequest("a", duration_s=12, resolution="1440p"), FAST, "duration"),
        (GenerationRequest("a", duration_s=12, extra={"fps": 50}), FAST, "fps"),
        (GenerationRequest("a", duration_s=12), "ltx-2-3-pro", "duration"),
        (GenerationRequest("a", duration_s=4), "ltx-2-3-fast", "duration"),
        (GenerationRequest("a", resolution="1440p"), "ltx-2-5-pro", "resolution"),
        (GenerationRequest("a", resolution="720p"), "ltx-2-3-fast", "resolution"),
        (GenerationRequest("a", extra={"fps": 48}), "ltx-2-5-pro", "fps"),
        (GenerationRequest("a", aspect="1:1"), FAST, "aspect"),
        (GenerationRequest("a", seed=3), FAST, "seed"),
        (GenerationRequest("a", negative="blur"), FAST, "negative"),
        (GenerationRequest("a", image=ok, last_frame=ok), FAST, "mode"),
        (GenerationRequest("a", extra={"camera_motion": "spin"}), FAST, "camera_motion"),
        (GenerationRequest("a", extra={"image_uri": "http://e.com/a.png"}), FAST, "image_uri"),
        (GenerationRequest("a", image=ok, extra={"image_uri": "https://e.com/a"}), FAST,
         "image_uri"),
        (GenerationRequest("a", extra={"seed": 1}), FAST, "seed"),
    ]:  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            k.engine().enqueue(request, [Target("ltx", model)])
        assert refused.value.field == field, (request, model, refused.value)
    assert k.server.count() == 0


def test_prices_are_known_where_published_and_unknown_elsewhere():
    vendor = load_catalog().vendor("ltx")
    adapter = LtxAdapter(vendor)
    pro = vendor.models["ltx-2-3-pro"]
    image = Path(__file__)  # the mode is what prices; the file is not read here
    priced = adapter.estimate(GenerationRequest("a", image=image, resolution="1440p"), pro)
    assert (priced.amount, priced.currency) == (pytest.approx(0.96), "USD")
    unknown = adapter.estimate(GenerationRequest("a"), pro)
    assert unknown.amount is None
    assert "no price" in (unknown.reason or "")
    unpublished = adapter.estimate(GenerationRequest("a"), vendor.models["ltx-2-3-fast"])
    assert unpublished.amount is None
    assert "ltx.md" in (unpublished.reason or "")


# --------------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_the_cli_generates_refuses_and_lists_ltx(kit, home):
    k = kit()
    result = run_cli(
        home, "ltx", k.fake.url, KEY, "generate", "--vendor", "ltx", "--model", FAST,
        "--prompt", "a lighthouse at dusk", "--resolution", "720p", "--duration", "6",
        "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO

    refused = run_cli(
        home, "ltx", k.fake.url, KEY, "generate", "--vendor", "ltx", "--model", FAST,
        "--prompt", "a", "--duration", "14", "--resolution", "2160p",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1

    listed = run_cli(home, "ltx", k.fake.url, KEY, "vendors", "--json")
    [ltx] = [v for v in json.loads(listed.stdout)["vendors"] if v["id"] == "ltx"]
    assert (ltx["supported"], ltx["key_set"]) == (True, True)
    assert {m["id"] for m in ltx["models"]} == {
        "ltx-2-3-fast", "ltx-2-3-pro", "ltx-2-5-fast", "ltx-2-5-pro",
    }  # fmt: skip


@pytest.mark.slow
def test_kill_9_during_the_create_leaves_one_create_and_a_job_to_settle(kit, home):
    k = kit()
    k.fake.hold.clear()
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_LTX_BASE_URL": k.fake.url,
        "TAKESTOCK_LTX_API_KEY": KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "takestock", "generate", "--vendor", "ltx", "--model", FAST,
         "--prompt", "a slow dolly through fog", "--wait"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while k.fake.holding == 0:
            assert proc.poll() is None, "generate ended before its create was held"
            assert time.monotonic() < deadline, "the create never reached the fake"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    k.fake.hold.set()  # LTX finishes the clip it was paid for; nobody hears it

    resumed = run_cli(home, "ltx", k.fake.url, KEY, "jobs", "resume", "--wait", "--json")
    [job] = json.loads(resumed.stdout)["jobs"]
    assert job["state"] == "unknown", resumed.stderr
    assert "never learned" in job["error"]
    assert k.fake.count_creates() == 1
    assert len(creates(k)) == 1, "a create was sent again"
    listed = run_cli(home, "ltx", k.fake.url, KEY, "jobs", "--json")
    [seen] = json.loads(listed.stdout)["jobs"]
    assert seen["state"] == "unknown"
