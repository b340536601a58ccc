"""Pareto searches in worker processes and after the driver was killed: the population and
the front are read from the store, so neither needs anything kept in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from mo_problems import zdt1

import tunelab as kt
from tunelab.pareto import pareto_front_mask

TWO = [kt.Objective("f1", "min"), kt.Objective("f2", "min")]


def _points(trials):
    return np.array(
        [[t.metrics.get_last_value("f1"), t.metrics.get_last_value("f2")] for t in trials]
    )


@pytest.mark.slow
def test_nsga2_in_a_process_pool(tmp_path):
    oracle = kt.oracles.NSGA2Oracle(objective=TWO, max_trials=16, population_size=6, seed=5)
    tuner = kt.BaseTuner(oracle, zdt1, directory=tmp_path, project_name="pool")
    tuner.search(executor="process", max_parallel_trials=2, verbose=0)
    trials = list(oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 16
    assert len({t.metrics.get_last_value("pid") for t in trials}) == 2
    front = {t.trial_id for t in tuner.get_pareto_front()}
    expected = {
        t.trial_id for t, on in zip(trials, pareto_front_mask(_points(trials)), strict=True) if on
    }
    assert front == expected
    # No two trials repeat a configuration, though two workers asked at the same time.
    assert len({tuple(sorted(t.hyperparameters.values.items())) for t in trials}) == 16


SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {here!r})
    import tunelab as kt
    from mo_problems import zdt1

    def hypermodel(hp):
        result = zdt1(hp)
        if os.environ.get("KILL_AT") == str(len(tuner.oracle.trials) - 1):
            os._exit(9)  # killed in the middle of a trial: nothing is told
        return result

    oracle = kt.oracles.{cls}(objective=[kt.Objective("f1", "min"), kt.Objective("f2", "min")],
                              max_trials=14, seed=3, **{extra})
    tuner = kt.BaseTuner(oracle, hypermodel, directory={directory!r}, project_name="p")
    tuner.search(verbose=0)
    print(len(oracle.trials))
""")


@pytest.mark.slow
@pytest.mark.parametrize(
    "cls, extra",
    [("NSGA2Oracle", {"population_size": 5}), ("ParEGOOracle", {"num_initial_points": 4})],
)
def test_a_killed_search_finishes_when_run_again(tmp_path, cls, extra):
    here = str(Path(__file__).parent)

    def run(directory, kill_at=None):
        script = SCRIPT.format(here=here, cls=cls, extra=extra, directory=str(directory))
        env = {"KILL_AT": str(kill_at)} if kill_at is not None else {}
        return subprocess.run([sys.executable, "-c", script], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=240)  # fmt: skip

    killed = run(tmp_path / "killed", kill_at=8)
    assert killed.returncode == 9
    finished = run(tmp_path / "killed")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split()[-1] == "14"
    oracle = kt.oracles.RandomSearchOracle(objective=TWO, pareto=True,
                                           directory=tmp_path / "killed", project_name="p")  # fmt: skip
    trials = list(oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 14
    if cls == "NSGA2Oracle":  # the same children as a search never killed
        whole = run(tmp_path / "whole")
        assert whole.returncode == 0
        again = kt.oracles.RandomSearchOracle(objective=TWO, directory=tmp_path / "whole",
                                              project_name="p").trials.values()  # fmt: skip
        assert [t.hyperparameters.values for t in trials] == [
            t.hyperparameters.values for t in again
        ]


@pytest.mark.slow
def test_parego_on_a_dask_cluster(tmp_path):
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        silence_logs=True,
    )  # fmt: skip
    try:
        with distributed.Client(cluster) as client:
            oracle = kt.oracles.ParEGOOracle(
                objective=TWO, max_trials=10, num_initial_points=4, seed=1
            )
            tuner = kt.BaseTuner(oracle, zdt1, directory=tmp_path, project_name="dask")
            tuner.search(executor=client, verbose=0)
    finally:
        cluster.close()
    trials = list(oracle.trials.values())
    assert [t.status for t in trials] == ["COMPLETED"] * 10
    # Trials ran in the workers, not in this process.
    assert os.getpid() not in {t.metrics.get_last_value("pid") for t in trials}
    front = {t.trial_id for t in tuner.get_pareto_front()}
    mask = pareto_front_mask(_points(trials))
    assert front == {t.trial_id for t, on in zip(trials, mask, strict=True) if on}
