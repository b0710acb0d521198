"""``run_trial``: plan, run the missing chunks, write results, summarise."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benzokit._disclaimer import DISCLAIMER
from benzokit.sim.trial.dispatch import Dispatcher, SerialDispatcher
from benzokit.sim.trial.plan import TrialPlan, plan_trial
from benzokit.sim.trial.spec import TrialSpec
from benzokit.sim.trial.store import prepare_folder, remove_stale_temporaries, write_text
from benzokit.sim.trial.summary import markdown_report, quantile_bands, summarise

Progress = Callable[[int, int], None]
"""Called with (subjects done, subjects in total) as chunks finish."""


@dataclass(frozen=True, slots=True)
class TrialRun:
    """What a run produced: where, how many subjects, which chunks were reused, and the summary."""

    out: Path
    plan: TrialPlan
    resumed_chunks: int
    seconds: float
    summary: dict[str, Any]
    files: tuple[Path, ...]


def run_trial(
    spec: TrialSpec,
    out: Path,
    *,
    dispatcher: Dispatcher | None = None,
    progress: Progress | None = None,
) -> TrialRun:
    """Run ``spec`` into the folder ``out`` (resuming from chunks already there)."""
    started = time.perf_counter()
    plan = plan_trial(spec)
    done = prepare_folder(out, plan)
    todo = [i for i in range(plan.n_chunks) if i not in done]
    finished = sum(_chunk_rows(plan, i) for i in done)
    if progress:
        progress(finished, plan.subjects)

    def on_written(index: int) -> None:
        nonlocal finished
        finished += _chunk_rows(plan, index)
        if progress:
            progress(finished, plan.subjects)

    (dispatcher or SerialDispatcher()).run(plan, todo, out, on_written)
    remove_stale_temporaries(out)
    files, summary = _write_reports(spec, plan, out)
    return TrialRun(out, plan, len(done), time.perf_counter() - started, summary, files)


def _chunk_rows(plan: TrialPlan, index: int) -> int:
    start, stop = plan.chunk_bounds(index)
    return stop - start


def _write_reports(
    spec: TrialSpec, plan: TrialPlan, out: Path
) -> tuple[tuple[Path, ...], dict[str, Any]]:
    """Write summary.json, summary.md and (optionally) bands.png; return the files and the summary."""
    summary = summarise(out, plan.strategies)
    payload = {
        "trial": spec.trial.name,
        "drug": plan.drug,
        "subjects": plan.subjects,
        "days": plan.hours // 24,
        "seed": plan.seed,
        "occupancy_c50_unbound_ng_ml": plan.pd.effect.c50_unbound_ng_ml,
        "withdrawal_threshold": plan.pd.withdrawal_threshold,
        "strategies": summary,
        "disclaimer": DISCLAIMER,
    }
    files = [out / "summary.json", out / "summary.md"]
    write_text(files[0], json.dumps(payload, indent=2))
    write_text(
        files[1],
        markdown_report(
            spec.trial.name, plan.drug, summary, plan.pd.withdrawal_threshold, DISCLAIMER
        ),
    )
    if spec.outputs.plots:
        from benzokit.sim.trial.plots import plot_bands

        daily = {
            name: schedule.reshape(-1, 24).sum(axis=1)
            for name, schedule in zip(plan.strategies, plan.schedules, strict=True)
        }
        bands = quantile_bands(out, plan.strategies)
        files.append(
            plot_bands(
                out / "bands.png",
                f"{spec.trial.name}: {plan.drug}, {plan.subjects:,} subjects",
                daily,
                bands,
            )
        )
    return tuple(files), payload


__all__ = ["Progress", "TrialRun", "run_trial"]
