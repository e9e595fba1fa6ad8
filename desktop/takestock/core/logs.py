"""Logging that never writes a secret: redaction of known secrets and credential shapes.

Vendors' keys, signed result URLs and JWTs pass through the engine all day; any of them
can end up in a log line or an exception's text (httpx puts full URLs in its messages).
Everything Takestock writes to its log goes through :func:`redact`, which replaces:

- every value registered with :func:`register_secret` (``CredentialStore`` registers
  every secret it hands out or stores), wherever it occurs, including its URL-encoded
  and JSON-escaped forms; values shorter than 6 characters are ignored so that a
  stray short value cannot wreck every line;
- header values: ``Authorization``, ``Proxy-Authorization``, ``x-api-key``,
  ``x-goog-api-key``, ``api-key`` and ``x-auth-token``, in HTTP, dict and tuple
  notation, and scheme tokens (``Bearer xxx``; ``Token xxx``, ``Key xxx`` and
  ``Basic xxx`` when ``xxx`` looks like a credential: 8 or more characters with a
  digit);
- every URL's query string and fragment (``?[redacted]``; signed URLs carry their
  credentials there) and any user-info (``https://[redacted]@host``);
- JWT-shaped tokens (``eyJ…`` header, payload and signature);
- values of credential-named fields (``api_key=…``, ``"secret_key": "…"``,
  ``password``, ``token``, ``signature``, …).

Which piece to use:

- the app installs its handlers through :func:`setup_logging`, each with a
  :class:`RedactingFormatter`: it scrubs the record (message with its arguments,
  exception text, stack) and then the whole formatted line, so nothing a format string
  adds can leak either;
- :class:`RedactingFilter` is for a handler whose formatter is not ours (a Qt log view,
  pytest's ``caplog``, a ``QueueHandler`` that passes records on): put it on that
  handler and the record it sees is already clean.

The registry of secrets is module-level on purpose: logging is process-global, and a
value fetched anywhere must be scrubbed from every handler. ``SecretRegistry`` can
also be given explicitly to the filter and formatter (tests do).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable
from io import TextIOWrapper
from pathlib import Path
from urllib.parse import quote, quote_plus

__all__ = [
    "LOG_FILE",
    "REDACTED",
    "RedactingFilter",
    "RedactingFormatter",
    "SecretRegistry",
    "redact",
    "register_secret",
    "setup_logging",
]

REDACTED = "[redacted]"
LOG_FILE = "takestock.log"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 3
#: Registered values shorter than this are ignored: "abc" would be scrubbed everywhere.
MIN_SECRET_LENGTH = 6

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
_HANDLER_PREFIX = "takestock-"
_NOISY_LOGGERS = ("httpx", "httpcore")
#: Passes over a text before giving up on it (see ``SecretRegistry.scrub``).
_MAX_PASSES = 8
_WITHHELD = "[redacted: log text withheld]"


class SecretRegistry:
    """The secret values to scrub from logs; thread-safe, append-only in the app.

    Attributes:
        min_length: shorter values are ignored by :meth:`register`.
    """

    def __init__(self, min_length: int = MIN_SECRET_LENGTH) -> None:
        self.min_length = min_length
        self._lock = threading.Lock()
        self._values: set[str] = set()
        # Longest first, replaced as a whole tuple so readers never need the lock.
        self._ordered: tuple[str, ...] = ()

    def register(self, value: str) -> None:
        """Scrub ``value`` (and its URL-encoded and JSON-escaped forms) from now on."""
        value = value.strip()
        # A value inside the marker would be re-created by its own replacement.
        if len(value) < self.min_length or value in REDACTED:
            return
        forms = {
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value, ensure_ascii=False)[1:-1],
            json.dumps(value)[1:-1],
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            self._ordered = tuple(sorted(self._values, key=len, reverse=True))

    def clear(self) -> None:
        """Forget every value (for tests; the app never forgets a secret it has seen)."""
        with self._lock:
            self._values.clear()
            self._ordered = ()

    def __len__(self) -> int:
        return len(self._ordered)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def scrub(self, text: str) -> str:
        """Replace every occurrence of every registered value with ``[redacted]``.

        Overlapping occurrences are merged into one marker. A replacement can in
        principle create a new occurrence across the marker's edge (a secret ending in
        ``d]``), so this repeats until none is left; a text that still holds a secret
        after a few passes is withheld whole rather than written.
        """
        values = self._ordered
        if not values or not text:
            return text
        for _ in range(_MAX_PASSES):
            spans = _occurrences(text, values)
            if not spans:
                return text
            text = _replace_spans(text, spans)
        return text if not _occurrences(text, values) else _WITHHELD


def _occurrences(text: str, values: tuple[str, ...]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for value in values:
        start = text.find(value)
        while start != -1:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]]) -> str:
    spans.sort()
    out: list[str] = []
    pos = 0
    run_start, run_end = spans[0]
    for start, end in spans[1:]:
        if start <= run_end:
            run_end = max(run_end, end)
            continue
        out += (text[pos:run_start], REDACTED)
        pos = run_end
        run_start, run_end = start, end
    out += (text[pos:run_start], REDACTED, text[run_end:])
    return "".join(out)


_registry = SecretRegistry()


def register_secret(value: str) -> None:
    """Scrub ``value`` from every log line from now on (values under 6 chars are ignored)."""
    _registry.register(value)


# --- credential shapes --------------------------------------------------------------

_NOT_DONE = r"(?!\[redacted\])"
_TOKEN_CHARS = r"[A-Za-z0-9._~+/=:\-]"

_URL = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)"
    r"(?P<userinfo>[^\s/?#@\"'<>\\]+@)?"
    r"(?P<rest>[^\s?#\"'<>\\]*)"
    r"(?P<query>[?#][^\s\"'<>\\]*)?"
)

_HEADER_NAMES = (
    r"(?:proxy-)?authorization|x-api-key|x-goog-api-key|api-key|x-auth-token|x-access-token"
)
_HEADER = re.compile(
    rf"(?P<name>\b(?:{_HEADER_NAMES}))"
    # `Name: v`, `name=v`, `'name': 'v'` and `('name', 'v')`
    r"(?P<sep>(?:[\"']\s*[:=,]|\s*[:=])\s*(?P<q>[\"'])?)"
    rf"{_NOT_DONE}"
    # possessive: "Bearer [redacted]" must not match again with "Bearer" as the value
    r"(?:(?P<scheme>bearer|basic|token|key|digest|jwt|apikey)\s+)?+"
    rf"{_NOT_DONE}"
    r"(?P<value>(?(q)[^\"'\r\n]+|[^\s\"',;}\])>]+))",
    re.IGNORECASE,
)

_BEARER = re.compile(rf"\b(?P<scheme>bearer)\s+{_NOT_DONE}{_TOKEN_CHARS}+", re.IGNORECASE)
# Case-sensitive, and only credential-looking values: "Key points" stays as it is.
_SCHEME_TOKEN = re.compile(
    rf"\b(?P<scheme>Token|Key|Basic)\s+{_NOT_DONE}(?={_TOKEN_CHARS}*\d){_TOKEN_CHARS}{{8,}}"
)

_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")

_FIELD_NAMES = (
    r"api[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret|secret|password|passwd"
    r"|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|token|signature|sig"
)
_FIELD = re.compile(
    rf"(?P<name>\b(?:{_FIELD_NAMES})\b)"
    r"(?P<sep>[\"']?\s*[:=]\s*(?P<q>[\"'])?)"
    rf"{_NOT_DONE}"
    r"(?P<value>(?(q)[^\"'\r\n]+|[^\s\"',;&}\])>]+))",
    re.IGNORECASE,
)


def _url(match: re.Match[str]) -> str:
    userinfo = f"{REDACTED}@" if match["userinfo"] else ""
    query = match["query"] or ""
    if len(query) > 1:
        query = query[0] + REDACTED
    return f"{match['scheme']}{userinfo}{match['rest']}{query}"


def _header(match: re.Match[str]) -> str:
    scheme = f"{match['scheme']} " if match["scheme"] else ""
    return f"{match['name']}{match['sep']}{scheme}{REDACTED}"


def _scheme(match: re.Match[str]) -> str:
    return f"{match['scheme']} {REDACTED}"


def _field(match: re.Match[str]) -> str:
    return f"{match['name']}{match['sep']}{REDACTED}"


def redact(
    text: str, registry: SecretRegistry | None = None, *, secrets: Iterable[str] = ()
) -> str:
    """``text`` with every registered secret and credential shape replaced.

    ``secrets`` are scrubbed as well, registered or not (the engine passes the keys of
    a job's account and the tokens signed from them, so a vendor's error text that
    quotes them is clean before it is stored or shown). Idempotent: redacting redacted
    text changes nothing. Used by the log formatter and filter, by the engine for every
    vendor error it keeps, and by the CLI for error messages it prints.
    """
    reg = _registry if registry is None else registry
    extra = [s for s in secrets if s]
    if extra:
        own = SecretRegistry(reg.min_length)
        for value in extra:
            own.register(value)
        text = own.scrub(text)
    text = reg.scrub(text)
    text = _URL.sub(_url, text)
    text = _HEADER.sub(_header, text)
    text = _BEARER.sub(_scheme, text)
    text = _SCHEME_TOKEN.sub(_scheme, text)
    text = _JWT.sub(REDACTED, text)
    text = _FIELD.sub(_field, text)
    # A pattern's replacement could, at worst, complete a registered value again.
    return reg.scrub(text)


# --- logging ---------------------------------------------------------------------------


def _scrub_record(record: logging.LogRecord, registry: SecretRegistry | None) -> None:
    """Redact a record in place: the final message, exception text and stack."""
    try:
        message = record.getMessage()
    except Exception:  # bad format arguments: never let logging print them raw
        message = f"{record.msg} [unformattable log arguments withheld]"
    record.msg = redact(message, registry)
    record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, registry)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, registry)


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no secret reaches a handler; never drops a record.

    The format arguments are applied first, the redacted result replaces ``record.msg``
    and ``record.args`` is cleared; exception text and stack info are redacted too.
    Put it on a handler (a filter on a logger does not see records from child loggers).
    """

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self._registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record, self._registry)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line is redacted; the one Takestock's handlers use.

    It scrubs the record itself (as :class:`RedactingFilter` does), then redacts the
    whole formatted output, so anything the format string adds is covered as well.
    """

    def __init__(
        self,
        fmt: str | None = _FORMAT,
        datefmt: str | None = None,
        *,
        registry: SecretRegistry | None = None,
    ) -> None:
        super().__init__(fmt, datefmt)
        self._registry = registry

    def format(self, record: logging.LogRecord) -> str:
        _scrub_record(record, self._registry)
        return redact(super().format(record), self._registry)

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        # The base class caches this on the record (exc_text): cache it redacted.
        return redact(super().formatException(ei), self._registry)

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info), self._registry)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file readable by its owner only (0600), rotations included."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # Rotation needs append mode, which RotatingFileHandler enforces anyway.
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(
    log_dir: Path,
    *,
    level: int = logging.INFO,
    stderr: bool = False,
    quiet_http: bool = True,
) -> None:
    """Send the process's logs to ``log_dir/takestock.log`` (5 MB x 3), redacted.

    Installs on the root logger a rotating file handler and, with ``stderr``, a stderr
    handler, both with a :class:`RedactingFormatter`. Idempotent: handlers installed by
    an earlier call are removed and closed first, so calling it again reconfigures
    rather than doubling every line. With ``quiet_http`` (the default) httpx and
    httpcore log at WARNING and above only: at INFO httpx logs every request's URL.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if (handler.name or "").startswith(_HANDLER_PREFIX):
            root.removeHandler(handler)
            handler.close()

    file_handler = _PrivateRotatingFileHandler(
        log_dir / LOG_FILE,
        maxBytes=LOG_MAX_BYTES,
        backupCount=LOG_BACKUPS,
        encoding="utf-8",
        errors="backslashreplace",
    )
    file_handler.set_name(_HANDLER_PREFIX + "file")
    file_handler.setFormatter(RedactingFormatter())
    root.addHandler(file_handler)

    if stderr:
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.set_name(_HANDLER_PREFIX + "stderr")
        stream_handler.setFormatter(RedactingFormatter())
        root.addHandler(stream_handler)

    root.setLevel(level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet_http else logging.NOTSET)
