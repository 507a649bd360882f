"""Where a sweep of independent tasks runs: joblib, on a dask.distributed cluster.

Backtest work multiplies quickly (members x leads x refits x days). The refits of a
backtest are independent tasks; :func:`run_tasks` sends them through joblib's dask
backend so that the same code runs on a laptop's LocalCluster or on a cluster whose
scheduler address is given (``forecast backtest --scheduler tcp://host:8786``):

- ``"local"``: start a :class:`distributed.LocalCluster` of ``n_workers`` single-threaded
  worker processes for the run and close it afterwards;
- any other string: the address of a running dask scheduler (``tcp://...``, or the
  ``inproc://`` address of an in-process cluster in tests).

Without a scheduler the backtest keeps its own worker processes (``--jobs``), which
start while the features are built (the fastest path on one machine).

Tasks are handed out lazily (joblib's ``pre_dispatch``: at most twice as many in flight
as there are workers), so the inputs of every task are never all built at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import joblib
from distributed import Client, LocalCluster

from forecast.errors import ConfigError

__all__ = ["dask_client", "run_tasks"]


@contextmanager
def dask_client(scheduler: str, n_workers: int = 2, timeout: float = 10.0) -> Iterator[Client]:
    """A dask client for ``scheduler`` (``"local"`` or an address), closed on exit.

    ``timeout`` [s]: how long to try to reach a scheduler at an address.

    Raises
    ------
    ConfigError
        The scheduler at the address cannot be reached.
    """
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ConfigError(
            f"--scheduler {scheduler!r}: give 'local' or a dask scheduler address such as "
            "tcp://127.0.0.1:8786"
        )
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, int(n_workers)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            f"--scheduler {scheduler}: no dask scheduler answered there ({exc}); start one "
            "(dask scheduler) or use --scheduler local"
        ) from exc
    try:
        yield client
    finally:
        client.close()


def run_tasks(
    fn: Callable,
    args: Iterable[tuple],
    scheduler: str,
    n_workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> list:
    """``[fn(*a) for a in args]`` on the dask cluster ``scheduler``, in the order of ``args``.

    ``args`` is consumed lazily (a generator keeps the inputs of waiting tasks unbuilt);
    ``progress(i)`` is called as each result arrives.
    """
    out = []
    with dask_client(scheduler, n_workers), joblib.parallel_config(backend="dask"):
        results = joblib.Parallel(n_jobs=-1, return_as="generator", pre_dispatch="2*n_jobs")(
            joblib.delayed(fn)(*a) for a in args
        )
        for i, r in enumerate(results):
            out.append(r)
            if progress is not None:
                progress(i)
    return out
