"""Ctrl-C in a notebook: the search is interrupted, and running it again in the same process
(the same tuner) reruns the interrupted trial and finishes, wherever the interrupt landed
between asking for a trial and storing its result."""

from __future__ import annotations

import pytest

import tunelab as kt

from . import proof


class Interrupting(kt.RandomSearch):
    """Raises KeyboardInterrupt once, at trial `at`, at the point `where`."""

    def __init__(self, where, at, **kwargs):
        self.where, self.at, self.fired = where, at, False
        super().__init__(**kwargs)

    def _fire(self, trial, where):
        if self.where == where and trial.number == self.at and not self.fired:
            self.fired = True
            raise KeyboardInterrupt

    def on_trial_begin(self, trial):
        self._fire(trial, "trial_begin")

    def run_trial(self, trial, *args, **kwargs):
        self._fire(trial, "fit")
        return trial.hyperparameters.Float("x", 0.0, 1.0)


@pytest.mark.parametrize("where", ["trial_begin", "fit", "tell"])
def test_searching_again_in_the_same_process_reruns_the_interrupted_trial(
    tmp_path, monkeypatch, capsys, where
):
    tuner = Interrupting(
        where, 2, objective="loss", max_trials=5, seed=1, directory=tmp_path, project_name="nb"
    )
    if where == "tell":  # Ctrl-C after the trial ran, before its result was stored
        tell = tuner.oracle.tell

        def interrupted_tell(trial, *args, **kwargs):
            if trial.number == 2 and not tuner.fired:
                tuner.fired = True
                raise KeyboardInterrupt
            return tell(trial, *args, **kwargs)

        monkeypatch.setattr(tuner.oracle, "tell", interrupted_tell)
    with pytest.raises(SystemExit) as stopped:
        tuner.search(verbose=0)
    assert stopped.value.code == 130
    assert "Search interrupted: 2 finished trials" in capsys.readouterr().err
    tuner.search(verbose=0)  # the notebook user runs the cell again
    trials = tuner.oracle.trials
    assert [t.status for t in trials.values()] == ["COMPLETED"] * 5
    assert len({t.hyperparameters.values["x"] for t in trials.values()}) == 5
    proof.add("interrupts_survived")
