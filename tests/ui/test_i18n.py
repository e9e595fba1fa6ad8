"""Translations: the shipped catalogue, choosing the language, and the app in Chinese."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QSettings, Qt, QTranslator
from PySide6.QtWidgets import QListWidget

from takestock.ui import i18n
from takestock.ui.i18n import available_languages, install_translations, resolve_language
from takestock.ui.preferences import Preferences, preference

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "resources" / "translations"
TS = TRANSLATIONS / "takestock_zh_CN.ts"
QM = TRANSLATIONS / "takestock_zh_CN.qm"
CHINA = QLocale(QLocale.Language.Chinese, QLocale.Country.China)


@pytest.fixture(autouse=True)
def clean_slate(qapp, tmp_path):
    """Each test starts in English with no stored preference, and leaves it that way."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    yield
    install_translations(qapp, "en")
    QLocale.setDefault(before)


def _generate() -> str:
    return QCoreApplication.translate("MainWindow", "Generate")


# ------------------------------------------------------------------ choosing


def test_the_shipped_qm_loads():
    translator = QTranslator()
    assert translator.load(str(QM))
    assert not translator.isEmpty()
    assert available_languages() == ["en", "zh_CN"]


def test_zh_cn_translates_the_app_and_qts_own_dialogs(qapp):
    assert install_translations(qapp, "zh_CN") == "zh_CN"
    assert _generate() == "生成"
    # A plural message, whichever the screens have now: %n is filled in.
    context, message = next(
        (c, m)
        for c, m in _messages()
        if m.get("numerus") == "yes" and m.find("translation").get("type") is None
    )
    source, form = message.findtext("source"), _forms(message)[0]
    comment = message.findtext("comment") or ""
    got = QCoreApplication.translate(context, source, comment, 3)
    assert got == form.replace("%n", "3") != source.replace("%n", "3")
    # qtbase's catalogue: the buttons of standard dialogs.
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_system_follows_the_locale(qapp):
    QLocale.setDefault(CHINA)
    assert install_translations(qapp) == "zh_CN"
    assert _generate() == "生成"
    assert install_translations(qapp, "system") == "zh_CN"


def test_the_preference_wins_over_the_locale(qapp):
    prefs = Preferences()
    prefs.set("language", "zh_CN")
    assert install_translations(qapp) == "zh_CN"
    QLocale.setDefault(CHINA)
    prefs.set("language", "en")
    assert install_translations(qapp) == "en"
    assert _generate() == "Generate"
    prefs.set("language", "system")
    assert install_translations(qapp) == "zh_CN"


def test_an_explicit_language_wins_over_the_preference(qapp):
    Preferences().set("language", "en")
    assert install_translations(qapp, "zh_CN") == "zh_CN"


def test_en_leaves_english_and_removes_what_was_installed(qapp):
    install_translations(qapp, "zh_CN")
    assert install_translations(qapp, "en") == "en"
    assert _generate() == "Generate"
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
    assert not qapp.findChildren(QTranslator, "takestock-translator")


def test_installing_twice_keeps_one_pair_of_translators(qapp):
    install_translations(qapp, "zh_CN")
    install_translations(qapp, "zh_CN")
    assert len(qapp.findChildren(QTranslator, "takestock-translator")) == 2


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (QLocale(QLocale.Language.Chinese, QLocale.Country.Singapore), "zh_CN"),
        (QLocale("zh_Hans"), "zh_CN"),
        (QLocale(QLocale.Language.Chinese, QLocale.Country.Taiwan), "en"),
        (QLocale(QLocale.Language.Chinese, QLocale.Country.HongKong), "en"),
        (QLocale(QLocale.Language.French, QLocale.Country.France), "en"),
        (QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom), "en"),
    ],
)
def test_locales_map_by_language_and_script(locale, expected):
    assert resolve_language("system", locale) == expected


def test_a_language_not_shipped_is_english(qapp):
    assert resolve_language("ja") == "en"
    QSettings().setValue("preferences/language", "klingon")  # stored by hand
    QLocale.setDefault(CHINA)
    assert install_translations(qapp) == "en"


def test_a_missing_qm_falls_back_to_english(qapp, tmp_path, monkeypatch):
    empty = tmp_path / "translations"
    empty.mkdir()
    monkeypatch.setattr(i18n, "_folder", lambda: empty)
    assert available_languages() == ["en"]
    assert install_translations(qapp, "zh_CN") == "en"
    assert _generate() == "Generate"


