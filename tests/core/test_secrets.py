"""The credential store (takestock.core.secrets), against a real Secret Service.

Most tests run on a private GNOME Keyring (the ``secret_service`` fixture from
``tests/keyring_fixture.py``); the refusals and failure paths use the fakes in
``tests/secrets_support.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.errors import KeyringError

from takestock.core.catalog import VendorSpec
from takestock.core.errors import InvalidInput, SecretsUnavailable
from takestock.core.logs import REDACTED, redact
from takestock.core.secrets import SERVICE, CredentialStore, env_var, mask
from tests.keyring_fixture import SecretServiceDaemon, use_keyring
from tests.secrets_support import FailingKeyring, FakePlaintextKeyring, LockedKeyring, MemoryKeyring

SECRET = "sk-test_AbC~0123456789/+=-."  # every kind of character a vendor key holds
OTHER = "sk-other-abcdef-9876543210"


@pytest.fixture
def store() -> CredentialStore:
    """A store with an empty, controlled environment."""
    return CredentialStore(environ={})


# --- the real Secret Service ---------------------------------------------------------


def test_round_trip_on_secret_service(
    secret_service: SecretServiceDaemon, store: CredentialStore
) -> None:
    assert store.get("sandbox") is None
    assert store.source("sandbox", "api_key") is None
    assert "SecretService" in store.backend_name()

    store.set("sandbox", "api_key", SECRET + "\n")  # a pasted line break is dropped
    assert store.get("sandbox") == SECRET
    assert store.get("sandbox", "api_key", "default") == SECRET
    assert store.source("sandbox", "api_key") == "keyring"

    # It is a real item in the login collection, where other tools will find it.
    with secret_service.connection() as conn:
        items = list(secret_service.collection(conn).search_items({"service": SERVICE}))
        assert [i.get_attributes()["username"] for i in items] == ["sandbox/default/api_key"]
        assert items[0].get_secret().decode() == SECRET

    # A key no HTTP header can carry is refused, naming where, never echoing it.
    with pytest.raises(InvalidInput, match="character 5 of the key") as refused:
        store.set("sandbox", "api_key", "sk-tëst-ключ-0123456789")
    assert "ключ" not in str(refused.value)
    assert store.get("sandbox") == SECRET

    store.set("sandbox", "api_key", OTHER)  # replaces
    assert store.get("sandbox") == OTHER
    assert store.delete("sandbox", "api_key") is True
    assert store.get("sandbox") is None
    assert store.delete("sandbox", "api_key") is False
    assert store.source("sandbox", "api_key") is None


def test_accounts_are_separate_and_env_is_for_default_only(
    secret_service: SecretServiceDaemon,
) -> None:
    store = CredentialStore(environ={"TAKESTOCK_SANDBOX_API_KEY": "env-key-1234567890"})
    store.set("sandbox", "api_key", SECRET)
    store.set("sandbox", "api_key", OTHER, account="work team")
    assert store.get("sandbox") == "env-key-1234567890"
    assert store.get("sandbox", account="work team") == OTHER
    assert store.source("sandbox", "api_key", "work team") == "keyring"
    assert store.delete("sandbox", "api_key", account="work team") is True
    assert store.get("sandbox", account="work team") is None
    assert CredentialStore(environ={}).get("sandbox") == SECRET


def test_environment_comes_first(secret_service: SecretServiceDaemon) -> None:
    environ = {"TAKESTOCK_SANDBOX_API_KEY": "env-key-1234567890"}
    store = CredentialStore(environ=environ)
    store.set("sandbox", "api_key", SECRET)
    assert store.get("sandbox") == "env-key-1234567890"
    assert store.source("sandbox", "api_key") == "environment"
    environ["TAKESTOCK_SANDBOX_API_KEY"] = "  "  # empty counts as unset
    assert store.get("sandbox") == SECRET
    assert store.source("sandbox", "api_key") == "keyring"


def test_kling_two_fields(secret_service: SecretServiceDaemon, store: CredentialStore) -> None:
    kling = VendorSpec(id="kling", name="Kling", as_of="", source="", base_urls={})
    fields = ("access_key", "secret_key")
    assert [env_var("kling", f) for f in fields] == [
        "TAKESTOCK_KLING_ACCESS_KEY",
        "TAKESTOCK_KLING_SECRET_KEY",
    ]
    assert env_var(kling.id, "access_key") == f"{kling.env_prefix}_ACCESS_KEY"

    assert store.secrets_for("kling", fields) == {}
    store.set("kling", "access_key", "AK-0123456789abcdef")
    assert store.secrets_for("kling", fields) == {"access_key": "AK-0123456789abcdef"}
    store.set("kling", "secret_key", "SK-fedcba9876543210")
    assert store.secrets_for("kling", fields) == {
        "access_key": "AK-0123456789abcdef",
        "secret_key": "SK-fedcba9876543210",
    }
    mixed = CredentialStore(environ={"TAKESTOCK_KLING_ACCESS_KEY": "AK-from-env-000000"})
    assert mixed.secrets_for("kling", fields) == {
        "access_key": "AK-from-env-000000",
        "secret_key": "SK-fedcba9876543210",
    }
    assert mixed.source("kling", "access_key") == "environment"
    assert mixed.source("kling", "secret_key") == "keyring"


def test_locked_keyring_fails_clearly(
    secret_service: SecretServiceDaemon, store: CredentialStore
) -> None:
    """Locked for real: the unlock prompt cannot be shown here, so it is dismissed at once."""
    store.set("sandbox", "api_key", SECRET)
    secret_service.lock()
    assert secret_service.is_locked()
    for attempt in (
        lambda: store.get("sandbox"),
        lambda: store.source("sandbox", "api_key"),
        lambda: store.set("sandbox", "api_key", OTHER),
        lambda: store.delete("sandbox", "api_key"),
    ):
        with pytest.raises(SecretsUnavailable) as info:
            attempt()
        exc = info.value
        assert exc.title == "Keyring locked"
        assert "locked" in exc.message
        assert "Unlock" in exc.message
        assert "TAKESTOCK_SANDBOX_API_KEY" in exc.message
        assert SECRET not in str(exc)
        assert OTHER not in str(exc)
    # With the key in the environment, a locked keyring is not even asked.
    env_store = CredentialStore(environ={"TAKESTOCK_SANDBOX_API_KEY": "env-key-1234567890"})
    assert env_store.get("sandbox") == "env-key-1234567890"

    secret_service.unlock()
    assert store.get("sandbox") == SECRET  # the failed set stored nothing


def test_secret_service_gone(
    secret_service: SecretServiceDaemon,
    store: CredentialStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={secret_service.root}/no-bus")
    with pytest.raises(SecretsUnavailable) as info:
        store.get("sandbox")
    assert "did not answer" in info.value.message
    assert "TAKESTOCK_SANDBOX_API_KEY" in info.value.message


# --- refusals and failures -------------------------------------------------------------


def test_fail_backend_is_refused_with_what_to_do(store: CredentialStore) -> None:
    with use_keyring(keyring.backends.fail.Keyring()):
        for attempt in (
            lambda: store.get("sandbox"),
            lambda: store.set("sandbox", "api_key", SECRET),
            lambda: store.secrets_for("kling", ("access_key", "secret_key")),
        ):
            with pytest.raises(SecretsUnavailable) as info:
                attempt()
            message = info.value.message
            assert info.value.title == "No keyring available"
            assert "No usable keyring" in message
            assert "GNOME Keyring" in message or "Keychain" in message or "Windows" in message
            assert "TAKESTOCK_" in message
            assert SECRET not in str(info.value)
        with pytest.raises(SecretsUnavailable) as info:
            store.get("kling", "secret_key")
        assert "TAKESTOCK_KLING_SECRET_KEY" in info.value.message


def test_environment_needs_no_keyring() -> None:
    store = CredentialStore(
        environ={
            "TAKESTOCK_KLING_ACCESS_KEY": "AK-from-env-000000",
            "TAKESTOCK_KLING_SECRET_KEY": "SK-from-env-111111",
        }
    )
    with use_keyring(keyring.backends.fail.Keyring()):
        assert store.secrets_for("kling", ("access_key", "secret_key")) == {
            "access_key": "AK-from-env-000000",
            "secret_key": "SK-from-env-111111",
        }
        assert store.source("kling", "secret_key") == "environment"


def test_null_backend_is_refused(store: CredentialStore) -> None:
    with use_keyring(keyring.backends.null.Keyring()), pytest.raises(SecretsUnavailable) as info:
        store.set("sandbox", "api_key", SECRET)
    assert "null" in info.value.message


def test_plaintext_backend_is_refused(store: CredentialStore) -> None:
    ring = FakePlaintextKeyring()
    with use_keyring(ring):
        for attempt in (
            lambda: store.set("sandbox", "api_key", SECRET),
            lambda: store.get("sandbox"),
            lambda: store.delete("sandbox", "api_key"),
        ):
            with pytest.raises(SecretsUnavailable) as info:
                attempt()
            assert "keyrings.alt.file.PlaintextKeyring" in info.value.message
            assert "file" in info.value.message
    assert ring.store == {}  # nothing written, never a fall-back


class _Chainer(MemoryKeyring):
    """Shaped like keyring.backends.chainer.ChainerBackend: a list of backends."""

    def __init__(self, *backends: object) -> None:
        super().__init__()
        self.backends = list(backends)


_Chainer.__module__ = "keyring.backends.chainer"


def test_chainer_uses_its_best_trusted_backend_only(store: CredentialStore) -> None:
    plaintext, memory = FakePlaintextKeyring(), MemoryKeyring()
    with use_keyring(_Chainer(plaintext, memory)):
        store.set("sandbox", "api_key", SECRET)
    assert plaintext.store == {}
    assert memory.store == {(SERVICE, "sandbox/default/api_key"): SECRET}
    with use_keyring(_Chainer(plaintext)), pytest.raises(SecretsUnavailable):
        store.get("sandbox")


def test_locked_fake_keyring(store: CredentialStore) -> None:
    with use_keyring(LockedKeyring()), pytest.raises(SecretsUnavailable) as info:
        store.get("sandbox")
    assert info.value.title == "Keyring locked"


@pytest.mark.parametrize(
    "error",
    [
        KeyringError("org.freedesktop.DBus.Error.NoReply: no reply"),
        ConnectionRefusedError(111, "Connection refused"),
        type("DBusErrorResponse", (Exception,), {"__module__": "jeepney.wrappers"})("gone"),
        type("SecretServiceNotAvailableException", (Exception,), {"__module__": "secretstorage"})(),
    ],
    ids=["keyring", "os", "jeepney", "secretstorage"],
)
def test_backend_failures_become_secrets_unavailable(
    store: CredentialStore, error: BaseException
) -> None:
    with use_keyring(FailingKeyring(error)), pytest.raises(SecretsUnavailable) as info:
        store.get("sandbox")
    assert "did not answer" in info.value.message
    assert type(error).__name__ in info.value.message
    assert isinstance(info.value.__cause__, type(error))


def test_programming_errors_are_not_disguised(store: CredentialStore) -> None:
    with use_keyring(FailingKeyring(TypeError("a bug"))), pytest.raises(TypeError):
        store.get("sandbox")


def test_secret_never_appears_in_errors_or_logs(
    store: CredentialStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for secret in (SECRET, "abc12"):  # a short one too, below the log registry's minimum
        ring = FailingKeyring(KeyringError(f"could not store {secret!s} in collection"))
        with use_keyring(ring), pytest.raises(SecretsUnavailable) as info:
            store.set("sandbox", "api_key", secret)
        assert secret not in str(info.value)
        assert secret not in info.value.message
        assert secret not in info.value.title
        for record in caplog.records:
            assert secret not in record.getMessage()


# --- in memory -------------------------------------------------------------------------


def test_memory_keyring_round_trip(memory_keyring: MemoryKeyring, store: CredentialStore) -> None:
    store.set("fal", "api_key", "fal_0123456789:abcdef", account="personal")
    assert memory_keyring.store == {(SERVICE, "fal/personal/api_key"): "fal_0123456789:abcdef"}
    assert store.get("fal", account="personal") == "fal_0123456789:abcdef"
    assert store.get("fal") is None


def test_backend_is_taken_at_call_time(store: CredentialStore) -> None:
    first, second = MemoryKeyring(), MemoryKeyring()
    with use_keyring(first):
        store.set("sandbox", "api_key", SECRET)
    with use_keyring(second):
        assert store.get("sandbox") is None
        store.set("sandbox", "api_key", OTHER)
    assert first.store != second.store


def test_fetched_secrets_are_scrubbed_from_logs(
    memory_keyring: MemoryKeyring, store: CredentialStore
) -> None:
    fetched = "plain-looking-value-271828"
    memory_keyring.set_password(SERVICE, "sandbox/default/api_key", fetched)
    assert store.get("sandbox") == fetched
    assert redact(f"oops: {fetched}") == f"oops: {REDACTED}"
    env_value = "env-looking-value-314159"
    CredentialStore(environ={"TAKESTOCK_X_API_KEY": env_value}).get("x")
    assert redact(env_value) == REDACTED


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.get("", "api_key"), "vendor"),
        (lambda s: s.get("kling", "api key"), "field"),
        (lambda s: s.get("kling", "api_key", "a/b"), "account"),
        (lambda s: s.get("kling", "api_key", ""), "account"),
        (lambda s: s.set("kling", "api_key", "   "), "secret"),
        (lambda s: s.set("kling", "api_key", "abc\ndef-123456"), "secret"),
    ],
)
def test_invalid_input(memory_keyring: MemoryKeyring, call: object, field: str) -> None:
    store = CredentialStore(environ={})
    with pytest.raises(InvalidInput) as info:
        call(store)  # type: ignore[operator]
    assert info.value.field == field
    assert memory_keyring.store == {}


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("", "••••••••"),
        ("short", "••••••••"),
        ("elevenchars", "••••••••"),
        ("twelve-chars", "…hars"),
        ("sk-proj-0123456789abcdef9f3c", "sk-…9f3c"),
        ("r8_0123456789abcdefghij", "r8_…ghij"),
        ("0123456789abcdef0123456789", "…6789"),
    ],
)
def test_mask(secret: str, shown: str) -> None:
    assert mask(secret) == shown
    if len(secret) >= 12:
        assert secret[:-4] not in mask(secret)


@pytest.fixture(autouse=True)
def _no_stray_backend() -> Iterator[None]:
    """Every test leaves keyring's backend as it found it."""
    before = keyring.core._keyring_backend
    yield
    assert keyring.core._keyring_backend is before
