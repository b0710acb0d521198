"""`benzokit simulate --pd`: occupancy, effect, tolerance and withdrawal beside the concentration.

The issue's command end to end, the documented JSON/CSV additions, the behaviour the PD model must
show on "1 mg bid x 90 days" (adaptation over weeks, withdrawal peaking days after the last dose),
and every bad combination of the new options.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_support import PNG_MAGIC, Outcome, invoke_benzokit, normalise

from benzokit._disclaimer import DISCLAIMER

RunCli = Callable[..., Outcome]
ISSUE_REGIMEN = "1 mg bid x 90 days"
REGIMEN_DAYS = 90
LAST_DOSE_H = (REGIMEN_DAYS - 1) * 24.0 + 20.0  # bid: 08:00 and 20:00
PD_ARRAYS = ("occupancy", "effect", "adaptation", "net_effect", "withdrawal_index")
PD_SUMMARY_KEYS = {
    "peak_withdrawal_index", "peak_withdrawal_time_h", "final_adaptation", "max_occupancy",
}  # fmt: skip
DRUGS = ("clonazepam", "lorazepam", "diazepam")
OCCUPANCY_SETS = ("fujita1999", "horowitz_maudsley")


def _ok(outcome: Outcome) -> None:
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert outcome.stderr == ""


def _pd_json(drug: str, *args: str) -> dict[str, Any]:
    outcome = invoke_benzokit(["simulate", drug, "--pd", "--json", *args])
    _ok(outcome)
    payload: dict[str, Any] = json.loads(outcome.stdout)
    return payload


def _value_at(payload: dict[str, Any], key: str, time_h: float) -> float:
    times = np.asarray(payload["time_h"])
    return float(payload[key][int(np.searchsorted(times, time_h))])


# --- the issue's command, end to end -----------------------------------------------------------


def test_issue_command_writes_the_pd_plot_and_prints_the_pd_section(
    run_cli: RunCli, tmp_path: Path
) -> None:
    png = tmp_path / "pd.png"
    outcome = run_cli("simulate", "clonazepam", "--regimen", ISSUE_REGIMEN, "--pd", "--plot",
                      str(png))  # fmt: skip
    _ok(outcome)
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 30_000  # three panels of dense bid curves, not an empty canvas
    text = normalise(outcome.stdout)
    for phrase in (
        "pharmacodynamics",
        "occupancy set fujita1999",  # the default set, with its description and source
        "Fujita M",
        "C50 (unbound)",
        "tolerance model moderator",
        "peak withdrawal index",
        "withdrawal index",  # the extra column of the sampled table
        f"plot written to {png}",
    ):
        assert phrase in text, phrase
    assert normalise(DISCLAIMER) in text
    # With --pd the default run is the regimen + 14 days, so the withdrawal peak is inside it.
    assert "still rising" not in text


# --- JSON: arrays, the `pd` object, and the model's behaviour on the issue's regimen -------------


@pytest.mark.parametrize("drug", DRUGS)
def test_pd_json_on_ninety_days_of_1mg_bid(drug: str) -> None:
    payload = _pd_json(drug, "--regimen", ISSUE_REGIMEN, "--days", "100")
    assert payload["drug"] == drug
    n = len(payload["time_h"])
    assert n > 1000
    assert payload["time_h"][-1] == pytest.approx(100 * 24.0)
    for key in (*PD_ARRAYS, "conc_ng_ml"):
        assert len(payload[key]) == n, key
        assert np.all(np.isfinite(payload[key])), key
    occupancy = np.asarray(payload["occupancy"])
    effect = np.asarray(payload["effect"])
    assert np.all((occupancy >= 0) & (occupancy <= 1))
    assert np.all((effect >= 0) & (effect <= 1))
    assert occupancy[0] == 0.0  # drug-naive start
    # Occupancy follows the concentration (a hyperbola in it): same ordering everywhere.
    conc = np.asarray(payload["conc_ng_ml"])
    order = np.argsort(conc, kind="stable")
    assert np.all(np.diff(occupancy[order]) >= -1e-12)

    # Adaptation rises over weeks, not hours: small after a day, about half-way after a week,
    # near its plateau after four (tolerance half-life 3-7 days, clinical-facts.md section 4).
    plateau = _value_at(payload, "adaptation", 89 * 24.0)
    assert plateau > 0
    assert _value_at(payload, "adaptation", 24.0) < 0.15 * plateau
    assert 0.3 * plateau < _value_at(payload, "adaptation", 7 * 24.0) < 0.8 * plateau
    assert _value_at(payload, "adaptation", 28 * 24.0) > 0.9 * plateau

    # Withdrawal after the regimen ends peaks a few days after the last dose, above anything seen
    # while dosing, and the summary reports that peak.
    withdrawal = np.asarray(payload["withdrawal_index"])
    times = np.asarray(payload["time_h"])
    summary = payload["pd"]["summary"]
    assert set(summary) == PD_SUMMARY_KEYS
    peak_h = summary["peak_withdrawal_time_h"]
    assert 1 * 24.0 < peak_h - LAST_DOSE_H < 8 * 24.0
    assert summary["peak_withdrawal_index"] == pytest.approx(withdrawal.max())
    assert peak_h == pytest.approx(times[withdrawal.argmax()])
    while_dosing = withdrawal[(times > 28 * 24.0) & (times < LAST_DOSE_H)].max()
    assert summary["peak_withdrawal_index"] > 2 * while_dosing
    assert summary["max_occupancy"] == pytest.approx(occupancy.max())
    assert summary["final_adaptation"] == pytest.approx(payload["adaptation"][-1])


def test_pd_json_object_carries_the_model_and_its_sources() -> None:
    pd_object = _pd_json("clonazepam", "--regimen", "1 mg bid x 3 days")["pd"]
    assert pd_object["occupancy_set"] == "fujita1999"  # pd.toml's default_occupancy_set
    assert "alprazolam" in pd_object["occupancy_set_description"]
    anchor = pd_object["anchor"]
    assert anchor["drug"] == "alprazolam"
    assert anchor["daily_dose_mg"]["value"] == pytest.approx(2.0)
    assert anchor["occupancy"]["value"] == pytest.approx(0.16)
    for figure in (anchor["daily_dose_mg"], anchor["occupancy"]):
        assert figure["source_key"] == "fujita1999"
        assert "Eur J Pharmacol 1999" in figure["source"]
        assert figure["assumption"] is False
    assert pd_object["c50_unbound_ng_ml"] > 0
    assert pd_object["tolerance_model"] == "moderator"
    tolerance = pd_object["tolerance"]
    assert "Porchet" in tolerance["source"]
    parameters = {p["name"]: p for p in tolerance["parameters"]}
    assert set(parameters) == {"half_life_days", "max_fraction_lost"}
    half_life = parameters["half_life_days"]
    assert (half_life["value"], half_life["low"], half_life["high"]) == (5.0, 3.0, 7.0)
    assert half_life["unit"] == "days"
    assert half_life["assumption"] is True  # an engineering default, and flagged as such
    assert parameters["max_fraction_lost"]["assumption"] is False
    assert parameters["max_fraction_lost"]["verified"] is False  # rat data, secondary source
    for p in [*tolerance["parameters"], *pd_object["effect"]]:
        assert p["source"].strip(), p


def test_the_two_occupancy_sets_differ_a_hundredfold() -> None:
    """clinical-facts.md section 3: Fujita 1999 and the Maudsley claim disagree by ~100-fold."""
    runs = {
        name: _pd_json("clonazepam", "--regimen", "1 mg bid x 7 days", "--occupancy-set", name)
        for name in OCCUPANCY_SETS
    }
    c50 = {name: run["pd"]["c50_unbound_ng_ml"] for name, run in runs.items()}
    assert c50["fujita1999"] / c50["horowitz_maudsley"] > 50
    assert runs["horowitz_maudsley"]["pd"]["occupancy_set"] == "horowitz_maudsley"
    assert runs["horowitz_maudsley"]["pd"]["anchor"]["drug"] == "diazepam"
    # 2 mg/day clonazepam: a minority of sites by SPECT, nearly all of them by the Maudsley claim.
    assert runs["fujita1999"]["pd"]["summary"]["max_occupancy"] < 0.3
    assert runs["horowitz_maudsley"]["pd"]["summary"]["max_occupancy"] > 0.9
    # The PK is the same: only the PD differs.
    assert runs["fujita1999"]["conc_ng_ml"] == runs["horowitz_maudsley"]["conc_ng_ml"]


def test_tolerance_model_option_selects_the_turnover_feedback_model() -> None:
    args = ("--regimen", "1 mg bid x 14 days")
    moderator = _pd_json("clonazepam", *args)
    feedback = _pd_json("clonazepam", *args, "--tolerance-model", "turnover_feedback")
    assert feedback["pd"]["tolerance_model"] == "turnover_feedback"
    names = {p["name"] for p in feedback["pd"]["tolerance"]["parameters"]}
    assert names == {"half_life_days", "response_turnover_half_life_h", "feedback_exponent"}
    assert feedback["occupancy"] == moderator["occupancy"]  # same occupancy and effect ...
    assert feedback["adaptation"] != moderator["adaptation"]  # ... another tolerance model


def test_without_pd_the_output_has_no_pd_keys_and_the_usual_length() -> None:
    outcome = invoke_benzokit(["simulate", "clonazepam", "--regimen", "1 mg bid x 7 days",
                               "--json"])  # fmt: skip
    _ok(outcome)
    payload = json.loads(outcome.stdout)
    assert not set(payload) & {*PD_ARRAYS, "pd"}
    assert payload["time_h"][-1] == pytest.approx((7 + 3) * 24.0)
    with_pd = _pd_json("clonazepam", "--regimen", "1 mg bid x 7 days")
    assert with_pd["time_h"][-1] == pytest.approx((7 + 14) * 24.0)


def test_pd_csv_adds_the_pd_columns() -> None:
    args = ["simulate", "lorazepam", "--regimen", "1 mg bid x 10 days", "--pd"]
    outcome = invoke_benzokit([*args, "--csv"])
    _ok(outcome)
    first, _, rest = outcome.stdout.partition("\n")
    assert first == f"# {DISCLAIMER}"
    frame = pd.read_csv(io.StringIO(rest))
    assert list(frame.columns[:3]) == ["time_h", "conc_ng_ml", "conc_nmol_l"]
    assert list(frame.columns[-len(PD_ARRAYS) :]) == list(PD_ARRAYS)
    assert not frame.isna().to_numpy().any()
    payload = _pd_json("lorazepam", "--regimen", "1 mg bid x 10 days")
    assert len(frame) == len(payload["time_h"])
    for column in PD_ARRAYS:
        np.testing.assert_allclose(frame[column], payload[column], rtol=1e-5, atol=1e-9)


def test_pd_table_output_reports_when_the_peak_is_beyond_the_run() -> None:
    outcome = invoke_benzokit(["simulate", "clonazepam", "--regimen", ISSUE_REGIMEN, "--days",
                               "91", "--pd", "--occupancy-set", "horowitz_maudsley"])  # fmt: skip
    _ok(outcome)
    text = normalise(outcome.stdout)
    assert "occupancy set horowitz_maudsley" in text
    assert "(unverified)" in text  # the Maudsley occupancy figure is not verified
    assert "still rising, simulate more --days" in text


# --- bad input ----------------------------------------------------------------------------------

SIM = ("simulate", "clonazepam", "--regimen", "1 mg bid")
BAD: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "occupancy-set-without-pd": (
        (*SIM, "--occupancy-set", "fujita1999"),
        ("--occupancy-set", "goes with --pd"),
    ),
    "tolerance-model-without-pd": (
        (*SIM, "--tolerance-model", "moderator"),
        ("--tolerance-model", "goes with --pd"),
    ),
    "pd-with-steady-state": (
        (*SIM, "--pd", "--steady-state"),
        ("--pd/--steady-state", "drug-naive", "drop --steady-state"),
    ),
    "occupancy-set-unknown": (
        (*SIM, "--pd", "--occupancy-set", "nosuchset"),
        ("--occupancy-set", "'nosuchset'", "known values are", *OCCUPANCY_SETS),
    ),
    "occupancy-set-empty": (
        (*SIM, "--pd", "--occupancy-set", ""),
        ("--occupancy-set", "known values are", "fujita1999"),
    ),
    "tolerance-model-unknown": (
        (*SIM, "--pd", "--tolerance-model", "linear"),
        ("'--tolerance-model'", "'moderator'", "'turnover_feedback'"),
    ),
}


def _assert_clean_input_error(outcome: Outcome, phrases: tuple[str, ...]) -> None:
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 2, (outcome.stdout, outcome.stderr)
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert outcome.stdout == ""
    text = normalise(outcome.stderr)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


@pytest.mark.parametrize(("args", "phrases"), list(BAD.values()), ids=list(BAD))
def test_bad_pd_input_in_process(args: tuple[str, ...], phrases: tuple[str, ...]) -> None:
    _assert_clean_input_error(invoke_benzokit(args), phrases)


def test_bad_pd_input_end_to_end(run_cli: RunCli) -> None:
    args, phrases = BAD["pd-with-steady-state"]
    outcome = run_cli(*args)
    _assert_clean_input_error(outcome, phrases)
    assert outcome.stderr.lstrip().startswith("input error:")
