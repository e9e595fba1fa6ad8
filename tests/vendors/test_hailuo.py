"""The Hailuo (MiniMax) adapter through the engine, against the fake MiniMax API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
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

from takestock.core.catalog import Catalog, parse_vendor, shipped_catalog_files
from takestock.core.errors import InvalidInput
from takestock.core.jobs import Engine, Job, Target, list_jobs
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest, TaskHandle
from takestock.vendors.hailuo import HailuoAdapter
from tests.fakeserver import FakeServer, Fault
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_hailuo import FakeHailuo

VIDEO = tiny_mp4(seconds=2.0, width=320, height=180)
KEY = "mm-test-key"
HAILUO_23 = "MiniMax-Hailuo-2.3"
HAILUO_02 = "MiniMax-Hailuo-02"
H3 = "MiniMax-H3"
H3_MAX = "MiniMax-H3-Max"
CREATE = "/v1/video_generation"
QUERY = "/v1/query/video_generation"
RETRIEVE = "/v1/files/retrieve"
FILES = "/cdn/*"


def hailuo_catalog() -> Catalog:
    """The shipped Hailuo entry alone, so other vendors' files cannot break these tests."""
    text = dict(shipped_catalog_files())["hailuo.json"]
    spec = parse_vendor(json.loads(text))
    return Catalog({spec.id: spec})


@dataclass
class Kit:
    fake: FakeHailuo
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: HailuoAdapter
    key: str = KEY

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def engine(self) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"hailuo": self.adapter},
            StaticCredentials({"hailuo": {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={"TAKESTOCK_HAILUO_BASE_URL": self.fake.url},
        )

    def generate(self, request: GenerationRequest, model: str = HAILUO_23, count: int = 1):
        engine = self.engine()
        _, ids = engine.enqueue(request, [Target("hailuo", model)], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def run(self, prompt: str = "a red fox in snow", model: str = HAILUO_23, **fields: Any) -> Job:
        [job] = self.generate(GenerationRequest(prompt=prompt, **fields), model)
        return job

    def creates(self, path: str = CREATE) -> list[Any]:
        return [r.json for r in self.server.requests_to("POST", path)]

    def leftovers(self) -> list[Path]:
        return list(self.paths.incoming.iterdir())


@pytest.fixture
def kit(tmp_path):
    servers: list[FakeServer] = []

    def make(**options: Any) -> Kit:
        fake = FakeHailuo(api_key=KEY, video=VIDEO, width=320, height=180, **options)
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / "kit-home").ensure()
        catalog = hailuo_catalog()
        adapter = HailuoAdapter(catalog.vendor("hailuo"))
        return Kit(fake, paths, open_store(paths.database), catalog, adapter)

    yield make
    for server in servers:
        server.stop()
    for server in servers:
        server.check()


def picture(folder: Path, name: str, size: tuple[int, int], colour: str = "teal") -> Path:
    path = folder / name
    Image.new("RGB", size, colour).save(path)
    return path


def data_url_of(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _done(job: Job) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


# ------------------------------------------------------------------ to a take


def test_text_to_video_makes_a_verified_take(kit):
    k = kit()
    job = k.run("a red fox in snow [Push in]", duration_s=10)
    _done(job)
    assert k.creates() == [
        {"model": HAILUO_23, "prompt": "a red fox in snow [Push in]", "duration": 10,
         "resolution": "768P"}
    ]  # fmt: skip
    create = k.server.requests_to("POST", CREATE)[0]
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    assert create.headers["Content-Type"] == "application/json"
    # create, four queries (Queueing, Preparing, Processing, Success), retrieve, file
    assert [(r.method, r.path) for r in k.server.requests] == [
        ("POST", CREATE), *[("GET", QUERY)] * 4, ("GET", RETRIEVE),
        ("GET", f"/cdn/{k.fake.tasks[job.vendor_task_id].file_id}.mp4"),
    ]  # fmt: skip
    assert k.server.requests_to("GET", QUERY)[0].query == {"task_id": job.vendor_task_id}
    assert "Authorization" not in k.server.requests_to("GET", FILES)[0].headers
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert job.vendor_state == "Success"
    assert job.estimate == {"amount": 0.56, "unit": "USD", "money": 0.56, "currency": "USD"}
    assert k.fake.count_creates() == 1
    assert k.leftovers() == []


def test_options_from_extra_go_into_the_body(kit):
    k = kit()
    job = k.run(
        resolution="1080p",
        extra={"prompt_optimizer": False, "fast_pretreatment": True, "aigc_watermark": True},
    )
    _done(job)
    assert k.creates() == [
        {"model": HAILUO_23, "prompt": "a red fox in snow", "duration": 6,
         "resolution": "1080P", "prompt_optimizer": False, "fast_pretreatment": True,
         "aigc_watermark": True}
    ]  # fmt: skip


def test_image_to_video_sends_the_image_as_a_data_url(kit, tmp_path):
    k = kit()
    image = picture(tmp_path, "first.png", (640, 360))
    job = k.run("", model="MiniMax-Hailuo-2.3-Fast", image=image)
    _done(job)
    # A PNG that fits goes as it is, byte for byte; no prompt is sent without words.
    assert k.creates() == [
        {"model": "MiniMax-Hailuo-2.3-Fast", "duration": 6, "resolution": "768P",
         "first_frame_image": data_url_of(image, "image/png")}
    ]  # fmt: skip


def test_an_image_minimax_cannot_take_is_converted_to_jpeg(kit, tmp_path):
    k = kit()
    image = picture(tmp_path, "first.bmp", (800, 600), "orange")
    _done(k.run("the kite rises", image=image))
    sent = k.creates()[0]["first_frame_image"]
    assert sent.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))) as img:
        assert (img.format, img.size) == ("JPEG", (800, 600))


