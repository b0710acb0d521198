"""Loading and validating the knowledge-base data files shipped inside the package."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from benzokit.drugs.models import Drug
from benzokit.errors import DataError, UnknownNameError

_DATA_PACKAGE = "benzokit.drugs"
_NON_DRUG_FILES = frozenset({"agents", "pd", "population"})


def _data_dir() -> Path:
    return Path(str(resources.files(_DATA_PACKAGE).joinpath("data")))


def list_drugs() -> tuple[str, ...]:
    """Names of every drug in the knowledge base, sorted."""
    stems = (p.stem for p in _data_dir().glob("*.toml"))
    return tuple(sorted(s for s in stems if s not in _NON_DRUG_FILES))


def read_toml(path: Path) -> dict[str, object]:
    """Parse a TOML file, turning syntax errors into a :class:`DataError` naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise DataError(str(path), "(file)", "does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError(str(path), "(syntax)", f"is not valid TOML: {exc}") from exc


def validation_to_data_error(path: Path, exc: ValidationError) -> DataError:
    """The first validation problem of a data file, as a :class:`DataError` with its field path."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    extra = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return DataError(str(path), field, f"{first['msg']}{extra}")


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


@cache
def load_drug(name: str) -> Drug:
    """The knowledge-base entry for ``name`` (case-insensitive), e.g. ``load_drug("clonazepam")``."""
    key = name.strip().lower()
    known = list_drugs()
    if key not in known:
        raise UnknownNameError("drug", name, known)
    return load_drug_file(_data_dir() / f"{key}.toml")
