"""``benzokit trial`` end to end: the real console script and Typer's runner, on small trials.

A trial prints its progress and a summary and writes Parquet, summary.json, summary.md and bands.png;
``--workers 2`` (a local Dask cluster) gives the serial numbers; a rerun resumes; bad input exits 2 with
one short message naming the option or spec field and what is allowed.
"""

from __future__ import annotations

import json
import math
import socket
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
from cli_support import PNG_MAGIC, Outcome, invoke_benzokit, normalise, run_benzokit

from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.spec import parse_trial_spec

RunCli = Callable[..., Outcome]
EXAMPLES = Path(__file__).parents[2] / "examples"
TAPER = EXAMPLES / "trial-taper.toml"
COMPARE = EXAMPLES / "trial-compare.toml"
MAX_MESSAGE_LINES = 6
STATS = {"n", "mean", "ci95_low", "ci95_high", "median", "p5", "p95"}


def write_spec(folder: Path, edit: Callable[[dict[str, Any]], None], base: Path = TAPER) -> Path:
    """A copy of an example spec, changed by ``edit`` (a function of the TOML as a dict)."""
    data = tomllib.loads(base.read_text(encoding="utf-8"))
    edit(data)
    path = folder / "spec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def small(**trial: Any) -> Callable[[dict[str, Any]], None]:
    """An edit making the trial small and fast (and any other [trial] values given)."""

    def edit(data: dict[str, Any]) -> None:
        data["trial"].update({"subjects": 500, "days": 60, "chunk_size": 128, **trial})

    return edit


