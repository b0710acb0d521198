"""Validate a whole knowledge base at once: every file through the loader that uses it.

The CLI's ``--knowledge DIR`` and the service's start-up call :func:`check_knowledge`, so a clinic's overlay
with a mistake fails before anything is planned with it, naming the file and the field, instead of at the
first request that happens to read the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from benzokit.drugs.agents import load_agents
from benzokit.drugs.loader import list_drugs, load_drug
from benzokit.drugs.models import Drug
from benzokit.errors import DataError
from benzokit.interop.handout_text import load_handout_text
from benzokit.knowledge import Knowledge
from benzokit.monitor.alerts import load_alert_rules
from benzokit.monitor.scales import load_scales
from benzokit.pd.params import load_pd_parameters
from benzokit.plan.pacing import load_pacing
from benzokit.plan.params import load_strategy_parameters
from benzokit.safety.rules import load_rules
from benzokit.sim.population.settings import build_settings


def population_defaults(drug: Drug, knowledge: Knowledge) -> None:
    """The default virtual population of ``drug`` (``population.toml`` with the drug's variability),
    validated; a problem is a :class:`DataError` naming ``population.toml`` and the field."""
    try:
        build_settings(drug, knowledge=knowledge)
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        raise DataError(str(knowledge.path("population.toml")), "(defaults)", str(error)) from error


@dataclass(frozen=True, slots=True)
class KnowledgeReport:
    """Which knowledge base is in use: its version, and the files a clinic's overlay replaced or added."""

    version: str
    overlaid: tuple[str, ...]
    files: int


def check_knowledge(knowledge: Knowledge) -> KnowledgeReport:
    """Load and validate every file of ``knowledge``; the first problem raises a DataError naming it."""
    for name in list_drugs(knowledge):
        population_defaults(load_drug(name, knowledge), knowledge)
    load_agents(knowledge)
    load_pd_parameters(knowledge)
    load_strategy_parameters(knowledge)
    load_pacing(knowledge)
    load_rules(knowledge)
    load_scales(knowledge)
    load_alert_rules(knowledge)
    load_handout_text(knowledge)
    return KnowledgeReport(
        version=knowledge.version,
        overlaid=knowledge.overlaid(),
        files=len(knowledge.names()),
    )
