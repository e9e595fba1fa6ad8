"""The command line for hand-off: ``takestock export`` to a folder, an editor, Eagle.

Exit codes follow ``cli.py``: 0 done; 2 bad input (no selection, a folder whose parent
is missing, a date that does not parse, no take matching), with nothing written; 3
Eagle is not running or refused, like a vendor failing: the outside service is at
fault and trying again later can work (when ``--eagle`` finds Eagle closed, nothing is
written at all; when Eagle fails mid-push, the files are exported and stay); 1 a take's
file missing from the library.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import Any

import httpx

from takestock import __version__
from takestock.core.eagle import (
    DEFAULT_URL,
    EagleClient,
    EagleError,
    EaglePush,
    items_from_export,
    push,
)
from takestock.core.errors import InvalidInput, MediaError
from takestock.core.export import (
    ExportOptions,
    ExportResult,
    Selection,
    check_folder,
    export_takes,
    select_takes,
)
from takestock.core.logs import redact, register_secret
from takestock.wiring import Services

__all__ = ["cmd_export"]

EXIT_OK, EXIT_UNEXPECTED, EXIT_INVALID, EXIT_VENDOR = 0, 1, 2, 3

#: Eagle is on this machine: a long wait means it is busy, not far away.
_EAGLE_TIMEOUT = httpx.Timeout(connect=5.0, read=120.0, write=60.0, pool=10.0)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _when(text: str, field: str, *, end: bool) -> float:
    """``YYYY-MM-DD`` (local; with ``end``, the whole day counts) or an ISO date-time."""
    try:
        if len(text.strip()) == 10:
            day = dt.date.fromisoformat(text.strip())
            if end:
                day += dt.timedelta(days=1)
            return dt.datetime.combine(day, dt.time()).timestamp()
        return dt.datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise InvalidInput(field, f"{text!r} is not a date (YYYY-MM-DD[THH:MM])") from None


def _selection(args: argparse.Namespace) -> Selection:
    selection = Selection(
        take_ids=tuple(args.take or ()),
        verdict=args.verdict,
        request_id=args.group,
        tag=args.tag,
        since=_when(args.since, "since", end=False) if args.since else None,
        until=_when(args.until, "until", end=True) if args.until else None,
    )
    if selection == Selection():
        raise InvalidInput(
            "selection",
            "say which takes: --take ID, --verdict, --group, --tag, --since or --until",
        )
    if selection.since and selection.until and selection.since >= selection.until:
        raise InvalidInput("until", "is not after --since")
    return selection


def _eagle(services: Services, client: httpx.AsyncClient) -> EagleClient:
    base = services.environ.get("TAKESTOCK_EAGLE_BASE_URL") or DEFAULT_URL
    token = services.environ.get("TAKESTOCK_EAGLE_TOKEN") or None
    if token:
        register_secret(token)
    return EagleClient(client, base, token=token)


def _eagle_client() -> httpx.AsyncClient:
    # Eagle listens on this machine: a proxy from the environment must not carry it.
    return httpx.AsyncClient(
        timeout=_EAGLE_TIMEOUT,
        trust_env=False,
        headers={"User-Agent": f"Takestock/{__version__}"},
    )


async def _check_eagle(services: Services) -> None:
    async with _eagle_client() as client:
        await _eagle(services, client).info()


async def _push(services: Services, result: ExportResult, folder: str | None) -> EaglePush:
    async with _eagle_client() as client:
        return await push(_eagle(services, client), items_from_export(result), folder)


def _print_result(result: ExportResult) -> None:
    for item in result.takes:
        print(f"take {item.record.take.id:<6} {item.how:<9} {item.file.name}")
    hows = [t.how for t in result.takes]
    parts = [f"{hows.count(h)} {h}" for h in ("hardlink", "copy", "existing") if h in hows]
    count = len(result.takes)
    print(
        f"Exported {count} take{'s' if count != 1 else ''} to {result.folder} ({', '.join(parts)})"
    )
    print(f"  metadata: {result.csv.name} and one .json per take")
    if result.fcpxml:
        print(f"  Final Cut Pro / Resolve: {result.fcpxml.name}")
    for edl in result.edls:
        print(f"  EDL (Resolve, Premiere): {edl.name}")
    for warning in result.warnings:
        _say(f"Note: {warning}")


def cmd_export(services: Services, args: argparse.Namespace) -> int:
    try:
        selection = _selection(args)
        folder = check_folder(args.to)
        takes = select_takes(services.store, services.library.root, selection)
        if not takes:
            raise InvalidInput("selection", "no takes match; nothing to export")
    except InvalidInput as exc:
        _say(f"takestock: {redact(exc.message)} (nothing was exported)")
        return EXIT_INVALID
    try:
        if args.eagle:
            asyncio.run(_check_eagle(services))  # before any file: Eagle closed, nothing done
        result = export_takes(
            services.store,
            takes,
            folder,
            ExportOptions(fcpxml=args.fcpxml, edl=args.edl, link=not args.copy, name=args.name),
        )
    except EagleError as exc:
        _say(f"takestock: {exc.title}: {redact(exc.message)} Nothing was exported.")
        return EXIT_VENDOR
    except InvalidInput as exc:
        _say(f"takestock: {redact(exc.message)} (nothing was exported)")
        return EXIT_INVALID
    except MediaError as exc:
        _say(f"takestock: {exc.title}: {redact(exc.message)}")
        return EXIT_UNEXPECTED
    pushed: EaglePush | None = None
    failure: EagleError | None = None
    if args.eagle:
        try:
            pushed = asyncio.run(_push(services, result, args.eagle_folder or None))
        except EagleError as exc:
            failure = exc
    if args.json:
        data = result.to_json()
        data["eagle"] = pushed.to_json() if pushed else None
        if failure:
            data["eagle"] = {"error": failure.kind, "message": redact(failure.message)}
        _print_json(data)
    else:
        _print_result(result)
        if pushed:
            where = f"folder {pushed.folder.name!r}" if pushed.folder else "the library's root"
            print(f"  Eagle {pushed.version}: added {pushed.added} items to {where}")
    if failure:
        _say(
            f"takestock: {failure.title}: {redact(failure.message)} "
            f"The files are exported in {result.folder}."
        )
        return EXIT_VENDOR
    return EXIT_OK
