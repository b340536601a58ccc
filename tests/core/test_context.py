"""The backend contract: a backend receives a `TrialContext` (not the tuner), the same one in
the tuner's process and in a process pool's workers, and its reports stop trials there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tunelab as kt
from tunelab import plugins
from tunelab.backend import Backend
from tunelab.context import TrialContext
from tunelab.executors import ProcessPoolExecutor
from tunelab.hookspecs import hookimpl

STEPS = 5


class Curve:
    """A 'model' whose loss is its rate at every step."""

    def __init__(self, rate: float) -> None:
        self.rate = rate


class RecordingBackend(Backend):
    """Writes what it receives to the trial's folder (a worker's memory does not come back)
    and reports one step at a time until the trial is stopped."""

    name = "recording"
    options = frozenset({"label"})
    model_filename = "curve.json"

    def owns(self, model):
        return isinstance(model, Curve)

    def validate_search(self, context, model, args, kwargs):
        path = context.project_dir / f"validated_{os.getpid()}_{context.trial_id}.json"
        path.write_text(json.dumps({"type": type(context).__name__, "args": list(args)}))

    def run_trial(self, context, model, scale, **kwargs):
        trial = context.trial
        rebuilt = context.build(trial.hyperparameters)
        statuses = []
        for step in range(STEPS):
            status = context.report({"loss": model.rate * scale}, step)
            statuses.append(status)
            if status == "STOPPED":
                break
        context.save_model(model)
        context.trial_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "type": type(context).__name__,
            "pid": os.getpid(),
            "options": context.options,
            "objective": context.objective.name,
            "project_dir": str(context.project_dir),
            "trial_dir": str(context.trial_dir),
            "rebuilt_rate": rebuilt.rate,
            "rate": trial.hyperparameters.get("rate"),
            "statuses": statuses,
            "hooks": type(context.hooks).__name__,
            "best_known": [t.trial_id for t in context.get_best_trials(3)],
            "max_epochs": context.max_epochs,
        }
        (context.trial_dir / "record.json").write_text(json.dumps(record))
        return None  # every step was reported

    def save_model(self, model, path):
        path.write_text(json.dumps({"rate": model.rate}))

    def load_model(self, path):
        return Curve(json.loads(path.read_text())["rate"])


class Threshold(kt.pruners.Pruner):
    """Stops a trial whose loss is above 1 at step 2."""

    def should_prune(self, trial, step, oracle):
        value = kt.pruners.objective_curve(oracle.objective, trial).get(step)
        return step >= 2 and value is not None and value > 1.0


class _Plugin:
    @hookimpl
    def tunelab_backend_for(self, model):
        return RecordingBackend() if isinstance(model, Curve) else None

    @hookimpl
    def tunelab_backend_named(self, name):
        return RecordingBackend() if name == "recording" else None

    @hookimpl
    def tunelab_backend_options(self):
        return ["label"]


@pytest.fixture
def recording_backend():
    plugin = _Plugin()
    plugins.register(plugin, name="recording-test")
    yield
    plugins.plugin_manager().unregister(plugin)


def _search(tmp_path: Path, executor) -> tuple[kt.RandomSearch, dict[str, dict]]:
    tuner = kt.RandomSearch(
        lambda hp: Curve(hp.Float("rate", 0.0, 2.0)),
        objective="loss",
        max_trials=6,
        seed=3,
        pruner=Threshold(),
        label="seen",
        directory=tmp_path,
        project_name="context",
        overwrite=True,
    )
    tuner.search(1.0, executor=executor, verbose=0)
    records = {
        path.parent.name[len("trial_") :]: json.loads(path.read_text())
        for path in tuner.project_dir.glob("trial_*/record.json")
    }
    return tuner, records


@pytest.mark.parametrize("where", ["inline", "process"])
def test_a_backend_gets_a_context_that_reports_builds_and_saves(tmp_path, recording_backend, where):
    executor = (
        None
        if where == "inline"
        else ProcessPoolExecutor(max_parallel_trials=2, gpus=None, start_method="fork")
    )
    tuner, records = _search(tmp_path, executor)
    trials = tuner.oracle.trials
    assert len(trials) == 6 and set(records) == set(trials)
    pids = {r["pid"] for r in records.values()}
    assert (pids == {os.getpid()}) == (where == "inline")
    for trial_id, record in records.items():
        trial = trials[trial_id]
        assert record["type"] == "TrialContext"
        assert record["options"] == {"label": "seen"}
        assert record["objective"] == "loss"
        assert record["project_dir"] == str(tuner.project_dir)
        assert record["trial_dir"] == str(tuner.project_dir / f"trial_{trial_id}")
        assert record["rebuilt_rate"] == record["rate"] == trial.hyperparameters.get("rate")
        assert record["hooks"] == "RandomSearch"  # the tuner's hooks (a copy in a worker)
        assert record["max_epochs"] is None
        # The driver's pruner answered each report, also for a trial in a worker.
        if record["rate"] > 1.0:
            assert record["statuses"] == ["RUNNING", "RUNNING", "STOPPED"]
            assert trial.status == "STOPPED"
        else:
            assert record["statuses"] == ["RUNNING"] * STEPS
            assert trial.status == "COMPLETED"
        assert trial.metrics.get_history("loss")[-1].step == len(record["statuses"]) - 1
    assert any(r["rate"] > 1.0 for r in records.values())
    assert any(r["rate"] <= 1.0 for r in records.values())
    # The search's arguments were checked with a context, once in each process that ran
    # trials (each worker has its own copy of the tuner).
    validated = list(tuner.project_dir.glob("validated_*.json"))
    assert len(validated) == len(pids)
    for path in validated:
        assert json.loads(path.read_text()) == {"type": "TrialContext", "args": [1.0]}
    # Models saved through the context load through the tuner.
    best = tuner.get_best_trials(1)[0]
    assert tuner.get_best_models(1)[0].rate == best.hyperparameters.get("rate")


def test_the_context_reads_other_trials_and_loads_their_models(tmp_path):
    """The context's reads go to the oracle it was made with."""
    tuner = kt.RandomSearch(
        lambda hp: hp.Float("x", 0.0, 1.0),
        objective="loss",
        max_trials=3,
        seed=0,
        directory=tmp_path,
        overwrite=True,
    )
    tuner.search(verbose=0)
    best = tuner.get_best_trials(3)
    tuner.oracle.max_trials = 4  # room for one more trial, made by hand
    trial = tuner.oracle.create_trial("tuner0")
    assert trial.status == "RUNNING"
    context = tuner._trial_context(trial, (), {})
    assert isinstance(context, TrialContext)
    assert [t.trial_id for t in context.get_best_trials(3)] == [t.trial_id for t in best]
    assert context.get_trial(best[0].trial_id).score == best[0].score
    assert context.trial_dir == tuner.get_trial_dir(trial.trial_id)
    assert context.build(trial.hyperparameters) == trial.hyperparameters.get("x")
    with pytest.raises(RuntimeError, match="no models to load"):
        context.load_model(best[0].trial_id)
    assert context.report({"loss": 0.5}, 0) == "RUNNING"
    assert trial.metrics.get_last_value("loss") == 0.5


