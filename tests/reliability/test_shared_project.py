"""Two and four processes searching one project: exactly `max_trials` trials, unique ids, each
trial run and reported exactly once by the process that owns it, no lost update; and one of
four processes killed mid-search: the others finish its trial."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from . import processes, proof


def _check_shared(config, journal, max_trials):
    rows = processes.rows(config)
    ids = [r["trial_id"] for r in rows]
    assert len(rows) == max_trials and len(set(ids)) == max_trials
    assert {r["status"] for r in rows} == {"COMPLETED"}
    assert len({r["value_hash"] for r in rows}) == max_trials  # no configuration twice
    assert [r["number"] for r in rows] == list(range(max_trials))
    reported = {t: (pid, v) for pid, t, v in journal}
    for row in rows:
        pid, value = reported[row["trial_id"]]
        assert row["owner_pid"] == pid  # the process that ran it stored it
        assert row["score"] == pytest.approx(value)
        # Every intermediate report and the final result is in the store: no lost update.
        history = json.loads(row["metrics"])["metrics"]["loss"]["observations"]
        assert [o["step"] for o in history] == [0, 1, 2, 3]
    assert processes.integrity(config) == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
def test_processes_share_a_project_and_report_each_trial_once(tmp_path, count):
    config = processes.settings(tmp_path, 24, steps=3, sleep=0.005)
    workers = [processes.start(config) for _ in range(count)]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert "locked" not in err and out.split() == ["done", "24"]
    journal = processes.journal(config)
    runs = Counter(t for _, t, _ in journal)
    assert len(runs) == 24 and set(runs.values()) == {1}  # each trial ran exactly once
    assert len({pid for pid, _, _ in journal}) >= 2  # the work really was shared
    _check_shared(config, journal, 24)


@pytest.mark.slow
def test_one_of_four_processes_killed_the_others_finish_its_trial(tmp_path):
    config = processes.settings(tmp_path, 24, steps=3, sleep=0.02)
    # The victim's trials never end on their own: it surely dies holding a running trial.
    victim = processes.start({**config, "sleep": 30})
    deadline = time.time() + 60
    running: list = []
    while not running and time.time() < deadline:
        rows = processes.rows(config)
        running = [r for r in rows if r["status"] == "RUNNING" and r["owner_pid"] == victim.pid]
        time.sleep(0.01)
    assert running, "the victim never started a trial"
    workers = [victim] + [processes.start(config) for _ in range(3)]
    while time.time() < deadline:  # kill it while the others are busy
        if sum(r["status"] == "COMPLETED" for r in processes.rows(config)) >= 3:
            break
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    orphan = running[0]["trial_id"]
    for worker in workers[1:]:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.split() == ["done", "24"]
    rows = {r["trial_id"]: r for r in processes.rows(config)}
    assert rows[orphan]["status"] == "COMPLETED" and rows[orphan]["owner_pid"] != victim.pid
    journal = [entry for entry in processes.journal(config) if entry[0] != victim.pid]
    survivors = Counter(t for _, t, _ in journal)
    killed_ran = {t for pid, t, _ in processes.journal(config) if pid == victim.pid}
    # Trials the victim finished are not run again; everything else ran once in a survivor.
    assert set(survivors.values()) == {1}
    assert set(survivors) | killed_ran == set(rows)
    lost = 24 - len([r for r in rows.values() if r["status"] == "COMPLETED"])
    proof.add("trials_lost", lost)
    assert lost == 0
    proof.add("kills_survived")
    proof.add("trials_checked", len(rows))
    _check_shared(config, _latest(config), 24)


def _latest(config):
    """The journal with, per trial, the run whose result was stored (the last one)."""
    last = {}
    for pid, trial_id, value in processes.journal(config):
        last[trial_id] = (pid, trial_id, value)
    return list(last.values())
