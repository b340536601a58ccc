"""The dashboard in a real headless Chromium: what a user sees on each page (issue 22)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tunelab.storage import Store

from .conftest import (
    HOSTILE_CHOICE,
    HOSTILE_ERROR,
    HOSTILE_HP,
    screenshot,
    search_while_watching,
    wait_for,
)

FINISHED = ("COMPLETED", "STOPPED")


def _stored(runs: Path, name: str) -> list:
    store = Store(runs / name / "tunelab.sqlite", read_only=True)
    try:
        return store.get_trials()
    finally:
        store.close()


def _open(browser, server: str, path: str, ready: str) -> None:
    browser.get(server + path)
    wait_for(browser, ready)


def test_projects_page_lists_every_project_with_counts_and_best(browser, server, runs):
    _open(browser, server, "/", "return document.querySelectorAll('#projects tr').length > 7")
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#projects tr')).slice(1)"
        ".map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    by_name = {row[0]: row[1:] for row in rows}
    assert sorted(by_name) == [
        "curves",
        "damaged",
        "demo",
        "hostile",
        "multi",
        "newer",
        "week2/live",
    ]
    assert by_name["demo"][0] == "30 COMPLETED"
    assert by_name["hostile"][0].endswith("FAILED") and "COMPLETED" in by_name["hostile"][0]
    best = min(t.score for t in _stored(runs, "demo"))
    assert by_name["demo"][1] == f"val_loss = {best:.4g} (min)"
    assert "not a tunelab store" in by_name["damaged"][0]
    assert "newer tunelab" in by_name["newer"][0]
    screenshot(browser, "projects")


def test_project_page_draws_one_point_per_finished_trial(browser, server, runs):
    trials = _stored(runs, "demo")
    finished = [t for t in trials if t.status in FINISHED and t.score is not None]
    _open(
        browser,
        server,
        "/project?project=demo",
        "const d = document.getElementById('importance-chart'); return d && d.data && "
        "document.querySelectorAll('#slices-body .chart').length == 4",
    )
    history = browser.execute_script("return document.getElementById('history').data[0].x")
    assert sorted(history) == sorted(t.number for t in finished)
    # Drawn, not only handed to plotly: one SVG marker per finished trial.
    points = browser.execute_script(
        "return document.querySelectorAll('#history .scatterlayer .trace:first-child .point')"
        ".length"
    )
    assert points == len(finished) == 30
    best = browser.execute_script("return document.getElementById('history').data[1].y")
    assert best[-1] == min(t.score for t in finished)
    dims = browser.execute_script(
        "return document.getElementById('parallel').data[0].dimensions.map(d => d.values.length)"
    )
    assert dims == [len(finished)] * 5  # four hyperparameters and the score
    slices = browser.execute_script(
        "return Array.from(document.querySelectorAll('#slices-body .chart'))"
        ".map(d => d.data[0].x.length)"
    )
    momentum = sum(1 for t in finished if "momentum" in t.values)
    assert slices == [30, 30, 30, momentum]  # momentum is active only with sgd
    importance = browser.execute_script(
        "return document.getElementById('importance-chart').data[0].y"
    )
    assert sorted(importance) == ["layers", "learning_rate", "momentum", "optimizer"]
    rows = browser.execute_script("return document.querySelectorAll('#trials tr').length - 1")
    assert rows == 30
    # Filter by status and by a hyperparameter's value, then sort by score.
    browser.execute_script(
        "const s = document.getElementById('filter-hp'); s.value = 'optimizer';"
        "s.dispatchEvent(new Event('change'));"
        "const v = document.getElementById('filter-value'); v.value = 'sgd';"
        "v.dispatchEvent(new Event('input'));"
    )
    shown = browser.execute_script("return document.querySelectorAll('#trials tr').length - 1")
    assert shown == sum(1 for t in trials if t.values.get("optimizer") == "sgd")
    browser.execute_script(
        "Array.from(document.querySelectorAll('#trials th')).find(th => "
        "th.textContent.startsWith('Score')).click()"
    )
    scores = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trials tr')).slice(1)"
        ".map(r => parseFloat(r.cells[3].textContent))"
    )
    assert scores == sorted(scores) and len(scores) == shown
    browser.execute_script(
        "const s = document.getElementById('filter-hp'); s.value = '';"
        "s.dispatchEvent(new Event('change'));"
    )
    browser.set_window_size(1280, 900)
    screenshot(browser, "trials", "trials-section")
    screenshot(browser, "history", "history-section")
    screenshot(browser, "parallel", "parallel-section")
    screenshot(browser, "slices", "slices-section")
    screenshot(browser, "importance", "importance-section")


def test_learning_curves_and_one_trials_page(browser, server, runs):
    _open(
        browser,
        server,
        "/project?project=curves",
        "const d = document.getElementById('curves-chart'); return d && d.data && d.data.length",
    )
    lines = browser.execute_script(
        "return document.getElementById('curves-chart').data.map(t => [t.x, t.y])"
    )
    stored = _stored(runs, "curves")
    assert len(lines) == len(stored) == 4
    for (steps, values), trial in zip(lines, stored, strict=True):
        history = trial.metrics.get_history("loss")
        assert steps == [o.step for o in history] == [0, 1, 2, 3, 4]
        assert values == [o.mean() for o in history]
    screenshot(browser, "curves", "curves-section")
    trial = stored[1]
    _open(
        browser,
        server,
        f"/trial?project=curves&id={trial.trial_id}",
        "return document.querySelectorAll('#metrics tr').length > 1",
    )
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('#metrics tr')).slice(1)"
        ".map(r => r.cells[0].textContent)"
    )
    assert cells == ["0", "1", "2", "3", "4"]
    values = browser.execute_script(
        "return Array.from(document.querySelectorAll('#values tr')).map(r => r.cells[0]"
        ".textContent + '=' + r.cells[1].textContent)"
    )
    assert values == [f"rate={trial.values['rate']:.4g}"]
    assert browser.find_element("id", "facts").text.startswith("Status COMPLETED")
    screenshot(browser, "trial")


def _front(points: list[tuple[float, float]]) -> set[int]:
    """Brute force: minimize the first value, maximize the second."""
    return {
        i
        for i, (a, b) in enumerate(points)
        if not any(c <= a and d >= b and (c, d) != (a, b) for c, d in points)
    }


def test_multi_objective_project_shows_the_pareto_front(browser, server, runs):
    _open(
        browser,
        server,
        "/project?project=multi",
        "const d = document.getElementById('pareto'); return d && d.data && d.data.length == 2",
    )
    trials = [t for t in _stored(runs, "multi") if t.status == "COMPLETED"]
    points = [
        (t.metrics.get_best_value("loss"), t.metrics.get_best_value("accuracy")) for t in trials
    ]
    expected = sorted(trials[i].trial_id for i in _front(points))
    shown = browser.execute_script("return document.getElementById('pareto').data[1].text")
    assert sorted(shown) == expected and 0 < len(expected) < len(trials)
    everything = browser.execute_script("return document.getElementById('pareto').data[0].x")
    assert len(everything) == len(trials)
    screenshot(browser, "pareto", "pareto-section")


def test_a_trial_finished_beside_the_browser_appears_without_reload(browser, server, runs):
    _open(
        browser,
        server,
        "/project?project=week2/live",
        "return document.querySelectorAll('#trials tr').length == 3",
    )
    browser.execute_script("window.__same_page = 'yes'")
    script = textwrap.dedent(f"""
        import tunelab as kt
        tuner = kt.RandomSearch(lambda hp: hp.Float("x", -1.0, 1.0) ** 2, objective="loss",
                                max_trials=3, seed=7, directory={str(runs / "week2")!r},
                                project_name="live")
        tuner.search(verbose=0)
    """)
    seen = search_while_watching(browser, script, 2)
    new = [t for t in _stored(runs, "week2/live") if t.number == 2][0]
    assert new.status == "COMPLETED"
    # The page noticed the trial within two seconds of its end, without a reload.
    assert seen - new.ended_at < 2.0, seen - new.ended_at
    assert browser.execute_script("return window.__same_page") == "yes"
    wait_for(browser, "return document.getElementById('history').data[0].x.length == 3")


def test_hostile_names_and_messages_are_shown_as_text(browser, server, runs):
    _open(
        browser,
        server,
        "/project?project=hostile",
        "return document.querySelectorAll('#slices-body .chart .gtitle').length == 2",
    )
    headers = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trials th')).map(th => th.textContent)"
    )
    assert HOSTILE_CHOICE in headers and HOSTILE_HP in headers
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#slices-body .gtitle'))"
        ".map(t => t.textContent)"
    )
    assert sorted(titles) == sorted([HOSTILE_CHOICE, HOSTILE_HP])
    # plotly reads tags in its labels as markup: the choice value must stay literal there too.
    ticks = browser.execute_script(
        "return Array.from(document.querySelectorAll('#slices-body .xtick text'))"
        ".map(t => t.textContent)"
    )
    assert "<b>bold</b>" in ticks
    errors = browser.execute_script(
        "return Array.from(document.querySelectorAll('#trials td.message'))"
        ".map(td => td.textContent).filter(t => t)"
    )
    failed = [t for t in _stored(runs, "hostile") if t.status == "FAILED"]
    assert failed and errors == [f"ValueError: {HOSTILE_ERROR}"] * len(failed)
    assert "<b>bold</b>" in browser.find_element("id", "trials").text
    # Nothing stored became markup: no image, no bold, no script ran.
    assert (
        browser.execute_script("return document.querySelectorAll('main img, main b').length") == 0
    )
    assert browser.execute_script("return window.__pwned") is None
    _open(
        browser,
        server,
        f"/trial?project=hostile&id={failed[0].trial_id}",
        "return document.getElementById('message')",
    )
    assert HOSTILE_ERROR in browser.find_element("id", "message").text
    assert browser.execute_script("return window.__pwned") is None


def test_a_damaged_store_shows_its_message_instead_of_a_page(browser, server, runs):
    _open(
        browser, server, "/project?project=damaged", "return document.querySelector('.store-error')"
    )
    text = browser.find_element("css selector", ".store-error").text
    assert text.startswith("This store cannot be read: ")
    assert "damaged/tunelab.sqlite exists and is not a tunelab store" in text
    assert not browser.find_element("id", "history-section").is_displayed()
    screenshot(browser, "damaged")
    _open(
        browser, server, "/project?project=newer", "return document.querySelector('.store-error')"
    )
    text = browser.find_element("css selector", ".store-error").text
    assert "was written by a newer tunelab (store schema version 99" in text
