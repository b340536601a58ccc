"""How fast the dashboard's data endpoint answers for a project of 10,000 trials, side by side
with optuna-dashboard serving the same trials (issue 22; the target is under 100 ms).

Both servers run as their users start them, in their own processes: `tunelab dashboard DIR`
(uvicorn) and `optuna_dashboard.run_server` (what the `optuna-dashboard` command runs). The
same 10,000 configurations and scores (five hyperparameters, three reported steps each) are
written to a tunelab store through the storage interface and to an Optuna study on SQLite.
Each poll is one GET on a kept-alive connection, timed by the client, the answer read whole:

* "after a change": one trial is added, then the page's poll reads every trial;
* "unchanged": the poll a page repeats every second while nothing happens (tunelab sends
  the ETag back and gets 304; optuna-dashboard's page asks only for trials after the ones it
  has, ``?after=N``).

    uv run --group bench python benchmarks/dashboard/latency.py [--trials 10000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import table, write_report  # noqa: E402

TARGET_MS = 100.0


def configurations(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        values = {
            "learning_rate": 10 ** rng.uniform(-4, -1),
            "units": rng.choice([32, 64, 128, 256]),
            "layers": rng.randint(1, 6),
            "dropout": rng.uniform(0.0, 0.5),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
        }
        loss = (math.log10(values["learning_rate"]) + 2.5) ** 2 + 0.1 * values["layers"]
        out.append({"values": values, "steps": [loss * (1.5 - 0.2 * s) for s in range(3)]})
    return out


def tunelab_store(path: Path, trials: list[dict[str, Any]]) -> None:
    """The trials written through tunelab's storage interface, 1,000 per transaction."""
    import tunelab as kt
    from tunelab.storage import Claim, Store
    from tunelab.trial import MetricsTracker

    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    hp.Choice("units", [32, 64, 128, 256])
    hp.Int("layers", 1, 6)
    hp.Float("dropout", 0.0, 0.5)
    hp.Choice("optimizer", ["adam", "sgd", "rmsprop"])
    store = Store(path)
    store.set_meta("space", hp.get_config()["space"])
    store.set_meta("objective", kt.Objective("val_loss", "min").get_config())
    for start in range(0, len(trials), 1000):
        with store.transaction():
            for number in range(start, min(start + 1000, len(trials))):
                tunelab_add(store, number, trials[number], Claim, MetricsTracker)
    store.close()


def tunelab_add(store: Any, number: int, trial: dict, claim: Any, tracker: Any) -> None:
    trial_id = f"{number:05d}"
    now = time.time()
    store.create_trial(number, trial_id, trial["values"], trial_id, claim(None, None, None, now))
    metrics = tracker()
    for step, loss in enumerate(trial["steps"]):
        metrics.update("val_loss", loss, step=step)
    store.finish(
        trial_id,
        status="COMPLETED",
        values=trial["values"],
        value_hash=trial_id,
        metrics=metrics,
        score=min(trial["steps"]),
        best_step=len(trial["steps"]) - 1,
        message=None,
        retries=0,
        ended_at=now + 0.5,
    )


def optuna_trial(trial: dict[str, Any]) -> Any:
    import optuna

    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
        "units": optuna.distributions.CategoricalDistribution([32, 64, 128, 256]),
        "layers": optuna.distributions.IntDistribution(1, 6),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
        "optimizer": optuna.distributions.CategoricalDistribution(["adam", "sgd", "rmsprop"]),
    }
    return optuna.trial.create_trial(
        params=trial["values"],
        distributions=distributions,
        value=min(trial["steps"]),
        intermediate_values=dict(enumerate(trial["steps"])),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], port: int | None) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if port is None:  # tunelab prints its address
        line = process.stdout.readline()  # type: ignore[union-attr]
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not start listening on port {port}")


def get(conn: http.client.HTTPConnection, path: str, etag: str | None = None) -> tuple:
    """(milliseconds, status, bytes, ETag) of one GET, the body read whole."""
    headers = {"If-None-Match": etag} if etag else {}
    t0 = time.perf_counter()
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    body = answer.read()
    ms = (time.perf_counter() - t0) * 1000
    if answer.status not in (200, 304):
        raise RuntimeError(f"GET {path}: {answer.status} {body[:200]!r}")
    return ms, answer.status, len(body), answer.getheader("ETag")


def summary(samples: list[tuple]) -> dict[str, Any]:
    times = [s[0] for s in samples]
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "bytes": samples[-1][2],
        "status": samples[-1][1],
        "n": len(times),
    }


