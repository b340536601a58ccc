"""KerasTuner-style GridSearch code: the grid KerasTuner 1.4.8 walks, in its order.

Every expected list below is KerasTuner 1.4.8's, recorded by running the same user code
with ``import keras_tuner as kt`` (a GridSearch subclass whose `run_trial` builds the space
and returns a number).
"""

from __future__ import annotations

import pytest

import tunelab as kt


class LoggingGridSearch(kt.GridSearch):
    """A user's tuner with its own `run_trial`: it builds the space and returns a loss."""

    def __init__(self, build, **kwargs):
        super().__init__(**kwargs)
        self.build = build
        self.log = []

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        self.build(hp)
        self.log.append(dict(hp.values))
        return float(len(self.log))


def search(tmp_path, build, **kwargs):
    tuner = LoggingGridSearch(build, directory=tmp_path, project_name="grid", **kwargs)
    tuner.search(verbose=0)
    return tuner.log


def layers_of_units(hp):
    # The example: units_1 exists only in two-layer models.
    for i in range(hp.Int("layers", 1, 2)):
        hp.Choice(f"units_{i}", [16, 32, 64])


def test_hyperparameters_registered_during_the_search_extend_the_grid_as_keras_tuner(tmp_path):
    log = search(tmp_path, layers_of_units)
    # KerasTuner 1.4.8: 12 trials (tunelab ran 21 before: one-layer models again for each
    # units_1, which they do not use).
    assert [(v["layers"], v["units_0"], v.get("units_1")) for v in log] == [
        (1, 16, None),
        (1, 32, None),
        (1, 64, None),
        (2, 16, 16),
        (2, 16, 32),
        (2, 16, 64),
        (2, 32, 16),
        (2, 32, 32),
        (2, 32, 64),
        (2, 64, 16),
        (2, 64, 32),
        (2, 64, 64),
    ]


def test_three_layers_of_two_units(tmp_path):
    def build(hp):
        for i in range(hp.Int("layers", 1, 3)):
            hp.Choice(f"units_{i}", [8, 16])

    log = search(tmp_path, build)
    # KerasTuner 1.4.8: 14 trials; a layer's units are varied once that layer exists.
    assert [tuple(v[f"units_{i}"] for i in range(v["layers"])) for v in log] == [
        (8,),
        (16,),
        (8, 8),
        (8, 16),
        (16, 8),
        (16, 16),
        (8, 8, 8),
        (8, 8, 16),
        (8, 16, 8),
        (8, 16, 16),
        (16, 8, 8),
        (16, 8, 16),
        (16, 16, 8),
        (16, 16, 16),
    ]


def test_conditional_scopes_nested_in_a_define_by_run_space(tmp_path):
    def build(hp):
        kind = hp.Choice("kind", ["a", "b"])
        if kind == "b":
            with hp.conditional_scope("kind", "b"):
                if hp.Int("depth", 1, 2) == 2:
                    with hp.conditional_scope("depth", 2):
                        hp.Choice("width", [3, 5])
        hp.Boolean("flag")

    log = search(tmp_path, build)
    # KerasTuner 1.4.8, in this order (a hyperparameter registered later comes later in
    # the odometer: depth and width vary faster than flag once they exist).
    assert log == [
        {"kind": "a", "flag": False},
        {"kind": "a", "flag": True},
        {"kind": "b", "flag": False, "depth": 1},
        {"kind": "b", "flag": False, "depth": 2, "width": 3},
        {"kind": "b", "flag": False, "depth": 2, "width": 5},
        {"kind": "b", "flag": True, "depth": 1},
        {"kind": "b", "flag": True, "depth": 2, "width": 3},
        {"kind": "b", "flag": True, "depth": 2, "width": 5},
    ]


def test_a_float_without_step_contributes_its_default_and_ten_spaced_values(tmp_path):
    def build(hp):
        hp.Choice("activation", ["relu", "tanh"])
        hp.Float("lr", 0.1, 1.0)

    log = search(tmp_path, build)
    # KerasTuner 1.4.8: 22 trials, lr = min_value (the default), then the centres of ten
    # equal slices in KerasTuner's order.
    lrs = [
        0.1,
        0.14500000000000002,
        0.41500000000000004,
        0.325,
        0.23500000000000004,
        0.505,
        0.5950000000000001,
        0.6850000000000002,
        0.7750000000000001,
        0.8650000000000001,
        0.9550000000000001,
    ]
    assert log == [{"activation": a, "lr": lr} for a in ("relu", "tanh") for lr in lrs]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (
            lambda hp: hp.Float("lr", 1e-4, 1e-1, sampling="log"),
            # KerasTuner 1.4.8: 11 trials
            [
                0.0001,
                0.017782794100389243,
                0.07079457843841383,
                0.00223872113856834,
                0.0011220184543019637,
                0.008912509381337464,
                0.035481338923357565,
                0.0005623413251903491,
                0.00014125375446227543,
                0.004466835921509632,
                0.00028183829312644545,
            ],
        ),
        # KerasTuner 1.4.8: a log-sampled Int without step, 9 distinct values of the ten.
        (lambda hp: hp.Int("lr", 1, 100, sampling="log"), [1, 3, 5, 7, 12, 80, 50, 20, 31]),
        # A linear Int without step takes every integer (step 1).
        (lambda hp: hp.Int("lr", 1, 4), [1, 2, 3, 4]),
    ],
)
def test_log_sampled_values_without_a_step(tmp_path, build, expected):
    assert [v["lr"] for v in search(tmp_path, build)] == expected


