"""The trial store: resume, overwrite, safety of paths and foreign files, space changes."""

from __future__ import annotations

import json
import sqlite3

import pytest

import tunelab as kt
from tunelab.store import SCHEMA_VERSION, STORE_FILENAME, Store, StoreError


def fn(hp):
    return (hp.Float("x", -2.0, 2.0) - 0.5) ** 2 + hp.Int("n", 1, 4)


def make(tmp_path, max_trials=5, overwrite=False, function=fn, **kwargs):
    return kt.RandomSearch(
        function,
        objective="loss",
        max_trials=max_trials,
        seed=0,
        directory=tmp_path,
        project_name="proj",
        overwrite=overwrite,
        **kwargs,
    )


def test_store_is_sqlite_wal_with_json_values(tmp_path):
    make(tmp_path).search(verbose=0)
    path = tmp_path / "proj" / STORE_FILENAME
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        rows = conn.execute("SELECT trial_id, status, hp_values, metrics FROM trials").fetchall()
    assert json.loads(meta["format"]) == "tunelab-store"
    assert json.loads(meta["schema_version"]) == SCHEMA_VERSION
    assert [s["config"]["name"] for s in json.loads(meta["space"])] == ["x", "n"]
    assert len(rows) == 5 and {r[1] for r in rows} == {"COMPLETED"}
    for _, _, values, metrics in rows:
        assert set(json.loads(values)) == {"x", "n"}
        assert "loss" in json.loads(metrics)["metrics"]


def test_resume_keeps_finished_trials_and_counts_them(tmp_path):
    first = make(tmp_path, max_trials=5)
    first.search(verbose=0)
    before = {t.trial_id: t.hyperparameters.values for t in first.oracle.trials.values()}
    calls = []

    def counting(hp):
        calls.append(1)
        return fn(hp)

    again = make(tmp_path, max_trials=8, function=counting)
    again.search(verbose=0)
    after = again.oracle.trials
    assert len(after) == 8 and len(calls) == 3
    assert {k: after[k].hyperparameters.values for k in before} == before
    # nothing more to do at the same max_trials
    make(tmp_path, max_trials=8, function=counting).search(verbose=0)
    assert len(calls) == 3


def test_overwrite_starts_clean(tmp_path):
    make(tmp_path).search(verbose=0)
    fresh = make(tmp_path, max_trials=2, overwrite=True)
    assert fresh.oracle.trials == {}
    fresh.search(verbose=0)
    assert len(fresh.oracle.trials) == 2


@pytest.mark.parametrize(
    "name", ["..", "../escape", "/etc", "a/b", "", ".", "x" * 300, "bad\x00name"]
)
def test_project_names_that_escape_the_directory_are_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="project_name=.* is not allowed"):
        kt.RandomSearch(fn, objective="loss", directory=tmp_path, project_name=name)


def test_unicode_project_names_are_fine(tmp_path):
    tuner = kt.RandomSearch(
        fn, objective="loss", max_trials=1, directory=tmp_path, project_name="étude 調整"
    )
    tuner.search(verbose=0)
    assert (tmp_path / "étude 調整" / STORE_FILENAME).exists()


def test_a_foreign_file_is_never_used_or_overwritten(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    target = folder / STORE_FILENAME
    target.write_text("my thesis, not a database")
    for overwrite in (False, True):
        with pytest.raises(StoreError, match="not a tunelab store"):
            make(tmp_path, overwrite=overwrite)
    assert target.read_text() == "my thesis, not a database"
    target.unlink()
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(StoreError, match="SQLite file but not a tunelab store"):
        make(tmp_path, overwrite=True)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("accounts",)]


