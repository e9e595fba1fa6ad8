"""The fault matrix every create → poll → download adapter must pass, once per vendor.

A vendor's test module subclasses :class:`FaultMatrix` as ``TestFaults``, names its
fake's paths, and provides a ``kit`` fixture (``tests.vendors.kit``) whose fake takes
``url_ttl`` and counts accepted creates with ``count_creates()``. The faults come from
``tests.fakeserver``; the vendor's own states and error words stay in its module.

    fault                                   expected
    429 with Retry-After (create)           waited as asked, sent again, one task
    429 without Retry-After (create)        retried with backoff, one task
    5xx to a poll                           polled again, a take
    5xx to a create                         unknown: the vendor may have acted; not resent
    the create's answer cut off             unknown, one task at the vendor, not resent
    malformed JSON to a create              unknown, not resent
    malformed JSON to a poll                once: polled again; always: failed, protocol
    result link expired once                a fresh link from a new poll, a take
    result link always expired              failed, result_expired, nothing left behind
    download cut short                      resumed with a Range request, the same bytes
    auth failure quoting the key back       failed, auth; the key in no message, row, log
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, ClassVar

import pytest

from takestock.core.takes import list_takes
from takestock.core.vendor import GenerationRequest
from tests.fakeserver import Fault

__all__ = ["FaultMatrix", "done"]


def done(job: Any) -> None:
    assert job.state == "done", (job.state, job.error_kind, job.error)
    assert job.take_id is not None


class FaultMatrix:
    """Mix-in test class; see the module docstring.

    Attributes:
        create: (method, path template) of the create.
        poll: (method, path template) of the poll.
        files: the path template of result downloads.
        video: the bytes the fake serves as the result.
        wrong_key: a key the fake refuses and quotes back.
    """

    create: ClassVar[tuple[str, str]]
    poll: ClassVar[tuple[str, str]]
    files: ClassVar[str]
    video: ClassVar[bytes]
    wrong_key: ClassVar[str]
    request: ClassVar[GenerationRequest] = GenerationRequest("a fox")

    def creates(self, k: Any) -> list[Any]:
        return k.server.requests_to(*self.create)

    def test_a_429_with_retry_after_is_honoured_and_nothing_is_duplicated(self, kit):
        k = kit()
        k.server.script(*self.create, Fault.status(429, retry_after=0.3))
        done(k.generate(self.request)[0])
        sent = self.creates(k)
        assert len(sent) == 2
        assert sent[1].at - sent[0].at >= 0.28
        assert k.fake.count_creates() == 1

    def test_a_429_without_retry_after_is_retried_with_backoff(self, kit, instant_backoff):
        k = kit()
        k.server.script(*self.create, Fault.status(429), Fault.status(429))
        done(k.generate(self.request)[0])
        assert len(self.creates(k)) == 3
        assert k.fake.count_creates() == 1

    def test_a_5xx_to_a_poll_is_retried(self, kit, instant_backoff):
        k = kit()
        k.server.script(*self.poll, Fault.status(502), Fault.status(503))
        done(k.generate(self.request)[0])

    def test_a_5xx_to_a_create_becomes_unknown_and_is_never_resent(self, kit):
        k = kit()
        k.server.script(*self.create, Fault.status(500))
        [job] = k.generate(self.request)
        assert job.state == "unknown"
        assert "never learned" in job.error
        assert len(self.creates(k)) == 1

    def test_a_create_whose_answer_is_lost_is_unknown_not_a_second_charge(self, kit):
        k = kit()
        k.server.script(*self.create, Fault.cut_after(0))  # made at the vendor; never heard
        [job] = k.generate(self.request)
        assert job.state == "unknown"
        assert k.fake.count_creates() == 1
        assert len(self.creates(k)) == 1
        assert k.adapter.can_find is False

    def test_malformed_json_to_a_create_is_a_lost_answer(self, kit):
        k = kit()
        k.server.script(*self.create, Fault.malformed_json())
        [job] = k.generate(self.request)
        assert job.state == "unknown"
        assert len(self.creates(k)) == 1

    def test_malformed_json_on_a_poll_is_retried_then_fails_as_protocol(self, kit):
        k = kit()
        k.server.script(*self.poll, Fault.malformed_json())
        done(k.generate(self.request)[0])
        k.server.script_always(*self.poll, Fault.malformed_json())
        [job] = k.generate(self.request)
        assert (job.state, job.error_kind) == ("failed", "protocol")

    def test_an_expired_result_link_is_fetched_again(self, kit):
        k = kit()
        k.server.script("GET", self.files, Fault.status(403, text="AccessDenied: expired"))
        done(k.generate(self.request)[0])
        links = {tuple(sorted(r.query.items())) for r in k.server.requests_to("GET", self.files)}
        assert len(links) == 2
        assert k.fake.count_creates() == 1

    def test_a_link_that_stays_expired_fails_the_job(self, kit):
        k = kit(url_ttl=0)
        [job] = k.generate(self.request)
        assert (job.state, job.error_kind) == ("failed", "result_expired")
        assert list(k.paths.incoming.iterdir()) == []

    def test_a_download_cut_short_resumes_with_a_range_request(self, kit):
        k = kit()
        half = len(self.video) // 2
        k.server.script("GET", self.files, Fault.cut_after(half))
        done(k.generate(self.request)[0])
        downloads = k.server.requests_to("GET", self.files)
        assert downloads[1].headers.get("Range") == f"bytes={half}-"
        [take] = list_takes(k.store, k.paths.media)
        assert take.sha256 == hashlib.sha256(self.video).hexdigest()

    def test_an_auth_failure_quoting_the_key_keeps_it_nowhere(
        self, kit, caplog: pytest.LogCaptureFixture
    ):
        caplog.set_level(logging.DEBUG)
        k = kit()
        k.key = self.wrong_key
        [job] = k.generate(self.request)
        assert (job.state, job.error_kind) == ("failed", "auth")
        assert "[redacted]" in job.error  # the vendor did quote it back
        assert any(k.key in value for value in self.creates(k)[0].headers.values())
        stored = b"".join(p.read_bytes() for p in k.paths.database.parent.glob("*") if p.is_file())
        assert k.key.encode() not in stored
        assert k.key not in caplog.text
        assert k.key not in json.dumps(job.to_json())
