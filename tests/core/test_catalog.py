"""The catalog is data: overrides merge over it, retired models are refused by name."""

from __future__ import annotations

import json

import pytest

from takestock.core.catalog import load_catalog, save_override
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


def test_a_broken_override_file_is_reported_and_left_out(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text("{ not json")
    catalog = load_catalog(path)
    assert catalog.model("sandbox", "sandbox-v1")  # the shipped catalog still works
    (warning,) = catalog.warnings
    assert str(path) in warning
    assert "could not be read" in warning


def test_unknown_keys_are_reported_with_their_path(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text(json.dumps({"sandbox": {"models": {"sandbox-v1": {"durration": [5]}}}}))
    (warning,) = load_catalog(path).warnings
    assert "sandbox.models.sandbox-v1.durration" in warning


def test_an_override_that_makes_no_vendor_is_reported(tmp_path):
    path = tmp_path / "catalog-overrides.json"
    path.write_text(json.dumps({"nobody": {"models": {}}}))
    catalog = load_catalog(path)
    (warning,) = catalog.warnings
    assert str(path) in warning
    assert "nobody: missing 'name'" in warning
    assert "nobody" not in catalog.vendors
    assert "sandbox" in catalog.vendors


_DEEP = b'{"a": ' * 5000 + b"1" + b"}" * 5000
_DEEP_EXTRA = b'{"sandbox": {"extra": ' + b'{"a": ' * 40 + b"1" + b"}" * 42


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"[1, 2]", "top level must be an object"),
        (b'{"sandbox": 5}', "sandbox must be an object"),
        (b'{"sandbox": {"models": []}}', "sandbox.models must be an object"),
        (
            b'{"sandbox": {"models": {"sandbox-v1": {"durations": "5"}}}}',
            "sandbox.models.sandbox-v1.durations",
        ),
        (
            b'{"sandbox": {"models": {"sandbox-v1": {"durations": [NaN]}}}}',
            "sandbox.models.sandbox-v1.durations",
        ),
        (b'{"sandbox": {"models": {"sandbox-v1": 7}}}', "sandbox.models.sandbox-v1 must be"),
        (b'{"sandbox": {"concurrency": "four"}}', "sandbox.concurrency"),
        (
            b'{"sandbox": {"models": {"x": {"image": {"max_side": -1}}}}}',
            "sandbox.models.x.image.max_side",
        ),
        (
            b'{"sandbox": {"models": {"sandbox-v1": {"status": "gone"}}}}',
            "sandbox.models.sandbox-v1.status",
        ),
        (_DEEP, "nested"),
        (_DEEP_EXTRA, "nested"),
        (b'{"sandbox": {"name": "S\xff"}}', "not UTF-8"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_structurally_wrong_overrides_leave_the_shipped_catalog_working(tmp_path, content, where):
    path = tmp_path / "catalog-overrides.json"
    path.write_bytes(content)
    catalog = load_catalog(path)
    (warning,) = catalog.warnings
    assert str(path) in warning
    assert where in warning
    shipped = load_catalog()
    assert catalog.vendors == shipped.vendors
    # Editing a file we cannot read would lose what the user wrote: refused, untouched.
    with pytest.raises(InvalidInput, match=r"catalog-overrides\.json"):
        save_override(path, "sandbox", "sandbox-v1", status="retired")
    assert path.read_bytes() == content
