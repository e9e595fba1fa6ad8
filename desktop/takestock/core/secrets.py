"""Vendors' keys: from the environment, else from the OS keyring; never anywhere else.

A secret is looked up by vendor, field and account:

- the environment first, for the ``default`` account only:
  ``TAKESTOCK_<VENDOR>_<FIELD>`` (upper case, ``-`` as ``_``), e.g.
  ``TAKESTOCK_SANDBOX_API_KEY``, ``TAKESTOCK_KLING_ACCESS_KEY``; an empty variable
  counts as unset;
- then the OS keyring through ``keyring`` (macOS Keychain, Windows Credential Locker,
  Secret Service: GNOME Keyring or KWallet), service ``takestock``, username
  ``<vendor>/<account>/<field>``.

The backend is taken from ``keyring.get_keyring()`` at each call, so a test can swap it
with ``keyring.set_keyring``. A backend that would not keep a secret safely, or at all,
is refused with :class:`~takestock.core.errors.SecretsUnavailable` and a message saying
what to do: keyring's ``fail`` and ``null`` backends, any ``keyrings.alt`` backend and
any plain-text or file backend. Errors while talking to the keyring (locked, D-Bus gone,
access denied) become ``SecretsUnavailable`` too. There is no fall-back to plain-text
storage or to the database (STYLE.md item 10).

No secret value appears in an exception's message or in a log line: every value this
module hands out or stores is registered with :func:`takestock.core.logs.register_secret`
so that the log formatter scrubs it wherever it shows up.

Reads may block while the OS asks the user to unlock the keyring (a desktop prompt):
the GUI calls this off its UI thread.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Literal, TypeVar

from takestock.core.errors import InvalidInput, SecretsUnavailable
from takestock.core.logs import redact, register_secret

if TYPE_CHECKING:
    # keyring (~15-50 ms with its entry points) is imported by the calls that reach the
    # keyring: a key in the environment, or a command that needs none, never loads it.
    from keyring.backend import KeyringBackend

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_FIELD",
    "SERVICE",
    "CredentialStore",
    "SecretSource",
    "check_secret_text",
    "env_var",
    "mask",
]

SERVICE = "takestock"
DEFAULT_ACCOUNT = "default"
DEFAULT_FIELD = "api_key"

SecretSource = Literal["environment", "keyring"]

_T = TypeVar("_T")
log = logging.getLogger(__name__)

#: Top-level packages whose exceptions mean "the keyring's transport failed".
_BACKEND_PACKAGES = frozenset(
    {"keyring", "secretstorage", "jeepney", "dbus", "_dbus_bindings", "gi", "win32ctypes"}
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_MASK = "••••••••"
_KEY_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{0,3}[-_]")


def env_var(vendor_id: str, field: str = DEFAULT_FIELD) -> str:
    """The environment variable that holds ``field`` of the vendor's default account."""
    return f"TAKESTOCK_{vendor_id}_{field}".upper().replace("-", "_")


def mask(secret: str) -> str:
    """A secret as a UI may show it: ``sk-…9f3c``; fully masked under 12 characters.

    At most the last 4 characters are shown, after a short vendor prefix (``sk-``,
    ``r8_``, ``fal_``) for keys of 20 characters or more.
    """
    secret = secret.strip()
    if len(secret) < 12:
        return _MASK
    prefix = _KEY_PREFIX.match(secret)
    shown = prefix.group() if prefix and len(secret) >= 20 else ""
    return f"{shown}…{secret[-4:]}"


