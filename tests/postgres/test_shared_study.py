"""One study on PostgreSQL shared by many processes and threads: SIGKILL storms, processes
with their own working directories (hosts, simulated), concurrent ask/tell, and the
server restarting or going away in the middle of a search."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import tunelab as kt
from tunelab.store import StoreError

WORKER = Path(__file__).parents[1] / "reliability" / "search_worker.py"


def _start(settings: dict[str, Any], cwd: Path | None = None, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
    )


def _rows(url: str, project: str = "project") -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        exists = conn.execute("SELECT to_regclass('tunelab.trials')").fetchone()
        if exists is None or next(iter(exists.values())) is None:
            return []  # no process has created the tables yet
        return conn.execute(
            "SELECT * FROM tunelab.trials WHERE project=%s ORDER BY number", (project,)
        ).fetchall()


def _journal(path: Path) -> dict[str, set[float]]:
    """Each trial id's values journalled by runs that reached their end."""
    out: dict[str, set[float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            _, trial_id, value = line.split()
            out.setdefault(trial_id, set()).add(float(value))
    return out


def _settings(tmp_path: Path, url: str, max_trials: int, **extra: Any) -> dict[str, Any]:
    return {
        "directory": str(tmp_path),
        "journal": str(tmp_path / "journal.txt"),
        "max_trials": max_trials,
        "storage": url,
        **extra,
    }


def _check_complete(url: str, tmp_path: Path, max_trials: int) -> list[dict[str, Any]]:
    rows = _rows(url)
    assert [r["number"] for r in rows] == list(range(max_trials))  # max_trials exact
    assert len({r["trial_id"] for r in rows}) == max_trials  # unique ids
    assert Counter(r["status"] for r in rows) == {"COMPLETED": max_trials}
    journal = _journal(tmp_path / "journal.txt")
    for row in rows:  # each stored score is what a run of that trial really returned
        assert row["score"] in journal[row["trial_id"]]
    return rows


@pytest.mark.slow
def test_sigkill_storm_of_four_processes_loses_no_trial(pg_url, tmp_path):
    rng = random.Random(os.environ.get("RELIABILITY_SEED", "21"))
    max_trials = 24
    settings = _settings(tmp_path, pg_url, max_trials, steps=3, sleep=0.02)
    killed = 0
    for round_ in range(3):
        workers = [_start(settings) for _ in range(4)]
        # Kill while they search: once this round has made a few trials, at a random moment.
        deadline = time.monotonic() + 60
        while len(_rows(pg_url)) < 6 * round_ + 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.3))
        for worker in rng.sample(workers, 3):
            worker.kill()
            killed += 1
        for worker in workers:
            worker.communicate(timeout=120)
    # Whatever was left RUNNING by a killed owner runs again in one last process.
    last = _start(settings)
    out, err = last.communicate(timeout=120)
    assert last.returncode == 0, err
    assert killed == 9
    _check_complete(pg_url, tmp_path, max_trials)
    pids = {line.split()[0] for line in (tmp_path / "journal.txt").read_text().splitlines()}
    assert len(pids) > 2  # the study really was shared


@pytest.mark.slow
def test_processes_in_their_own_folders_share_one_study(pg_url, tmp_path):
    """Three "hosts": each its own working directory (directory='.'), one study."""
    max_trials = 18
    folders = [tmp_path / f"host{i}" for i in range(3)]
    workers = []
    for folder in folders:
        folder.mkdir()
        settings = _settings(tmp_path, pg_url, max_trials, steps=2, sleep=0.03)
        settings["directory"] = "."
        workers.append(_start(settings, cwd=folder))
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    rows = _check_complete(pg_url, tmp_path, max_trials)
    assert len({r["owner_pid"] for r in rows}) == 3  # each process ran trials
    for folder in folders:  # trials in the database, none in a local SQLite file
        assert not list(folder.rglob("tunelab.sqlite"))


def test_concurrent_ask_and_tell_from_threads(pg_url):
    """Eight threads, each with its own oracle on one study: every trial number once, and
    exactly max_trials trials."""
    max_trials, errors = 40, []
    space = kt.HyperParameters()
    space.Float("x", 0.0, 1.0)

    def work() -> None:
        try:
            oracle = kt.oracles.RandomSearchOracle(
                objective="loss",
                max_trials=max_trials,
                hyperparameters=space,
                project_name="asktell",
                storage=pg_url,
            )
            while (trial := oracle.ask()) is not None:
                oracle.tell(trial, trial.hyperparameters.get("x") ** 2)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    rows = _rows(pg_url, "asktell")
    assert [r["number"] for r in rows] == list(range(max_trials))
    assert {r["status"] for r in rows} == {"COMPLETED"}
    assert all(abs(r["score"] - json.loads(r["hp_values"])["x"] ** 2) < 1e-12 for r in rows)


@pytest.mark.slow
def test_a_server_restart_in_the_middle_of_a_search(pg_server, pg_url, tmp_path):
    max_trials = 30
    settings = _settings(tmp_path, pg_url, max_trials, steps=3, sleep=0.03)
    worker = _start(settings)
    deadline = time.monotonic() + 60
    while len(_rows(pg_url)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    before = {r["trial_id"]: r["score"] for r in _rows(pg_url) if r["status"] == "COMPLETED"}
    pg_server.restart()
    out, err = worker.communicate(timeout=120)
    if worker.returncode != 0:
        # The restart broke a transaction in its middle: the search stopped, saying so.
        assert "lost the connection to the PostgreSQL server" in err, err
        again = _start(settings)
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
    rows = _check_complete(pg_url, tmp_path, max_trials)
    assert before and {r["trial_id"]: r["score"] for r in rows if r["trial_id"] in before} == before


def test_a_server_gone_for_good_stops_with_a_clear_error(pg_server, pg_url, monkeypatch):
    monkeypatch.setenv("TUNELAB_PG_RETRY_SECONDS", "1")
    space = kt.HyperParameters()
    space.Float("x", 0.0, 1.0)
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=5, hyperparameters=space, project_name="gone", storage=pg_url
    )
    trial = oracle.ask()
    oracle.tell(trial, 1.0)
    pg_server.stop()
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"could not be reached for 1 s .* kept there"):
            oracle.ask()
        assert time.monotonic() - started < 15
    finally:
        pg_server.start()
    # Back: the same oracle goes on where it stopped.
    trial = oracle.ask()
    oracle.tell(trial, 0.5)
    assert [t.score for t in oracle.get_best_trials(2)] == [0.5, 1.0]
