"""fal's schema mapping: how a catalog entry's endpoints and inputs turn a request into
an endpoint's input JSON, and how fal's published OpenAPI schemas refresh those entries
(see the adapter's docstring in ``vendors/fal.py`` for the catalog format)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from takestock.core.catalog import ModelSpec
from takestock.core.errors import InvalidInput
from takestock.core.vendor import GenerationRequest, Mode

__all__ = [
    "EndpointPlan",
    "InputSpec",
    "convert_value",
    "endpoint_plan",
    "model_plans",
    "refreshed_entry",
    "request_values",
]

VENDOR_ID = "fal"
REQUEST_FIELDS = (
    "prompt", "negative", "duration_s", "aspect", "resolution", "image", "last_frame",
    "audio", "seed",
)  # fmt: skip
TRANSFORMS = ("string", "seconds", "integer", "number", "boolean", "url", "data_url")
_SPELLINGS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
_IMAGE_FIELDS = ("image", "last_frame")
_NAMESPACES = ("workflows", "comfy")
_MODE_NAMES = {
    "text": "text to video",
    "image": "image to video",
    "first_last": "first and last frame",
}
_FIELD_NAMES = {
    "prompt": "prompt",
    "negative": "negative prompt",
    "duration_s": "duration",
    "aspect": "aspect ratio",
    "resolution": "resolution",
    "image": "first frame",
    "last_frame": "last frame",
    "audio": "audio",
    "seed": "seed",
}


# ------------------------------------------------------------------ the mapping


@dataclass(frozen=True, slots=True)
class InputSpec:
    """How one of our request fields becomes one endpoint input.

    Attributes:
        name: the endpoint's input name.
        as_: the transform (``TRANSFORMS``), or None for the value as is.
        map: our values mapped to the endpoint's (``{"768p": "768P"}``).
    """

    name: str
    as_: str | None = None
    map: Mapping[str, Any] = field(default_factory=dict)

    def inverse(self, theirs: Any) -> Any:
        """Our value for one of the endpoint's values (reading its schema)."""
        for ours, value in self.map.items():
            if value == theirs:
                return ours
        return theirs


@dataclass(frozen=True, slots=True)
class EndpointPlan:
    """What a model sends in one mode: the endpoint, the field map and fixed inputs."""

    mode: str
    endpoint: str
    inputs: Mapping[str, InputSpec]
    fixed: Mapping[str, Any]


def _spec(model: ModelSpec, field_name: str, raw: Any) -> InputSpec:
    where = f"the fal catalog entry of {model.id}, input {field_name!r}"
    if isinstance(raw, str) and raw:
        spec = InputSpec(raw)
    elif isinstance(raw, Mapping) and isinstance(raw.get("name"), str) and raw["name"]:
        unknown = set(raw) - {"name", "as", "map"}
        if unknown:
            raise InvalidInput("model", f"{where} has unknown keys {sorted(unknown)}")
        as_ = raw.get("as")
        as_ = _SPELLINGS.get(as_, as_) if isinstance(as_, str) else as_
        spec = InputSpec(raw["name"], as_, dict(raw.get("map") or {}))
    else:
        raise InvalidInput("model", f"{where} must be a name or {{'name': ..., 'as': ...}}")
    if spec.as_ is not None and spec.as_ not in TRANSFORMS:
        raise InvalidInput("model", f"{where}: 'as' must be one of {', '.join(TRANSFORMS)}")
    if field_name in _IMAGE_FIELDS and spec.as_ not in (None, "url", "data_url"):
        raise InvalidInput("model", f"{where}: an image is sent 'as' url or data_url")
    if field_name not in _IMAGE_FIELDS and spec.as_ in ("url", "data_url"):
        raise InvalidInput("model", f"{where}: only images are sent as url or data_url")
    return spec


def _inputs(model: ModelSpec, *layers: Any) -> dict[str, InputSpec]:
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, Mapping):
            raise InvalidInput("model", f"the fal catalog entry of {model.id}: inputs is a map")
        merged.update(layer)
    unknown = set(merged) - set(REQUEST_FIELDS)
    if unknown:
        raise InvalidInput(
            "model",
            f"the fal catalog entry of {model.id} maps unknown fields {sorted(unknown)}; "
            f"known: {', '.join(REQUEST_FIELDS)}",
        )
    return {name: _spec(model, name, raw) for name, raw in merged.items() if raw is not None}


