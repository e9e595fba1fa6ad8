"""The catalog: vendors, their models, limits and prices, as dated and sourced data.

Shipped files live in ``takestock/resources/catalog/<vendor>.json``; a user's
``catalog-overrides.json`` in the data folder is merged over them, key by key, so a
user can correct a price or mark a model retired without waiting for a release.
Nothing here is a constant in code: vendors change models and prices every few months.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from takestock.core.errors import CatalogError, InvalidInput

__all__ = [
    "Catalog",
    "ImageLimits",
    "ModelSpec",
    "PriceRule",
    "VendorSpec",
    "load_catalog",
    "override_problem",
    "read_overrides",
]

OVERRIDES_FILE = "catalog-overrides.json"
MODEL_STATUSES = ("active", "deprecated", "retired")


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What a vendor accepts as an input image."""

    formats: tuple[str, ...] = ("jpeg", "png", "webp")
    max_bytes: int = 10 * 1024 * 1024
    min_side: int = 300
    max_side: int = 4096
    min_aspect: float = 0.4
    max_aspect: float = 2.5


@dataclass(frozen=True, slots=True)
class PriceRule:
    """One row of a price table; the first rule whose ``match`` fits a request wins.

    ``match`` keys are request fields (``mode``, ``resolution``, ``audio``,
    ``duration_s``); a take costs ``per_take + per_second * duration``.
    """

    match: Mapping[str, Any]
    per_take: float = 0.0
    per_second: float = 0.0


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model a vendor serves, with the limits ``validate`` checks."""

    id: str
    vendor: str
    label: str
    status: str = "active"
    status_note: str = ""
    modes: tuple[str, ...] = ("text",)
    durations: tuple[float, ...] = (5.0,)
    default_duration: float = 5.0
    resolutions: Mapping[str, int] = field(default_factory=lambda: {"720p": 720})
    default_resolution: str = "720p"
    aspects: tuple[str, ...] = ("16:9",)
    default_aspect: str = "16:9"
    audio: bool = False
    seed: bool = True
    negative_prompt: bool = True
    prompt_max_chars: int = 2000
    negative_max_chars: int = 2000
    image: ImageLimits = field(default_factory=ImageLimits)
    price: tuple[PriceRule, ...] = ()
    #: vendor-specific facts the adapter reads (endpoint names, field maps).
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.status != "retired"


@dataclass(frozen=True, slots=True)
class VendorSpec:
    """A vendor as the catalog describes it."""

    id: str
    name: str
    as_of: str
    source: str
    base_urls: Mapping[str, str]
    unit: str = "credits"
    money_per_unit: float | None = None
    currency: str | None = None
    secrets: tuple[str, ...] = ("api_key",)
    #: alternative complete sets of ``secrets``, any one of which authenticates
    #: (Kling: an access key with a secret key, or one API key); default: all of them.
    auth_options: tuple[tuple[str, ...], ...] = ()
    sandbox: bool = False
    concurrency: int = 4
    poll_interval_s: float = 5.0
    max_poll_interval_s: float = 30.0
    models: Mapping[str, ModelSpec] = field(default_factory=dict)
    #: plans, free allowances and other commerce data, read by ``core.credits``.
    plans: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def base_url(self, region: str = "default") -> str:
        try:
            return self.base_urls[region]
        except KeyError:
            raise InvalidInput(
                "region",
                f"{self.name} has no region {region!r}; known: {', '.join(self.base_urls)}",
            ) from None

    def missing_secrets(self, found: Iterable[str]) -> list[str]:
        """Fields still needed to authenticate, given the ones set (empty: enough)."""
        have = set(found)
        options = self.auth_options or (self.secrets,)
        if any(set(option) <= have for option in options):
            return []
        return [f for f in options[0] if f not in have]

    @property
    def env_prefix(self) -> str:
        return "TAKESTOCK_" + self.id.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Attributes:
    vendors: vendor id → its spec.
    warnings: problems with the user's override file, which was then left out
        (each names the file and the path inside it); the faces show them.
    """

    vendors: Mapping[str, VendorSpec]
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[VendorSpec]:
        return iter(self.vendors.values())

    def vendor(self, vendor_id: str) -> VendorSpec:
        try:
            return self.vendors[vendor_id]
        except KeyError:
            known = ", ".join(sorted(self.vendors))
            raise InvalidInput("vendor", f"unknown vendor {vendor_id!r}; known: {known}") from None

    def model(self, vendor_id: str, model_id: str) -> ModelSpec:
        vendor = self.vendor(vendor_id)
        try:
            model = vendor.models[model_id]
        except KeyError:
            known = ", ".join(m.id for m in vendor.models.values() if m.available)
            raise InvalidInput(
                "model", f"{vendor.name} has no model {model_id!r}; available: {known}"
            ) from None
        if not model.available:
            note = f" ({model.status_note})" if model.status_note else ""
            raise InvalidInput("model", f"{vendor.name} retired {model_id!r}{note}")
        return model


