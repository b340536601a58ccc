"""Objectives the executors' tests run in worker processes (importable there by name)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

import tunelab as kt
from tunelab.errors import FatalError, InvalidTrialError


class Payload:
    """Search data that counts how many times this process unpickled it."""

    loads = 0

    def __init__(self, size: int) -> None:
        self.data = np.arange(size, dtype=float)

    def __setstate__(self, state: dict) -> None:
        type(self).loads += 1
        self.__dict__.update(state)


def quadratic(hp, delay: float = 0.0):
    x = hp.Float("x", -2.0, 2.0)
    started = time.time()
    if delay:
        time.sleep(delay)
    return {"loss": (x - 0.5) ** 2, "pid": os.getpid(), "start": started, "end": time.time()}


def with_payload(hp, payload: Payload):
    x = hp.Float("x", -2.0, 2.0)
    return {
        "loss": (x - 0.5) ** 2 + payload.data.sum() * 0.0,
        "loads": Payload.loads,
        "pid": os.getpid(),
    }


def gpu_reporter(hp):
    x = hp.Float("x", -2.0, 2.0)
    time.sleep(0.2)
    return {"loss": x * x, "gpu": float(os.environ["CUDA_VISIBLE_DEVICES"]), "pid": os.getpid()}


def define_by_run(hp):
    x = hp.Float("x", -2.0, 2.0)
    if hp.Boolean("extra"):
        with hp.conditional_scope("extra", [True]):
            x += hp.Int("shift", 0, 3)
    return (x - 0.5) ** 2


def dies_once(hp, marker_dir: str, delay: float = 0.3):
    """Kills its own worker with SIGKILL the first time any trial runs it."""
    x = hp.Float("x", -2.0, 2.0)
    time.sleep(delay)
    try:
        fd = os.open(Path(marker_dir) / "killed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return {"loss": (x - 0.5) ** 2, "pid": os.getpid()}
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    return None  # never reached


def kills_on_negative(hp):
    """Every trial with x < 0 kills its worker."""
    x = hp.Float("x", -2.0, 2.0)
    if x < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return (x - 0.5) ** 2


def raises(hp):
    x = hp.Float("x", -2.0, 2.0)
    if x < 0:
        raise RuntimeError(f"negative x={x}")
    if x > 1.5:
        raise InvalidTrialError("too big")
    return (x - 0.5) ** 2


def fatal(hp):
    hp.Float("x", -2.0, 2.0)
    raise FatalError("out of disk")


def hangs_in_c(hp):
    """Blocks SIGALRM and sleeps: only killing its process stops it."""
    x = hp.Float("x", -2.0, 2.0)
    if x < 0:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    return (x - 0.5) ** 2


def epochs_objective(hp):
    x = hp.Float("x", 0.0, 1.0)
    return (x - 0.5) ** 2 + 1.0 / hp.get("tuner/epochs")


def learning_curve(hp, trial, steps: int = 9, delay: float = 0.02):
    """Reports a loss that falls with each step, and stops when the oracle says so."""
    x = hp.Float("x", -2.0, 2.0)
    for step in range(1, steps + 1):
        time.sleep(delay)
        if trial.report({"loss": (x - 0.5) ** 2 + 1.0 / step}, step=step) == "STOPPED":
            break
    return None


def asha_tuner(tmp_path):
    """ASHA over `learning_curve`: 10 trials of up to 9 steps, rungs at 1 and 3."""
    oracle = kt.ASHAOracle(
        kt.Objective("loss", "min"), max_epochs=9, factor=3, max_trials=10, seed=1
    )
    return kt.BaseTuner(oracle, learning_curve, directory=tmp_path, project_name="p")


def assert_asha_stopped_trials_early(tuner):
    """The driver's oracle judged the reports made in the workers: trials that fell behind
    at a rung stopped there, the others trained to the end."""
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 10
    last_step = {t.trial_id: t.metrics.get_history("loss")[-1].step for t in trials}
    stopped = [t.trial_id for t in trials if t.status == "STOPPED"]
    completed = [t.trial_id for t in trials if t.status == "COMPLETED"]
    assert len(stopped) >= 3 and len(completed) >= 1
    assert len(stopped) + len(completed) == 10
    assert all(last_step[t] in (1, 3) for t in stopped)
    assert all(last_step[t] == 9 for t in completed)
    # Every trial's first report reached the rung record kept in the driver's store.
    assert set(tuner.oracle.rung_records()[1]) == {t.trial_id for t in trials}
