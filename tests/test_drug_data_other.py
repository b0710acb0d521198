"""Knowledge-base files of the ten drugs besides clonazepam: they load, every figure is sourced, and a
single oral dose simulated from each file reproduces a published peak concentration and time to peak.

Reference values are published figures (not model output); each carries its citation. Tolerances are
stated per row: +/-35 % of the published mean Cmax unless the publication gives a range.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from benzokit import TimeGrid, parse_regimen, simulate
from benzokit.drugs import Drug, Figure, load_agents, load_drug_file
from benzokit.knowledge import Knowledge
from benzokit.sim.result import Summary

DEFAULT_TOLERANCE = 0.35


@dataclass(frozen=True, slots=True)
class SingleDoseReference:
    """A published single oral dose: mean Cmax (ng/mL) and the tmax window (h) it is checked against."""

    drug: str
    dose_mg: float
    cmax_ng_ml: float
    tmax_low_h: float
    tmax_high_h: float
    citation: str
    cmax_low_ng_ml: float | None = None  # a published range replaces the +/-35 % band
    cmax_high_ng_ml: float | None = None

    def cmax_band(self) -> tuple[float, float]:
        if self.cmax_low_ng_ml is not None and self.cmax_high_ng_ml is not None:
            return self.cmax_low_ng_ml, self.cmax_high_ng_ml
        return (
            self.cmax_ng_ml * (1 - DEFAULT_TOLERANCE),
            self.cmax_ng_ml * (1 + DEFAULT_TOLERANCE),
        )


REFERENCES = (
    # Cmax: Greenblatt DJ et al., "Diazepam absorption" (37 volunteers 19-79 y, 5 mg tablet): 157 ng/mL.
    # tmax: Valium label, range 0.25-2.5 h. (The file is fitted to Greenblatt 1989's 10 mg Cmax, so the
    # independent 5 mg study is the check.)
    SingleDoseReference(
        "diazepam", 5, 157, 0.25, 2.5, "Greenblatt, Diazepam absorption; Valium label"
    ),
    # Xanax label: 0.5-3.0 mg gave peaks of 8.0-37 ng/mL, peak 1-2 h. Checked at 3 mg (37 ng/mL).
    SingleDoseReference("alprazolam", 3, 37, 1.0, 2.0, "Xanax (alprazolam) US label, 12.3"),
    # Ativan label: 2 mg -> approximately 20 ng/mL at approximately 2 h (window +/-0.5 h stated here).
    SingleDoseReference("lorazepam", 2, 20, 1.5, 2.5, "Ativan (lorazepam) US label"),
    # Oxazepam capsules label: 30 mg capsule/tablet -> mean peak 450 ng/mL at about 3 h;
    # tmax window 1.7-2.8 h (Sonne et al., Eur J Clin Pharmacol 1988;35:385) to 3 h (label).
    SingleDoseReference("oxazepam", 30, 450, 1.7, 3.0, "oxazepam US label; Sonne 1988"),
    # Mattila MJ et al., Med Biol 1985;63:21: 20 mg uncoated tablet, mean peak 587 ng/mL at about 1 h;
    # tmax window 0.5 h (Freedman, J Clin Pharm Ther 1991;16:345) to 1.67 h (Müller, EJCP 1987;33:211).
    SingleDoseReference("temazepam", 20, 587, 0.5, 1.7, "Mattila 1985; Freedman 1991; Müller 1987"),
    # Greenblatt DJ et al., Eur J Clin Pharmacol 1978;13:267: 50 mg chlordiazepoxide HCl orally,
    # highest whole-blood concentration 1.65 ug/mL at 2.3 h (no label range: window 2.3 h +/-50 %).
    SingleDoseReference("chlordiazepoxide", 50, 1650, 1.15, 3.45, "Greenblatt 1978, EJCP 13:267"),
    # Urbanol (clobazam) SmPC 5.2: single 20 mg dose, Cmax 222-709 ng/mL (interindividual range);
    # healthy-volunteer mean 350 ng/mL (Pharmacol Toxicol 1994;74:345). Tmax 0.5-4 h (Onfi label).
    SingleDoseReference("clobazam", 20, 350, 0.5, 4.0, "Urbanol SmPC 5.2; Onfi US label", 222, 709),
    # Ambien label: 10 mg zolpidem tartrate, Cmax 121 ng/mL (range 58-272), mean Tmax 1.6 h;
    # Tmax window 0.5-3 h from the Swiss Stilnox product information.
    SingleDoseReference("zolpidem", 10, 121, 0.5, 3.0, "Ambien US label; Stilnox CH information"),
    # Swiss zopiclone product information: 7.5 mg -> about 60 ng/mL within 1.5-2 h.
    SingleDoseReference("zopiclone", 7.5, 60, 1.5, 2.0, "Zopiclon Swiss product information"),
    # Fernandez C et al., Drug Metab Dispos 1993;21:1125: 15 mg racemic zopiclone, (+)-(S)-enantiomer
    # (= 7.5 mg eszopiclone) Cmax 87.3 ng/mL; Tmax 1.0-1.6 h (Neuropsychiatr Dis Treat 2007;3:441 T1).
    SingleDoseReference("eszopiclone", 7.5, 87.3, 1.0, 1.6, "Fernandez 1993; NDT 2007 Table 1"),
)
DRUGS = tuple(ref.drug for ref in REFERENCES)


def _path(name: str) -> Path:
    return Knowledge.shipped().path(f"{name}.toml")


def _figures(value: object) -> list[Figure]:
    if isinstance(value, Figure):
        return [value]
    if isinstance(value, BaseModel):
        return [f for field in type(value).model_fields for f in _figures(getattr(value, field))]
    if isinstance(value, tuple | list):
        return [f for item in value for f in _figures(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _figures(item)]
    return []


def _single_dose(drug: Drug, dose_mg: float) -> Summary:
    grid = TimeGrid(end_h=24.0, step_h=0.01)
    return simulate(drug, parse_regimen(f"{dose_mg:g} mg once"), grid=grid).summary


def test_the_reference_table_covers_ten_distinct_drugs() -> None:
    assert len(set(DRUGS)) == len(DRUGS) == 10
    assert "clonazepam" not in DRUGS


@pytest.mark.parametrize("name", DRUGS)
def test_file_loads_and_every_figure_cites_a_defined_source(name: str) -> None:
    drug = load_drug_file(_path(name))
    assert drug.name == name
    assert drug.drug_class == (
        "z-drug" if name.startswith(("zol", "zop", "eszop")) else "benzodiazepine"
    )
    figures = _figures(drug)
    assert len(figures) >= 10
    for figure in figures:
        source = drug.source_of(figure)
        assert len(source.citation) > 10
        assert not figure.placeholder, f"{name}: placeholder figure from {figure.source}"
    for product in drug.products:
        assert product.source in drug.sources
    assert drug.equivalence.reference_diazepam_mg == 10
    assert "ashton2002" in {v.source for v in drug.equivalence.values}


@pytest.mark.parametrize("name", DRUGS)
def test_pk_parameters_are_usable_and_systemic(name: str) -> None:
    pk = load_drug_file(_path(name)).pk
    assert 0 < pk.bioavailability.require() <= 1
    assert 0 < pk.fraction_unbound.require() < 1
    for figure in (pk.clearance_l_h, pk.central_volume_l, pk.absorption_rate_per_h):
        assert figure.require() > 0
    assert pk.half_life_h.low is not None and pk.half_life_h.high is not None


@pytest.mark.parametrize("name", DRUGS)
def test_interaction_agents_and_classes_exist_in_the_agent_catalogue(name: str) -> None:
    drug = load_drug_file(_path(name))
    catalogue = load_agents()
    for rule in drug.pk_interactions:
        assert set(rule.agents) <= set(catalogue.agents), rule.agents
        assert set(rule.agent_classes) <= set(catalogue.classes), rule.agent_classes
        if rule.exposure_ratio is not None:
            assert rule.exposure_ratio.require() > 0


@pytest.mark.parametrize("ref", REFERENCES, ids=DRUGS)
def test_single_dose_matches_published_cmax_and_tmax(ref: SingleDoseReference) -> None:
    drug = load_drug_file(_path(ref.drug))
    summary = _single_dose(drug, ref.dose_mg)
    low, high = ref.cmax_band()
    assert low <= summary.cmax_ng_ml <= high, (
        f"{ref.drug}: model Cmax {summary.cmax_ng_ml:.1f} ng/mL outside {low:.1f}-{high:.1f} "
        f"({ref.citation})"
    )
    assert ref.tmax_low_h <= summary.tmax_h <= ref.tmax_high_h, (
        f"{ref.drug}: model tmax {summary.tmax_h:.2f} h outside "
        f"{ref.tmax_low_h}-{ref.tmax_high_h} h ({ref.citation})"
    )


@pytest.mark.parametrize("name", DRUGS)
def test_model_terminal_half_life_lies_in_the_files_half_life_range(name: str) -> None:
    drug = load_drug_file(_path(name))
    half_life = drug.pk.half_life_h
    assert half_life.low is not None and half_life.high is not None
    model_half_life = _single_dose(drug, 1.0).terminal_half_life_h
    assert half_life.low <= model_half_life <= half_life.high, (
        f"{name}: model half-life {model_half_life:.1f} h outside {half_life.range_text} h"
    )
