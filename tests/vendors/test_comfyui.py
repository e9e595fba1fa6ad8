"""The ComfyUI adapter through the engine, against the fake ComfyUI server.

There is no official ComfyUI client on PyPI to act as a witness, so the fake follows
ComfyUI's own server.py / execution.py / main.py (see its docstring).
"""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.errors import (
    AuthError,
    RateLimited,
    Rejected,
    TransientError,
)
from takestock.core.jobs import Job, Target, list_jobs
from takestock.core.vendor import GenerationRequest, TaskState
from takestock.vendors.comfyui import (
    client_id_for,
    prompt_id_for,
    vendor_error,
)
from tests.fakeserver import Fault
from tests.vendors.comfyui_kit import (  # noqa: F401 (the fixtures kit and serve_fake)
    HISTORY,
    I2V,
    PROMPT,
    T2V,
    VIDEO,
    VIEW,
    Kit,
    done,
    flf_graph,
    image,
    kit_fixture,
    sample,
    serve_fake_fixture,
    workflow_file,
)


def _flf_overrides(path: Path) -> dict[str, Any]:
    return {
        "comfyui": {
            "models": {
                "flf": {
                    "label": "first and last frame",
                    "modes": ["first_last"],
                    "durations": [3, 5],
                    "resolutions": {"480p": 480},
                    "aspects": ["16:9", "9:16"],
                    "image": {"min_side": 64},
                    "extra": {
                        "workflow": str(path),
                        "fps": 16,
                        "frames_step": 4,
                        "frames_offset": 1,
                    },
                }
            }
        }
    }


# ------------------------------------------------------------------ happy paths


def test_text_to_video_fills_the_marked_inputs_and_ends_in_a_take(kit):
    k = kit()
    request = GenerationRequest(
        "a red fox in snow", negative="blurry", duration_s=3, aspect="9:16", seed=42
    )
    job = k.generate(request)
    done(k, job)
    [body] = k.fake.prompts
    ours = prompt_id_for(job.client_request_id)
    assert str(uuid.UUID(ours)) == ours  # a canonical UUID, as newer servers require
    assert set(body) == {"prompt", "client_id", "prompt_id"}
    assert body["prompt_id"] == ours == job.vendor_task_id
    assert body["client_id"] == client_id_for(ours)
    expected = sample("sample_t2v.json")
    expected["6"]["inputs"]["text"] = "a red fox in snow"
    expected["7"]["inputs"]["text"] = "blurry"
    expected["3"]["inputs"]["seed"] = 42
    expected["55"]["inputs"].update(width=704, height=1280, length=73)  # 3 s x 24 fps, 4k+1
    expected["57"]["inputs"]["fps"] = 24
    # The save node's prefix is made the prompt's own, so its file can be found by name.
    own = f"takestock-{ours.replace('-', '')[:12]}"
    expected["58"]["inputs"]["filename_prefix"] = f"video/{own}"
    assert body["prompt"] == expected  # everything else exactly as the user saved it
    assert job.task_data["seed"] == 42
    assert job.task_data["output_nodes"] == ["58"]
    [view] = k.server.requests_to("GET", VIEW)
    assert view.query == {
        "filename": f"{own}_00001_.mp4",
        "subfolder": "video",
        "type": "output",
    }
    assert job.vendor_state.startswith("success in ")
    assert job.estimate == {"amount": 0.0, "unit": "credits", "money": None, "currency": None}
    assert job.cost_actual is None
    # The progress socket was opened under the prompt's own client id.
    assert client_id_for(ours) in k.fake.ws_clients


def test_without_a_seed_each_take_gets_a_fresh_one(kit):
    k = kit()
    engine = k.engine()
    _, job_ids = engine.enqueue(GenerationRequest("a kite"), [Target("comfyui", T2V)], count=2)
    jobs = asyncio.run(engine.run(job_ids))
    assert [j.state for j in jobs] == ["done", "done"]
    seeds = [body["prompt"]["3"]["inputs"]["seed"] for body in k.fake.prompts]
    assert seeds[0] != seeds[1]  # else ComfyUI's cache would hand back the same video
    assert sorted(seeds) == sorted(j.task_data["seed"] for j in jobs)
    # Left alone: the workflow's own size, length and negative prompt.
    assert k.fake.prompts[0]["prompt"]["55"]["inputs"]["length"] == 121
    assert "blurry, low quality" in k.fake.prompts[0]["prompt"]["7"]["inputs"]["text"]


