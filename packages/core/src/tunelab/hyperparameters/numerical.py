"""Numerical hyperparameters: Int and Float on linear, log or reverse-log scales."""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Sequence
from typing import Any

from tunelab.hyperparameters.definitions import HyperParameter, Parent, bad_definition

__all__ = ["Float", "Int"]

_SAMPLINGS = ("linear", "log", "reverse_log")


def _check_bounds(kind: str, name: str, min_value: float, max_value: float) -> None:
    for label, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise bad_definition(kind, name, f"{label}={v!r} is not a finite number")
    if min_value > max_value:
        raise bad_definition(
            kind, name, f"min_value={min_value!r} is greater than max_value={max_value!r}"
        )


class _Numerical(HyperParameter):
    """Shared logic of Int and Float: linear, log and reverse-log scales, optional step."""

    def __init__(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str | None = "linear",
        default: Any = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        super().__init__(name, default, conditions)
        sampling = "linear" if sampling is None else sampling
        if not isinstance(sampling, str) or sampling.lower() not in _SAMPLINGS:
            raise bad_definition(
                self.kind, name, f"sampling={sampling!r}; expected one of {_SAMPLINGS}"
            )
        self.sampling = sampling.lower()
        _check_bounds(self.kind, name, min_value, max_value)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
                raise bad_definition(self.kind, name, f"step={step!r}; expected a number > 0")
            if self.sampling != "linear" and not step > 1:
                raise bad_definition(
                    self.kind,
                    name,
                    f"step={step!r} with sampling={self.sampling!r} is a multiplying factor "
                    "and must be > 1",
                )
        if self.sampling != "linear" and min_value <= 0:
            raise bad_definition(
                self.kind,
                name,
                f"sampling={self.sampling!r} needs min_value > 0, got {min_value!r}",
            )
        self.min_value = min_value
        self.max_value = max_value
        self.step = step
        if default is not None:
            try:
                self._default = self.validate(default)
            except ValueError:
                raise bad_definition(
                    self.kind,
                    name,
                    f"default={default!r} is not in its space: expected {self.describe()}",
                ) from None

    # The finite list of values when a step is given (linear: additive, log: multiplicative).
    def _stepped_values(self) -> list[Any] | None:
        if self.step is None:
            return None
        if self.sampling == "linear":
            count = int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
            return [self._snap(self.min_value + i * self.step) for i in range(count)]
        count = int(math.floor(math.log(self.max_value / self.min_value, self.step) + 1e-9)) + 1
        return [self._snap(self.min_value * self.step**i) for i in range(count)]

    def _snap(self, value: float) -> Any:
        return value

    @property
    def is_discrete(self) -> bool:
        return self.step is not None

    def grid_values(self) -> list[Any]:
        values = self._stepped_values()
        if values is None:
            return super().grid_values()
        return values

    @property
    def values(self) -> Iterable[Any]:
        """The values of the step, or ten evenly spread ones without a step (KerasTuner's)."""
        values = self._values_cache()
        if values is not None:
            return tuple(values)
        spread = (self.prob_to_value(i * 0.1 + 0.05) for i in range(10))
        return tuple(dict.fromkeys(spread))  # an Int over a short log range repeats some

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not (self.min_value - 1e-12 <= value <= self.max_value + 1e-12):
            return False
        values = self._values_cache()
        if values is None:
            return True
        return any(math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12) for v in values)

    def _values_cache(self) -> list[Any] | None:
        if not hasattr(self, "_cached_values"):
            self._cached_values = self._stepped_values()
        return self._cached_values

    def describe(self) -> str:
        text = f"a {self.kind.lower()} in [{self.min_value}, {self.max_value}]"
        if self.step is not None:
            text += f" with step {self.step}"
        return text

    def _log_bounds(self) -> tuple[float, float]:
        return math.log(self.min_value), math.log(self.max_value)

    def _linear_map(self) -> bool:
        if self.sampling == "linear":
            return True
        # Bounds a few ulps apart have equal logarithms: map them linearly.
        llo, lhi = self._log_bounds()
        return lhi == llo

    def _continuous_to_unit(self, value: float) -> float:
        lo, hi = self.min_value, self.max_value
        if hi == lo:
            return 0.5
        if self._linear_map():
            return (value - lo) / (hi - lo)
        llo, lhi = self._log_bounds()
        if self.sampling == "log":
            return (math.log(value) - llo) / (lhi - llo)
        # reverse_log: fine resolution near max_value
        return 1.0 - (math.log(hi + lo - value) - llo) / (lhi - llo)

    def _continuous_from_unit(self, u: float) -> float:
        lo, hi = self.min_value, self.max_value
        if self._linear_map():
            return lo + u * (hi - lo)
        llo, lhi = self._log_bounds()
        if self.sampling == "log":
            return math.exp(llo + u * (lhi - llo))
        return hi + lo - math.exp(llo + (1.0 - u) * (lhi - llo))

    def to_unit(self, value: Any) -> float:
        values = self._values_cache()
        if values is not None:
            index = min(range(len(values)), key=lambda i: abs(values[i] - value))
            return (index + 0.5) / len(values)
        return min(1.0, max(0.0, self._continuous_to_unit(float(value))))

    def from_unit(self, u: float) -> Any:
        u = min(1.0, max(0.0, float(u)))
        values = self._values_cache()
        if values is not None:
            return values[min(int(u * len(values)), len(values) - 1)]
        value = self._continuous_from_unit(u)
        return min(self.max_value, max(self.min_value, self._snap(value)))

    def _summary_items(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "step": self.step,
            "sampling": self.sampling,
        }