def test_first_and_last_frame_on_hailuo_02(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.png", (640, 360), "red")
    last = picture(tmp_path, "b.webp", (640, 360), "blue")
    job = k.run("red turns blue", model=HAILUO_02, image=first, last_frame=last,
                resolution="1080p")  # fmt: skip
    _done(job)
    assert k.creates() == [
        {"model": HAILUO_02, "prompt": "red turns blue", "duration": 6, "resolution": "1080P",
         "first_frame_image": data_url_of(first, "image/png"),
         "last_frame_image": data_url_of(last, "image/webp")}
    ]  # fmt: skip


def test_512p_image_to_video_on_hailuo_02_is_priced_from_the_catalog(kit, tmp_path):
    k = kit()
    job = k.run("", model=HAILUO_02, image=picture(tmp_path, "a.jpg", (480, 640)),
                resolution="512p", duration_s=10)  # fmt: skip
    _done(job)
    assert k.creates()[0]["resolution"] == "512P"
    assert job.estimate["amount"] == 0.15


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("I2V-01-live", "first_frame_image"),
        ("S2V-01", "subject_reference"),
    ],
)
def test_legacy_models_send_no_duration_or_resolution(kit, tmp_path, model, expected):
    k = kit()
    image = picture(tmp_path, "who.png", (400, 600))
    _done(k.run("she waves", model=model, image=image))
    [body] = k.creates()
    url = data_url_of(image, "image/png")
    wanted = (
        {"subject_reference": [{"type": "character", "image": [url]}]}
        if expected == "subject_reference"
        else {"first_frame_image": url}
    )
    assert body == {"model": model, "prompt": "she waves", **wanted}


def test_text_to_video_on_minimax_h3_uses_the_v2_api(kit):
    k = kit()
    job = k.run("rain on glass, neon", model=H3, aspect="9:16", duration_s=8,
                extra={"aigc_watermark": False})  # fmt: skip
    _done(job)
    assert k.creates("/v2/video_generation") == [
        {"model": H3, "content": [{"type": "text", "text": "rain on glass, neon"}],
         "resolution": "768P", "duration": 8, "ratio": "9:16", "aigc_watermark": False}
    ]  # fmt: skip
    polls = k.server.requests_to("GET", "/v2/query/video_generation/{id}")
    assert polls[0].path == f"/v2/query/video_generation/{job.vendor_task_id}"
    assert polls[0].headers["Authorization"] == f"Bearer {KEY}"
    assert k.server.count("*", "/v1/") == 0
    assert job.vendor_state == "succeeded"
    assert job.estimate["amount"] == pytest.approx(0.64)


