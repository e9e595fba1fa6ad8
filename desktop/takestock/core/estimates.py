"""What a request would cost on each target, and which credits would pay for it.

Shared by ``takestock estimate`` and the Generate screen; nothing here sends or stores
anything. Three questions, answered apart because they cost differently:

- :func:`check_model`: can this model take the request, and what does one take cost?
  (the adapter's ``validate`` and ``estimate``; no network, but input images are read)
- :func:`key_problem`: would the engine refuse the target for want of a secret?
  (the environment, then the OS keyring)
- :func:`cost_request`: which buckets of which account pay, and what is left after,
  take after take (the ledger: one read of every balance)

:func:`target_options` lists what can be picked (vendor × model × account) and
:func:`target_lines` puts the three answers together per option, in the order the
engine would spend: the ticked targets first, in order, then each unticked one as if
it were ticked next.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from takestock.core import credits
from takestock.core.catalog import Catalog, ImageLimits, ModelSpec, VendorSpec
from takestock.core.credits import Account, BucketBalance, PlanBook
from takestock.core.errors import InvalidInput, SecretsUnavailable
from takestock.core.generate import ENV_ACCOUNT, Planned, account_unit, web_price
from takestock.core.jobs import (
    Credentials,
    Target,
    check_and_price,
    resolve_secrets,
)
from takestock.core.pricing import in_unit
from takestock.core.store import Store
from takestock.core.validation import ImageFacts, check_image
from takestock.core.vendor import Estimate, GenerationRequest, Mode, VendorAdapter

__all__ = [
    "CheckKey",
    "Funding",
    "FundingPart",
    "ImageReport",
    "ModelCheck",
    "RequestCost",
    "TargetLine",
    "TargetOption",
    "check_key",
    "check_model",
    "check_models",
    "cost_request",
    "default_target",
    "fund",
    "image_report",
    "key_problem",
    "target_lines",
    "target_options",
    "tracked_accounts",
    "web_url",
]

_EPSILON = 1e-9


# ------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class TargetOption:
    """One pickable target: a vendor's model on an account, or on the API key alone."""

    target: Target
    vendor: VendorSpec
    model: ModelSpec
    account: Account | None  # None: the vendor's API key, no credits tracked

    @property
    def manual(self) -> bool:
        """A web-only account: the take is made by hand on the vendor's site."""
        return self.account is not None and self.account.kind == "web"


def target_options(
    catalog: Catalog, adapters: Container[str], accounts: Iterable[Account]
) -> list[TargetOption]:
    """Every target the user can pick, by vendor name, then catalog order of models.

    Retired models and closed accounts are left out. Each model gets a row per open
    account of its vendor, and a row for the bare API key (``account`` None) when the
    vendor has no API account: a web account alone must not hide the key the user may
    also have (its target names the ``default`` account, which the environment's key
    belongs to). A vendor Takestock cannot talk to offers only its web-only accounts.
    """
    by_vendor: dict[str, list[Account]] = {}
    for account in accounts:
        if account.closed_at is None:
            by_vendor.setdefault(account.vendor, []).append(account)
    options: list[TargetOption] = []
    for vendor in sorted(catalog, key=lambda v: v.name.casefold()):
        speaks = vendor.id in adapters
        own: list[Account | None] = [
            a for a in by_vendor.get(vendor.id, []) if speaks or a.kind == "web"
        ]
        keyed: list[Account | None] = (
            [] if not speaks or any(a is not None and a.kind == "api" for a in own) else [None]
        )
        for model in vendor.models.values():
            if not model.available:
                continue
            for payer in keyed + own:
                # The bare key is the vendor's "default" account's (added on first use).
                name = payer.name if payer is not None else ENV_ACCOUNT
                options.append(
                    TargetOption(Target(vendor.id, model.id, name), vendor, model, payer)
                )
    return options


