"""Individual PK parameters from covariates: body weight and co-medication.

Only sourced, quantified effects change parameters. An interaction whose size is unknown (for
clonazepam: CYP3A inhibitors) is reported as an :class:`InteractionNote` with no factor — never
given an invented fold change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benzokit.drugs.agents import Agent, resolve_agents
from benzokit.drugs.models import Drug, InteractionEffect, PKInteraction
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.patient import ComedicationModel, Patient
from benzokit.pk.model import PKModel


@dataclass(frozen=True, slots=True)
class CovariateNote:
    """How one covariate changed (or did not change) the model, with its source citation."""

    covariate: str
    message: str
    clearance_factor: float = 1.0
    volume_factor: float = 1.0
    source: str = ""


@dataclass(frozen=True, slots=True)
class InteractionNote:
    """A co-medication's effect on exposure. ``exposure_ratio`` is ``None`` when unquantified."""

    agent: str
    effect: InteractionEffect
    exposure_ratio: float | None
    message: str
    source: str
    modelled: bool


@dataclass(frozen=True, slots=True)
class Individualized:
    """The individual model and the reasons it differs from the typical adult."""

    model: PKModel
    covariates: tuple[CovariateNote, ...]
    interactions: tuple[InteractionNote, ...]


def individualize(
    drug: Drug, patient: Patient, knowledge: Knowledge | None = None
) -> Individualized:
    """Apply weight scaling and co-medication effects of ``patient`` to ``drug``'s typical model
    (co-medications looked up in ``knowledge``, default: shipped)."""
    typical = PKModel.from_parameters(drug.pk)
    weight = _weight_effect(drug, patient)
    agents = resolve_agents(patient.comedications, knowledge=knowledge)
    if patient.comedication_model is ComedicationModel.YUKAWA2002:
        comed, interactions = _yukawa_effect(drug, patient, agents)
    else:
        comed, interactions = _label_effects(drug, agents)
    notes = (weight, *comed, _age_note(patient))
    clearance = math.prod(n.clearance_factor for n in notes)
    volume = math.prod(n.volume_factor for n in notes)
    return Individualized(typical.scaled(clearance=clearance, volume=volume), notes, interactions)


def _weight_effect(drug: Drug, patient: Patient) -> CovariateNote:
    reference_kg = drug.pk.reference_weight_kg.require("pk.reference_weight_kg")
    if patient.weight_kg is None:
        return CovariateNote(
            "weight", f"not given: parameters are those of a {reference_kg:g} kg adult"
        )
    ratio = patient.weight_kg / reference_kg
    exponent_fig = drug.pk.clearance_weight_exponent
    clearance = (
        ratio ** exponent_fig.require("pk.clearance_weight_exponent") if exponent_fig else 1.0
    )
    volume = ratio if drug.pk.volume_per_kg else 1.0
    parts = []
    if exponent_fig:
        parts.append(f"clearance x {clearance:.3f} (weight^{exponent_fig.value:g})")
    if drug.pk.volume_per_kg:
        parts.append(f"volumes x {volume:.3f} (proportional to weight)")
    if not parts:
        message = (
            "no weight covariate in the knowledge base for this drug; typical adult parameters used"
        )
    else:
        message = f"{patient.weight_kg:g} kg: " + ", ".join(parts)
    source = drug.source_of(exponent_fig).citation if exponent_fig else ""
    return CovariateNote("weight", message, clearance, volume, source)


def _age_note(patient: Patient) -> CovariateNote:
    if patient.age_y is None:
        return CovariateNote("age", "not given")
    return CovariateNote(
        "age", f"{patient.age_y:g} y: no quantified age effect on clearance in the knowledge base"
    )


def _matching_rule(drug: Drug, agent: Agent) -> PKInteraction | None:
    """The drug's interaction rule for ``agent``: one naming the agent beats one naming its class."""
    by_agent = [r for r in drug.pk_interactions if agent.name in r.agents]
    by_class = [r for r in drug.pk_interactions if set(agent.classes) & set(r.agent_classes)]
    matches = by_agent or by_class
    return matches[0] if matches else None


def _label_effects(
    drug: Drug, agents: tuple[Agent, ...]
) -> tuple[tuple[CovariateNote, ...], tuple[InteractionNote, ...]]:
    notes: list[CovariateNote] = []
    interactions: list[InteractionNote] = []
    applied: set[int] = set()
    for agent in agents:
        rule = _matching_rule(drug, agent)
        if rule is None:
            continue
        source = drug.sources[rule.source].citation
        ratio = rule.exposure_ratio.require("exposure_ratio") if rule.exposure_ratio else None
        modelled = ratio is not None
        interactions.append(
            InteractionNote(agent.name, rule.effect, ratio, rule.note, source, modelled)
        )
        if ratio is not None and id(rule) not in applied:
            applied.add(id(rule))
            notes.append(
                CovariateNote(
                    f"co-medication ({agent.name})",
                    f"exposure x {ratio:g}: clearance x {1 / ratio:.3f}",
                    clearance_factor=1.0 / ratio,
                    source=source,
                )
            )
    return tuple(notes), tuple(interactions)


def _yukawa_effect(
    drug: Drug, patient: Patient, agents: tuple[Agent, ...]
) -> tuple[tuple[CovariateNote, ...], tuple[InteractionNote, ...]]:
    model = drug.yukawa2002
    if model is None:
        raise InputError(
            "co-medication model", "yukawa2002", f"'label' (no Yukawa 2002 model for {drug.name})"
        )
    source = drug.sources[model.source].citation
    aeds = [a.name for a in agents if a.name in model.antiepileptics]
    _, other_interactions = _label_effects(drug, tuple(a for a in agents if a.name not in aeds))
    unmodelled = tuple(
        InteractionNote(i.agent, i.effect, i.exposure_ratio, i.message, i.source, False)
        for i in other_interactions
    )
    if not aeds:
        return (), unmodelled
    if len(aeds) == 1:
        factor = model.one_antiepileptic_factor.require("yukawa2002.one_antiepileptic_factor")
    else:
        if patient.weight_kg is None:
            raise InputError(
                "weight", None, "a body weight: Yukawa 2002 with two antiepileptics needs it"
            )
        coefficient = model.two_or_more_coefficient.require("yukawa2002.two_or_more_coefficient")
        exponent = model.two_or_more_weight_exponent.require(
            "yukawa2002.two_or_more_weight_exponent"
        )
        factor = coefficient * patient.weight_kg**exponent
    note = CovariateNote(
        f"co-medication ({', '.join(aeds)})",
        f"Yukawa 2002: clearance x {factor:.3f} with {len(aeds)} antiepileptic(s)",
        clearance_factor=factor,
        source=source,
    )
    interactions = tuple(
        InteractionNote(a, InteractionEffect.EXPOSURE, 1.0 / factor, note.message, source, True)
        for a in aeds
    )
    return (note,), interactions + unmodelled
