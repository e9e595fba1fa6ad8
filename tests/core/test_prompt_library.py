"""The prompt library's newer parts: word diffs, duplicates, tags, negative presets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takestock.core.errors import InvalidInput
from takestock.core.prompts import (
    NEGATIVE_PRESET_TAG,
    archive_prompt,
    create_prompt,
    diff_versions,
    duplicate_prompt,
    edit_prompt,
    list_prompts,
    list_tags,
    negative_presets,
    prompt_ids,
    save_negative_preset,
    versions,
)
from takestock.core.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as s:
        yield s


def test_a_diff_shows_words_taken_out_and_put_in(store):
    prompt = create_prompt(store, "a red fox in the snow at dawn")
    edited = edit_prompt(store, prompt.id, text="a red fox in deep snow at golden dawn")
    first, second = versions(store, prompt.id)
    assert second.id == edited.latest.id
    assert diff_versions(first, second) == [
        ("equal", "a red fox in "),
        ("delete", "the"),
        ("insert", "deep"),
        ("equal", " snow at "),
        ("insert", "golden "),
        ("equal", "dawn"),
    ]
    assert diff_versions("same words", "same words") == [("equal", "same words")]
    assert diff_versions("", "new") == [("insert", "new")]
    assert diff_versions("dolly, {lens} lens", "dolly, {lens} lens, {mood}") == [
        ("equal", "dolly, {lens} lens"),
        ("insert", ", {mood}"),
    ]
    assert diff_versions("狐狸在雪中", "狐狸在深雪中") == [
        ("equal", "狐狸在"),
        ("insert", "深"),
        ("equal", "雪中"),
    ]


words = st.lists(
    st.sampled_from(["fox", "snow,", "dawn", "a", "red", "\n", "  ", "{lens}", "雪", "狐狸"]),
    max_size=12,
)


@given(words, words)
def test_a_diff_gives_both_texts_back(old, new):
    a, b = " ".join(old), " ".join(new)
    runs = diff_versions(a, b)
    assert "".join(t for op, t in runs if op != "insert") == a
    assert "".join(t for op, t in runs if op != "delete") == b
    assert all(runs[i][0] != runs[i + 1][0] for i in range(len(runs) - 1))


def test_a_duplicate_starts_a_new_history_from_one_version(store):
    prompt = create_prompt(
        store, "a {animal} in snow", title="Snow", negative="blur", tags=["winter"]
    )
    edit_prompt(store, prompt.id, text="a {animal} in deep snow", variables={"animal": "fox"})
    first = versions(store, prompt.id)[0]
    copy = duplicate_prompt(store, first.id)
    assert copy.id != prompt.id
    assert (copy.title, copy.tags) == ("Snow (copy of v1)", ("winter",))
    assert (copy.latest.number, copy.latest.text, copy.latest.negative) == (
        1,
        "a {animal} in snow",
        "blur",
    )
    assert len(versions(store, prompt.id)) == 2  # the original is untouched
    named = duplicate_prompt(store, first.id, title="Fox variations")
    assert named.title == "Fox variations"


def test_negative_presets_live_in_the_library_but_out_of_the_prompt_list(store):
    fox = create_prompt(store, "a fox", tags=["animals"])
    clean = save_negative_preset(store, "Clean", "blurry, watermark")
    assert NEGATIVE_PRESET_TAG in clean.tags
    again = save_negative_preset(store, "clean", "blurry, watermark, text")
    assert again.id == clean.id
    assert again.latest.number == 2
    assert [p.title for p in negative_presets(store)] == ["Clean"]
    assert [p.id for p in list_prompts(store)] == [fox.id]
    assert prompt_ids(store, tag=NEGATIVE_PRESET_TAG) == [clean.id]
    assert prompt_ids(store, exclude_tags=()) == [clean.id, fox.id]
    with pytest.raises(InvalidInput):
        save_negative_preset(store, " ", "x")


def test_tags_in_use_are_listed_for_the_filter(store):
    fox = create_prompt(store, "a fox", tags=["winter", "Animals"])
    create_prompt(store, "a city", tags=["urban"])
    assert list_tags(store) == ["Animals", "urban", "winter"]
    archive_prompt(store, fox.id)
    assert list_tags(store) == ["urban"]
    assert list_tags(store, archived=True) == ["Animals", "winter"]