def measure_tunelab(folder: Path, trials: list, repeats: int) -> dict[str, Any]:
    from tunelab.storage import Claim, Store
    from tunelab.trial import MetricsTracker

    command = [sys.executable, "-m", "tunelab.cli", "dashboard", str(folder), "--port", "0"]
    process, port = start(command, None)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    path = "/api/trials?project=big"
    out: dict[str, Any] = {}
    try:
        out["first poll"] = summary([get(conn, path)])
        changed, store = [], Store(folder / "big" / "tunelab.sqlite")
        extra = configurations(repeats, seed=1)
        for i in range(repeats):
            tunelab_add(store, len(trials) + i, extra[i], Claim, MetricsTracker)
            changed.append(get(conn, path))
        store.close()
        out["after a change"] = summary(changed)
        etag = get(conn, path)[3]
        out["unchanged"] = summary([get(conn, path, etag) for _ in range(repeats * 3)])
        for endpoint in ("importance", "curves"):
            first = get(conn, f"/api/{endpoint}?project=big")
            out[f"{endpoint} (first)"] = summary([first])
    finally:
        conn.close()
        process.terminate()
        process.wait(timeout=10)
    return out


def measure_optuna(folder: Path, trials: list, repeats: int) -> dict[str, Any] | str:
    try:
        import optuna
        import optuna_dashboard  # noqa: F401
    except ImportError as error:
        return f"not installed ({error}); uv sync --all-packages --group bench"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{folder / 'optuna.db'}"
    study = optuna.create_study(storage=url, study_name="big", direction="minimize")
    study.add_trials([optuna_trial(t) for t in trials])
    port = free_port()
    script = (
        "from optuna_dashboard import run_server\n"
        f"run_server({url!r}, host='127.0.0.1', port={port})\n"
    )
    process, port = start([sys.executable, "-c", script], port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    study_id = json.loads(conn_get_body(conn, "/api/studies"))["study_summaries"][0]["study_id"]
    path = f"/api/studies/{study_id}"
    out: dict[str, Any] = {}
    try:
        out["first poll"] = summary([get(conn, path)])
        changed = []
        for extra in configurations(repeats, seed=1):
            study.add_trial(optuna_trial(extra))
            changed.append(get(conn, path))
        out["after a change"] = summary(changed)
        count = len(trials) + repeats
        out["unchanged"] = summary([get(conn, f"{path}?after={count}") for _ in range(repeats * 3)])
    finally:
        conn.close()
        process.terminate()
        process.wait(timeout=10)
    return out


def conn_get_body(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    return conn.getresponse().read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-optuna", action="store_true")
    args = parser.parse_args()
    trials = configurations(args.trials)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        t0 = time.perf_counter()
        tunelab_store(folder / "big" / "tunelab.sqlite", trials)
        fill = time.perf_counter() - t0
        print(f"tunelab store: {args.trials} trials written in {fill:.1f} s", file=sys.stderr)
        results["tunelab"] = measure_tunelab(folder, trials, args.repeats)
        if args.skip_optuna:
            results["optuna-dashboard"] = "skipped (--skip-optuna)"
        else:
            t0 = time.perf_counter()
            results["optuna-dashboard"] = measure_optuna(folder, trials, args.repeats)
            print(
                f"optuna: study filled and measured in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
    rows = []
    for library, found in results.items():
        if isinstance(found, str):
            rows.append([library, found, "", "", "", ""])
            continue
        for what, s in found.items():
            rows.append(
                [
                    library,
                    what,
                    f"{s['median_ms']:.1f}",
                    f"{s['min_ms']:.1f}-{s['max_ms']:.1f}",
                    str(s["n"]),
                    f"{s['status']} {s['bytes']:,} B",
                ]
            )
    print(f"\nData endpoint of a project of {args.trials:,} trials (ms per poll, client side)")
    print(table(["server", "poll", "median ms", "range", "n", "answer"], rows))
    tunelab = results["tunelab"]
    met = tunelab["after a change"]["median_ms"] < TARGET_MS
    print(
        f"\ntarget: tunelab's poll after a change under {TARGET_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'} ({tunelab['after a change']['median_ms']:.1f} ms)"
    )
    path = write_report(
        "dashboard_latency",
        {
            "trials": args.trials,
            "repeats": args.repeats,
            "target_ms": TARGET_MS,
            "target_met": met,
            "results": results,
        },
    )
    print(json.dumps({"report": str(path), "target_met": met}))


if __name__ == "__main__":
    main()
