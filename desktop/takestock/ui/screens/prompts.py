"""Prompts: the library of prompts, each a history of versions that never change."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from takestock.core.errors import InvalidInput, TakestockError
from takestock.core.prompts import (
    NEGATIVE_PRESET_TAG,
    PromptVersion,
    archive_prompt,
    create_prompt,
    diff_versions,
    duplicate_prompt,
    edit_prompt,
    get_prompt,
    list_tags,
    variables_in,
)
from takestock.ui.bridge import EngineBridge
from takestock.ui.ops import Changes
from takestock.ui.prompt_models import PromptListModel, PromptQuery, VersionsModel
from takestock.ui.prompt_widgets import NegativePresetsButton, VariablesForm, diff_html
from takestock.wiring import Services

__all__ = ["PromptsScreen"]

#: How long typing in the search box waits before the list follows (ms).
SEARCH_DELAY_MS = 200
#: How long typing in the text waits before its ``{variables}`` are read again (ms).
VARIABLES_DELAY_MS = 250


class PromptsScreen(QWidget):
    """Find a prompt, edit it (each save a new version), compare versions, duplicate one,
    archive what is done with, and send a version to the Generate screen.

    Attributes:
        search, tag_filter, show_archived: what the list shows.
        model: the prompts listed (:class:`PromptListModel`); ``list`` its view.
        title, tags, text, negative, variables: the editor of the selected prompt.
        presets: the negative-prompt presets menu.
        versions: the selected prompt's versions (:class:`VersionsModel`);
            ``versions_view`` its view; ``diff`` shows what changed between the one or
            two selected.
        new_button, save_button, duplicate_button, archive_button, use_button: actions.
        status: one line saying what just happened, or what is wrong with the text.

    Signals:
        use_prompt(int): generate from this prompt version id (connect to
            ``GenerateScreen.load_prompt_version``).
    """

    use_prompt = Signal(int)

    def __init__(self, services: Services, bridge: EngineBridge) -> None:
        super().__init__()
        self._services = services
        self._store = services.store
        self._prompt_id: int | None = None
        self._loading = False
        self._dirty = False
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._variables_timer = QTimer(self, singleShot=True, interval=VARIABLES_DELAY_MS)
        self._build()
        self._connect_signals()
        self._reload_tags()
        self._select_row(0)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search titles and words (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.tag_filter = QComboBox()
        self.tag_filter.setToolTip(self.tr("Show prompts with this tag"))
        self.show_archived = QCheckBox(self.tr("Archived"))
        self.model = PromptListModel(self._store)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_button = QPushButton(self.tr("New"))
        self.new_button.setShortcut(QKeySequence("Ctrl+N"))
        self.new_button.setToolTip(self.tr("Write a new prompt (Ctrl+N)"))
        self.duplicate_button = QPushButton(self.tr("Duplicate"))
        self.duplicate_button.setShortcut(QKeySequence("Ctrl+D"))
        self.duplicate_button.setToolTip(
            self.tr("A new prompt starting from the selected version (Ctrl+D)")
        )
        self.archive_button = QPushButton(self.tr("Archive"))
        self.archive_button.setToolTip(self.tr("Hide from the list; nothing is deleted (Del)"))

        filters = QHBoxLayout()
        filters.addWidget(self.tag_filter, 1)
        filters.addWidget(self.show_archived)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.new_button)
        list_buttons.addWidget(self.duplicate_button)
        list_buttons.addWidget(self.archive_button)
        list_buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.empty)
        left_layout.addLayout(list_buttons)

        self.title = QLineEdit()
        self.title.setPlaceholderText(self.tr("Title (the first line when left blank)"))
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(self.tr("tags, separated by commas"))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(
            self.tr("The prompt. Write {name} for a variable, filled in when generating.")
        )
        self.negative = QLineEdit()
        self.negative.setPlaceholderText(self.tr("What to avoid (negative prompt)"))
        self.presets = NegativePresetsButton(self._store, self.negative)
        self.variables = VariablesForm(defaults_as_values=True)
        self.variables.hide()
        self.save_button = QPushButton(self.tr("Save version"))
        self.save_button.setShortcut(QKeySequence("Ctrl+S"))
        self.save_button.setToolTip(self.tr("Every change is kept as a new version (Ctrl+S)"))
        self.use_button = QPushButton(self.tr("Use in Generate"))
        self.use_button.setShortcut(QKeySequence("Ctrl+G"))
        self.use_button.setToolTip(self.tr("Generate from the selected version (Ctrl+G)"))
        self.status = QLabel()
        self.status.setWordWrap(True)

        negative_row = QHBoxLayout()
        negative_row.addWidget(QLabel(self.tr("Avoid")))
        negative_row.addWidget(self.negative, 1)
        negative_row.addWidget(self.presets)
        form = QFormLayout()
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Tags"), self.tags)
        variables_box = QGroupBox(self.tr("Variables and their defaults"))
        variables_layout = QVBoxLayout(variables_box)
        variables_layout.addWidget(self.variables)
        self._variables_box = variables_box
        variables_box.hide()
        editor_buttons = QHBoxLayout()
        editor_buttons.addWidget(self.save_button)
        editor_buttons.addWidget(self.use_button)
        editor_buttons.addWidget(self.status, 1)
        editor = QWidget()
        editor_layout = QVBoxLayout(editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addLayout(form)
        editor_layout.addWidget(self.text, 1)
        editor_layout.addLayout(negative_row)
        editor_layout.addWidget(variables_box)
        editor_layout.addLayout(editor_buttons)

        self.versions = VersionsModel(self._store)
        self.versions_view = QListView()
        self.versions_view.setModel(self.versions)
        self.versions_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.versions_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.versions_view.setUniformItemSizes(True)
        self.versions_view.setToolTip(
            self.tr("Select one version to see what it changed, or two (Ctrl+click) to compare")
        )
        self.edit_from_button = QPushButton(self.tr("Edit from this version"))
        self.edit_from_button.setToolTip(
            self.tr("Put the selected version's words in the editor; saving makes a new version")
        )
        self.diff = QTextBrowser()
        self.diff.setOpenLinks(False)
        versions_box = QGroupBox(self.tr("Versions"))
        versions_layout = QVBoxLayout(versions_box)
        versions_layout.addWidget(self.versions_view, 1)
        versions_layout.addWidget(self.edit_from_button)
        diff_box = QGroupBox(self.tr("What changed"))
        diff_layout = QVBoxLayout(diff_box)
        diff_layout.addWidget(self.diff)
        history = QSplitter(Qt.Orientation.Horizontal)
        history.addWidget(versions_box)
        history.addWidget(diff_box)
        history.setStretchFactor(0, 2)
        history.setStretchFactor(1, 3)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(editor)
        right.addWidget(history)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(0, 2)
        main.setStretchFactor(1, 5)
        main.setSizes([320, 880])
        right.setSizes([430, 300])
        layout = QVBoxLayout(self)
        layout.addWidget(main)

        self._find = QShortcut(QKeySequence.StandardKey.Find, self)
        self._find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._archive_key = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.list)
        self._archive_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.setTabOrder(self.search, self.list)
        self.setTabOrder(self.list, self.title)
        self.setTabOrder(self.title, self.tags)
        self.setTabOrder(self.tags, self.text)
        self.setTabOrder(self.text, self.negative)

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._apply_query)
        self.tag_filter.currentIndexChanged.connect(self._apply_query)
        self.show_archived.toggled.connect(self._on_show_archived)
        self.list.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.model.modelReset.connect(self._update_empty)
        self.new_button.clicked.connect(self.new_prompt)
        self.duplicate_button.clicked.connect(self.duplicate)
        self.archive_button.clicked.connect(self.toggle_archived)
        self._archive_key.activated.connect(self.toggle_archived)
        self._find.activated.connect(self._focus_search)
        self.save_button.clicked.connect(self.save)
        self.use_button.clicked.connect(self.use_in_generate)
        self.edit_from_button.clicked.connect(self._edit_from_version)
        for line in (self.title, self.tags, self.negative):
            line.textEdited.connect(self._mark_dirty)
        self.presets.chosen.connect(self._mark_dirty)
        self.text.textChanged.connect(self._on_text_changed)
        self._variables_timer.timeout.connect(self._read_variables)
        self.variables.changed.connect(self._mark_dirty)
        self.versions_view.selectionModel().selectionChanged.connect(self._on_versions_selected)

    # ------------------------------------------------------------ the list

    def showEvent(self, event: Any) -> None:
        # Generating stores typed prompts, another screen may add presets: look again.
        super().showEvent(event)
        if not self._dirty:
            self.refresh()

    def apply_changes(self, changes: Changes) -> None:
        """Prompts saved elsewhere (the CLI, Generate): read the list again, unless an
        edit is under way (it would lose its place)."""
        if changes.prompts and self.isVisible() and not self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """Read the list and tags again, keeping the prompt in the editor."""
        keep = self._prompt_id
        self._reload_tags()
        self.model.refresh()
        row = self.model.row_of(keep) if keep is not None else None
        if row is not None:
            self.list.setCurrentIndex(self.model.index(row))
        elif keep is None and not self._dirty:
            self._select_row(0)

    def _reload_tags(self) -> None:
        current = self.tag_filter.currentData()
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem(self.tr("All tags"), None)
        for tag in list_tags(self._store, archived=self.show_archived.isChecked()):
            label = self.tr("Negative presets") if tag == NEGATIVE_PRESET_TAG else tag
            self.tag_filter.addItem(label, tag)
        index = self.tag_filter.findData(current)
        self.tag_filter.setCurrentIndex(max(0, index))
        self.tag_filter.blockSignals(False)

    def _query(self) -> PromptQuery:
        return PromptQuery(
            search=self.search.text(),
            tag=self.tag_filter.currentData(),
            archived=self.show_archived.isChecked(),
        )

    def _apply_query(self) -> None:
        self._search_timer.stop()
        keep = self._prompt_id
        self.model.set_query(self._query())
        self._reselect(keep)

    def _on_show_archived(self) -> None:
        self._reload_tags()
        self._apply_query()
        self.archive_button.setText(
            self.tr("Unarchive") if self.show_archived.isChecked() else self.tr("Archive")
        )

    def _reselect(self, prompt_id: int | None) -> None:
        row = self.model.row_of(prompt_id) if prompt_id is not None else None
        if row is not None:
            self._select_row(row)
        elif not self._dirty:
            self._select_row(0)

    def _select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self._show_prompt(None)
            return
        self.list.setCurrentIndex(self.model.index(row))

    def _update_empty(self) -> None:
        query = self.model.query
        if self.model.rowCount():
            self.empty.hide()
            return
        if query.search or query.tag or query.archived:
            self.empty.setText(self.tr("Nothing matches. Clear the search or pick another tag."))
        else:
            self.empty.setText(
                self.tr(
                    "No prompts yet — write one on the right and press Save (Ctrl+S), or "
                    "generate from the Generate screen (Ctrl+1): typed prompts are kept here."
                )
            )
        self.empty.show()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        prompt_id = self.model.prompt_id(current.row()) if current.isValid() else None
        if prompt_id == self._prompt_id:
            return
        if self._dirty and not self._settle_edits():
            return
        self._show_prompt(prompt_id)

    def _settle_edits(self) -> bool:
        """Ask what to do with unsaved words before leaving them; True once settled."""
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved prompt"),
            self.tr("Save your changes as a new version before leaving this prompt?"),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        self._dirty = False
        return True

    # ---------------------------------------------------------- the editor

    def _show_prompt(self, prompt_id: int | None) -> None:
        self._loading = True
        try:
            self._prompt_id = prompt_id
            if prompt_id is None:
                for line in (self.title, self.tags, self.negative):
                    line.clear()
                self.text.clear()
                self.variables.set_variables([], {})
            else:
                prompt = get_prompt(self._store, prompt_id)
                self.title.setText(prompt.title)
                self.tags.setText(", ".join(prompt.tags))
                self._put_version(prompt.latest)
            self.versions.set_prompt(prompt_id)
        finally:
            self._loading = False
        self._set_dirty(False)
        self._select_latest_version()
        self._update_actions()

    def _put_version(self, version: PromptVersion) -> None:
        self.text.setPlainText(version.text)
        self.negative.setText(version.negative)
        self._variables_timer.stop()
        self.variables.set_variables(list(version.variables), version.variables)
        self._variables_box.setVisible(bool(version.variables))

    def _select_latest_version(self) -> None:
        last = self.versions.rowCount() - 1
        if last >= 0:
            self.versions_view.setCurrentIndex(self.versions.index(last))
        else:
            self.diff.clear()

    def _on_text_changed(self) -> None:
        if self._loading:
            return
        self._mark_dirty()
        self._variables_timer.start()

    def _read_variables(self) -> None:
        try:
            names = variables_in(self.text.toPlainText())
        except InvalidInput as exc:
            self.status.setText(f"<span style='color:#b3261e'>{exc.message}</span>")
            return
        defaults = {name: self.variables.editors[name].text() for name in self.variables.names()}
        self.variables.set_variables(names, defaults)
        self._variables_box.setVisible(bool(names))
        if self._dirty:
            self.status.setText(self.tr("Not saved yet"))

    def _mark_dirty(self, *_: object) -> None:
        if not self._loading:
            self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        self.save_button.setEnabled(dirty)
        if dirty:
            self.status.setText(self.tr("Not saved yet"))

    def _update_actions(self) -> None:
        has = self._prompt_id is not None
        self.duplicate_button.setEnabled(has)
        self.archive_button.setEnabled(has)
        self.use_button.setEnabled(has or bool(self.text.toPlainText().strip()))
        self.edit_from_button.setEnabled(has)

    def new_prompt(self) -> None:
        """Start a new prompt in the editor (saved with Save)."""
        if self._dirty and not self._settle_edits():
            return
        self.list.clearSelection()
        self.list.setCurrentIndex(QModelIndex())
        self._show_prompt(None)
        self.status.setText(self.tr("A new prompt: write it, then Save (Ctrl+S)"))
        self.text.setFocus()

    def save(self) -> bool:
        """Save the editor: a new prompt, or a new version of the selected one.

        Returns False (and says why in ``status``) when the words are refused.
        """
        self._read_variables()
        tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        defaults = {name: editor.text() for name, editor in self.variables.editors.items()}
        try:
            if self._prompt_id is None:
                prompt = create_prompt(
                    self._store,
                    self.text.toPlainText(),
                    title=self.title.text().strip() or None,
                    negative=self.negative.text(),
                    variables=defaults,
                    tags=tags,
                )
                saved = self.tr("Saved as a new prompt")
            else:
                before = get_prompt(self._store, self._prompt_id).latest.number
                prompt = edit_prompt(
                    self._store,
                    self._prompt_id,
                    text=self.text.toPlainText(),
                    negative=self.negative.text(),
                    variables=defaults,
                    title=self.title.text().strip() or None,
                    tags=tags,
                )
                saved = (
                    self.tr("Saved as version %1").replace("%1", str(prompt.latest.number))
                    if prompt.latest.number != before
                    else self.tr("Saved (the words did not change: no new version)")
                )
        except TakestockError as exc:
            self.status.setText(f"<span style='color:#b3261e'>{exc.message}</span>")
            return False
        self._land_on(prompt.id)
        self.status.setText(saved)
        return True

    def _land_on(self, prompt_id: int) -> None:
        """Show ``prompt_id`` in the editor and the list read again, selected there when
        the query lets it in."""
        self._show_prompt(prompt_id)
        self._reload_tags()
        self.model.refresh()
        row = self.model.row_of(prompt_id)
        if row is not None:
            self.list.setCurrentIndex(self.model.index(row))

    def _edit_from_version(self) -> None:
        version = self._selected_version()
        if version is None:
            return
        self._loading = True
        try:
            self._put_version(version)
        finally:
            self._loading = False
        self._set_dirty(True)
        self.status.setText(
            self.tr("Editing from v%1: Save makes it the newest version").replace(
                "%1", str(version.number)
            )
        )

    def duplicate(self) -> None:
        """A new prompt from the selected version (the newest when none is selected)."""
        version = self._selected_version()
        if version is None:
            return
        if self._dirty and not self._settle_edits():
            return
        copy = duplicate_prompt(self._store, version.id)
        self._land_on(copy.id)
        self.status.setText(
            self.tr("Duplicated v%1 as “%2”")
            .replace("%1", str(version.number))
            .replace("%2", copy.title)
        )

    def toggle_archived(self) -> None:
        """Archive the selected prompt (or bring it back, when showing archived ones)."""
        if self._prompt_id is None:
            return
        prompt = get_prompt(self._store, self._prompt_id)
        row = self.model.row_of(prompt.id) or 0
        archive_prompt(self._store, prompt.id, archived=not prompt.archived)
        self._prompt_id = None
        self._dirty = False
        self.model.refresh()
        self._select_row(min(row, self.model.rowCount() - 1))
        done = self.tr("Brought back “%1”") if prompt.archived else self.tr("Archived “%1”")
        self.status.setText(done.replace("%1", prompt.title))

    def use_in_generate(self) -> None:
        """Send the selected version (the newest when none is) to the Generate screen;
        unsaved words are saved first."""
        if self._dirty and not self.save():
            return
        version = self._selected_version()
        if version is not None:
            self.use_prompt.emit(version.id)

    # ------------------------------------------------------------ versions

    def _selected_versions(self) -> list[PromptVersion]:
        rows = sorted(i.row() for i in self.versions_view.selectionModel().selectedIndexes())
        return [self.versions.version(r) for r in rows]

    def _selected_version(self) -> PromptVersion | None:
        chosen = self._selected_versions()
        if len(chosen) == 1:
            return chosen[0]
        count = self.versions.rowCount()
        return self.versions.version(count - 1) if count else None

    def _on_versions_selected(self, *_: QItemSelection) -> None:
        chosen = self._selected_versions()
        if len(chosen) >= 2:
            self.show_diff(chosen[0], chosen[-1])
        elif len(chosen) == 1:
            version = chosen[0]
            row = self.versions.row_of(version.id) or 0
            previous = self.versions.version(row - 1) if row > 0 else None
            self.show_diff(previous, version)
        else:
            self.diff.clear()

    def show_diff(self, old: PromptVersion | None, new: PromptVersion) -> None:
        """Show what changed from ``old`` to ``new`` (``old`` None: the first version)."""
        if old is None:
            head = self.tr("v%1, the first version").replace("%1", str(new.number))
            body = diff_html([("equal", new.text)])
            negative = diff_html([("equal", new.negative)]) if new.negative else ""
        else:
            head = (
                self.tr("From v%1 to v%2")
                .replace("%1", str(old.number))
                .replace("%2", str(new.number))
            )
            body = diff_html(diff_versions(old, new))
            negative = (
                diff_html(diff_versions(old.negative, new.negative))
                if old.negative or new.negative
                else ""
            )
        parts = [f"<p><b>{head}</b></p>", f"<p>{body}</p>"]
        if negative:
            parts.append(f"<p><b>{self.tr('Negative')}</b><br>{negative}</p>")
        self.diff.setHtml("".join(parts))
