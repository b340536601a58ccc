"""The `tunelab dashboard` command and its JSON endpoints, without a browser: errors a user
meets, the ETag that makes unchanged polls cheap, paths confined to the folder, read-only."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from tunelab.dashboard.data import ProjectReader
from tunelab.dashboard.documents import non_dominated
from tunelab.storage import Claim, Store
from tunelab.trial import MetricsTracker

from .conftest import check_endpoints_read_only, get


def _tunelab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tunelab.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_missing_folder_is_a_clear_error(tmp_path):
    done = _tunelab("dashboard", str(tmp_path / "nowhere"))
    assert done.returncode == 1
    assert f"directory='{tmp_path / 'nowhere'}' does not exist" in done.stderr
    assert "expected the folder of your projects" in done.stderr


def test_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _tunelab("dashboard", str(tmp_path), "--port", str(port))
    assert done.returncode == 1
    assert f"port={port} on 127.0.0.1 is already in use by another program" in done.stderr
    assert "--port 0" in done.stderr


def test_without_the_extra_the_error_says_what_to_install(tmp_path):
    # The extra's modules made unimportable, as in an environment without them.
    script = (
        "import sys\n"
        "for name in ('starlette', 'plotly'): sys.modules[name] = None\n"
        "from tunelab.cli import main\n"
        f"sys.exit(main(['dashboard', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "needs the optional extra tunelab[dashboard]" in done.stderr
    assert "missing: starlette, plotly" in done.stderr
    assert 'pip install "./packages/core[dashboard]"' in done.stderr


def test_import_tunelab_does_not_import_the_server_or_plotly():
    script = (
        "import sys, tunelab, tunelab.cli\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'plotly', 'tunelab.dashboard')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_polling_an_unchanged_store_answers_304(server, runs):
    url = f"{server}/api/trials?project=curves"
    status, headers, body = get(url)
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    doc = json.loads(body)
    assert [t["number"] for t in doc["trials"]] == [0, 1, 2, 3]
    again = get(url, headers["ETag"])
    assert again[0] == 304, (headers["ETag"], again[1]["ETag"])
    assert get(f"{server}/api/projects", get(f"{server}/api/projects")[1]["ETag"])[0] == 304


def test_paths_outside_the_folder_are_refused(server, runs, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "tunelab.sqlite").write_bytes((runs / "curves" / "tunelab.sqlite").read_bytes())
    link = runs / "link-out"
    link.symlink_to(outside, target_is_directory=True)
    try:
        for name in ("../elsewhere", "curves/../../x", str(outside), "link-out", "a\\b"):
            status, _, body = get(f"{server}/api/trials?project={urllib.parse.quote(name)}")
            assert status == 404, name
            assert "project=" in json.loads(body)["error"]
        time.sleep(2.1)  # the folder is looked at again every two seconds
        names = [p["project"] for p in json.loads(get(f"{server}/api/projects")[2])["projects"]]
        assert "link-out" not in names and "curves" in names
        assert get(f"{server}/static/..%2F__init__.py")[0] == 404
        assert get(f"{server}/static/plotly.min.js")[0] == 200
    finally:
        link.unlink()


def test_nothing_is_written_to_the_stores(server, runs):
    file = runs / "demo" / "tunelab.sqlite"
    before = hashlib.sha256(file.read_bytes()).hexdigest()
    check_endpoints_read_only(server, "demo")
    assert hashlib.sha256(file.read_bytes()).hexdigest() == before


def _finish(store: Store, number: int, values: dict, losses: list[float], first: int) -> None:
    trial_id = f"t{number}"
    store.create_trial(number, trial_id, values, trial_id, Claim(None, None, None, 0.0))
    metrics = MetricsTracker()
    for step, loss in enumerate(losses, start=first):
        metrics.update("loss", loss, step=step)
    store.finish(
        trial_id,
        status="COMPLETED",
        values=values,
        value_hash=trial_id,
        metrics=metrics,
        score=min(losses),
        best_step=first,
        message=None,
        retries=0,
        ended_at=1.0,
    )


def test_a_continued_hyperband_trial_is_drawn_joined_to_its_parents(tmp_path):
    store = Store(tmp_path / "tunelab.sqlite")
    _finish(store, 0, {"x": 1, "tuner/epochs": 1}, [0.9], 0)
    _finish(store, 1, {"x": 1, "tuner/epochs": 3, "tuner/trial_id": "t0"}, [0.7, 0.6], 1)
    _finish(store, 2, {"x": 1, "tuner/epochs": 9, "tuner/trial_id": "t1"}, [0.5, 0.4, 0.3], 3)
    store.close()
    curves = ProjectReader("p", tmp_path / "tunelab.sqlite").curves().data
    last = curves["lines"][-1]
    assert (last["id"], last["joined"]) == ("t2", ["t0", "t1"])
    assert last["steps"] == [0, 1, 2, 3, 4, 5]
    assert last["values"] == [0.9, 0.7, 0.6, 0.5, 0.4, 0.3]
    assert [line["id"] for line in curves["lines"]] == ["t1", "t2"]  # t0 has one step


def test_the_pareto_front_is_the_set_no_point_dominates():
    points = [[1.0, 5.0], [2.0, 4.0], [2.0, 6.0], [3.0, 3.0], [4.0, 4.0], [1.0, 5.0]]
    # Equal points do not dominate each other: both copies of [1, 5] stay.
    assert non_dominated(points, ["min", "max"]) == [0, 2, 5]
    assert non_dominated(points, ["min", "min"]) == [0, 1, 3, 5]


def test_reading_a_store_being_replaced_reopens_it(tmp_path):
    first = tmp_path / "a"
    first.mkdir()
    store = Store(first / "tunelab.sqlite")
    _finish(store, 0, {"x": 1}, [0.5], 0)
    store.close()
    reader = ProjectReader("a", first / "tunelab.sqlite")
    assert len(reader.trials().data["trials"]) == 1
    os.remove(first / "tunelab.sqlite")
    store = Store(first / "tunelab.sqlite")
    for n in range(3):
        _finish(store, n, {"x": n}, [0.5], 0)
    store.close()
    assert len(reader.trials().data["trials"]) == 3
    reader.close()


def test_after_a_change_only_new_and_unfinished_trials_are_read(tmp_path):
    store = Store(tmp_path / "tunelab.sqlite")
    for n in range(5):
        _finish(store, n, {"x": n}, [0.5 + n], 0)
    store.create_trial(5, "t5", {"x": 5}, "t5", Claim(None, None, None, 0.0))
    reader = ProjectReader("p", tmp_path / "tunelab.sqlite")
    first = reader.trials().data["trials"]
    assert [(t["id"], t["status"]) for t in first][-2:] == [("t4", "COMPLETED"), ("t5", "RUNNING")]
    metrics = MetricsTracker()
    metrics.update("loss", 0.25, step=0)
    store.finish(
        "t5",
        status="COMPLETED",
        values={"x": 5},
        value_hash="t5",
        metrics=metrics,
        score=0.25,
        best_step=0,
        message=None,
        retries=0,
        ended_at=2.0,
    )
    _finish(store, 6, {"x": 6}, [0.125], 0)
    later = reader.trials().data["trials"]
    assert [(t["id"], t["status"], t["score"]) for t in later][-2:] == [
        ("t5", "COMPLETED", 0.25),
        ("t6", "COMPLETED", 0.125),
    ]
    assert later[:5] == first[:5]
    assert reader.full_reads == 1  # the first read only; then t5 and t6 alone
    store.close()
    reader.close()
