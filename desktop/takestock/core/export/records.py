"""What an export says about each take: the selection, the records read from the store,
the sidecar and the CSV row, with nothing secret in them (:func:`public_parameters`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from takestock.core.errors import InvalidInput
from takestock.core.logs import redact
from takestock.core.store import Store
from takestock.core.takes import Take, TakeFilter, Verdict, get_take, take_ids

#: Fields of each sidecar, in order; the CSV has the same facts, one column per leaf.
#: ``take_id`` and ``file`` tie a sidecar or row to its video.
SIDECAR_FIELDS: tuple[str, ...] = (
    "take_id",
    "file",
    "prompt",
    "negative_prompt",
    "parameters",
    "vendor",
    "model",
    "account",
    "cost",
    "verdict",
    "stars",
    "reasons",
    "sha256",
)

CSV_COLUMNS: tuple[str, ...] = (
    "take_id",
    "file",
    "prompt",
    "negative_prompt",
    "parameters",
    "vendor",
    "model",
    "account",
    "estimate_amount",
    "estimate_unit",
    "estimate_money",
    "estimate_currency",
    "actual_amount",
    "actual_unit",
    "actual_money",
    "actual_currency",
    "verdict",
    "stars",
    "reasons",
    "sha256",
)


# ================================================================== selection


@dataclass(frozen=True, slots=True)
class Selection:
    """Which takes to export; every given criterion must hold.

    Attributes:
        take_ids: only these takes, exported in this order (else oldest first).
        verdict: only takes with this verdict.
        request_id: only takes of this request (a comparison group).
        tag: only takes whose prompt carries this tag (any case).
        since: only takes made at or after this time (epoch seconds).
        until: only takes made before this time (epoch seconds).
    """

    take_ids: tuple[int, ...] = ()
    verdict: Verdict | None = None
    request_id: int | None = None
    tag: str | None = None
    since: float | None = None
    until: float | None = None


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_takes(store: Store, media_root: Path, selection: Selection) -> list[Take]:
    """The takes ``selection`` names; an explicit id that does not exist is an error."""
    where = TakeFilter(
        verdict=selection.verdict,
        request_id=selection.request_id,
        tag=selection.tag or None,
        since=selection.since,
        until=selection.until,
    )
    matching = take_ids(store, where)  # newest first
    if not selection.take_ids:
        return [get_take(store, media_root, t) for t in reversed(matching)]
    wanted = list(dict.fromkeys(selection.take_ids))
    existing: set[int] = set()
    for chunk in _chunks(wanted):
        marks = ", ".join("?" * len(chunk))
        existing.update(
            r[0] for r in store.all(f"SELECT id FROM take WHERE id IN ({marks})", chunk)
        )
    missing = [t for t in wanted if t not in existing]
    if missing:
        raise InvalidInput("take", f"no take {', '.join(map(str, missing))}")
    allowed = set(matching)
    return [get_take(store, media_root, t) for t in wanted if t in allowed]


# ==================================================================== records


@dataclass(frozen=True, slots=True)
class TakeRecord:
    """A take with everything its sidecar says.

    Attributes:
        take: the take.
        title: the prompt's title, ``untitled`` when the take has no prompt.
        prompt: the prompt version's text ("" when none).
        negative: the prompt version's negative prompt.
        parameters: the request's parameters, secrets removed (see
            :func:`public_parameters`).
        account: the job's account name, ``default`` when the job named none.
        estimate: the job's estimate (amount, unit, money, currency), or None.
        actual: what was charged (amount, unit, money, currency), or None when unknown.
        tags: the prompt's tags.
    """

    take: Take
    title: str
    prompt: str
    negative: str
    parameters: Mapping[str, Any]
    account: str
    estimate: Mapping[str, Any] | None
    actual: Mapping[str, Any] | None
    tags: tuple[str, ...] = ()


_SECRET_KEY = re.compile(
    r"api[_-]?key|secret|token|password|passwd|authori[sz]ation|credential|cookie"
    r"|signature|private[_-]?key|access[_-]?key|session",
    re.IGNORECASE,
)


def public_parameters(value: Any) -> Any:
    """``value`` (request parameters) with credential-named keys dropped and every string
    redacted as log lines are (signed URL queries, bearer tokens, registered secrets)."""
    if isinstance(value, Mapping):
        return {
            str(k): public_parameters(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))
        }
    if isinstance(value, list | tuple):
        return [public_parameters(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _money(
    amount: float, estimate: Mapping[str, Any] | None, per_unit: float | None
) -> float | None:
    """``amount`` of the vendor's unit in money: at the estimate's price, else at the
    account's (to a millionth: the products of prices carry float noise)."""
    if estimate and estimate.get("money") is not None and estimate.get("amount"):
        return round(float(estimate["money"]) * amount / float(estimate["amount"]), 6)
    if per_unit is not None:
        return round(per_unit * amount, 6)
    return None


