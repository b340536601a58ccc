"""Results as data: records, DataFrame, CSV/JSON export, metric histories."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

import tunelab as kt
from tunelab.results import export_results, history_records, load_results, trial_records
from tunelab.store import StoreError


def test_records_hold_values_scores_and_status(project: kt.RandomSearch) -> None:
    records = trial_records(project)
    trials = sorted(project.oracle.trials.values(), key=lambda t: t.number)
    assert [r["trial_id"] for r in records] == [t.trial_id for t in trials]
    assert [r["status"] for r in records].count("FAILED") == 1
    for record, trial in zip(records, trials, strict=True):
        if trial.status == "COMPLETED":
            values = trial.hyperparameters.values
            assert record["score"] == pytest.approx((values["x"] - 1) ** 2 + values["units"] / 640)
            assert record["hp_x"] == values["x"] and record["hp_units"] == values["units"]
            assert record["metric_width"] == float(values["units"])
            assert record["duration"] > 0
        else:
            assert record["score"] is None and record["metric_loss"] is None


def test_dataframe_one_row_per_trial(project: kt.RandomSearch) -> None:
    frame = project.results_dataframe()
    assert len(frame) == 12
    assert {"hp_x", "hp_units", "hp_activation", "score", "status", "duration"} <= set(frame)
    best = project.get_best_trials(1)[0]
    assert frame["score"].min() == pytest.approx(best.score)
    assert frame.loc[best.trial_id, "hp_x"] == best.hyperparameters.get("x")


def test_history_of_each_metric(curves: kt.oracles.RandomSearchOracle) -> None:
    rows = history_records(curves)
    assert len(rows) == 3 * 4
    trial = next(iter(curves.trials.values()))
    rate = trial.hyperparameters.get("rate")
    mine = [r for r in rows if r["trial_id"] == trial.trial_id]
    assert [r["step"] for r in mine] == [0, 1, 2, 3]
    assert [r["value"] for r in mine] == pytest.approx(
        [math.exp(-rate * (e + 1)) for e in range(4)]
    )
    frame = load_results(curves)
    assert frame.metric_names() == ["val_loss"]


def test_csv_export_without_pandas(project: kt.RandomSearch, tmp_path: Path) -> None:
    path = project.export_results(tmp_path / "out" / "trials.csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12
    best = project.get_best_trials(1)[0]
    row = next(r for r in rows if r["trial_id"] == best.trial_id)
    assert float(row["score"]) == pytest.approx(best.score)
    assert row["hp_activation"] in ("relu", "tanh")
    failed = next(r for r in rows if r["status"] == "FAILED")
    assert failed["score"] == ""


def test_json_export_keeps_histories_and_errors(
    curves: kt.oracles.RandomSearchOracle, project: kt.RandomSearch, tmp_path: Path
) -> None:
    document = json.loads(export_results(curves, tmp_path / "curves.json").read_text())
    assert document["objective"] == {"name": "val_loss", "direction": "min"}
    first = document["trials"][0]
    assert len(first["metrics"]["val_loss"]["history"]) == 4
    assert first["score"] == first["metrics"]["val_loss"]["best"]
    failed = [
        t
        for t in json.loads(project.export_results(tmp_path / "p.json").read_text())["trials"]
        if t["status"] == "FAILED"
    ]
    assert "diverged: loss is nan" in failed[0]["message"]


def test_reads_a_project_from_its_path(project: kt.RandomSearch) -> None:
    results = load_results(project.project_dir)
    assert len(results.trials) == 12
    assert results.best(1)[0].trial_id == project.get_best_trials(1)[0].trial_id
    assert results.hyperparameter_names() == ["x", "units", "activation"]


def test_bad_inputs_have_clear_errors(project: kt.RandomSearch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"format='xlsx'; expected one of \('csv', 'json'\)"):
        project.export_results(tmp_path / "t.xlsx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_results(tmp_path / "nowhere")
    with pytest.raises(StoreError, match="is not a tunelab project"):
        load_results(tmp_path)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    with pytest.raises(StoreError, match="not a tunelab store"):
        load_results(foreign)
    with pytest.raises(TypeError, match="source=42"):
        load_results(42)
