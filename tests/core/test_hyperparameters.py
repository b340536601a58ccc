"""The search space: definitions, values, conditions, config round trips, unit-cube encoding."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.hyperparameters import Boolean, Choice, Fixed, Float, Int

# ---------------------------------------------------------------------------------------
# Registration and values
# ---------------------------------------------------------------------------------------


def test_registration_returns_default_and_same_value_again():
    hp = kt.HyperParameters()
    assert hp.Int("units", min_value=32, max_value=128, step=32, default=64) == 64
    assert hp.Int("units", min_value=32, max_value=128, step=32, default=64) == 64
    assert hp.Int("plain", 8, 64) == 8  # default default is min_value
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("dropout") is False
    assert hp.Fixed("batch", 32) == 32
    assert hp.values == {
        "units": 64,
        "plain": 8,
        "lr": 1e-4,
        "act": "relu",
        "dropout": False,
        "batch": 32,
    }
    assert [h.name for h in hp.space] == ["units", "plain", "lr", "act", "dropout", "batch"]


def test_classes_are_readable_from_the_class_and_registering_from_an_instance():
    hp = kt.HyperParameters()
    hp.Int("units", 8, 64, step=8)
    hp.Choice("act", ["a", "b"])
    definition = hp.space[0]
    assert isinstance(definition, kt.HyperParameters.Int)
    assert not isinstance(definition, kt.HyperParameters.Float)
    assert (definition.min_value, definition.max_value, definition.step) == (8, 64, 8)
    assert hp.space[1].values == ["a", "b"]
    # seed 004 reads `.space.items()`
    assert [name for name, _ in hp.space.items()] == ["units", "act"]


def test_constructor_values_and_get():
    hp = kt.HyperParameters({"units": 96})
    assert hp.Int("units", 32, 128, step=32) == 96
    assert hp.get("units") == 96
    assert hp["units"] == 96
    with pytest.raises(KeyError, match="not a registered hyperparameter"):
        hp.get("missing")


def test_conditional_scope_and_is_active():
    hp = kt.HyperParameters()
    model = hp.Choice("model", ["rf", "ridge"])
    assert model == "rf"
    with hp.conditional_scope("model", "rf"):
        assert hp.Int("trees", 10, 50, step=10) == 10
    with hp.conditional_scope("model", ["ridge"]):
        assert hp.Float("alpha", 1e-3, 1.0, sampling="log") is None  # inactive
    assert hp.is_active("trees") and not hp.is_active("alpha")
    assert hp.values == {"model": "rf", "trees": 10}
    hp.values["model"] = "ridge"
    assert hp.is_active("alpha") and not hp.is_active("trees")
    assert hp.get("alpha") == 1e-3
    assert hp.active_values() == {"model": "ridge", "alpha": 1e-3}


def test_parent_name_arguments_and_nested_conditions():
    hp = kt.HyperParameters()
    hp.Int("layers", 1, 3)
    hp.Int("units_2", 8, 16, parent_name="layers", parent_values=[2, 3])
    assert not hp.is_active("units_2")
    with hp.conditional_scope("layers", [3]):
        hp.Boolean("extra")
    hp.values["layers"] = 2
    assert hp.is_active("units_2") and not hp.is_active("extra")


def test_conditional_scope_errors():
    hp = kt.HyperParameters()
    with (
        pytest.raises(ValueError, match="parent hyperparameter 'nope' is not registered"),
        hp.conditional_scope("nope", [1]),
    ):
        pass
    hp.Choice("kind", ["a", "b"])
    with (
        pytest.raises(ValueError, match="'c' is not in its space"),
        hp.conditional_scope("kind", ["c"]),
    ):
        pass


def test_name_scope_prefixes_names():
    hp = kt.HyperParameters()
    with hp.name_scope("block1"):
        hp.Int("units", 8, 16)
        with hp.name_scope("inner"):
            hp.Boolean("bn")
    assert list(hp.values) == ["block1/units", "block1/inner/bn"]


def test_copy_is_independent():
    hp = kt.HyperParameters()
    hp.Int("a", 1, 5)
    other = hp.copy()
    other.values["a"] = 3
    other.Int("b", 1, 2)
    assert hp.values == {"a": 1} and len(hp.space) == 1
    assert other.values == {"a": 3, "b": 1}


def test_config_is_plain_json_and_round_trips():
    hp = kt.HyperParameters()
    hp.Int("units", 32, 128, step=32, default=64)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    kind = hp.Choice("kind", ["a", "b"], default="b")
    with hp.conditional_scope("kind", ["b"]):
        hp.Boolean("flag", default=True)
    hp.Fixed("seed", 3)
    assert kind == "b"
    config = json.loads(json.dumps(hp.get_config()))
    again = kt.HyperParameters.from_config(config)
    assert again.get_config() == hp.get_config()
    assert again.values == hp.values
    assert [type(d) for d in again.space] == [Int, Float, Choice, Boolean, Fixed]
    assert again.space[3].conditions[0].values == ["b"]


def test_summary_configs_match_kerastuner_format():
    hp = kt.HyperParameters()
    hp.Int("units", min_value=8, max_value=64, step=8)
    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    hp.Float("lr2", min_value=1e-4, max_value=1e-2, sampling="log")
    hp.Boolean("dropout")
    hp.Fixed("learning_rate_fixed", value=1e-4)
    configs = [repr(d.summary_config()) for d in hp.space]
    assert configs == [
        "{'default': None, 'conditions': [], 'min_value': 8, 'max_value': 64, 'step': 8, "
        "'sampling': 'linear'}",
        "{'default': 0.01, 'conditions': [], 'values': [0.01, 0.001, 0.0001], 'ordered': True}",
        "{'default': 0.0001, 'conditions': [], 'min_value': 0.0001, 'max_value': 0.01, "
        "'step': None, 'sampling': 'log'}",
        "{'default': False, 'conditions': []}",
        "{'conditions': [], 'value': 0.0001}",
    ]


# ---------------------------------------------------------------------------------------
# Bad definitions
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hp: hp.Int("u", 10, 5), "'u': min_value=10 is greater than max_value=5"),
        (lambda hp: hp.Float("f", 1.0, 0.5), "'f': min_value=1.0 is greater than max_value=0.5"),
        (lambda hp: hp.Choice("c", []), "'c': values is empty"),
        (lambda hp: hp.Choice("c", [1, 1, 2]), "'c': value 1 appears more than once"),
        (lambda hp: hp.Choice("c", [1, "a"]), "'c': values mix types"),
        # The default is named as the argument it is (it was "value 11 for ...").
        (lambda hp: hp.Int("u", 1, 10, default=11), "'u': default=11 is not in its space"),
        (lambda hp: hp.Float("f", 0.0, 1.0, default=2.0), "'f': default=2.0 is not in its space"),
        (
            lambda hp: hp.Int("u", 0, 9, step=3, default=4),
            "default=4 is not in its space: expected",
        ),
        (lambda hp: hp.Choice("c", ["a"], default="b"), "'c': default='b' is not one of"),
        (
            lambda hp: hp.Float("f", 0.0, 1.0, sampling="log"),
            "'f': sampling='log' needs min_value > 0",
        ),
        (lambda hp: hp.Int("u", -1, 10, sampling="log"), "'u': sampling='log' needs min_value > 0"),
        (lambda hp: hp.Int("u", 1, 10, step=0), "'u': step=0; expected a number > 0"),
        (lambda hp: hp.Float("f", 0.0, 1.0, step=-0.1), "'f': step=-0.1; expected a number > 0"),
        (lambda hp: hp.Float("f", 0.0, 1.0, sampling="cubic"), "'f': sampling='cubic'"),
        (lambda hp: hp.Int("u", 1.5, 10), "'u': min_value=1.5 is not an integer"),
        (lambda hp: hp.Float("f", 0.0, float("inf")), "'f': max_value=inf is not a finite"),
        (lambda hp: hp.Boolean("b", default="yes"), "'b': default='yes'; expected True or False"),
        (lambda hp: hp.Int("", 1, 2), "name must be a non-empty string"),
    ],
)
def test_bad_definitions_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(kt.HyperParameters())


def test_choice_default_takes_the_type_of_the_values():
    # A default equal to a value but of another type (1.0 or True for int values) used to
    # be kept as given, so the trial got a float or a bool where every value is an int.
    hp = kt.HyperParameters()
    assert hp.Choice("units", [16, 32], default=32.0) == 32
    assert type(hp.values["units"]) is int
    assert type(hp.space[0].default) is int
    with pytest.raises(ValueError, match=r"'flag': default=True is not one of values \[0, 1\]"):
        hp.Choice("flag", [0, 1], default=True)
    with pytest.raises(ValueError, match=r"'rate': default=True is not one of values \[0.5, 1.0\]"):
        hp.Choice("rate", [0.5, 1.0], default=True)


def test_stepped_float_values_are_the_decimal_values_and_stay_in_bounds(tmp_path):
    # min_value + k * step in binary floating point gave 0.30000000000000004 (above
    # max_value=0.3) and 0.8500000000000001: out of the space, and shown as such to users.
    hp = kt.HyperParameters()
    hp.Float("f", 0.1, 0.3, step=0.1)
    hp.Float("subsample", 0.05, 0.95, step=0.05)
    hp.Float("lr", 1e-4, 1e-1, step=10, sampling="log")
    f, subsample, lr = hp.space
    assert f.grid_values() == [0.1, 0.2, 0.3]
    assert subsample.grid_values()[-3:] == [0.85, 0.9, 0.95]
    assert lr.grid_values() == [1e-4, 1e-3, 1e-2, 1e-1]
    assert f.from_unit(1.0) == 0.3 and subsample.from_unit(1.0) == 0.95
    tuner = kt.GridSearch(
        lambda hp: hp.Float("f", 0.1, 0.3, step=0.1), objective="loss", directory=tmp_path
    )
    tuner.search(verbose=0)
    values = [t.hyperparameters["f"] for t in tuner.oracle.trials.values()]
    assert values == [0.1, 0.2, 0.3]


def test_same_name_under_the_same_conditions_returns_the_first_definition():
    # KerasTuner 1.4.8 returns the value of the first definition (8 for all of these) and
    # keeps one entry: a user's `hyperparameters=` overrides a hypermodel's definition so.
    hp = kt.HyperParameters()
    hp.Int("units", 8, 64)
    assert hp.Int("units", 8, 64) == 8
    assert hp.Int("units", 8, 128, default=100) == 8
    assert hp.Float("units", 8.0, 64.0) == 8
    assert len(hp.space) == 1 and hp.space[0].max_value == 64


# ---------------------------------------------------------------------------------------
# Unit-cube encoding (property-based)
# ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
unit = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def definitions(draw):
    kind = draw(
        st.sampled_from(
            [
                "int",
                "int_step",
                "int_log",
                "float",
                "float_step",
                "float_log",
                "float_rlog",
                "choice",
                "boolean",
                "fixed",
            ]
        )
    )
    if kind.startswith("int"):
        lo = draw(st.integers(1, 1000))
        hi = lo + draw(st.integers(0, 5000))
        if kind == "int_step":
            return Int("x", lo, hi, step=draw(st.integers(1, 50)))
        return Int("x", lo, hi, sampling="log" if kind == "int_log" else "linear")
    if kind in ("float_log", "float_rlog"):
        lo = draw(positive)
        hi = lo * draw(st.floats(1.0, 1e4))
        return Float("x", lo, hi, sampling="log" if kind == "float_log" else "reverse_log")
    if kind.startswith("float"):
        lo = draw(finite)
        hi = lo + draw(st.floats(0.0, 1e5))
        if kind == "float_step":
            return Float("x", lo, hi, step=draw(st.floats(1e-2, 1e3)))
        return Float("x", lo, hi)
    if kind == "choice":
        values = draw(
            st.one_of(
                st.lists(st.integers(-100, 100), min_size=1, max_size=8, unique=True),
                st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=8, unique=True),
                st.lists(finite, min_size=1, max_size=8, unique=True),
            )
        )
        return Choice("x", values)
    if kind == "boolean":
        return Boolean("x")
    return Fixed("x", draw(st.one_of(st.integers(), st.text(max_size=5))))


@settings(max_examples=300, deadline=None)
@given(definitions(), unit)
def test_any_decoded_point_lies_in_the_space(definition, u):
    value = definition.from_unit(u)
    assert definition.contains(value), (definition, u, value)
    assert 0.0 <= definition.to_unit(value) <= 1.0


@settings(max_examples=300, deadline=None)
@given(definitions(), unit)
def test_decode_of_encode_is_identity(definition, u):
    value = definition.from_unit(u)
    again = definition.from_unit(definition.to_unit(value))
    if isinstance(definition, Float) and definition.step is None:
        assert math.isclose(
            again,
            value,
            rel_tol=1e-9,
            abs_tol=1e-9 * (abs(definition.max_value) + abs(definition.min_value) + 1),
        )
    else:
        assert again == value and type(again) is type(value)


def test_log_sampling_covers_decades_evenly():
    definition = Float("lr", 1e-5, 1e-1, sampling="log")
    values = [definition.from_unit(u) for u in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert [round(math.log10(v), 9) for v in values] == [-5.0, -4.0, -3.0, -2.0, -1.0]
    stepped = Int("units", 8, 256, step=2, sampling="log")
    assert stepped.grid_values() == [8, 16, 32, 64, 128, 256]


def test_reverse_log_is_fine_near_the_top():
    definition = Float("x", 1.0, 1000.0, sampling="reverse_log")
    assert definition.from_unit(0.0) == pytest.approx(1.0)
    assert definition.from_unit(1.0) == pytest.approx(1000.0)
    # the mirror image of log sampling: half of the unit interval covers the top 3%
    assert definition.from_unit(0.5) == pytest.approx(1001.0 - math.sqrt(1000.0))


def test_validate_casts_text_and_rejects_out_of_space_values():
    assert Int("u", 1, 10).validate("4") == 4
    assert Float("f", 0.0, 1.0).validate(1) == 1.0
    assert Choice("c", [0.1, 0.2]).validate("0.2") == 0.2
    assert Boolean("b").validate("True") is True
    with pytest.raises(
        ValueError,
        match=r"value 12 for Int hyperparameter 'u' is not in its "
        r"space: expected a int in \[1, 10\]",
    ):
        Int("u", 1, 10).validate(12)
    with pytest.raises(ValueError, match="expected one of"):
        Choice("c", ["a", "b"]).validate("z")
    with pytest.raises(ValueError, match="with step 2"):
        Int("u", 0, 10, step=2).validate(3)
