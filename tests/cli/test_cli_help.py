"""Help text: every command's help carries the decision-support statement."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_support import Outcome, invoke_benzokit, normalise

from benzokit._disclaimer import DISCLAIMER

RunCli = Callable[..., Outcome]
# Distinctive phrases of benzokit._disclaimer.DISCLAIMER (Rich wraps help text, so normalise).
PHRASES = (
    "decision support for clinicians",
    "never proposes stopping a benzodiazepine abruptly",
)


def _assert_disclaimer(text: str) -> None:
    flat = normalise(text)
    for phrase in PHRASES:
        assert phrase in DISCLAIMER
        assert phrase in flat, f"{phrase!r} missing from help"


@pytest.mark.parametrize("command", [[], ["simulate"]])
def test_help_shows_the_disclaimer_end_to_end(command: list[str], run_cli: RunCli) -> None:
    outcome = run_cli(*command, "--help")
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stdout + outcome.stderr
    _assert_disclaimer(outcome.stdout)
    assert "Usage: benzokit" in outcome.stdout


def test_top_level_help_lists_the_commands() -> None:
    outcome = invoke_benzokit(["--help"])
    assert outcome.exit_code == 0
    text = normalise(outcome.stdout)
    for command in ("simulate", "drugs", "drug", "demo"):
        assert f" {command} " in f" {text} "


def test_simulate_help_lists_every_option() -> None:
    outcome = invoke_benzokit(["simulate", "--help"])
    assert outcome.exit_code == 0
    text = normalise(outcome.stdout)
    for option in (
        "--regimen", "--dose", "--once", "--frequency", "--days", "--step-h", "--weight",
        "--age", "--with", "--comedication-model", "--steady-state", "--json", "--csv", "--plot",
    ):  # fmt: skip
        assert option in text


@pytest.mark.parametrize("command", [["drugs"], ["drug"], ["demo"]])
def test_other_commands_help_shows_the_disclaimer(command: list[str]) -> None:
    outcome = invoke_benzokit([*command, "--help"])
    assert outcome.exit_code == 0
    assert outcome.exception is None
    assert f"Usage: benzokit {command[0]}" in normalise(outcome.stdout)
    _assert_disclaimer(outcome.stdout)


def test_no_arguments_shows_help() -> None:
    outcome = invoke_benzokit([])
    assert outcome.exception is None
    assert outcome.exit_code in (0, 2)  # Click >= 8.2 exits 2 for no_args_is_help
    _assert_disclaimer(outcome.stdout + outcome.stderr)
