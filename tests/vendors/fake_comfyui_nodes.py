"""The fake ComfyUI server's node classes, model files and small helpers.

Each class has its real input names and specs as ``/object_info`` gives them (ComfyUI's
``nodes.py`` and ``comfy_extras``); a spec ``"@folder"`` lists the files the fake has in
that models folder (``"@input+upload"``: uploaded pictures, with ComfyUI's upload
button).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

__all__ = [
    "DISPLAY", "FILES", "FOLDERS", "NODES", "SAMPLERS", "NodeClass", "PromptCheck", "err",
    "multipart", "order", "positive_text", "text",
]  # fmt: skip


@dataclass(frozen=True)
class NodeClass:
    """A node class as ``/object_info`` describes it (``required``: name -> spec)."""

    required: Mapping[str, Any]
    returns: tuple[str, ...] = ()
    optional: Mapping[str, Any] = field(default_factory=dict)
    output_node: bool = False
    #: A node written with ComfyUI's newer node API: its combos are listed as
    #: ``["COMBO", {"options": [...]}]`` rather than ``[[...]]``.
    v3: bool = False


def _int(lo: int = 0, hi: int = 2**64 - 1, default: int = 0) -> list[Any]:
    return ["INT", {"default": default, "min": lo, "max": hi}]


def _float(lo: float = 0.0, hi: float = 100.0, default: float = 1.0) -> list[Any]:
    return ["FLOAT", {"default": default, "min": lo, "max": hi}]


_STRING = ["STRING", {"multiline": True}]
NODES: dict[str, NodeClass] = {
    "UNETLoader": NodeClass(
        {"unet_name": "@diffusion_models", "weight_dtype": [["default", "fp8_e4m3fn"]]},
        ("MODEL",),
    ),
    "CLIPLoader": NodeClass(
        {"clip_name": "@text_encoders", "type": [["stable_diffusion", "wan", "ltxv"]]},
        ("CLIP",),
        {"device": [["default", "cpu"]]},
    ),
    "VAELoader": NodeClass({"vae_name": "@vae"}, ("VAE",)),
    "ModelSamplingSD3": NodeClass({"model": ["MODEL"], "shift": _float(0, 100, 3)}, ("MODEL",)),
    "CLIPTextEncode": NodeClass({"text": _STRING, "clip": ["CLIP"]}, ("CONDITIONING",)),
    "Wan22ImageToVideoLatent": NodeClass(
        {
            "vae": ["VAE"],
            "width": _int(32, 8192, 1280),
            "height": _int(32, 8192, 704),
            "length": _int(1, 8192, 49),
            "batch_size": _int(1, 4096, 1),
        },
        ("LATENT",),
        {"start_image": ["IMAGE"]},
    ),
    "KSampler": NodeClass(
        {
            "model": ["MODEL"],
            "seed": [
                "INT",
                {"default": 0, "min": 0, "max": 2**64 - 1, "control_after_generate": True},
            ],
            "steps": _int(1, 10000, 20),
            "cfg": _float(0, 100, 8),
            "sampler_name": [["euler", "uni_pc", "dpmpp_2m"]],
            "scheduler": [["simple", "normal", "karras"]],
            "positive": ["CONDITIONING"],
            "negative": ["CONDITIONING"],
            "latent_image": ["LATENT"],
            "denoise": _float(0, 1, 1),
        },
        ("LATENT",),
    ),
    "WanFirstLastFrameToVideo": NodeClass(
        {
            "positive": ["CONDITIONING"],
            "negative": ["CONDITIONING"],
            "vae": ["VAE"],
            "width": _int(16, 8192, 832),
            "height": _int(16, 8192, 480),
            "length": _int(1, 8192, 81),
            "batch_size": _int(1, 4096, 1),
        },
        ("CONDITIONING", "CONDITIONING", "LATENT"),
        {"start_image": ["IMAGE"], "end_image": ["IMAGE"]},
    ),
    "VAEDecode": NodeClass({"samples": ["LATENT"], "vae": ["VAE"]}, ("IMAGE",)),
    "LoadImage": NodeClass({"image": "@input+upload"}, ("IMAGE", "MASK")),
    "CreateVideo": NodeClass(
        {"images": ["IMAGE"], "fps": _float(1, 120, 30)}, ("VIDEO",), {"audio": ["AUDIO"]}, v3=True
    ),
    "SaveVideo": NodeClass(
        {
            "video": ["VIDEO"],
            "filename_prefix": ["STRING", {"default": "video/ComfyUI"}],
            "format": [["auto", "mp4"]],
            "codec": [["auto", "h264"]],
        },
        output_node=True,
        v3=True,
    ),
    "VHS_VideoCombine": NodeClass(
        {
            "images": ["IMAGE"],
            "frame_rate": _float(1, 120, 8),
            "filename_prefix": ["STRING", {"default": "AnimateDiff"}],
            "format": [["video/h264-mp4", "image/gif"]],
        },
        ("VHS_FILENAMES",),
        output_node=True,
    ),
    "SaveImage": NodeClass(
        {"images": ["IMAGE"], "filename_prefix": ["STRING", {"default": "ComfyUI"}]},
        output_node=True,
    ),
}
SAMPLERS = {"KSampler"}

DISPLAY = {
    "UNETLoader": "Load Diffusion Model",
    "CLIPLoader": "Load CLIP",
    "VAELoader": "Load VAE",
    "CLIPTextEncode": "CLIP Text Encode (Prompt)",
    "LoadImage": "Load Image",
    "VAEDecode": "VAE Decode",
}
#: Model folders every ComfyUI has (``folder_paths``), empty unless ``files`` says.
FOLDERS = ("checkpoints", "loras", "vae", "text_encoders", "diffusion_models", "upscale_models")
FILES = {
    "diffusion_models": ["wan2.2_ti2v_5B_fp16.safetensors"],
    "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
    "vae": ["wan2.2_vae.safetensors"],
}


def multipart(content_type: str, body: bytes) -> dict[str, tuple[str, str, bytes]]:
    """name -> (filename, content type, bytes) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, tuple[str, str, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename() or "", part.get_content_type(), payload)
    return fields


