"""Takestock: one desktop studio for AI video made with many vendors."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is looked up when first asked for: importlib.metadata walks the
    # installed packages (~35 ms), which the window's first paint should not wait on.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("takestock")
        except PackageNotFoundError:  # a source tree that was never installed
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'takestock' has no attribute {name!r}")
