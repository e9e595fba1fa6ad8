"""The arena: blind duels between takes, a leaderboard of vendor-models, and what each
vendor-model and each comparison group cost.

Ratings. Every blind duel between takes of two *different* vendor-models is one game
(a tie is half a win for each side; a duel between two takes of the same model says
nothing about models and is left out). The games are fitted with the Bradley–Terry
model, P(i beats j) = p_i / (p_i + p_j), by Newton's method on θ = ln p with a weak
prior: every model also plays :data:`PRIOR_GAMES` imaginary games against an average
opponent (θ = 0) and draws them. The prior keeps a one-sided record (three wins, no
losses) finite and pulls a model with few duels towards the middle; with many duels it
no longer matters. θ is shown on the Elo scale (400 points per factor of ten in the
odds: +100 points ≈ wins 64 % of the time), centred so that the models' mean is 1500.

Uncertainty comes from the Fisher information, not a bootstrap: the inverse of the
negated Hessian of the penalised log-likelihood at the fit is the covariance of θ, and a
rating's range is ±1.96 standard errors of its *centred* value (what is shown). It is
deterministic (the same duels always show the same range, which a bootstrap over a
handful of duels would not), costs one matrix inversion, and with the prior it is
finite for every record.

Costs (what a job cost, from the ledger, the vendor or the estimate) are worked out in
:mod:`takestock.core.arena_costs`.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from takestock.core.arena_costs import CostTally, JobCost, _job_costs, _tally
from takestock.core.errors import InvalidInput
from takestock.core.store import Store

__all__ = [
    "ELO_MEAN",
    "PRIOR_GAMES",
    "BatchSummary",
    "CostTally",
    "Duel",
    "GroupInfo",
    "JobCost",
    "ModelUsage",
    "Rating",
    "Standing",
    "TakeFacts",
    "Winner",
    "batch_ids",
    "batch_summary",
    "blind_pairs",
    "comparison_groups",
    "fit_bradley_terry",
    "group_info",
    "leaderboard",
    "list_duels",
    "record_duel",
    "standings",
    "tags_in_use",
    "take_facts",
    "usage_stats",
]

Winner = Literal["a", "b", "tie"]
WINNERS: tuple[Winner, ...] = ("a", "b", "tie")

#: The rating of an average model.
ELO_MEAN = 1500.0
#: Elo points per unit of θ = ln p (400 points per factor of ten in the odds).
_POINTS = 400.0 / math.log(10.0)
#: Imaginary drawn games each model plays against an average opponent (the prior).
PRIOR_GAMES = 2.0
#: Two-sided 95 % normal quantile, for the rating ranges.
_Z95 = 1.959964


def _key(vendor: str, model: str) -> str:
    return f"{vendor}:{model}"


# ---------------------------------------------------------------------- duels


@dataclass(frozen=True, slots=True)
class Duel:
    """One blind choice between two takes."""

    id: int
    request_id: int | None
    take_a: int
    take_b: int
    winner: Winner
    created_at: float


def record_duel(
    store: Store,
    take_a: int,
    take_b: int,
    winner: Winner,
    request_id: int | None = None,
    *,
    now: float | None = None,
) -> Duel:
    """Record a blind vote between two takes; ``request_id`` defaults to their shared group.

    Raises:
        InvalidInput: an unknown take, the same take twice, or a winner that is not
            ``"a"``, ``"b"`` or ``"tie"``.
    """
    if winner not in WINNERS:
        raise InvalidInput("winner", "must be a, b or tie")
    if take_a == take_b:
        raise InvalidInput("take", "a duel needs two different takes")
    rows = {
        r["id"]: r["request_id"]
        for r in store.all("SELECT id, request_id FROM take WHERE id IN (?, ?)", (take_a, take_b))
    }
    for take_id in (take_a, take_b):
        if take_id not in rows:
            raise InvalidInput("take", f"no take {take_id}")
    if request_id is None and rows[take_a] == rows[take_b]:
        request_id = rows[take_a]
    if (
        request_id is not None
        and store.one("SELECT 1 FROM request WHERE id = ?", (request_id,)) is None
    ):
        raise InvalidInput("request", f"no request {request_id}")
    at = time.time() if now is None else now
    cur = store.execute(
        "INSERT INTO duel(request_id, take_a, take_b, winner, created_at) VALUES (?, ?, ?, ?, ?)",
        (request_id, take_a, take_b, winner, at),
    )
    assert cur.lastrowid is not None
    return Duel(cur.lastrowid, request_id, take_a, take_b, winner, at)


def list_duels(store: Store, *, request_id: int | None = None) -> list[Duel]:
    """Duels, oldest first; only one group's with ``request_id``."""
    sql = "SELECT * FROM duel"
    params: tuple[Any, ...] = ()
    if request_id is not None:
        sql += " WHERE request_id = ?"
        params = (request_id,)
    return [
        Duel(r["id"], r["request_id"], r["take_a"], r["take_b"], r["winner"], r["created_at"])
        for r in store.all(sql + " ORDER BY id", params)
    ]


