"""tunelab's three distributions and the pip command that installs each one.

tunelab is not on a package index: its packages install from a checkout (or from the wheels
``make dist`` builds), as the Installation page says. A backend depends on ``tunelab``,
which pip must find among the local packages, so the core comes first in the same command.
Every error that says what to install takes its command from here.
"""

from __future__ import annotations

__all__ = ["INSTALL_COMMANDS", "install_hint"]

INSTALL_COMMANDS = {
    "tunelab": "pip install ./packages/core",
    "tunelab-sklearn": "pip install ./packages/core ./packages/sklearn_backend",
    "tunelab-keras": "pip install ./packages/core ./packages/keras_backend tensorflow",
}


def install_hint(distribution: str) -> str:
    """How to install `distribution`, for an error message.

    Examples
    --------
    >>> install_hint("tunelab-sklearn")
    'pip install ./packages/core ./packages/sklearn_backend (from a checkout of tunelab; see the Installation page)'
    """
    return (
        f"{INSTALL_COMMANDS[distribution]} (from a checkout of tunelab; see the Installation page)"
    )
