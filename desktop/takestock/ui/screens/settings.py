"""Settings: vendors' keys (in the OS keyring, never shown back in full), base-URL
overrides per account, the data folder, and the preferences declared in
``ui/preferences.py``.

Keyring calls can block while the desktop asks the user to unlock it, so they run on a
worker thread of this screen; only masked previews ever come back to the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from takestock.core.catalog import VendorSpec
from takestock.core.credits import Account, list_accounts, set_base_url
from takestock.core.errors import SecretsUnavailable, TakestockError
from takestock.core.secrets import DEFAULT_ACCOUNT, CredentialStore, env_var, mask
from takestock.ui.bridge import EngineBridge
from takestock.ui.models.table import ListTableModel
from takestock.ui.ops import Changes
from takestock.ui.preferences import PREFERENCES, QT_TRANSLATE_NOOP, Preference, Preferences
from takestock.ui.widgets.forms import FormDialog
from takestock.ui.widgets.futures import deliver
from takestock.ui.widgets.tables import table_view
from takestock.wiring import Services

__all__ = [
    "BaseUrlModel",
    "KeyRow",
    "KeysModel",
    "SecretDialog",
    "SettingsScreen",
    "read_key_rows",
]

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _tr(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


# ------------------------------------------------------------------------ keys


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One secret field of a vendor's account: where it is set and a masked preview."""

    vendor: str
    vendor_name: str
    account: str
    field: str
    source: str | None  # "environment", "keyring", None (not set) or "unknown"
    preview: str  # masked; never the secret


def read_key_rows(
    credentials: CredentialStore,
    vendors: Sequence[VendorSpec],
    accounts: Mapping[str, Sequence[str]],
) -> tuple[list[KeyRow], str | None]:
    """Where each vendor's key fields are set, for its default and named API accounts.

    Runs off the UI thread (the keyring may prompt). Returns the rows and, when the
    keyring cannot be used, its message (what to do); after such a failure the keyring
    is not asked again, so a locked keyring prompts at most once.
    """
    rows: list[KeyRow] = []
    problem: str | None = None
    for vendor in vendors:
        for account in (DEFAULT_ACCOUNT, *accounts.get(vendor.id, ())):
            for field in vendor.secrets:
                source: str | None
                preview = ""
                if problem is None:
                    try:
                        source = credentials.source(vendor.id, field, account)
                        if source is not None:
                            value = credentials.get(vendor.id, field, account)
                            preview = mask(value) if value else ""
                    except SecretsUnavailable as exc:
                        # The message names this field's variable; it is about them all.
                        generic = "TAKESTOCK_<VENDOR>_<KEY>"
                        problem = exc.message.replace(env_var(vendor.id, field), generic)
                        source = "unknown"
                elif (
                    account == DEFAULT_ACCOUNT
                    and credentials.environ.get(env_var(vendor.id, field), "").strip()
                ):
                    source = "environment"
                    preview = mask(credentials.environ[env_var(vendor.id, field)])
                else:
                    source = "unknown"
                rows.append(KeyRow(vendor.id, vendor.name, account, field, source, preview))
    return rows, problem


