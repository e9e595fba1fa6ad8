"""pytest plugin: a real, private Secret Service for keyring tests, and an in-memory keyring.

``secret_service_daemon`` (session) starts a private D-Bus session bus and
``gnome-keyring-daemon --unlock --components=secrets`` on it, with a fresh HOME, XDG
folders and XDG_RUNTIME_DIR (0700) under a temporary folder, so nothing touches the
user's own keyring or session. The bus is started from a minimal configuration with no
service activation, so nothing else can be spawned on it: no second keyring daemon, and
no unlock prompter (an unlock request is dismissed at once instead of waiting for a
person). Both daemons are children of this process, die with it (PR_SET_PDEATHSIG) and
are stopped and reaped at the end of the session; anything left on the bus is killed by
pid. It skips only when ``dbus-daemon`` or ``gnome-keyring-daemon`` is not installed
(CI installs both: ``scripts/system-deps.sh test``).

``secret_service`` (per test) points ``DBUS_SESSION_BUS_ADDRESS`` at that bus and
``keyring`` at its SecretService backend, and puts both back afterwards; it also
unlocks the collection again and deletes the ``takestock`` items a test left behind.

``memory_keyring`` (per test) installs a :class:`tests.secrets_support.MemoryKeyring`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend

from tests.secrets_support import MemoryKeyring

__all__ = [
    "SecretServiceDaemon",
    "memory_keyring",
    "secret_service",
    "secret_service_daemon",
    "use_keyring",
]

PASSWORD = "takestock-test-keyring-password"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
SECRETS_PATH = "/org/freedesktop/secrets"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0

# No <servicedir>: nothing is activated on this bus, ever.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Variables of the user's own session that must not reach the private daemons.
_SESSION_VARIABLES = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "GNOME_KEYRING_CONTROL",
    "SSH_AUTH_SOCK",
    "XDG_SESSION_ID",
)


@contextlib.contextmanager
def use_keyring(ring: KeyringBackend) -> Iterator[KeyringBackend]:
    """Make ``ring`` keyring's backend for a while, then restore exactly what was there.

    keyring keeps its backend in ``keyring.core._keyring_backend``, None until it has
    detected one; restoring that (rather than calling ``get_keyring()`` first) neither
    triggers a detection nor leaves a detected backend behind.
    """
    previous = keyring.core._keyring_backend
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.core._keyring_backend = previous


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when this process dies (Linux).

    prctl is looked up here, in the parent: the hook runs between fork and exec, where
    loading a library could deadlock on a lock held by another thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:  # pragma: no cover - runs in the child
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


@dataclass
class SecretServiceDaemon:
    """A running private bus and gnome-keyring-daemon.

    Attributes:
        address: the bus address (``unix:path=…``) for DBUS_SESSION_BUS_ADDRESS.
        root: the temporary folder holding home/ and the daemons' logs.
        runtime_dir: the XDG_RUNTIME_DIR given to the daemons (0700).
        password: the login keyring's password.
    """

    address: str
    root: Path
    runtime_dir: Path
    password: str = PASSWORD
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    # --- talking to the service directly (not through keyring) ---

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A secretstorage-ready D-Bus connection to the private bus."""
        from jeepney.io.blocking import open_dbus_connection
        from secretstorage.util import add_match_rules

        conn = open_dbus_connection(bus=self.address)
        try:
            add_match_rules(conn)
            yield conn
        finally:
            conn.close()

    def collection(self, conn: Any) -> Any:
        import secretstorage

        return secretstorage.Collection(conn, LOGIN_COLLECTION)

    def is_locked(self) -> bool:
        with self.connection() as conn:
            return bool(self.collection(conn).is_locked())

    def lock(self) -> None:
        """Lock the login collection, as a screen lock or a timeout would."""
        with self.connection() as conn:
            self.collection(conn).lock()

    def unlock(self) -> None:
        """Unlock the login collection with its password, no prompt needed.

        Uses gnome-keyring's own ``UnlockWithMasterPassword`` (Secret Service's
        ``Unlock`` would need a prompter, which this bus deliberately lacks).
        """
        from secretstorage.util import DBusAddressWrapper, format_secret, open_session

        with self.connection() as conn:
            session = open_session(conn)
            internal = DBusAddressWrapper(
                SECRETS_PATH, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", conn
            )
            internal.call(
                "UnlockWithMasterPassword",
                "o(oayays)",
                LOGIN_COLLECTION,
                format_secret(session, self.password.encode(), "text/plain"),
            )
            if self.collection(conn).is_locked():
                raise RuntimeError("the test keyring did not unlock")

    def delete_items(self, service: str) -> int:
        """Delete every item keyring stored for ``service``; how many there were."""
        with self.connection() as conn:
            items = list(self.collection(conn).search_items({"service": service}))
            for item in items:
                item.delete()
            return len(items)

    # --- life cycle ---

    def logs(self) -> str:
        texts = []
        for path in sorted(self.root.glob("*.log")):
            texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(texts)

    def stop(self) -> None:
        """Stop both daemons (keyring first), reap them, and kill anything left on the bus."""
        for proc in reversed(self.processes):
            _stop(proc)
        for pid in _processes_using(self.address):
            _kill_pid(pid)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _processes_using(address: str) -> list[int]:
    """Pids of processes whose environment names this private bus (Linux /proc)."""
    needle = f"DBUS_SESSION_BUS_ADDRESS={address}".encode()
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _kill_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)


