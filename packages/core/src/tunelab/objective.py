"""What a search optimizes: `Objective` (one metric and a direction) and `MultiObjective`."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any, Union

__all__ = [
    "DEFAULT_OBJECTIVE",
    "MultiObjective",
    "Objective",
    "create_objective",
    "infer_direction",
]

# The metric name used when a trial reports a bare number and no objective was given.
DEFAULT_OBJECTIVE = "default_objective"

# Name fragments that tell the direction of a metric; checked on the name without a
# "val_"/"train_" prefix. Exact names first, then fragments, so that e.g. "accuracy_loss"
# is not mistaken for an accuracy.
_MAXIMIZE_EXACT = {
    "acc",
    "accuracy",
    "auc",
    "prc",
    "precision",
    "recall",
    "f1",
    "f1_score",
    "fbeta_score",
    "r2",
    "r2_score",
    "score",
    "iou",
    "mean_iou",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "cosine_similarity",
    "balanced_accuracy",
    "roc_auc",
    "average_precision",
    "map",
    "ndcg",
    "reward",
    "return",
}
_MINIMIZE_EXACT = {
    "loss",
    "mse",
    "mae",
    "mape",
    "msle",
    "rmse",
    "error",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "logcosh",
    "log_cosh",
    "huber",
    "kld",
    "kl_divergence",
    "kullback_leibler_divergence",
    "poisson",
    "crossentropy",
    "perplexity",
    "regret",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "root_mean_squared_error",
    "cost",
    "time",
    "latency",
}
# Names a misspelled objective is compared with, for a "did you mean" hint.
_KNOWN_NAMES = sorted(
    {f"{prefix}{name}" for name in _MAXIMIZE_EXACT | _MINIMIZE_EXACT for prefix in ("", "val_")}
)
_MINIMIZE_FRAGMENTS = ("loss", "error", "crossentropy", "hinge", "divergence", "regret")
_MAXIMIZE_FRAGMENTS = ("accuracy", "auc", "precision", "recall", "f1", "iou")


def _strip_prefix(name: str) -> str:
    for prefix in ("val_", "validation_", "train_", "test_", "neg_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def did_you_mean(name: str, names: Any) -> str:
    """`` — did you mean 'x'?`` with the closest of `names` to `name`, or "" when none is
    close.

    >>> did_you_mean("val_los", ["val_loss", "loss", "accuracy"])
    " — did you mean 'val_loss'?"
    """
    close = difflib.get_close_matches(name, [str(n) for n in names], n=1, cutoff=0.75)
    return f" — did you mean {close[0]!r}?" if close else ""


def infer_direction(name: str) -> str | None:
    """`"max"`, `"min"`, or None when the name does not tell."""
    base = _strip_prefix(name.lower())
    if name.lower().startswith("neg_"):  # scikit-learn's negated errors are maximized
        return "max"
    if base in _MAXIMIZE_EXACT:
        return "max"
    if base in _MINIMIZE_EXACT:
        return "min"
    if any(f in base for f in _MINIMIZE_FRAGMENTS):
        return "min"
    if any(f in base for f in _MAXIMIZE_FRAGMENTS):
        return "max"
    return None


class Objective:
    """A metric to optimize and its direction.

    Parameters
    ----------
    name : str
        The metric name, e.g. ``"val_accuracy"``.
    direction : {"min", "max"}
        Whether to minimize or maximize it.

    Examples
    --------
    >>> Objective("val_accuracy", "max")
    Objective(name="val_accuracy", direction="max")
    """

    def __init__(self, name: str, direction: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Objective name must be a non-empty string, got {name!r}")
        if direction not in ("min", "max"):
            raise ValueError(
                f"Objective {name!r}: direction={direction!r}; expected 'min' or 'max'"
            )
        self.name = name
        self.direction = direction

    @property
    def names(self) -> list[str]:
        return [self.name]

    def has_value(self, metrics: dict[str, Any]) -> bool:
        return self.name in metrics

    def get_value(self, metrics: dict[str, float]) -> float:
        """The objective's value from a dict of metric values."""
        if self.name not in metrics:
            raise KeyError(
                f"objective {self.name!r} is not among the reported metrics "
                f"{sorted(metrics)}; report it or choose another objective"
            )
        return float(metrics[self.name])

    def better_than(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b

    def sign(self) -> float:
        """+1 when larger is better, -1 when smaller is better."""
        return 1.0 if self.direction == "max" else -1.0

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Objective | MultiObjective:
        if "objectives" in config:
            return MultiObjective([cls(**c) for c in config["objectives"]])
        return cls(config["name"], config["direction"])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Objective)
            and not isinstance(other, MultiObjective)
            and (self.name, self.direction) == (other.name, other.direction)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'