def load_records(store: Store, takes: Sequence[Take]) -> list[TakeRecord]:
    """Each take's prompt, parameters, account and cost, read in a few queries."""
    ids = [t.id for t in takes]
    rows: dict[int, Any] = {}
    charged: dict[int, float] = {}
    tags: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for row in store.all(
            "SELECT take.id AS take_id, request.params AS params, pv.text AS text,"
            " pv.negative AS negative, pv.prompt_id AS prompt_id, prompt.title AS title,"
            " job.id AS job_id, job.estimate AS estimate, job.cost_actual AS cost_actual,"
            " account.name AS account, account.money_per_unit AS per_unit,"
            " account.unit AS unit"
            " FROM take LEFT JOIN request ON request.id = take.request_id"
            " LEFT JOIN prompt_version pv ON pv.id = request.prompt_version_id"
            " LEFT JOIN prompt ON prompt.id = pv.prompt_id"
            " LEFT JOIN job ON job.id = take.job_id"
            " LEFT JOIN account ON account.id = job.account_id"
            f" WHERE take.id IN ({marks})",
            list(chunk),
        ):
            rows[row["take_id"]] = row
        for row in store.all(
            "SELECT take.id AS take_id, -SUM(ledger.amount) AS charged FROM take"
            " JOIN ledger ON ledger.job_id = take.job_id AND ledger.kind = 'capture'"
            f" WHERE take.id IN ({marks}) GROUP BY take.id",
            list(chunk),
        ):
            charged[row["take_id"]] = float(row["charged"])
        for row in store.all(
            "SELECT take.id AS take_id, tag.name AS name FROM take"
            " JOIN request ON request.id = take.request_id"
            " JOIN prompt_version pv ON pv.id = request.prompt_version_id"
            " JOIN prompt_tag pt ON pt.prompt_id = pv.prompt_id"
            " JOIN tag ON tag.id = pt.tag_id"
            f" WHERE take.id IN ({marks}) ORDER BY tag.name",
            list(chunk),
        ):
            tags.setdefault(row["take_id"], []).append(row["name"])
    records = []
    for take in takes:
        row = rows[take.id]
        raw_params: dict[str, Any] = json.loads(row["params"]) if row["params"] else {}
        prompt = row["text"] if row["text"] is not None else (take.prompt or "")
        negative = row["negative"] if row["negative"] is not None else ""
        # The request keeps the words as sent; they only add something when variables
        # were filled in, so they stay in the parameters only then.
        if raw_params.get("prompt") in (prompt, None, ""):
            raw_params.pop("prompt", None)
        if raw_params.get("negative") in (negative, None, ""):
            raw_params.pop("negative", None)
        # Options left unset say nothing.
        raw_params = {k: v for k, v in raw_params.items() if v not in (None, {}, [])}
        estimate: dict[str, Any] | None = json.loads(row["estimate"]) if row["estimate"] else None
        amount = row["cost_actual"] if row["cost_actual"] is not None else charged.get(take.id)
        actual: dict[str, Any] | None = None
        if amount is not None:
            unit = (estimate or {}).get("unit") or row["unit"] or "credits"
            actual = {
                "amount": float(amount),
                "unit": unit,
                "money": _money(float(amount), estimate, row["per_unit"]),
                "currency": (estimate or {}).get("currency"),
            }
        records.append(
            TakeRecord(
                take=take,
                title=row["title"] or "untitled",
                prompt=prompt,
                negative=negative,
                parameters=public_parameters(raw_params),
                account=row["account"] or "default",
                estimate=estimate,
                actual=actual,
                tags=tuple(tags.get(take.id, ())),
            )
        )
    return records


def sidecar(record: TakeRecord, file_name: str) -> dict[str, Any]:
    """The sidecar's content: :data:`SIDECAR_FIELDS`, in order."""
    take = record.take
    return {
        "take_id": take.id,
        "file": file_name,
        "prompt": record.prompt,
        "negative_prompt": record.negative,
        "parameters": dict(record.parameters),
        "vendor": take.vendor,
        "model": take.model,
        "account": record.account,
        "cost": {
            "estimate": dict(record.estimate) if record.estimate else None,
            "actual": dict(record.actual) if record.actual else None,
        },
        "verdict": take.verdict,
        "stars": take.stars,
        "reasons": list(take.reasons),
        "sha256": take.sha256,
    }


# A spreadsheet runs a cell that starts like a formula; a quote makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def _csv_row(data: Mapping[str, Any]) -> list[str]:
    cost = data["cost"]
    est = cost["estimate"] or {}
    act = cost["actual"] or {}
    values = {
        **{k: data[k] for k in ("take_id", "file", "prompt", "negative_prompt")},
        "parameters": json.dumps(data["parameters"], ensure_ascii=False, sort_keys=True),
        **{k: data[k] for k in ("vendor", "model", "account", "verdict", "stars", "sha256")},
        "estimate_amount": est.get("amount"),
        "estimate_unit": est.get("unit"),
        "estimate_money": est.get("money"),
        "estimate_currency": est.get("currency"),
        "actual_amount": act.get("amount"),
        "actual_unit": act.get("unit"),
        "actual_money": act.get("money"),
        "actual_currency": act.get("currency"),
        "reasons": "; ".join(data["reasons"]),
    }
    return [_cell(values[c]) for c in CSV_COLUMNS]
