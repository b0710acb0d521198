"""Where chunks run: in this process (the reference), or on a Dask cluster (local or remote).

Every dispatcher calls the same pure ``run_chunk``; with keyed random draws the results are identical.
A dispatcher also sees each chunk written to the results folder: in this process, or — on a local
cluster, which shares this machine's disk — by the worker that computed it, so the client does not
spend CPU the workers need.
"""

from __future__ import annotations

import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from benzokit.errors import BenzokitError, ComputeError
from benzokit.sim.trial.chunk import ChunkResult, run_chunk
from benzokit.sim.trial.plan import TrialPlan
from benzokit.sim.trial.store import write_chunk

OnWritten = Callable[[int], None]
_TASK_RETRIES = 3
# Connecting to a scheduler: fail within seconds when nothing listens (Dask's default waits 30 s).
CONNECT_TIMEOUT_S = 5
# Sending the plan to every worker (the client's timeout would otherwise be the connect timeout).
_SCATTER_TIMEOUT_S = 120
# Without a dashboard the scheduler still serves HTTP (health, metrics), on port 8787 by default:
# a second cluster then warns "Port 8787 is already in use". A free port on localhost instead.
LOCAL_SCHEDULER_KWARGS: dict[str, Any] = {"dashboard_address": "127.0.0.1:0"}


class Dispatcher(ABC):
    """Runs chunks, sees each written into ``out`` and reports its index to ``on_written`` (any order)."""

    @abstractmethod
    def run(
        self, plan: TrialPlan, indices: Iterable[int], out: Path, on_written: OnWritten
    ) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (clusters) held by the dispatcher."""

    @property
    def description(self) -> str:
        return type(self).__name__


class SerialDispatcher(Dispatcher):
    """The reference: one chunk after another in this process (numba uses this machine's cores)."""

    def run(
        self, plan: TrialPlan, indices: Iterable[int], out: Path, on_written: OnWritten
    ) -> None:
        for index in indices:
            write_chunk(out, plan, run_chunk(plan, index))
            on_written(index)

    @property
    def description(self) -> str:
        return "this process"


def _single_threaded() -> None:
    """One numba thread per Dask worker process: the workers are the parallelism."""
    import numba

    numba.set_num_threads(1)


def _run_chunk_task(plan: TrialPlan, index: int) -> ChunkResult:
    _single_threaded()
    return run_chunk(plan, index)


def _run_and_write_task(plan: TrialPlan, index: int, out: str) -> int:
    _single_threaded()
    write_chunk(Path(out), plan, run_chunk(plan, index))
    return index


class DaskDispatcher(Dispatcher):
    """Chunks as Dask tasks; a chunk lost with a worker is recomputed (task retries)."""

    def __init__(
        self, client: Any, *, owns_cluster: bool = False, shared_disk: bool = False
    ) -> None:
        self.client = client
        self._owns_cluster = owns_cluster
        self._shared_disk = shared_disk

    @classmethod
    def local(cls, workers: int) -> DaskDispatcher:
        """A local cluster of ``workers`` processes, one thread each."""
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs=LOCAL_SCHEDULER_KWARGS,
        )
        return cls(Client(cluster), owns_cluster=True, shared_disk=True)

    @classmethod
    def remote(cls, address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> DaskDispatcher:
        """A client of the scheduler at ``address``; OSError if none answers within ``timeout_s``."""
        from distributed import Client

        return cls(Client(address, timeout=timeout_s))

    def run(
        self, plan: TrialPlan, indices: Iterable[int], out: Path, on_written: OnWritten
    ) -> None:
        from distributed import as_completed

        # a random key (hash=False): a run right after an interrupted one of the same trial must not
        # share the plan's data with it, which the scheduler may still be releasing ("lost dependencies")
        plan_future = self.client.scatter(
            plan, broadcast=True, hash=False, timeout=_SCATTER_TIMEOUT_S
        )
        run_token = uuid.uuid4().hex[:8]  # distinct task keys per run, even for the same trial
        futures = [
            self.client.submit(
                *self._task(plan_future, index, out),
                key=f"benzokit-{plan.fingerprint}-{run_token}-{index}",
                retries=_TASK_RETRIES,
            )
            for index in indices
        ]
        try:
            for future in as_completed(futures):
                result = self._result(future)
                if self._shared_disk:
                    on_written(int(result))
                else:
                    write_chunk(out, plan, result)
                    on_written(result.index)
                future.release()
        except BaseException:
            # Interrupted (a chunk could not be written, Ctrl-C): chunks not started yet are dropped
            # rather than left to run on the cluster (and write into ``out``), finished ones freed.
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
            raise

    @staticmethod
    def _result(future: Any) -> Any:
        """The chunk's result; a cluster failure becomes a :class:`ComputeError` for the person waiting."""
        try:
            return future.result()
        except BenzokitError:
            raise
        except Exception as error:
            raise ComputeError(
                f"the Dask cluster could not finish the trial ({type(error).__name__}: {error}); "
                "the chunks already written are kept: run the same command again to resume"
            ) from error

    def _task(self, plan_future: Any, index: int, out: Path) -> tuple[Any, ...]:
        if self._shared_disk:
            return (_run_and_write_task, plan_future, index, str(out.resolve()))
        return (_run_chunk_task, plan_future, index)

    def close(self) -> None:
        cluster = self.client.cluster if self._owns_cluster else None
        self.client.close()
        if cluster is not None:
            cluster.close()

    @property
    def description(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask cluster at {self.client.scheduler.address} ({workers} workers)"
