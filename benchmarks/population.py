"""Benchmark (issue 3): the population engine against a straightforward scipy reference, same run.

Scenario: 2-compartment clonazepam PK + GABA-A occupancy + moderator tolerance; 28 days of 1 mg bid, then a
taper over the rest of 365 days (examples/trial-taper.toml), hourly resolution, per-subject summaries.

Prints, in order:
1. reference: scipy ``solve_ivp`` (LSODA, restart at each dose, rtol 1e-6) on a few subjects —
   subject-hours per second;
2. engine: the compiled kernel (this process, all cores) on many subjects — subject-hours per second,
   and the ratio to the reference;
3. accuracy: the largest relative error of the engine's per-subject summaries (peak withdrawal index,
   AUC of effect, final adaptation) against a tight reference (rtol 1e-10);
4. the whole ``benzokit trial`` process for 1,000,000 subjects x 365 days: wall time and peak memory;
5. Dask: a local cluster of 1 and of 2 worker processes on 200,000 subjects: the throughput of the
   simulation phase (until the last chunk is written) and the whole run, and their ratios;
6. the adaptive (paced) kernel (issue 11): clonazepam, the planner's hyperbolic taper from 1 mg bid after a
   28-day run-in, 2 years, paced by ``maudsley-symptom-guided``, beside the fixed kernel on the same taper
   as a fixed calendar, this process, all cores: subject-hours per second of each (best of three,
   alternating, so that a busy machine slows both alike) and their ratio;
7. the whole ``benzokit trial examples/trial-adaptive.toml`` process for 1,000,000 subjects (6 paced
   strategies x 730 days; issue 11): wall time, CPU time (user + system) and peak memory.
The last line is one JSON object. Run: ``.venv/bin/python benchmarks/population.py`` (``make bench``);
``--quick`` runs smaller sizes (for a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benzokit.drugs.loader import load_drug
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.reference import solve_pkpd_ode
from benzokit.pd.tolerance import ToleranceModelName, tolerance_model
from benzokit.pk import PKModel
from benzokit.plan.pacing import load_pacing
from benzokit.regimen import expand_events, parse_regimen
from benzokit.sim.population.kernel import run_kernel
from benzokit.sim.population.paced import (
    paced_taper_from_schedule,
    pacing_constants,
    run_paced_kernel,
)
from benzokit.sim.population.sample import Subjects, sample_subjects
from benzokit.sim.population.structures import BandSelection, Dosing, Metric
from benzokit.sim.population.terms import oral_pk
from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.dispatch import DaskDispatcher
from benzokit.sim.trial.plan import TrialPlan, plan_trial
from benzokit.sim.trial.spec import parse_trial_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "trial-taper.toml"
ADAPTIVE_TRIAL = ROOT / "examples" / "trial-adaptive.toml"
BENZOKIT = Path(sys.executable).parent / "benzokit"
# the trial's (moderator) tolerance model: the same object the kernel's constants are derived from
TOLERANCE = tolerance_model(ToleranceModelName.MODERATOR, load_pd_parameters())
COMPARED = (Metric.PEAK_WITHDRAWAL_INDEX, Metric.AUC_EFFECT_H, Metric.FINAL_ADAPTATION)
ADAPTIVE_POLICY = "maudsley-symptom-guided"
ADAPTIVE_DAYS = 730
ADAPTIVE_SPEC = {
    "trial": {"name": "adaptive-kernel", "drug": "clonazepam", "subjects": 64, "seed": 7,
              "days": ADAPTIVE_DAYS},
    "strategies": [{"name": "hyperbolic", "plan": {
        "strategy": "hyperbolic", "from": "1 mg bid", "risk": "moderate", "liquid": True,
        "run_in_days": 28,
    }}],
}  # fmt: skip


def _engine(plan: TrialPlan, subjects: Subjects) -> np.ndarray:
    dosing = Dosing(plan.schedules[0], plan.seed, 0.0, 0.0, 0.0)
    bands = BandSelection.none(len(subjects))
    return run_kernel(oral_pk(subjects), dosing, plan.pd, bands).metrics


def _reference(
    plan: TrialPlan, subjects: Subjects, i: int, rtol: float, atol: float
) -> dict[Metric, float]:
    s = subjects
    model = PKModel(
        s.bioavailability[i],
        s.absorption_rate_per_h[i],
        s.clearance_l_h[i],
        s.central_volume_l[i],
        s.intercompartmental_clearance_l_h[i],
        s.peripheral_volume_l[i],
    )
    regimen_text = load_trial_spec(SPEC).strategies[0].regimen
    events = expand_events(parse_regimen(regimen_text).to_events(float(plan.hours)))
    grid = np.arange(0.0, plan.hours + 1.0)
    effect = plan.pd.effect
    ref = solve_pkpd_ode(
        model,
        events,
        grid,
        fraction_unbound=effect.fraction_unbound,
        c50_unbound_ng_ml=effect.c50_unbound_ng_ml,
        emax=effect.emax,
        o50=effect.occupancy_at_half_effect,
        tolerance=TOLERANCE,
        rtol=rtol,
        atol=atol,
    )
    adaptation = ref["tolerance_states"][0]
    return {
        Metric.PEAK_WITHDRAWAL_INDEX: float(np.maximum(0.0, adaptation - ref["effect"]).max()),
        Metric.AUC_EFFECT_H: float(ref["auc_effect"][-1]),
        Metric.FINAL_ADAPTATION: float(adaptation[-1]),
    }


def _trial_process(spec: Path, subjects: int) -> tuple[float, float, float]:
    """Wall time (s), CPU time (user + system, s) and peak RSS (MiB) of a whole `benzokit trial`
    process."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            str(BENZOKIT),
            "trial",
            str(spec),
            "--subjects",
            str(subjects),
            "--out",
            f"{out}/r",
        ]
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        if status:
            raise subprocess.CalledProcessError(status, command, stderr=child.stderr.read())
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _dask_seconds(subjects: int, workers: int) -> tuple[float, float]:
    """(simulation phase, whole run_trial) seconds on a local cluster; the simulation phase ends when the
    last chunk is written, before the summary and plots (which do not depend on the worker count)."""
    spec = load_trial_spec(SPEC).with_overrides(subjects=subjects)
    dispatcher = DaskDispatcher.local(workers)
    last_chunk_at = [0.0]

    def progress(done: int, total: int) -> None:
        if done == total:
            last_chunk_at[0] = time.perf_counter()

    try:
        with tempfile.TemporaryDirectory() as out:
            # a first run loads the compiled kernel on every worker
            run_trial(spec, Path(out) / "warm", dispatcher=dispatcher)
            start = time.perf_counter()
            run_trial(spec, Path(out) / "r", dispatcher=dispatcher, progress=progress)
            return last_chunk_at[0] - start, time.perf_counter() - start
    finally:
        dispatcher.close()