def test_minimax_h3_max_goes_over_v2_at_its_own_resolutions(kit, tmp_path):
    k = kit()
    job = k.run("a lantern drifts", model=H3_MAX, resolution="1080p", duration_s=12)
    _done(job)
    assert job.estimate["amount"] is None  # unpublished: unknown, never 0
    assert "no published price" in job.estimate["reason"]
    frame = picture(tmp_path, "f.png", (960, 540), "green")
    _done(k.run("it rises", model=H3_MAX, image=frame, resolution="480p"))
    first, second = k.creates("/v2/video_generation")
    assert (first["model"], first["resolution"], first["duration"]) == (H3_MAX, "1080P", 12)
    assert first["ratio"] == "16:9"
    assert (second["resolution"], second["ratio"]) == ("480P", "adaptive")
    assert [c.get("role") for c in second["content"]] == [None, "first_frame"]


def test_first_and_last_frame_on_minimax_h3(kit, tmp_path):
    k = kit()
    first = picture(tmp_path, "a.jpg", (960, 540), "red")
    last = picture(tmp_path, "b.png", (960, 540), "blue")
    job = k.run("a door opens", model=H3, image=first, last_frame=last, resolution="2k",
                aspect="16:9")  # fmt: skip
    _done(job)
    assert k.creates("/v2/video_generation") == [
        {"model": H3,
         "content": [
             {"type": "text", "text": "a door opens"},
             {"type": "image_url", "image_url": {"url": data_url_of(first, "image/jpeg")},
              "role": "first_frame"},
             {"type": "image_url", "image_url": {"url": data_url_of(last, "image/png")},
              "role": "last_frame"},
         ],
         "resolution": "2K", "duration": 5, "ratio": "adaptive"}
    ]  # fmt: skip


# --------------------------------------------------------------- vendor errors


@pytest.mark.parametrize(
    ("prompt", "model", "kind", "words"),
    [
        ("a fox #nsfw", HAILUO_23, "rejected", "output new_sensitive (code 1027)"),
        ("a fox #fail", HAILUO_23, "generation_failed", "video generation failed"),
        ("a fox #nsfw", H3, "rejected", "output new_sensitive (code 1027)"),
        ("a fox #fail", H3, "generation_failed", "(code generation_failed)"),
    ],
)
def test_a_failed_task_keeps_minimaxs_words(kit, prompt, model, kind, words):
    k = kit()
    job = k.run(prompt, model=model)
    assert (job.state, job.error_kind) == ("failed", kind), job.error
    assert words in job.error
    assert k.fake.count_creates() == 1
    assert k.server.count("GET", RETRIEVE) == 0


def _scripted(code: int, message: str) -> Fault:
    """MiniMax's way of saying no: HTTP 200 and a non-zero base_resp."""
    base_resp = {"status_code": code, "status_msg": message}
    return Fault.status(200, json={"task_id": "", "base_resp": base_resp})


@pytest.mark.parametrize(
    ("setup", "kind", "words"),
    [
        ({"key": "wrong-key"}, "auth", "invalid api key (code 2049)"),
        ({"balance": 0.1}, "quota", "insufficient balance (code 1008)"),
        ({"prompt": "a fox #blocked"}, "rejected", "input new_sensitive (code 1026)"),
        ({"fault": (2013, "invalid params, duration")}, "rejected", "invalid params, duration"),
        ({"fault": (2056, "usage limit exceeded")}, "quota", "usage limit exceeded"),
        ({"fault": (1004, "login fail")}, "auth", "region 'cn'"),
        ({"fault": (2013, "invalid params, unknown model: X")}, "model_retired", "unknown model"),
    ],
)
def test_a_refused_create_fails_the_job_with_minimaxs_words(kit, setup, kind, words):
    k = kit(**({"balance": setup["balance"]} if "balance" in setup else {}))
    k.key = setup.get("key", KEY)
    if "fault" in setup:
        k.server.script("POST", CREATE, _scripted(*setup["fault"]))
    job = k.run(setup.get("prompt", "a fox"))
    assert (job.state, job.error_kind) == ("failed", kind), job.error
    assert words in job.error
    assert job.vendor_task_id is None
    assert k.fake.count_creates() == 0
    assert len(k.server.requests_to("POST", CREATE)) == 1


