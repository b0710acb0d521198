"""``simulate``: concentration–time for one subject after any dosing history (exact PK)."""

from __future__ import annotations

import numpy as np

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug, Figure
from benzokit.knowledge import Knowledge
from benzokit.patient import Patient
from benzokit.pk.closed_form import SpectralSolution, integrate, steady_state_terms, superpose
from benzokit.pk.covariates import Individualized, individualize
from benzokit.pk.model import Compartment
from benzokit.regimen.events import EventTable, Route, expand_events
from benzokit.regimen.regimen import Regimen
from benzokit.sim.grid import TimeGrid
from benzokit.sim.result import ParameterRecord, SimulationResult, Summary
from benzokit.types import FloatArray
from benzokit.units import ng_ml_to_nmol_l

NG_ML_PER_MG_L = 1000.0
_LAST_DAY_H = 24.0


def simulate(
    drug: Drug | str,
    regimen: Regimen,
    *,
    grid: TimeGrid,
    patient: Patient | None = None,
    knowledge: Knowledge | None = None,
) -> SimulationResult:
    """Simulate ``regimen`` of ``drug`` for ``patient`` on ``grid`` with the exact closed form.

    A drug given by name, and the patient's co-medications, are looked up in ``knowledge`` (default:
    the shipped knowledge base).

    Doses at exactly ``grid.end_h`` are included. Concentrations are total (bound + unbound)
    plasma concentrations of the parent drug.
    """
    drug = load_drug(drug, knowledge) if isinstance(drug, str) else drug
    patient = patient or Patient()
    individual = individualize(drug, patient, knowledge)
    events = expand_events(regimen.to_events(grid.end_h + 1e-9, patient.weight_kg))
    times = grid.times_h()
    solution = SpectralSolution.of(individual.model)
    amounts = _amounts(solution, regimen, events, times, patient.weight_kg)
    conc_ng_ml = amounts[Compartment.CENTRAL] / individual.model.central_volume_l * NG_ML_PER_MG_L
    names = [c.name.lower() for c in Compartment][: individual.model.n_states]
    return SimulationResult(
        drug=drug.name,
        regimen=regimen.text or regimen.describe(),
        patient=patient,
        model=individual.model,
        parameters=_parameter_records(drug, individual),
        covariates=individual.covariates,
        interactions=individual.interactions,
        events=events,
        time_h=times,
        conc_ng_ml=conc_ng_ml,
        conc_nmol_l=ng_ml_to_nmol_l(conc_ng_ml, drug.molar_mass_g_mol.require("molar_mass_g_mol")),
        amounts_mg=dict(zip(names, amounts, strict=True)),
        summary=_summary(
            solution,
            regimen=regimen,
            events=events,
            times=times,
            conc_ng_ml=conc_ng_ml,
            weight_kg=patient.weight_kg,
        ),
    )


def _initial_terms(
    solution: SpectralSolution, regimen: Regimen, route: Route, weight_kg: float | None
) -> FloatArray | None:
    first = regimen.phases[0]
    if not regimen.steady_state or first.route is not route or first.period_h is None:
        return None
    offsets = [s.offset_h for s in first.slots]
    amounts = [s.dose.to_mg(weight_kg) for s in first.slots]
    return steady_state_terms(solution.rates_per_h, offsets, amounts, first.period_h)


def _routes(regimen: Regimen, events: EventTable) -> list[Route]:
    return sorted(set(events.route) | {regimen.phases[0].route}, key=str)


def _amounts(
    solution: SpectralSolution,
    regimen: Regimen,
    events: EventTable,
    times: FloatArray,
    weight_kg: float | None,
) -> FloatArray:
    total = np.zeros((solution.model.n_states, times.size))
    for route in _routes(regimen, events):
        dose_times, dose_amounts = events.for_route(route)
        initial = _initial_terms(solution, regimen, route, weight_kg)
        total += superpose(solution.unit_response(route), dose_times, dose_amounts, times, initial)
    return total


def _central_auc_mg_h_l(
    solution: SpectralSolution,
    regimen: Regimen,
    events: EventTable,
    until_h: float,
    weight_kg: float | None,
) -> float:
    auc = 0.0
    for route in _routes(regimen, events):
        dose_times, dose_amounts = events.for_route(route)
        initial = _initial_terms(solution, regimen, route, weight_kg)
        response = solution.unit_response(route)
        auc += integrate(response, dose_times, dose_amounts, until_h, initial)[Compartment.CENTRAL]
    return auc / solution.model.central_volume_l


def _summary(
    solution: SpectralSolution,
    *,
    regimen: Regimen,
    events: EventTable,
    times: FloatArray,
    conc_ng_ml: FloatArray,
    weight_kg: float | None,
) -> Summary:
    end_h = float(times[-1])
    last_start_h = max(0.0, end_h - _LAST_DAY_H)
    auc_total = _central_auc_mg_h_l(solution, regimen, events, end_h, weight_kg) * NG_ML_PER_MG_L
    auc_before = _central_auc_mg_h_l(solution, regimen, events, last_start_h, weight_kg)
    auc_last = auc_total - auc_before * NG_ML_PER_MG_L
    peak = int(np.argmax(conc_ng_ml))
    last_day = times >= last_start_h
    return Summary(
        cmax_ng_ml=float(conc_ng_ml[peak]),
        tmax_h=float(times[peak]),
        cmin_last_24h_ng_ml=float(conc_ng_ml[last_day].min()),
        cavg_last_24h_ng_ml=float(auc_last / (end_h - last_start_h)),
        auc_ng_h_ml=float(auc_total),
        terminal_half_life_h=solution.model.terminal_half_life_h,
    )


def _parameter_records(drug: Drug, individual: Individualized) -> tuple[ParameterRecord, ...]:
    pk, model = drug.pk, individual.model

    def record(name: str, value: float, unit: str, figure: Figure | None) -> ParameterRecord:
        if figure is None:
            return ParameterRecord(name, value, unit, "", "")
        return ParameterRecord(name, value, unit, drug.source_of(figure).citation, figure.source)

    records = [
        record("bioavailability", model.bioavailability, "fraction", pk.bioavailability),
        record("absorption_rate", model.absorption_rate_per_h, "1/h", pk.absorption_rate_per_h),
        record("clearance", model.clearance_l_h, "L/h", pk.clearance_l_h),
        record("central_volume", model.central_volume_l, "L", pk.central_volume_l),
    ]
    if model.two_compartment:
        records += [
            record(
                "intercompartmental_clearance",
                model.intercompartmental_clearance_l_h,
                "L/h",
                pk.intercompartmental_clearance_l_h,
            ),
            record("peripheral_volume", model.peripheral_volume_l, "L", pk.peripheral_volume_l),
        ]
    records.append(record("terminal_half_life", model.terminal_half_life_h, "h", pk.half_life_h))
    return tuple(records)