def text(field_value: tuple[str, str, bytes] | None) -> str:
    return field_value[2].decode() if field_value is not None else ""


def err(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def order(prompt: dict[str, Any], outputs: list[str]) -> list[str]:
    """The nodes the outputs need, each after its inputs."""
    seen: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in seen:
            return
        for value in prompt[node_id]["inputs"].values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt:
                visit(str(value[0]))
        seen.append(node_id)

    for output in outputs:
        visit(output)
    return seen


def positive_text(prompt: dict[str, Any], sampler: dict[str, Any]) -> str:
    link = sampler["inputs"].get("positive")
    if isinstance(link, list) and str(link[0]) in prompt:
        return str(prompt[str(link[0])]["inputs"].get("text", ""))
    return ""


class PromptCheck:
    """``execution.validate_prompt`` for the fake: (error, good outputs, node_errors).

    Attributes:
        nodes: the server's node classes.
        allowed: a spec -> the values it allows (files for ``"@folder"`` specs).
        uploads: the pictures uploaded so far, by name.
    """

    def __init__(
        self,
        nodes: Mapping[str, NodeClass],
        allowed: Callable[[Any], list[Any] | None],
        uploads: Mapping[str, bytes],
    ) -> None:
        self.nodes = nodes
        self.allowed = allowed
        self.uploads = uploads

    def _validate_node(
        self, prompt: dict[str, Any], node_id: str, validated: dict[str, tuple[bool, list[Any]]]
    ) -> bool:
        if node_id in validated:
            return validated[node_id][0]
        node = prompt[node_id]
        cls = self.nodes[node["class_type"]]
        inputs = node.get("inputs") or {}
        errors: list[dict[str, Any]] = []
        valid = True
        validated[node_id] = (True, [])  # cycles are not our concern
        for name, spec in cls.required.items():
            if name not in inputs:
                errors.append(err("required_input_missing", "Required input is missing", name))
                continue
            value = inputs[name]
            if isinstance(value, list):
                problem = self._check_link(prompt, name, value, spec)
                if problem is not None:
                    errors.append(problem)
                elif not self._validate_node(prompt, str(value[0]), validated):
                    valid = False
                continue
            problem = self._check_value(name, value, spec, node["class_type"])
            if problem is not None:
                errors.append(problem)
        for name, value in inputs.items():
            if name in cls.optional and isinstance(value, list):
                problem = self._check_link(prompt, name, value, cls.optional[name])
                if problem is not None:
                    errors.append(problem)
                elif not self._validate_node(prompt, str(value[0]), validated):
                    valid = False
        ok = valid and not errors
        validated[node_id] = (ok, errors)
        return ok

    def _check_link(
        self, prompt: dict[str, Any], name: str, value: list[Any], spec: Any
    ) -> dict[str, Any] | None:
        if len(value) != 2 or str(value[0]) not in prompt:
            return err(
                "bad_linked_input",
                "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                name,
            )
        source = self.nodes.get(prompt[str(value[0])]["class_type"])
        returns = source.returns if source else ()
        wanted = spec[0] if isinstance(spec, list) else None
        index = value[1]
        if not isinstance(index, int) or index >= len(returns) or returns[index] != wanted:
            got = returns[index] if isinstance(index, int) and index < len(returns) else "?"
            return err(
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                f"{name}, received_type({got}) mismatch input_type({wanted})",
            )
        return None

    def _check_value(
        self, name: str, value: Any, spec: Any, class_type: str
    ) -> dict[str, Any] | None:
        if class_type == "LoadImage":
            if value not in self.uploads:
                return err(
                    "custom_validation_failed",
                    "Custom validation failed for node",
                    f"{name} - Invalid image file: {value}",
                )
            return None
        allowed = self.allowed(spec)
        if allowed is not None:
            if value not in allowed:
                return err(
                    "value_not_in_list", "Value not in list", f"{name}: '{value}' not in {allowed}"
                )
            return None
        kind, options = spec[0], spec[1] if len(spec) > 1 else {}
        if kind in ("INT", "FLOAT"):
            try:
                number = int(value) if kind == "INT" else float(value)
            except (TypeError, ValueError):
                return err(
                    "invalid_input_type",
                    f"Failed to convert an input value to a {kind} value",
                    f"{name}, {value}",
                )
            if "min" in options and number < options["min"]:
                return err(
                    "value_smaller_than_min",
                    f"Value {number} smaller than min of {options['min']}",
                    name,
                )
            if "max" in options and number > options["max"]:
                return err(
                    "value_bigger_than_max",
                    f"Value {number} bigger than max of {options['max']}",
                    name,
                )
        elif kind == "STRING" and not isinstance(value, str):
            return err(
                "invalid_input_type", "Failed to convert an input value to a STRING value", name
            )
        return None

    def validate(self, prompt: Any) -> tuple[dict[str, Any] | None, list[str], dict[str, Any]]:
        """(error, good outputs, node_errors) like ``execution.validate_prompt``."""
        if not isinstance(prompt, dict):
            return err("invalid_prompt", "Prompt must be an object", ""), [], {}
        for node_id, node in prompt.items():
            class_type = node.get("class_type") if isinstance(node, dict) else None
            if class_type is None:
                return (
                    err(
                        "invalid_prompt",
                        "Cannot execute because a node is missing the class_type property.",
                        f"Node ID '#{node_id}'",
                    ),
                    [],
                    {},
                )
            if class_type not in self.nodes:
                return (
                    err(
                        "invalid_prompt",
                        f"Cannot execute because node {class_type} does not exist.",
                        f"Node ID '#{node_id}'",
                    ),
                    [],
                    {},
                )
        outputs = [nid for nid, n in prompt.items() if self.nodes[n["class_type"]].output_node]
        if not outputs:
            return err("prompt_no_outputs", "Prompt has no outputs", ""), [], {}
        validated: dict[str, tuple[bool, list[Any]]] = {}
        good, node_errors = [], {}
        for output in outputs:
            if self._validate_node(prompt, output, validated):
                good.append(output)
                continue
            for node_id, (ok, reasons) in validated.items():
                if not ok and reasons:
                    entry = node_errors.setdefault(
                        node_id,
                        {
                            "errors": reasons,
                            "dependent_outputs": [],
                            "class_type": prompt[node_id]["class_type"],
                        },
                    )
                    entry["dependent_outputs"].append(output)
        if not good:
            details = "\n".join(
                f"{r['message']}: {r['details']}" for n in node_errors.values() for r in n["errors"]
            )
            error = err(
                "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
            )
            return error, [], node_errors
        return None, good, node_errors
