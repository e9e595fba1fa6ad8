"""``keys set`` takes any bytes on standard input and never shows the key back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KEY = b"sk-live-SECRET-0123456789"


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        (KEY + b"\xff\xfe\n", "byte 26 is not UTF-8"),
        (b"\xff" + KEY + b"\n", "byte 1 is not UTF-8"),
        (KEY + "é".encode() + b"\n", "character 26 of the key is not plain ASCII"),
        (KEY + b"\x07\n", "character 26 of the key"),
    ],
)
def test_a_key_that_is_not_plain_text_is_refused_unseen(
    home: Path, stdin: bytes, words: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "takestock", "keys", "set", "hailuo"],
        input=stdin,
        capture_output=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    err = result.stderr.decode("utf-8", "replace")
    assert words in err
    assert "Traceback" not in err
    for shown in (result.stdout, result.stderr):
        assert b"SECRET" not in shown
    log = (home / "logs" / "takestock.log").read_bytes()
    assert b"SECRET" not in log
