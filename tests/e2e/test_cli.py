"""The command line end to end with the sandbox vendor, as a script would use it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from takestock.core.media import probe

pytestmark = pytest.mark.slow


def takestock(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def ok_json(*args: str) -> dict:
    result = takestock(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def job_count(home: Path) -> int:
    db = home / "takestock.sqlite3"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM job").fetchone()[0]


def test_generate_wait_rate_and_list(home):
    out = ok_json(
        "generate",
        "--vendor", "sandbox",
        "--model", "sandbox-v1",
        "--prompt", "a paper boat on a {water}",
        "--var", "water=rainy street",
        "--duration", "2",
        "--aspect", "9:16",
        "--resolution", "360p",
        "--audio",
        "--wait",
    )  # fmt: skip
    [job] = out["jobs"]
    assert job["state"] == "done"
    assert job["vendor_task_id"].startswith("sbx-")
    take = job["take"]
    assert take["prompt"] == "a paper boat on a rainy street"
    info = probe(Path(take["path"]))
    assert (info.width, info.height) == (360, 640)
    assert abs(info.duration_s - 2.0) < 0.1
    assert info.has_audio
    assert info.video_codec == "h264"

    rated = ok_json("rate", str(take["id"]), "--usable", "--stars", "4", "--reason", "hands")
    assert (rated["verdict"], rated["stars"], rated["reasons"]) == ("usable", 4, ["hands"])

    listed = ok_json("takes", "--vendor", "sandbox", "--verdict", "usable", "--search", "boat")
    assert [t["id"] for t in listed["takes"]] == [take["id"]]
    for key in ("id", "job_id", "vendor", "model", "path", "sha256", "duration_s", "width",
                "height", "has_audio", "verdict", "stars", "reasons", "prompt"):  # fmt: skip
        assert key in listed["takes"][0]
    assert ok_json("takes", "--verdict", "reject")["takes"] == []
    assert ok_json("takes", "--search", "no such words")["takes"] == []

    jobs = ok_json("jobs")["jobs"]
    for key in ("id", "state", "vendor", "model", "vendor_task_id", "error", "take_id"):
        assert key in jobs[0]


def test_fan_out_to_two_models_is_one_group(home):
    out = ok_json(
        "generate",
        "--target", "sandbox:sandbox-v1",
        "--target", "sandbox:sandbox-v1-hq",
        "--prompt", "a lighthouse at dusk",
        "--duration", "5",
        "--resolution", "720p",
        "--wait",
    )  # fmt: skip
    assert [j["model"] for j in out["jobs"]] == ["sandbox-v1", "sandbox-v1-hq"]
    assert {j["request_id"] for j in out["jobs"]} == {out["request_id"]}
    assert all(j["state"] == "done" for j in out["jobs"])


def test_generate_without_wait_submits_and_resume_finishes(home):
    out = ok_json(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a kite",
        "--duration", "1", "--resolution", "360p",
    )  # fmt: skip
    assert out["jobs"][0]["state"] == "running"
    resumed = ok_json("jobs", "resume", "--wait")
    assert resumed["jobs"][0]["state"] == "done"


def test_a_vendor_failure_exits_3_with_the_vendors_words(home):
    result = takestock(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a fox #fail",
        "--duration", "1", "--resolution", "360p", "--wait", "--json",
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["state"] == "failed"
    assert "on purpose" in job["error"]


def test_a_timeout_exits_4_and_the_job_stays_resumable(home):
    result = takestock(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "slow",
        "--duration", "1", "--resolution", "360p", "--wait", "--timeout", "0.5",
        env={"TAKESTOCK_SANDBOX_LATENCY": "30"},
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "jobs resume" in result.stderr
    assert ok_json("jobs")["jobs"][0]["state"] == "running"


def _unreadable(tmp: Path) -> Path:
    path = tmp / "broken.png"
    path.write_bytes(b"\x89PNG not really")
    return path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--prompt", "   "], "prompt: is empty"),
        (["--prompt", "x" * 2600], "at most 2500"),
        (["--prompt", "a fox", "--duration", "7"], "7 s is not offered"),
        (["--prompt", "a fox", "--resolution", "4k"], "4k is not offered"),
        (["--prompt", "a {thing}"], "no value for thing"),
        (["--prompt", "a fox", "--image", "UNREADABLE"], "cannot be read as an image"),
        (["--prompt", "a fox", "--image", "/no/such/file.png"], "does not exist"),
        (["--prompt", "a fox", "--seed", "-1"], "seed"),
    ],
)
def test_bad_input_exits_2_and_stores_no_job(home, tmp_path, args, words):
    args = [str(_unreadable(tmp_path)) if a == "UNREADABLE" else a for a in args]
    result = takestock("generate", "--vendor", "sandbox", "--model", "sandbox-v1", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in result.stderr
    assert "nothing was submitted" in result.stderr
    assert job_count(home) == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--vendor", "nope", "--model", "x"], "unknown vendor 'nope'"),
        (["--vendor", "sandbox", "--model", "nope"], "no model 'nope'"),
        (["--vendor", "sandbox"], "one --model for each --vendor"),
        (["--target", "sandbox"], "is not VENDOR:MODEL"),
    ],
)
def test_unknown_targets_exit_2(home, args, words):
    result = takestock("generate", *args, "--prompt", "a fox")
    assert result.returncode == 2
    assert words in result.stderr
    assert job_count(home) == 0


def test_an_image_too_small_for_the_model_is_refused(home, tmp_path):
    small = tmp_path / "small.png"
    Image.new("RGB", (200, 120), "teal").save(small)
    result = takestock(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1-hq", "--prompt", "a fox",
        "--image", str(small),
    )  # fmt: skip
    assert result.returncode == 2
    assert "at least 300 px" in result.stderr


def test_image_to_video_uses_the_image(home, tmp_path):
    image = tmp_path / "start.jpg"
    Image.new("RGB", (640, 360), (250, 20, 20)).save(image)
    out = ok_json(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "",
        "--image", str(image), "--duration", "1", "--resolution", "360p", "--wait",
    )  # fmt: skip
    assert out["jobs"][0]["state"] == "done"


def test_import_existing_files(home, tmp_path):
    made = ok_json(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "to import",
        "--duration", "1", "--resolution", "360p", "--wait",
    )["jobs"][0]["take"]  # fmt: skip
    copy = tmp_path / "from-the-website.mp4"
    copy.write_bytes(Path(made["path"]).read_bytes())
    out = ok_json(
        "import", str(copy), "--vendor", "kling", "--model", "kling-v2-6", "--prompt", "web take"
    )
    [take] = out["takes"]
    assert take["vendor"] == "kling"
    assert take["prompt"] == "web take"
    assert copy.exists()  # the user's file stays where it was

    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    result = takestock("import", str(text))
    assert result.returncode == 2  # invalid input: the file is not a video
    assert "notes.mp4" in result.stderr


def test_vendors_lists_models_and_limits(home):
    out = ok_json("vendors")
    sandbox = next(v for v in out["vendors"] if v["id"] == "sandbox")
    assert sandbox["sandbox"] is True
    assert sandbox["key_set"] is True
    assert {m["id"] for m in sandbox["models"]} == {"sandbox-v1", "sandbox-v1-hq"}
    human = takestock("vendors")
    assert "no key needed (sandbox)" in human.stdout


def test_cancel_a_running_job(home):
    result = takestock(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "cancel me",
        "--duration", "1", "--resolution", "360p", "--json",
        env={"TAKESTOCK_SANDBOX_LATENCY": "30"},
    )  # fmt: skip
    job = json.loads(result.stdout)["jobs"][0]
    cancelled = ok_json("jobs", "cancel", str(job["id"]))
    assert cancelled["state"] == "cancelled"
    again = takestock("jobs", "cancel", str(job["id"]))
    assert again.returncode == 2


def test_version_and_help():
    result = takestock("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("Takestock ")
    assert "generate" in takestock("--help").stdout


def test_a_retired_vendor_keeps_its_models_but_refuses_new_takes(home):
    sora = next(v for v in ok_json("vendors")["vendors"] if v["id"] == "sora")
    assert {m["status"] for m in sora["models"]} == {"retired"}
    assert sora["supported"] is False
    result = takestock("generate", "--vendor", "sora", "--model", "sora-2", "--prompt", "a fox")
    assert result.returncode == 2
    assert "retired 'sora-2'" in result.stderr


def test_paths_names_the_data_folder(home):
    out = ok_json("paths")
    assert out["data"] == str(home.resolve())
    assert out["catalog_overrides"].endswith("catalog-overrides.json")
