"""Export: videos, sidecars and CSV; FCPXML and EDL read back by independent readers.

The FCPXML is validated with lxml against a DTD written here for exactly the elements
an export emits. Apple's own FCPXML DTD cannot be shipped: Apple publishes it (in the
FCPXML reference and inside Final Cut Pro) under "Copyright Apple Inc. All rights
reserved", with no licence to redistribute. The subset below declares each element's
content model as a restriction of Apple's 1.11 model and only attributes Apple declares
for it, with the same types, so a document valid here is valid there; lxml (libxml2)
enforces the content models, required attributes, ID uniqueness and IDREF targets,
which ``xml.etree`` cannot. With Final Cut Pro installed, set ``TAKESTOCK_FCPXML_DTD`` to
its ``FCPXMLv1_11.dtd`` to validate against Apple's DTD as well.

OpenTimelineIO's ``otio-fcpx-xml-adapter`` then reads the document as an editor would,
and ``otio-cmx3600-adapter`` the EDL: clip count, names, durations and source files.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import sqlite3
import time
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import av
import opentimelineio as otio
import pytest
from lxml import etree

from takestock.core.errors import ExportCancelled, InvalidInput, MediaError
from takestock.core.export import (
    CSV_COLUMNS,
    SIDECAR_FIELDS,
    EditorClip,
    ExportOptions,
    Selection,
    edl_documents,
    export_takes,
    fcpxml_document,
    frame_count,
    frame_rate,
    select_takes,
    timeline_rate,
)
from takestock.core.export import edl as export_edl
from takestock.core.export import folder as export_folder
from takestock.core.library import MediaLibrary, sha256_of
from takestock.core.paths import DataPaths
from takestock.core.prompts import create_prompt
from takestock.core.store import open_store
from takestock.core.takes import get_take, insert_take, rate_take
from tests.core.test_export_names import name_problems

NTSC = Fraction(30000, 1001)

# A secret planted where a careless export would pick it up.
PLANTED_KEY = "sk-live-PLANTED-0123456789abcdef"
PLANTED_TOKEN = "tok-PLANTED-9876543210"


def make_video(seconds: float, fps: Fraction | int, *, audio: bool = False) -> bytes:
    """A real, tiny H.264 MP4 (with silent AAC when ``audio``), made in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        sound = container.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame(64, 36, "yuv420p")
            for j, plane in enumerate(frame.planes):
                plane.update(bytes([(i * 9 + j * 70) % 256]) * plane.buffer_size)
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            for pts in range(0, int(48000 * seconds), 1024):
                chunk = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
                for plane in chunk.planes:
                    plane.update(bytes(plane.buffer_size))
                chunk.sample_rate, chunk.pts = 48000, pts
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return buffer.getvalue()


class Lib:
    """A real library on disk with takes of several rates, prompts, jobs and costs."""

    def __init__(self, root: Path) -> None:
        self.paths = DataPaths(root).ensure()
        self.store = open_store(self.paths.database)
        self.library = MediaLibrary(self.paths)
        self.root = self.library.root

    def take(
        self,
        data: bytes,
        *,
        vendor: str = "kling",
        model: str = "kling-v2",
        prompt_id: int | None = None,
        params: dict | None = None,
        account: str | None = None,
        estimate: dict | None = None,
        cost_actual: float | None = None,
        captured: float | None = None,
        created_at: float | None = None,
        suffix: str = ".mp4",
    ) -> int:
        source = self.paths.root / f"in-{time.monotonic_ns()}{suffix}"
        source.write_bytes(data)
        stored = self.library.ingest(source, move=True, suffix=suffix)
        store = self.store
        request_id = job_id = None
        with store.tx():
            if prompt_id is not None:
                version = store.one(
                    "SELECT * FROM prompt_version WHERE prompt_id = ? ORDER BY number DESC",
                    (prompt_id,),
                )
                request_id = store.execute(
                    "INSERT INTO request(prompt_version_id, prompt, params, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (version["id"], version["text"], json.dumps(params or {}), time.time()),
                ).lastrowid
                account_id = None
                if account:
                    row = store.one("SELECT id FROM account WHERE name = ?", (account,))
                    account_id = (
                        row["id"]
                        if row
                        else store.execute(
                            "INSERT INTO account(vendor, name, kind, unit, money_per_unit,"
                            " created_at) VALUES (?, ?, 'api', 'credits', 0.01, ?)",
                            (vendor, account, time.time()),
                        ).lastrowid
                    )
                job_id = store.execute(
                    "INSERT INTO job(request_id, vendor, model, account_id, state,"
                    " client_request_id, estimate, cost_actual, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?, ?)",
                    (
                        request_id,
                        vendor,
                        model,
                        account_id,
                        f"ts-{time.monotonic_ns()}",
                        json.dumps(estimate) if estimate else None,
                        cost_actual,
                        time.time(),
                        time.time(),
                    ),
                ).lastrowid
                if captured is not None and account_id is not None:
                    store.execute(
                        "INSERT INTO ledger(account_id, job_id, kind, amount, at)"
                        " VALUES (?, ?, 'capture', ?, ?)",
                        (account_id, job_id, -captured, time.time()),
                    )
            take_id = insert_take(
                store, stored, self.root, vendor=vendor, model=model, job_id=job_id,
                request_id=request_id,
            )  # fmt: skip
            if created_at is not None:
                store.execute("UPDATE take SET created_at = ? WHERE id = ?", (created_at, take_id))
        return take_id

    def takes(self, ids):
        return [get_take(self.store, self.root, i) for i in ids]


