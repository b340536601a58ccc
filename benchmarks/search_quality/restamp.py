"""Carry cached tunelab_bayesian runs over to changed core sources, after proving the change
left them alone.

The run cache keys tunelab's Bayesian runs on a hash of the oracle and search-space sources
(`run.core_hash`), so any edit there (a new pending-trial strategy, a Hyperband fix) hides
every cached run. When the edit cannot change a sequential search, this script re-runs a
sample of the cached runs made from `--source` hash with the current code, and only if every
re-run gives *exactly* the cached values does it restamp all runs of that hash to the
current one (appending the restamped lines; the cache's last line wins)::

    python restamp.py --source 932763a87501 --seeds 2,3

A change that alters only some problems' searches (say, those of 16 dimensions or more)
names them with ``--exclude``: their runs are neither sampled nor carried over, so
``run.py`` runs them again.
"""

from __future__ import annotations

import argparse
import json

from run import CACHE, core_hash, parse_seeds, run_one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the core hash the runs were made from")
    parser.add_argument("--seeds", default="2,3", help="seeds of the sample to re-run")
    parser.add_argument("--problems", default="", help="only these problems in the sample")
    parser.add_argument("--exclude", default="", help="problems whose runs are not carried over")
    args = parser.parse_args(argv)
    current = core_hash()
    lines = [json.loads(x) for x in CACHE.read_text(encoding="utf-8").splitlines() if x.strip()]
    excluded = set(filter(None, args.exclude.split(",")))
    old = {
        (r["problem"], r["seed"], r["budget"]): r
        for r in lines
        if r["method"] == "tunelab_bayesian"
        and r.get("core") == args.source
        and "values" in r
        and r["problem"] not in excluded
    }
    if not old:
        parser.error(f"no cached tunelab_bayesian runs with core {args.source!r}")
    wanted = set(parse_seeds(args.seeds))
    problems = set(filter(None, args.problems.split(",")))
    sample = [k for k in old if k[1] in wanted and (not problems or k[0] in problems)]
    print(f"{len(old)} runs of core {args.source}; re-running {len(sample)} with {current}")
    for problem, seed, budget in sorted(sample):
        again = run_one(problem, "tunelab_bayesian", seed, budget)
        same = again.get("values") == old[(problem, seed, budget)]["values"]
        print(f"  {problem} seed {seed} budget {budget}: {'same' if same else 'DIFFERENT'}")
        if not same:
            print("not restamped: the change alters sequential searches; re-run them instead")
            return 1
    with CACHE.open("a", encoding="utf-8") as out:
        for r in old.values():
            out.write(json.dumps({**r, "core": current, "restamped_from": args.source}) + "\n")
    print(f"restamped {len(old)} runs to core {current}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
