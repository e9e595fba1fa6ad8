"""A closed pipe, Ctrl+C, and faults of the computer end the CLI quietly and truly."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import av
import pytest

from takestock import cli
from takestock.cli import main
from takestock.core import takes as takes_module

pytestmark = pytest.mark.slow


def _run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run with stdout a pipe whose reader is already gone (``| head -0``), so the
    first write fails for certain, not by a race with ``head``."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "takestock", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


def test_a_closed_pipe_ends_quietly_with_141(home: Path) -> None:
    assert main(["generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a"]) == 0
    assert main(["import", str(_video(home.parent))]) == 0
    for args in (("jobs",), ("jobs", "--json"), ("takes",), ("takes", "--json"), ("paths",)):
        result = _run_into_closed_pipe(*args)
        assert result.returncode == 141, (args, result.stderr)
        assert result.stderr == b"", args  # no traceback, no message
    log = (home / "logs" / "takestock.log").read_text()
    assert "unexpected" not in log
    assert "BrokenPipe" not in log


def _video(folder: Path) -> Path:
    """A real, tiny H.264 MP4."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for index in range(12):
            frame = av.VideoFrame(64, 36, "yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    path = folder / "good.mp4"
    path.write_bytes(buffer.getvalue())
    return path


def test_ctrl_c_ends_with_130_and_no_traceback(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kw: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "iter_takes", interrupted)
    assert main(["takes"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "Interrupted."
    assert "unexpected" not in (home / "logs" / "takestock.log").read_text()


@pytest.mark.parametrize(
    ("fault", "exit_code", "title"),
    [
        (sqlite3.OperationalError("database or disk is full"), 5, "Disk full"),
        (OSError(errno.ENOSPC, "No space left on device"), 5, "Disk full"),
        (OSError(errno.EROFS, "Read-only file system"), 5, "read-only"),
        (OSError(errno.EACCES, "Permission denied"), 5, "No permission"),
    ],
)
def test_a_fault_of_the_computer_is_said_as_such_never_as_damage(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: Exception,
    exit_code: int,
    title: str,
) -> None:
    assert main(["takes"]) == 0  # the library exists and is healthy

    def refuse(*args: object, **kw: object) -> object:
        raise fault

    monkeypatch.setattr(takes_module, "insert_take", refuse)
    video = _video(home.parent)
    capsys.readouterr()
    assert main(["import", str(video)]) == exit_code
    err = capsys.readouterr().err
    assert title in err
    assert "damaged" not in err
    assert "backup" not in err
    assert "Nothing in the library was changed" in err
    assert not [p for p in (home / "media").rglob("*.mp4")]  # no orphan file
    assert main(["takes"]) == 0


def test_a_full_disk_at_open_is_not_called_damage(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["takes"]) == 0
    from takestock.core import store as store_module

    real_connect = store_module._connect

    class FullConnection:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self._conn = conn

        def execute(self, sql: str, *args: object) -> object:
            if "quick_check" in sql:
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(self._conn, name)

    monkeypatch.setattr(store_module, "_connect", lambda path: FullConnection(real_connect(path)))
    capsys.readouterr()
    assert main(["takes"]) == 5
    err = capsys.readouterr().err
    assert "Disk full" in err
    assert "damaged" not in err
    assert "backups" not in err


def test_a_read_only_data_folder_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the injected EROFS case covers it")
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o555)
    monkeypatch.setenv("TAKESTOCK_HOME", str(home))
    assert main(["takes"]) == 5
    assert "read-only" in capsys.readouterr().err


def test_takestock_home_naming_a_file_is_invalid_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for home in (blocker, blocker / "below"):
        monkeypatch.setenv("TAKESTOCK_HOME", str(home))
        assert main(["takes"]) == 2
        err = capsys.readouterr().err
        assert "TAKESTOCK_HOME" in err
        assert "is a file" in err
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "inf"])
def test_a_malformed_poll_interval_is_named(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("TAKESTOCK_POLL_INTERVAL", value)
    args = ["generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a"]
    assert main(args) == 2
    assert "TAKESTOCK_POLL_INTERVAL" in capsys.readouterr().err
    assert not (home / "takestock.sqlite3").exists() or _jobs(home) == 0
    assert main(["takes"]) == 0  # commands that do not poll still work


def _jobs(home: Path) -> int:
    with sqlite3.connect(home / "takestock.sqlite3") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM job").fetchone()[0])


def test_a_disk_that_fills_mid_download_says_so_and_the_job_resumes(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from takestock.core.library import MediaLibrary

    real_ingest = MediaLibrary.ingest

    def full(self: MediaLibrary, source: Path, **kw: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(source))

    monkeypatch.setattr(MediaLibrary, "ingest", full)
    args = ["generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a fox"]
    assert main([*args, "--duration", "1", "--resolution", "360p", "--wait"]) == 5
    err = capsys.readouterr().err
    assert "Disk full" in err
    assert "Traceback" not in err
    assert "Logging error" not in err
    assert _states(home) == ["downloading"]  # kept, to resume once there is room

    monkeypatch.setattr(MediaLibrary, "ingest", real_ingest)
    assert main(["jobs", "resume", "--wait"]) == 0
    assert _states(home) == ["done"]
    log = (home / "logs" / "takestock.log").read_text()
    assert "unexpected" not in log


def _states(home: Path) -> list[str]:
    with sqlite3.connect(home / "takestock.sqlite3") as conn:
        return [r[0] for r in conn.execute("SELECT state FROM job ORDER BY id")]
