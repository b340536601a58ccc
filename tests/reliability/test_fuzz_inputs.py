"""Hostile input, fuzzed with hypothesis: hyperparameter definitions, enqueued values and
objective names get a clear ValueError/TypeError (with a message) or work correctly; they
never leak an internal exception and never damage the store."""

from __future__ import annotations

import math
import tempfile

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.hyperparameters import HyperParameters

from . import proof

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values a user (or a file) might put anywhere: every JSON scalar and then some.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1e400", "nan", "-inf", "3", "3.0", " 16 ", "true", "0x10", "1_000"]),
    st.binary(max_size=4),
)
anything = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),
)
names = st.one_of(
    st.text(max_size=20), st.sampled_from(["", "x", "a/b", "\x00", "é" * 300, "status"]), scalars
)
samplings = st.one_of(
    st.sampled_from(["linear", "log", "reverse_log", "LOG", "Log ", "cubic"]), scalars
)


def _clear(error: BaseException) -> None:
    """A clear error: a ValueError or TypeError whose message says something."""
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    assert len(str(error)) > 10, repr(error)


def numeric_definitions(kind: str) -> st.SearchStrategy:
    """hp.Int or hp.Float calls (the same arguments) with fuzzed bounds, step and default."""
    return st.builds(
        lambda name, lo, hi, step, sampling, default: (
            kind,
            (name, lo, hi),
            dict(step=step, sampling=sampling, default=default),
        ),
        names,
        scalars,
        scalars,
        st.one_of(st.none(), scalars),
        samplings,
        st.one_of(st.none(), scalars),
    )


definitions = st.one_of(
    numeric_definitions("Int"),
    numeric_definitions("Float"),
    st.builds(
        lambda name, values, ordered, default: (
            "Choice",
            (name, values),
            dict(ordered=ordered, default=default),
        ),
        names,
        st.one_of(st.lists(scalars, max_size=5), scalars),
        st.one_of(st.none(), scalars),
        st.one_of(st.none(), scalars),
    ),
    st.builds(lambda name, default: ("Boolean", (name,), dict(default=default)), names, scalars),
    st.builds(lambda name, value: ("Fixed", (name, value), {}), names, anything),
)


def _check_definition(hp: HyperParameters, name: str, value) -> None:
    """An accepted definition is consistent: its value is in its space and it round-trips."""
    definition = hp._space[name]
    assert definition.validate(value) == value
    u = definition.to_unit(value)
    assert 0.0 <= u <= 1.0
    back = definition.from_unit(u)
    assert definition.contains(back)
    if definition.is_discrete:
        assert back == value
    for unit in (0.0, 0.5, 1.0):
        assert definition.contains(definition.from_unit(unit))
    again = HyperParameters.from_config(hp.get_config())
    assert again.space == hp.space


@FUZZ
@given(definitions)
# Bounds a few ulps apart on a log scale: their logs are equal (division by zero).
@example(("Float", ("x", 9.0, 9.000000000000002), {"sampling": "log"}))
@example(("Float", ("x", 9.0, 9.000000000000002), {"sampling": "reverse_log"}))
@example(("Fixed", ("nothing", None), {}))  # None was refused by its own validate()
def test_fuzzed_definitions_are_accepted_consistently_or_refused_clearly(definition):
    kind, args, kwargs = definition
    hp = HyperParameters()
    proof.add("fuzz_cases")
    try:
        value = getattr(hp, kind)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the assertion is on the kind of error
        _clear(error)
        assert not hp.space  # a refused definition leaves nothing behind
        return
    _check_definition(hp, args[0], value)


space_values = st.dictionaries(
    st.one_of(
        st.sampled_from(["units", "lr", "act", "flag", "fixed", "layers", "none", "unknown", ""]),
        st.text(max_size=5),
    ),
    anything,
    max_size=5,
)


def _space() -> HyperParameters:
    hp = HyperParameters()
    hp.Int("units", 8, 64, step=8)
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Choice("act", ["relu", "tanh"])
    hp.Boolean("flag")
    hp.Fixed("fixed", 3)
    hp.Choice("layers", [1, 2, 4])
    hp.Fixed("none", None)
    return hp


@FUZZ
@given(name=st.sampled_from(list(_space()._space)), value=anything)
@example(name="layers", value="1e400")  # int(float("1e400")) raised OverflowError
def test_fuzzed_values_are_cast_into_the_space_or_refused_clearly(name, value):
    proof.add("fuzz_cases")
    definition = _space()._space[name]
    try:
        cast = definition.validate(value)
    except Exception as error:  # noqa: BLE001
        _clear(error)
        assert name in str(error)  # the message names the hyperparameter
        return
    assert definition.contains(cast)
    assert definition.validate(cast) == cast  # casting is stable


@FUZZ
@given(values=space_values, allow_new=st.booleans())
def test_fuzzed_enqueued_values_are_checked_and_what_is_accepted_runs(values, allow_new):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        oracle = kt.oracles.RandomSearchOracle(
            objective="loss",
            max_trials=3,
            seed=1,
            hyperparameters=_space(),
            allow_new_entries=allow_new,
            directory=tmp,
            project_name="p",
        )
        try:
            queued = oracle.enqueue_trial(values)
        except Exception as error:  # noqa: BLE001
            _clear(error)
            assert oracle.store.queue_length() == 0
            return
        assert queued is True
        trial = oracle.ask()
        got = trial.hyperparameters.values
        for name, definition in _space()._space.items():
            assert definition.contains(got[name])  # the oracle never hands out a bad value
            if name in values:
                assert got[name] == definition.validate(values[name])
        oracle.tell(trial, 1.0)
        reopened = kt.oracles.RandomSearchOracle(objective="loss", directory=tmp, project_name="p")
        assert reopened.get_trial(trial.trial_id).hyperparameters.values == got
        assert reopened.store.integrity_check() == "ok"


objectives = st.one_of(
    anything,
    st.text(max_size=30),
    st.lists(
        st.one_of(st.text(max_size=10), st.sampled_from(["loss", "val_accuracy"])), max_size=3
    ),
    st.builds(
        lambda n, d: (n, d),
        st.one_of(st.text(max_size=10), scalars),
        st.one_of(st.sampled_from(["min", "max"]), scalars),
    ),
)


@FUZZ
@given(objectives)
def test_fuzzed_objectives_work_or_are_refused_clearly(objective):
    proof.add("fuzz_cases")
    try:
        if isinstance(objective, tuple):
            objective = kt.Objective(*objective)
        oracle = kt.oracles.RandomSearchOracle(objective=objective, max_trials=2)
    except Exception as error:  # noqa: BLE001
        _clear(error)
        return
    oracle.hyperparameters.Float("x", 0.0, 1.0)
    trial = oracle.ask()
    names = (
        oracle.objective.names if hasattr(oracle.objective, "names") else [oracle.objective.name]
    )
    metrics = {name: 0.5 for name in (names() if callable(names) else names)}
    done = oracle.tell(trial, metrics)
    assert done.status == "COMPLETED" and done.score is not None and math.isfinite(done.score)
