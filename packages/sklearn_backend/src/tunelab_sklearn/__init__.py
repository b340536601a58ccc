"""scikit-learn backend for tunelab (work in progress; see the project's issues)."""

__version__ = "0.1.0"
