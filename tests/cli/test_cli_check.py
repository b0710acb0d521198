"""``benzokit check``: the issue's command end to end, the table, and bad input (exit 2, no traceback)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cli_support import Outcome, invoke_benzokit, normalise

from benzokit.knowledge import Knowledge

RunCli = Callable[..., Outcome]
ISSUE = (
    "check", "--drug", "clonazepam", "--daily-dose", "6mg", "--indication", "panic",
    "--age", "72", "--with", "oxycodone,gabapentin", "--json",
)  # fmt: skip
BASE = ("check", "--drug", "clonazepam", "--daily-dose", "1mg")


def test_the_issue_command_prints_the_expected_findings_as_json(run_cli: RunCli) -> None:
    outcome = run_cli(*ISSUE)
    assert outcome.exit_code == 0, outcome.stderr
    payload = json.loads(outcome.stdout)
    assert set(payload) == {"findings", "disclaimer"}
    by_code = {f["code"]: f for f in payload["findings"]}
    assert {c for c, f in by_code.items() if f["severity"] == "critical"} == {
        "BZK-DOSE-ABOVE-LABEL-MAX",
        "BZK-OPIOID-COUSE",
    }
    assert {
        "BZK-BEERS-BENZODIAZEPINE",
        "BZK-BEERS-CNS-ACTIVE-3",
        "BZK-BEERS-OPIOID-GABAPENTINOID",
        "BZK-GABAPENTINOID-COUSE",
    } <= set(by_code)
    for finding in payload["findings"]:
        assert set(finding) <= {
            "code",
            "severity",
            "message",
            "source",
            "action",
            "knowledge_version",
        }
        assert {"code", "severity", "message", "source"} <= set(finding)
        assert finding["knowledge_version"] == Knowledge.shipped().version
        assert finding["source"]
    assert payload["findings"][0]["severity"] == "critical"
    assert "decision support" in payload["disclaimer"]


def test_repeated_and_comma_separated_options_are_the_same() -> None:
    split = invoke_benzokit((*BASE, "--with", "oxycodone", "--with", "gabapentin", "--condition",
                             "copd", "--condition", "sleep apnea", "--json"))  # fmt: skip
    joined = invoke_benzokit((*BASE, "--with", "oxycodone,gabapentin", "--condition",
                              "copd,sleep apnea", "--json"))  # fmt: skip
    assert split.exit_code == joined.exit_code == 0
    assert json.loads(split.stdout) == json.loads(joined.stdout)
    codes = {f["code"] for f in json.loads(split.stdout)["findings"]}
    assert {"BZK-RESPIRATORY", "BZK-SLEEP-APNOEA", "BZK-OPIOID-COUSE"} <= codes


def test_a_paediatric_start_in_mg_per_kg() -> None:
    outcome = invoke_benzokit(("check", "--drug", "clonazepam", "--daily-dose", "0.1mg/kg",
                               "--weight", "20kg", "--age", "6", "--indication", "seizure",
                               "--start", "--json"))  # fmt: skip
    assert outcome.exit_code == 0, outcome.stderr
    codes = {f["code"]: f["severity"] for f in json.loads(outcome.stdout)["findings"]}
    assert codes["BZK-PAED-START-ABOVE-MAX"] == "critical"


def test_the_table_shows_severity_code_and_source_and_the_disclaimer() -> None:
    outcome = invoke_benzokit(ISSUE[:-1])
    assert outcome.exit_code == 0, outcome.stderr
    text = normalise(outcome.stdout)
    for phrase in ("critical", "BZK-OPIOID-COUSE", "Klonopin", "decision support"):
        assert phrase in text


def test_no_findings_is_said_plainly() -> None:
    outcome = invoke_benzokit((*BASE, "--indication", "panic", "--age", "40"))
    assert outcome.exit_code == 0
    assert "No findings" in normalise(outcome.stdout)


CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "drug-unknown": (("check", "--drug", "clonazepom", "--daily-dose", "1mg"), ("drug", "clonazepam")),
    "dose-negative": (("check", "--drug", "clonazepam", "--daily-dose", "-1mg"), ("--daily-dose",)),
    "dose-zero": ((*BASE[:-1], "0mg"), ("--daily-dose", "greater than zero")),
    "dose-no-unit": (("check", "--drug", "clonazepam", "--daily-dose", "6"), ("--daily-dose", "mg")),
    "dose-per-kg-no-weight": ((*BASE[:-1], "0.1mg/kg"), ("--daily-dose", "body weight")),
    "indication-unknown": (
        (*BASE, "--indication", "insomnia"),
        ("--indication", "'insomnia'", "seizure, panic"),
    ),
    "condition-unknown": (
        (*BASE, "--condition", "gout"),
        ("--condition", "'gout'", "pregnancy", "sleep_apnoea"),
    ),
    "agent-unknown": ((*BASE, "--with", "unobtainium"), ("--with", "'unobtainium'", "oxycodone")),
    "age-negative": ((*BASE, "--age", "-4"), ("--age", "between 0 and 120")),
    "age-too-old": ((*BASE, "--age", "200"), ("--age", "between 0 and 120")),
    "weight-bad": ((*BASE, "--weight", "heavy"), ("--weight", "70kg")),
    "weight-zero": ((*BASE, "--weight", "0kg"), ("--weight", "between 0.5 and 350 kg")),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_with_a_message_naming_the_option(case: str) -> None:
    args, phrases = CASES[case]
    outcome = invoke_benzokit(args)
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 2, (outcome.stdout, outcome.stderr)
    assert outcome.stdout == ""
    text = normalise(outcome.stderr)
    assert "Traceback" not in text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


def test_bad_input_end_to_end_has_no_traceback(run_cli: RunCli) -> None:
    outcome = run_cli("check", "--drug", "clonazepam", "--daily-dose", "6mg", "--condition", "gout")
    assert outcome.exit_code == 2
    assert "Traceback" not in outcome.stderr and "--condition" in outcome.stderr
