"""Reliability suite: crash-safe resume, failure handling and hostile input, with real
processes, signals and files.

Run it with ``uv run --frozen pytest tests/reliability -q -p no:cacheprovider`` (about 1.5
minutes on 2 cores). At the end it prints what it proved, from counters the tests increment
only after a check passed (see ``proof.py``). Kill and Ctrl-C points are drawn at random;
each failure message carries ``RELIABILITY_SEED``: set that environment variable to replay
the same points. Child processes run ``search_worker.py`` (helpers in ``processes.py``).
"""
