"""The command line's grammar: every subcommand, option and argument type.

Nothing here imports the core (the store, the engine, httpx, PyAV): ``--help``,
``--version`` and a usage error answer in the time Python takes to start, and each
command imports only what it uses once parsing chose it (see :data:`COMMANDS`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from takestock import cli_args

__all__ = ["BUDGET_PERIODS", "COMMANDS", "EXIT_INVALID", "VERDICTS", "build_parser"]

EXIT_INVALID = 2

#: The same values as ``core.takes.VERDICTS`` and ``core.budgets.BUDGET_PERIODS``
#: (a test holds them equal): spelt here so that building the parser imports no core.
VERDICTS = ("usable", "reject", "unrated")
BUDGET_PERIODS = ("day", "month", "total")

#: Subcommand → (module, function): the module is imported only when its command runs,
#: so ``takestock jobs`` never loads what ``export`` or ``generate`` need.
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("takestock.cli", "cmd_generate"),
    "estimate": ("takestock.cli", "cmd_estimate"),
    "jobs": ("takestock.cli", "cmd_jobs"),
    "takes": ("takestock.cli", "cmd_takes"),
    "rate": ("takestock.cli", "cmd_rate"),
    "import": ("takestock.cli", "cmd_import"),
    "vendors": ("takestock.cli_vendors", "cmd_vendors"),
    "keys": ("takestock.cli_vendors", "cmd_keys"),
    "paths": ("takestock.cli", "cmd_paths"),
    "accounts": ("takestock.cli_credits", "cmd_accounts"),
    "credits": ("takestock.cli_credits", "cmd_credits"),
    "export": ("takestock.cli_export", "cmd_export"),
}


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        from takestock import __version__

        sys.stdout.write(f"Takestock {__version__}\n")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


class _Unbuilt:
    """Stands in for the parser of a subcommand this run does not use: every call on it
    (``add_argument``, ``add_subparsers``, ...) does nothing and returns it again."""

    _actions: ClassVar[tuple[argparse.Action, ...]] = ()

    def __getattr__(self, name: str) -> Any:
        return self._ignore

    def _ignore(self, *args: Any, **kwargs: Any) -> _Unbuilt:
        return self


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands whose arguments are added only for the one the command line names.

    Each argument costs argparse a help formatter and a terminal-size query: building
    all ~160 takes longer than Python's start, for a run that uses one subcommand.
    Every name is still listed (with its help) in ``takestock --help``.
    """

    def __init__(self, *args: Any, wanted: frozenset[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wanted = wanted

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self._wanted is None or name in self._wanted:
            return super().add_parser(name, **kwargs)
        if "help" in kwargs:
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), kwargs["help"]))
        self._name_parser_map[name] = _Unbuilt()
        return _Unbuilt()


#: Top-level options that take a value (so the word after them is not a subcommand).
_VALUED_OPTIONS = ("--home",)


