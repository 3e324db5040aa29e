"""vidcolor.signals: real stop signals sent to this process, counted or raised, handlers restored."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vidcolor.signals import STOP_SIGNALS, StopRequests, forget_interrupt, interrupt_on_stop_signals

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


@pytest.fixture(autouse=True)
def own_handlers():
    """Every stop signal starts with a known handler, and the test's leftovers are undone."""
    saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def handlers() -> dict[int, object]:
    return {s: signal.getsignal(s) for s in STOP_SIGNALS}


def send(signum: int, seen=lambda: False) -> None:
    """Send ``signum`` to this process; return once ``seen()`` or after a short grace."""
    os.kill(os.getpid(), signum)
    settle(seen)


def settle(seen) -> None:
    """Python runs a handler on the main thread at its next bytecode: a brief loop is enough."""
    deadline = time.monotonic() + 1.0
    while not seen() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_stop_signals_are_counted_not_raised():
    before = handlers()
    with interrupt_on_stop_signals(), StopRequests() as stop:
        for expected, signum in enumerate((signal.SIGTERM, signal.SIGHUP, signal.SIGINT), 1):
            send(signum, lambda n=expected: stop.count == n)
        assert stop.count == 3 and stop.signum == signal.SIGTERM
        assert stop.requested.is_set()
    assert handlers() == before


def test_by_default_only_signals_that_would_raise_are_taken_over():
    def own(signum, frame):
        pass

    signal.signal(signal.SIGTERM, own)
    with StopRequests() as stop:
        assert signal.getsignal(signal.SIGTERM) is own
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
        send(signal.SIGINT, lambda: stop.count == 1)
        assert stop.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_named_signals_are_taken_over_whatever_their_handler():
    with StopRequests([signal.SIGTERM]) as stop:
        send(signal.SIGTERM, lambda: stop.count == 1)
        assert stop.count == 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_failed_entry_restores_what_it_had_installed():
    with pytest.raises(OSError):  # SIGKILL cannot be caught
        StopRequests([signal.SIGTERM, signal.SIGKILL]).__enter__()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_the_main_thread_can_wait_on_the_event_while_a_signal_sets_it():
    with StopRequests([signal.SIGTERM]) as stop:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
        assert stop.requested.wait(5.0)
        assert stop.count == 1


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_the_command_line_context_raises_keyboard_interrupt(name):
    before = handlers()
    with pytest.raises(KeyboardInterrupt), interrupt_on_stop_signals():
        send(getattr(signal, name))
    assert handlers() == before


def test_ignored_signals_stay_ignored():
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    with interrupt_on_stop_signals():
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.default_int_handler
        send(signal.SIGHUP)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_nothing_is_installed_off_the_main_thread():
    received = []
    signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    before = handlers()
    seen = {}

    def worker():
        with interrupt_on_stop_signals(), StopRequests(STOP_SIGNALS) as stop:
            seen["inside"] = handlers()
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        seen["count"] = stop.count

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    settle(lambda: received)
    assert seen == {"inside": before, "count": 0}
    assert received == [signal.SIGTERM]


def test_forget_interrupt_keeps_the_exit_status(tmp_path: Path):
    """A KeyboardInterrupt caught after it escaped exec()'d source must not end ``python -m``
    by SIGINT once the module has exited with its own status."""
    (tmp_path / "interrupted.py").write_text(
        "from vidcolor.signals import forget_interrupt\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    forget_interrupt()\n"
        "raise SystemExit(130)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), str(tmp_path)])}
    done = subprocess.run([sys.executable, "-m", "interrupted"], env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 130
    forget_interrupt()  # and in-process it is harmless
