"""Trials on Dask distributed: a real LocalCluster gives exactly the results of one process.

The same seed gives identical per-subject rows on one process, a local cluster and a scheduler reached
by its address; a worker killed mid-trial loses nothing (its chunk is recomputed); an interrupted trial
resumes from the chunks already written and ends with the results of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from benzokit.errors import InputError
from benzokit.sim.trial import TrialSpec, load_trial_spec, run_trial
from benzokit.sim.trial.dispatch import LOCAL_SCHEDULER_KWARGS, DaskDispatcher, SerialDispatcher
from benzokit.sim.trial.spec import parse_trial_spec

EXAMPLES = Path(__file__).parents[2] / "examples"
SUBJECTS = 4000
CHUNK_SIZE = 256  # 16 chunks, the last one partial (160 subjects)
N_CHUNKS = 16
DEADLINE_S = 90.0  # a run that hangs fails the test instead of blocking the session
T = TypeVar("T")
# Under `pytest -n 2 --dist loadgroup` the whole module runs in one xdist worker, so the module's
# cluster and serial reference are built once (with the default `--dist load` each worker builds them).
pytestmark = pytest.mark.xdist_group("trial-dask")


def _spec(**trial: Any) -> TrialSpec:
    """The taper example, small: 4000 subjects in 16 chunks over 90 days, no plot."""
    data = load_trial_spec(EXAMPLES / "trial-taper.toml").model_dump()
    data["trial"].update({"subjects": SUBJECTS, "chunk_size": CHUNK_SIZE, "days": 90, **trial})
    data["outputs"].update(plots=False, band_subjects=400)
    return parse_trial_spec(data, source="test")


def _local_cluster() -> LocalCluster:
    # Random ports, no dashboard, and the scheduler's HTTP server on a free port as in
    # DaskDispatcher.local: safe next to other clusters (pytest -n 2) and warning-free.
    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs=LOCAL_SCHEDULER_KWARGS,
    )


@dataclass(frozen=True, slots=True)
class Results:
    """Everything a trial folder holds, in a fixed row order."""

    subjects: dict[str, np.ndarray]
    bands: dict[str, np.ndarray]
    summary: dict[str, Any]


def _sorted_columns(folder: Path, keys: list[str]) -> dict[str, np.ndarray]:
    table = pq.read_table(folder).sort_by([(key, "ascending") for key in keys])
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _results(out: Path) -> Results:
    summary = json.loads((out / "summary.json").read_text())
    return Results(
        subjects=_sorted_columns(out / "subjects", ["strategy", "subject_id"]),
        bands=_sorted_columns(out / "bands", ["strategy", "subject_id", "day"]),
        summary=summary,
    )


def assert_identical(actual: Results, expected: Results, rows: int = SUBJECTS) -> None:
    """Every column of every row exactly equal, and the same summary numbers."""
    for name, got, want in (
        ("subjects", actual.subjects, expected.subjects),
        ("bands", actual.bands, expected.bands),
    ):
        assert got.keys() == want.keys(), name
        for column in want:
            np.testing.assert_array_equal(got[column], want[column], err_msg=f"{name}.{column}")
    assert actual.subjects["subject_id"].size == rows  # one strategy in the taper example
    assert actual.summary == expected.summary


def _finish_within(seconds: float, action: Callable[[], T]) -> T:
    """``action()`` in a daemon thread; the test fails (rather than hangs) if it takes too long."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed back to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="trial-under-test")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the trial did not finish within {seconds:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


class CrashError(Exception):
    """Stands for whatever stops a run half-way (a crash, a killed process)."""


