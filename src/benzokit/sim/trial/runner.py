"""``run_trial``: plan, run the missing chunks, store them, summarise.

Storage is the runner's: a dispatcher only computes. Where the dispatcher's workers share this disk
(this process, a local cluster) each chunk is written where it was computed, so this process does not
spend the CPU the workers need; otherwise the chunk comes back and is written here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benzokit._disclaimer import DISCLAIMER
from benzokit.errors import ComputeError
from benzokit.knowledge import Knowledge
from benzokit.sim.trial.chunk import ChunkResult, run_chunk
from benzokit.sim.trial.dispatch import Dispatcher, SerialDispatcher
from benzokit.sim.trial.plan import TrialPlan, plan_trial
from benzokit.sim.trial.plots import plot_bands, plot_pacing
from benzokit.sim.trial.spec import TrialSpec
from benzokit.sim.trial.store import (
    prepare_folder,
    remove_stale_temporaries,
    write_chunk,
    write_text,
)
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
    knowledge: Knowledge | None = None,
) -> TrialRun:
    """Run ``spec`` into the folder ``out`` (resuming from chunks already there), with the drug and PD
    figures of ``knowledge`` (default: shipped)."""
    started = time.perf_counter()
    plan = plan_trial(spec, knowledge)
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

    _run_chunks(dispatcher or SerialDispatcher(), plan, todo, out, on_written)
    remove_stale_temporaries(out)
    files, summary = _write_reports(spec, plan, out)
    return TrialRun(out, plan, len(done), time.perf_counter() - started, summary, files)


@dataclass(frozen=True, slots=True)
class _StoredChunks:
    """What a worker sharing this disk needs to compute a chunk and store it (picklable)."""

    plan: TrialPlan
    out: str


def _compute_and_store(job: _StoredChunks, index: int) -> int:
    write_chunk(Path(job.out), job.plan, run_chunk(job.plan, index))
    return index


def _run_chunks(
    dispatcher: Dispatcher,
    plan: TrialPlan,
    todo: Sequence[int],
    out: Path,
    on_written: Callable[[int], None],
) -> None:
    """Compute the chunks ``todo`` on ``dispatcher`` and store each as soon as it is done."""
    try:
        if dispatcher.in_process:
            _compute_and_store_behind(dispatcher, plan, todo, out, on_written)
        elif dispatcher.shares_disk:
            job = _StoredChunks(plan, str(out.resolve()))
            with closing(
                dispatcher.map(_compute_and_store, job, todo, label=plan.fingerprint)
            ) as done:
                for index in done:
                    on_written(index)
        else:
            with closing(dispatcher.map(run_chunk, plan, todo, label=plan.fingerprint)) as results:
                for result in results:
                    write_chunk(out, plan, result)
                    on_written(result.index)
    except ComputeError as error:
        raise ComputeError(
            f"{error}; the chunks already written are kept: run the same command again to resume"
        ) from error


def _compute_and_store_behind(
    dispatcher: Dispatcher,
    plan: TrialPlan,
    todo: Sequence[int],
    out: Path,
    on_written: Callable[[int], None],
) -> None:
    """In this process, a chunk is written by a second thread while the next one is computed (the
    kernels and the Parquet writer release the GIL): the cores the kernels leave idle while a chunk is
    compressed and written are used. One chunk is written at a time; an interrupted run leaves only
    whole chunks (each is written atomically, and a write under way is finished first)."""

    def store(result: ChunkResult) -> int:
        write_chunk(out, plan, result)
        return result.index

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="benzokit-chunk-writer") as writer,
        closing(dispatcher.map(run_chunk, plan, todo, label=plan.fingerprint)) as results,
    ):
        writing: Future[int] | None = None
        for result in results:
            if writing is not None:
                on_written(writing.result())
            writing = writer.submit(store, result)
        if writing is not None:
            on_written(writing.result())


def _chunk_rows(plan: TrialPlan, index: int) -> int:
    start, stop = plan.chunk_bounds(index)
    return stop - start


def _write_reports(
    spec: TrialSpec, plan: TrialPlan, out: Path
) -> tuple[tuple[Path, ...], dict[str, Any]]:
    """Write summary.json, summary.md and (optionally) bands.png; return the files and the summary."""
    policies = {
        name: paced.policy
        for name, paced in zip(plan.strategies, plan.paced, strict=True)
        if paced is not None
    }
    summary = summarise(out, plan.strategies, policies, plan.days)
    pacing_policies = {
        paced.policy: {"title": paced.title, "source": paced.citation}
        for paced in plan.paced
        if paced is not None
    }
    payload = {
        "trial": spec.trial.name,
        "drug": plan.drug,
        "subjects": plan.subjects,
        "days": plan.hours // 24,
        "seed": plan.seed,
        "occupancy_c50_unbound_ng_ml": plan.pd.effect.c50_unbound_ng_ml,
        "withdrawal_threshold": plan.pd.withdrawal_threshold,
        "strategies": summary,
        **({"pacing_policies": pacing_policies} if pacing_policies else {}),
        "disclaimer": DISCLAIMER,
    }
    files = [out / "summary.json", out / "summary.md"]
    write_text(files[0], json.dumps(payload, indent=2))
    write_text(
        files[1],
        markdown_report(
            spec.trial.name,
            plan.drug,
            summary,
            plan.pd.withdrawal_threshold,
            DISCLAIMER,
            days=plan.days,
            policies=pacing_policies,
        ),
    )
    if spec.outputs.plots:
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
                paced=frozenset(policies),
            )
        )
        if policies:
            files.append(
                plot_pacing(
                    out / "pacing.png",
                    f"{spec.trial.name}: {plan.drug}, {plan.subjects:,} subjects",
                    summary,
                    plan.days,
                )
            )
    return tuple(files), payload


__all__ = ["Progress", "TrialRun", "run_trial"]
