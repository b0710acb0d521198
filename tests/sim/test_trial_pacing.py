"""Paced strategies in trials: the spec's ``policy``, the taper as steps, the results and the reports."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.dataset as ds
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge, shipped_folder
from benzokit.plan.pacing import RULES, load_pacing
from benzokit.regimen.language import parse_regimen
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.structures import METRICS, PacingMetric
from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.chunk import run_chunk
from benzokit.sim.trial.paced import taper_of_regimen
from benzokit.sim.trial.plan import plan_trial
from benzokit.sim.trial.spec import parse_trial_spec
from benzokit.sim.trial.survival import kaplan_meier

EXAMPLES = Path(__file__).parents[2] / "examples"
PLAN = {"strategy": "guideline", "from": "1 mg bid", "risk": "moderate", "run_in_days": 28}
MAUDSLEY = "maudsley-symptom-guided"


def _data(*strategies: dict[str, Any], days: int = 60, subjects: int = 300) -> dict[str, Any]:
    return {
        "trial": {"name": "paced", "drug": "clonazepam", "subjects": subjects, "seed": 5,
                  "days": days, "chunk_size": 128},
        "strategies": list(strategies),
        "outputs": {"plots": False, "band_subjects": 20},
    }  # fmt: skip


def _spec(*strategies: dict[str, Any], **trial: Any) -> Any:
    return parse_trial_spec(_data(*strategies, **trial), source="spec.toml")


def _inline(**changes: Any) -> dict[str, Any]:
    """The Maudsley preset written out inline, every rule citing benzokit_policy, with ``changes``."""
    preset = load_pacing().get(MAUDSLEY)
    rules = {r: {"value": getattr(preset, r), "source": "benzokit_policy"} for r in RULES}
    return {"kind": "symptom-guided", "source": "maudsley2024", **rules, **changes}


def _refused(policy: object, regimen: str | None = None) -> InputError:
    source = {"regimen": regimen} if regimen else {"plan": PLAN}
    with pytest.raises(InputError) as info:
        plan_trial(_spec({"name": "a", **source, "policy": policy}))
    return info.value


# --- the spec ---------------------------------------------------------------------------------------


def test_a_named_policy_and_an_inline_one_give_the_same_rules() -> None:
    spec = _spec(
        {"name": "named", "plan": PLAN, "policy": MAUDSLEY},
        {"name": "inline", "plan": PLAN, "policy": _inline()},
    )
    named, inline = plan_trial(spec).paced
    assert named is not None and inline is not None
    assert named.policy == MAUDSLEY and inline.policy == "inline"
    assert named.constants == inline.constants
    np.testing.assert_array_equal(named.taper.step_pattern_mg, inline.taper.step_pattern_mg)
    # the spec round-trips (the CLI's overrides re-validate it)
    assert spec.with_overrides(subjects=7).strategies[1].policy == spec.strategies[1].policy


@pytest.mark.parametrize(
    ("policy", "field", "allowed"),
    [
        (_inline(hold_rise={"value": 1.5, "source": "benzokit_policy"}), "hold_rise",
         "'hold_rise' is 1.5; it must be above 0 and at most 1"),
        (_inline(settle_days={"value": 2.5, "source": "benzokit_policy"}), "settle_days",
         "whole number"),
        ({k: v for k, v in _inline().items() if k != "slow_factor"}, "slow_factor",
         "missing slow_factor"),
        (_inline(kind="gentle"), "kind", "'fixed' or 'symptom-guided'"),
        (_inline(hold_rise={"valu": 0.1, "source": "benzokit_policy"}), "hold_rise.valu",
         "Extra inputs"),
        ({"kind": "fixed", "source": "benzokit_policy",
          "hold_rise": {"value": 0.1, "source": "benzokit_policy"}}, "hold_rise", "takes no rules"),
    ],
)  # fmt: skip
def test_an_inline_policy_is_validated_as_a_pacing_file_policy(
    policy: dict[str, Any], field: str, allowed: str
) -> None:
    with pytest.raises(InputError) as info:
        _spec({"name": "a", "plan": PLAN, "policy": policy})
    assert info.value.field == f"spec.toml: strategies.0.policy.{field}"
    assert allowed in info.value.allowed


def test_an_unknown_policy_name_lists_the_known_ones() -> None:
    error = _refused("gentle")
    assert error.field == "strategies.0.policy" and error.value == "gentle"
    assert all(name in error.allowed for name in ("fixed", MAUDSLEY, "asam-pause-slow"))


def test_an_inline_policy_cites_sources_of_the_pacing_file() -> None:
    error = _refused(_inline(hold_rise={"value": 0.1, "source": "my_hunch"}))
    assert error.field == "strategies.0.policy.hold_rise.source" and error.value == "my_hunch"
    assert "benzokit_policy" in error.allowed


# --- the taper as steps -----------------------------------------------------------------------------


def test_a_planner_taper_becomes_steps_from_the_run_in_to_zero() -> None:
    spec = _spec(
        {"name": "paced", "plan": PLAN, "policy": "fixed"},
        {"name": "calendar", "plan": PLAN},
        days=500,
    )
    plan = plan_trial(spec)
    paced = plan.paced[0]
    assert paced is not None and plan.paced[1] is None
    patterns, days = paced.taper.step_pattern_mg, paced.taper.step_days
    assert patterns.shape == (days.size, 24)
    assert patterns[0, 8] == 1.0 and patterns[0, 20] == 1.0 and patterns[0].sum() == 2.0  # run-in
    assert days[0] == 28
    assert not patterns[-1].any()  # the last step: 0 mg
    daily = patterns.sum(axis=1)
    assert np.all(np.diff(daily) < 0)  # each step a cut (equal neighbours merged)
    # taken on its planned days, the steps are exactly the planner's schedule
    np.testing.assert_array_equal(plan.schedules[0], plan.schedules[1])


def test_a_regimen_with_a_policy_is_a_sequence_of_daily_patterns() -> None:
    regimen = parse_regimen(
        "1 mg bid x 28 days, then 0.5 mg q12h x 14 days, then 0.25 mg qd x 14 days"
    )
    taper = taper_of_regimen(regimen, "strategies.0.regimen")
    np.testing.assert_array_equal(taper.step_days, [28, 14, 14, 0])
    assert taper.step_pattern_mg[1, 8] == 0.5 and taper.step_pattern_mg[1, 20] == 0.5
    assert taper.step_pattern_mg[2].sum() == 0.25 and not taper.step_pattern_mg[3].any()
    hours = 70 * 24
    from benzokit.sim.trial.paced import planned_schedule

    np.testing.assert_array_equal(planned_schedule(taper, hours), hourly_schedule(regimen, hours))


@pytest.mark.parametrize(
    ("regimen", "allowed"),
    [
        ("1 mg bid x 28 days, then 0.5 mg bid", "with a duration"),
        ("1 mg bid x 28 days, then 0.5 mg q16h x 14 days", "daily patterns"),
        ("1 mg bid x 10.5 days", "whole days"),
        ("1 mg at 08:30 x 14 days", "whole hours"),
    ],
)
def test_a_regimen_that_is_not_daily_patterns_is_refused_with_a_policy(
    regimen: str, allowed: str
) -> None:
    error = _refused(MAUDSLEY, regimen)
    assert error.field == "strategies.0.regimen" and allowed in error.allowed


# --- the knowledge and the fingerprint --------------------------------------------------------------


def _stricter_overlay(folder: Path) -> Knowledge:
    """An overlay pacing.toml whose Maudsley preset holds at a rise of 0.05 instead of 0.10."""
    text = (shipped_folder("benzokit.plan") / "pacing.toml").read_text()
    old = (
        'hold_rise = { value = 0.10, source = "benzokit_policy", note = "a rise since the cut of a'
    )
    maudsley = text.index("[policies.maudsley-symptom-guided]")
    assert text.index(old, maudsley) < text.index("[policies.asam-pause-slow]")
    folder.mkdir()
    changed = text[:maudsley] + text[maudsley:].replace(old, old.replace("0.10", "0.05"), 1)
    (folder / "pacing.toml").write_text(changed)
    return Knowledge.with_overlay(folder)


def test_a_clinic_overlay_pacing_file_is_used_and_changes_the_fingerprint(tmp_path: Path) -> None:
    spec = _spec({"name": "a", "plan": PLAN, "policy": MAUDSLEY})
    shipped = plan_trial(spec)
    clinic = plan_trial(spec, _stricter_overlay(tmp_path / "overlay"))
    assert shipped.paced[0] is not None and clinic.paced[0] is not None
    assert shipped.paced[0].constants.hold_rise == pytest.approx(0.10)
    assert clinic.paced[0].constants.hold_rise == pytest.approx(0.05)
    assert clinic.fingerprint != shipped.fingerprint
    unpaced = _spec({"name": "a", "plan": PLAN})
    assert plan_trial(unpaced).fingerprint != shipped.fingerprint


# --- a run ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paced_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The adaptive example, small: 600 subjects, two years, plots on."""
    data = load_trial_spec(EXAMPLES / "trial-adaptive.toml").model_dump(by_alias=True)
    data["trial"].update(subjects=600, chunk_size=256)
    data["outputs"]["band_subjects"] = 60
    out = tmp_path_factory.mktemp("adaptive")
    return run_trial(parse_trial_spec(data, source="test"), out)