class MultiObjective(Objective):
    """Several objectives folded into one score, as KerasTuner's: the sum of the values to
    minimize minus the sum of the values to maximize. The score is minimized.

    Parameters
    ----------
    objectives : list of Objective

    Examples
    --------
    >>> both = MultiObjective([Objective("val_loss", "min"), Objective("val_accuracy", "max")])
    >>> both.get_value({"val_loss": 0.5, "val_accuracy": 0.75})
    -0.25
    >>> print(both)  # doctest: +NORMALIZE_WHITESPACE
    MultiObjective(name="multi_objective", direction="min"): [Objective(name="val_loss",
    direction="min"), Objective(name="val_accuracy", direction="max")]
    """

    def __init__(self, objectives: Sequence[Objective]) -> None:
        if not objectives:
            raise ValueError("objective list is empty; expected at least one objective")
        self.objectives = list(objectives)
        super().__init__("multi_objective", "min")

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def name_to_direction(self) -> dict[str, str]:
        """Each metric's direction, by name (KerasTuner's attribute)."""
        return {o.name: o.direction for o in self.objectives}

    def has_value(self, metrics: dict[str, Any]) -> bool:
        return all(o.name in metrics for o in self.objectives)

    def get_value(self, metrics: dict[str, float]) -> float:
        """The score to minimize: values to maximize count negatively."""
        return math.fsum(-o.sign() * o.get_value(metrics) for o in self.objectives)

    def get_config(self) -> dict[str, Any]:
        # The name and direction mark the sign convention: a store written when the
        # combined score was maximized has no direction here, so its scores are recomputed.
        return {
            "name": self.name,
            "direction": self.direction,
            "objectives": [o.get_config() for o in self.objectives],
        }

    def __eq__(self, other: object) -> bool:
        # The order of the objectives does not change the score (KerasTuner's equality).
        return isinstance(other, MultiObjective) and sorted(
            (o.name, o.direction) for o in self.objectives
        ) == sorted((o.name, o.direction) for o in other.objectives)

    def __hash__(self) -> int:
        return hash(frozenset((o.name, o.direction) for o in self.objectives))

    def __repr__(self) -> str:
        inner = ", ".join(repr(o) for o in self.objectives)
        return f'MultiObjective(name="{self.name}", direction="{self.direction}"): [{inner}]'


ObjectiveLike = Union[str, Objective, Sequence[Union[str, Objective]], None]  # noqa: UP007


def create_objective(objective: ObjectiveLike) -> Objective:
    """Turn what users pass as `objective=` into an Objective.

    A string infers its direction from the name (accuracy-like: max, loss-like: min); a name
    that does not tell raises a ValueError asking for `Objective(name, direction)`.
    """
    if objective is None:
        return Objective(DEFAULT_OBJECTIVE, "min")
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        direction = infer_direction(objective)
        if direction is None:
            raise ValueError(
                f"objective={objective!r}: cannot tell whether to minimize or maximize this "
                f"metric; pass kt.Objective({objective!r}, direction='min') or "
                f"direction='max'{did_you_mean(objective, _KNOWN_NAMES)}"
            )
        return Objective(objective, direction)
    if isinstance(objective, Sequence):
        items = [create_objective(o) for o in objective]
        names = [o.name for o in items]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"objective={objective!r} names {', '.join(map(repr, twice))} more than once; "
                "expected each metric once"
            )
        return items[0] if len(items) == 1 else MultiObjective(items)
    raise TypeError(
        f"objective={objective!r}: expected a metric name, a kt.Objective or a list of them"
    )
