"""Settings for the whole test run."""

from __future__ import annotations

import os
import signal

from hypothesis import settings

# A test run started in the background by a shell without job control has SIGINT ignored,
# and every process a test starts would inherit that: Python then installs no
# KeyboardInterrupt handler, so the Ctrl-C tests' children never see their Ctrl-C. A user at
# a terminal has the default; give the run the same. A Python-level handler, unlike an
# ignored signal, is reset to the default disposition in a child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Under CI the property tests draw the same cases at each run (derandomized), so a landing
# never hinges on a draw; local runs draw new ones, and a find is replayed with
# --hypothesis-seed=N. Loaded here, before the test modules make their settings.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