def _adaptive_rates(subjects: int, repeats: int = 3) -> tuple[float, float]:
    """(adaptive, fixed) subject-hours per second on the 2-year hyperbolic taper, best of ``repeats``."""
    plan = plan_trial(parse_trial_spec(ADAPTIVE_SPEC, source="benchmark"))
    drug = load_drug(plan.drug)
    ids = np.arange(subjects, dtype=np.int64)
    pk = oral_pk(sample_subjects(drug, plan.settings, plan.seed, ids))
    schedule = plan.schedules[0]
    taper = paced_taper_from_schedule(schedule)
    dosing = Dosing(schedule, plan.seed, 0.0, 0.0, 0.0)
    pacing = pacing_constants(load_pacing().get(ADAPTIVE_POLICY))
    bands = BandSelection.none(subjects)

    runs = {
        "adaptive": lambda: run_paced_kernel(
            pk, taper, dosing, plan.pd, pacing, bands, ADAPTIVE_DAYS
        ),
        "fixed": lambda: run_kernel(pk, dosing, plan.pd, bands),
    }
    few = oral_pk(sample_subjects(drug, plan.settings, plan.seed, ids[:64]))
    none = BandSelection.none(64)
    run_paced_kernel(few, taper, dosing, plan.pd, pacing, none, ADAPTIVE_DAYS)  # compile or load
    best = dict.fromkeys(runs, 0.0)
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = max(best[name], subjects * plan.hours / (time.perf_counter() - start))
    return best["adaptive"], best["fixed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args()
    n_ref, n_engine, n_process, n_dask = (
        (2, 20_000, 20_000, 20_000) if args.quick else (3, 200_000, 1_000_000, 200_000)
    )
    print(f"load average at start (2 cores): {os.getloadavg()[0]:.1f}")

    plan = plan_trial(load_trial_spec(SPEC))
    drug = load_drug(plan.drug)
    subjects = sample_subjects(drug, plan.settings, plan.seed, np.arange(n_engine, dtype=np.int64))
    subject_hours = plan.hours  # per subject

    start = time.perf_counter()
    for i in range(n_ref):
        _reference(plan, subjects, i, rtol=1e-6, atol=1e-9)
    reference_rate = n_ref * subject_hours / (time.perf_counter() - start)
    print(
        f"reference (solve_ivp, LSODA, rtol 1e-6): {reference_rate:,.0f} subject-hours/s ({n_ref} subjects)"
    )

    warm_up = sample_subjects(drug, plan.settings, plan.seed, np.arange(64, dtype=np.int64))
    _engine(plan, warm_up)  # compile or load the cached kernel
    start = time.perf_counter()
    metrics = _engine(plan, subjects)
    engine_rate = n_engine * subject_hours / (time.perf_counter() - start)
    ratio = engine_rate / reference_rate
    print(
        f"engine (compiled kernel, this process): {engine_rate:.3g} subject-hours/s ({n_engine:,} subjects)"
    )
    print(f"engine / reference: {ratio:,.0f} x")

    errors = []
    for i in range(n_ref):
        tight = _reference(plan, subjects, i, rtol=1e-10, atol=1e-13)
        errors += [abs(metrics[i, metric] / tight[metric] - 1.0) for metric in COMPARED]
    max_rel_error = float(max(errors))
    compared = ", ".join(metric.column for metric in COMPARED)
    print(f"largest relative error of {compared} vs a tight reference: {max_rel_error:.2e}")

    process_s, _, peak_rss_mib = _trial_process(SPEC, n_process)
    print(
        f"whole `benzokit trial` process, {n_process:,} subjects x 365 days: {process_s:.1f} s, "
        f"peak memory {peak_rss_mib:,.0f} MiB"
    )

    one, one_total = _dask_seconds(n_dask, 1)
    two, two_total = _dask_seconds(n_dask, 2)
    print(
        f"Dask local cluster, {n_dask:,} subjects, simulation phase: 1 worker {one:.2f} s, "
        f"2 workers {two:.2f} s, throughput ratio {one / two:.2f}x "
        f"(whole run incl. summary and plots: {one_total:.1f} s vs {two_total:.1f} s)"
    )

    adaptive_rate, fixed_rate = _adaptive_rates(n_engine)
    print(
        f"adaptive kernel ({ADAPTIVE_POLICY}, hyperbolic taper, {ADAPTIVE_DAYS} days): "
        f"{adaptive_rate:.3g} subject-hours/s; fixed kernel, same taper as a calendar: "
        f"{fixed_rate:.3g} subject-hours/s ({n_engine:,} subjects, best of 3 each)"
    )
    print(f"adaptive / fixed: {adaptive_rate / fixed_rate:.0%}")

    print(f"load average before the adaptive trial (2 cores): {os.getloadavg()[0]:.1f}")
    adaptive_s, adaptive_cpu_s, adaptive_rss_mib = _trial_process(ADAPTIVE_TRIAL, n_process)
    adaptive_spec = load_trial_spec(ADAPTIVE_TRIAL)
    strategies, days = len(adaptive_spec.strategies), adaptive_spec.trial.days
    adaptive_hours = n_process * strategies * days * 24
    print(
        f"whole `benzokit trial {ADAPTIVE_TRIAL.relative_to(ROOT)}` process, {n_process:,} subjects x "
        f"{strategies} paced strategies x {days} days: {adaptive_s:.1f} s "
        f"({adaptive_hours / adaptive_s:.3g} strategy-subject-hours/s), CPU {adaptive_cpu_s:.0f} s, "
        f"peak memory {adaptive_rss_mib:,.0f} MiB"
    )

    print(
        json.dumps(
            {
                "engine_subject_hours_per_s": engine_rate,
                "reference_subject_hours_per_s": reference_rate,
                "speedup_vs_reference": engine_rate / reference_rate,
                "max_rel_error": max_rel_error,
                "trial_process_subjects": n_process,
                "trial_process_seconds": process_s,
                "peak_rss_mib": peak_rss_mib,
                "dask_subjects": n_dask,
                "dask_1_worker_seconds": one,
                "dask_2_worker_seconds": two,
                "dask_speedup": one / two,
                "dask_1_worker_total_seconds": one_total,
                "dask_2_worker_total_seconds": two_total,
                "adaptive_subject_hours_per_s": adaptive_rate,
                "fixed_2y_subject_hours_per_s": fixed_rate,
                "adaptive_vs_fixed": adaptive_rate / fixed_rate,
                "adaptive_trial_process_seconds": adaptive_s,
                "adaptive_trial_process_cpu_seconds": adaptive_cpu_s,
                "adaptive_trial_peak_rss_mib": adaptive_rss_mib,
            }
        )
    )


if __name__ == "__main__":
    main()
