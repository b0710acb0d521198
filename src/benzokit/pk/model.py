"""One- and two-compartment models with first-order absorption, as a linear rate matrix.

States are drug amounts in mg: ``gut`` (absorption depot), ``central`` and, for two compartments,
``peripheral``. Concentration is ``central / central_volume_l`` in mg/L (= µg/mL).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from benzokit.drugs.models import PKParameters, PKStructure
from benzokit.errors import InputError
from benzokit.regimen.events import Route


class Compartment(IntEnum):
    GUT = 0
    CENTRAL = 1
    PERIPHERAL = 2


@dataclass(frozen=True, slots=True)
class PKModel:
    """Micro-constants of a linear model. Units: L, L/h, 1/h; ``bioavailability`` is a fraction."""

    bioavailability: float
    absorption_rate_per_h: float
    clearance_l_h: float
    central_volume_l: float
    intercompartmental_clearance_l_h: float = 0.0
    peripheral_volume_l: float = 0.0

    def __post_init__(self) -> None:
        positive = {
            "absorption_rate_per_h": self.absorption_rate_per_h,
            "clearance_l_h": self.clearance_l_h,
            "central_volume_l": self.central_volume_l,
        }
        for name, value in positive.items():
            if not np.isfinite(value) or value <= 0:
                raise InputError(name, value, "a finite value greater than 0")
        if not 0 < self.bioavailability <= 1:
            raise InputError("bioavailability", self.bioavailability, "a fraction in (0, 1]")
        if self.two_compartment and self.peripheral_volume_l <= 0:
            raise InputError(
                "peripheral_volume_l", self.peripheral_volume_l, "a volume greater than 0"
            )

    @classmethod
    def from_parameters(cls, pk: PKParameters) -> PKModel:
        """The typical-adult model of a knowledge-base entry."""
        two = pk.structure is PKStructure.TWO_COMPARTMENT
        q = pk.intercompartmental_clearance_l_h
        vp = pk.peripheral_volume_l
        return cls(
            bioavailability=pk.bioavailability.require("pk.bioavailability"),
            absorption_rate_per_h=pk.absorption_rate_per_h.require("pk.absorption_rate_per_h"),
            clearance_l_h=pk.clearance_l_h.require("pk.clearance_l_h"),
            central_volume_l=pk.central_volume_l.require("pk.central_volume_l"),
            intercompartmental_clearance_l_h=q.require("pk.intercompartmental_clearance_l_h")
            if two and q
            else 0.0,
            peripheral_volume_l=vp.require("pk.peripheral_volume_l") if two and vp else 0.0,
        )

    @property
    def two_compartment(self) -> bool:
        return self.intercompartmental_clearance_l_h > 0

    @property
    def n_states(self) -> int:
        return 3 if self.two_compartment else 2

    def scaled(self, *, clearance: float = 1.0, volume: float = 1.0) -> PKModel:
        """The model with clearances multiplied by ``clearance`` and volumes by ``volume``."""
        return replace(
            self,
            clearance_l_h=self.clearance_l_h * clearance,
            intercompartmental_clearance_l_h=self.intercompartmental_clearance_l_h * clearance,
            central_volume_l=self.central_volume_l * volume,
            peripheral_volume_l=self.peripheral_volume_l * volume,
        )

    def rate_matrix(self) -> NDArray[np.float64]:
        """K such that d(amounts)/dt = K @ amounts (per hour)."""
        ka = self.absorption_rate_per_h
        k10 = self.clearance_l_h / self.central_volume_l
        matrix = np.zeros((self.n_states, self.n_states))
        matrix[Compartment.GUT, Compartment.GUT] = -ka
        matrix[Compartment.CENTRAL, Compartment.GUT] = ka
        matrix[Compartment.CENTRAL, Compartment.CENTRAL] = -k10
        if self.two_compartment:
            k12 = self.intercompartmental_clearance_l_h / self.central_volume_l
            k21 = self.intercompartmental_clearance_l_h / self.peripheral_volume_l
            matrix[Compartment.CENTRAL, Compartment.CENTRAL] -= k12
            matrix[Compartment.CENTRAL, Compartment.PERIPHERAL] = k21
            matrix[Compartment.PERIPHERAL, Compartment.CENTRAL] = k12
            matrix[Compartment.PERIPHERAL, Compartment.PERIPHERAL] = -k21
        return matrix

    def dose_input(self, route: Route) -> tuple[Compartment, float]:
        """Which compartment a dose enters and the fraction of it that arrives there."""
        if route is Route.IV_BOLUS:
            return Compartment.CENTRAL, 1.0
        return Compartment.GUT, self.bioavailability

    def disposition_rates_per_h(self) -> tuple[float, ...]:
        """Hybrid disposition rate constants (alpha, beta for two compartments), fastest first."""
        k10 = self.clearance_l_h / self.central_volume_l
        if not self.two_compartment:
            return (k10,)
        k12 = self.intercompartmental_clearance_l_h / self.central_volume_l
        k21 = self.intercompartmental_clearance_l_h / self.peripheral_volume_l
        total = k10 + k12 + k21
        root = np.sqrt(total * total - 4.0 * k10 * k21)
        return (float((total + root) / 2.0), float((total - root) / 2.0))

    @property
    def terminal_half_life_h(self) -> float:
        """ln 2 over the slowest disposition rate (absorption excluded)."""
        return float(np.log(2.0) / min(self.disposition_rates_per_h()))
