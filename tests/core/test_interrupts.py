"""Hanging trials stopped by trial_timeout; Ctrl-C keeps everything and exits with one line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import tunelab as kt
from tunelab.store import STORE_FILENAME


def test_trial_timeout_fails_the_hanging_trial_and_the_search_goes_on(tmp_path):
    def fn(hp):
        x = hp.Int("x", 0, 5)
        if x in (1, 3):
            time.sleep(30)  # hangs
        return float(x)

    tuner = kt.GridSearch(
        fn,
        objective="loss",
        trial_timeout=0.3,
        directory=tmp_path,
        project_name="hang",
        max_consecutive_failed_trials=None,
    )
    tuner.search(verbose=0)
    trials = {t.hyperparameters.values["x"]: t for t in tuner.oracle.trials.values()}
    assert sorted(trials) == [0, 1, 2, 3, 4, 5]
    for x, trial in trials.items():
        if x in (1, 3):
            assert trial.status == "FAILED"
            assert "ran longer than trial_timeout=0.3 s" in trial.message
            assert trial.retries == 0
        else:
            assert trial.status == "COMPLETED" and trial.score == float(x)


def test_bad_trial_timeout_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="trial_timeout=0; expected a number of seconds > 0"):
        kt.RandomSearch(lambda hp: 1.0, objective="loss", trial_timeout=0, directory=tmp_path)


SCRIPT = textwrap.dedent("""
    import os
    import time
    import tunelab as kt

    calls = []

    def fn(hp):
        calls.append(1)
        # The first run's fourth trial waits for the Ctrl-C, however loaded the machine is.
        slow = len(calls) > 3 and not os.environ.get("TUNELAB_TEST_RESUME")
        time.sleep(120 if slow else 0.2)
        return hp.Float("x", 0.0, 1.0)

    tuner = kt.RandomSearch(fn, objective="loss", max_trials=12, seed=4, directory=".",
                            project_name="sigint")
    tuner.search(verbose=0)
    print("finished", len(tuner.oracle.trials))
""")


@pytest.mark.slow
def test_ctrl_c_keeps_finished_trials_and_the_running_one_runs_again(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    store = tmp_path / "sigint" / STORE_FILENAME
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    done = 0
    while done < 3 and time.time() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(store) as conn:
                done = conn.execute(
                    "SELECT COUNT(*) FROM trials WHERE status='COMPLETED'"
                ).fetchone()[0]
        except sqlite3.OperationalError:
            pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Search interrupted: ")
    with sqlite3.connect(store) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM trials ORDER BY number")]
    assert statuses.count("COMPLETED") == 3
    assert "RUNNING" not in statuses
    again = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "TUNELAB_TEST_RESUME": "1"},
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "finished 12"
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT status FROM trials").fetchall()
    assert rows == [("COMPLETED",)] * 12