def read_summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def subject_rows(out: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(out / "subjects").sort_by(
        [("strategy", "ascending"), ("subject_id", "ascending")]
    )
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def assert_ok(outcome: Outcome) -> str:
    """Exit 0, no traceback; returns stdout with Rich's boxes and line breaks flattened."""
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert "Traceback" not in outcome.stdout + outcome.stderr
    return normalise(outcome.stdout)


# --- one serial run of the taper example, shared by several tests ------------------------------


@pytest.fixture(scope="module")
def taper(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Path]:
    """``benzokit trial examples/trial-taper.toml --subjects 2000 --seed 7 --out …`` (real script)."""
    cwd = tmp_path_factory.mktemp("taper")
    outcome = run_benzokit(
        ["trial", str(TAPER), "--subjects", "2000", "--seed", "7", "--out", "results"], cwd
    )
    return outcome, cwd / "results"


def test_the_taper_example_prints_progress_and_a_summary(taper: tuple[Outcome, Path]) -> None:
    outcome, _ = taper
    text = assert_ok(outcome)
    assert "clonazepam-taper: 2,000 subjects x 1 strategy, 365 days, on this process" in text
    assert "2000/2000" in text and "subjects/s" in text  # the progress bar: done/total, rate
    assert f"results in {Path('results')}" in text
    assert "taper: peak withdrawal index median" in text and "95 % CI" in text
    assert "with a day above the threshold" in text
    for name in ("summary.json", "summary.md", "bands.png"):
        assert f"wrote {Path('results', name)}" in text
    assert "decision support" in text
    assert "resumed" not in text


def test_the_taper_example_writes_parquet_summary_and_plot(taper: tuple[Outcome, Path]) -> None:
    outcome, out = taper
    assert_ok(outcome)
    subjects = sorted((out / "subjects").glob("*.parquet"))
    bands = sorted((out / "bands").glob("*.parquet"))
    assert subjects and len(subjects) == len(bands)
    rows = subject_rows(out)
    np.testing.assert_array_equal(rows["subject_id"], np.arange(2000))
    assert set(rows["strategy"]) == {"taper"}
    assert pq.read_table(out / "bands").num_rows > 0
    assert (out / "bands.png").read_bytes().startswith(PNG_MAGIC)
    report = (out / "summary.md").read_text(encoding="utf-8")
    assert report.startswith("# Virtual trial: clonazepam-taper (clonazepam)")
    assert "## Strategy `taper` — 2,000 subjects" in report
    assert not list(out.rglob("*.tmp"))


def test_summary_json_has_the_documented_keys(taper: tuple[Outcome, Path]) -> None:
    outcome, out = taper
    assert_ok(outcome)
    summary = read_summary(out)
    assert summary["trial"] == "clonazepam-taper" and summary["drug"] == "clonazepam"
    assert (summary["subjects"], summary["days"], summary["seed"]) == (2000, 365, 7)
    assert list(summary["strategies"]) == ["taper"]
    block = summary["strategies"]["taper"]
    assert block["subjects"] == 2000
    assert "peak_withdrawal_index" in block["metrics"]
    for name, stats in block["metrics"].items():
        assert stats.keys() >= STATS, name
        assert stats["n"] == 2000, name
        assert all(math.isfinite(stats[key]) for key in STATS), name
        assert stats["ci95_low"] <= stats["mean"] <= stats["ci95_high"], name
        assert stats["p5"] <= stats["median"] <= stats["p95"], name
    fraction = block["fraction_with_withdrawal_above_threshold"]
    assert 0 <= fraction["ci95_low"] <= fraction["estimate"] <= fraction["ci95_high"] <= 1


# --- the same trial on a local Dask cluster, overrides, resuming, the comparison example --------


def test_workers_2_gives_the_serial_results(
    run_cli: RunCli, benzokit_exe: Path, tmp_path: Path
) -> None:
    """A local cluster of 2 processes (8 chunks) reproduces the serial run number for number."""
    del benzokit_exe
    spec = write_spec(tmp_path, small(subjects=2000, days=120, chunk_size=256))
    serial = run_cli("trial", str(spec), "--out", "serial")
    cluster = run_cli("trial", str(spec), "--workers", "2", "--out", "cluster")
    assert "on this process" in assert_ok(serial)
    text = assert_ok(cluster)
    assert "on Dask cluster at tcp://127.0.0.1:" in text and "(2 workers)" in text
    assert "2000/2000" in text
    assert "already in use" not in cluster.stderr  # no dashboard port clash with other clusters
    assert len(list((tmp_path / "cluster" / "subjects").glob("*.parquet"))) == 8
    assert read_summary(tmp_path / "cluster") == read_summary(tmp_path / "serial")
    serial_rows, cluster_rows = (
        subject_rows(tmp_path / "serial"),
        subject_rows(tmp_path / "cluster"),
    )
    assert serial_rows.keys() == cluster_rows.keys()
    for name, values in serial_rows.items():
        np.testing.assert_array_equal(cluster_rows[name], values, err_msg=name)


def test_subjects_and_seed_override_the_spec(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, small())
    base = ["trial", str(spec), "--subjects", "300"]
    assert_ok(invoke_benzokit([*base, "--seed", "3", "--out", str(tmp_path / "a")]))
    assert_ok(invoke_benzokit([*base, "--seed", "4", "--out", str(tmp_path / "b")]))
    a, b = read_summary(tmp_path / "a"), read_summary(tmp_path / "b")
    assert (a["subjects"], a["seed"], a["strategies"]["taper"]["subjects"]) == (300, 3, 300)
    assert (b["subjects"], b["seed"]) == (300, 4)
    peak = "peak_withdrawal_index"
    assert a["strategies"]["taper"]["metrics"][peak] != b["strategies"]["taper"]["metrics"][peak]
    assert len(subject_rows(tmp_path / "a")["subject_id"]) == 300


def test_a_rerun_into_the_same_folder_resumes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, small())  # 500 subjects in 4 chunks
    args = ["trial", str(spec), "--out", str(tmp_path / "out")]
    first = assert_ok(invoke_benzokit(args))
    assert "500/500" in first and "resumed" not in first
    expected = read_summary(tmp_path / "out")
    for index in (1, 3):  # as if the run had stopped before writing these chunks
        (tmp_path / "out" / "subjects" / f"chunk-{index:05d}.parquet").unlink()
    again = assert_ok(invoke_benzokit(args))
    assert "resumed: 2 of 4 chunks were already written" in again
    assert "500/500" in again
    assert read_summary(tmp_path / "out") == expected
    complete = assert_ok(invoke_benzokit(args))
    assert "resumed: 4 of 4 chunks were already written" in complete
    assert read_summary(tmp_path / "out") == expected


