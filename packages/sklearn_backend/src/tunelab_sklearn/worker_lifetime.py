"""joblib's worker processes end with the search's process.

loky, joblib's default backend, keeps its workers for 300 s of idleness so that the next
call reuses them. When the search's process is killed (SIGKILL, the OOM killer, a job
scheduler's time limit), nothing tells them: each finishes its fold, then waits out the
timeout. A search killed every few seconds piled up 24 such orphans (2.4 GB) before this.
On Linux each worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG).

The kernel ties that request to the thread that started the worker, not to its process:
so it is made only for calls from the main thread (workers started from a thread that
ends would die with it and break the reusable pool for later calls).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from collections.abc import Iterator

import joblib
from joblib._parallel_backends import LokyBackend

__all__ = ["workers_end_with_this_process"]

_PR_SET_PDEATHSIG = 1


def _end_with_parent(parent_pid: int) -> None:
    """(In each loky worker, once.) Be killed when the process that started us dies."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the request was made
        os._exit(1)


@contextlib.contextmanager
def workers_end_with_this_process() -> Iterator[None]:
    """Within the block, joblib calls with the default loky backend start workers that
    die with this process (Linux, main thread); any other backend or a backend the user
    configured is left as it is."""
    backend, _ = joblib.parallel.get_active_backend()
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
        or type(backend) is not LokyBackend
        or backend.backend_kwargs
    ):
        yield
        return
    bound = LokyBackend(
        nesting_level=backend.nesting_level,
        inner_max_num_threads=backend.inner_max_num_threads,
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    )
    with joblib.parallel_config(backend=bound):
        yield
