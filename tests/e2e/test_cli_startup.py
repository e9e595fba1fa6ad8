"""What the command line loads before it answers: import facts, not timings.

Each command imports only what it uses: ``--version`` and ``--help`` no core at all, and
the commands that neither talk to a vendor nor read media (``jobs``, ``takes``, ``rate``,
``credits``, ``accounts``, ``paths``) neither httpx nor PyAV, Pillow, Qt or the keyring.
Seen from a fresh interpreter's ``-X importtime`` list, as a user's shell would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from takestock import cli_credits, cli_parser
from takestock.cli import main
from takestock.core import budgets, estimates, takes
from takestock.core.paths import DataPaths
from takestock.core.store import open_store

#: Packages no listing command may load (each costs tens of milliseconds).
HEAVY = ("httpx", "av", "PIL", "PySide6", "keyring", "asyncio")


def _loaded(args: list[str], home: Path) -> tuple[int, set[str], str]:
    """(exit code, every module imported, stdout) of ``takestock ARGS`` in a new process."""
    env = {**os.environ, "TAKESTOCK_HOME": str(home)}
    env.pop("TAKESTOCK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return done.returncode, modules, done.stdout


def _tops(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.mark.parametrize(
    "args",
    [
        ["jobs"],
        ["jobs", "--json"],
        ["takes", "--json", "--limit", "50"],
        ["takes", "--vendor", "kling", "--verdict", "usable", "--search", "fox"],
        ["credits"],
        ["accounts"],
        ["paths"],
    ],
    ids=lambda a: " ".join(a),
)
def test_listing_commands_load_no_vendor_or_media_stack(args: list[str], home: Path) -> None:
    code, modules, _ = _loaded(args, home)
    assert code == 0
    assert "takestock.core.store" in modules  # it did open the library
    assert not _tops(modules) & set(HEAVY), sorted(_tops(modules) & set(HEAVY))
    assert "takestock.core.jobs" not in modules  # the engine stays out too


def test_rate_loads_no_vendor_or_media_stack(home: Path) -> None:
    paths = DataPaths(home).ensure()
    store = open_store(paths.database)
    with store.tx() as conn:
        conn.execute(
            "INSERT INTO take(id, vendor, model, sha256, path, size_bytes, duration_s, width,"
            " height, fps, video_codec, has_audio, verdict, reasons, notes, source, created_at)"
            " VALUES (1, 'sandbox', 'sandbox-v1', 'ab', 'ab/ab.mp4', 1, 2.0, 64, 36, 24.0,"
            " 'h264', 0, 'unrated', '[]', '', 'imported', 1.0)"
        )
    store.close()
    code, modules, out = _loaded(["rate", "1", "--usable", "--stars", "4"], home)
    assert code == 0, out
    assert "take 1: usable, 4 stars" in out
    assert not _tops(modules) & set(HEAVY)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["jobs", "--help"]])
def test_version_and_help_answer_without_the_core(args: list[str], home: Path) -> None:
    code, modules, out = _loaded(args, home)
    assert code == 0
    assert out.strip()
    if args == ["--version"]:
        assert out.startswith("Takestock ")
    assert not any(m.startswith("takestock.core") for m in modules), sorted(
        m for m in modules if m.startswith("takestock.core")
    )
    assert not home.exists()  # nothing was made on disk either


def test_top_level_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listed = capsys.readouterr().out
    for name in cli_parser.COMMANDS:
        assert f"    {name} " in listed, name


#: One argument of each subcommand, seen in its help only if its parser was built.
ONE_ARGUMENT = {
    "generate": "--prompt",
    "estimate": "--count",
    "jobs": "claim-kit",
    "takes": "--search",
    "rate": "--stars",
    "import": "paths",
    "vendors": "refresh",
    "keys": "delete",
    "paths": "--json",
    "accounts": "budget",
    "credits": "reconcile",
    "export": "--eagle-folder",
}


def test_every_command_is_checked_below() -> None:
    assert set(ONE_ARGUMENT) == set(cli_parser.COMMANDS)


@pytest.mark.parametrize("name", sorted(ONE_ARGUMENT))
def test_each_command_has_its_arguments_when_named(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the named subcommand's arguments are built: each one's own help is whole."""
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: takestock {name} ")
    assert ONE_ARGUMENT[name] in text


def test_the_estimate_command_keeps_generates_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["estimate", "--help"])
    text = capsys.readouterr().out
    for option in ("--prompt", "--vendor", "--duration", "--count"):
        assert option in text
    assert "--wait" not in text


def test_a_mistyped_command_is_refused_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["jbos"])
    assert done.value.code == 2
    assert "invalid choice: 'jbos'" in capsys.readouterr().err


def test_home_needs_self_test(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--home", str(tmp_path), "jobs"])
    assert done.value.code == 2
    assert "--home" in capsys.readouterr().err


def test_the_grammars_constants_are_the_cores() -> None:
    assert cli_parser.VERDICTS == takes.VERDICTS
    assert cli_parser.BUDGET_PERIODS == budgets.BUDGET_PERIODS


def test_every_command_names_a_function_that_exists() -> None:
    import importlib

    for name, (module, function) in cli_parser.COMMANDS.items():
        assert callable(getattr(importlib.import_module(module), function)), name


def test_tracked_accounts_read_as_the_estimates_do(tmp_path: Path) -> None:
    store = open_store(DataPaths(tmp_path).ensure().database)
    with store.tx() as conn:
        for account in (1, 2):
            conn.execute(
                "INSERT INTO account(id, vendor, name, kind, unit, created_at)"
                " VALUES (?, 'sandbox', ?, 'api', 'credits', 0)",
                (account, f"a{account}"),
            )
        conn.execute(
            "INSERT INTO credit_bucket(account_id, kind, label, amount, granted_at)"
            " VALUES (2, 'top_up', 'x', 5, 0)"
        )
    assert cli_credits._tracked_accounts(store) == estimates.tracked_accounts(store) == {2}
    store.close()