def test_the_comparison_example_runs(run_cli: RunCli, tmp_path: Path) -> None:
    outcome = run_cli("trial", str(COMPARE), "--subjects", "300", "--out", "compare")
    text = assert_ok(outcome)
    assert "clonazepam-taper-comparison: 300 subjects x 4 strategies, 420 days" in text
    for strategy in ("label", "guideline", "slow"):
        assert f"{strategy}: peak withdrawal index median" in text
    summary = read_summary(tmp_path / "compare")
    assert list(summary["strategies"]) == ["label", "guideline", "slow", "planner-hyperbolic"]
    assert (summary["subjects"], summary["seed"], summary["days"]) == (300, 11, 420)
    assert (tmp_path / "compare" / "bands.png").read_bytes().startswith(PNG_MAGIC)


# --- bad input -----------------------------------------------------------------------------------


def _spec_args(
    edit: Callable[[dict[str, Any]], None], *options: str
) -> Callable[[Path], list[str]]:
    def args(folder: Path) -> list[str]:
        def both(data: dict[str, Any]) -> None:
            small()(data)
            edit(data)

        return ["trial", str(write_spec(folder, both)), "--out", str(folder / "out"), *options]

    return args


def _options(*options: str) -> Callable[[Path], list[str]]:
    return _spec_args(lambda data: None, *options)


