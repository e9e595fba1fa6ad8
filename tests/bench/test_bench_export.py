"""Export of 1,000 takes: how long it takes, and that every name is valid and unique.

Titles are chosen to be hard: Windows device names (``CON``, ``aux.final``), every
character Windows forbids, control and bidi characters, NFD text, titles that differ
only in case, long CJK and emoji titles, empty ones; vendors and models with ``/``.
Every name must pass the three systems' rules (see ``tests.core.test_export_names``),
and no two may collide on a case-insensitive, normalisation-insensitive file system
(macOS, Windows). Prints figures; asserts behaviour only (timings vary by machine).

Run: ``pytest -q -s tests/bench/test_bench_export.py``; ``TAKESTOCK_BENCH_EXPORT_TAKES``
sets the count (default 1000).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import opentimelineio as otio
import pytest

from takestock.core.export import (
    ExportOptions,
    Selection,
    export_takes,
    frame_rate,
    select_takes,
    timeline_rate,
)
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from tests.core.test_export_files import validate_fcpxml
from tests.core.test_export_names import name_problems
from tests.fakeserver.media import tiny_mp4

pytestmark = pytest.mark.bench

TAKES = int(os.environ.get("TAKESTOCK_BENCH_EXPORT_TAKES", "1000"))
SEED = 20261126

HARD_TITLES = [
    "CON", "con", "Con", "aux.final", "NUL .mov", "COM1", "lpt9.take", "COM¹",
    'who: "me"? <yes>|no*', "a/b\\c", "tab\there\nnewline", "bell\x07nul\x00",
    "abc\u202egnp.exe", "cafe\u0301", "café", "CAFÉ", "...dots...", "   ", "", "-rf",
    "一只狐狸在雪中奔跑，" * 20, "👩\u200d🚀" * 80, "é" * 300, "x" * 400 + ".", "Ω" * 127,
    "A paper boat", "a paper boat", "A PAPER BOAT",
]  # fmt: skip
VENDORS = {
    "kling": ["kling-v2", "kling-v2.1-master"],
    "fal": ["fal-ai/kling-video/v2.1/master", "fal-ai/veo3"],
    "replicate": ["minimax/video-01", "wan-video/wan-2.1-t2v-480p"],
    "hailuo": ["MiniMax-Hailuo-02"],
    "veo": ["veo-3.0-generate-001"],
}
RATES = [24.0, 25.0, 29.97002997002997, 30.0, 16.0, 23.976023976023978, 60.0]


def build(root: Path, count: int) -> Store:
    """``count`` takes with real (tiny, distinct) files, hard titles, several rates."""
    rng = random.Random(SEED)
    paths = DataPaths(root).ensure()
    store = open_store(paths.database)
    base = tiny_mp4()
    now = time.time()
    with store.tx() as conn:
        for n in range(1, count + 1):
            title = rng.choice(HARD_TITLES) if rng.random() < 0.7 else f"take number {n % 37}"
            conn.execute(
                "INSERT INTO prompt(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (n, title, now, now),
            )
            conn.execute(
                "INSERT INTO prompt_version(id, prompt_id, number, text, created_at)"
                " VALUES (?, ?, 1, ?, ?)",
                (n, n, f"prompt {n}: {title}", now),
            )
            conn.execute(
                "INSERT INTO request(id, prompt_version_id, prompt, params, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (n, n, f"prompt {n}", json.dumps({"duration_s": 5}), now),
            )
            data = base + n.to_bytes(4, "big")
            sha = hashlib.sha256(data).hexdigest()
            file = paths.media / sha[:2] / f"{sha}.mp4"
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
            vendor = rng.choice(list(VENDORS))
            conn.execute(
                "INSERT INTO take(id, request_id, vendor, model, sha256, path, size_bytes,"
                " duration_s, width, height, fps, video_codec, has_audio, verdict, stars,"
                " reasons, created_at) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, 1280, 720, ?, 'h264', ?, 'usable', ?, ?, ?)",
                (
                    n,
                    n,
                    vendor,
                    rng.choice(VENDORS[vendor]),
                    sha,
                    f"{sha[:2]}/{sha}.mp4",
                    len(data),
                    rng.choice((5.0, 5.005, 6.0, 10.0, 10.01)),
                    rng.choice(RATES),
                    rng.randint(0, 1),
                    rng.choice((None, 3, 5)),
                    json.dumps(rng.sample(["hands", "flicker", "a, b"], rng.randint(0, 2))),
                    now + n,
                ),
            )
    return store


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    root = tmp_path_factory.mktemp("bench-export") / "home"
    store = build(root, TAKES)
    yield root, store
    store.close()


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def test_bench_export_1000_takes(library, tmp_path):
    root, store = library
    media = DataPaths(root).media
    started = time.perf_counter()
    takes = select_takes(store, media, Selection(verdict="usable"))
    select_s = time.perf_counter() - started
    assert len(takes) == TAKES

    figures = []
    for label, options in (
        ("hardlink", ExportOptions(name="bench")),
        ("copy", ExportOptions(name="bench", link=False)),
        ("hardlink+fcpxml+edl", ExportOptions(name="bench", fcpxml=True, edl=True)),
    ):
        folder = tmp_path / label
        started = time.perf_counter()
        result = export_takes(store, takes, folder, options)
        elapsed = time.perf_counter() - started
        figures.append(f"{label} {elapsed:.2f} s ({elapsed / TAKES * 1000:.2f} ms/take)")
        names = [p.name for p in folder.iterdir()]
        assert len(names) == 2 * TAKES + 1 + (1 + 2 if options.fcpxml else 0)
        bad = {n: name_problems(n) for n in names if name_problems(n)}
        assert not bad, list(bad.items())[:5]
        assert len({_key(n) for n in names}) == len(names), "names collide on macOS/Windows"
        # Windows counts a path in UTF-16 units; the folder here is short enough for all.
        longest_path = max(len(str(folder / n).encode("utf-16-le")) // 2 for n in names)
        assert longest_path <= 259
        longest_name = max(len(n.encode("utf-8")) for n in names)
        assert longest_name <= 255
        assert {t.how for t in result.takes} == {"copy" if not options.link else "hardlink"}
        if options.fcpxml:
            text = result.fcpxml.read_text("utf-8")
            started = time.perf_counter()
            root_element = validate_fcpxml(text)
            validate_s = time.perf_counter() - started
            assert len(root_element.findall("library/event/asset-clip")) == TAKES
            started = time.perf_counter()
            [timeline] = otio.adapters.read_from_string(text, "fcpx_xml")
            otio_s = time.perf_counter() - started
            assert len(list(timeline.find_clips())) == TAKES
            rate = float(timeline_rate(frame_rate(t.fps) for t in takes))
            edl_clips = sum(
                len(list(otio.adapters.read_from_file(str(p), "cmx_3600", rate=rate).find_clips()))
                for p in result.edls
            )
            # With sound, an event is on the video and both audio tracks.
            with_audio = sum(t.has_audio for t in takes)
            assert edl_clips == TAKES + 2 * with_audio
            assert len(result.edls) == -(-TAKES // 999)
            figures.append(
                f"FCPXML {len(text) / 1e6:.1f} MB, DTD+checks {validate_s:.2f} s, "
                f"OTIO read {otio_s:.2f} s; {len(result.edls)} EDLs at {rate:.3f} fps"
            )
        figures.append(f"longest name {longest_name} B, longest path {longest_path} chars")
    # Exporting the same takes into the same folder again reuses every file.
    started = time.perf_counter()
    again = export_takes(store, takes, tmp_path / "hardlink", ExportOptions(name="bench"))
    figures.append(f"re-export {time.perf_counter() - started:.2f} s")
    assert {t.how for t in again.takes} == {"existing"}
    print(f"\nBENCH export: takes={TAKES}; select {select_s:.2f} s; " + "; ".join(figures))
