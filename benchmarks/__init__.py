"""vidcolor's speed benchmarks (``python -m benchmarks``, ``vidcolor bench``)."""

from benchmarks.cli import main

__all__ = ["main"]
