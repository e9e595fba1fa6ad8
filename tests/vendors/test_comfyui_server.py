"""ComfyUI as a user's own server behaves: it restarts, forgetting its queue and history
(but not the files it wrote), it goes away for a while, and it runs one node at a time.
Against the fake ComfyUI server (see ``fake_comfyui``)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from takestock.core.jobs import Job, Target, get_job
from takestock.core.vendor import GenerationRequest, TaskHandle
from takestock.vendors.comfyui import prompt_id_for
from takestock.vendors.comfyui_progress import Watch, running_text
from tests.fakeserver import Fault
from tests.vendors.comfyui_kit import (  # noqa: F401 (the fixtures kit and serve_fake)
    PROMPT,
    T2V,
    VIEW,
    Kit,
    done,
    kit_fixture,
    sample,
    serve_fake_fixture,
)

DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port


async def _until(check: Any, what: str, tries: int = 1000) -> None:
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def _submitted(k: Kit, **kw: Any) -> int:
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox", **kw), [Target("comfyui", T2V)])
    asyncio.run(engine.run([job_id], until="submitted"))
    assert get_job(k.store, job_id).state == "running"
    return job_id


def _resume(k: Kit, job_id: int) -> Job:
    [job] = asyncio.run(asyncio.wait_for(k.engine().run([job_id]), 30))
    return job


# ------------------------------------------------------------------- restarts


def test_a_video_written_before_a_restart_finishes_the_job(kit):
    k = kit()
    job_id = _submitted(k)
    ours = get_job(k.store, job_id).vendor_task_id
    for _ in range(500):  # ComfyUI runs it while Takestock is not watching
        if ours in k.fake.history:
            break
        time.sleep(0.01)
    k.fake.restart()  # ...then restarts: its history is gone, the file is not
    assert httpx.get(k.fake.url + f"/history/{ours}").json() == {}
    job = _resume(k, job_id)
    done(k, job)
    own = ours.replace("-", "")[:12]
    assert job.vendor_state == f"found takestock-{own}_00001_.mp4 after ComfyUI forgot the prompt"
    assert k.posts() == 1  # found, not made again
    probe = k.server.requests_to("GET", VIEW)[0]
    assert probe.query["filename"] == f"takestock-{own}_00001_.mp4"
    assert probe.headers["Range"] == "bytes=0-0"  # asked, not fetched twice


def test_a_running_prompt_a_restart_killed_is_sent_again_and_says_so(kit):
    k = kit(steps=40, step_s=0.02)
    job_id = _submitted(k, seed=5)
    k.fake.wait_running()
    k.fake.restart()  # killed mid-run: no history, no file
    job = _resume(k, job_id)
    done(k, job, prompts=2)
    first, again = k.fake.prompts
    assert again == first  # the same graph, seed and prompt id: nothing new is asked for
    assert again["prompt_id"] == job.vendor_task_id == prompt_id_for(job.client_request_id)
    states = [e.vendor_state for e in k.events if e.vendor_state]
    assert "sent again: ComfyUI restarted and forgot it" in states
    assert any(s.endswith("(sent again: ComfyUI restarted and forgot it)") for s in states)
    assert job.vendor_state.startswith("success in ")
    assert job.vendor_state.endswith("(sent again: ComfyUI restarted and forgot it)")
    assert k.fake.runs == [job.vendor_task_id, job.vendor_task_id]


def test_a_prompt_deleted_while_later_ones_ran_is_not_sent_again(kit):
    k = kit(paused=True)
    job_id = _submitted(k)
    ours = get_job(k.store, job_id).vendor_task_id
    # Someone else queues a prompt after ours, then deletes ours in ComfyUI's window.
    later = httpx.post(k.fake.url + PROMPT, json={"prompt": sample("sample_t2v.json")})
    assert later.json()["number"] > 0
    httpx.post(k.fake.url + "/queue", json={"delete": [ours]})
    job = _resume(k, job_id)
    assert (job.state, job.error_kind, job.vendor_state) == ("failed", "generation_failed", "gone")
    assert "deleted from ComfyUI's queue" in job.error
    assert k.posts() == 2  # ours and theirs; ours not again
    k.fake.resume()


def test_a_forgotten_prompt_the_server_now_refuses_fails_with_its_words(kit):
    k = kit(paused=True)
    job_id = _submitted(k)
    k.fake.restart()
    k.fake.files["vae"] = []  # the user moved the VAE away meanwhile
    job = _resume(k, job_id)
    assert (job.state, job.error_kind, job.vendor_state) == (
        "failed",
        "rejected",
        "refused when sent again",
    )
    assert "vae_name" in job.error
    k.fake.resume()


# ---------------------------------------------------------------- down, then back


def test_while_comfyui_is_down_the_job_says_since_when_and_goes_on_when_back(kit):
    k = kit(paused=True)
    environ = {"TAKESTOCK_COMFYUI_BASE_URL": k.fake.url}
    engine = k.engine(environ=environ)
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("comfyui", T2V)])
    down = re.compile(r"ComfyUI not answering since \d\d:\d\d: retrying")

    async def go() -> Job:
        runner = asyncio.create_task(engine.run([job_id]))
        await _until(lambda: k.fake.count_prompts() == 1, "the prompt was queued")
        environ["TAKESTOCK_COMFYUI_BASE_URL"] = DEAD  # the server goes away
        await _until(
            lambda: sum(bool(down.fullmatch(e.vendor_state or "")) for e in k.events) >= 2,
            "two polls said the server is down",
        )
        environ["TAKESTOCK_COMFYUI_BASE_URL"] = k.fake.url  # ...and comes back
        k.fake.resume()
        [job] = await asyncio.wait_for(runner, 30)
        return job

    job = asyncio.run(go())
    done(k, job)
    said = [e.vendor_state for e in k.events if down.fullmatch(e.vendor_state or "")]
    assert len(set(said)) == 1  # "since" is when it went away, not each poll's time
    assert not any(e.state == "failed" for e in k.events)
    assert k.adapter.listeners.watching == []


def test_a_server_error_is_not_taken_for_a_server_that_is_down(kit):
    k = kit()
    k.server.script("GET", "/history/{id}", *[Fault.status(500, text="Internal Server Error")] * 3)
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)
    assert not any("not answering" in (e.vendor_state or "") for e in k.events)


# ------------------------------------------------------------------- progress


def test_the_running_node_is_named_by_its_title_or_class():
    loop = asyncio.new_event_loop()
    prompt = sample("sample_t2v.json")
    watch = Watch("p", "ws://x", loop)
    assert running_text(prompt, watch) == "running"
    watch.feed({"type": "executing", "data": {"node": "37", "prompt_id": "p"}})
    assert running_text(prompt, watch) == "running Load Diffusion Model (node 37)"
    watch.feed({"type": "progress", "data": {"value": 0, "max": 30, "node": "3", "prompt_id": "p"}})
    assert running_text(prompt, watch) == "running KSampler (node 3)"  # no "0%"
    assert watch.progress is None
    watch.feed(
        {"type": "progress", "data": {"value": 12, "max": 30, "node": "3", "prompt_id": "p"}}
    )
    assert running_text(prompt, watch) == "running KSampler (node 3), step 12/30"
    assert watch.progress == 0.4
    watch.feed({"type": "executing", "data": {"node": "8", "prompt_id": "p"}})
    assert running_text(prompt, watch) == "running VAE Decode (node 8)"  # the steps were 3's
    watch.feed({"type": "executing", "data": {"node": "99", "prompt_id": "other"}})
    assert running_text(prompt, watch) == "running VAE Decode (node 8)"
    assert running_text(None, watch) == "running node 8"  # a handle from before names
    loop.close()


def test_a_handle_without_a_graph_still_polls(kit):
    k = kit(paused=True)
    ctx = k.context(T2V)

    async def go() -> str:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-" + "78" * 16)
        old = TaskHandle(handle.task_id, {"client_id": handle.data["client_id"]})
        status = await k.adapter.poll(ctx, old)
        k.adapter.listeners.stop(handle.task_id)
        await ctx.http.aclose()
        return status.vendor_state

    assert asyncio.run(go()) == "queued"
    k.fake.resume()