def endpoint_plan(model: ModelSpec, mode: Mode | str) -> EndpointPlan:
    """The endpoint and input map ``model`` uses for ``mode``, read from its catalog
    entry; InvalidInput when the entry is incomplete or malformed."""
    mode_name = Mode(mode).value
    extra = model.extra
    entry = (extra.get("endpoints") or {}).get(mode_name) or extra.get("endpoint")
    overrides: Mapping[str, Any] = {}
    if isinstance(entry, Mapping):
        overrides, entry = entry, entry.get("endpoint")
    if not isinstance(entry, str) or entry.count("/") < 1:
        raise InvalidInput(
            "model",
            f"the fal catalog entry of {model.id} names no endpoint for "
            f"{_MODE_NAMES[mode_name]} (extra.endpoints.{mode_name})",
        )
    fixed = {**(extra.get("fixed") or {}), **(overrides.get("fixed") or {})}
    return EndpointPlan(
        mode_name,
        entry.strip("/"),
        _inputs(model, extra.get("inputs"), overrides.get("inputs")),
        fixed,
    )


def _natural(value: Any) -> Any:
    """5.0 -> 5: whole floats as integers, everything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def convert_value(spec: InputSpec, value: Any) -> Any:
    if isinstance(value, str):
        value = spec.map.get(value, value)
    if spec.as_ == "string":
        return f"{value:g}" if isinstance(value, float | int) else str(value)
    if spec.as_ == "seconds":
        return f"{value:g}s" if isinstance(value, float | int) else f"{value}s"
    if spec.as_ == "integer":
        return int(value)
    if spec.as_ == "number":
        return float(value)
    if spec.as_ == "boolean":
        return bool(value)
    return _natural(value)


def request_values(request: GenerationRequest, model: ModelSpec) -> dict[str, Any]:
    """Our fields as sent: defaults filled where the estimate depends on them."""
    return {
        "prompt": request.prompt.strip() or None,
        "negative": request.negative.strip() or None,
        "duration_s": request.duration_s or model.default_duration,
        "aspect": request.aspect or (model.default_aspect if request.mode is Mode.TEXT else None),
        "resolution": request.resolution or model.default_resolution,
        "audio": bool(request.audio) if model.audio else request.audio,
        "seed": request.seed,
    }


# ---------------------------------------------------------- refresh from schemas


def model_plans(model: ModelSpec) -> dict[str, EndpointPlan]:
    plans = {}
    for mode in model.modes:
        try:
            plans[mode] = endpoint_plan(model, mode)
        except (InvalidInput, ValueError):
            continue  # a broken entry is left alone; validate reports it when used
    return plans


def refreshed_entry(
    model: ModelSpec,
    plans: Mapping[str, EndpointPlan],
    listed: Mapping[str, Mapping[str, Any]],
    today: str,
) -> dict[str, Any]:
    live = {mode: plan for mode, plan in plans.items() if plan.endpoint in listed}
    gone = sorted({plan.endpoint for mode, plan in plans.items() if mode not in live})
    if not live:
        note = f"{today}: fal no longer lists {', '.join(gone) or 'its endpoints'}"
        return {"id": model.id, "status": "retired", "status_note": note}
    entry: dict[str, Any] = {"id": model.id, "modes": [m for m in model.modes if m in live]}
    deprecated = sorted(
        {
            plan.endpoint
            for plan in live.values()
            if (listed[plan.endpoint].get("metadata") or {}).get("status") == "deprecated"
        }
    )
    if deprecated:
        entry["status"] = "deprecated"
        entry["status_note"] = f"{today}: fal marks {', '.join(deprecated)} deprecated"
    else:
        entry["status"], entry["status_note"] = "active", ""
    if gone:
        note = f"{today}: fal no longer lists {', '.join(gone)}"
        entry["status_note"] = "; ".join(filter(None, [entry["status_note"], note]))
    schemas = {mode: _input_schema(listed[plan.endpoint]) for mode, plan in live.items()}
    entry.update(_limits(model, live, schemas))
    return entry


def _input_schema(listed: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of an endpoint's POST body, from its queue OpenAPI document."""
    openapi = listed.get("openapi")
    if not isinstance(openapi, dict):
        return {}
    schemas = (openapi.get("components") or {}).get("schemas") or {}
    for path in (openapi.get("paths") or {}).values():
        post = path.get("post") if isinstance(path, dict) else None
        if not isinstance(post, dict):
            continue
        content = ((post.get("requestBody") or {}).get("content") or {}).get(
            "application/json"
        ) or {}
        ref = (content.get("schema") or {}).get("$ref", "")
        schema = schemas.get(ref.rsplit("/", 1)[-1]) if ref else content.get("schema")
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            return dict(schema["properties"])
    return {}


