"""Store files in states a user meets after accidents: emptied to 0 bytes, truncated, on
a read-only file system, a project folder that is a dangling link, a stored space that no
longer loads. Each gets a clear error that says what happened and what to do, and the
finished trials stay readable wherever the file still holds them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

import tunelab as kt
from tunelab.results import load_results
from tunelab.store import STORE_FILENAME, StoreError


def _objective(hp):
    return hp.Float("x", 0.0, 1.0)


def _search(directory, project_name="p", max_trials=20):
    tuner = kt.RandomSearch(
        _objective,
        objective="loss",
        max_trials=max_trials,
        seed=0,
        directory=directory,
        project_name=project_name,
    )
    tuner.search(verbose=0)
    return tuner


def _search_in_a_process(directory) -> None:
    """Search as a user's script does: the process ends, and its last connection folds the
    WAL into the store file (so damage to the file reaches committed trials)."""
    subprocess.run(
        [sys.executable, "-c", "import sys, tests.reliability.test_hostile_store_files as t;"
         " t._search(sys.argv[1])", str(directory)],
        check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )  # fmt: skip


def test_an_emptied_store_is_refused_not_restarted(tmp_path):
    _search(tmp_path)
    store = tmp_path / "p" / STORE_FILENAME
    store.write_bytes(b"")
    old = time.time() - 60
    os.utime(store, (old, old))
    with pytest.raises(StoreError, match=r"is empty \(0 bytes.*overwrite=True"):
        _search(tmp_path)
    assert store.stat().st_size == 0  # refused, not silently restarted
    restarted = kt.RandomSearch(
        _objective, objective="loss", max_trials=2, directory=tmp_path, project_name="p",
        overwrite=True,
    )  # fmt: skip
    restarted.search(verbose=0)
    assert len(restarted.oracle.trials) == 2


def test_a_truncated_store_is_called_damaged_with_a_way_to_recover(tmp_path):
    _search_in_a_process(tmp_path)
    store = tmp_path / "p" / STORE_FILENAME
    with open(store, "r+b") as handle:
        handle.truncate(store.stat().st_size // 2)
    before = store.read_bytes()
    for attempt in (lambda: load_results(tmp_path / "p"), lambda: _search(tmp_path)):
        with pytest.raises(StoreError, match=r"is damaged .*truncated.*\.recover"):
            attempt()
    assert store.read_bytes() == before


def test_a_store_on_a_read_only_file_system_is_read(tmp_path):
    """Mounted read-only (a bind mount, in a user namespace when not root): summary and
    load_results read all 20 trials; a search says the folder is read-only."""
    _search_in_a_process(tmp_path)
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (
        "import sys, tunelab as kt; from tunelab.results import load_results\n"
        "from tunelab.store import StoreError\n"
        "print(len(load_results(sys.argv[1]).finished))\n"
        "try:\n"
        "    kt.RandomSearch(lambda hp: hp.Float('x', 0, 1), objective='loss', max_trials=21,"
        " directory=sys.argv[2], project_name='ro').search(verbose=0)\n"
        "except StoreError as error:\n"
        "    print(error)\n"
    )
    inner = (
        f"mount --bind {tmp_path / 'p'} {mount} && mount -o remount,bind,ro {mount} && "
        f"{sys.executable} -m tunelab.cli summary {mount} && "
        f'{sys.executable} -c "$0" {mount} {tmp_path}'
    )
    # A mount namespace of its own: the mount ends with the process, whatever happens.
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    result = subprocess.run(
        [*prefix, "sh", "-c", inner, script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Trials: 20 (20 COMPLETED)" in result.stdout
    assert "\n20\n" in result.stdout
    assert "folder is read-only" in result.stdout


def test_a_dangling_link_as_project_folder_is_named(tmp_path):
    (tmp_path / "p").symlink_to(tmp_path / "gone")
    with pytest.raises(StoreError, match="symbolic link to .*gone.*does not exist"):
        _search(tmp_path)


def test_a_space_that_no_longer_loads_keeps_the_trials_readable(tmp_path, caplog):
    _search(tmp_path)
    connection = sqlite3.connect(tmp_path / "p" / STORE_FILENAME)
    connection.execute(
        "UPDATE meta SET value=? WHERE key='space'",
        ('[{"class_name": "NoSuchKind", "config": {"name": "x"}}]',),
    )
    connection.commit()
    connection.close()
    results = load_results(tmp_path / "p")
    assert len(results.finished) == 20
    assert results.best(1)[0].hyperparameters.values["x"] == pytest.approx(results.best(1)[0].score)
    assert "stored search space cannot be read" in caplog.text
    summary = subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "summary", str(tmp_path / "p")],
        capture_output=True,
        text=True,
    )
    assert summary.returncode == 0 and "Trials: 20 (20 COMPLETED)" in summary.stdout


def test_a_store_of_the_previous_schema_is_read_without_being_changed(tmp_path):
    """Reading (summary, load_results) never migrates: a schema-1 store, as the previous
    release wrote it (no lease table, no owner_token column), is read as it is."""
    _search_in_a_process(tmp_path)
    store = tmp_path / "p" / STORE_FILENAME
    connection = sqlite3.connect(store)
    connection.execute("DROP TABLE IF EXISTS leases")
    connection.execute("DROP INDEX IF EXISTS trials_by_end")
    connection.execute("ALTER TABLE trials DROP COLUMN owner_token")
    connection.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    connection.commit()
    connection.close()
    before = store.read_bytes()
    assert len(load_results(tmp_path / "p").finished) == 20
    assert store.read_bytes() == before
