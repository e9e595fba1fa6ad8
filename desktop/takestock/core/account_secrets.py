"""An account's secrets, read once per complete set of the vendor's auth fields."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Protocol

from takestock.core.catalog import VendorSpec
from takestock.core.errors import SecretsUnavailable

__all__ = ["Credentials", "resolve_secrets"]


class Credentials(Protocol):
    """Where an engine reads an account's secrets (the credential store, or a test's)."""

    def secrets_for(
        self, vendor_id: str, fields: Sequence[str], account: str = "default"
    ) -> dict[str, str]: ...


def resolve_secrets(credentials: Credentials, vendor: VendorSpec, account: str) -> dict[str, str]:
    """The vendor's secrets, asking no more than one complete set requires.

    Auth options are tried in order, so a set fully given in the environment never needs
    the keyring (scripts and CI have none). Once a set is complete, the vendor's other
    fields are added where they can be had (some models need them), never at the cost
    of an error. When no set is complete, what was found is returned for the caller to
    name what is missing.
    """
    if not vendor.secrets:
        return {}

    def ask(fields: Sequence[str]) -> dict[str, str]:
        # A blank secret is no secret: sent, it would fail in ways that look like faults.
        got = credentials.secrets_for(vendor.id, fields, account)
        return {k: v.strip() for k, v in got.items() if v.strip()}

    found: dict[str, str] = {}
    keyring_problem: SecretsUnavailable | None = None
    for option in vendor.auth_options or (vendor.secrets,):
        try:
            found |= ask([f for f in option if f not in found])
        except SecretsUnavailable as exc:
            # This option needs the keyring; a later one may be in the environment.
            keyring_problem = keyring_problem or exc
            continue
        if set(option) <= set(found):
            rest = [f for f in vendor.secrets if f not in found]
            if rest:
                with suppress(SecretsUnavailable):
                    found |= ask(rest)
            return found
    if keyring_problem is not None:
        raise keyring_problem
    return found
