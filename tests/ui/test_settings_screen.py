"""Settings: keys in a real Secret Service, base URLs, the data folder, preferences."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QMessageBox, QSpinBox

from takestock.core.credits import add_account, get_account
from takestock.core.secrets import mask
from takestock.ui.preferences import PREFERENCES, Preferences, UnknownPreference
from takestock.ui.screens.settings import BaseUrlModel, KeysModel, SettingsScreen

RUNWAY_KEY = "key_runway_0f1e2d3c4b5a69788796a5b4"
FAL_KEY = "fal_9a8b7c6d5e4f3a2b1c0d_env"


@pytest.fixture
def home(home, monkeypatch):
    """The shared data folder, with a fal key in the environment."""
    monkeypatch.setenv("TAKESTOCK_FAL_API_KEY", FAL_KEY)
    return home


def _dispose(widget) -> None:
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def screen(services, bridge, qtbot, secret_service):
    widget = SettingsScreen(services, bridge)
    widget.resize(1130, 800)
    widget.show()
    _wait_keys(widget, qtbot)
    yield widget
    _dispose(widget)


def _wait_keys(screen: SettingsScreen, qtbot) -> None:
    qtbot.waitUntil(lambda: "key fields set" in screen.keys_status.text(), timeout=15_000)


def _row(screen: SettingsScreen, vendor: str, field: str = "api_key"):
    row = screen.keys.row_of(vendor, field)
    assert row is not None
    return screen.keys.key_row(row)


def _everything_shown(screen: SettingsScreen) -> str:
    """Every text the screen could show: widgets' texts and every model cell and tip."""
    texts = [w.text() for w in screen.findChildren(QLabel)]
    texts += [w.text() for w in screen.findChildren(QLineEdit)]
    model = screen.keys
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                texts.append(str(model.data(model.index(r, c), role)))
    return "\n".join(texts)


def test_set_and_remove_a_key_never_showing_it(screen, qtbot, secret_service):
    assert _row(screen, "runway").source is None
    assert screen.keys.data(screen.keys.index(screen.keys.row_of("runway", "api_key"), 3)) == (
        "not set"
    )
    # The environment's key is shown as set there, masked.
    fal = _row(screen, "fal")
    assert (fal.source, fal.preview) == ("environment", mask(FAL_KEY))
    assert FAL_KEY not in _everything_shown(screen)

    screen.select_key("runway", "api_key")
    assert not screen.remove_key_button.isEnabled()  # nothing in the keyring yet
    qtbot.mouseClick(screen.set_key_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    assert dialog.secret.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(dialog.secret, "   ")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5_000)
    assert "empty" in dialog.error.text()

    qtbot.keyClicks(dialog.secret, RUNWAY_KEY)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.secret.text() == ""  # not kept in the widget
    qtbot.waitUntil(lambda: _row(screen, "runway").source == "keyring", timeout=10_000)
    assert screen.dialog is None
    assert _row(screen, "runway").preview == mask(RUNWAY_KEY) == "key_…a5b4"
    assert screen._services.credentials.get("runway") == RUNWAY_KEY
    assert RUNWAY_KEY not in _everything_shown(screen)
    assert "Stored api_key for Runway" in screen.keys_status.text() or (
        "key fields set" in screen.keys_status.text()
    )

    screen.select_key("runway", "api_key")
    assert screen.remove_key_button.isEnabled()
    qtbot.mouseClick(screen.remove_key_button, Qt.MouseButton.LeftButton)
    box = screen.dialog
    assert isinstance(box, QMessageBox)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(screen, "runway").source is None, timeout=10_000)
    assert screen._services.credentials.get("runway") is None


def test_a_locked_keyring_says_what_to_do_inline(screen, qtbot, secret_service):
    assert screen.keys_problem.isHidden()
    secret_service.lock()
    qtbot.mouseClick(screen.reload_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.keys_problem.isVisible(), timeout=15_000)
    text = screen.keys_problem.text()
    assert "locked" in text
    assert "Unlock" in text
    assert "TAKESTOCK_<VENDOR>_<KEY>" in text  # about every key, not the first one asked
    assert _row(screen, "runway").source == "unknown"
    assert _row(screen, "fal").source == "environment"  # the environment needs no keyring
    secret_service.unlock()
    qtbot.mouseClick(screen.reload_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.keys_problem.isHidden(), timeout=15_000)


def test_base_url_overrides_per_account(screen, qtbot):
    store = screen._services.store
    account = add_account(store, {}, vendor="runway", name="studio", kind="api")
    screen.tabs.setCurrentIndex(1)
    screen.refresh_urls()
    assert screen.urls.rowCount() == 1
    screen.select_url_account(account.id)
    screen.url_edit.setText("runway-proxy.example.com")
    qtbot.mouseClick(screen.url_save, Qt.MouseButton.LeftButton)
    assert "must start with http:// or https://" in screen.url_message.text()
    assert get_account(store, account.id).base_url is None

    screen.url_edit.setText("https://runway-proxy.example.com/v1/")
    qtbot.mouseClick(screen.url_save, Qt.MouseButton.LeftButton)
    assert get_account(store, account.id).base_url == "https://runway-proxy.example.com/v1"
    in_force = screen.urls.data(screen.urls.index(0, 5))
    assert in_force == "https://runway-proxy.example.com/v1"

    qtbot.mouseClick(screen.url_clear, Qt.MouseButton.LeftButton)
    assert get_account(store, account.id).base_url is None
    assert screen.urls.data(screen.urls.index(0, 5)) == "https://api.dev.runwayml.com" or (
        screen.urls.data(screen.urls.index(0, 5)) == screen.urls.data(screen.urls.index(0, 3))
    )