def test_a_paced_run_stores_the_pacing_columns(paced_run: Any) -> None:
    table = ds.dataset(paced_run.out / "subjects", format="parquet").to_table()
    assert table.num_rows == 600 * 6
    for metric in PacingMetric:
        values = table.column(metric.column).to_numpy()
        assert np.isfinite(values).all() and (values >= 0).all()
    completed = table.column("taper_completed").to_numpy()
    taper_days = table.column("taper_days").to_numpy()
    assert set(np.unique(completed)) <= {0.0, 1.0}
    assert (taper_days[completed == 0] == 730).all() and (taper_days[completed == 1] <= 730).all()
    strategy = table.column("strategy").to_numpy(zero_copy_only=False)
    fixed = strategy == "guideline-fixed"
    assert (table.column("holds").to_numpy()[fixed] == 0).all()  # the fixed policy never holds
    # on its planned calendar every subject ends the taper on the same day
    assert np.unique(taper_days[fixed]).size == 1 and completed[fixed].all()


def test_a_paced_run_summarises_duration_and_decisions(paced_run: Any) -> None:
    summary = json.loads((paced_run.out / "summary.json").read_text())
    blocks = summary["strategies"]
    assert all("pacing" in block for block in blocks.values())
    fixed = blocks["guideline-fixed"]["pacing"]
    guided = blocks["guideline-maudsley"]["pacing"]
    assert fixed["policy"] == "fixed" and guided["policy"] == MAUDSLEY
    median = fixed["taper_duration_days"]["median"]["estimate"]
    assert median == fixed["taper_duration_days"]["p95"]["estimate"]  # everyone on the same day
    curve = guided["kaplan_meier_completed"]
    assert curve["day"][0] == 0 and curve["day"][-1] == 730
    assert np.all(np.diff(curve["completed"]) >= 0)
    share = guided["taper_completed_in_run"]["estimate"]
    assert curve["completed"][-1] == pytest.approx(share)
    assert 1 - guided["still_tapering"]["2_years"]["estimate"] == pytest.approx(share)
    assert set(guided) >= {"holds", "slowdowns", "referrals", "peak_withdrawal_index_p95"}
    markdown = (paced_run.out / "summary.md").read_text()
    assert "## Paced strategies compared" in markdown and "guideline-maudsley" in markdown
    assert "Maudsley Deprescribing Guidelines" in markdown and "benzokit_policy" in markdown
    assert set(summary["pacing_policies"]) == {"fixed", MAUDSLEY, "asam-pause-slow"}
    assert {p.name for p in paced_run.files} >= {"bands.png", "pacing.png"}