def test_image_to_video_uploads_the_image_and_names_it_in_loadimage(kit, tmp_path):
    k = kit()
    start = image(tmp_path / "start.png", (720, 1280))
    job = k.generate(GenerationRequest("she turns", image=start, duration_s=2), I2V)
    done(k, job)
    [form] = k.fake.upload_forms
    assert form["content_type"] == "image/png"
    assert form["type"] == "input"
    assert form["overwrite"] == "true"
    assert form["filename"].startswith("takestock-")
    assert form["filename"].endswith(".png")
    [(name, data)] = k.fake.uploads.items()
    assert data == start.read_bytes()  # within the limits: sent unchanged
    [upload] = k.server.requests_to("POST", "/upload/image")
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    graph = k.fake.prompts[0]["prompt"]
    assert graph["56"]["inputs"]["image"] == name
    assert graph["55"]["inputs"]["start_image"] == ["56", 0]
    # No aspect asked: the portrait picture picks 9:16 rather than being cropped.
    assert (graph["55"]["inputs"]["width"], graph["55"]["inputs"]["height"]) == (704, 1280)
    assert graph["55"]["inputs"]["length"] == 49


def test_first_and_last_frame_on_a_users_workflow(kit, tmp_path):
    path = workflow_file(tmp_path, "flf_api.json", flf_graph())
    k = kit(_flf_overrides(path))
    first = image(tmp_path / "a.png", (960, 540))
    last = image(tmp_path / "b.jpg", (960, 540), "JPEG")
    request = GenerationRequest("a sunrise", image=first, last_frame=last, duration_s=5)
    job = k.generate(request, "flf")
    done(k, job)
    assert len(k.fake.upload_forms) == 2
    graph = k.fake.prompts[0]["prompt"]
    uploads = k.fake.uploads
    assert uploads[graph["71"]["inputs"]["image"]] == first.read_bytes()
    assert uploads[graph["72"]["inputs"]["image"]] == last.read_bytes()
    assert graph["72"]["inputs"]["image"].endswith(".jpg")
    flf = graph["70"]["inputs"]
    assert (flf["width"], flf["height"], flf["length"]) == (848, 480, 81)  # 16:9 at 480p


def test_a_video_combine_output_and_an_inputs_map_without_titles(kit, tmp_path):
    graph = sample("sample_t2v.json")
    for node in graph.values():
        node["_meta"]["title"] = node["class_type"]  # no marks at all
    del graph["57"], graph["58"]
    graph["80"] = {
        "class_type": "VHS_VideoCombine",
        "inputs": {
            "images": ["8", 0],
            "frame_rate": 16,
            "filename_prefix": "wan/clip",
            "format": "video/h264-mp4",
        },
    }
    workflow_file(tmp_path, "vhs.json", graph)
    inputs = {
        "prompt": ["6", "text"],
        "seed": ["3", "seed"],
        "length": ["55", "length"],
        "fps": ["80", "frame_rate"],
    }
    vhs = {"durations": [2, 4], "extra": {"workflow": "vhs.json", "inputs": inputs, "fps": 16}}
    over = {"comfyui": {"extra": {"workflows_dir": str(tmp_path)}, "models": {"vhs": vhs}}}
    k = kit(over)
    job = k.generate(GenerationRequest("a boat", duration_s=4, seed=7), "vhs")
    done(k, job)
    sent = k.fake.prompts[0]["prompt"]
    assert sent["55"]["inputs"]["length"] == 4 * 16
    assert sent["80"]["inputs"]["frame_rate"] == 16
    assert sent["3"]["inputs"]["seed"] == 7
    [view] = k.server.requests_to("GET", VIEW)
    assert view.query["filename"].endswith(".mp4")  # the video, not VHS's preview png
    assert view.query["subfolder"] == "wan"


