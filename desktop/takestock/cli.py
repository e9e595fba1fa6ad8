"""The command line: every data operation of the GUI, headless, for scripts and tests.

Exit codes (a contract; keep them stable):
    0  all asked work done
    1  anything unexpected
    2  invalid input: nothing was submitted or charged
    3  a vendor refused or failed a job
    4  stopped or timed out with jobs still resumable
    5  the computer refused a write (disk full, read-only folder, no permission):
       the library is unchanged; the same command works once that is fixed
  130  interrupted (Ctrl+C)
  141  the reader of the output went away (``takestock jobs | head -1``)
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from takestock import cli_args
from takestock.cli_parser import COMMANDS, build_parser
from takestock.core.errors import InvalidInput, SecretsUnavailable, TakestockError
from takestock.core.job_rows import ACTIVE_STATES, Job, JobEvent, get_job, get_jobs, list_jobs
from takestock.core.logs import redact, setup_logging
from takestock.core.prompts import render
from takestock.core.store import StorageFault, storage_fault
from takestock.core.takes import TakeFilter, get_take, import_each, iter_takes, rate_take
from takestock.core.vendor import GenerationRequest
from takestock.wiring import Services, open_services

if TYPE_CHECKING:
    # The engine, generation and hand-off modules import httpx (and through the engine
    # the vendors' whole stack): only the commands that send anything import them, inside.
    from takestock.core.jobs import Engine, Target

__all__ = ["main"]

EXIT_OK, EXIT_UNEXPECTED, EXIT_INVALID, EXIT_VENDOR, EXIT_RESUMABLE = 0, 1, 2, 3, 4
EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 5, 130, 141

log = logging.getLogger("takestock.cli")


class UsageError(Exception):
    """An argument problem found after parsing; exits 2 like argparse's own."""


# ------------------------------------------------------------------ output


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _job_line(job: Job) -> str:
    line = f"job {job.id:<5} {job.vendor}/{job.model:<18} {job.state:<11}"
    if job.vendor_task_id:
        line += f" task {job.vendor_task_id}"
    if job.take_id:
        line += f" → take {job.take_id}"
    if job.charged_without_output:
        line += f" [charged {job.cost_actual:g}, no output: takestock jobs claim-kit {job.id}"
        line += f"; or jobs retry {job.id} to fetch it again]" if job.fetchable_again else "]"
    elif job.manual and job.state == "running":
        line += " [waiting for the file from the vendor's site]"
    if job.held_by is not None and job.held_by.pid != os.getpid():
        line += f" [driven by {job.held_by.describe()}]"
    if job.error:
        line += f"\n          {redact(job.error)}"
    return line


def _job_json(services: Services, job: Job) -> dict[str, Any]:
    data = job.to_json()
    if data.get("error"):
        data["error"] = redact(data["error"])
    if job.take_id is not None:
        data["take"] = get_take(services.store, services.library.root, job.take_id).to_json()
    return data


def _exit_for(jobs: Sequence[Job]) -> int:
    if any(j.state in ACTIVE_STATES for j in jobs):
        return EXIT_RESUMABLE
    ended_badly = [j for j in jobs if j.state in ("failed", "cancelled", "unknown")]
    if ended_badly and all(j.error_kind == InvalidInput.kind for j in ended_badly):
        # Refused by a check only the vendor's own server can make (a ComfyUI workflow
        # whose model files are missing): the input was wrong, and nothing was charged.
        return EXIT_INVALID
    if ended_badly:
        return EXIT_VENDOR
    return EXIT_OK


# ---------------------------------------------------------------- commands


def _targets(args: argparse.Namespace) -> list[Target]:
    from takestock.core.jobs import Target  # see the note on the imports

    vendors, models = args.vendor or [], args.model or []
    if len(vendors) != len(models):
        raise UsageError("give one --model for each --vendor (or use --target VENDOR:MODEL)")
    targets = [Target(v, m, args.account) for v, m in zip(vendors, models, strict=True)]
    targets += [Target.parse(t) for t in args.target or []]
    if not targets:
        raise UsageError("name a vendor and model: --vendor V --model M, or --target V:M")
    return targets


