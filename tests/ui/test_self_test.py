"""`takestock --self-test` never touches the user's library."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from takestock.core.jobs import ACTIVE_STATES, Target, list_jobs
from takestock.core.vendor import GenerationRequest
from takestock.wiring import open_services

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` and its sha256: the folder, byte for byte."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def users_library(home) -> Path:
    """A library holding a job the user queued and has not run yet."""
    services = open_services()
    try:
        engine = services.engine()
        engine.enqueue(
            GenerationRequest("my own pending shot", duration_s=2, resolution="480p"),
            [Target("sandbox", "sandbox-v1")],
        )
        assert [j.state for j in list_jobs(services.store, states=ACTIVE_STATES)] == ["queued"]
        services.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        services.close()
    return home


def _self_test(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from takestock.self_test import run_self_test; " + (
        f"from pathlib import Path; sys.exit(run_self_test(home=Path({extra[0]!r})))"
        if extra
        else "sys.exit(run_self_test())"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_self_test_leaves_the_users_library_byte_identical(users_library, tmp_path):
    before = _tree(users_library)
    env = dict(os.environ, TAKESTOCK_HOME=str(users_library), QT_QPA_PLATFORM="offscreen")
    env["TAKESTOCK_DATABASE_URL"] = "postgresql://studio.invalid/takestock"  # ignored too
    done = subprocess.run(
        [sys.executable, "-m", "takestock", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = Path(done.stdout.strip().splitlines()[-1])
    assert (out / "library.png").is_file()  # it ran, and rendered, somewhere else
    assert users_library not in out.parents
    assert _tree(users_library) == before


def test_home_names_the_folder_the_self_test_uses(users_library, tmp_path):
    chosen = tmp_path / "self-test-home"
    env = dict(os.environ, TAKESTOCK_HOME=str(users_library), QT_QPA_PLATFORM="offscreen")
    before = _tree(users_library)
    done = _self_test(env, str(chosen))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip().splitlines()[-1]) == chosen / "self-test"
    assert (chosen / "self-test" / "queue.png").is_file()
    assert _tree(users_library) == before