def test_a_request_may_name_its_own_workflow(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["3"]["inputs"]["steps"] = 4
    path = workflow_file(tmp_path, "fast.json", graph)
    k = kit()
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    done(k, job)
    assert k.fake.prompts[0]["prompt"]["3"]["inputs"]["steps"] == 4


def test_a_base_url_under_the_api_prefix_works(kit):
    k = kit()
    k.base = k.fake.url + "/api"
    done(k, k.generate(GenerationRequest("a fox")))
    assert k.server.requests_to("POST", "/api/prompt")
    assert k.server.requests_to("GET", "/api/view")
    assert not k.server.requests_to("POST", "/prompt")


# ------------------------------------------------------------- progress socket


def test_progress_comes_from_the_websocket(kit):
    k = kit(steps=20, step_s=0.03)
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)
    progress = [e.progress for e in k.events if e.state == "running" and e.progress]
    assert progress, "no progress reached the engine"
    assert all(0 < p < 1 for p in progress)
    # The running node by its title (less Takestock's marks) and the sampler's step.
    states = [e.vendor_state for e in k.events if e.vendor_state]
    assert any(s.startswith("running KSampler (node 3), step ") for s in states), states
    assert not any("0%" in s for s in states)


def test_without_a_websocket_the_history_alone_finishes_the_job(kit):
    k = kit(ws_enabled=False, steps=6, step_s=0.03)
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)
    assert not any(e.progress for e in k.events if e.state == "running")
    assert len(k.server.requests_to("GET", "/ws")) <= 3  # it gave up, polling went on


def test_a_socket_that_drops_is_reopened_and_never_needed(kit):
    k = kit(drop_ws_after=1, steps=8, step_s=0.03)
    done(k, k.generate(GenerationRequest("a fox")))
    assert 2 <= len(k.server.requests_to("GET", "/ws")) <= 3


def test_a_listener_ends_with_its_loop_and_restarts_on_the_next(kit):
    k = kit(paused=True)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("comfyui", T2V)])

    async def poll_a_little() -> None:
        runner = asyncio.create_task(engine.run([job_id]))
        for _ in range(500):
            if len(k.adapter.listeners) == 1 and k.fake.ws_clients:
                break
            await asyncio.sleep(0.01)
        assert len(k.adapter.listeners) == 1
        runner.cancel()

    asyncio.run(poll_a_little())  # the loop closes with the listener on it
    [prompt_id] = k.adapter.listeners.watching
    watch = k.adapter.listeners.get(prompt_id)
    assert watch is not None
    assert watch.task is not None
    assert watch.task.done()
    k.fake.resume()
    [job] = asyncio.run(k.engine().run([job_id]))
    done(k, job)
    assert k.fake.ws_clients.count(client_id_for(prompt_id)) == 2


# ------------------------------------------------------------- vendor failures


def test_an_execution_error_fails_with_the_nodes_words(kit):
    k = kit()
    job = k.generate(GenerationRequest("a fox #error"))
    assert (job.state, job.error_kind) == ("failed", "generation_failed")
    assert "in node 3 (KSampler)" in job.error
    assert "out of memory" in job.error
    assert "(OutOfMemoryError)" in job.error
    assert job.vendor_state == "error"
    assert k.adapter.listeners.watching == []


def test_a_partly_valid_prompt_is_taken_back_and_refused(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["90"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["3", 0], "filename_prefix": "x"},
    }
    path = workflow_file(tmp_path, "half.json", graph)
    k = kit(paused=True)
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    assert (job.state, job.error_kind) == ("failed", "rejected")
    assert "node 90 (SaveImage): Return type mismatch" in job.error
    assert k.fake.count_prompts() == 1  # ComfyUI queued it for its valid output...
    assert k.fake.pending_ids() == []  # ...and we took it back before it ran
    [delete] = k.server.requests_to("POST", "/queue")
    assert delete.json == {"delete": [prompt_id_for(job.client_request_id)]}