def _wanted(argv: Sequence[str] | None) -> frozenset[str] | None:
    """The subcommand(s) ``argv`` needs built; None (build all) when it names none we
    know, so that argparse's own message (or the full help) comes out as ever."""
    words = list(sys.argv[1:] if argv is None else argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            break
        if word.startswith("-"):
            # An abbreviation argparse accepts (--hom DIR) also takes the next word.
            valued = any(o.startswith(word) for o in _VALUED_OPTIONS)
            if valued and "=" not in word and len(word) > 3:  # "--h" is --help's too
                index += 1
            index += 1
            continue
        if word not in COMMANDS and word != "gui":
            return None
        # ``estimate`` takes its options from ``generate``'s parser.
        return frozenset({word, "generate"}) if word == "estimate" else frozenset({word})
    return frozenset()


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole grammar; with ``argv``, only the subcommand it names gets its arguments
    (the others are named, with their help, and nothing more)."""
    parser = _Parser(
        prog="takestock",
        description="Make AI video with many vendors at once; keep the takes that work.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr too")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the app offscreen on a temporary library, render every screen, exit",
    )
    parser.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="with --self-test: use DIR as its data folder (kept afterwards) instead of a "
        "new temporary one",
    )
    # argparse's stubs don't know that an action class may take keywords of its own.
    sub = parser.add_subparsers(  # type: ignore[call-overload]
        dest="command", parser_class=_Parser, action=_Subcommands, wanted=_wanted(argv)
    )

    sub.add_parser("gui", help="start the desktop app (the default)")

    gen = sub.add_parser("generate", help="make takes of one prompt on one or more vendors")
    gen.add_argument("--vendor", action="append", help="vendor id (pair with --model)")
    gen.add_argument("--model", action="append", help="model id for the --vendor before it")
    gen.add_argument(
        "--target", action="append", metavar="V:M", help="vendor:model, repeatable: a fan-out"
    )
    gen.add_argument(
        "--account",
        help="the vendor account that pays (default: the vendor's only account, or the one "
        "marked default; see `takestock accounts default`)",
    )
    gen.add_argument("--prompt", required=True, help="the prompt; {name} marks a variable")
    gen.add_argument("--var", action="append", metavar="NAME=VALUE", help="fill a {variable}")
    gen.add_argument("--negative", help="negative prompt")
    # Image files are checked by the vendors' validation (every face gets the same
    # answer), which refuses pipes, devices, link loops and pictures too large to open.
    gen.add_argument("--image", type=Path, help="first-frame image")
    gen.add_argument("--last-frame", type=Path, help="last-frame image")
    gen.add_argument(
        "--duration",
        type=cli_args.take_seconds,
        metavar="S",
        help="seconds (-1: the model chooses, where it offers that)",
    )
    gen.add_argument("--aspect", metavar="W:H", help="aspect ratio, e.g. 16:9")
    gen.add_argument("--resolution", help="e.g. 720p, 1080p")
    gen.add_argument("--audio", action=argparse.BooleanOptionalAction, default=None)
    gen.add_argument("--seed", type=int)
    gen.add_argument(
        "--extra",
        action="append",
        metavar="KEY=VALUE",
        help="a vendor's own option (see `takestock vendors`), e.g. prompt_optimizer=false",
    )
    gen.add_argument("--count", type=cli_args.count, default=1, help="takes per target (default 1)")
    gen.add_argument("--wait", action="store_true", help="wait until the takes are downloaded")
    gen.add_argument(
        "--timeout",
        type=cli_args.positive_seconds,
        metavar="S",
        help="stop waiting after S seconds",
    )
    gen.add_argument(
        "--allow-overdraft", action="store_true", help="submit even if the account cannot pay"
    )
    gen.add_argument(
        "--allow-unpriced",
        action="store_true",
        help="submit takes whose price is unknown on an account with a balance or a budget",
    )
    gen.add_argument(
        "--tag", action="append", metavar="T", help="a project tag whose budget applies"
    )
    gen.add_argument("--json", action="store_true")

    est = sub.add_parser(
        "estimate", help="what generate would cost, and from which credits; sends nothing"
    )
    for action in gen._actions:
        if action.dest not in ("help", "wait", "timeout", "allow_overdraft", "allow_unpriced"):
            est._add_action(action)

    jobs = sub.add_parser("jobs", help="list, resume or cancel jobs")
    jobs.add_argument("--json", action="store_true")
    jobs_sub = jobs.add_subparsers(dest="jobs_action", parser_class=_Parser)
    resume = jobs_sub.add_parser("resume", help="carry on every unfinished job")
    resume.add_argument("--wait", action="store_true")
    resume.add_argument("--timeout", type=cli_args.positive_seconds, metavar="S")
    resume.add_argument("--json", action="store_true")
    cancel = jobs_sub.add_parser("cancel", help="cancel a job")
    cancel.add_argument("job_id", type=cli_args.row_id)
    cancel.add_argument("--json", action="store_true")
    retry = jobs_sub.add_parser("retry", help="queue a failed job again as a new job")
    retry.add_argument("job_id", type=cli_args.row_id)
    retry.add_argument("--json", action="store_true")
    attach = jobs_sub.add_parser("attach", help="finish a web-only job with its video file")
    attach.add_argument("job_id", type=cli_args.row_id)
    attach.add_argument("path", type=cli_args.input_file)
    attach.add_argument(
        "--charged",
        type=cli_args.finite_float(minimum=0),
        metavar="N",
        help="what the site charged, in the account's unit (confirms or corrects the "
        "estimate; needed where the site's price is unknown, then remembered)",
    )
    settle = jobs_sub.add_parser(
        "settle",
        help="settle a job whose create went unanswered (unknown), after checking the "
        "vendor's history",
    )
    settle.add_argument("job_id", type=cli_args.row_id)
    made = settle.add_mutually_exclusive_group(required=True)
    made.add_argument(
        "--made",
        action="store_true",
        help="the vendor made it: charged; give --file, or attach the file later",
    )
    made.add_argument(
        "--not-made",
        action="store_true",
        help="the vendor made nothing: the hold is given back (retry it to try again)",
    )
    settle.add_argument("--file", type=cli_args.input_file, metavar="FILE")
    settle.add_argument("--json", action="store_true")
    kit = jobs_sub.add_parser("claim-kit", help="a refund request for a charge with no video")
    kit.add_argument("job_id", type=cli_args.row_id)

    _add_account_parsers(sub, _Parser)
    _add_export_parser(sub, _Parser)

    takes = sub.add_parser("takes", help="list takes")
    takes.add_argument("--vendor")
    takes.add_argument("--model")
    takes.add_argument("--verdict", choices=VERDICTS)
    takes.add_argument("--search", help="text in the prompt")
    takes.add_argument("--limit", type=cli_args.positive_int)
    takes.add_argument("--json", action="store_true")

    rate = sub.add_parser("rate", help="mark a take usable or reject, with stars and reasons")
    rate.add_argument("take_id", type=cli_args.row_id)
    verdict = rate.add_mutually_exclusive_group()
    verdict.add_argument("--usable", dest="verdict", action="store_const", const="usable")
    verdict.add_argument("--reject", dest="verdict", action="store_const", const="reject")
    verdict.add_argument("--unrated", dest="verdict", action="store_const", const="unrated")
    rate.add_argument("--stars", type=int, choices=range(1, 6), metavar="1-5")
    rate.add_argument("--reason", action="append", help="why (repeatable): hands, physics, ...")
    rate.add_argument("--json", action="store_true")

    imp = sub.add_parser("import", help="add videos made elsewhere to the library")
    imp.add_argument("paths", nargs="+", type=Path)
    imp.add_argument("--vendor")
    imp.add_argument("--model")
    imp.add_argument("--prompt")
    imp.add_argument("--json", action="store_true")

    vendors = sub.add_parser("vendors", help="vendors, models, limits, and whether a key is set")
    vendors.add_argument("--json", action="store_true")
    vendors_sub = vendors.add_subparsers(dest="vendors_action", parser_class=_Parser)
    refresh = vendors_sub.add_parser("refresh", help="update the catalog from the vendor's list")
    refresh.add_argument("vendor")
    refresh.add_argument("--json", action="store_true")

    paths = sub.add_parser("paths", help="where Takestock keeps its data on this computer")
    paths.add_argument("--json", action="store_true")

    keys = sub.add_parser("keys", help="store or remove a vendor's key in the system keyring")
    keys_sub = keys.add_subparsers(dest="keys_action", required=True, parser_class=_Parser)
    for name, text in (("set", "read the key from standard input"), ("delete", "remove it")):
        p = keys_sub.add_parser(name, help=text)
        p.add_argument("vendor")
        p.add_argument("--account", default="default")
        p.add_argument("--field", help="one key field, e.g. api_key (default: all)")
    return parser


def _add_account_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("accounts", help="vendor memberships and API accounts")
    accounts.add_argument("--json", action="store_true")
    acts = accounts.add_subparsers(dest="accounts_action", parser_class=parser_class)
    add = acts.add_parser("add", help="add an account (its plan's grants come with it)")
    add.add_argument("vendor_id", metavar="VENDOR")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", choices=("api", "web"), required=True)
    add.add_argument("--plan", help="e.g. free, standard, pro (see the vendor's plans)")
    add.add_argument("--timezone", help="the vendor's zone for daily resets, e.g. Asia/Shanghai")
    add.add_argument(
        "--region", default="default", help="the vendor's region, e.g. cn (see the README)"
    )
    adjust = acts.add_parser("adjust", help="a top-up (positive) or a correction (negative)")
    adjust.add_argument("name")
    adjust.add_argument("amount", type=float)
    adjust.add_argument("--reason", required=True)
    adjust.add_argument("--vendor")
    adjust.add_argument("--kind", default="top_up", choices=("top_up", "promo", "bonus"))
    adjust.add_argument("--expires", metavar="YYYY-MM-DD[THH:MM]")
    adjust.add_argument(
        "--usable-on", metavar="web,api", help="only these surfaces may spend it (bonus credits)"
    )
    rule = acts.add_parser("rule", help="state a grant rule (daily free points, allowance)")
    rule.add_argument("name")
    rule.add_argument("key", help="e.g. daily, monthly")
    rule.add_argument("--vendor")
    rule.add_argument("--kind", choices=("daily_free", "monthly", "promo", "bonus", "one_time"))
    rule.add_argument("--amount", type=float)
    rule.add_argument("--period", choices=("daily", "monthly", "once"))
    rule.add_argument("--reset", metavar="HH:MM")
    rule.add_argument("--timezone")
    rule.add_argument("--renewal-day", type=int)
    rule.add_argument("--expires", help="end_of_period, never, or days:N")
    observe = acts.add_parser("observe", help="record the balance the vendor shows you")
    observe.add_argument("name")
    observe.add_argument("amount", type=float)
    observe.add_argument("--vendor")
    observe.add_argument(
        "--adopt", action="store_true", help="make the ledger equal the vendor's figure"
    )
    budget = acts.add_parser(
        "budget", help="cap what an account, or a tag's prompts (a project), may spend"
    )
    budget.add_argument("name", nargs="?", help="the account (or give --tag)")
    budget.add_argument("--tag", help="a prompt tag: the cap covers its prompts' takes")
    budget.add_argument("--cap", type=float)
    budget.add_argument("--remove", action="store_true", help="drop the cap")
    budget.add_argument(
        "--unit", help="a tag's cap counts in this unit (default USD: money, where known)"
    )
    budget.add_argument("--period", choices=BUDGET_PERIODS, default="month")
    budget.add_argument("--vendor")
    default = acts.add_parser(
        "default", help="the account a target without --account uses, where a vendor has several"
    )
    default.add_argument("name")
    default.add_argument("--vendor")
    unit = acts.add_parser("unit", help="what an account counts in, and its worth in money")
    unit.add_argument("name")
    unit.add_argument("unit", help="e.g. credits, USD cents")
    unit.add_argument("--money", type=float, metavar="X", help="one unit is worth X (USD)")
    unit.add_argument("--vendor")
    close = acts.add_parser("close", help="the vendor shut down or you left: keep history only")
    close.add_argument("name")
    close.add_argument("--reason", default="closed")
    close.add_argument("--vendor")

    creds = sub.add_parser("credits", help="balances by bucket, expiries, free points today")
    creds.add_argument("--json", action="store_true")
    cacts = creds.add_subparsers(dest="credits_action", parser_class=parser_class)
    rec = cacts.add_parser("reconcile", help="compare with the vendor's balance API")
    rec.add_argument("name")
    rec.add_argument("--vendor")
    rec.add_argument("--json", action="store_true")
    rec.add_argument(
        "--adopt", action="store_true", help="make the ledger equal the vendor's balance"
    )


def _add_export_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """Add ``export`` to the subcommands ``sub`` (``parser_class`` is the CLI's parser)."""
    exp = sub.add_parser(
        "export",
        help="copy picked takes to a folder with their metadata, for an editor or Eagle",
        description=(
            "Write the selected takes into a folder as <title>_<vendor>_<model>_<id>.mp4, "
            "each with a .json of its metadata, and one .csv for the batch; optionally an "
            "FCPXML event (Final Cut Pro, DaVinci Resolve), CMX 3600 EDLs (Resolve, "
            "Premiere Pro) and a push into a running Eagle library."
        ),
    )
    exp.add_argument("--to", required=True, type=Path, metavar="DIR", help="the folder")
    exp.add_argument("--fcpxml", action="store_true", help="write an FCPXML 1.11 event")
    exp.add_argument("--edl", action="store_true", help="write CMX 3600 EDLs")
    exp.add_argument("--eagle", action="store_true", help="add the takes to a running Eagle")
    exp.add_argument(
        "--eagle-folder",
        default="Takestock",
        metavar="NAME",
        help="Eagle folder to add them to (made if missing; '' for the library's root)",
    )
    exp.add_argument(
        "--take", action="append", type=cli_args.row_id, metavar="ID", help="repeatable"
    )
    exp.add_argument("--verdict", choices=VERDICTS)
    exp.add_argument(
        "--group", type=cli_args.row_id, metavar="ID", help="a request (comparison group)"
    )
    exp.add_argument("--tag", help="takes whose prompt has this tag")
    exp.add_argument("--since", metavar="DATE", help="made on or after YYYY-MM-DD[THH:MM]")
    exp.add_argument("--until", metavar="DATE", help="made on or before YYYY-MM-DD (whole day)")
    exp.add_argument("--name", help="the batch's name (event and file names)")
    exp.add_argument(
        "--copy",
        action="store_true",
        help="always copy; by default files are hard-linked from the library when they can",
    )
    exp.add_argument("--json", action="store_true")
