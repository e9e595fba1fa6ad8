"""Redaction of secrets and credential shapes in logs (takestock.core.logs)."""

from __future__ import annotations

import io
import logging
import logging.handlers
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takestock.core import logs
from takestock.core.logs import (
    REDACTED,
    RedactingFilter,
    RedactingFormatter,
    SecretRegistry,
    redact,
    register_secret,
    setup_logging,
)

SIGNED_URL = (
    "https://cdn.example.com/out/a.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Signature=8f3c0d9e7a6b5c4d3e2f1a0b9c8d7e6f"
)
BEARER_TOKEN = "tok_live_4f9a8b7c6d5e"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhayIsImV4cCI6MTcwMH0.c2lnbmF0dXJlLXNpZw"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"GET {SIGNED_URL} done",
            f"GET https://cdn.example.com/out/a.mp4?{REDACTED} done",
        ),
        (
            'HTTP Request: GET https://x.example/v1/task?id=7&sig=abc "HTTP/1.1 200 OK"',
            f'HTTP Request: GET https://x.example/v1/task?{REDACTED} "HTTP/1.1 200 OK"',
        ),
        (
            "URL('https://storage.googleapis.com/b/o.mp4?X-Goog-Signature=ab12')",
            f"URL('https://storage.googleapis.com/b/o.mp4?{REDACTED}')",
        ),
        ("https://u:pw@host.example/x", f"https://{REDACTED}@host.example/x"),
        ("see https://docs.example.com/api/videos", "see https://docs.example.com/api/videos"),
        ("Authorization: Bearer abc.def-ghi", f"Authorization: Bearer {REDACTED}"),
        ("authorization: Key 1234-abcd:ffff0000", f"authorization: Key {REDACTED}"),
        ("Proxy-Authorization: Basic dXNlcjpwdw==", f"Proxy-Authorization: Basic {REDACTED}"),
        ("x-api-key: sk-abcdef", f"x-api-key: {REDACTED}"),
        ("x-goog-api-key=AIzaSyA-1234", f"x-goog-api-key={REDACTED}"),
        (
            "{'authorization': 'Bearer abc 123', 'x-api-key': 'k-999999'}",
            f"{{'authorization': 'Bearer {REDACTED}', 'x-api-key': '{REDACTED}'}}",
        ),
        (
            "[('Authorization', 'Token r8_ABCdef123456'), ('accept', 'json')]",
            f"[('Authorization', 'Token {REDACTED}'), ('accept', 'json')]",
        ),
        (f"sent Bearer {BEARER_TOKEN} to it", f"sent Bearer {REDACTED} to it"),
        ("Token r8_ABCdef123456 used", f"Token {REDACTED} used"),
        ("Key 0f1e2d3c-aaaa:bbbbcccc1 used", f"Key {REDACTED} used"),
        # English stays English: no credential-looking value after the word.
        ("Key points: Token expired, Basic mode", "Key points: Token expired, Basic mode"),
        (f"jwt={JWT};", f"jwt={REDACTED};"),
        (f"token {JWT} end", f"token {REDACTED} end"),
        (
            '{"api_key": "a b c", "prompt": "a cat"}',
            f'{{"api_key": "{REDACTED}", "prompt": "a cat"}}',
        ),
        ("secret_key=s3cr3t&x=1", f"secret_key={REDACTED}&x=1"),
        ("password: hunter22", f"password: {REDACTED}"),
        ("plain words, nothing secret here", "plain words, nothing secret here"),
    ],
)
def test_redacts_each_shape(text: str, expected: str) -> None:
    assert redact(text, SecretRegistry()) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"GET {SIGNED_URL} Authorization: Bearer {BEARER_TOKEN} {JWT}",
        "{'authorization': 'Bearer abc 123', 'x-api-key': 'k-999999'}",
        f"Authorization: Bearer {REDACTED}",
    ],
)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text, SecretRegistry())
    assert redact(once, SecretRegistry()) == once


def test_registered_secret_is_replaced_everywhere_with_its_encodings() -> None:
    registry = SecretRegistry()
    secret = "ab+cd/ef=gh ij"
    registry.register(secret)
    text = f"raw {secret} quoted ab%2Bcd%2Fef%3Dgh%20ij plus ab%2Bcd%2Fef%3Dgh+ij"
    out = redact(text, registry)
    assert out == f"raw {REDACTED} quoted {REDACTED} plus {REDACTED}"


def test_short_values_are_not_registered() -> None:
    registry = SecretRegistry()
    registry.register("abc12")
    registry.register("   ")
    registry.register("redact")  # would re-create itself from the marker
    assert len(registry) == 0
    assert redact("abc12 stays", registry) == "abc12 stays"


def test_overlapping_secrets_merge_into_one_marker() -> None:
    registry = SecretRegistry()
    registry.register("abcdef123")
    registry.register("123ghijkl")
    assert redact("x abcdef123ghijkl y", registry) == f"x {REDACTED} y"


def test_module_level_registry() -> None:
    secret = "module-level-secret-3141"
    register_secret(secret)
    assert secret not in redact(f"got {secret}!")


