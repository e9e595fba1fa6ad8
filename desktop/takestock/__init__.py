"""Takestock: one desktop studio for AI video made with many vendors."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("takestock")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