def _options(prop: Any) -> tuple[list[Any], Any]:
    """(allowed values, default) of a schema property: enum/const, or an integer range."""
    if not isinstance(prop, dict):
        return [], None
    default = prop.get("default")
    for branch in [prop, *(prop.get("anyOf") or [])]:
        if not isinstance(branch, dict):
            continue
        if isinstance(branch.get("enum"), list):
            return list(branch["enum"]), default
        if "const" in branch:
            return [branch["const"]], default
        low, high = branch.get("minimum"), branch.get("maximum")
        if branch.get("type") == "integer" and isinstance(low, int) and isinstance(high, int):
            return (list(range(low, high + 1)) if 0 <= high - low <= 120 else []), default
    return [], default


def _common(lists: list[list[Any]]) -> list[Any]:
    if not lists:
        return []
    first, *rest = lists
    return [v for v in first if all(v in other for other in rest)]


def _seconds(value: Any) -> float | None:
    text = str(value).strip().lower().removesuffix("s")
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


_RES = re.compile(r"(\d{3,4})p", re.IGNORECASE)
_K = {"2k": 1440, "4k": 2160}


def _short_side(name: str) -> int | None:
    match = _RES.fullmatch(name)
    if match:
        return int(match.group(1))
    return _K.get(name.lower())


def _field_values(
    field_name: str,
    plans: Mapping[str, EndpointPlan],
    schemas: Mapping[str, Mapping[str, Any]],
) -> tuple[list[Any], Any]:
    """Our values for ``field_name`` that every live mode taking it accepts."""
    lists, default = [], None
    for mode, plan in plans.items():
        spec = plan.inputs.get(field_name)
        if spec is None or spec.name not in schemas[mode]:
            continue
        values, theirs = _options(schemas[mode][spec.name])
        if values:
            lists.append([spec.inverse(v) for v in values])
            default = default if default is not None else spec.inverse(theirs)
    return _common(lists), default


def _limits(
    model: ModelSpec,
    plans: Mapping[str, EndpointPlan],
    schemas: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    raw, default = _field_values("duration_s", plans, schemas)
    durations = sorted({s for s in (_seconds(v) for v in raw) if s is not None})
    if durations:
        out["durations"] = durations
        wanted = _seconds(default) if default is not None else None
        out["default_duration"] = _pick(model.default_duration, wanted, durations)
    raw, default = _field_values("resolution", plans, schemas)
    resolutions = {str(v): px for v in raw if (px := _short_side(str(v))) is not None}
    if resolutions:
        out["resolutions"] = resolutions
        out["default_resolution"] = _pick(model.default_resolution, default, list(resolutions))
    raw, default = _field_values("aspect", plans, schemas)
    aspects = [str(v) for v in raw]
    if aspects:
        out["aspects"] = aspects
        out["default_aspect"] = _pick(model.default_aspect, default, aspects)
    lengths = []
    for mode, plan in plans.items():
        spec = plan.inputs.get("prompt")
        prop = schemas[mode].get(spec.name) if spec else None
        for branch in [prop, *((prop or {}).get("anyOf") or [])] if prop else []:
            if isinstance(branch, dict) and isinstance(branch.get("maxLength"), int):
                lengths.append(branch["maxLength"])
    if lengths:
        out["prompt_max_chars"] = min(lengths)
    current = {
        "max_bytes": model.image.max_bytes,
        "min_side": model.image.min_side,
        "aspect_range": [model.image.min_aspect, model.image.max_aspect],
    }
    image = {k: v for k, v in _image_limits(plans, schemas).items() if current[k] != v}
    if image:
        out["image"] = image  # merged key by key over the catalog's image limits
    return out


def _pick(current: Any, theirs: Any, allowed: list[Any]) -> Any:
    """Keep our default while allowed; else the endpoint's default; else the first."""
    if current in allowed:
        return current
    if theirs in allowed:
        return theirs
    return allowed[0]


def _image_limits(
    plans: Mapping[str, EndpointPlan], schemas: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Image limits from the ``x-fal`` hints of the first-frame input, where given."""
    for mode, plan in plans.items():
        spec = plan.inputs.get("image")
        prop = schemas[mode].get(spec.name) if spec else None
        if not isinstance(prop, dict):
            continue
        for branch in [prop, *(prop.get("anyOf") or [])]:
            hints = branch.get("x-fal") if isinstance(branch, dict) else None
            if not isinstance(hints, dict):
                continue
            limits: dict[str, Any] = {}
            if isinstance(hints.get("max_file_size"), int):
                limits["max_bytes"] = hints["max_file_size"]
            sides = [
                s for s in (hints.get("min_width"), hints.get("min_height")) if isinstance(s, int)
            ]
            if len(sides) == 2:
                limits["min_side"] = max(sides)
            low, high = hints.get("min_aspect_ratio"), hints.get("max_aspect_ratio")
            if isinstance(low, int | float) and isinstance(high, int | float):
                limits["aspect_range"] = [float(low), float(high)]
            if limits:
                return limits
    return {}
