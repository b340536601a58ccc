"""Hostile projects on disk, fuzzed with hypothesis: directory and project_name (path
traversal, very long names, unicode, NUL bytes), corrupted and foreign store files, stores
from a newer schema. Always a clear error; a refused file is never changed; a project never
lands outside `directory`."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.store import SCHEMA_VERSION, STORE_FILENAME, StoreError

from . import proof

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _objective(hp):
    return hp.Float("x", 0.0, 1.0)


def _search(directory, project_name, max_trials=2):
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


def _digest(folder: Path) -> str:
    """The store file's content (its -wal/-shm companions are SQLite's scratch files)."""
    return hashlib.sha256((folder / STORE_FILENAME).read_bytes()).hexdigest()


hostile_names = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("./\\\x00é日\u202e~:*?"), max_size=12),
    st.sampled_from(
        [
            "..",
            ".",
            "../escape",
            "a/../../escape",
            "/etc",
            "C:\\x",
            "\x00",
            "a\x00b",
            "",
            "é" * 120,
            "a" * 255,
            "a" * 4000,
            "\ud800",
            "CON",
            "trial_0",
            " ",
            "-rf",
            "~",
        ]
    ),
    st.integers(),
    st.none(),
    st.binary(max_size=8),
)


@FUZZ
@given(project_name=hostile_names, sub=hostile_names)
@example(project_name="p", sub="a" * 5000)  # a directory path longer than the OS allows
def test_fuzzed_directories_and_project_names(project_name, sub):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        # `directory` is the user's to choose; keep every example inside `tmp` (None would be
        # the current directory, "/" or ".." lead out) and fuzz its characters and length.
        if isinstance(sub, str):
            directory = root / (sub.replace("/", "_").replace("..", "__") or "empty")
        else:
            directory = root if sub is None else sub
        try:
            tuner = _search(directory, project_name)
        except (ValueError, TypeError, StoreError) as error:
            assert len(str(error)) > 10
            assert list(Path(tmp).iterdir()) == [root]  # nothing written next to `root`
            return
        except OSError as error:  # the OS refused the path itself (too long...): clear too
            assert error.filename or error.strerror
            return
        store = Path(tuner.project_dir) / STORE_FILENAME
        assert store.is_file() and len(tuner.oracle.trials) == 2
        # The project is inside `directory`, which is inside the temporary folder.
        inside = store.resolve().relative_to(Path(tmp).resolve())
        assert inside.parts[0] == "root"
        assert store.resolve().parent.parent == Path(os.path.abspath(directory)).resolve()


def _fresh_store(folder: Path) -> Path:
    tuner = _search(folder, "p", max_trials=3)
    tuner.oracle.store.close()  # the last connection closed: the WAL is folded into the file
    return folder / "p" / STORE_FILENAME


_TEMPLATE: dict[str, bytes] = {}


def _template_bytes() -> bytes:
    """A real 3-trial store, made once (checkpointed: the whole store is in one file)."""
    if not _TEMPLATE:
        with tempfile.TemporaryDirectory() as tmp:
            path = _fresh_store(Path(tmp))
            _TEMPLATE["bytes"] = path.read_bytes()
    return _TEMPLATE["bytes"]


def _open_refused_or_sound(folder: Path) -> str:
    """Open the project in `folder`; it is refused with a clear error (and left unchanged)
    or it is sound (integrity ok, trials readable, a search can go on)."""
    before = _digest(folder / "p")
    try:
        oracle = kt.oracles.RandomSearchOracle(
            objective="loss", max_trials=4, directory=folder, project_name="p"
        )
        trials = oracle.trials
        assert oracle.store.integrity_check() == "ok"
        oracle.hyperparameters.Float("x", 0.0, 1.0)
        trial = oracle.ask()
        if trial is not None:
            oracle.tell(trial, 0.5)
        assert len(oracle.trials) >= len(trials)
        oracle.store.close()
        return "sound"
    except StoreError as error:
        assert str(folder / "p" / STORE_FILENAME) in str(error)
        assert _digest(folder / "p") == before  # refused: not a byte changed
        return "refused"


@FUZZ
@given(data=st.binary(min_size=0, max_size=3000))
@example(data=b"SQLite format 3\x00")
@example(data=b"S")
@example(data=b"SQLite format 3\x00" + b"\xff" * 200)
def test_fuzzed_bytes_in_place_of_the_store_are_refused(data):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p").mkdir()
        (folder / "p" / STORE_FILENAME).write_bytes(data)
        outcome = _open_refused_or_sound(folder)
        # An empty file, or the first bytes of SQLite's header, is a store that another
        # process is creating right now: opened as a new store, never refused.
        assert outcome == "refused" or b"SQLite format 3\x00".startswith(data)


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10**6), st.integers(1, 255)), max_size=8
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
)
def test_fuzzed_corruption_of_a_real_store_is_refused_or_harmless(flips, cut):
    proof.add("fuzz_cases")
    data = bytearray(_template_bytes())
    for offset, xor in flips:
        data[offset % len(data)] ^= xor
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p").mkdir()
        (folder / "p" / STORE_FILENAME).write_bytes(bytes(data))
        _open_refused_or_sound(folder)


json_texts = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["2", "99", "1.5", '"1"', "null", "true", "[1]", "{}", "", "not json"]),
    st.text(max_size=10),
)


@FUZZ
@given(key=st.sampled_from(["schema_version", "format", "space", "objective"]), text=json_texts)
@example(key="schema_version", text=str(SCHEMA_VERSION + 1))
def test_fuzzed_meta_values_newer_schema_or_junk_are_refused_unchanged(key, text):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p").mkdir()
        path = folder / "p" / STORE_FILENAME
        path.write_bytes(_template_bytes())
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE meta SET value=? WHERE key=?", (text, key))
        conn.close()
        outcome = _open_refused_or_sound(folder)
        if key == "schema_version" and text not in {str(v) for v in range(1, SCHEMA_VERSION + 1)}:
            assert outcome == "refused"  # older versions are migrated, newer ones refused


@FUZZ
@given(
    tables=st.lists(
        st.sampled_from(["meta", "trials", "queue", "users", "data"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    tagged=st.booleans(),
)
def test_fuzzed_foreign_sqlite_files_are_refused_unchanged(tables, tagged):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p").mkdir()
        conn = sqlite3.connect(folder / "p" / STORE_FILENAME)
        with conn:
            for table in tables:
                if table == "meta":
                    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                    if tagged:  # claims to be a tunelab store, lacks its tables
                        conn.execute("INSERT INTO meta VALUES ('format', '\"tunelab-store\"')")
                        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
                else:
                    conn.execute(f"CREATE TABLE {table} (id INTEGER, payload TEXT)")
                    conn.execute(f"INSERT INTO {table} VALUES (1, 'precious')")
        conn.close()
        outcome = _open_refused_or_sound(folder)
        if tables != ["meta"]:  # any foreign table with data must survive untouched
            assert outcome == "refused"
        shutil.rmtree(folder / "p")


@FUZZ
@given(
    column=st.sampled_from(["hp_values", "metrics"]),
    text=st.one_of(
        st.sampled_from(['{"metrics": 5}', "[1, 2]", "null", '{"metrics": {"loss": {}}}', "{"]),
        st.text(max_size=12),
    ),
)
def test_a_damaged_trial_row_is_reported_as_damage_naming_the_trial(column, text):
    proof.add("fuzz_cases")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "p").mkdir()
        path = folder / "p" / STORE_FILENAME
        path.write_bytes(_template_bytes())
        conn = sqlite3.connect(path)
        with conn:
            conn.execute(f"UPDATE trials SET {column}=? WHERE number=1", (text,))
        conn.close()
        oracle = kt.oracles.RandomSearchOracle(objective="loss", directory=folder, project_name="p")
        try:
            trials = oracle.trials
        except StoreError as error:
            assert "is damaged: trial '1' cannot be read" in str(error)
            return
        assert len(trials) == 3  # the text happened to be a valid value: nothing to report
