"""The results folder: a manifest, one Parquet file per finished chunk, written atomically.

A chunk counts as done when its ``subjects/chunk-NNNNN.parquet`` exists; it is written last, through a
temporary name and an atomic rename, so an interrupted run never leaves a half-written chunk and resumes
from the chunks already written.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benzokit.errors import InputError
from benzokit.sim.population.structures import BandSeries
from benzokit.sim.trial.chunk import ChunkResult
from benzokit.sim.trial.plan import TrialPlan

MANIFEST = "manifest.json"
SUBJECTS_DIR = "subjects"
BANDS_DIR = "bands"


def _chunk_name(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def prepare_folder(out: Path, plan: TrialPlan) -> set[int]:
    """Create or reopen ``out`` for ``plan``; returns the indices of chunks already done."""
    manifest = {
        "fingerprint": plan.fingerprint,
        "drug": plan.drug,
        "subjects": plan.subjects,
        "chunk_size": plan.chunk_size,
        "n_chunks": plan.n_chunks,
        "strategies": list(plan.strategies),
    }
    path = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise InputError("results_folder", str(out), "a folder (this is a file)")
    if path.exists():
        existing = json.loads(path.read_text())
        if (
            existing.get("fingerprint") != plan.fingerprint
            or existing.get("chunk_size") != plan.chunk_size
        ):
            raise InputError(
                "results_folder",
                str(out),
                "an empty folder or one holding this same trial (it holds results of a different trial spec)",
            )
    else:
        (out / SUBJECTS_DIR).mkdir(parents=True, exist_ok=True)
        (out / BANDS_DIR).mkdir(parents=True, exist_ok=True)
        _write_atomic_text(path, json.dumps(manifest, indent=2))
    remove_stale_temporaries(out)
    return done_chunks(out)


def remove_stale_temporaries(out: Path) -> None:
    """Delete half-written files left by writers that died (a killed worker, an interrupted run)."""
    for folder in (out / SUBJECTS_DIR, out / BANDS_DIR):
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)


def done_chunks(out: Path) -> set[int]:
    folder = out / SUBJECTS_DIR
    if not folder.exists():
        return set()
    return {int(p.stem.split("-")[1]) for p in folder.glob("chunk-*.parquet")}


def write_chunk(out: Path, plan: TrialPlan, result: ChunkResult) -> None:
    """Write the band rows, then the subject rows (atomically, last: the 'done' mark)."""
    band_rows = _band_table(plan, result)
    strategies = max(1, len(result.band))
    # one row group per strategy: a reader selecting a strategy skips the others' row groups
    _write_atomic_parquet(
        out / BANDS_DIR / _chunk_name(result.index),
        band_rows,
        rows_per_group=band_rows.num_rows // strategies,
    )
    subjects = pa.table(result.columns)
    _write_atomic_parquet(
        out / SUBJECTS_DIR / _chunk_name(result.index),
        subjects,
        rows_per_group=subjects.num_rows // strategies,
    )


def _band_table(plan: TrialPlan, result: ChunkResult) -> pa.Table:
    days = plan.hours // 24
    ids = result.band_subject_id
    # the strategy column as Arrow strings repeated per strategy: a NumPy unicode column is fixed-width
    # (4 bytes a character) and took gigabytes when every subject is a band subject
    strategies = [
        pa.repeat(pa.scalar(strategy, pa.string()), ids.size * days) for strategy in result.band
    ]
    parts: dict[str, list[np.ndarray]] = {"subject_id": [], "day": []}
    for series in BandSeries:
        parts[series.column] = []
    for values in result.band.values():
        parts["subject_id"].append(np.repeat(ids, days))
        parts["day"].append(np.tile(np.arange(days, dtype=np.int32), ids.size))
        for series in BandSeries:
            parts[series.column].append(values[:, :, series].reshape(-1))
    columns: dict[str, pa.Array | pa.ChunkedArray | np.ndarray] = {
        "strategy": pa.chunked_array(strategies, type=pa.string())
    }
    for name, chunks in parts.items():
        columns[name] = np.concatenate(chunks) if chunks else np.empty(0)
    return pa.table(columns)


def _temporary(path: Path) -> Path:
    """A writer-unique hidden name beside ``path`` (readers of the folder skip names starting with '.')."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _write_atomic_parquet(path: Path, table: pa.Table, *, rows_per_group: int) -> None:
    temporary = _temporary(path)
    pq.write_table(table, temporary, compression="zstd", row_group_size=max(1, rows_per_group))
    os.replace(temporary, path)


def _write_atomic_text(path: Path, text: str) -> None:
    temporary = _temporary(path)
    temporary.write_text(text)
    os.replace(temporary, path)


def write_text(path: Path, text: str) -> None:
    """Write a small text output atomically."""
    _write_atomic_text(path, text)
