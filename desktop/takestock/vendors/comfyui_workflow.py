"""ComfyUI workflows: reading them, finding the inputs Takestock fills, filling them,
and checking them against a server before anything is queued.

A workflow is a file the user saved from ComfyUI: the API format ("Export (API)": node id
-> ``{"class_type", "inputs", "_meta"}``) is used as is; the UI format ("Save": ``nodes``,
``links``, ``widgets_values``) is converted with the server's ``/object_info`` by
``comfyui_convert``, as ComfyUI's own front end does when it queues.

Takestock fills only the inputs the workflow marks, in a copy of the graph: a node whose
title holds ``takestock:FIELD[=input][,FIELD...]`` (``takestock:prompt``,
``takestock:width,height,length=num_frames``), or the entry's ``extra.inputs`` map
``{"FIELD": ["node id", "input"]}``. Fields:

    =========== ================================= ===============================
    field       filled with                       default input names
    =========== ================================= ===============================
    prompt      the prompt                        text, prompt, positive_prompt
    negative    the negative prompt, when given   text, negative_prompt, prompt
    seed        the seed, else a random one       seed, noise_seed
    width       from resolution and aspect        width
    height      (``extra.sizes`` or computed)     height
    length      frames: duration x fps, rounded   length, num_frames, frames,
                to ``frames_step`` k + offset     frame_count, video_length
    fps         the entry's ``extra.fps``         fps, frame_rate
    image       the uploaded first frame          image
    last_frame  the uploaded last frame           image
    output      (nothing: marks the save node whose video is the take)
    =========== ================================= ===============================

A request that needs a field the workflow does not mark is refused before anything is
sent. Without a seed each take gets a random one (kept in the task data), or ComfyUI's
cache would hand back the same video; without an aspect, an image-to-video take uses the
catalog aspect nearest its picture's. Input images are uploaded under a name made from
their bytes, so a retry or a second take overwrites rather than piles up.

Before a prompt is queued, :func:`missing_on_server` compares the graph with the
server's node classes and the files each file input allows (``/object_info``), so a
missing model file or custom node is refused as invalid input, naming each file and the
``ComfyUI/models/<folder>/`` it goes in, rather than by ComfyUI's "Value not in list".
"""

from __future__ import annotations

import copy
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from takestock.core.catalog import ModelSpec, VendorSpec
from takestock.core.errors import InvalidInput
from takestock.core.vendor import GenerationRequest
from takestock.vendors.comfyui_convert import SKIPPED_MODES as _SKIPPED_MODES
from takestock.vendors.comfyui_convert import ui_classes, ui_to_api

__all__ = [
    "FIELDS",
    "Missing",
    "Slot",
    "Source",
    "Workflow",
    "availability",
    "check_on_server",
    "closest_aspect",
    "combo",
    "frame_count",
    "frame_size",
    "is_ui_format",
    "load_workflow",
    "missing_message",
    "missing_note",
    "missing_on_server",
    "new_entry",
    "parse_workflow",
    "read_workflow",
    "slug",
    "where",
]

_MARK = re.compile(r"takestock:([A-Za-z_][\w=,.\-]*)")
_INPUTS: dict[str, tuple[str, ...]] = {
    "prompt": ("text", "prompt", "positive_prompt"),
    "negative": ("text", "negative_prompt", "prompt"),
    "seed": ("seed", "noise_seed"),
    "width": ("width",),
    "height": ("height",),
    "length": ("length", "num_frames", "frames", "frame_count", "video_length"),
    "fps": ("fps", "frame_rate"),
    "image": ("image",),
    "last_frame": ("image",),
    "output": (),
}
_ALIASES = {
    "size": ("width", "height"),
    "frames": ("length",),
    "start_image": ("image",),
    "first_frame": ("image",),
    "end_image": ("last_frame",),
    "negative_prompt": ("negative",),
}
#: The fields a workflow can mark for Takestock to fill.
FIELDS = tuple(_INPUTS)

