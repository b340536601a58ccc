"""What a newcomer writes to extend tunelab: an oracle is one class with `populate_space`, a
storage one class implementing the documented `Storage` interface. Both run real searches."""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tunelab as kt
from tunelab.storage import Claim, Storage, StoredTrial
from tunelab.trial import MetricsTracker, TrialStatus


# -- a new oracle: one file, one method -----------------------------------------------------
class CoordinateOracle(kt.Oracle):
    """Walks the first Float from its lower bound up in steps of 0.25; the rest at random."""

    learns_from_results = False

    def populate_space(self, trial):
        values = self.random_values(trial)
        first = self.hyperparameters.space[0]
        value = first.min_value + 0.25 * trial.number
        if value > first.max_value:
            return None  # exhausted
        values[first.name] = value
        return values


def _objective(hp):
    return {"loss": (hp.Float("x", 0.0, 1.0) - 0.6) ** 2 + hp.Float("y", 0.0, 1.0)}


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    hp.Float("y", 0.0, 1.0)
    return hp


def test_a_new_oracle_is_one_class_with_populate_space(tmp_path):
    oracle = CoordinateOracle(objective="loss", max_trials=10, seed=3, hyperparameters=_space())
    tuner = kt.BaseTuner(oracle, _objective, directory=tmp_path, project_name="walk")
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    # 0, 0.25, ..., 1.0: five trials, then the oracle says the space is exhausted.
    assert [t.hyperparameters.get("x") for t in trials] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(t.status == TrialStatus.COMPLETED for t in trials)
    expected = [
        (t.hyperparameters.get("x") - 0.6) ** 2 + t.hyperparameters.get("y") for t in trials
    ]
    assert [t.score for t in trials] == expected
    assert tuner.get_best_trials()[0].score == min(expected)
    # It resumes like any oracle: a second search finds the project finished.
    again = kt.BaseTuner(
        CoordinateOracle(objective="loss", max_trials=10, seed=3, hyperparameters=_space()),
        _objective,
        directory=tmp_path,
        project_name="walk",
    )
    again.search(verbose=0)
    assert len(again.oracle.trials) == 5


# -- a new storage: the documented interface, in Python dicts --------------------------------
class DictStorage(Storage):
    """Trials in dicts, one lock as the transaction: enough for threads of one process."""

    path = "<dict>"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._meta: dict[str, str] = {}
        self._trials: dict[str, dict[str, Any]] = {}
        self._queue: list[tuple[dict[str, Any], str]] = []
        self.transactions = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock:
            self.transactions += 1
            saved = copy.deepcopy((self._meta, self._trials, self._queue))
            try:
                yield self
            except BaseException:
                self._meta, self._trials, self._queue = saved
                raise

    def get_meta(self, key, default=None):
        return json.loads(self._meta[key]) if key in self._meta else default

    def set_meta(self, key, value, conn=None):
        with self.transaction():
            self._meta[key] = json.dumps(value)

    def next_number(self) -> int:
        return len(self._trials)

    def create_trial(self, number, trial_id, values, value_hash, claim: Claim) -> None:
        with self.transaction():
            if trial_id in self._trials:
                raise ValueError(f"trial {trial_id} exists")
            self._trials[trial_id] = {
                "number": number,
                "trial_id": trial_id,
                "status": TrialStatus.RUNNING,
                "values": json.loads(json.dumps(values)),
                "value_hash": value_hash,
                "owner_host": claim.host,
                "owner_pid": claim.pid,
                "tuner_id": claim.tuner_id,
                "created_at": claim.started_at,
                "started_at": claim.started_at,
                "metrics_config": {},
            }

    def _stored(self, row: dict[str, Any]) -> StoredTrial:
        row = copy.deepcopy(row)
        return StoredTrial(values_json=json.dumps(row["values"]), **row)

    def claim(self, claim: Claim, abandoned: Callable[[StoredTrial], bool]):
        with self.transaction():
            rows = sorted(self._trials.values(), key=lambda r: r["number"])
            found = next(
                (r for r in rows if r["status"] == "RUNNING" and abandoned(self._stored(r))), None
            )
            found = found or next((r for r in rows if r["status"] == "IDLE"), None)
            if found is None:
                return None
            found.update(
                status="RUNNING",
                owner_host=claim.host,
                owner_pid=claim.pid,
                tuner_id=claim.tuner_id,
                started_at=claim.started_at,
                metrics_config={},
                score=None,
                best_step=None,
            )
            return self._stored(found)

    def has_values(self, value_hash: str) -> bool:
        return any(r["value_hash"] == value_hash for r in self._trials.values())

    def _change(self, trial_id: str, states: tuple[str, ...], **fields: Any) -> bool:
        with self.transaction():
            row = self._trials.get(trial_id)
            if row is None or row["status"] not in states:
                return False
            row.update(fields)
            return True

    def report(self, trial_id: str, metrics: MetricsTracker) -> bool:
        return self._change(trial_id, ("RUNNING",), metrics_config=metrics.get_config())

    def finish(
        self,
        trial_id,
        *,
        status,
        values,
        value_hash,
        metrics,
        score,
        best_step,
        message,
        retries,
        ended_at,
    ) -> bool:
        return self._change(
            trial_id,
            ("RUNNING", "IDLE"),
            status=status,
            values=json.loads(json.dumps(values)),
            value_hash=value_hash,
            metrics_config=metrics.get_config(),
            score=score,
            best_step=best_step,
            message=message,
            retries=retries,
            ended_at=ended_at,
        )

    def release(self, trial_id: str) -> bool:
        return self._change(trial_id, ("RUNNING",), status="IDLE")

    def rescore(self, scores) -> None:
        with self.transaction():
            for trial_id, score, best_step, status in scores:
                self._trials[trial_id].update(score=score, best_step=best_step, status=status)

    def get_trial(self, trial_id: str):
        row = self._trials.get(trial_id)
        return None if row is None else self._stored(row)

    def get_trials(self, states=None):
        rows = sorted(self._trials.values(), key=lambda r: r["number"])
        return [self._stored(r) for r in rows if states is None or r["status"] in states]

    def best_trials(self, n: int, direction: str):
        done = [
            r
            for r in self._trials.values()
            if r["status"] == "COMPLETED" and r.get("score") is not None
        ]
        sign = -1 if direction == "max" else 1
        done.sort(key=lambda r: (sign * r["score"], r["number"]))
        return [self._stored(r) for r in done[:n]]

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._trials.values():
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def enqueue(self, values, value_hash, skip_if_exists=True) -> bool:
        with self.transaction():
            if skip_if_exists and (
                any(h == value_hash for _, h in self._queue) or self.has_values(value_hash)
            ):
                return False
            self._queue.append((dict(values), value_hash))
            return True

    def pop_queue(self):
        with self.transaction():
            return self._queue.pop(0)[0] if self._queue else None

    def queue_length(self) -> int:
        return len(self._queue)