def test_a_workflow_that_saves_no_video_fails_saying_so(kit, tmp_path):
    graph = sample("sample_t2v.json")
    del graph["57"], graph["58"]
    graph["90"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["8", 0], "filename_prefix": "x"},
    }
    path = workflow_file(tmp_path, "stills.json", graph)
    k = kit()
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    assert (job.state, job.error_kind) == ("failed", "generation_failed")
    own = prompt_id_for(job.client_request_id).replace("-", "")[:12]
    assert f"saved no video (it saved x-{own}_00001_.png)" in job.error


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, "auth", "a proxy in front of it refused us"),
        (403, "auth", "Origin"),
        (404, "rejected", "Is this the address of a ComfyUI server?"),
        (413, "rejected", "--max-upload-size"),
    ],
)
def test_create_time_statuses_map_to_the_error_tree(kit, status, kind, words):
    k = kit()
    k.server.script("POST", PROMPT, Fault.status(status, text="no"))
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", kind)
    assert words in job.error
    assert k.posts() == 1
    assert k.fake.count_prompts() == 0


def test_a_proxys_rate_limit_with_retry_after_is_honoured(kit):
    k = kit()
    k.server.script("POST", PROMPT, Fault.status(429, retry_after=0.3, text="slow down"))
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)
    first, second = k.server.requests_to("POST", PROMPT)
    assert second.at - first.at >= 0.28


def test_a_rate_limit_without_retry_after_backs_off(kit):
    k = kit()
    k.server.script("POST", PROMPT, Fault.status(429), Fault.status(429))
    done(k, k.generate(GenerationRequest("a fox")))
    assert k.posts() == 3


def test_a_server_error_to_a_create_is_looked_up_then_sent_once_more(kit):
    k = kit()
    k.server.script("POST", PROMPT, Fault.status(500, text="Internal Server Error"))
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)  # one prompt at ComfyUI: the lookup found none, so it was safe
    assert k.posts() == 2
    assert k.server.requests_to("GET", HISTORY)[0].path.endswith(
        prompt_id_for(job.client_request_id)
    )


def test_malformed_json_to_a_create_is_looked_up(kit):
    k = kit()
    k.server.script("POST", PROMPT, Fault.malformed_json())
    done(k, k.generate(GenerationRequest("a fox")))
    assert k.posts() == 2


def test_a_create_whose_answer_is_lost_is_found_by_our_prompt_id(kit):
    k = kit()
    k.server.script("POST", PROMPT, Fault.cut_after(0))  # queued; we never hear
    job = k.generate(GenerationRequest("a fox"))
    done(k, job)  # found again: never queued twice
    assert k.posts() == 1
    assert job.vendor_task_id == prompt_id_for(job.client_request_id)


def test_on_a_server_that_ignores_our_id_a_lost_create_is_found_by_client_id(kit):
    k = kit(honour_prompt_id=False, paused=True)
    k.server.script("POST", PROMPT, Fault.cut_after(0))
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("comfyui", T2V)])

    async def go() -> None:
        runner = asyncio.create_task(engine.run([job_id]))
        await asyncio.sleep(0.3)
        k.fake.resume()
        await asyncio.wait_for(runner, 20)

    asyncio.run(go())
    [job] = list_jobs(k.store)
    done(k, job)
    assert k.posts() == 1
    assert job.vendor_task_id == k.fake.runs[0] != prompt_id_for(job.client_request_id)


def test_a_finished_prompt_on_an_old_server_is_found_in_the_recent_history(kit):
    k = kit(honour_prompt_id=False)
    ctx = k.context(T2V)

    async def go() -> Any:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-" + "ab" * 16)
        for _ in range(200):
            if (await k.adapter.poll(ctx, handle)).state.final:
                break
            await asyncio.sleep(0.01)
        found = await k.adapter.find(ctx, "ts-" + "ab" * 16)
        nothing = await k.adapter.find(ctx, "ts-" + "cd" * 16)
        await ctx.http.aclose()
        return handle, found, nothing

    handle, found, nothing = asyncio.run(go())
    assert handle.data["server_chose_id"] is True
    assert found is not None
    assert found.task_id == handle.task_id
    assert nothing is None
    assert k.server.requests_to("GET", "/history")[-1].query == {"max_items": "64"}


