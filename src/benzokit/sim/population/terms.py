"""Per-subject exponential terms of the oral unit-dose concentration response (vectorised closed form).

C(t) [ng/mL] after 1 mg oral = sum_j coef[:, j] · exp(−rate[:, j] · t), j over (ka, α, β); for one
compartment the β term is zero. Textbook forms (Gibaldi & Perrier) — checked against the spectral solution.
"""

from __future__ import annotations

import numpy as np

from benzokit.sim.population.sample import Subjects
from benzokit.sim.population.structures import SubjectPK
from benzokit.types import FloatArray

NG_ML_PER_MG_L = 1000.0
_MIN_RELATIVE_GAP = 1e-7


def _separated(ka: FloatArray, *rates: FloatArray) -> FloatArray:
    for rate in rates:
        ka = np.where(
            np.abs(ka - rate) <= _MIN_RELATIVE_GAP * rate, ka * (1 + 10 * _MIN_RELATIVE_GAP), ka
        )
    return ka


def oral_pk(subjects: Subjects) -> SubjectPK:
    """The kernel's PK input: each subject's coefficients and rates, each of shape (subjects, 3)."""
    f, vc = subjects.bioavailability, subjects.central_volume_l
    k10 = subjects.clearance_l_h / vc
    n = len(subjects)
    coef = np.zeros((n, 3))
    rate = np.zeros((n, 3))
    scale = f / vc * NG_ML_PER_MG_L
    if not np.any(subjects.intercompartmental_clearance_l_h > 0):
        ka = _separated(subjects.absorption_rate_per_h, k10)
        common = scale * ka / (ka - k10)
        coef[:, 0], coef[:, 1] = -common, common
        rate[:, 0], rate[:, 1] = ka, k10
        return SubjectPK(subjects.subject_id, coef, rate)
    k12 = subjects.intercompartmental_clearance_l_h / vc
    k21 = subjects.intercompartmental_clearance_l_h / subjects.peripheral_volume_l
    total = k10 + k12 + k21
    root = np.sqrt(total * total - 4.0 * k10 * k21)
    alpha, beta = (total + root) / 2.0, (total - root) / 2.0
    ka = _separated(subjects.absorption_rate_per_h, alpha, beta)
    coef[:, 0] = scale * ka * (k21 - ka) / ((alpha - ka) * (beta - ka))
    coef[:, 1] = scale * ka * (k21 - alpha) / ((ka - alpha) * (beta - alpha))
    coef[:, 2] = scale * ka * (k21 - beta) / ((ka - beta) * (alpha - beta))
    rate[:, 0], rate[:, 1], rate[:, 2] = ka, alpha, beta
    return SubjectPK(subjects.subject_id, coef, rate)
