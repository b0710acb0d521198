"""Drawing virtual subjects: covariates, then individual PK parameters with log-normal IIV.

P_i = P_typical(covariates_i) · exp(η_i), η ~ N(0, ω²), ω² = ln(1 + CV²) (median at the typical value);
η_CL and η_Vc are correlated. Every draw is keyed by (seed, stream, subject id): see ``rng``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benzokit.drugs.models import Drug
from benzokit.knowledge import Knowledge
from benzokit.patient import Patient
from benzokit.pk.covariates import individualize
from benzokit.pk.model import PKModel
from benzokit.sim.population.rng import COVARIATES_STREAM, PARAMETERS_STREAM, normals, uniforms
from benzokit.sim.population.settings import PK_PARAMETERS, PopulationSettings
from benzokit.types import FloatArray

IntArray = NDArray[np.int64]
_COVARIATE_DRAWS = 3  # weight, age, sex; then one per co-medication


@dataclass(frozen=True, slots=True)
class Subjects:
    """Covariates and individual PK parameters of a set of subjects (one row per subject)."""

    subject_id: IntArray
    weight_kg: FloatArray
    age_y: FloatArray
    female: NDArray[np.bool_]
    comedication: dict[str, NDArray[np.bool_]]
    bioavailability: FloatArray
    absorption_rate_per_h: FloatArray
    clearance_l_h: FloatArray
    central_volume_l: FloatArray
    intercompartmental_clearance_l_h: FloatArray
    peripheral_volume_l: FloatArray

    def __len__(self) -> int:
        return int(self.subject_id.size)


def _log_normal_sd(cv: float) -> float:
    return float(np.sqrt(np.log1p(cv * cv)))


def _etas(settings: PopulationSettings, seed: int, ids: IntArray) -> dict[str, FloatArray]:
    z = normals(seed, PARAMETERS_STREAM, ids, len(PK_PARAMETERS))
    rho = settings.clearance_central_volume_correlation
    z_vc = rho * z[:, 0] + np.sqrt(1.0 - rho * rho) * z[:, 1]
    columns = {name: z[:, k] for k, name in enumerate(PK_PARAMETERS)}
    columns["central_volume"] = z_vc
    return {
        name: _log_normal_sd(settings.iiv_cv.get(name, 0.0)) * columns[name]
        for name in PK_PARAMETERS
    }


def _covariate_factors(
    drug: Drug,
    weight_kg: FloatArray,
    comedication: dict[str, NDArray[np.bool_]],
    knowledge: Knowledge | None,
) -> tuple[FloatArray, FloatArray]:
    """Clearance and volume multipliers from weight and co-medication (the rules of ``individualize``)."""
    reference_kg = drug.pk.reference_weight_kg.require("pk.reference_weight_kg")
    ratio = weight_kg / reference_kg
    exponent = drug.pk.clearance_weight_exponent
    clearance = (
        ratio ** exponent.require("pk.clearance_weight_exponent")
        if exponent
        else np.ones_like(ratio)
    )
    volume = ratio if drug.pk.volume_per_kg else np.ones_like(ratio)
    names = sorted(comedication)
    if names:
        codes = sum((comedication[name].astype(np.int64) << bit) for bit, name in enumerate(names))
        for code in np.unique(codes):
            taking = tuple(name for bit, name in enumerate(names) if code >> bit & 1)
            individual = individualize(drug, Patient(comedications=taking), knowledge)
            factor = individual.model.clearance_l_h
            clearance = np.where(
                codes == code, clearance * factor / drug.pk.clearance_l_h.require(), clearance
            )
    return np.asarray(clearance, dtype=np.float64), np.asarray(volume, dtype=np.float64)


def sample_subjects(
    drug: Drug,
    settings: PopulationSettings,
    seed: int,
    subject_ids: IntArray,
    knowledge: Knowledge | None = None,
) -> Subjects:
    """Draw the subjects with the given global ids (independent of how ids are chunked); co-medications
    are looked up in ``knowledge`` (default: shipped)."""
    cov = settings.covariates
    comed_names = sorted(cov.comedication_prevalence)
    u = uniforms(seed, COVARIATES_STREAM, subject_ids, _COVARIATE_DRAWS + len(comed_names))
    z_weight = normals(seed, COVARIATES_STREAM, subject_ids, 1)[:, 0]
    weight = np.clip(
        cov.weight_mean_kg + cov.weight_sd_kg * z_weight, cov.weight_min_kg, cov.weight_max_kg
    )
    age = cov.age_min_y + (cov.age_max_y - cov.age_min_y) * u[:, 1]
    female = u[:, 2] < cov.female_fraction
    comedication = {
        name: u[:, _COVARIATE_DRAWS + k] < cov.comedication_prevalence[name]
        for k, name in enumerate(comed_names)
    }
    typical = PKModel.from_parameters(drug.pk)
    cl_factor, v_factor = _covariate_factors(drug, weight, comedication, knowledge)
    eta = _etas(settings, seed, subject_ids)
    two = typical.two_compartment
    return Subjects(
        subject_id=subject_ids,
        weight_kg=weight,
        age_y=age,
        female=female,
        comedication=comedication,
        bioavailability=np.full(subject_ids.size, typical.bioavailability),
        absorption_rate_per_h=typical.absorption_rate_per_h * np.exp(eta["absorption_rate"]),
        clearance_l_h=typical.clearance_l_h * cl_factor * np.exp(eta["clearance"]),
        central_volume_l=typical.central_volume_l * v_factor * np.exp(eta["central_volume"]),
        intercompartmental_clearance_l_h=(
            typical.intercompartmental_clearance_l_h
            * cl_factor
            * np.exp(eta["intercompartmental_clearance"])
            if two
            else np.zeros(subject_ids.size)
        ),
        peripheral_volume_l=(
            typical.peripheral_volume_l * v_factor * np.exp(eta["peripheral_volume"])
            if two
            else np.zeros(subject_ids.size)
        ),
    )
