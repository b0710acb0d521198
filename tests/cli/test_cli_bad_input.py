"""Bad input to every option and command: exit code 2, one short message naming the option and
what is allowed, nothing on stdout, and never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Outcome, invoke_benzokit, normalise

RunCli = Callable[..., Outcome]
SIM = ("simulate", "clonazepam")
DOSE = (*SIM, "--dose", "2mg")
MAX_MESSAGE_LINES = 8

# (arguments, phrases the message must contain: the option or field, and what is allowed)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # --dose
    "dose-negative": ((*SIM, "--dose", "-1mg", "--once"), ("--dose", "'-1mg'", "positive number")),
    "dose-zero": ((*SIM, "--dose", "0mg", "--once"), ("--dose", "greater than zero")),
    "dose-zero-ug": ((*SIM, "--dose", "0ug"), ("--dose", "greater than zero")),
    "dose-unitless": ((*SIM, "--dose", "2", "--once"), ("--dose", "mg, µg")),
    "dose-unknown-unit": ((*SIM, "--dose", "2g", "--once"), ("--dose", "'2g'", "mg, µg")),
    "dose-per-day": ((*SIM, "--dose", "2 mg/day"), ("--dose", "mg/kg")),
    "dose-per-lb": ((*SIM, "--dose", "0.1mg/lb"), ("--dose", "mg/kg")),
    "dose-text": ((*SIM, "--dose", "abc mg"), ("--dose", "a positive number with a unit")),
    "dose-empty": ((*SIM, "--dose", ""), ("--dose", "a positive number")),
    "dose-missing-value": ((*SIM, "--dose"), ("'--dose'", "requires an argument")),
    "dose-per-kg-no-weight": ((*SIM, "--dose", "0.01mg/kg"), ("--weight", "mg/kg", "body weight")),
    # drug
    "drug-unknown": (
        ("simulate", "diazepamx", "--dose", "2mg"),
        ("drug", "'diazepamx'", "clonazepam"),
    ),
    "drug-empty": (("simulate", "", "--dose", "2mg"), ("drug", "known values are:", "clonazepam")),
    "drug-missing": (("simulate",), ("Missing argument", "drug")),
    # --regimen / --dose / --once / --frequency
    "regimen-and-dose": (
        (*SIM, "--regimen", "0.5 mg bid", "--dose", "2mg"),
        ("--regimen/--dose", "not both"),
    ),
    "neither-regimen-nor-dose": (SIM, ("--regimen/--dose", "--dose 2mg")),
    "frequency-unknown": (
        (*DOSE, "--frequency", "weekly"),
        ("--frequency", "'weekly'", "bid", "qNh"),
    ),
    "frequency-zero-interval": ((*DOSE, "--frequency", "q0h"), ("--frequency", "interval between")),
    "frequency-bad-clock": ((*DOSE, "--frequency", "at 25:00"), ("--frequency", "00:00 to 23:59")),
    "frequency-with-duration": (
        (*DOSE, "--frequency", "bid x 3 days"),
        ("--frequency", "--regimen"),
    ),
    "frequency-with-phases": ((*DOSE, "--frequency", "bid, then 5 mg qd"), ("--frequency",)),
    "frequency-with-regimen": (
        (*SIM, "--regimen", "0.5 mg bid", "--frequency", "tid"),
        ("--frequency", "goes with --dose"),
    ),
    "once-with-regimen": (
        (*SIM, "--regimen", "0.5 mg bid", "--once"),
        ("--once", "goes with --dose"),
    ),
    "once-and-frequency": ((*DOSE, "--once", "--frequency", "bid"), ("--once/--frequency",)),
    "steady-state-single-dose": (
        (*DOSE, "--once", "--steady-state"),
        ("steady state", "repeating"),
    ),
    # --regimen text
    "regimen-banana": (
        (*SIM, "--regimen", "banana"),
        ("regimen", "'banana'", "a dose with a unit"),
    ),
    "regimen-empty": ((*SIM, "--regimen", ""), ("regimen", "0.5 mg bid x 14 days")),
    "regimen-negative-duration": (
        (*SIM, "--regimen", "0.5 mg bid x -3 days"),
        ("regimen duration", "'-3 days'", "a positive duration"),
    ),
    "regimen-zero-duration": ((*SIM, "--regimen", "0.5 mg bid x 0 days"), ("duration", "positive")),
    "regimen-unknown-duration-unit": (
        (*SIM, "--regimen", "0.5 mg bid x 3 fortnights"),
        ("regimen duration", "'3 fortnights'", "14 days, 2 weeks"),
    ),
    "regimen-duplicate-time": (
        (*SIM, "--regimen", "1 mg at 08:00 and 2 mg at 08:00"),
        ("regimen", "each dose time given once"),
    ),
    "regimen-bad-clock": ((*SIM, "--regimen", "1 mg at 25:00"), ("time of day", "00:00 to 23:59")),
    "regimen-dangling-then": (
        (*SIM, "--regimen", "0.5 mg bid, then"),
        ("regimen phase 2", "a dose and how often"),
    ),
    "regimen-open-first-phase": (
        (*SIM, "--regimen", "0.5 mg bid, then 0.25 mg bid x 7 days"),
        ("regimen", "needs a duration"),
    ),
    "regimen-unknown-frequency": (
        (*SIM, "--regimen", "0.5 mg fortnightly"),
        ("regimen frequency", "'fortnightly'", "bid"),
    ),
    "regimen-zero-interval": ((*SIM, "--regimen", "0.5 mg q0h"), ("regimen interval", "between")),
    "regimen-zero-dose": ((*SIM, "--regimen", "0 mg bid"), ("regimen dose", "greater than zero")),
    "regimen-per-kg-no-weight": (
        (*SIM, "--regimen", "0.01 mg/kg bid"),
        ("--weight", "needs a body weight"),
    ),
    # --weight
    "weight-text": ((*DOSE, "--weight", "abc"), ("--weight", "'abc'", "between 0.5 and 350 kg")),
    "weight-zero": ((*DOSE, "--weight", "0kg"), ("--weight", "between 0.5 and 350 kg")),
    "weight-negative": ((*DOSE, "--weight", "-70kg"), ("--weight", "between 0.5 and 350 kg")),
    "weight-huge": (
        (*DOSE, "--weight", "900kg"),
        ("--weight", "'900kg'", "between 0.5 and 350 kg"),
    ),
    "weight-huge-lb": ((*DOSE, "--weight", "1000lb"), ("--weight", "between 0.5 and 350 kg")),
    "weight-stone": ((*DOSE, "--weight", "70 stone"), ("--weight", "70kg or 154lb")),
    "weight-empty": ((*DOSE, "--weight", ""), ("--weight", "70kg or 154lb")),
    # --age
    "age-negative": ((*DOSE, "--age", "-5"), ("--age", "between 0 and 120")),
    "age-huge": ((*DOSE, "--age", "500"), ("--age", "between 0 and 120")),
    "age-text": ((*DOSE, "--age", "old"), ("'--age'", "valid number")),
    # --days
    "days-negative": ((*DOSE, "--days", "-1"), ("--days", "greater than 0 and at most 3650")),
    "days-zero": ((*DOSE, "--days", "0"), ("--days", "greater than 0")),
    "days-huge": ((*DOSE, "--days", "1e9"), ("--days", "at most 3650")),
    "days-nan": ((*DOSE, "--days", "nan"), ("--days", "greater than 0")),
    "days-inf": ((*DOSE, "--days", "inf"), ("--days", "at most 3650")),
    "days-text": ((*DOSE, "--days", "abc"), ("'--days'", "valid number")),
    "regimen-longer-than-a-run": (
        ("simulate", "clonazepam", "--regimen", "0.5 mg/day x 99999 days"),
        ("--regimen", "'99999 days'", "at most 3647 days", "give --days"),
    ),
    # --step-h
    "step-zero": ((*DOSE, "--step-h", "0"), ("--step-h", "greater than 0 hours")),
    "step-negative": ((*DOSE, "--step-h", "-1"), ("--step-h", "greater than 0 hours")),
    "step-nan": ((*DOSE, "--step-h", "nan"), ("--step-h", "greater than 0 hours")),
    "step-longer-than-run": ((*DOSE, "--days", "3", "--step-h", "100"), ("--step-h", "72 h")),
    "step-too-fine": ((*DOSE, "--days", "3", "--step-h", "1e-9"), ("--step-h", "output points")),
    # --with, --comedication-model
    "with-unknown": (
        (*DOSE, "--with", "grapefruitx"),
        ("--with", "'grapefruitx'", "carbamazepine"),
    ),
    "with-one-unknown": (
        (*DOSE, "--with", "carbamazepine,unobtainium"),
        ("--with", "'unobtainium'"),
    ),
    "comedication-model-unknown": (
        (*DOSE, "--comedication-model", "foo"),
        ("'--comedication-model'", "'label', 'yukawa2002'"),
    ),
    # output options
    "json-and-csv": ((*DOSE, "--json", "--csv"), ("--json/--csv", "choose one")),
    "plot-not-png": ((*DOSE, "--plot", "{tmp}/conc.txt"), ("--plot", "ending in .png")),
    "plot-is-a-folder": ((*DOSE, "--plot", "{tmp}"), ("--plot", "ending in .png")),
    "plot-under-a-file": ((*DOSE, "--plot", "{tmp}/a-file/conc.png"), ("--plot", "write a PNG")),
    "unknown-option": ((*DOSE, "--bogus"), ("No such option", "--bogus")),
    # other commands
    "drug-command-unknown": (("drug", "diazepamx"), ("drug", "'diazepamx'", "known values are")),
    "drug-command-missing": (("drug",), ("Missing argument", "'name'")),
    "drugs-extra-argument": (("drugs", "clonazepam"), ("unexpected extra argument",)),
    "demo-out-is-a-file": (("demo", "--out", "{tmp}/a-file"), ("--out", "a folder")),
    "unknown-command": (("frobnicate",), ("No such command", "frobnicate")),
}


def _args(args: tuple[str, ...], tmp_path: Path) -> list[str]:
    (tmp_path / "a-file").write_text("not a folder")
    return [a.replace("{tmp}", str(tmp_path)) for a in args]


def _assert_clean_input_error(outcome: Outcome, phrases: tuple[str, ...]) -> None:
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 2, (outcome.stdout, outcome.stderr)
    everything = outcome.stdout + outcome.stderr
    assert "Traceback" not in everything
    assert outcome.stdout == ""
    message = outcome.stderr.strip()
    assert message
    lines = message.splitlines()
    assert "" not in (line.strip() for line in lines), "one paragraph, no blank lines"
    assert len(lines) <= MAX_MESSAGE_LINES
    text = normalise(message)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


@pytest.mark.parametrize(("args", "phrases"), list(CASES.values()), ids=list(CASES))
def test_bad_input_in_process(
    args: tuple[str, ...], phrases: tuple[str, ...], tmp_path: Path
) -> None:
    _assert_clean_input_error(invoke_benzokit(_args(args, tmp_path)), phrases)


END_TO_END = [
    "dose-unitless",
    "drug-unknown",
    "regimen-banana",
    "dose-per-kg-no-weight",
    "weight-stone",
    "with-unknown",
    "comedication-model-unknown",
    "drug-command-unknown",
]


@pytest.mark.parametrize("case", END_TO_END)
def test_bad_input_end_to_end(case: str, run_cli: RunCli, tmp_path: Path) -> None:
    args, phrases = CASES[case]
    outcome = run_cli(*_args(args, tmp_path))
    _assert_clean_input_error(outcome, phrases)
    assert outcome.stderr.lstrip().startswith(("input error:", "Usage:"))


def test_unknown_drug_lists_the_known_drugs() -> None:
    from benzokit.drugs import list_drugs

    outcome = invoke_benzokit(["simulate", "nosuchdrug", "--dose", "2mg"])
    assert outcome.exit_code == 2
    known = list_drugs()
    assert known
    for name in known:
        assert name in outcome.stderr
