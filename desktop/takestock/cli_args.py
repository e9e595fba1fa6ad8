"""Argument types for the command line: numbers, ids, files and text checked at parse time.

argparse turns a type's ``ArgumentTypeError`` into ``argument --NAME: message`` and exit
2, so every refusal here names its field and happens before anything is opened, sent or
stored. :func:`check_namespace` adds the checks no single type can make (text that is
not valid UTF-8, a number from a parser that only said ``float``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "INT64_MAX",
    "check_namespace",
    "count",
    "finite_float",
    "input_file",
    "nonnegative_int",
    "positive_int",
    "positive_seconds",
    "row_id",
]

#: SQLite's integers are signed 64-bit; a larger id cannot name any row.
INT64_MAX = 2**63 - 1
#: More takes of one prompt at once than anyone means (a typo such as 1000000).
COUNT_MAX = 1000


def _int(text: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def row_id(text: str) -> int:
    """A row id: 1 to 2**63-1."""
    value = _int(text)
    if not 1 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} is not an id (1 or more)")
    return value


def positive_int(text: str) -> int:
    value = _int(text)
    if not 1 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} must be 1 or more")
    return value


def nonnegative_int(text: str) -> int:
    value = _int(text)
    if not 0 <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def count(text: str) -> int:
    """Takes per target: 1 to :data:`COUNT_MAX`."""
    value = _int(text)
    if not 1 <= value <= COUNT_MAX:
        raise argparse.ArgumentTypeError(f"{text} must be between 1 and {COUNT_MAX}")
    return value


def finite_float(
    *, minimum: float | None = None, above: float | None = None, maximum: float | None = None
) -> Callable[[str], float]:
    """A float type that refuses nan, inf, overflow (1e309) and values out of range."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text} must be at least {minimum:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} must be more than {above:g}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text} must be at most {maximum:g}")
        return value

    parse.__name__ = "number"  # argparse names the type in its own messages
    return parse


#: Seconds to wait or to make: more than zero, at most a year.
positive_seconds = finite_float(above=0.0, maximum=366 * 86400.0)


def take_seconds(text: str) -> float:
    """A take's length: seconds, or -1 where a model lets itself choose (Seedance 2.x);
    whether the model offers it is the model's limits' to say."""
    if text.strip() == "-1":
        return -1.0
    return positive_seconds(text)


take_seconds.__name__ = "seconds"  # argparse names the type in its own messages


def input_file(text: str) -> Path:
    """An existing, readable, regular file, resolved (see ``core.validation.regular_file``)."""
    # Imported here: the parser is built for every command (and --help) without the core.
    from takestock.core.errors import InvalidInput
    from takestock.core.validation import regular_file

    try:
        return regular_file(Path(text), "file")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("file: ")) from None


def _names(action: argparse.Action) -> str:
    return "/".join(action.option_strings) if action.option_strings else action.dest


def check_namespace(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[str, str] | None:
    """The first argument that no type caught: ``(name, problem)``, or None.

    Text must be valid UTF-8 (it is stored and printed), and every number finite (a
    parser that says ``type=float`` accepts nan, inf and 1e309).
    """
    names = _dest_names(parser, args)
    for dest, value in vars(args).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            problem = _problem(item)
            if problem:
                return names.get(dest, dest.replace("_", "-")), problem
    return None


def _problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if isinstance(value, str | Path):
        from takestock.core.validation import bad_text_position  # see input_file

        position = bad_text_position(str(value))
        if position is not None:
            return f"is not valid UTF-8 text (at character {position + 1})"
    return None


def _dest_names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """dest → the option's spelling, along the sub-commands that ``args`` chose."""
    names: dict[str, str] = {}
    current: argparse.ArgumentParser | None = parser
    while current is not None:
        chosen = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(args, action.dest, None) or "")
            else:
                names.setdefault(action.dest, _names(action))
        current = chosen
    return names