def _crash_after(chunks: int) -> Callable[[int, int], None]:
    """A progress callback that raises once ``chunks`` chunks have been written."""
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1 + chunks:  # the first call comes before any chunk runs
            raise CrashError(f"stopped after {chunks} chunks ({done} of {total} subjects)")

    return progress


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """One LocalCluster (2 processes, 1 thread each) for the module: start-up costs seconds."""
    with _local_cluster() as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The reference: the whole trial in this process."""
    out = tmp_path_factory.mktemp("serial")
    run = run_trial(_spec(), out, dispatcher=SerialDispatcher())
    assert run.plan.n_chunks == N_CHUNKS and run.resumed_chunks == 0
    return _results(out)


# Who writes the Parquet files: the client (a remote scheduler, whose workers may not share this
# disk) or the workers themselves (a local cluster: DaskDispatcher.local, `--workers`).
WRITERS = pytest.mark.parametrize(
    "shared_disk", [False, True], ids=["client-writes", "workers-write"]
)


@WRITERS
def test_a_local_cluster_gives_exactly_the_serial_results(
    client: Client, serial: Results, tmp_path: Path, shared_disk: bool
) -> None:
    dispatcher = DaskDispatcher(client, shared_disk=shared_disk)
    run = _finish_within(DEADLINE_S, lambda: run_trial(_spec(), tmp_path, dispatcher=dispatcher))
    assert run.resumed_chunks == 0
    assert sorted(p.name for p in (tmp_path / "subjects").iterdir()) == [
        f"chunk-{i:05d}.parquet" for i in range(N_CHUNKS)
    ]
    assert_identical(_results(tmp_path), serial)


def test_a_scheduler_reached_by_address_gives_exactly_the_serial_results(
    cluster: LocalCluster, serial: Results, tmp_path: Path
) -> None:
    dispatcher = DaskDispatcher.remote(cluster.scheduler_address)
    try:
        assert cluster.scheduler_address in dispatcher.description
        _finish_within(DEADLINE_S, lambda: run_trial(_spec(), tmp_path, dispatcher=dispatcher))
    finally:
        dispatcher.close()
    assert_identical(_results(tmp_path), serial)
    assert cluster.status.name == "running"  # closing a remote client leaves the cluster alone


# An adaptive trial: the pacing example's six paced strategies (fixed and the two symptom-guided presets
# on two planner tapers), small: every step decision comes from keyed observation noise, so the cluster
# must reproduce each subject's pace exactly.
PACED_SUBJECTS = 600
PACED_STRATEGIES = 6


def _paced_spec() -> TrialSpec:
    data = load_trial_spec(EXAMPLES / "trial-adaptive.toml").model_dump(by_alias=True)
    data["trial"].update({"subjects": PACED_SUBJECTS, "chunk_size": 128, "days": 500})
    data["outputs"].update(plots=False, band_subjects=60)
    return parse_trial_spec(data, source="test")


@pytest.fixture(scope="module")
def paced_serial(tmp_path_factory: pytest.TempPathFactory) -> Results:
    out = tmp_path_factory.mktemp("paced-serial")
    run_trial(_paced_spec(), out, dispatcher=SerialDispatcher())
    results = _results(out)
    assert (results.subjects["holds"] > 0).any()  # the policies really decide something
    assert (results.subjects["taper_completed"] == 1).any()
    return results


@WRITERS
def test_an_adaptive_trial_on_a_local_cluster_gives_exactly_the_serial_results(
    client: Client, paced_serial: Results, tmp_path: Path, shared_disk: bool
) -> None:
    dispatcher = DaskDispatcher(client, shared_disk=shared_disk)
    _finish_within(DEADLINE_S, lambda: run_trial(_paced_spec(), tmp_path, dispatcher=dispatcher))
    assert_identical(_results(tmp_path), paced_serial, rows=PACED_SUBJECTS * PACED_STRATEGIES)


def test_an_adaptive_trial_on_a_scheduler_reached_by_address_gives_the_serial_results(
    cluster: LocalCluster, paced_serial: Results, tmp_path: Path
) -> None:
    dispatcher = DaskDispatcher.remote(cluster.scheduler_address)
    try:
        _finish_within(
            DEADLINE_S, lambda: run_trial(_paced_spec(), tmp_path, dispatcher=dispatcher)
        )
    finally:
        dispatcher.close()
    assert_identical(_results(tmp_path), paced_serial, rows=PACED_SUBJECTS * PACED_STRATEGIES)


def test_a_different_seed_gives_different_results_on_the_cluster(
    client: Client, serial: Results, tmp_path: Path
) -> None:
    """The identity tests above can fail: the cluster really computes (seed 8 is not seed 7)."""
    _finish_within(
        DEADLINE_S, lambda: run_trial(_spec(seed=8), tmp_path, dispatcher=DaskDispatcher(client))
    )
    other = _results(tmp_path)
    np.testing.assert_array_equal(other.subjects["subject_id"], serial.subjects["subject_id"])
    assert not np.array_equal(other.subjects["clearance_l_h"], serial.subjects["clearance_l_h"])


def _times_processing(dask_scheduler: Any) -> dict[str, int]:
    """On the scheduler: how often each chunk task was sent to a worker."""
    counts: Counter[str] = Counter()
    for key, _start, finish, *_ in dask_scheduler.transition_log:
        if finish == "processing" and str(key).startswith("benzokit-"):
            counts[str(key)] += 1
    return dict(counts)


def _running_tasks(dask_worker: Any) -> int:
    """On a worker: tasks occupying a thread, including cancelled ones still running."""
    return len(dask_worker.state.all_running_tasks)


def _wait_until_idle(client: Client, seconds: float = 30.0) -> None:
    """Until no worker runs a task: Dask lets a chunk already started finish even when cancelled."""
    deadline = time.monotonic() + seconds
    while any(client.run(_running_tasks).values()):
        if time.monotonic() > deadline:
            pytest.fail(f"the cluster was still busy after {seconds:.0f} s")
        time.sleep(0.05)


def _chunk_tasks(dask_scheduler: Any) -> list[str]:
    """On the scheduler: the chunk tasks it still knows of."""
    return [str(key) for key in dask_scheduler.tasks if str(key).startswith("benzokit-")]


def _wait_until_no_chunk_tasks(client: Client, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while remaining := client.run_on_scheduler(_chunk_tasks):
        if time.monotonic() > deadline:
            pytest.fail(f"chunk tasks left on the scheduler: {sorted(remaining)}")
        time.sleep(0.05)


@WRITERS
def test_a_killed_worker_loses_nothing(serial: Results, tmp_path: Path, shared_disk: bool) -> None:
    with _local_cluster() as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=30)
        killed: list[str] = []

        def kill_a_busy_worker(done: int, total: int) -> None:
            if done == 0 or killed:
                return
            # At the first result, a worker holds chunks: running, or finished and not yet
            # fetched by the client. Killing it loses them all; Dask must compute them again.
            held = Counter[str]()
            for holdings in (client.processing(), client.has_what()):
                for address, keys in holdings.items():
                    held[address] += sum(str(key).startswith("benzokit-") for key in keys)
            address, chunks = held.most_common(1)[0]
            assert chunks, "no worker held a chunk when the first result arrived"
            pid = client.run(os.getpid, workers=[address])[address]
            assert pid != os.getpid()
            os.kill(pid, signal.SIGKILL)  # hard: no clean shutdown; the nanny starts a new one
            killed.append(address)

        dispatcher = DaskDispatcher(client, shared_disk=shared_disk)
        run = _finish_within(
            DEADLINE_S,
            lambda: run_trial(
                _spec(), tmp_path, dispatcher=dispatcher, progress=kill_a_busy_worker
            ),
        )
        assert killed and run.resumed_chunks == 0
        recomputed = {
            key: n for key, n in client.run_on_scheduler(_times_processing).items() if n > 1
        }
        assert recomputed, "no chunk was sent to a worker a second time after the kill"
        client.wait_for_workers(2, timeout=30)  # the nanny brought a fresh worker process
        assert killed[0] not in client.scheduler_info()["workers"]
    assert not list(tmp_path.rglob("*.tmp"))
    assert_identical(_results(tmp_path), serial)


def _assert_complete_chunks(out: Path) -> list[int]:
    """Every chunk file present is a whole Parquet file; no temporary is left. Returns the indices."""
    assert not list(out.rglob("*.tmp"))
    indices = sorted(int(p.stem.split("-")[1]) for p in (out / "subjects").iterdir())
    for index in indices:
        rows = min(CHUNK_SIZE, SUBJECTS - index * CHUNK_SIZE)  # one strategy
        assert pq.read_table(out / "subjects" / f"chunk-{index:05d}.parquet").num_rows == rows
        assert (out / "bands" / f"chunk-{index:05d}.parquet").is_file()
    assert len(list((out / "bands").iterdir())) == len(indices)
    assert not (out / "summary.json").exists()
    return indices


def test_an_interrupted_run_resumes_from_the_chunks_written(
    serial: Results, tmp_path: Path
) -> None:
    with pytest.raises(CrashError):
        run_trial(_spec(), tmp_path, progress=_crash_after(2))
    assert _assert_complete_chunks(tmp_path) == [0, 1]

    progress: list[int] = []
    run = run_trial(_spec(), tmp_path, progress=lambda done, total: progress.append(done))
    assert run.resumed_chunks == 2
    assert progress[0] == 2 * CHUNK_SIZE and progress[-1] == SUBJECTS
    assert len(progress) == 1 + N_CHUNKS - 2
    assert_identical(_results(tmp_path), serial)


@WRITERS
def test_a_run_interrupted_on_the_cluster_resumes_on_the_cluster(
    client: Client, serial: Results, tmp_path: Path, shared_disk: bool
) -> None:
    dispatcher = DaskDispatcher(client, shared_disk=shared_disk)
    with pytest.raises(CrashError):
        _finish_within(
            DEADLINE_S,
            lambda: run_trial(_spec(), tmp_path, dispatcher=dispatcher, progress=_crash_after(3)),
        )
    _wait_until_idle(client)
    _wait_until_no_chunk_tasks(client)  # the interrupted run cancelled what it had submitted
    written = _assert_complete_chunks(tmp_path)
    if shared_disk:
        # Workers write their own chunks: those already running when the run stopped still finish
        # (Dask does not stop a running task); small chunks may all be done by then.
        assert len(written) >= 3
    else:
        assert len(written) == 3
    run = _finish_within(DEADLINE_S, lambda: run_trial(_spec(), tmp_path, dispatcher=dispatcher))
    assert run.resumed_chunks == len(written)
    assert_identical(_results(tmp_path), serial)


def test_a_folder_holding_another_trial_is_refused(tmp_path: Path) -> None:
    small = {"subjects": 300, "chunk_size": 128, "days": 20}
    run_trial(_spec(**small), tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(InputError) as info:
        run_trial(_spec(**small, seed=8), tmp_path)
    assert info.value.field == "results_folder"
    assert "different trial" in info.value.allowed
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
