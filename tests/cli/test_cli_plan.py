"""``benzokit plan taper`` and ``benzokit plan titrate``: the issue's commands end to end, the plan JSON
(every strategy, liquid, target, strengths, titration), the checker's findings on plans, and bad input.

The plan JSON contract (README, "Plan JSON"): a plan is ``{"drug", "strategy", "steps", "findings"}``;
each step has ``start_day``/``end_day`` (day 0 = plan start, end exclusive), ``daily_dose_mg`` and
``doses``; each dose has ``drug``, ``time`` ("08:00"), ``dose_mg`` and ``products`` that add up to it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_support import Outcome, invoke_benzokit, normalise
from fhir.resources.R4B.medicationrequest import MedicationRequest
from icalendar import Calendar
from pypdf import PdfReader

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.plan import option_for
from benzokit.plan import fields

RunCli = Callable[..., Outcome]
Json = dict[str, Any]

TAPER = ("plan", "taper", "clonazepam")
TITRATE = ("plan", "titrate", "clonazepam")
CUSTOM_STEPS = "1.5 mg/day x 14 days, hold x 7 days, 1 mg/day x 14 days"
STRATEGY_ARGS: dict[str, tuple[str, ...]] = {
    "label": ("--strategy", "label"),
    "guideline": ("--strategy", "guideline"),
    "hyperbolic": ("--strategy", "hyperbolic"),
    "diazepam-switch": ("--strategy", "diazepam-switch"),
    "custom": ("--strategy", "custom", "--steps", CUSTOM_STEPS),
}
FROM_TEXTS = ("2 mg/day", "1 mg bid")
NON_INCREASING = frozenset({"label", "guideline", "hyperbolic"})
SEVERITIES = frozenset({"info", "warning", "critical"})
FORMS = frozenset({"tablet", "odt", "liquid"})
SPLIT_QUANTITIES = frozenset({0.25, 0.5})
CLONAZEPAM_STRENGTHS_MG = ("0.125", "0.25", "0.5", "1", "2")
TOL = 1e-9
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ISSUE_START = date(2027, 1, 4)
MAX_MESSAGE_LINES = 8


# ---------------------------------------------------------------------------------------------------
# helpers


def _plan(*args: str) -> Json:
    """Run ``benzokit <args> --json`` in-process; it must succeed cleanly and print one JSON object."""
    outcome = invoke_benzokit([*args, "--json"])
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr == ""
    data = json.loads(outcome.stdout)
    assert isinstance(data, dict)
    return data


def _doses(plan: Json) -> Iterator[tuple[Json, Json]]:
    for step in plan["steps"]:
        for dose in step["doses"]:
            yield step, dose


def _products(plan: Json) -> Iterator[Json]:
    for _, dose in _doses(plan):
        yield from dose["products"]


def _is_whole(x: float) -> bool:
    return abs(x - round(x)) <= TOL


def _check_product(product: Json, *, strict_quantities: bool) -> float:
    """The product's mg after checking its keys and values; ``strict_quantities``: 0.25, 0.5, 1, 2, ..."""
    assert product["form"] in FORMS, product
    if product["form"] == "liquid":
        assert set(product) >= {"concentration_mg_ml", "volume_ml"}, product
        assert product["concentration_mg_ml"] > 0
        assert product["volume_ml"] > 0
        return float(product["concentration_mg_ml"] * product["volume_ml"])
    assert set(product) >= {"strength_mg", "quantity"}, product
    quantity, strength = product["quantity"], product["strength_mg"]
    assert strength > 0
    assert quantity > 0
    if product["form"] == "odt":
        assert _is_whole(quantity), f"an ODT is never split: {product}"
    if strict_quantities:
        assert quantity in SPLIT_QUANTITIES or _is_whole(quantity), product
    else:
        assert _is_whole(quantity * 4), product
    return float(strength * quantity)