def test_a_key_without_the_bearer_scheme_is_refused_by_minimax(kit):
    class NoScheme(HailuoAdapter):
        def _headers(self, ctx):
            return {"Authorization": ctx.secret()}

    k = kit()
    k.adapter = NoScheme(k.adapter.vendor)
    job = k.run()
    assert (job.state, job.error_kind) == ("failed", "auth")
    assert "login fail" in job.error
    assert "code 1004" in job.error


def test_an_empty_key_is_refused_before_anything_is_stored_or_sent(kit):
    k = kit()
    k.key = " \n"
    with pytest.raises(InvalidInput, match="no api_key for Hailuo"):
        k.run()
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_a_rate_limit_in_the_body_queues_the_create_again(kit):
    k = kit()
    k.server.script("POST", CREATE, _scripted(1002, "rate limit exceeded(RPM)"))
    job = k.run()
    _done(job)
    assert len(k.server.requests_to("POST", CREATE)) == 2
    assert k.fake.count_creates() == 1


def test_the_running_task_limit_holds_the_second_take_back(kit):
    k = kit(max_running=1)
    jobs = k.generate(GenerationRequest("a fox"), count=2)
    assert [j.state for j in jobs] == ["done", "done"]
    assert (
        len(k.server.requests_to("POST", CREATE)) >= 3
    )  # one accepted, at least one 1041, then the second accepted
    assert k.fake.count_creates() == 2


def test_http_429_with_retry_after_is_honoured_without_a_second_task(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.status(429, retry_after=0.3))
    _done(k.run())
    first, second = k.server.requests_to("POST", CREATE)
    assert second.at - first.at >= 0.28
    assert k.fake.count_creates() == 1


def test_http_429_without_retry_after_backs_off(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.status(429))
    _done(k.run())
    assert k.fake.count_creates() == 1


def test_a_429_that_outlasts_the_retries_requeues_the_job(kit):
    k = kit()
    k.server.script("POST", CREATE, *[Fault.status(429, retry_after=0.01)] * 5)
    _done(k.run())
    assert len(k.server.requests_to("POST", CREATE)) == 6
    assert k.fake.count_creates() == 1


def test_server_errors_on_polls_and_retrieve_are_retried(kit):
    k = kit()
    k.server.script("GET", QUERY, Fault.status(500), Fault.status(503))
    k.server.script("GET", RETRIEVE, Fault.status(502))
    k.server.script("GET", QUERY, _scripted(1000, "unknown error"))
    _done(k.run())
    assert k.fake.count_creates() == 1


def test_a_rate_limit_on_a_poll_waits_and_polls_again(kit):
    k = kit()
    k.server.script("GET", QUERY, _scripted(1002, "rate limit exceeded(RPM)"))
    _done(k.run())


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(500),
        Fault.status(503, json={"base_resp": {"status_code": 1033, "status_msg": "system"}}),
        _scripted(1000, "unknown error"),
        Fault.malformed_json(),
        Fault.drop(),
    ],
    ids=["http-500", "http-503-1033", "body-1000", "malformed-json", "dropped"],
)
def test_a_create_without_a_clear_answer_becomes_unknown_and_is_not_resent(kit, fault):
    k = kit()
    k.server.script("POST", CREATE, fault)
    job = k.run()
    assert job.state == "unknown", (job.state, job.error)
    assert "never learned" in job.error
    assert len(k.server.requests_to("POST", CREATE)) == 1
    assert k.server.count("GET") == 0


def test_a_create_whose_answer_is_lost_is_unknown_though_minimax_made_it(kit):
    k = kit()
    k.server.script("POST", CREATE, Fault.cut_after(0))  # the task exists; we never hear
    job = k.run()
    assert job.state == "unknown"
    assert job.vendor_task_id is None
    assert "Sending it again blindly could charge you twice" in job.error
    assert k.fake.count_creates() == 1
    assert len(k.server.requests_to("POST", CREATE)) == 1
    assert k.server.count("GET") == 0
    assert HailuoAdapter.can_find is False


