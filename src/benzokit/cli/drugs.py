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
    def cite(f: Figure) -> str:
        return d.source_of(f).citation

    rows = [
        (
            "molar mass",
            _figure_text(d.molar_mass_g_mol, "g/mol"),
            cite(d.molar_mass_g_mol),
            d.molar_mass_g_mol.verified,
        )
    ]
    for field, unit in _PK_FIELDS.items():
        figure = getattr(d.pk, field)
        if figure is not None:
            rows.append((f"PK {field}", _figure_text(figure, unit), cite(figure), figure.verified))
    for m in d.metabolites:
        status = "active" if m.active else "inactive"
        rows.append(
            (
                f"metabolite {m.name} ({status}) half-life",
                _figure_text(m.half_life_h, "h"),
                cite(m.half_life_h),
                m.half_life_h.verified,
            )
        )
    for p in d.products:
        what = ", ".join(f"{s:g} mg" for s in p.strengths_mg) or f"{p.concentration_mg_ml:g} mg/mL"
        split = {1.0: "not split", 0.5: "scored: halves", 0.25: "quarters"}[p.smallest_split]
        rows.append(
            (
                f"product {p.form} ({p.market})",
                f"{what}; {split}. {p.note}".strip(),
                d.sources[p.source].citation,
                True,
            )
        )
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
                rows.append(
                    (
                        f"{limit.indication} ({limit.population}) {field}",
                        _figure_text(figure, ""),
                        cite(figure),
                        figure.verified,
                    )
                )
    for v in d.equivalence.values:
        rows.append(
            (
                f"equivalent to diazepam {d.equivalence.reference_diazepam_mg:g} mg",
                f"{v.dose_mg:g} mg",
                d.sources[v.source].citation,
                True,
            )
        )
    for inter in d.pk_interactions:
        who = ", ".join(inter.agents + inter.agent_classes)
        ratio = (
            f"exposure x {inter.exposure_ratio.value:g}"
            if inter.exposure_ratio
            else str(inter.effect)
        )
        rows.append(
            (
                f"interaction: {who}",
                f"{ratio} — {inter.note}",
                d.sources[inter.source].citation,
                True,
            )
        )
    for ref in d.reference_ranges:
        rows.append(
            (
                f"reference range: {ref.label}",
                f"{ref.low_ng_ml:g}–{ref.high_ng_ml:g} ng/mL",
                d.sources[ref.source].citation,
                ref.verified,
            )
        )
    return rows
