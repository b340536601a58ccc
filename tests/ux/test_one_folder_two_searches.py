"""Two scripts run in one folder with the default project name (issue 20): the second is
refused when it is another search, and a partly changed space says which kept trials lie
outside it. Each script runs in its own interpreter, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT_A = """
import tunelab as kt
def f(hp):
    return {"val_loss": hp.Float("x", -1.0, 1.0) ** 2}
tuner = kt.RandomSearch(f, objective="val_loss", max_trials=3, seed=1)
tuner.search(verbose=0)
print("best", sorted(tuner.get_best_hyperparameters()[0].values))
"""


def _run(folder: Path, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _last_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_another_space_in_the_default_folder_is_refused_with_both_ways_out(tmp_path):
    assert _run(tmp_path, SCRIPT_A).stdout.strip() == "best ['x']"
    script_b = """
        import tunelab as kt
        def g(hp):
            return {"val_loss": 1.0 / hp.Int("units", 1, 10)}
        tuner = kt.RandomSearch(g, objective="val_loss", max_trials=5, seed=1%s)
        tuner.search(verbose=0)
        print("best", sorted(tuner.get_best_hyperparameters()[0].values), len(tuner.oracle.trials))
    """
    refused = _run(tmp_path, script_b % "")
    assert refused.returncode == 1
    assert _last_line(refused) == (
        "tunelab.stored_settings.ProjectMismatchError: project 'untitled_project' holds 3 "
        "trial(s) of another search: its space (x) shares no hyperparameter with this "
        "search's (units). Pass overwrite=True to delete them and start this search there, "
        "or project_name='...' (another name) to keep them."
    )
    # The two ways out the message names both work.
    elsewhere = _run(tmp_path, script_b % ", project_name='b'")
    assert elsewhere.stdout.strip() == "best ['units'] 5"
    overwritten = _run(tmp_path, script_b % ", overwrite=True")
    assert overwritten.stdout.strip() == "best ['units'] 5"


def test_another_objective_or_tuner_class_is_refused_before_any_trial(tmp_path):
    _run(tmp_path, SCRIPT_A)
    objective = _run(tmp_path, SCRIPT_A.replace('objective="val_loss"', 'objective="loss"'))
    assert "holds 3 trial(s) of another search: its objective is " in _last_line(objective)
    assert 'Objective(name="val_loss", direction="min"), this search\'s is' in objective.stderr
    other_tuner = _run(tmp_path, SCRIPT_A.replace("RandomSearch", "BayesianOptimization"))
    assert (
        "holds 3 trial(s) of another search: it was made by RandomSearch, this search is "
        "BayesianOptimization. Pass overwrite=True"
    ) in _last_line(other_tuner)
    # Nothing ran: the project still holds A's three trials, and A goes on from them.
    again = _run(tmp_path, SCRIPT_A.replace("max_trials=3", "max_trials=4"))
    assert again.returncode == 0, again.stderr


def test_a_narrowed_space_says_which_kept_trials_lie_outside_it(tmp_path):
    wide = """
        import tunelab as kt
        def f(hp):
            units = hp.Int("units", %s)
            return {"val_loss": abs(units - 9) + hp.Float("x", 0.0, 1.0)}
        tuner = kt.RandomSearch(f, objective="val_loss", max_trials=%d, seed=3)
        tuner.search(verbose=0)
        print("best units", tuner.get_best_hyperparameters()[0].values["units"])
    """
    first = _run(tmp_path, wide % ("1, 10", 6))
    assert first.stdout.strip() == "best units 9"
    narrowed = _run(tmp_path, wide % ("1, 5", 7))
    lines = narrowed.stdout.splitlines()
    assert lines[:2] == [
        "The search space differs from the stored one; going on with the new space:",
        "  ~ units (Int): max_value 10 -> 5",
    ]
    assert lines[2].startswith("  ")
    assert "kept trial(s) have values outside the new space (trial " in lines[2]
    assert lines[2].endswith(
        "they stay in the results and may be reported as best (overwrite=True starts afresh)."
    )
    assert lines[-1] == "best units 9"
