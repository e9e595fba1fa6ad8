"""Replicate models' inputs: the catalog's ``extra.inputs`` mapping from our request
fields to a model's input names, and reading a model version's OpenAPI schema back into
catalog limits (durations, resolutions, aspects) through that mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from takestock.core.catalog import ModelSpec
from takestock.core.errors import InvalidInput

_FIELDS = (
    "prompt",
    "negative",
    "image",
    "last_frame",
    "duration_s",
    "resolution",
    "aspect",
    "audio",
    "seed",
    "resolution+aspect",
)
_CONVERT = {"int": int, "float": float, "str": str, "bool": bool}
_RESOLUTION_NAME = re.compile(r"^(\d{3,4})p$")


@dataclass(frozen=True, slots=True)
class _Input:
    """One catalog ``inputs`` entry: the model's input name and how values translate."""

    name: str
    mapping: Mapping[str, Any]
    convert: str | None

    @classmethod
    def parse(cls, raw: Any, where: str) -> _Input:
        if isinstance(raw, str) and raw:
            return cls(raw, {}, None)
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) and raw["name"]:
            convert = raw.get("as")
            if convert is not None and convert not in _CONVERT:
                raise InvalidInput("model", f"{where}: 'as' must be one of {sorted(_CONVERT)}")
            return cls(raw["name"], raw.get("map") or {}, convert)
        raise InvalidInput("model", f"{where}: give the model's input name or {{'name': ...}}")

    def value(self, ours: Any) -> Any:
        """Our value in the model's terms: ``map`` first (keys are our values as text:
        ``"720p"``, ``"5"``, ``"true"``), then ``as``; whole floats travel as ints."""
        key = json.dumps(ours) if isinstance(ours, bool) else str(_plain_number(ours))
        value = self.mapping[key] if key in self.mapping else _plain_number(ours)
        if self.convert is not None:
            value = _CONVERT[self.convert](value)
        return value


def _inputs(model: ModelSpec) -> dict[str, _Input]:
    raw = model.extra.get("inputs")
    if not isinstance(raw, Mapping) or "prompt" not in raw:
        raise InvalidInput("model", f"{model.id}: extra.inputs must map at least the prompt")
    unknown = set(raw) - set(_FIELDS)
    if unknown:
        raise InvalidInput(
            "model", f"{model.id}: extra.inputs has {sorted(unknown)}; known: {', '.join(_FIELDS)}"
        )
    return {
        field: _Input.parse(value, f"{model.id} inputs.{field}") for field, value in raw.items()
    }


def _plain_number(value: Any) -> Any:
    """5.0 -> 5: durations travel as whole numbers where they are whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _num_in(value: Any, allowed: Sequence[Any]) -> bool:
    return isinstance(value, int | float) and any(
        isinstance(a, int | float) and float(a) == float(value) for a in allowed
    )


def _limits_from_schema(model: ModelSpec, schema: Any) -> dict[str, Any]:
    """Durations, resolutions and aspects the model's OpenAPI schema states, mapped back
    through the catalog's ``inputs`` to our names; what the schema leaves open is kept."""
    properties = _input_properties(schema)
    if not properties:
        return {}
    inputs = _inputs(model)
    found: dict[str, Any] = {}
    duration = _choices(properties, inputs.get("duration_s"), schema)
    if duration is not None:
        values, default = duration
        numbers = sorted({float(v) for v in values if _is_number(v)})
        if numbers:
            found["durations"] = [_plain_number(n) for n in numbers]
            found["default_duration"] = _pick_default(
                default if _is_number(default) else None, numbers, model.default_duration
            )
    aspect = _choices(properties, inputs.get("aspect"), schema)
    if aspect is not None:
        values, default = aspect
        aspects = [str(v) for v in values]
        found["aspects"] = aspects
        found["default_aspect"] = _pick_default(default, aspects, model.default_aspect)
    resolution = _choices(properties, inputs.get("resolution"), schema)
    if resolution is not None:
        values, default = resolution
        resolutions = _resolutions_back(model, values)
        if resolutions:
            found["resolutions"] = resolutions
            found["default_resolution"] = _pick_default(
                default, list(resolutions), model.default_resolution
            )
    return found


def _input_properties(schema: Any) -> dict[str, Any]:
    try:
        properties = schema["components"]["schemas"]["Input"]["properties"]
    except (KeyError, TypeError):
        return {}
    return properties if isinstance(properties, dict) else {}


def _choices(
    properties: Mapping[str, Any], spec: _Input | None, schema: Any
) -> tuple[list[Any], Any] | None:
    """(allowed values back in our terms, the default in our terms), or None if open."""
    if spec is None or spec.name not in properties:
        return None
    prop = _resolve(properties[spec.name], schema)
    default = properties[spec.name].get("default", prop.get("default"))
    if isinstance(prop.get("enum"), list):
        values = list(prop["enum"])
    elif prop.get("type") == "integer" and _is_number(prop.get("minimum")):
        low, high = int(prop["minimum"]), int(prop.get("maximum", prop["minimum"]))
        if high - low > 120:
            return None
        values = list(range(low, high + 1))
    else:
        return None
    back = {str(_plain_number(v)): k for k, v in spec.mapping.items()}
    ours = [back.get(str(_plain_number(v)), v) for v in values]
    if default is not None:
        default = back.get(str(_plain_number(default)), default)
    return ours, default


def _resolve(prop: Any, schema: Any) -> dict[str, Any]:
    """Follow Cog's ``allOf: [{"$ref": "#/components/schemas/x"}]`` to the enum."""
    if not isinstance(prop, dict):
        return {}
    merged = dict(prop)
    for part in prop.get("allOf", ()):
        ref = part.get("$ref") if isinstance(part, dict) else None
        if isinstance(ref, str) and ref.startswith("#/"):
            node: Any = schema
            for key in ref[2:].split("/"):
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                merged = {**node, **{k: v for k, v in merged.items() if k != "allOf"}}
    return merged


def _resolutions_back(model: ModelSpec, values: Sequence[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        name = str(value)
        if name in model.resolutions:
            out[name] = model.resolutions[name]
        elif (found := _RESOLUTION_NAME.match(name)) is not None:
            out[name] = int(found.group(1))
    return out


def _pick_default(default: Any, allowed: Sequence[Any], current: Any) -> Any:
    for candidate in (default, current):
        if candidate is not None and (candidate in allowed or _num_in(candidate, allowed)):
            return _plain_number(candidate)
    return _plain_number(allowed[0])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