def _variables(pairs: Sequence[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput("var", f"{pair!r} is not NAME=VALUE")
        values[name.strip()] = value
    return values


def _extras(pairs: Sequence[str]) -> dict[str, Any]:
    """``--extra KEY=VALUE``: a vendor option; VALUE is read as JSON when it parses."""
    extra: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("extra", f"{pair!r} is not KEY=VALUE")
        try:
            extra[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            extra[key.strip()] = raw
    return extra


def _absolute(path: Path) -> Path:
    """``path`` resolved where it can be; as given otherwise (a link loop, a missing
    file), for validation to refuse with the reason."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link loop before Python 3.13
        return path.absolute()


def _request_from(args: argparse.Namespace) -> GenerationRequest:
    text = args.prompt
    prompt = render(text, _variables(args.var or [])) if text else ""
    return GenerationRequest(
        prompt=prompt,
        negative=args.negative or "",
        image=_absolute(args.image) if args.image else None,
        last_frame=_absolute(args.last_frame) if args.last_frame else None,
        duration_s=args.duration,
        aspect=args.aspect,
        # Vendors write 720P or 720p; the catalog names them in lower case.
        resolution=args.resolution.lower() if args.resolution else None,
        audio=args.audio,
        seed=args.seed,
        extra=_extras(args.extra or []),
    )


def _progress_printer(enabled: bool) -> Any:
    """Prints a job's changes as they come, each distinct line once (a poll that
    changes nothing the reader can see prints nothing)."""
    last: dict[int, str] = {}

    def show(event: JobEvent) -> None:
        if not enabled:
            return
        detail = ""
        if event.progress is not None and event.state == "running":
            detail = f" {event.progress:.0%}"
        said = (event.vendor_state or "").strip()
        if event.state == "running" and said and said.lower() not in ("running", "queued"):
            # What the vendor says it is doing: "running KSampler (node 3), step 12/30",
            # "ComfyUI not answering since 14:02: retrying".
            detail += f" · {redact(said)}"
        if event.error:
            detail += f": {redact(event.error)}"
        text = f"  job {event.job_id}: {event.state}{detail}"
        if last.get(event.job_id) != text:
            last[event.job_id] = text
            _say(text)

    return show


#: A ``--wait`` without ``--timeout`` says it is still waiting at most this often.
STILL_WAITING_EVERY_S = 30.0


def _still_waiting(services: Services, job_ids: Sequence[int]) -> str | None:
    """One line on what the jobs still running wait for; None when none is active."""
    waiting = [j for j in get_jobs(services.store, job_ids).values() if j.state in ACTIVE_STATES]
    if not waiting:
        return None
    parts = []
    for job in waiting[:5]:
        why = job.state
        if job.held_by is not None and job.held_by.pid != os.getpid():
            why += f", driven by {job.held_by.describe()}"
        elif job.error:
            why += f": {redact(job.error.splitlines()[0])}"
        parts.append(f"job {job.id} {why}")
    more = f" (and {len(waiting) - 5} more)" if len(waiting) > 5 else ""
    return f"Still waiting for {len(waiting)} job(s): {'; '.join(parts)}{more}"


def _drive(
    services: Services,
    engine: Engine,
    job_ids: Sequence[int],
    *,
    wait: bool,
    timeout: float | None,
) -> bool:
    """Run the engine; False when interrupted or timed out (jobs stay resumable).

    With ``wait``, a job another live process drives is watched until it ends (it is
    named, with that process, first); without a timeout a still-waiting line comes at
    most every :data:`STILL_WAITING_EVERY_S` seconds.
    """
    import asyncio  # here: asyncio imports ssl and sockets, which listings never use

    if wait:
        for job in get_jobs(services.store, job_ids).values():
            if job.held_by is not None and job.held_by.pid != os.getpid():
                _say(f"  job {job.id}: driven by {job.held_by.describe()}; waiting for it")

    async def run() -> None:
        until = "final" if wait else "submitted"
        work = asyncio.ensure_future(engine.run(job_ids, until=until, wait_for_others=wait))
        while wait and timeout is None and not work.done():
            await asyncio.wait({work}, timeout=STILL_WAITING_EVERY_S)
            line = None if work.done() else _still_waiting(services, job_ids)
            if line:
                _say(line)
        await work

    try:
        asyncio.run(asyncio.wait_for(run(), timeout))
    except TimeoutError:
        _say(f"Stopped waiting after {timeout:g} s; resume with `takestock jobs resume --wait`.")
        line = _still_waiting(services, job_ids)
        if line:
            _say(line)
        return False
    except KeyboardInterrupt:
        _say("Interrupted; the jobs are kept. Resume with `takestock jobs resume --wait`.")
        return False
    return True


def _cost_text(amount: float | None, unit: str, reason: str | None = None) -> str:
    if amount is None:
        return f"unknown {unit}" + (f" ({reason})" if reason else "")
    return f"{amount:g} {unit}"


def cmd_generate(services: Services, args: argparse.Namespace) -> int:
    from takestock.core.generate import queue_request  # see the note on the imports

    targets = _targets(args)
    request = _request_from(args)
    engine = services.engine(on_change=_progress_printer(not args.json))
    # Image-to-video may go without words; only worded prompts enter the library.
    queued = queue_request(
        engine,
        request,
        targets,
        count=args.count,
        prompt_text=args.prompt,
        negative=args.negative or "",
        tags=args.tag or (),
        allow_overdraft=args.allow_overdraft,
        allow_unpriced=args.allow_unpriced,
    )
    job_ids = list(queued.job_ids)
    if not args.json:
        for added in queued.added_accounts:
            _say(f"Added account {added} (the environment's and keyring's default key).")
        for plan in queued.planned:
            est = plan.estimate
            money = f" (≈{est.money:g} {est.currency})" if est.money else ""
            _say(
                f"{plan.vendor.name} {plan.model.id} on {plan.account_name}: {args.count} x "
                f"{_cost_text(est.amount, est.unit, est.reason)}{money}"
            )
    manual = [j for j in job_ids if get_job(services.store, j).manual]
    if manual and not args.json:
        _say(
            "Web-only account: make the take on the vendor's site with this prompt, then "
            f"`takestock jobs attach {manual[0]} FILE --charged N` (N: what the site charged; "
            f"or let the app watch your Downloads):\n\n{request.prompt}\n"
        )
    finished = _drive(services, engine, job_ids, wait=args.wait, timeout=args.timeout)
    jobs = [get_job(services.store, j) for j in job_ids]
    if args.json:
        _print_json(
            {"request_id": queued.request_id, "jobs": [_job_json(services, j) for j in jobs]}
        )
    else:
        for job in jobs:
            print(_job_line(job))
            if job.take_id:
                print(
                    f"          {get_take(services.store, services.library.root, job.take_id).path}"
                )
    if not finished:
        return EXIT_RESUMABLE
    if not args.wait:
        failed = [j for j in jobs if j.state in ("failed", "cancelled")]
        return EXIT_VENDOR if failed else EXIT_OK
    return _exit_for(jobs)


def cmd_estimate(services: Services, args: argparse.Namespace) -> int:
    from takestock import cli_credits  # see the note on the imports

    lines = cli_credits.estimate_lines(
        services, services.engine(), _request_from(args), _targets(args), args.count
    )
    if args.json:
        _print_json({"targets": lines})
        return EXIT_OK
    for line in lines:
        est = line["estimate"]
        total = line["total"]
        if total is None:
            cost = f"{line['count']} x unknown {est['unit']}: {est['reason']}"
        else:
            money = f" ≈ {est['money'] * args.count:g} {est['currency']}" if est["money"] else ""
            cost = f"{line['count']} x {est['amount']:g} = {total:g} {est['unit']}{money}"
        print(f"{line['vendor']}/{line['model']}: {cost}")
        parts = ", ".join(f"{p['amount']:g} from {p['bucket']}" for p in line["from"])
        assumed = " [spend order assumed]" if line.get("order") == "assumed" else ""
        after = (
            f"; {line['balance_after']:g} {line['unit']} left after"
            if line.get("balance_after") is not None and "problem" not in line
            else ""
        )
        detail = line.get("problem") or parts or "nothing held"
        print(f"    account {line['account']} ({line['why']}); {detail}{assumed}{after}")
    return EXIT_OK


def cmd_jobs(services: Services, args: argparse.Namespace) -> int:
    action = args.jobs_action
    if action == "attach":
        from takestock.core.generate import attach_file  # see the note on the imports

        engine = services.engine()
        take_id = attach_file(engine, args.job_id, args.path.resolve(), charged=args.charged)
        print(f"job {args.job_id} done → take {take_id}")
        return EXIT_OK
    if action == "claim-kit":
        from takestock.core.claims import claim_kit  # see the note on the imports

        print(claim_kit(services.store, get_job(services.store, args.job_id)))
        return EXIT_OK
    if action == "resume":
        engine = services.engine(on_change=_progress_printer(not args.json))
        # Manual jobs wait for a file from the vendor's site: nothing to resume.
        ids = [j.id for j in list_jobs(services.store, states=ACTIVE_STATES) if not j.manual]
        finished = _drive(services, engine, ids, wait=args.wait, timeout=args.timeout)
        jobs = [get_job(services.store, j) for j in ids]
        if args.json:
            _print_json({"jobs": [_job_json(services, j) for j in jobs]})
        else:
            if not jobs:
                print("No jobs to resume.")
            for job in jobs:
                print(_job_line(job))
        if not finished:
            return EXIT_RESUMABLE
        return _exit_for(jobs) if args.wait else EXIT_OK
    if action == "cancel":
        import asyncio  # see _drive

        job = asyncio.run(services.engine().cancel(args.job_id))
        print(_job_line(job)) if not args.json else _print_json(_job_json(services, job))
        return EXIT_OK
    if action == "retry":
        new_id = services.engine().retry(args.job_id)
        if new_id == args.job_id:  # the vendor made it: fetch the take, never make it again
            print(f"job {new_id} will fetch its take again; run `takestock jobs resume --wait`")
        else:
            print(f"job {new_id} queued; run `takestock jobs resume --wait` to start it")
        return EXIT_OK
    if action == "settle":
        if args.file is not None and not args.made:
            raise UsageError("--file goes with --made (the video the vendor made)")
        path = args.file.resolve() if args.file is not None else None
        job = services.engine().resolve_unknown(args.job_id, bool(args.made), path)
        print(_job_line(job)) if not args.json else _print_json(_job_json(services, job))
        return EXIT_OK
    jobs = list_jobs(services.store)
    if args.json:
        _print_json({"jobs": [j.to_json() for j in jobs]})
    else:
        if not jobs:
            print(
                "No jobs yet. Try: takestock generate --vendor sandbox --model sandbox-v1 "
                "--prompt 'a red fox in snow' --wait"
            )
        for job in jobs:
            print(_job_line(job))
    return EXIT_OK


def _stream_json_list(key: str, items: Iterable[dict[str, Any]]) -> None:
    """``{"key": [...]}`` written item by item, laid out as ``_print_json`` would, so a
    100,000-take listing never sits in memory whole."""
    out = sys.stdout
    out.write(f'{{\n  "{key}": [')
    empty = True
    for item in items:
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        out.write(("\n    " if empty else ",\n    ") + text)
        empty = False
    out.write("]\n}\n" if empty else "\n  ]\n}\n")


def cmd_takes(services: Services, args: argparse.Namespace) -> int:
    takes = iter_takes(
        services.store,
        services.library.root,
        TakeFilter(
            vendor=args.vendor,
            model=args.model,
            verdict=args.verdict,
            search=args.search or "",
            limit=args.limit,
        ),
    )
    if args.json:
        _stream_json_list("takes", (t.to_json() for t in takes))
        return EXIT_OK
    for take in takes:
        stars = "★" * (take.stars or 0)
        prompt = (take.prompt or "").replace("\n", " ")
        print(
            f"take {take.id:<5} {take.vendor}/{take.model:<18} {take.duration_s:5.1f}s "
            f"{take.width}x{take.height} {take.verdict:<8}{stars:<6} {prompt[:60]}"
        )
    return EXIT_OK


def cmd_rate(services: Services, args: argparse.Namespace) -> int:
    rate_take(
        services.store,
        args.take_id,
        verdict=args.verdict,
        stars=args.stars,
        reasons=args.reason if args.reason else None,
    )
    take = get_take(services.store, services.library.root, args.take_id)
    if args.json:
        _print_json(take.to_json())
    else:
        print(f"take {take.id}: {take.verdict}, {take.stars or 'no'} stars")
    return EXIT_OK


def cmd_import(services: Services, args: argparse.Namespace) -> int:
    """Each file on its own: readable videos become takes, the others are refused
    (exit 2, naming them) and leave nothing behind."""
    ids, refused = import_each(
        services.store,
        services.library,
        args.paths,
        vendor=args.vendor or "unknown",
        model=args.model or "unknown",
        prompt=args.prompt,
    )
    takes = [get_take(services.store, services.library.root, i) for i in ids]
    if args.json:
        _print_json(
            {
                "takes": [t.to_json() for t in takes],
                "refused": [{"path": str(p), "error": e.message} for p, e in refused],
            }
        )
    else:
        for take in takes:
            print(f"take {take.id}: {take.duration_s:.1f}s {take.width}x{take.height} {take.path}")
    for path, error in refused:
        reason = error.message.removeprefix("path: ")
        _say(f"takestock: path: {path} not imported: {redact(reason)}")
    return EXIT_INVALID if refused else EXIT_OK


def cmd_paths(services: Services, args: argparse.Namespace) -> int:
    paths = services.paths
    places = {
        "data": paths.root,
        "database": paths.database,
        "media": paths.media,
        "logs": paths.logs,
        "catalog_overrides": paths.catalog_overrides,
        "backups": paths.backups,
    }
    if args.json:
        _print_json({name: str(path) for name, path in places.items()})
    else:
        for name, path in places.items():
            print(f"{name.replace('_', ' '):<18} {path}")
    return EXIT_OK


def cmd_gui(services: Services | None, args: argparse.Namespace) -> int:
    from takestock.app import run_gui

    return run_gui()


def _command(name: str) -> Callable[[Services, argparse.Namespace], int]:
    """The function that runs subcommand ``name``, its module imported now."""
    module, function = COMMANDS[name]
    found: Callable[[Services, argparse.Namespace], int] = getattr(
        importlib.import_module(module), function
    )
    return found


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``takestock jobs | head -1``).

    As Python's documentation advises for SIGPIPE, point stdout at devnull so the
    interpreter's final flush cannot raise again, and end without a word. The status
    is 141 (128 + SIGPIPE), what the shell reports for any tool that the signal ends
    (``yes | head`` under ``set -o pipefail``): scripts keep telling a cut-short
    listing from a whole one, and nothing is logged as unexpected.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout has no descriptor (embedded use): nothing left to flush into
    return EXIT_BROKEN_PIPE


def _flush_stdout() -> None:
    # Flushed here, inside the handlers below, rather than by the interpreter at exit.
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        _say("Interrupted.")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    bad = cli_args.check_namespace(parser, args)
    if bad is not None:
        parser.error(f"argument {bad[0]}: {bad[1]}")
    if args.home is not None and not args.self_test:
        parser.error("argument --home: only with --self-test (the app's folder is TAKESTOCK_HOME)")
    if args.self_test:
        from takestock.self_test import run_self_test

        return run_self_test(home=args.home)
    if args.command in (None, "gui"):
        return cmd_gui(None, args)
    services: Services | None = None
    try:
        services = open_services()
        setup_logging(services.paths.logs, stderr=args.verbose)
        for warning in services.catalog.warnings:
            log.warning("%s", warning)
            _say(f"takestock: warning: {warning}")
        code = _command(args.command)(services, args)
        _flush_stdout()
        return code
    except UsageError as exc:
        parser.error(str(exc))
    except InvalidInput as exc:
        _say(f"takestock: {redact(exc.message)} (nothing was submitted)")
        return EXIT_INVALID
    except SecretsUnavailable as exc:
        _say(f"takestock: {exc.title}: {redact(exc.message)} (nothing was submitted)")
        return EXIT_INVALID
    except StorageFault as exc:
        _say(f"takestock: {exc.title}: {redact(exc.message)}")
        return EXIT_ENVIRONMENT
    except TakestockError as exc:
        _say(f"takestock: {exc.title}: {redact(exc.message)}")
        return EXIT_UNEXPECTED if exc.kind in ("store", "catalog") else EXIT_VENDOR
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except (OSError, sqlite3.Error) as exc:
        where = services.paths.root if services is not None else _data_root_guess()
        fault = storage_fault(exc, where)
        if fault is None:
            return _unexpected(exc)
        _say(f"takestock: {fault.title}: {redact(fault.message)}")
        return EXIT_ENVIRONMENT
    except Exception as exc:
        return _unexpected(exc)
    finally:
        if services is not None:
            services.close()


def _data_root_guess() -> Path:
    home = os.environ.get("TAKESTOCK_HOME")
    return Path(home) if home else Path.home()


def _unexpected(exc: BaseException) -> int:
    log.exception("unexpected error")
    _say(f"takestock: unexpected error: {redact(repr(exc))} (details in the log)")
    return EXIT_UNEXPECTED
