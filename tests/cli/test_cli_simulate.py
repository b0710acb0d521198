"""`benzokit simulate`: the issue's commands end to end, and each option's effect."""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_support import PNG_MAGIC, Outcome, invoke_benzokit, normalise

from benzokit._disclaimer import DISCLAIMER

RunCli = Callable[..., Outcome]
TAPER = "0.5 mg bid x 14 days, then 0.25 mg bid x 7 days"
JSON_KEYS = {
    "schema_version", "drug", "regimen", "patient", "parameters", "covariates", "interactions",
    "doses", "summary", "time_h", "conc_ng_ml", "conc_nmol_l", "amounts_mg", "disclaimer",
}  # fmt: skip
SUMMARY_KEYS = {
    "cmax_ng_ml", "tmax_h", "cmin_last_24h_ng_ml", "cavg_last_24h_ng_ml", "auc_ng_h_ml",
    "terminal_half_life_h",
}  # fmt: skip
# Clonazepam C15H10ClN3O3, 315.71 g/mol (PubChem CID 2802; Klonopin label): 1 ng/mL = 3.167 nmol/L.
CLONAZEPAM_NMOL_PER_NG = 1000.0 / 315.71


def _ok(outcome: Outcome) -> None:
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert outcome.stderr == ""


def _json(outcome: Outcome) -> dict[str, Any]:
    _ok(outcome)
    payload: dict[str, Any] = json.loads(outcome.stdout)
    return payload


def _simulate_json(*args: str) -> dict[str, Any]:
    return _json(invoke_benzokit(["simulate", "clonazepam", *args, "--json"]))


def _csv(outcome: Outcome) -> pd.DataFrame:
    _ok(outcome)
    first, _, rest = outcome.stdout.partition("\n")
    assert first == f"# {DISCLAIMER}"
    return pd.read_csv(io.StringIO(rest))


def _at(payload: dict[str, Any], time_h: float) -> float:
    times = np.asarray(payload["time_h"])
    index = int(np.argmin(np.abs(times - time_h)))
    assert abs(times[index] - time_h) < 1e-9, f"{time_h} h is not on the output grid"
    return float(payload["conc_ng_ml"][index])


def _daily_totals_mg(doses: list[dict[str, Any]]) -> dict[int, float]:
    totals: dict[int, float] = {}
    for d in doses:
        day = math.floor(d["time_h"] / 24.0)
        totals[day] = totals.get(day, 0.0) + d["amount_mg"]
    return totals


# --- the commands, end to end through the installed console script -------------------


def test_single_dose_plot_writes_a_real_png(run_cli: RunCli, tmp_path: Path) -> None:
    png = tmp_path / "conc.png"
    outcome = run_cli("simulate", "clonazepam", "--dose", "2mg", "--once", "--days", "4", "--plot",
                      str(png))  # fmt: skip
    _ok(outcome)
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000
    width, height = struct.unpack(">II", data[16:24])  # IHDR chunk
    assert width >= 400
    assert height >= 300
    text = normalise(outcome.stdout)
    assert f"plot written to {png}" in text
    assert "Cmax" in text
    assert normalise(DISCLAIMER) in text


