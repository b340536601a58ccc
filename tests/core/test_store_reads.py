"""The SQLite store's shortcuts on the driver's path give the answers of a plain read."""

from __future__ import annotations

import os
import socket

from tunelab.storage import Claim, Store


def _claim(pid: int | None = None) -> Claim:
    host = socket.gethostname() if pid is not None else None
    return Claim(host, pid, "tuner0", 1.0)


def test_a_configuration_found_absent_is_seen_once_written_in_the_same_transaction(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with store.transaction():
        assert store.has_values("h1") is False
        assert store.has_values("h1") is False  # asked twice, as oracle and study do
        store.create_trial(0, "0", {"x": 1}, "h1", _claim(os.getpid()))
        assert store.has_values("h1") is True
    with store.transaction():
        assert store.has_values("h2") is False
    # Written by another connection (another process) between two transactions.
    other = Store(tmp_path / "s.sqlite")
    other.create_trial(1, "1", {"x": 2}, "h2", _claim(os.getpid()))
    with store.transaction():
        assert store.has_values("h2") is True
    assert store.has_values("h3") is False
    other.create_trial(2, "2", {"x": 3}, "h3", _claim(os.getpid()))
    assert store.has_values("h3") is True  # outside a transaction nothing is remembered


def test_claim_hands_out_a_dead_owners_trial_never_the_claimers_own(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    mine, gone = _claim(os.getpid()), _claim(2**22 + 7)
    store.create_trial(0, "0", {"x": 0}, "h0", mine)
    store.create_trial(1, "1", {"x": 1}, "h1", gone)
    store.create_trial(2, "2", {"x": 2}, "h2", _claim(None))  # detached: nobody owns it
    asked = []

    def abandoned(trial):
        asked.append(trial.trial_id)
        return trial.owner_pid == gone.pid

    found = store.claim(mine, abandoned)
    assert found is not None and found.trial_id == "1"
    assert found.owner_pid == os.getpid() and found.status == "RUNNING"
    assert "0" not in asked  # this process's own trial is alive by definition
    # A detached claim has no own trials: every running one is offered.
    asked.clear()
    assert store.claim(_claim(None), lambda trial: asked.append(trial.trial_id) or False) is None
    assert sorted(asked) == ["0", "1", "2"]
