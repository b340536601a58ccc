"""Fixtures of the dashboard tests: real projects made by real searches, the real
`tunelab dashboard` command serving them on a free port of 127.0.0.1, and a real headless
Chromium (from the system's packages) driven by Selenium.

Without Chromium and its driver the browser tests fail under CI (``CI=true``: .ci/run
installs them) and are skipped elsewhere, with the command that installs them.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tunelab as kt

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "images" / "dashboard"
_SCRATCH = Path(tempfile.mkdtemp(prefix="tunelab-screenshots-"))
HOSTILE_HP = "<script>window.__pwned=1</script>"
HOSTILE_CHOICE = '<img src=x onerror="window.__pwned=2">'
HOSTILE_ERROR = '<img src=x onerror="window.__pwned=3"> failed'


def demo_objective(hp: kt.HyperParameters) -> dict[str, float]:
    """The black-box objective of examples/demo.py (four hyperparameters, one conditional)."""
    lr = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    layers = hp.Int("layers", 1, 6)
    optimizer = hp.Choice("optimizer", ["adam", "sgd"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        momentum = hp.Float("momentum", 0.0, 0.99)
    loss = (math.log10(lr) + 2.5) ** 2 + 0.15 * (layers - 3) ** 2
    if optimizer == "sgd":
        loss += 0.5 * (1.0 - momentum)
    return {"val_loss": loss, "val_accuracy": 1.0 / (1.0 + loss)}


def training_loop(hp: kt.HyperParameters, trial: kt.Trial) -> None:
    """Reports five steps of a decaying loss (learning curves)."""
    rate = hp.Float("rate", 0.05, 0.5)
    for step in range(5):
        trial.report({"loss": math.exp(-rate * step)}, step=step)


def two_objectives(hp: kt.HyperParameters) -> dict[str, float]:
    x = hp.Float("x", 0.0, 1.0)
    return {"loss": x, "accuracy": x**0.5 - 0.3 * hp.Float("noise", 0.0, 1.0)}


def hostile(hp: kt.HyperParameters) -> float:
    hp.Choice(HOSTILE_CHOICE, ["<b>bold</b>", "plain"])
    x = hp.Float(HOSTILE_HP, 0.0, 1.0)
    if x > 0.7:
        raise ValueError(HOSTILE_ERROR)
    return x


def slow_square(hp: kt.HyperParameters) -> float:
    return hp.Float("x", -1.0, 1.0) ** 2


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of projects: demo-like, learning curves, two objectives, hostile names, a
    growing one (`live`), a store that is not SQLite and one of a newer schema."""
    root = tmp_path_factory.mktemp("dashboard") / "runs"

    def search(function, objective, trials, where, **kwargs):
        folder = root / where
        tuner = kt.RandomSearch(
            function,
            objective=objective,
            max_trials=trials,
            seed=7,
            directory=folder.parent,
            project_name=folder.name,
            **kwargs,
        )
        tuner.search(verbose=0)

    search(demo_objective, "val_loss", 30, "demo")
    search(training_loop, "loss", 4, "curves")
    search(two_objectives, ["loss", kt.Objective("accuracy", "max")], 16, "multi")
    search(hostile, "loss", 8, "hostile", max_consecutive_failed_trials=10)
    search(slow_square, "loss", 2, "week2/live")
    (root / "damaged").mkdir()
    (root / "damaged" / "tunelab.sqlite").write_bytes(b"not a database, text " * 8)
    search(slow_square, "loss", 2, "newer")
    with sqlite3.connect(root / "newer" / "tunelab.sqlite") as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.close()
    return root


def start_dashboard(*args: str) -> tuple[subprocess.Popen, str, str]:
    """`tunelab dashboard ARGS --port 0` as a user starts it: the process, the first line it
    printed and the address it serves (no trailing slash)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tunelab.cli", "dashboard", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = process.stdout.readline()  # type: ignore[union-attr]
    found = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
    if found is None:
        process.kill()
        rest = process.communicate(timeout=10)[0]
        raise AssertionError(f"the dashboard did not start: {line}{rest}")
    return process, line, found.group(1)


def get(url: str, etag: str | None = None) -> tuple[int, Any, bytes]:
    """GET `url` (with If-None-Match when `etag` is given): status, headers and body, also
    for an HTTP error status."""
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def row_finished_script(number: int) -> str:
    """Browser script: whether the trial table shows trial `number` as COMPLETED."""
    return (
        "return Array.from(document.querySelectorAll('#trials tr')).some(r => "
        f"r.cells[0].textContent == '{number}' && r.cells[2].textContent == 'COMPLETED')"
    )


def check_endpoints_read_only(server: str, project: str) -> None:
    """Every data endpoint answers a GET on `project` and refuses a POST with 405."""
    for path in ("/api/trials", "/api/curves", "/api/importance", "/api/trial"):
        assert get(f"{server}{path}?project={project}&id=00")[0] == 200
        request = urllib.request.Request(f"{server}{path}?project={project}", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 405


def search_while_watching(browser: Any, script: str, number: int) -> float:
    """Run `script` (a search) in another process while the open page waits for trial
    `number` to show as COMPLETED; the time it showed (while the search runs, not when it
    exits). The search must exit cleanly."""
    search = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(browser, row_finished_script(number), timeout=90)
        return time.time()
    finally:
        assert search.wait(timeout=120) == 0


@pytest.fixture(scope="session")
def server(runs: Path) -> Iterator[str]:
    """`tunelab dashboard RUNS --port 0` as a user starts it; yields its address."""
    process, _, address = start_dashboard(str(runs))
    yield address
    process.terminate()
    process.wait(timeout=10)


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    why = (
        "the browser tests need Chromium and its driver from the system's packages "
        "(Debian: apt-get install -y chromium chromium-driver); found "
        f"chromium={chromium!r}, chromedriver={driver!r}"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(why + " — CI must install them (.ci/run)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium from the system's packages (nothing is downloaded)."""
    chromium, driver = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--enable-unsafe-swiftshader",  # parallel coordinates draw with WebGL, in software
        "--disable-gpu",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    yield chrome
    chrome.quit()


def wait_for(browser, script: str, timeout: float = 10.0, interval: float = 0.05):
    """Run `script` (JavaScript returning a value) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = browser.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {script}")
        time.sleep(interval)


def screenshot(browser, name: str, element_id: str | None = None) -> None:
    """Save the page (or one element) as NAME.png: into docs/images/dashboard/ for the docs
    when TUNELAB_DOCS_SCREENSHOTS=1 (`TUNELAB_DOCS_SCREENSHOTS=1 pytest tests/dashboard`),
    else into a temporary folder, so that a plain test run leaves the checkout unchanged."""
    folder = SCREENSHOTS if os.environ.get("TUNELAB_DOCS_SCREENSHOTS") == "1" else _SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if element_id is None:
        browser.save_screenshot(str(path))
    else:
        element = browser.find_element("id", element_id)
        browser.execute_script("arguments[0].scrollIntoView()", element)
        element.screenshot(str(path))
    assert path.stat().st_size > 1000
