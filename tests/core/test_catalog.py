"""The catalog is data: overrides merge over it, retired models are refused by name."""

from __future__ import annotations

import json

import pytest

from takestock.core.catalog import CatalogError, load_catalog, save_override
from takestock.core.errors import InvalidInput


def test_the_shipped_catalog_loads_with_dates_and_sources():
    catalog = load_catalog()
    for vendor in catalog:
        assert vendor.as_of
        assert vendor.source
        for model in vendor.models.values():
            assert model.status in ("active", "deprecated", "retired")
            assert model.default_duration in model.durations
    sandbox = catalog.model("sandbox", "sandbox-v1")
    assert "1080p" in sandbox.resolutions


def test_user_overrides_change_prices_and_retire_models(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text(
        json.dumps({"sandbox": {"models": {"sandbox-v1": {"price": [{"per_take": 9}]}}}})
    )
    assert load_catalog(path).model("sandbox", "sandbox-v1").price[0].per_take == 9
    save_override(path, "sandbox", "sandbox-v1-hq", status="retired", status_note="gone")
    catalog = load_catalog(path)
    assert catalog.model("sandbox", "sandbox-v1").price[0].per_take == 9  # earlier edit kept
    with pytest.raises(InvalidInput, match="retired 'sandbox-v1-hq' \\(gone\\)"):
        catalog.model("sandbox", "sandbox-v1-hq")


def test_a_broken_override_file_is_reported_not_ignored(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text("{ not json")
    with pytest.raises(CatalogError, match="could not be read"):
        load_catalog(path)


def test_unknown_keys_are_errors(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text(json.dumps({"sandbox": {"models": {"sandbox-v1": {"durration": [5]}}}}))
    with pytest.raises(CatalogError, match="durration"):
        load_catalog(path)
