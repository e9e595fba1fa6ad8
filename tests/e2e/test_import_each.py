"""``takestock import`` takes each file on its own: a video becomes a whole take, any
other file is refused (exit 2, named) and leaves nothing in the library."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from takestock.cli import main
from tests.e2e.test_bad_input import _damaged_mp4
from tests.e2e.test_quiet_exits import _video

pytestmark = pytest.mark.slow


def _rows(home: Path, table: str) -> int:
    with sqlite3.connect(home / "takestock.sqlite3") as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_good_files_are_imported_and_bad_ones_refused_without_leftovers(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _video(tmp_path)
    damaged = _damaged_mp4(tmp_path / "damaged.mp4")
    pipe = tmp_path / "pipe.mp4"
    os.mkfifo(pipe)
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    code = main(["import", str(damaged), str(good), str(pipe), str(notes), "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    report = json.loads(out)
    [take] = report["takes"]
    assert take["duration_s"] == pytest.approx(0.5, abs=0.05)
    assert sorted(Path(r["path"]).name for r in report["refused"]) == [
        "damaged.mp4",
        "notes.mp4",
        "pipe.mp4",
    ]
    for name in ("damaged.mp4", "notes.mp4", "pipe.mp4"):
        assert name in err
    assert "no picture could be decoded" in err
    assert "not a regular file" in err
    # Exactly the good file is in the library, as one take.
    assert _rows(home, "take") == 1
    media = [p for p in (home / "media").rglob("*") if p.is_file()]
    assert len(media) == 1
    assert media[0].read_bytes() == good.read_bytes()


def test_an_unreadable_video_alone_exits_2_and_stores_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = _damaged_mp4(tmp_path / "zeroed.mp4")
    assert main(["import", str(damaged), "--prompt", "made elsewhere"]) == 2
    assert "zeroed.mp4" in capsys.readouterr().err
    for table in ("take", "request", "prompt"):
        assert _rows(home, table) == 0
    assert not [p for p in (home / "media").rglob("*") if p.is_file()]
