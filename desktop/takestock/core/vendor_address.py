"""The address a vendor's calls go to, checked before any request is built.

The catalog names each vendor's address per region; an account may override it (a
proxy, a local ComfyUI elsewhere) and so may ``TAKESTOCK_<VENDOR>_BASE_URL``. An
override no request could be sent to (``http://[::1``, ``not a url``, ``ftp://x``) is
refused with a message naming where it came from, so a job fails as "nothing was sent"
instead of waiting in doubt.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from takestock.core.catalog import VendorSpec
from takestock.core.errors import InvalidInput

__all__ = ["base_url_for"]


def base_url_for(
    vendor: VendorSpec, environ: Mapping[str, str], account_url: str | None, region: str
) -> str:
    """The environment's override, else the account's, else the catalog's for ``region``.

    Raises:
        InvalidInput: an override that is not an http(s) URL with a host.
    """
    url = environ.get(f"{vendor.env_prefix}_BASE_URL") or account_url or vendor.base_url(region)
    if url not in vendor.base_urls.values():
        _check(vendor, url)
    return url


def _check(vendor: VendorSpec, url: str) -> None:
    import httpx  # here, not at the top: only an override needs it, and it costs ~70 ms

    try:
        parts = urlsplit(url)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        problem = str(exc)
    else:
        if parts.scheme in ("http", "https") and parts.hostname:
            return
        problem = "it needs http:// or https:// and a host"
    raise InvalidInput(
        "base_url",
        f"{vendor.name}'s address {url!r} is not usable ({problem}); fix "
        f"{vendor.env_prefix}_BASE_URL or the account's base URL. Nothing was sent.",
    )