def _merge(base: Any, over: Any) -> Any:
    """Overrides replace scalars and lists and merge mappings key by key; a key set to
    null removes it (a resolution the vendor no longer offers)."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return over


def image_limits_from(
    raw: Mapping[str, Any] | None, base: ImageLimits | None = None
) -> ImageLimits:
    """Image limits from catalog data, over ``base`` (the defaults when not given)."""
    default = base or ImageLimits()
    if not raw:
        return default
    aspect = raw.get("aspect_range", (default.min_aspect, default.max_aspect))
    return ImageLimits(
        formats=tuple(raw.get("formats", default.formats)),
        max_bytes=int(raw.get("max_bytes", default.max_bytes)),
        min_side=int(raw.get("min_side", default.min_side)),
        max_side=int(raw.get("max_side", default.max_side)),
        min_aspect=float(aspect[0]),
        max_aspect=float(aspect[1]),
    )


_MODEL_KEYS = {
    "id", "label", "status", "status_note", "modes", "durations", "default_duration",
    "resolutions", "default_resolution", "aspects", "default_aspect", "audio", "seed",
    "negative_prompt", "prompt_max_chars", "negative_max_chars", "image", "price", "extra",
}  # fmt: skip
_VENDOR_KEYS = {
    "id", "name", "as_of", "source", "base_urls", "unit", "money_per_unit", "currency",
    "secrets", "auth_options", "sandbox", "concurrency", "poll_interval_s",
    "max_poll_interval_s", "models", "plans", "extra",
}  # fmt: skip


def _check_keys(where: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")


def _model(vendor_id: str, raw: Mapping[str, Any]) -> ModelSpec:
    where = f"catalog {vendor_id}/{raw.get('id', '?')}"
    _check_keys(where, raw, _MODEL_KEYS)
    status = raw.get("status", "active")
    if status not in MODEL_STATUSES:
        raise CatalogError(f"{where}: status must be one of {MODEL_STATUSES}, not {status!r}")
    durations = tuple(float(d) for d in raw.get("durations", (5,)))
    resolutions = {str(k): int(v) for k, v in raw.get("resolutions", {"720p": 720}).items()}
    aspects = tuple(raw.get("aspects", ("16:9",)))
    for name, values in (("durations", durations), ("resolutions", resolutions)):
        if not values:
            raise CatalogError(f"{where}: {name} is empty; list at least one")
    return ModelSpec(
        id=raw["id"],
        vendor=vendor_id,
        label=raw.get("label", raw["id"]),
        status=status,
        status_note=raw.get("status_note", ""),
        modes=tuple(raw.get("modes", ("text",))),
        durations=durations,
        default_duration=float(raw.get("default_duration", durations[0])),
        resolutions=resolutions,
        default_resolution=raw.get("default_resolution", next(iter(resolutions))),
        aspects=aspects,
        # No aspects: the model takes the shape of its input image.
        default_aspect=raw.get("default_aspect", aspects[0] if aspects else ""),
        audio=bool(raw.get("audio", False)),
        seed=bool(raw.get("seed", True)),
        negative_prompt=bool(raw.get("negative_prompt", True)),
        prompt_max_chars=int(raw.get("prompt_max_chars", 2000)),
        negative_max_chars=int(raw.get("negative_max_chars", 2000)),
        image=image_limits_from(raw.get("image")),
        price=tuple(
            PriceRule(
                match=rule.get("match", {}),
                per_take=float(rule.get("per_take", 0)),
                per_second=float(rule.get("per_second", 0)),
            )
            for rule in raw.get("price", ())
        ),
        extra=raw.get("extra", {}),
    )


def parse_vendor(raw: Mapping[str, Any]) -> VendorSpec:
    where = f"catalog {raw.get('id', '?')}"
    _check_keys(where, raw, _VENDOR_KEYS)
    for key in ("id", "name", "as_of", "source", "base_urls"):
        if key not in raw:
            raise CatalogError(f"{where}: missing {key!r}")
    vendor_id = raw["id"]
    models = {m["id"]: _model(vendor_id, m) for m in raw.get("models", ())}
    return VendorSpec(
        id=vendor_id,
        name=raw["name"],
        as_of=raw["as_of"],
        source=raw["source"],
        base_urls=dict(raw["base_urls"]),
        unit=raw.get("unit", "credits"),
        money_per_unit=raw.get("money_per_unit"),
        currency=raw.get("currency"),
        secrets=tuple(raw.get("secrets", ("api_key",))),
        auth_options=tuple(tuple(option) for option in raw.get("auth_options", ())),
        sandbox=bool(raw.get("sandbox", False)),
        concurrency=int(raw.get("concurrency", 4)),
        poll_interval_s=float(raw.get("poll_interval_s", 5.0)),
        max_poll_interval_s=float(raw.get("max_poll_interval_s", 30.0)),
        models=models,
        plans=raw.get("plans", {}),
        extra=raw.get("extra", {}),
    )


def shipped_catalog_files() -> Iterable[tuple[str, str]]:
    """(name, text) of each shipped catalog file."""
    folder = resources.files("takestock.resources") / "catalog"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield entry.name, entry.read_text(encoding="utf-8")


def _apply_overrides(raw_vendors: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """Merge ``{"vendor": {..., "models": {"model-id": {...}}}}`` into the raw data."""
    for vendor_id, over in overrides.items():
        if vendor_id.startswith("_"):
            continue  # room for comments
        over = dict(over)
        model_over = over.pop("models", {})
        base = raw_vendors.get(vendor_id, {"id": vendor_id})
        merged = _merge(base, over)
        by_id = {m["id"]: m for m in base.get("models", ())}
        for model_id, fields in model_over.items():
            by_id[model_id] = _merge(by_id.get(model_id, {"id": model_id}), fields)
        merged["models"] = list(by_id.values())
        raw_vendors[vendor_id] = merged


def _shipped_raw() -> dict[str, Any]:
    raw_vendors: dict[str, Any] = {}
    for name, text in shipped_catalog_files():
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"shipped catalog {name} is not valid JSON: {exc}") from exc
        raw_vendors[data["id"]] = data
    return raw_vendors


def read_overrides(overrides_path: Path) -> dict[str, Any]:
    """The override file's content, checked; CatalogError naming the file and the path
    inside it (``sandbox.models.sandbox-v1.durations``) when it cannot be used."""
    try:
        text = overrides_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{overrides_path} could not be read: it is not UTF-8 text (byte {exc.start})"
        ) from None
    except OSError as exc:
        raise CatalogError(f"{overrides_path} could not be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{overrides_path} could not be read (not JSON: {exc})") from None
    except RecursionError:
        raise CatalogError(f"{overrides_path} could not be read (nested too deeply)") from None
    problem = override_problem(data)
    if problem is not None:
        where, what = problem
        raise CatalogError(f"{overrides_path}: {where or 'the top level'} {what}")
    assert isinstance(data, dict)
    return data


def load_catalog(overrides_path: Path | None = None) -> Catalog:
    """The shipped catalog with the user's overrides, if any, merged over it.

    An override file that cannot be used is left out whole, and the reason kept in
    :attr:`Catalog.warnings`: every command still works on the shipped catalog.
    """
    shipped = _shipped_raw()
    if overrides_path is None or not overrides_path.exists():
        return Catalog({vid: parse_vendor(raw) for vid, raw in shipped.items()})
    try:
        return _catalog_with(shipped, read_overrides(overrides_path), overrides_path)
    except CatalogError as exc:
        warning = (
            f"{exc.message}. It is left out; Takestock uses its shipped catalog until it is fixed."
        )
    return Catalog({vid: parse_vendor(raw) for vid, raw in shipped.items()}, (warning,))


def _catalog_with(shipped: dict[str, Any], overrides: dict[str, Any], path: Path) -> Catalog:
    """The catalog with ``overrides`` applied; CatalogError naming ``path`` if they do
    not make a valid catalog."""
    try:
        raw_vendors = copy.deepcopy(shipped)
        _apply_overrides(raw_vendors, overrides)
        return Catalog({vid: parse_vendor(raw) for vid, raw in raw_vendors.items()})
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc.message.removeprefix('catalog ')}") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise CatalogError(f"{path} could not be applied ({type(exc).__name__}: {exc})") from None


def save_override(overrides_path: Path, vendor_id: str, model_id: str, **fields: Any) -> None:
    """Record a change to one model in the user's overrides (e.g. ``status="retired"``)."""
    if overrides_path.exists():
        try:
            data = read_overrides(overrides_path)
        except CatalogError as exc:
            # Writing into a file we cannot read would lose what the user put there.
            raise InvalidInput(OVERRIDES_FILE, f"{exc.message}; fix or remove it first") from None
    else:
        data = {}
    models = data.setdefault(vendor_id, {}).setdefault("models", {})
    models.setdefault(model_id, {}).update(fields)
    tmp = overrides_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, overrides_path)


