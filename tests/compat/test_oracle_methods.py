"""An oracle driven by hand with KerasTuner's methods: create_trial, update_trial, end_trial,
get_trial, get_best_trials, get_space/update_space, save/reload, several tuner ids, the
argument checks, and kt.synchronized.

Expected values are those KerasTuner 1.4.8 gave for the same code (run with
``import keras_tuner as kt``), unless a comment says the rule is tunelab's.
"""

from __future__ import annotations

import threading

import pytest

import tunelab as kt


def _space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


def _oracle(tmp_path, name, **kwargs):
    kwargs.setdefault("max_trials", 5)
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", hyperparameters=_space(), seed=1, **kwargs
    )
    oracle._set_project_dir(tmp_path, name)  # what KerasTuner's tuners do first
    return oracle


def test_each_tuner_id_runs_its_own_trial(tmp_path):
    oracle = _oracle(tmp_path, "ids")
    a = oracle.create_trial("a")
    again = oracle.create_trial("a")
    b = oracle.create_trial("b")
    # KerasTuner 1.4.8: the same trial for the same tuner id, a new one for another.
    assert again is a
    assert (a.trial_id, b.trial_id) == ("0", "1")
    assert (a.status, b.status) == ("RUNNING", "RUNNING")
    assert sorted(oracle.ongoing_trials) == ["a", "b"]
    assert oracle.ongoing_trials["b"] is b
    assert a.hyperparameters.values != b.hyperparameters.values


def test_update_trial_and_end_trial_with_keras_tuner_arguments(tmp_path):
    oracle = _oracle(tmp_path, "report")
    trial = oracle.create_trial("a")
    assert oracle.update_trial(trial.trial_id, {"loss": 0.5}, step=0) == "RUNNING"
    oracle.update_trial(trial_id=trial.trial_id, metrics={"loss": 0.4}, step=1)
    history = trial.metrics.get_history("loss")
    assert [(o.value, o.step) for o in history] == [([0.5], 0), ([0.4], 1)]
    trial.status = "COMPLETED"
    assert oracle.end_trial(trial) is None
    # KerasTuner 1.4.8: score 0.4 (the best step's), best_step 1, no longer ongoing.
    stored = oracle.get_trial(trial.trial_id)
    assert (stored.status, stored.score, stored.best_step) == ("COMPLETED", 0.4, 1)
    assert list(oracle.ongoing_trials) == []


def test_end_trial_in_its_older_form(tmp_path):
    oracle = _oracle(tmp_path, "old")
    trial = oracle.create_trial("a")
    oracle.update_trial(trial.trial_id, {"loss": 0.9})
    oracle.end_trial(trial.trial_id, "COMPLETED")
    # KerasTuner 1.4.8 (through its synchronized decorator): COMPLETED, score 0.9.
    assert (oracle.get_trial("0").status, oracle.get_trial("0").score) == ("COMPLETED", 0.9)
    other = oracle.create_trial("a")
    oracle.update_trial(other.trial_id, {"loss": 0.7})
    oracle.end_trial(trial_id=other.trial_id, status="COMPLETED")
    assert oracle.get_trial("1").score == 0.7


def test_invalid_is_retried_and_failed_is_not(tmp_path):
    oracle = _oracle(tmp_path, "retry", max_retries_per_trial=1)
    trial = oracle.create_trial("a")
    trial.status, trial.message = "INVALID", "crash"
    oracle.end_trial(trial)
    # KerasTuner 1.4.8: an INVALID trial runs again while retries are left...
    again = oracle.create_trial("a")
    assert (again.trial_id, again.status) == ("0", "RUNNING")
    again.status = "INVALID"
    oracle.end_trial(again)
    # ...and then is FAILED.
    assert oracle.get_trial("0").status == "FAILED"
    assert "crash" in oracle.get_trial("0").message
    failed = oracle.create_trial("a")
    failed.status, failed.message = "FAILED", "no retries for this one"
    oracle.end_trial(failed)
    assert (failed.trial_id, oracle.get_trial("1").status) == ("1", "FAILED")
    assert oracle.create_trial("a").trial_id == "2"  # "1" was not retried


def test_invalid_without_retries_is_failed(tmp_path):
    oracle = _oracle(tmp_path, "invalid")
    trial = oracle.create_trial("a")
    oracle.update_trial(trial.trial_id, {"loss": 0.1})
    trial.status = "INVALID"
    oracle.end_trial(trial)
    assert oracle.get_trial(trial.trial_id).status == "FAILED"  # KerasTuner 1.4.8


def test_a_finished_search_hands_out_a_stopped_trial(tmp_path):
    oracle = _oracle(tmp_path, "stop", max_trials=1)
    trial = oracle.create_trial("a")
    oracle.update_trial(trial.trial_id, {"loss": 1.0})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    stopped = oracle.create_trial("a")
    # KerasTuner 1.4.8: STOPPED, id '1', no values; not recorded.
    assert (stopped.status, stopped.trial_id, stopped.hyperparameters.values) == (
        "STOPPED",
        "1",
        {},
    )
    assert list(oracle.trials) == ["0"]
    assert oracle.remaining_trials() == 0


