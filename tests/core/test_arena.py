"""The arena: duels, the Bradley–Terry leaderboard, usage and cost per vendor-model,
and what each comparison group planned, spent and got back."""

from __future__ import annotations

import json
import math
import time
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takestock.core import credits
from takestock.core.arena import (
    ELO_MEAN,
    batch_ids,
    batch_summary,
    blind_pairs,
    comparison_groups,
    fit_bradley_terry,
    group_info,
    leaderboard,
    list_duels,
    record_duel,
    standings,
    tags_in_use,
    take_facts,
    usage_stats,
)
from takestock.core.errors import InvalidInput
from takestock.core.prompts import create_prompt
from takestock.core.store import open_store
from takestock.core.takes import rate_take


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "lib.sqlite3") as s:
        yield s


class Maker:
    """Rows as the engine leaves them, without running it."""

    def __init__(self, store) -> None:
        self.store = store
        self.n = 0

    def request(self, prompt: str = "a fox", tags: tuple[str, ...] = ()) -> int:
        version_id = None
        if tags:
            version_id = create_prompt(self.store, prompt, tags=tags).latest.id
        return self.store.execute(
            "INSERT INTO request(prompt_version_id, prompt, params, created_at)"
            " VALUES (?, ?, '{}', ?)",
            (version_id, prompt, time.time()),
        ).lastrowid

    def job(
        self,
        request_id: int,
        model: str,
        *,
        vendor: str = "v",
        state: str = "done",
        amount: float = 10.0,
        money: float | None = 1.0,
        unit: str = "credits",
        cost_actual: float | None = None,
        account_id: int | None = None,
        submitted: float = 100.0,
        finished: float | None = 130.0,
    ) -> int:
        self.n += 1
        estimate = {"amount": amount, "unit": unit, "money": money, "currency": "USD"}
        return self.store.execute(
            "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
            " estimate, cost_actual, created_at, submitted_at, finished_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 90, ?, ?, 0)",
            (
                request_id,
                vendor,
                model,
                account_id,
                state,
                f"c{self.n}",
                json.dumps(estimate),
                cost_actual,
                submitted,
                finished,
            ),
        ).lastrowid

    def take(
        self, request_id: int, model: str, *, vendor: str = "v", duration: float = 5.0, **job
    ) -> int:
        job_id = self.job(request_id, model, vendor=vendor, **job)
        self.n += 1
        return self.store.execute(
            "INSERT INTO take(job_id, request_id, vendor, model, sha256, path, size_bytes,"
            " duration_s, width, height, fps, video_codec, has_audio, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?, 640, 360, 24, 'h264', 0, ?)",
            (job_id, request_id, vendor, model, f"sha{self.n}", f"x/{self.n}.mp4", duration,
             time.time()),
        ).lastrowid  # fmt: skip


@pytest.fixture
def make(store) -> Maker:
    return Maker(store)


# ----------------------------------------------------------------------- duels


