"""Progress while searching: KerasTuner's per-trial lines, the tqdm bar on a terminal only,
and silence at verbose=0."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import tunelab as kt
from tunelab.display import format_value, hyperparameter_table
from tunelab.objective import Objective
from tunelab.progress import SearchProgress

from .conftest import quadratic


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a console does."""

    def isatty(self) -> bool:
        return True


def _search(tmp_path: Path, verbose: int, max_trials: int = 3) -> kt.RandomSearch:
    tuner = kt.RandomSearch(
        quadratic,
        objective="loss",
        max_trials=max_trials,
        seed=0,
        directory=tmp_path,
        project_name="p",
    )
    tuner.search(verbose=verbose)
    return tuner


def test_per_trial_lines_follow_kerastuner(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    tuner = _search(tmp_path, verbose=1)
    out = capsys.readouterr().out
    trials = list(tuner.oracle.trials.values())
    best = min(t.score for t in trials)
    for number in (1, 2, 3):
        assert f"Search: Running Trial #{number}" in out
        assert re.search(rf"^Trial {number} Complete \[00h 00m 0\ds\]$", out, re.M)
    assert f"loss: {trials[2].score}" in out
    assert out.rstrip().splitlines()[-2] == f"Best loss So Far: {best}"
    assert re.search(r"^Total elapsed time: \d\dh \d\dm \d\ds$", out, re.M)
    # The third trial's table shows its own values beside the best of the first two.
    second_best = min(trials[:2], key=lambda t: t.score)
    table = hyperparameter_table(
        trials[2].hyperparameters.active_values(), second_best.hyperparameters.active_values()
    )
    assert table in out
    assert "Value             |Best Value So Far |Hyperparameter" in out
    assert "it/s" not in out and "%|" not in out  # captured output is not a terminal: no bar


def test_verbose_zero_is_silent(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _search(tmp_path, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bar_on_a_terminal_counts_trials_and_shows_best() -> None:
    stream = Terminal()
    progress = SearchProgress(Objective("loss", "min"), verbose=1, total=2, stream=stream)
    assert progress.bar is not None
    trial = kt.Trial(kt.HyperParameters(), trial_id="0", status="COMPLETED")
    trial.score = 0.25
    progress.on_trial_end(trial, 1)
    assert progress.bar.n == 1
    progress.close()
    text = stream.getvalue()
    assert "Trial 1 Complete" in text
    assert "1/2" in text and "best loss=0.25" in text


def test_bar_resumes_from_finished_trials(tmp_path: Path) -> None:
    tuner = _search(tmp_path, verbose=0, max_trials=2)
    progress = SearchProgress(
        tuner.oracle.objective,
        verbose=1,
        total=4,
        done=2,
        best=tuner.get_best_trials(1)[0],
        stream=Terminal(),
    )
    assert progress.bar.n == 2
    assert progress.display.best == tuner.get_best_trials(1)[0].score
    progress.close()


def test_no_bar_when_not_a_terminal_or_silent() -> None:
    assert SearchProgress(Objective("loss", "min"), 1, 3, stream=io.StringIO()).bar is None
    assert SearchProgress(Objective("loss", "min"), 0, 3, stream=Terminal()).bar is None


def test_failed_trial_line_names_the_error() -> None:
    stream = io.StringIO()
    progress = SearchProgress(Objective("loss", "min"), verbose=1, stream=stream)
    trial = kt.Trial(kt.HyperParameters(), trial_id="0", status="FAILED")
    trial.message = "Traceback ...\nValueError: bad units"
    progress.on_trial_end(trial, 1)
    assert "Status: FAILED (ValueError: bad units)" in stream.getvalue()
    assert "Best loss So Far: None" in stream.getvalue()


def test_table_formats() -> None:
    assert format_value(0.000123456789) == "0.00012346"
    assert format_value(True) == "True"
    assert format_value("x" * 30) == "x" * 15 + "..."
    assert hyperparameter_table({}, None) == "default configuration"
    assert hyperparameter_table({"units": 64}, {"units": 32}).splitlines()[1] == (
        "64                |32                |units"
    )


def test_without_tqdm_lines_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tunelab[progress] were not installed
    stream = Terminal()
    progress = SearchProgress(Objective("loss", "min"), verbose=1, total=2, stream=stream)
    assert progress.bar is None
    trial = kt.Trial(kt.HyperParameters(), trial_id="0", status="COMPLETED")
    trial.score = 1.5
    progress.on_trial_end(trial, 1)
    assert "Best loss So Far: 1.5" in stream.getvalue() and "%|" not in stream.getvalue()
