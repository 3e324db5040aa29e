"""What a worker runs, the same on a local process pool and on Ray: one file, or one segment
of a file into a part.

A job carries the command's parsed options whole; each worker process builds the command's
session from them once (the model, temporal, output and look specs, and any added later) and
colorizes exactly as a one-process run would. Progress goes back as ``(key, frames done)``
messages on a queue (a multiprocessing queue, or Ray's), which the parent turns into one bar.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vidcolor.backends.base import share_cores
from vidcolor.scale.segments import Segment
from vidcolor.session import Session

REPORT_EVERY = 0.25  # seconds between progress messages of one job


class Sink(Protocol):
    def put(self, item: Any) -> None: ...


@dataclass(frozen=True)
class Job:
    """The command's parsed options, from which every worker builds the same specs."""

    options: argparse.Namespace

    def with_options(self, **changes: Any) -> Job:
        return Job(argparse.Namespace(**{**vars(self.options), **changes}))

    def settings(self) -> str:
        """The options that shape the picture, for a resume to compare with its sidecar's."""
        ignored = {"input", "output", "overwrite", "quiet", "json", "resume", "workers", "ray",
                   "split"}
        return repr(sorted((k, v) for k, v in vars(self.options).items() if k not in ignored))


class _Worker:
    """This process's part of the work: its sessions (one per set of options) and where its
    progress goes."""

    sessions: dict[str, Any] = {}
    sink: Sink | None = None


def start_worker(cores: int | None, sink: Sink | None) -> None:
    """Set up a worker process: its share of the cores and its progress queue."""
    share_cores(cores)
    _Worker.sink = sink


def colorize_file(job: Job, src: Path, dst: Path, key: str) -> dict[str, Any]:
    """One whole file (image or video) to ``dst``; its JSON summary."""
    with _Reporter(key) as progress:
        summary = _session(job).run_file(src, dst, key, progress=progress)
        progress.advance(0 if summary.get("kind") == "video" else 1)
    return summary


def colorize_part(job: Job, src: Path, part: Path, segment: Segment, key: str) -> dict[str, Any]:
    """One segment of ``src`` into the video-only ``part``; its JSON summary."""
    with _Reporter(key) as progress:
        return _session(job).run_file(src, part, key, progress=progress, segment=segment)


def _session(job: Job) -> Session:
    key = repr(sorted(vars(job.options).items()))
    if key not in _Worker.sessions:
        _Worker.sessions[key] = Session(job.options)
    return _Worker.sessions[key]


class _Reporter:
    """A pipeline :class:`~vidcolor.progress.Progress` that sends ``(key, frames done)`` to
    the worker's sink, a few times a second. The count is absolute, so a retried job simply
    starts again from 0."""

    def __init__(self, key: str) -> None:
        self.key, self.done, self._sent = key, 0, 0.0

    def start(self, total: int | None) -> None:
        self._send()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if time.monotonic() - self._sent >= REPORT_EVERY:
            self._send()

    def close(self) -> None:
        """The pipeline closes its progress when it ends; the job's last word is __exit__'s."""

    def __enter__(self) -> _Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._send()

    def _send(self) -> None:
        self._sent = time.monotonic()
        if _Worker.sink is not None:
            _Worker.sink.put((self.key, self.done))