def web_url(option: TargetOption) -> str | None:
    """Where a web-only account's takes are made: the catalog's ``extra.web_url`` of the
    model, else of the vendor; None where the catalog names no page."""
    for extra in (option.model.extra, option.vendor.extra):
        url = extra.get("web_url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
    return None


def default_target(options: Sequence[TargetOption]) -> Target | None:
    """What a new user starts on: the sandbox (it needs no key), else the first option."""
    sandbox = [o for o in options if o.vendor.sandbox]
    for pool in (sandbox, options):
        for option in pool:
            if option.account is None:
                return option.target
        if pool:
            return pool[0].target
    return None


# ------------------------------------------------------------- model checks


#: What a check depends on: the vendor, the model, whether it is made on the site, and
#: there the paying account's plan (some sites price by plan: Flow Ultra pays half).
CheckKey = tuple[str, str, bool, str | None]


@dataclass(frozen=True, slots=True)
class ModelCheck:
    """Whether one model can take a request, and what one take would cost there.

    Attributes:
        estimate: one take's cost; None when the model refuses the request.
        problem: why the model refuses it.
    """

    vendor: str
    model: str
    estimate: Estimate | None
    problem: InvalidInput | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_key(option: TargetOption) -> CheckKey:
    plan = option.account.plan if option.manual and option.account is not None else None
    return (option.vendor.id, option.model.id, option.manual, plan)


def check_model(
    adapter: VendorAdapter | None,
    request: GenerationRequest,
    vendor: VendorSpec,
    model: ModelSpec,
    *,
    web_book: PlanBook | None = None,
    plan: str | None = None,
    on_site: bool = False,
) -> ModelCheck:
    """Validate and price one take, as :meth:`takestock.core.jobs.Engine.plan` does.

    An empty prompt is every model's problem, not one model's: it is left to the
    engine to refuse when generating, so that rows stay comparable while typing.
    Input images are read (their size and shape are checked): call this off the UI
    thread.
    """
    probe = request
    if not request.prompt.strip() and request.mode is Mode.TEXT:
        probe = dataclasses.replace(request, prompt="-")  # the words do not change a price
    try:
        estimate = check_and_price(
            adapter, probe, vendor, model, web_book=web_book, plan=plan, on_site=on_site
        )
    except InvalidInput as exc:
        return ModelCheck(vendor.id, model.id, None, exc)
    return ModelCheck(vendor.id, model.id, estimate, None)


def check_models(
    catalog: Catalog,
    adapters: Mapping[str, VendorAdapter],
    plan_books: Mapping[str, PlanBook],
    request: GenerationRequest,
    options: Iterable[TargetOption],
) -> dict[CheckKey, ModelCheck]:
    """:func:`check_model` for each option's model, each :data:`CheckKey` once."""
    out: dict[CheckKey, ModelCheck] = {}
    for option in options:
        key = check_key(option)
        if key in out:
            continue
        out[key] = check_model(
            adapters.get(option.vendor.id) if option.vendor.id in adapters else None,
            request,
            option.vendor,
            option.model,
            web_book=plan_books.get(f"{option.vendor.id}/web") if option.manual else None,
            plan=key[3],
            on_site=option.manual,
        )
    return out


def key_problem(
    credentials: Credentials, vendor: VendorSpec, account: Account | None
) -> str | None:
    """Why the engine would refuse the target for want of a secret, or None.

    Web-only accounts need none: their takes are made by hand on the vendor's site.
    May ask the OS keyring (which can be slow or locked): call this off the UI thread.
    """
    if not vendor.secrets or (account is not None and account.kind == "web"):
        return None
    name = account.name if account is not None else "default"
    try:
        found = resolve_secrets(credentials, vendor, name)
    except SecretsUnavailable as exc:
        return exc.message
    missing = vendor.missing_secrets(found)
    if not missing:
        return None
    whose = vendor.name if account is None else f"{vendor.name} account {name}"
    words = " and ".join(m.replace("_", " ").replace("api ", "API ") for m in missing)
    them = "them" if len(missing) > 1 else "it"
    return f"no {words} for {whose}: add {them} in Settings (or `takestock keys set {vendor.id}`)"


@dataclass(frozen=True, slots=True)
class ImageReport:
    """An input image read once and held against several models' limits.

    Attributes:
        facts: what the image is (None when it cannot be read as an image).
        problems: ``(vendor, model, message)`` for each model that would refuse it;
            with no facts, one entry with empty names says why it cannot be read.
    """

    facts: ImageFacts | None
    problems: tuple[tuple[str, str, str], ...]


_ANY_IMAGE = ImageLimits(min_side=0, min_aspect=0.0, max_aspect=math.inf)


def image_report(
    path: Path, models: Iterable[tuple[VendorSpec, ModelSpec]], *, field: str = "image"
) -> ImageReport:
    """Check ``path`` against each model's image limits (as its ``validate`` would),
    reading it once per distinct set of limits. Reads the file: off the UI thread."""
    try:
        facts = check_image(path, _ANY_IMAGE, field=field)
    except InvalidInput as exc:
        return ImageReport(None, (("", "", exc.message),))
    by_limits: dict[ImageLimits, list[tuple[VendorSpec, ModelSpec]]] = {}
    for vendor, model in models:
        by_limits.setdefault(model.image, []).append((vendor, model))
    problems = []
    for limits, group in by_limits.items():
        try:
            check_image(path, limits, field=field)
        except InvalidInput as exc:
            problems += [(vendor.name, model.label, exc.message) for vendor, model in group]
    return ImageReport(facts, tuple(problems))


# ------------------------------------------------------------------ funding


@dataclass(frozen=True, slots=True)
class FundingPart:
    """An amount taken from one bucket (``bucket_id`` None: an overdraft)."""

    bucket_id: int | None
    kind: str  # daily_free, monthly, top_up, promo, ..., overdraft
    label: str
    amount: float


@dataclass(frozen=True, slots=True)
class Funding:
    """How an account would pay for a cost.

    Attributes:
        parts: the buckets drawn on, in the vendor's order (daily free points first
            where the vendor spends them first).
        order_known: False where Takestock assumed the vendor's spending order.
        tracked: whether the account tracks credits at all; an untracked account is
            never refused (Takestock cannot know its balance).
        before, after: the account's balance before and after this cost.
        problem: why the buckets cannot cover the cost (the engine would refuse it
            without an overdraft), or None.
    """

    account: Account
    cost: float
    parts: tuple[FundingPart, ...]
    order_known: bool
    tracked: bool
    before: float
    after: float
    problem: str | None

    @property
    def affordable(self) -> bool:
        return self.problem is None or not self.tracked


def tracked_accounts(store: Store) -> set[int]:
    """Accounts that have ever had a credit bucket (the others track no balance)."""
    return {r[0] for r in store.all("SELECT DISTINCT account_id FROM credit_bucket")}


def _book(plan_books: Mapping[str, PlanBook], account: Account) -> PlanBook | None:
    return plan_books.get(f"{account.vendor}/{account.kind}")


def fund(
    buckets: Sequence[BucketBalance],
    account: Account,
    cost: float,
    *,
    book: PlanBook | None,
    tracked: bool = True,
) -> Funding:
    """Which of ``buckets`` would pay ``cost``, in the vendor's order (see
    :func:`takestock.core.credits.plan_spend`); never refuses, says ``problem`` instead."""
    order = book.spend_order if book else ("expiring_first",)
    known = bool(book and book.spend_order_known)
    before = credits.total(buckets)
    labels = {b.id: (b.kind, b.label) for b in buckets}
    problem = None
    try:
        spend = credits.plan_spend(buckets, cost, vendor_order=order, order_known=known)
    except InvalidInput as exc:
        problem = exc.message
        spend = credits.plan_spend(
            buckets, cost, vendor_order=order, order_known=known, allow_overdraft=True
        )
    parts = tuple(
        FundingPart(bucket_id, *labels.get(bucket_id, ("overdraft", "overdraft")), amount)
        for bucket_id, amount in spend.parts
    )
    return Funding(
        account=account,
        cost=cost,
        parts=parts,
        order_known=known,
        tracked=tracked,
        before=before,
        after=round(before - cost, 6),
        problem=problem,
    )


def _spent(buckets: list[BucketBalance], parts: Sequence[FundingPart]) -> list[BucketBalance]:
    """The buckets after ``parts`` were taken from them (an overdraft line grows)."""
    taken: dict[int | None, float] = {}
    for part in parts:
        taken[part.bucket_id] = taken.get(part.bucket_id, 0.0) + part.amount
    out = [
        dataclasses.replace(b, remaining=b.remaining - taken.pop(b.id, 0.0))
        if b.id is not None
        else b
        for b in buckets
    ]
    owed = taken.pop(None, 0.0)
    if owed > _EPSILON and buckets:
        account_id = buckets[0].account_id
        out.append(BucketBalance(None, account_id, "overdraft", "overdraft", 0.0, -owed, 0.0, None))
    return out


class _Balances:
    """Every involved account's buckets, read once, spent down as costs are funded."""

    def __init__(
        self,
        store: Store,
        plan_books: Mapping[str, PlanBook],
        account_ids: Iterable[int],
        now: float,
    ) -> None:
        ids = set(account_ids)
        self._books = plan_books
        self._running = (
            {k: list(v) for k, v in credits.balances(store, now, account_ids=ids).items()}
            if ids
            else {}
        )
        self._tracked = tracked_accounts(store) if ids else set()

    def fund(self, account: Account, cost: float, *, spend: bool) -> Funding:
        """How ``account`` pays ``cost`` from what is left; with ``spend``, it is taken.

        Only the buckets the account's surface may spend count (bonus credits a vendor
        keeps to its website do not pay for API takes), as when the engine holds them.
        """
        buckets = self._running.get(account.id, [])
        usable = [b for b in buckets if b.spendable_on(account.kind)]
        funding = fund(
            usable,
            account,
            cost,
            book=_book(self._books, account),
            tracked=account.id in self._tracked,
        )
        if spend:
            self.take(funding)
        return funding

    def fund_takes(
        self,
        account: Account,
        amount: float,
        count: int,
        unit: str,
        what: str,
        *,
        spend: bool = True,
    ) -> tuple[Funding, int]:
        """``count`` takes of ``amount`` each, one after another, as the engine holds
        them; returns their funding together and how many fit (the first that does not
        stops the target, and ``problem`` says so)."""
        saved = list(self._running.get(account.id, []))
        first = self.fund(account, amount, spend=False)
        funded: list[Funding] = []
        problem = None
        for _ in range(count):
            funding = self.fund(account, amount, spend=False)
            if not funding.affordable:
                problem = (
                    f"{account.name} can pay {len(funded)} of the {count} takes on {what} "
                    f"({amount:g} {unit} each); {max(funding.before, 0.0):g} {unit} left "
                    "after the takes before them"
                )
                break
            self.take(funding)
            funded.append(funding)
        if not spend:
            self._running[account.id] = saved
        merged = _merged(first, funded, count)
        return dataclasses.replace(merged, problem=problem), len(funded)

    def take(self, funding: Funding) -> None:
        account_id = funding.account.id
        self._running[account_id] = _spent(self._running.get(account_id, []), funding.parts)


# -------------------------------------------------------------- target lines


@dataclass(frozen=True, slots=True)
class TargetLine:
    """One option priced for one request.

    Attributes:
        option: the target and what it runs on.
        check: the model's answer to the request.
        key_problem: a missing secret (or an unusable keyring), for API targets.
        count: takes asked for.
        funding: which credits pay, for an account that can take the request; None on
            the bare API key (nothing is tracked there) or when the row is refused.
    """

    option: TargetOption
    check: ModelCheck
    key_problem: str | None
    count: int
    funding: Funding | None

    @property
    def problem(self) -> str | None:
        """Why this target cannot take the request (the row is refused), or None.
        A missing key comes first: without it nothing else about the target matters."""
        if self.key_problem is not None:
            return self.key_problem
        return self.check.problem.message if self.check.problem is not None else None

    @property
    def total(self) -> float | None:
        """The cost of every take asked for, in the vendor's unit."""
        if self.check.estimate is None or self.check.estimate.amount is None:
            return None
        return round(self.check.estimate.amount * self.count, 6)


def target_lines(
    store: Store,
    plan_books: Mapping[str, PlanBook],
    options: Sequence[TargetOption],
    checks: Mapping[CheckKey, ModelCheck],
    keys: Mapping[Target, str | None],
    *,
    count: int,
    ticked: Iterable[Target] = (),
    now: float | None = None,
) -> dict[Target, TargetLine]:
    """Every option priced: the ticked ones in their order, each paid from what the
    previous left; then every other one as if it were ticked next.

    ``checks`` come from :func:`check_models` (an option without one is left out) and
    ``keys`` from :func:`key_problem` (an option without one has no key problem).
    """
    by_target = {o.target: o for o in options}
    order = [t for t in ticked if t in by_target]
    ticked_set = set(order)
    payable: list[tuple[Target, Account, float, str]] = []  # one take's cost, its unit
    lines: dict[Target, TargetLine] = {}
    for target in [*order, *(o.target for o in options if o.target not in ticked_set)]:
        option = by_target[target]
        check = checks.get(check_key(option))
        if check is None:
            continue
        if option.manual and check.estimate is not None and not check.estimate.known:
            # A price the user gave for this model on the site, remembered from before.
            check = dataclasses.replace(
                check, estimate=web_price(store, option.vendor.id, option.model.id, check.estimate)
            )
        if option.account is not None and check.estimate is not None:
            # Priced in what the paying account counts (Luma's API: US cents).
            try:
                unit, rate = account_unit(option.account, option.vendor)
                converted = in_unit(check.estimate, unit, rate, where=option.account.name)
                check = dataclasses.replace(check, estimate=converted)
            except InvalidInput as exc:
                check = dataclasses.replace(check, estimate=None, problem=exc)
        line = TargetLine(option, check, keys.get(target), count, None)
        lines[target] = line
        estimate = line.check.estimate
        if (
            option.account is not None
            and line.problem is None
            and estimate is not None
            and estimate.amount is not None
        ):
            payable.append((target, option.account, estimate.amount, estimate.unit))
    now = time.time() if now is None else now
    ledger = _Balances(store, plan_books, (a.id for _, a, _, _ in payable), now)
    fundings: dict[Target, Funding] = {}
    # The ticked ones are held in turn; each unticked one is priced as the next.
    for spend in (True, False):
        for target, account, cost, unit in payable:
            if (target in ticked_set) == spend:
                what = f"{target.vendor}:{target.model}"
                fundings[target], _ = ledger.fund_takes(
                    account, cost, count, unit, what, spend=spend
                )
    return {t: dataclasses.replace(line, funding=fundings.get(t)) for t, line in lines.items()}


# ------------------------------------------------------- the command line's


@dataclass(frozen=True, slots=True)
class RequestCost:
    """One target's takes priced within the whole request (``takestock estimate``, and
    the check before queueing).

    Attributes:
        plan: the target, its account and one take's price.
        count: takes asked for.
        total: what they cost together; None when the price is unknown.
        fit: how many the account can pay, after the targets and takes before them
            (all of them on an account that tracks no balance, or at an unknown price).
        funding: how the takes that fit are paid; None without a tracked price to pay
            (an unknown price, or an account still to be added).
        problem: why some takes do not fit, or None.
    """

    plan: Planned
    count: int
    total: float | None
    fit: int
    funding: Funding | None
    problem: str | None

    @property
    def why(self) -> str:
        """The account's standing before these takes, in a few words."""
        funding = self.funding
        if funding is None or not funding.tracked:
            return "balance unknown"
        unit = self.plan.estimate.unit  # the account's unit (its vendor's, where unset)
        left = "only " if self.problem is not None else ""
        return f"{left}{funding.before:g} {unit} left"


def _merged(first: Funding, funded: Sequence[Funding], count: int) -> Funding:
    parts: dict[int | None, FundingPart] = {}
    for funding in funded:
        for part in funding.parts:
            had = parts.get(part.bucket_id)
            parts[part.bucket_id] = (
                part if had is None else dataclasses.replace(had, amount=had.amount + part.amount)
            )
    last = funded[-1] if funded else first
    return dataclasses.replace(
        first,
        cost=round(sum(f.cost for f in funded), 6),
        parts=tuple(dataclasses.replace(p, amount=round(p.amount, 6)) for p in parts.values()),
        after=last.after if funded else first.before,
        problem=None if len(funded) == count else first.problem,
    )


def cost_request(
    store: Store,
    plan_books: Mapping[str, PlanBook],
    planned: Sequence[Planned],
    count: int,
    *,
    now: float | None = None,
) -> list[RequestCost]:
    """Every target's ``count`` takes, in order, each take paid from what the ones
    before it left (targets on the same account draw on the same buckets, as the engine
    holds them job after job). Reads the ledger once; stores nothing."""
    now = time.time() if now is None else now
    ledger = _Balances(store, plan_books, {p.account.id for p in planned if p.account}, now)
    out = []
    for plan in planned:
        amount = plan.estimate.amount
        total = None if amount is None else round(amount * count, 6)
        if plan.account is None or amount is None:
            out.append(RequestCost(plan, count, total, count, None, None))
            continue
        what = f"{plan.vendor.id}:{plan.model.id}"
        merged, fit = ledger.fund_takes(plan.account, amount, count, plan.estimate.unit, what)
        out.append(RequestCost(plan, count, total, fit, merged, merged.problem))
    return out
