"""Runway through the engine, against a fake Runway API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core import credits
from takestock.core.catalog import Catalog, load_catalog
from takestock.core.errors import GenerationFailed, InvalidInput, RateLimited
from takestock.core.http import RetryPolicy
from takestock.core.jobs import Engine, Job, JobEvent, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle, TaskState
from takestock.vendors.runway import RunwayAdapter
from tests.fakeserver import Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_runway import API_VERSION, RULES, FakeRunway

KEY = "rw-test-key"
VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
TEXT, IMAGE, V2V = "/v1/text_to_video", "/v1/image_to_video", "/v1/video_to_video"
TASK = "/v1/tasks/{id}"
FILES = "/files/*"


def validation(path: str, message: str, code: str = "invalid_value") -> dict[str, Any]:
    return {
        "error": "Validation of body failed",
        "issues": [{"code": code, "path": [path], "message": message}],
        "docUrl": "https://docs.dev.runwayml.com/api",
    }


@dataclass
class Kit:
    fake: FakeRunway
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: RunwayAdapter
    key: str = KEY

    def engine(self, **kw: Any) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"runway": self.adapter},
            StaticCredentials({"runway": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_RUNWAY_BASE_URL": self.fake.url},
            **kw,
        )

    def generate(
        self,
        request: GenerationRequest | None = None,
        model: str = "gen4.5",
        count: int = 1,
        **engine_kw: Any,
    ) -> list[Job]:
        request = request or GenerationRequest("a paper boat", duration_s=2)
        engine = self.engine(**engine_kw)
        _, ids = engine.enqueue(request, [Target("runway", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str = "gen4.5", **kw: Any) -> CallContext:
        vendor = self.catalog.vendor("runway")
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.url,
            "model": vendor.models[model],
            "secrets": {"api_key": self.key},
            **kw,
        }
        fields.setdefault("http", httpx.AsyncClient(timeout=10))
        return CallContext(**fields)

    def call(self, coro_fn: Any, model: str = "gen4.5") -> Any:
        ctx = self.context(model)

        async def go() -> Any:
            async with ctx.http:
                return await coro_fn(ctx)

        return asyncio.run(go())

    @property
    def server(self):
        assert self.fake.server is not None
        return self.fake.server

    def posts(self, path: str = TEXT) -> int:
        return len(self.server.requests_to("POST", path))


@pytest.fixture
def kit(tmp_path):
    servers = []

    def make(**options: Any) -> Kit:
        fake = FakeRunway(**{"api_key": KEY, "video": VIDEO, **options})
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / "kit").ensure()
        catalog = load_catalog()
        return Kit(
            fake,
            paths,
            open_store(paths.database),
            catalog,
            RunwayAdapter(catalog.vendor("runway")),
        )

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


@pytest.fixture
def no_backoff(monkeypatch):
    """The HTTP layer's own backoff made instant (Retry-After values still count)."""
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def picture(folder: Path, name: str, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    path = folder / name
    Image.new("RGB", size, (200, 90, 40)).save(path, fmt)
    return path


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


# ---------------------------------------------------------------------------- happy paths


def test_text_to_video_becomes_a_take_with_the_charge_runway_reports(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", negative="blur", duration_s=6, resolution="1080p", aspect="9:16",
        seed=42, audio=True,
    )  # fmt: skip
    [job] = k.generate(request, model="veo3.1")
    done(job)
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    [create] = k.server.requests_to("POST", TEXT)
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["X-Runway-Version"] == API_VERSION
    assert create.headers["Content-Type"].startswith("application/json")
    assert create.json == {
        "model": "veo3.1",
        "promptText": "a red fox in snow",
        "duration": 6,
        "ratio": "1080:1920",
        "audio": True,
        "seed": 42,
        "negativePrompt": "blur",
    }
    assert job.estimate == {"amount": 240.0, "unit": "credits", "money": 2.4, "currency": "USD"}
    assert job.cost_actual == 240  # cost.credits of the SUCCEEDED task
    assert job.vendor_task_id in k.fake.tasks
    gets = k.server.requests_to("GET", TASK)
    assert all(g.headers["X-Runway-Version"] == API_VERSION for g in gets)
    assert k.fake.count_creates() == 1


def test_sound_is_always_stated_so_veo_does_not_default_to_it(kit):
    k = kit()
    [job] = k.generate(GenerationRequest("a kite", duration_s=4), model="veo3.1_fast")
    done(job)
    assert k.fake.creates == [
        {"model": "veo3.1_fast", "promptText": "a kite", "duration": 4, "ratio": "1280:720",
         "audio": False}
    ]  # fmt: skip
    assert job.cost_actual == job.estimate["amount"] == 40  # 10 cr/s silent


def test_image_to_video_sends_the_first_frame_as_a_data_uri(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png", (800, 600))
    request = GenerationRequest(
        "the boat drifts", image=first, duration_s=5, extra={"public_figure_threshold": "low"}
    )
    [job] = k.generate(request)
    done(job)
    [body] = k.fake.creates
    assert body == {
        "model": "gen4.5",
        "promptText": "the boat drifts",
        "promptImage": [{"uri": data_url(first, "image/png"), "position": "first"}],
        "duration": 5,
        "ratio": "1104:832",  # no aspect asked: the ratio nearest the 4:3 picture
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    [task] = k.fake.tasks.values()
    assert task.inputs == [
        {
            "kind": "image",
            "mime": "image/png",
            "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
            "position": "first",
            "format": "png",
            "width": 800,
            "height": 600,
        }
    ]
    assert job.cost_actual == 60


def test_first_and_last_frame_on_veo(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.jpg", (1280, 720), "JPEG")
    last = picture(tmp_path, "b.webp", (1280, 720), "WEBP")
    request = GenerationRequest("the door opens", image=first, last_frame=last, duration_s=8)
    [job] = k.generate(request, model="veo3.1")
    done(job)
    [body] = k.fake.creates
    assert body["promptImage"] == [
        {"uri": data_url(first, "image/jpeg"), "position": "first"},
        {"uri": data_url(last, "image/webp"), "position": "last"},
    ]
    assert (body["ratio"], body["duration"], body["audio"]) == ("1280:720", 8, False)
    assert [(i["position"], i["format"]) for i in k.fake.tasks[job.vendor_task_id].inputs] == [
        ("first", "jpeg"),
        ("last", "webp"),
    ]


def test_a_large_image_is_recompressed_under_the_data_uri_limit(kit, tmp_path):
    k = kit()
    noisy = tmp_path / "noisy.png"
    Image.frombytes("RGB", (1200, 1200), os.urandom(1200 * 1200 * 3)).save(noisy)
    assert noisy.stat().st_size > 3_900_000  # over the catalog's cap for inline images
    [job] = k.generate(GenerationRequest("static", image=noisy, duration_s=2), model="gen4_turbo")
    done(job)
    uri = k.fake.creates[0]["promptImage"][0]["uri"]
    assert uri.startswith("data:image/jpeg;base64,")
    assert len(uri) < 5 * 2**20


def test_video_to_video_sends_a_local_clip_inline_or_a_url_as_is(kit, tmp_path):
    k = kit()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(VIDEO)
    local = GenerationRequest("make it winter", seed=7, extra={"video": str(clip)})
    remote = GenerationRequest(
        "make it winter", duration_s=6, aspect="9:16", resolution="480p",
        extra={"video": "https://cdn.example.com/in.mp4"},
    )  # fmt: skip
    [first] = k.generate(local, model="aleph2")
    [second] = k.generate(remote, model="seedance2_5")
    done(first)
    done(second)
    assert k.posts(V2V) == 2
    assert k.fake.creates == [
        {
            "model": "aleph2",
            "promptText": "make it winter",
            "videoUri": f"data:video/mp4;base64,{base64.b64encode(VIDEO).decode()}",
            "seed": 7,
        },
        {
            "model": "seedance2_5",
            "promptText": "make it winter",
            "promptVideo": "https://cdn.example.com/in.mp4",
            "duration": 6,
            "ratio": "480:854",
            "audio": False,
        },
    ]
    assert (
        k.fake.tasks[first.vendor_task_id].inputs[0]["sha256"] == hashlib.sha256(VIDEO).hexdigest()
    )


def test_a_model_that_takes_a_resolution_and_one_that_follows_the_frame(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "first.png")
    [grok] = k.generate(
        GenerationRequest("a cat", duration_s=3, resolution="480p", aspect="3:2"),
        model="grok_imagine_1_5",
    )
    [kling] = k.generate(
        GenerationRequest("a cat", image=first, duration_s=10), "kling2.5_turbo_pro"
    )
    done(grok)
    done(kling)
    assert k.fake.creates[0] == {
        "model": "grok_imagine_1_5", "promptText": "a cat", "duration": 3, "ratio": "3:2",
        "resolution": "480p",
    }  # fmt: skip
    assert k.fake.creates[1] == {
        "model": "kling2.5_turbo_pro",
        "promptText": "a cat",
        "promptImage": [{"uri": data_url(first, "image/png"), "position": "first"}],
        "duration": 10,
    }
    assert grok.estimate["amount"] == 33  # 11 cr/s at 480p


def test_throttled_is_shown_as_such_and_every_task_finishes(kit):
    k = kit(concurrency=1, pending_polls=0, running_polls=2)
    events: list[JobEvent] = []
    jobs = k.generate(count=3, on_change=events.append)
    assert [j.state for j in jobs] == ["done"] * 3
    assert k.fake.peak_running == 1
    assert "THROTTLED" in {e.vendor_state for e in events}
    assert k.fake.count_creates() == 3


# -------------------------------------------------------------------- vendor failures


@pytest.mark.parametrize(
    ("options", "prompt", "kind", "words", "posts"),
    [
        ({"api_key": "another-key"}, "a fox", "auth", "the API secret is missing or invalid", 1),
        ({"credits": 10}, "a fox", "quota", "You do not have enough credits", 1),
        # Runway answers the daily cap with 429, which core.http sends again like any 429.
        ({"daily_limit": 0}, "a fox", "quota", "daily generation limit of 0 for gen4.5", 5),
    ],
)
def test_a_refused_create_fails_the_job_with_runways_words(
    kit, no_backoff, options, prompt, kind, words, posts
):
    k = kit(**options)
    [job] = k.generate(GenerationRequest(prompt, duration_s=2))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0
    assert k.posts() == posts


@pytest.mark.parametrize(
    ("prompt", "kind", "code", "charged"),
    [
        ("a fox #safety", "rejected", "SAFETY.INPUT.TEXT", 24),
        ("a fox #outsafety", "rejected", "SAFETY.OUTPUT.VIDEO", 0),
        ("a fox #asset", "rejected", "ASSET.INVALID", 0),
        ("a fox #badoutput", "generation_failed", "INTERNAL.BAD_OUTPUT.CODE01", 0),
    ],
)
def test_a_failed_task_keeps_runways_code_and_what_it_charged(kit, prompt, kind, code, charged):
    k = kit()
    [job] = k.generate(GenerationRequest(prompt, duration_s=2))
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", kind, "FAILED")
    assert f"({code})" in job.error
    assert job.cost_actual == charged
    assert job.charged_without_output is bool(charged)
    assert k.fake.count_creates() == 1


def test_input_moderation_is_recorded_as_charged_with_no_output(kit):
    k = kit()
    engine = k.engine()
    account = credits.add_account(k.store, {}, vendor="runway", name="api", kind="api")
    credits.adjust(k.store, account.id, 1000, "bought API credits")
    _, [job_id] = engine.enqueue(
        GenerationRequest("a fox #safety", duration_s=2), [Target("runway", "gen4.5", "api")]
    )
    [job] = asyncio.run(engine.run([job_id]))
    assert (job.state, job.cost_actual, job.charged_without_output) == ("failed", 24, True)
    assert "Runway kept the 24 credits" in job.error
    notes = [
        r["note"] or "" for r in k.store.all("SELECT note FROM ledger WHERE job_id = ?", (job_id,))
    ]
    assert any("charged, no output" in n for n in notes), notes
    left = credits.total(credits.balances(k.store, None, account_ids=[account.id])[account.id])
    assert left == 1000 - 24


def test_a_bad_parameter_is_rejected_with_the_validators_words(kit):
    k = kit()
    k.server.script(
        "POST",
        TEXT,
        Fault.status(400, json=validation("ratio", 'Invalid option: expected one of "1280:720"')),
    )
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert (
        'Validation of body failed (ratio: Invalid option: expected one of "1280:720")' in job.error
    )
    assert k.fake.count_creates() == 0


def test_a_model_runway_no_longer_serves_is_marked_retired(kit):
    k = kit()
    assert ("text_to_video", "seedance2") not in RULES  # in our catalog, gone at the "vendor"
    [job] = k.generate(GenerationRequest("a fox", duration_s=4), model="seedance2")
    assert (job.state, job.error_kind) == ("failed", "model_retired")
    assert "Validation of body failed (model: Invalid input)" in job.error
    saved = json.loads(k.paths.catalog_overrides.read_text())
    assert saved["runway"]["models"]["seedance2"]["status"] == "retired"
    assert k.fake.count_creates() == 0


def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(kit):
    k = kit()
    busy = {"error": "Too many requests."}
    k.server.script(
        "POST", TEXT, Fault.status(429, retry_after=0.3, json=busy),
        Fault.status(429, retry_after=0.3, json=busy),
    )  # fmt: skip
    [job] = k.generate()
    done(job)
    creates = k.server.requests_to("POST", TEXT)
    assert len(creates) == 3
    assert creates[1].at - creates[0].at >= 0.28
    assert creates[2].at - creates[1].at >= 0.28
    assert k.fake.count_creates() == 1


def test_a_429_without_retry_after_backs_off_and_succeeds(kit, no_backoff):
    k = kit()
    k.server.script("POST", TEXT, Fault.status(429, json={"error": "Too many requests."}))
    [job] = k.generate()
    done(job)
    assert k.posts() == 2
    assert k.fake.count_creates() == 1


def test_a_429_that_persists_is_rate_limited_with_its_retry_after(kit):
    k = kit()
    k.server.script_always(
        "POST", TEXT, Fault.status(429, retry_after=0, json={"error": "Slow down."})
    )
    request = GenerationRequest("a fox", duration_s=2)
    with pytest.raises(RateLimited) as refused:
        k.call(lambda ctx: k.adapter.submit(ctx, request, "ts-1"))
    assert (refused.value.retry_after, refused.value.vendor_code) == (0.0, "429")
    assert "Runway: Slow down." in refused.value.message
    assert k.fake.count_creates() == 0


# ---------------------------------------------------------------------- transport faults


def test_a_5xx_to_a_poll_is_retried(kit, no_backoff):
    k = kit()
    k.server.script("GET", TASK, Fault.status(500, json={"error": "Internal"}), Fault.status(503))
    [job] = k.generate()
    done(job)


def test_a_5xx_to_a_create_becomes_unknown_and_is_never_resent(kit):
    k = kit()
    k.server.script("POST", TEXT, Fault.status(502, json={"error": "Bad gateway"}))
    [job] = k.generate()
    assert job.state == "unknown"
    assert "never learned" in job.error
    assert k.posts() == 1


def test_a_create_whose_answer_is_lost_becomes_unknown_not_a_second_charge(kit):
    k = kit()
    k.server.script("POST", TEXT, Fault.cut_after(0))  # Runway made the task; we never heard
    [job] = k.generate()
    assert job.state == "unknown"
    assert "cannot look tasks up by our id" in job.error
    assert k.fake.count_creates() == 1
    assert k.posts() == 1
    assert k.adapter.can_find is False


def test_malformed_json_to_a_create_is_a_lost_answer(kit):
    k = kit()
    k.server.script("POST", TEXT, Fault.malformed_json())
    [job] = k.generate()
    assert job.state == "unknown"
    assert k.posts() == 1


def test_malformed_json_once_on_a_poll_is_retried(kit):
    k = kit()
    k.server.script("GET", TASK, Fault.malformed_json())
    [job] = k.generate()
    done(job)


def test_a_poll_that_never_makes_sense_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", TASK, Fault.malformed_json())
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_expired_output_url_is_fetched_again_from_the_task(kit):
    k = kit()
    k.server.script(
        "GET", FILES, Fault.status(403, text="<Error><Code>AccessDenied</Code></Error>")
    )
    [job] = k.generate()
    done(job)
    tokens = {r.query["_jwt"] for r in k.server.requests_to("GET", FILES)}
    assert len(tokens) == 2  # the re-GET of the task signed a fresh URL
    assert k.fake.count_creates() == 1


def test_a_url_that_stays_expired_fails_the_job(kit):
    k = kit(url_ttl=0)
    [job] = k.generate()
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert list(k.paths.incoming.iterdir()) == []
    assert k.fake.count_creates() == 1


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", FILES, Fault.cut_after(len(VIDEO) // 2))
    [job] = k.generate()
    done(job)
    downloads = k.server.requests_to("GET", FILES)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()


def test_a_task_runway_no_longer_has_fails_the_poll(kit):
    k = kit()
    with pytest.raises(GenerationFailed) as failed:
        k.call(lambda ctx: k.adapter.poll(ctx, TaskHandle("0c9f3f5e-0000-4000-8000-000000000000")))
    assert (failed.value.status, failed.value.vendor_code) == (404, "404")
    assert "Could not find Task" in failed.value.message


# ------------------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str]]:
    ok = picture(tmp, "ok.png")
    clip = tmp / "clip.mp4"
    clip.write_bytes(VIDEO)
    big = tmp / "big.mp4"
    big.write_bytes(b"\0" * (4 * 2**20))
    url = {"video": "https://cdn.example.com/a.mp4"}
    return [
        ("gen4.5", GenerationRequest("a fox", duration_s=11), "duration"),  # 2-10 s
        ("gen4.5", GenerationRequest("a fox", duration_s=2.5), "duration"),  # whole seconds
        ("veo3.1", GenerationRequest("a fox", duration_s=5), "duration"),  # 4, 6, 8
        ("gen4.5", GenerationRequest("a fox", resolution="1080p"), "resolution"),
        ("gen4.5", GenerationRequest("a fox", aspect="4:3"), "aspect"),  # t2v: 16:9, 9:16 only
        ("veo3.1", GenerationRequest("a fox", aspect="1:1"), "aspect"),
        ("gen4.5", GenerationRequest("a fox", aspect="2:1"), "aspect"),
        ("gen4_turbo", GenerationRequest("a fox"), "mode"),  # image to video only
        ("gen4.5", GenerationRequest("a fox", image=ok, last_frame=ok), "mode"),  # first only
        ("gen4.5", GenerationRequest("", image=ok), "prompt"),  # gen4.5 needs words
        ("gen4.5", GenerationRequest("   "), "prompt"),
        ("gen4.5", GenerationRequest("x" * 1001), "prompt"),
        ("gen4.5", GenerationRequest("🦊" * 501), "prompt"),  # UTF-16: 1002 code units
        ("gen4.5", GenerationRequest("a fox", negative="blur"), "negative"),
        ("gen4.5", GenerationRequest("a fox", audio=True), "audio"),
        ("gen4.5", GenerationRequest("a fox", seed=2**32), "seed"),
        ("kling3.0_pro", GenerationRequest("a fox", seed=1), "seed"),
        ("veo3.1", GenerationRequest("a fox", extra={"public_figure_threshold": "low"}),
         "public_figure_threshold"),
        ("gen4.5", GenerationRequest("a fox", extra={"public_figure_threshold": "none"}),
         "public_figure_threshold"),
        ("kling2.5_turbo_pro", GenerationRequest("a", image=ok, aspect="16:9"), "aspect"),
        ("kling2.5_turbo_pro", GenerationRequest("a", image=ok, resolution="720p"), "resolution"),
        ("gen4.5", GenerationRequest("a", image=picture(tmp, "small.png", (200, 200))), "image"),
        ("gen4.5", GenerationRequest("a", image=picture(tmp, "wide.png", (1300, 500))), "image"),
        ("veo3.1", GenerationRequest("a", image=ok, last_frame=tmp / "missing.png"), "last_frame"),
        ("gen4.5", GenerationRequest("a fox", extra=url), "mode"),  # no video to video
        ("aleph2", GenerationRequest("a fox"), "mode"),  # video to video only
        ("aleph2", GenerationRequest("", extra=url), "prompt"),
        ("aleph2", GenerationRequest("a fox", duration_s=5, extra=url), "duration"),
        ("aleph2", GenerationRequest("a fox", aspect="16:9", extra=url), "aspect"),
        ("aleph2", GenerationRequest("a fox", image=ok, extra=url), "image"),
        ("aleph2", GenerationRequest("a fox", extra={"video": "http://cdn.example.com/a.mp4"}),
         "video"),
        ("aleph2", GenerationRequest("a fox", extra={"video": str(tmp / "none.mp4")}), "video"),
        ("aleph2", GenerationRequest("a fox", extra={"video": str(ok)}), "video"),
        ("aleph2", GenerationRequest("a fox", extra={"video": str(big)}), "video"),  # > 5 MiB
        ("klingO3_pro", GenerationRequest("a fox", duration_s=5, extra={"video": str(clip)}),
         "duration"),
        ("seedance2_5", GenerationRequest("a", aspect="16:9", resolution="4k"), "resolution"),
        ("veo3", GenerationRequest("a fox"), "model"),  # retired
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("runway", model)])
        assert refused.value.field == field, (model, request.prompt[:20], refused.value)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_the_limits_that_hold_are_accepted(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("runway").models
    clip = tmp_path / "clip.mov"
    clip.write_bytes(VIDEO)
    tall = picture(tmp_path, "tall.png", (360, 640))
    for model, request in [
        ("gen4.5", GenerationRequest("x" * 1000, duration_s=10, aspect="9:16", seed=2**32 - 1)),
        ("gen4.5", GenerationRequest("a", image=tall, aspect="21:9", duration_s=2)),
        ("veo3.1", GenerationRequest("a", negative="n" * 1000, resolution="1080p", audio=True)),
        ("seedance2_5", GenerationRequest("a", duration_s=30, resolution="1080p", aspect="21:9")),
        ("aleph2", GenerationRequest("winter", seed=3, extra={"video": str(clip)})),
        ("klingO3_standard", GenerationRequest("winter", extra={"video": "runway://abc"})),
        ("gemini_omni_flash", GenerationRequest("a", image=tall, duration_s=3)),
    ]:  # fmt: skip
        k.adapter.validate(request, models[model])
    # No aspect with a portrait first frame: the nearest portrait ratio is chosen.
    [job] = k.generate(GenerationRequest("a", image=tall, duration_s=2))
    done(job)
    assert k.fake.creates[0]["ratio"] == "720:1280"


# -------------------------------------------------------------------------- estimates


def test_estimates_follow_the_catalog_prices(kit, tmp_path):
    k = kit()
    models = k.catalog.vendor("runway").models
    estimate = k.adapter.estimate
    assert estimate(GenerationRequest("a", duration_s=10), models["gen4.5"]).amount == 120
    assert (
        estimate(
            GenerationRequest("a", image=picture(tmp_path, "a.png")), models["gen4_turbo"]
        ).money
        == 0.25
    )
    assert estimate(GenerationRequest("a", audio=True), models["veo3.1"]).amount == 320  # 8 s x 40
    assert estimate(GenerationRequest("a", duration_s=4), models["veo3.1_fast"]).amount == 40
    image = GenerationRequest("a", image=picture(tmp_path, "b.png"), duration_s=5)
    assert estimate(image, models["gemini_omni_flash"]).amount == 51  # +1 for a first frame
    assert estimate(GenerationRequest("a"), models["seedance2"]).amount is None  # unknown, not 0


# ------------------------------------------------------------------- cancel and balance


def test_cancel_stops_a_pending_task_and_gets_the_credits_back(kit):
    k = kit(pending_polls=50)
    engine = k.engine()
    _, [job_id] = engine.enqueue(
        GenerationRequest("a fox", duration_s=2), [Target("runway", "gen4.5")]
    )
    asyncio.run(engine.run([job_id], until="submitted"))
    before = k.fake.credits
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    [delete] = k.server.requests_to("DELETE", TASK)
    assert delete.path == f"/v1/tasks/{job.vendor_task_id}"
    assert delete.headers["Accept"] == "*/*"
    assert delete.headers["X-Runway-Version"] == API_VERSION
    assert k.fake.status_of(job.vendor_task_id) == "CANCELLED"
    assert k.fake.credits == before + 24


def test_a_running_task_is_cancelled_but_a_finished_one_is_not_deleted(kit):
    k = kit(pending_polls=0, running_polls=50, keep_cancelled=True)
    request = GenerationRequest("a", duration_s=2)

    async def go(ctx):
        running = await k.adapter.submit(ctx, request, "ts-1")
        await k.adapter.poll(ctx, running)  # now RUNNING
        cancelled = await k.adapter.cancel(ctx, running)
        status = await k.adapter.poll(ctx, running)
        finished = await k.adapter.submit(ctx, request, "ts-2")
        k.fake.tasks[finished.task_id].status = "SUCCEEDED"
        k.fake.tasks[finished.task_id].cost = 24
        left_alone = await k.adapter.cancel(ctx, finished)
        gone = await k.adapter.cancel(ctx, TaskHandle("0c9f3f5e-0000-4000-8000-000000000000"))
        return cancelled, status, left_alone, gone, finished

    cancelled, status, left_alone, gone, finished = k.call(go)
    assert (cancelled, status.state, status.cost) == (True, TaskState.CANCELLED, 24)  # no refund
    assert (left_alone, gone) == (False, True)
    assert len(k.server.requests_to("DELETE", TASK)) == 1
    assert k.fake.status_of(finished.task_id) == "SUCCEEDED"


def test_balance_reports_credits_and_the_tiers_limits(kit):
    k = kit(credits=4321, concurrency=2, daily_limit=50)
    [job] = k.generate()
    done(job)
    balance = k.call(lambda ctx: k.adapter.balance(ctx))
    assert (balance.amount, balance.unit) == (4321 - 24, "credits")
    assert balance.detail["max_monthly_credit_spend"] == 10_000
    assert balance.detail["models"]["gen4.5"] == {
        "max_concurrent_generations": 2,
        "max_daily_generations": 50,
        "daily_generations": 1,
    }
    [org] = k.server.requests_to("GET", "/v1/organization")
    assert org.headers["X-Runway-Version"] == API_VERSION


def test_reconcile_compares_the_ledger_with_the_organization_balance(kit):
    k = kit(credits=1500)
    engine = k.engine()
    account = credits.add_account(k.store, {}, vendor="runway", name="api", kind="api")
    credits.adjust(k.store, account.id, 1200, "bought API credits")
    observed, drift = asyncio.run(engine.reconcile(account.id))
    assert (observed, drift) == (1500, 300)  # Runway says 1500; the ledger knows of 1200
    [row] = k.store.all("SELECT * FROM ledger WHERE kind = 'observe'")
    assert (row["observed"], row["computed"], row["note"]) == (1500, 1200, "runway balance API")


def test_there_is_no_model_list(kit):
    k = kit()
    assert k.call(lambda ctx: k.adapter.list_models(ctx)) is None
    assert k.server.count() == 0


# ----------------------------------------------------------------------------- the CLI


def _cli(home: Path, fake: FakeRunway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        "TAKESTOCK_RUNWAY_BASE_URL": fake.url,
        "TAKESTOCK_RUNWAY_API_KEY": KEY,
        "TAKESTOCK_POLL_INTERVAL": "0.01",
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_and_refuses_a_bad_duration(kit, home):
    k = kit()
    result = _cli(
        home, k.fake, "generate", "--vendor", "runway", "--model", "gen4.5", "--prompt",
        "a lighthouse at dusk", "--duration", "3", "--aspect", "9:16", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert job["cost_actual"] == 36
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert k.fake.creates[0]["ratio"] == "720:1280"

    refused = _cli(
        home, k.fake, "generate", "--vendor", "runway", "--model", "gen4.5", "--prompt", "a fox",
        "--duration", "20", "--json",
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "duration" in refused.stderr
    assert k.fake.count_creates() == 1

    listing = _cli(home, k.fake, "vendors", "refresh", "runway", "--json")
    assert listing.returncode == 0, listing.stderr
    assert "cannot list its models" in listing.stdout
