"""The generic fake video vendor speaks the protocol its module docstring promises.

The job-engine tests build on these behaviours (progression, signed URLs, resume,
lookup by client id), so each is pinned here with a bare httpx client.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from typing import Any

import av
import httpx
import pytest

from tests.fakeserver import Fault, GenericVideoVendor, tiny_mp4

VIDEO = tiny_mp4()
AUTH = {"Authorization": "Bearer test-key"}
MakeVendor = Callable[..., GenericVideoVendor]


def _body(**overrides: Any) -> dict[str, Any]:
    return {"model": "gv-1", "prompt": "a cat on a skateboard", "duration": 5, **overrides}


@pytest.fixture
def vendor(generic_vendor: MakeVendor) -> GenericVideoVendor:
    return generic_vendor()


@pytest.fixture
def api(vendor: GenericVideoVendor) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=vendor.url, headers=AUTH, timeout=5) as c:
        yield c


def _create(api: httpx.Client, **overrides: Any) -> str:
    response = api.post("/v1/tasks", json=_body(**overrides))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


def _poll_to_end(api: httpx.Client, task_id: str, limit: int = 10) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        task = api.get(f"/v1/tasks/{task_id}").json()
        seen.append(task)
        if task["status"] in {"succeeded", "failed", "cancelled"}:
            return seen
    raise AssertionError(f"task {task_id} did not finish: {seen[-1]}")


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# ---- the happy path ---------------------------------------------------------------------


def test_create_poll_download(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    created = api.post("/v1/tasks", json=_body(client_id="job-1"))
    assert created.json() == {"id": "task_1", "status": "queued"}

    seen = _poll_to_end(api, "task_1")
    assert [t["status"] for t in seen] == ["queued", "running", "running", "succeeded"]
    progress = [t["progress"] for t in seen]
    assert progress == sorted(progress)
    assert (progress[0], progress[-1]) == (0, 100)
    done = seen[-1]
    assert done["client_id"] == "job-1"
    assert done["video_url"].startswith(f"{vendor.url}/files/task_1.mp4?sig=")
    assert "error" not in done

    video = httpx.get(done["video_url"])  # signed: no Authorization needed
    assert video.status_code == 200
    assert video.content == VIDEO
    assert video.headers["content-length"] == str(len(VIDEO))
    assert video.headers["accept-ranges"] == "bytes"
    assert video.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(video.content)) as container:  # a real, probe-able MP4
        assert container.streams.video[0].width == 160

    assert vendor.creates == [_body(client_id="job-1")]
    assert vendor.count_creates("job-1") == 1
    assert vendor.tasks["task_1"].polls == 4


def test_async_client_full_flow(vendor: GenericVideoVendor) -> None:
    async def main() -> bytes:
        async with httpx.AsyncClient(base_url=vendor.url, headers=AUTH, timeout=5) as c:
            task_id = (await c.post("/v1/tasks", json=_body())).json()["id"]
            for _ in range(4):
                task = (await c.get(f"/v1/tasks/{task_id}")).json()
            assert task["status"] == "succeeded"
            return (await c.get(task["video_url"])).content

    assert asyncio.run(main()) == VIDEO


def test_progression_is_configurable(generic_vendor: MakeVendor) -> None:
    instant = generic_vendor(queued_polls=0, running_polls=0)
    slow = generic_vendor(queued_polls=2, running_polls=3)
    with httpx.Client(headers=AUTH) as c:
        c.post(instant.url + "/v1/tasks", json=_body())
        assert c.get(instant.url + "/v1/tasks/task_1").json()["status"] == "succeeded"
        c.post(slow.url + "/v1/tasks", json=_body())
        statuses = [c.get(slow.url + "/v1/tasks/task_1").json()["status"] for _ in range(6)]
    assert statuses == ["queued"] * 2 + ["running"] * 3 + ["succeeded"]


def test_progression_by_time(generic_vendor: MakeVendor) -> None:
    now = [1000.0]
    vendor = generic_vendor(queued_seconds=10, running_seconds=20, clock=lambda: now[0])
    with httpx.Client(base_url=vendor.url, headers=AUTH) as c:
        _create(c)
        states = []
        for t in (1005.0, 1020.0, 1030.0):
            now[0] = t
            task = c.get("/v1/tasks/task_1").json()
            states.append((task["status"], task["progress"]))
    assert states == [("queued", 0), ("running", 50), ("succeeded", 100)]


def test_forced_status_pins_a_task(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    _create(api)
    vendor.tasks["task_1"].forced_status = "running"
    assert {api.get("/v1/tasks/task_1").json()["status"] for _ in range(6)} == {"running"}
    assert vendor.status_of("task_1") == "running"


# ---- downloads: resume, expiry, signatures ---------------------------------------------


def _drain(response: httpx.Response, into: bytearray) -> None:
    for chunk in response.iter_raw():
        into += chunk


def _video_url(api: httpx.Client) -> str:
    task_id = _create(api)
    url: str = _poll_to_end(api, task_id)[-1]["video_url"]
    return url


def test_range_resume_after_a_cut(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    url = _video_url(api)
    assert vendor.server is not None
    vendor.server.script("GET", "/files/*", Fault.cut_after(1000))
    got = bytearray()
    with httpx.stream("GET", url) as first, pytest.raises(httpx.RemoteProtocolError):
        _drain(first, got)
    assert len(got) == 1000

    rest = httpx.get(url, headers={"Range": f"bytes={len(got)}-"})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 1000-{len(VIDEO) - 1}/{len(VIDEO)}"
    assert rest.headers["content-length"] == str(len(VIDEO) - 1000)
    assert bytes(got) + rest.content == VIDEO


@pytest.mark.parametrize(
    ("range_header", "status", "expected"),
    [
        pytest.param("bytes=0-9", 206, VIDEO[:10], id="first-10"),
        pytest.param("bytes=-10", 206, VIDEO[-10:], id="suffix"),
        pytest.param(f"bytes=10-{10**9}", 206, VIDEO[10:], id="end-clamped"),
        pytest.param("bytes=0-", 206, VIDEO, id="all"),
        # multipart ranges are not offered: the whole file, as RFC 9110 allows
        pytest.param("bytes=0-1,5-6", 200, VIDEO, id="multipart-ignored"),
        pytest.param(f"bytes={len(VIDEO)}-", 416, b"", id="past-the-end"),
    ],
)
def test_range_forms(api: httpx.Client, range_header: str, status: int, expected: bytes) -> None:
    response = httpx.get(_video_url(api), headers={"Range": range_header})
    assert response.status_code == status
    assert response.content == expected
    if status == 416:
        assert response.headers["content-range"] == f"bytes */{len(VIDEO)}"


def test_expired_urls_are_refused_and_a_new_poll_signs_anew(
    vendor: GenericVideoVendor, api: httpx.Client
) -> None:
    url = _video_url(api)
    vendor.expire_urls()
    assert _error(httpx.get(url)) == (403, "url_expired")
    fresh = api.get("/v1/tasks/task_1").json()["video_url"]
    assert fresh != url
    assert httpx.get(fresh).content == VIDEO


def test_urls_expire_with_time(generic_vendor: MakeVendor) -> None:
    now = [1000.0]
    vendor = generic_vendor(queued_polls=0, running_polls=0, url_ttl=60, clock=lambda: now[0])
    with httpx.Client(base_url=vendor.url, headers=AUTH) as c:
        _create(c)
        url = c.get("/v1/tasks/task_1").json()["video_url"]
        assert "expires=1060" in url
        assert httpx.get(url).status_code == 200
        now[0] = 1060.0
        assert _error(httpx.get(url)) == (403, "url_expired")


def test_forged_urls_are_refused(api: httpx.Client) -> None:
    url = _video_url(api)
    assert _error(httpx.get(url.replace("sig=", "sig=0"))) == (403, "invalid_signature")
    assert _error(httpx.get(url.replace("task_1.mp4", "task_2.mp4"))) == (
        403,
        "invalid_signature",
    )
    assert _error(httpx.get(url.split("?")[0])) == (403, "invalid_signature")


# ---- errors: auth, validation, balance ----------------------------------------------------


def test_auth(vendor: GenericVideoVendor) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-key"}):
        response = httpx.post(vendor.url + "/v1/tasks", json=_body(), headers=headers)
        assert _error(response) == (401, "unauthorized")
    assert _error(httpx.get(vendor.url + "/v1/balance")) == (401, "unauthorized")
    assert vendor.creates == []


def test_custom_api_key(generic_vendor: MakeVendor) -> None:
    vendor = generic_vendor(api_key="sk-other")
    ok = httpx.get(vendor.url + "/v1/balance", headers={"Authorization": "Bearer sk-other"})
    assert ok.json() == {"credits": 1000.0}
    assert httpx.get(vendor.url + "/v1/balance", headers=AUTH).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_body(prompt=None), 400, "invalid_prompt"),
        (_body(prompt="   "), 400, "invalid_prompt"),
        ({"model": "gv-1", "duration": 5}, 400, "invalid_prompt"),
        (_body(duration=0), 400, "invalid_duration"),
        (_body(duration="5"), 400, "invalid_duration"),
        (_body(model=None), 400, "invalid_request"),
        (["not", "an", "object"], 400, "invalid_request"),
        (_body(model="gv-0"), 404, "model_not_found"),
    ],
)
def test_validation(generic_vendor: MakeVendor, body: Any, status: int, code: str) -> None:
    vendor = generic_vendor(retired_models=["gv-0"])
    response = httpx.post(vendor.url + "/v1/tasks", json=body, headers=AUTH)
    assert _error(response) == (status, code)
    assert vendor.creates == []
    assert vendor.credits == 1000.0


def test_retired_model_message(generic_vendor: MakeVendor) -> None:
    vendor = generic_vendor(retired_models=["gv-0"])
    response = httpx.post(vendor.url + "/v1/tasks", json=_body(model="gv-0"), headers=AUTH)
    assert response.json()["error"]["message"] == "model gv-0 is no longer available"


def test_balance_and_insufficient_balance(generic_vendor: MakeVendor) -> None:
    vendor = generic_vendor(credits=8)
    with httpx.Client(base_url=vendor.url, headers=AUTH) as c:
        assert c.get("/v1/balance").json() == {"credits": 8}
        _create(c, duration=5)
        assert c.get("/v1/balance").json() == {"credits": 3}
        assert _error(c.post("/v1/tasks", json=_body(duration=5))) == (
            402,
            "insufficient_balance",
        )
        vendor.credits = 100
        _create(c, duration=5)
    assert vendor.count_creates() == 2


def test_unknown_task(api: httpx.Client) -> None:
    assert _error(api.get("/v1/tasks/task_404")) == (404, "task_not_found")
    assert _error(api.post("/v1/tasks/task_404/cancel")) == (404, "task_not_found")


@pytest.mark.parametrize(
    ("prompt", "code"), [("a cat #fail", "generation_failed"), ("#nsfw a cat", "content_policy")]
)
def test_failing_prompts(
    vendor: GenericVideoVendor, api: httpx.Client, prompt: str, code: str
) -> None:
    task_id = _create(api, prompt=prompt)
    assert api.get("/v1/balance").json() == {"credits": 995}
    seen = _poll_to_end(api, task_id)
    assert [t["status"] for t in seen] == ["queued", "running", "running", "failed"]
    assert seen[-1]["error"]["code"] == code
    assert seen[-1]["error"]["message"]
    assert "video_url" not in seen[-1]
    assert api.get("/v1/balance").json() == {"credits": 1000}  # refunded once reported


def test_no_refunds_when_told(generic_vendor: MakeVendor) -> None:
    vendor = generic_vendor(refunds=False, queued_polls=0, running_polls=0)
    with httpx.Client(base_url=vendor.url, headers=AUTH) as c:
        _create(c, prompt="#fail")
        assert c.get("/v1/tasks/task_1").json()["status"] == "failed"
        assert c.get("/v1/balance").json() == {"credits": 995}


# ---- cancel and lookup ---------------------------------------------------------------------


def test_cancel(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    task_id = _create(api)
    cancelled = api.post(f"/v1/tasks/{task_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert api.get(f"/v1/tasks/{task_id}").json()["status"] == "cancelled"
    assert api.get("/v1/balance").json() == {"credits": 1000}
    assert _error(api.post(f"/v1/tasks/{task_id}/cancel")) == (409, "invalid_state")

    done = _create(api)
    _poll_to_end(api, done)
    assert _error(api.post(f"/v1/tasks/{done}/cancel")) == (409, "invalid_state")


def test_lookup_by_client_id(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    _create(api, client_id="job-a")
    _create(api, client_id="job-b")
    _create(api)

    found = api.get("/v1/tasks", params={"client_id": "job-b"}).json()["data"]
    assert [(t["id"], t["status"], t["client_id"]) for t in found] == [
        ("task_2", "queued", "job-b")
    ]
    assert api.get("/v1/tasks", params={"client_id": "job-z"}).json() == {"data": []}
    assert len(api.get("/v1/tasks").json()["data"]) == 3
    assert vendor.tasks["task_2"].polls == 0  # a lookup is not a poll


def test_a_create_whose_answer_was_lost_is_found_by_client_id(
    vendor: GenericVideoVendor,
) -> None:
    # The engine's "unknown" case: the create timed out on our side but happened there.
    assert vendor.server is not None
    vendor.server.script("POST", "/v1/tasks", Fault.delay(0.2))
    with httpx.Client(base_url=vendor.url, headers=AUTH, timeout=0.05) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.post("/v1/tasks", json=_body(client_id="job-lost"))
        vendor.server.wait_idle()
        found = c.get("/v1/tasks", params={"client_id": "job-lost"}).json()["data"]
    assert [t["id"] for t in found] == ["task_1"]
    assert vendor.count_creates("job-lost") == 1


def test_no_deduplication_of_creates(vendor: GenericVideoVendor, api: httpx.Client) -> None:
    _create(api, client_id="job-1")
    _create(api, client_id="job-1")
    assert vendor.count_creates("job-1") == 2  # a double create is a double charge
    assert api.get("/v1/balance").json() == {"credits": 990}
