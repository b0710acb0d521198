"""``benzokit simulate``: concentration after a dosing history, as a table, JSON, CSV or a plot."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.errors import guarded
from benzokit.cli.render import print_simulation
from benzokit.drugs import load_drug, resolve_agents
from benzokit.errors import InputError
from benzokit.patient import ComedicationModel, Patient
from benzokit.regimen import Regimen, parse_regimen
from benzokit.sim import SimulationResult, TimeGrid, simulate
from benzokit.units import parse_dose, parse_weight_kg

DEFAULT_OPEN_DAYS = 14.0
DEFAULT_SINGLE_DOSE_DAYS = 4.0
WASHOUT_DAYS = 3.0
MAX_DAYS = 3650.0
DEFAULT_FREQUENCY = "qd"
PLOT_SUFFIX = ".png"
_PATIENT_OPTIONS = {"weight": "--weight", "age": "--age"}


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """Everything ``simulate`` needs, parsed and validated from the command line."""

    drug: str
    regimen: Regimen
    patient: Patient
    grid: TimeGrid


def simulate_command(
    drug: Annotated[str, typer.Argument(help="Drug name, e.g. clonazepam (see `benzokit drugs`).")],
    regimen: Annotated[
        str | None,
        typer.Option(
            "--regimen",
            "-r",
            help="Prescription text, e.g. '0.5 mg bid x 14 days, then 0.25 mg bid'.",
        ),
    ] = None,
    dose: Annotated[
        str | None, typer.Option(help="A dose such as 2mg, 500ug or 0.01mg/kg.")
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="With --dose: a single dose at t = 0.")
    ] = False,
    frequency: Annotated[
        str | None,
        typer.Option(help="With --dose: qd (the default), bid, tid, qid, qhs or qNh."),
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Days to simulate (default: the regimen + 3 days).")
    ] = None,
    step_h: Annotated[float | None, typer.Option("--step-h", help="Output step in hours.")] = None,
    weight: Annotated[str | None, typer.Option(help="Body weight, e.g. 70kg or 154lb.")] = None,
    age: Annotated[float | None, typer.Option(help="Age in years.")] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with", help="Co-medication(s), comma-separated or repeated, e.g. carbamazepine."
        ),
    ] = None,
    comedication_model: Annotated[
        ComedicationModel,
        typer.Option(help="Clearance effect of co-medication: label or yukawa2002."),
    ] = ComedicationModel.LABEL,
    steady_state: Annotated[
        bool, typer.Option("--steady-state", help="Start at steady state on the first phase.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (schema in the README).")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV: time_h, conc_ng_ml, ...")
    ] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a concentration–time PNG here.")] = None,
) -> None:
    """Simulate plasma concentration for a dosing history (exact two-compartment PK)."""
    request = guarded(
        lambda: _request(
            drug,
            regimen,
            dose,
            once,
            frequency,
            days,
            step_h,
            weight,
            age,
            with_ or [],
            comedication_model,
            steady_state,
            as_json,
            as_csv,
        )
    )
    if plot is not None:
        guarded(lambda: _check_plot_path(plot))
    result = guarded(
        lambda: simulate(request.drug, request.regimen, grid=request.grid, patient=request.patient)
    )
    if plot is not None:
        guarded(lambda: _write_plot(result, request.drug, plot))
    _emit(result, as_json=as_json, as_csv=as_csv, plot=plot)


def _check_plot_path(plot: Path) -> None:
    allowed = f"a file path ending in {PLOT_SUFFIX}, in a folder benzokit may write to"
    if plot.suffix.lower() != PLOT_SUFFIX or plot.is_dir():
        raise InputError("--plot", str(plot), allowed)


def _write_plot(result: SimulationResult, drug: str, plot: Path) -> None:
    from benzokit.viz import plot_concentration

    try:
        plot_concentration(result, load_drug(drug), plot)
    except OSError as error:
        raise InputError(
            "--plot", str(plot), f"a path benzokit can write a PNG to ({error.strerror})"
        ) from error


def _emit(result: SimulationResult, *, as_json: bool, as_csv: bool, plot: Path | None) -> None:
    if as_json:
        payload = result.to_dict()
        if plot is not None:
            payload["plot"] = str(plot)
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
    elif as_csv:
        sys.stdout.write(f"# {DISCLAIMER}\n")
        result.to_pandas().to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        print_simulation(result, plot)


def _request(
    drug: str,
    regimen_text: str | None,
    dose: str | None,
    once: bool,
    frequency: str | None,
    days: float | None,
    step_h: float | None,
    weight: str | None,
    age: float | None,
    with_: list[str],
    comedication_model: ComedicationModel,
    steady_state: bool,
    as_json: bool,
    as_csv: bool,
) -> SimulationRequest:
    if as_json and as_csv:
        raise InputError("--json/--csv", "both", "choose one output format")
    name = load_drug(drug).name
    regimen = _regimen(regimen_text, dose, once, frequency, steady_state)
    weight_kg = parse_weight_kg(weight, field="--weight") if weight is not None else None
    if weight_kg is None and any(s.dose.per_kg for p in regimen.phases for s in p.slots):
        raise InputError(
            "--weight", "missing", "a mg/kg dose needs a body weight, e.g. --weight 70kg"
        )
    comeds = tuple(part.strip() for item in with_ for part in item.split(",") if part.strip())
    resolve_agents(comeds, field="--with")
    try:
        patient = Patient(
            weight_kg=weight_kg,
            age_y=age,
            comedications=comeds,
            comedication_model=comedication_model,
        )
    except InputError as error:
        option = _PATIENT_OPTIONS.get(error.field)
        if option is None:
            raise
        raise InputError(option, error.value, error.allowed) from error
    return SimulationRequest(name, regimen, patient, _grid(regimen, days, step_h, once))


def _regimen(
    text: str | None, dose: str | None, once: bool, frequency: str | None, steady_state: bool
) -> Regimen:
    if text is not None and dose is not None:
        raise InputError("--regimen/--dose", "both", "give either --regimen or --dose, not both")
    if text is not None:
        if once or frequency is not None:
            option = "--once" if once else "--frequency"
            raise InputError(
                option, "with --regimen", f"{option} goes with --dose; write it in the regimen text"
            )
        return parse_regimen(text, steady_state=steady_state)
    if dose is None:
        raise InputError("--regimen/--dose", "neither", "give --regimen '0.5 mg bid' or --dose 2mg")
    if once and frequency is not None:
        raise InputError(
            "--once/--frequency", "both", "--once is a single dose; give --once or --frequency"
        )
    parse_dose(dose, field="--dose")
    frequency = frequency or DEFAULT_FREQUENCY
    if once:
        return parse_regimen(f"{dose} once", steady_state=steady_state)
    try:
        parsed = parse_regimen(f"{dose} {frequency}", steady_state=steady_state)
    except InputError as error:
        if not error.field.startswith("regimen"):
            raise
        raise InputError("--frequency", frequency, error.allowed) from error
    if len(parsed.phases) != 1 or parsed.phases[0].duration_h is not None:
        raise InputError(
            "--frequency", frequency, "only how often (e.g. bid); write durations in --regimen"
        )
    return parsed


def _grid(regimen: Regimen, days: float | None, step_h: float | None, once: bool) -> TimeGrid:
    if days is None:
        defined_h = regimen.defined_duration_h
        if once:
            days = DEFAULT_SINGLE_DOSE_DAYS
        elif defined_h is None:
            days = DEFAULT_OPEN_DAYS
        else:
            days = defined_h / 24.0 + WASHOUT_DAYS
    if not 0 < days <= MAX_DAYS:
        raise InputError(
            "--days", days, f"a number of days greater than 0 and at most {MAX_DAYS:g}"
        )
    span_h = days * 24.0
    allowed_step = f"a step greater than 0 hours and at most the simulated {span_h:g} h"
    if step_h is not None and not 0 < step_h <= span_h:
        raise InputError("--step-h", step_h, allowed_step)
    try:
        return TimeGrid.days(days, step_h)
    except InputError as error:
        if error.field != "time step":
            raise
        raise InputError("--step-h", step_h, error.allowed) from error
