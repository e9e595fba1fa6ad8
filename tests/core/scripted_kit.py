"""An engine on a real library with the scripted adapter and one account holding
credits: the set-up the ledger and fault tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from takestock.core import credits
from takestock.core.catalog import Catalog, load_catalog
from takestock.core.jobs import Engine, Target
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.vendor import GenerationRequest
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.support.generic_adapter import VENDOR_ID, generic_spec
from tests.support.scripted_adapter import Script, ScriptedAdapter

VIDEO = tiny_mp4(seconds=1.0, width=160, height=90)
ACCOUNT = "acct"
TARGET = Target(VENDOR_ID, "gv-1", ACCOUNT)
KEY = "scripted-key-0123456789"


@dataclass
class ScriptedKit:
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: ScriptedAdapter

    def engine(self, **kw: object) -> Engine:
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {VENDOR_ID: self.adapter},
            StaticCredentials({VENDOR_ID: {"api_key": KEY}}),
            poll_interval=0.0,
            catalog_overrides=self.paths.catalog_overrides,
            environ={},
            **kw,  # type: ignore[arg-type]
        )

    def enqueue(self, engine: Engine, prompts: list[str]) -> list[int]:
        ids = []
        for prompt in prompts:
            _, [job_id] = engine.enqueue(GenerationRequest(prompt, duration_s=2), [TARGET])
            ids.append(job_id)
        return ids

    def run(self, engine: Engine, ids: list[int], **kw: object) -> None:
        asyncio.run(asyncio.wait_for(engine.run(ids, **kw), 60))  # type: ignore[arg-type]

    def video_file(self, name: str = "from-site.mp4") -> Path:
        path = self.paths.root / name
        path.write_bytes(VIDEO)
        return path


def scripted_kit(root: Path, scripts: Mapping[str, Script]) -> ScriptedKit:
    paths = DataPaths(root).ensure()
    spec = generic_spec()
    catalog = Catalog({**load_catalog().vendors, spec.id: spec})
    store = open_store(paths.database)
    account = credits.add_account(store, {}, vendor=VENDOR_ID, name=ACCOUNT, kind="api")
    credits.adjust(store, account.id, 100_000, "test credits")
    return ScriptedKit(paths, store, catalog, ScriptedAdapter(spec, scripts, VIDEO))
