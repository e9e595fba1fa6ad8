"""The Credits screen, clicked through on real accounts, the sandbox's balance API included."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from takestock.core import budgets, credits
from takestock.core.credits import account_rules, add_account, get_account, set_rule
from takestock.core.grants import materialise
from takestock.core.jobs import JobEvent
from takestock.ui.credits_models import AccountsModel, BucketsModel, amount_text
from takestock.ui.screens.credits import CreditsScreen

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def screen(services, bridge, qtbot):
    widget = CreditsScreen(services, bridge)
    widget.resize(1130, 800)
    widget.show()
    yield widget
    _dispose(widget)


def _dispose(widget) -> None:
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _column(screen: CreditsScreen, name: str) -> int:
    return AccountsModel.COLUMNS.index(name)


def _cell(screen: CreditsScreen, account_name: str, column: str) -> str:
    model = screen.accounts
    for row in range(model.rowCount()):
        if model.account(row).name == account_name:
            return model.data(model.index(row, _column(screen, column)))
    raise AssertionError(f"no row for {account_name}")


def _add_sandbox(screen: CreditsScreen, qtbot, name: str = "main") -> int:
    _click(qtbot, screen.add_button)
    dialog = screen.dialog
    dialog.select("sandbox", "api")
    dialog.plan.setCurrentIndex(dialog.plan.findData("free"))
    dialog.name.setText(name)
    _click(qtbot, dialog.ok_button)
    assert screen.dialog is None, dialog.error.text()
    return get_account(screen._services.store, name, "sandbox").id


def test_no_accounts_says_what_to_do(shots, screen):
    assert screen._accounts_stack.currentWidget() is screen.accounts_empty
    assert "Add the memberships" in screen.accounts_empty.text()
    assert not screen.adjust_button.isEnabled()
    assert not screen.reconcile_button.isEnabled()
    assert screen.banner.isHidden()
    assert screen.spend._stack.currentWidget() is screen.spend.empty
    assert screen.timeline.items() == []
    assert screen.grab().save(str(shots / "credits-empty.png"))


def test_add_adjust_observe_and_reconcile_a_sandbox_account(screen, qtbot):
    account_id = _add_sandbox(screen, qtbot)
    assert screen.selected_account().id == account_id
    # A new sandbox account starts from the sandbox's balance: 10,000 paid + 100 free.
    qtbot.waitUntil(lambda: "as the vendor does" in screen.message.text(), timeout=10_000)
    assert _cell(screen, "main", "Free today") == amount_text(100)
    assert _cell(screen, "main", "Balance") == f"{amount_text(10_100)} credits"
    assert _cell(screen, "main", "Spend order") == "vendor's"  # the sandbox says its order
    # Today's free points lapse at the next UTC midnight: always within a day.
    assert not screen.banner.isHidden()
    assert "spend these first" in screen.banner.text()
    assert "sandbox / main" in screen.banner.text()
    assert not screen.adopt_button.isEnabled()  # the ledger agrees with the vendor

    # Top up 500 that lapse in 20 hours.
    _click(qtbot, screen.adjust_button)
    dialog = screen.dialog
    dialog.amount.setValue(500)
    _click(qtbot, dialog.ok_button)
    assert "say why" in dialog.error.text()  # a reason is required
    dialog.reason.setText("bought a pack")
    dialog.expires.setChecked(True)
    dialog.expires_at.setDateTime(dialog.expires_at.dateTime().currentDateTime().addSecs(20 * 3600))
    _click(qtbot, dialog.ok_button)
    assert screen.dialog is None
    assert _cell(screen, "main", "Balance") == f"{amount_text(10_600)} credits"
    kinds = [b.kind for b in screen.buckets.buckets()]
    assert sorted(kinds) == ["daily_free", "top_up", "top_up"]
    lapsing = screen.timeline.items()
    assert sorted(i.amount for i in lapsing) == [100, 500]

    # Record what the vendor shows: 650; the ledger keeps its figure until adopted.
    _click(qtbot, screen.observe_button)
    dialog = screen.dialog
    dialog.amount.setValue(650)
    _click(qtbot, dialog.ok_button)
    assert f"drift −{amount_text(9_950)}" in dialog.outcome.text()
    assert dialog.apply_button.isHidden()  # no reset to suggest from one look
    dialog.reject()
    assert _cell(screen, "main", "Balance") == f"{amount_text(10_600)} credits"
    _click(qtbot, screen.adopt_button)
    assert "now shows" in screen.message.text()
    assert _cell(screen, "main", "Balance") == f"{amount_text(650)} credits"
    assert not screen.adopt_button.isEnabled()

    # Reconcile against the sandbox's own balance API, then adopt it.
    _click(qtbot, screen.reconcile_button)
    assert not screen.reconcile_button.isEnabled()  # one at a time, off the UI thread
    qtbot.waitUntil(lambda: "drift" in screen.message.text(), timeout=10_000)
    assert f"the vendor shows {amount_text(10_100)} credits" in screen.message.text()
    assert f"drift +{amount_text(9_450)}" in screen.message.text()
    assert _cell(screen, "main", "Vendor shows").startswith(amount_text(10_100))
    assert screen.reconcile_button.isEnabled()
    _click(qtbot, screen.adopt_button)
    assert _cell(screen, "main", "Balance") == f"{amount_text(10_100)} credits"


def test_budgets_for_the_account_and_for_a_tag_are_set_here(screen, services, qtbot):
    _add_sandbox(screen, qtbot)
    qtbot.waitUntil(lambda: "as the vendor does" in screen.message.text(), timeout=10_000)
    _click(qtbot, screen.budget_button)
    dialog = screen.dialog
    dialog.cap.setValue(70)
    dialog.period.setCurrentIndex(dialog.period.findData("day"))
    _click(qtbot, dialog.ok_button)
    assert screen.dialog is None
    assert "at most 70 credits per day" in screen.message.text()

    _click(qtbot, screen.budget_button)
    dialog = screen.dialog
    dialog.new_tag.setText("film")
    dialog.unit.setText("credits")
    dialog.cap.setValue(50)
    _click(qtbot, dialog.ok_button)
    assert "tag 'film': at most 50 credits per month" in screen.message.text()
    caps = {(c["tag"], c["period"], c["cap"], c["unit"]) for c in budgets.budgets(services.store)}
    assert caps == {(None, "day", 70, "credits"), ("film", "month", 50, "credits")}

    _click(qtbot, screen.budget_button)
    dialog = screen.dialog
    dialog.period.setCurrentIndex(dialog.period.findData("day"))
    dialog.no_cap.setChecked(True)
    _click(qtbot, dialog.ok_button)
    assert "no day budget" in screen.message.text()
    assert [c["tag"] for c in budgets.budgets(services.store)] == ["film"]


def test_a_web_account_learns_its_reset_and_the_rule_is_applied_only_on_click(shots, screen, qtbot):
    store = screen._services.store
    kling = add_account(store, screen._services.plan_books, vendor="kling", name="me",
                        kind="web", plan="free")  # fmt: skip
    assert [r.ready for r in account_rules(store, kling.id)] == [False]  # no zone published
    # Three evenings and mornings, ten days ago: the balance went up around midnight in
    # Beijing each time, with nothing recorded to explain it.
    day = dt.date.today() - dt.timedelta(days=10)
    for offset in range(3):
        evening = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(23), SHANGHAI)
        morning = evening + dt.timedelta(hours=2)
        credits.observe(store, kling.id, 5, source="typed", now=evening.timestamp())
        credits.observe(store, kling.id, 66, source="typed", now=morning.timestamp())
    screen.refresh()
    screen.select_account(kling.id)
    assert not screen.reconcile_button.isEnabled()  # a web account has no balance API

    _click(qtbot, screen.observe_button)
    dialog = screen.dialog
    dialog.amount.setValue(40)
    _click(qtbot, dialog.ok_button)
    assert "00:00 Asia/Shanghai" in dialog.suggestion.text()
    assert dialog.apply_button.isVisible()
    # Seen, not applied: the rule still has no zone.
    assert account_rules(store, kling.id)[0].timezone is None
    assert dialog.grab().save(str(shots / "credits-observe-suggestion.png"))
    _click(qtbot, dialog.apply_button)
    rule = account_rules(store, kling.id)[0]
    assert (rule.reset_time, rule.timezone, rule.ready) == ("00:00", "Asia/Shanghai", True)
    assert "Applied." in dialog.suggestion.text()
    assert not dialog.apply_button.isEnabled()
    assert "daily reset set to 00:00 Asia/Shanghai" in screen.message.text()
    assert _cell(screen, "me", "Free today") == amount_text(66)
    assert _cell(screen, "me", "Spend order") == "assumed"


def test_state_a_rule_then_close_the_account(screen, qtbot):
    store = screen._services.store
    kling = add_account(store, {}, vendor="kling", name="me", kind="web")
    screen.refresh()
    screen.select_account(kling.id)
    assert "No credits tracked" in screen.buckets_empty.text()

    _click(qtbot, screen.rule_button)
    dialog = screen.dialog
    dialog.amount.setValue(66)
    dialog.timezone.setCurrentText("Nowhere/Atlantis")
    _click(qtbot, dialog.ok_button)
    assert "not a known time zone" in dialog.error.text()
    dialog.timezone.setCurrentText("Asia/Shanghai")
    _click(qtbot, dialog.ok_button)
    assert screen.dialog is None
    assert "rule 'daily' saved; 1 grant(s) added" in screen.message.text()
    assert _cell(screen, "me", "Free today") == amount_text(66)

    _click(qtbot, screen.close_button)
    dialog = screen.dialog
    dialog.reason.setText("moved to the API")
    _click(qtbot, dialog.ok_button)
    assert get_account(store, kling.id).closed_reason == "moved to the API"
    assert _cell(screen, "me", "Account") == "me (closed)"
    for button in (screen.adjust_button, screen.rule_button, screen.close_button):
        assert not button.isEnabled()


def test_a_bad_add_stays_open_with_the_reason(screen, qtbot):
    _click(qtbot, screen.add_button)
    dialog = screen.dialog
    dialog.select("sandbox", "api")
    _click(qtbot, dialog.ok_button)  # no name
    assert dialog.isVisible()
    assert "name" in dialog.error.text() or "empty" in dialog.error.text()
    dialog.reject()
    assert screen.accounts.rowCount() == 0


def test_job_events_refresh_the_screen_once_after_a_pause(screen, bridge, qtbot):
    add_account(screen._services.store, {}, vendor="kling", name="me", kind="web")
    assert screen.accounts.rowCount() == 0  # not yet read
    for state in ("queued", "running", "done"):
        bridge.job_changed.emit(JobEvent(1, state))
    assert screen.accounts.rowCount() == 0  # debounced
    qtbot.waitUntil(lambda: screen.accounts.rowCount() == 1, timeout=2_000)


def _charge(store, account_id: int, amount: float, at: float) -> None:
    req = store.execute(
        "INSERT INTO request(prompt, params, created_at) VALUES ('p', '{}', ?)", (at,)
    ).lastrowid
    job = store.execute(
        "INSERT INTO job(request_id, vendor, model, account_id, state, client_request_id,"
        " created_at, updated_at) VALUES (?, 'v', 'm', ?, 'done', hex(randomblob(8)), ?, ?)",
        (req, account_id, at, at),
    ).lastrowid
    credits.reserve(store, account_id, job, amount, now=at)
    credits.capture(store, job, amount, now=at)


def _realistic(services) -> dict[str, int]:
    """The accounts of a creator using three vendors, with a month of takes."""
    store, books, now = services.store, services.plan_books, time.time()
    month_ago = now - 29 * 86400
    sandbox = add_account(store, books, vendor="sandbox", name="main", kind="api",
                          plan="free", now=month_ago)  # fmt: skip
    kling = add_account(store, books, vendor="kling", name="me", kind="web", plan="free",
                        timezone="Asia/Shanghai", now=month_ago)  # fmt: skip
    set_rule(store, kling.id, now=month_ago, key="daily", source="seen on the website")
    credits.adjust(store, kling.id, 1000, "top-up pack", now=month_ago,
                   expires_at=now + 200 * 86400)  # fmt: skip
    runway = add_account(store, books, vendor="runway", name="studio", kind="web",
                         plan="standard", timezone="America/New_York", now=month_ago)  # fmt: skip
    credits.adjust(store, runway.id, 2000, "credits bought", now=month_ago)
    for day in range(28):
        at = month_ago + day * 86400 + 3600 * 14
        materialise(store, at)  # the app was open that day: its free points were granted
        if day % 2 == 0:
            _charge(store, kling.id, 35 + 5 * (day % 3), at)
        if day % 3 == 0:
            _charge(store, runway.id, 50 + 25 * (day % 2), at + 1800)
        if day % 4 == 1:
            _charge(store, sandbox.id, 10 * (1 + day % 3), at + 600)
    credits.adjust(store, kling.id, 300, "promo pack", kind="promo", now=now - 7200,
                   expires_at=now + 20 * 3600)  # fmt: skip
    credits.observe(store, kling.id, 1180, source="typed by the user", now=now - 3600)
    return {"sandbox": sandbox.id, "kling": kling.id, "runway": runway.id}


def test_realistic_accounts_read_well_and_are_rendered(
    shots, services, bridge, qtbot, qtmodeltester
):
    ids = _realistic(services)
    screen = CreditsScreen(services, bridge)
    screen.resize(1130, 800)
    screen.show()
    try:
        qtmodeltester.check(screen.accounts)
        assert screen.accounts.rowCount() == 3
        assert _cell(screen, "studio", "Spend order") == "vendor's"  # Runway publishes it
        assert _cell(screen, "me", "Spend order") == "assumed"
        assert _cell(screen, "me", "Next expiry").startswith("in ")
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        balance = screen.accounts.index(0, _column(screen, "Balance"))
        assert screen.accounts.data(balance, Qt.ItemDataRole.TextAlignmentRole) == right

        screen.select_account(ids["kling"])
        qtmodeltester.check(screen.buckets)
        assert any(i.amount == 300 for i in screen.timeline.items())  # the promo, in 20 h
        assert all(i.amount != 1000 for i in screen.timeline.items())  # lapses in 200 days
        banner = screen.banner.text()
        assert "kling / me" in banner
        assert amount_text(300) in banner

        series = screen.spend.series()
        assert set(series) == {"kling", "runway"}  # the sandbox costs no money
        assert len(series["kling"]) == 30
        assert "kling" in screen.spend.summary.text()
        screen.spend.mode.setCurrentIndex(screen.spend.mode.findData("sandbox"))
        screen.spend.mode.activated.emit(screen.spend.mode.currentIndex())
        assert set(screen.spend.series()) == {"sandbox"}
        screen.spend.mode.setCurrentIndex(0)
        screen.spend.mode.activated.emit(0)
        qtbot.wait(50)
        assert screen.grab().save(str(shots / "credits.png"))
        screen.select_account(ids["sandbox"])
        qtbot.wait(50)
        assert screen.grab().save(str(shots / "credits-sandbox.png"))
        screen._observe()
        screen.dialog.amount.setValue(1000)
        screen.dialog.submitted.emit()
        qtbot.wait(50)
        assert screen.dialog.grab().save(str(shots / "credits-observe.png"))
        screen.dialog.reject()
        screen._add_account()
        screen.dialog.select("kling", "web")
        qtbot.wait(50)
        assert screen.dialog.grab().save(str(shots / "credits-add.png"))
        screen.dialog.reject()
    finally:
        _dispose(screen)


def test_the_models_pass_the_model_tester(services, qtmodeltester):
    _realistic(services)
    accounts = AccountsModel(services.store, services.plan_books)
    qtmodeltester.check(accounts)
    buckets = BucketsModel(services.store)
    qtmodeltester.check(buckets)  # empty: no account
    buckets.set_account(accounts.account(0))
    assert buckets.rowCount() > 0
    qtmodeltester.check(buckets)