def test_taper_regimen_json(run_cli: RunCli) -> None:
    payload = _json(run_cli("simulate", "clonazepam", "--regimen", TAPER, "--json"))
    assert payload.keys() >= JSON_KEYS
    assert payload["drug"] == "clonazepam"
    assert payload["regimen"] == TAPER
    assert payload["disclaimer"] == DISCLAIMER
    assert set(payload["summary"]) == SUMMARY_KEYS

    n = len(payload["time_h"])
    assert n > 100
    assert len(payload["conc_ng_ml"]) == n
    assert len(payload["conc_nmol_l"]) == n
    assert all(len(values) == n for values in payload["amounts_mg"].values())
    times = np.asarray(payload["time_h"])
    conc = np.asarray(payload["conc_ng_ml"])
    assert times[0] == 0.0
    assert np.all(np.diff(times) > 0)
    # Default length: the regimen's 21 days plus 3 days of washout.
    assert times[-1] == pytest.approx((21 + 3) * 24.0)
    assert np.all(np.isfinite(conc))
    assert np.all(conc >= 0)
    positive = conc > 0
    ratio = np.asarray(payload["conc_nmol_l"])[positive] / conc[positive]
    np.testing.assert_allclose(ratio, CLONAZEPAM_NMOL_PER_NG, rtol=5e-3)

    assert payload["parameters"]
    for parameter in payload["parameters"]:
        assert parameter["source"].strip(), parameter
        assert parameter["source_key"].strip(), parameter
        assert math.isfinite(parameter["value"])

    doses = payload["doses"]
    assert len(doses) == 14 * 2 + 7 * 2
    assert all(d["time_h"] % 24.0 in (8.0, 20.0) for d in doses)  # bid: 08:00 and 20:00
    totals = _daily_totals_mg(doses)
    assert sorted(totals) == list(range(21))
    for day, total in totals.items():
        assert total == pytest.approx(1.0 if day < 14 else 0.5), day
    assert sum(totals.values()) == pytest.approx(14 * 1.0 + 7 * 0.5)

    # Linear PK: halving the dose halves the steady state. One week (about 4-5 half-lives of
    # 30-40 h, label) after the step the trough is close to half the phase-1 trough.
    trough_phase1 = _at(payload, 14 * 24 + 8)
    trough_phase2 = _at(payload, 21 * 24 + 8)
    assert 0.45 < trough_phase2 / trough_phase1 < 0.65
    assert conc[-1] < 0.5 * trough_phase2  # washout after the last dose


def test_weight_and_carbamazepine_csv(run_cli: RunCli) -> None:
    args = ["simulate", "clonazepam", "--regimen", "0.5 mg tid x 21 days", "--weight", "30kg"]
    with_cbz = _csv(run_cli(*args, "--with", "carbamazepine", "--csv"))
    without = _csv(invoke_benzokit([*args, "--csv"]))

    assert list(with_cbz.columns[:3]) == ["time_h", "conc_ng_ml", "conc_nmol_l"]
    assert all(c.startswith("amount_") and c.endswith("_mg") for c in with_cbz.columns[3:])
    assert list(with_cbz.columns) == list(without.columns)
    assert len(with_cbz) == len(without) > 100
    assert not with_cbz.isna().to_numpy().any()
    np.testing.assert_allclose(with_cbz["time_h"], without["time_h"])
    assert with_cbz["time_h"].iloc[-1] == pytest.approx((21 + 3) * 24.0)

    # Carbamazepine induces clonazepam clearance (label: lower serum levels): lower everywhere
    # once absorption has started, and clearly lower overall.
    c_with = with_cbz["conc_ng_ml"].to_numpy()
    c_without = without["conc_ng_ml"].to_numpy()
    started = c_without > 0
    assert started.sum() > 100
    assert np.all(c_with[started] < c_without[started])
    auc_ratio = np.trapezoid(c_with, with_cbz["time_h"]) / np.trapezoid(
        c_without, without["time_h"]
    )
    assert 0.3 < auc_ratio < 0.95


