"""`kt.engine.metrics_tracking` as custom oracles and tuners use it.

The expected values are those KerasTuner 1.4.8 gives for the same calls (its
`keras_tuner.src.engine.metrics_tracking.MetricsTracker`, run with Keras 3).
"""

from __future__ import annotations

import pytest

import tunelab as kt
from tunelab.engine.metrics_tracking import (
    MetricObservation,
    MetricsTracker,
    infer_metric_direction,
)


class NamedMetric:
    """What KerasTuner reads from a Keras metric passed in ``metrics=``: its name."""

    def __init__(self, name):
        self.name = name


def test_metrics_argument_registers_each_metric_with_its_direction():
    tracker = MetricsTracker(metrics=[NamedMetric("acc"), NamedMetric("mean_squared_error")])
    # KerasTuner 1.4.8: ['acc', 'mean_squared_error'] max min
    assert sorted(tracker.metrics) == ["acc", "mean_squared_error"]
    assert tracker.get_direction("acc") == "max"
    assert tracker.get_direction("mean_squared_error") == "min"
    # KerasTuner 1.4.8 config of a registered metric without observations.
    assert tracker.get_config()["metrics"]["acc"] == {"direction": "max", "observations": []}


def test_update_reports_whether_the_best_value_changed_and_means_executions():
    tracker = MetricsTracker()
    # KerasTuner 1.4.8: True True False True
    assert tracker.update("loss", 3.0) is True
    assert tracker.update("loss", 2.0, step=1) is True
    assert tracker.update("loss", 4.0, step=2) is False
    assert tracker.update("loss", 1.0, step=1) is True  # a second execution of step 1
    # KerasTuner 1.4.8: [value=[3.0] step 0, value=[2.0, 1.0] step 1, value=[4.0] step 2]
    assert tracker.get_history("loss") == [
        MetricObservation(3.0, 0),
        MetricObservation([2.0, 1.0], 1),
        MetricObservation(4.0, 2),
    ]
    # KerasTuner 1.4.8: 1.5 1 4.0
    assert tracker.get_best_value("loss") == 1.5
    assert tracker.get_best_step("loss") == 1
    assert tracker.get_last_value("loss") == 4.0
    # KerasTuner 1.4.8's statistics of the step means [3.0, 1.5, 4.0].
    assert tracker.get_statistics("loss") == pytest.approx(
        {
            "min": 1.5,
            "max": 4.0,
            "mean": 2.8333333333333335,
            "median": 3.0,
            "var": 1.0555555555555556,
            "std": 1.0274023338281628,
        }
    )


def test_set_history_registers_the_metric_and_keeps_the_executions():
    tracker = MetricsTracker()
    tracker.set_history("val_acc", [MetricObservation(0.5, 0), MetricObservation([0.7, 0.9], 1)])
    # KerasTuner 1.4.8: best 0.8, direction max, these statistics.
    assert tracker.get_history("val_acc") == [
        MetricObservation(0.5, 0),
        MetricObservation([0.7, 0.9], 1),
    ]
    assert tracker.get_best_value("val_acc") == pytest.approx(0.8)
    assert tracker.get_direction("val_acc") == "max"
    assert tracker.get_statistics("val_acc") == pytest.approx(
        {"min": 0.5, "max": 0.8, "mean": 0.65, "median": 0.65, "var": 0.0225, "std": 0.15}
    )


def test_a_registered_metric_without_observations():
    tracker = MetricsTracker()
    tracker.register("new", "max")
    # KerasTuner 1.4.8: {} None None None
    assert tracker.get_statistics("new") == {}
    assert tracker.get_best_value("new") is None
    assert tracker.get_last_value("new") is None
    assert tracker.get_best_step("new") is None


def test_unknown_and_duplicate_metrics_raise_value_errors_as_keras_tuner_does():
    tracker = MetricsTracker(metrics=["acc"])
    # KerasTuner 1.4.8: ValueError "Metric already exists: acc"
    with pytest.raises(ValueError, match="Metric 'acc' already exists"):
        tracker.register("acc")
    # KerasTuner 1.4.8: ValueError "Unknown metric: nope" from each of these readers.
    for method in (
        "get_history",
        "get_best_value",
        "get_statistics",
        "get_last_value",
        "get_best_step",
        "get_direction",
    ):
        with pytest.raises(ValueError, match=r"Unknown metric 'nope': the tracker has \['acc'\]"):
            getattr(tracker, method)("nope")
    # KerasTuner 1.4.8: ValueError for a direction other than "min" / "max".
    with pytest.raises(ValueError, match="direction='up' for metric 'z'; expected 'min' or 'max'"):
        tracker.register("z", "up")


def test_config_round_trip_and_trial_metrics_share_the_format():
    tracker = MetricsTracker()
    tracker.update("val_loss", 0.5)
    tracker.update("val_loss", 0.25, step=1)
    again = MetricsTracker.from_config(tracker.get_config())
    assert again.get_config() == tracker.get_config()
    assert again.get_statistics("val_loss")["mean"] == 0.375
    # A trial's tracker reads the same config (it is the lenient base of this one).
    trial_tracker = kt.Trial(kt.HyperParameters()).metrics
    restored = type(trial_tracker).from_config(tracker.get_config())
    assert restored.get_best_value("val_loss") == 0.25
    assert isinstance(tracker, type(trial_tracker))


@pytest.mark.parametrize(
    ("name", "direction"),
    # KerasTuner 1.4.8's infer_metric_direction for these names.
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("accuracy", "max"),
        ("val_accuracy", "max"),
        ("acc", "max"),
        ("weighted_acc", "max"),
        ("mae", "min"),
        ("val_mean_absolute_error", "min"),
        ("auc", "max"),
        ("AUC", "max"),
        ("precision", "max"),
        ("categorical_crossentropy", "min"),
        ("mse", "min"),
        ("foo", None),
    ],
)
def test_infer_metric_direction(name, direction):
    assert infer_metric_direction(name) == direction


def test_infer_metric_direction_of_metric_objects_and_functions():
    # KerasTuner 1.4.8: keras.metrics.Accuracy() -> max, MeanSquaredError() -> min.
    assert infer_metric_direction(NamedMetric("accuracy")) == "max"
    assert infer_metric_direction(NamedMetric("mean_squared_error")) == "min"

    def mean_absolute_error(y_true, y_pred):
        return 0.0

    assert infer_metric_direction(mean_absolute_error) == "min"
