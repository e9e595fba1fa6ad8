"""Money you can trust, from the command line: one spend path, honest prices, balances
that match the vendor. Through the real engine and the sandbox vendor (offline)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import ok_json, takestock

pytestmark = pytest.mark.slow

# 30 credits a take on the sandbox: 3 a second at 1080p for 10 s.
HQ = [
    "--vendor",
    "sandbox",
    "--model",
    "sandbox-v1-hq",
    "--prompt",
    "a heron",
    "--duration",
    "10",
    "--resolution",
    "1080p",
]


def _account(name: str, balance: float | None = None) -> None:
    added = takestock("accounts", "add", "sandbox", "--name", name, "--kind", "api")
    assert added.returncode == 0, added.stderr
    if balance is not None:
        adopted = takestock("accounts", "observe", name, f"{balance:g}", "--adopt")
        assert adopted.returncode == 0, adopted.stderr


def _balance(name: str) -> float | None:
    return next(a for a in ok_json("accounts")["accounts"] if a["name"] == name)["balance"]


def _ledger(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "takestock.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_generate_spends_from_the_account_estimate_names_never_a_hidden_one(home):
    _account("play", 100)
    estimate = takestock("estimate", *HQ, "--count", "7")
    assert estimate.returncode == 0, estimate.stderr
    assert "account play (only 100 credits left)" in estimate.stdout
    assert "play can pay 3 of the 7 takes" in estimate.stdout

    refused = takestock("generate", *HQ, "--count", "7")
    assert refused.returncode == 2
    assert "play can pay 3 of the 7 takes" in refused.stderr
    assert ok_json("jobs")["jobs"] == []
    assert [a["name"] for a in ok_json("accounts")["accounts"]] == ["play"]  # no hidden one

    made = takestock("generate", *HQ, "--count", "3")
    assert made.returncode == 0, made.stderr
    assert _balance("play") == 10  # the three takes are held on play
    held = _ledger(home, "SELECT COUNT(DISTINCT job_id) FROM ledger WHERE kind = 'reserve'")
    assert held == [(3,)]


def test_several_accounts_and_none_marked_default_are_refused_naming_them(home):
    _account("play", 100)
    _account("work", 100)
    refused = takestock("generate", *HQ)
    assert refused.returncode == 2
    assert "several accounts (play, work)" in refused.stderr
    assert "takestock accounts default NAME --vendor sandbox" in refused.stderr
    assert ok_json("jobs")["jobs"] == []

    assert takestock("accounts", "default", "work").returncode == 0
    listed = {a["name"]: a["default"] for a in ok_json("accounts")["accounts"]}
    assert listed == {"play": False, "work": True}
    assert takestock("generate", *HQ).returncode == 0
    assert (_balance("play"), _balance("work")) == (100, 70)


def test_the_environments_key_belongs_to_a_visible_default_account(home):
    made = takestock("generate", *HQ)
    assert made.returncode == 0, made.stderr
    assert "Added account sandbox/default" in made.stderr
    [account] = ok_json("accounts")["accounts"]
    assert (account["name"], account["kind"], account["balance"]) == ("default", "api", None)
    assert [e["account"]["name"] for e in ok_json("credits")["accounts"]] == ["default"]
    # Its hold is in the ledger like any other, so its capture and spending reports see it.
    assert _ledger(home, "SELECT kind, amount FROM ledger WHERE kind = 'reserve'") == [
        ("reserve", -30.0)
    ]
    plain = takestock("accounts")
    assert "unknown" in plain.stdout


def _unpriced_model(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    over = {"sandbox": {"models": {"sandbox-mine": {"label": "Mine", "durations": [2]}}}}
    (home / "catalog-overrides.json").write_text(json.dumps(over), encoding="utf-8")


def test_an_unknown_price_is_unknown_and_refused_on_a_watched_account(home):
    _unpriced_model(home)
    target = ["--vendor", "sandbox", "--model", "sandbox-mine", "--prompt", "a heron"]
    estimate = ok_json("estimate", *target)
    [line] = estimate["targets"]
    assert line["estimate"]["amount"] is None
    assert line["total"] is None
    assert (
        "the catalog has no price for Sandbox (offline) sandbox-mine"
        in (line["estimate"]["reason"])
    )
    text = takestock("estimate", *target)
    assert "1 x unknown credits" in text.stdout
    assert " 0 credits" not in text.stdout

    _account("play", 100)  # a finite balance: an unknown price could slip past it
    refused = takestock("generate", *target)
    assert refused.returncode == 2
    assert "price: the price is unknown" in refused.stderr
    assert "--allow-unpriced" in refused.stderr
    assert ok_json("jobs")["jobs"] == []

    allowed = takestock("generate", *target, "--allow-unpriced", "--wait")
    assert allowed.returncode == 0, allowed.stderr
    [job] = ok_json("jobs")["jobs"]
    assert job["estimate"]["amount"] is None
    assert _balance("play") == 100  # nothing held, nothing charged by the sandbox


def test_an_untracked_account_takes_an_unknown_price_without_asking(home):
    _unpriced_model(home)
    made = takestock("generate", "--vendor", "sandbox", "--model", "sandbox-mine", "--prompt", "x")
    assert made.returncode == 0, made.stderr


def test_a_vendors_balance_is_adopted(home):
    added = takestock("accounts", "add", "sandbox", "--name", "play", "--kind", "api")
    assert "starts from the sandbox's balance: 10100" in added.stdout
    assert _balance("play") == 10100

    observed = takestock("accounts", "observe", "play", "250")
    assert "drift -9850" in observed.stdout
    assert "--adopt" in observed.stdout
    assert _balance("play") == 10100  # without --adopt the ledger keeps its figure

    assert takestock("accounts", "observe", "play", "250", "--adopt").returncode == 0
    assert _balance("play") == 250
    reconciled = ok_json("credits", "reconcile", "play", "--adopt")
    assert reconciled["observed"] == 10100
    assert reconciled["adopted"] == 9850
    assert _balance("play") == 10100
    assert ok_json("credits", "reconcile", "play")["drift"] == 0


def test_estimate_sends_nothing_and_needs_no_key(home):
    out = takestock("estimate", "--vendor", "wan", "--model", "wan2.6-t2v", "--prompt", "a fox")
    assert out.returncode == 0, out.stderr
    assert "wan/wan2.6-t2v: 1 x 0.75 = 0.75 USD" in out.stdout
    refused = takestock("generate", "--vendor", "wan", "--model", "wan2.6-t2v", "--prompt", "x")
    assert refused.returncode == 2  # generating does need the key
    assert "TAKESTOCK_WAN_API_KEY" in refused.stderr


def test_budgets_per_account_and_per_tag_are_checked_before_anything_is_sent(home):
    _account("play", 1000)
    assert takestock("accounts", "budget", "--tag", "film", "--cap", "50", "--unit", "credits")
    capped = takestock("generate", *HQ, "--tag", "film", "--count", "2")
    assert capped.returncode == 2
    assert "tag 'film' has a month budget of 50 credits" in capped.stderr
    assert ok_json("jobs")["jobs"] == []
    assert takestock("generate", *HQ, "--tag", "film").returncode == 0
    assert takestock("generate", *HQ, "--tag", "film").returncode == 2  # 30 + 30 > 50
    # The tag files the prompt: the same words stay in the project; others are not capped.
    assert takestock("generate", *HQ).returncode == 2
    other = [w if w != "a heron" else "a crane" for w in HQ]
    assert takestock("generate", *other).returncode == 0

    assert takestock("accounts", "budget", "play", "--cap", "70", "--period", "day").returncode == 0
    over = takestock("generate", *other)
    assert over.returncode == 2
    assert "this account has a day budget of 70 credits" in over.stderr
    listed = takestock("accounts")
    assert "tag film: at most 50 credits per month" in listed.stdout
    assert "sandbox/play: at most 70 credits per day" in listed.stdout
    assert takestock("accounts", "budget", "play", "--remove", "--period", "day").returncode == 0
    assert takestock("generate", *other).returncode == 0


def test_a_luma_account_counts_us_cents_and_never_mixes_units(home):
    assert takestock("accounts", "add", "luma", "--name", "l", "--kind", "api").returncode == 0
    assert takestock("accounts", "adjust", "l", "1000", "--reason", "a $10 top-up").returncode == 0
    out = ok_json("estimate", "--vendor", "luma", "--model", "ray-3.2", "--prompt", "a fox")
    [line] = out["targets"]
    assert (line["unit"], line["total"], line["balance_after"]) == ("USD cents", 30, 970)
    assert line["affordable"] is True

    assert takestock("accounts", "add", "luma", "--name", "c", "--kind", "api").returncode == 0
    assert takestock("accounts", "unit", "c", "credits").returncode == 0
    refused = takestock(
        "estimate", "--vendor", "luma", "--model", "ray-3.2", "--prompt", "x", "--account", "c"
    )
    assert refused.returncode == 2
    assert "counts credits and Takestock knows no rate" in refused.stderr
    worth = takestock("accounts", "unit", "c", "credits", "--money", "0.02")
    assert worth.returncode == 0
    priced = ok_json(
        "estimate", "--vendor", "luma", "--model", "ray-3.2", "--prompt", "x", "--account", "c"
    )
    assert (priced["targets"][0]["unit"], priced["targets"][0]["total"]) == ("credits", 15)


def _clip(home: Path, tmp_path: Path) -> Path:
    """A real video file, as if downloaded from a vendor's site."""
    made = ok_json(
        "generate", "--vendor", "sandbox", "--model", "sandbox-v1", "--prompt", "clip",
        "--duration", "2", "--resolution", "360p", "--account", "default", "--wait",
    )  # fmt: skip
    path = tmp_path / "from-the-site.mp4"
    path.write_bytes(Path(made["jobs"][0]["take"]["path"]).read_bytes())
    return path