def test_server_errors_and_malformed_json_on_polls_are_retried(kit):
    k = kit()
    k.server.script("GET", HISTORY, Fault.status(502), Fault.malformed_json())
    done(k, k.generate(GenerationRequest("a fox")))


def test_a_poll_that_never_makes_sense_fails_with_protocol(kit):
    k = kit()
    k.server.script_always("GET", HISTORY, Fault.malformed_json())
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "protocol")


def test_an_interrupt_from_comfyuis_own_window_cancels_the_job(kit):
    k = kit(steps=50, step_s=0.02)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("comfyui", T2V)])

    async def go() -> Job:
        runner = asyncio.create_task(engine.run([job_id]))
        await asyncio.to_thread(k.fake.wait_running)
        async with httpx.AsyncClient() as http:
            await http.post(k.fake.url + "/interrupt")  # someone pressed Cancel there
        [job] = await asyncio.wait_for(runner, 20)
        return job

    job = asyncio.run(go())
    assert (job.state, job.vendor_state) == ("cancelled", "interrupted")


def test_a_deleted_output_file_fails_as_an_expired_result(kit):
    k = kit()
    k.server.script("GET", VIEW, Fault.status(404, text="Not Found"))
    k.server.script_always("GET", VIEW, Fault.status(404, text="Not Found"))
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "result_expired")
    assert k.fake.count_prompts() == 1
    assert list(k.paths.incoming.iterdir()) == []


def test_a_download_cut_short_resumes_with_a_range_request(kit):
    k = kit()
    k.server.script("GET", VIEW, Fault.cut_after(len(VIDEO) // 2))
    done(k, k.generate(GenerationRequest("a fox")))
    downloads = k.server.requests_to("GET", VIEW)
    assert len(downloads) == 2
    assert downloads[1].headers.get("Range") == f"bytes={len(VIDEO) // 2}-"


def test_a_server_that_is_not_running_fails_saying_so(kit):
    k = kit()
    k.base = "http://127.0.0.1:9"  # nothing listens on the discard port
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "unreachable")
    assert "is it running?" in job.error
    assert k.server.count() == 0


# ------------------------------------------------------- cancel, find, balance


def test_cancel_deletes_a_queued_prompt(kit):
    k = kit(paused=True)
    engine = k.engine()
    _, [job_id] = engine.enqueue(GenerationRequest("a fox"), [Target("comfyui", T2V)])
    [job] = asyncio.run(engine.run([job_id], until="submitted"))
    assert k.fake.pending_ids() == [job.vendor_task_id]
    job = asyncio.run(engine.cancel(job_id))
    assert job.state == "cancelled"
    assert k.fake.pending_ids() == []
    [delete] = k.server.requests_to("POST", "/queue")
    assert delete.json == {"delete": [job.vendor_task_id]}
    assert k.server.requests_to("POST", "/interrupt") == []


def test_cancel_interrupts_only_our_running_prompt(kit):
    k = kit(steps=100, step_s=0.02)
    ctx = k.context(T2V)

    async def go() -> tuple[bool, TaskState, bool]:
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-" + "12" * 16)
        await asyncio.to_thread(k.fake.wait_running)
        cancelled = await k.adapter.cancel(ctx, handle)
        for _ in range(200):
            status = await k.adapter.poll(ctx, handle)
            if status.state.final:
                break
            await asyncio.sleep(0.01)
        again = await k.adapter.cancel(ctx, handle)
        await ctx.http.aclose()
        return cancelled, status.state, again

    cancelled, state, again = asyncio.run(go())
    assert (cancelled, state, again) == (True, TaskState.CANCELLED, False)
    [interrupt] = k.server.requests_to("POST", "/interrupt")
    assert interrupt.json == {"prompt_id": prompt_id_for("ts-" + "12" * 16)}


def test_find_and_balance(kit):
    k = kit(paused=True)
    ctx = k.context(T2V)
    assert k.adapter.can_find is True

    async def go() -> Any:
        before = await k.adapter.find(ctx, "ts-" + "34" * 16)
        handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), "ts-" + "34" * 16)
        queued = await k.adapter.find(ctx, "ts-" + "34" * 16)
        balance = await k.adapter.balance(ctx)
        await ctx.http.aclose()
        return before, handle, queued, balance

    before, handle, queued, balance = asyncio.run(go())
    assert before is None
    assert queued is not None
    assert queued.task_id == handle.task_id
    assert queued.data["client_id"] == handle.data["client_id"]
    assert balance is None


