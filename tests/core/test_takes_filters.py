"""The library's filters, the id-first queries a lazy grid uses, rating, and details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from takestock.core.errors import InvalidInput
from takestock.core.library import StoredMedia
from takestock.core.media import MediaInfo
from takestock.core.prompts import create_prompt, edit_prompt
from takestock.core.store import Store, open_store
from takestock.core.takes import (
    TakeFilter,
    count_takes,
    get_take,
    insert_take,
    list_takes,
    rate_take,
    rate_takes,
    take_details,
    take_facets,
    take_ids,
    takes_by_ids,
)

DAY = 86400.0
T0 = 1_750_000_000.0  # takes are made one a day from here


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "db.sqlite3") as s:
        yield s


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _request(store: Store, prompt: str, version_id: int | None = None, **params) -> int:
    cur = store.execute(
        "INSERT INTO request(prompt_version_id, prompt, params, created_at) VALUES (?, ?, ?, ?)",
        (version_id, prompt, json.dumps({"prompt": prompt, **params}), T0),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _take(
    store: Store,
    media: Path,
    n: int,
    *,
    vendor: str = "kling",
    model: str = "kling-v2",
    request_id: int | None = None,
    job_id: int | None = None,
) -> int:
    sha = f"{n:064x}"
    info = MediaInfo(5.0, 1280, 720, 24.0, "h264", False, None, 1000)
    stored = StoredMedia(sha, media / sha[:2] / f"{sha}.mp4", info)
    take_id = insert_take(
        store, stored, media, vendor=vendor, model=model, request_id=request_id, job_id=job_id
    )
    store.execute("UPDATE take SET created_at = ? WHERE id = ?", (T0 + n * DAY, take_id))
    return take_id


@pytest.fixture
def library(store: Store, media: Path) -> dict[str, int]:
    """Eight takes over eight days: two vendors, a tagged prompt with two versions."""
    lantern = create_prompt(store, "a paper lantern over a lake", tags=["Night", "water"])
    v2 = edit_prompt(store, lantern.id, text="a paper lantern drifting over a lake").latest
    fox = create_prompt(store, "a fox in the snow", tags=["animals"])
    r_lantern1 = _request(store, lantern.latest.text, lantern.latest.id, duration_s=5)
    r_lantern2 = _request(store, v2.text, v2.id, duration_s=10, aspect="16:9")
    r_fox = _request(store, fox.latest.text, fox.latest.id)
    r_typed = _request(store, "a typed prompt, never saved")
    ids = {
        "lantern1": _take(store, media, 1, request_id=r_lantern1),
        "lantern2a": _take(store, media, 2, request_id=r_lantern2, vendor="veo", model="veo-3"),
        "lantern2b": _take(store, media, 3, request_id=r_lantern2),
        "fox": _take(store, media, 4, request_id=r_fox, vendor="veo", model="veo-3"),
        "typed": _take(store, media, 5, request_id=r_typed, model="kling-v1"),
        "imported": _take(store, media, 6, vendor="unknown", model="unknown"),
        "fox2": _take(store, media, 7, request_id=r_fox, vendor="veo", model="veo-3-fast"),
        "late": _take(store, media, 8, request_id=r_typed),
    }
    rate_take(store, ids["lantern1"], verdict="usable", stars=5)
    rate_take(store, ids["lantern2a"], verdict="reject", stars=2)
    rate_take(store, ids["fox"], verdict="usable", stars=4)
    rate_take(store, ids["typed"], stars=3)
    return ids


def _names(library: dict[str, int], ids: list[int]) -> list[str]:
    by_id = {v: k for k, v in library.items()}
    return [by_id[i] for i in ids]


def test_the_default_filter_keeps_the_old_behaviour(store, media, library):
    assert take_ids(store) == [t.id for t in list_takes(store, media)]
    assert _names(library, take_ids(store)) == [
        "late", "fox2", "imported", "typed", "fox", "lantern2b", "lantern2a", "lantern1",
    ]  # fmt: skip
    assert count_takes(store) == 8
    assert take_ids(store, TakeFilter(limit=3, offset=1)) == take_ids(store)[1:4]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (TakeFilter(vendor="veo"), ["fox2", "fox", "lantern2a"]),
        (TakeFilter(model="veo-3"), ["fox", "lantern2a"]),
        (TakeFilter(verdict="usable"), ["fox", "lantern1"]),
        (TakeFilter(min_stars=4), ["fox", "lantern1"]),
        (TakeFilter(min_stars=3), ["typed", "fox", "lantern1"]),
        (TakeFilter(min_stars=0), None),  # 0 means "any", as None
        (TakeFilter(tag="night"), ["lantern2b", "lantern2a", "lantern1"]),  # any case
        (TakeFilter(tag="animals", vendor="veo"), ["fox2", "fox"]),
        (TakeFilter(tag="nothing-has-this"), []),
        (TakeFilter(since=T0 + 7 * DAY), ["late", "fox2"]),
        (TakeFilter(until=T0 + 2 * DAY), ["lantern1"]),  # until is exclusive
        (TakeFilter(since=T0 + 3 * DAY, until=T0 + 5 * DAY), ["fox", "lantern2b"]),
        (TakeFilter(search="LANTERN"), ["lantern2b", "lantern2a", "lantern1"]),
        (TakeFilter(search="drifting", min_stars=1), ["lantern2a"]),
        (TakeFilter(search="100%"), []),
    ],
)
def test_filters_narrow_the_library(store, media, library, where, expected):
    ids = take_ids(store, where)
    if expected is None:
        expected = _names(library, take_ids(store))
    assert _names(library, ids) == expected
    assert count_takes(store, where) == len(expected)
    # list_takes, take_ids and count_takes agree on every filter.
    assert [t.id for t in list_takes(store, media, where)] == ids


def test_takes_by_ids_keeps_the_order_given_and_skips_missing(store, media, library):
    wanted = [library["fox"], 999, library["lantern1"], library["late"]]
    takes = takes_by_ids(store, media, wanted)
    assert [t.id for t in takes] == [library["fox"], library["lantern1"], library["late"]]
    assert takes[0] == get_take(store, media, library["fox"])
    assert takes_by_ids(store, media, []) == []


def test_takes_by_ids_fetches_more_than_one_batch(store, media):
    ids = [_take(store, media, n) for n in range(1, 1201)]
    got = takes_by_ids(store, media, reversed(ids))
    assert [t.id for t in got] == list(reversed(ids))


def test_facets_list_vendors_models_and_tags(store, library):
    facets = take_facets(store)
    assert facets.vendors == ("kling", "unknown", "veo")
    assert facets.models["kling"] == ("kling-v1", "kling-v2")
    assert facets.models["veo"] == ("veo-3", "veo-3-fast")
    assert facets.tags == ("animals", "Night", "water")


def test_queries_are_served_by_indexes(store):
    """No filter shape sorts the whole library or scans every request."""

    def plan(where: TakeFilter) -> str:
        from takestock.core.takes import _filtered, _paged

        sql, params = _paged(*_filtered("SELECT take.id FROM take", where), where)
        return " | ".join(r[3] for r in store.all("EXPLAIN QUERY PLAN " + sql, params))

    assert plan(TakeFilter()) == "SCAN take USING COVERING INDEX take_created"
    assert "take_vendor_created" in plan(TakeFilter(vendor="veo"))
    assert "take_model_created" in plan(TakeFilter(model="veo-3"))
    assert "(created_at>? AND created_at<?)" in plan(TakeFilter(since=1.0, until=2.0))
    tag = plan(TakeFilter(tag="night"))
    assert "request_version" in tag
    assert "take_request" in tag
    assert "SCAN request" not in tag


def test_rating_several_takes_is_all_or_nothing(store, media, library):
    rate_takes(store, [library["fox2"], library["late"]], verdict="reject", stars=1)
    assert {get_take(store, media, library[k]).verdict for k in ("fox2", "late")} == {"reject"}
    with pytest.raises(InvalidInput):
        rate_takes(store, [library["imported"], 999], verdict="usable")
    assert get_take(store, media, library["imported"]).verdict == "unrated"


def test_zero_stars_clears_them_and_other_values_are_refused(store, media, library):
    rate_take(store, library["fox"], stars=0)
    take = get_take(store, media, library["fox"])
    assert (take.stars, take.verdict) == (None, "usable")
    for bad in (-1, 6):
        with pytest.raises(InvalidInput):
            rate_take(store, library["fox"], stars=bad)


def test_details_carry_the_prompt_version_parameters_and_cost(store, media, library):
    details = take_details(store, media, library["lantern2a"])
    assert details.prompt_text == "a paper lantern drifting over a lake"
    assert (details.version, details.versions) == (2, 2)
    assert details.prompt_title == "a paper lantern over a lake"
    assert details.tags == ("Night", "water")
    assert details.params == {"duration_s": 10, "aspect": "16:9"}
    assert details.job_state is None
    assert details.estimate is None

    typed = take_details(store, media, library["typed"])
    assert typed.prompt_text == "a typed prompt, never saved"
    assert (typed.prompt_id, typed.version, typed.tags) == (None, None, ())

    imported = take_details(store, media, library["imported"])
    assert imported.prompt_text is None
    assert imported.params == {}


def test_details_read_the_job(store, media):
    request_id = _request(store, "a kite", None, duration_s=5)
    store.execute(
        "INSERT INTO account(vendor, name, kind, created_at) VALUES ('kling', 'studio', 'api', 0)"
    )
    store.execute(
        "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
        " vendor_task_id, estimate, cost_actual, created_at, updated_at)"
        " VALUES (?, 'kling', 'kling-v2', 1, 'done', 'ts-1', 'task-42', ?, 3.5, 0, 0)",
        (request_id, json.dumps({"amount": 4, "unit": "credits", "money": 0.4, "currency": "USD"})),
    )
    take_id = _take(store, media, 1, request_id=request_id, job_id=1)
    details = take_details(store, media, take_id)
    assert (details.job_state, details.vendor_task_id, details.account) == (
        "done",
        "task-42",
        "studio",
    )
    assert details.estimate == {"amount": 4, "unit": "credits", "money": 0.4, "currency": "USD"}
    assert details.cost_actual == 3.5
    with pytest.raises(InvalidInput):
        take_details(store, media, 999)