def test_a_broken_qm_falls_back_to_english(qapp, tmp_path, monkeypatch):
    (tmp_path / "takestock_zh_CN.qm").write_bytes(b"not a catalogue")
    monkeypatch.setattr(i18n, "_folder", lambda: tmp_path)
    assert available_languages() == ["en", "zh_CN"]
    assert install_translations(qapp, "zh_CN") == "en"
    assert _generate() == "Generate"
    assert not qapp.findChildren(QTranslator, "takestock-translator")


def test_every_language_the_preference_offers_is_shipped():
    offered = {value for value, _ in preference("language").choices} - {"system"}
    assert offered <= set(available_languages())


def test_importing_it_loads_no_more_than_qtcore():
    """It runs before the first paint: no QtWidgets, no core, no preferences module."""
    code = (
        "import sys, takestock.ui.i18n; "
        "print(' '.join(m for m in sys.modules if m.startswith(('PySide6.', 'takestock.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(m for m in out if m.startswith(("PySide6.Qt", "takestock."))) == [
        "PySide6.QtCore",
        "takestock.ui",
        "takestock.ui.i18n",
        "takestock.ui.qt_fixes",  # applied by the package itself, before any Qt call
    ]


# ------------------------------------------------------------------ the catalogue

_QT_ARG = re.compile(r"%L?(?:\d{1,2}|n)")
_PY_ARG = re.compile(r"%(?:\([a-z_]+\))?[sd]")
_BRACES = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ACCEL = re.compile(r"&(?!&)\S")


def _messages():
    root = ET.parse(TS).getroot()
    for context in root.iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            yield name, message


def _forms(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    assert translation is not None
    if message.get("numerus") == "yes":
        return [f.text or "" for f in translation.iter("numerusform")]
    return [translation.text or ""]


def test_every_message_is_translated_or_marked_unfinished():
    problems = []
    for context, message in _messages():
        source = message.findtext("source")
        state = message.find("translation").get("type")
        assert state in (None, "unfinished"), f"{context}: {source!r} is {state}"
        if state is None and not all(_forms(message)):
            problems.append(f"{context}: {source!r} is finished but empty")
    assert not problems, "\n".join(problems)


def test_placeholders_and_markup_survive_translation():
    problems = []
    for context, message in _messages():
        source = message.findtext("source") or ""
        if message.find("translation").get("type") == "unfinished":
            continue
        for text in _forms(message):
            checks = {
                "Qt arguments": (Counter(_QT_ARG.findall(source)), Counter(_QT_ARG.findall(text))),
                # % formatting fills in order: the order must stay.
                "% arguments": (_PY_ARG.findall(source), _PY_ARG.findall(text)),
                "{fields}": (Counter(_BRACES.findall(source)), Counter(_BRACES.findall(text))),
                "HTML tags": (Counter(_TAG.findall(source)), Counter(_TAG.findall(text))),
                "accelerators": (bool(_ACCEL.search(source)), bool(_ACCEL.search(text))),
            }
            for what, (want, got) in checks.items():
                if want != got:
                    problems.append(f"{context}: {source!r} -> {text!r}: {what} differ")
    assert not problems, "\n".join(problems)


def test_the_catalogue_knows_the_sidebar_and_keeps_its_translations():
    sources = {(c, m.findtext("source")) for c, m in _messages()}
    assert ("MainWindow", "Generate") in sources
    states = Counter(m.find("translation").get("type") for _, m in _messages())
    # New strings arrive unfinished (shown in English) until translated: a guard against
    # losing the translations (a .ts regenerated from scratch), not against new strings.
    assert states[None] > 0.5 * sum(states.values()), states


def test_the_qm_is_built_from_the_ts(tmp_path):
    lrelease = shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent))
    if lrelease is None:
        pytest.skip("pyside6-lrelease is not installed next to this Python")
    built = tmp_path / "built.qm"
    subprocess.run([lrelease, "-silent", str(TS), "-qm", str(built)], check=True)
    assert built.read_bytes() == QM.read_bytes(), "run scripts/update-translations.sh --qm"


# ------------------------------------------------------------------ the window


@pytest.mark.slow
def test_the_main_window_in_chinese(qapp, qtbot, home):
    from takestock.ui.main_window import MainWindow
    from takestock.wiring import open_services

    install_translations(qapp, "zh_CN")
    services = open_services()
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        nav = window.findChild(QListWidget, "sidebar")
        titles = {
            nav.item(i).data(Qt.ItemDataRole.UserRole): nav.item(i).text()
            for i in range(nav.count())
        }
        expected = {"generate": "生成", "queue": "队列", "library": "素材库", "settings": "设置"}
        assert {key: titles.get(key) for key in expected} == expected
        folder = os.environ.get("TAKESTOCK_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            window.grab().save(str(Path(folder) / "zh.png"))
    finally:
        window.shutdown()
        services.close()
