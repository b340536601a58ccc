"""The `tunelab` command reads any project without importing a framework."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunelab as kt
from tunelab.cli import main

FRAMEWORKS = ("sklearn", "keras", "tensorflow", "torch", "jax")


@pytest.fixture(scope="module")
def sklearn_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real scikit-learn search, run in its own process."""
    folder = tmp_path_factory.mktemp("cli")
    script = textwrap.dedent("""
        from sklearn.datasets import load_iris
        from sklearn.tree import DecisionTreeClassifier
        import tunelab as kt

        # A plain tuner: the backend is chosen from the estimator the hypermodel returns.
        tuner = kt.RandomSearch(
            lambda hp: DecisionTreeClassifier(
                max_depth=hp.Int("max_depth", 1, 6), random_state=0),
            objective=kt.Objective("score", "max"), max_trials=4, seed=0, cv=3,
            directory=".", project_name="trees")
        tuner.search(*load_iris(return_X_y=True), verbose=0)
    """)
    subprocess.run([sys.executable, "-c", script], cwd=folder, check=True, timeout=240)
    return folder / "trees"


def _cli(*args: str) -> subprocess.CompletedProcess:
    """Run the command in a fresh interpreter and report which frameworks it imported."""
    code = (
        "import sys\nfrom tunelab.cli import main\nstatus = main(sys.argv[1:])\n"
        f"loaded = sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\nsys.exit(status)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_reads_a_sklearn_project_without_importing_sklearn(
    sklearn_project: Path, tmp_path: Path
) -> None:
    out = {}
    for args in (
        ("summary", str(sklearn_project)),
        ("best", str(sklearn_project), "--json"),
        ("export", str(sklearn_project), "--format", "json"),
        ("plot", str(sklearn_project), "--kind", "history", "-o", str(tmp_path / "h.png")),
    ):
        done = _cli(*args)
        assert done.returncode == 0, done.stderr
        assert "LOADED []" in done.stderr, (args, done.stderr)
        out[args[0]] = done.stdout
    summary = out["summary"]
    assert "Backend: sklearn" in summary and "Trials: 4 (4 COMPLETED)" in summary
    assert "max_depth (Int)" in summary
    best = json.loads(out["best"])
    trials = json.loads(out["export"])
    assert best["score"] == max(t["score"] for t in trials["trials"])
    assert best["objective"] == {"name": "score", "direction": "max"}
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")


def test_export_csv_to_stdout_and_to_a_file(
    project: kt.RandomSearch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["export", str(project.project_dir)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 12 and rows[0]["trial_id"] == "00"
    target = tmp_path / "t.csv"
    assert main(["export", str(project.project_dir), "-o", str(target)]) == 0
    assert "Wrote 12 trials to" in capsys.readouterr().err
    assert target.read_text().splitlines()[0].startswith("trial_id,number,status,score")


def test_best_prints_the_best_trial(project: kt.RandomSearch, capsys) -> None:
    assert main(["best", str(project.project_dir)]) == 0
    best = project.get_best_trials(1)[0]
    out = capsys.readouterr().out
    assert out.startswith(f"Trial {best.trial_id} summary") and f"Score: {best.score}" in out


def test_missing_or_foreign_paths_fail_with_one_line(tmp_path: Path, capsys) -> None:
    assert main(["summary", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"tunelab summary: error: path={str(tmp_path / 'nope')!r} does not exist; expected a "
        "project folder (directory/project_name, holding tunelab.sqlite) or the "
        "tunelab.sqlite file"
    )
    assert main(["best", str(tmp_path)]) == 1
    assert "is not a tunelab project" in capsys.readouterr().err
    (tmp_path / "tunelab.sqlite").write_text("not a database")
    assert main(["best", str(tmp_path)]) == 1
    assert "not a tunelab store" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["plot", str(tmp_path)])  # -o is required
    assert usage.value.code == 2


def test_console_script_is_installed(project: kt.RandomSearch) -> None:
    script = Path(sys.executable).parent / "tunelab"
    done = subprocess.run(
        [str(script), "best", str(project.project_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trial_id"] == project.get_best_trials(1)[0].trial_id
