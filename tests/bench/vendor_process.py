"""The generic fake vendor served from a process of its own, so a benchmark of the engine
counts only the engine's CPU (a `FakeServer` thread would share the engine's process).

Run from the repository root: ``python -m tests.bench.vendor_process``. It prints one
JSON line, ``{"url": ...}``, then answers each JSON line on stdin with one JSON line:

``{"cmd": "configure", "queued_polls": 1, "running_polls": 2, "credits": 1e9}``
    sets those fields of the `GenericVideoVendor` (they apply to tasks polled later).
``{"cmd": "mark"}``
    starts counting afresh: `stats` reports what arrived after the last mark.
``{"cmd": "stats"}``
    ``{"polls", "creates", "creates_by_client", "downloads", "other", "cpu_s", "errors"}``:
    polls are GETs of one task, downloads GETs of a video file, ``cpu_s`` this process's
    CPU time so far (user + system, all threads).

End of input stops the server and the process.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

from tests.fakeserver.generic import GenericVideoVendor
from tests.fakeserver.harness import path_regex
from tests.fakeserver.media import tiny_mp4

_POLL = path_regex("/v1/tasks/{id}")
_FILE = path_regex("/files/*")
_CONFIGURABLE = {"queued_polls", "running_polls", "queued_seconds", "running_seconds", "credits"}


def main() -> int:
    vendor = GenericVideoVendor(video=tiny_mp4(seconds=2.0, width=320, height=180))
    server = vendor.serve()
    mark = 0

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    answer({"url": server.url})
    try:
        for line in sys.stdin:
            command = json.loads(line)
            cmd = command.pop("cmd")
            if cmd == "configure":
                for name, value in command.items():
                    if name not in _CONFIGURABLE:
                        raise ValueError(f"cannot configure {name!r}")
                    setattr(vendor, name, value)
                answer({"ok": True})
            elif cmd == "mark":
                mark = len(server.requests)
                answer({"ok": True})
            elif cmd == "stats":
                seen = server.requests[mark:]
                creates = Counter(
                    str((r.json or {}).get("client_id"))
                    for r in seen
                    if r.method == "POST" and r.path == "/v1/tasks"
                )
                polls = sum(1 for r in seen if r.method == "GET" and _POLL.fullmatch(r.path))
                downloads = sum(1 for r in seen if r.method == "GET" and _FILE.fullmatch(r.path))
                answer(
                    {
                        "polls": polls,
                        "creates": sum(creates.values()),
                        "creates_by_client": dict(creates),
                        "downloads": downloads,
                        "other": len(seen) - polls - downloads - sum(creates.values()),
                        "cpu_s": time.process_time(),
                        "errors": len(server.errors),
                    }
                )
            else:
                raise ValueError(f"unknown command {cmd!r}")
    finally:
        server.stop()
    server.check()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
