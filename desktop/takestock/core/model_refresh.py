"""Bringing the user's catalog up to date with the models a vendor lists now."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from takestock.core.catalog import Catalog, ModelSpec, image_limits_from, save_override

__all__ = ["apply_listing"]


def apply_listing(
    catalog: Catalog, overrides: Path, vendor_id: str, listed: Sequence[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Save what the vendor's model listing says into the user's catalog overrides.

    Models the vendor lists are added or updated; catalog models it no longer lists
    are marked retired (with the date), so old takes keep their labels and the
    Generate screen stops offering them. Returns the ids added, updated, unchanged and
    retired.
    """
    known = catalog.vendor(vendor_id).models
    seen = set()
    changes: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": [], "retired": []}
    for entry in listed:
        model_id = str(entry["id"])
        seen.add(model_id)
        fields = {k: v for k, v in entry.items() if k != "id"}
        old = known.get(model_id)
        if old is not None and isinstance(fields.get("resolutions"), Mapping):
            # Resolutions merge key by key: name the ones the vendor dropped.
            dropped = {name: None for name in old.resolutions if name not in fields["resolutions"]}
            fields["resolutions"] = {**fields["resolutions"], **dropped}
        if old is not None and _describes(old, fields):
            changes["unchanged"].append(model_id)
            continue
        save_override(overrides, vendor_id, model_id, **fields)
        changes["updated" if old is not None else "added"].append(model_id)
    today = time.strftime("%Y-%m-%d")
    for model_id, model in known.items():
        if model_id not in seen and model.status != "retired":
            note = f"{today}: no longer listed by the vendor"
            save_override(overrides, vendor_id, model_id, status="retired", status_note=note)
            changes["retired"].append(model_id)
    return changes


def _describes(model: ModelSpec, fields: Mapping[str, Any]) -> bool:
    """Whether the catalog already says what ``fields`` say about ``model``."""
    for name, value in fields.items():
        current = getattr(model, name, None)
        if name == "resolutions" and isinstance(value, Mapping):
            wanted = {k: v for k, v in value.items() if v is not None}
            if dict(model.resolutions) != wanted:
                return False
        elif name == "image" and isinstance(value, Mapping):
            if image_limits_from(value, base=model.image) != model.image:
                return False
        elif isinstance(current, tuple):
            if list(current) != list(value):
                return False
        elif current != value and not (name == "extra" and current == dict(value)):
            return False
    return True