def test_a_flow_membership_is_priced_by_plan_held_and_charged_what_the_site_says(home, tmp_path):
    clip = _clip(home, tmp_path)
    for name, plan in (("ultra", "ultra"), ("pro", "pro")):
        added = takestock("accounts", "add", "veo", "--name", name, "--kind", "web", "--plan", plan)
        assert added.returncode == 0, added.stderr
    assert takestock("accounts", "adjust", "ultra", "1000", "--reason", "what Flow shows")
    fast = ["--vendor", "veo", "--model", "veo-3.1-fast-generate-001", "--prompt", "a fox"]
    ultra = ok_json("estimate", *fast, "--account", "ultra")["targets"][0]
    pro = ok_json("estimate", *fast, "--account", "pro")["targets"][0]
    assert (ultra["unit"], ultra["total"], pro["total"]) == ("Flow credits", 10, 20)

    made = takestock("generate", *fast, "--account", "ultra")
    assert made.returncode == 0, made.stderr
    assert "--charged N" in made.stderr
    job = next(j for j in ok_json("jobs")["jobs"] if j["vendor"] == "veo")
    assert (job["state"], job["manual"]) == ("running", True)
    assert _balance("ultra") == 990  # held while the user makes it on the site

    attached = takestock("jobs", "attach", str(job["id"]), str(clip), "--charged", "12")
    assert attached.returncode == 0, attached.stderr
    assert _balance("ultra") == 988  # what the site charged, not the estimate
    notes = _ledger(
        home, f"SELECT note FROM ledger WHERE job_id = {job['id']} AND kind = 'capture'"
    )
    assert set(notes) == {("estimated 10, the vendor charged 12",)}


