"""The "tune any code" examples and docs/tune-any-code.md run as written and reach real results.

Each example runs as a subprocess with this interpreter, writes its projects under a temporary
folder, and is checked on what it prints and on what its SQLite store holds.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tunelab as kt

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOC = ROOT / "docs" / "tune-any-code.md"
TORCH_SKIP_LINE = "Skipping tune_torch_loop.py: PyTorch is not installed (pip install torch)."


def run_python(args: list[str], cwd: Path, timeout: float = 120.0) -> str:
    """Run `python *args` in `cwd`; fail with its output unless it exits 0."""
    completed = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert completed.returncode == 0, (
        f"{args} exited with {completed.returncode}\n--- stdout\n{completed.stdout}"
        f"\n--- stderr\n{completed.stderr}"
    )
    return completed.stdout


def run_example(name: str, tmp_path: Path) -> tuple[str, Path]:
    projects = tmp_path / "projects"
    out = run_python([str(EXAMPLES / name), "--directory", str(projects)], cwd=tmp_path)
    return out, projects / Path(name).stem


def numbers(pattern: str, text: str) -> list[float]:
    return [float(m) for m in re.findall(pattern, text, flags=re.MULTILINE)]


def open_project(folder: Path, project_name: str, objective: object) -> kt.Oracle:
    return kt.oracles.RandomSearchOracle(
        objective=objective, directory=folder, project_name=project_name
    )


def test_scipy_example_finds_an_accurate_cheap_optimizer_in_both_styles(tmp_path: Path) -> None:
    out, folder = run_example("tune_scipy_function.py", tmp_path)
    best = numbers(r"^(?:ask/tell|function): best loss (-?\d+\.\d+)", out)
    assert len(best) == 2
    # Random draws of the optimizer options mostly land above -11; the best of 30 reaches
    # 1e-12 accuracy within about a hundred evaluations per start point.
    assert best[0] == best[1] < -11.0
    assert "Same seed, same best trial in both styles: True" in out
    assert "ask/tell: 30 completed trials stored in" in out
    assert "Results summary" in out and "Showing 3 best trials" in out

    objective = kt.Objective("loss", "min")
    ask_tell = open_project(folder, "ask_tell", objective)
    function = open_project(folder, "function", objective)
    assert len(ask_tell.trials) == len(function.trials) == 30
    # The same seed gives the same sequence of trials through ask/tell and through search().
    for one, other in zip(ask_tell.trials.values(), function.trials.values(), strict=True):
        assert one.hyperparameters.values == other.hyperparameters.values
        assert one.score == pytest.approx(other.score)
    winner = ask_tell.get_best_trials(1)[0]
    assert winner.score == pytest.approx(best[0], abs=1e-3)
    assert winner.hyperparameters.values["method"] in ("CG", "BFGS", "L-BFGS-B")


def test_numpy_example_tunes_the_network_and_early_stopping_saves_epochs(tmp_path: Path) -> None:
    out, folder = run_example("tune_numpy_model.py", tmp_path)
    losses = numbers(r"^(?:ask/tell|function): best val_loss (\d+\.\d+)", out)
    accuracies = numbers(r"^(?:ask/tell|function): best val_loss .*val_accuracy (\d+\.\d+)", out)
    assert len(losses) == len(accuracies) == 2
    # An untrained network scores ~0.69 (chance); the tuned one separates the rings.
    assert max(losses) < 0.25
    assert min(accuracies) > 0.88
    assert "Results summary" in out

    (stopped_printed,) = numbers(r"^ask/tell: 25 trials, (\d+) stopped early", out)
    saved = re.search(r"Early stopping trained (\d+) epochs instead of (\d+)", out)
    assert saved is not None
    epochs_ask_tell, epochs_function = int(saved[1]), int(saved[2])
    assert 0 < epochs_ask_tell < epochs_function

    ask_tell = open_project(folder, "ask_tell", "val_loss")
    function = open_project(folder, "function", "val_loss")
    stopped = [t for t in ask_tell.trials.values() if t.status == kt.TrialStatus.STOPPED]
    assert len(stopped) == stopped_printed >= 1
    for trial in stopped:
        # Stopped at a report, before the epochs it asked for, and never the best trial.
        assert trial.metrics.get_last_value("epochs_run") < trial.hyperparameters.values["epochs"]
        assert len(trial.metrics.get_history("val_loss")) >= 2
    assert ask_tell.get_best_trials(1)[0].status == kt.TrialStatus.COMPLETED
    # Without early stopping every trial trains for all the epochs it drew.
    drawn = sum(t.hyperparameters.values["epochs"] for t in function.trials.values())
    assert epochs_function == drawn


def test_torch_example_runs_or_says_why_it_is_skipped(tmp_path: Path) -> None:
    out, folder = run_example("tune_torch_loop.py", tmp_path)
    if importlib.util.find_spec("torch") is None:
        assert out.strip() == TORCH_SKIP_LINE
        assert not folder.exists()
        return
    (baseline,) = numbers(r"^Predicting the mean gives val_loss (\d+\.\d+)", out)
    best = numbers(r"^(?:ask/tell|function): best val_loss (\d+\.\d+)", out)
    assert len(best) == 2
    assert max(best) < 0.5 * baseline
    ask_tell = open_project(folder, "ask_tell", "val_loss")
    trial = ask_tell.get_best_trials(1)[0]
    # One report per epoch; the score is the best of them.
    history = trial.metrics.get_history("val_loss")
    assert len(history) == 20
    assert trial.score == pytest.approx(min(o.mean() for o in history))


def test_torch_example_skips_with_a_reason_when_torch_cannot_be_imported(tmp_path: Path) -> None:
    # A None entry in sys.modules makes `import torch` raise ImportError, installed or not.
    script = str(EXAMPLES / "tune_torch_loop.py")
    code = (
        "import runpy, sys; sys.modules['torch'] = None; "
        f"sys.argv = [{script!r}]; runpy.run_path({script!r}, run_name='__main__')"
    )
    out = run_python(["-c", code], cwd=tmp_path)
    assert out.strip() == TORCH_SKIP_LINE
    assert not (tmp_path / "example_projects").exists()


def doc_programs(markdown: str) -> list[str]:
    """The page's Python blocks, in order, joined into programs: a block whose first line
    says it runs in a new process starts a new program."""
    programs: list[list[str]] = [[]]
    for block in re.findall(r"^```python\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE):
        if block.lower().startswith("# in a new process"):
            programs.append([])
        programs[-1].append(block)
    return ["\n".join(blocks) for blocks in programs if blocks]


def test_tune_any_code_page_snippets_run_as_written(tmp_path: Path) -> None:
    programs = doc_programs(DOC.read_text(encoding="utf-8"))
    assert len(programs) == 2  # the cross-process example really uses two processes
    outputs = []
    for index, program in enumerate(programs):
        path = tmp_path / f"program_{index}.py"
        path.write_text(program, encoding="utf-8")
        outputs.append(run_python([str(path)], cwd=tmp_path))
    first, second = outputs

    # Both styles: the same best trial (the snippet asserts it) and a real fit.
    (mse,) = numbers(r"^trial \d+: mse=(\d+\.\d+)", first)
    assert mse < 0.02  # the noise variance is 0.01; a straight line scores ~0.3
    assert (tmp_path / "runs" / "poly_function" / "tunelab.sqlite").exists()
    # Define-by-run with a conditional scope: curvature only where shape is quadratic.
    assert "['shape', 'curvature']" in first
    assert re.search(r"^\d+ \{'shape': 'linear'\}$", first, flags=re.MULTILINE)
    assert re.search(r"^\d+ \{'shape': 'quadratic', 'curvature': ", first, flags=re.MULTILINE)
    # Reporting: the score is the best reported value, at its step.
    assert re.search(r"^best val_loss 0\.\d+ at epoch \d+$", first, flags=re.MULTILINE)
    assert len(re.findall(r"^submit job \d\d: \{'learning_rate'", first, flags=re.MULTILINE)) == 4
    # The median pruner stops the trials that fall behind, in a Bayesian search.
    assert "4 of 12 trials stopped early; 168 of 240 epochs trained" in first

    # Telling by id from the second process, and the three wrong tells.
    assert "COMPLETED" in second
    assert "ValueError: trial '03' is already finished" in second
    assert "KeyError: \"unknown trial id '99'" in second
    assert "TypeError: result '0.4' has type str" in second
    # A raising objective fails its trial with its traceback and the search goes on.
    assert re.search(r"^\d+ of 12 trials failed", second, flags=re.MULTILINE)
    assert "RuntimeError: simulation diverged at x=" in second
    assert "3 trials failed in a row (max_consecutive_failed_trials=3)" in second

    cluster = open_project(tmp_path / "runs", "cluster", kt.Objective("val_loss", "min"))
    statuses = {t.trial_id: t.status for t in cluster.trials.values()}
    assert statuses == {"00": "RUNNING", "01": "COMPLETED", "02": "RUNNING", "03": "COMPLETED"}
    assert cluster.get_trial("03").score == 0.5
