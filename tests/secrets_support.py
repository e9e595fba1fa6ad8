"""Keyring backends for tests: an in-memory one, and ones that fail the way real ones do.

Install one with ``keyring.set_keyring(...)`` (the ``memory_keyring`` fixture in
``tests/keyring_fixture.py`` does it and restores the previous backend afterwards).

keyring registers every ``KeyringBackend`` subclass for its automatic backend
detection; these classes are taken out of that registry again, so that a test which
lets keyring detect a backend never gets one of them by surprise.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

__all__ = [
    "FailingKeyring",
    "FakePlaintextKeyring",
    "LockedKeyring",
    "MemoryKeyring",
]


class MemoryKeyring(KeyringBackend):
    """Keeps secrets in a dict, keyed by (service, username).

    Attributes:
        store: the secrets, for tests to look at directly.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("No such password!") from None


class FailingKeyring(KeyringBackend):
    """Raises ``error`` (a fresh copy each time) from every operation.

    The default is a ``KeyringError`` like the ones a D-Bus backend raises when its
    service goes away. Pass any exception to imitate another failure.

    Attributes:
        calls: how many operations were attempted.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self, error: BaseException | None = None) -> None:
        super().__init__()
        self.error = error or KeyringError("org.freedesktop.DBus.Error.NoReply: no reply")
        self.calls = 0

    def _fail(self) -> None:
        self.calls += 1
        raise type(self.error)(*self.error.args)

    def get_password(self, service: str, username: str) -> str | None:
        self._fail()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._fail()

    def delete_password(self, service: str, username: str) -> None:
        self._fail()


class LockedKeyring(FailingKeyring):
    """A keyring whose user dismissed the unlock prompt, as SecretService reports it."""

    def __init__(self) -> None:
        super().__init__(KeyringLocked("Failed to unlock the collection!"))


class FakePlaintextKeyring(MemoryKeyring):
    """Looks like ``keyrings.alt.file.PlaintextKeyring`` (not installed here)."""


# The refusal is decided by module and class name, as for the real one.
FakePlaintextKeyring.__module__ = "keyrings.alt.file"
FakePlaintextKeyring.__name__ = FakePlaintextKeyring.__qualname__ = "PlaintextKeyring"


def _unregister(*classes: type[KeyringBackend]) -> None:
    # keyring's metaclass adds each concrete subclass to KeyringBackend._classes, from
    # which get_all_keyring() picks the default backend (MemoryKeyring, priority 1,
    # would beat the fail backend, priority 0).
    registry = getattr(KeyringBackend, "_classes", None)
    if isinstance(registry, set):
        registry.difference_update(classes)


_unregister(MemoryKeyring, FailingKeyring, LockedKeyring, FakePlaintextKeyring)
