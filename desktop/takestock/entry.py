"""The ``takestock`` command's entry point.

The desktop app is started without importing the command line (which imports the whole
core): the window paints first and the core loads after. Everything else goes to
``takestock.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args == ["gui"]:
        from takestock.app import run_gui

        return run_gui()
    options = args[: args.index("--")] if "--" in args else args
    if {"--version", "-h", "--help"} & set(options):
        # Answered by the grammar alone (argparse prints and exits): the command line's
        # module imports the library's core, which help and the version never need.
        from takestock.cli_parser import build_parser

        try:
            build_parser(args).parse_args(args)
        except BrokenPipeError:  # `takestock --help | head -1`: as every other command
            from takestock.cli import _quiet_broken_pipe

            return _quiet_broken_pipe()
    import logging

    from takestock.cli import main as cli_main

    # A log line that cannot be written (a full disk) is dropped, not reported with a
    # traceback of its own on stderr: the command says what went wrong in its own words.
    # Set here, for the process, not in cli.main, which tests call in-process.
    logging.raiseExceptions = False
    return cli_main(args)
