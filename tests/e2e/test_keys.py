"""`takestock keys` against a real Secret Service; the secret never lands on disk or in output."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_cli import takestock

pytestmark = pytest.mark.slow

SECRET = "sk-live-9f3c2e7a41b0d6e58c"
ACME = {
    "acme": {
        "name": "Acme Video",
        "as_of": "2026-11-25",
        "source": "a test vendor added through the user's catalog overrides",
        "base_urls": {"default": "http://127.0.0.1:9"},
        "models": {"acme-1": {"durations": [5]}},
    }
}


@pytest.fixture
def acme_home(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog-overrides.json").write_text(json.dumps(ACME))
    return home


def _vendor(listing: str) -> dict:
    return next(v for v in json.loads(listing)["vendors"] if v["id"] == "acme")


def test_keys_round_trip_through_the_keyring(acme_home, secret_service):
    stored = takestock("keys", "set", "acme", stdin=SECRET + "\n")
    assert stored.returncode == 0, stored.stderr
    assert SECRET not in stored.stdout + stored.stderr

    listing = takestock("vendors", "--json")
    assert _vendor(listing.stdout)["keys"] == {"api_key": "keyring"}
    assert SECRET not in listing.stdout

    env_wins = takestock("vendors", "--json", env={"TAKESTOCK_ACME_API_KEY": "sk-from-env-123456"})
    assert _vendor(env_wins.stdout)["keys"] == {"api_key": "environment"}

    for path in acme_home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the secret leaked into {path}"

    removed = takestock("keys", "delete", "acme")
    assert removed.returncode == 0
    assert _vendor(takestock("vendors", "--json").stdout)["keys"] == {"api_key": None}


def test_generate_without_a_key_is_refused_before_anything_is_sent(acme_home, secret_service):
    result = takestock("generate", "--vendor", "acme", "--model", "acme-1", "--prompt", "a fox")
    assert result.returncode == 2
    # Acme has a catalog entry but no adapter: it is refused, with nothing stored.
    assert "cannot talk to Acme Video" in result.stderr


def test_an_empty_key_is_refused(acme_home, secret_service):
    result = takestock("keys", "set", "acme", stdin="\n")
    assert result.returncode == 2
    assert "no api key given" in result.stderr


def test_no_keyring_says_what_to_do(acme_home):
    result = takestock(
        "keys", "set", "acme", stdin=SECRET + "\n",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "TAKESTOCK_ACME_API_KEY" in result.stderr
    assert SECRET not in result.stderr
