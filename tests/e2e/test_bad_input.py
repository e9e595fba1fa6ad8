"""Every bad input across the command line gets its documented answer.

A table of bad values times the fields that take them, run in-process through
``takestock.cli.main`` against one seeded library (a take, a job, an account). Each case
must exit 2 (invalid input), print no traceback, log nothing as unexpected, name the
field at fault, and leave the library exactly as it was: the row count of every table,
the files under media/ and the sandbox vendor's own folder, and the catalog overrides.
"""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from takestock.cli import main

pytestmark = pytest.mark.slow

BASE = ["--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "a fox in snow"]
SURROGATE = "bad\udcffbyte"  # what Python makes of an invalid UTF-8 byte in argv


@dataclass(frozen=True)
class Case:
    """One bad input: the argv, the words naming the field, and the setting around it."""

    argv: tuple[str, ...]
    names: str
    env: tuple[tuple[str, str], ...] = ()
    stdin: bytes | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        text = " ".join(self.argv)[:90]
        env = ",".join(f"{k}={v}" for k, v in self.env)
        return ascii(f"{text} {env}".strip())


# ------------------------------------------------------------------ bad files


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width`` x ``height``: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def _damaged_mp4(path: Path) -> Path:
    """An MP4 whose header and index are whole but whose pictures are zeroed out."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for index in range(7):
            frame = av.VideoFrame(64, 36, "yuv420p")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = bytearray(buffer.getvalue())
    at = data.index(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    path.write_bytes(bytes(data))
    return path


def bad_files(folder: Path) -> dict[str, Path]:
    """Files no command may take as an image or a video, by what is wrong with them."""
    folder.mkdir(parents=True, exist_ok=True)
    fifo = folder / "pipe.png"
    os.mkfifo(fifo)
    loop_a, loop_b = folder / "loop-a.png", folder / "loop-b.png"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    (folder / "notes.png").write_text("a shopping list, not a picture\n" * 20)
    (folder / "empty.png").write_bytes(b"")
    Image.new("RGB", (10, 10), "red").save(folder / "tiny.png")
    Image.new("RGB", (3000, 300), "red").save(folder / "banner.png")
    (folder / "a-folder.png").mkdir()
    return {
        "fifo": fifo,
        "folder": folder / "a-folder.png",
        "device": Path(os.devnull),
        "missing": folder / "gone.png",
        "link loop": loop_a,
        "not an image": folder / "notes.png",
        "empty": folder / "empty.png",
        "bomb": _png_header_only(folder / "bomb.png", 20000, 20000),
        "too small": folder / "tiny.png",
        "too wide": folder / "banner.png",
        "dangling link": _dangling(folder),
    }


def _dangling(folder: Path) -> Path:
    link = folder / "dangling.png"
    link.symlink_to(folder / "nowhere.png")
    return link


def bad_videos(folder: Path, files: dict[str, Path]) -> dict[str, Path]:
    videos = {k: v for k, v in files.items() if k not in ("too small", "too wide")}
    videos["still image"] = files["too wide"]
    videos["damaged mp4"] = _damaged_mp4(folder / "damaged.mp4")
    return videos


# ------------------------------------------------------------------ the table

_NOT_NUMBERS = ["abc", "", " ", "1,5", "0x10", "5s", "--", "1e", "½"]
_NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309"]
_HUGE_INTS = [str(2**70), str(-(2**70)), str(2**63)]


def _numbers(extra_bad: list[str]) -> list[str]:
    return _NOT_NUMBERS + _NON_FINITE + extra_bad


def _ints(extra_bad: list[str]) -> list[str]:
    return [*_NOT_NUMBERS, "1.5", "nan", "inf", "1e3", *_HUGE_INTS, *extra_bad]


def cases(files: dict[str, Path], videos: dict[str, Path], image: Path) -> Iterator[Case]:
    good_image = str(image)
    gen_like = (("generate", BASE), ("estimate", BASE))

    # Numbers on generate and estimate.
    for command, base in gen_like:
        for value in _numbers(["-5", "0", "7", "1e-300", "100000000"]):
            yield Case((command, *base, "--duration", value), "duration")
        for value in _ints(["0", "-1", "1001"]):
            yield Case((command, *base, "--count", value), "count")
        for value in _ints(["-1", str(2**32)]):
            yield Case((command, *base, "--seed", value), "seed")
    for value in _numbers(["-5", "0", "-0.001", "1e12"]):
        yield Case(("generate", *BASE, "--timeout", value), "timeout")
        yield Case(("jobs", "resume", "--timeout", value), "timeout")

    # Files where an image is wanted.
    for command, base in gen_like:
        for what, path in files.items():
            yield Case((command, *base, "--image", str(path)), "image", tags=(what,))
            yield Case(
                (command, *base, "--image", good_image, "--last-frame", str(path)),
                "last-frame",
                tags=(what,),
            )
        yield Case((command, *base, "--last-frame", good_image), "image")
        yield Case((command, *base, "--image", SURROGATE), "image")

    # Text that cannot be stored: invalid UTF-8, and limits.
    text_fields = ["--prompt", "--negative", "--aspect", "--resolution", "--account"]
    for command, base in gen_like:
        for option in text_fields:
            for text in (SURROGATE, "\udcff", "ok\udc80"):
                yield Case((command, *base, option, text), option)
        yield Case((command, *base, "--var", f"x={SURROGATE}"), "var")
        yield Case((command, *base, "--extra", f"seed_mode={SURROGATE}"), "extra")
        yield Case((command, "--target", SURROGATE, "--prompt", "x"), "target")
        for prompt in ("", "   ", "x" * 2600):
            yield Case((command, *BASE[:4], "--prompt", prompt), "prompt")
        yield Case((command, *BASE[:4], "--prompt", "a {thing}"), "variables")
        yield Case((command, *base, "--negative", "x" * 5000), "negative")
        yield Case((command, *base, "--aspect", "99:1"), "aspect")
        yield Case((command, *base, "--resolution", "8k"), "resolution")
        yield Case((command, *base, "--var", "no-equals"), "var")
        yield Case((command, *base, "--var", "=x"), "var")
        yield Case((command, *base, "--extra", "no-equals"), "extra")
        yield Case((command, "--vendor", "nobody", "--model", "m", "--prompt", "x"), "vendor")
        yield Case((command, "--vendor", "sandbox", "--model", "nope", "--prompt", "x"), "model")
        yield Case((command, "--vendor", "sandbox", "--prompt", "x"), "model")
        yield Case((command, "--prompt", "x"), "vendor")
        for target in ("nocolon", "sandbox:", ":x", "nobody:m", "sandbox:nope"):
            yield Case((command, "--target", target, "--prompt", "x"), "target|vendor|model")
        yield Case((command, *base, "--account", "nobody"), "account")
        yield Case((command, *base, "--bogus"), "unrecognized")

    # Settings in the environment, refused before anything is stored.
    settings = [
        ("TAKESTOCK_POLL_INTERVAL", "abc"),
        ("TAKESTOCK_POLL_INTERVAL", "nan"),
        ("TAKESTOCK_POLL_INTERVAL", "-1"),
        ("TAKESTOCK_POLL_INTERVAL", "1e309"),
        ("TAKESTOCK_KLING_BASE_URL", "http://[::1"),
        ("TAKESTOCK_KLING_BASE_URL", "not a url"),
        ("TAKESTOCK_KLING_BASE_URL", "ftp://example.test/"),
        ("TAKESTOCK_KLING_BASE_URL", "http://"),
        ("TAKESTOCK_HAILUO_API_KEY", "sk-clé"),
        ("TAKESTOCK_HAILUO_API_KEY", "sk-\u200bzero-width"),
    ]
    for name, value in settings:
        yield Case(("generate", *BASE), name, env=((name, value),))
        yield Case(("jobs", "resume", "--wait"), name, env=((name, value),))

    # Ids: not numbers, out of range, or naming nothing.
    id_commands = [
        ("jobs", "cancel"),
        ("jobs", "retry"),
        ("jobs", "claim-kit"),
        ("rate",),
    ]
    for prefix in id_commands:
        for value in [*_ints(["0", "-1"]), "999999"]:
            names = "take" if prefix == ("rate",) else "job"
            yield Case((*prefix, value), f"{names}|{'take-id' if names == 'take' else 'job-id'}")
    for value in _ints(["0", "-1"]):
        yield Case(("jobs", "attach", value, str(videos["damaged mp4"])), "job-id")
        yield Case(("takes", "--limit", value), "limit")
        yield Case(("export", "--to", "OUT", "--take", value), "take")
        yield Case(("export", "--to", "OUT", "--group", value), "group")
    for what, path in files.items():
        if what not in ("not an image", "empty", "bomb", "too small", "too wide"):
            yield Case(("jobs", "attach", "1", str(path)), "path", tags=(what,))

    # rate: stars and reasons.
    for value in [*_ints(["0", "6", "-1"])]:
        yield Case(("rate", "1", "--stars", value), "stars")
    yield Case(("rate", "1", "--reason", SURROGATE), "reason")
    yield Case(("rate", "1", "--usable", "--reject"), "not allowed")

    # takes: filters.
    for option in ("--vendor", "--model", "--search"):
        yield Case(("takes", option, SURROGATE), option)
    yield Case(("takes", "--verdict", "great"), "verdict")

    # import: every file that is not a video, alone.
    for what, path in videos.items():
        yield Case(("import", str(path)), "path", tags=(what,))
        yield Case(("import", str(path), "--prompt", "made elsewhere"), "path", tags=(what,))
    yield Case(("import", str(videos["damaged mp4"]), "--prompt", SURROGATE), "prompt")
    yield Case(("import", SURROGATE), "path")

    # keys: vendors, fields, and what comes on standard input.
    yield Case(("keys", "set", "nobody"), "vendor", stdin=b"sk-123\n")
    yield Case(("keys", "set", "sandbox"), "vendor", stdin=b"sk-123\n")
    yield Case(("keys", "set", "hailuo", "--field", "nope"), "field", stdin=b"sk-123\n")
    yield Case(("keys", "delete", "nobody"), "vendor")
    yield Case(("keys", "set", SURROGATE), "vendor", stdin=b"sk-123\n")
    for stdin in (
        b"sk-live-0123456789\xff\xfe\n",
        b"\xff\xfe",
        b"sk-\xc3\n",
        b"",
        b"\n\n",
        "sk-clé-0123456789\n".encode(),
        b"sk-tab\there\n",
        "sk-\u200b\n".encode(),
    ):
        yield Case(("keys", "set", "hailuo"), "key", stdin=stdin)

    # accounts and credits.
    for value in _numbers([]):
        yield Case(("accounts", "adjust", "sb", value, "--reason", "x"), "amount")
        yield Case(("accounts", "budget", "sb", "--cap", value), "cap")
        yield Case(("accounts", "observe", "sb", value), "amount")
    yield Case(("accounts", "adjust", "nobody", "5", "--reason", "x"), "account")
    yield Case(("accounts", "add", "nobody", "--name", "x", "--kind", "api"), "vendor")
    yield Case(("accounts", "add", "sandbox", "--name", "x", "--kind", "both"), "kind")
    yield Case(("accounts", "add", "sandbox", "--name", SURROGATE, "--kind", "api"), "name")
    yield Case(("accounts", "close", "nobody"), "account")
    yield Case(("credits", "reconcile", "nobody"), "account")

    # export: dates and destinations.
    for value in ("yesterday", "2026-13-01", "2026-02-30", "", SURROGATE):
        yield Case(("export", "--to", "OUT", "--since", value), "since")
        yield Case(("export", "--to", "OUT", "--until", value), "until")
    yield Case(("export", "--to", SURROGATE), "to")
    yield Case(("export", "--to", "OUT", "--verdict", "great"), "verdict")

    # vendors and the rest.
    yield Case(("vendors", "refresh", "nobody"), "vendor")
    yield Case(("vendors", "refresh", SURROGATE), "vendor")
    yield Case(("paths", "extra"), "unrecognized")
    yield Case(("nonsense",), "invalid choice")
    yield Case(("jobs", "resume", "--bogus"), "unrecognized")


# ------------------------------------------------------------------ the run


def snapshot(home: Path) -> dict[str, object]:
    """What a command could leave behind: every table's row count and the files."""
    with sqlite3.connect(home / "takestock.sqlite3") as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    files = sorted(
        str(p.relative_to(home))
        for folder in ("media", "sandbox", "backups")
        if (home / folder).exists()
        for p in (home / folder).rglob("*")
    )
    overrides = home / "catalog-overrides.json"
    return {
        "rows": counts,
        "files": files,
        "overrides": overrides.read_bytes() if overrides.exists() else None,
    }


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False

    def read(self) -> str:  # what an older reader would do; the CLI must not
        return self.buffer.read().decode("utf-8")


def run(argv: list[str], stdin: bytes | None, capsys: pytest.CaptureFixture[str]) -> int:
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = _Stdin(stdin)  # type: ignore[assignment]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse ends with SystemExit
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved
    return code


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("bad-input")
    home = root / "home"
    mp.setenv("TAKESTOCK_HOME", str(home))
    mp.setenv("TAKESTOCK_SANDBOX_LATENCY", "0")
    mp.setenv("TAKESTOCK_POLL_INTERVAL", "0.05")
    mp.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in list(os.environ):
        if name.startswith("TAKESTOCK_") and name.endswith(("_API_KEY", "_BASE_URL")):
            mp.delenv(name)
    image = root / "first.png"
    Image.new("RGB", (640, 480), (40, 90, 160)).save(image)
    assert main([*("generate", *BASE), "--duration", "1", "--resolution", "360p", "--wait"]) == 0
    assert main(["accounts", "add", "sandbox", "--name", "sb", "--kind", "api"]) == 0
    # Two sandbox accounts now (the first generate made "default"): mark one, so a bad
    # field is what each case is refused for, not the choice of account.
    assert main(["accounts", "default", "sb", "--vendor", "sandbox"]) == 0
    files = bad_files(root / "bad")
    videos = bad_videos(root / "bad", files)
    yield {"home": home, "root": root, "files": files, "videos": videos, "image": image}
    mp.undo()


def test_every_bad_input_exits_2_names_the_field_and_stores_nothing(
    seeded: dict[str, object], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, root = Path(str(seeded["home"])), Path(str(seeded["root"]))
    table = list(cases(seeded["files"], seeded["videos"], Path(str(seeded["image"]))))  # type: ignore[arg-type]
    out_dir = root / "export-out"
    log = home / "logs" / "takestock.log"
    before = snapshot(home)
    log_size = log.stat().st_size
    capsys.readouterr()
    failures: list[str] = []
    tracebacks = wrong_codes = state_written = unnamed = 0
    for case in table:
        argv = [str(out_dir) if a == "OUT" else a for a in case.argv]
        with monkeypatch.context() as env:
            for name, value in case.env:
                env.setenv(name, value)
            code = run(argv, case.stdin, capsys)
        captured = capsys.readouterr()
        text = captured.err + captured.out
        problems = []
        if "Traceback" in text or "unexpected error" in text:
            tracebacks += 1
            problems.append("traceback")
        if code != 2:
            wrong_codes += 1
            problems.append(f"exit {code}")
        words = text.lower().replace("_", "-")
        if not any(n.lower().lstrip("-").replace("_", "-") in words for n in case.names.split("|")):
            unnamed += 1
            problems.append(f"does not name {case.names!r}")
        if "sk-live-0123456789" in text or "sk-clé" in text:
            problems.append("echoed the key")
        after = snapshot(home)
        if after != before or out_dir.exists():
            state_written += 1
            problems.append("state written")
            before = after
        if problems:
            failures.append(f"{case.id} {case.tags}: {', '.join(problems)}\n    {text[-300:]!r}")
    logged = log.read_text(encoding="utf-8", errors="replace")[log_size:]
    print(
        f"\nbad-input suite: {len(table)} cases; {tracebacks} tracebacks, "
        f"{wrong_codes} wrong exit codes, {state_written} wrote state, "
        f"{unnamed} did not name the field"
    )
    assert len(table) >= 500
    assert not failures, f"{len(failures)} of {len(table)} cases:\n" + "\n".join(failures[:80])
    assert "unexpected" not in logged
    assert "Traceback" not in logged


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"[1, 2]", "the top level must be an object"),
        (b'{"sandbox": 5}', "sandbox must be an object"),
        (b'{"sandbox": {"models": {"sandbox-v1": {"durations": "5"}}}}', "sandbox-v1.durations"),
        (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "nested too deeply"),
        (b'{"sandbox": {"name": "\xff"}}', "not UTF-8"),
    ],
)
def test_a_broken_override_file_leaves_every_command_working(
    home: Path, capsys: pytest.CaptureFixture[str], content: bytes, where: str
) -> None:
    home.mkdir(parents=True)
    overrides = home / "catalog-overrides.json"
    overrides.write_bytes(content)
    for argv in (
        ["vendors", "--json"],
        ["takes"],
        ["paths"],
        ["estimate", *BASE],
        ["generate", *BASE],
        ["jobs"],
    ):
        assert main(argv) == 0, argv
        err = capsys.readouterr().err
        assert f"warning: {overrides}" in err, argv
        assert where in err, argv
        assert "Traceback" not in err
    assert overrides.read_bytes() == content