class LegacyBackend(Backend):
    """A backend written against the former contract: it takes the tuner."""

    name = "legacy"
    model_filename = "curve.json"

    def __init__(self) -> None:
        self.received: list[str] = []

    def owns(self, model):
        return isinstance(model, Curve)

    def validate_search(self, tuner, model, args, kwargs):
        self.received.append(f"validate_search:{type(tuner).__name__}")

    def run_trial(self, tuner, trial, model, *args, **kwargs):
        self.received.append(f"run_trial:{type(tuner).__name__}:{trial.trial_id}")
        tuner.save_model(trial.trial_id, model)
        return {"loss": model.rate}

    def save_model(self, model, path):
        path.write_text(json.dumps({"rate": model.rate}))

    def load_model(self, path):
        return Curve(json.loads(path.read_text())["rate"])


def test_a_backend_written_against_the_tuner_still_gets_the_tuner(tmp_path):
    backend = LegacyBackend()

    class Plugin:
        @hookimpl
        def tunelab_backend_for(self, model):
            return backend if isinstance(model, Curve) else None

    plugin = Plugin()
    plugins.register(plugin, name="legacy-test")
    try:
        tuner = kt.RandomSearch(
            lambda hp: Curve(hp.Float("rate", 0.0, 2.0)),
            objective="loss",
            max_trials=2,
            seed=0,
            directory=tmp_path,
            overwrite=True,
        )
        tuner.search(verbose=0)
    finally:
        plugins.plugin_manager().unregister(plugin)
    assert backend.received == [
        "validate_search:RandomSearch",
        "run_trial:RandomSearch:0",
        "run_trial:RandomSearch:1",
    ]
    assert tuner.get_best_models(1)[0].rate == tuner.get_best_trials(1)[0].hyperparameters["rate"]