def test_the_data_folder_opens(screen, qtbot, monkeypatch):
    opened = []
    monkeypatch.setattr(
        "takestock.ui.screens.settings.QDesktopServices.openUrl", lambda url: opened.append(url)
    )
    assert screen.data_folder.text() == str(screen._services.paths.root)
    qtbot.mouseClick(screen.open_folder_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(screen._services.paths.root)]


def test_the_preferences_form_is_generated_and_round_trips(screen, tmp_path):
    assert list(screen.editors) == [p.key for p in PREFERENCES]
    ready = screen.editors["notify_take_ready"]
    hours = screen.editors["expiry_warning_hours"]
    language = screen.editors["language"]
    watch = screen.editors["watch_folder"]
    assert isinstance(ready, QCheckBox)
    assert ready.isChecked()
    assert isinstance(hours, QSpinBox)
    assert hours.value() == 12
    assert isinstance(language, QComboBox)
    assert language.currentData() == "system"
    assert isinstance(watch, QLineEdit)
    assert watch.text()

    ready.setChecked(False)
    hours.setValue(30)
    language.setCurrentIndex(language.findData("zh_CN"))
    watch.setText(str(tmp_path / "incoming"))
    watch.editingFinished.emit()

    fresh = Preferences(QSettings())  # another reader, as after a restart
    assert fresh.get("notify_take_ready") is False
    assert fresh.number("expiry_warning_hours") == 30
    assert fresh.text("language") == "zh_CN"
    assert fresh.text("watch_folder") == str(tmp_path / "incoming")
    # A blank folder goes back to the default.
    watch.setText("")
    watch.editingFinished.emit()
    assert watch.text() == str(PREFERENCES[-1].default_value())


def test_preferences_are_typed_and_unknown_keys_are_errors(home, tmp_path, qtbot):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    settings = QSettings()
    prefs = Preferences(settings)
    seen = []
    prefs.changed.connect(lambda key, value: seen.append((key, value)))
    assert prefs.get("expiry_warning_hours") == 12
    prefs.set("expiry_warning_hours", 6)
    prefs.set("expiry_warning_hours", 6)  # unchanged: no signal
    assert seen == [("expiry_warning_hours", 6)]
    with pytest.raises(UnknownPreference, match="notify_take_redy"):
        prefs.get("notify_take_redy")
    with pytest.raises(UnknownPreference):
        prefs.set("colour", "red")
    for key, bad in (
        ("expiry_warning_hours", "twelve"),
        ("expiry_warning_hours", 999),
        ("notify_job_failed", 1),
        ("language", "klingon"),
        ("watch_folder", "  "),
    ):
        with pytest.raises(ValueError, match=key):
            prefs.set(key, bad)
    # Junk stored by hand reads as the default; stray keys are reported, not used.
    settings.setValue("preferences/expiry_warning_hours", "soon")
    settings.setValue("preferences/notify_job_failed", "false")
    settings.setValue("preferences/old_thing", 1)
    assert prefs.get("expiry_warning_hours") == 12
    assert prefs.flag("notify_job_failed") is False
    assert prefs.unknown_stored() == ["old_thing"]
    with pytest.raises(TypeError):
        prefs.number("language")
    prefs.reset("notify_job_failed")
    assert prefs.flag("notify_job_failed") is True


def test_models_pass_the_model_tester_and_the_tabs_are_rendered(
    shots, screen, qtbot, qtmodeltester, secret_service
):
    store = screen._services.store
    add_account(store, {}, vendor="sandbox", name="main", kind="api")
    add_account(store, {}, vendor="kling", name="studio", kind="api", region="cn")
    add_account(store, {}, vendor="runway", name="studio", kind="web")  # calls no API
    screen._services.credentials.set("kling", "api_key", "kling-test-api-key-0123456789")
    qtbot.mouseClick(screen.reload_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _row(screen, "kling").source == "keyring", timeout=10_000)
    assert screen.keys.row_of("kling", "api_key", "studio") is not None  # a named API account
    qtmodeltester.check(screen.keys)
    qtmodeltester.check(KeysModel())
    screen.refresh_urls()
    qtmodeltester.check(screen.urls)
    assert screen.urls.rowCount() == 2  # the API accounts
    qtmodeltester.check(BaseUrlModel(screen._services))
    screen.select_key("kling", "api_key")
    for index, name in enumerate(("settings-keys", "settings-urls", "settings-general")):
        screen.tabs.setCurrentIndex(index)
        if index == 1:
            screen.select_url_account(get_account(store, "studio", "kling").id)
        qtbot.wait(50)
        assert screen.grab().save(str(shots / f"{name}.png"))
    secret_service.lock()
    screen.tabs.setCurrentIndex(0)
    qtbot.mouseClick(screen.reload_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.keys_problem.isVisible(), timeout=15_000)
    assert screen.grab().save(str(shots / "settings-keys-locked.png"))
    secret_service.unlock()
