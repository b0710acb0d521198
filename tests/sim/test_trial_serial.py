"""Trials in one process: chunking does not change results; summaries are right; specs fail clearly."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.dataset as ds
import pytest

from benzokit.errors import InputError
from benzokit.sim.population.structures import METRICS
from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.spec import parse_trial_spec
from benzokit.sim.trial.summary import describe, wilson_interval

EXAMPLES = Path(__file__).parents[2] / "examples"


def _spec(**trial: Any) -> Any:
    data = load_trial_spec(EXAMPLES / "trial-compare.toml").model_dump()
    data["trial"].update({"subjects": 700, "days": 60, **trial})
    data["outputs"]["plots"] = False
    return parse_trial_spec(data, source="test")


def _rows(out: Path) -> dict[str, np.ndarray]:
    table = (
        ds.dataset(out / "subjects", format="parquet")
        .to_table()
        .sort_by([("strategy", "ascending"), ("subject_id", "ascending")])
    )
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def test_results_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    small = run_trial(_spec(chunk_size=128), tmp_path / "small")
    large = run_trial(_spec(chunk_size=4096), tmp_path / "large")
    assert small.plan.n_chunks == 6 and large.plan.n_chunks == 1
    a, b = _rows(tmp_path / "small"), _rows(tmp_path / "large")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_every_subject_appears_once_per_strategy(tmp_path: Path) -> None:
    run = run_trial(_spec(chunk_size=256), tmp_path)
    rows = _rows(tmp_path)
    for strategy in run.plan.strategies:
        ids = rows["subject_id"][rows["strategy"] == strategy]
        np.testing.assert_array_equal(ids, np.arange(700))
    assert set(METRICS) <= set(rows)


def test_summary_json_agrees_with_the_parquet_rows(tmp_path: Path) -> None:
    run_trial(_spec(), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = _rows(tmp_path)
    for strategy, block in summary["strategies"].items():
        values = rows["peak_withdrawal_index"][rows["strategy"] == strategy]
        stats = block["metrics"]["peak_withdrawal_index"]
        assert stats["n"] == values.size == 700
        assert stats["mean"] == pytest.approx(values.mean())
        assert stats["median"] == pytest.approx(np.median(values))
        assert stats["ci95_low"] < stats["mean"] < stats["ci95_high"]
    assert "decision support" in summary["disclaimer"]


def test_a_faster_taper_gives_more_withdrawal_in_the_population(tmp_path: Path) -> None:
    run = run_trial(_spec(subjects=400, days=120), tmp_path)
    medians = {
        s: b["metrics"]["peak_withdrawal_index"]["median"]
        for s, b in run.summary["strategies"].items()
    }
    assert medians["label"] > medians["guideline"] > 0


def test_describe_and_wilson_against_hand_computed_values() -> None:
    stats = describe(np.array([1.0, 2.0, 3.0, 4.0]))
    assert stats["mean"] == 2.5 and stats["median"] == 2.5
    assert stats["sd"] == pytest.approx(math.sqrt(5 / 3))
    assert stats["ci95_high"] - stats["mean"] == pytest.approx(
        1.959964 * math.sqrt(5 / 3) / 2, rel=1e-6
    )
    low, high = wilson_interval(8, 10)  # Wilson 1927; 8/10 -> 0.490 to 0.943
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))


@pytest.mark.parametrize(
    ("edit", "field", "allowed"),
    [
        (lambda d: d["trial"].update(subjects=0), "trial.subjects", "greater than or equal to 1"),
        (lambda d: d["trial"].update(days=0), "trial.days", "greater than or equal to 1"),
        (lambda d: d["trial"].update(colour="red"), "trial.colour", "Extra inputs"),
        (
            lambda d: d.update(strategies=[*d["strategies"], d["strategies"][0]]),
            "strategies",
            "unique",
        ),
        (lambda d: d["pd"].update(tolerance_model="magic"), "pd.tolerance_model", "moderator"),
        (lambda d: d.update(strategies=[]), "strategies", "at least 1"),
    ],
)
def test_spec_errors_name_the_field(edit: Any, field: str, allowed: str) -> None:
    data = load_trial_spec(EXAMPLES / "trial-compare.toml").model_dump()
    edit(data)
    with pytest.raises(InputError) as info:
        parse_trial_spec(data, source="spec.toml")
    assert info.value.field.startswith(f"spec.toml: {field}")
    assert allowed in info.value.allowed


def test_a_dose_off_the_hour_is_refused_with_the_strategy_named(tmp_path: Path) -> None:
    data = load_trial_spec(EXAMPLES / "trial-compare.toml").model_dump()
    data["strategies"][1]["regimen"] = "1 mg at 08:30 x 10 days"
    with pytest.raises(InputError) as info:
        run_trial(parse_trial_spec(data, source="t"), tmp_path)
    assert info.value.field == "strategies.1.regimen" and "whole hours" in info.value.allowed
    assert not (tmp_path / "manifest.json").exists()