def test_single_2mg_dose_matches_published_pk(run_cli: RunCli) -> None:
    """The done-when check: a single 2 mg oral dose against published single-dose studies.

    Cmax: Kaplan SA et al., J Pharm Sci 1974;63:527-532 (2 mg: 6.5-13.5 ng/mL); Crevoisier C et
    al., Eur Neurol 2003;49:173-177 (2 mg oral: 14.9 ng/mL); Chauhan BL et al., J Assoc Physicians
    India 2000;48:985-987 (16.3 +/- 3.1 and 19.8 +/- 6.0 ng/mL) -> 6.5-20 ng/mL overall.
    Tmax 1-4 h and elimination half-life 30-40 h: Klonopin US prescribing information.
    """
    outcome = run_cli("simulate", "clonazepam", "--dose", "2mg", "--once", "--days", "3", "--json")
    payload = _json(outcome)
    summary = payload["summary"]
    assert 6.5 <= summary["cmax_ng_ml"] <= 20.0
    assert 1.0 <= summary["tmax_h"] <= 4.0
    assert 30.0 <= summary["terminal_half_life_h"] <= 40.0

    # The summary describes the curve that was printed.
    conc = np.asarray(payload["conc_ng_ml"])
    times = np.asarray(payload["time_h"])
    assert summary["cmax_ng_ml"] == pytest.approx(conc.max(), rel=0.02)
    assert summary["tmax_h"] == pytest.approx(times[conc.argmax()], abs=0.25)
    assert times[-1] == pytest.approx(72.0)
    assert payload["doses"] == [{"time_h": 0.0, "amount_mg": 2.0, "route": "oral"}]


# --- options, in-process ----------------------------------------------------------------------


def test_table_output_shows_summary_parameters_and_disclaimer() -> None:
    outcome = invoke_benzokit(["simulate", "clonazepam", "--dose", "1mg", "--days", "2"])
    _ok(outcome)
    text = normalise(outcome.stdout)
    for phrase in ("Cmax", "terminal half-life", "parameters used", "concentration (sampled)"):
        assert phrase in text
    assert normalise(DISCLAIMER) in text
    assert "benzokit drug clonazepam" in text


@pytest.mark.parametrize("written", ["500ug", "500 mcg", "500µg", "0.5 mg"])
def test_microgram_doses_equal_milligram_doses(written: str) -> None:
    reference = _simulate_json("--dose", "0.5mg", "--frequency", "bid", "--days", "2")
    other = _simulate_json("--dose", written, "--frequency", "bid", "--days", "2")
    assert [d["amount_mg"] for d in other["doses"]] == pytest.approx([0.5] * 4)
    np.testing.assert_allclose(other["conc_ng_ml"], reference["conc_ng_ml"], rtol=1e-12)


@pytest.mark.parametrize(
    ("frequency", "clock_h"),
    [
        ("qd", [8.0]),
        ("bid", [8.0, 20.0]),
        ("tid", [8.0, 14.0, 20.0]),
        ("qid", [8.0, 12.0, 16.0, 20.0]),
        ("qhs", [22.0]),
        ("q12h", [8.0, 20.0]),
    ],
)
def test_frequency_sets_dose_times(frequency: str, clock_h: list[float]) -> None:
    payload = _simulate_json("--dose", "1mg", "--frequency", frequency, "--days", "3")
    times = [d["time_h"] for d in payload["doses"]]
    assert times == pytest.approx([24.0 * day + h for day in range(3) for h in clock_h])
    assert all(d["amount_mg"] == pytest.approx(1.0) for d in payload["doses"])


def test_default_frequency_is_once_daily_and_default_length_two_weeks() -> None:
    payload = _simulate_json("--dose", "1mg")
    assert len(payload["doses"]) == 14
    assert payload["time_h"][-1] == pytest.approx(14 * 24.0)


def test_days_and_step_set_the_output_grid() -> None:
    payload = _simulate_json("--dose", "1mg", "--once", "--days", "2", "--step-h", "0.5")
    np.testing.assert_allclose(payload["time_h"], np.arange(0.0, 48.0 + 0.25, 0.5))


def test_once_gives_a_single_dose_at_time_zero_and_four_days() -> None:
    payload = _simulate_json("--dose", "2mg", "--once")
    assert payload["doses"] == [{"time_h": 0.0, "amount_mg": 2.0, "route": "oral"}]
    assert payload["time_h"][-1] == pytest.approx(4 * 24.0)


