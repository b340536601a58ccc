"""Values the store cannot keep are refused where they are defined, with the name, the
value and what is expected: inf and NaN in a Choice or a Fixed (JSON has neither; a stored
space holding one no longer loaded, and took 20 finished trials with it), NUL characters
and lone surrogates in names, an objective list naming a metric twice. A project whose
stored space was written that way by an earlier version stays readable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

import tunelab as kt
from tunelab.results import load_results
from tunelab.store import STORE_FILENAME


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (
            lambda hp: hp.Choice("c", [1.0, float("inf")]),
            r"Choice .*'c'.*value inf is not a finite",
        ),
        (lambda hp: hp.Choice("c", [float("-inf")]), r"value -inf is not a finite"),
        (lambda hp: hp.Choice("c", [0.5, float("nan")]), r"value nan is not a finite"),
        (lambda hp: hp.Fixed("f", float("inf")), r"Fixed .*'f'.*value inf is not a finite"),
        (lambda hp: hp.Fixed("f", float("nan")), r"value nan is not a finite"),
        (lambda hp: hp.Float("a\x00b", 0, 1), r"'a\\x00b' contains a NUL character"),
        (lambda hp: hp.Int("\ud800", 0, 1), r"contains a lone surrogate"),
    ],
)
def test_values_the_store_cannot_keep_are_refused_at_definition(define, message):
    with pytest.raises(ValueError, match=message):
        define(kt.HyperParameters())


def test_an_objective_list_naming_a_metric_twice_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"names 'loss' more than once"):
        kt.RandomSearch(
            lambda hp: {"loss": hp.Float("x", 0, 1)},
            objective=["loss", "loss"],
            max_trials=1,
            directory=tmp_path,
        )


def test_a_stored_space_with_inf_keeps_its_trials_readable(tmp_path):
    """As an earlier version wrote it: the Choice's values as the strings "inf"."""
    tuner = kt.RandomSearch(
        lambda hp: hp.Choice("c", [1.0, 2.0]) * hp.Float("x", 0, 1),
        objective="loss",
        max_trials=20,
        seed=0,
        directory=tmp_path,
        project_name="p",
    )
    tuner.search(verbose=0)
    store = tmp_path / "p" / STORE_FILENAME
    connection = sqlite3.connect(store)
    space = json.loads(connection.execute("SELECT value FROM meta WHERE key='space'").fetchone()[0])
    for entry in space:
        if entry["config"]["name"] == "c":
            entry["config"]["values"] = [1.0, "inf"]
    connection.execute("UPDATE meta SET value=? WHERE key='space'", (json.dumps(space),))
    connection.commit()
    connection.close()
    assert len(load_results(tmp_path / "p").finished) == 20
    for command in ("summary", "best", "export"):
        result = subprocess.run(
            [sys.executable, "-m", "tunelab.cli", command, str(tmp_path / "p")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (command, result.stderr)
