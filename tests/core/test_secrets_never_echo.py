"""A vendor that quotes the caller's key in its error text ("Incorrect API key
provided: sk-…") never gets it echoed: not on stdout or stderr, not in the database
file, not in the log, not in ``jobs --json``. One run per vendor fake, through the CLI.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from takestock import cli
from takestock.core.catalog import load_catalog
from tests.fakeserver import Fault

#: vendor id -> (fake module, fake class). ComfyUI takes no key; the sandbox none either.
FAKES = {
    "fal": ("fake_fal", "FakeFal"),
    "hailuo": ("fake_hailuo", "FakeHailuo"),
    "kling": ("fake_kling", "FakeKling"),
    "luma": ("fake_luma", "FakeLuma"),
    "replicate": ("fake_replicate", "FakeReplicate"),
    "runway": ("fake_runway", "FakeRunway"),
    "seedance": ("fake_seedance", "FakeSeedance"),
    "veo": ("fake_veo", "FakeVeo"),
    "vidu": ("fake_vidu", "ViduFake"),
    "wan": ("fake_wan", "FakeWan"),
    "xai": ("fake_xai", "FakeXai"),
    "bfl": ("fake_bfl", "FakeBfl"),
    "hunyuan": ("fake_hunyuan", "FakeHunyuan"),
    "ltx": ("fake_ltx", "FakeLtx"),
}


def _quoting(key: str) -> dict:
    """A 401 body in the shapes vendors use, each field quoting the key back."""
    said = f"Incorrect API key provided: {key}. You can find your key at the console."
    return {
        "error": {"message": said, "code": "invalid_api_key", "type": "auth"},
        "message": said,
        "detail": said,
        "msg": said,
        "title": said,
        "code": 1002,
        "status": "UNAUTHENTICATED",
        "base_resp": {"status_code": 1004, "status_msg": said},
        "Message": said,
        "Code": "InvalidApiKey",
    }


def _text_model(vendor_id: str) -> str:
    vendor = load_catalog().vendor(vendor_id)
    for model in vendor.models.values():
        if model.status != "retired" and "text" in model.modes:
            return model.id
    raise AssertionError(f"{vendor_id} has no text-to-video model")


def _fake(vendor_id: str):
    module_name, class_name = FAKES[vendor_id]
    module = importlib.import_module(f"tests.vendors.{module_name}")
    fake = getattr(module, class_name)()
    fake.serve()
    return fake


def _url(fake) -> str:
    """Where the adapter's base URL points (some fakes serve under a path prefix)."""
    return fake.base_url if hasattr(type(fake), "base_url") else fake.url


def _generate(home: Path, monkeypatch, vendor_id: str, key: str, capsys):
    fake = _fake(vendor_id)
    server = fake.server
    server.script_always("*", "/*", Fault.status(401, json=_quoting(key)))
    vendor = load_catalog().vendor(vendor_id)
    monkeypatch.setenv(f"{vendor.env_prefix}_BASE_URL", _url(fake))
    monkeypatch.setenv(f"{vendor.env_prefix}_API_KEY", key)
    try:
        code = cli.main(
            ["generate", "--vendor", vendor_id, "--model", _text_model(vendor_id),
             "--prompt", "a red fox in snow", "--wait"]
        )  # fmt: skip
        out = capsys.readouterr()
        assert cli.main(["jobs", "--json"]) == 0
        listed = capsys.readouterr().out
        assert cli.main(["jobs"]) == 0
        lines = capsys.readouterr().out
    finally:
        server.stop()
    return code, out, listed, lines


@pytest.mark.parametrize("vendor_id", sorted(FAKES))
def test_a_key_quoted_back_by_the_vendor_is_nowhere(home, monkeypatch, capsys, vendor_id):
    key = f"sk-{vendor_id}-live-7f3a9c0e5b1d2468"
    code, out, listed, lines = _generate(home, monkeypatch, vendor_id, key, capsys)
    [job] = json.loads(listed)["jobs"]
    assert job["state"] == "failed", job
    assert code == 3
    assert job["error"], "the vendor's words are kept"
    assert "[redacted]" in job["error"], f"{vendor_id} did not quote the key: {job['error']}"
    places = {
        "stdout": out.out,
        "stderr": out.err,
        "jobs --json": listed,
        "jobs": lines,
        "database": (home / "takestock.sqlite3").read_bytes().decode("latin-1"),
        "log": "".join(p.read_text("utf-8") for p in (home / "logs").glob("*.log*")),
    }
    for place, text in places.items():
        assert key not in text, f"{vendor_id}: the key is in the {place}"
    wal = home / "takestock.sqlite3-wal"
    if wal.exists():
        assert key.encode() not in wal.read_bytes()


def test_the_kling_token_signed_from_the_keys_is_scrubbed_too(home, monkeypatch, capsys):
    from tests.vendors.fake_kling import ACCESS_KEY, SECRET_KEY

    fake = _fake("kling")
    sent: list[str] = []

    async def quote_token(request, handler):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        sent.append(token)
        from aiohttp import web

        return web.json_response(
            {"code": 1002, "message": f"token {token} is not valid for this account"}, status=401
        )

    fake.server.script_always(
        "*", "/*", type("Quote", (Fault,), {"apply": staticmethod(quote_token)})()
    )
    monkeypatch.setenv("TAKESTOCK_KLING_BASE_URL", fake.url)
    monkeypatch.setenv("TAKESTOCK_KLING_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("TAKESTOCK_KLING_SECRET_KEY", SECRET_KEY)
    try:
        code = cli.main(
            ["generate", "--vendor", "kling", "--model", "kling-v2-6", "--prompt", "a fox",
             "--duration", "5", "--wait"]
        )  # fmt: skip
        out = capsys.readouterr()
        assert cli.main(["jobs", "--json"]) == 0
        listed = capsys.readouterr().out
    finally:
        fake.server.stop()
    assert code == 3
    assert sent
    token = sent[0]
    db = (home / "takestock.sqlite3").read_bytes().decode("latin-1")
    log = "".join(p.read_text("utf-8") for p in (home / "logs").glob("*.log*"))
    for text in (out.out, out.err, listed, db, log):
        assert token not in text
        assert SECRET_KEY not in text
    assert "[redacted]" in json.loads(listed)["jobs"][0]["error"]


def test_every_vendor_fake_is_covered():
    """A new fake in tests/vendors joins the loop above (or is named here as keyless)."""
    # ComfyUI runs on the user's machine without a key; its node classes are a helper.
    keyless = {"fake_comfyui", "fake_comfyui_nodes"}
    folder = Path(__file__).parents[1] / "vendors"
    fakes = {p.stem for p in folder.glob("fake_*.py")}
    assert fakes == {module for module, _ in FAKES.values()} | keyless
