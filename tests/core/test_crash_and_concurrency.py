"""Real processes: a search killed with SIGKILL resumes with nothing lost; several processes
share one project."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import tunelab as kt
from tunelab.store import STORE_FILENAME

SCRIPT = textwrap.dedent("""
    import sys, time
    import tunelab as kt

    def fn(hp):
        x = hp.Float("x", -1.0, 1.0)
        n = hp.Int("n", 0, 1000)
        time.sleep(float(sys.argv[2]))
        return x * x + n / 1000

    tuner = kt.RandomSearch(fn, objective="loss", max_trials=int(sys.argv[1]), seed=11,
                            directory=".", project_name="shared")
    tuner.search(verbose=0)
    print("done", len(tuner.oracle.trials))
""")


def _count(path, status="COMPLETED"):
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials WHERE status=?", (status,)).fetchone()[
                0
            ]
    except sqlite3.OperationalError:
        return 0


def _rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT trial_id, status, hp_values, score FROM trials ORDER BY number"
        ).fetchall()


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "search.py"
    path.write_text(SCRIPT)
    return path


@pytest.mark.slow
def test_sigkill_mid_search_then_same_command_finishes_with_nothing_lost(tmp_path, script):
    store = tmp_path / "shared" / STORE_FILENAME
    command = [sys.executable, str(script), "20", "0.05"]
    for kill_after in (3, 9):
        proc = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.time() + 60
        while _count(store) < kill_after and time.time() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = [r for r in _rows(store) if r[1] == "COMPLETED"]
        assert len(before) >= kill_after
        running = [r for r in _rows(store) if r[1] == "RUNNING"]
        assert len(running) <= 1
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "done 20"
    rows = _rows(store)
    assert len(rows) == 20 and len({r[0] for r in rows}) == 20
    assert {r[1] for r in rows} == {"COMPLETED"}
    # every trial finished before the kills is unchanged
    after = {r[0]: r for r in rows}
    for row in before:
        assert after[row[0]] == row
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the same sequence as an uninterrupted search with the same seed
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=20, seed=11, directory=tmp_path, project_name="shared"
    )
    assert len(oracle.get_best_trials(20)) == 20


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4])
def test_processes_sharing_one_project(tmp_path, script, processes):
    command = [sys.executable, str(script), "24", "0.02"]
    procs = [
        subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.strip() == "done 24"
    rows = _rows(tmp_path / "shared" / STORE_FILENAME)
    assert len(rows) == 24
    assert len({r[0] for r in rows}) == 24
    assert {r[1] for r in rows} == {"COMPLETED"}
    assert len({r[2] for r in rows}) == 24  # no configuration ran twice
