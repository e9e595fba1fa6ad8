"""A fake MiniMax (Hailuo) video API on 127.0.0.1, speaking MiniMax's protocol.

It is the vendor in the Hailuo tests, built from the facts in shared/vendors/minimax.md,
independently of the adapter and the catalog (its own model table), so that a wrong
body, path or limit in either shows up as the error MiniMax would give.

Auth: every `/v1/*` and `/v2/*` request needs `Authorization: Bearer <api_key>`. No or a
    non-Bearer header -> 1004 ("login fail"); another key -> 2049 ("invalid api key").

Errors are MiniMax's: HTTP 200 with `{"base_resp": {"status_code": N, "status_msg": s}}`
    (2013 invalid params, 1008 insufficient balance, 1026 input sensitive, 1041 too many
    running tasks when `max_running` is set). The fake is stricter than the vendor in one
    way: a create field it does not know is a 2013, so a typo in our body cannot pass.

`POST /v1/video_generation` `{model, prompt?, duration?, resolution?, first_frame_image?,
    last_frame_image?, subject_reference?, prompt_optimizer?, fast_pretreatment?,
    aigc_watermark?}` -> `{"task_id", "base_resp"}`; checked per model as in the facts
    (modes, 6/10 s, 512P/768P/1080P, 1080P only 6 s, 512P image only, first+last on
    Hailuo-02 at 768P/1080P, S2V-01 subject reference, prompt <= 2000 characters, images
    as data URLs of JPEG/PNG/WebP with a short side over 300 px and aspect 2:5 to 5:2,
    or http(s) URLs). A create costs the model's USD price, taken at once.
`GET /v1/query/video_generation?task_id=` -> `{"task_id", "status", "file_id",
    "base_resp"}`; each query is one poll: "Queueing" for `queued_polls`, "Preparing"
    for `preparing_polls`, "Processing" for `processing_polls`, then "Success" (with
    `file_id`, `video_width`, `video_height`) or "Fail".
`GET /v1/files/retrieve?file_id=` -> `{"file": {"file_id", "bytes", "download_url",
    "backup_download_url", ...}, "base_resp"}`, URLs freshly signed at each answer.
`POST /v2/video_generation` (MiniMax-H3) `{model, content: [{type: text}, {type:
    image_url, image_url: {url}, role: first_frame|last_frame}], resolution: 768P|2K,
    duration: 4..15, ratio, aigc_watermark?}` -> `{"task_id"}`.
`GET /v2/query/video_generation/{task_id}` -> `{"task": {"id", "status": queued|running|
    succeeded|failed, "content": {"url"}, "usage", "error": {"code", "message"}}}`.
`GET /cdn/{file_id}.mp4?sig=&expires=` -> the video, no key; Range honoured; a forged
    or expired signature -> 403.

Prompt words: "#blocked" is refused at create (1026 input new_sensitive); "#nsfw" makes
the task fail with 1027 output new_sensitive; "#fail" makes it fail with an
`error_message` (v1) or `error` (v2) and no code.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import hdrs, web
from PIL import Image, UnidentifiedImageError

from tests.fakeserver import FakeServer, tiny_mp4

# The generic fake's Range-aware file answer is what a CDN does; reuse it as is.
from tests.fakeserver.generic import _ranged

__all__ = ["FakeHailuo", "FakeTask"]

_OK = {"status_code": 0, "status_msg": "success"}
_V1_FIELDS = {
    "model", "prompt", "duration", "resolution", "first_frame_image", "last_frame_image",
    "subject_reference", "prompt_optimizer", "fast_pretreatment", "aigc_watermark",
    "callback_url",
}  # fmt: skip
_V2_FIELDS = {"model", "content", "resolution", "duration", "ratio", "aigc_watermark"}
_V2_RATIOS = {"adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"}
_DATA_URL = re.compile(r"data:image/(jpeg|jpg|png|webp);base64,(.+)", re.DOTALL)


@dataclass(frozen=True)
class _Model:
    """What MiniMax accepts for one model (the fake's own table, from the facts)."""

    text: bool = True
    image: bool = True
    first_last: bool = False
    subject: bool = False
    # resolution -> durations it allows; the first key is the default.
    sizes: dict[str, tuple[int, ...]] = field(default_factory=lambda: {"720P": (6,)})
    image_only: frozenset[str] = frozenset()
    prices: dict[tuple[str, int], float] = field(default_factory=dict)


_HAILUO = {"768P": (6, 10), "1080P": (6,)}
_MODELS = {
    "MiniMax-Hailuo-2.3": _Model(
        sizes=_HAILUO, prices={("768P", 6): 0.28, ("768P", 10): 0.56, ("1080P", 6): 0.49}
    ),
    "MiniMax-Hailuo-2.3-Fast": _Model(
        text=False,
        sizes=_HAILUO,
        prices={("768P", 6): 0.19, ("768P", 10): 0.32, ("1080P", 6): 0.33},
    ),
    "MiniMax-Hailuo-02": _Model(
        first_last=True,
        sizes={"768P": (6, 10), "512P": (6, 10), "1080P": (6,)},
        image_only=frozenset({"512P"}),
        prices={
            ("768P", 6): 0.28,
            ("768P", 10): 0.56,
            ("1080P", 6): 0.49,
            ("512P", 6): 0.10,
            ("512P", 10): 0.15,
        },
    ),
    "T2V-01-Director": _Model(image=False),
    "T2V-01": _Model(image=False),
    "I2V-01-Director": _Model(text=False),
    "I2V-01-live": _Model(text=False),
    "I2V-01": _Model(text=False),
    "S2V-01": _Model(text=False, image=False, subject=True),
}
_LEGACY_PRICE = 0.2
_H3 = "MiniMax-H3"
_H3_PRICE = {"768P": 0.08, "2K": 0.13}
#: v2 models: (resolutions with their USD a second, durations, takes a last frame)
_V2_MODELS: dict[str, tuple[dict[str, float], range, bool]] = {
    _H3: (_H3_PRICE, range(4, 16), True),
    "MiniMax-H3-Max": ({"480P": 0.04, "768P": 0.06, "1080P": 0.1}, range(5, 16), False),
}


class _ApiError(Exception):
    """A MiniMax error: answered as HTTP 200 with a non-zero base_resp."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(detail: str) -> _ApiError:
    return _ApiError(2013, f"invalid params, {detail}")


@dataclass
class FakeTask:
    """One task as the fake holds it.

    Attributes:
        api: "v1" or "v2", the surface it was created on.
        outcome: "success" or "fail" (unless a test pins `forced_status`).
        polls: how many times it was queried.
    """

    id: str
    api: str
    model: str
    body: dict[str, Any]
    duration: int
    resolution: str
    created_at: float
    outcome: str = "success"
    fail_code: int = 0
    fail_message: str = ""
    polls: int = 0
    file_id: str = ""
    forced_status: str | None = None


@dataclass
class _Signed:
    file_id: str
    expires: int
    revoked: bool = False


@dataclass(eq=False)
class FakeHailuo:
    """The fake vendor's state and app; see the module docstring.

    Attributes:
        creates: accepted create bodies, in order (v1 and v2).
        tasks: tasks by id.
        balance: the account's USD balance; tests may set it.
    """

    api_key: str = "mm-test-key"
    balance: float = 100.0
    video: bytes | None = field(default=None, repr=False)
    width: int = 160
    height: int = 90
    queued_polls: int = 1
    preparing_polls: int = 1
    processing_polls: int = 1
    url_ttl: float = 32400.0
    max_running: int | None = None
    clock: Callable[[], float] = time.time

    creates: list[dict[str, Any]] = field(default_factory=list, init=False)
    tasks: dict[str, FakeTask] = field(default_factory=dict, init=False)
    server: FakeServer | None = field(default=None, init=False)
    app: web.Application = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.video is None:
            self.video = tiny_mp4()
        self._lock = threading.Lock()
        self._urls: dict[str, _Signed] = {}
        self._next = 106916112212032
        self.app = web.Application(middlewares=[self._middleware])
        self.app.add_routes(
            [
                web.post("/v1/video_generation", self._create_v1),
                web.get("/v1/query/video_generation", self._query_v1),
                web.get("/v1/files/retrieve", self._retrieve),
                web.post("/v2/video_generation", self._create_v2),
                web.get("/v2/query/video_generation/{task_id}", self._query_v2),
                web.get("/cdn/{file_id}.mp4", self._download),
            ]
        )

    # ---- for tests -----------------------------------------------------------------

    def serve(self) -> FakeServer:
        self.server = FakeServer(self.app).start()
        return self.server

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("call serve() first")
        return self.server.url

    def count_creates(self) -> int:
        """Accepted creates: each one is a task and a charge."""
        with self._lock:
            return len(self.creates)

    def expire_urls(self) -> None:
        """Every download URL handed out so far answers 403 from now on."""
        with self._lock:
            for signed in self._urls.values():
                signed.revoked = True

    # ---- plumbing ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            if request.path.startswith(("/v1/", "/v2/")):
                self._authorise(request)
            response: web.StreamResponse = await handler(request)
            return response
        except _ApiError as exc:
            return web.json_response(
                {"base_resp": {"status_code": exc.code, "status_msg": exc.message}}
            )

    def _authorise(self, request: web.Request) -> None:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, key = header.partition(" ")
        if scheme != "Bearer" or not key:
            raise _ApiError(
                1004,
                "login fail: Please carry the API secret key in the 'Authorization' field "
                "of the request header",
            )
        if key != self.api_key:
            raise _ApiError(2049, "invalid api key")

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _invalid("the body must be a JSON object")
        return body

    def _new_id(self) -> str:
        self._next += 1
        return str(self._next)

    def _sign(self, request: web.Request, file_id: str) -> str:
        token = secrets.token_hex(8)
        expires = math.floor(self.clock() + self.url_ttl)
        self._urls[token] = _Signed(file_id, expires)
        return f"{request.scheme}://{request.host}/cdn/{file_id}.mp4?sig={token}&expires={expires}"

    def _running(self) -> int:
        return sum(1 for t in self.tasks.values() if self._phase(t) != "final")

    def _phase(self, task: FakeTask) -> str:
        if task.polls <= self.queued_polls:
            return "queued"
        if task.polls <= self.queued_polls + self.preparing_polls:
            return "preparing"
        if task.polls <= self.queued_polls + self.preparing_polls + self.processing_polls:
            return "processing"
        return "final"

    def _accept(
        self,
        api: str,
        body: dict[str, Any],
        prompt: str,
        duration: int,
        resolution: str,
        price: float,
    ) -> FakeTask:
        """Charge and record a create that passed its checks (called under the lock)."""
        if "#blocked" in prompt:
            raise _ApiError(1026, "input new_sensitive")
        if self.max_running is not None and self._running() >= self.max_running:
            raise _ApiError(1041, "conn limit: too many video tasks running")
        if self.balance < price:
            raise _ApiError(1008, "insufficient balance")
        self.balance -= price
        task = FakeTask(
            self._new_id(), api, body["model"], body, duration, resolution, self.clock()
        )
        if "#nsfw" in prompt:
            task.outcome, task.fail_code, task.fail_message = "fail", 1027, "output new_sensitive"
        elif "#fail" in prompt:
            task.outcome, task.fail_message = "fail", "video generation failed, please retry"
        self.tasks[task.id] = task
        self.creates.append(body)
        return task

    # ---- v1 ------------------------------------------------------------------------

    async def _create_v1(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        model_id = body.get("model")
        model = _MODELS.get(model_id) if isinstance(model_id, str) else None
        if model is None:
            raise _invalid(f"unknown model: {model_id}")
        unknown = set(body) - _V1_FIELDS
        if unknown:
            raise _invalid(f"unknown field {sorted(unknown)[0]}")
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str) or len(prompt) > 2000:
            raise _invalid("prompt must be a string of at most 2000 characters")
        mode = _v1_mode(body, model)
        if mode == "text" and not prompt.strip():
            raise _invalid("prompt is required for text to video")
        resolution, duration = _v1_size(body, model, mode)
        for option in ("prompt_optimizer", "fast_pretreatment", "aigc_watermark"):
            if option in body and not isinstance(body[option], bool):
                raise _invalid(f"{option} must be a boolean")
        price = model.prices.get((resolution, duration), _LEGACY_PRICE)
        with self._lock:
            task = self._accept("v1", body, prompt, duration, resolution, price)
        return web.json_response({"task_id": task.id, "base_resp": _OK})

    def _v1_task(self, task_id: str) -> FakeTask:
        task = self.tasks.get(task_id)
        if task is None or task.api != "v1":
            raise _invalid(f"task {task_id} does not exist")
        return task

    async def _query_v1(self, request: web.Request) -> web.Response:
        with self._lock:
            task = self._v1_task(request.query.get("task_id", ""))
            task.polls += 1
            status = (
                task.forced_status
                or {
                    "queued": "Queueing",
                    "preparing": "Preparing",
                    "processing": "Processing",
                    "final": "Success" if task.outcome == "success" else "Fail",
                }[self._phase(task)]
            )
            answer: dict[str, Any] = {
                "task_id": task.id,
                "status": status,
                "file_id": "",
                "base_resp": _OK,
            }
            if status == "Success":
                if not task.file_id:
                    task.file_id = self._new_id()
                answer.update(
                    file_id=task.file_id, video_width=self.width, video_height=self.height
                )
            elif status == "Fail" and task.fail_code:
                answer["base_resp"] = {
                    "status_code": task.fail_code,
                    "status_msg": task.fail_message,
                }
            elif status == "Fail":
                answer["error_message"] = task.fail_message
        return web.json_response(answer)

    async def _retrieve(self, request: web.Request) -> web.Response:
        file_id = request.query.get("file_id", "")
        with self._lock:
            task = next(
                (t for t in self.tasks.values() if t.file_id and t.file_id == file_id), None
            )
            if task is None:
                raise _invalid(f"file {file_id} does not exist")
            file = {
                "file_id": int(file_id),
                "bytes": len(self.video or b""),
                "created_at": int(task.created_at),
                "filename": "output.mp4",
                "purpose": "video_generation",
                "download_url": self._sign(request, file_id),
                "backup_download_url": self._sign(request, file_id),
            }
        return web.json_response({"file": file, "base_resp": _OK})

    # ---- v2 ------------------------------------------------------------------------

    async def _create_v2(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        spec = _V2_MODELS.get(str(body.get("model")))
        if spec is None:
            raise _invalid(f"unknown model: {body.get('model')}")
        prices, durations, last_frame = spec
        unknown = set(body) - _V2_FIELDS
        if unknown:
            raise _invalid(f"unknown field {sorted(unknown)[0]}")
        prompt, roles = _v2_content(body.get("content"))
        if "last_frame" in roles and not last_frame:
            raise _invalid(f"{body['model']} takes no last_frame")
        resolution = body.get("resolution")
        if resolution not in prices:
            raise _invalid(f"resolution must be one of {', '.join(prices)}")
        duration = body.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, int) or duration not in durations:
            raise _invalid(f"duration must be an integer from {durations[0]} to {durations[-1]}")
        ratio = body.get("ratio")
        if ratio not in _V2_RATIOS or (ratio == "adaptive" and not roles):
            raise _invalid(f"ratio {ratio!r} is not allowed here")
        if "aigc_watermark" in body and not isinstance(body["aigc_watermark"], bool):
            raise _invalid("aigc_watermark must be a boolean")
        with self._lock:
            task = self._accept(
                "v2", body, prompt, duration, resolution, prices[resolution] * duration
            )
        return web.json_response({"task_id": task.id})

    async def _query_v2(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.api != "v2":
                raise _invalid(f"task {task_id} does not exist")
            task.polls += 1
            phase = self._phase(task)
            status = (
                task.forced_status
                or {
                    "queued": "queued",
                    "preparing": "running",
                    "processing": "running",
                    "final": "succeeded" if task.outcome == "success" else "failed",
                }[phase]
            )
            view: dict[str, Any] = {
                "id": task.id,
                "model": task.model,
                "status": status,
                "created_at": int(task.created_at),
                "updated_at": int(self.clock()),
                "resolution": task.resolution,
                "duration": task.duration,
            }
            if status == "succeeded":
                if not task.file_id:
                    task.file_id = self._new_id()
                view["content"] = {"url": self._sign(request, task.file_id)}
                view["usage"] = {"total_seconds": task.duration}
            elif status == "failed":
                code = str(task.fail_code) if task.fail_code else "generation_failed"
                view["error"] = {"code": code, "message": task.fail_message}
        return web.json_response({"task": view})

    # ---- the CDN -------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        with self._lock:
            signed = self._urls.get(request.query.get("sig", ""))
            if (
                signed is None
                or signed.file_id != file_id
                or request.query.get("expires") != str(signed.expires)
            ):
                return web.Response(status=403, text="AccessDenied: signature does not match")
            if signed.revoked or self.clock() >= signed.expires:
                return web.Response(status=403, text="AccessDenied: Request has expired")
        assert self.video is not None
        return _ranged(request, self.video)


# ---- request checks, as MiniMax makes them -------------------------------------------


def _check_image(value: Any, what: str) -> None:
    """A public URL, or a data URL of a JPEG/PNG/WebP within MiniMax's limits."""
    if not isinstance(value, str):
        raise _invalid(f"{what} must be a string")
    if value.startswith(("http://", "https://")):
        return
    match = _DATA_URL.fullmatch(value)
    if match is None:
        raise _invalid(f"{what} must be a URL or a data:image/...;base64 URL")
    try:
        data = base64.b64decode(match.group(2), validate=True)
        with Image.open(io.BytesIO(data)) as img:
            width, height, fmt = img.width, img.height, (img.format or "").lower()
    except (binascii.Error, UnidentifiedImageError, OSError):
        raise _invalid(f"{what} is not a readable image") from None
    if fmt != match.group(1).replace("jpg", "jpeg"):
        raise _invalid(f"{what} says image/{match.group(1)} but holds {fmt}")
    if len(data) > 20 * 1024 * 1024:
        raise _invalid(f"{what} is over 20MB")
    if min(width, height) <= 300:
        raise _invalid(f"{what} short side must be over 300px")
    if not 0.4 <= width / height <= 2.5:
        raise _invalid(f"{what} aspect ratio must be between 2:5 and 5:2")


def _v1_mode(body: dict[str, Any], model: _Model) -> str:
    """text, image, first_last or subject, as the fields say; refused where not offered."""
    if "subject_reference" in body:
        refs = body["subject_reference"]
        if not model.subject:
            raise _invalid("subject_reference is only for S2V-01")
        if (
            not isinstance(refs, list)
            or len(refs) != 1
            or not isinstance(refs[0], dict)
            or refs[0].get("type") != "character"
            or not isinstance(refs[0].get("image"), list)
            or len(refs[0]["image"]) != 1
        ):
            raise _invalid("subject_reference must be [{type: character, image: [one]}]")
        _check_image(refs[0]["image"][0], "subject_reference image")
        return "subject"
    if model.subject:
        raise _invalid("S2V-01 needs a subject_reference")
    if "last_frame_image" in body:
        if not model.first_last or "first_frame_image" not in body:
            raise _invalid("last_frame_image needs MiniMax-Hailuo-02 and a first_frame_image")
        _check_image(body["first_frame_image"], "first_frame_image")
        _check_image(body["last_frame_image"], "last_frame_image")
        return "first_last"
    if "first_frame_image" in body:
        if not model.image:
            raise _invalid("this model does not take first_frame_image")
        _check_image(body["first_frame_image"], "first_frame_image")
        return "image"
    if not model.text:
        raise _invalid("first_frame_image is required by this model")
    return "text"


def _v1_size(body: dict[str, Any], model: _Model, mode: str) -> tuple[str, int]:
    resolution = body.get("resolution", next(iter(model.sizes)))
    duration = body.get("duration", 6)
    if resolution not in model.sizes:
        raise _invalid(f"resolution {resolution} is not supported by this model")
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise _invalid("duration must be an integer")
    if duration not in model.sizes[resolution]:
        raise _invalid(f"duration {duration} is not supported at {resolution}")
    if resolution in model.image_only and mode != "image":
        raise _invalid(f"{resolution} is only for image to video")
    if mode == "first_last" and resolution not in ("768P", "1080P"):
        raise _invalid("first and last frame needs 768P or 1080P")
    return resolution, duration


def _v2_content(content: Any) -> tuple[str, list[str]]:
    """The prompt and the image roles of a v2 `content` list."""
    if not isinstance(content, list):
        raise _invalid("content must be a list")
    texts = [c for c in content if isinstance(c, dict) and c.get("type") == "text"]
    if len(texts) != 1 or not isinstance(texts[0].get("text"), str):
        raise _invalid("content needs exactly one text item")
    prompt = texts[0]["text"]
    if not prompt.strip() or len(prompt) > 7000:
        raise _invalid("text must have 1 to 7000 characters")
    roles: list[str] = []
    for item in content:
        if item is texts[0]:
            continue
        if not isinstance(item, dict) or item.get("type") != "image_url":
            raise _invalid("only text and image_url items are supported here")
        role = item.get("role")
        if role not in ("first_frame", "last_frame") or role in roles:
            raise _invalid(f"image role {role!r} is not allowed here")
        url = item.get("image_url")
        _check_image(url.get("url") if isinstance(url, dict) else None, f"{role} image")
        roles.append(role)
    return prompt, roles