def test_a_duel_is_recorded_in_the_takes_group(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m2")
    duel = record_duel(store, a, b, "a")
    assert (duel.request_id, duel.take_a, duel.take_b, duel.winner) == (req, a, b, "a")
    assert list_duels(store) == [duel]
    assert list_duels(store, request_id=req + 1) == []


def test_bad_duels_are_refused(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m2")
    for args, field in [
        ((a, a, "a"), "take"),
        ((a, 999, "a"), "take"),
        ((a, b, "left"), "winner"),
        ((a, b, "a", 999), "request"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            record_duel(store, *args)
        assert refused.value.field == field
    assert list_duels(store) == []


def test_the_leaderboard_ranks_the_winner_first_and_counts_the_record(store, make):
    req = make.request()
    a, b, c = make.take(req, "m1"), make.take(req, "m2"), make.take(req, "m3")
    record_duel(store, a, b, "a")
    record_duel(store, a, c, "a")
    record_duel(store, b, c, "tie")
    board = leaderboard(store)
    top = board[0]
    assert (top.rank, top.model, top.wins, top.losses, top.ties, top.duels) == (1, "m1", 2, 0, 0, 2)
    assert top.low < top.rating < top.high
    assert math.isfinite(top.high)
    assert sum(r.rating for r in board) / len(board) == pytest.approx(ELO_MEAN)
    second = {r.model: r for r in board}
    assert (second["m2"].ties, second["m3"].ties) == (1, 1)
    assert second["m2"].rating == pytest.approx(second["m3"].rating)


def test_duels_between_takes_of_one_model_say_nothing(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m1")
    record_duel(store, a, b, "a")
    assert leaderboard(store) == []


def test_a_vote_moves_the_leaderboard(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m2")
    record_duel(store, a, b, "tie")
    before = {r.model: r.rating for r in leaderboard(store)}
    record_duel(store, a, b, "b")
    after = {r.model: r.rating for r in leaderboard(store)}
    assert before["m1"] == pytest.approx(before["m2"])
    assert after["m2"] > after["m1"]


def test_the_leaderboard_per_tag_counts_only_that_tags_duels(store, make):
    shots, talk = (
        make.request("a bottle", ("product shot",)),
        make.request("two people talk", ("dialogue",)),
    )
    a, b = make.take(shots, "m1"), make.take(shots, "m2")
    c, d = make.take(talk, "m1"), make.take(talk, "m2")
    record_duel(store, a, b, "a")
    record_duel(store, c, d, "b")
    record_duel(store, c, d, "b")
    assert leaderboard(store, "product shot")[0].model == "m1"
    assert leaderboard(store, "Dialogue")[0].model == "m2"  # tags ignore case
    assert leaderboard(store, "dialogue")[0].duels == 2
    assert leaderboard(store, "nothing") == []
    assert tags_in_use(store) == ["dialogue", "product shot"]


def test_more_duels_narrow_the_range(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m2")
    record_duel(store, a, b, "a")
    record_duel(store, a, b, "b")
    wide = leaderboard(store)[0].margin
    for _ in range(10):
        record_duel(store, a, b, "a")
        record_duel(store, a, b, "b")
    assert leaderboard(store)[0].margin < wide / 2


def test_blind_pairs_are_shuffled_but_repeatable_and_skip_same_model_pairs():
    takes = [(1, "v:a"), (2, "v:a"), (3, "v:b"), (4, "v:c")]
    pairs = blind_pairs(takes, seed=7)
    assert pairs == blind_pairs(takes, seed=7)
    assert {frozenset(p) for p in pairs} == {
        frozenset(p) for p in [(1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    }
    orders = {tuple(blind_pairs(takes, seed=s)) for s in range(20)}
    assert len(orders) > 1
    sides = {p[0] for s in range(20) for p in blind_pairs(takes, seed=s) if set(p) == {3, 4}}
    assert sides == {3, 4}
    assert blind_pairs([(1, "v:a"), (2, "v:a")], seed=1) in ([(1, 2)], [(2, 1)])


# ---------------------------------------------------------------- properties

MODELS = st.lists(
    st.sampled_from(["kling", "veo", "wan", "luma", "vidu", "sora"]), min_size=2, max_size=5,
    unique=True,
)  # fmt: skip
SCORES = st.sampled_from([0.0, 0.5, 1.0])


@st.composite
def round_robins(draw):
    """Every pair plays the same number of games; the first model wins all of its own."""
    models = draw(MODELS)
    rounds = draw(st.integers(1, 3))
    games = []
    for _ in range(rounds):
        for i, j in combinations(range(len(models)), 2):
            score = 1.0 if i == 0 else draw(SCORES)
            games.append((models[i], models[j], score))
    return models, games


@given(round_robins())
@settings(max_examples=60, deadline=None)
def test_a_model_that_always_wins_a_round_robin_ranks_first(data):
    models, games = data
    fitted = fit_bradley_terry(games)
    champion = fitted[models[0]][0]
    assert all(champion > fitted[m][0] for m in models[1:])
    assert all(math.isfinite(r) and math.isfinite(se) for r, se in fitted.values())


@given(round_robins())
@settings(max_examples=60, deadline=None)
def test_in_a_round_robin_ratings_follow_points(data):
    models, games = data
    points = dict.fromkeys(models, 0.0)
    for i, j, s in games:
        points[i] += s
        points[j] += 1 - s
    fitted = fit_bradley_terry(games)
    for x, y in combinations(models, 2):
        if points[x] > points[y] + 1e-9:
            assert fitted[x][0] > fitted[y][0] - 1e-6


GAMES = st.lists(
    st.tuples(st.sampled_from("abcde"), st.sampled_from("abcde"), SCORES), min_size=1, max_size=30
)


@given(GAMES)
@settings(max_examples=80, deadline=None)
def test_adding_the_mirror_of_every_result_makes_everyone_equal(games):
    mirrored = games + [(j, i, s) for i, j, s in games]
    fitted = fit_bradley_terry(mirrored)
    for rating, _ in fitted.values():
        assert rating == pytest.approx(ELO_MEAN, abs=1e-6)


@given(GAMES)
@settings(max_examples=80, deadline=None)
def test_reversing_every_result_mirrors_the_ratings(games):
    fitted = fit_bradley_terry(games)
    flipped = fit_bradley_terry([(i, j, 1 - s) for i, j, s in games])
    assert fitted.keys() == flipped.keys()
    for key, (rating, se) in fitted.items():
        assert flipped[key][0] - ELO_MEAN == pytest.approx(ELO_MEAN - rating, abs=1e-6)
        assert flipped[key][1] == pytest.approx(se, rel=1e-6)


@given(GAMES, st.permutations("abcde"))
@settings(max_examples=60, deadline=None)
def test_ratings_do_not_depend_on_names_or_order(games, names):
    rename = dict(zip("abcde", names, strict=True))
    fitted = fit_bradley_terry(games)
    renamed = fit_bradley_terry([(rename[i], rename[j], s) for i, j, s in reversed(games)])
    for key, (rating, se) in fitted.items():
        assert renamed[rename[key]][0] == pytest.approx(rating, abs=1e-6)
        assert renamed[rename[key]][1] == pytest.approx(se, rel=1e-6)


@given(st.integers(1, 200))
@settings(max_examples=30, deadline=None)
def test_one_sided_records_stay_finite(wins):
    fitted = fit_bradley_terry([("a", "b", 1.0)] * wins)
    (ra, sa), (rb, _) = fitted["a"], fitted["b"]
    assert ELO_MEAN < ra < ELO_MEAN + 1000
    assert rb == pytest.approx(2 * ELO_MEAN - ra)
    assert 0 < sa < 200


# ---------------------------------------------------------------------- usage


def test_usage_keeps_failed_apart_from_rejected_and_prices_usable_seconds(store, make):
    req = make.request()
    good = make.take(req, "m1", duration=5.0, amount=10, money=0.5)
    bad = make.take(req, "m1", duration=5.0, amount=10, money=0.5, cost_actual=12)
    make.take(req, "m1", duration=4.0, amount=10, money=0.5)  # unrated
    make.job(req, "m1", state="failed", amount=10, money=0.5)  # no video, nothing charged
    make.job(req, "m1", state="failed", amount=10, money=0.5, cost_actual=10)  # charged for nothing
    rate_take(store, good, verdict="usable")
    rate_take(store, bad, verdict="reject")
    [usage] = usage_stats(store)
    assert (usage.jobs, usage.failed, usage.takes) == (5, 2, 3)
    assert (usage.usable, usage.rejected, usage.unrated) == (1, 1, 1)
    assert usage.usable_rate == 0.5
    assert usage.failure_rate == pytest.approx(0.4)
    assert usage.usable_seconds == 5.0
    [tally] = usage.cost
    # 10 + 12 (the vendor's figure) + 10 + 0 + 10 (charged without output)
    assert (tally.unit, tally.spent, tally.planned) == ("credits", 42.0, 50.0)
    assert tally.estimated  # two takes' cost is their estimate
    assert tally.money_spent == pytest.approx(42 * 0.05)
    amount, unit, money, currency = usage.cost_per_usable_second()
    assert (amount, unit, currency) == (pytest.approx(42 / 5), "credits", "USD")
    assert money == pytest.approx(42 * 0.05 / 5)


def test_usage_without_usable_takes_has_no_cost_per_second(store, make):
    req = make.request()
    make.take(req, "m1")
    [usage] = usage_stats(store)
    assert usage.usable_rate is None
    assert usage.cost_per_usable_second() is None


def test_usage_per_tag(store, make):
    shots, talk = make.request("a bottle", ("product shot",)), make.request("hi", ("dialogue",))
    rate_take(store, make.take(shots, "m1"), verdict="usable")
    rate_take(store, make.take(talk, "m1"), verdict="reject")
    [shot] = usage_stats(store, "product shot")
    assert (shot.takes, shot.usable, shot.rejected) == (1, 1, 0)
    [spoken] = usage_stats(store, "dialogue")
    assert (spoken.takes, spoken.usable, spoken.rejected) == (1, 0, 1)


def test_standings_put_rated_models_first_then_the_rest(store, make):
    req = make.request()
    a, b = make.take(req, "m1"), make.take(req, "m2")
    make.take(req, "m3")
    record_duel(store, a, b, "b")
    rows = standings(store)
    assert [r.model for r in rows] == ["m2", "m1", "m3"]
    assert rows[0].rating is not None
    assert rows[0].usage is not None
    assert rows[2].rating is None
    assert rows[2].usage.takes == 1


# --------------------------------------------------------------------- groups


def _account(store) -> int:
    account = credits.add_account(store, {}, vendor="v", name="me", kind="api", now=0)
    credits.adjust(store, account.id, 1000, "starting balance", now=0)
    return account.id


def test_a_batch_shows_planned_spent_refunded_and_held_from_the_ledger(store, make):
    account = _account(store)
    req = make.request("a lighthouse")
    made = make.job(req, "m1", account_id=account, amount=10, money=1.0)
    cheaper = make.job(req, "m2", account_id=account, amount=20, money=2.0)
    failed = make.job(req, "m2", account_id=account, amount=20, money=2.0, state="failed")
    running = make.job(req, "m1", account_id=account, amount=10, money=1.0, state="running")
    for job, amount in ((made, 10), (cheaper, 20), (failed, 20), (running, 10)):
        credits.reserve(store, account, job, amount, now=1)
    credits.capture(store, made, 10, now=2)
    credits.capture(store, cheaper, 15, now=2)
    credits.release(store, failed, now=2, note="failed")
    summary = batch_summary(store, req)
    assert summary.targets == ("v:m1", "v:m2")
    assert (summary.jobs, summary.done, summary.failed, summary.active) == (4, 2, 1, 1)
    [tally] = summary.cost
    assert (tally.planned, tally.spent, tally.refunded, tally.held) == (60, 25, 20, 10)
    assert tally.money_planned == pytest.approx(60 * 0.1)
    assert tally.money_spent == pytest.approx(10 * 0.1 + 15 * 0.1)
    assert not tally.estimated
    assert summary.untracked == 0
    assert batch_ids(store) == [req]


def test_a_batch_on_no_account_uses_the_vendors_figures(store, make):
    req = make.request()
    make.take(req, "m1", amount=5, money=0.0)
    make.take(req, "m2", amount=8, money=None, cost_actual=7)
    make.job(req, "m2", amount=8, money=None, state="failed")
    summary = batch_summary(store, req)
    assert summary.untracked == 3
    [tally] = summary.cost
    assert (tally.planned, tally.spent, tally.refunded) == (21, 12, 0)
    assert tally.estimated
    assert tally.money_spent is None  # m2's estimate gives no money rate
    assert (summary.takes, summary.usable, summary.duels) == (2, 0, 0)
    with pytest.raises(InvalidInput):
        batch_summary(store, 999)


def test_batches_in_different_units_are_kept_apart(store, make):
    req = make.request()
    make.job(req, "m1", vendor="kling", unit="credits", amount=10)
    make.job(req, "m2", vendor="runway", unit="seconds", amount=5)
    units = {t.unit: t.planned for t in batch_summary(store, req).cost}
    assert units == {"credits": 10, "seconds": 5}


def test_groups_facts_and_wait_times(store, make):
    one = make.request("one take")
    make.take(one, "m1")
    req = make.request("two takes")
    a = make.take(req, "m1", vendor="kling", submitted=100, finished=142.5, amount=35, money=3.5)
    b = make.take(req, "m2", vendor="veo")
    assert comparison_groups(store) == [req]
    assert comparison_groups(store, min_takes=1) == [req, one]
    info = group_info(store, req)
    assert (info.prompt, info.take_ids, info.models) == (
        "two takes",
        (a, b),
        ("kling:m1", "veo:m2"),
    )
    facts = take_facts(store, [a, b, 999])
    assert set(facts) == {a, b}
    assert (facts[a].vendor, facts[a].model, facts[a].wait_s) == ("kling", "m1", 42.5)
    assert (facts[a].cost.spent, facts[a].cost.unit, facts[a].cost.money_per_unit) == (
        35,
        "credits",
        0.1,
    )
    with pytest.raises(InvalidInput):
        group_info(store, 999)
