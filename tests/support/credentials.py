"""A credential source for engine tests; the real keyring is tested in test_secrets."""

from __future__ import annotations

from collections.abc import Sequence


class StaticCredentials:
    def __init__(self, secrets: dict[str, dict[str, str]] | None = None) -> None:
        self.secrets = secrets or {}

    def secrets_for(
        self, vendor_id: str, fields: Sequence[str], account: str = "default"
    ) -> dict[str, str]:
        found = self.secrets.get(vendor_id, {})
        return {f: found[f] for f in fields if f in found}
