"""``takestock --self-test --home DIR`` runs in DIR and leaves the user's library alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_self_test_renders_every_screen_into_the_folder_named(tmp_path: Path) -> None:
    users = tmp_path / "users-library"
    chosen = tmp_path / "chosen"
    env = {**os.environ, "TAKESTOCK_HOME": str(users), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "takestock", "--self-test", "--home", str(chosen)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = Path(done.stdout.strip().splitlines()[-1])
    assert out == chosen / "self-test"
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(
        ["prompts", "generate", "queue", "library", "credits", "compare", "arena", "settings"]
    )
    assert (chosen / "takestock.sqlite3").exists()  # its library is kept there
    assert not users.exists()  # TAKESTOCK_HOME was never touched
