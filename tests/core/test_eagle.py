"""Eagle: takes pushed into a running library over its local API (a fake on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from takestock.core.eagle import (
    EagleClient,
    EagleItem,
    items_from_export,
    push,
)
from takestock.core.errors import EagleError, EagleNotRunning
from takestock.core.export import ExportOptions, export_takes
from takestock.core.prompts import create_prompt
from takestock.core.takes import rate_take
from tests.core.fake_eagle import FakeEagle
from tests.core.test_export_files import Lib, make_video
from tests.fakeserver import Fault


def run(coro_fn, url: str, **kw):
    async def go():
        async with httpx.AsyncClient(trust_env=False) as client:
            return await coro_fn(EagleClient(client, url, **kw))

    return asyncio.run(go())


@pytest.fixture
def eagle(fake_server):
    fake = FakeEagle()
    fake.server = fake_server(fake.routes())
    return fake


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def exported(tmp_path):
    """Three takes exported to a folder, ready to push."""
    lib = Lib(tmp_path / "home")
    prompt = create_prompt(
        lib.store, "a lighthouse at dusk", title="Lighthouse", negative="people", tags=["coast"]
    )
    ids = [
        lib.take(make_video(1.0 + n / 2, 24), prompt_id=prompt.id, vendor=v, model=m)
        for n, (v, m) in enumerate([("kling", "kling-v2"), ("luma", "ray-2"), ("veo", "veo-3")])
    ]
    rate_take(lib.store, ids[0], verdict="usable", stars=5, reasons=["light", "waves"])
    rate_take(lib.store, ids[1], verdict="usable", stars=1)
    result = export_takes(lib.store, lib.takes(ids), tmp_path / "out", ExportOptions())
    yield result
    lib.store.close()


def test_three_takes_go_into_a_new_folder_with_tags_and_annotation(eagle, exported):
    items = items_from_export(exported)
    pushed = run(lambda e: push(e, items, "AI picks"), eagle.server.url)
    assert pushed.added == 3
    assert pushed.version == "4.0.0"
    [folder] = eagle.folders
    assert folder["name"] == "AI picks"
    assert pushed.folder.id == folder["id"]
    assert [i["folders"] for i in eagle.items] == [[folder["id"]]] * 3
    assert [Path(i["path"]) for i in eagle.items] == [t.file for t in exported.takes]
    assert [i["name"] for i in eagle.items] == [t.file.stem for t in exported.takes]
    first = eagle.items[0]
    assert first["tags"] == ["kling", "kling-v2", "usable", "5 stars", "light", "waves", "coast"]
    assert eagle.items[1]["tags"] == ["luma", "ray-2", "usable", "1 star", "coast"]
    assert eagle.items[2]["tags"] == ["veo", "veo-3", "unrated", "coast"]
    take_id = exported.takes[0].record.take.id
    assert first["annotation"] == (
        f"a lighthouse at dusk\n\nNegative: people\n\nTakestock take {take_id}"
    )
    # One request for the three, as Eagle's docs advise for several items.
    [add] = eagle.server.requests_to("POST", "/api/item/addFromPaths")
    assert add.json["folderId"] == folder["id"]
    assert len(add.json["items"]) == 3
    assert add.headers["content-type"] == "application/json"
    assert eagle.server.count("GET", "/api/application/info") == 1


def test_an_existing_folder_is_reused_and_large_pushes_are_batched(eagle, exported):
    existing = eagle.folder("AI picks")
    items = items_from_export(exported) * 5  # 15 items
    pushed = run(lambda e: push(e, items, "AI picks", batch=7), eagle.server.url)
    assert pushed.added == 15
    assert len(eagle.folders) == 1
    assert {i["folders"][0] for i in eagle.items} == {existing["id"]}
    batches = eagle.server.requests_to("POST", "/api/item/addFromPaths")
    assert [len(r.json["items"]) for r in batches] == [7, 7]
    [single] = eagle.server.requests_to("POST", "/api/item/addFromPath")
    assert single.json["folderId"] == existing["id"]  # the odd one out goes alone


def test_without_a_folder_the_items_go_to_the_librarys_root(eagle, exported):
    run(lambda e: push(e, items_from_export(exported)[:1]), eagle.server.url)
    assert eagle.folders == []
    assert eagle.items[0]["folders"] == []
    [add] = eagle.server.requests_to("POST", "/api/item/addFromPath")
    assert "folderId" not in add.json


def test_eagle_not_running_says_so_clearly():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(EagleNotRunning) as caught:
        run(lambda e: e.info(), url)
    assert caught.value.title == "Eagle is not running"
    assert f"Eagle is not running at {url}" in caught.value.message
    assert "Open the Eagle app" in caught.value.message


def test_eagles_refusal_is_reported_in_its_words(eagle, tmp_path):
    item = EagleItem(path=tmp_path / "gone.mp4", name="gone")
    with pytest.raises(EagleError, match=r"Eagle refused /api/item/addFromPath.*file not found"):
        run(lambda e: e.add_from_path(item), eagle.server.url)


def test_a_server_that_is_not_eagle_is_not_mistaken_for_it(fake_server):
    async def page(request):
        return web.Response(text="<html>a web server</html>", content_type="text/html")

    srv = fake_server([web.get("/api/application/info", page)])
    with pytest.raises(EagleError, match="not Eagle's API"):
        run(lambda e: e.info(), srv.url)


def test_a_dropped_connection_is_an_eagle_error_not_a_crash(eagle):
    eagle.server.script("GET", "/api/application/info", Fault.drop())
    with pytest.raises(EagleError, match="did not answer"):
        run(lambda e: e.info(), eagle.server.url)


def test_a_token_is_sent_when_eagle_wants_one(fake_server, exported):
    fake = FakeEagle(token="eagle-token-123456")
    srv = fake_server(fake.routes())
    with pytest.raises(EagleError, match="API token") as caught:
        run(lambda e: e.info(), srv.url)
    assert caught.value.title == "Eagle wants a token"
    pushed = run(
        lambda e: push(e, items_from_export(exported), "T"), srv.url, token="eagle-token-123456"
    )
    assert pushed.added == 3
    assert all(r.query["token"] == "eagle-token-123456" for r in srv.requests[1:])
