"""Keras 3 backend for tunelab (not implemented yet; see the project's issues)."""

__version__ = "0.1.0"
