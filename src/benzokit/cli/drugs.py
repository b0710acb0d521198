"""``benzokit drugs`` and ``benzokit drug NAME``: the knowledge base, every figure with its source."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.cli.render import console, print_disclaimer
from benzokit.drugs import Drug, Figure, list_drugs, load_drug


def drugs(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the drugs in the knowledge base."""
    entries = guarded(lambda: [load_drug(name, knowledge()) for name in list_drugs(knowledge())])
    if as_json:
        json.dump({"drugs": [_overview(d) for d in entries], "disclaimer": DISCLAIMER}, sys.stdout)
        sys.stdout.write("\n")
        return
    table = Table(title="benzokit knowledge base")
    for column in ("drug", "class", "half-life (h)", "≈ diazepam 10 mg", "products"):
        table.add_column(column, overflow="fold")
    for d in entries:
        overview = _overview(d)
        table.add_row(
            d.name,
            d.drug_class,
            d.pk.half_life_h.range_text,
            "–".join(f"{v:g}" for v in overview["diazepam_10mg_equivalent_mg"]) + " mg",
            "; ".join(overview["products"]),
        )
    console.print(table)
    print_disclaimer()


def drug(
    name: Annotated[str, typer.Argument(help="Drug name, e.g. clonazepam.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one drug's facts, each with its source."""
    entry = guarded(lambda: load_drug(name, knowledge()))
    facts = list(_facts(entry))
    if as_json:
        payload = {
            **_overview(entry),
            "facts": [
                dict(zip(("fact", "value", "source", "verified"), f, strict=True)) for f in facts
            ],
            "disclaimer": DISCLAIMER,
        }
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
        return
    table = Table(
        title=f"{entry.display_name} (data version {entry.data_version})", show_lines=True
    )
    for column in ("fact", "value", "source"):
        table.add_column(column, overflow="fold")
    for fact, value, source, verified in facts:
        table.add_row(fact, value + ("" if verified else "  [yellow](unverified)[/]"), source)
    console.print(table)
    console.print(
        f"[bold]How the PK parameters were chosen:[/] {' '.join(entry.pk.how_chosen.split())}"
    )
    print_disclaimer()


def _overview(d: Drug) -> dict[str, Any]:
    low, high = d.equivalence.range_mg
    products = [
        f"{p.form} {'/'.join(f'{s:g}' for s in p.strengths_mg)} mg ({p.market})"
        if p.strengths_mg
        else f"{p.form} {p.concentration_mg_ml:g} mg/mL ({p.market})"
        for p in d.products
    ]
    return {
        "name": d.name,
        "display_name": d.display_name,
        "class": d.drug_class,
        "data_version": d.data_version,
        "half_life_h": d.pk.half_life_h.range_text,
        "diazepam_10mg_equivalent_mg": sorted({low, high}),
        "products": products,
    }


def _figure_text(f: Figure, unit: str) -> str:
    text = f"{f.value:g}" if f.value is not None else ""
    if f.low is not None and f.high is not None:
        text += f" (range {f.low:g}–{f.high:g})" if text else f"{f.low:g}–{f.high:g}"
    text += f" {unit}".rstrip()
    return text + (f" — {f.note}" if f.note else "")


_PK_FIELDS = {
    "bioavailability": "", "absorption_rate_per_h": "1/h", "clearance_l_h": "L/h",
    "central_volume_l": "L", "intercompartmental_clearance_l_h": "L/h", "peripheral_volume_l": "L",
    "fraction_unbound": "", "half_life_h": "h", "tmax_h": "h", "clearance_weight_exponent": "",
    "reference_weight_kg": "kg",
}  # fmt: skip


def _facts(d: Drug) -> list[tuple[str, str, str, bool]]:
    def of_figure(label: str, figure: Figure, unit: str) -> tuple[str, str, str, bool]:
        return label, _figure_text(figure, unit), d.source_of(figure).citation, figure.verified

    def of_source(
        label: str, text: str, source: str, verified: bool = True
    ) -> tuple[str, str, str, bool]:
        return label, text, d.sources[source].citation, verified

    rows = [of_figure("molar mass", d.molar_mass_g_mol, "g/mol")]
    for field, unit in _PK_FIELDS.items():
        figure = getattr(d.pk, field)
        if figure is not None:
            rows.append(of_figure(f"PK {field}", figure, unit))
    for m in d.metabolites:
        status = "active" if m.active else "inactive"
        rows.append(of_figure(f"metabolite {m.name} ({status}) half-life", m.half_life_h, "h"))
    for p in d.products:
        what = ", ".join(f"{s:g} mg" for s in p.strengths_mg) or f"{p.concentration_mg_ml:g} mg/mL"
        split = {1.0: "not split", 0.5: "scored: halves", 0.25: "quarters"}[p.smallest_split]
        text = f"{what}; {split}. {p.note}".strip()
        rows.append(of_source(f"product {p.form} ({p.market})", text, p.source))
    for limit in d.dose_limits:
        for field in (
            "start_daily_mg",
            "start_daily_mg_per_kg",
            "max_start_daily_mg_per_kg",
            "maintenance_daily_mg_per_kg",
            "max_daily_mg",
            "step_daily_mg",
            "step_interval_days",
            "doses_per_day",
        ):
            figure = getattr(limit, field)
            if figure is not None:
                label = f"{limit.indication} ({limit.population}) {field}"
                rows.append(of_figure(label, figure, ""))
    for v in d.equivalence.values:
        label = f"equivalent to diazepam {d.equivalence.reference_diazepam_mg:g} mg"
        rows.append(of_source(label, f"{v.dose_mg:g} mg", v.source))
    for inter in d.pk_interactions:
        who = ", ".join(inter.agents + inter.agent_classes)
        ratio = (
            f"exposure x {inter.exposure_ratio.value:g}"
            if inter.exposure_ratio
            else str(inter.effect)
        )
        rows.append(of_source(f"interaction: {who}", f"{ratio} — {inter.note}", inter.source))
    for ref in d.reference_ranges:
        text = f"{ref.low_ng_ml:g}–{ref.high_ng_ml:g} ng/mL"
        rows.append(of_source(f"reference range: {ref.label}", text, ref.source, ref.verified))
    return rows
