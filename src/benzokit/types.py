"""Type names shared by every layer: one definition each, imported from here.

``FloatArray`` is the array type of every numeric series (times in h, concentrations, occupancies);
``FrozenModel`` is the base of every validated, immutable data-file schema (unknown keys are refused, so a
typo in a data file fails loudly instead of being ignored).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

FloatArray = NDArray[np.float64]


class FrozenModel(BaseModel):
    """An immutable pydantic model that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
