"""Prompts: immutable versions, variables, tags, search."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takestock.core.errors import InvalidInput
from takestock.core.prompts import (
    create_prompt,
    edit_prompt,
    find_or_create_adhoc,
    list_prompts,
    render,
    variables_in,
    versions,
)
from takestock.core.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as s:
        yield s


def test_every_edit_is_a_new_version_and_old_ones_stay(store):
    prompt = create_prompt(store, "a {animal} in the snow", negative="blurry", tags=["winter"])
    first = prompt.latest
    edited = edit_prompt(store, prompt.id, text="a {animal} in deep snow, dusk")
    assert edited.latest.number == 2
    assert [v.text for v in versions(store, prompt.id)] == [
        "a {animal} in the snow",
        "a {animal} in deep snow, dusk",
    ]
    assert edited.latest.negative == "blurry"
    assert edit_prompt(store, prompt.id, title="Fox").latest.id == edited.latest.id
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        store.execute("UPDATE prompt_version SET text = 'x' WHERE id = ?", (first.id,))


def test_variables_are_found_and_filled(store):
    assert variables_in("a {animal} on {place}, {animal} again; {{literal}}") == ["animal", "place"]
    prompt = create_prompt(store, "a {animal} on {place}", variables={"place": "a roof"})
    assert dict(prompt.latest.variables) == {"animal": "", "place": "a roof"}
    text = render(prompt.latest.text, {"animal": "cat"}, prompt.latest.variables)
    assert text == "a cat on a roof"
    with pytest.raises(InvalidInput, match="no value for animal"):
        render(prompt.latest.text, {}, prompt.latest.variables)
    assert render("{{braces}} stay", {}) == "{braces} stay"


@pytest.mark.parametrize("text", ["a {bad name}", "unbalanced {", "{0}"])
def test_bad_variables_are_refused(text):
    with pytest.raises(InvalidInput):
        variables_in(text)


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=50))
def test_text_without_braces_renders_to_itself(text):
    assert render(text, {}) == text


def test_tags_search_and_archive(store):
    fox = create_prompt(store, "a fox", tags=["animals", "winter"])
    create_prompt(store, "a city at night", tags=["urban"])
    assert [p.id for p in list_prompts(store, tag="winter")] == [fox.id]
    assert [p.id for p in list_prompts(store, search="FOX")] == [fox.id]
    assert list_prompts(store, search="100%") == []
    edit_prompt(store, fox.id, tags=["animals"])
    assert list_prompts(store, tag="winter") == []


def test_the_same_typed_words_gather_under_one_prompt(store):
    a = find_or_create_adhoc(store, "a fox", "blur")
    b = find_or_create_adhoc(store, "a fox", "blur")
    c = find_or_create_adhoc(store, "a fox")
    assert a.id == b.id != c.id
    with pytest.raises(InvalidInput, match="empty"):
        find_or_create_adhoc(store, "   ")
