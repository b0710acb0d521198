"""PD results as values: trajectories, their summary, and the model's description with its sources.

The simulation that produces them (``simulate_pd``, on top of a PK result) is the engine's:
:mod:`benzokit.sim.pd`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benzokit.drugs.models import Figure, SourceKind
from benzokit.errors import InputError
from benzokit.pd.params import PDParameters, load_pd_parameters
from benzokit.pd.tolerance import ToleranceModelName
from benzokit.types import FloatArray

PD_ARRAYS = ("occupancy", "effect", "adaptation", "net_effect", "withdrawal_index")
"""The PD trajectories, in the order of the JSON keys and CSV columns."""
_UNIT_SUFFIXES = (("_days", "days"), ("_h", "h"), ("_mg", "mg"))


@dataclass(frozen=True, slots=True)
class PDSummary:
    """Headline PD numbers of one trajectory (dimensionless fractions of maximal effect)."""

    peak_withdrawal_index: float
    peak_withdrawal_time_h: float
    final_adaptation: float
    max_occupancy: float

    def to_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in PDSummary.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class PDResult:
    """PD trajectories on the PK result's grid; all dimensionless (fractions of maximal effect)."""

    occupancy_set: str
    tolerance_model: str
    c50_unbound_ng_ml: float
    occupancy: FloatArray
    effect: FloatArray
    adaptation: FloatArray
    net_effect: FloatArray
    withdrawal_index: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {
            "occupancy_set": self.occupancy_set,
            "tolerance_model": self.tolerance_model,
            "c50_unbound_ng_ml": self.c50_unbound_ng_ml,
            "occupancy": self.occupancy.tolist(),
            "effect": self.effect.tolist(),
            "adaptation": self.adaptation.tolist(),
            "net_effect": self.net_effect.tolist(),
            "withdrawal_index": self.withdrawal_index.tolist(),
        }

    def arrays(self) -> dict[str, FloatArray]:
        """The trajectories by name (:data:`PD_ARRAYS`), e.g. for extra table columns."""
        return {name: getattr(self, name) for name in PD_ARRAYS}

    def summarize(self, time_h: FloatArray) -> PDSummary:
        """Peak withdrawal index and its time, final adaptation and maximal occupancy.

        ``time_h`` is the grid the result was computed on (the PK result's ``time_h``); the first
        time of the peak is reported.
        """
        if time_h.shape != self.withdrawal_index.shape:
            raise InputError(
                "time_h",
                f"{time_h.size} times",
                f"the {self.withdrawal_index.size} times of the simulation this PD result comes from",
            )
        peak = int(np.argmax(self.withdrawal_index))
        return PDSummary(
            peak_withdrawal_index=float(self.withdrawal_index[peak]),
            peak_withdrawal_time_h=float(time_h[peak]),
            final_adaptation=float(self.adaptation[-1]),
            max_occupancy=float(np.max(self.occupancy)),
        )

    def report(self, time_h: FloatArray, params: PDParameters | None = None) -> dict[str, Any]:
        """The JSON ``pd`` object: the model's description with sources, C50, and the summary."""
        return {
            **describe_pd_model(
                self.occupancy_set, ToleranceModelName.parse(self.tolerance_model), params
            ),
            "c50_unbound_ng_ml": self.c50_unbound_ng_ml,
            "summary": self.summarize(time_h).to_dict(),
        }


def _unit(name: str) -> str:
    return next((unit for suffix, unit in _UNIT_SUFFIXES if name.endswith(suffix)), "1")


def figure_record(name: str, figure: Figure, params: PDParameters) -> dict[str, Any]:
    """A ``pd.toml`` figure as JSON: value (and range), unit, citation and how far to trust it."""
    source = params.sources.get(figure.source)
    kind = str(source.kind) if source is not None else "unknown"
    return {
        "name": name,
        "value": figure.value,
        "low": figure.low,
        "high": figure.high,
        "unit": _unit(name),
        "source": source.citation if source is not None else figure.source,
        "source_key": figure.source,
        "source_kind": kind,
        "assumption": kind == SourceKind.ASSUMPTION,
        "verified": figure.verified,
        "note": figure.note,
    }


def describe_pd_model(
    occupancy_set: str | None,
    tolerance: ToleranceModelName,
    params: PDParameters | None = None,
) -> dict[str, Any]:
    """Occupancy anchor, effect and tolerance parameters, each with its source (JSON-ready)."""
    params = params or load_pd_parameters()
    name = occupancy_set or params.default_occupancy_set
    anchor = params.occupancy_set(name)
    tolerance = ToleranceModelName.parse(tolerance)
    tol = (
        params.tolerance.moderator
        if tolerance is ToleranceModelName.MODERATOR
        else params.tolerance.turnover_feedback
    )
    tol_source = params.sources.get(tol.source)
    return {
        "occupancy_set": name,
        "occupancy_set_description": anchor.description,
        "anchor": {
            "drug": anchor.anchor_drug,
            "daily_dose_mg": figure_record(
                "anchor_daily_dose_mg", anchor.anchor_daily_dose_mg, params
            ),
            "occupancy": figure_record("anchor_occupancy", anchor.anchor_occupancy, params),
        },
        "effect": [
            figure_record(field, getattr(params.effect, field), params)
            for field in type(params.effect).model_fields
        ],
        "tolerance_model": tolerance.value,
        "tolerance": {
            "description": tol.description,
            "source": tol_source.citation if tol_source is not None else tol.source,
            "source_key": tol.source,
            "parameters": [
                figure_record(field, getattr(tol, field), params)
                for field, info in type(tol).model_fields.items()
                if info.annotation is Figure
            ],
        },
    }
