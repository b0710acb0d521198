"""``benzokit check``: a prescription against the label, the guidelines and the patient's situation."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli import options
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded, in_options
from benzokit.cli.render import console, print_disclaimer
from benzokit.drugs import load_drug, resolve_agents
from benzokit.errors import DataError
from benzokit.safety import Finding, PatientContext, check_prescription, load_rules
from benzokit.safety.context import resolve_indication
from benzokit.units import parse_dose

_COLOURS = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _conditions_help() -> str:
    """The known conditions for --help; a damaged rule file must not break every command's import."""
    try:
        return ", ".join(load_rules().conditions)
    except DataError:
        return "see safety/data/rules.toml"


def check_command(
    drug: Annotated[str, typer.Option("--drug", help="Drug name, e.g. clonazepam.")],
    daily_dose: Annotated[
        str,
        typer.Option(
            "--daily-dose", help="Total daily dose, e.g. 6mg (or 0.05mg/kg with --weight)."
        ),
    ],
    indication: Annotated[
        str | None,
        typer.Option(help="Labelled indication, e.g. panic or seizure (see `benzokit drug NAME`)."),
    ] = None,
    age: options.Age = None,
    weight: options.Weight = None,
    with_: options.With = None,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            help=f"Patient condition(s), comma-separated or repeated: {_conditions_help()}.",
        ),
    ] = None,
    start: Annotated[
        bool, typer.Option("--start", help="The dose is a starting dose (checks labelled starts).")
    ] = False,
    as_json: options.Json = False,
) -> None:
    """Check a prescription: label maxima, paediatric mg/kg, co-medication, Beers 2023, conditions."""
    findings = guarded(
        lambda: _check(
            drug,
            daily_dose,
            indication,
            age,
            weight,
            options.split_values(with_),
            options.split_values(condition),
            start,
        )
    )
    if as_json:
        payload = {"findings": [f.to_dict() for f in findings], "disclaimer": DISCLAIMER}
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
        return
    _print(findings)


def _check(
    drug: str,
    daily_dose: str,
    indication: str | None,
    age: float | None,
    weight: str | None,
    comeds: tuple[str, ...],
    conditions: tuple[str, ...],
    starting: bool,
) -> tuple[Finding, ...]:
    entry = load_drug(drug, knowledge())
    dose = parse_dose(daily_dose, field="--daily-dose")
    weight_kg = options.read_weight_kg(weight)
    if indication is not None:
        indication = resolve_indication(entry, indication, field="--indication")
    agents = resolve_agents(comeds, field="--with", knowledge=knowledge())
    rules = load_rules(knowledge())
    names = [rules.resolve_condition(c, field="--condition") for c in conditions]
    context = in_options(
        lambda: PatientContext(
            age_y=age,
            weight_kg=weight_kg,
            comedications=agents,
            conditions=tuple(names),
            indication=indication,
        ),
        options.patient_option,
    )
    return check_prescription(
        entry,
        dose.to_mg(weight_kg, field="--daily-dose"),
        context,
        starting=starting,
        knowledge=knowledge(),
    )


def _print(findings: tuple[Finding, ...]) -> None:
    if not findings:
        console.print("No findings: nothing in the rule set applies to this prescription.")
    else:
        table = Table(title="safety findings (most severe first)", show_lines=True)
        table.add_column("severity / code", no_wrap=True)
        table.add_column("finding, action and source", overflow="fold")
        for f in findings:
            colour = _COLOURS[str(f.severity)]
            text = escape(f.message)
            if f.action:
                text += f"\n[bold]Action:[/] {escape(f.action)}"
            text += f"\n[dim]Source: {escape(f.source)}[/]"
            table.add_row(f"[{colour}]{f.severity}[/]\n{f.code}", text)
        console.print(table)
    print_disclaimer()