def test_an_unpublished_site_price_is_asked_once_and_remembered(home, tmp_path):
    clip = _clip(home, tmp_path)
    assert takestock("accounts", "add", "kling", "--name", "me", "--kind", "web").returncode == 0
    assert takestock("accounts", "adjust", "me", "1000", "--reason", "what the site shows")
    site = ["--target", "kling:kling-v2-6@me", "--prompt", "a fox", "--duration", "5"]
    assert "unknown credits" in takestock("estimate", *site).stdout
    refused = takestock("generate", *site)  # the account has a balance to protect
    assert refused.returncode == 2
    assert takestock("generate", *site, "--allow-unpriced").returncode == 0
    job = next(j for j in ok_json("jobs")["jobs"] if j["vendor"] == "kling")

    asked = takestock("jobs", "attach", str(job["id"]), str(clip))
    assert asked.returncode == 2
    assert "--charged N" in asked.stderr
    assert takestock("jobs", "attach", str(job["id"]), str(clip), "--charged", "35").returncode == 0
    assert _balance("me") == 965

    remembered = ok_json("estimate", *site)["targets"][0]
    assert (remembered["total"], remembered["unit"]) == (35, "credits")
    again = takestock("generate", *site)  # a known price now: held, no question
    assert again.returncode == 0, again.stderr
    assert _balance("me") == 930


def test_a_site_without_a_price_table_is_unknown_in_its_own_credits(home):
    added = takestock("accounts", "add", "seedance", "--name", "dreamina", "--kind", "web")
    assert added.returncode == 0, added.stderr
    out = ok_json(
        "estimate", "--target", "seedance:dreamina-seedance-2-0-260128@dreamina", "--prompt", "x"
    )
    [line] = out["targets"]
    assert (line["unit"], line["total"]) == ("credits", None)  # never the API's tokens
    assert "site publishes no price" in line["estimate"]["reason"]
