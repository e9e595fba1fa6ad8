"""``takestock vendors`` shows what each model costs, or says why no one knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from takestock.cli import main
from takestock.core.catalog import load_catalog
from takestock.core.paths import data_paths
from takestock.core.pricing import unpublished


def _listing(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["vendors", *args]) == 0
    return capsys.readouterr().out


def test_every_model_has_rules_or_an_unknown_reason(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(_listing(capsys, "--json"))
    catalog = load_catalog(data_paths().ensure().catalog_overrides)
    seen_unknown = seen_priced = 0
    for vendor in data["vendors"]:
        spec = catalog.vendor(vendor["id"])
        for model in vendor["models"]:
            price = model["price"]
            assert price["unit"] == spec.unit
            assert price["currency"] == spec.currency
            if price["unknown"] is None:
                seen_priced += 1
                assert price["rules"], model["id"]
                for rule in price["rules"]:
                    assert set(rule) == {"match", "per_take", "per_second"}
            else:
                seen_unknown += 1
                assert price["rules"] == []
                assert spec.name in price["unknown"]
                assert model["id"] in price["unknown"]
    assert seen_priced
    assert seen_unknown


def test_an_unpublished_price_is_unknown_with_its_source(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = load_catalog(data_paths().ensure().catalog_overrides)
    vendor, model = next(
        (v, m) for v in catalog for m in v.models.values() if unpublished(m) is not None
    )
    source = unpublished(model).get("source", "")  # type: ignore[union-attr]
    data = json.loads(_listing(capsys, "--json"))
    shown = next(v for v in data["vendors"] if v["id"] == vendor.id)
    price = next(m for m in shown["models"] if m["id"] == model.id)["price"]
    assert price["unknown"].startswith(f"no published price for {vendor.name} {model.id}")
    assert source in price["unknown"]

    text = _listing(capsys)
    assert f"price: unknown (no published price for {vendor.name} {model.id}" in text


def test_text_gives_each_rule_with_its_unit_money_and_condition(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _listing(capsys)
    lines = text.splitlines()
    # Kling's API counts units worth 0.14 USD each; kling-v1 is priced per take.
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("kling-v1 "))
    price = lines[at + 1].strip()
    assert price.startswith("price: 1 units/take (≈0.14 USD/take) [720p, 5 s]")
    assert "2 units/take" in price
    assert "[720p, 10 s]" in price
    # A per-second price in money only (fal bills USD) shows no conversion.
    at = next(i for i, line in enumerate(lines) if "fal-ai/sora-2" in line)
    assert lines[at + 1].strip() == "price: 0.1 USD/s [any]"
    # One price line under every model.
    models = sum(len(v["models"]) for v in json.loads(_listing(capsys, "--json"))["vendors"])
    assert sum(1 for line in lines if line.strip().startswith("price: ")) == models
