"""Seed 000 ("Tailor the search space"), with `import tunelab as kt` in place of keras_tuner.

The hypermodel registers exactly the hyperparameters of the seed's build_model; it returns
metrics instead of a Keras model so that the test needs only the core.
"""

from __future__ import annotations

import tunelab as keras_tuner

SEEN: list[dict] = []


def build_model(hp):
    units = hp.Int("units", min_value=32, max_value=128, step=32, default=64)
    dropout = hp.Boolean("dropout")
    learning_rate = hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    SEEN.append({"units": units, "dropout": dropout, "learning_rate": learning_rate})
    score = 1.0 - abs(learning_rate - 1e-3) - units / 1000 - (0.05 if dropout else 0.0)
    return {"val_accuracy": score, "val_loss": 1.0 - score}


def test_search_a_few_and_fix_the_rest(tmp_path, capsys):
    SEEN.clear()
    hp = keras_tuner.HyperParameters()
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        hyperparameters=hp,
        tune_new_entries=False,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory=tmp_path / "my_dir",
        project_name="search_a_few",
    )
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.search_space_summary()
    assert capsys.readouterr().out == (
        "Search space summary\n"
        "Default search space size: 1\n"
        "learning_rate (Float)\n"
        "{'default': 0.0001, 'conditions': [], 'min_value': 0.0001, 'max_value': 0.01, "
        "'step': None, 'sampling': 'log'}\n"
    )
    assert len(SEEN) == 3
    for values in SEEN:
        assert values["units"] == 64 and values["dropout"] is False  # fixed at defaults
        assert 1e-4 <= values["learning_rate"] <= 1e-2  # the override, not the Choice
    assert len({v["learning_rate"] for v in SEEN}) == 3


def test_fix_a_few_and_tune_the_rest(tmp_path, capsys):
    SEEN.clear()
    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", value=1e-4)
    tuner = keras_tuner.RandomSearch(
        build_model,
        hyperparameters=hp,
        tune_new_entries=True,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory=tmp_path / "my_dir",
        project_name="fix_a_few",
    )
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.search_space_summary()
    assert capsys.readouterr().out == (
        "Search space summary\n"
        "Default search space size: 3\n"
        "learning_rate (Fixed)\n"
        "{'conditions': [], 'value': 0.0001}\n"
        "units (Int)\n"
        "{'default': 64, 'conditions': [], 'min_value': 32, 'max_value': 128, 'step': 32, "
        "'sampling': 'linear'}\n"
        "dropout (Boolean)\n"
        "{'default': False, 'conditions': []}\n"
    )
    assert {v["learning_rate"] for v in SEEN} == {1e-4}
    assert all(v["units"] in (32, 64, 96, 128) for v in SEEN)


def test_choice_override_summary_like_the_hyperxception_example(tmp_path, capsys):
    hp = keras_tuner.HyperParameters()
    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
    tuner = keras_tuner.RandomSearch(
        build_model,
        hyperparameters=hp,
        tune_new_entries=False,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory=tmp_path / "my_dir",
        project_name="helloworld",
    )
    tuner.search(verbose=0)
    capsys.readouterr()
    tuner.search_space_summary()
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Default search space size: 1",
        "learning_rate (Choice)",
        "{'default': 0.01, 'conditions': [], 'values': [0.01, 0.001, 0.0001], 'ordered': True}",
    ]
    best = tuner.get_best_hyperparameters()[0]
    assert best.get("learning_rate") == 1e-3  # the best of the three values
    assert len(tuner.oracle.trials) == 3


def test_allow_new_entries_false_rejects_unlisted_hyperparameters(tmp_path):
    hp = keras_tuner.HyperParameters()
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")
    tuner = keras_tuner.RandomSearch(
        build_model,
        hyperparameters=hp,
        allow_new_entries=False,
        objective="val_accuracy",
        max_trials=2,
        max_consecutive_failed_trials=None,
        overwrite=True,
        directory=tmp_path,
        project_name="strict",
    )
    tuner.search(verbose=0)
    for trial in tuner.oracle.trials.values():
        assert trial.status == "FAILED"
        assert "'units' is not in the search space" in trial.message
        assert "allow_new_entries=False" in trial.message
