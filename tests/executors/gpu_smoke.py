"""Manual check of one-trial-per-GPU on a machine with NVIDIA GPUs (not collected by pytest).

Run: ``python tests/executors/gpu_smoke.py`` with PyTorch installed. Each trial reports the
CUDA_VISIBLE_DEVICES its worker got, how many devices PyTorch sees there, and runs a matrix
product on the GPU. Prints one line per trial and exits non-zero if a check fails.
"""

from __future__ import annotations

import os
import sys
import tempfile

import tunelab as kt
from tunelab.executors import ProcessPoolExecutor, visible_gpus


def on_gpu(hp):
    import torch

    size = hp.Int("size", 256, 1024, step=256)
    a = torch.rand(size, size, device="cuda")
    total = float((a @ a).sum().item())
    return {
        "loss": 1.0 / size,
        "pid": os.getpid(),
        "cuda_visible_devices": float(os.environ["CUDA_VISIBLE_DEVICES"]),
        "device_count": torch.cuda.device_count(),
        "finite": float(total == total),
    }


def main() -> int:
    gpus = visible_gpus()
    print("visible GPUs:", gpus)
    if not gpus:
        print("no GPU visible: nothing to check")
        return 1
    failures = 0
    for workers in (len(gpus), 2 * len(gpus)):
        with tempfile.TemporaryDirectory() as directory:
            tuner = kt.RandomSearch(
                on_gpu,
                objective="loss",
                max_trials=2 * workers,
                seed=0,
                directory=directory,
                project_name="gpu",
            )
            executor = ProcessPoolExecutor(workers)
            tuner.search(executor=executor, verbose=0)
            for trial in tuner.oracle.trials.values():
                m = {
                    name: trial.metrics.get_last_value(name)
                    for name in ("pid", "cuda_visible_devices", "device_count", "finite")
                }
                ok = trial.status == "COMPLETED" and m["device_count"] == 1 and m["finite"] == 1
                failures += not ok
                print(
                    f"workers={workers} trial {trial.trial_id} {trial.status} {m}"
                    + ("" if ok else f" FAILED {trial.message}")
                )
    print("ok" if not failures else f"{failures} failed checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