def check_plan_json(
    plan: Json, *, strategy: str | None = None, strict_quantities: bool = True
) -> None:
    """Every key of the documented plan JSON, and the arithmetic that holds it together."""
    assert set(plan) >= {"drug", "strategy", "steps", "findings"}
    assert plan["drug"] == "clonazepam"
    if strategy is not None:
        assert plan["strategy"] == strategy
    steps = plan["steps"]
    assert steps, "a plan has at least one step"
    assert steps[0]["start_day"] == 0, "day 0 is the plan's start"
    previous_end = 0
    for step in steps:
        assert set(step) >= {"start_day", "end_day", "daily_dose_mg", "doses"}, step
        assert isinstance(step["start_day"], int) and isinstance(step["end_day"], int)
        assert step["start_day"] == previous_end, "steps are contiguous (end exclusive)"
        assert step["end_day"] > step["start_day"], "a step lasts at least one day"
        previous_end = step["end_day"]
        assert step["doses"], f"a step with no dose: {step}"
        drugs = {d["drug"] for d in step["doses"]}
        for dose in step["doses"]:
            assert set(dose) >= {"drug", "time", "dose_mg", "products"}, dose
            assert CLOCK.match(dose["time"]), dose["time"]
            assert dose["dose_mg"] > 0
            assert dose["products"], dose
            made = sum(
                _check_product(p, strict_quantities=strict_quantities) for p in dose["products"]
            )
            assert math.isclose(made, dose["dose_mg"], rel_tol=0, abs_tol=TOL), dose
        for drug in drugs:
            times = [d["time"] for d in step["doses"] if d["drug"] == drug]
            assert len(times) == len(set(times)), f"one dose of {drug} per clock time: {step}"
        if len(drugs) == 1:
            total = sum(d["dose_mg"] for d in step["doses"])
            assert math.isclose(step["daily_dose_mg"], total, rel_tol=0, abs_tol=TOL), step
    for finding in plan["findings"]:
        assert set(finding) >= {"code", "severity", "message", "source"}, finding
        assert finding["severity"] in SEVERITIES, finding
        for key in ("code", "message", "source"):
            assert isinstance(finding[key], str) and finding[key].strip(), finding
        if "action" in finding:
            assert isinstance(finding["action"], str) and finding["action"].strip(), finding


def _daily(plan: Json) -> list[float]:
    return [float(s["daily_dose_mg"]) for s in plan["steps"]]


def _codes(plan: Json, severity: str | None = None) -> set[str]:
    return {f["code"] for f in plan["findings"] if severity is None or f["severity"] == severity}


# ---------------------------------------------------------------------------------------------------
# 1. the issue's commands, end to end through the console script


def test_issue_titration_command(run_cli: RunCli) -> None:
    outcome = run_cli(*TITRATE, "--indication", "panic", "--weight", "70kg")
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
    text = normalise(outcome.stdout)
    assert "titration-panic" in text
    for days, mg_per_day in (("0–2", "0.5 clonazepam"), ("3–5", "1 clonazepam")):
        assert f"{days} {mg_per_day}" in text, text
    assert "0.25 mg clonazepam" in text and "0.5 mg clonazepam" in text
    assert normalise(DISCLAIMER) in text