def test_reading_trials_and_the_space(tmp_path):
    oracle = _oracle(tmp_path, "read")
    for loss in (0.4, 0.9):
        trial = oracle.create_trial("a")
        oracle.update_trial(trial.trial_id, {"loss": loss})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert [(t.trial_id, t.score) for t in oracle.get_best_trials(2)] == [("0", 0.4), ("1", 0.9)]
    assert oracle.get_trial("1").hyperparameters.get("x") == pytest.approx(
        oracle.trials["1"].hyperparameters.get("x")
    )
    with pytest.raises(KeyError):
        oracle.get_trial("7")
    space = oracle.get_space()
    assert isinstance(space, kt.HyperParameters) and [p.name for p in space.space] == ["x"]
    more = kt.HyperParameters()
    more.Int("n", 1, 3)
    more.Float("x", 5.0, 6.0)
    oracle.update_space(more)
    # KerasTuner 1.4.8: the new name is added; a known one keeps its definition.
    assert [(p.name, type(p).__name__) for p in oracle.get_space().space] == [
        ("x", "Float"),
        ("n", "Int"),
    ]
    assert oracle.get_space().space[0].max_value == 1.0


def test_save_and_reload_keep_everything(tmp_path):
    oracle = _oracle(tmp_path, "saved")
    trial = oracle.create_trial("a")
    oracle.update_trial(trial.trial_id, {"loss": 1.0})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    oracle.save()
    fresh = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=5, hyperparameters=_space(), seed=1
    )
    fresh._set_project_dir(tmp_path, "saved")
    fresh.reload()
    # KerasTuner 1.4.8: {'0': ('COMPLETED', 1.0)}
    assert {k: (t.status, t.score) for k, t in fresh.trials.items()} == {"0": ("COMPLETED", 1.0)}
    assert fresh.remaining_trials() == 4


@pytest.mark.parametrize("argument", ["tune_new_entries", "allow_new_entries"])
def test_a_closed_space_needs_hyperparameters(argument):
    # KerasTuner 1.4.8 raises ValueError for both without `hyperparameters`.
    with pytest.raises(ValueError, match=rf"{argument}=False needs the search space.*hyperparam"):
        kt.oracles.RandomSearchOracle(objective="loss", max_trials=2, **{argument: False})
    with pytest.raises(ValueError, match=rf"{argument}=False"):
        kt.RandomSearch(lambda hp: 0.0, objective="loss", max_trials=2, **{argument: False})
    # An empty HyperParameters is accepted, as by KerasTuner 1.4.8.
    kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=2, hyperparameters=kt.HyperParameters(), **{argument: False}
    )


def test_synchronized_methods_of_a_custom_oracle(tmp_path):
    class Logged(kt.oracles.RandomSearchOracle):
        log = []

        @kt.synchronized
        def create_trial(self, tuner_id):
            trial = super().create_trial(tuner_id)  # decorated too: no deadlock
            self.log.append(("create", tuner_id, trial.trial_id))
            return trial

        @kt.synchronized
        def end_trial(self, trial):
            self.log.append(("end", type(trial).__name__, trial.trial_id, trial.status))
            super().end_trial(trial)

    oracle = Logged(objective="loss", max_trials=3, hyperparameters=_space(), seed=1)
    oracle._set_project_dir(tmp_path, "logged")
    trial = oracle.create_trial("t0")
    oracle.update_trial(trial.trial_id, {"loss": 1.0})
    oracle.end_trial(trial.trial_id, "COMPLETED")  # the older form reaches it as a Trial
    # KerasTuner 1.4.8 prints "end_trial got Trial 0 COMPLETED" for the same calls.
    assert oracle.log == [("create", "t0", "0"), ("end", "Trial", "0", "COMPLETED")]
    assert oracle.get_trial("0").status == "COMPLETED"


def test_tuners_on_threads_share_one_oracle(tmp_path):
    oracle = _oracle(tmp_path, "threads", max_trials=8)
    got = {}

    def work(i):
        trial = oracle.create_trial(f"t{i}")
        got[i] = trial.trial_id
        oracle.update_trial(trial.trial_id, {"loss": float(i)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # tunelab's rule: every call is synchronized, so eight threads get eight distinct
    # trials. (KerasTuner 1.4.8 raced here: the same script hung once, and once raised
    # TypeError in get_best_trials while other threads' trials had no score yet.)
    assert sorted(got.values()) == [str(i) for i in range(8)]
    assert len(oracle.trials) == 8
    assert oracle.get_best_trials(1)[0].score == 0.0
