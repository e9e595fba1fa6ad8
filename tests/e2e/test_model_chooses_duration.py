"""`--duration -1`: the model chooses the length, where the model offers that (Seedance
2.x); elsewhere it is refused naming the field, and other negatives never parse."""

from __future__ import annotations

import json

import pytest

from takestock.cli import main

ASK = ["estimate", "--prompt", "a fox", "--duration", "-1", "--json"]


def test_a_model_that_chooses_its_length_takes_minus_one(home, capsys):
    assert main([*ASK, "--vendor", "seedance", "--model", "dreamina-seedance-2-5-260628"]) == 0
    [line] = json.loads(capsys.readouterr().out)["targets"]
    assert line["estimate"]["amount"] > 0  # priced as the longest take it may choose


def _exit_code(args: list[str]) -> object:
    try:
        return main(args)
    except SystemExit as stop:  # argparse refuses a value at parse time
        return stop.code


@pytest.mark.parametrize("value", ["-1", "-2", "-0.5"])
def test_elsewhere_it_is_refused_naming_the_field(home, capsys, value):
    args = [*ASK[:3], "--duration", value, "--vendor", "sandbox", "--model", "sandbox-v1"]
    assert _exit_code(args) == 2
    assert "duration" in capsys.readouterr().err