@pytest.fixture(scope="module")
def videos():
    return {
        "24": make_video(2.0, 24),
        "24b": make_video(1.5, 24, audio=True),
        "ntsc": make_video(2.0, NTSC, audio=True),
        "25": make_video(1.0, 25, audio=True),
    }


@pytest.fixture
def lib(tmp_path, videos, monkeypatch):
    monkeypatch.setenv("TAKESTOCK_KLING_API_KEY", PLANTED_KEY)
    lib = Lib(tmp_path / "home")
    boat = create_prompt(
        lib.store,
        "a paper boat on a {water}",
        title='Boat: "rain" / night?',
        negative="blurry, text",
        tags=["ocean", "Client A"],
    )
    fox = create_prompt(lib.store, "a red fox in snow", title="Fox", tags=["animals"])
    estimate = {"amount": 20.0, "unit": "credits", "money": 0.28, "currency": "USD"}
    lib.ids = [
        lib.take(
            videos["24"],
            prompt_id=boat.id,
            params={
                "prompt": "a paper boat on a rainy street",
                "negative": "blurry, text",
                "duration_s": 5,
                "aspect": "16:9",
                "extra": {
                    "api_key": PLANTED_KEY,
                    "callback": f"https://h.example/cb?token={PLANTED_TOKEN}",
                },
            },
            account="studio",
            estimate=estimate,
            cost_actual=25.0,
            created_at=1_700_000_000,
        ),
        lib.take(
            videos["ntsc"],
            vendor="hailuo",
            model="MiniMax-Hailuo-02",
            prompt_id=boat.id,
            params={"prompt": "a paper boat on a {water}", "duration_s": 6},
            estimate=estimate,
            created_at=1_700_086_400,
        ),
        lib.take(
            videos["25"],
            vendor="fal",
            model="fal-ai/kling-video/v2.1/master",
            prompt_id=fox.id,
            params={"prompt": "a red fox in snow"},
            account="studio",
            estimate={"amount": 1.0, "unit": "USD", "money": 1.0, "currency": "USD"},
            captured=0.9,
            created_at=1_700_172_800,
        ),
        lib.take(videos["24b"], vendor="unknown", model="unknown", created_at=1_700_259_200),
    ]
    rate_take(lib.store, lib.ids[0], verdict="usable", stars=4, reasons=["=1+1", "hands"])
    rate_take(lib.store, lib.ids[1], verdict="usable", stars=2, reasons=["flicker"])
    rate_take(lib.store, lib.ids[2], verdict="reject", reasons=["off prompt"])
    yield lib
    lib.store.close()


def export(lib, folder, ids=None, **options):
    takes = lib.takes(ids or lib.ids)
    return export_takes(lib.store, takes, folder, ExportOptions(**options))


# ------------------------------------------------------------------ files


