"""Where trials run: in the tuner's process (default), a local process pool, or Dask.

>>> import tunelab as kt
>>> tuner = kt.RandomSearch(lambda hp: hp.Float("x", 0.0, 1.0) ** 2, objective="loss",
...                         max_trials=4, directory="/tmp/tunelab-doc", overwrite=True)
>>> tuner.search(executor="process", max_parallel_trials=2, verbose=0)  # doctest: +SKIP

The oracle and the trial store always stay in the process that calls `search` (the
driver); workers run trials and send their results back. Dask is imported only when a Dask
executor is used.
"""

from __future__ import annotations

from typing import Any

from tunelab.executors.base import Executor, check_max_parallel_trials
from tunelab.executors.gpus import visible_gpus, worker_environments
from tunelab.executors.inline import InlineExecutor
from tunelab.executors.process import ProcessPoolExecutor

__all__ = [
    "DaskExecutor",
    "Executor",
    "InlineExecutor",
    "ProcessPoolExecutor",
    "resolve_executor",
    "visible_gpus",
    "worker_environments",
]

_NAMES = ("inline", "process", "dask")


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from tunelab.executors.dask_cluster import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'tunelab.executors' has no attribute {name!r}")


def _is_dask_client(value: Any) -> bool:
    return type(value).__name__ == "Client" and type(value).__module__.startswith("distributed")


def resolve_executor(executor: Any, max_parallel_trials: Any = None) -> Executor | None:
    """The executor for `executor` and `max_parallel_trials` (None: run trials inline).

    Parameters
    ----------
    executor : None, "inline", "process", "dask", Executor or distributed.Client
        None or "inline": trials run in the tuner's process, one at a time (unless
        `max_parallel_trials` > 1: then a process pool). "process": a
        `ProcessPoolExecutor`. "dask" or a `distributed.Client`: a `DaskExecutor` (on the
        current client for "dask").
    max_parallel_trials : int, optional
        Trials at once (default: the executor's choice).

    Examples
    --------
    >>> resolve_executor(None) is None
    True
    >>> resolve_executor("process", 2)
    ProcessPoolExecutor(max_parallel_trials=2, gpus='auto')
    """
    check_max_parallel_trials(max_parallel_trials)
    if executor is None or executor == "inline":
        if max_parallel_trials is None or max_parallel_trials == 1:
            return None
        if executor == "inline":
            raise ValueError(
                f"max_parallel_trials={max_parallel_trials} with executor='inline'; inline "
                "trials run one at a time: use executor='process' or a Dask client"
            )
        return ProcessPoolExecutor(max_parallel_trials)
    if executor == "process":
        return ProcessPoolExecutor(max_parallel_trials)
    if executor == "dask" or _is_dask_client(executor):
        from tunelab.executors.dask_cluster import DaskExecutor

        return DaskExecutor(None if executor == "dask" else executor, max_parallel_trials)
    if isinstance(executor, Executor):
        if max_parallel_trials is not None:
            executor.max_parallel_trials = max_parallel_trials
            executor._requested = max_parallel_trials  # type: ignore[attr-defined]
        return executor
    raise ValueError(
        f"executor={executor!r}; expected one of {list(_NAMES)}, a tunelab.executors.Executor "
        "or a distributed.Client"
    )
