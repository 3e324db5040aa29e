"""Stop signals: SIGINT (Ctrl-C), SIGTERM, SIGHUP (a closed terminal or SSH session) and, on
Windows, SIGBREAK all mean "stop", the same way.

Two tools, both main-thread only (Python runs signal handlers there, and only there may
install them; elsewhere the caller owns signals and they are no-ops):

- :func:`interrupt_on_stop_signals`, at the command-line entry point: every stop signal
  raises KeyboardInterrupt, as Ctrl-C does, so one ``except KeyboardInterrupt`` handles all.
- :class:`StopRequests`, around code that must not be interrupted at a random bytecode:
  stop signals are counted instead of raised, and the code stops at a point of its choosing.
  A KeyboardInterrupt can land anywhere, and in a supervisor of threads that is not safe:
  before Python 3.13, one that lands in ``Thread.join()`` marks the thread as finished while
  it still runs (CPython gh-90882), so the output was finalized under the encoder's feet and
  the interpreter exited with a thread inside native code, which aborts (SIGABRT).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name)
)

_Handler = Callable[[int, FrameType | None], Any] | int | None


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _install(signums: Iterable[int], handler: Callable[[int, FrameType | None], Any]) -> dict[int, _Handler]:
    """Give each signal ``handler``; returns the previous handlers, restored if this fails halfway.

    A handler set outside Python (``getsignal`` says None) is skipped: it could not be restored.
    """
    previous: dict[int, _Handler] = {}
    try:
        for signum in signums:
            if signal.getsignal(signum) is not None:
                previous[signum] = signal.signal(signum, handler)
    except BaseException:
        _restore(previous)
        raise
    return previous


def _restore(previous: dict[int, _Handler]) -> None:
    while previous:
        signum, handler = previous.popitem()
        signal.signal(signum, handler)


@contextlib.contextmanager
def interrupt_on_stop_signals() -> Iterator[None]:
    """Make every stop signal raise KeyboardInterrupt (``signal.default_int_handler``) inside.

    For the command line: SIGTERM and SIGHUP would otherwise end the process at once, with no
    cleanup and temporary files left behind. Ignored signals stay ignored (``nohup`` ignores
    SIGHUP, a shell ignores SIGINT in background jobs): ignoring them was asked for.
    """
    if not _on_main_thread():
        yield
        return
    chosen = [s for s in STOP_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    previous = _install(chosen, signal.default_int_handler)
    try:
        yield
    finally:
        _restore(previous)


def forget_interrupt() -> None:
    """Make sure a handled Ctrl-C ends the process with our status, not by SIGINT.

    Call it after catching KeyboardInterrupt at the entry point. When a KeyboardInterrupt
    escapes code run by ``exec()`` of source text (dataclasses and namedtuples build their
    methods that way, so Ctrl-C while torch imports often lands there), CPython records it as
    unhandled even though it is caught later, and ``python -m vidcolor`` then kills itself
    with SIGINT after main() has returned 130. Executing any source text resets that record.
    """
    exec("")  # noqa: S102 - a constant empty string


class _SignalSafeEvent(threading.Event):
    """A threading.Event that a signal handler may set.

    The handler runs on the main thread between two bytecodes, possibly while that thread
    holds the event's lock inside ``wait()``; with Event's plain Lock, ``set()`` would then
    wait for itself forever (the deadlock reported for multiprocessing.Event in CPython
    gh-126434). A re-entrant lock lets it through.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition(threading.RLock())


class StopRequests:
    """Inside, stop signals are counted, not raised; the code polls or waits, then stops.

    ``signals`` are the signals taken over. By default, the stop signals whose handler is
    ``signal.default_int_handler``: those that would raise KeyboardInterrupt here (SIGINT,
    and every stop signal under :func:`interrupt_on_stop_signals`); a signal with a handler
    of its own keeps it. Pass signals to take them over whatever their handler.

    ``count`` is how many came, ``signum`` the first of them, and ``requested`` is set on
    the first: a loop can wait on it, a supervisor can poll ``count``. Wait with a timeout:
    a signal that lands between the flag check and the wait inside ``Event.wait()`` is seen
    at the next one. Main thread only: elsewhere nothing is installed and ``count`` stays 0.
    """

    def __init__(self, signals: Iterable[int] | None = None) -> None:
        self.count = 0
        self.signum: int | None = None
        self.requested: threading.Event = _SignalSafeEvent()
        self._signals = None if signals is None else tuple(signals)
        self._previous: dict[int, _Handler] = {}

    def _note(self, signum: int, frame: FrameType | None) -> None:
        # Runs between any two bytecodes of the main thread: no I/O, and the event only once.
        self.count += 1
        if self.signum is None:
            self.signum = signum
        if not self.requested.is_set():
            self.requested.set()

    def _taken_over(self) -> tuple[int, ...]:
        if self._signals is not None:
            return self._signals
        return tuple(s for s in STOP_SIGNALS if signal.getsignal(s) is signal.default_int_handler)

    def __enter__(self) -> StopRequests:
        if _on_main_thread():
            self._previous = _install(self._taken_over(), self._note)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        _restore(self._previous)
