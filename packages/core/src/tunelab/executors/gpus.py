"""Which GPUs this machine shows, and which one each worker process gets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping

__all__ = ["visible_gpus", "worker_environments"]

# Values of CUDA_VISIBLE_DEVICES that hide every GPU.
_NO_GPU = {"", "-1", "none", "nodevfiles"}


def _nvidia_smi_listing() -> str | None:
    path = shutil.which("nvidia-smi")
    if path is None:
        return None
    try:
        done = subprocess.run([path, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def visible_gpus(
    environ: Mapping[str, str] | None = None,
    list_gpus: Callable[[], str | None] | None = None,
) -> list[str]:
    """The GPUs trials may use, as CUDA device ids (indices or UUIDs).

    ``CUDA_VISIBLE_DEVICES`` decides when it is set (as CUDA reads it: the list stops at the
    first negative id); otherwise ``nvidia-smi -L`` lists the devices. No driver, no GPU: [].

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default `os.environ`).
    list_gpus : callable, optional
        Returns the text of ``nvidia-smi -L`` (or None); for tests.

    Examples
    --------
    >>> visible_gpus({"CUDA_VISIBLE_DEVICES": "0,2"})
    ['0', '2']
    >>> visible_gpus({}, list_gpus=lambda: "GPU 0: A100 (UUID: GPU-1)\\nGPU 1: A100 (UUID: GPU-2)")
    ['0', '1']
    """
    env = os.environ if environ is None else environ
    setting = env.get("CUDA_VISIBLE_DEVICES")
    if setting is not None:
        if setting.strip().lower() in _NO_GPU:
            return []
        devices = []
        for item in (part.strip() for part in setting.split(",")):
            if not item or item.startswith("-"):
                break
            devices.append(item)
        return devices
    listing = (list_gpus or _nvidia_smi_listing)()
    if not listing:
        return []
    return re.findall(r"^GPU (\d+):", listing, flags=re.MULTILINE)


def worker_environments(gpus: list[str], num_workers: int) -> list[dict[str, str]]:
    """The environment variables of each worker: one GPU per worker, in turn.

    With more workers than GPUs, workers share GPUs round-robin; without GPUs, nothing is
    set.

    Examples
    --------
    >>> worker_environments(["0", "1"], 3)
    [{'CUDA_VISIBLE_DEVICES': '0'}, {'CUDA_VISIBLE_DEVICES': '1'}, {'CUDA_VISIBLE_DEVICES': '0'}]
    """
    if not gpus:
        return [{} for _ in range(num_workers)]
    return [{"CUDA_VISIBLE_DEVICES": gpus[i % len(gpus)]} for i in range(num_workers)]