def test_malformed_json_once_on_a_query_or_retrieve_is_retried(kit):
    k = kit()
    k.server.script("GET", QUERY, Fault.malformed_json())
    k.server.script("GET", RETRIEVE, Fault.malformed_json())
    _done(k.run())


def test_a_query_that_never_makes_sense_fails_as_protocol(kit):
    k = kit()
    k.server.script_always("GET", QUERY, Fault.malformed_json())
    job = k.run()
    assert (job.state, job.error_kind) == ("failed", "protocol")
    assert "not JSON" in job.error


def test_an_expired_link_is_replaced_by_a_fresh_retrieve(kit):
    k = kit()
    k.server.script("GET", FILES, Fault.status(403, text="AccessDenied: Request has expired"))
    _done(k.run())
    assert k.server.count("GET", RETRIEVE) == 2
    assert len({r.query["sig"] for r in k.server.requests_to("GET", FILES)}) == 2
    assert k.fake.count_creates() == 1


def test_an_expired_h3_link_is_replaced_by_a_fresh_query(kit):
    k = kit()
    k.server.script("GET", FILES, Fault.status(403))
    _done(k.run(model=H3))
    assert len({r.query["sig"] for r in k.server.requests_to("GET", FILES)}) == 2


def test_a_link_that_stays_expired_fails_the_job_and_leaves_nothing(kit):
    k = kit(url_ttl=-1)  # every link MiniMax hands out is already past its 9 hours
    job = k.run()
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert list_takes(k.store, k.paths.media) == []
    assert k.leftovers() == []
    assert k.fake.count_creates() == 1


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", FILES, Fault.cut_after(len(VIDEO) // 2))
    _done(k.run())
    downloads = k.server.requests_to("GET", FILES)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"
    [take] = list_takes(k.store, k.paths.media)
    assert take.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert k.fake.count_creates() == 1


