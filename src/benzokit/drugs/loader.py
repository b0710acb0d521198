"""The drug files of the knowledge base: listing, loading and validating them."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from benzokit.drugs.models import Drug
from benzokit.errors import DataError, UnknownNameError
from benzokit.knowledge import Knowledge, read_toml, validation_to_data_error

DRUGS_PACKAGE = "benzokit.drugs"
_NON_DRUG_FILES = frozenset({"agents.toml", "pd.toml", "population.toml"})


def list_drugs(knowledge: Knowledge | None = None) -> tuple[str, ...]:
    """Names of every drug in the knowledge base, sorted."""
    return (knowledge or Knowledge.shipped()).cached(_drug_names)


def _drug_names(knowledge: Knowledge) -> tuple[str, ...]:
    names = knowledge.names(DRUGS_PACKAGE)
    return tuple(name.removesuffix(".toml") for name in names if name not in _NON_DRUG_FILES)


def load_drug_file(path: Path) -> Drug:
    """Load and validate one drug file; any problem raises :class:`DataError` with file and field."""
    raw = read_toml(path)
    try:
        drug = Drug.model_validate(raw)
    except ValidationError as exc:
        raise validation_to_data_error(path, exc) from exc
    if drug.name != path.stem:
        raise DataError(str(path), "name", f"is {drug.name!r} but the file is named {path.stem!r}")
    return drug


def load_drug(name: str, knowledge: Knowledge | None = None) -> Drug:
    """The knowledge-base entry for ``name`` (case-insensitive), e.g. ``load_drug("clonazepam")``."""
    knowledge = knowledge or Knowledge.shipped()
    key = name.strip().lower()
    known = list_drugs(knowledge)
    if key not in known:
        raise UnknownNameError("drug", name, known)
    return knowledge.load(f"{key}.toml", load_drug_file)