# ------------------------------------------------------------ override checks

_MAX_DEPTH = 32
_STR, _BOOL, _DICT = "a string", "true or false", "an object"
_STRS, _NUM, _INT = "a list of strings", "a number", "a whole number"


def _kind_problem(value: Any, kind: str) -> str | None:
    """Why ``value`` is not of ``kind``, or None."""

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    ok = {
        _STR: isinstance(value, str),
        _BOOL: isinstance(value, bool),
        _DICT: isinstance(value, dict),
        _STRS: isinstance(value, list) and all(isinstance(v, str) for v in value),
        _NUM: number(value),
        _INT: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "a number or null": value is None or number(value),
        "a list of positive numbers": isinstance(value, list)
        and all(number(v) and v > 0 for v in value),
        "an object of whole numbers": isinstance(value, dict)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()),
        "an object of strings": isinstance(value, dict)
        and all(isinstance(v, str) for v in value.values()),
        "a list of lists of strings": isinstance(value, list)
        and all(isinstance(o, list) and all(isinstance(v, str) for v in o) for o in value),
        "a list of price rules": isinstance(value, list)
        and all(
            isinstance(r, dict)
            and isinstance(r.get("match", {}), dict)
            and all(number(r.get(k, 0)) for k in ("per_take", "per_second"))
            for r in value
        ),
        "two numbers": isinstance(value, list) and len(value) == 2 and all(map(number, value)),
    }[kind]
    return None if ok else f"must be {kind}, not {json.dumps(value)[:40]}"


