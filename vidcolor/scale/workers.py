"""The local executor: ``--workers N`` processes on this machine, or this process for one.

Worker processes are spawned (never forked: the parent holds threads and an inference engine),
each sized for its share of the cores (``cores // N``, so N engines do not fight over every
core), and ignore Ctrl-C: the parent decides, and on a stop it ends them.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from vidcolor.backends.base import usable_cores
from vidcolor.scale.jobs import Sink, start_worker


class LocalWorkers:
    """``submit(fn, *args) -> Future`` on ``workers`` processes; ``sink`` carries progress."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool = None
        if workers == 1:  # in this process: no start-up, and Ctrl-C acts as in a plain run
            self.sink: Sink = queue.Queue()
            start_worker(None, self.sink)
            return
        context = multiprocessing.get_context("spawn")
        self.sink = context.Queue()
        self._pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start,
            initargs=(max(1, usable_cores() // workers), self.sink))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._pool is not None:
            return self._pool.submit(fn, *args)
        done: Future = Future()
        try:
            done.set_result(fn(*args))
        except Exception as exc:  # a KeyboardInterrupt stops the run here, as in a plain one
            done.set_exception(exc)
        return done

    def close(self, cancel: bool = False) -> None:
        """Wait for the workers to finish, or (``cancel``) end them now."""
        if self._pool is None:
            start_worker(None, None)
            return
        if cancel:
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()  # a part being written is a temporary, removed later
        self._pool.shutdown(wait=True)


def _start(cores: int, sink: Sink) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start_worker(cores, sink)
