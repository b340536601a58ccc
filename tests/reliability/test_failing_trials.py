"""Trials that raise, return NaN or infinity, hang, or run out of memory: each ends FAILED
(or INVALID) with a clear message and the search goes on; too many failures in a row stop
the search with the first traceback and the ids of the others."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading

import pytest

import tunelab as kt
from tunelab.errors import TooManyFailedTrialsError

from . import proof


def _grid(fn, tmp_path, name, **kwargs):
    kwargs.setdefault("max_consecutive_failed_trials", None)
    return kt.GridSearch(fn, objective="loss", directory=tmp_path, project_name=name, **kwargs)


def _by_x(tuner):
    return {t.hyperparameters.values["x"]: t for t in tuner.oracle.trials.values()}


def test_raising_trials_fail_with_their_traceback_and_are_retried_then_skipped(tmp_path):
    attempts: dict[int, int] = {}

    def fn(hp):
        x = hp.Int("x", 0, 5)
        attempts[x] = attempts.get(x, 0) + 1
        if x in (1, 2):
            raise ZeroDivisionError(f"x={x} cannot be evaluated")
        return float(x)

    tuner = _grid(fn, tmp_path, "raise", max_retries_per_trial=2)
    tuner.search(verbose=0)
    trials = _by_x(tuner)
    assert sorted(trials) == [0, 1, 2, 3, 4, 5]
    for x in (1, 2):
        assert trials[x].status == "FAILED" and trials[x].retries == 2
        assert attempts[x] == 3  # the first run and two retries
        assert "Traceback (most recent call last)" in trials[x].message
        assert f"ZeroDivisionError: x={x} cannot be evaluated" in trials[x].message
    assert [trials[x].status for x in (0, 3, 4, 5)] == ["COMPLETED"] * 4
    assert tuner.get_best_hyperparameters()[0].values == {"x": 0}
    proof.add("faults_injected", 2 * 3)


@pytest.mark.parametrize("direction", ["min", "max"])
def test_nan_and_infinite_results_are_invalid_and_never_best(tmp_path, direction):
    bad = {
        0: float("nan"),
        1: float("inf"),
        2: float("-inf"),
        3: {"loss": float("nan"), "acc": 1.0},
        4: [{"loss": 1.0}, {"loss": float("inf")}],  # one execution blew up
    }

    def fn(hp):
        x = hp.Int("x", 0, 7)
        return bad.get(x, float(x))

    objective = kt.Objective("loss", direction)
    tuner = kt.GridSearch(
        fn,
        objective=objective,
        directory=tmp_path,
        project_name=direction,
        # Non-finite results count toward this limit (test_failure_limit.py): five in a row.
        max_consecutive_failed_trials=None,
    )
    tuner.search(verbose=0)
    trials = _by_x(tuner)
    for x in bad:
        assert trials[x].status == "INVALID", x
        assert trials[x].score is None and "not finite" in trials[x].message
    best = [t.hyperparameters.values["x"] for t in tuner.oracle.get_best_trials(8)]
    assert best == ([5, 6, 7] if direction == "min" else [7, 6, 5])
    proof.add("faults_injected", len(bad))


def test_hanging_trials_are_stopped_by_trial_timeout_and_the_search_goes_on(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 3)
        if x == 1:
            while True:  # a pure-Python busy loop
                pass
        if x == 2:
            threading.Event().wait()  # blocked forever on a lock
        return float(x)

    tuner = _grid(fn, tmp_path, "hang", trial_timeout=0.2)
    tuner.search(verbose=0)
    trials = _by_x(tuner)
    for x in (1, 2):
        assert trials[x].status == "FAILED" and trials[x].retries == 0
        assert "ran longer than trial_timeout=0.2 s" in trials[x].message
    assert trials[0].status == trials[3].status == "COMPLETED"
    proof.add("faults_injected", 2)


OOM_SEARCH = textwrap.dedent("""
    import resource, sys
    import tunelab as kt

    def fn(hp):
        x = hp.Int("x", 0, 3)
        size = 2**30 if x == 2 else 2**20  # trial 2 needs 1 GiB, the others 1 MiB
        block = bytearray(size)
        return float(x) + len(block) * 0

    tuner = kt.GridSearch(fn, objective="loss", directory=sys.argv[1], project_name="oom",
                          max_consecutive_failed_trials=None)
    # Limit this process's address space to what it uses now plus 256 MiB.
    with open("/proc/self/status") as f:
        used = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (used + 2**28, used + 2**28))
    tuner.search(verbose=0)
    for t in tuner.oracle.trials.values():
        print(t.hyperparameters.values["x"], t.status, (t.message or "").strip().splitlines()[-1:])
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
def test_a_trial_out_of_memory_under_an_address_space_limit_fails_and_the_search_goes_on(
    tmp_path,
):
    script = tmp_path / "oom.py"
    script.write_text(OOM_SEARCH)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()[-4:]  # after the "space is exhausted" line
    assert lines[0] == "0 COMPLETED []" and lines[1] == "1 COMPLETED []"
    assert lines[2] == "2 FAILED ['MemoryError']"
    assert lines[3] == "3 COMPLETED []"
    proof.add("faults_injected")


