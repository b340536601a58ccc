"""`tunelab --version`, `tunelab list DIR` and `tunelab summary` of a kt.tuners.Sklearn
project, run as a user runs them in a shell (issue 20)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunelab


def _tunelab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tunelab.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a kt.tuners.Sklearn project, a function search one level deeper, and
    a file named like a store that is not one."""
    folder = tmp_path_factory.mktemp("list")
    script = textwrap.dedent("""
        from sklearn.datasets import load_iris
        from sklearn.tree import DecisionTreeClassifier
        import tunelab as kt

        X, y = load_iris(return_X_y=True)
        oracle = kt.oracles.RandomSearchOracle(
            objective=kt.Objective("score", "max"), max_trials=2, seed=0)
        tuner = kt.tuners.Sklearn(
            oracle=oracle,
            hypermodel=lambda hp: DecisionTreeClassifier(max_depth=hp.Int("depth", 1, 4)),
            directory="runs", project_name="trees")
        tuner.search(X, y)
        tuner = kt.RandomSearch(lambda hp: {"loss": hp.Float("x", 0.0, 1.0)},
                                objective="loss", max_trials=3, seed=0,
                                directory="runs/week2", project_name="fn")
        tuner.search(verbose=0)
    """)
    subprocess.run([sys.executable, "-c", script], cwd=folder, check=True, timeout=240)
    return folder / "runs"


def test_version(tmp_path):
    done = _tunelab("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"tunelab {tunelab.__version__}\n")


def test_list_shows_every_project_under_a_folder(runs):
    done = _tunelab("list", "runs", cwd=runs.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["PROJECT", "TRIALS", "BEST", "LAST CHANGE"]
    rows = [re.split(r"\s{2,}", line) for line in lines[1:]]
    assert [row[:2] for row in rows] == [["trees", "2 COMPLETED"], ["week2/fn", "3 COMPLETED"]]
    assert re.fullmatch(r"score=0\.\d+ \(max\)", rows[0][2])
    assert re.fullmatch(r"loss=0\.\d+ \(min\)", rows[1][2])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[3]) for row in rows)
    # A column starts where its header does.
    assert lines[1].index(rows[0][2]) == lines[0].index("BEST")


def test_list_names_a_project_it_cannot_read_and_goes_on(runs, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "tunelab.sqlite").write_text("not a database")
    done = _tunelab("list", ".", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("broken: cannot be read: ")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _tunelab("list", "empty", cwd=tmp_path).stdout == (
        "No tunelab project under empty (no folder there holds a tunelab.sqlite).\n"
    )
    missing = _tunelab("list", "nowhere", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (
        1,
        "tunelab list: error: 'nowhere' is not a folder\n",
    )


def test_summary_names_the_sklearn_backend_of_a_sklearn_tuner_project(runs):
    done = _tunelab("summary", "runs/trees", cwd=runs.parent)
    assert done.stdout.splitlines()[:3] == [
        "Project: runs/trees",
        "Backend: sklearn",
        "Trials: 2 (2 COMPLETED)",
    ]
