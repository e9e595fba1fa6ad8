"""pytest fixtures for loopback fake servers; registered from tests/conftest.py with
`pytest_plugins = ["tests.fakeserver.fixtures"]`.

Factories rather than ready servers, because a test often needs its own app or options;
every server a test starts is stopped at teardown, and a handler error inside any of them
(a bug in the fake) fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from aiohttp import web

from .generic import GenericVideoVendor
from .harness import FakeServer

__all__ = ["fake_server", "generic_vendor"]


def _teardown(servers: list[FakeServer]) -> None:
    for srv in reversed(servers):
        srv.stop()
    for srv in servers:
        srv.check()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeServer]]:
    """`fake_server(app_or_routes=None, **kwargs)` starts a `FakeServer` and returns it."""
    servers: list[FakeServer] = []

    def make(
        app: web.Application | Iterable[web.AbstractRouteDef] | None = None, **kwargs: Any
    ) -> FakeServer:
        srv = FakeServer(app, **kwargs)
        servers.append(srv)
        return srv.start()

    yield make
    _teardown(servers)


@pytest.fixture
def generic_vendor() -> Iterator[Callable[..., GenericVideoVendor]]:
    """`generic_vendor(**options)` serves a `GenericVideoVendor`; its `.url`, `.server`."""
    servers: list[FakeServer] = []

    def make(**options: Any) -> GenericVideoVendor:
        vendor = GenericVideoVendor(**options)
        servers.append(vendor.serve())
        return vendor

    yield make
    _teardown(servers)