_MODEL_TYPES = {
    "id": _STR, "label": _STR, "status": _STR, "status_note": _STR, "modes": _STRS,
    "durations": "a list of positive numbers", "default_duration": _NUM,
    "resolutions": "an object of whole numbers", "default_resolution": _STR,
    "aspects": _STRS, "default_aspect": _STR, "audio": _BOOL, "seed": _BOOL,
    "negative_prompt": _BOOL, "prompt_max_chars": _INT, "negative_max_chars": _INT,
    "image": _DICT, "price": "a list of price rules", "extra": _DICT,
}  # fmt: skip
_IMAGE_TYPES = {
    "formats": _STRS, "max_bytes": _INT, "min_side": _INT, "max_side": _INT,
    "aspect_range": "two numbers",
}  # fmt: skip
_VENDOR_TYPES = {
    "id": _STR, "name": _STR, "as_of": _STR, "source": _STR,
    "base_urls": "an object of strings", "unit": _STR, "money_per_unit": "a number or null",
    "currency": _STR, "secrets": _STRS, "auth_options": "a list of lists of strings",
    "sandbox": _BOOL, "concurrency": _INT, "poll_interval_s": _NUM,
    "max_poll_interval_s": _NUM, "models": _DICT, "plans": _DICT, "extra": _DICT,
}  # fmt: skip


def _too_deep(value: Any, depth: int = 0) -> bool:
    if depth > _MAX_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False


def _fields_problem(
    raw: Mapping[str, Any], types: Mapping[str, str], where: str
) -> tuple[str, str] | None:
    for key, value in raw.items():
        path = f"{where}.{key}"
        if key not in types:
            return path, "is not a known key"
        if value is None:
            continue  # null removes the key (see _merge)
        problem = _kind_problem(value, types[key])
        if problem:
            return path, problem
        if key == "status" and value not in MODEL_STATUSES:
            return path, f"must be one of {', '.join(MODEL_STATUSES)}"
        if key == "image":
            found = _fields_problem(value, _IMAGE_TYPES, path)
            if found:
                return found
    return None


def override_problem(data: Any) -> tuple[str, str] | None:
    """The first problem of an override document: (dotted path, what is wrong), or None."""
    if not isinstance(data, dict):
        return "", f"must be an object of vendors, not {type(data).__name__}"
    if _too_deep(data):
        return "", f"is nested more than {_MAX_DEPTH} levels deep"
    for vendor_id, over in data.items():
        if vendor_id.startswith("_"):
            continue  # room for comments
        if not isinstance(over, dict):
            return vendor_id, f"must be an object, not {json.dumps(over)[:40]}"
        vendor_fields = {k: v for k, v in over.items() if k != "models"}
        found = _fields_problem(vendor_fields, _VENDOR_TYPES, vendor_id)
        if found:
            return found
        models = over.get("models", {})
        if not isinstance(models, dict):
            return f"{vendor_id}.models", "must be an object of model id → fields"
        for model_id, fields in models.items():
            path = f"{vendor_id}.models.{model_id}"
            if not isinstance(fields, dict):
                return path, f"must be an object, not {json.dumps(fields)[:40]}"
            found = _fields_problem(fields, _MODEL_TYPES, path)
            if found:
                return found
    return None
