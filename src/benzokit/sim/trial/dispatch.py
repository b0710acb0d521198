"""Where work runs: in this process (the reference), or on a Dask cluster (local or remote).

A dispatcher only computes and returns: it calls ``function(shared, index)`` for every index and yields
the results as they finish. It knows nothing of trials or files; what the function does (simulate a
chunk, and perhaps store it) is the runner's choice, told by :attr:`Dispatcher.shares_disk`.
"""

from __future__ import annotations

import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

import numba

from benzokit.errors import BenzokitError, ComputeError

S = TypeVar("S")
R = TypeVar("R")
Task = Callable[[S, int], R]
"""``function(shared, index)``: one piece of work; ``shared`` is the same for every index."""
_TASK_RETRIES = 3
# Connecting to a scheduler: fail within seconds when nothing listens (Dask's default waits 30 s).
CONNECT_TIMEOUT_S = 5
# Sending the shared input to every worker (the client's timeout would otherwise be the connect timeout).
_SCATTER_TIMEOUT_S = 120
# Without a dashboard the scheduler still serves HTTP (health, metrics), on port 8787 by default:
# a second cluster then warns "Port 8787 is already in use". A free port on localhost instead.
LOCAL_SCHEDULER_KWARGS: dict[str, Any] = {"dashboard_address": "127.0.0.1:0"}


class Dispatcher(ABC):
    """Runs ``function(shared, index)`` for each index and yields the results as they finish."""

    @abstractmethod
    def map(
        self, function: Task[S, R], shared: S, indices: Iterable[int], *, label: str = "task"
    ) -> Generator[R, None, None]:
        """The results in the order they finish; closing the iterator early drops unfinished work.

        ``function`` and ``shared`` must be picklable for a cluster; ``label`` names the tasks.
        """

    @property
    def shares_disk(self) -> bool:
        """Whether the function runs where this process's folders are (so it may write into them)."""
        return True

    @property
    def in_process(self) -> bool:
        """Whether the function runs in this process (so that it shares this process's cores)."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (clusters) held by the dispatcher."""

    @property
    def description(self) -> str:
        return type(self).__name__


class SerialDispatcher(Dispatcher):
    """The reference: one index after another in this process (numba uses this machine's cores)."""

    def map(
        self, function: Task[S, R], shared: S, indices: Iterable[int], *, label: str = "task"
    ) -> Generator[R, None, None]:
        for index in indices:
            yield function(shared, index)

    @property
    def in_process(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return "this process"


def _on_worker(function: Task[S, R], shared: S, index: int) -> R:
    """One numba thread per Dask worker process: the workers are the parallelism."""
    numba.set_num_threads(1)
    return function(shared, index)


class DaskDispatcher(Dispatcher):
    """Indices as Dask tasks; a task lost with a worker is recomputed (task retries)."""

    def __init__(
        self, client: Any, *, owns_cluster: bool = False, shared_disk: bool = False
    ) -> None:
        self.client = client
        self._owns_cluster = owns_cluster
        self._shared_disk = shared_disk

    @classmethod
    def local(cls, workers: int) -> DaskDispatcher:
        """A local cluster of ``workers`` processes, one thread each (sharing this machine's disk)."""
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

    @property
    def shares_disk(self) -> bool:
        return self._shared_disk

    def map(
        self, function: Task[S, R], shared: S, indices: Iterable[int], *, label: str = "task"
    ) -> Generator[R, None, None]:
        from distributed import as_completed

        # a random key (hash=False): a run right after an interrupted one with the same input must
        # not share its data, which the scheduler may still be releasing ("lost dependencies")
        shared_future = self.client.scatter(
            shared, broadcast=True, hash=False, timeout=_SCATTER_TIMEOUT_S
        )
        run_token = uuid.uuid4().hex[:8]  # distinct task keys per run, even for the same input
        futures = [
            self.client.submit(
                _on_worker,
                function,
                shared_future,
                index,
                key=f"benzokit-{label}-{run_token}-{index}",
                retries=_TASK_RETRIES,
            )
            for index in indices
        ]
        try:
            for future in as_completed(futures):
                result: R = self._result(future)
                future.release()
                yield result
        except BaseException:
            # Interrupted (the caller stopped, Ctrl-C): tasks not started yet are dropped rather than
            # left to run on the cluster, finished ones freed.
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
            raise

    @staticmethod
    def _result(future: Any) -> Any:
        """The task's result; a cluster failure becomes a :class:`ComputeError` for the person waiting."""
        try:
            return future.result()
        except BenzokitError:
            raise
        except Exception as error:
            raise ComputeError(
                f"the Dask cluster could not finish the work ({type(error).__name__}: {error})"
            ) from error

    def close(self) -> None:
        cluster = self.client.cluster if self._owns_cluster else None
        self.client.close()
        if cluster is not None:
            cluster.close()

    @property
    def description(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask cluster at {self.client.scheduler.address} ({workers} workers)"
