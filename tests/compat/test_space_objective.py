"""Objective lists (multi-objective) as KerasTuner code uses them, with `import tunelab as kt`.

Expected values are KerasTuner 1.4.8's, observed by running the same code against it.
"""

from __future__ import annotations

import pytest

import tunelab as kt
from tunelab.objective import MultiObjective, create_objective

LOSS = kt.Objective("val_loss", "min")
ACC = kt.Objective("val_accuracy", "max")


def test_the_summed_score_is_minimized():
    both = create_objective([LOSS, ACC])
    # KerasTuner 1.4.8: name "multi_objective", direction "min", values to maximize negated.
    assert isinstance(both, MultiObjective)
    assert (both.name, both.direction) == ("multi_objective", "min")
    metrics = {"val_loss": 0.5, "val_accuracy": 0.8, "other": 3.0}
    assert both.get_value(metrics) == pytest.approx(-0.3)
    assert both.better_than(-0.3, 0.1)
    assert not both.has_value({"val_loss": 0.5})
    assert both.has_value({"val_loss": 0.5, "val_accuracy": 0.8})
    assert both.name_to_direction == {"val_loss": "min", "val_accuracy": "max"}


def test_equality_does_not_depend_on_the_order():
    # KerasTuner 1.4.8: True, then False for a list with one objective fewer.
    assert create_objective([LOSS, ACC]) == create_objective([ACC, LOSS])
    assert create_objective([LOSS, ACC]) != create_objective([LOSS, kt.Objective("mae", "min")])
    assert create_objective(["val_loss", "val_accuracy"]) == create_objective([ACC, LOSS])


def test_str_is_keras_tuners():
    # KerasTuner 1.4.8's str() of an Objective and of a list of them.
    assert str(LOSS) == 'Objective(name="val_loss", direction="min")'
    assert str(create_objective(["val_loss", "val_accuracy"])) == (
        'MultiObjective(name="multi_objective", direction="min"): '
        '[Objective(name="val_loss", direction="min"), '
        'Objective(name="val_accuracy", direction="max")]'
    )


def build(hp):
    depth = hp.Int("depth", 1, 4)
    # Deeper is more accurate and costs more loss: the summed score loss - accuracy is
    # lowest at depth 3 (0.5 - 0.9 = -0.4).
    loss = {1: 0.2, 2: 0.3, 3: 0.5, 4: 0.9}[depth]
    accuracy = {1: 0.5, 2: 0.65, 3: 0.9, 4: 0.95}[depth]
    return {"val_loss": loss, "val_accuracy": accuracy}


def test_best_trials_rank_by_the_summed_score(tmp_path):
    tuner = kt.GridSearch(build, objective=[LOSS, ACC], directory=tmp_path)
    tuner.search(verbose=0)
    best = tuner.oracle.get_best_trials(4)
    # As KerasTuner 1.4.8 scores them: val_loss - val_accuracy, smallest first.
    assert [t.hyperparameters.values["depth"] for t in best] == [3, 2, 1, 4]
    assert [t.score for t in best] == pytest.approx([-0.4, -0.35, -0.3, -0.05])
    assert tuner.get_best_hyperparameters()[0].values == {"depth": 3}
