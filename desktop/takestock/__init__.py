"""Takestock: one desktop studio for AI video made with many vendors."""

from __future__ import annotations

import os
import sys

__all__ = ["__version__"]


def _from_dist_info() -> str | None:
    """The version in ``takestock-*.dist-info/METADATA`` on ``sys.path``, read directly.

    ``importlib.metadata`` imports email, zipfile and csv to answer the same question
    (~35 ms, three times Python's own start): too slow for ``takestock --version``.
    The first folder on ``sys.path`` holding our metadata wins, as it does there.
    """
    for entry in sys.path:
        try:
            names = [n for n in os.listdir(entry or ".") if n.startswith("takestock-")]
        except OSError:
            continue
        for name in names:
            if not name.endswith(".dist-info"):
                continue
            try:
                with open(os.path.join(entry, name, "METADATA"), encoding="utf-8") as meta:
                    for line in meta:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():
                            break  # the headers end at the first blank line
            except OSError:
                continue
    return None


def __getattr__(name: str) -> str:
    # The version is looked up when first asked for, not at import: the window's first
    # paint and every command that does not print it should not wait on the lookup.
    if name == "__version__":
        found = _from_dist_info()
        if found is None:  # a zip or frozen bundle: ask importlib, which reads those too
            from importlib.metadata import PackageNotFoundError, version

            try:
                found = version("takestock")
            except PackageNotFoundError:  # a source tree that was never installed
                found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'takestock' has no attribute {name!r}")