class Int(_Numerical):
    """An integer in `[min_value, max_value]`.

    With `step`, values are `min_value + k * step` (or `min_value * step**k` for log sampling).
    The default default is `min_value`.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Int("units", min_value=32, max_value=128, step=32)
    32
    """

    kind = "Int"

    def __init__(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str | None = "linear",
        default: int | None = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        for label, v in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if v is None and label == "step":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
                raise bad_definition("Int", name, f"{label}={v!r} is not an integer")
        if step is None and (sampling is None or str(sampling).lower() == "linear"):
            # KerasTuner gives a linear Int without a step the step 1, and reports it; the
            # values and their sampling are the same either way.
            step = 1
        super().__init__(
            name,
            int(min_value),
            int(max_value),
            None if step is None else int(step),
            sampling,
            default,
            conditions,
        )

    @property
    def default(self) -> int:
        return int(self.min_value) if self._default is None else int(self._default)

    def _summary_default(self) -> Any:
        # KerasTuner prints an Int's unset default as None (the value used is min_value).
        return self._default

    @property
    def is_discrete(self) -> bool:
        return True

    def _snap(self, value: float) -> int:
        return int(round(value))

    def cast(self, value: Any) -> Any:
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if hasattr(value, "item"):  # numpy scalar
            return self.cast(value.item())
        return value

    def _every_integer(self) -> bool:
        # Step 1 on a linear scale: every integer of the range, handled without listing
        # them (a range of a billion is fine).
        return self.step == 1 and self.sampling == "linear"

    def contains(self, value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if self._every_integer():
            return self.min_value <= value <= self.max_value
        return super().contains(value)

    @property
    def values(self) -> Iterable[Any]:
        if self._every_integer():
            return range(int(self.min_value), int(self.max_value) + 1)
        if self.step is None:
            # KerasTuner's ten values of a log-scale Int: drawn over [min, max + 1) and
            # truncated, as its grid search takes them.
            lo, hi = self.min_value, self.max_value + 1
            points = []
            for i in range(10):
                p = i * 0.1 + 0.05
                if self.sampling == "log":
                    points.append(int(lo * (hi / lo) ** p))
                else:
                    points.append(int(hi + lo - lo * (hi / lo) ** (1 - p)))
            return tuple(dict.fromkeys(points))
        return super().values

    def to_unit(self, value: Any) -> float:
        if self._every_integer():
            count = self.max_value - self.min_value + 1
            return (int(value) - self.min_value + 0.5) / count
        return super().to_unit(value)

    def from_unit(self, u: float) -> int:
        if self._every_integer():
            count = int(self.max_value - self.min_value) + 1
            u = min(1.0, max(0.0, float(u)))
            return int(self.min_value) + min(int(u * count), count - 1)
        return int(super().from_unit(u))

    def grid_values(self) -> list[Any]:
        if self._every_integer():
            return list(range(int(self.min_value), int(self.max_value) + 1))
        return super().grid_values()


class Float(_Numerical):
    """A float in `[min_value, max_value]`, continuous unless `step` is given.

    The default default is `min_value`.

    Examples
    --------
    >>> hp = HyperParameters()
    >>> hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    0.0001
    """

    kind = "Float"

    def __init__(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str | None = "linear",
        default: float | None = None,
        conditions: Sequence[Parent] = (),
    ) -> None:
        super().__init__(
            name,
            float(min_value) if _is_number(min_value) else min_value,
            float(max_value) if _is_number(max_value) else max_value,
            step,
            sampling,
            default,
            conditions,
        )

    @property
    def default(self) -> float:
        return self.min_value if self._default is None else self._default

    def cast(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) or hasattr(value, "item"):
            return float(value)
        return value

    def contains(self, value: Any) -> bool:
        return isinstance(value, float) and super().contains(value)

    def _snap(self, value: float) -> float:
        return float(value)

    def _stepped_values(self) -> list[Any] | None:
        values = super()._stepped_values()
        if values is None:
            return None
        if self.sampling == "linear":
            # min_value + k * step carries binary rounding noise (0.1 + 2 * 0.1 is
            # 0.30000000000000004, above max_value=0.3): round to the decimals the user
            # wrote in min_value and step, which gives the decimal value they meant.
            digits = max(_decimals(self.min_value), _decimals(self.step))  # type: ignore[arg-type]
            values = [round(v, digits) for v in values]
        return [min(self.max_value, v) for v in values]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decimals(value: float) -> int:
    """Digits after the point in the shortest text of `value` (0.05 -> 2, 1e-4 -> 4)."""
    exponent = decimal.Decimal(repr(float(value))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
