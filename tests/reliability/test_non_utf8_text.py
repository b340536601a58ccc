"""A store whose text columns were damaged on disk into bytes that are not UTF-8 is reported
as damaged, naming the store, instead of leaking sqlite3's OperationalError (the fuzz test of
stored files found it: one flipped byte in a trial's tuner id)."""

import sqlite3

import pytest

import tunelab as kt
from tunelab.store import StoreError


@pytest.mark.parametrize("column", ["tuner_id", "message", "owner_host"])
def test_a_trial_text_that_is_not_utf8_is_reported_as_damage(tmp_path, column):
    tuner = kt.RandomSearch(
        lambda hp: hp.Float("x", 0.0, 1.0), objective="loss", max_trials=2,
        directory=tmp_path, project_name="p",
    )  # fmt: skip
    tuner.search(verbose=0)
    tuner.oracle.store.close()
    with sqlite3.connect(tmp_path / "p" / "tunelab.sqlite") as conn:
        conn.execute(f"UPDATE trials SET {column}=CAST(X'8075' AS TEXT) WHERE number=1")
    conn.close()
    oracle = kt.oracles.RandomSearchOracle(objective="loss", directory=tmp_path, project_name="p")
    with pytest.raises(
        StoreError, match="p/tunelab.sqlite is damaged: a trial's text is not UTF-8"
    ):
        _ = oracle.trials
