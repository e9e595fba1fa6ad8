"""Vendor adapters, one module per vendor protocol; this module is the registry.

The composition root calls :func:`build_adapters`; nothing in ``core`` imports this.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from takestock.core.catalog import Catalog, VendorSpec
from takestock.core.paths import DataPaths
from takestock.core.vendor import VendorAdapter

__all__ = ["AdapterEnv", "AdapterRegistry", "build_adapters", "registered_vendors"]


@dataclass(frozen=True, slots=True)
class AdapterEnv:
    """What adapter factories may use beside their catalog entry."""

    paths: DataPaths
    environ: Mapping[str, str]
    #: Keep CPU-heavy work (the sandbox's rendering) out of this process: the GUI.
    cpu_work_in_processes: bool = False

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
        render_in_process=env.cpu_work_in_processes,
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
    "veo": _plain("takestock.vendors.veo", "VeoAdapter"),
    "runway": _plain("takestock.vendors.runway", "RunwayAdapter"),
    "luma": _plain("takestock.vendors.luma", "LumaAdapter"),
    "fal": _plain("takestock.vendors.fal", "FalAdapter"),
    "replicate": _plain("takestock.vendors.replicate", "ReplicateAdapter"),
    "comfyui": _plain("takestock.vendors.comfyui", "ComfyUIAdapter"),
    "xai": _plain("takestock.vendors.xai", "XaiAdapter"),
    "bfl": _plain("takestock.vendors.bfl", "BflAdapter"),
    "hunyuan": _plain("takestock.vendors.hunyuan", "HunyuanAdapter"),
    "ltx": _plain("takestock.vendors.ltx", "LtxAdapter"),
}


def registered_vendors() -> list[str]:
    return sorted(_FACTORIES)


class AdapterRegistry(Mapping[str, VendorAdapter]):
    """The adapters of every catalog vendor that has a protocol module, built on first
    use: start-up imports no vendor module, and one vendor's problem stays its own."""

    def __init__(self, catalog: Catalog, env: AdapterEnv) -> None:
        self._catalog = catalog
        self._env = env
        self._ids = [v.id for v in catalog if v.id in _FACTORIES]
        self._built: dict[str, VendorAdapter] = {}

    def __getitem__(self, vendor_id: str) -> VendorAdapter:
        adapter = self._built.get(vendor_id)
        if adapter is None:
            if vendor_id not in self._ids:
                raise KeyError(vendor_id)
            vendor = self._catalog.vendor(vendor_id)
            adapter = self._built[vendor_id] = _FACTORIES[vendor_id](vendor, self._env)
        return adapter

    def __contains__(self, vendor_id: object) -> bool:
        return vendor_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def close(self) -> None:
        """Stop the helpers of the adapters built so far (the sandbox's render pool);
        the ones never built have nothing to stop."""
        for adapter in self._built.values():
            closer = getattr(adapter, "close", None)
            if callable(closer):
                closer()


def build_adapters(
    catalog: Catalog,
    paths: DataPaths,
    environ: Mapping[str, str] | None = None,
    *,
    cpu_work_in_processes: bool = False,
) -> AdapterRegistry:
    """An adapter for every catalog vendor that has a protocol module (built lazily)."""
    env = AdapterEnv(paths, os.environ if environ is None else environ, cpu_work_in_processes)
    return AdapterRegistry(catalog, env)
