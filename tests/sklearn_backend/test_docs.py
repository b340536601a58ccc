"""docs/sklearn.md runs as written: every python snippet, in order, in a fresh folder."""

from __future__ import annotations

import re
from pathlib import Path

import joblib
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "sklearn.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_sklearn_guide_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    found = snippets()
    assert len(found) == 6
    outputs = []
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        for code in found:
            namespace: dict = {}
            exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
            outputs.append((namespace, capsys.readouterr().out))
    tuner_ns, any_ns, hyperband_ns, grid_ns, search_ns, saved_ns = (ns for ns, _ in outputs)
    assert tuner_ns["tuner"].get_best_trials(1)[0].score > 0.9
    assert "Showing 1 best trials" in outputs[1][1]
    assert outputs[2][1].strip().splitlines()[-1] == "45"
    assert outputs[3][1].strip().splitlines()[-1] == "12"  # param_grid: the whole grid
    assert len(grid_ns["search"].cv_results_["params"]) == 12
    search = search_ns["search"]
    assert search.multimetric_ and search.best_score_ > 0.95
    assert "mean_test_roc_auc" in search.cv_results_
    assert type(saved_ns["model"]).__name__ in ("RandomForestClassifier", "RidgeClassifier")