def test_the_queue_position_is_the_vendor_state(kit):
    k = kit(paused=True)
    ctx = k.context(T2V)

    async def go() -> list[str]:
        states = []
        for n in range(3):
            handle = await k.adapter.submit(ctx, GenerationRequest("a fox"), f"ts-{n:032x}")
            states.append((await k.adapter.poll(ctx, handle)).vendor_state)
        for prompt_id in k.adapter.listeners.watching:
            k.adapter.listeners.stop(prompt_id)
        await ctx.http.aclose()
        return states

    assert asyncio.run(go()) == ["queued", "queued, 1 ahead", "queued, 2 ahead"]


def test_the_fake_refuses_what_comfyui_refuses(kit):
    k = kit()
    url = k.fake.url
    no_prompt = httpx.post(url + "/prompt", json={})
    assert no_prompt.status_code == 400
    assert no_prompt.json()["error"]["type"] == "no_prompt"
    bad_id = httpx.post(
        url + "/prompt", json={"prompt": sample("sample_t2v.json"), "prompt_id": "ts-1"}
    )
    assert bad_id.status_code == 400
    no_outputs = httpx.post(
        url + "/prompt",
        json={
            "prompt": {
                "1": {"class_type": "VAELoader", "inputs": {"vae_name": "wan2.2_vae.safetensors"}}
            }
        },
    )
    assert no_outputs.json()["error"]["type"] == "prompt_no_outputs"
    graph = sample("sample_i2v.json")
    unknown_image = httpx.post(url + "/prompt", json={"prompt": graph})
    assert (
        unknown_image.json()["node_errors"]["56"]["errors"][0]["type"] == "custom_validation_failed"
    )
    assert httpx.get(url + "/history/nope").json() == {}
    assert httpx.get(url + "/view", params={"filename": "../etc/passwd"}).status_code == 400
    assert k.fake.count_prompts() == 0  # fmt: skip


def test_images_are_read_once_and_uploaded_by_content(kit, tmp_path):
    k = kit()
    start = image(tmp_path / "start.png", (640, 640))
    engine = k.engine()
    request = GenerationRequest("spin", image=start)
    _, job_ids = engine.enqueue(request, [Target("comfyui", I2V)], count=2)
    jobs = asyncio.run(engine.run(job_ids))
    assert [j.state for j in jobs] == ["done", "done"]
    assert len(k.fake.upload_forms) == 2
    assert len(k.fake.uploads) == 1  # the same bytes, the same name: no pile of copies
    [name] = k.fake.uploads
    assert Image.open(io.BytesIO(k.fake.uploads[name])).size == (640, 640)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, AuthError),
        (429, RateLimited),
        (400, Rejected),
        (404, Rejected),
        (413, Rejected),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_the_error_table(status, kind):
    error = vendor_error(status, "words", retry_after=3.0)
    assert type(error) is kind
    assert (error.vendor, error.vendor_code, error.status) == ("comfyui", str(status), status)
    assert "words" in error.message
    if kind is RateLimited:
        assert error.retry_after == 3.0


def test_a_refusal_keeps_comfyuis_error_type_as_the_code(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["3"]["inputs"]["steps"] = 0  # below KSampler's minimum: ComfyUI's own check
    path = workflow_file(tmp_path, "zero.json", graph)
    k = kit()
    ctx = k.context(T2V)
    request = GenerationRequest("a fox", extra={"workflow": str(path)})

    async def go() -> BaseException:
        try:
            await k.adapter.submit(ctx, request, "ts-" + "56" * 16)
        except Rejected as exc:
            return exc
        finally:
            await ctx.http.aclose()
        raise AssertionError("not refused")

    error = asyncio.run(go())
    assert isinstance(error, Rejected)
    assert (error.vendor_code, error.status) == ("prompt_outputs_failed_validation", 400)
    assert "node 3 (KSampler): Value 0 smaller than min of 1: steps" in str(error)