def _freeze_mid_transaction(tmp_path, setup, interrupted):
    """The project's store file (and its journal) as a process killed inside a write leaves
    them: `setup` is committed, `interrupted` was written to the file (a spilled cache) but
    never committed. The files are copied while the writer still holds its transaction, so
    the copy has a hot rollback journal and no process holding it. Returns the store path."""
    folder = tmp_path / "proj"
    folder.mkdir()
    target = folder / STORE_FILENAME
    source = target.with_name("writer.sqlite")
    conn = sqlite3.connect(source, isolation_level=None)
    conn.executescript(setup)
    conn.execute("PRAGMA cache_size=1")  # spill every change to the file before COMMIT
    conn.execute("BEGIN IMMEDIATE")
    for statement in interrupted:
        conn.execute(statement)
    for suffix in ("", "-journal"):
        with open(f"{source}{suffix}", "rb") as src, open(f"{target}{suffix}", "wb") as dst:
            dst.write(src.read())
    conn.execute("ROLLBACK")
    conn.close()
    return target


def test_a_store_killed_while_it_was_being_created_opens(tmp_path):
    """A SIGKILL inside the store's first transaction (switching to WAL, creating the tables)
    leaves a hot journal that a read-only look cannot undo: the next run recovers it (SQLite's
    own rollback) and goes on instead of calling the file foreign (a CI failure, seed 111241)."""
    blob = "x" * 4000
    target = _freeze_mid_transaction(
        tmp_path,
        "PRAGMA user_version=0; VACUUM;",
        ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"]
        + [f"INSERT INTO meta VALUES ('k{i}', '{blob}')" for i in range(100)],
    )
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        sqlite3.connect(f"file:{target}?mode=ro", uri=True).execute("SELECT * FROM sqlite_master")
    tuner = make(tmp_path)
    tuner.search(verbose=0)
    assert len(tuner.oracle.trials) == 5
    assert tuner.oracle.store.get_meta("format") == "tunelab-store"


def test_a_foreign_file_with_a_hot_journal_is_refused_and_keeps_its_data(tmp_path):
    blob = "y" * 4000
    target = _freeze_mid_transaction(
        tmp_path,
        "CREATE TABLE accounts (id INTEGER, note TEXT); INSERT INTO accounts VALUES (1, 'kept');",
        [f"INSERT INTO accounts VALUES ({i}, '{blob}')" for i in range(2, 100)],
    )
    with pytest.raises(StoreError, match="SQLite file but not a tunelab store"):
        make(tmp_path, overwrite=True)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT id, note FROM accounts").fetchall() == [(1, "kept")]


def test_a_corrupted_store_gives_a_clear_error(tmp_path):
    tuner = make(tmp_path)
    tuner.search(verbose=0)
    # Closing the last connection checkpoints the WAL into the file we corrupt: without it,
    # whether the trials are in the file or still in the WAL depends on garbage collection.
    tuner.oracle.store.close()
    path = tmp_path / "proj" / STORE_FILENAME
    data = bytearray(path.read_bytes())
    data[100:4000] = b"\xff" * 3900
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        (tmp_path / "proj" / f"{STORE_FILENAME}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError):
        make(tmp_path)


def test_a_store_from_a_newer_schema_is_refused(tmp_path):
    make(tmp_path).search(verbose=0)
    path = tmp_path / "proj" / STORE_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer tunelab .*version 99.*upgrade tunelab"):
        make(tmp_path)


def test_changed_space_on_resume_is_reported_and_used(tmp_path, capsys):
    make(tmp_path, max_trials=3).search(verbose=0)
    capsys.readouterr()

    def wider(hp):
        return (hp.Float("x", -4.0, 4.0) - 0.5) ** 2 + hp.Int("n", 1, 4)

    tuner = make(tmp_path, max_trials=6, function=wider)
    tuner.search(verbose=0)
    out = capsys.readouterr().out
    assert "The search space differs from the stored one; going on with the new space:" in out
    assert "~ x (Float): min_value -2.0 -> -4.0, max_value 2.0 -> 4.0" in out
    assert out.count("~ x (Float)") == 1
    x = tuner.oracle.hyperparameters.space[0]
    assert (x.min_value, x.max_value) == (-4.0, 4.0)
    assert len(tuner.oracle.trials) == 6


def test_store_transactions_roll_back_on_error(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.set_meta("k", 1)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.set_meta("k", 2, conn)
        raise RuntimeError("boom")
    assert store.get_meta("k") == 1
    assert store.integrity_check() == "ok"
