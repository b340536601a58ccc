"""A driver killed with SIGKILL: its workers end, and the same command finishes the search."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from tunelab.store import STORE_FILENAME

SCRIPT = textwrap.dedent("""
    import time
    import tunelab as kt

    def objective(hp):
        x = hp.Float("x", -1.0, 1.0)
        time.sleep(1.5)  # long enough to be interrupted even on a loaded machine
        return x * x

    if __name__ == "__main__":
        tuner = kt.RandomSearch(objective, objective="loss", max_trials=8, seed=2,
                                directory=".", project_name="killed")
        tuner.search(executor="process", max_parallel_trials=2, verbose=0)
        print("done", len(tuner.oracle.trials))
""")


def _rows(path):
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute("SELECT trial_id, status FROM trials ORDER BY number").fetchall()
    except sqlite3.OperationalError:
        return []


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_driver_killed_then_same_command_resumes(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    store = tmp_path / "killed" / STORE_FILENAME
    driver = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            done = [r for r in _rows(store) if r[1] == "COMPLETED"]
            if len(done) >= 2:
                break
            time.sleep(0.1)
        workers = [p for p in _children(driver.pid) if p != driver.pid]
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    before = _rows(store)
    assert 2 <= sum(status == "COMPLETED" for _, status in before) < 8
    assert any(status == "RUNNING" for _, status in before)
    # The orphaned workers notice that the driver is gone and end.
    deadline = time.time() + 15
    while any(_alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert workers and not any(_alive(p) for p in workers)

    again = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert again.returncode == 0, again.stderr
    assert "done 8" in again.stdout
    after = _rows(store)
    assert [status for _, status in after] == ["COMPLETED"] * 8
    assert len({trial_id for trial_id, _ in after}) == 8


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_ctrl_c_releases_running_trials_and_stops_the_workers(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    store = tmp_path / "killed" / STORE_FILENAME
    driver = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            if sum(r[1] == "COMPLETED" for r in _rows(store)) >= 2:
                break
            time.sleep(0.1)
        workers = [p for p in _children(driver.pid) if p != driver.pid]
        driver.send_signal(signal.SIGINT)
        out, err = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Search interrupted: ")
    statuses = [status for _, status in _rows(store)]
    assert "RUNNING" not in statuses and statuses.count("COMPLETED") >= 2
    assert workers and not any(_alive(p) for p in workers)
