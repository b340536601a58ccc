"""The storage interface's promises, checked on both stores: SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import math
import os
import socket
import time

import pytest

import tunelab as kt
from tunelab.storage import Claim, Lease, Storage, Store, StoreError
from tunelab.storage.postgres import PostgresStorage
from tunelab.trial import MetricsTracker

_projects = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request, tmp_path):
    """`open_store()` opens the test's project again (each call: a new connection, as
    another process would)."""
    name = f"p{next(_projects)}"
    opened: list[Storage] = []
    if request.param == "sqlite":

        def make() -> Storage:
            opened.append(Store(tmp_path / f"{name}.sqlite"))
            return opened[-1]

    else:
        url = request.getfixturevalue("pg_url")

        def make() -> Storage:
            opened.append(PostgresStorage(url, name))
            return opened[-1]

    yield make
    for store in opened:
        store.close()


def _claim(pid: int | None = None, token: str | None = "tok") -> Claim:
    host = socket.gethostname() if pid is not None else None
    return Claim(host, pid, "tuner0", 1.0, token if pid is not None else None)


def _finish(store: Storage, trial_id: str, score: float, status: str = "COMPLETED") -> bool:
    tracker = MetricsTracker()
    tracker.update("loss", score, 0)
    return store.finish(
        trial_id,
        status=status,
        values={"x": score},
        value_hash=f"h{trial_id}",
        metrics=tracker,
        score=score,
        best_step=0,
        message=None,
        retries=0,
        ended_at=time.time(),
    )


def test_trials_round_trip_and_late_writers_change_nothing(open_store):
    store = open_store()
    assert store.next_number() == 0
    with store.transaction():
        store.create_trial(0, "00", {"x": 1.5, "s": "é", "b": True}, "h0", _claim(os.getpid()))
    assert store.next_number() == 1
    trial = store.get_trial("00")
    assert (trial.number, trial.status, trial.values) == (
        0,
        "RUNNING",
        {"x": 1.5, "s": "é", "b": True},
    )
    assert store.save_values("00", {"y": 2}) and store.get_trial("00").values["y"] == 2
    tracker = MetricsTracker()
    tracker.update("loss", 0.25, 3)
    assert store.report("00", tracker)
    assert store.get_trial("00").metrics.get_best_value("loss") == 0.25
    assert _finish(store, "00", 0.5)
    # Finished: a late report, finish, release or save changes nothing.
    assert not store.report("00", tracker)
    assert not _finish(store, "00", 9.0)
    assert not store.release("00")
    assert not store.save_values("00", {"z": 1})
    again = open_store().get_trial("00")
    assert (again.status, again.score, again.values) == ("COMPLETED", 0.5, {"x": 0.5})
    assert store.get_trial("nope") is None
    with pytest.raises(Exception):  # noqa: B017 - the two stores raise their own errors
        store.create_trial(0, "dup", {}, "h", _claim(os.getpid()))


def test_a_transaction_rolls_back_as_a_whole(open_store):
    store = open_store()
    store.set_meta("k", 1)
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        store.set_meta("k", 2)
        store.create_trial(0, "0", {}, "h", _claim(os.getpid()))
        with store.transaction():  # a block inside a block joins it
            store.enqueue({"x": 1}, "hq")
        raise RuntimeError("boom")
    other = open_store()
    assert other.get_meta("k") == 1
    assert other.next_number() == 0 and other.queue_length() == 0


def test_claim_hands_out_a_dead_owners_trial_never_the_claimers_own(open_store):
    store = open_store()
    mine, gone = _claim(os.getpid(), "mine"), _claim(2**22 + 7, "gone")
    store.create_trial(0, "0", {"x": 0}, "h0", mine)
    store.create_trial(1, "1", {"x": 1}, "h1", gone)
    store.create_trial(2, "2", {"x": 2}, "h2", _claim(None))
    tracker = MetricsTracker()
    tracker.update("loss", 5.0, 0)
    store.report("1", tracker)
    asked = []

    def abandoned(trial):
        asked.append(trial.trial_id)
        return trial.owner_pid == gone.pid

    found = store.claim(mine, abandoned)
    assert found is not None and found.trial_id == "1" and found.owner_token == "mine"
    assert "0" not in asked
    stored = open_store().get_trial("1")
    assert stored.owner_pid == os.getpid() and stored.metrics_config == {}  # from scratch
    # A released trial is IDLE and claimed before anything else by anyone.
    assert store.release("2")
    assert store.claim(_claim(None), lambda t: False).trial_id == "2"
    assert store.claim(_claim(None), lambda t: False) is None


def test_reads_queue_and_leases(open_store):
    store = open_store()
    for number, score in enumerate([3.0, 1.0, 2.0, math.nan]):
        store.create_trial(number, str(number), {"x": number}, f"h{number}", _claim(os.getpid()))
        _finish(store, str(number), score)
    store.create_trial(4, "4", {"x": 4}, "h4", _claim(os.getpid()))
    assert [t.trial_id for t in store.best_trials(2, "min")] == ["1", "2"]
    assert [t.trial_id for t in store.best_trials(1, "max")] == ["0"]
    assert store.count_by_status() == {"COMPLETED": 4, "RUNNING": 1}
    assert [row[0] for row in store.last_ended(2)] == ["3", "2"]
    assert [t.trial_id for t in store.get_trials(("RUNNING",))] == ["4"]
    assert store.has_values("h2") and not store.has_values("h9")
    assert store.enqueue({"x": 7}, "h7") and not store.enqueue({"x": 7}, "h7")
    assert not store.enqueue({"x": 2}, "h2")  # tried already
    assert store.enqueue({"x": 8}, "h8") and store.queue_length() == 2
    assert store.pop_queue() == {"x": 7} and store.pop_queue() == {"x": 8}
    assert store.pop_queue() is None
    lease = Lease("tok", "host", 12, "node", time.time() + 60, 99)
    store.renew_lease(lease)
    lease.expires_at += 30
    store.renew_lease(lease)
    assert [(x.token, x.expires_at) for x in open_store().leases()] == [("tok", lease.expires_at)]
    store.rescore([("0", -1.0, 2, "COMPLETED")])
    assert store.best_trials(1, "min")[0].trial_id == "0"


def test_a_tuner_resumes_and_overwrites_a_project(open_store, tmp_path, request):
    """The same search through the tuner on both stores: resume counts finished trials,
    overwrite=True starts clean."""
    kind = request.node.callspec.params["open_store"]
    storage = request.getfixturevalue("pg_url") if kind == "postgres" else None

    def make(max_trials, overwrite=False):
        return kt.RandomSearch(
            lambda hp: (hp.Float("x", -2.0, 2.0) - 0.5) ** 2,
            objective="loss",
            max_trials=max_trials,
            seed=0,
            directory=tmp_path,
            project_name="proj",
            overwrite=overwrite,
            storage=storage,
        )

    first = make(4)
    first.search(verbose=0)
    again = make(6)
    again.search(verbose=0)
    assert len(again.oracle.trials) == 6
    assert {k: t.score for k, t in first.oracle.trials.items()} == {
        k: again.oracle.trials[k].score for k in first.oracle.trials
    }
    fresh = make(2, overwrite=True)
    assert fresh.oracle.trials == {}
    fresh.search(verbose=0)
    assert len(fresh.oracle.trials) == 2
    assert (tmp_path / "proj" / "tunelab.sqlite").exists() == (kind == "sqlite")


def test_postgres_keeps_json_text_and_refuses_a_newer_schema(pg_url):
    import psycopg

    store = PostgresStorage(pg_url, "p")
    store.create_trial(0, "0", {"x": math.inf, "s": "a\x00b"}, "h", _claim(os.getpid()))
    with psycopg.connect(pg_url) as conn:
        text = conn.execute("SELECT hp_values FROM tunelab.trials").fetchone()[0]
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema='tunelab' AND table_name='trials'"
            ).fetchall()
        )
    # JSON text (the infinity as a string, the NUL escaped), no pickle, no bytea.
    assert text == '{"x":"inf","s":"a\\u0000b"}' and types["hp_values"] == "text"
    assert store.get_trial("0").values == {"x": "inf", "s": "a\x00b"}
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE tunelab.version SET version = version + 1")
    with pytest.raises(StoreError, match="newer tunelab .* upgrade tunelab"):
        PostgresStorage(pg_url, "p")
    with pytest.raises(StoreError, match="newer tunelab"):
        PostgresStorage(pg_url, "p", read_only=True)


def test_postgres_stores_hostile_text_and_refuses_foreign_tables(pg_url):
    import psycopg

    store = PostgresStorage(pg_url, "p")
    store.create_trial(0, "0", {"name\x00": "v\udc80"}, "h", _claim(os.getpid()))
    store.finish(
        "0",
        status="FAILED",
        values={"name\x00": "v\udc80"},
        value_hash="h",
        metrics=MetricsTracker(),
        score=None,
        best_step=None,
        message="error with a NUL \x00 and a lone surrogate \udc80",
        retries=0,
        ended_at=1.0,
    )
    trial = store.get_trial("0")
    assert trial.values == {"name\x00": "v\udc80"}
    assert trial.message == "error with a NUL \\x00 and a lone surrogate \\udc80"
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA tunelab CASCADE")
        conn.execute("CREATE SCHEMA tunelab")
        conn.execute("CREATE TABLE tunelab.version (one int, format text, version int)")
    with pytest.raises(StoreError, match="not a tunelab store .* refusing"):
        PostgresStorage(pg_url, "p")


def test_bad_storage_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"storage='mysql://x/y'; expected a PostgreSQL URL"):
        kt.RandomSearch(lambda hp: 0.0, objective="loss", directory=tmp_path, storage="mysql://x/y")
    with pytest.raises(TypeError, match="storage=3; expected"):
        kt.oracles.RandomSearchOracle(objective="loss", storage=3)


def test_url_docstring_examples_run():
    import doctest

    import tunelab.storage.pg_session
    import tunelab.storage.url

    for module in (tunelab.storage.url, tunelab.storage.pg_session):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0


def test_import_tunelab_does_not_import_psycopg():
    import subprocess
    import sys

    code = "import sys, tunelab, tunelab.storage.url; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_change_token_moves_with_every_change_and_only_then(open_store):
    reader, writer = open_store(), open_store()  # another connection, as another process
    token = reader.change_token()
    assert reader.change_token() == token  # nothing changed
    changes = [
        lambda: writer.create_trial(0, "t0", {"x": 1}, "h0", _claim(os.getpid())),
        lambda: writer.report("t0", _tracker(0.5)),
        lambda: _finish(writer, "t0", 0.25),
        lambda: writer.set_meta("objective", {"name": "loss", "direction": "min"}),
    ]
    for change in changes:
        change()
        new = reader.change_token()
        assert new != token and reader.change_token() == new
        token = new


def _tracker(value: float) -> MetricsTracker:
    tracker = MetricsTracker()
    tracker.update("loss", value, 0)
    return tracker


def test_a_postgres_block_that_wrote_is_flushed_when_it_returns(pg_url):
    # The block commits without waiting for the disk, so that its lock is released at once,
    # then waits for the flush outside the lock: on return, the log is flushed past it.
    import psycopg

    store = PostgresStorage(pg_url, "durable")
    try:
        assert store._db.early
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for n in range(5):
                with store.transaction():
                    number = store.next_number()
                    store.create_trial(number, f"d{n}", {"x": n}, f"hd{n}", _claim(os.getpid()))
                inserted, flushed = conn.execute(
                    "SELECT pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn()"
                ).fetchone()
                assert flushed >= inserted, (n, inserted, flushed)
        assert [t.number for t in store.get_trials()] == [0, 1, 2, 3, 4]
    finally:
        store.close()
