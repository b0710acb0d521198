"""Benchmark: the exact PK engine against scipy solve_ivp (restart at each dose), same run.

Scenario: clonazepam, 1 mg bid for 28 days then 0.5 mg bid, 365 days at hourly output.
Prints seconds per subject for both, their ratio and the largest relative concentration error; the
last line is one JSON object.  Run: `.venv/bin/python benchmarks/pk_engine.py` (or `make bench`).
"""

from __future__ import annotations

import json
import time

import numpy as np

from benzokit import TimeGrid, load_drug, parse_regimen, simulate
from benzokit.pk.ode import solve_amounts_ode
from benzokit.regimen import expand_events

REGIMEN = "1 mg bid x 28 days, then 0.5 mg bid"
DAYS = 365
REPEATS = 20


def _best_of(repeats: int, action: object) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    drug = load_drug("clonazepam")
    regimen = parse_regimen(REGIMEN)
    grid = TimeGrid(DAYS * 24.0, 1.0)
    result = simulate(drug, regimen, grid=grid)
    events = expand_events(regimen.to_events(grid.end_h + 1e-9))
    times = grid.times_h()

    engine_s = _best_of(REPEATS, lambda: simulate(drug, regimen, grid=grid))
    start = time.perf_counter()
    reference = solve_amounts_ode(result.model, events, times, rtol=1e-8, atol=1e-12)
    reference_s = time.perf_counter() - start

    ref_conc = reference[1] / result.model.central_volume_l * 1000
    significant = ref_conc > 1e-6 * ref_conc.max()
    max_rel_error = float(
        np.max(np.abs(result.conc_ng_ml[significant] / ref_conc[significant] - 1))
    )
    subject_hours = DAYS * 24.0
    figures = {
        "scenario": f"clonazepam {REGIMEN}, {DAYS} days, hourly output, {len(events)} doses",
        "engine_s_per_subject": engine_s,
        "reference_s_per_subject": reference_s,
        "engine_subject_hours_per_s": subject_hours / engine_s,
        "reference_subject_hours_per_s": subject_hours / reference_s,
        "speedup": reference_s / engine_s,
        "max_rel_error": max_rel_error,
    }
    for label, seconds in (("exact engine", engine_s), ("solve_ivp   ", reference_s)):
        rate = subject_hours / seconds
        print(f"{label} : {seconds * 1e3:8.2f} ms per subject ({rate:.3g} subject-h/s)")
    print(f"speed-up {figures['speedup']:.1f}x, max relative error {max_rel_error:.2e}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