def test_a_truncated_download_fails_against_minimaxs_byte_count(kit):
    k = kit()
    k.server.script_always("GET", FILES, Fault.truncate(len(VIDEO) // 3))
    job = k.run()
    assert (job.state, job.error_kind) == ("failed", "download")
    assert list_takes(k.store, k.paths.media) == []
    assert k.leftovers() == []


# ---------------------------------------------------------------- validation


def _refusals(folder: Path) -> list[tuple[str, GenerationRequest, str, str]]:
    wide = picture(folder, "wide.png", (640, 360))
    small = picture(folder, "small.png", (400, 300))
    thin = picture(folder, "thin.png", (1200, 380))
    four_three = picture(folder, "43.png", (800, 600))
    r = GenerationRequest
    return [
        (HAILUO_23, r("   "), "prompt", "is empty"),
        (HAILUO_23, r("x" * 2001), "prompt", "at most 2000"),
        (H3, r("x" * 7001), "prompt", "at most 7000"),
        (H3, r("", image=wide), "prompt", "needs words"),
        (HAILUO_23, r("a fox", duration_s=8), "duration", "use 6, 10"),
        (H3, r("a fox", duration_s=16), "duration", "16 s is not offered"),
        (HAILUO_23, r("a fox", duration_s=10, resolution="1080p"), "duration", "only at 6 s"),
        (HAILUO_23, r("a fox", resolution="512p"), "resolution", "use 768p, 1080p"),
        (HAILUO_23, r("a fox", resolution="768P"), "resolution", "768P is not offered"),
        (HAILUO_02, r("a fox", resolution="512p"), "resolution", "only in image mode"),
        (HAILUO_02, r("a", image=wide, last_frame=wide, resolution="512p"), "resolution",
         "only in image mode"),
        ("MiniMax-Hailuo-2.3-Fast", r("a fox"), "mode", "does not do text to video"),
        (HAILUO_23, r("a", image=wide, last_frame=wide), "mode", "first and last frame"),
        ("T2V-01", r("a", image=wide), "mode", "image to video"),
        (HAILUO_02, r("a", last_frame=wide), "image", "needs a first frame"),
        (HAILUO_23, r("a", image=small), "image", "at least 301 px"),
        (HAILUO_23, r("a", image=thin), "image", "aspect ratio of 3.16"),
        (HAILUO_23, r("a", image=folder / "none.png"), "image", "does not exist"),
        (HAILUO_23, r("a fox", aspect="9:16"), "aspect", "use 16:9"),
        (HAILUO_23, r("a", image=four_three, aspect="16:9"), "aspect", "from the first frame"),
        (H3, r("a", image=four_three, aspect="1:1"), "aspect", "from the first frame"),
        (HAILUO_23, r("a fox", negative="blur"), "negative", "takes no negative prompt"),
        (HAILUO_23, r("a fox", seed=7), "seed", "takes no seed"),
        (HAILUO_23, r("a fox", audio=True), "audio", "makes no audio"),
        (H3, r("a fox", audio=False), "audio", "always makes sound"),
        ("T2V-01", r("a fox", extra={"fast_pretreatment": True}), "extra", "fast_pretreatment"),
        (H3, r("a fox", extra={"prompt_optimizer": True}), "extra", "takes no prompt_optimizer"),
        (HAILUO_23, r("a fox", extra={"prompt_optimizer": "no"}), "extra", "true or false"),
        ("video-01", r("a fox"), "model", "retired"),
        (H3_MAX, r("a fox", resolution="2k"), "resolution", "use 480p, 768p, 1080p"),
        (H3_MAX, r("a fox", duration_s=4), "duration", "4 s is not offered"),
        (H3_MAX, r("a", image=wide, last_frame=wide), "mode", "first and last frame"),
        (H3_MAX, r("a fox", audio=False), "audio", "always makes sound"),
    ]  # fmt: skip


def test_every_documented_limit_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field, words in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("hailuo", model)])
        assert (refused.value.field, model) == (field, model), refused.value.message
        assert words in refused.value.message, (model, refused.value.message)
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_what_passes_validation_passes_the_vendor(kit, tmp_path):
    """Edge values the adapter lets through are ones MiniMax (the fake) accepts."""
    k = kit()
    wide = picture(tmp_path, "wide.png", (640, 360))
    edge = picture(tmp_path, "edge.png", (752, 301))  # short side 301, aspect 2.498
    requests = [
        (HAILUO_02, GenerationRequest("a", image=edge, resolution="512p", duration_s=10)),
        (HAILUO_02, GenerationRequest("a", image=wide, last_frame=wide, duration_s=10)),
        (H3, GenerationRequest("a" * 7000, duration_s=15, resolution="2k", aspect="21:9")),
        (H3, GenerationRequest("a", image=wide, duration_s=4)),
        ("T2V-01-Director", GenerationRequest("x" * 2000, extra={"prompt_optimizer": False})),
    ]
    for model, request in requests:
        [job] = k.generate(request, model)
        _done(job)
    assert k.fake.count_creates() == len(requests)


# ------------------------------------------------ regions, balance, cancel


def test_regions_and_what_minimax_does_not_offer(kit):
    k = kit()
    vendor = k.catalog.vendor("hailuo")
    assert vendor.base_url() == vendor.base_url("global") == "https://api.minimax.io"
    assert vendor.base_url("cn") == "https://api.minimaxi.com"
    assert vendor.secrets == ("api_key",)

    async def ask():
        async with httpx.AsyncClient() as http:
            ctx = CallContext(http, vendor, k.fake.url, secrets={"api_key": KEY})
            return (
                await k.adapter.balance(ctx),
                await k.adapter.cancel(ctx, TaskHandle("106916112212033", {"api": "v1"})),
            )

    assert asyncio.run(ask()) == (None, False)
    assert k.server.count() == 0


# ----------------------------------------------------------------------- CLI


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_a_take_and_refuses_bad_input(home, kit):
    k = kit()
    env = {"TAKESTOCK_HAILUO_BASE_URL": k.fake.url, "TAKESTOCK_HAILUO_API_KEY": KEY}
    result = _cli(
        "generate", "--vendor", "hailuo", "--model", HAILUO_23, "--prompt", "a paper boat",
        "--duration", "6", "--resolution", "768p", "--wait", "--json", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert k.creates()[0]["prompt"] == "a paper boat"

    refused = _cli(
        "generate", "--vendor", "hailuo", "--model", HAILUO_23, "--prompt", "a paper boat",
        "--duration", "7", env=env,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "7 s is not offered" in refused.stderr
    assert k.fake.count_creates() == 1