def test_videos_sidecars_and_csv_are_written_with_readable_names(lib, tmp_path):
    out = tmp_path / "out"
    result = export(lib, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "Boat - 'rain' - night_kling_kling-v2_1.mp4",
            "Boat - 'rain' - night_kling_kling-v2_1.json",
            "Boat - 'rain' - night_hailuo_MiniMax-Hailuo-02_2.mp4",
            "Boat - 'rain' - night_hailuo_MiniMax-Hailuo-02_2.json",
            "Fox_fal_fal-ai-kling-video-v2.1-master_3.mp4",
            "Fox_fal_fal-ai-kling-video-v2.1-master_3.json",
            "untitled_unknown_unknown_4.mp4",
            "untitled_unknown_unknown_4.json",
            result.csv.name,
        ]
    )
    assert all(not name_problems(n) for n in names)
    for item in result.takes:
        take = item.record.take
        assert item.how == "hardlink"  # same file system as the library
        assert item.file.stat().st_ino == take.path.stat().st_ino
        assert sha256_of(item.file) == take.sha256
        assert take.path.exists()  # copied (linked), never moved


def test_a_sidecar_has_exactly_its_fields(lib, tmp_path):
    result = export(lib, tmp_path / "out")
    first, second, third, imported = (json.loads(t.sidecar.read_text()) for t in result.takes)
    for data in (first, second, third, imported):
        assert tuple(data) == SIDECAR_FIELDS
    assert first == {
        "take_id": 1,
        "file": "Boat - 'rain' - night_kling_kling-v2_1.mp4",
        "prompt": "a paper boat on a {water}",
        "negative_prompt": "blurry, text",
        # The words as sent stay in the parameters only because a variable was filled.
        "parameters": {
            "prompt": "a paper boat on a rainy street",
            "duration_s": 5,
            "aspect": "16:9",
            "extra": {"callback": "https://h.example/cb?[redacted]"},
        },
        "vendor": "kling",
        "model": "kling-v2",
        "account": "studio",
        "cost": {
            "estimate": {"amount": 20.0, "unit": "credits", "money": 0.28, "currency": "USD"},
            "actual": {"amount": 25.0, "unit": "credits", "money": 0.35, "currency": "USD"},
        },
        "verdict": "usable",
        "stars": 4,
        "reasons": ["=1+1", "hands"],
        "sha256": result.takes[0].record.take.sha256,
    }
    assert second["account"] == "default"  # the job named no account
    assert second["parameters"] == {"duration_s": 6}
    assert second["cost"]["actual"] is None  # nothing charged is known
    assert third["cost"]["actual"] == {
        "amount": 0.9, "unit": "USD", "money": pytest.approx(0.9), "currency": "USD",
    }  # fmt: skip
    assert (third["verdict"], third["stars"], third["reasons"]) == ("reject", None, ["off prompt"])
    assert imported["prompt"] == ""
    assert imported["account"] == "default"
    assert imported["cost"] == {"estimate": None, "actual": None}