def test_each_hyperparameter_starts_from_its_default(tmp_path):
    def build(hp):
        hp.Choice("a", [1, 2, 3], default=2)
        hp.Int("b", 1, 3, default=3)
        hp.Float("c", 0.0, 1.0, step=0.5, default=0.5)

    log = search(tmp_path, build)
    # KerasTuner 1.4.8: the default first, then the other values in order.
    assert [(v["a"], v["b"], v["c"]) for v in log[:7]] == [
        (2, 3, 0.5),
        (2, 3, 0.0),
        (2, 3, 1.0),
        (2, 1, 0.5),
        (2, 1, 0.0),
        (2, 1, 1.0),
        (2, 2, 0.5),
    ]
    assert len(log) == 27 and log[-1] == {"a": 3, "b": 2, "c": 1.0}


def test_parent_values_condition_a_hyperparameter(tmp_path):
    def build(hp):
        hp.Choice("optimizer", ["adam", "sgd"])
        hp.Float("momentum", 0.0, 0.9, step=0.45, parent_name="optimizer", parent_values=["sgd"])

    # KerasTuner 1.4.8
    assert search(tmp_path, build) == [
        {"optimizer": "adam"},
        {"optimizer": "sgd", "momentum": 0.0},
        {"optimizer": "sgd", "momentum": 0.45},
        {"optimizer": "sgd", "momentum": 0.9},
    ]


def test_max_trials_stops_the_grid_early(tmp_path):
    assert len(search(tmp_path, layers_of_units, max_trials=5)) == 5


def test_several_tuner_ids_keep_getting_work_and_wait_instead_of_stopping():
    oracle = kt.oracles.GridSearchOracle(objective="loss")
    # The space is unknown until the first trial builds the model: the second worker
    # waits (KerasTuner's IDLE) instead of finding the grid exhausted.
    first = oracle.create_trial("worker-a")
    assert first.status == "RUNNING"
    assert oracle.create_trial("worker-b").status == "IDLE"
    layers_of_units(first.hyperparameters)
    oracle.tell(first, 1.0)
    # With one layer known, both workers get a configuration at once.
    second = oracle.create_trial("worker-a")
    third = oracle.create_trial("worker-b")
    assert [second.status, third.status] == ["RUNNING", "RUNNING"]
    # A worker with a trial running is handed that trial again (KerasTuner's), so only
    # the workers without one ask for more.
    running = {"worker-a": second, "worker-b": third}
    seen = [first.hyperparameters.values]
    while running:
        worker = next(iter(running))
        trial = running.pop(worker)
        layers_of_units(trial.hyperparameters)
        seen.append(dict(trial.hyperparameters.values))
        oracle.tell(trial, float(len(seen)))
        for worker in ("worker-a", "worker-b"):
            if worker not in running:
                new = oracle.create_trial(worker)
                if new.status == "RUNNING":
                    running[worker] = new
    # The same 12 configurations as one worker, each once.
    assert len(seen) == 12
    assert {tuple(sorted(v.items())) for v in seen} == {
        tuple(sorted(v.items()))
        for v in [{"layers": 1, "units_0": u} for u in (16, 32, 64)]
        + [{"layers": 2, "units_0": u, "units_1": w} for u in (16, 32, 64) for w in (16, 32, 64)]
    }
    assert oracle.create_trial("worker-a").status == "STOPPED"


def test_an_interrupted_grid_search_resumes_where_it_stopped(tmp_path):
    calls = []

    def build(hp):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the process is stopped in the middle of a trial
        layers_of_units(hp)

    with pytest.raises((KeyboardInterrupt, SystemExit)):
        search(tmp_path, build)
    tuner = LoggingGridSearch(build, directory=tmp_path, project_name="grid")
    tuner.search(verbose=0)
    values = [t.hyperparameters.values for t in tuner.oracle.trials.values()]
    # The same 12 trials as one uninterrupted search (KerasTuner 1.4.8's), each once.
    assert [(v["layers"], v["units_0"], v.get("units_1")) for v in values] == [
        (1, 16, None),
        (1, 32, None),
        (1, 64, None),
        (2, 16, 16),
        (2, 16, 32),
        (2, 16, 64),
        (2, 32, 16),
        (2, 32, 32),
        (2, 32, 64),
        (2, 64, 16),
        (2, 64, 32),
        (2, 64, 64),
    ]


def test_enqueued_configurations_run_first_and_the_grid_goes_on_from_them():
    hp = kt.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Boolean("b")
    oracle = kt.oracles.GridSearchOracle(objective="loss", hyperparameters=hp)
    oracle.enqueue_trial({"a": 3, "b": True})
    seen = []
    while (trial := oracle.ask()) is not None:
        seen.append((trial.hyperparameters["a"], trial.hyperparameters["b"]))
        oracle.tell(trial, 1.0)
    # The enqueued one, then the grid from the defaults, each configuration once.
    assert seen[0] == (3, True) and seen[1] == (1, False)
    assert sorted(seen) == [(a, b) for a in (1, 2, 3) for b in (False, True)]
