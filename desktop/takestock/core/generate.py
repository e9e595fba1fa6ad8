"""One way to queue: the CLI's ``generate`` and the Generate screen both call
:func:`queue_request`.

What it does, in this order, storing nothing until every check has passed:

1. *Plan*: each target is resolved to the account that pays (:func:`resolve_account`),
   validated and priced (in that account's unit), and its key looked up.
2. *Refuse what would surprise*: a take whose price is unknown, on an account that has a
   finite balance or a budget (unless the user said yes: ``allow_unpriced``); takes that
   no longer fit once the takes before them are paid (the request is priced as a whole,
   every target and count drawing on the same buckets).
3. *Store*, in one transaction: the prompt version, the vendor's "default" account where
   a target needs it, the request, its jobs and their holds. A refusal anywhere, a budget
   included, stores nothing.

Accounts: a target that names no account uses the vendor's only account, else the one
marked default; several and none marked is refused naming them. A vendor with no account
at all gets a visible one named ``default`` on first use: the key in the environment
(``TAKESTOCK_<VENDOR>_API_KEY``) and the keyring's ``default`` entry belong to it, and
it shows in ``accounts`` and ``credits`` like any other.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from takestock.core import budgets, credits
from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.credits import Account
from takestock.core.errors import InvalidInput
from takestock.core.grants import materialise
from takestock.core.jobs import (
    Engine,
    JobEvent,
    Target,
    check_and_price,
    get_job,
    resolve_secrets,
)
from takestock.core.pricing import in_unit
from takestock.core.prompts import edit_prompt, find_or_create_adhoc
from takestock.core.store import Store
from takestock.core.vendor import Estimate, GenerationRequest

__all__ = [
    "ENV_ACCOUNT",
    "Planned",
    "Queued",
    "UnpricedTakes",
    "account_unit",
    "attach_file",
    "plan_request",
    "queue_request",
    "resolve_account",
    "web_price",
]

#: The account that the environment's key (and the keyring's default entry) belongs to.
ENV_ACCOUNT = "default"
MAX_COUNT = 20


class UnpricedTakes(InvalidInput):
    """Takes whose price is unknown on accounts that watch their spending.

    The app asks the user; the command line refuses unless ``--allow-unpriced``.

    Attributes:
        targets: the targets concerned.
    """

    def __init__(self, targets: Sequence[Planned]) -> None:
        lines = "; ".join(
            f"{p.vendor.id}:{p.model.id}@{p.account_name}: "
            f"{p.estimate.reason or 'the price is not known'}"
            for p in targets
        )
        super().__init__(
            "price",
            f"the price is unknown ({lines}). Nothing would be held, and the budget and "
            "balance checks cannot protect these takes; pass --allow-unpriced to generate "
            "anyway (the charge is recorded when the vendor or you report it)",
        )
        self.targets = tuple(targets)


@dataclass(frozen=True, slots=True)
class Planned:
    """One target checked and priced for one take.

    Attributes:
        target: the target with its account filled in.
        account: the paying account; None while the vendor's ``default`` account does
            not exist yet (queueing adds it).
        estimate: one take's cost in the account's unit (or the vendor's, without one).
    """

    target: Target
    vendor: VendorSpec
    model: ModelSpec
    estimate: Estimate
    account: Account | None

    @property
    def account_name(self) -> str:
        return self.account.name if self.account is not None else ENV_ACCOUNT

    @property
    def manual(self) -> bool:
        """Made by hand on the vendor's site (a web-only account)."""
        return self.account is not None and self.account.kind == "web"


@dataclass(frozen=True, slots=True)
class Queued:
    """What :func:`queue_request` stored."""

    request_id: int
    job_ids: tuple[int, ...]
    prompt_version_id: int | None
    planned: tuple[Planned, ...]
    added_accounts: tuple[str, ...]  # "vendor/name" of the accounts added on the way


def account_unit(account: Account, vendor: VendorSpec) -> tuple[str, float | None]:
    """What ``account`` counts in and one unit's worth in money: its own where it was
    given one (a plan book's, or set by the user), else its vendor's catalog unit."""
    if account.unit_given:
        return account.unit, account.money_per_unit
    if account.kind == "web" and not vendor.sandbox:
        return "credits", None  # the site's own credits, never the API's unit
    return vendor.unit, vendor.money_per_unit


def web_price(store: Store, vendor: str, model: str, unknown: Estimate) -> Estimate:
    """The price the user gave for a take of ``model`` on the vendor's site (asked once,
    when the first such take was attached), else ``unknown`` as it is."""
    row = store.one(
        "SELECT per_take FROM web_price WHERE vendor = ? AND model = ? AND unit = ?",
        (vendor, model, unknown.unit),
    )
    if row is None:
        return unknown
    return Estimate(float(row["per_take"]), unknown.unit, None, unknown.currency)


def attach_file(engine: Engine, job_id: int, path: Path, *, charged: float | None = None) -> int:
    """Finish a job made on the vendor's site with its file, charging what the site
    charged: ``charged`` confirms or corrects the estimate, and is required where the
    site's price is unknown; that price is then remembered for the model (asked once).
    Returns the take id. For callers off the engine's loop (the command line)."""
    unit = _check_attach(engine, job_id, charged)
    take_id = engine.attach(job_id, path, charged=charged)
    _remember_site_price(engine, job_id, unit, charged)
    return take_id


async def attach_file_async(
    engine: Engine, job_id: int, path: Path, *, charged: float | None = None
) -> int:
    """:func:`attach_file` on the engine's loop: the file is checked and copied in a
    thread, so the other jobs' polls go on meanwhile (the app's way)."""
    unit = _check_attach(engine, job_id, charged)
    take_id = await engine.attach_async(job_id, path, charged=charged)
    _remember_site_price(engine, job_id, unit, charged)
    return take_id


def _check_attach(engine: Engine, job_id: int, charged: float | None) -> str:
    """Refuse an attach that cannot be charged right; returns the estimate's unit."""
    job = get_job(engine.store, job_id)
    if charged is not None and (charged != charged or charged < 0):
        raise InvalidInput("charged", "must be zero or more")
    estimate = job.estimate or {}
    unit = str(estimate.get("unit") or "credits")
    if estimate.get("amount") is None and job.account_id is not None and charged is None:
        raise InvalidInput(
            "charged",
            f"what {job.vendor}'s site charges for {job.model} is not known: say what it "
            f"charged, e.g. `takestock jobs attach {job_id} FILE --charged N` ({unit})",
        )
    if not job.manual or job.state != "running":
        raise InvalidInput("job", f"job {job_id} is not waiting for a file")
    return unit


def _remember_site_price(engine: Engine, job_id: int, unit: str, charged: float | None) -> None:
    """A site price the user told us where none was published: asked once per model."""
    job = get_job(engine.store, job_id)
    if charged is None or (job.estimate or {}).get("amount") is not None:
        return
    with engine.store.tx():
        engine.store.execute(
            "INSERT INTO web_price(vendor, model, unit, per_take, set_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (vendor, model, unit)"
            " DO UPDATE SET per_take = excluded.per_take, set_at = excluded.set_at",
            (job.vendor, job.model, unit, charged, time.time()),
        )


def _accounts_of(store: Store, vendor_id: str) -> list[Account]:
    return [a for a in credits.list_accounts(store) if a.vendor == vendor_id]


def resolve_account(
    store: Store,
    vendor: VendorSpec,
    name: str | None,
    *,
    speaks: bool,
    accounts: Sequence[Account] | None = None,
) -> Account | None:
    """The account a target pays with; None when the vendor has none yet and its
    ``default`` account is to be added. Raises InvalidInput naming the choices.

    ``speaks``: whether Takestock has an adapter for the vendor (without one, only web
    accounts can take the request). ``accounts``: every account, when the caller holds
    them already (one read for many targets).
    """
    everyone = list(accounts) if accounts is not None else _accounts_of(store, vendor.id)
    mine = [a for a in everyone if a.vendor == vendor.id]
    if name is not None:
        found = [a for a in mine if a.name == name]
        if not found and name == ENV_ACCOUNT and speaks:
            return None  # the environment's key's account, added on first use
        if not found:
            known = ", ".join(a.name for a in mine) or "none yet"
            raise InvalidInput(
                "account", f"{vendor.name} has no account {name!r} (its accounts: {known})"
            )
        account = found[0]
        if account.closed_at is not None:
            why = account.closed_reason or "read-only"
            raise InvalidInput("account", f"{account.name} is closed ({why})")
        if account.kind == "api" and not speaks:
            raise InvalidInput("vendor", f"Takestock cannot talk to {vendor.name} yet")
        return account
    open_ = [a for a in mine if a.closed_at is None and (speaks or a.kind == "web")]
    if not open_:
        if not speaks:
            raise InvalidInput(
                "vendor",
                f"Takestock cannot talk to {vendor.name} yet; add a web account to make "
                f"takes on its site: `takestock accounts add {vendor.id} --name NAME --kind web`",
            )
        if any(a.name == ENV_ACCOUNT for a in mine):
            raise InvalidInput(
                "account", f"{vendor.name}'s account {ENV_ACCOUNT!r} is closed; name another"
            )
        return None
    if len(open_) == 1:
        return open_[0]
    marked = [a for a in open_ if a.is_default]
    if marked:
        return marked[0]
    names = ", ".join(a.name for a in open_)
    raise InvalidInput(
        "account",
        f"{vendor.name} has several accounts ({names}) and none is marked default: name one "
        f"with --account NAME (or --target {vendor.id}:MODEL@NAME), or mark one with "
        f"`takestock accounts default NAME --vendor {vendor.id}`",
    )


def _key_problem(engine: Engine, vendor: VendorSpec, account_name: str) -> str | None:
    found = resolve_secrets(engine.credentials, vendor, account_name)
    missing = vendor.missing_secrets(found)
    if not missing:
        return None
    env = ", ".join(f"{vendor.env_prefix}_{f.upper()}" for f in missing)
    where = f" --account {account_name}" if account_name != ENV_ACCOUNT else ""
    also = f" or set {env} (the environment's key is account {ENV_ACCOUNT!r}'s)"
    return (
        f"no {', '.join(missing)} for {vendor.name} account {account_name!r}: run "
        f"`takestock keys set {vendor.id}{where}`" + (also if not where else "")
    )


def _check_platform(
    engine: Engine,
    adapter: object,
    vendor: VendorSpec,
    model: ModelSpec,
    account: Account | None,
) -> None:
    """A model the account's platform lacks (Ark's regions) is invalid input, refused
    here, before a job is stored, rather than by the vendor's server at submit."""
    from takestock.core.vendor import ChecksPlatform  # here: start-up imports stay lean
    from takestock.core.vendor_address import base_url_for

    if not isinstance(adapter, ChecksPlatform):
        return
    region = account.region if account is not None else "default"
    account_url = account.base_url if account is not None else None
    url = base_url_for(vendor, engine.environ, account_url, region)
    adapter.validate_platform(model, region, url)


def plan_request(
    engine: Engine,
    request: GenerationRequest,
    targets: Sequence[Target],
    *,
    check_keys: bool = True,
) -> list[Planned]:
    """Check every target against the request; raises InvalidInput, sends and stores
    nothing. ``check_keys`` False (``estimate``): a missing key is not a refusal."""
    if not targets:
        raise InvalidInput("target", "name at least one vendor and model")
    accounts = credits.list_accounts(engine.store)
    planned = []
    for target in targets:
        vendor = engine.catalog.vendor(target.vendor)
        model = engine.catalog.model(target.vendor, target.model)
        adapter = engine.adapters.get(vendor.id)
        account = resolve_account(
            engine.store, vendor, target.account, speaks=adapter is not None, accounts=accounts
        )
        # On a web-only account the creator generates on the vendor's site: no key and
        # no adapter needed; the catalog's limits still hold.
        web = account is not None and account.kind == "web"
        book = engine.plan_books.get(f"{vendor.id}/web") if web else None
        estimate = check_and_price(
            adapter,
            request,
            vendor,
            model,
            web_book=book,
            plan=account.plan if account is not None else None,
            on_site=web,
        )
        if not web:
            _check_platform(engine, adapter, vendor, model, account)
        if web and account is not None and not estimate.known:
            estimate = web_price(engine.store, vendor.id, model.id, estimate)
        if account is not None:
            unit, rate = account_unit(account, vendor)
            estimate = in_unit(estimate, unit, rate, where=account.name)
        name = account.name if account is not None else ENV_ACCOUNT
        if check_keys and vendor.secrets and not web:
            problem = _key_problem(engine, vendor, name)
            if problem is not None:
                raise InvalidInput("key", problem)
        planned.append(Planned(Target(vendor.id, model.id, name), vendor, model, estimate, account))
    return planned


def _watched(store: Store, account: Account | None, tags: Sequence[str]) -> bool:
    """Whether an unknown price on this account would slip past a guard: the account
    tracks a balance, or a budget covers it or one of the prompt's tags."""
    if account is None:
        return bool(tags) and bool(
            store.scalar(
                f"SELECT 1 FROM budget WHERE tag IN ({', '.join('?' * len(tags))})", tuple(tags)
            )
        )
    if store.scalar("SELECT 1 FROM credit_bucket WHERE account_id = ? LIMIT 1", (account.id,)):
        return True
    marks = ", ".join("?" * len(tags)) or "NULL"
    return bool(
        store.scalar(
            f"SELECT 1 FROM budget WHERE account_id = ? OR tag IN ({marks})",
            (account.id, *tags),
        )
    )


def prompt_tags(store: Store, prompt_version_id: int | None) -> list[str]:
    """The tags of the prompt a version belongs to (budgets per tag count them)."""
    if prompt_version_id is None:
        return []
    rows = store.all(
        "SELECT t.name FROM prompt_version v JOIN prompt_tag pt ON pt.prompt_id = v.prompt_id"
        " JOIN tag t ON t.id = pt.tag_id WHERE v.id = ? ORDER BY t.name",
        (prompt_version_id,),
    )
    return [r[0] for r in rows]


def _tag_prompt(store: Store, prompt_version_id: int | None, tags: Sequence[str]) -> None:
    """File the prompt under ``tags`` (projects): a tag's budget counts its prompts' takes."""
    wanted = {t.strip() for t in tags if t.strip()}
    if not wanted:
        return
    if prompt_version_id is None:
        raise InvalidInput("tag", "a tag files a prompt; give the take some words to tag")
    have = prompt_tags(store, prompt_version_id)
    if wanted <= set(have):
        return
    prompt_id = int(
        store.scalar("SELECT prompt_id FROM prompt_version WHERE id = ?", (prompt_version_id,))
    )
    edit_prompt(store, prompt_id, tags=sorted({*have, *wanted}))


def queue_request(
    engine: Engine,
    request: GenerationRequest,
    targets: Sequence[Target],
    *,
    count: int = 1,
    prompt_version_id: int | None = None,
    prompt_text: str | None = None,
    negative: str = "",
    tags: Sequence[str] = (),
    allow_overdraft: bool = False,
    allow_unpriced: bool = False,
) -> Queued:
    """Plan, check and store one request: prompt version, jobs and holds together.

    ``prompt_text`` (typed words) is filed in the prompt library in the same
    transaction, unless ``prompt_version_id`` names the version already; ``tags`` are
    added to its prompt, and the budgets of every tag of the prompt apply. Jobs on a
    web-only account are *manual*: the creator makes the take on the vendor's site and
    attaches its file.
    """
    from takestock.core.estimates import cost_request  # estimates imports this module

    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput("count", f"must be 1 to {MAX_COUNT} takes per target")
    planned = plan_request(engine, request, targets)
    store = engine.store
    now = engine._clock()
    materialise(store, now)
    added: list[str] = []
    job_ids: list[int] = []
    with store.tx():
        if prompt_version_id is None and prompt_text and prompt_text.strip():
            prompt_version_id = find_or_create_adhoc(store, prompt_text, negative).id
        _tag_prompt(store, prompt_version_id, tags)
        all_tags = prompt_tags(store, prompt_version_id)
        unpriced = [
            p for p in planned if not p.estimate.known and _watched(store, p.account, all_tags)
        ]
        if unpriced and not allow_unpriced:
            raise UnpricedTakes(unpriced)
        planned = [_with_account(engine, p, now, added) for p in planned]
        if not allow_overdraft:
            short = [
                c
                for c in cost_request(store, engine.plan_books, planned, count, now=now)
                if c.problem is not None
            ]
            if short:
                raise InvalidInput("credits", "; ".join(c.problem for c in short if c.problem))
        cur = store.execute(
            "INSERT INTO request(prompt_version_id, prompt, params, created_at)"
            " VALUES (?, ?, ?, ?)",
            (prompt_version_id, request.prompt, json.dumps(request.to_json()), now),
        )
        request_id = cur.lastrowid
        assert request_id is not None
        for plan in planned:
            assert plan.account is not None
            for _ in range(count):
                cur = store.execute(
                    "INSERT INTO job(request_id, vendor, model, account_id, state,"
                    " client_request_id, estimate, manual, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        request_id,
                        plan.vendor.id,
                        plan.model.id,
                        plan.account.id,
                        "running" if plan.manual else "queued",
                        f"ts-{uuid.uuid4().hex}",
                        json.dumps(plan.estimate.to_json()),
                        int(plan.manual),
                        now,
                        now,
                    ),
                )
                job_id = cur.lastrowid
                assert job_id is not None
                job_ids.append(job_id)
                hold(engine, plan, job_id, all_tags, allow_overdraft=allow_overdraft, now=now)
    for job_id in job_ids:
        engine._emit(JobEvent(job_id, "queued"))
    return Queued(request_id, tuple(job_ids), prompt_version_id, tuple(planned), tuple(added))