def test_the_csv_has_one_row_per_take_and_opens_in_a_spreadsheet(lib, tmp_path):
    result = export(lib, tmp_path / "out")
    raw = result.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM tells spreadsheets it is UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["take_id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["file"] for r in rows] == [t.file.name for t in result.takes]
    first = rows[0]
    assert first["reasons"] == "'=1+1; hands"  # a formula-looking cell is made text
    assert (first["estimate_amount"], first["actual_amount"]) == ("20.0", "25.0")
    assert (first["actual_money"], first["actual_currency"], first["account"]) == (
        "0.35", "USD", "studio",
    )  # fmt: skip
    assert json.loads(first["parameters"])["aspect"] == "16:9"
    assert rows[3]["stars"] == ""
    assert rows[3]["actual_amount"] == ""


def test_no_secret_reaches_any_exported_file(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("TAKESTOCK_FAL_API_KEY", "fal-PLANTED-key-555555")
    out = tmp_path / "out"
    export(lib, out, fcpxml=True, edl=True)
    secrets = {PLANTED_KEY, PLANTED_TOKEN} | {
        v for k, v in os.environ.items() if k.startswith("TAKESTOCK_") and "KEY" in k
    }
    assert len(secrets) >= 3
    for path in out.iterdir():
        text = path.read_bytes().decode("utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{secret} in {path.name}"
        assert "api_key" not in text


def test_exporting_again_reuses_identical_files_and_never_overwrites(lib, tmp_path):
    out = tmp_path / "out"
    first = export(lib, out, name="batch")
    again = export(lib, out, name="batch")
    assert [t.how for t in again.takes] == ["existing"] * 4
    assert [t.file for t in again.takes] == [t.file for t in first.takes]
    assert again.csv.name == "batch (2).csv"  # the batch file is new, the first one stays
    # A different file under a take's name is left alone; the take gets " (2)".
    victim = first.takes[0].file
    victim.unlink()
    victim.write_bytes(b"the editor's own file")
    rate_take(lib.store, lib.ids[1], stars=5)  # its sidecar would differ now
    third = export(lib, out, name="batch")
    assert victim.read_bytes() == b"the editor's own file"
    assert third.takes[0].file.name == victim.stem + " (2).mp4"
    assert third.takes[1].file.name == first.takes[1].file.stem + " (2).mp4"
    assert json.loads(first.takes[1].sidecar.read_text())["stars"] == 2  # untouched
    assert json.loads(third.takes[1].sidecar.read_text())["stars"] == 5


def test_files_are_copied_when_links_cannot_be_made_or_are_not_wanted(lib, tmp_path, monkeypatch):
    copied = export(lib, tmp_path / "copied", link=False)
    assert {t.how for t in copied.takes} == {"copy"}
    for item in copied.takes:
        assert item.file.stat().st_ino != item.record.take.path.stat().st_ino
        assert sha256_of(item.file) == item.record.take.sha256

    def no_links(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(export_folder.os, "link", no_links)
    other = export(lib, tmp_path / "other-disk")
    assert {t.how for t in other.takes} == {"copy"}
    assert not [p for p in (tmp_path / "other-disk").iterdir() if p.name.endswith(".part")]
    assert all(sha256_of(t.file) == t.record.take.sha256 for t in other.takes)


def test_a_take_missing_from_the_library_stops_the_export_before_any_file(lib, tmp_path):
    lib.takes(lib.ids)[2].path.unlink()
    out = tmp_path / "out"
    with pytest.raises(MediaError, match="take 3 is missing"):
        export(lib, out)
    assert not out.exists()


def test_a_folder_that_cannot_be_used_is_refused(lib, tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        export(lib, tmp_path / "no" / "such" / "parent")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        export(lib, tmp_path / "a-file")
    with pytest.raises(InvalidInput, match="nothing to export"):
        export_takes(lib.store, [], tmp_path / "out")


def test_an_export_can_be_cancelled_between_takes(lib, tmp_path):
    class Handle:
        def __init__(self):
            self.seen = []

        @property
        def cancelled(self):
            return len(self.seen) >= 2

        def progress(self, done, total):
            self.seen.append((done, total))

    handle = Handle()
    with pytest.raises(ExportCancelled, match="after 2 of 4"):
        export_takes(lib.store, lib.takes(lib.ids), tmp_path / "out", handle=handle)
    assert handle.seen == [(0, 4), (1, 4)]
    assert len(list((tmp_path / "out").glob("*.mp4"))) == 2


# -------------------------------------------------------------- selection


def test_takes_are_selected_by_verdict_group_tag_dates_and_ids(lib):
    def ids(**kw):
        return [t.id for t in select_takes(lib.store, lib.root, Selection(**kw))]

    assert ids(verdict="usable") == [1, 2]
    assert ids(request_id=get_take(lib.store, lib.root, 3).request_id) == [3]
    assert ids(tag="client a") == [1, 2]  # tags match in any case
    assert ids(tag="animals", verdict="reject") == [3]
    assert ids(since=1_700_086_400, until=1_700_259_200) == [2, 3]
    assert ids(take_ids=(4, 1, 3)) == [4, 1, 3]  # the order given
    assert ids(take_ids=(4, 1, 3), verdict="usable") == [1]
    with pytest.raises(InvalidInput, match="no take 99"):
        ids(take_ids=(1, 99))


# ------------------------------------------------------------------ timing


@pytest.mark.parametrize(
    ("fps", "rate"),
    [
        (29.97002997002997, NTSC),
        (29.97, NTSC),
        (23.976023976023978, Fraction(24000, 1001)),
        (59.94005994005994, Fraction(60000, 1001)),
        (24.0, Fraction(24)),
        (25.0, Fraction(25)),
        (16.0, Fraction(16)),
        (12.5, Fraction(25, 2)),
        (0.0, None),
        (float("nan"), None),
    ],
)
def test_probed_rates_become_exact_rationals(fps, rate):
    assert frame_rate(fps) == rate


def test_frame_counts_round_float_noise_and_drop_partial_frames():
    assert frame_count(2.002, NTSC) == 60  # 60 frames of 29.97
    assert frame_count(2.005, NTSC) == 60  # audio runs past the last picture
    assert frame_count(1.0 + 1e-9, Fraction(24)) == 24
    assert frame_count(0.99999, Fraction(24)) == 24
    assert frame_count(1.02, Fraction(24)) == 24
    assert frame_count(0.001, Fraction(24)) == 1


def test_the_timeline_takes_the_commonest_rate_snapped_to_an_editors_rate():
    assert timeline_rate([Fraction(24), NTSC, NTSC]) == NTSC
    assert timeline_rate([Fraction(25), Fraction(24)]) == Fraction(25)  # the first of equals
    assert timeline_rate([Fraction(16)]) == Fraction(24)  # Wan's 16 fps: no editor has it
    assert timeline_rate([Fraction(15000, 1001)]) == Fraction(24000, 1001)
    assert timeline_rate([]) == Fraction(24)


# ------------------------------------------------------------------ FCPXML

FCPXML_SUBSET_DTD = """
<!ENTITY % time "CDATA">
<!ELEMENT fcpxml (resources?, library)>
<!ATTLIST fcpxml version CDATA #FIXED "1.11">
<!ELEMENT resources (format | asset)*>
<!ELEMENT format EMPTY>
<!ATTLIST format id ID #REQUIRED name CDATA #IMPLIED frameDuration %time; #IMPLIED
    fieldOrder CDATA #IMPLIED width CDATA #IMPLIED height CDATA #IMPLIED
    paspH CDATA #IMPLIED paspV CDATA #IMPLIED colorSpace CDATA #IMPLIED>
<!ELEMENT asset (media-rep+)>
<!ATTLIST asset id ID #REQUIRED name CDATA #IMPLIED uid CDATA #IMPLIED
    start %time; #IMPLIED duration %time; #IMPLIED hasVideo CDATA #IMPLIED
    format IDREF #IMPLIED hasAudio CDATA #IMPLIED videoSources CDATA #IMPLIED
    audioSources CDATA #IMPLIED audioChannels CDATA #IMPLIED audioRate CDATA #IMPLIED>
<!ELEMENT media-rep EMPTY>
<!ATTLIST media-rep kind (original-media | proxy-media) "original-media"
    sig CDATA #IMPLIED src CDATA #REQUIRED suggestedFilename CDATA #IMPLIED>
<!ELEMENT library (event)*>
<!ATTLIST library location CDATA #IMPLIED>
<!ELEMENT event (asset-clip | project)*>
<!ATTLIST event name CDATA #IMPLIED uid CDATA #IMPLIED>
<!ELEMENT project (sequence)>
<!ATTLIST project name CDATA #IMPLIED uid CDATA #IMPLIED id ID #IMPLIED
    modDate CDATA #IMPLIED>
<!ELEMENT sequence (note?, spine)>
<!ATTLIST sequence format IDREF #REQUIRED duration %time; #IMPLIED
    tcStart %time; #IMPLIED tcFormat (DF | NDF) #IMPLIED
    audioLayout (mono | stereo | surround) #IMPLIED renderFormat CDATA #IMPLIED>
<!ELEMENT spine (asset-clip)*>
<!ATTLIST spine lane CDATA #IMPLIED offset %time; #IMPLIED name CDATA #IMPLIED
    format IDREF #IMPLIED>
<!ELEMENT asset-clip (note?, (rating | keyword)*)>
<!ATTLIST asset-clip ref IDREF #REQUIRED lane CDATA #IMPLIED offset %time; #IMPLIED
    name CDATA #IMPLIED start %time; #IMPLIED duration %time; #IMPLIED
    enabled (0 | 1) "1" srcEnable (all | audio | video) "all"
    audioStart %time; #IMPLIED audioDuration %time; #IMPLIED format IDREF #IMPLIED
    tcStart %time; #IMPLIED tcFormat (DF | NDF) #IMPLIED modDate CDATA #IMPLIED
    audioRole CDATA #IMPLIED videoRole CDATA #IMPLIED>
<!ELEMENT note (#PCDATA)>
<!ELEMENT rating EMPTY>
<!ATTLIST rating name CDATA #IMPLIED start %time; #IMPLIED duration %time; #IMPLIED
    value (favorite | reject) #REQUIRED note CDATA #IMPLIED>
<!ELEMENT keyword EMPTY>
<!ATTLIST keyword start %time; #IMPLIED duration %time; #IMPLIED value CDATA #REQUIRED
    note CDATA #IMPLIED>
"""

TIME = re.compile(r"^(0|[1-9]\d*)(/[1-9]\d*)?s$")


def seconds(value: str) -> Fraction:
    assert TIME.match(value), value
    return Fraction(value[:-1])


def path_of(url: str) -> Path:
    parts = urlsplit(url)
    assert parts.scheme == "file"
    assert parts.netloc == ""
    return Path(url2pathname(unquote(parts.path)) if os.name == "nt" else unquote(parts.path))


def validate_fcpxml(text: str) -> etree._Element:
    """Parse, validate against the subset DTD (and Apple's, when given), check times."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    root = etree.fromstring(text.encode("utf-8"))
    dtd = etree.DTD(io.StringIO(FCPXML_SUBSET_DTD))
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    apple = os.environ.get("TAKESTOCK_FCPXML_DTD")
    if apple:
        apple_dtd = etree.DTD(apple)
        assert apple_dtd.validate(root), apple_dtd.error_log.filter_from_errors()
    formats = {f.get("id"): seconds(f.get("frameDuration")) for f in root.iter("format")}
    assets = {a.get("id"): a for a in root.iter("asset")}
    for asset in assets.values():
        frame = formats[asset.get("format")]
        assert seconds(asset.get("duration")) % frame == 0  # whole frames of its own rate
    for clip in root.find("library/event").findall("asset-clip"):
        frame = formats[clip.get("format")]
        assert seconds(clip.get("duration")) % frame == 0
        assert clip.get("duration") == assets[clip.get("ref")].get("duration")
    sequence = root.find("library/event/project/sequence")
    frame = formats[sequence.get("format")]
    offset = Fraction(0)
    for clip in sequence.find("spine"):
        assert seconds(clip.get("offset")) == offset  # end to end, no gap, no overlap
        assert seconds(clip.get("duration")) % frame == 0  # on the timeline's frames
        offset += seconds(clip.get("duration"))
    assert seconds(sequence.get("duration")) == offset
    return root


def as_fcpxml_1_8(text: str) -> str:
    """The same document as FCPXML 1.8 (media path on ``asset@src``).

    WORKAROUND: otio-fcpx-xml-adapter 1.0.0 reads a clip's file from ``asset@src``, where
    FCPXML put it up to 1.8; from 1.9 it lives in ``media-rep@src`` (Apple's DTD has no
    ``src`` on ``asset`` any more), so on 1.9+ documents the adapter gives every clip a
    MissingReference (its ``FcpxXml._reference_from_id``). Only for reading source paths.
    """
    root = etree.fromstring(text.encode("utf-8"))
    root.set("version", "1.8")
    for asset in root.iter("asset"):
        rep = asset.find("media-rep")
        asset.set("src", rep.get("src"))
        asset.remove(rep)
    return etree.tostring(root, encoding="unicode")


def test_the_fcpxml_is_valid_and_carries_the_takes_and_their_metadata(lib, tmp_path):
    result = export(lib, tmp_path / "out", fcpxml=True, name="Picks 1")
    assert result.fcpxml.name == "Picks 1.fcpxml"
    root = validate_fcpxml(result.fcpxml.read_text("utf-8"))
    assert root.get("version") == "1.11"
    # One format per distinct rate and size; rates from the probe, exact.
    assert sorted(f.get("frameDuration") for f in root.iter("format")) == [
        "1/24s", "1/25s", "1001/30000s",
    ]  # fmt: skip
    assert all((f.get("width"), f.get("height")) == ("64", "36") for f in root.iter("format"))
    formats = {f.get("id"): f.get("frameDuration") for f in root.iter("format")}
    assets = list(root.iter("asset"))
    assert len(assets) == 4
    expected = [("1/24s", "2s", "0"), ("1001/30000s", "60060/30000s", "1"),
                ("1/25s", "1s", "1"), ("1/24s", "36/24s", "1")]  # fmt: skip
    for asset, exported, (frame, duration, audio) in zip(
        assets, result.takes, expected, strict=True
    ):
        assert formats[asset.get("format")] == frame
        assert asset.get("duration") == duration
        assert (asset.get("hasVideo"), asset.get("hasAudio")) == ("1", audio)
        src = asset.find("media-rep").get("src")
        assert src.startswith("file:///")
        assert " " not in src
        assert '"' not in src
        assert path_of(src) == exported.file
        assert asset.get("name") == exported.file.stem
    event = root.find("library/event")
    assert event.get("name") == "Picks 1"
    clips = event.findall("asset-clip")
    assert [c.get("name") for c in clips] == [t.file.stem for t in result.takes]
    first = clips[0]
    assert first.findtext("note") == "a paper boat on a {water}"
    assert [k.get("value") for k in first.findall("keyword")] == [
        "kling", "kling-v2", "usable", "4 stars", "=1+1", "hands",
    ]  # fmt: skip
    assert first.find("rating").get("value") == "favorite"
    assert clips[2].find("rating").get("value") == "reject"
    assert clips[3].find("rating") is None
    assert clips[3].find("note") is None
    assert [k.get("value") for k in clips[2].findall("keyword")] == [
        "fal", "fal-ai/kling-video/v2.1/master", "reject", "off prompt",
    ]  # fmt: skip


def test_opentimelineio_reads_the_fcpxml_back(lib, tmp_path):
    result = export(lib, tmp_path / "out", fcpxml=True)
    text = result.fcpxml.read_text("utf-8")
    [timeline] = otio.adapters.read_from_string(text, "fcpx_xml")
    clips = list(timeline.find_clips())
    assert len(clips) == len(result.takes)
    assert [c.name for c in clips] == [t.file.stem for t in result.takes]
    # 24 fps wins (two takes); the adapter counts 29.97 as 29 frames a second, so
    # durations are compared to within a frame.
    for clip, exported in zip(clips, result.takes, strict=True):
        take = exported.record.take
        assert clip.source_range.duration.to_seconds() == pytest.approx(
            take.duration_s, abs=1 / 20
        ), clip.name
    [timeline] = otio.adapters.read_from_string(as_fcpxml_1_8(text), "fcpx_xml")
    paths = [path_of(c.media_reference.target_url) for c in timeline.find_clips()]
    assert paths == [t.file for t in result.takes]


def test_file_urls_escape_what_urls_cannot_hold(tmp_path):
    weird = tmp_path / "dir with space" / "50% #1 ?café 狐.mp4"
    clip = EditorClip("x", weird, Fraction(24), 24, 64, 36, False, "", ())
    root = validate_fcpxml(fcpxml_document([clip], "e"))
    src = root.find(".//media-rep").get("src")
    assert re.fullmatch(r"file:///[A-Za-z0-9%/._~:-]+", src), src
    assert path_of(src) == weird


def test_control_characters_in_prompts_do_not_break_the_xml():
    clip = EditorClip("a\x01b", Path("/m/a.mp4"), Fraction(24), 24, 64, 36, False,
                      "line\x00one\x0btwo\nthree", ("k,with,commas", "\x1f"))  # fmt: skip
    root = validate_fcpxml(fcpxml_document([clip], "ev\x07ent"))
    clip_element = root.find("library/event/asset-clip")
    assert clip_element.findtext("note") == "lineonetwo\nthree"
    assert [k.get("value") for k in clip_element.findall("keyword")] == ["k with commas"]


# --------------------------------------------------------------------- EDL


def test_the_edl_reads_back_through_opentimelineio(lib, tmp_path):
    result = export(lib, tmp_path / "out", edl=True, name="Picks")
    [edl] = result.edls
    text = edl.read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    assert lines[:2] == ["TITLE: Picks", "FCM: NON-DROP FRAME"]
    events = [line for line in lines if re.match(r"^\d{3}  ", line)]
    assert len(events) == 4
    for line in events:
        reel = line[5:13].strip()
        assert reel == "AX"
        assert len(reel) <= 8
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=24)
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = list(video.find_clips())
    assert [c.name for c in clips] == [t.file.name for t in result.takes]
    for clip, exported in zip(clips, result.takes, strict=True):
        take = exported.record.take
        comments = clip.metadata["cmx_3600"]["comments"]
        assert f"SOURCE FILE: {exported.file}" in comments
        # Source timecode at 24 fps: the 29.97 and 25 fps takes are converted.
        assert clip.source_range.start_time.to_seconds() == 0
        assert clip.source_range.duration.to_seconds() == pytest.approx(take.duration_s, abs=1 / 24)
    record = [c.range_in_parent() for c in clips]
    assert record[0].start_time.to_seconds() == 0  # the track starts at 01:00:00:00
    for before, after in itertools.pairwise(record):
        assert before.end_time_exclusive() == after.start_time  # end to end
    assert "01:00:00:00 01:00:02:00" in events[0]
    assert "00:00:00:00 00:00:02:00 01:00:02:00 01:00:04:00" in events[1]  # 60 fr of 29.97
    assert events[1].split()[2] == "AA/V"  # it has sound
    assert events[0].split()[2] == "V"


def test_an_all_ntsc_batch_keeps_29_97_non_drop():
    clips = [
        EditorClip(f"c{i}", Path(f"/m/c{i}.mp4"), NTSC, 150, 64, 36, True, "", ()) for i in range(3)
    ]
    [text] = edl_documents(clips, "ntsc")
    assert "FCM: NON-DROP FRAME" in text
    assert "001  AX       AA/V  C        00:00:00:00 00:00:05:00 01:00:00:00 01:00:05:00" in text
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(NTSC))
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    for clip in video.find_clips():
        assert clip.source_range.duration.to_seconds() == pytest.approx(150 / float(NTSC))
    root = validate_fcpxml(fcpxml_document(clips, "ntsc"))
    assert root.find("library/event/project/sequence").get("duration") == "450450/30000s"


def test_reel_names_can_be_the_take_and_stay_within_8_characters():
    clips = [
        EditorClip(f"t_v_m_{n}", Path(f"/m/{n}.mp4"), Fraction(24), 24, 64, 36, False, "", ())
        for n in (7, 123456789)
    ]
    [text] = edl_documents(clips, "reels", reels="take")
    reels = [line[5:13].strip() for line in text.splitlines() if re.match(r"^\d{3}  ", line)]
    assert reels == ["T7", "T1234567"]


def test_more_than_999_events_make_several_edls():
    clips = [
        EditorClip(f"c{i}", Path(f"/m/c{i}.mp4"), Fraction(24), 24, 64, 36, False, "", ())
        for i in range(1001)
    ]
    documents = edl_documents(clips, "many")
    assert len(documents) == 2
    assert documents[1].startswith("TITLE: many (2)\r\nFCM: NON-DROP FRAME")
    counts = [len(re.findall(r"(?m)^\d{3}  ", d)) for d in documents]
    assert counts == [999, 2]
    assert "999  AX" in documents[0]
    assert "001  AX" in documents[1]
    total = sum(
        len(list(otio.adapters.read_from_string(d, "cmx_3600", rate=24).find_clips()))
        for d in documents
    )
    assert total == 1001


def test_an_export_with_more_than_999_takes_writes_numbered_edls(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(export_edl, "EDL_MAX_EVENTS", 3)
    result = export(lib, tmp_path / "out", edl=True, name="b")
    assert [p.name for p in result.edls] == ["b.edl", "b part 2.edl"]


def test_the_database_is_only_read(lib, tmp_path):
    before = lib.store.scalar("SELECT total_changes()")
    export(lib, tmp_path / "out", fcpxml=True, edl=True)
    assert lib.store.scalar("SELECT total_changes()") == before
    with sqlite3.connect(lib.paths.database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM take").fetchone()[0] == 4