secrets = st.text(min_size=6, max_size=40).filter(
    lambda s: s == s.strip() and len(s) >= 6 and s not in REDACTED
)


@given(secret=secrets, before=st.text(), middle=st.text(), after=st.text())
def test_registered_secret_never_survives(
    secret: str, before: str, middle: str, after: str
) -> None:
    registry = SecretRegistry()
    registry.register(secret)
    out = redact(before + secret + middle + secret + after, registry)
    assert secret not in out


pieces = st.sampled_from(
    ["https://h/p", "?", "#", "@", "Bearer ", "Key ", "Authorization: ", "'", '"', "=", ":",
     " ", "eyJ", ".", "api_key", REDACTED, "]", "[", "1", "x-api-key", ",", "\n"]
)  # fmt: skip


@given(text=st.lists(st.one_of(pieces, st.text(max_size=5)), max_size=25).map("".join))
def test_redact_is_idempotent_on_any_text(text: str) -> None:
    once = redact(text, SecretRegistry())
    assert redact(once, SecretRegistry()) == once


# --- logging -----------------------------------------------------------------------


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = sys.exc_info() if exc else None
    return logging.LogRecord("takestock.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_filter_applies_args_then_redacts_and_clears_args() -> None:
    record = _record("fetching %s with %s", SIGNED_URL, f"Bearer {BEARER_TOKEN}")
    assert RedactingFilter(SecretRegistry()).filter(record) is True
    assert record.args == ()
    assert (
        record.msg
        == f"fetching https://cdn.example.com/out/a.mp4?{REDACTED} with Bearer {REDACTED}"
    )
    assert record.getMessage() == record.msg


def test_filter_redacts_exception_text_for_any_formatter() -> None:
    try:
        raise ConnectionError(f"GET {SIGNED_URL} failed; Authorization: Bearer {BEARER_TOKEN}")
    except ConnectionError:
        record = _record("download failed", exc=True)
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "X-Amz-Signature" not in text
    assert BEARER_TOKEN not in text
    assert "ConnectionError" in text


def test_filter_withholds_unformattable_arguments() -> None:
    record = _record("%d items", f"Bearer {BEARER_TOKEN}")
    RedactingFilter().filter(record)
    assert BEARER_TOKEN not in record.getMessage()
    assert "withheld" in record.getMessage()


def test_logged_exception_with_signed_url_and_bearer_is_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    logger = logging.getLogger("takestock.test.exc")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(
                f"result {SIGNED_URL} refused: headers "
                f"{{'Authorization': 'Bearer {BEARER_TOKEN}', 'x-api-key': 'sk-abcdef1234'}}"
            )
        except RuntimeError:
            logger.exception("polling %s failed", SIGNED_URL, stack_info=True)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    out = stream.getvalue()
    assert "X-Amz-Signature" not in out
    assert BEARER_TOKEN not in out
    assert "sk-abcdef1234" not in out
    assert f"a.mp4?{REDACTED}" in out
    assert "Traceback" in out
    assert "RuntimeError" in out


@pytest.fixture
def clean_root_logging() -> Iterator[None]:
    """Leave the root logger and httpx's level as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def _ours(kind: str) -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if h.name == f"takestock-{kind}"]


@pytest.mark.usefixtures("clean_root_logging")
def test_file_handler_never_writes_a_secret(tmp_path: Path) -> None:
    secret = "sk-file-handler-secret-2718"
    register_secret(secret)
    setup_logging(tmp_path / "logs")
    log = logging.getLogger("takestock.test.file")
    log.info("using key %s for %s", secret, SIGNED_URL)
    log.warning("Authorization: Bearer %s", BEARER_TOKEN)
    try:
        raise ValueError(f"bad answer from {SIGNED_URL} with key {secret}")
    except ValueError:
        log.exception("poll failed")
    logging.getLogger("httpx").info("HTTP Request: GET %s", SIGNED_URL)  # quieted
    for handler in _ours("file"):
        handler.flush()
    path = tmp_path / "logs" / logs.LOG_FILE
    text = path.read_text(encoding="utf-8")
    assert secret not in text
    assert BEARER_TOKEN not in text
    assert "X-Amz" not in text
    assert text.count(REDACTED) >= 5
    assert "HTTP Request" not in text
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.usefixtures("clean_root_logging")
def test_setup_logging_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(tmp_path, stderr=True, level=logging.DEBUG)
    setup_logging(tmp_path, stderr=True, level=logging.DEBUG)
    assert len(_ours("file")) == 1
    assert len(_ours("stderr")) == 1
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING

    logging.getLogger("takestock.test.once").info("once %s", f"Bearer {BEARER_TOKEN}")
    err = capsys.readouterr().err
    assert err.count("once Bearer") == 1
    assert BEARER_TOKEN not in err

    setup_logging(tmp_path)  # reconfigure: no stderr any more
    assert len(_ours("file")) == 1
    assert _ours("stderr") == []
    assert logging.getLogger().level == logging.INFO
    file_handler = _ours("file")[0]
    assert isinstance(file_handler, logging.handlers.RotatingFileHandler)
    assert file_handler.maxBytes == 5 * 1024 * 1024
    assert file_handler.backupCount == 3
