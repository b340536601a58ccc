"""A scikit-learn search with n_jobs=2 killed with SIGKILL in the middle of a batch of
trials: the trials that ended before the kill are kept (each is saved as it ends, not when
its batch ends), joblib's worker processes end with the search instead of living on for
minutes, and the resumed search finishes with exactly max_trials trials."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tunelab.store import STORE_FILENAME

from . import proof

pytest.importorskip("tunelab_sklearn")

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from sklearn import datasets, tree
    from sklearn.base import BaseEstimator, ClassifierMixin
    import tunelab as kt

    class SlowTree(ClassifierMixin, BaseEstimator):
        def __init__(self, depth=1):
            self.depth = depth
        def fit(self, X, y):
            time.sleep(0.2)
            self.tree_ = tree.DecisionTreeClassifier(max_depth=self.depth).fit(X, y)
            self.classes_ = self.tree_.classes_
            return self
        def predict(self, X):
            return self.tree_.predict(X)

    X, y = datasets.load_iris(return_X_y=True)
    tuner = kt.RandomSearch(lambda hp: SlowTree(hp.Int("depth", 1, 40)), objective="score",
                            max_trials=24, seed=0, cv=3, n_jobs=2, directory=sys.argv[1],
                            project_name="p")
    tuner.search(X, y, verbose=0)
    """
)


def _statuses(store: Path) -> list[str]:
    if not store.exists():
        return []
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in connection.execute("SELECT status FROM trials")]
    except sqlite3.OperationalError:
        return []  # the tables are being created
    finally:
        connection.close()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.slow
def test_killed_mid_batch_keeps_ended_trials_and_leaves_no_workers(tmp_path):
    store = tmp_path / "p" / STORE_FILENAME
    search = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)])
    try:
        deadline = time.time() + 240
        statuses: list[str] = []
        # Trials of one batch end one after another: wait until some are saved while
        # others of the batch still run.
        while time.time() < deadline:
            statuses = _statuses(store)
            if statuses.count("COMPLETED") >= 2 and "RUNNING" in statuses:
                break
            time.sleep(0.05)
        workers = _children(search.pid)
    finally:
        os.kill(search.pid, signal.SIGKILL)
        search.wait()
    assert statuses.count("COMPLETED") >= 2 and "RUNNING" in statuses, statuses
    assert workers, "joblib started no worker process"
    deadline = time.time() + 10
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(workers), f"joblib workers outlived the killed search: {_alive(workers)}"
    kept = _statuses(store).count("COMPLETED")
    assert kept >= statuses.count("COMPLETED")
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], check=True, timeout=300)
    final = _statuses(store)
    assert final.count("COMPLETED") == 24 and len(final) == 24
    proof.add("kills_survived")
    proof.add("trials_checked", kept)
