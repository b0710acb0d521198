"""The drug knowledge base: sourced data files and their typed models."""

from benzokit.drugs.agents import Agent, load_agents, resolve_agents
from benzokit.drugs.loader import list_drugs, load_drug, load_drug_file
from benzokit.drugs.models import (
    DoseLimit,
    Drug,
    Equivalence,
    Figure,
    PKParameters,
    PKStructure,
    Product,
    ProductForm,
    Source,
)

__all__ = [
    "Agent",
    "DoseLimit",
    "Drug",
    "Equivalence",
    "Figure",
    "PKParameters",
    "PKStructure",
    "Product",
    "ProductForm",
    "Source",
    "list_drugs",
    "load_agents",
    "load_drug",
    "load_drug_file",
    "resolve_agents",
]
