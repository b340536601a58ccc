"""`tunelab dashboard postgresql://...`: every project of a database on the same pages as a
folder's, live, read-only, and never showing the URL's password, against the real server
of conftest.py (and a real headless Chromium for what a user sees)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from dashboard.conftest import (  # noqa: F401  (browser: the Chromium fixture)
    browser,
    check_endpoints_read_only,
    get,
    search_while_watching,
    start_dashboard,
    wait_for,
)

import tunelab as kt
from tunelab.results import load_results
from tunelab.storage import Claim
from tunelab.storage.url import open_url
from tunelab.trial import MetricsTracker

from .pg_server import Server, find_bin

SECRET = "s3cret-Pw"  # the server trusts 127.0.0.1, so any password works: it must never show


def _with_password(url: str) -> str:
    return url.replace("://tunelab@", f"://tunelab:{SECRET}@")


def _square(hp: kt.HyperParameters) -> dict[str, float]:
    return {"loss": (hp.Float("x", -1.0, 1.0) - 0.25) ** 2, "units": float(hp.Int("units", 1, 4))}


def _curve(hp: kt.HyperParameters, trial: kt.Trial) -> None:
    rate = hp.Float("rate", 0.1, 0.5)
    for step in range(4):
        trial.report({"loss": 1.0 / (1.0 + rate * step)}, step=step)


def _search(url: str, project: str, function: Any, trials: int, folder: Any) -> None:
    kt.RandomSearch(
        function,
        objective="loss",
        max_trials=trials,
        seed=3,
        directory=folder,
        project_name=project,
        storage=url,
    ).search(verbose=0)


@pytest.fixture(scope="module")
def database(pg_server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with projects 'alpha' (6 trials), 'beta' (3, with learning curves) and
    'damaged' (a row a foreign writer broke); its URL, with a password."""
    url = pg_server.new_database("dashboard")
    folder = tmp_path_factory.mktemp("models")
    _search(url, "alpha", _square, 6, folder)
    _search(url, "beta", _curve, 3, folder)
    _search(url, "damaged", _square, 2, folder)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE tunelab.trials SET hp_values='not json' WHERE project='damaged' AND number=1"
        )
    return _with_password(url)


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    return process.communicate(timeout=20)[0]


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[str]:
    process, line, address = start_dashboard(database)
    assert "3 project(s) in postgresql://tunelab:***@127.0.0.1:" in line
    assert SECRET not in line
    yield address
    assert SECRET not in _stop(process)


def _json(url: str) -> Any:
    status, _, body = get(url)
    assert status == 200, body
    assert SECRET.encode() not in body
    return json.loads(body)


def _plain(url: str) -> str:
    return url.replace(f":{SECRET}@", "@")


def test_projects_lists_every_project_of_the_database(server, database):
    doc = _json(f"{server}/api/projects")
    assert doc["heading"].startswith("Projects in postgresql://tunelab:***@127.0.0.1:")
    rows = {row["project"]: row for row in doc["projects"]}
    assert sorted(rows) == ["alpha", "beta", "damaged"]
    alpha = load_results(_plain(database), project_name="alpha")
    assert rows["alpha"]["counts"] == {"COMPLETED": 6}
    assert rows["alpha"]["best"] == min(t.score for t in alpha.trials)
    assert rows["alpha"]["last_change"] == max(t.ended_at for t in alpha.trials)
    assert rows["beta"]["counts"] == {"COMPLETED": 3}
    assert "is damaged: trial" in rows["damaged"]["error"]


def test_project_trial_curves_and_importance_documents(server, database):
    stored = load_results(_plain(database), project_name="alpha").trials
    doc = _json(f"{server}/api/trials?project=alpha")
    assert [t["number"] for t in doc["trials"]] == [0, 1, 2, 3, 4, 5]
    assert [t["score"] for t in doc["trials"]] == [t.score for t in stored]
    assert sorted(doc["hyperparameters"]) == ["units", "x"]
    assert doc["counts"] == {"COMPLETED": 6}
    first = stored[0]
    trial = _json(f"{server}/api/trial?project=alpha&id={first.trial_id}")["trial"]
    assert trial["values"] == first.hyperparameters.values
    assert trial["score"] == first.score and trial["status"] == "COMPLETED"
    assert trial["files"] is None  # model files are not in the database
    curves = _json(f"{server}/api/curves?project=beta")
    assert len(curves["lines"]) == 3 and all(
        line["steps"] == [0, 1, 2, 3] for line in curves["lines"]
    )
    importance = _json(f"{server}/api/importance?project=alpha")
    assert importance["finished"] == 6 and sorted(importance["importance"]) == ["units", "x"]
    missing = get(f"{server}/api/trials?project=nope")
    assert (
        missing[0] == 404
        and "project='nope': not in postgresql://" in json.loads(missing[2])["error"]
    )


