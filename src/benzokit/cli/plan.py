"""``benzokit plan``: titration and taper plans from real products, with findings and documents."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli import options
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded, in_options
from benzokit.cli.render import console, print_disclaimer
from benzokit.errors import InputError
from benzokit.patient import Patient
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, plan_taper, plan_titration
from benzokit.plan.model import Plan
from benzokit.plan.strategies import Risk, StrategyName
from benzokit.units import ClockTime, parse_dose

T = TypeVar("T")

plan_app = typer.Typer(
    help=f"Titration and taper plans made of real products.\n\n{DISCLAIMER}", no_args_is_help=True
)

DrugArgument = Annotated[str, typer.Argument(help="Drug name, e.g. clonazepam.")]
FromOption = Annotated[
    str, typer.Option("--from", help="Current dose: '2 mg/day' or a regimen like '1 mg bid'.")
]
RiskOption = Annotated[
    Risk | None, typer.Option(help="low, moderate or high (default: from the dose band).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")]
PdfOption = Annotated[Path | None, typer.Option(help="Write the patient handout (PDF).")]
IcsOption = Annotated[Path | None, typer.Option(help="Write an iCalendar file of dose changes.")]
FhirOption = Annotated[Path | None, typer.Option(help="Write a FHIR R4 MedicationRequest (JSON).")]
CsvOption = Annotated[Path | None, typer.Option(help="Write the day-by-day calendar (CSV).")]
StartOption = Annotated[
    str | None, typer.Option(help="First day of the plan, YYYY-MM-DD (needed for --ics).")
]
TimesOption = Annotated[str | None, typer.Option(help="Dose times, e.g. '08:00,20:00'.")]
MarketOption = Annotated[str, typer.Option(help="Products of this market (US, UK, EU).")]
LiquidOption = Annotated[
    bool,
    typer.Option(
        "--liquid",
        help="Allow the market's liquid: its marketed solution, else its sourced compounded "
        "suspension (US clonazepam: 0.1 mg/mL).",
    ),
]
SuspensionOption = Annotated[
    str | None,
    typer.Option(help="A compounded suspension of this concentration, e.g. '0.1mg/ml'."),
]
DilutionOption = Annotated[
    str | None,
    typer.Option(
        help="A tablet dispersed in water, e.g. '0.5mg in 10ml' (a dose measured from it)."
    ),
]
SyringeStepOption = Annotated[
    str | None,
    typer.Option(help="The oral syringe's smallest step, e.g. '0.1ml' (default 0.01ml)."),
]

_ALL_COMPARED = "label,guideline,hyperbolic,diazepam-switch"
_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError("--start", text, "a date written YYYY-MM-DD, e.g. 2027-01-04") from exc


def _times(text: str | None) -> tuple[ClockTime, ...] | None:
    """'08:00,20:00' -> (08:00, 20:00): valid clock times, in order, each once."""
    if text is None:
        return None
    clocks = sorted(ClockTime.parse(t, field="--times") for t in text.split(",") if t.strip())
    if not clocks or len(set(clocks)) != len(clocks):
        raise InputError("--times", text, "one or more different clock times, e.g. '08:00,20:00'")
    return tuple(clocks)


def _patient(weight: str | None, age: float | None) -> tuple[float | None, float | None]:
    """The validated --weight (kg) and --age (years)."""
    weight_kg = options.read_weight_kg(weight)
    in_options(lambda: Patient(weight_kg=weight_kg, age_y=age), options.patient_option)
    return weight_kg, age


def _needs_start(ics: Path | None, start: str | None) -> None:
    if ics is not None and start is None:
        raise InputError(
            "--ics", str(ics), "a plan with a start date: add --start YYYY-MM-DD for a calendar"
        )


# the planner's field paths (benzokit.plan.fields) in this command's words: its options
_OPTIONS = {
    fields.TAPER_FROM: "--from",
    fields.TAPER_STRATEGY: "--strategy",
    fields.TAPER_TARGET: "--target",
    fields.TAPER_INTERVAL: "--interval-days",
    fields.TAPER_REDUCTION: "--reduction",
    fields.TAPER_HOLD: "--hold-days",
    fields.TAPER_OCCUPANCY_SET: "--occupancy-set",
    fields.TAPER_EQUIVALENCE: "--equivalence",
    fields.TAPER_STEPS: "--steps",
    fields.TITRATION_INDICATION: "--indication",
    fields.TITRATION_TARGET: "--target",
    fields.TITRATION_WEIGHT: "--weight",
    fields.TITRATION_PATIENT: "--age/--weight",
    fields.PRODUCTS_MARKET: "--market",
    fields.PRODUCTS_LIQUID: "--liquid",
    fields.PRODUCTS_STRENGTHS: "--strengths",
    fields.PRODUCTS_SUSPENSION: "--suspension",
    fields.PRODUCTS_DILUTION: "--dilution",
    fields.PRODUCTS_SYRINGE_STEP: "--syringe-step",
    fields.TAPER_FINAL_DOSE: "--final-dose",
}


def option_for(field: str) -> str:
    """The option (or argument) of ``benzokit plan`` that a planner field path stands for."""
    index = fields.step_index(field)
    if index is not None:
        return f"--steps step {index + 1}"
    return _OPTIONS.get(field, field)


def _as_options(action: Callable[[], T]) -> T:
    """Run ``action``; an error naming a planner field is re-worded with the command's option."""
    return in_options(action, option_for)


