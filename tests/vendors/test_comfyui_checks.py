"""The ComfyUI adapter's checks: what the workflow marks and the catalog allows (offline,
before anything is stored), what the server lacks (before anything is queued), what
``vendors refresh`` finds, and the command line over them. Against the fake server."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from takestock.core.catalog import load_catalog
from takestock.core.errors import (
    InvalidInput,
)
from takestock.core.jobs import Target, list_jobs
from takestock.core.vendor import GenerationRequest
from takestock.vendors.comfyui import (
    ComfyUIAdapter,
    frame_count,
)
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
from tests.vendors.fake_comfyui import NodeClass


def test_missing_model_files_are_refused_naming_each_and_its_folder(kit):
    k = kit()
    k.fake.files["diffusion_models"] = ["other.safetensors"]
    k.fake.files["text_encoders"] = []
    job = k.generate(GenerationRequest("a fox"))
    assert (job.state, job.error_kind) == ("failed", "invalid_input")
    assert job.error.startswith("workflow: this ComfyUI server cannot run")
    assert (
        "unet_name wan2.2_ti2v_5B_fp16.safetensors → ComfyUI/models/diffusion_models/"
        " (download: https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/"
    ) in job.error
    assert (
        "clip_name umt5_xxl_fp8_e4m3fn_scaled.safetensors → ComfyUI/models/text_encoders/"
    ) in job.error
    assert "vae_name" not in job.error  # the server has that one
    assert "nothing was queued" in job.error
    assert k.posts() == 0
    assert k.fake.uploads == {}
    # Only the node classes the workflow uses were asked about.
    asked = {r.path.rsplit("/", 1)[-1] for r in k.server.requests_to("GET", "/object_info/{c}")}
    assert asked == {n["class_type"] for n in sample("sample_t2v.json").values()}


def test_a_missing_file_of_an_unknown_loader_is_placed_by_the_model_lists(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["37"] = {
        "class_type": "WanVideoLoader",
        "inputs": {"model": "wan-kijai.safetensors"},
        "_meta": {"title": "Load Wan (custom)"},
    }
    path = workflow_file(tmp_path, "kijai.json", graph)
    k = kit()
    k.fake.nodes["WanVideoLoader"] = NodeClass({"model": "@diffusion_models"}, ("MODEL",))
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    assert job.error_kind == "invalid_input"
    # Its input offers exactly what /models/diffusion_models lists: that is the folder.
    assert "model wan-kijai.safetensors → ComfyUI/models/diffusion_models/" in job.error
    assert k.server.requests_to("GET", "/models")
    assert k.posts() == 0


def test_a_missing_custom_node_is_refused_before_anything_is_sent(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["48"]["class_type"] = "WanVideoModelLoader"
    k = kit()
    k.fake.files["vae"] = []
    path = workflow_file(tmp_path, "custom.json", graph)
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    assert (job.state, job.error_kind) == ("failed", "invalid_input")
    assert "node WanVideoModelLoader is not installed" in job.error
    assert "vae_name wan2.2_vae.safetensors → ComfyUI/models/vae/" in job.error  # both at once
    assert k.posts() == 0


# ----------------------------------------------------------------- validation


def _refusals(tmp: Path) -> list[tuple[str, GenerationRequest, str, str]]:
    frame = image(tmp / "frame.png", (640, 360))
    tiny = image(tmp / "tiny.png", (32, 32))
    ui = workflow_file(tmp, "ui.json", {"nodes": [], "links": [], "version": 0.4})
    broken = tmp / "broken.json"
    broken.write_text("{ nope")
    blank = sample("sample_t2v.json")
    for node in blank.values():
        node["_meta"]["title"] = ""
    blank_path = workflow_file(tmp, "blank.json", blank)
    bare = copy.deepcopy(blank)
    bare["6"]["_meta"]["title"] = "takestock:prompt"
    bare_path = workflow_file(tmp, "bare.json", bare)
    marked = {"workflow": str(bare_path)}
    odd = sample("sample_t2v.json")
    odd["3"]["_meta"]["title"] = "takestock:colour"
    odd_path = workflow_file(tmp, "odd.json", odd)
    r = GenerationRequest
    return [
        (T2V, r("x", duration_s=7), "duration", "use 2, 3, 4, 5"),
        (T2V, r("x", resolution="480p"), "resolution", "use 720p"),
        (T2V, r("x", aspect="4:3"), "aspect", "use 16:9, 9:16, 1:1"),
        (T2V, r("x" * 5001), "prompt", "at most 5000"),
        (T2V, r("x", audio=True), "audio", "makes no audio"),
        (T2V, r("x", image=frame), "mode", "does not do image to video"),
        (I2V, r("x"), "mode", "does not do text to video"),
        (I2V, r("x", image=tiny), "image", "at least 64 px"),
        (T2V, r("x", extra={"workflow": str(tmp / "missing.json")}), "workflow", "cannot be read"),
        (T2V, r("x", extra={"workflow": str(ui)}), "workflow", "with no nodes"),
        (T2V, r("x", extra={"workflow": str(broken)}), "workflow", "not valid JSON"),
        (T2V, r("x", extra={"workflow": "rel.json"}), "workflow", "no workflows_dir"),
        (T2V, r("x", extra={"workflow": str(odd_path)}), "workflow", "unknown field 'colour'"),
        (T2V, r("x", extra={"workflow": str(blank_path)}), "prompt", "takestock:prompt"),
        (T2V, r("", extra=marked), "prompt", "is empty"),
        (T2V, r("x", negative="n", extra=marked), "negative", "takestock:negative"),
        (T2V, r("x", seed=1, extra=marked), "seed", "takestock:seed"),
        (T2V, r("x", duration_s=3, extra=marked), "duration", "takestock:length"),
        (T2V, r("x", aspect="1:1", extra=marked), "resolution", "takestock:width"),
        (I2V, r("x", image=frame, extra=marked), "image", "takestock:image"),
    ]  # fmt: skip


def test_every_limit_and_missing_mark_is_refused_before_anything_is_sent(kit, tmp_path):
    k = kit()
    engine = k.engine()
    for model, request, field_name, words in _refusals(tmp_path):
        with pytest.raises(InvalidInput) as refused:
            engine.enqueue(request, [Target("comfyui", model)])
        assert refused.value.field == field_name, (model, request.extra, refused.value)
        assert words in str(refused.value), (model, str(refused.value))
    assert list_jobs(k.store) == []
    assert k.server.count() == 0


def test_a_model_without_fps_cannot_take_a_duration(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["57"]["_meta"]["title"] = "Create Video"
    graph["57"]["inputs"]["fps"] = ["99", 0]  # linked: no literal to read
    path = workflow_file(tmp_path, "nofps.json", graph)
    over = {"comfyui": {"models": {"nofps": {"durations": [5], "extra": {"workflow": str(path)}}}}}
    k = kit(over)
    with pytest.raises(InvalidInput, match=r"set extra\.fps"):
        k.engine().enqueue(GenerationRequest("x", duration_s=5), [Target("comfyui", "nofps")])


def test_frame_counts_follow_the_models_rule():
    catalog = load_catalog()
    model = catalog.model("comfyui", T2V)
    assert [frame_count(s, 24, model) for s in (2, 3, 4, 5)] == [49, 73, 97, 121]
    ltx = replace(model, extra={"frames_step": 8, "frames_offset": 1})
    assert [frame_count(s, 24, ltx) for s in (2, 5)] == [49, 121]
    plain = replace(model, extra={})
    assert frame_count(2.5, 16, plain) == 40


def test_estimates_are_free():
    catalog = load_catalog()
    adapter = ComfyUIAdapter(catalog.vendor("comfyui"))
    estimate = adapter.estimate(GenerationRequest("x", duration_s=5), catalog.model("comfyui", T2V))
    assert (estimate.amount, estimate.money) == (0.0, None)


# --------------------------------------------------------------- list models


def test_refresh_lists_the_workflows_this_server_can_run(kit, tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    workflow_file(folder, "My FLF.json", flf_graph())
    custom = sample("sample_t2v.json")
    custom["48"]["class_type"] = "WanVideoModelLoader"
    workflow_file(folder, "kijai.json", custom)
    (folder / "notes.json").write_text('{"nodes": [], "links": []}')  # UI format: skipped
    k = kit({"comfyui": {"extra": {"workflows_dir": str(folder)}}})
    k.fake.files["vae"] = []
    changes = asyncio.run(k.engine().refresh_models("comfyui"))
    assert changes is not None
    assert (changes["added"], changes["updated"], changes["retired"]) == (
        ["my-flf", "kijai"],
        [T2V, I2V],  # now retired: this server lacks their VAE
        [],
    )
    overrides = json.loads(k.paths.catalog_overrides.read_text())["comfyui"]["models"]
    for model_id in (T2V, I2V, "my-flf"):
        assert overrides[model_id]["status"] == "retired"
        note = overrides[model_id]["status_note"]
        assert "vae_name wan2.2_vae.safetensors → ComfyUI/models/vae/" in note, note
    assert "node WanVideoModelLoader is not installed" in overrides["kijai"]["status_note"]
    flf = overrides["my-flf"]
    assert flf["modes"] == ["image", "first_last"]
    assert flf["extra"]["workflow"] == str((folder / "My FLF.json").resolve())
    assert flf["durations"] == [2, 3, 4, 5, 6, 8, 10]
    # The user downloads the VAE and refreshes: the workflows are offered again.
    k.fake.files["vae"] = ["wan2.2_vae.safetensors"]
    k.catalog = load_catalog(k.paths.catalog_overrides)
    k.adapter = ComfyUIAdapter(k.catalog.vendor("comfyui"))
    asyncio.run(k.engine().refresh_models("comfyui"))
    catalog = load_catalog(k.paths.catalog_overrides)
    assert catalog.model("comfyui", "my-flf").status == "active"
    assert catalog.model("comfyui", T2V).status == "active"


# ------------------------------------------------------------------------ CLI


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_generates_refreshes_and_refuses(home, serve_fake, tmp_path):
    fake = serve_fake()
    env = {"TAKESTOCK_COMFYUI_BASE_URL": fake.url}
    result = _cli(
        "generate", "--vendor", "comfyui", "--model", T2V, "--prompt", "a paper boat",
        "--duration", "2", "--seed", "9", "--wait", "--json", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "done"
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    assert fake.prompts[0]["prompt"]["3"]["inputs"]["seed"] == 9

    refused = _cli(
        "generate", "--vendor", "comfyui", "--model", T2V, "--prompt", "a boat",
        "--duration", "7", env=env,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "7 s is not offered" in refused.stderr
    assert fake.count_prompts() == 1

    folder = tmp_path / "flows"
    folder.mkdir()
    workflow_file(folder, "loop.json", sample("sample_t2v.json"))
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog-overrides.json").write_text(
        json.dumps({"comfyui": {"extra": {"workflows_dir": str(folder)}}})
    )
    refreshed = _cli("vendors", "refresh", "comfyui", "--json", env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    changes = json.loads(refreshed.stdout)
    assert (changes["added"], changes["retired"]) == (["loop"], [])
    assert {T2V, I2V} <= {*changes["updated"], *changes.get("unchanged", [])}
    listed = _cli("vendors", "--json", env=env)
    [comfy] = [v for v in json.loads(listed.stdout)["vendors"] if v["id"] == "comfyui"]
    assert "loop" in [m["id"] for m in comfy["models"]]
    assert comfy["key_set"] is True  # nothing to set


def test_a_choice_the_server_does_not_offer_is_named_with_what_it_offers(kit, tmp_path):
    graph = sample("sample_t2v.json")
    graph["3"]["inputs"]["sampler_name"] = "res_multistep"  # newer than this server
    graph["58"]["inputs"]["format"] = "webm"  # a combo listed the newer way
    path = workflow_file(tmp_path, "newer.json", graph)
    k = kit()
    job = k.generate(GenerationRequest("a fox", extra={"workflow": str(path)}))
    assert job.error_kind == "invalid_input"
    assert "KSampler sampler_name res_multistep (it offers euler, uni_pc, dpmpp_2m)" in job.error
    assert "SaveVideo format webm (it offers auto, mp4)" in job.error
    assert "models/" not in job.error
    assert k.posts() == 0


@pytest.mark.slow
def test_the_cli_exits_2_naming_a_missing_model_file(home, serve_fake):
    fake = serve_fake()
    fake.files["text_encoders"] = []
    result = _cli(
        "generate", "--vendor", "comfyui", "--model", T2V, "--prompt", "a paper boat",
        "--duration", "2", "--wait", env={"TAKESTOCK_COMFYUI_BASE_URL": fake.url},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "umt5_xxl_fp8_e4m3fn_scaled.safetensors → ComfyUI/models/text_encoders/" in (
        result.stdout + result.stderr
    )
    assert fake.count_prompts() == 0
