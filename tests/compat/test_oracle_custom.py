"""Custom oracles written as for KerasTuner: `populate_space(trial_id)` answers
``{"status": ..., "values": ...}``, and the built-in oracles take a trial id too.

Expected values are those KerasTuner 1.4.8 gave for the same code (run with
``import keras_tuner as kt``), unless a comment says the rule is tunelab's.
"""

from __future__ import annotations

import pytest

import tunelab as kt


def _x_space():
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    return hp


class QuadraticTuner(kt.BaseTuner):
    """A KerasTuner-style tuner: run_trial returns the metrics."""

    def run_trial(self, trial, *args, **kwargs):
        return {"loss": (trial.hyperparameters.get("x") - 0.6) ** 2}


class Walk(kt.Oracle):
    """Steps x by 0.25 per trial, from the trial id; stops after four trials."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def populate_space(self, trial_id):
        self.seen.append(trial_id)
        if int(trial_id) >= 4:
            return {"status": "STOPPED", "values": None}
        return {"status": "RUNNING", "values": {"x": 0.25 * int(trial_id)}}


def test_populate_space_gets_the_trial_id_and_its_answer_runs(tmp_path):
    oracle = Walk(objective=kt.Objective("loss", "min"), max_trials=6, hyperparameters=_x_space())
    tuner = QuadraticTuner(oracle=oracle, directory=tmp_path, project_name="walk")
    tuner.search(verbose=0)
    # KerasTuner 1.4.8: called with the strings '0'..'4'; '4' answered STOPPED.
    assert oracle.seen == ["0", "1", "2", "3", "4"]
    assert all(isinstance(s, str) for s in oracle.seen)
    trials = oracle.trials
    assert list(trials) == ["0", "1", "2", "3"]
    assert [t.status for t in trials.values()] == ["COMPLETED"] * 4
    assert [t.hyperparameters.values for t in trials.values()] == [
        {"x": 0.0},
        {"x": 0.25},
        {"x": 0.5},
        {"x": 0.75},
    ]
    assert [t.score for t in trials.values()] == pytest.approx([0.36, 0.1225, 0.01, 0.0225])
    assert [t.trial_id for t in oracle.get_best_trials(2)] == ["2", "3"]
    assert oracle.ongoing_trials == {}
    assert oracle.remaining_trials() == 2  # KerasTuner 1.4.8: 6 - 4


def test_values_left_out_are_drawn_and_recorded(tmp_path):
    class Partial(kt.Oracle):
        def populate_space(self, trial_id):
            if trial_id == "2":
                return {"status": "STOPPED", "values": None}
            return {"status": "RUNNING", "values": {"x": 0.9} if trial_id == "0" else None}

    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0, default=0.3)
    hp.Int("n", 1, 5, default=2)

    class Sum(kt.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            return {"loss": trial.hyperparameters.get("x") + trial.hyperparameters.get("n")}

    oracle = Partial(objective="loss", max_trials=5, hyperparameters=hp, seed=1)
    Sum(oracle=oracle, directory=tmp_path, project_name="partial").search(verbose=0)
    first, second = oracle.trials.values()
    # KerasTuner 1.4.8 fills a missing active value at random (ensure_active_values), not
    # with its default, and records it with the trial.
    assert first.hyperparameters.values["x"] == 0.9
    assert set(first.hyperparameters.values) == {"x", "n"}
    assert set(second.hyperparameters.values) == {"x", "n"}
    assert 1 <= second.hyperparameters.values["n"] <= 5
    for trial in (first, second):
        values = trial.hyperparameters.values
        assert trial.score == pytest.approx(values["x"] + values["n"])


def test_a_repeated_proposal_is_asked_again_then_the_space_is_exhausted(tmp_path, capsys):
    # tunelab's rule (the issue's): KerasTuner 1.4.8 would run the same values three
    # times. A repeat is asked for again, up to 20 collisions in a row (KerasTuner's
    # max_collisions), and then the space counts as exhausted.
    class Same(kt.Oracle):
        calls = 0

        def populate_space(self, trial_id):
            self.calls += 1
            return {"status": "RUNNING", "values": {"x": 0.5}}

    oracle = Same(objective="loss", max_trials=3, hyperparameters=_x_space())
    QuadraticTuner(oracle=oracle, directory=tmp_path, project_name="same").search(verbose=0)
    assert [t.hyperparameters.values for t in oracle.trials.values()] == [{"x": 0.5}]
    assert oracle.calls == 1 + 1 + 20
    assert "exhausted after 1 trials" in capsys.readouterr().out


def test_repeats_among_new_proposals_are_skipped(tmp_path):
    class Cycle(kt.Oracle):
        proposals = [0.0, 0.0, 0.0, 0.5, 0.5, 1.0]

        def populate_space(self, trial_id):
            if not self.proposals:
                return {"status": "STOPPED", "values": None}
            return {"status": "RUNNING", "values": {"x": self.proposals.pop(0)}}

    oracle = Cycle(objective="loss", max_trials=5, hyperparameters=_x_space())
    QuadraticTuner(oracle=oracle, directory=tmp_path, project_name="cycle").search(verbose=0)
    assert [t.hyperparameters.get("x") for t in oracle.trials.values()] == [0.0, 0.5, 1.0]


def test_random_values_helper_stops_after_max_collisions(tmp_path):
    class Draw(kt.Oracle):
        answers = []

        def populate_space(self, trial_id):
            values = self._random_values()
            self.answers.append(values)
            if values is None:
                return {"status": "STOPPED", "values": None}
            return {"status": "RUNNING", "values": values}

    hp = kt.HyperParameters()
    hp.Choice("c", [1, 2])

    class Value(kt.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            return float(trial.hyperparameters.get("c"))

    oracle = Draw(objective=kt.Objective("score", "min"), max_trials=6, hyperparameters=hp, seed=3)
    Value(oracle=oracle, directory=tmp_path, project_name="draw").search(verbose=0)
    # KerasTuner 1.4.8: [{'c': 1}, {'c': 2}, None]: two trials, then the space is exhausted.
    assert len(oracle.answers) == 3 and oracle.answers[2] is None
    assert sorted(a["c"] for a in oracle.answers[:2]) == [1, 2]
    assert len(oracle.trials) == 2


def test_idle_means_wait_for_running_trials(tmp_path):
    class OneAtATime(kt.Oracle):
        def populate_space(self, trial_id):
            if self.ongoing_trials:
                return {"status": "IDLE", "values": None}
            return {"status": "RUNNING", "values": {"x": 0.1 * int(trial_id)}}

    oracle = OneAtATime(objective="loss", max_trials=5, hyperparameters=_x_space())
    oracle._set_project_dir(tmp_path, "idle")
    first = oracle.create_trial("a")
    waiting = oracle.create_trial("b")
    # KerasTuner 1.4.8: RUNNING '0', then IDLE with id '1', not recorded.
    assert (first.status, first.trial_id) == ("RUNNING", "0")
    assert (waiting.status, waiting.trial_id) == ("IDLE", "1")
    assert list(oracle.ongoing_trials) == ["a"] and len(oracle.trials) == 1
    oracle.update_trial(first.trial_id, {"loss": 1.0})
    first.status = "COMPLETED"
    oracle.end_trial(first)
    second = oracle.create_trial("b")
    assert (second.status, second.trial_id) == ("RUNNING", "1")
    assert second.hyperparameters.values == {"x": 0.1}


def test_built_in_oracles_answer_a_trial_id_in_keras_tuner_form(tmp_path):
    for oracle_class in (kt.oracles.RandomSearchOracle, kt.oracles.BayesianOptimizationOracle):
        oracle = oracle_class(objective="loss", max_trials=3, hyperparameters=_x_space(), seed=0)
        answer = oracle.populate_space("0")
        # KerasTuner 1.4.8: {'status': 'RUNNING', 'values': {'x': ...}}
        assert sorted(answer) == ["status", "values"]
        assert answer["status"] == "RUNNING"
        assert list(answer["values"]) == ["x"] and 0.0 <= answer["values"]["x"] <= 1.0

    # Grid and Hyperband take the id too (their answer may be the values dict alone, which
    # the search reads the same way).
    hp = kt.HyperParameters()
    hp.Int("n", 1, 3)
    for oracle in (
        kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp),
        kt.oracles.HyperbandOracle(objective="loss", max_epochs=3, hyperparameters=hp, seed=0),
    ):
        answer = oracle.populate_space("0")
        values = answer["values"] if "status" in answer else answer
        assert values["n"] in (1, 2, 3)

    class Rounded(kt.oracles.RandomSearchOracle):
        def populate_space(self, trial_id):
            answer = super().populate_space(trial_id)
            answer["values"]["x"] = round(answer["values"]["x"], 1)
            return answer

    oracle = Rounded(objective="loss", max_trials=3, hyperparameters=_x_space(), seed=0)
    QuadraticTuner(oracle=oracle, directory=tmp_path, project_name="rounded").search(verbose=0)
    xs = [t.hyperparameters.get("x") for t in oracle.trials.values()]
    assert len(xs) == 3 and xs == [round(x, 1) for x in xs]


def test_a_seeded_built_in_search_is_the_same_through_either_form():
    # The study hands built-in oracles the id, which also reads as the trial: the draws
    # stay those of the trial's own random stream.
    oracle = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, hyperparameters=_x_space(), seed=7
    )
    direct = [oracle.populate_space(str(n))["values"] for n in range(3)]
    asked = []
    other = kt.oracles.RandomSearchOracle(
        objective="loss", max_trials=3, hyperparameters=_x_space(), seed=7
    )
    while (trial := other.ask()) is not None:
        asked.append(trial.hyperparameters.values)
        other.tell(trial, 0.0)
    assert asked == direct


def test_a_malformed_answer_names_what_was_returned():
    class Wrong(kt.Oracle):
        def populate_space(self, trial_id):
            return {"status": "COMPLETED", "values": {"x": 0.1}}

    oracle = Wrong(objective="loss", max_trials=2, hyperparameters=_x_space())
    with pytest.raises(ValueError, match=r"populate_space returned status='COMPLETED'.*'RUNNING'"):
        oracle.create_trial("t")

    class NotADict(kt.Oracle):
        def populate_space(self, trial_id):
            return [0.1]

    oracle = NotADict(objective="loss", max_trials=2, hyperparameters=_x_space())
    with pytest.raises(TypeError, match=r"NotADict.populate_space returned \[0.1\]"):
        oracle.create_trial("t")
