"""A test kit for one vendor adapter against its fake: an engine on a real temporary
library, a call context for direct adapter calls, and the CLI in a subprocess.

Shared by the vendor tests that drive an adapter the same way (xai, bfl, hunyuan); a
vendor's own fake and assertions stay in its test module.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.jobs import Engine, Job, Target
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.vendor import CallContext, GenerationRequest, VendorAdapter
from tests.fakeserver import FakeServer
from tests.support.credentials import StaticCredentials

__all__ = ["Fake", "VendorKit", "kit_factory", "run_cli"]


class Fake(Protocol):
    server: FakeServer | None

    @property
    def url(self) -> str: ...

    def serve(self) -> FakeServer: ...


@dataclass
class VendorKit:
    """One fake, one adapter, one library; ``key`` is what the account sends."""

    vendor_id: str
    fake: Any
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: VendorAdapter
    key: str
    default_model: str

    def engine(self, **kw: Any) -> Engine:
        prefix = self.catalog.vendor(self.vendor_id).env_prefix
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {self.vendor_id: self.adapter},
            StaticCredentials({self.vendor_id: {"api_key": self.key}}),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ={f"{prefix}_BASE_URL": self.fake.url},
            **kw,
        )

    def generate(
        self, request: GenerationRequest, model: str | None = None, count: int = 1
    ) -> list[Job]:
        engine = self.engine()
        target = Target(self.vendor_id, model or self.default_model)
        _, ids = engine.enqueue(request, [target], count=count)
        jobs = asyncio.run(asyncio.wait_for(engine.run(ids), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return jobs

    def context(self, model: str | None = None, **kw: Any) -> CallContext:
        vendor = self.catalog.vendor(self.vendor_id)
        fields: dict[str, Any] = {
            "vendor": vendor,
            "base_url": self.fake.url,
            "model": vendor.models[model or self.default_model],
            "secrets": {"api_key": self.key},
            **kw,
        }
        if "http" not in fields:
            fields["http"] = httpx.AsyncClient(timeout=10, follow_redirects=True)
        return CallContext(**fields)

    def call(self, ctx: CallContext, make: Callable[[], Any]) -> Any:
        async def go() -> Any:
            async with ctx.http:
                return await make()

        return asyncio.run(go())

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server


def kit_factory(
    tmp_path: Path,
    vendor_id: str,
    make_fake: Callable[..., Any],
    make_adapter: Callable[[Any], VendorAdapter],
    key: str,
    default_model: str,
) -> Iterator[Callable[..., VendorKit]]:
    """A pytest fixture body: ``make(**fake_options)`` serves a fake and builds a kit;
    every fake is stopped, and its handler errors raised, at teardown."""
    servers: list[FakeServer] = []

    def make(**options: Any) -> VendorKit:
        fake = make_fake(**options)
        servers.append(fake.serve())
        paths = DataPaths(tmp_path / f"kit{len(servers)}").ensure()
        catalog = load_catalog()
        adapter = make_adapter(catalog.vendor(vendor_id))
        return VendorKit(
            vendor_id, fake, paths, open_store(paths.database), catalog, adapter, key,
            default_model,
        )  # fmt: skip

    yield make
    for srv in servers:
        srv.stop()
    for srv in servers:
        srv.check()


def run_cli(
    home: Path, vendor_id: str, base_url: str, key: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``takestock ARGS`` with the vendor's base URL and key from the environment."""
    prefix = "TAKESTOCK_" + vendor_id.upper()
    env = {
        **os.environ,
        "TAKESTOCK_HOME": str(home),
        f"{prefix}_BASE_URL": base_url,
        f"{prefix}_API_KEY": key,
    }
    return subprocess.run(
        [sys.executable, "-m", "takestock", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from takestock.core.http import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