def _search(oracle_class, tmp_path, name, storage=None, **kwargs):
    oracle = oracle_class(objective="loss", max_trials=12, seed=7, storage=storage, **kwargs)
    tuner = kt.BaseTuner(oracle, _objective, directory=tmp_path, project_name=name)
    tuner.search(verbose=0)
    return [(t.hyperparameters.values, t.score, t.status) for t in oracle.trials.values()]


@pytest.mark.parametrize(
    "oracle_class", [kt.oracles.RandomSearchOracle, kt.oracles.BayesianOptimizationOracle]
)
def test_a_new_storage_runs_the_same_search_as_sqlite(tmp_path, oracle_class):
    storage = DictStorage()
    in_dicts = _search(oracle_class, tmp_path, "dicts", storage=storage)
    in_sqlite = _search(oracle_class, tmp_path, "sqlite")
    assert len(in_dicts) == 12 and in_dicts == in_sqlite
    assert storage.transactions > 24  # the study wrote through it (ask and tell per trial)
    assert not (tmp_path / "dicts" / "tunelab.sqlite").exists()
    # The stored search space and objective are there for a resumed search.
    assert [h["config"]["name"] for h in storage.get_meta("space")] == ["x", "y"]
    assert storage.get_meta("objective")["name"] == "loss"


def test_a_new_storage_keeps_the_books_on_failures_retries_and_the_queue(tmp_path):
    storage = DictStorage()
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=4, seed=0, max_retries_per_trial=1, storage=storage
    )
    oracle.hyperparameters.Float("x", 0.0, 1.0)
    assert oracle.enqueue_trial({"x": 0.5}) and not oracle.enqueue_trial({"x": 0.5})
    first = oracle.ask()
    assert first.hyperparameters.get("x") == 0.5 and storage.queue_length() == 0
    oracle.tell(first, error=RuntimeError("flaky"))
    assert storage.get_trial(first.trial_id).status == TrialStatus.IDLE  # a retry is due
    again = oracle.ask()
    assert again.trial_id == first.trial_id and again.retries == 1
    assert oracle.tell(again, 0.25).status == TrialStatus.COMPLETED
    with pytest.raises(ValueError, match="already finished"):
        oracle.tell(again, 0.5)
    assert oracle.get_best_trials()[0].score == 0.25


def test_storage_must_be_a_storage():
    with pytest.raises(ValueError, match=r"storage='sqlite:///x'; expected a PostgreSQL URL"):
        kt.oracles.RandomSearchOracle(objective="loss", storage="sqlite:///x")
    with pytest.raises(TypeError, match=r"storage=5; expected"):
        kt.oracles.RandomSearchOracle(objective="loss", storage=5)