# ---------------------------------------------------------------------------- workflow


@dataclass(frozen=True, slots=True)
class Slot:
    """One input of one node that Takestock fills."""

    node: str
    input: str


@dataclass(frozen=True, slots=True)
class Workflow:
    """An API-format graph and where its marked inputs are.

    Attributes:
        name: where it came from, for messages.
        graph: node id -> ``{"class_type", "inputs", "_meta"}``.
        slots: field -> the inputs that take it (a seed may go to two samplers).
    """

    name: str
    graph: Mapping[str, Any]
    slots: Mapping[str, tuple[Slot, ...]]
    #: file name -> {"folder", "url"}: where a model file the workflow loads comes from
    #: (the catalog's ``extra.model_files``, a UI-format file's ``properties.models``).
    model_files: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return bool(self.slots.get(name))

    def value(self, name: str) -> Any:
        """The workflow's own literal value for a field, or None."""
        for slot in self.slots.get(name, ()):
            value = self.graph[slot.node]["inputs"].get(slot.input)
            if not isinstance(value, list):
                return value
        return None

    def filled(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A deep copy of the graph with ``values`` put into their slots."""
        graph = copy.deepcopy(dict(self.graph))
        for name, value in values.items():
            for slot in self.slots.get(name, ()):
                graph[slot.node]["inputs"][slot.input] = value
        return graph


def _workflow_text(ref: str, model: ModelSpec, vendor: VendorSpec) -> tuple[str, str]:
    """(name, JSON text) of the workflow ``ref`` names."""
    if ref.startswith("resource:"):
        resource = resources.files("takestock.resources").joinpath(ref.removeprefix("resource:"))
        try:
            return ref, resource.read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                "workflow", f"the shipped workflow {ref} is missing ({exc})"
            ) from None
    path = Path(ref).expanduser()
    if not path.is_absolute():
        folder = model.extra.get("workflows_dir") or vendor.extra.get("workflows_dir")
        if not folder:
            raise InvalidInput(
                "workflow",
                f"{ref} is a relative path and no workflows_dir is set: give an absolute "
                "path, or set extra.workflows_dir in the catalog overrides",
            )
        path = Path(str(folder)).expanduser() / path
    try:
        return str(path), path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput("workflow", f"{path} cannot be read ({exc.strerror or exc})") from None


def is_ui_format(data: Any) -> bool:
    """Whether parsed JSON is ComfyUI's UI format (``nodes`` and ``links``), not the API's."""
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


@dataclass(frozen=True, slots=True)
class Source:
    """A workflow as read from its file, before it is parsed.

    A UI-format workflow needs the server's ``/object_info`` to become a graph, so
    ``validate`` (no network) sees only which fields it marks, and ``submit`` parses it.

    Attributes:
        name: where it came from, for messages.
        data: the parsed JSON.
        explicit: the catalog's ``extra.inputs`` map, if any.
        model_files: the catalog's ``extra.model_files`` (file -> folder and url).
    """

    name: str
    data: Any
    explicit: Any = None
    model_files: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def ui(self) -> bool:
        return is_ui_format(self.data)

    def marked(self) -> Callable[[str], bool]:
        """Whether the workflow marks a field, known without the server."""
        if not self.ui:
            return self.parse().has
        ui_classes(self.data)  # subgraphs and group nodes are refused here, offline
        fields = {name for name in (self.explicit or {}) if name in _INPUTS}
        for node in self.data["nodes"]:
            if isinstance(node, dict) and node.get("mode", 0) not in _SKIPPED_MODES:
                fields.update(name for name, _ in _marks(str(node.get("title") or "")))
        return fields.__contains__

    def parse(self, info: Mapping[str, Any] | None = None) -> Workflow:
        """The graph with its slots; a UI-format one is converted with ``info``."""
        if not self.ui:
            return parse_workflow(self.name, self.data, self.explicit, self.model_files)
        if info is None:
            raise InvalidInput(
                "workflow", f"{self.name} is in ComfyUI's UI format: it is read with the server"
            )
        graph, files = ui_to_api(self.name, self.data, info)
        return parse_workflow(self.name, graph, self.explicit, {**files, **self.model_files})

    def node_classes(self) -> set[str]:
        """The node classes the workflow uses (what ``/object_info/{class}`` is asked)."""
        if self.ui:
            return ui_classes(self.data)
        return {str(n.get("class_type")) for n in self.data.values() if isinstance(n, dict)}


def _check_graph(name: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        raise InvalidInput("workflow", f"{name} is not a ComfyUI workflow (no nodes)")
    for node_id, node in data.items():
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("class_type"), str)
            or not isinstance(node.get("inputs"), dict)
        ):
            raise InvalidInput(
                "workflow",
                f"{name}: node {node_id} has no class_type and inputs; save the workflow "
                "with Save or Export (API) in ComfyUI",
            )
    return data


def _marks(title: str) -> list[tuple[str, str | None]]:
    """(field, input or None) for each ``takestock:`` mark in a node title."""
    found: list[tuple[str, str | None]] = []
    for group in _MARK.findall(title):
        for item in filter(None, group.split(",")):
            name, _, wanted = item.partition("=")
            for canonical in _ALIASES.get(name, (name,)):
                found.append((canonical, wanted or None))
    return found


def _slot_for(
    name: str, field_name: str, node_id: str, node: Mapping[str, Any], wanted: str | None
) -> Slot | None:
    if field_name not in _INPUTS:
        known = ", ".join(_INPUTS)
        raise InvalidInput(
            "workflow", f"{name}: node {node_id} marks unknown field {field_name!r}; known: {known}"
        )
    if field_name == "output":
        return Slot(node_id, "")
    if wanted:
        return Slot(node_id, wanted)
    inputs = node["inputs"]
    for candidate in _INPUTS[field_name]:
        if candidate in inputs:
            return Slot(node_id, candidate)
    raise InvalidInput(
        "workflow",
        f"{name}: node {node_id} ({node['class_type']}) is marked takestock:{field_name} but "
        f"has no input named {' or '.join(_INPUTS[field_name])}; name it: "
        f"takestock:{field_name}=<input>",
    )


def _explicit_slots(name: str, graph: Mapping[str, Any], raw: Any) -> dict[str, list[Slot]]:
    """The catalog's ``extra.inputs``: field -> [node, input] or a list of those."""
    slots: dict[str, list[Slot]] = {}
    if not raw:
        return slots
    if not isinstance(raw, Mapping):
        raise InvalidInput("workflow", "extra.inputs must map fields to [node id, input name]")
    for field_name, spec in raw.items():
        pairs = spec if spec and isinstance(spec[0], list) else [spec]
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InvalidInput(
                    "workflow", f"extra.inputs.{field_name} must be [node id, input name]"
                )
            node_id, input_name = str(pair[0]), str(pair[1])
            if node_id not in graph:
                raise InvalidInput(
                    "workflow", f"{name} has no node {node_id} (named by extra.inputs)"
                )
            if field_name not in _INPUTS:
                raise InvalidInput("workflow", f"extra.inputs names unknown field {field_name!r}")
            slots.setdefault(field_name, []).append(Slot(node_id, input_name))
    return slots


def parse_workflow(
    name: str,
    data: Any,
    explicit: Any = None,
    model_files: Mapping[str, Mapping[str, str]] | None = None,
) -> Workflow:
    """A workflow from its API-format graph and the catalog's ``extra.inputs``, if any."""
    graph = _check_graph(name, data)
    slots = _explicit_slots(name, graph, explicit)
    titled: dict[str, list[Slot]] = {}
    for node_id, node in graph.items():
        meta = node.get("_meta")
        title = meta.get("title", "") if isinstance(meta, dict) else ""
        for field_name, wanted in _marks(str(title)):
            slot = _slot_for(name, field_name, node_id, node, wanted)
            if slot is not None:
                titled.setdefault(field_name, []).append(slot)
    for field_name, found in titled.items():
        slots.setdefault(field_name, found)  # the catalog's map wins where it speaks
    return Workflow(name, graph, {k: tuple(v) for k, v in slots.items()}, model_files or {})


def read_workflow(
    request: GenerationRequest | None, model: ModelSpec, vendor: VendorSpec
) -> Source:
    """The workflow a request runs on a model, read; InvalidInput when it cannot be."""
    ref = (request.extra.get("workflow") if request is not None else None) or model.extra.get(
        "workflow"
    )
    if not ref:
        raise InvalidInput(
            "workflow",
            f"{vendor.name} {model.id} names no workflow: set extra.workflow in its catalog "
            "entry to a file saved from ComfyUI",
        )
    name, text = _workflow_text(str(ref), model, vendor)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("workflow", f"{name} is not valid JSON ({exc})") from None
    files = model.extra.get("model_files")
    if not is_ui_format(data):
        _check_graph(name, data)
    elif not data["nodes"]:
        raise InvalidInput("workflow", f"{name} is a ComfyUI workflow with no nodes")
    return Source(name, data, model.extra.get("inputs"), files if isinstance(files, dict) else {})


def load_workflow(
    request: GenerationRequest | None, model: ModelSpec, vendor: VendorSpec
) -> Workflow:
    """An API-format workflow, parsed (a UI-format one needs :meth:`Source.parse`)."""
    return read_workflow(request, model, vendor).parse()


def frame_size(resolution: str, aspect: str, model: ModelSpec) -> tuple[int, int]:
    """(width, height) for a resolution and aspect: the catalog's ``extra.sizes`` table,
    else the short side from ``resolutions`` and the long one rounded to
    ``extra.size_multiple`` (16)."""
    sizes = model.extra.get("sizes") or {}
    listed = sizes.get(resolution, {}).get(aspect)
    if listed:
        return int(listed[0]), int(listed[1])
    short = model.resolutions[resolution]
    try:
        w, h = (float(part) for part in aspect.split(":"))
    except ValueError:
        raise InvalidInput("aspect", f"{aspect} is not W:H") from None
    step = int(model.extra.get("size_multiple", 16))

    def snap(value: float) -> int:
        return max(step, round(value / step) * step)

    if w >= h:
        return snap(short * w / h), snap(short)
    return snap(short), snap(short * h / w)


def frame_count(duration_s: float, fps: float, model: ModelSpec) -> int:
    """Frames for a duration: ``frames_step * k + frames_offset`` nearest duration x fps
    (Wan and Hunyuan take 4k+1 frames, LTX 8k+1)."""
    step = int(model.extra.get("frames_step", 1))
    offset = int(model.extra.get("frames_offset", 0))
    return max(1, round(duration_s * fps / step)) * step + offset


def slug(stem: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-.") or "workflow"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def new_entry(model_id: str, path: Path, workflow: Workflow, vendor: VendorSpec) -> dict[str, Any]:
    """A catalog model entry for a workflow file found in ``workflows_dir``."""
    # A UI-format file's marks are found the same way once it is converted.
    modes = []
    if workflow.has("prompt") and not workflow.has("image"):
        modes.append("text")
    if workflow.has("image"):
        modes.append("image")
        if workflow.has("last_frame"):
            modes.append("first_last")
    entry: dict[str, Any] = {
        "id": model_id,
        "label": f"{path.stem} (ComfyUI workflow)",
        "modes": modes or ["text"],
        "negative_prompt": workflow.has("negative"),
        "seed": workflow.has("seed"),
        "extra": {"workflow": str(path.resolve())},
    }
    defaults: Mapping[str, Any] = vendor.extra.get("new_workflow_defaults") or {}
    if workflow.has("length") and defaults.get("durations"):
        entry["durations"] = list(defaults["durations"])
        entry["default_duration"] = defaults.get("default_duration", defaults["durations"][0])
    if workflow.has("width") and workflow.has("height"):
        for key in ("resolutions", "default_resolution", "aspects", "default_aspect"):
            if key in defaults:
                entry[key] = defaults[key]
    fps = workflow.value("fps")
    if isinstance(fps, int | float) and fps > 0:
        entry["extra"]["fps"] = fps
    return entry


def where(name: str) -> str:
    """A workflow's name made comparable: resources as named, files as resolved paths."""
    return name if name.startswith("resource:") else str(Path(name).expanduser().resolve())


def closest_aspect(shape: tuple[int, int], aspects: Sequence[str]) -> str:
    """The catalog aspect nearest an image's width / height."""
    ratio = shape[0] / shape[1]

    def distance(aspect: str) -> float:
        w, _, h = aspect.partition(":")
        try:
            return abs(math.log((float(w) / float(h)) / ratio))
        except (ValueError, ZeroDivisionError):
            return math.inf

    return min(aspects, key=distance)


# ----------------------------------------------------------------- server checks

#: Where a loader's file goes, by node class and input: ComfyUI's ``folder_paths``
#: names as the core loaders in ``nodes.py`` ask for them.
_FOLDERS_BY_NODE = {
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
    ("UpscaleModelLoader", "model_name"): "upscale_models",
    ("LatentUpscaleModelLoader", "model_name"): "latent_upscale_models",
    ("StyleModelLoader", "style_model_name"): "style_models",
    ("GLIGENLoader", "gligen_name"): "gligen",
    ("HypernetworkLoader", "hypernetwork_name"): "hypernetworks",
    ("PhotoMakerLoader", "photomaker_model_name"): "photomaker",
    ("AudioEncoderLoader", "audio_encoder_name"): "audio_encoders",
}
_FOLDERS_BY_INPUT = {
    "ckpt_name": "checkpoints",
    "unet_name": "diffusion_models",
    "vae_name": "vae",
    "lora_name": "loras",
    "control_net_name": "controlnet",
    "clip_name": "text_encoders",
    "clip_name1": "text_encoders",
    "clip_name2": "text_encoders",
    "clip_name3": "text_encoders",
    "clip_name4": "text_encoders",
}
_MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".onnx")
#: Inputs naming a picture in ComfyUI's ``input`` folder (LoadImage and kin).
_INPUT_FILES = ("image", "video", "audio", "file")


def combo(spec: Any) -> list[Any] | None:
    """The allowed values of an ``object_info`` input spec, when it is a list: the
    classic ``[[values], {...}]`` or the newer ``["COMBO", {"options": [values]}]``."""
    if not isinstance(spec, list) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        options = spec[1].get("options")
        return options if isinstance(options, list) else None
    return None


@dataclass(frozen=True, slots=True)
class Missing:
    """Something a workflow needs that the server lacks: a node class, or a value of a
    file input (``input`` set) that is not among the files the server offers.

    Attributes:
        folder: the ``ComfyUI/models/`` folder the file goes in, where known.
        allowed: what the server offers for that input (to find the folder by listing).
    """

    node: str
    class_type: str
    input: str | None = None
    value: str | None = None
    folder: str | None = None
    url: str | None = None
    allowed: tuple[str, ...] = ()

    def line(self) -> str:
        if self.input is None:
            return (
                f"node {self.class_type} is not installed (a custom node: install it, "
                "e.g. with ComfyUI-Manager, and restart ComfyUI)"
            )
        if not self.folder and not str(self.value).lower().endswith(_MODEL_SUFFIXES):
            # A choice, not a file (a sampler this ComfyUI is too old for, say).
            offered = ", ".join(self.allowed[:6]) + (", ..." if len(self.allowed) > 6 else "")
            return f"{self.class_type} {self.input} {self.value} (it offers {offered or 'none'})"
        if self.folder == "input":
            where_to = "ComfyUI/input/"
        elif self.folder:
            where_to = f"ComfyUI/models/{self.folder}/"
        else:
            where_to = f"the models folder {self.class_type} reads"
        source = f" (download: {self.url})" if self.url else ""
        return f"{self.input} {self.value} → {where_to}{source}"


def missing_on_server(
    workflow: Workflow,
    info: Mapping[str, Any],
    *,
    skip: Callable[[str, str], bool] = lambda node, name: False,
) -> list[Missing]:
    """What ``workflow`` needs that a server with node classes ``info`` lacks.

    A literal input value not in its input's list of allowed values is a missing file
    (a model, or a picture in ``input``); inputs ``skip(node, input)`` says Takestock
    fills are left out, as are links.
    """
    found: list[Missing] = []
    for node_id, node in workflow.graph.items():
        class_type = str(node["class_type"])
        spec = info.get(class_type)
        if not isinstance(spec, dict):
            found.append(Missing(node_id, class_type))
            continue
        inputs = spec.get("input") or {}
        declared = {**(inputs.get("required") or {}), **(inputs.get("optional") or {})}
        for name, value in node["inputs"].items():
            allowed = combo(declared.get(name))
            if allowed is None or isinstance(value, list | dict) or skip(node_id, name):
                continue
            if value in allowed:
                continue
            hint = workflow.model_files.get(str(value)) or {}
            folder = hint.get("folder") or _folder_for(class_type, name)
            found.append(
                Missing(
                    node_id,
                    class_type,
                    name,
                    str(value),
                    folder,
                    hint.get("url"),
                    tuple(str(v) for v in allowed),
                )
            )
    return found


def _folder_for(class_type: str, name: str) -> str | None:
    folder = _FOLDERS_BY_NODE.get((class_type, name)) or _FOLDERS_BY_INPUT.get(name)
    if folder is None and name in _INPUT_FILES and class_type.startswith("Load"):
        return "input"
    return folder


def missing_message(workflow_name: str, missing: Sequence[Missing]) -> str:
    """One refusal naming every missing node and file, and where each file goes."""
    nodes = sorted({m.line() for m in missing if m.input is None})
    files = list(dict.fromkeys(m.line() for m in missing if m.input is not None))
    parts = nodes + files
    return (
        f"this ComfyUI server cannot run {workflow_name} yet; it lacks "
        + "; ".join(parts)
        + ". Put the files there (then refresh ComfyUI's model lists or restart it) and "
        "try again; nothing was queued"
    )


def missing_note(missing: Sequence[Missing]) -> str:
    """A catalog ``status_note`` saying what a server lacks for a workflow."""
    lines = list(dict.fromkeys(m.line() for m in missing))
    return f"{time.strftime('%Y-%m-%d')}: this ComfyUI cannot run it yet; it lacks " + "; ".join(
        lines[:8]
    )


def availability(workflow: Workflow, info: Mapping[str, Any]) -> dict[str, Any]:
    """``status`` (and a note) for a workflow against the server's ``object_info``."""
    filled = {(s.node, s.input) for slots in workflow.slots.values() for s in slots}
    missing = missing_on_server(workflow, info, skip=lambda n, i: (n, i) in filled)
    if not missing:
        return {"status": "active", "status_note": ""}
    return {"status": "retired", "status_note": missing_note(missing)}


def check_on_server(
    source: Source, info: Mapping[str, Any]
) -> tuple[Workflow | None, list[Missing]]:
    """The workflow parsed against a server's node classes ``info``, and what it lacks.

    Missing node classes are found first (a UI-format file cannot be read without
    them); missing files are then found in what can be parsed. The workflow is None
    only when missing nodes keep it from being parsed.
    """
    absent = [Missing("", c) for c in sorted(source.node_classes()) if c not in info]
    try:
        workflow = source.parse(info)
    except InvalidInput:
        if not absent:
            raise
        return None, absent
    filled = {(s.node, s.input) for slots in workflow.slots.values() for s in slots}
    files = [
        m
        for m in missing_on_server(workflow, info, skip=lambda n, i: (n, i) in filled)
        if m.input is not None
    ]
    return workflow, absent + files
