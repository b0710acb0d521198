"""Type names shared by every layer: one definition each, imported from here.

``FloatArray`` is the array type of every numeric series (times in h, concentrations, occupancies);
``FrozenModel`` is the base of every validated, immutable data-file schema (unknown keys are refused, so a
typo in a data file fails loudly instead of being ignored); ``Sourced`` is the base of every data-file
entry that carries its own source, verification flag, placeholder flag and note.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

FloatArray = NDArray[np.float64]


class FrozenModel(BaseModel):
    """An immutable pydantic model that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(FrozenModel):
    """A data-file entry that names its source: ``source`` is a key of the file's sources, ``verified``
    says it was checked against that source, ``placeholder`` marks a value that is not a sourced figure
    (code that would use it fails loudly), ``note`` says anything a reader of the file must know."""

    source: str = Field(min_length=1)
    verified: bool = True
    placeholder: bool = False
    note: str = ""
