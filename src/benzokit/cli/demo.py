"""``benzokit demo``: the CLI demonstration the README's first command runs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.cli.render import console, print_disclaimer, print_simulation
from benzokit.drugs import load_drug
from benzokit.errors import InputError
from benzokit.regimen import parse_regimen
from benzokit.sim import TimeGrid, simulate

DEMO_REGIMEN = "1 mg bid"
DEMO_DAYS = 28.0
DEMO_START = date(2027, 1, 4)


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's plot and JSON.")] = Path(
        "demo-output"
    ),
) -> None:
    """Simulate a clonazepam 2 mg/day (1 mg bid) patient for 4 weeks and plan a taper, with plots."""
    from benzokit.viz import plot_concentration  # matplotlib: imported when a plot is made

    drug = guarded(lambda: load_drug("clonazepam", knowledge()))
    result = guarded(
        lambda: simulate(
            drug,
            parse_regimen(DEMO_REGIMEN),
            grid=TimeGrid.days(DEMO_DAYS, 0.25),
            knowledge=knowledge(),
        )
    )
    json_path = out / "clonazepam-2mg-day.json"

    def write() -> Path:
        try:
            out.mkdir(parents=True, exist_ok=True)
            plot = plot_concentration(result, drug, out / "clonazepam-2mg-day.png")
            json_path.write_text(json.dumps(result.to_dict()))
        except OSError as error:
            raise InputError(
                "--out", str(out), f"a folder benzokit can create and write to ({error.strerror})"
            ) from error
        return plot

    plot = guarded(write)
    console.rule("benzokit demo: clonazepam 2 mg/day (1 mg twice daily), 4 weeks")
    print_simulation(result, plot)
    console.print(f"JSON written to {json_path}")
    _plan_part(out)


def _plan_part(out: Path) -> None:
    """The plan half of the demo: a guideline taper from 2 mg/day with its documents, and a comparison."""
    from benzokit.cli.plan import print_plan
    from benzokit.compare import predict
    from benzokit.interop import write_calendar, write_handout
    from benzokit.plan.api import plan_taper
    from benzokit.plan.strategies import StrategyName
    from benzokit.viz.compare import plot_comparison

    plan = guarded(
        lambda: plan_taper(
            "clonazepam",
            DEMO_REGIMEN,
            StrategyName.GUIDELINE,
            start_date=DEMO_START,
            knowledge=knowledge(),
        )
    )
    console.rule("benzokit demo: a guideline taper from 2 mg/day, made of US tablets and ODTs")
    print_plan(plan)
    plans = [
        plan_taper("clonazepam", DEMO_REGIMEN, s, knowledge=knowledge())
        for s in (StrategyName.LABEL, StrategyName.HYPERBOLIC)
    ]
    written = [
        write_handout(plan, out / "taper-handout.pdf", knowledge=knowledge()),
        write_calendar(plan, out / "taper.ics"),
        (out / "taper-plan.json"),
        plot_comparison(
            predict([*plans, plan], subjects=200, knowledge=knowledge()),
            "clonazepam from 1 mg bid",
            out / "compare.png",
        ),
    ]
    (out / "taper-plan.json").write_text(json.dumps(plan.to_dict()))
    for path in written:
        console.print(f"wrote {path}")
    print_disclaimer()
