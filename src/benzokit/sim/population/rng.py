"""Counter-based random numbers: a subject's draws depend only on (seed, stream, subject, index).

So the same subject gets the same parameters, doses and adherence whatever the chunking, the number of
workers or the order of evaluation — the property that makes serial, multi-process and Dask runs
identical. The generator is SplitMix64 (Steele, Lea & Flood 2014) applied to a combined key.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Independent named streams of draws for each subject (plain integers: compiled code reads them).
PARAMETERS_STREAM = 1
COVARIATES_STREAM = 2
ADHERENCE_STREAM = 3
OCCASION_STREAM = 4
OBSERVATION_STREAM = 5  # a paced taper's check-in readings, indexed by plan day


@numba.njit(cache=True, inline="always")
def splitmix64(x: np.uint64) -> np.uint64:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def uniform(seed: int, stream: int, subject: int, index: int) -> float:
    """A uniform draw in (0, 1) for the given key."""
    key = splitmix64(np.uint64(seed) ^ (np.uint64(stream) << np.uint64(56)))
    key = splitmix64(key ^ np.uint64(subject))
    key = splitmix64(key ^ np.uint64(index))
    return (float(key >> np.uint64(11)) + 0.5) * _TO_UNIT


@numba.njit(cache=True)
def normal(seed: int, stream: int, subject: int, index: int) -> float:
    """A standard normal draw (Box–Muller on two keyed uniforms)."""
    u1 = uniform(seed, stream, subject, 2 * index)
    u2 = uniform(seed, stream, subject, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def _table(
    seed: int, stream: int, subject_ids: np.ndarray, count: int, gaussian: bool
) -> np.ndarray:
    """(len(subject_ids), count) draws, index 0..count-1: ``normal`` if ``gaussian``, else ``uniform``."""
    out = np.empty((subject_ids.size, count))
    for row in range(subject_ids.size):
        for index in range(count):
            subject = subject_ids[row]
            if gaussian:
                out[row, index] = normal(seed, stream, subject, index)
            else:
                out[row, index] = uniform(seed, stream, subject, index)
    return out


def uniforms(seed: int, stream: int, subject_ids: np.ndarray, count: int) -> np.ndarray:
    """(len(subject_ids), count) uniform draws."""
    return _table(seed, stream, subject_ids, count, False)


def normals(seed: int, stream: int, subject_ids: np.ndarray, count: int) -> np.ndarray:
    """(len(subject_ids), count) standard normal draws."""
    return _table(seed, stream, subject_ids, count, True)