def _with_account(engine: Engine, plan: Planned, now: float, added: list[str]) -> Planned:
    """The plan with its account, adding the vendor's visible ``default`` account where
    the target needs it (inside the caller's transaction)."""
    if plan.account is not None:
        return plan
    store = engine.store
    existing = store.one(
        "SELECT id FROM account WHERE vendor = ? AND name = ?", (plan.vendor.id, ENV_ACCOUNT)
    )
    if existing is not None:
        account = credits.get_account(store, int(existing["id"]))
    else:
        account = credits.add_account(
            store,
            engine.plan_books,
            vendor=plan.vendor.id,
            name=ENV_ACCOUNT,
            kind="api",
            unit=plan.vendor.unit,
            money_per_unit=plan.vendor.money_per_unit,
            now=now,
        )
        added.append(f"{plan.vendor.id}/{ENV_ACCOUNT}")
    unit, rate = account_unit(account, plan.vendor)
    estimate = in_unit(plan.estimate, unit, rate, where=account.name)
    return replace(plan, account=account, estimate=estimate)


def hold(
    engine: Engine,
    plan: Planned,
    job_id: int,
    tags: Sequence[str],
    *,
    allow_overdraft: bool,
    now: float | None = None,
) -> None:
    """Check the budgets and hold one take's price on the plan's account.

    An unknown price holds nothing (the user agreed to it); a budget is still checked
    for what is spent already.
    """
    assert plan.account is not None
    now = time.time() if now is None else now
    amount = plan.estimate.amount
    account = plan.account
    if not allow_overdraft:
        budgets.check_budget(engine.store, account.id, tags, amount or 0.0, now=now)
    book = engine.plan_books.get(f"{plan.vendor.id}/{account.kind}")
    credits.reserve(
        engine.store,
        account.id,
        job_id,
        amount or 0.0,
        vendor_order=book.spend_order if book else ("expiring_first",),
        order_known=bool(book and book.spend_order_known),
        allow_overdraft=allow_overdraft,
        surface=account.kind,  # "api" or "web": which credits may pay
        now=now,
    )
