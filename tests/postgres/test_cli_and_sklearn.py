"""`tunelab summary/best/export/list` read a PostgreSQL study as they read a folder, hostile
rows stop them with one clear line, and `TuneSearchCV(storage=...)` resumes from the server."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tunelab as kt
from tunelab.cli import main
from tunelab.results import load_results


def _objective(hp):
    return {"loss": (hp.Float("x", 0.0, 1.0) - 0.3) ** 2, "units": float(hp.Int("units", 1, 4))}


@pytest.fixture(scope="module")
def study(pg_server, tmp_path_factory) -> str:
    """A finished 6-trial search in a database of its own; its URL."""
    url = pg_server.new_database("cli")
    kt.RandomSearch(
        _objective,
        objective="loss",
        max_trials=6,
        seed=0,
        directory=tmp_path_factory.mktemp("cli"),
        project_name="p",
        storage=url,
    ).search(verbose=0)
    return url


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_best_export_and_list_read_the_database(study, capsys):
    results = load_results(study, project_name="p")
    best = results.best(1)[0]
    code, out, err = _cli(capsys, "summary", study, "--project", "p")
    assert code == 0, err
    assert "Trials: 6 (6 COMPLETED)" in out and "(project 'p')" in out
    code, out, _ = _cli(capsys, "best", study, "--project", "p", "--json")
    document = json.loads(out)
    assert code == 0 and document["trial_id"] == best.trial_id
    assert document["score"] == best.score == min(t.score for t in results.trials)
    code, out, _ = _cli(capsys, "export", study, "--project", "p")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6 and {r["status"] for r in rows} == {"COMPLETED"}
    code, out, _ = _cli(capsys, "list", study)
    assert code == 0 and out.splitlines()[1].split()[:3] == ["p", "6", "COMPLETED"]


def test_clear_errors_for_a_missing_project_or_database(study, pg_server, capsys):
    code, _, err = _cli(capsys, "summary", study)
    assert code == 1 and "name the project too" in err and "['p']" in err
    code, _, err = _cli(capsys, "summary", study, "--project", "q")
    assert code == 1 and "project 'q' is not in" in err and "expected one of ['p']" in err
    empty = pg_server.new_database("empty")
    code, _, err = _cli(capsys, "summary", empty, "--project", "p")
    assert code == 1 and "holds no tunelab store" in err
    code, out, _ = _cli(capsys, "list", empty)
    assert code == 0 and "No tunelab project in" in out
    nowhere = study.rsplit(":", 1)[0] + ":1/db"
    code, _, err = _cli(capsys, "summary", nowhere, "--project", "p")
    assert code == 1 and "cannot connect to the PostgreSQL server" in err


HOSTILE = st.sampled_from(
    [
        ("trial_id", "'../../escape'"),
        ("trial_id", "''"),
        ("hp_values", "'not json'"),
        ("hp_values", "'[1, 2]'"),
        ("hp_values", "repeat('[', 100000) || repeat(']', 100000)"),
        ("metrics", "'{\"metrics\": 5}'"),
        ("metrics", "'null'"),
        ("status", "'\u202eDELETED'"),
        ("message", "E'\\x1b[2J cleared'"),
        ("score", "'NaN'"),
        ("number", "-5"),
    ]
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(change=HOSTILE)
def test_hostile_rows_give_one_clear_line_never_a_traceback(study, capsys, change):
    import psycopg

    column, value = change
    with psycopg.connect(study, autocommit=True) as conn, conn.transaction():
        conn.execute(f"UPDATE tunelab.trials SET {column} = {value} WHERE number = 1")
        try:
            for argv in (["summary"], ["best", "--json"], ["export"], ["list"]):
                args = [*argv[:1], study, *argv[1:]]
                if argv[0] != "list":
                    args += ["--project", "p"]
                code = main(args)
                out, err = capsys.readouterr()
                assert code in (0, 1)
                assert "Traceback" not in err and "\x1b" not in out + err
                if code == 1:
                    assert err.count("\n") == 1 and "error:" in err
        finally:
            raise_rollback = psycopg.Rollback()
            raise raise_rollback


def test_tune_search_cv_keeps_its_trials_on_the_server(pg_url, tmp_path):
    from scipy.stats import loguniform
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from tunelab_sklearn import TuneSearchCV

    X, y = load_iris(return_X_y=True)

    def fit(n):
        return TuneSearchCV(
            LogisticRegression(max_iter=300),
            {"C": loguniform(1e-2, 1e2)},
            n_trials=n,
            cv=3,
            random_state=0,
            directory=tmp_path,
            project_name="iris",
            storage=pg_url,
        ).fit(X, y)

    first = fit(3)
    second = fit(5)
    assert second.n_resumed_trials_ == 3 and len(second.cv_results_["params"]) == 5
    assert second.cv_results_["params"][:3] == first.cv_results_["params"]
    assert not (tmp_path / "iris" / "tunelab.sqlite").exists()
    assert len(load_results(pg_url, project_name="iris").trials) == 5
