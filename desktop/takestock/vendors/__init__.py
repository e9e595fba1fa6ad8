"""Vendor adapters, one module per vendor protocol; this module is the registry.

The composition root calls :func:`build_adapters`; nothing in ``core`` imports this.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from takestock.core.catalog import Catalog, VendorSpec
from takestock.core.paths import DataPaths
from takestock.core.vendor import VendorAdapter

__all__ = ["AdapterEnv", "build_adapters", "registered_vendors"]


@dataclass(frozen=True, slots=True)
class AdapterEnv:
    """What adapter factories may use beside their catalog entry."""

    paths: DataPaths
    environ: Mapping[str, str]

    def number(self, name: str, default: float) -> float:
        raw = self.environ.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None


def _sandbox(vendor: VendorSpec, env: AdapterEnv) -> VendorAdapter:
    from takestock.vendors.sandbox import SandboxAdapter, SandboxService, SandboxSettings

    settings = SandboxSettings(
        latency_s=env.number("TAKESTOCK_SANDBOX_LATENCY", 3.0),
        download_s=env.number("TAKESTOCK_SANDBOX_DOWNLOAD_SECONDS", 0.0),
    )
    return SandboxAdapter(vendor, SandboxService(env.paths.sandbox, settings))


def _plain(module: str, name: str) -> Callable[[VendorSpec, AdapterEnv], VendorAdapter]:
    """A factory for an adapter whose constructor takes only its catalog entry."""

    def build(vendor: VendorSpec, env: AdapterEnv) -> VendorAdapter:
        adapter_class = getattr(importlib.import_module(module), name)
        adapter: VendorAdapter = adapter_class(vendor)
        return adapter

    return build


# Adapter modules are imported when first built, so start-up pays only for what is used.
_FACTORIES: dict[str, Callable[[VendorSpec, AdapterEnv], VendorAdapter]] = {
    "sandbox": _sandbox,
    "kling": _plain("takestock.vendors.kling", "KlingAdapter"),
    "hailuo": _plain("takestock.vendors.hailuo", "HailuoAdapter"),
    "wan": _plain("takestock.vendors.wan", "WanAdapter"),
    "vidu": _plain("takestock.vendors.vidu", "ViduAdapter"),
    "seedance": _plain("takestock.vendors.seedance", "SeedanceAdapter"),
}


def registered_vendors() -> list[str]:
    return sorted(_FACTORIES)


def build_adapters(
    catalog: Catalog, paths: DataPaths, environ: Mapping[str, str] | None = None
) -> dict[str, VendorAdapter]:
    """An adapter for every catalog vendor that has a protocol module."""
    env = AdapterEnv(paths, os.environ if environ is None else environ)
    return {
        vendor.id: _FACTORIES[vendor.id](vendor, env)
        for vendor in catalog
        if vendor.id in _FACTORIES
    }