def test_issue_taper_command_writes_every_document(run_cli: RunCli, tmp_path: Path) -> None:
    args = (
        *TAPER,
        "--from",
        "1 mg bid",
        "--strategy",
        "hyperbolic",
        "--risk",
        "moderate",
        "--start",
        ISSUE_START.isoformat(),
    )
    outcome = run_cli(*args, "--pdf", "handout.pdf", "--ics", "taper.ics", "--fhir", "request.json")
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
    plan = _plan(*args)  # the same plan as JSON, to compare the documents with
    check_plan_json(plan, strategy="hyperbolic")
    steps = plan["steps"]

    # the table: every step with its days and dates, the findings and the disclaimer
    text = normalise(outcome.stdout)
    for step in steps:
        first = ISSUE_START + timedelta(days=step["start_day"])
        assert f"{step['start_day']}–{step['end_day'] - 1}" in text
        assert f"{first:%d %b %Y}" in text
        assert f"{step['daily_dose_mg']:g} clonazepam" in text
    assert "BZK-TAPER-RATE" in text or "PLAN-FINAL-STEP" in text
    assert normalise(DISCLAIMER) in text
    for name in ("handout.pdf", "taper.ics", "request.json"):
        assert f"wrote {name}" in text or name in text

    # the PDF handout
    pdf = tmp_path / "handout.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 1
    pdf_text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    assert "decision support for clinicians" in pdf_text
    assert "prescriber" in pdf_text

    # the calendar: one all-day event per step, on the step's first date
    calendar = Calendar.from_ical((tmp_path / "taper.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(steps)
    starts = sorted(e.decoded("dtstart") for e in events)
    assert starts == [ISSUE_START + timedelta(days=s["start_day"]) for s in steps]
    assert len({str(e["uid"]) for e in events}) == len(events)

    # FHIR R4(B) MedicationRequest, draft plan, one sequence per step
    document = json.loads((tmp_path / "request.json").read_text(encoding="utf-8"))
    request = MedicationRequest.model_validate(document)
    assert request.status == "draft" and request.intent == "plan"
    dosage = request.dosageInstruction or []
    assert {d.sequence for d in dosage} == set(range(1, len(steps) + 1))
    opening = min(dosage, key=lambda d: d.sequence or 0)
    assert opening.timing is not None and opening.timing.repeat is not None
    period = opening.timing.repeat.boundsPeriod
    assert period is not None and str(period.start).startswith(ISSUE_START.isoformat())
    assert any(DISCLAIMER in (n.text or "") for n in request.note or [])


# ---------------------------------------------------------------------------------------------------
# 2. --json: every strategy, liquid, target, strengths, titration


@pytest.mark.parametrize("from_text", FROM_TEXTS)
@pytest.mark.parametrize("strategy", list(STRATEGY_ARGS))
def test_taper_json_schema_for_every_strategy(strategy: str, from_text: str) -> None:
    plan = _plan(*TAPER, "--from", from_text, *STRATEGY_ARGS[strategy])
    check_plan_json(plan, strategy=strategy)
    daily = _daily(plan)
    assert daily[0] <= 2.0 + TOL or strategy == "diazepam-switch"
    if strategy in NON_INCREASING:
        assert all(b <= a + TOL for a, b in itertools.pairwise(daily)), daily
        assert daily[0] < 2.0, "the first step is already a cut"
    if strategy == "custom":
        assert daily == [1.5, 1.5, 1.0]
        assert [s["kind"] for s in plan["steps"]] == ["dose", "hold", "dose"]
        assert [(s["start_day"], s["end_day"]) for s in plan["steps"]] == [
            (0, 14),
            (14, 21),
            (21, 35),
        ]
    if strategy == "diazepam-switch":
        drugs = {dose["drug"] for _, dose in _doses(plan)}
        assert drugs == {"clonazepam", "diazepam"}
        last = plan["steps"][-1]
        assert {d["drug"] for d in last["doses"]} == {"diazepam"}


def test_both_ways_of_giving_the_dose_give_the_same_plan() -> None:
    per_day = _plan(*TAPER, "--from", "2 mg/day", "--strategy", "guideline")
    regimen = _plan(*TAPER, "--from", "1 mg bid", "--strategy", "guideline")
    assert per_day["steps"] == regimen["steps"]


def test_liquid_gives_syringe_volumes() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--liquid")
    check_plan_json(plan, strategy="guideline")
    liquids = [p for p in _products(plan) if p["form"] == "liquid"]
    assert liquids, "--liquid must give liquid doses where tablets cannot make the step"
    for product in liquids:
        hundredths = product["volume_ml"] / 0.01
        assert abs(hundredths - round(hundredths)) <= TOL, product
    # the liquid allows smaller final steps than the 0.125 mg tablet
    assert _daily(plan)[-1] < 0.125
    assert "PLAN-LIQUID" in _codes(plan)


@pytest.mark.parametrize("from_text", FROM_TEXTS)
def test_target_ends_at_the_target(from_text: str) -> None:
    plan = _plan(*TAPER, "--from", from_text, "--target", "0.5 mg/day")
    check_plan_json(plan, strategy="guideline")
    daily = _daily(plan)
    assert math.isclose(daily[-1], 0.5, abs_tol=TOL)
    assert min(daily) >= 0.5 - TOL
    # the plan keeps 0.5 mg/day: it does not stop, so the checker has no abrupt stop to report
    assert not {c for c in _codes(plan) if c.startswith("BZK-ABRUPT-STOP")}


def test_strengths_restrict_the_tablets() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--strengths", "0.5mg")
    check_plan_json(plan, strategy="guideline", strict_quantities=False)
    products = list(_products(plan))
    assert products
    assert {(p["form"], p["strength_mg"]) for p in products} == {("tablet", 0.5)}
    assert any(p["quantity"] % 1 for p in products), "0.25 mg doses come from split 0.5 mg tablets"


def test_split_pieces_are_listed_apart_from_whole_tablets() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--strengths", "0.5mg")
    check_plan_json(plan, strategy="guideline", strict_quantities=True)


def test_no_odt_uses_tablets_only() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--no-odt", "--strategy", "label")
    check_plan_json(plan, strategy="label", strict_quantities=False)
    assert {p["form"] for p in _products(plan)} == {"tablet"}


def test_times_are_used_and_normalised() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--times", "9pm, 7am", "--strategy", "label")
    check_plan_json(plan, strategy="label")
    assert {d["time"] for _, d in _doses(plan)} == {"07:00", "21:00"}


def test_titration_json_panic() -> None:
    plan = _plan(*TITRATE, "--indication", "panic")
    check_plan_json(plan, strategy="titration-panic")
    first, last = plan["steps"][0], plan["steps"][-1]
    assert math.isclose(first["daily_dose_mg"], 0.5, abs_tol=TOL)
    assert [d["dose_mg"] for d in first["doses"]] == [0.25, 0.25]
    assert math.isclose(last["daily_dose_mg"], 1.0, abs_tol=TOL)
    daily = _daily(plan)
    assert all(b >= a - TOL for a, b in itertools.pairwise(daily)), daily
    assert "PLAN-TITRATION" in _codes(plan)
    # a titration ends on its maintenance dose: it is not an abrupt stop
    assert not _codes(plan, "critical"), plan["findings"]


def test_titration_json_paediatric_seizure() -> None:
    weight_kg = 20.0
    plan = _plan(*TITRATE, "--indication", "seizure", "--weight", "20kg", "--age", "6")
    check_plan_json(plan, strategy="titration-seizure")
    daily = _daily(plan)
    assert 0 < daily[0] <= 0.05 * weight_kg + TOL, "label: start at most 0.05 mg/kg/day"
    assert all(b >= a - TOL for a, b in itertools.pairwise(daily)), daily
    assert all(b - a <= 0.5 + TOL for a, b in itertools.pairwise(daily)), daily
    assert all(s["end_day"] - s["start_day"] >= 3 for s in plan["steps"][:-1])
    assert daily[-1] <= 0.2 * weight_kg + TOL, "label: maintenance at most 0.2 mg/kg/day"


def test_titration_is_checked_against_its_own_indication() -> None:
    plan = _plan(*TITRATE, "--indication", "panic")
    assert "BZK-INDICATION-NOT-GIVEN" not in _codes(plan)


@pytest.mark.parametrize(
    "strategy",
    [
        "label",
        "guideline",
        "hyperbolic",
    ],
)
def test_each_clock_dose_never_increases(strategy: str) -> None:
    plan = _plan(*TAPER, "--from", "1 mg bid", *STRATEGY_ARGS[strategy])
    previous: dict[str, float] = {}
    for step in plan["steps"]:
        now = {d["time"]: float(d["dose_mg"]) for d in step["doses"]}
        for time, mg in now.items():
            assert mg <= previous.get(time, math.inf) + TOL, (strategy, step)
        assert set(now) <= set(previous) or not previous, f"a dose time reappears: {step}"
        previous = now


def test_guideline_with_weekly_cuts_is_contiguous() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--interval-days", "7")
    check_plan_json(plan, strategy="guideline")


# ---------------------------------------------------------------------------------------------------
# 3. the safety checker's findings on plans


def test_label_plan_carries_the_taper_rate_warning() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", "--strategy", "label")
    rate = [f for f in plan["findings"] if f["code"] == "BZK-TAPER-RATE"]
    assert rate, plan["findings"]
    assert rate[0]["severity"] == "warning"
    assert "2025" in rate[0]["source"] or "Guideline" in rate[0]["source"]
    assert not _codes(plan, "critical"), "the label's own stop is recorded, not critical"


@pytest.mark.parametrize("from_text", FROM_TEXTS)
def test_guideline_plan_has_no_critical_finding(from_text: str) -> None:
    plan = _plan(*TAPER, "--from", from_text, "--strategy", "guideline")
    assert not _codes(plan, "critical"), plan["findings"]


def test_custom_plan_ending_above_zero_is_flagged() -> None:
    plan = _plan(*TAPER, "--from", "2 mg/day", *STRATEGY_ARGS["custom"])
    assert "BZK-ABRUPT-STOP" in _codes(plan, "critical")


# ---------------------------------------------------------------------------------------------------
# 4. bad input: exit 2, one message naming the option and what is allowed, nothing written

FROM = ("--from", "2 mg/day")

# (arguments, phrases the message must contain)
BAD: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "unknown-strategy": ((*TAPER, *FROM, "--strategy", "slow"), ("--strategy", "label", "custom")),
    "unknown-drug": (("plan", "taper", "clonazepamx", *FROM), ("drug", "clonazepam")),
    "from-banana": ((*TAPER, "--from", "banana"), ("--from", "'banana'", "2 mg/day", "1 mg bid")),
    "from-every-8-hours": ((*TAPER, "--from", "1 mg q8h"), ("--from", "2 mg/day")),
    "titrate-target-above-max": (
        (*TITRATE, "--indication", "panic", "--target", "6 mg/day"),
        ("--target", "6 mg/day", "4 mg/day"),
    ),
    "interval-zero": ((*TAPER, *FROM, "--interval-days", "0"), ("--interval-days", "at least 1")),
    "interval-negative": (
        (*TAPER, *FROM, "--interval-days", "-3"),
        ("--interval-days", "-3", "at least 1"),
    ),
    "reduction-above-one": (
        (*TAPER, *FROM, "--reduction", "1.5"),
        ("--reduction", "1.5", "between 0 and 1"),
    ),
    "hold-negative": ((*TAPER, *FROM, "--hold-days", "-1"), ("--hold-days", "0 or more")),
    "strength-missing": (
        (*TAPER, *FROM, "--strengths", "0.75mg"),
        ("--strengths", "0.75 mg", *CLONAZEPAM_STRENGTHS_MG),
    ),
    "start-not-a-date": (
        (*TAPER, *FROM, "--start", "2027-13-45"),
        ("--start", "2027-13-45", "YYYY-MM-DD"),
    ),
    "ics-without-start": ((*TAPER, *FROM, "--ics", "{tmp}/taper.ics"), ("--ics", "--start")),
    "label-without-schedule": (
        ("plan", "taper", "lorazepam", *FROM, "--strategy", "label"),
        ("--strategy", "label", "lorazepam", "another strategy"),
    ),
    "custom-without-steps": (
        (*TAPER, *FROM, "--strategy", "custom"),
        ("--steps", "1.5 mg/day x 14 days"),
    ),
    "custom-rising-step": (
        (
            *TAPER,
            *FROM,
            "--strategy",
            "custom",
            "--steps",
            "1.5 mg/day x 7 days, 2 mg/day x 7 days",
        ),
        ("--steps step 2", "at most the previous 1.5 mg/day"),
    ),
    "custom-step-not-makeable": (  # issue 9: was a traceback (a bare ValueError)
        (*TAPER, "--from", "1 mg bid", "--strategy", "custom", "--steps", "1.33 mg/day x 14 days"),
        ("--steps step 1", "1.33 mg/day", "products can make"),
    ),
    "target-above-from": (
        (*TAPER, *FROM, "--target", "3 mg/day"),
        ("--target", "3 mg/day", "below the starting dose"),
    ),
    "unknown-indication": (
        (*TITRATE, "--indication", "insomnia"),
        ("--indication", "insomnia", "panic", "seizure"),
    ),
    "from-not-makeable": (
        (*TAPER, "--from", "0.3 mg/day"),
        ("--from", "0.3 mg/day", "products can make", "0.375"),
    ),
    "times-not-a-clock": ((*TAPER, *FROM, "--times", "25:00"), ("--times", "25:00", "23:59")),
    "market-without-tablets": ((*TAPER, *FROM, "--market", "UK"), ("--market", "UK", "US")),
    "age-negative": (
        (*TITRATE, "--indication", "panic", "--age", "-3"),
        ("--age", "between 0 and 120"),
    ),
}
# the same documents on every case, so that "nothing written" is tested too
DOCUMENTS = (
    "--pdf",
    "{tmp}/handout.pdf",
    "--fhir",
    "{tmp}/request.json",
    "--csv",
    "{tmp}/plan.csv",
)
END_TO_END = (
    "unknown-strategy",
    "from-banana",
    "strength-missing",
    "ics-without-start",
    "custom-step-not-makeable",
)


def _bad_args(case: str, tmp_path: Path) -> list[str]:
    args, _ = BAD[case]
    return [a.replace("{tmp}", str(tmp_path)) for a in (*args, *DOCUMENTS)]


def _assert_clean_input_error(outcome: Outcome, phrases: tuple[str, ...], tmp_path: Path) -> None:
    assert outcome.exit_code == 2, (outcome.exit_code, outcome.stdout, outcome.stderr)
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.stdout.strip() == "", outcome.stdout
    assert "Traceback" not in outcome.stderr
    assert outcome.stderr.strip(), "the message goes to stderr"
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) <= MAX_MESSAGE_LINES, outcome.stderr
    message = normalise(outcome.stderr)
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing is written on bad input"


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case: str, tmp_path: Path) -> None:
    outcome = invoke_benzokit(_bad_args(case, tmp_path))
    _assert_clean_input_error(outcome, BAD[case][1], tmp_path)
    if case != "unknown-strategy":  # Typer's own usage error has its box; ours is one paragraph
        assert "\n\n" not in outcome.stderr.strip()
        assert normalise(outcome.stderr).startswith("input error:")


@pytest.mark.parametrize("case", END_TO_END)
def test_bad_input_end_to_end(case: str, run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli(*_bad_args(case, tmp_path))
    _assert_clean_input_error(outcome, BAD[case][1], tmp_path)


def test_a_dose_above_the_label_maximum_is_not_an_input_error_for_a_taper() -> None:
    plan = _plan(*TAPER, "--from", "5 mg/day")
    check_plan_json(plan, strategy="guideline")
    assert _daily(plan)[0] < 5.0


def test_every_planner_field_has_its_option() -> None:
    """The CLI's one mapping covers every field path the planner names (benzokit.plan.fields)."""
    paths = [v for k, v in vars(fields).items() if k.isupper() and isinstance(v, str)]
    for path in paths:
        option = option_for(path)
        assert option.startswith("--") or path == fields.DRUG, (path, option)
    assert option_for(fields.taper_step(1)) == "--steps step 2"
