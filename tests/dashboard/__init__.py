"""Tests of `tunelab dashboard` (issue 22)."""
