"""The individual a simulation or plan is for."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from benzokit.errors import InputError


class ComedicationModel(StrEnum):
    """How co-medication changes clearance: the label's quantified interactions, or Yukawa 2002."""

    LABEL = "label"
    YUKAWA2002 = "yukawa2002"


@dataclass(frozen=True, slots=True)
class Patient:
    """Covariates of one patient. ``None`` means unknown: the reference adult is used and said so."""

    weight_kg: float | None = None
    age_y: float | None = None
    comedications: tuple[str, ...] = field(default=())
    comedication_model: ComedicationModel = ComedicationModel.LABEL

    def __post_init__(self) -> None:
        if self.weight_kg is not None and not 0.5 <= self.weight_kg <= 350:
            raise InputError("weight", self.weight_kg, "a body weight between 0.5 and 350 kg")
        if self.age_y is not None and not 0 <= self.age_y <= 120:
            raise InputError("age", self.age_y, "an age between 0 and 120 years")
        object.__setattr__(self, "comedication_model", ComedicationModel(self.comedication_model))
