"""``benzokit simulate``: concentration after a dosing history, and with ``--pd`` GABA-A occupancy,
effect, tolerance (adaptation) and withdrawal index, as a table, JSON, CSV or a plot."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli import options
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded, in_options
from benzokit.cli.render import print_simulation
from benzokit.drugs import load_drug, resolve_agents
from benzokit.errors import InputError, UnknownNameError
from benzokit.patient import ComedicationModel, Patient
from benzokit.pd import PDResult, ToleranceModelName, load_pd_parameters
from benzokit.regimen import Regimen, parse_regimen
from benzokit.sim import SimulationResult, TimeGrid, simulate
from benzokit.sim.grid import MAX_DAYS
from benzokit.sim.pd import simulate_pd
from benzokit.units import parse_dose

DEFAULT_OPEN_DAYS = 14.0
DEFAULT_SINGLE_DOSE_DAYS = 4.0
WASHOUT_DAYS = 3.0
PD_WASHOUT_DAYS = 14.0  # withdrawal peaks days after the last dose of a long-acting drug
DEFAULT_FREQUENCY = "qd"
PLOT_SUFFIX = ".png"


@dataclass(frozen=True, slots=True)
class PDRequest:
    """What ``--pd`` asks for: an occupancy set known to ``pd.toml`` and a tolerance model."""

    occupancy_set: str
    tolerance: ToleranceModelName


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """Everything ``simulate`` needs, parsed and validated from the command line."""

    drug: str
    regimen: Regimen
    patient: Patient
    grid: TimeGrid
    pd: PDRequest | None = None


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
        float | None,
        typer.Option(
            help="Days to simulate (default: the regimen + 3 days, or + 14 days with --pd)."
        ),
    ] = None,
    step_h: Annotated[float | None, typer.Option("--step-h", help="Output step in hours.")] = None,
    weight: options.Weight = None,
    age: options.Age = None,
    with_: options.With = None,
    comedication_model: Annotated[
        ComedicationModel,
        typer.Option(help="Clearance effect of co-medication: label or yukawa2002."),
    ] = ComedicationModel.LABEL,
    steady_state: Annotated[
        bool, typer.Option("--steady-state", help="Start at steady state on the first phase.")
    ] = False,
    as_json: options.Json = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV: time_h, conc_ng_ml, ...")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write a concentration–time PNG here (with --pd: concentration, occupancy and "
            "effect, adaptation and withdrawal index)."
        ),
    ] = None,
    pd: Annotated[
        bool,
        typer.Option(
            "--pd",
            help="Add pharmacodynamics: GABA-A site occupancy, effect, tolerance (adaptation) "
            "and withdrawal index, starting drug-naive.",
        ),
    ] = False,
    occupancy_set: Annotated[
        str | None,
        typer.Option(
            "--occupancy-set",
            help="With --pd: the human occupancy anchor from pd.toml, e.g. fujita1999 (the "
            "default) or horowitz_maudsley.",
        ),
    ] = None,
    tolerance_model: Annotated[
        ToleranceModelName | None,
        typer.Option(
            "--tolerance-model", help="With --pd: moderator (the default) or turnover_feedback."
        ),
    ] = None,
) -> None:
    """Simulate plasma concentration for a dosing history (exact two-compartment PK); with --pd,
    also occupancy, effect, tolerance and withdrawal index."""
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
            options.split_values(with_),
            comedication_model,
            steady_state,
            as_json,
            as_csv,
            pd,
            occupancy_set,
            tolerance_model,
        )
    )
    if plot is not None:
        guarded(lambda: _check_plot_path(plot))
    result = guarded(
        lambda: simulate(
            request.drug,
            request.regimen,
            grid=request.grid,
            patient=request.patient,
            knowledge=knowledge(),
        )
    )
    pd_request = request.pd
    pd_result = None
    if pd_request is not None:
        pd_result = guarded(
            lambda: simulate_pd(
                result,
                load_drug(request.drug, knowledge()),
                occupancy_set=pd_request.occupancy_set,
                tolerance=pd_request.tolerance,
                knowledge=knowledge(),
            )
        )
    if plot is not None:
        guarded(lambda: _write_plot(result, pd_result, request.drug, plot))
    _emit(result, pd_result, as_json=as_json, as_csv=as_csv, plot=plot)


def _check_plot_path(plot: Path) -> None:
    allowed = f"a file path ending in {PLOT_SUFFIX}, in a folder benzokit may write to"
    if plot.suffix.lower() != PLOT_SUFFIX or plot.is_dir():
        raise InputError("--plot", str(plot), allowed)


def _write_plot(
    result: SimulationResult, pd_result: PDResult | None, drug: str, plot: Path
) -> None:
    from benzokit.viz import plot_concentration, plot_pd

    try:
        if pd_result is None:
            plot_concentration(result, load_drug(drug, knowledge()), plot)
        else:
            plot_pd(result, pd_result, load_drug(drug, knowledge()), plot)
    except OSError as error:
        raise InputError(
            "--plot", str(plot), f"a path benzokit can write a PNG to ({error.strerror})"
        ) from error


def _emit(
    result: SimulationResult,
    pd_result: PDResult | None,
    *,
    as_json: bool,
    as_csv: bool,
    plot: Path | None,
) -> None:
    pd_arrays = pd_result.arrays() if pd_result is not None else {}
    if as_json:
        payload = result.to_dict()
        payload.update({name: values.tolist() for name, values in pd_arrays.items()})
        if pd_result is not None:
            payload["pd"] = pd_result.report(result.time_h)
        if plot is not None:
            payload["plot"] = str(plot)
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
    elif as_csv:
        sys.stdout.write(f"# {DISCLAIMER}\n")
        frame = result.to_pandas()
        for name, values in pd_arrays.items():
            frame[name] = values
        frame.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        print_simulation(result, plot, pd_result)


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
    comeds: tuple[str, ...],
    comedication_model: ComedicationModel,
    steady_state: bool,
    as_json: bool,
    as_csv: bool,
    pd: bool = False,
    occupancy_set: str | None = None,
    tolerance_model: ToleranceModelName | None = None,
) -> SimulationRequest:
    if as_json and as_csv:
        raise InputError("--json/--csv", "both", "choose one output format")
    pd_request = _pd_request(pd, occupancy_set, tolerance_model, steady_state)
    name = load_drug(drug, knowledge()).name
    regimen = _regimen(regimen_text, dose, once, frequency, steady_state)
    weight_kg = options.read_weight_kg(weight)
    if weight_kg is None and any(s.dose.per_kg for p in regimen.phases for s in p.slots):
        raise InputError(
            "--weight", "missing", "a mg/kg dose needs a body weight, e.g. --weight 70kg"
        )
    resolve_agents(comeds, field="--with", knowledge=knowledge())
    patient = in_options(
        lambda: Patient(
            weight_kg=weight_kg,
            age_y=age,
            comedications=comeds,
            comedication_model=comedication_model,
        ),
        options.patient_option,
    )
    washout_days = WASHOUT_DAYS if pd_request is None else PD_WASHOUT_DAYS
    grid = _grid(regimen, days, step_h, once, washout_days)
    return SimulationRequest(name, regimen, patient, grid, pd_request)


def _pd_request(
    pd: bool,
    occupancy_set: str | None,
    tolerance_model: ToleranceModelName | None,
    steady_state: bool,
) -> PDRequest | None:
    if not pd:
        for option, value in (
            ("--occupancy-set", occupancy_set),
            ("--tolerance-model", tolerance_model),
        ):
            if value is not None:
                raise InputError(
                    option, str(value), f"{option} goes with --pd; add --pd to simulate the PD"
                )
        return None
    if steady_state:
        raise InputError(
            "--pd/--steady-state",
            "both",
            "the PD model starts drug-naive, and a steady-state PK start has no defined adapted "
            "(tolerant) state; drop --steady-state and simulate from the first dose",
        )
    params = load_pd_parameters(knowledge())
    name = params.default_occupancy_set if occupancy_set is None else occupancy_set
    if name not in params.occupancy_sets:
        raise UnknownNameError("--occupancy-set", name, params.occupancy_sets)
    return PDRequest(name, tolerance_model or ToleranceModelName.MODERATOR)


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


def _grid(
    regimen: Regimen,
    days: float | None,
    step_h: float | None,
    once: bool,
    washout_days: float = WASHOUT_DAYS,
) -> TimeGrid:
    if days is None:
        defined_h = regimen.defined_duration_h
        if once:
            days = DEFAULT_SINGLE_DOSE_DAYS
        elif defined_h is None:
            days = DEFAULT_OPEN_DAYS
        else:
            days = defined_h / 24.0 + washout_days
            if days > MAX_DAYS:
                raise InputError(
                    "--regimen",
                    f"{defined_h / 24.0:g} days",
                    f"a regimen of at most {MAX_DAYS - washout_days:g} days (the simulation adds "
                    f"{washout_days:g} days after it and spans at most {MAX_DAYS:g}); or give --days "
                    "to simulate its start",
                )
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
