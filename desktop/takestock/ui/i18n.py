"""The UI's language: Takestock's own translations and Qt's, installed at start-up.

The language is, in order: the one asked for, the ``language`` preference, then the
system's (``QLocale()``, which follows ``QLocale.setDefault`` in tests). English is the
source language and needs no file; any other is ``takestock_<lang>.qm`` under
``takestock.resources/translations`` (built by ``scripts/update-translations.sh``), plus
Qt's own ``qtbase_<lang>.qm`` so that standard dialogs and buttons follow. A language
with no file, or a file that does not load, falls back to English.

This module is read at start-up, before the first paint: it imports only QtCore and the
standard library (``preferences`` pulls in the core, so the preference is read straight
from QSettings under the key that module declares).
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

__all__ = [
    "SOURCE_LANGUAGE",
    "available_languages",
    "install_translations",
    "resolve_language",
]

#: The language the sources are written in.
SOURCE_LANGUAGE = "en"

#: Where ``Preferences`` keeps the ``language`` preference ("system", "en", "zh_CN").
_PREFERENCE_KEY = "preferences/language"
_SYSTEM = "system"
_PREFIX = "takestock_"
#: The object name of the translators this module installs, to find them again.
_TAG = "takestock-translator"


def _folder() -> Traversable:
    return importlib.resources.files("takestock.resources") / "translations"


def available_languages() -> list[str]:
    """The source language, then every language with a shipped ``.qm``, e.g.
    ``["en", "zh_CN"]``."""
    folder = _folder()
    found: list[str] = []
    if folder.is_dir():
        for entry in folder.iterdir():
            name = entry.name
            if name.startswith(_PREFIX) and name.endswith(".qm"):
                found.append(name[len(_PREFIX) : -len(".qm")])
    return [SOURCE_LANGUAGE, *sorted(set(found) - {SOURCE_LANGUAGE})]


def _from_locale(locale: QLocale, languages: list[str]) -> str:
    """The first of the locale's UI languages that we ship, by language and script
    (zh-Hans-SG gets zh_CN; zh-Hant-TW does not); English when none."""
    shipped = {(QLocale(code).language(), QLocale(code).script()): code for code in languages}
    seen: set[QLocale.Language] = set()
    for name in locale.uiLanguages():
        wanted = QLocale(name)
        # The list runs zh-Hant-TW, zh-TW, zh-Hant, zh: the bare "zh" would read as
        # Simplified, so only a language's first, most specific entry counts.
        if wanted.language() in seen:
            continue
        seen.add(wanted.language())
        if wanted.language() == QLocale.Language.English:
            return SOURCE_LANGUAGE
        code = shipped.get((wanted.language(), wanted.script()))
        if code is not None:
            return code
    return SOURCE_LANGUAGE


def resolve_language(language: str | None = None, locale: QLocale | None = None) -> str:
    """The language to show: ``language`` if given (``"system"`` or None: read the
    preference, then follow ``locale``, by default ``QLocale()``). Always one of
    :func:`available_languages`."""
    languages = available_languages()
    if language is None:
        stored = QSettings().value(_PREFERENCE_KEY)
        language = str(stored) if stored is not None else _SYSTEM
    if language in languages:
        return language
    if language != _SYSTEM:
        # A language named but not shipped (an old setting, a typo): the source text.
        return SOURCE_LANGUAGE
    return _from_locale(locale if locale is not None else QLocale(), languages)


def _remove_installed(app: QCoreApplication) -> None:
    for translator in app.findChildren(QTranslator, _TAG):
        QCoreApplication.removeTranslator(translator)
        translator.setParent(None)
        translator.deleteLater()


def _load_ours(translator: QTranslator, language: str) -> bool:
    entry = _folder() / f"{_PREFIX}{language}.qm"
    # The resources are plain files wherever Takestock is installed (a wheel, the
    # installers' bundles); anything else (a zip import) falls back to English.
    return isinstance(entry, Path) and entry.is_file() and translator.load(str(entry))


def install_translations(app: QCoreApplication, language: str | None = None) -> str:
    """Install the translators for ``language`` (see :func:`resolve_language`) on
    ``app``, replacing any this function installed before. Returns the language in use:
    English when the chosen language's file is missing or does not load."""
    _remove_installed(app)
    chosen = resolve_language(language)
    if chosen == SOURCE_LANGUAGE:
        return chosen
    # Parented to the app (which keeps them alive) only once loaded.
    ours = QTranslator()
    if not _load_ours(ours, chosen):
        return SOURCE_LANGUAGE
    ours.setParent(app)
    ours.setObjectName(_TAG)
    qt = QTranslator()
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(QLocale(chosen), "qtbase", "_", qt_folder):
        qt.setParent(app)
        qt.setObjectName(_TAG)
        QCoreApplication.installTranslator(qt)
    # Installed last, so it is asked first.
    QCoreApplication.installTranslator(ours)
    return chosen