def test_the_fixed_policy_gives_the_calendar_strategy_s_metrics(tmp_path: Path) -> None:
    """Paced by ``fixed``, a planner taper gives exactly the unpaced strategy's per-subject metrics."""
    spec = _spec(
        {"name": "paced", "plan": PLAN, "policy": "fixed"}, {"name": "calendar", "plan": PLAN},
        days=120,
    )  # fmt: skip
    run_trial(spec, tmp_path)
    table = ds.dataset(tmp_path / "subjects", format="parquet").to_table()
    strategy = table.column("strategy").to_numpy(zero_copy_only=False)
    for column in METRICS:
        values = table.column(column).to_numpy()
        np.testing.assert_array_equal(
            values[strategy == "paced"], values[strategy == "calendar"], err_msg=column
        )
    assert np.isnan(table.column("taper_days").to_numpy()[strategy == "calendar"]).all()


# --- a stricter policy --------------------------------------------------------------------------------


def _median_duration(hold_rise: float, settle_days: int) -> float:
    """The Kaplan–Meier median taper duration of 256 subjects paced by the inline Maudsley preset with
    ``hold_rise`` and ``settle_days`` changed (one chunk, no files)."""
    policy = _inline(
        hold_rise={"value": hold_rise, "source": "benzokit_policy"},
        settle_days={"value": settle_days, "source": "benzokit_policy"},
    )
    plan = plan_trial(_spec({"name": "a", "plan": PLAN, "policy": policy}, days=700, subjects=256))
    columns = run_chunk(replace(plan, chunk_size=256), 0).columns
    km = kaplan_meier(columns["taper_days"], columns["taper_completed"] > 0.5)
    median = km.time_to(0.5)[0]
    return math.inf if median is None else median


@settings(max_examples=8, deadline=None)
@given(
    st.floats(min_value=0.005, max_value=0.2),
    st.floats(min_value=0.005, max_value=0.2),
    st.integers(min_value=0, max_value=14),
)
def test_a_stricter_hold_threshold_never_shortens_the_median_taper(
    first: float, second: float, settle_days: int
) -> None:
    stricter, looser = sorted((first, second))
    assert _median_duration(stricter, settle_days) >= _median_duration(looser, settle_days)
