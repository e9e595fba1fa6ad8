"""Parts the loopback fakes of create → poll → download vendors share.

``ServedFake``: ``serve()``, ``url`` and ``count_creates()`` for a fake that keeps its
aiohttp ``app``, its ``server``, its accepted ``creates`` and a ``_lock``.
``SignedLinks``: result links as object stores hand them out — signed with a secret,
valid ``ttl`` seconds, revocable all at once (``revoke``, what a fake's
``expire_urls()`` calls) — and the handler that serves the video behind them, with
byte ranges (``tests.fakeserver.generic``), so an adapter's download, resume and
"link expired" paths are tested against one behaviour.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakeserver import FakeServer
from tests.fakeserver.generic import _ranged

__all__ = ["ServedFake", "SignedLinks"]


class ServedFake:
    """Mix-in for a fake dataclass with ``app``, ``server``, ``creates`` and ``_lock``."""

    app: web.Application
    server: FakeServer | None
    creates: list[Any]
    _lock: threading.Lock

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("call serve() first")
        return self.server.url

    def count_creates(self) -> int:
        """Accepted creates: each one charged at the vendor."""
        with self._lock:
            return len(self.creates)


@dataclass(eq=False)
class SignedLinks:
    """Signed, expiring result links under ``/<prefix>/{name}.mp4?se=&sig=``."""

    prefix: str
    ttl: float
    clock: Callable[[], float] = time.time
    secret: bytes = b"fake-object-store"
    _revoked_before: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def route(self) -> str:
        return f"/{self.prefix}/{{name}}.mp4"

    def sign(self, request: web.Request, name: str) -> str:
        issued = f"{self.clock():.6f}"
        return (
            f"{request.scheme}://{request.host}/{self.prefix}/{name}.mp4"
            f"?se={issued}&sig={self._signature(name, issued)}"
        )

    def revoke(self) -> None:
        """Every link issued so far answers 403 from now on; new ones work."""
        with self._lock:
            self._revoked_before = self.clock() + 1e-6

    def serve(self, request: web.Request, video: bytes) -> web.Response:
        """The video behind a link, or 403 for a forged, lapsed or revoked one."""
        name = request.match_info["name"]
        issued = request.query.get("se", "")
        if not hmac.compare_digest(request.query.get("sig", ""), self._signature(name, issued)):
            return web.Response(status=403, text="AccessDenied: signature does not match")
        with self._lock:
            revoked = float(issued) < self._revoked_before
        if revoked or self.clock() >= float(issued) + self.ttl:
            return web.Response(status=403, text="AccessDenied: Request has expired")
        return _ranged(request, video)

    def _signature(self, name: str, issued: str) -> str:
        return hmac.new(self.secret, f"{name}\n{issued}".encode(), "sha256").hexdigest()
