"""``benzokit trial``: a virtual trial from a TOML spec, on this machine or on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.cli.render import console, print_disclaimer
from benzokit.errors import InputError

if (
    TYPE_CHECKING
):  # the trial engine (pyarrow, numba) is imported when a trial runs, not at start-up
    from benzokit.sim.trial import TrialRun, TrialSpec
    from benzokit.sim.trial.dispatch import Dispatcher

_MAX_LOCAL_WORKERS = 256


def trial_command(
    spec: Annotated[
        Path, typer.Argument(help="Trial spec (TOML), e.g. examples/trial-taper.toml.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Results folder (default: results/<trial name>).")
    ] = None,
    subjects: Annotated[
        int | None, typer.Option(help="Override the number of virtual subjects.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the random seed.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Run on a local Dask cluster of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run on the Dask scheduler at this address.")
    ] = None,
) -> None:
    """Run a virtual trial: Parquet per-subject results, a summary with confidence intervals, plots."""
    from benzokit.sim.trial import run_trial
    from benzokit.sim.trial.plan import plan_trial
    from benzokit.sim.trial.store import prepare_folder

    loaded = guarded(lambda: _load(spec, subjects, seed, workers, scheduler))
    folder = out or Path("results") / loaded.trial.name
    # Every check of the spec and the folder before a cluster starts or anything is printed.
    plan = guarded(lambda: plan_trial(loaded, knowledge()))
    already = guarded(lambda: prepare_folder(folder, plan))
    resumed_subjects = sum(stop - start for start, stop in map(plan.chunk_bounds, already))
    dispatcher = guarded(lambda: _dispatcher(workers, scheduler))
    t = loaded.trial
    console.print(
        f"[bold]{t.name}[/]: {t.subjects:,} subjects x {_count(len(loaded.strategies))}, "
        f"{t.days} days, on {dispatcher.description}"
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("subjects", total=loaded.trial.subjects, rate="")

            def progress(done: int, total: int) -> None:
                if done <= resumed_subjects:
                    # Chunks already written (a resumed run) count as done but not towards the
                    # rate and time left: restart the clock with them.
                    bar.reset(task, completed=done, total=total, rate="")
                    return
                elapsed = bar.tasks[0].elapsed or 0.0
                new = done - resumed_subjects
                rate = f"{new / elapsed:,.0f} subjects/s" if elapsed > 0 else ""
                bar.update(task, completed=done, total=total, rate=rate)

            run = guarded(
                lambda: run_trial(
                    loaded,
                    folder,
                    dispatcher=dispatcher,
                    progress=progress,
                    knowledge=knowledge(),
                )
            )
    finally:
        dispatcher.close()
    _print_summary(run, resumed_subjects)


def _load(
    spec: Path, subjects: int | None, seed: int | None, workers: int | None, scheduler: str | None
) -> TrialSpec:
    if workers is not None and scheduler is not None:
        raise InputError(
            "--workers/--scheduler",
            "both",
            "give --workers N (local cluster) or --scheduler ADDRESS",
        )
    if workers is not None and not 1 <= workers <= _MAX_LOCAL_WORKERS:
        raise InputError(
            "--workers", workers, f"a number of worker processes from 1 to {_MAX_LOCAL_WORKERS}"
        )
    if subjects is not None and subjects < 1:
        raise InputError("--subjects", subjects, "a number of subjects of at least 1")
    if seed is not None and seed < 0:
        raise InputError("--seed", seed, "a seed of 0 or more")
    from benzokit.sim.trial import load_trial_spec

    return load_trial_spec(spec).with_overrides(subjects=subjects, seed=seed)


def _dispatcher(workers: int | None, scheduler: str | None) -> Dispatcher:
    from benzokit.sim.trial.dispatch import DaskDispatcher, SerialDispatcher

    if workers is None and scheduler is None:
        return SerialDispatcher()
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(
            "--workers/--scheduler", "Dask", "install benzokit[dist] to use a Dask cluster"
        ) from exc
    if scheduler is not None:
        try:
            return DaskDispatcher.remote(scheduler)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                "--scheduler", scheduler, f"the address of a running Dask scheduler ({exc})"
            ) from exc
    return DaskDispatcher.local(workers or 1)


def _print_summary(run: TrialRun, resumed_subjects: int) -> None:
    if run.resumed_chunks:
        console.print(
            f"resumed: {run.resumed_chunks} of {run.plan.n_chunks} chunks were already written"
        )
    simulated = run.plan.subjects - resumed_subjects
    rate = simulated / run.seconds if run.seconds > 0 else float("nan")
    console.print(f"done in {run.seconds:.1f} s ({rate:,.0f} subjects/s); results in {run.out}")
    for strategy, block in run.summary["strategies"].items():
        peak = block["metrics"]["peak_withdrawal_index"]
        frac = block["fraction_with_withdrawal_above_threshold"]
        console.print(
            f"  [bold]{strategy}[/]: peak withdrawal index median {peak['median']:.3g} "
            f"(mean {peak['mean']:.3g}, 95 % CI {peak['ci95_low']:.3g}–{peak['ci95_high']:.3g}); "
            f"{frac['estimate']:.1%} with a day above the threshold"
        )
        if "pacing" in block:
            console.print(_paced_line(block["pacing"], run.plan.days))
    for path in run.files:
        console.print(f"  wrote {path}")
    print_disclaimer()


def _days(value: float | None, days: int) -> str:
    return f"over {days}" if value is None else f"{value:.0f}"


def _paced_line(pacing: dict[str, Any], days: int) -> str:
    """One line on a paced strategy: its policy, how long the taper took, how often it was held."""
    duration = pacing["taper_duration_days"]
    completed = pacing["taper_completed_in_run"]["estimate"]
    holds = pacing["holds"]
    return (
        f"    paced by [bold]{pacing['policy']}[/]: {completed:.1%} finished the taper within "
        f"{days} days; duration median {_days(duration['median']['estimate'], days)} days "
        f"(5th–95th pct {_days(duration['p5']['estimate'], days)}–"
        f"{_days(duration['p95']['estimate'], days)}); holds mean "
        f"{holds['mean']['estimate']:.2f} ({holds['share_at_least_one']['estimate']:.1%} held at "
        f"least once); {pacing['referrals']['share_at_least_one']['estimate']:.1%} referred to the "
        "clinician"
    )


def _count(strategies: int) -> str:
    return f"{strategies} strateg{'y' if strategies == 1 else 'ies'}"
