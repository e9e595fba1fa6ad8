"""The composition root shared by the command line and the GUI.

It builds the store, media library, catalog, credential store, vendor adapters and
engine, and hands each face only what it uses. Nothing below ``core`` reads the
environment or builds its own collaborators.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from takestock.core.catalog import Catalog, load_catalog
from takestock.core.credits import PlanBook, load_plan_books
from takestock.core.errors import InvalidInput
from takestock.core.job_rows import JobEvent
from takestock.core.library import MediaLibrary
from takestock.core.paths import DataPaths, data_paths
from takestock.core.secrets import CredentialStore, check_secret_text, env_var
from takestock.core.store import Store, open_store
from takestock.core.validation import check_base_url
from takestock.core.vendor import VendorAdapter
from takestock.vendors import build_adapters

if TYPE_CHECKING:
    # The engine (and httpx under it) is imported when a face first asks for one: the
    # commands that only read the library (`jobs`, `takes`, `credits`) never do.
    from takestock.core.jobs import Engine

__all__ = ["Services", "open_services"]


@dataclass
class Services:
    paths: DataPaths
    store: Store
    library: MediaLibrary
    catalog: Catalog
    adapters: Mapping[str, VendorAdapter]
    credentials: CredentialStore
    environ: Mapping[str, str]
    plan_books: Mapping[str, PlanBook]

    def poll_interval(self) -> float | None:
        raw = self.environ.get("TAKESTOCK_POLL_INTERVAL")
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0 <= value <= 3600:
            raise InvalidInput(
                "TAKESTOCK_POLL_INTERVAL", f"must be seconds between 0 and 3600, not {raw!r}"
            )
        return value

    def check_settings(self) -> None:
        """Refuse malformed settings from the environment before any work starts."""
        self.poll_interval()
        for vendor in self.catalog:
            name = f"{vendor.env_prefix}_BASE_URL"
            if self.environ.get(name):
                check_base_url(self.environ[name], name)
            for field in vendor.secrets:
                value = self.environ.get(env_var(vendor.id, field), "").strip()
                if value:
                    check_secret_text(value, env_var(vendor.id, field), multiline=True)

    def engine(
        self, *, store: Store | None = None, on_change: Callable[[JobEvent], None] | None = None
    ) -> Engine:
        """An engine; pass a ``store`` opened on the thread that will run it."""
        from takestock.core.jobs import Engine  # see the note on the imports

        self.check_settings()
        return Engine(
            store or self.store,
            self.library,
            self.catalog,
            self.adapters,
            self.credentials,
            poll_interval=self.poll_interval(),
            catalog_overrides=self.paths.catalog_overrides,
            environ=self.environ,
            on_change=on_change,
            plan_books=self.plan_books,
        )

    def open_store(self) -> Store:
        """Another connection to the library, for another thread."""
        return open_store(self.paths.database)

    def close(self) -> None:
        """Close the library and stop the adapters' helpers (the sandbox's render
        processes), so no worker pool is left for the interpreter to collect at exit,
        when ``concurrent.futures`` can no longer clean up after itself."""
        try:
            # Duck-typed: only a registry that keeps built adapters can close them
            # without building the others.
            closer = getattr(self.adapters, "close", None)
            if callable(closer):
                closer()
        finally:
            self.store.close()


def open_services(environ: Mapping[str, str] | None = None, *, gui: bool = False) -> Services:
    """Everything a face needs; ``gui`` keeps CPU-heavy work off the UI's process."""
    env = os.environ if environ is None else environ
    paths = data_paths().ensure()
    catalog = load_catalog(paths.catalog_overrides)
    return Services(
        paths=paths,
        store=open_store(paths.database),
        library=MediaLibrary(paths),
        catalog=catalog,
        adapters=build_adapters(catalog, paths, env, cpu_work_in_processes=gui),
        credentials=CredentialStore(env),
        environ=env,
        plan_books=load_plan_books(),
    )
