"""overwrite=True while another live process searches the same project is refused, with a
message naming the project, the other process and what to do; the other search keeps all
its trials. Once that process is gone (dead here, or its lease expired elsewhere),
overwrite=True starts clean."""

from __future__ import annotations

import sqlite3
import time

import pytest

import tunelab as kt
from tunelab.store import StoreError

from . import processes, proof


def _overwrite(config):
    return kt.RandomSearch(
        lambda hp: hp.Float("x", 0.0, 1.0),
        objective="loss",
        max_trials=2,
        directory=config["directory"],
        project_name="project",
        overwrite=True,
    )


def test_overwrite_is_refused_while_another_process_searches(tmp_path):
    config = processes.settings(tmp_path, 6, steps=3, sleep=0.1)
    worker = processes.start(config)
    deadline = time.time() + 60
    while not any(r["status"] == "COMPLETED" for r in processes.rows(config)):
        assert time.time() < deadline and worker.poll() is None
        time.sleep(0.02)
    with pytest.raises(StoreError) as refused:
        _overwrite(config)
    text = str(refused.value)
    assert f"the project {str(tmp_path / 'project')!r} is being searched by another" in text
    assert f"(pid {worker.pid} on host " in text and "Stop that process first" in text
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    assert out.split() == ["done", "6"]
    assert [r["status"] for r in processes.rows(config)] == ["COMPLETED"] * 6
    # Its process has exited: the project may be overwritten now.
    tuner = _overwrite(config)
    tuner.search(verbose=0)
    assert len(processes.rows(config)) == 2
    proof.add("faults_injected")


@pytest.mark.parametrize("expires_in", [30.0, -1.0])
def test_a_lease_held_on_another_host_decides(tmp_path, expires_in):
    config = processes.settings(tmp_path, 2)
    _overwrite(config).search(verbose=0)
    conn = sqlite3.connect(processes.store_path(config), timeout=30)
    with conn:
        conn.execute(
            "INSERT INTO leases (token, host, pid, node, expires_at) "
            "VALUES ('far', 'far-host', 4242, 'far-host|b|n', ?)",
            (time.time() + expires_in,),
        )
    conn.close()
    if expires_in > 0:
        with pytest.raises(StoreError, match="pid 4242 on host 'far-host'"):
            _overwrite(config)
        assert len(processes.rows(config)) == 2  # untouched
    else:
        _overwrite(config)  # that host's process stopped renewing: nobody searches
        assert processes.rows(config) == []


def test_a_process_that_lives_on_after_its_search_gives_its_lease_up(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_LEASE_SECONDS", "6")  # heartbeat every second
    config = processes.settings(tmp_path, 2, steps=1, sleep=0.01, linger=60)
    worker = processes.start(config)
    try:
        assert worker.stdout.readline().split() == ["done", "2"]
        time.sleep(3.0)  # two idle beats, far less than the lease
        _overwrite(config).search(verbose=0)  # accepted while that process still runs
        assert worker.poll() is None
    finally:
        worker.kill()
        worker.wait()
