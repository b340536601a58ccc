"""`max_consecutive_failed_trials` counts the failures in a row as stored, in the order the
trials ended, whichever process ran them: a resumed project continues the count, several
processes stop together, and NaN results (INVALID) count as failures (KerasTuner retries
them, then fails them). Real processes share each project."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import tunelab as kt
from tunelab.store import STORE_FILENAME

from . import proof

WORKER = Path(__file__).with_name("failing_worker.py")


def _start(tmp: Path, **settings) -> subprocess.Popen:
    config = {"directory": str(tmp), **settings}
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(tmp: Path, **settings) -> str:
    worker = _start(tmp, **settings)
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    return out.strip()


def _statuses(tmp: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{tmp / 'project' / STORE_FILENAME}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT status FROM trials ORDER BY number")]
    finally:
        conn.close()


def test_a_resumed_failing_project_continues_the_count(tmp_path):
    # Two failures, then the run ends (max_trials reached) ...
    assert _run(tmp_path, mode="fail", max_trials=2, limit=3) == "done"
    # ... so the resumed search stops at its first failure: three in a row.
    assert _run(tmp_path, mode="fail", max_trials=20, limit=3) == "stopped"
    assert _statuses(tmp_path) == ["FAILED"] * 3
    # A project stopped by the limit gets one trial when it is resumed (the fix may work).
    assert _run(tmp_path, mode="fail", max_trials=20, limit=3) == "stopped"
    assert _statuses(tmp_path) == ["FAILED"] * 4
    proof.add("faults_injected", 4)


@pytest.mark.slow
def test_four_processes_stop_together_at_the_limit(tmp_path):
    workers = [_start(tmp_path, mode="fail", max_trials=40, limit=3, sleep=0.3) for _ in range(4)]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip() == "stopped"
    failed = _statuses(tmp_path).count("FAILED")
    # Three in a row stop everyone; trials already running when the third failed end too.
    assert 3 <= failed <= 3 + 3, failed
    proof.add("faults_injected", failed)


def test_nan_results_count_as_failures(tmp_path):
    assert _run(tmp_path, mode="nan", max_trials=20, limit=3) == "stopped"
    assert _statuses(tmp_path) == ["INVALID"] * 3
    proof.add("faults_injected", 3)


def test_trials_declared_invalid_do_not_count(tmp_path):
    def infeasible(hp):
        hp.Float("x", 0.0, 1.0)
        raise kt.errors.InvalidTrialError("this configuration cannot be built")

    tuner = kt.RandomSearch(
        infeasible,
        objective="loss",
        max_trials=6,
        max_consecutive_failed_trials=2,
        directory=tmp_path,
        project_name="project",
    )
    tuner.search(verbose=0)
    assert _statuses(tmp_path) == ["INVALID"] * 6


def test_no_limit_runs_every_trial(tmp_path):
    assert _run(tmp_path, mode="fail", max_trials=5, limit=None) == "done"
    assert _statuses(tmp_path) == ["FAILED"] * 5
