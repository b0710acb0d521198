"""A clinic's knowledge overlay reaches the trial engine: the plan, the workers and the results folder."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.dataset as ds
import pytest

from benzokit.errors import ComputeError, InputError
from benzokit.knowledge import Knowledge, shipped_folder
from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.dispatch import SerialDispatcher, Task
from benzokit.sim.trial.plan import plan_trial
from benzokit.sim.trial.spec import parse_trial_spec

EXAMPLES = Path(__file__).parents[2] / "examples"


def _spec() -> Any:
    data = load_trial_spec(EXAMPLES / "trial-taper.toml").model_dump(by_alias=True)
    data["trial"].update(subjects=200, days=40, chunk_size=128)
    data["outputs"]["plots"] = False
    return parse_trial_spec(data, source="test")


def _slow_tolerance(folder: Path) -> Knowledge:
    """An overlay whose pd.toml doubles the moderator's half-life (5 -> 10 days)."""
    text = (shipped_folder("benzokit.drugs") / "pd.toml").read_text()
    old = "half_life_days = { value = 5.0,"
    assert old in text
    (folder / "pd.toml").write_text(text.replace(old, "half_life_days = { value = 10.0,", 1))
    return Knowledge.with_overlay(folder)


def _peaks(out: Path) -> np.ndarray:
    table = ds.dataset(out / "subjects", format="parquet").to_table().sort_by("subject_id")
    return table.column("peak_withdrawal_index").to_numpy()


def test_a_knowledge_pickles_as_its_overlay(tmp_path: Path) -> None:
    knowledge = _slow_tolerance(tmp_path)
    copy = pickle.loads(pickle.dumps(knowledge))
    assert copy.overlay == tmp_path and copy.version == knowledge.version
    assert pickle.loads(pickle.dumps(Knowledge.shipped())) is Knowledge.shipped()


def test_the_overlay_changes_the_trial_and_its_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "overlay").mkdir()
    knowledge = _slow_tolerance(tmp_path / "overlay")
    shipped = run_trial(_spec(), tmp_path / "shipped")
    clinic = run_trial(_spec(), tmp_path / "clinic", knowledge=knowledge)
    assert clinic.plan.knowledge is knowledge
    assert clinic.plan.fingerprint != shipped.plan.fingerprint
    slower = clinic.plan.pd.tolerance.moderator.decay_per_step
    assert slower > shipped.plan.pd.tolerance.moderator.decay_per_step
    assert not np.array_equal(_peaks(tmp_path / "clinic"), _peaks(tmp_path / "shipped"))
    # a folder of the shipped run is not resumed with the clinic's figures
    with pytest.raises(InputError, match="different trial"):
        run_trial(_spec(), tmp_path / "shipped", knowledge=knowledge)


def test_the_plan_is_fingerprinted_as_before_with_the_shipped_knowledge() -> None:
    assert plan_trial(_spec()).fingerprint == plan_trial(_spec(), Knowledge.shipped()).fingerprint


class _Failing(SerialDispatcher):
    """A dispatcher whose cluster gives up after the first result."""

    def map(
        self, function: Task[Any, Any], shared: Any, indices: Any, *, label: str = "task"
    ) -> Any:
        for k, index in enumerate(indices):
            if k == 1:
                raise ComputeError("the Dask cluster could not finish the work (lost workers)")
            yield function(shared, index)


def test_a_cluster_failure_keeps_the_chunks_written_and_says_how_to_resume(tmp_path: Path) -> None:
    with pytest.raises(ComputeError, match="chunks already written are kept: run the same command"):
        run_trial(_spec(), tmp_path, dispatcher=_Failing())
    assert len(list((tmp_path / "subjects").glob("chunk-*.parquet"))) == 1
    assert run_trial(_spec(), tmp_path).resumed_chunks == 1


def test_a_dispatcher_only_computes_and_returns() -> None:
    assert list(SerialDispatcher().map(lambda shared, index: shared * index, 3, [1, 2])) == [3, 6]
