"""Export file names: portable to Windows, macOS and Linux, unique, never over a file."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takestock.core.export import (
    MAX_COMPONENT_BYTES,
    NameBook,
    is_reserved_on_windows,
    portable_component,
    take_stem,
)

WINDOWS_FORBIDDEN = set('<>:"/\\|?*')


def name_problems(name: str) -> list[str]:
    """Why ``name`` would fail somewhere (empty when it is fine on all three systems).

    Windows: no ``<>:"/\\|?*`` nor control characters, no trailing dot or space, no
    device name as the first dotted part; macOS: no ``:`` (Finder's ``/``), NFC so that
    the name compares equal whatever the file system stores; Linux: no ``/`` nor NUL;
    all: at most 255 UTF-8 bytes, not ``.`` or ``..``, not hidden (leading dot).
    """
    problems = []
    if not name or name in (".", ".."):
        problems.append("empty or dot name")
    if len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        problems.append(f"{len(name.encode())} bytes")
    if set(name) & WINDOWS_FORBIDDEN:
        problems.append(f"forbidden {sorted(set(name) & WINDOWS_FORBIDDEN)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        problems.append("control character")
    if name.endswith((".", " ")):
        problems.append("trailing dot or space")
    if name.startswith((".", " ", "-")):
        problems.append("leading dot, space or dash")
    if is_reserved_on_windows(name):
        problems.append("Windows device name")
    if unicodedata.normalize("NFC", name) != name:
        problems.append("not NFC")
    if any(unicodedata.category(c) in ("Cs", "Co", "Cn") for c in name):
        problems.append("surrogate, private-use or unassigned character")
    return problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a red fox in snow", "a red fox in snow"),
        ('who: "me"? <yes>|no*', "who - 'me' yes-no"),
        ("Scene 1: fox", "Scene 1 - fox"),
        ("fal-ai/kling-video/v2.1\\master", "fal-ai-kling-video-v2.1-master"),
        ("  line one\n\tline two  ", "line one line two"),
        ("tab\x00nul\x07bell\x7f\x1fend", "tabnulbell end"),
        ("...hidden. ", "hidden"),
        ("--dash", "dash"),
        ("- -.- dash", "dash"),
        ("abc\u202egnp.exe", "abcgnp.exe"),  # a right-to-left override would hide the end
        ("cafe\u0301", "café"),  # NFD in, NFC out
        ("\ufeffbom", "bom"),
        ("", ""),
        (" . ", ""),
        ("一只狐狸在雪中奔跑", "一只狐狸在雪中奔跑"),
        ("👩\u200d🚀 astronaut", "👩\u200d🚀 astronaut"),  # the joiner stays: it is the emoji
    ],
)
def test_portable_component_cleans_for_every_system(text, expected):
    assert portable_component(text) == expected


@pytest.mark.parametrize(
    "name",
    ["CON", "con", "Prn.mp4", "AUX.take.json", "NUL .json", "nul", "COM1", "com9.mp4",
     "LPT1", "lpt9.edl", "COM¹.mp4", "LPT³"],
)  # fmt: skip
def test_windows_device_names_are_caught_with_any_case_and_extension(name):
    assert is_reserved_on_windows(name)


@pytest.mark.parametrize(
    "name", ["CONSOLE", "com10", "conx.mp4", "a.con", "NUL_kling_v1_3.mp4", "COM0", "lpt"]
)
def test_names_that_only_look_like_devices_are_fine(name):
    assert not is_reserved_on_windows(name)


def test_a_stem_is_title_vendor_model_and_id():
    assert take_stem("A paper boat", "kling", "kling-v2", 42) == "A paper boat_kling_kling-v2_42"
    assert take_stem("", "sandbox", "sandbox-v1", 7) == "untitled_sandbox_sandbox-v1_7"
    assert take_stem("x", "", "", 1) == "x_unknown_unknown_1"
    assert take_stem("a/b", "fal", "fal-ai/kling-video", 3) == "a-b_fal_fal-ai-kling-video_3"


@pytest.mark.parametrize("title", ["aux.final cut", "CON. a fox", "nul", "com1.v2"])
def test_a_title_that_would_make_a_device_name_is_changed(title):
    stem = take_stem(title, "kling", "v2.1", 5)
    assert not name_problems(stem + ".mp4"), stem
    assert not is_reserved_on_windows(stem + ".json")


@pytest.mark.parametrize(
    "title",
    ["a" * 400, "狐" * 200, "👩\u200d🚀" * 120, "é" * 300, "x" * 250 + ".", "ab " * 150],
)
def test_long_titles_are_cut_to_fit_255_bytes_with_room_for_a_mark(title):
    stem = take_stem(title, "vendor", "model-name", 123456)
    for name in (stem + ".mp4", stem + ".json", stem + " (9999).json"):
        assert not name_problems(name), (name, name_problems(name))
    assert stem.endswith("_vendor_model-name_123456")
    assert not stem.endswith("\u200d_vendor_model-name_123456")  # no dangling joiner


def test_absurd_vendor_and_model_ids_give_way_but_the_take_id_never_does():
    stem = take_stem("title", "v" * 300, "m" * 300, 987654321)
    assert not name_problems(stem + " (9999).json")
    assert stem.endswith("_987654321")
    assert stem.startswith("title_")


def test_the_name_book_makes_stems_unique_ignoring_case_and_normalisation(tmp_path):
    book = NameBook(tmp_path)
    assert book.claim("Fox", [".mp4", ".json"]) == "Fox"
    assert book.claim("fox", [".mp4", ".json"]) == "fox (2)"  # macOS and Windows: the same
    assert book.claim("FOX", [".mp4", ".json"]) == "FOX (3)"
    assert book.claim("café", [".mp4"]) == "café"
    assert book.claim("cafe\u0301", [".mp4"]) == "cafe\u0301 (2)"
    assert book.claim("café", [".csv"]) == "café"  # another extension is another file


def test_the_name_book_never_takes_a_name_whose_file_is_there(tmp_path):
    (tmp_path / "Fox.mp4").write_bytes(b"someone else's video")
    (tmp_path / "Boat.json").write_text("{}")
    book = NameBook(tmp_path)
    assert book.claim("Fox", [".mp4", ".json"]) == "Fox (2)"
    assert book.claim("boat", [".mp4", ".json"]) == "boat (2)"  # Boat.json, in another case
    assert (tmp_path / "Fox.mp4").read_bytes() == b"someone else's video"


def test_the_name_book_reuses_exact_files_only_when_the_caller_says_they_are_equal(tmp_path):
    (tmp_path / "Fox.mp4").write_bytes(b"v")
    (tmp_path / "Fox.json").write_text("{}")
    (tmp_path / "Owl.mp4").write_bytes(b"v")
    (tmp_path / "Owl.json").write_text("{}")
    book = NameBook(tmp_path)
    seen = []

    def same(paths):
        seen.append(sorted(p.name for p in paths.values()))
        return paths[".mp4"].stem == "Fox"

    assert book.claim("Fox", [".mp4", ".json"], same) == "Fox"
    assert book.claim("Owl", [".mp4", ".json"], same) == "Owl (2)"
    assert seen == [["Fox.json", "Fox.mp4"], ["Owl.json", "Owl.mp4"]]
    # A different case is another file on Linux: never "reused", whatever the check says.
    assert book.claim("owl", [".mp4", ".json"], lambda paths: True) == "owl (3)"


def test_a_deep_folder_shortens_the_title_to_keep_the_whole_path_short(tmp_path):
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    book = NameBook(deep, max_path=259)
    title = "a very long prompt about a paper boat drifting down a rainy street " * 3
    stem = book.fit(title, "kling", "kling-v2", 42, ".json")
    assert len(str(deep / stem)) + len(" (9999).json") <= 259
    assert stem.endswith("_kling_kling-v2_42")
    assert stem.startswith("a very long prompt")
    # Too deep to fit: the title keeps 16 characters rather than vanish.
    deeper = NameBook(deep / ("e" * 200), max_path=259)
    assert deeper.fit(title, "kling", "kling-v2", 42, ".json").startswith("a very long prom")


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.sampled_from(
    ["CON", "nul.x", "COM1", "..", ".", " ", "-", "aux. fox", "Lpt2 .txt", "- -.x", ". -"]
)


@settings(max_examples=300, deadline=None)
@given(title=TEXT, vendor=TEXT, model=TEXT, take_id=st.integers(1, 10**12))
def test_every_stem_is_a_valid_name_everywhere(title, vendor, model, take_id):
    stem = take_stem(title, vendor, model, take_id)
    for name in (stem + ".mp4", stem + ".json", stem + " (9999).json"):
        assert not name_problems(name), (name, name_problems(name))
    assert stem.endswith(f"_{take_id}")


@settings(max_examples=100, deadline=None)
@given(titles=st.lists(TEXT, min_size=1, max_size=8))
def test_stems_from_the_book_can_all_be_created_side_by_side(tmp_path_factory, titles):
    folder = tmp_path_factory.mktemp("names")
    book = NameBook(folder)
    for index, title in enumerate(titles):
        stem = book.claim(take_stem(title, "kling", "v2", index % 2), [".mp4", ".json"])
        for ext in (".mp4", ".json"):
            path = folder / f"{stem}{ext}"
            with path.open("x"):  # fails if two stems named the same file
                pass
    assert len(list(folder.iterdir())) == 2 * len(titles)


def test_the_checker_itself_catches_bad_names():
    assert name_problems("a:b.mp4")
    assert name_problems("con.mp4")
    assert name_problems("x" * 256)
    assert name_problems("trailing.")
    assert name_problems("cafe\u0301.mp4")
    assert name_problems(".hidden")
    assert not name_problems("A paper boat_kling_kling-v2_42.mp4")
    assert set(string.ascii_letters) & WINDOWS_FORBIDDEN == set()
