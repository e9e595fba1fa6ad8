"""The Prompts screen, clicked through on a real library."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QItemSelectionModel, Qt

from takestock.core.prompts import (
    create_prompt,
    edit_prompt,
    get_prompt,
    list_prompts,
    negative_presets,
    save_negative_preset,
    versions,
)
from takestock.ui.screens.generate import GenerateScreen
from takestock.ui.screens.prompts import PromptsScreen


@pytest.fixture
def library(services):
    store = services.store
    fox = create_prompt(
        store,
        "a red fox trotting through the snow at dawn, {lens} lens",
        title="Fox in snow",
        tags=["animals", "winter"],
        variables={"lens": "35mm"},
    )
    edit_prompt(
        store,
        fox.id,
        text="a red fox trotting through deep fresh snow at golden dawn, slow dolly, {lens} lens",
        negative="blurry, watermark",
    )
    city = create_prompt(store, "neon city street at night in the rain", tags=["urban"])
    save_negative_preset(store, "Clean", "blurry, watermark, text, extra fingers")
    return {"fox": fox.id, "city": city.id}


@pytest.fixture
def screen(services, bridge, library, qtbot):
    widget = PromptsScreen(services, bridge)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=2_000)
    yield widget
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _titles(screen: PromptsScreen) -> list[str]:
    return [screen.model.prompt(r).title for r in range(screen.model.rowCount())]


def _open(screen: PromptsScreen, prompt_id: int) -> None:
    row = screen.model.row_of(prompt_id)
    assert row is not None
    screen.list.setCurrentIndex(screen.model.index(row))


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_list_searches_as_you_type_and_filters_by_tag(screen, qtbot, qtmodeltester):
    qtmodeltester.check(screen.model)
    qtmodeltester.check(screen.versions)
    # Presets are prompts too, but they stay out of the list.
    assert sorted(_titles(screen)) == ["Fox in snow", "neon city street at night in the rain"]
    qtbot.keyClicks(screen.search, "fresh snow")
    assert len(_titles(screen)) == 2  # the list waits for typing to pause
    qtbot.waitUntil(lambda: _titles(screen) == ["Fox in snow"], timeout=2_000)
    screen.search.clear()
    qtbot.waitUntil(lambda: len(_titles(screen)) == 2, timeout=2_000)
    screen.tag_filter.setCurrentIndex(screen.tag_filter.findData("urban"))
    assert _titles(screen) == ["neon city street at night in the rain"]
    screen.tag_filter.setCurrentIndex(screen.tag_filter.findData("negative-preset"))
    assert _titles(screen) == ["Clean"]
    screen.tag_filter.setCurrentIndex(0)
    qtbot.keyClicks(screen.search, "no such words")
    qtbot.waitUntil(lambda: screen.model.rowCount() == 0, timeout=2_000)
    assert "Nothing matches" in screen.empty.text()


def test_versions_compare_and_every_save_is_a_new_version(shots, screen, services, library, qtbot):
    _open(screen, library["fox"])
    assert screen.title.text() == "Fox in snow"
    assert screen.tags.text() == "animals, winter"
    assert screen.negative.text() == "blurry, watermark"
    assert screen.variables.editors["lens"].text() == "35mm"
    assert screen.versions.rowCount() == 2
    assert not screen.save_button.isEnabled()
    # One version selected: what it changed from the one before.
    html = screen.diff.toHtml()
    assert "From v1 to v2" in screen.diff.toPlainText()
    assert "golden" in html

    screen.text.setPlainText(
        "a red fox trotting through deep fresh snow at dusk, slow dolly, {lens} lens, {mood}"
    )
    qtbot.waitUntil(lambda: screen.variables.names() == ["lens", "mood"], timeout=2_000)
    screen.variables.editors["mood"].setText("quiet")
    assert screen.save_button.isEnabled()
    qtbot.keyClick(screen, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.status.text() == "Saved as version 3", timeout=2_000)
    latest = get_prompt(services.store, library["fox"]).latest
    assert latest.number == 3
    assert dict(latest.variables) == {"lens": "35mm", "mood": "quiet"}
    assert screen.versions.rowCount() == 3

    # Any two versions: v1 against v3.
    selection = screen.versions_view.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select
    selection.select(screen.versions.index(0), flags)
    selection.select(screen.versions.index(2), flags)
    text = screen.diff.toPlainText()
    assert text.startswith("From v1 to v3")
    html = screen.diff.toHtml()
    assert "line-through" in html  # "the" and "dawn" went
    assert "dusk" in html
    qtbot.wait(50)
    screen.grab().save(str(shots / "prompts.png"))


def test_a_new_prompt_a_duplicate_and_archiving(screen, services, library, qtbot):
    _click(qtbot, screen.new_button)
    assert screen.text.toPlainText() == ""
    screen.text.setPlainText("a lighthouse in fog, waves below")
    screen.tags.setText("sea")
    screen.tags.textEdited.emit("sea")
    _click(qtbot, screen.save_button)
    made = [p for p in list_prompts(services.store) if p.title.startswith("a lighthouse")]
    assert len(made) == 1
    assert made[0].tags == ("sea",)
    assert screen.title.text() == "a lighthouse in fog, waves below"

    _open(screen, library["fox"])
    screen.versions_view.setCurrentIndex(screen.versions.index(0))
    _click(qtbot, screen.duplicate_button)
    copy = get_prompt(services.store, list_prompts(services.store)[0].id)
    assert copy.title == "Fox in snow (copy of v1)"
    assert copy.latest.text == versions(services.store, library["fox"])[0].text
    assert screen.title.text() == copy.title

    _click(qtbot, screen.archive_button)
    assert copy.title not in _titles(screen)
    screen.show_archived.setChecked(True)
    assert _titles(screen) == [copy.title]
    assert screen.archive_button.text() == "Unarchive"
    _click(qtbot, screen.archive_button)
    assert screen.model.rowCount() == 0
    assert not get_prompt(services.store, copy.id).archived


def test_presets_fill_the_negative_and_new_ones_are_kept(screen, services, library):
    _open(screen, library["city"])
    screen.presets.rebuild()
    actions = {a.text(): a for a in screen.presets.menu().actions()}
    assert "Clean" in actions
    actions["Clean"].trigger()
    assert screen.negative.text() == "blurry, watermark, text, extra fingers"
    assert screen.save_button.isEnabled()
    screen.negative.setText("motion blur, flicker")
    assert screen.presets.save("Steady")
    assert [p.title for p in negative_presets(services.store)] == ["Clean", "Steady"]


def test_use_in_generate_sends_the_selected_version(screen, services, bridge, library, qtbot):
    generate = GenerateScreen(services, bridge)
    try:
        screen.use_prompt.connect(generate.load_prompt_version)
        _open(screen, library["fox"])
        screen.versions_view.setCurrentIndex(screen.versions.index(0))
        with qtbot.waitSignal(screen.use_prompt) as used:
            qtbot.keyClick(screen, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        first = versions(services.store, library["fox"])[0]
        assert used.args == [first.id]
        assert generate.prompt.toPlainText() == first.text
        assert generate.request().prompt == first.text.replace("{lens}", "35mm")
    finally:
        generate.shutdown()
        generate.deleteLater()
