"""Co-medications and other agents (alcohol, opioids, CYP3A modulators) with their classes.

Classes are what interactions and safety rules refer to (``opioid``,
``cyp3a_strong_inhibitor``, ...); each class and each agent carries a source.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from benzokit.drugs.models import Source
from benzokit.errors import UnknownNameError
from benzokit.knowledge import Knowledge, read_document
from benzokit.types import FrozenModel


class AgentClass(FrozenModel):
    description: str
    source: str


class Agent(FrozenModel):
    """A substance a patient may take alongside the benzodiazepine."""

    name: str = ""
    classes: tuple[str, ...] = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    source: str


class AgentCatalogue(FrozenModel):
    schema_version: Literal[1]
    data_version: str
    sources: dict[str, Source]
    classes: dict[str, AgentClass]
    agents: dict[str, Agent]

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        for name, agent in self.agents.items():
            unknown = [c for c in agent.classes if c not in self.classes]
            if unknown:
                raise ValueError(f"agent {name!r} names undefined class(es) {unknown}")
            if agent.source not in self.sources:
                raise ValueError(f"agent {name!r} cites undefined source {agent.source!r}")
        for name, cls in self.classes.items():
            if cls.source not in self.sources:
                raise ValueError(f"class {name!r} cites undefined source {cls.source!r}")
        return self

    def lookup(self) -> dict[str, Agent]:
        """Every name and alias (lower case) mapped to its agent."""
        table: dict[str, Agent] = {}
        for name, agent in self.agents.items():
            named = agent.model_copy(update={"name": name})
            for key in (name, *agent.aliases):
                table[key.lower()] = named
        return table


def load_agent_file(path: Path) -> AgentCatalogue:
    """Load and validate an agent catalogue file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, AgentCatalogue)


def load_agents(knowledge: Knowledge | None = None) -> AgentCatalogue:
    """The agent catalogue (co-medications and their classes) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("agents.toml", load_agent_file)


def resolve_agents(
    names: Iterable[str], *, field: str = "co-medication", knowledge: Knowledge | None = None
) -> tuple[Agent, ...]:
    """Look up co-medications by name or alias in ``knowledge`` (default: shipped); an unknown one is
    an input error listing the known."""
    catalogue = load_agents(knowledge)
    table = catalogue.lookup()
    found: list[Agent] = []
    for raw in names:
        key = raw.strip().lower()
        if not key:
            continue
        if key not in table:
            raise UnknownNameError(field, raw, catalogue.agents)
        if table[key] not in found:
            found.append(table[key])
    return tuple(found)