class KeysModel(ListTableModel):
    """Every vendor's key fields and where each is set; ``UserRole`` gives the KeyRow."""

    COLUMNS = (
        QT_TRANSLATE_NOOP("KeysModel", "Vendor"),
        QT_TRANSLATE_NOOP("KeysModel", "Account"),
        QT_TRANSLATE_NOOP("KeysModel", "Key"),
        QT_TRANSLATE_NOOP("KeysModel", "Set in"),
        QT_TRANSLATE_NOOP("KeysModel", "Preview"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[KeyRow] = []

    def set_rows(self, rows: Sequence[KeyRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def key_row(self, row: int) -> KeyRow:
        return self._rows[row]

    def row_of(self, vendor: str, field: str, account: str = DEFAULT_ACCOUNT) -> int | None:
        return next(
            (
                i
                for i, r in enumerate(self._rows)
                if (r.vendor, r.field, r.account) == (vendor, field, account)
            ),
            None,
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return r
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            if r.source == "environment":
                return _tr("KeysModel", "Set by %1; it wins over the keyring.").replace(
                    "%1", env_var(r.vendor, r.field)
                )
            if r.source is None and r.account == DEFAULT_ACCOUNT:
                return _tr("KeysModel", "Set… stores it in the keyring, or set %1.").replace(
                    "%1", env_var(r.vendor, r.field)
                )
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        where = {
            "environment": _tr("KeysModel", "environment"),
            "keyring": _tr("KeysModel", "keyring"),
            "unknown": _tr("KeysModel", "unknown (keyring unavailable)"),
            None: _tr("KeysModel", "not set"),
        }
        return (
            r.vendor_name,
            r.account,
            r.field,
            where.get(r.source, r.source or ""),
            r.preview,
        )[index.column()]


class SecretDialog(FormDialog):
    """Asks for one secret; what is typed is echoed as dots and never shown back."""

    def __init__(self, vendor_name: str, account: str, field: str, parent: QWidget) -> None:
        super().__init__(
            self.tr("Set %1 for %2").replace("%1", field).replace("%2", vendor_name),
            parent,
            self.tr("Store in keyring"),
        )
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText(self.tr("paste the key"))
        explain = QLabel(
            self.tr(
                "Kept in the system keyring for the %1 account, never in Takestock's files."
            ).replace("%1", account)
        )
        explain.setWordWrap(True)
        self.form.addRow(explain)
        self.form.addRow(field.replace("_", " "), self.secret)
        self.setMinimumWidth(420)

    def take_secret(self) -> str:
        """The typed secret; the box is emptied at once."""
        value = self.secret.text()
        self.secret.clear()
        return value

    def busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        self.secret.setEnabled(not busy)


# ------------------------------------------------------------------ base URLs


class BaseUrlModel(ListTableModel):
    """Open API accounts and the address Takestock calls for each (web accounts call
    nothing); ``UserRole`` gives the account id."""

    COLUMNS = (
        QT_TRANSLATE_NOOP("BaseUrlModel", "Vendor"),
        QT_TRANSLATE_NOOP("BaseUrlModel", "Account"),
        QT_TRANSLATE_NOOP("BaseUrlModel", "Kind"),
        QT_TRANSLATE_NOOP("BaseUrlModel", "Catalog address"),
        QT_TRANSLATE_NOOP("BaseUrlModel", "Override"),
        QT_TRANSLATE_NOOP("BaseUrlModel", "In force"),
    )

    def __init__(self, services: Services) -> None:
        super().__init__()
        self._services = services
        self._rows: list[Account] = []
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._rows = [
            a
            for a in list_accounts(self._services.store)
            if a.closed_at is None and a.kind == "api"
        ]
        self.endResetModel()

    def account(self, row: int) -> Account:
        return self._rows[row]

    def row_of(self, account_id: int) -> int | None:
        return next((i for i, a in enumerate(self._rows) if a.id == account_id), None)

    def _catalog_url(self, account: Account) -> str:
        spec = self._services.catalog.vendors.get(account.vendor)
        if spec is None:
            return ""
        return spec.base_urls.get(account.region, "")

    def _environment_url(self, account: Account) -> str:
        spec = self._services.catalog.vendors.get(account.vendor)
        if spec is None:
            return ""
        return self._services.environ.get(f"{spec.env_prefix}_BASE_URL", "")

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        a = self._rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return a.id
        environment = self._environment_url(a)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 5 and environment:
            return _tr("BaseUrlModel", "Set in the environment; it wins over the override.")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        in_force = environment or a.base_url or self._catalog_url(a)
        return (
            a.vendor,
            a.name,
            a.kind,
            self._catalog_url(a),
            a.base_url or "",
            in_force + (" " + _tr("BaseUrlModel", "(environment)") if environment else ""),
        )[index.column()]


# ---------------------------------------------------------------------- screen


class SettingsScreen(QWidget):
    """Keys, accounts' base URLs, the data folder and the declared preferences.

    Attributes:
        keys: the keys' model, read off the UI thread each time the screen is shown;
            ``keys_view`` shows it.
        keys_problem: why the keyring cannot be used, and what to do; hidden when fine.
        urls: the accounts' addresses; ``urls_view`` shows them.
        editors: the preference editors by key, generated from ``PREFERENCES``.
        dialog: the dialog open now, if any (tests drive it).
    """

    def __init__(
        self,
        services: Services,
        bridge: EngineBridge,
        preferences: Preferences | None = None,
    ) -> None:
        super().__init__()
        self._services = services
        self._bridge = bridge
        self.preferences = preferences if preferences is not None else Preferences(parent=self)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="takestock-keyring")
        worker = self._worker
        self.destroyed.connect(lambda *_: worker.shutdown(wait=False, cancel_futures=True))
        self.dialog: QDialog | None = None
        self.keys = KeysModel()
        self.urls = BaseUrlModel(services)
        self.editors: dict[str, QWidget] = {}
        self._build()
        self._connect_signals()

    # ---------------------------------------------------------------- layout

    def _build(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.addTab(self._keys_tab(), self.tr("Keys"))
        self.tabs.addTab(self._urls_tab(), self.tr("Accounts' addresses"))
        self.tabs.addTab(self._general_tab(), self.tr("General and notifications"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def _keys_tab(self) -> QWidget:
        self.keys_view = table_view(self.keys)
        self.keys_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.keys_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.keys_problem = QLabel()
        self.keys_problem.setWordWrap(True)
        self.keys_problem.setStyleSheet(
            "background: #ffebee; color: #7f0000; border: 1px solid #c62828;"
            " border-radius: 4px; padding: 6px;"
        )
        self.keys_problem.hide()
        self.keys_status = QLabel(self.tr("Reading the keyring…"))
        self.keys_status.setWordWrap(True)
        self.set_key_button = QPushButton(self.tr("Set…"))
        self.remove_key_button = QPushButton(self.tr("Remove"))
        self.reload_keys_button = QPushButton(self.tr("Check again"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.set_key_button)
        buttons.addWidget(self.remove_key_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reload_keys_button)
        intro = QLabel(
            self.tr(
                "Keys live in the system keyring (or in TAKESTOCK_<VENDOR>_<KEY> environment "
                "variables, which win). Takestock shows only their last characters."
            )
        )
        intro.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(intro)
        layout.addWidget(self.keys_problem)
        layout.addLayout(buttons)
        layout.addWidget(self.keys_view, 1)
        layout.addWidget(self.keys_status)
        return tab

    def _urls_tab(self) -> QWidget:
        self.urls_view = table_view(self.urls)
        self.urls_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.urls_empty = QLabel(
            self.tr("No API accounts yet: add one on the Credits screen to change its address.")
        )
        self.urls_empty.setWordWrap(True)
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText(self.tr("the catalog's address"))
        self.url_save = QPushButton(self.tr("Save"))
        self.url_clear = QPushButton(self.tr("Use the catalog's"))
        self.url_message = QLabel()
        self.url_message.setWordWrap(True)
        editor = QHBoxLayout()
        editor.addWidget(QLabel(self.tr("Override")))
        editor.addWidget(self.url_edit, 1)
        editor.addWidget(self.url_save)
        editor.addWidget(self.url_clear)
        intro = QLabel(
            self.tr(
                "Point an API account at a proxy or a regional endpoint. Blank uses the "
                "catalog's address; TAKESTOCK_<VENDOR>_BASE_URL in the environment wins "
                "over both."
            )
        )
        intro.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(intro)
        layout.addWidget(self.urls_view, 1)
        layout.addWidget(self.urls_empty)
        layout.addLayout(editor)
        layout.addWidget(self.url_message)
        self._update_url_editor()
        return tab

    def _general_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        folder = QGroupBox(self.tr("Data folder"))
        self.data_folder = QLabel(str(self._services.paths.root))
        self.data_folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder_button = QPushButton(self.tr("Open"))
        row = QHBoxLayout(folder)
        row.addWidget(self.data_folder, 1)
        row.addWidget(self.open_folder_button)
        layout.addWidget(folder)
        sections: dict[str, QFormLayout] = {}
        for pref in PREFERENCES:
            form = sections.get(pref.section)
            if form is None:
                box = QGroupBox(QCoreApplication.translate("Preferences", pref.section))
                form = sections[pref.section] = QFormLayout(box)
                layout.addWidget(box)
            self._add_editor(form, pref)
        unknown = self.preferences.unknown_stored()
        if unknown:
            note = QLabel(
                self.tr("Ignored settings this version does not know: %1").replace(
                    "%1", ", ".join(unknown)
                )
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addStretch(1)
        return tab

    def _add_editor(self, form: QFormLayout, pref: Preference) -> None:
        """One editor per preference, by kind; each change is stored at once."""
        label = QCoreApplication.translate("Preferences", pref.label)
        value = self.preferences.get(pref.key)
        key = pref.key
        if pref.kind == "bool":
            box = QCheckBox(label)
            box.setChecked(bool(value))
            box.toggled.connect(lambda on: self.preferences.set(key, on))
            form.addRow(box)
            self.editors[key] = box
        elif pref.kind == "int":
            spin = QSpinBox()
            spin.setRange(pref.minimum, pref.maximum)
            spin.setSuffix(QCoreApplication.translate("Preferences", pref.suffix))
            spin.setValue(int(value))
            spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            spin.valueChanged.connect(lambda n: self.preferences.set(key, n))
            form.addRow(label, spin)
            self.editors[key] = spin
        elif pref.kind == "choice":
            combo = QComboBox()
            for choice, text in pref.choices:
                combo.addItem(QCoreApplication.translate("Preferences", text), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(
                lambda _i: self.preferences.set(key, combo.currentData())
            )
            form.addRow(label, combo)
            self.editors[key] = combo
        else:
            edit = QLineEdit(str(value))
            choose = QPushButton(self.tr("Choose…"))
            edit.editingFinished.connect(lambda: self._set_path(key, edit))
            choose.clicked.connect(lambda: self._choose_folder(key, edit))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(choose)
            form.addRow(label, row)
            self.editors[key] = edit

    def _connect_signals(self) -> None:
        self.set_key_button.clicked.connect(self._ask_secret)
        self.remove_key_button.clicked.connect(self._confirm_remove)
        self.reload_keys_button.clicked.connect(self.refresh_keys)
        self.keys_view.selectionModel().currentRowChanged.connect(self._update_key_buttons)
        self.urls_view.selectionModel().currentRowChanged.connect(self._update_url_editor)
        self.url_save.clicked.connect(self._save_url)
        self.url_clear.clicked.connect(lambda: self._store_url(None))
        self.url_edit.returnPressed.connect(self._save_url)
        self.open_folder_button.clicked.connect(self._open_data_folder)

    # ----------------------------------------------------------------- keys

    def _in_worker(self, fn: Callable[[], Any], then: Callable[[Future[Any]], None]) -> None:
        deliver(self._worker.submit(fn), self, then)

    def refresh_keys(self) -> None:
        """Read where every key is set, off the UI thread."""
        vendors = [v for v in self._services.catalog if v.secrets]
        named: dict[str, list[str]] = {}
        for account in list_accounts(self._services.store):
            if account.kind == "api" and account.name != DEFAULT_ACCOUNT:
                named.setdefault(account.vendor, []).append(account.name)
        credentials = self._services.credentials
        self.keys_status.setText(self.tr("Reading the keyring…"))
        self.reload_keys_button.setEnabled(False)
        self._in_worker(lambda: read_key_rows(credentials, vendors, named), self._keys_read)

    def _keys_read(self, future: Future[tuple[list[KeyRow], str | None]]) -> None:
        self.reload_keys_button.setEnabled(True)
        selected = self._selected_key()
        try:
            rows, problem = future.result()
        except Exception as exc:  # shown, never dropped
            self.keys_status.setText(
                self.tr("Could not read the keys: %1").replace("%1", repr(exc))
            )
            return
        self.keys.set_rows(rows)
        self.keys_problem.setVisible(problem is not None)
        if problem is not None:
            self.keys_problem.setText(problem)
        set_count = sum(1 for r in rows if r.source in ("environment", "keyring"))
        self.keys_status.setText(
            self.tr("%1 of %2 key fields set.")
            .replace("%1", str(set_count))
            .replace("%2", str(len(rows)))
        )
        if selected is not None:
            row = self.keys.row_of(selected.vendor, selected.field, selected.account)
            if row is not None:
                self.keys_view.selectRow(row)
        self._update_key_buttons()

    def _selected_key(self) -> KeyRow | None:
        index = self.keys_view.currentIndex()
        if not index.isValid() or index.row() >= self.keys.rowCount():
            return None
        return self.keys.key_row(index.row())

    def select_key(self, vendor: str, field: str, account: str = DEFAULT_ACCOUNT) -> None:
        row = self.keys.row_of(vendor, field, account)
        if row is not None:
            self.keys_view.selectRow(row)

    def _update_key_buttons(self) -> None:
        row = self._selected_key()
        self.set_key_button.setEnabled(row is not None)
        self.remove_key_button.setEnabled(row is not None and row.source == "keyring")

    def _ask_secret(self) -> None:
        row = self._selected_key()
        if row is None:
            return
        dialog = SecretDialog(row.vendor_name, row.account, row.field, self)
        self.dialog = dialog
        dialog.submitted.connect(lambda: self._store_secret(dialog, row))
        dialog.finished.connect(lambda _r: self._forget(dialog))
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _store_secret(self, dialog: SecretDialog, row: KeyRow) -> None:
        secret = dialog.take_secret()
        dialog.busy(True)
        credentials = self._services.credentials

        def store() -> None:
            credentials.set(row.vendor, row.field, secret, row.account)

        self._in_worker(store, lambda f: self._secret_stored(dialog, row, f))

    def _secret_stored(self, dialog: SecretDialog, row: KeyRow, future: Future[None]) -> None:
        dialog.busy(False)
        try:
            future.result()
        except TakestockError as exc:
            dialog.show_error(exc.message)
            return
        dialog.accept()
        self._bridge.call(lambda engine: engine.forget_secrets(row.vendor))
        self.keys_status.setText(
            self.tr("Stored %1 for %2 in the keyring.")
            .replace("%1", row.field)
            .replace("%2", row.vendor_name)
        )
        self.refresh_keys()

    def _confirm_remove(self) -> None:
        row = self._selected_key()
        if row is None or row.source != "keyring":
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Remove key"),
            self.tr("Remove %1 of %2 (%3) from the keyring? Jobs on it will need a new key.")
            .replace("%1", row.field)
            .replace("%2", row.vendor_name)
            .replace("%3", row.account),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        self.dialog = box
        box.finished.connect(lambda _r: self._forget(box))
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.clicked.connect(lambda: self._remove_key(row))
        box.open()

    def _remove_key(self, row: KeyRow) -> None:
        credentials = self._services.credentials
        self._in_worker(
            lambda: credentials.delete(row.vendor, row.field, row.account),
            lambda f: self._key_removed(row, f),
        )

    def _key_removed(self, row: KeyRow, future: Future[bool]) -> None:
        try:
            removed = future.result()
        except TakestockError as exc:
            self.keys_problem.setText(exc.message)
            self.keys_problem.show()
            return
        self._bridge.call(lambda engine: engine.forget_secrets(row.vendor))
        self.keys_status.setText(
            (self.tr("Removed %1 for %2.") if removed else self.tr("%1 for %2 was not stored."))
            .replace("%1", row.field)
            .replace("%2", row.vendor_name)
        )
        self.refresh_keys()

    # ------------------------------------------------------------ base URLs

    def refresh_urls(self) -> None:
        selected = self._selected_url_account()
        self.urls.refresh()
        self.urls_empty.setVisible(self.urls.rowCount() == 0)
        if selected is not None:
            self.select_url_account(selected.id)
        self._update_url_editor()

    def _selected_url_account(self) -> Account | None:
        index = self.urls_view.currentIndex()
        if not index.isValid() or index.row() >= self.urls.rowCount():
            return None
        return self.urls.account(index.row())

    def select_url_account(self, account_id: int) -> None:
        row = self.urls.row_of(account_id)
        if row is not None:
            self.urls_view.selectRow(row)
            self.urls_view.setCurrentIndex(self.urls.index(row, 0))

    def _update_url_editor(self) -> None:
        account = self._selected_url_account()
        for widget in (self.url_edit, self.url_save, self.url_clear):
            widget.setEnabled(account is not None)
        self.url_edit.setText(account.base_url or "" if account else "")
        self.urls_empty.setVisible(self.urls.rowCount() == 0)

    def _save_url(self) -> None:
        self._store_url(self.url_edit.text())

    def _store_url(self, url: str | None) -> None:
        account = self._selected_url_account()
        if account is None:
            return
        try:
            stored = set_base_url(self._services.store, account.id, url)
        except TakestockError as exc:
            self.url_message.setText(exc.message)
            return
        self.url_message.setText(
            self.tr("%1 now calls %2.")
            .replace("%1", f"{account.vendor} / {account.name}")
            .replace("%2", stored or self.tr("the catalog's address"))
        )
        self.refresh_urls()

    # -------------------------------------------------------- general, prefs

    def _open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._services.paths.root)))

    def _set_path(self, key: str, edit: QLineEdit) -> None:
        text = edit.text().strip()
        if text:
            self.preferences.set(key, text)
        else:
            self.preferences.reset(key)
            edit.setText(str(self.preferences.get(key)))

    def _choose_folder(self, key: str, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), edit.text())
        if folder:
            edit.setText(folder)
            self.preferences.set(key, folder)

    def showEvent(self, event: Any) -> None:
        # Read when shown, not when built: the keyring may ask to be unlocked.
        super().showEvent(event)
        self.refresh_urls()
        self.refresh_keys()

    def apply_changes(self, changes: Changes) -> None:
        """Accounts added or closed elsewhere (the CLI, Credits) show while on screen."""
        if changes.accounts and self.isVisible():
            self.refresh_urls()
            self.refresh_keys()
