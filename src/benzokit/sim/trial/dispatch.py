"""Where chunks run: in this process (the reference), or on a Dask cluster (local or remote).

Both call the same pure ``run_chunk``; with keyed random draws the results are identical.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from benzokit.sim.trial.chunk import ChunkResult, run_chunk
from benzokit.sim.trial.plan import TrialPlan

OnResult = Callable[[ChunkResult], None]
_TASK_RETRIES = 3


class Dispatcher(ABC):
    """Runs chunks and hands each result to ``on_result`` as it arrives (in any order)."""

    @abstractmethod
    def run(self, plan: TrialPlan, indices: Iterable[int], on_result: OnResult) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (clusters) held by the dispatcher."""

    @property
    def description(self) -> str:
        return type(self).__name__


class SerialDispatcher(Dispatcher):
    """The reference: one chunk after another in this process (numba uses this machine's cores)."""

    def run(self, plan: TrialPlan, indices: Iterable[int], on_result: OnResult) -> None:
        for index in indices:
            on_result(run_chunk(plan, index))

    @property
    def description(self) -> str:
        return "this process"


def _run_chunk_single_threaded(plan: TrialPlan, index: int) -> ChunkResult:
    """Task body on a Dask worker: one numba thread per worker process (workers are the parallelism)."""
    import numba

    numba.set_num_threads(1)
    return run_chunk(plan, index)


class DaskDispatcher(Dispatcher):
    """Chunks as Dask tasks; a chunk lost with a worker is recomputed (task retries)."""

    def __init__(self, client: Any, *, owns_cluster: bool = False) -> None:
        self.client = client
        self._owns_cluster = owns_cluster

    @classmethod
    def local(cls, workers: int) -> DaskDispatcher:
        """A local cluster of ``workers`` processes, one thread each."""
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return cls(Client(cluster), owns_cluster=True)

    @classmethod
    def remote(cls, address: str) -> DaskDispatcher:
        from distributed import Client

        return cls(Client(address))

    def run(self, plan: TrialPlan, indices: Iterable[int], on_result: OnResult) -> None:
        from distributed import as_completed

        plan_future = self.client.scatter(plan, broadcast=True)
        futures = [
            self.client.submit(
                _run_chunk_single_threaded,
                plan_future,
                index,
                key=f"benzokit-{plan.fingerprint}-{index}",
                retries=_TASK_RETRIES,
            )
            for index in indices
        ]
        for future in as_completed(futures):
            on_result(future.result())
            future.release()

    def close(self) -> None:
        cluster = self.client.cluster if self._owns_cluster else None
        self.client.close()
        if cluster is not None:
            cluster.close()

    @property
    def description(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask cluster at {self.client.scheduler.address} ({workers} workers)"
