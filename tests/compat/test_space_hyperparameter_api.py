"""The HyperParameter objects' public methods, as KerasTuner code uses them.

Expected values are KerasTuner 1.4.8's, observed by running the same calls against it
(`random_sample` draws with `random.Random(seed)` in both).
"""

from __future__ import annotations

import json

import pytest

import tunelab as kt
from tunelab.hyperparameters import Int, deserialize, serialize

PROBS = (0.0, 0.1, 0.5, 0.9, 0.999)
SEEDS = (0, 1, 42)


def space():
    hp = kt.HyperParameters()
    hp.Int("i", 1, 10)
    hp.Int("is", 0, 20, step=5)
    hp.Int("ils", 2, 32, step=2, sampling="log")
    hp.Float("f", 0.0, 1.0)
    hp.Float("fs", 0.0, 1.0, step=0.25)
    hp.Float("fl", 1e-4, 1e-1, sampling="log")
    hp.Float("fr", 0.1, 1.0, sampling="reverse_log")
    hp.Choice("c", ["a", "b", "c"])
    hp.Boolean("b")
    hp.Fixed("x", 3)
    with hp.conditional_scope("c", ["a"]):
        hp.Int("cond", 1, 3)
    return hp


def by_name(hp):
    return {p.name: p for p in hp.space}


# KerasTuner 1.4.8's get_config() of each definition above.
CONFIGS = {
    "i": {"name": "i", "default": None, "conditions": [], "min_value": 1, "max_value": 10,
          "step": 1, "sampling": "linear"},
    "is": {"name": "is", "default": None, "conditions": [], "min_value": 0, "max_value": 20,
           "step": 5, "sampling": "linear"},
    "ils": {"name": "ils", "default": None, "conditions": [], "min_value": 2, "max_value": 32,
            "step": 2, "sampling": "log"},
    "f": {"name": "f", "default": 0.0, "conditions": [], "min_value": 0.0, "max_value": 1.0,
          "step": None, "sampling": "linear"},
    "fs": {"name": "fs", "default": 0.0, "conditions": [], "min_value": 0.0, "max_value": 1.0,
           "step": 0.25, "sampling": "linear"},
    "fl": {"name": "fl", "default": 0.0001, "conditions": [], "min_value": 0.0001,
           "max_value": 0.1, "step": None, "sampling": "log"},
    "fr": {"name": "fr", "default": 0.1, "conditions": [], "min_value": 0.1, "max_value": 1.0,
           "step": None, "sampling": "reverse_log"},
    "c": {"name": "c", "default": "a", "conditions": [], "values": ["a", "b", "c"],
          "ordered": False},
    "b": {"name": "b", "default": False, "conditions": []},
    "x": {"name": "x", "conditions": [], "value": 3},
    "cond": {"name": "cond", "default": None,
             "conditions": [{"class_name": "Parent", "config": {"name": "c", "values": ["a"]}}],
             "min_value": 1, "max_value": 3, "step": 1, "sampling": "linear"},
}  # fmt: skip


def test_get_config_matches_keras_tuner():
    hps = by_name(space())
    for name, config in CONFIGS.items():
        assert hps[name].get_config() == config, name


def test_int_without_a_step_reports_step_1():
    # KerasTuner 1.4.8: a linear Int without a step has step 1; a log one keeps None.
    assert Int("n", 6, 12).step == 1
    assert Int("n", 1, 1000, sampling="log").get_config()["step"] is None
    hp = kt.HyperParameters()
    hp.Int("n", -5, 5)
    assert hp.get_config()["space"][0]["config"]["step"] == 1


def test_values_of_each_kind():
    hps = by_name(space())
    # KerasTuner 1.4.8's `.values` (list() of them; a step gives every value).
    assert list(hps["i"].values) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert list(hps["is"].values) == [0, 5, 10, 15, 20]
    assert list(hps["ils"].values) == [2, 4, 8, 16, 32]
    assert list(hps["fs"].values) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(hps["c"].values) == ["a", "b", "c"]
    assert list(hps["b"].values) == [True, False]
    assert list(hps["x"].values) == [3]
    assert list(hps["cond"].values) == [1, 2, 3]
    # A log-scale Int without a step: KerasTuner 1.4.8's ten values (in a set).
    assert sorted(Int("n", 1, 1000, sampling="log").values) == [
        1, 2, 5, 11, 22, 44, 89, 177, 355, 708
    ]  # fmt: skip
    assert sorted(Int("n", 1, 1000, sampling="reverse_log").values) == [
        293, 646, 824, 912, 957, 979, 990, 996, 999, 1000
    ]  # fmt: skip
    assert sorted(Int("n", 1, 4, sampling="log").values) == [1, 2, 3, 4]
    # Without a step, ten evenly spread values (KerasTuner 1.4.8's, in a set).
    assert sorted(hps["f"].values) == pytest.approx([0.05 + 0.1 * k for k in range(10)])
    assert sorted(hps["fl"].values) == pytest.approx(
        [0.00014125375446227543, 0.00028183829312644545, 0.0005623413251903491,
         0.0011220184543019637, 0.00223872113856834, 0.004466835921509632,
         0.008912509381337464, 0.017782794100389243, 0.035481338923357565,
         0.07079457843841383]
    )  # fmt: skip
    assert sorted(hps["fr"].values) == pytest.approx(
        [0.20874906186625464, 0.3920542156158622, 0.5376586748096509, 0.653316407849037,
         0.7451866107664246, 0.8181617068735547, 0.8761278861431662, 0.9221720589961079,
         0.9587462455377247, 0.9877981545698038]
    )  # fmt: skip