def test_steady_state_starts_at_the_periodic_profile() -> None:
    fresh = _simulate_json("--dose", "1mg", "--frequency", "bid", "--days", "3")
    steady = _simulate_json("--dose", "1mg", "--frequency", "bid", "--days", "3", "--steady-state")
    assert _at(fresh, 0.0) == 0.0
    assert _at(steady, 0.0) > 0.0
    # At steady state the profile repeats every dosing day.
    assert _at(steady, 8.0) == pytest.approx(_at(steady, 56.0), rel=1e-6)
    assert _at(steady, 50.0) > _at(fresh, 50.0)


def test_weight_based_dose_uses_the_weight() -> None:
    payload = _simulate_json("--dose", "0.01mg/kg", "--frequency", "bid", "--weight", "50kg",
                             "--days", "2")  # fmt: skip
    assert [d["amount_mg"] for d in payload["doses"]] == pytest.approx([0.5] * 4)
    assert payload["patient"]["weight_kg"] == pytest.approx(50.0)


def test_patient_fields_are_echoed() -> None:
    payload = _simulate_json("--dose", "1mg", "--days", "2", "--weight", "154lb", "--age", "40",
                             "--with", "carbamazepine, fluoxetine", "--with", "alcohol")  # fmt: skip
    patient = payload["patient"]
    assert patient["weight_kg"] == pytest.approx(154 * 0.45359237)
    assert patient["age_y"] == 40
    assert patient["comedications"] == ["carbamazepine", "fluoxetine", "alcohol"]
    assert patient["comedication_model"] == "label"
    agents = {i["agent"] for i in payload["interactions"]}
    assert "carbamazepine" in agents
    for interaction in payload["interactions"]:
        assert interaction["source"].strip()


def test_lower_body_weight_gives_higher_concentrations() -> None:
    # Clearance scales with body weight (allometric exponent in the knowledge base), so the same
    # dose gives a higher average concentration in a 30 kg patient than in a 70 kg one.
    light = _simulate_json(
        "--dose", "0.5mg", "--frequency", "tid", "--days", "7", "--weight", "30kg"
    )
    heavy = _simulate_json(
        "--dose", "0.5mg", "--frequency", "tid", "--days", "7", "--weight", "70kg"
    )
    assert light["summary"]["auc_ng_h_ml"] > heavy["summary"]["auc_ng_h_ml"]


def test_comedication_model_option() -> None:
    base = ["--dose", "1mg", "--days", "7", "--with", "carbamazepine"]
    label = _simulate_json(*base, "--comedication-model", "label")
    yukawa = _simulate_json(*base, "--comedication-model", "yukawa2002")
    assert label["patient"]["comedication_model"] == "label"
    assert yukawa["patient"]["comedication_model"] == "yukawa2002"
    plain = _simulate_json("--dose", "1mg", "--days", "7")
    for induced in (label, yukawa):
        assert induced["summary"]["auc_ng_h_ml"] < plain["summary"]["auc_ng_h_ml"]


def test_plot_with_json_reports_the_plot(tmp_path: Path) -> None:
    png = tmp_path / "nested" / "plot.PNG"
    payload = _simulate_json("--dose", "1mg", "--days", "2", "--plot", str(png))
    assert payload["plot"] == str(png)
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_csv_matches_json() -> None:
    args = ["simulate", "clonazepam", "--regimen", "1 mg at 08:00 and 2 mg at 22:00", "--days", "3"]
    frame = _csv(invoke_benzokit([*args, "--csv"]))
    payload = _json(invoke_benzokit([*args, "--json"]))
    np.testing.assert_allclose(frame["time_h"], payload["time_h"], rtol=1e-5)
    np.testing.assert_allclose(frame["conc_ng_ml"], payload["conc_ng_ml"], rtol=1e-5, atol=1e-9)
    assert [d["amount_mg"] for d in payload["doses"]] == pytest.approx([1.0, 2.0] * 3)