CHILD = (
    "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**28, 2**28)); "
    "bytearray(int(sys.argv[1]))"
)


def test_a_trial_whose_child_process_runs_out_of_memory_fails_with_its_error(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 2)
        size = 2**30 if x == 1 else 2**20  # 1 GiB does not fit under the child's 256 MiB
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(size)], capture_output=True, text=True
        )
        if child.returncode != 0:
            raise RuntimeError(f"training process failed: {child.stderr.strip().splitlines()[-1]}")
        return float(x)

    tuner = _grid(fn, tmp_path, "child")
    tuner.search(verbose=0)
    trials = _by_x(tuner)
    assert trials[1].status == "FAILED"
    assert trials[1].message.strip().endswith("RuntimeError: training process failed: MemoryError")
    assert trials[0].status == trials[2].status == "COMPLETED"
    proof.add("faults_injected")


def test_too_many_failures_in_a_row_show_the_first_traceback_and_name_the_others(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 1000)
        raise ValueError(f"diverged at x={x}")

    tuner = kt.RandomSearch(
        fn,
        objective="loss",
        max_trials=20,
        seed=3,
        directory=tmp_path,
        project_name="fails",
        max_consecutive_failed_trials=3,
    )
    with pytest.raises(TooManyFailedTrialsError) as caught:
        tuner.search(verbose=0)
    text = str(caught.value)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 3 and {t.status for t in trials} == {"FAILED"}
    first = trials[0]
    assert "3 trials failed in a row (max_consecutive_failed_trials=3)" in text
    assert f"The first of them was trial {first.trial_id}:\n{first.message}" in text
    assert "Traceback (most recent call last)" in text
    assert f"ValueError: diverged at x={first.hyperparameters.values['x']}" in text
    ids = [t.trial_id for t in trials]
    assert f"The failed trials: {ids}" in text
    assert f"tuner.oracle.get_trial({ids[-1]!r}).message" in text
    # ... and that call really gives the traceback of another failure.
    assert "ValueError: diverged" in tuner.oracle.get_trial(ids[-1]).message
    proof.add("faults_injected", 3)


def test_a_success_resets_the_count_of_failures_in_a_row(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 8)
        if x % 3 != 2:  # two failures, one success, repeated
            raise RuntimeError("flaky")
        return float(x)

    tuner = _grid(fn, tmp_path, "reset", max_consecutive_failed_trials=3)
    tuner.search(verbose=0)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    assert statuses == ["FAILED", "FAILED", "COMPLETED"] * 3
    assert math.isclose(tuner.oracle.get_best_trials()[0].score, 2.0)
    proof.add("faults_injected", 6)