def test_a_damaged_project_is_one_clear_line(server):
    doc = _json(f"{server}/api/trials?project=damaged")
    assert "(project 'damaged') is damaged: trial" in doc["error"]
    assert "cannot be read (JSONDecodeError" in doc["error"]


def test_an_unchanged_project_answers_304_and_a_new_trial_shows_at_once(server, database, tmp_path):
    url = _plain(database)
    _search(url, "live", _square, 2, tmp_path)
    deadline = time.monotonic() + 10
    while "live" not in [p["project"] for p in _json(f"{server}/api/projects")["projects"]]:
        assert time.monotonic() < deadline, "a new project did not show in the listing"
        time.sleep(0.2)
    trials = f"{server}/api/trials?project=live"
    status, headers, body = get(trials)
    assert status == 200 and len(json.loads(body)["trials"]) == 2
    assert get(trials, headers["ETag"])[0] == 304
    alpha = get(f"{server}/api/trials?project=alpha")[1]["ETag"]
    # A trial added by another process (a search joining the study).
    script = textwrap.dedent(f"""
        import tunelab as kt
        kt.RandomSearch(lambda hp: hp.Float("x", -1.0, 1.0) ** 2, objective="loss",
                        max_trials=3, seed=3, directory={str(tmp_path)!r}, project_name="live",
                        storage={url!r}).search(verbose=0)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    status, later, body = get(trials, headers["ETag"])
    assert status == 200 and later["ETag"] != headers["ETag"]
    assert [t["status"] for t in json.loads(body)["trials"]] == ["COMPLETED"] * 3
    # Another project's writes leave this one's answer unchanged.
    assert get(f"{server}/api/trials?project=alpha", alpha)[0] == 304
    # A running trial's report is a change too.
    store = open_url(url, "live")
    try:
        store.create_trial(3, "running", {"x": 0.5}, "h-running", Claim(None, None, None, 1.0))
        status, running, body = get(trials, later["ETag"])
        assert status == 200 and json.loads(body)["trials"][-1]["status"] == "RUNNING"
        metrics = MetricsTracker()
        metrics.update("loss", 0.125, step=0)
        assert store.report("running", metrics)
        assert get(trials, running["ETag"])[0] == 200
        assert get(f"{server}/api/trial?project=live&id=running")[0] == 200
        one = _json(f"{server}/api/trial?project=live&id=running")["trial"]["metrics"]
        assert one == {"loss": [{"step": 0, "value": 0.125}]}
    finally:
        store.close()


def test_nothing_is_written_to_the_database(server, database):
    import psycopg

    def snapshot() -> list:
        with psycopg.connect(_plain(database)) as conn:
            return conn.execute(
                "SELECT project, number, status, hp_values, metrics, score FROM tunelab.trials "
                "WHERE project IN ('alpha', 'beta') ORDER BY project, number"
            ).fetchall()

    before = snapshot()
    check_endpoints_read_only(server, "beta")
    assert snapshot() == before


def _tunelab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tunelab.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_bad_urls_and_projects_are_one_clear_line_without_the_password(database, pg_server):
    nowhere = re.sub(r":\d+/", ":1/", database)
    for args, expected in (
        ([nowhere], "cannot read postgresql://tunelab:***@127.0.0.1:1/dashboard"),
        ([nowhere, "--project", "alpha"], "cannot connect to the PostgreSQL server"),
        ([database, "--project", "nope"], "project 'nope' is not in"),
        ([database.replace(SECRET, "pw%zz")], "invalid percent-encoded token"),
        ([f"{database}?bogus=1"], 'invalid URI query parameter: "bogus"'),
        ([f"{nowhere}?password={SECRET}", "--project", "alpha"], "password=*** (project 'alpha')"),
    ):
        done = _tunelab("dashboard", *args, "--port", "0")
        assert done.returncode == 1, (args, done.stdout)
        assert done.stderr.startswith("tunelab dashboard: error: ") and expected in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert SECRET not in done.stderr + done.stdout and "pw%zz" not in done.stderr
    assert (
        "expected one of ['alpha', 'beta', 'damaged'"
        in _tunelab("dashboard", database, "--project", "nope").stderr
    )
    folder = _tunelab("dashboard", ".", "--project", "alpha")
    assert folder.returncode == 1 and "is not a postgresql:// URL" in folder.stderr


def test_a_newer_schema_is_refused_with_one_clear_line(pg_server, tmp_path):
    url = pg_server.new_database("newer")
    _search(url, "p", _square, 1, tmp_path)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE tunelab.version SET version = 99")
    done = _tunelab("dashboard", url, "--project", "p", "--port", "0")
    assert done.returncode == 1 and "written by a newer tunelab" in done.stderr
    process, _, address = start_dashboard(url)
    try:
        row = _json(f"{address}/api/projects")["projects"][0]
        assert row["project"] == "p" and "written by a newer tunelab" in row["error"]
    finally:
        _stop(process)


@pytest.mark.slow
def test_a_server_gone_while_the_page_polls_is_shown_then_read_again(tmp_path):
    # A server of its own, stopped and started again under the dashboard.
    own = Server(find_bin())  # type: ignore[arg-type]
    try:
        url = own.new_database("gone")
        _search(url, "p", _square, 2, tmp_path)
        process, _, address = start_dashboard(_with_password(url), "--project", "p")
        try:
            trials = f"{address}/api/trials?project=p"
            assert len(_json(trials)["trials"]) == 2
            own.stop()
            started = time.monotonic()
            doc = _json(trials)
            assert time.monotonic() - started < 15
            assert "could not be reached" in doc["error"] or "cannot connect" in doc["error"]
            assert "postgresql://tunelab:***@127.0.0.1" in doc["error"]
            row = _json(f"{address}/api/projects")["projects"][0]
            assert row["project"] == "p" and row["error"]
            own.start()
            deadline = time.monotonic() + 20
            while "error" in (doc := _json(trials)):
                assert time.monotonic() < deadline, doc
                time.sleep(0.2)
            assert len(doc["trials"]) == 2
        finally:
            assert SECRET not in _stop(process)
    finally:
        own.close()


def test_the_browser_shows_a_postgresql_study_and_its_new_trials(
    browser,  # noqa: F811  (the fixture imported above)
    server,
    database,
    tmp_path,
):
    browser.get(server + "/")
    wait_for(browser, "return document.querySelectorAll('#projects tr').length >= 4")
    names = browser.execute_script(
        "return Array.from(document.querySelectorAll('#projects tr')).slice(1)"
        ".map(r => r.cells[0].textContent)"
    )
    assert {"alpha", "beta", "damaged"} <= set(names)
    page = browser.execute_script("return document.body.innerText")
    assert "Projects in postgresql://tunelab:***@" in page and SECRET not in page
    url = _plain(database)
    _search(url, "browser", _square, 2, tmp_path)
    browser.get(server + "/project?project=browser")
    wait_for(browser, "return document.querySelectorAll('#trials tr').length == 3")
    stored = load_results(url, project_name="browser").trials
    ids = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trials tr')).slice(1)"
        ".map(r => r.cells[1].textContent)"
    )
    assert sorted(ids) == sorted(t.trial_id for t in stored)
    browser.execute_script("window.__same_page = 'yes'")
    script = textwrap.dedent(f"""
        import tunelab as kt
        kt.RandomSearch(lambda hp: hp.Float("x", -1.0, 1.0) ** 2, objective="loss",
                        max_trials=3, seed=3, directory={str(tmp_path)!r},
                        project_name="browser", storage={url!r}).search(verbose=0)
    """)
    seen = search_while_watching(browser, script, 2)
    new = [t for t in load_results(url, project_name="browser").trials if t.number == 2][0]
    # Seen within two seconds of the trial's end, without a reload.
    assert seen - new.ended_at < 2.0, seen - new.ended_at
    assert browser.execute_script("return window.__same_page") == "yes"
    browser.get(f"{server}/trial?project=browser&id={urllib.parse.quote(new.trial_id)}")
    wait_for(browser, "return document.querySelector('#values') !== null")
    text = browser.execute_script("return document.body.innerText")
    assert "model files stay under the search's directory" in text