def _set(section: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.setdefault(section, {}).update(values)


def _set_strategy(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["strategies"][0].update(values)


def _duplicate_strategy(data: dict[str, Any]) -> None:
    data["strategies"].append(dict(data["strategies"][0]))


def _missing_spec(folder: Path) -> list[str]:
    return ["trial", str(folder / "no-such-trial.toml"), "--out", str(folder / "out")]


def _invalid_toml(folder: Path) -> list[str]:
    (folder / "broken.toml").write_text('[trial]\nname = "x\n', encoding="utf-8")
    return ["trial", str(folder / "broken.toml"), "--out", str(folder / "out")]


def _out_is_a_file(folder: Path) -> list[str]:
    (folder / "taken").write_text("not a folder", encoding="utf-8")
    return ["trial", str(write_spec(folder, small())), "--out", str(folder / "taken")]


def _out_holds_another_trial(folder: Path) -> list[str]:
    data = load_trial_spec(write_spec(folder, small(subjects=100, days=10))).model_dump()
    run_trial(parse_trial_spec(data, source="setup"), folder / "out")
    return ["trial", str(folder / "spec.toml"), "--seed", "99", "--out", str(folder / "out")]


# (arguments for a folder, phrases the message must contain: the option or field, and what is allowed)
CASES: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "spec-missing": (_missing_spec, ("trial spec", "no-such-trial.toml", "an existing TOML file")),
    "spec-invalid-toml": (_invalid_toml, ("trial spec", "broken.toml", "valid TOML")),
    "drug-unknown": (
        _spec_args(_set("trial", drug="clonazepamx")),
        ("drug", "'clonazepamx'", "known values are", "clonazepam"),
    ),
    "regimen-unknown-text": (
        _spec_args(_set_strategy(regimen="banana")),
        ("regimen", "'banana'", "a dose with a unit"),
    ),
    "regimen-dose-off-the-hour": (
        _spec_args(_set_strategy(regimen="1 mg at 08:30 x 10 days")),
        ("strategies.0.regimen", "whole hours"),
    ),
    "strategy-names-repeated": (
        _spec_args(_duplicate_strategy),
        ("strategy names must be unique", "'taper'"),
    ),
    "strategy-name-invalid": (
        _spec_args(_set_strategy(name="my taper!")),
        ("strategies.0.name", "'my taper!'", "pattern"),
    ),
    "subjects-zero-in-spec": (
        _spec_args(_set("trial", subjects=0)),
        ("trial.subjects", "greater than or equal to 1"),
    ),
    "subjects-negative-in-spec": (
        _spec_args(_set("trial", subjects=-5)),
        ("trial.subjects", "greater than or equal to 1"),
    ),
    "days-too-many": (_spec_args(_set("trial", days=5000)), ("trial.days", "3650")),
    "subjects-option-zero": (_options("--subjects", "0"), ("--subjects", "at least 1")),
    "subjects-option-negative": (_options("--subjects", "-5"), ("--subjects", "at least 1")),
    "seed-option-negative": (_options("--seed", "-1"), ("--seed", "0 or more")),
    "workers-zero": (_options("--workers", "0"), ("--workers", "from 1 to 256")),
    "workers-and-scheduler": (
        _options("--workers", "2", "--scheduler", "tcp://127.0.0.1:1"),
        ("--workers/--scheduler", "--workers N", "--scheduler ADDRESS"),
    ),
    "unknown-key": (
        _spec_args(_set("trial", colour="red")),
        ("trial.colour", "Extra inputs are not permitted"),
    ),
    "unknown-section": (
        _spec_args(_set("outputz", plots=False)),
        ("outputz", "Extra inputs are not permitted"),
    ),
    "out-is-a-file": (_out_is_a_file, ("--out", "taken", "a folder")),
    "out-holds-another-trial": (
        _out_holds_another_trial,
        ("--out", "an empty folder or one holding this same trial", "different trial"),
    ),
    "population-adherence-above-1": (
        _spec_args(_set("population", adherence={"missed_fraction": 0.7, "doubled_fraction": 0.5})),
        ("population.adherence", "missed_fraction + doubled_fraction must be at most 1"),
    ),
    "population-fraction-above-1": (
        _spec_args(_set("population", adherence={"missed_fraction": 1.5})),
        ("population.adherence.missed_fraction", "less than or equal to 1"),
    ),
    "population-unknown-iiv-parameter": (
        _spec_args(_set("population", iiv_cv={"clearence": 0.3})),
        ("population", "'clearence'", "allowed", "'clearance'"),
    ),
}


def assert_one_short_message(outcome: Outcome, phrases: tuple[str, ...]) -> None:
    """Exit 2, nothing on stdout, one paragraph on stderr naming the field and what is allowed."""
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 2, outcome.stdout + outcome.stderr
    assert outcome.stdout == ""
    message = outcome.stderr.strip()
    assert message.startswith("input error:"), message
    assert "Traceback" not in message and "\n\n" not in message
    assert len(message.splitlines()) <= MAX_MESSAGE_LINES, message
    text = normalise(message)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_a_short_message(case: str, tmp_path: Path) -> None:
    build, phrases = CASES[case]
    args = build(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert_one_short_message(invoke_benzokit(args), phrases)
    if case != "out-holds-another-trial":
        assert not (tmp_path / "out" / "manifest.json").exists()
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, nothing removed


def test_bad_input_through_the_console_script(run_cli: RunCli, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, _set("trial", drug="clonazepamx"))
    assert_one_short_message(
        run_cli("trial", str(spec)), ("drug", "'clonazepamx'", "known values are")
    )
    assert not (tmp_path / "results").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_scheduler_where_nothing_listens_fails_fast(run_cli: RunCli, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    spec = write_spec(tmp_path, small())
    started = time.monotonic()
    outcome = run_cli("trial", str(spec), "--scheduler", address, "--out", "out")
    elapsed = time.monotonic() - started
    assert_one_short_message(outcome, ("--scheduler", address, "a running Dask scheduler"))
    assert elapsed < 20, f"took {elapsed:.0f} s to give up (Dask's default connect timeout is 30 s)"
    assert not list((tmp_path / "out").rglob("*.parquet"))


# --- paced strategies -----------------------------------------------------------------------------


ADAPTIVE = EXAMPLES / "trial-adaptive.toml"


def test_a_paced_trial_prints_each_policy_s_pace(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, small(subjects=300, days=500), base=ADAPTIVE)
    out = tmp_path / "out"
    text = assert_ok(invoke_benzokit(["trial", str(spec), "--out", str(out)]))
    for policy in ("fixed", "maudsley-symptom-guided", "asam-pause-slow"):
        assert f"paced by {policy}:" in text
    assert "finished the taper within 500 days" in text and "held at least once" in text
    assert "pacing.png" in text.replace(" ", "")  # a long path may wrap anywhere
    assert (out / "pacing.png").read_bytes().startswith(PNG_MAGIC)
    summary = read_summary(out)
    fixed = summary["strategies"]["guideline-fixed"]["pacing"]
    # the fixed calendar: the guideline taper (28-day run-in, then 406 days) ends on day 434 for all
    assert fixed["taper_duration_days"]["median"]["estimate"] == 434
    assert fixed["holds"]["share_at_least_one"]["estimate"] == 0


def test_an_unknown_policy_exits_2_naming_the_strategy(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        small()(data)
        data["strategies"][0]["policy"] = "gentle"

    outcome = invoke_benzokit(["trial", str(write_spec(tmp_path, edit, base=ADAPTIVE))])
    assert outcome.exit_code == 2
    message = normalise(outcome.stdout + outcome.stderr)
    assert "strategies.0.policy" in message and "maudsley-symptom-guided" in message
