"""Workarounds for the Qt binding.

``takestock.ui``'s ``__init__`` applies them when the package is first imported, so any
process that runs Takestock's Qt code has them; applying them again changes nothing.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_singletons_alive"]


def keep_singletons_alive() -> None:
    """WORKAROUND (PySide6 / shiboken6 6.12.0 on CPython 3.11): every call of a void C++
    method returns ``None`` (and ``Signal.emit`` returns ``True``) without a new
    reference, so each call takes one reference away from the singleton: 1,000
    ``QLabel.setText`` calls take 1,000, and a few thousand abort the interpreter with
    "Fatal Python error: none_dealloc". A player refreshing every 40 ms gets there in
    minutes. Python 3.12 makes these objects immortal (PEP 683); this does the same here
    by giving them references that never run out (2**40: a million void calls a second
    for twelve days would not spend them). Remove it with Python 3.12 or a fixed
    PySide6: no release after 6.12.0 is on PyPI yet (checked 2026-12-06), and
    ``tests/ui/test_qt_fixes.py`` fails once the binding stops dropping references.
    """
    if (
        sys.version_info >= (3, 12)
        or sys.implementation.name != "cpython"
        or hasattr(sys, "gettotalrefcount")  # a debug build lays objects out differently
    ):
        return
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        if refcount.value < 1 << 40:
            refcount.value += 1 << 40
