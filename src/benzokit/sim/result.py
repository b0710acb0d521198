"""The typed result of a simulation, with tabular and JSON views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benzokit._disclaimer import DISCLAIMER
from benzokit.patient import Patient
from benzokit.pk.covariates import CovariateNote, InteractionNote
from benzokit.pk.model import PKModel
from benzokit.regimen.events import EventTable
from benzokit.types import FloatArray

if TYPE_CHECKING:
    import pandas as pd

JSON_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class ParameterRecord:
    """A model parameter as used for this subject, with the source of its typical value."""

    name: str
    value: float
    unit: str
    source: str
    source_key: str


@dataclass(frozen=True, slots=True)
class Summary:
    """Exposure metrics. Concentrations ng/mL, times h, AUC ng·h/mL (exact integral)."""

    cmax_ng_ml: float
    tmax_h: float
    cmin_last_24h_ng_ml: float
    cavg_last_24h_ng_ml: float
    auc_ng_h_ml: float
    terminal_half_life_h: float


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Concentration and amounts over time for one subject, and everything used to compute them."""

    drug: str
    regimen: str
    patient: Patient
    model: PKModel
    parameters: tuple[ParameterRecord, ...]
    covariates: tuple[CovariateNote, ...]
    interactions: tuple[InteractionNote, ...]
    events: EventTable
    time_h: FloatArray
    conc_ng_ml: FloatArray
    conc_nmol_l: FloatArray
    amounts_mg: dict[str, FloatArray]
    summary: Summary

    def to_pandas(self) -> pd.DataFrame:
        """One row per output time: time_h, conc_ng_ml, conc_nmol_l and amount_<compartment>_mg."""
        import pandas as pd

        columns: dict[str, FloatArray] = {
            "time_h": self.time_h,
            "conc_ng_ml": self.conc_ng_ml,
            "conc_nmol_l": self.conc_nmol_l,
        }
        columns.update({f"amount_{name}_mg": values for name, values in self.amounts_mg.items()})
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON view (see README, "JSON output")."""
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "drug": self.drug,
            "regimen": self.regimen,
            "patient": {
                "weight_kg": self.patient.weight_kg,
                "age_y": self.patient.age_y,
                "comedications": list(self.patient.comedications),
                "comedication_model": str(self.patient.comedication_model),
            },
            "parameters": [
                {
                    "name": p.name,
                    "value": p.value,
                    "unit": p.unit,
                    "source": p.source,
                    "source_key": p.source_key,
                }
                for p in self.parameters
            ],
            "covariates": [
                {
                    "covariate": c.covariate,
                    "message": c.message,
                    "clearance_factor": c.clearance_factor,
                    "volume_factor": c.volume_factor,
                    "source": c.source,
                }
                for c in self.covariates
            ],
            "interactions": [
                {
                    "agent": i.agent,
                    "effect": str(i.effect),
                    "exposure_ratio": i.exposure_ratio,
                    "modelled": i.modelled,
                    "message": i.message,
                    "source": i.source,
                }
                for i in self.interactions
            ],
            "doses": [
                {"time_h": float(t), "amount_mg": float(a), "route": str(r)}
                for t, a, r in zip(
                    self.events.time_h, self.events.amount_mg, self.events.route, strict=True
                )
            ],
            "summary": {
                name: float(getattr(self.summary, name)) for name in Summary.__dataclass_fields__
            },
            "time_h": self.time_h.tolist(),
            "conc_ng_ml": self.conc_ng_ml.tolist(),
            "conc_nmol_l": self.conc_nmol_l.tolist(),
            "amounts_mg": {name: values.tolist() for name, values in self.amounts_mg.items()},
            "disclaimer": DISCLAIMER,
        }
