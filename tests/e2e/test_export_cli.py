"""``takestock export`` end to end: the sandbox's takes to a folder, an editor and Eagle."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.core.fake_eagle import FakeEagle
from tests.core.test_export_files import validate_fcpxml
from tests.core.test_export_names import name_problems
from tests.e2e.test_cli import ok_json, takestock

pytestmark = pytest.mark.slow

PLANTED = {
    "TAKESTOCK_KLING_API_KEY": "sk-kling-PLANTED-4d1f0e9a7b",
    "TAKESTOCK_FAL_API_KEY": "fal-PLANTED-77aa55cc33ee",
    "TAKESTOCK_EAGLE_TOKEN": "eagle-PLANTED-token-0042",
}
EXTRA_SECRET = "sk-extra-PLANTED-999888777"


def generate(prompt: str, *extra: str) -> dict:
    return ok_json(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", prompt,
        "--duration", "1", "--resolution", "360p", "--wait", *extra,
    )  # fmt: skip


@pytest.fixture
def library(home, tmp_path):
    """Two groups of sandbox takes on an account, rated; a tag on the first prompt."""
    added = takestock(
        "accounts", "add", "sandbox", "--name", "play", "--kind", "api", "--plan", "free"
    )
    assert added.returncode == 0, added.stderr
    boats = generate(
        "a paper boat on a {water}", "--var", "water=rainy street", "--count", "2",
        "--account", "play", "--extra", f"api_key={EXTRA_SECRET}",
    )  # fmt: skip
    fox = generate("a red fox in snow")
    boat_ids = sorted(j["take_id"] for j in boats["jobs"])
    fox_id = fox["jobs"][0]["take_id"]
    ok_json("rate", str(boat_ids[0]), "--usable", "--stars", "5", "--reason", "light")
    ok_json("rate", str(fox_id), "--usable")
    with sqlite3.connect(home / "takestock.sqlite3") as db:
        db.execute("INSERT INTO tag(name) VALUES ('ocean')")
        db.execute(
            "INSERT INTO prompt_tag SELECT pv.prompt_id, tag.id FROM request"
            " JOIN prompt_version pv ON pv.id = request.prompt_version_id, tag"
            " WHERE request.id = ? AND tag.name = 'ocean'",
            (boats["request_id"],),
        )
    return {"boats": boat_ids, "fox": fox_id, "group": boats["request_id"], "home": home}


def export(*args: str, env: dict[str, str] | None = None):
    return takestock("export", *args, env=env)


def exported_ids(out: dict) -> list[int]:
    return [t["take_id"] for t in out["takes"]]


def test_usable_takes_go_to_a_folder_with_an_fcpxml_and_an_edl(library, tmp_path):
    target = tmp_path / "Picks"
    result = export(
        "--to", str(target), "--verdict", "usable", "--fcpxml", "--edl", "--name", "Picks",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert exported_ids(out) == [library["boats"][0], library["fox"]]  # oldest first
    assert out["count"] == 2
    assert out["eagle"] is None
    files = sorted(p.name for p in target.iterdir())
    assert files == sorted(
        [
            f"a paper boat on a {{water}}_sandbox_sandbox-v1_{library['boats'][0]}.mp4",
            f"a paper boat on a {{water}}_sandbox_sandbox-v1_{library['boats'][0]}.json",
            f"a red fox in snow_sandbox_sandbox-v1_{library['fox']}.mp4",
            f"a red fox in snow_sandbox_sandbox-v1_{library['fox']}.json",
            "Picks.csv",
            "Picks.fcpxml",
            "Picks.edl",
        ]
    )
    assert all(not name_problems(n) for n in files)
    boat = json.loads(Path(out["takes"][0]["sidecar"]).read_text("utf-8"))
    assert boat["account"] == "play"
    assert boat["prompt"] == "a paper boat on a {water}"
    assert boat["parameters"]["prompt"] == "a paper boat on a rainy street"
    assert boat["cost"]["estimate"]["unit"] == "credits"
    assert boat["cost"]["actual"]["amount"] == boat["cost"]["estimate"]["amount"]
    assert (boat["verdict"], boat["stars"], boat["reasons"]) == ("usable", 5, ["light"])
    fox = json.loads(Path(out["takes"][1]["sidecar"]).read_text("utf-8"))
    # No --account: the vendor's only account pays (never a hidden one).
    assert fox["account"] == "play"
    assert fox["cost"]["actual"]["amount"] == fox["cost"]["estimate"]["amount"]

    root = validate_fcpxml((target / "Picks.fcpxml").read_text("utf-8"))
    assert len(root.findall("library/event/asset-clip")) == 2
    [timeline] = otio.adapters.read_from_string(
        (target / "Picks.fcpxml").read_text("utf-8"), "fcpx_xml"
    )
    assert [c.name for c in timeline.find_clips()] == [Path(t["file"]).stem for t in out["takes"]]
    edl = otio.adapters.read_from_file(str(target / "Picks.edl"), "cmx_3600", rate=24)
    video = next(t for t in edl.tracks if t.kind == otio.schema.TrackKind.Video)
    assert [c.name for c in video.find_clips()] == [Path(t["file"]).name for t in out["takes"]]


def test_takes_are_picked_by_group_tag_id_and_date(library, tmp_path):
    def picked(*args: str) -> list[int]:
        result = export("--to", str(tmp_path / "x"), *args, "--json")
        assert result.returncode == 0, result.stderr
        return exported_ids(json.loads(result.stdout))

    assert picked("--group", str(library["group"])) == library["boats"]
    assert picked("--tag", "OCEAN") == library["boats"]
    assert picked("--take", str(library["fox"]), "--take", str(library["boats"][1])) == [
        library["fox"],
        library["boats"][1],
    ]
    assert picked("--since", "2000-01-01", "--until", "2999-12-31", "--verdict", "unrated") == [
        library["boats"][1]
    ]


BAD_INPUT = [
    (["--verdict", "usable", "--to", "{tmp}/no/such/parent"], "does not exist"),
    (["--to", "{tmp}/out"], "say which takes"),
    (["--to", "{tmp}/out", "--verdict", "reject"], "no takes match"),
    (["--to", "{tmp}/out", "--since", "yesterday"], "not a date"),
    (["--to", "{tmp}/out", "--take", "9999"], "no take 9999"),
    (["--to", "{tmp}/a-file", "--verdict", "usable"], "is a file"),
    (["--to", "{tmp}/out", "--since", "2030-01-02", "--until", "2030-01-01"], "not after"),
]


def test_bad_input_exits_2_and_writes_nothing(library, tmp_path):
    # One library for all the cases: building one costs seconds.
    (tmp_path / "a-file").write_text("x")
    for args, words in BAD_INPUT:
        result = export(*(a.replace("{tmp}", str(tmp_path)) for a in args))
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr, args
        assert "nothing was exported" in result.stderr
        assert not (tmp_path / "out").exists()
    usage = export("--verdict", "usable")  # --to missing: argparse's own exit 2
    assert usage.returncode == 2
    assert "--to" in usage.stderr


def test_picks_are_pushed_into_eagle(library, tmp_path, fake_server):
    eagle = FakeEagle()
    srv = fake_server(eagle.routes())
    result = export(
        "--to", str(tmp_path / "out"), "--verdict", "usable", "--eagle",
        "--eagle-folder", "AI picks", "--json",
        env={"TAKESTOCK_EAGLE_BASE_URL": srv.url},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["eagle"]["added"] == 2
    assert out["eagle"]["folder"]["name"] == "AI picks"
    assert [Path(i["path"]) for i in eagle.items] == [Path(t["file"]) for t in out["takes"]]
    assert eagle.items[0]["tags"] == [
        "sandbox",
        "sandbox-v1",
        "usable",
        "5 stars",
        "light",
        "ocean",
    ]
    assert eagle.items[0]["annotation"].startswith("a paper boat on a {water}")
    assert [f["name"] for f in eagle.folders] == ["AI picks"]


def test_eagle_not_running_exits_3_before_writing_anything(library, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = export(
        "--to", str(tmp_path / "out"), "--verdict", "usable", "--eagle",
        env={"TAKESTOCK_EAGLE_BASE_URL": f"http://127.0.0.1:{port}"},
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "Eagle is not running" in result.stderr
    assert "Open the Eagle app" in result.stderr
    assert not (tmp_path / "out").exists()


def test_no_secret_from_the_environment_or_the_request_reaches_the_export(
    library, tmp_path, fake_server
):
    eagle = FakeEagle(token=PLANTED["TAKESTOCK_EAGLE_TOKEN"])
    srv = fake_server(eagle.routes())
    target = tmp_path / "out"
    result = export(
        "--to", str(target), "--group", str(library["group"]), "--fcpxml", "--edl", "--eagle",
        "--json",
        env={**PLANTED, "TAKESTOCK_EAGLE_BASE_URL": srv.url},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(eagle.items) == 2  # the token worked
    secrets = [*PLANTED.values(), EXTRA_SECRET]
    written = [p for p in target.iterdir() if p.is_file()]
    assert len(written) == 2 * 2 + 3
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{secret} in {path.name}"
    for stream in (result.stdout, result.stderr):
        for secret in secrets:
            assert secret not in stream
    for item in eagle.items:
        assert EXTRA_SECRET not in json.dumps(item)
