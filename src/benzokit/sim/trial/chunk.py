"""Running one chunk of subjects: sample, then the kernel once per strategy. A pure function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benzokit.drugs.loader import load_drug
from benzokit.sim.population.kernel import occasion_table, run_kernel
from benzokit.sim.population.paced import run_paced_policies
from benzokit.sim.population.sample import sample_subjects
from benzokit.sim.population.structures import (
    BandSelection,
    Dosing,
    Metric,
    PacedOutput,
    PacedTaper,
    PacingConstants,
    PacingMetric,
    SubjectPK,
)
from benzokit.sim.population.terms import oral_pk
from benzokit.sim.trial.plan import TrialPlan
from benzokit.types import FloatArray


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """Per-subject rows of one chunk (all strategies) and the band series of its sampled subjects."""

    index: int
    columns: dict[str, NDArray[np.generic]]
    band_subject_id: NDArray[np.int64]
    band: dict[str, NDArray[np.float64]]  # strategy -> (band subjects, days, series)


def run_chunk(plan: TrialPlan, index: int) -> ChunkResult:
    """Simulate subjects [start, stop) of ``plan`` under every strategy."""
    start, stop = plan.chunk_bounds(index)
    ids = np.arange(start, stop, dtype=np.int64)
    drug = load_drug(plan.drug, plan.knowledge)
    subjects = sample_subjects(drug, plan.settings, plan.seed, ids, plan.knowledge)
    pk = oral_pk(subjects)
    in_band = (ids % plan.band_stride == 0) if plan.band_stride else np.zeros(ids.size, dtype=bool)
    bands = BandSelection(
        slot=np.where(in_band, np.cumsum(in_band) - 1, -1).astype(np.int64),
        rows=int(in_band.sum()),
    )
    adherence = plan.settings.adherence
    iov_sd = float(np.sqrt(np.log1p(plan.settings.bioavailability_iov_cv**2)))
    dosing = Dosing(
        schedule_mg=np.zeros(0),
        seed=plan.seed,
        missed_fraction=adherence.missed_fraction,
        doubled_fraction=adherence.doubled_fraction,
        bioavailability_iov_sd=iov_sd,
    )
    # the day-to-day bioavailability draws are the same for every strategy: drawn once
    occasions = occasion_table(ids, plan.days, dosing) if iov_sd > 0.0 else None
    paced_runs = _run_paced(plan, pk, dosing, bands, occasions)
    columns: dict[str, list[NDArray[np.generic]]] = {}
    band: dict[str, NDArray[np.float64]] = {}
    for strategy, schedule in zip(plan.strategies, plan.schedules, strict=True):
        if strategy in paced_runs:
            run = paced_runs[strategy]
            metrics, pacing, band[strategy] = run.metrics, run.pacing, run.band
        else:
            output = run_kernel(
                pk, dosing._replace(schedule_mg=schedule), plan.pd, bands, occasions=occasions
            )
            metrics, band[strategy] = output.metrics, output.band
            pacing = np.full((ids.size, len(PacingMetric)), np.nan)
        _append(columns, "strategy", np.full(ids.size, strategy))
        _append(columns, "subject_id", ids)
        _append(columns, "weight_kg", subjects.weight_kg)
        _append(columns, "age_y", subjects.age_y)
        _append(columns, "female", subjects.female)
        _append(columns, "clearance_l_h", subjects.clearance_l_h)
        for name, taking in subjects.comedication.items():
            _append(columns, f"takes_{name}", taking)
        for metric in Metric:
            _append(columns, metric.column, metrics[:, metric])
        if plan.any_paced:  # NaN for a strategy that is not paced
            for column in PacingMetric:
                _append(columns, column.column, pacing[:, column])
    return ChunkResult(
        index=index,
        columns={name: np.concatenate(parts) for name, parts in columns.items()},
        band_subject_id=ids[in_band],
        band=band,
    )


def _run_paced(
    plan: TrialPlan, pk: SubjectPK, dosing: Dosing, bands: BandSelection,
    occasions: FloatArray | None,
) -> dict[str, PacedOutput]:  # fmt: skip
    """The paced strategies' runs, by strategy: those on the same taper are run together (the
    policies' shared days simulated once; the same rows as one run each)."""
    groups: list[tuple[PacedTaper, list[tuple[str, PacingConstants]]]] = []
    for strategy, paced in zip(plan.strategies, plan.paced, strict=True):
        if paced is None:
            continue
        group = next((g for taper, g in groups if _same_taper(taper, paced.taper)), None)
        if group is None:
            groups.append((paced.taper, [(strategy, paced.constants)]))
        else:
            group.append((strategy, paced.constants))
    runs: dict[str, PacedOutput] = {}
    for taper, group in groups:
        outputs = run_paced_policies(
            pk, taper, dosing, plan.pd, [rules for _, rules in group], bands, plan.days,
            occasions=occasions,
        )  # fmt: skip
        runs.update(zip((strategy for strategy, _ in group), outputs, strict=True))
    return runs


def _same_taper(a: PacedTaper, b: PacedTaper) -> bool:
    return np.array_equal(a.step_pattern_mg, b.step_pattern_mg) and np.array_equal(
        a.step_days, b.step_days
    )


def _append(
    columns: dict[str, list[NDArray[np.generic]]], name: str, values: NDArray[np.generic]
) -> None:
    columns.setdefault(name, []).append(values)


__all__ = ["ChunkResult", "run_chunk"]
