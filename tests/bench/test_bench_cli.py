"""The command line's start-up, each figure beside its floor measured in the same run.

- ``takestock --version`` and ``takestock jobs`` (empty folder) against ``python -c pass``
  in the same interpreter (targets: <= 8x and <= 15x);
- ``takestock takes --json --limit 50`` on a large library against Python + sqlite3 +
  json running the same SQL (target <= 2x);
- ``takestock takes --vendor kling --verdict usable --search fox`` against the
  ``sqlite3`` shell running the same query (target <= 3x; Python's own floor when the
  shell is missing).

Figures are medians of several runs and are printed, never asserted; the tests assert
only that each command answers and agrees with its floor. Bytecode is cached in a
temporary folder (as an installed app has it) whatever PYTHONDONTWRITEBYTECODE says.

    .venv/bin/python -m pytest -q -s tests/bench/test_bench_cli.py

Sizes: TAKESTOCK_BENCH_TAKES (default 100000), TAKESTOCK_BENCH_RUNS (default 7).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench.test_bench_library import build_library

pytestmark = pytest.mark.bench

TAKES = int(os.environ.get("TAKESTOCK_BENCH_TAKES", "100000"))
RUNS = int(os.environ.get("TAKESTOCK_BENCH_RUNS", "7"))

#: The SQL ``takestock takes`` runs (core/takes.py: iter_takes, _where, _paged).
LISTING = (
    "SELECT take.*, request.prompt AS prompt FROM take"
    " LEFT JOIN request ON request.id = take.request_id"
    " ORDER BY take.created_at DESC, take.id DESC LIMIT 50 OFFSET 0"
)
FILTERED = (
    "SELECT take.*, request.prompt AS prompt FROM take"
    " LEFT JOIN request ON request.id = take.request_id"
    " WHERE take.vendor = 'kling' AND take.verdict = 'usable'"
    " AND request.prompt LIKE '%fox%' ESCAPE '\\'"
    " ORDER BY take.created_at DESC, take.id DESC"
)
#: The floor for the listing: Python, sqlite3 and json doing the same work, no Takestock.
PY_FLOOR = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1]); conn.row_factory = sqlite3.Row
rows = [dict(r) for r in conn.execute(sys.argv[2])]
json.dump({"takes": rows}, sys.stdout, indent=2, ensure_ascii=False)
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("pycache")
    found = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache), "LANG": "C.UTF-8"}
    found.pop("PYTHONDONTWRITEBYTECODE", None)
    found.pop("TAKESTOCK_DATABASE_URL", None)
    return found


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench-cli") / "home"
    build_library(root, TAKES)
    return root


@pytest.fixture(scope="module")
def lines() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    print(f"\nBENCH cli: median of {RUNS}, app and floor alternating; load {_loadavg()}")
    for line in found:
        print(f"BENCH cli: {line}")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # not Linux
        return "unknown"


def _run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    return seconds, done.stdout


def _median(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    _, out = _run(command, env)  # warm the bytecode and file caches
    times = [_run(command, env)[0] for _ in range(RUNS)]
    return statistics.median(times), out


def _paired(app: list[str], floor: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Medians of the app and its floor, run alternately so that load hits both alike."""
    _, app_out = _run(app, env)
    _, floor_out = _run(floor, env)
    app_s, floor_s = [], []
    for _ in range(RUNS):
        app_s.append(_run(app, env)[0])
        floor_s.append(_run(floor, env)[0])
    return statistics.median(app_s), statistics.median(floor_s), app_out, floor_out


def _figure(name: str, app: float, floor: float, floor_name: str, target: str) -> str:
    return (
        f"{name}: {app * 1000:.0f} ms; {floor_name} {floor * 1000:.0f} ms; "
        f"ratio {app / floor:.1f}x (target {target})"
    )


TAKESTOCK = [sys.executable, "-m", "takestock"]
PASS = [sys.executable, "-c", "pass"]


def test_version_and_an_empty_jobs_list(
    tmp_path: Path, env: dict[str, str], lines: list[str]
) -> None:
    empty = {**env, "TAKESTOCK_HOME": str(tmp_path / "empty")}
    app, floor, out, _ = _paired([*TAKESTOCK, "--version"], PASS, empty)
    assert out.startswith("Takestock ")
    lines.append(_figure("--version", app, floor, "python -c pass", "<= 8x"))
    app, floor, out, _ = _paired([*TAKESTOCK, "jobs"], PASS, empty)
    assert out.startswith("No jobs yet")
    lines.append(_figure("jobs, empty folder", app, floor, "python -c pass", "<= 15x"))


def test_listing_fifty_takes_of_a_large_library(
    library: Path, env: dict[str, str], lines: list[str]
) -> None:
    home = {**env, "TAKESTOCK_HOME": str(library)}
    database = str(library / "takestock.sqlite3")
    app, floor, out, floor_out = _paired(
        [*TAKESTOCK, "takes", "--json", "--limit", "50"],
        [sys.executable, "-c", PY_FLOOR, database, LISTING],
        home,
    )
    ids = [t["id"] for t in json.loads(out)["takes"]]
    assert ids == [t["id"] for t in json.loads(floor_out)["takes"]]
    assert len(ids) == 50
    lines.append(
        _figure(
            f"takes --json --limit 50 ({TAKES} takes)",
            app,
            floor,
            "python+sqlite3+json, same SQL",
            "<= 2x",
        )
    )
    lines.append(f"    the library's integrity check, when it runs: {_quick_check_ms(database)}")


def test_a_filtered_listing(library: Path, env: dict[str, str], lines: list[str]) -> None:
    home = {**env, "TAKESTOCK_HOME": str(library)}
    database = str(library / "takestock.sqlite3")
    shell = shutil.which("sqlite3")
    floor_cmd = (
        [shell, database, FILTERED]
        if shell
        else [sys.executable, "-c", PY_FLOOR, database, FILTERED]
    )
    app, floor, out, floor_out = _paired(
        [*TAKESTOCK, "takes", "--vendor", "kling", "--verdict", "usable", "--search", "fox"],
        floor_cmd,
        home,
    )
    shown = [line for line in out.splitlines() if line.startswith("take ")]
    expected = len(floor_out.splitlines()) if shell else len(json.loads(floor_out)["takes"])
    assert len(shown) == expected
    plan = sqlite3.connect(database).execute("EXPLAIN QUERY PLAN " + FILTERED).fetchall()
    lines.append(
        _figure(
            f"takes --vendor kling --verdict usable --search fox ({len(shown)} of {TAKES})",
            app,
            floor,
            "sqlite3 shell, same query" if shell else "python+sqlite3, same query",
            "<= 3x",
        )
    )
    lines.append("    query plan: " + "; ".join(str(row[-1]) for row in plan))


def _quick_check_ms(database: str) -> str:
    conn = sqlite3.connect(database)
    start = time.perf_counter()
    conn.execute("PRAGMA quick_check").fetchall()
    ms = (time.perf_counter() - start) * 1000
    conn.close()
    return f"PRAGMA quick_check {ms:.0f} ms (core/store.py runs it once after each change)"
