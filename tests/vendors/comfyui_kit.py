"""The ComfyUI tests' kit: a fake server per test, a data folder, an engine over it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.jobs import Engine, Job, JobEvent, Target
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths
from takestock.core.store import Store, open_store
from takestock.core.takes import list_takes
from takestock.core.vendor import CallContext, GenerationRequest
from takestock.vendors.comfyui import ComfyUIAdapter
from tests.fakeserver.harness import FakeServer
from tests.fakeserver.media import tiny_mp4
from tests.support.credentials import StaticCredentials
from tests.vendors.fake_comfyui import FakeComfyUI

__all__ = [
    "HISTORY", "I2V", "PROMPT", "T2V", "VIDEO", "VIEW", "Kit", "done", "flf_graph", "image",
    "kit_fixture", "sample", "serve_fake_fixture", "workflow_file",
]  # fmt: skip

VIDEO = tiny_mp4(seconds=2.0, width=320, height=176)
T2V = "wan2.2-5b-t2v-sample"
I2V = "wan2.2-5b-i2v-sample"
PROMPT = "/prompt"
HISTORY = "/history/{id}"
VIEW = "/view"


def sample(name: str) -> dict[str, Any]:
    text = resources.files("takestock.resources").joinpath(f"comfyui/{name}").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass
class Kit:
    fake: FakeComfyUI
    paths: DataPaths
    store: Store
    catalog: Catalog
    adapter: ComfyUIAdapter
    events: list[JobEvent] = field(default_factory=list)
    base: str = ""

    @property
    def server(self) -> FakeServer:
        assert self.fake.server is not None
        return self.fake.server

    def engine(self, **kw: Any) -> Engine:
        """An engine on the kit's data; ``environ=`` a dict the test may change later."""
        environ = kw.pop("environ", {"TAKESTOCK_COMFYUI_BASE_URL": self.base or self.fake.url})
        return Engine(
            self.store,
            MediaLibrary(self.paths),
            self.catalog,
            {"comfyui": self.adapter},
            StaticCredentials(),
            poll_interval=0.01,
            catalog_overrides=self.paths.catalog_overrides,
            environ=environ,
            on_change=self.events.append,
            **kw,
        )

    def generate(self, request: GenerationRequest, model: str = T2V) -> Job:
        engine = self.engine()
        _, [job_id] = engine.enqueue(request, [Target("comfyui", model)])
        [job] = asyncio.run(asyncio.wait_for(engine.run([job_id]), 30))
        assert self.server.pending_faults() == 0, "a scripted fault was never met"
        return job

    def posts(self) -> int:
        return len(self.server.requests_to("POST", PROMPT))

    def context(self, model: str | None = None) -> CallContext:
        vendor = self.catalog.vendor("comfyui")
        return CallContext(
            http=httpx.AsyncClient(),
            vendor=vendor,
            base_url=self.base or self.fake.url,
            model=vendor.models[model] if model else None,
        )


@pytest.fixture(name="serve_fake")
def serve_fake_fixture() -> Iterator[Any]:
    """``serve_fake(**options)`` starts a :class:`FakeComfyUI`; stopped and checked after."""
    started: list[FakeComfyUI] = []

    def make(**options: Any) -> FakeComfyUI:
        fake = FakeComfyUI(video=VIDEO, **options)
        fake.serve()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        assert fake.server is not None
        fake.server.stop()
        fake.server.check()


@pytest.fixture(name="kit")
def kit_fixture(tmp_path: Path, serve_fake: Any) -> Any:
    def make(overrides: dict[str, Any] | None = None, **options: Any) -> Kit:
        paths = DataPaths(tmp_path / f"home-{len(list(tmp_path.iterdir()))}").ensure()
        if overrides:
            paths.catalog_overrides.write_text(json.dumps(overrides))
        catalog = load_catalog(paths.catalog_overrides)
        adapter = ComfyUIAdapter(catalog.vendor("comfyui"))
        store = open_store(paths.database)
        return Kit(serve_fake(**options), paths, store, catalog, adapter)

    return make


def done(kit: Kit, job: Job, prompts: int = 1) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    [take] = list_takes(kit.store, kit.paths.media)
    assert take.path.read_bytes() == VIDEO
    assert kit.fake.count_prompts() == prompts
    assert kit.adapter.listeners.watching == []  # nothing left listening


def image(path: Path, size: tuple[int, int], fmt: str = "PNG") -> Path:
    Image.new("RGB", size, (200, 40, 40)).save(path, fmt)
    return path


def workflow_file(tmp: Path, name: str, graph: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(graph))
    return path


def flf_graph() -> dict[str, Any]:
    """First and last frame on Wan's core node, marked by title."""
    graph = sample("sample_t2v.json")
    graph["3"]["inputs"].update(positive=["70", 0], negative=["70", 1], latent_image=["70", 2])
    del graph["55"]
    graph["70"] = {
        "class_type": "WanFirstLastFrameToVideo",
        "inputs": {
            "positive": ["6", 0],
            "negative": ["7", 0],
            "vae": ["39", 0],
            "width": 832,
            "height": 480,
            "length": 81,
            "batch_size": 1,
            "start_image": ["71", 0],
            "end_image": ["72", 0],
        },
        "_meta": {"title": "FLF takestock:size,frames"},
    }
    graph["71"] = {
        "class_type": "LoadImage",
        "inputs": {"image": "start.png"},
        "_meta": {"title": "takestock:start_image"},
    }
    graph["72"] = {
        "class_type": "LoadImage",
        "inputs": {"image": "end.png"},
        "_meta": {"title": "takestock:end_image"},
    }
    return graph
