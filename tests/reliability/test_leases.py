"""Leases: a RUNNING trial whose owner stopped renewing its lease runs again, even when the
dead owner's PID is alive again (a restarted container's process is PID 1 every time) or the
owner ran on another host; a live owner's heartbeat keeps its trials.

Real processes. Where ``unshare`` can make PID namespaces (root on Linux), each run is PID 1
of its own namespace, as in a container restart; elsewhere the dead owner is written into
the store as a live foreign PID with a stale lease.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tunelab as kt

from . import processes, proof

LEASE = 1.0


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    done = subprocess.run(
        ["unshare", "-fp", "--mount-proc", "sh", "-c", "echo $$"], capture_output=True, text=True
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


UNSHARE = _can_unshare()
needs_unshare = pytest.mark.skipif(not UNSHARE, reason="unshare -fp needs root on Linux")


def _start_in_namespace(config) -> subprocess.Popen:
    """The search worker as PID 1 of a new PID namespace (with its own /proc)."""
    command = ["unshare", "-fp", "--mount-proc", sys.executable, str(processes.WORKER)]
    return subprocess.Popen(
        [*command, json.dumps(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _python_pid(unshare_pid: int) -> int:
    """The host PID of the worker that `unshare` forked (PID 1 inside)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.01)
    raise AssertionError("unshare never started the worker")


def _wait_for(config, predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = processes.rows(config)
        if predicate(rows):
            return rows
        time.sleep(0.02)
    raise AssertionError(f"timed out; rows: {processes.rows(config)}")


def _leases(config):
    conn = sqlite3.connect(f"file:{processes.store_path(config)}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT token, pid, node, expires_at FROM leases").fetchall()
    finally:
        conn.close()


@pytest.mark.slow
@needs_unshare
@pytest.mark.parametrize("pause", ["at once", "after the lease"])
def test_a_container_restart_runs_the_dead_owners_trial_again(tmp_path, monkeypatch, pause):
    monkeypatch.setenv("TUNELAB_LEASE_SECONDS", str(LEASE * 3))
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    first = _start_in_namespace({**config, "sleep": 30})  # its trial never ends by itself
    _wait_for(config, lambda rows: any(r["status"] == "RUNNING" for r in rows))
    subprocess.run(["kill", "-9", str(_python_pid(first.pid))], check=True)
    first.wait(timeout=30)
    if pause == "after the lease":
        time.sleep(LEASE * 3 + 0.5)
    # else: the new run waits for the dead owner's lease to expire, then runs its trial.
    second = _start_in_namespace(config)  # PID 1 again, same host name and boot
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    rows = processes.rows(config)
    assert [r["status"] for r in rows] == ["COMPLETED"] * 3
    assert out.split()[-2:] == ["done", "3"]
    if pause == "at once":  # it said why it waited
        assert "Waiting for trial 0, run by process 1 on host" in out
    proof.add("kills_survived")


def _foreign_owner(config, pid: int, node: str, expires_in: float, pid_start=None) -> str:
    """Trial 0 of a new project, RUNNING and owned by process `pid` on `node` (its lease
    expiring `expires_in` seconds from now, `pid_start` its start time); returns its id."""
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss",
        max_trials=config["max_trials"],
        directory=config["directory"],
        project_name="project",
        hyperparameters=_space(),
    )
    trial = oracle.ask()
    oracle.store.close()
    conn = sqlite3.connect(processes.store_path(config), timeout=30)
    with conn:
        conn.execute(
            "UPDATE trials SET owner_pid=?, owner_host=?, owner_token='foreign' WHERE trial_id=?",
            (pid, node.split("|")[0], trial.trial_id),
        )
        conn.execute(
            "INSERT INTO leases (token, host, pid, node, expires_at, pid_start) "
            "VALUES ('foreign', ?, ?, ?, ?, ?)",
            (node.split("|")[0], pid, node, time.time() + expires_in, pid_start),
        )
    conn.close()
    return trial.trial_id


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", -1.0, 1.0)
    hp.Int("n", 0, 10**6)
    return hp


