"""Settings for the whole test run."""

from __future__ import annotations

import signal

# A test run started in the background by a shell without job control has SIGINT ignored,
# and every process a test starts would inherit that: Python then installs no
# KeyboardInterrupt handler, so the Ctrl-C tests' children never see their Ctrl-C. A user at
# a terminal has the default; give the run the same. A Python-level handler, unlike an
# ignored signal, is reset to the default disposition in a child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
