"""The app's preferences, declared once: key, label, default and kind.

The settings page builds its form from :data:`PREFERENCES`, and :class:`Preferences`
reads and writes them in ``QSettings`` under ``preferences/``, typed: a value stored
wrong (edited by hand, or by an older version) reads as the default. Asking for a key
that is not declared is an error, never a silent ``None``.

Labels are source text; the form translates them in the ``Preferences`` context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QObject, QSettings, Signal

from takestock.core.watch import default_watch_folder

__all__ = [
    "PREFERENCES",
    "QT_TRANSLATE_NOOP",
    "Preference",
    "PreferenceKind",
    "Preferences",
    "UnknownPreference",
    "Value",
]

PreferenceKind = Literal["bool", "int", "choice", "path"]
Value = bool | int | str

_GROUP = "preferences"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Marks ``text`` for translation in ``context``; returns it untranslated.

    A typed stand-in for QtCore's (typed as returning ``object``); lupdate finds the
    strings by this name.
    """
    return text


class UnknownPreference(KeyError):
    """A key that :data:`PREFERENCES` does not declare."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        known = ", ".join(p.key for p in PREFERENCES)
        return f"no preference {self.key!r}; known: {known}"


@dataclass(frozen=True, slots=True)
class Preference:
    """One setting the user can change.

    Attributes:
        key: the name in QSettings (under ``preferences/``) and in code.
        label: source text for the form, translated in the ``Preferences`` context.
        default: the value, or a function giving it (for defaults found at run time,
            such as the user's Downloads folder).
        kind: bool, int (within ``minimum``..``maximum``), choice (one of ``choices``,
            value and label) or path (a folder).
        section: the form's group, source text like ``label``.
        suffix: shown after an int's box (e.g. " h").
    """

    key: str
    label: str
    default: Value | Callable[[], Value]
    kind: PreferenceKind
    section: str = QT_TRANSLATE_NOOP("Preferences", "Notifications")
    choices: tuple[tuple[str, str], ...] = ()
    minimum: int = 0
    maximum: int = 0
    suffix: str = ""

    def default_value(self) -> Value:
        return self.default() if callable(self.default) else self.default

    def coerce(self, raw: object) -> Value:
        """``raw`` as this preference's type; the default when it cannot be read."""
        if raw is None:
            return self.default_value()
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            return self.default_value()
        if self.kind == "int":
            try:
                number = int(str(raw).strip())
            except ValueError:
                return self.default_value()
            return min(max(number, self.minimum), self.maximum)
        text = str(raw)
        if self.kind == "choice":
            return text if text in dict(self.choices) else self.default_value()
        return text.strip() or self.default_value()

    def validate(self, value: object) -> Value:
        """``value`` if it is one this preference takes; raises ValueError otherwise."""
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int)
            and not isinstance(value, bool)
            and self.minimum <= value <= self.maximum,
            "choice": value in dict(self.choices),
            "path": isinstance(value, str) and bool(value.strip()),
        }[self.kind]
        if not ok:
            raise ValueError(f"{value!r} is not a value for {self.key} ({self.kind})")
        if isinstance(value, str):
            return value.strip()
        assert isinstance(value, int)  # bool is an int
        return value


_GENERAL = QT_TRANSLATE_NOOP("Preferences", "General")

#: Every preference, in the order the settings page shows them.
PREFERENCES: tuple[Preference, ...] = (
    Preference(
        "notify_take_ready",
        QT_TRANSLATE_NOOP("Preferences", "Tell me when a take is ready"),
        True,
        "bool",
    ),
    Preference(
        "notify_job_failed",
        QT_TRANSLATE_NOOP("Preferences", "Tell me when a job fails"),
        True,
        "bool",
    ),
    Preference(
        "expiry_warning_hours",
        QT_TRANSLATE_NOOP("Preferences", "Warn when free points expire within"),
        12,
        "int",
        minimum=0,
        maximum=168,
        suffix=QT_TRANSLATE_NOOP("Preferences", " h (0: never)"),
    ),
    Preference(
        "language",
        QT_TRANSLATE_NOOP("Preferences", "Language (after a restart)"),
        "system",
        "choice",
        section=_GENERAL,
        choices=(
            ("system", QT_TRANSLATE_NOOP("Preferences", "As the system")),
            ("en", "English"),
            ("zh_CN", "简体中文"),
        ),
    ),
    Preference(
        "watch_folder",
        QT_TRANSLATE_NOOP("Preferences", "Watch folder for takes made on websites"),
        lambda: str(default_watch_folder()),
        "path",
        section=_GENERAL,
    ),
)

_BY_KEY: Mapping[str, Preference] = {p.key: p for p in PREFERENCES}


def preference(key: str) -> Preference:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownPreference(key) from None


class Preferences(QObject):
    """Typed access to the declared preferences in QSettings.

    Signals:
        changed(str, object): a preference's key and its new value.
    """

    changed = Signal(str, object)

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else QSettings()

    def get(self, key: str) -> Value:
        pref = preference(key)
        return pref.coerce(self._settings.value(f"{_GROUP}/{key}"))

    def set(self, key: str, value: Value) -> None:
        """Store ``value``; ``changed`` fires if it differs.

        Raises:
            UnknownPreference: ``key`` is not declared.
            ValueError: ``value`` is not of the preference's kind or range.
        """
        typed = preference(key).validate(value)
        before = self.get(key)
        self._settings.setValue(f"{_GROUP}/{key}", typed)
        if typed != before:
            self.changed.emit(key, typed)

    def reset(self, key: str) -> None:
        pref = preference(key)
        before = self.get(key)
        self._settings.remove(f"{_GROUP}/{key}")
        if pref.default_value() != before:
            self.changed.emit(key, pref.default_value())

    def unknown_stored(self) -> list[str]:
        """Keys under ``preferences/`` that no declaration names (typos, old versions)."""
        self._settings.beginGroup(_GROUP)
        try:
            return sorted(k for k in self._settings.childKeys() if k not in _BY_KEY)
        finally:
            self._settings.endGroup()

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if preference(key).kind != "bool":
            raise TypeError(f"{key} is not a yes/no preference")
        return bool(value)

    def number(self, key: str) -> int:
        value = self.get(key)
        if preference(key).kind != "int" or not isinstance(value, int):
            raise TypeError(f"{key} is not a number preference")
        return value

    def text(self, key: str) -> str:
        value = self.get(key)
        if preference(key).kind not in ("choice", "path"):
            raise TypeError(f"{key} is not a text preference")
        return str(value)
