"""Progress reporting, kept apart from the pipeline so any front end can plug in.

The pipeline only calls a ``Progress``: ``start(total)`` once, ``advance(n)``
from its encoder thread, ``close()`` at the end. A rich bar is drawn on a
terminal; on a pipe, or with ``-q``, nothing is drawn at all.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """Draws nothing (pipes, ``-q``, the Python API)."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """Frames done/total, fps and ETA on a terminal."""

    def __init__(self, description: str, stream: TextIO) -> None:
        self._description = description
        self._stream = stream
        self._bar = None
        self._task = None

    def start(self, total: int | None) -> None:
        from rich import progress as bar
        from rich.console import Console

        self._bar = bar.Progress(
            bar.TextColumn("{task.description}"),
            bar.BarColumn(),
            bar.TaskProgressColumn(),
            bar.MofNCompleteColumn(),
            bar.TextColumn("{task.fields[fps]} fps"),
            bar.TimeElapsedColumn(),
            bar.TextColumn("ETA"),
            bar.TimeRemainingColumn(),
            console=Console(file=self._stream),
            transient=False,
        )
        self._task = self._bar.add_task(self._description, total=total or None, fps="-")
        self._bar.start()

    def advance(self, n: int = 1) -> None:
        if self._bar is None:
            return
        self._bar.advance(self._task, n)
        speed = self._bar.tasks[0].speed
        if speed:
            self._bar.update(self._task, fps=f"{speed:.1f}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def make_progress(description: str, quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """A rich bar when ``stream`` (stderr by default) is a terminal, else nothing."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not stream.isatty():
        return NullProgress()
    return RichProgress(description, stream)
