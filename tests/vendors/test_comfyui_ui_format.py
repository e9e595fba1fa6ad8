"""Workflows saved the normal way (ComfyUI's UI format) are read with the server's node
classes, as ComfyUI's own front end does when it queues them.

``comfyui_data/wan22_ti2v_t2v_ui.json`` is the shipped text-to-video sample as ComfyUI's
front end (1.28) saves it: widget values in ``widgets_values``, links as rows, a
"control after generate" value after the seed, a Reroute, a PrimitiveNode driving the
steps, a bypassed LoRA loader whose file the server lacks, a muted preview, a note and
a markdown note, and ``properties.models`` on the loaders.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from takestock.core.errors import InvalidInput
from takestock.core.jobs import Target
from takestock.core.vendor import GenerationRequest
from takestock.vendors.comfyui import prompt_id_for
from takestock.vendors.comfyui_convert import ui_to_api
from tests.vendors.comfyui_kit import (  # noqa: F401 (the fixtures kit and serve_fake)
    T2V,
    VIDEO,
    Kit,
    done,
    kit_fixture,
    sample,
    serve_fake_fixture,
    workflow_file,
)

UI_FILE = Path(__file__).parent / "comfyui_data" / "wan22_ti2v_t2v_ui.json"


def _ui() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(UI_FILE.read_text(encoding="utf-8"))
    return data


def _info(k: Kit) -> dict[str, Any]:
    info: dict[str, Any] = httpx.get(k.fake.url + "/object_info").json()
    return info


def _expected() -> dict[str, Any]:
    """The sample in the API format, as Export (API) would write the UI file."""
    graph = sample("sample_t2v.json")
    graph["48"]["inputs"]["shift"] = 8.000000000000002  # as the UI saved the float
    return graph


def _overrides(path: Path) -> dict[str, Any]:
    entry = {
        "label": "Wan 2.2 5B from a saved workflow",
        "modes": ["text"],
        "durations": [2, 3],
        "resolutions": {"720p": 704},
        "aspects": ["16:9", "9:16"],
        "extra": {"workflow": str(path), "fps": 24, "frames_step": 4, "frames_offset": 1},
    }
    return {"comfyui": {"models": {"saved": entry}}}


def test_a_saved_workflow_converts_as_comfyuis_front_end_does(kit):
    k = kit()
    graph, files = ui_to_api("saved.json", _ui(), _info(k))
    assert graph == _expected()
    # Through the details: the bypassed LoRA passes its model input on, the Reroute is
    # followed, the PrimitiveNode gives the steps, the seed's "randomize" is skipped.
    assert graph["3"]["inputs"]["model"] == ["48", 0]
    assert graph["8"]["inputs"]["vae"] == ["39", 0]
    assert (graph["3"]["inputs"]["seed"], graph["3"]["inputs"]["steps"]) == (0, 30)
    assert {"62", "63", "59", "60", "61", "64"}.isdisjoint(graph)
    assert files["umt5_xxl_fp8_e4m3fn_scaled.safetensors"]["folder"] == "text_encoders"
    assert files["wan2.2_vae.safetensors"]["url"].endswith(
        "/split_files/vae/wan2.2_vae.safetensors"
    )


def test_a_saved_workflow_generates_a_take(kit, tmp_path):
    path = workflow_file(tmp_path, "saved.json", _ui())
    k = kit(_overrides(path))
    job = k.generate(GenerationRequest("a red kite", duration_s=2, aspect="9:16", seed=3), "saved")
    done(k, job)
    sent = k.fake.prompts[0]["prompt"]
    expected = _expected()
    expected["6"]["inputs"]["text"] = "a red kite"
    expected["3"]["inputs"]["seed"] = 3
    expected["55"]["inputs"].update(width=704, height=1248, length=49)  # 9:16 at 704, 16k
    expected["57"]["inputs"]["fps"] = 24
    own = prompt_id_for(job.client_request_id).replace("-", "")[:12]
    expected["58"]["inputs"]["filename_prefix"] = f"video/takestock-{own}"
    assert sent == expected
    # Only the node classes it runs were asked about: not the bypassed LoRA loader.
    asked = {r.path.rsplit("/", 1)[-1] for r in k.server.requests_to("GET", "/object_info/{c}")}
    assert "LoraLoaderModelOnly" not in asked
    assert "UNETLoader" in asked


def test_a_saved_workflow_missing_files_names_them_with_their_download(kit, tmp_path):
    path = workflow_file(tmp_path, "saved.json", _ui())
    k = kit(_overrides(path))
    k.fake.files["vae"] = []
    job = k.generate(GenerationRequest("a red kite"), "saved")
    assert (job.state, job.error_kind) == ("failed", "invalid_input")
    assert (
        "vae_name wan2.2_vae.safetensors → ComfyUI/models/vae/ (download: https://huggingface.co/"
        "Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files/vae/wan2.2_vae.safetensors)"
    ) in job.error
    assert "lora" not in job.error  # the bypassed loader's file is not needed
    assert k.posts() == 0


def test_a_saved_workflow_with_a_custom_node_the_server_lacks_is_refused(kit, tmp_path):
    data = _ui()
    [sampler] = [n for n in data["nodes"] if n["id"] == 3]
    sampler["type"] = "KSamplerAdvancedEfficient"
    path = workflow_file(tmp_path, "saved.json", data)
    k = kit(_overrides(path))
    job = k.generate(GenerationRequest("a red kite"), "saved")
    assert job.error_kind == "invalid_input"
    assert "node KSamplerAdvancedEfficient is not installed" in job.error
    assert k.posts() == 0


def test_marks_are_checked_before_anything_is_sent(kit, tmp_path):
    data = _ui()
    for node in data["nodes"]:
        node.pop("title", None)
    path = workflow_file(tmp_path, "saved.json", data)
    k = kit(_overrides(path))
    with pytest.raises(InvalidInput) as refused:
        k.engine().enqueue(GenerationRequest("x", seed=1), [Target("comfyui", "saved")])
    assert refused.value.field == "prompt"
    assert k.server.count() == 0


def test_widget_values_by_name_links_as_objects_and_muted_sources():
    info = {
        "Loader": {"input": {"required": {"ckpt_name": [["a.safetensors"]]}}},
        "Encode": {
            "input": {"required": {"clip": ["CLIP"], "text": ["STRING", {"multiline": True}]}},
            "input_order": {"required": ["clip", "text"]},
            "display_name": "Encode Text",
        },
        "Pick": {"input": {"required": {"tags": ["STRING", {}]}}},
    }
    data = {
        "nodes": [
            {
                "id": 1,
                "type": "Loader",
                "mode": 0,
                "widgets_values": {"ckpt_name": "a.safetensors"},
            },
            {
                "id": 2,
                "type": "Encode",
                "mode": 0,
                "inputs": [{"name": "clip", "type": "CLIP", "link": 7}],
                "widgets_values": ["hello"],
            },
            {"id": 3, "type": "Loader", "mode": 2, "widgets_values": ["a.safetensors"]},
            {
                "id": 4,
                "type": "Encode",
                "mode": 0,
                "inputs": [{"name": "clip", "type": "CLIP", "link": 8}],
                "widgets_values": ["muted source"],
            },
            {"id": 5, "type": "Pick", "mode": 0, "widgets_values": [["x", "y"]]},
        ],
        "links": [
            {"id": 7, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": 0},
            {"id": 8, "origin_id": 3, "origin_slot": 0, "target_id": 4, "target_slot": 0},
        ],
        "version": 1,
    }
    graph, _ = ui_to_api("small.json", data, info)
    assert graph["1"]["inputs"] == {"ckpt_name": "a.safetensors"}
    assert graph["2"] == {
        "inputs": {"text": "hello", "clip": ["1", 0]},
        "class_type": "Encode",
        "_meta": {"title": "Encode Text"},
    }
    assert "3" not in graph
    assert graph["4"]["inputs"] == {"text": "muted source"}  # its link went to a muted node
    assert graph["5"]["inputs"] == {"tags": {"__value__": ["x", "y"]}}  # not read as a link


def test_subgraphs_are_refused_before_anything_is_sent(kit, tmp_path):
    data = copy.deepcopy(_ui())
    subgraph = "5b1e0c3d-7a21-4f6e-9a44-9f5d3a0e2c7b"
    data["definitions"] = {"subgraphs": [{"id": subgraph, "nodes": [], "links": []}]}
    data["nodes"].append({"id": 70, "type": subgraph, "mode": 0, "inputs": [], "outputs": []})
    path = workflow_file(tmp_path, "nested.json", data)
    k = kit(_overrides(path))
    with pytest.raises(InvalidInput) as refused:  # found offline: the CLI exits 2
        k.engine().enqueue(GenerationRequest("a red kite"), [Target("comfyui", "saved")])
    assert refused.value.field == "workflow"
    assert "Unpack Subgraph" in str(refused.value)
    assert k.server.count() == 0


def test_refresh_lists_a_saved_workflow_from_the_workflows_folder(kit, tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    workflow_file(folder, "Boat UI.json", _ui())
    k = kit({"comfyui": {"extra": {"workflows_dir": str(folder)}}})
    changes = asyncio.run(k.engine().refresh_models("comfyui"))
    assert changes is not None
    assert "boat-ui" in changes["added"]
    entry = json.loads(k.paths.catalog_overrides.read_text())["comfyui"]["models"]["boat-ui"]
    assert entry["status"] == "active"
    assert entry["modes"] == ["text"]
    assert entry["extra"]["fps"] == 24


@pytest.mark.slow
def test_the_cli_generates_from_a_saved_workflow_and_names_missing_files(
    home, serve_fake, tmp_path
):
    fake = serve_fake()
    path = workflow_file(tmp_path, "saved.json", _ui())
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog-overrides.json").write_text(json.dumps(_overrides(path)))
    env = {**os.environ, "TAKESTOCK_COMFYUI_BASE_URL": fake.url}
    args = [sys.executable, "-m", "takestock", "generate", "--vendor", "comfyui"]
    made = subprocess.run(
        [*args, "--model", "saved", "--prompt", "a paper boat", "--wait", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    [job] = json.loads(made.stdout)["jobs"]
    assert Path(job["take"]["path"]).read_bytes() == VIDEO
    fake.files["text_encoders"] = []
    refused = subprocess.run(
        [*args, "--model", T2V, "--prompt", "a paper boat", "--wait"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert (
        "clip_name umt5_xxl_fp8_e4m3fn_scaled.safetensors → ComfyUI/models/text_encoders/"
    ) in refused.stdout + refused.stderr
    assert fake.count_prompts() == 1