@pytest.fixture
def live_pid():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def _this_node() -> str:
    from tunelab import ownership

    return ownership._NODE


def _started(pid: int) -> int:
    """Process `pid`'s start time (clock ticks since boot, proc(5) field 22)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


@pytest.mark.parametrize("where", ["this node", "another host"])
def test_a_live_foreign_pid_with_a_stale_lease_loses_its_trial(tmp_path, live_pid, where):
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    # The PID is alive. On this node its start time is unknown (a lease written by a
    # platform without /proc); on another host it cannot be checked: the lease decides.
    node = _this_node() if where == "this node" else "elsewhere|boot|pid:[1]"
    orphan = _foreign_owner(config, live_pid, node, expires_in=-1.0)
    done = processes.run(config)
    assert done.returncode == 0, done.stderr
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3
    assert rows[orphan]["owner_pid"] != live_pid
    proof.add("faults_injected")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("owner", ["a later process with its PID", "alive"])
def test_in_this_node_the_pids_start_time_decides(tmp_path, live_pid, owner):
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    if owner == "alive":
        # Its heartbeat late (a long call holding the GIL): the owner keeps its trial.
        held = _foreign_owner(config, live_pid, _this_node(), -1.0, _started(live_pid))
    else:
        # The owner died and its PID went to another process: no need to wait for the lease.
        held = _foreign_owner(config, live_pid, _this_node(), 600.0, _started(live_pid) - 1)
    done = processes.run(config)
    assert done.returncode == 0, done.stderr
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    if owner == "alive":
        assert rows[held]["status"] == "RUNNING" and rows[held]["owner_pid"] == live_pid
    else:
        assert rows[held]["status"] == "COMPLETED" and rows[held]["owner_pid"] != live_pid
    assert [r["status"] for t, r in rows.items() if t != held] == ["COMPLETED"] * 2


@pytest.mark.slow
def test_a_run_waits_for_a_trial_held_on_another_host_then_runs_it(tmp_path, live_pid):
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    orphan = _foreign_owner(config, live_pid, "elsewhere|boot|pid:[1]", expires_in=6.0)
    done = processes.run(config)  # nothing renews that lease: its owner is gone
    assert done.returncode == 0, done.stderr
    assert f"Waiting for trial {orphan}, run by process {live_pid} on host 'elsewhere'" in (
        done.stdout
    )
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3
    assert rows[orphan]["owner_pid"] != live_pid


def test_a_trial_held_on_another_host_under_a_live_lease_is_left_to_it(tmp_path, live_pid):
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    held = _foreign_owner(config, live_pid, "elsewhere|boot|pid:[1]", expires_in=1.0)
    worker = processes.start(config)
    conn = sqlite3.connect(processes.store_path(config), timeout=30)
    waited_until = None
    while worker.poll() is None:
        # The owner on the other host is alive: it renews its lease, then ends its trial.
        with conn:
            conn.execute("UPDATE leases SET expires_at=? WHERE token='foreign'", (time.time() + 1,))
        rows = processes.rows(config)
        if waited_until is None and sum(r["status"] == "COMPLETED" for r in rows) == 2:
            waited_until = time.time() + 2.5  # the worker waits for it meanwhile
        if waited_until is not None and time.time() > waited_until:
            with conn:
                conn.execute(
                    "UPDATE trials SET status='COMPLETED', score=0.5, ended_at=? WHERE trial_id=?",
                    (time.time(), held),
                )
        time.sleep(0.1)
    conn.close()
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert held not in [trial_id for _, trial_id, _ in processes.journal(config)]
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert rows[held]["owner_pid"] == live_pid and rows[held]["score"] == 0.5
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3


def test_the_heartbeat_renews_the_lease_of_a_long_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_LEASE_SECONDS", str(LEASE))
    config = processes.settings(tmp_path, 1, steps=2, sleep=1.5)  # one trial of 3 s
    worker = processes.start(config)
    _wait_for(config, lambda rows: any(r["status"] == "RUNNING" for r in rows))
    seen = []
    while worker.poll() is None and len(seen) < 12:
        lease = _leases(config)
        if processes.rows(config)[0]["status"] == "RUNNING":
            # Held all along: never expired while the trial runs.
            seen.append(lease[0][3])
            assert lease[0][3] > time.time() - 0.1
        time.sleep(0.2)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert len(set(seen)) >= 3  # renewed several times (every LEASE / 6 s)
    assert [r["status"] for r in processes.rows(config)] == ["COMPLETED"]


@pytest.mark.slow
@needs_unshare
def test_a_live_owner_in_another_namespace_keeps_its_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_LEASE_SECONDS", str(LEASE))
    config = processes.settings(tmp_path, 2, steps=2, sleep=0.01)
    slow = _start_in_namespace({**config, "sleep": 1.5})  # trial 0 runs 3 s, > 2 leases
    _wait_for(config, lambda rows: any(r["status"] == "RUNNING" for r in rows))
    fast = _start_in_namespace(config)  # PID 1 too: it sees the other only by its lease
    out, err = fast.communicate(timeout=120)
    assert fast.returncode == 0, err
    slow_out, slow_err = slow.communicate(timeout=120)
    assert slow.returncode == 0, slow_err
    runs = [trial_id for _, trial_id, _ in processes.journal(config)]
    assert sorted(runs) == ["0", "1"]  # each trial ran once: the live one was not taken
    assert [r["status"] for r in processes.rows(config)] == ["COMPLETED"] * 2


def test_a_schema_1_store_is_migrated_and_its_orphan_runs_again(tmp_path, live_pid):
    # A store as tunelab wrote it before leases: no leases table, no owner_token column,
    # its trial 0 left RUNNING by a process on another host long ago.
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    orphan = _foreign_owner(config, live_pid, "elsewhere|boot|pid:[1]", expires_in=600.0)
    conn = sqlite3.connect(processes.store_path(config), timeout=30)
    with conn:
        conn.execute("DROP TABLE leases")
        conn.execute("DROP INDEX trials_by_end")
        conn.execute("ALTER TABLE trials DROP COLUMN owner_token")
        conn.execute("UPDATE trials SET started_at=started_at - 3600")
        conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.close()
    done = processes.run(config)
    assert done.returncode == 0, done.stderr
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3
    assert rows[orphan]["owner_pid"] != live_pid
    store = kt.store.Store(processes.store_path(config))
    assert store.get_meta("schema_version") == kt.store.SCHEMA_VERSION == 2
    assert len(store.get_trials()) == 3


FROZEN = """
import json, sys
import tunelab as kt
oracle = kt.oracles.RandomSearchOracle(
    objective="loss", max_trials=3, directory=sys.argv[1], project_name="project"
)
trial = oracle.ask()
trial.hyperparameters.Float("x", -1.0, 1.0)
print(trial.trial_id, flush=True)
sys.stdin.readline()  # frozen here, long past its lease, while another process runs it
done = oracle.tell(trial, {"loss": 99.0})
print(json.dumps([done.status, done.score]), flush=True)
"""


def test_a_late_result_of_a_taken_over_trial_is_dropped_and_the_search_goes_on(tmp_path):
    config = processes.settings(tmp_path, 3, steps=3, sleep=0.01)
    frozen = subprocess.Popen(
        [sys.executable, "-c", FROZEN, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TUNELAB_LEASE_SECONDS": "600"},  # no renewal during the test
    )
    trial_id = frozen.stdout.readline().strip()
    # As seen from another host: that process's lease expired long ago.
    conn = sqlite3.connect(processes.store_path(config), timeout=30)
    with conn:
        conn.execute("UPDATE leases SET expires_at=?, node='elsewhere|b|n'", (time.time() - 1,))
    conn.close()
    done = processes.run(config)  # runs that trial again, and two more
    assert done.returncode == 0, done.stderr
    out, err = frozen.communicate("go\n", timeout=60)
    assert frozen.returncode == 0, err
    assert f"Trial {trial_id} was finished by another process" in out
    status, score = json.loads(out.splitlines()[-1])
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert status == "COMPLETED" and score == rows[trial_id]["score"] != 99.0
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3