def _daily(text: str | None, field: str) -> float | None:
    if text is None:
        return None
    cleaned = text.lower().replace("/day", "").replace("per day", "").strip()
    return parse_dose(cleaned, field=field).to_mg(None)


def _strengths(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    return tuple(
        parse_dose(part.strip(), field="--strengths").to_mg(None)
        for part in text.split(",")
        if part.strip()
    )


_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_CONCENTRATION = re.compile(rf"^\s*{_NUMBER}\s*mg\s*/\s*ml\s*$", re.IGNORECASE)
_DILUTION = re.compile(rf"^\s*{_NUMBER}\s*mg\s+in\s+{_NUMBER}\s*ml\s*$", re.IGNORECASE)
_VOLUME = re.compile(rf"^\s*{_NUMBER}\s*ml\s*$", re.IGNORECASE)


def _concentration(text: str | None) -> float | None:
    if text is None:
        return None
    match = _CONCENTRATION.match(text)
    if match is None:
        raise InputError("--suspension", text, "a concentration in mg/mL, e.g. '0.1mg/ml'")
    return float(match[1])


def _dilution(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    match = _DILUTION.match(text)
    if match is None:
        raise InputError("--dilution", text, "a tablet in a volume of water, e.g. '0.5mg in 10ml'")
    return float(match[1]), float(match[2])


def _volume(text: str | None) -> float | None:
    if text is None:
        return None
    match = _VOLUME.match(text)
    if match is None:
        raise InputError("--syringe-step", text, "a volume in mL, e.g. '0.01ml' or '0.1ml'")
    return float(match[1])


def _products(
    market: str,
    liquid: bool,
    strengths: str | None,
    no_odt: bool,
    *,
    suspension: str | None = None,
    dilution: str | None = None,
    syringe_step: str | None = None,
) -> ProductChoice:
    return ProductChoice(
        market=market,
        liquid=liquid,
        strengths_mg=_strengths(strengths),
        odt=not no_odt,
        suspension_mg_ml=_concentration(suspension),
        dilution=_dilution(dilution),
        syringe_step_ml=_volume(syringe_step),
    )


@plan_app.command("taper")
def taper_command(
    drug: DrugArgument,
    from_: FromOption,
    strategy: Annotated[
        StrategyName, typer.Option(help="label, guideline, hyperbolic, diazepam-switch or custom.")
    ] = StrategyName.GUIDELINE,
    risk: RiskOption = None,
    target: Annotated[
        str | None, typer.Option(help="End at this daily dose instead of zero, e.g. '0.5 mg/day'.")
    ] = None,
    start: StartOption = None,
    times: TimesOption = None,
    interval_days: Annotated[
        int | None, typer.Option(help="Days between cuts (default: by risk).")
    ] = None,
    reduction: Annotated[
        float | None, typer.Option(help="Cut as a fraction of the current dose, e.g. 0.1.")
    ] = None,
    occupancy_set: Annotated[
        str | None, typer.Option(help="Occupancy anchor for hyperbolic (pd.toml).")
    ] = None,
    equivalence: Annotated[
        str | None, typer.Option(help="Equivalence source for diazepam-switch.")
    ] = None,
    steps: Annotated[
        str | None, typer.Option(help="Custom steps: '1.5 mg/day x 14 days, hold x 7 days, ...'.")
    ] = None,
    hold_days: Annotated[int, typer.Option(help="Days to hold after each cut.")] = 0,
    market: MarketOption = "US",
    liquid: LiquidOption = False,
    suspension: SuspensionOption = None,
    dilution: DilutionOption = None,
    syringe_step: SyringeStepOption = None,
    final_dose: Annotated[
        float | None,
        typer.Option(
            help="The stop is made from at most this fraction of the starting dose (default 0.05)."
        ),
    ] = None,
    strengths: Annotated[
        str | None, typer.Option(help="Only these solid strengths, e.g. '0.5mg,0.125mg'.")
    ] = None,
    no_odt: Annotated[
        bool, typer.Option("--no-odt", help="Do not use orally disintegrating tablets.")
    ] = False,
    as_json: JsonOption = False,
    pdf: PdfOption = None,
    ics: IcsOption = None,
    fhir: FhirOption = None,
    csv: CsvOption = None,
) -> None:
    """A taper plan, checked, with tablets per dose; optional PDF, iCalendar, FHIR and CSV."""
    guarded(lambda: _needs_start(ics, start))
    plan = guarded(
        lambda: _as_options(
            lambda: plan_taper(
                drug,
                from_,
                strategy,
                risk=risk,
                target_daily_mg=_daily(target, "--target") or 0.0,
                times=_times(times),
                start_date=_date(start),
                products=_products(
                    market,
                    liquid,
                    strengths,
                    no_odt,
                    suspension=suspension,
                    dilution=dilution,
                    syringe_step=syringe_step,
                ),
                interval_days=interval_days,
                reduction_fraction=reduction,
                occupancy_set=occupancy_set,
                equivalence_source=equivalence,
                hold_days_after_cut=hold_days,
                custom_steps=steps,
                final_dose_fraction=final_dose,
                knowledge=knowledge(),
            ),
        )
    )
    _emit(plan, as_json, pdf=pdf, ics=ics, fhir=fhir, csv=csv)


@plan_app.command("titrate")
def titrate_command(
    drug: DrugArgument,
    indication: Annotated[str, typer.Option(help="Labelled indication, e.g. panic or seizure.")],
    weight: options.Weight = None,
    age: options.Age = None,
    target: Annotated[str | None, typer.Option(help="Target daily dose, e.g. '2 mg/day'.")] = None,
    start: StartOption = None,
    times: TimesOption = None,
    market: MarketOption = "US",
    liquid: LiquidOption = False,
    as_json: JsonOption = False,
    pdf: PdfOption = None,
    ics: IcsOption = None,
    fhir: FhirOption = None,
    csv: CsvOption = None,
) -> None:
    """A titration from the label for the indication and population, capped at the labelled maximum."""
    guarded(lambda: _needs_start(ics, start))
    weight_kg, age_y = guarded(lambda: _patient(weight, age))
    plan = guarded(
        lambda: _as_options(
            lambda: plan_titration(
                drug,
                indication,
                weight_kg=weight_kg,
                age_y=age_y,
                target_daily_mg=_daily(target, "--target"),
                times=_times(times),
                start_date=_date(start),
                products=_products(market, liquid, None, False),
                knowledge=knowledge(),
            ),
        )
    )
    _emit(plan, as_json, pdf=pdf, ics=ics, fhir=fhir, csv=csv)


def _emit(
    plan: Plan,
    as_json: bool,
    *,
    pdf: Path | None,
    ics: Path | None,
    fhir: Path | None,
    csv: Path | None,
) -> None:
    written = guarded(lambda: _write_documents(plan, pdf=pdf, ics=ics, fhir=fhir, csv=csv))
    if as_json:
        json.dump(plan.to_dict(), sys.stdout)
        sys.stdout.write("\n")
        return
    print_plan(plan)
    for path in written:
        console.print(f"wrote {path}")
    print_disclaimer()


def _write_documents(
    plan: Plan, *, pdf: Path | None, ics: Path | None, fhir: Path | None, csv: Path | None
) -> list[Path]:
    from benzokit.interop import write_calendar, write_fhir, write_handout, write_plan_csv

    written: list[Path] = []
    if ics is not None:
        written.append(write_calendar(plan, ics))
    if pdf is not None:
        written.append(write_handout(plan, pdf, knowledge=knowledge()))
    if fhir is not None:
        written.append(write_fhir(plan, fhir))
    if csv is not None:
        written.append(write_plan_csv(plan, csv))
    return written


def print_plan(plan: Plan) -> None:
    table = Table(title=f"{plan.drug}: {plan.strategy} plan ({plan.total_days} days)")
    for column in ("days", "dates", "mg/day", "doses and what to take"):
        table.add_column(column, overflow="fold")
    for step in plan.steps:
        first, last = plan.date_of(step.start_day), plan.date_of(step.end_day - 1)
        dates = f"{first:%d %b %Y} – {last:%d %b %Y}" if first and last else ""
        per_drug = ", ".join(f"{mg:g} {d}" for d, mg in step.daily_dose_by_drug().items()) or "0"
        doses = "; ".join(
            f"{a.time} {a.dose_mg:g} mg {a.drug}: " + " + ".join(p.describe() for p in a.products)
            for a in step.doses
        )
        label = f"{step.start_day}–{step.end_day - 1}" + (" HOLD" if step.kind == "hold" else "")
        table.add_row(label, dates, per_drug, doses)
    console.print(table)
    for finding in plan.findings:
        style = _SEVERITY_STYLE.get(str(finding.severity), "")
        action = f" → {finding.action}" if finding.action else ""
        console.print(
            f"[{style}]{str(finding.severity).upper()}[/] {finding.code}: {finding.message}{action} "
            f"[dim]({finding.source})[/]"
        )
    for note in plan.notes:
        console.print(f"NOTE {note}")
    _print_medicines(plan)
    if plan.knowledge_version:
        console.print(f"[dim]knowledge base {plan.knowledge_version}[/]")


def _print_medicines(plan: Plan) -> None:
    from benzokit.plan.dispensing import dispensing_totals, preparations

    lines = dispensing_totals(plan)
    if lines:
        console.print("To dispense: " + "; ".join(line.describe() for line in lines))
    for preparation in preparations(plan, knowledge()):
        source = f" [dim]({preparation.source})[/]" if preparation.source else ""
        console.print(
            f"PREPARATION {preparation.title}: {preparation.how_to_make} {preparation.keeps}{source}"
        )


@plan_app.command("compare")
def compare_command(
    drug: DrugArgument,
    from_: FromOption,
    strategies: Annotated[
        str, typer.Option(help="Comma-separated strategies.")
    ] = "label,guideline,hyperbolic,diazepam-switch",
    risk: RiskOption = None,
    occupancy_set: Annotated[
        str | None,
        typer.Option(help="Occupancy anchor (pd.toml) for predictions and the hyperbolic plan."),
    ] = None,
    market: MarketOption = "US",
    liquid: LiquidOption = False,
    plot: Annotated[Path | None, typer.Option(help="Write the comparison figure (PNG).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plans and summary as JSON.")
    ] = False,
) -> None:
    """Strategies side by side: duration, largest cut, last dose before the stop, products, predicted
    peak withdrawal index (typical patient and population 95th percentile), findings; the hyperbolic
    plan under every occupancy anchor; with --plot, the predicted PD per strategy."""
    from benzokit.compare import coinciding, predict, summary_row

    names = guarded(lambda: _strategy_names(strategies))
    if plot is not None and plot.suffix.lower() != ".png":
        guarded(lambda: _fail(InputError("--plot", str(plot), "a file name ending in .png")))
    choice = ProductChoice(market=market, liquid=liquid)
    labelled = [
        (label, _compare_plan(drug, from_, name, risk, anchor, choice))
        for name in names
        for label, anchor in _anchors(name, occupancy_set)
    ]
    labels = [label for label, _ in labelled]
    plans = [plan for _, plan in labelled]
    predictions = guarded(
        lambda: predict(plans, occupancy_set=occupancy_set, knowledge=knowledge(), labels=labels)
    )
    rows = [
        summary_row(plan, prediction, label)
        for (label, plan), prediction in zip(labelled, predictions, strict=True)
    ]
    same = [[labels[i] for i in group] for group in coinciding(predictions) if len(group) > 1]
    if plot is not None:
        from benzokit.viz.compare import plot_comparison

        plot_comparison(predictions, f"{drug} from {from_}: taper strategies", plot)
    if as_json:
        json.dump(
            {
                "summary": rows,
                "same_plan": same,
                "plans": [p.to_dict() for p in plans],
                "disclaimer": DISCLAIMER,
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
        return
    _print_summary(f"{drug} from {from_}: strategies compared", rows)
    console.print(
        "max cut: the largest cut as a share of the dose before it; last mg/d: the dose the stop is "
        "made from; prod: distinct products; WI: predicted peak daily withdrawal index (typical "
        "patient; 95th percentile of a virtual population; – not predicted for a switch)"
    )
    for group in same:
        console.print(f"same plan: {' = '.join(group)}")
    for label, plan in labelled:
        for note in plan.notes:
            console.print(f"NOTE {label}: {note}")
    if plot is not None:
        console.print(f"wrote {plot}")
    print_disclaimer()


def _anchors(name: StrategyName, occupancy_set: str | None) -> list[tuple[str, str | None]]:
    """(label, occupancy anchor) of each plan of strategy ``name``: the hyperbolic plan under every
    anchor of the knowledge base (the one chosen first), others once."""
    if name is not StrategyName.HYPERBOLIC:
        return [(name.value, occupancy_set)]
    from benzokit.pd.params import load_pd_parameters

    params = load_pd_parameters(knowledge())
    first = occupancy_set or params.default_occupancy_set
    others = [a for a in params.occupancy_sets if a != first]
    return [(f"hyperbolic ({anchor})", anchor) for anchor in [first, *others]]


def _print_summary(title: str, rows: list[dict[str, object]]) -> None:
    table = Table(title=title)
    columns = ("strategy", "days", "max cut", "last mg/d", "prod", "WI peak", "WI p95")
    for column in columns:
        table.add_column(column, overflow="fold")
    table.add_column("crit/warn/info")
    for row in rows:
        switch = row["strategy"] == StrategyName.DIAZEPAM_SWITCH
        table.add_row(
            str(row["strategy"]),
            str(row["days"]),
            f"{row['largest_cut_fraction']:.0%}",
            f"{row['last_daily_mg']:.3g}" + (f" {row['last_drug']}" if switch else ""),
            str(row["distinct_products"]),
            _number(row["peak_withdrawal_index"]),
            _number(row["peak_withdrawal_index_p95"]),
            "/".join(str(row[level]) for level in ("critical", "warning", "info")),
        )
    console.print(table)


def _number(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else "–"


def _compare_plan(
    drug: str,
    from_: str,
    name: StrategyName,
    risk: Risk | None,
    occupancy_set: str | None,
    choice: ProductChoice,
) -> Plan:
    return guarded(
        lambda: _as_options(
            lambda: plan_taper(
                drug,
                from_,
                name,
                risk=risk,
                occupancy_set=occupancy_set,
                products=choice,
                knowledge=knowledge(),
            )
        )
    )


def _strategy_names(text: str) -> list[StrategyName]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    allowed = [s.value for s in StrategyName if s is not StrategyName.CUSTOM]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise InputError("--strategies", text, "a comma-separated list of: " + ", ".join(allowed))
    return [StrategyName(n) for n in dict.fromkeys(names)]


def _fail(error: InputError) -> None:
    raise error