def _read_address(bus: subprocess.Popen[str], deadline: float) -> str:
    assert bus.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(bus.stdout, selectors.EVENT_READ)
        if not selector.select(max(0.0, deadline - time.monotonic())):
            raise TimeoutError("dbus-daemon printed no address")
    address = bus.stdout.readline().strip()
    if not address:
        raise RuntimeError(f"dbus-daemon exited ({bus.poll()}) without an address")
    return address


def _wait_until_ready(daemon: SecretServiceDaemon, keyring_proc: subprocess.Popen[str]) -> None:
    """Wait for the service's name on the bus and an unlocked login collection.

    Only NameHasOwner is asked, which never activates anything.
    """
    from jeepney import DBus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    deadline = time.monotonic() + START_TIMEOUT_S
    with open_dbus_connection(bus=daemon.address) as conn:
        bus = Proxy(DBus(), conn, timeout=START_TIMEOUT_S)
        while not bus.NameHasOwner(SECRETS_BUS_NAME)[0]:
            if keyring_proc.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited ({keyring_proc.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{SECRETS_BUS_NAME} did not appear on the bus")
            time.sleep(0.02)
    while True:
        try:
            if not daemon.is_locked():
                return
            problem = "the login collection is locked"
        except Exception as exc:  # the collection may not exist for a moment yet
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise TimeoutError(f"the login keyring is not ready: {problem}")
        time.sleep(0.02)


def _start(root: Path) -> SecretServiceDaemon:
    home = root / "home"
    home.mkdir()
    # Short, so that the socket path stays far below the 108-byte limit.
    runtime_dir = Path(tempfile.mkdtemp(prefix="ts-kr-"))
    runtime_dir.chmod(0o700)
    (runtime_dir / "bus.conf").write_text(_BUS_CONFIG.format(socket=runtime_dir / "bus"))

    env = {k: v for k, v in os.environ.items() if k not in _SESSION_VARIABLES}
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime_dir),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    daemon = SecretServiceDaemon(address="", root=root, runtime_dir=runtime_dir)
    die_with_parent = _die_with_parent_hook()
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        with open(root / "dbus-daemon.log", "w") as bus_log:
            bus = subprocess.Popen(
                [
                    "dbus-daemon",
                    f"--config-file={runtime_dir / 'bus.conf'}",
                    "--nofork",
                    "--print-address=1",
                ],
                stdout=subprocess.PIPE,
                stderr=bus_log,
                env=env,
                text=True,
                preexec_fn=die_with_parent,
            )
        daemon.processes.append(bus)
        daemon.address = env["DBUS_SESSION_BUS_ADDRESS"] = _read_address(bus, deadline)

        with open(root / "gnome-keyring-daemon.log", "w") as keyring_log:
            keyring_proc = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=keyring_log,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
                preexec_fn=die_with_parent,
            )
        daemon.processes.append(keyring_proc)
        assert keyring_proc.stdin is not None
        keyring_proc.stdin.write(daemon.password)  # --unlock reads it up to EOF
        keyring_proc.stdin.close()
        _wait_until_ready(daemon, keyring_proc)
    except BaseException as exc:
        daemon.stop()
        if isinstance(exc, Exception):
            raise RuntimeError(
                f"could not start the test Secret Service: {exc}\n{daemon.logs()}"
            ) from exc
        raise
    return daemon


@pytest.fixture(scope="session")
def secret_service_daemon(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecretServiceDaemon]:
    """A private D-Bus session bus with an unlocked GNOME Keyring on it, for the session."""
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed (apt-get install dbus-daemon gnome-keyring)"
        )
    daemon = _start(tmp_path_factory.mktemp("secret-service"))
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def secret_service(secret_service_daemon: SecretServiceDaemon) -> Iterator[SecretServiceDaemon]:
    """keyring on the private Secret Service for one test; everything restored after it."""
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    daemon = secret_service_daemon
    with _environ(DBUS_SESSION_BUS_ADDRESS=daemon.address), use_keyring(SecretServiceKeyring()):
        yield daemon
        if daemon.is_locked():
            daemon.unlock()
        daemon.delete_items("takestock")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An empty in-memory keyring as keyring's backend, for one test."""
    with use_keyring(MemoryKeyring()) as ring:
        assert isinstance(ring, MemoryKeyring)
        yield ring