def blind_pairs(takes: Sequence[tuple[int, str]], seed: int) -> list[tuple[int, int]]:
    """The pairs to show blind, in a shuffled order with shuffled sides.

    ``takes`` are ``(take id, vendor:model)``. Only pairs of different models are
    offered (a vote between two takes of one model tells the arena nothing), unless every
    take is of one model. The same ``seed`` always gives the same order.
    """
    rng = random.Random(seed)
    pairs = [(a, b) for (a, ma), (b, mb) in combinations(takes, 2) if ma != mb]
    if not pairs:
        pairs = [(a, b) for (a, _), (b, _) in combinations(takes, 2)]
    rng.shuffle(pairs)
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in pairs]


# -------------------------------------------------------------------- fitting


def _logaddexp(a: float, b: float) -> float:
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _invert(matrix: Sequence[Sequence[float]]) -> list[list[float]]:
    """Gauss–Jordan inverse with partial pivoting (a few dozen models at most)."""
    n = len(matrix)
    a = [
        [*map(float, row), *(1.0 if i == j else 0.0 for j in range(n))]
        for i, row in enumerate(matrix)
    ]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-300:
            raise ZeroDivisionError("singular matrix")
        a[col], a[pivot] = a[pivot], a[col]
        scale = a[col][col]
        a[col] = [v / scale for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0.0:
                factor = a[r][col]
                a[r] = [v - factor * p for v, p in zip(a[r], a[col], strict=True)]
    return [row[n:] for row in a]


def fit_bradley_terry(
    games: Iterable[tuple[str, str, float]], *, prior_games: float = PRIOR_GAMES
) -> dict[str, tuple[float, float]]:
    """Ratings and their standard errors, in Elo points, from ``(i, j, score of i)`` games.

    A score is 1 (i won), 0 (j won) or 0.5 (a tie). Games of a player against itself
    are ignored. The mean rating is :data:`ELO_MEAN`. See the module docstring.
    """
    if prior_games <= 0:
        raise ValueError("the prior needs a positive number of games")
    pair_games: dict[tuple[int, int], float] = {}
    scores: list[float] = []
    index: dict[str, int] = {}
    for i_key, j_key, score in games:
        if i_key == j_key:
            continue
        for key in (i_key, j_key):
            if key not in index:
                index[key] = len(index)
                scores.append(0.0)
        i, j = index[i_key], index[j_key]
        pair = (min(i, j), max(i, j))
        pair_games[pair] = pair_games.get(pair, 0.0) + 1.0
        scores[i] += score
        scores[j] += 1.0 - score
    n = len(index)
    if n == 0:
        return {}
    half = prior_games / 2.0

    def loglik(theta: Sequence[float]) -> float:
        total = sum((scores[i] + half) * theta[i] for i in range(n))
        total -= sum(prior_games * _logaddexp(t, 0.0) for t in theta)
        total -= sum(g * _logaddexp(theta[i], theta[j]) for (i, j), g in pair_games.items())
        return total

    def derivatives(theta: Sequence[float]) -> tuple[list[float], list[list[float]]]:
        grad = [scores[i] + half - prior_games * _sigmoid(theta[i]) for i in range(n)]
        info = [[0.0] * n for _ in range(n)]  # the negated Hessian
        for i in range(n):
            p = _sigmoid(theta[i])
            info[i][i] += prior_games * p * (1.0 - p)
        for (i, j), g in pair_games.items():
            p = _sigmoid(theta[i] - theta[j])
            grad[i] -= g * p
            grad[j] -= g * (1.0 - p)
            w = g * p * (1.0 - p)
            info[i][i] += w
            info[j][j] += w
            info[i][j] -= w
            info[j][i] -= w
        return grad, info

    theta = [0.0] * n
    current = loglik(theta)
    for _ in range(200):
        grad, info = derivatives(theta)
        cov = _invert(info)
        step = [sum(cov[i][k] * grad[k] for k in range(n)) for i in range(n)]
        size = 1.0
        while True:
            trial = [t + size * s for t, s in zip(theta, step, strict=True)]
            value = loglik(trial)
            if value >= current - 1e-12 or size < 1e-6:
                break
            size /= 2.0
        theta, current = trial, value
        if max(abs(size * s) for s in step) < 1e-10:
            break
    _, info = derivatives(theta)
    cov = _invert(info)
    mean = sum(theta) / n
    # Variance of the centred value θ_i − mean(θ): what the rating shows.
    col_means = [sum(cov[i][k] for k in range(n)) / n for i in range(n)]
    grand = sum(col_means) / n
    out: dict[str, tuple[float, float]] = {}
    for key, i in index.items():
        var = max(cov[i][i] - 2.0 * col_means[i] + grand, 0.0)
        out[key] = (ELO_MEAN + _POINTS * (theta[i] - mean), _POINTS * math.sqrt(var))
    return out


@dataclass(frozen=True, slots=True)
class Rating:
    """One vendor-model's place on the leaderboard.

    Attributes:
        rating: Elo-like points (1500 is the models' mean).
        low, high: the 95 % range (rating ∓ 1.96 standard errors).
        duels: duels against other models; wins + losses + ties.
        rank: 1 for the best.
    """

    vendor: str
    model: str
    rating: float
    low: float
    high: float
    duels: int
    wins: int
    losses: int
    ties: int
    rank: int

    @property
    def key(self) -> str:
        return _key(self.vendor, self.model)

    @property
    def margin(self) -> float:
        """Half the width of the 95 % range, in points."""
        return (self.high - self.low) / 2.0


_TAG_CLAUSE = """
    EXISTS (SELECT 1 FROM request r
            JOIN prompt_version pv ON pv.id = r.prompt_version_id
            JOIN prompt_tag pt ON pt.prompt_id = pv.prompt_id
            JOIN tag t ON t.id = pt.tag_id
            WHERE r.id = {request} AND t.name = ?)
"""


def leaderboard(store: Store, tag: str | None = None) -> list[Rating]:
    """Vendor-models ranked from every blind duel (only duels on prompts tagged ``tag``)."""
    sql = (
        "SELECT ta.vendor AS va, ta.model AS ma, tb.vendor AS vb, tb.model AS mb,"
        " d.winner AS winner, COUNT(*) AS n"
        " FROM duel d JOIN take ta ON ta.id = d.take_a JOIN take tb ON tb.id = d.take_b"
        " WHERE (ta.vendor != tb.vendor OR ta.model != tb.model)"
    )
    params: list[Any] = []
    if tag is not None:
        sql += " AND " + _TAG_CLAUSE.format(request="COALESCE(d.request_id, ta.request_id)")
        params.append(tag)
    sql += " GROUP BY va, ma, vb, mb, winner"
    games: list[tuple[str, str, float]] = []
    record: dict[str, list[int]] = {}
    names: dict[str, tuple[str, str]] = {}
    for r in store.all(sql, params):
        a, b = _key(r["va"], r["ma"]), _key(r["vb"], r["mb"])
        names[a], names[b] = (r["va"], r["ma"]), (r["vb"], r["mb"])
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[r["winner"]]
        games += [(a, b, score)] * int(r["n"])
        slot_a = {"a": 0, "b": 1, "tie": 2}[r["winner"]]
        slot_b = {"a": 1, "b": 0, "tie": 2}[r["winner"]]
        record.setdefault(a, [0, 0, 0])[slot_a] += int(r["n"])
        record.setdefault(b, [0, 0, 0])[slot_b] += int(r["n"])
    fitted = fit_bradley_terry(games)
    order = sorted(fitted, key=lambda k: (-fitted[k][0], k))
    ratings = []
    for rank, key in enumerate(order, start=1):
        value, se = fitted[key]
        wins, losses, ties = record[key]
        vendor, model = names[key]
        ratings.append(
            Rating(
                vendor=vendor,
                model=model,
                rating=value,
                low=value - _Z95 * se,
                high=value + _Z95 * se,
                duels=wins + losses + ties,
                wins=wins,
                losses=losses,
                ties=ties,
                rank=rank,
            )
        )
    return ratings


# ---------------------------------------------------------------------- usage


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """How one vendor-model has done for this creator.

    Attributes:
        jobs: jobs asked of it; ``failed`` of them made no video (never counted as
            rejected), ``cancelled`` were stopped.
        takes: videos held; each is ``usable``, ``rejected`` (judged unusable) or
            ``unrated``.
        usable_rate: usable / judged takes (usable + rejected); ``None`` before any
            judgement.
        cost: what its jobs cost, per unit (usually one: the vendor's).
        usable_seconds: playing time of the usable takes.
    """

    vendor: str
    model: str
    jobs: int
    failed: int
    cancelled: int
    takes: int
    usable: int
    rejected: int
    unrated: int
    usable_seconds: float
    cost: tuple[CostTally, ...]

    @property
    def key(self) -> str:
        return _key(self.vendor, self.model)

    @property
    def usable_rate(self) -> float | None:
        judged = self.usable + self.rejected
        return self.usable / judged if judged else None

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.jobs if self.jobs else None

    def cost_per_usable_second(self) -> tuple[float, str, float | None, str | None] | None:
        """(amount, unit, money or None, currency) per usable second, in the main unit.

        ``None`` without usable seconds or cost. Everything spent counts, rejected and
        failed takes included: it is what a usable second really costs.
        """
        if self.usable_seconds <= 0 or not self.cost:
            return None
        main = max(self.cost, key=lambda t: t.spent)
        if main.spent <= 0:
            return None
        money = None if main.money_spent is None else main.money_spent / self.usable_seconds
        return main.spent / self.usable_seconds, main.unit, money, main.currency


def usage_stats(store: Store, tag: str | None = None) -> list[ModelUsage]:
    """Per vendor-model: jobs, failures, takes by verdict, cost and usable seconds."""
    job_where, take_where = "1", "1"
    params: list[Any] = []
    if tag is not None:
        job_where = _TAG_CLAUSE.format(request="job.request_id")
        take_where = _TAG_CLAUSE.format(request="take.request_id")
        params = [tag]
    counts: dict[tuple[str, str], dict[str, Any]] = {}

    def slot(vendor: str, model: str) -> dict[str, Any]:
        return counts.setdefault(
            (vendor, model),
            {"jobs": 0, "failed": 0, "cancelled": 0, "takes": 0, "usable": 0, "reject": 0,
             "unrated": 0, "usable_s": 0.0, "job_ids": []},
        )  # fmt: skip

    for r in store.all(
        f"SELECT job.id, job.vendor, job.model, job.state FROM job WHERE {job_where}", params
    ):
        s = slot(r["vendor"], r["model"])
        s["jobs"] += 1
        s["job_ids"].append(r["id"])
        if r["state"] in ("failed", "cancelled"):
            s[r["state"]] += 1
    for r in store.all(
        "SELECT vendor, model, verdict, COUNT(*) AS n,"
        " SUM(CASE WHEN verdict = 'usable' THEN duration_s ELSE 0 END) AS usable_s"
        f" FROM take WHERE {take_where} GROUP BY vendor, model, verdict",
        params,
    ):
        s = slot(r["vendor"], r["model"])
        s["takes"] += r["n"]
        s[r["verdict"]] += r["n"]
        s["usable_s"] += float(r["usable_s"] or 0.0)
    costs = _job_costs(store, job_where, params)
    out = []
    for (vendor, model), s in sorted(counts.items()):
        out.append(
            ModelUsage(
                vendor=vendor,
                model=model,
                jobs=s["jobs"],
                failed=s["failed"],
                cancelled=s["cancelled"],
                takes=s["takes"],
                usable=s["usable"],
                rejected=s["reject"],
                unrated=s["unrated"],
                usable_seconds=s["usable_s"],
                cost=_tally(costs[j] for j in s["job_ids"] if j in costs),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Standing:
    """A leaderboard row: a vendor-model's rating (``None`` without duels) and usage."""

    vendor: str
    model: str
    rating: Rating | None
    usage: ModelUsage | None

    @property
    def key(self) -> str:
        return _key(self.vendor, self.model)


def standings(store: Store, tag: str | None = None) -> list[Standing]:
    """Every vendor-model with duels or takes: rated ones by rank, then the others."""
    ratings = {r.key: r for r in leaderboard(store, tag)}
    usage = {u.key: u for u in usage_stats(store, tag)}
    rows = [Standing(r.vendor, r.model, r, usage.get(r.key)) for r in ratings.values()]
    rest = [u for key, u in usage.items() if key not in ratings]
    rest.sort(key=lambda u: (-(u.usable_rate or -1.0), -u.takes, u.key))
    rows += [Standing(u.vendor, u.model, None, u) for u in rest]
    return rows


def tags_in_use(store: Store) -> list[str]:
    """Tags of prompts that have made at least one request, by name."""
    return [
        r["name"]
        for r in store.all(
            "SELECT DISTINCT t.name FROM tag t JOIN prompt_tag pt ON pt.tag_id = t.id"
            " JOIN prompt_version pv ON pv.prompt_id = pt.prompt_id"
            " JOIN request r ON r.prompt_version_id = pv.id ORDER BY t.name COLLATE NOCASE"
        )
    ]


# --------------------------------------------------------------------- groups


@dataclass(frozen=True, slots=True)
class TakeFacts:
    """What a compare cell says about a take: who made it, what it cost, how long it took.

    Attributes:
        cost: its job's cost (``None`` for an imported take).
        wait_s: from the vendor accepting the job to the take being ready.
    """

    take_id: int
    request_id: int | None
    vendor: str
    model: str
    duration_s: float
    verdict: str
    cost: JobCost | None
    wait_s: float | None


def take_facts(store: Store, take_ids: Sequence[int]) -> dict[int, TakeFacts]:
    """Facts for each take that exists, keyed by take id."""
    if not take_ids:
        return {}
    marks = ", ".join("?" * len(take_ids))
    rows = store.all(
        "SELECT take.id, take.job_id, take.request_id, take.vendor, take.model,"
        " take.duration_s, take.verdict, job.submitted_at, job.created_at AS job_created,"
        " job.finished_at FROM take LEFT JOIN job ON job.id = take.job_id"
        f" WHERE take.id IN ({marks})",
        list(take_ids),
    )
    job_ids = [r["job_id"] for r in rows if r["job_id"] is not None]
    costs = (
        _job_costs(store, f"job.id IN ({', '.join('?' * len(job_ids))})", job_ids)
        if job_ids
        else {}
    )
    out = {}
    for r in rows:
        start = r["submitted_at"] if r["submitted_at"] is not None else r["job_created"]
        wait = None
        if start is not None and r["finished_at"] is not None:
            wait = max(0.0, float(r["finished_at"]) - float(start))
        out[r["id"]] = TakeFacts(
            take_id=r["id"],
            request_id=r["request_id"],
            vendor=r["vendor"],
            model=r["model"],
            duration_s=float(r["duration_s"]),
            verdict=r["verdict"],
            cost=costs.get(r["job_id"]) if r["job_id"] is not None else None,
            wait_s=wait,
        )
    return out


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A comparison group: one request and the takes it made."""

    request_id: int
    prompt: str
    created_at: float
    take_ids: tuple[int, ...]  # oldest first
    models: tuple[str, ...]  # vendor:model, in order of first take


def comparison_groups(store: Store, *, min_takes: int = 2, limit: int = 200) -> list[int]:
    """Request ids with at least ``min_takes`` takes, newest first."""
    return [
        r["id"]
        for r in store.all(
            "SELECT r.id FROM request r JOIN take t ON t.request_id = r.id GROUP BY r.id"
            " HAVING COUNT(t.id) >= ? ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
            (min_takes, limit),
        )
    ]


def group_info(store: Store, request_id: int) -> GroupInfo:
    row = store.one("SELECT id, prompt, created_at FROM request WHERE id = ?", (request_id,))
    if row is None:
        raise InvalidInput("request", f"no request {request_id}")
    takes = store.all(
        "SELECT id, vendor, model FROM take WHERE request_id = ? ORDER BY id", (request_id,)
    )
    models = tuple(dict.fromkeys(_key(t["vendor"], t["model"]) for t in takes))
    return GroupInfo(
        request_id=row["id"],
        prompt=row["prompt"],
        created_at=row["created_at"],
        take_ids=tuple(t["id"] for t in takes),
        models=models,
    )


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What one comparison group (a request fanned out to its targets) cost.

    Attributes:
        targets: ``vendor:model`` asked, in the order of the jobs.
        jobs, done, failed, active: its jobs (retries included) and how they ended.
        takes, usable: the videos it made and how many were judged usable.
        cost: per unit: planned (sum of estimates), spent, refunded, held.
        untracked: jobs on no credit-tracking account: their spend is the vendor's
            figure or the estimate, and no refund can be known.
    """

    request_id: int
    prompt: str
    created_at: float
    targets: tuple[str, ...]
    jobs: int
    done: int
    failed: int
    active: int
    takes: int
    usable: int
    duels: int
    cost: tuple[CostTally, ...] = field(default=())
    untracked: int = 0


def batch_ids(store: Store, *, limit: int | None = None) -> list[int]:
    """Requests that have jobs (every comparison group), newest first."""
    sql = (
        "SELECT r.id FROM request r WHERE EXISTS (SELECT 1 FROM job WHERE job.request_id = r.id)"
        " ORDER BY r.created_at DESC, r.id DESC"
    )
    params: tuple[Any, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [r["id"] for r in store.all(sql, params)]


def batch_summary(store: Store, request_id: int) -> BatchSummary:
    """Planned, spent and refunded for one comparison group, from its jobs and the ledger.

    Raises:
        InvalidInput: no such request.
    """
    row = store.one("SELECT id, prompt, created_at FROM request WHERE id = ?", (request_id,))
    if row is None:
        raise InvalidInput("request", f"no request {request_id}")
    jobs = store.all(
        "SELECT id, vendor, model, state FROM job WHERE request_id = ? ORDER BY id", (request_id,)
    )
    states = Counter(j["state"] for j in jobs)
    costs = _job_costs(store, "job.request_id = ?", (request_id,))
    takes = store.one(
        "SELECT COUNT(*) AS n, SUM(verdict = 'usable') AS usable FROM take WHERE request_id = ?",
        (request_id,),
    )
    duels = store.scalar("SELECT COUNT(*) FROM duel WHERE request_id = ?", (request_id,))
    return BatchSummary(
        request_id=row["id"],
        prompt=row["prompt"],
        created_at=row["created_at"],
        targets=tuple(dict.fromkeys(_key(j["vendor"], j["model"]) for j in jobs)),
        jobs=len(jobs),
        done=states["done"],
        failed=states["failed"],
        active=sum(states[s] for s in ("queued", "submitting", "running", "downloading")),
        takes=int(takes["n"] if takes else 0),
        usable=int((takes["usable"] if takes else 0) or 0),
        duels=int(duels or 0),
        cost=_tally(costs[j["id"]] for j in jobs if j["id"] in costs),
        untracked=sum(1 for c in costs.values() if not c.tracked),
    )