class CredentialStore:
    """Reads and writes vendors' secrets; see the module docstring for where they live.

    Attributes:
        environ: the environment consulted first (``os.environ`` unless given).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        # Some backends (D-Bus connections, prompts) are not safe to drive from several
        # threads at once; the engine thread and the UI may both ask.
        self._lock = threading.RLock()

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    # --- reading --------------------------------------------------------------------

    def get(
        self, vendor_id: str, field: str = DEFAULT_FIELD, account: str = DEFAULT_ACCOUNT
    ) -> str | None:
        """The secret, or None when it is set nowhere.

        Raises:
            SecretsUnavailable: it is not in the environment and the keyring is missing,
                locked, unsafe or failing.
        """
        return self.secrets_for(vendor_id, (field,), account).get(field)

    def secrets_for(
        self, vendor_id: str, fields: Sequence[str], account: str = DEFAULT_ACCOUNT
    ) -> dict[str, str]:
        """The fields of ``fields`` that are set, by field name.

        The keyring is asked only for the fields the environment does not provide, so
        scripts and CI with every key in the environment never need a keyring.

        Raises:
            SecretsUnavailable: as :meth:`get`.
        """
        _check_names(vendor_id, account, *fields)
        found: dict[str, str] = {}
        missing: list[str] = []
        for field in fields:
            value = self._from_environment(vendor_id, field, account)
            if value is None:
                missing.append(field)
            else:
                found[field] = value
        if missing:
            env_names = _env_names(vendor_id, missing, account)
            with self._lock:
                ring = self._backend(env_names)
                for field in missing:
                    username = _username(vendor_id, account, field)
                    value = self._call(partial(ring.get_password, SERVICE, username), env_names)
                    if value:
                        found[field] = value
        for value in found.values():
            register_secret(value)
        return found

    def source(
        self, vendor_id: str, field: str = DEFAULT_FIELD, account: str = DEFAULT_ACCOUNT
    ) -> SecretSource | None:
        """Where the secret would come from, without handing it out; None when unset.

        Raises:
            SecretsUnavailable: it is not in the environment and the keyring cannot be
                read (``takestock vendors`` shows the message instead of a state).
        """
        _check_names(vendor_id, account, field)
        if self._from_environment(vendor_id, field, account) is not None:
            return "environment"
        env_names = _env_names(vendor_id, [field], account)
        with self._lock:
            ring = self._backend(env_names)
            value = self._call(
                lambda: ring.get_password(SERVICE, _username(vendor_id, account, field)),
                env_names,
            )
        if not value:
            return None
        register_secret(value)
        return "keyring"

    def backend_name(self) -> str:
        """The keyring backend in use, for diagnostics (``takestock vendors``).

        Raises:
            SecretsUnavailable: no usable keyring.
        """
        with self._lock:
            return _describe(self._backend(()))

    # --- writing --------------------------------------------------------------------

    def set(self, vendor_id: str, field: str, secret: str, account: str = DEFAULT_ACCOUNT) -> None:
        """Store ``secret`` in the keyring, replacing any earlier value.

        Surrounding white space (a pasted line break) is dropped.

        Raises:
            InvalidInput: the secret is empty or holds a line break or control character.
            SecretsUnavailable: no usable keyring; nothing was stored anywhere.
        """
        _check_names(vendor_id, account, field)
        secret = secret.strip()
        if not secret:
            raise InvalidInput("secret", "is empty; paste the key itself")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in secret):
            raise InvalidInput(
                "secret", "holds a line break or control character; paste the key alone"
            )
        # Settings and `keys set` alike: a key no HTTP header can carry is refused here,
        # not found out when a job's request cannot be encoded.
        check_secret_text(secret, "secret")
        register_secret(secret)
        env_names = _env_names(vendor_id, [field], account)
        with self._lock:
            ring = self._backend(env_names)
            username = _username(vendor_id, account, field)
            self._call(lambda: ring.set_password(SERVICE, username, secret), env_names, secret)
        if self._from_environment(vendor_id, field, account) is not None:
            log.warning(
                "%s is set in the environment and is used instead of the key just stored",
                env_names[0],
            )

    def delete(self, vendor_id: str, field: str, account: str = DEFAULT_ACCOUNT) -> bool:
        """Remove the secret from the keyring; False when there was none there.

        The environment is not touched (a variable set there still applies).

        Raises:
            SecretsUnavailable: no usable keyring.
        """
        import keyring.errors  # see the note on the imports

        _check_names(vendor_id, account, field)
        env_names = _env_names(vendor_id, [field], account)
        username = _username(vendor_id, account, field)
        with self._lock:
            ring = self._backend(env_names)

            def remove() -> bool:
                if ring.get_password(SERVICE, username) is None:
                    return False
                try:
                    ring.delete_password(SERVICE, username)
                except keyring.errors.PasswordDeleteError:
                    return False  # gone in between
                return True

            return self._call(remove, env_names)

    # --- the backend ----------------------------------------------------------------

    def _from_environment(self, vendor_id: str, field: str, account: str) -> str | None:
        if account != DEFAULT_ACCOUNT:
            return None
        value = self.environ.get(env_var(vendor_id, field), "").strip()
        return value or None

    def _backend(self, env_names: Sequence[str]) -> KeyringBackend:
        """The current keyring backend, if it is one we trust with a secret."""
        import keyring  # see the note on the imports

        try:
            ring = keyring.get_keyring()
        except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND or keyringrc.cfg
            raise _unavailable(
                f"The keyring could not be loaded ({_describe_error(exc)})", env_names
            ) from exc
        chained = getattr(ring, "backends", None)
        if _is_chainer(ring) and isinstance(chained, list | tuple):
            # keyring's chainer also reads from every lower-priority backend, plain-text
            # ones included: use the best backend we trust, directly.
            trusted = [b for b in chained if _refusal(b) is None]
            if trusted:
                return trusted[0]  # type: ignore[no-any-return]
            reason = _refusal(chained[0]) if chained else None
            raise _unavailable(reason or "No usable keyring backend is available", env_names)
        reason = _refusal(ring)
        if reason is not None:
            log.info("refusing keyring backend %s", _describe(ring))
            raise _unavailable(reason, env_names)
        return ring

    def _call(self, operation: Callable[[], _T], env_names: Sequence[str], hide: str = "") -> _T:
        """Run one keyring operation, turning the backend's failures into our error.

        ``hide`` is the secret being stored, kept out of the error's text even where
        it is too short for the log registry.
        """
        import keyring.errors  # see the note on the imports

        try:
            return operation()
        except Exception as exc:
            if not _is_backend_error(exc):
                raise
            if isinstance(exc, keyring.errors.KeyringLocked):
                raise _unavailable("The system keyring is locked", env_names, locked=True) from exc
            if isinstance(exc, keyring.errors.NoKeyringError):
                raise _unavailable("No usable keyring backend is available", env_names) from exc
            what = _describe_error(exc, hide)
            log.warning("keyring operation failed: %s", what)
            raise _unavailable(f"The system keyring did not answer ({what})", env_names) from exc


# --- helpers ------------------------------------------------------------------------


def check_secret_text(secret: str, field: str, *, multiline: bool = False) -> str:
    """``secret`` if it is plain ASCII text, as vendors' keys are and as HTTP headers
    need; else InvalidInput naming the position, never the key.

    The keyring itself holds any text; this is asked where a key comes in for a vendor
    (``takestock keys set``, the environment) so a key no vendor could take is refused
    before a job is recorded, not found out when its request cannot be encoded.
    ``multiline`` allows line breaks and tabs (a service account's JSON).
    """
    allowed = "\n\r\t" if multiline else ""
    for index, char in enumerate(secret):
        if not (" " <= char < "\x7f" or char in allowed):
            raise InvalidInput(
                field,
                f"character {index + 1} of the key is not plain ASCII text (a key is "
                "letters, digits and punctuation); nothing was stored or sent",
            )
    return secret


def _check_names(vendor_id: str, account: str, *fields: str) -> None:
    for kind, value in (("vendor", vendor_id), *(("field", f) for f in fields)):
        if not _NAME.fullmatch(value):
            raise InvalidInput(kind, f"{value!r} is not a valid name (letters, digits, _ and -)")
    if (
        not account
        or account != account.strip()
        or "/" in account
        or len(account) > 200
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in account)
    ):
        raise InvalidInput("account", f"{account!r} is not a valid account name (no '/')")


def _username(vendor_id: str, account: str, field: str) -> str:
    return f"{vendor_id}/{account}/{field}"


def _env_names(vendor_id: str, fields: Sequence[str], account: str) -> list[str]:
    return [env_var(vendor_id, f) for f in fields] if account == DEFAULT_ACCOUNT else []


def _describe(ring: object) -> str:
    cls = type(ring)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe_error(exc: BaseException, hide: str = "") -> str:
    text = str(exc)
    if hide:
        text = text.replace(hide, "[redacted]")
    text = redact(text).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_chainer(ring: KeyringBackend) -> bool:
    return type(ring).__module__ == "keyring.backends.chainer"


def _refusal(ring: object) -> str | None:
    """Why a backend is not trusted with a secret, or None when it is."""
    cls = type(ring)
    module = cls.__module__.lower()
    name = cls.__name__.lower()
    parts = module.split(".")
    if module == "keyring.backends.fail":
        return "No usable keyring backend is available"
    if module == "keyring.backends.null":
        return "The keyring is switched off (keyring's null backend keeps nothing)"
    if (
        parts[:2] == ["keyrings", "alt"]
        or "plaintext" in name
        or any("plaintext" in p or "file" in p for p in parts)
        or "file" in name
    ):
        return f"The keyring backend {_describe(ring)} keeps secrets in a file, not a keyring"
    return None


def _is_backend_error(exc: BaseException) -> bool:
    import keyring.errors  # see the note on the imports

    if isinstance(exc, keyring.errors.KeyringError | OSError):
        return True
    return any(klass.__module__.split(".")[0] in _BACKEND_PACKAGES for klass in type(exc).__mro__)


#: What to do when no keyring works, by ``sys.platform`` (anything else: Linux and BSDs).
_INSTALL_HINTS = {
    "darwin": "Make sure the macOS Keychain is available and unlocked, then try again",
    "win32": "Make sure Windows Credential Manager is available, then try again",
}
_INSTALL_HINT_OTHER = (
    "Install and unlock an OS keyring in your desktop session (GNOME Keyring, or KWallet), "
    "then try again"
)
_UNLOCK_HINTS = {"darwin": "Unlock the login keychain and try again"}
_UNLOCK_HINT_OTHER = (
    "Unlock it (GNOME Keyring: the 'Login' keyring in Passwords and Keys; "
    "KWallet: KWalletManager) and try again"
)


def _hint(locked: bool) -> str:
    if locked:
        return _UNLOCK_HINTS.get(sys.platform, _UNLOCK_HINT_OTHER)
    return _INSTALL_HINTS.get(sys.platform, _INSTALL_HINT_OTHER)


def _unavailable(
    problem: str, env_names: Sequence[str], *, locked: bool = False
) -> SecretsUnavailable:
    message = f"{problem}. {_hint(locked)}"
    if env_names:
        message += f"; or set {' and '.join(env_names)} in the environment"
    message += ". Takestock never stores keys in a plain file."
    return SecretsUnavailable(message, title="Keyring locked" if locked else None)