# KerasTuner 1.4.8's prob_to_value at PROBS and random_sample at SEEDS.
SAMPLES = {
    "i": ([1, 2, 6, 10, 10], [9, 2, 7]),
    "is": ([0, 0, 10, 20, 20], [20, 0, 15]),
    "ils": ([2, 2, 8, 32, 32], [32, 2, 16]),
    "f": ([0.0, 0.1, 0.5, 0.9, 0.999], [0.8444218515250481, 0.13436424411240122,
                                        0.6394267984578837]),
    "fs": ([0.0, 0.0, 0.5, 1.0, 1.0], [1.0, 0.0, 0.75]),
    "fl": ([0.0001, 0.00019952623149688798, 0.0031622776601683794, 0.050118723362727234,
            0.09931160484209338], [0.034140160192072944, 0.00025298381201802614,
                                   0.008284768840933801]),
    "fr": ([0.1, 0.3056717652757185, 0.7837722339831621, 0.9741074588205834,
            0.9997694761922101], [0.9569202579628041, 0.3661019126095334, 0.8706106760053539]),
    "c": (["a", "a", "b", "c", "c"], ["c", "a", "b"]),
    "b": ([False, False, True, True, True], [True, False, True]),
    "x": ([3, 3, 3, 3, 3], [3, 3, 3]),
    "cond": ([1, 1, 2, 3, 3], [3, 1, 2]),
}  # fmt: skip


def test_prob_to_value_and_random_sample_match_keras_tuner():
    hps = by_name(space())
    for name, (at_probs, at_seeds) in SAMPLES.items():
        p = hps[name]
        got = [p.prob_to_value(q) for q in PROBS]
        drawn = [p.random_sample(seed) for seed in SEEDS]
        if name.startswith("f"):
            assert got == pytest.approx(at_probs), name
            assert drawn == pytest.approx(at_seeds), name
        else:
            assert got == at_probs and drawn == at_seeds, name
            assert [type(v) for v in got] == [type(v) for v in at_probs], name


def test_value_to_prob_matches_keras_tuner():
    hps = by_name(space())
    # KerasTuner 1.4.8's value_to_prob of each default.
    expected = {"i": 0.05, "is": 0.1, "ils": 0.1, "f": 0.0, "fs": 0.1, "fl": 0.0, "fr": 0.0,
                "c": 1 / 6, "b": 0.25, "x": 0.5, "cond": 1 / 6}  # fmt: skip
    for name, prob in expected.items():
        assert hps[name].value_to_prob(hps[name].default) == pytest.approx(prob), name
    assert hps["c"].value_to_prob("c") == pytest.approx(5 / 6)
    assert hps["b"].value_to_prob(True) == 0.75


def test_serialize_and_deserialize_single_hyperparameters():
    for p in space().space:
        data = serialize(p)
        # KerasTuner 1.4.8's format: {"class_name": <type>, "config": get_config()}.
        assert data == {"class_name": type(p).__name__, "config": p.get_config()}
        assert json.loads(json.dumps(data)) == data
        back = deserialize(data)
        assert type(back) is type(p) and back.get_config() == p.get_config()
        assert type(p).from_config(p.get_config()) == p


def test_hyperparameters_round_trip_through_config_and_serialize():
    hp = space()
    config = hp.get_config()
    assert config["values"] == {"i": 1, "is": 0, "ils": 2, "f": 0.0, "fs": 0.0, "fl": 0.0001,
                                "fr": 0.1, "c": "a", "b": False, "x": 3, "cond": 1}  # fmt: skip
    again = kt.HyperParameters.from_config(config)
    assert again.values == hp.values and len(again.space) == 11
    assert again.get_config() == config
    data = serialize(hp)
    assert data["class_name"] == "HyperParameters" and data["config"] == config
    back = deserialize(data)
    assert isinstance(back, kt.HyperParameters) and back.get_config() == config
    with pytest.raises(ValueError, match="not a serialized hyperparameter"):
        deserialize({"class_name": "Lambda", "config": {}})
