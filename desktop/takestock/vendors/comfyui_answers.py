"""ComfyUI's answers read: its errors, queue items, history entries and saved files,
and the file names Takestock gives a prompt's outputs so they can be found again.

Errors::

    ============================================ =====================================
    ComfyUI answer                               error
    ============================================ =====================================
    401, 403 (a proxy's login; an Origin check)  AuthError
    429 (a proxy's limit)                        RateLimited, Retry-After kept
    400 ``prompt_outputs_failed_validation``,    Rejected, with each node's messages
    ``invalid_prompt``, ``prompt_no_outputs``,
    ``no_prompt``; 200 with ``node_errors``;
    404, 413
    5xx                                          TransientError
    ``execution_error`` in the history           GenerationFailed, ``exception_type``
                                                 as the code, the node named
    ============================================ =====================================

Saved files: ``SaveVideo`` names its file ``{prefix}_{counter:05}_.{ext}`` (ComfyUI's
``comfy_extras/nodes_video.py``), VideoHelperSuite's ``VHS_VideoCombine``
``{prefix}_{counter:05}.{ext}``; the counter continues the highest one of files with
the same prefix, so a prefix of our own (``video/takestock-<12 hex of the prompt id>``)
makes the first file ``..._00001_.mp4``: a name that can be asked of ``/view`` after a
restart has emptied ComfyUI's history.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from takestock.core.errors import (
    AuthError,
    GenerationFailed,
    RateLimited,
    Rejected,
    TransientError,
    VendorError,
)

__all__ = [
    "VENDOR",
    "VIDEO_SUFFIXES",
    "client_id_for",
    "events",
    "execution_error",
    "item_client",
    "item_id",
    "item_number",
    "json_or_none",
    "output_candidates",
    "output_prefix",
    "own_prefixes",
    "prompt_id_for",
    "refusal",
    "run_seconds",
    "saved_files",
    "saved_under",
    "vendor_error",
]

VENDOR = "comfyui"
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".m4v", ".avi")
_NAMESPACE = uuid.UUID("5f0c1c8e-9a57-4d3e-8c55-2b1f0e7f3a11")


def prompt_id_for(client_request_id: str) -> str:
    """Our prompt id for a job: its ``ts-<hex>`` client request id read as a UUID."""
    try:
        return str(uuid.UUID(hex=client_request_id.removeprefix("ts-")))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, client_request_id))


def client_id_for(prompt_id: str) -> str:
    """The websocket client id a prompt is queued under (one socket per prompt)."""
    return f"takestock-{prompt_id}"


def vendor_error(
    status: int | None,
    message: str,
    *,
    code: str | None = None,
    retry_after: float | None = None,
) -> VendorError:
    """An HTTP status (and ComfyUI's error ``type``) as an error of ``core.errors``."""
    text = f"ComfyUI: {message}"
    kw: dict[str, Any] = {
        "vendor": VENDOR,
        "vendor_code": code or (str(status) if status else None),
        "status": status,
    }
    if status in (401, 403):
        return AuthError(
            text + ". Stock ComfyUI asks for no login: a proxy in front of it refused us, "
            "or the server refused our Origin.",
            **kw,
        )
    if status == 429:
        return RateLimited(text, retry_after=retry_after, **kw)
    if status is not None and status >= 500:
        return TransientError(text, **kw)
    if status == 404:
        return Rejected(text + ". Is this the address of a ComfyUI server?", **kw)
    if status == 413:
        return Rejected(text + ". The upload is over the server's --max-upload-size.", **kw)
    return Rejected(text, **kw)


def node_messages(node_errors: Any, limit: int = 4) -> str:
    """ComfyUI's ``node_errors`` as short readable lines."""
    if not isinstance(node_errors, dict):
        return ""
    lines = []
    for node_id, info in list(node_errors.items())[:limit]:
        if not isinstance(info, dict):
            continue
        for error in info.get("errors") or []:
            if isinstance(error, dict):
                detail = f": {error['details']}" if error.get("details") else ""
                lines.append(
                    f"node {node_id} ({info.get('class_type', '?')}): "
                    f"{error.get('message', 'invalid')}{detail}"
                )
    more = len(node_errors) - limit
    if more > 0:
        lines.append(f"and {more} more nodes")
    return "; ".join(lines)


def refusal(data: Any, status: int) -> VendorError:
    """A refused prompt (400, or 200 with ``node_errors``) as Rejected."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = str(error.get("type") or "") or None
        message = str(error.get("message") or "the workflow was refused")
    else:
        code, message = None, str(error or "the workflow was refused")
    nodes = node_messages(data.get("node_errors") if isinstance(data, dict) else None)
    if nodes:
        message = f"{message}: {nodes}"
    elif isinstance(error, dict) and error.get("details"):
        message = f"{message} ({error['details']})"
    return Rejected(
        f"ComfyUI refused the workflow: {message}"[:1500],
        vendor=VENDOR,
        vendor_code=code,
        status=status,
    )


# ---------------------------------------------------------------------------- adapter


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def item_id(item: Any) -> Any:
    return item[1] if isinstance(item, list | tuple) and len(item) > 1 else None


def item_number(item: Any) -> float:
    number = item[0] if isinstance(item, list | tuple) and item else None
    return float(number) if isinstance(number, int | float) else math.inf


def item_client(item: Any) -> Any:
    extra = item[3] if isinstance(item, list | tuple) and len(item) > 3 else None
    return extra.get("client_id") if isinstance(extra, dict) else None


def events(messages: Any) -> dict[str, Mapping[str, Any]]:
    """History status messages by type (the last of each)."""
    found: dict[str, Mapping[str, Any]] = {}
    for message in messages or ():
        if isinstance(message, list | tuple) and len(message) == 2 and isinstance(message[1], dict):
            found[str(message[0])] = message[1]
    return found


def run_seconds(found: Mapping[str, Mapping[str, Any]]) -> float | None:
    """How long the run took, from its start and success messages."""
    start = found.get("execution_start", {}).get("timestamp")
    end = found.get("execution_success", {}).get("timestamp")
    if isinstance(start, int | float) and isinstance(end, int | float) and end >= start:
        return (end - start) / 1000
    return None


def execution_error(found: Mapping[str, Mapping[str, Any]]) -> VendorError:
    """The history's ``execution_error`` message as GenerationFailed."""
    data = found.get("execution_error", {})
    kind = str(data.get("exception_type") or "") or None
    detail = str(data.get("exception_message") or "").strip() or "the run failed"
    where = ""
    if data.get("node_id") is not None:
        where = f" in node {data['node_id']} ({data.get('node_type', '?')})"
    short = (kind or "error").rsplit(".", 1)[-1]
    return GenerationFailed(
        f"ComfyUI failed{where}: {detail[:800]} ({short})", vendor=VENDOR, vendor_code=kind
    )


def saved_files(outputs: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(node id, file entry) for every file in a history entry's outputs."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    if not isinstance(outputs, dict):
        return found
    for node_id, output in outputs.items():
        if not isinstance(output, dict):
            continue
        for key in ("videos", "gifs", "images"):
            for item in output.get(key) or ():
                if isinstance(item, dict) and item.get("filename"):
                    found.append((str(node_id), item))
    return found


def output_prefix(prefix: str, prompt_id: str) -> str:
    """A save node's file-name prefix made the prompt's own (``video/takestock`` ->
    ``video/takestock-1a2b3c4d5e6f``), so its files can be found by name."""
    return f"{prefix}-{prompt_id.replace('-', '')[:12]}"


def output_candidates(prefix: str) -> list[tuple[str, str]]:
    """(subfolder, file name) the first video saved under ``prefix`` may have."""
    subfolder, _, stem = prefix.rpartition("/")
    names = []
    for ext in (".mp4", ".webm", ".mov", ".mkv"):
        names += [f"{stem}_00001_{ext}", f"{stem}_00001{ext}"]  # SaveVideo, then VHS
    return [(subfolder, name) for name in names]


def own_prefixes(graph: dict[str, Any], marked: set[str], prompt_id: str) -> list[str]:
    """Give each save node (those marked takestock:output, else every node with a
    ``filename_prefix``) a prefix of the prompt's own, in ``graph``; returns them."""
    prefixes = []
    for node_id, node in graph.items():
        prefix = node["inputs"].get("filename_prefix")
        if not isinstance(prefix, str) or (marked and node_id not in marked):
            continue
        node["inputs"]["filename_prefix"] = output_prefix(prefix, prompt_id)
        prefixes.append(node["inputs"]["filename_prefix"])
    return prefixes


def saved_under(item: Mapping[str, Any], prefix: str) -> bool:
    subfolder, _, stem = prefix.rpartition("/")
    name = str(item.get("filename") or "")
    return str(item.get("subfolder") or "") == subfolder and name.startswith(stem + "_")
