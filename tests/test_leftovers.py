"""Hidden temporaries of runs killed outright (SIGKILL, a power cut) are removed by the next run
to the same destination, and nothing else is: not a temporary in use, nor a look-alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from test_cli import _wait_for
from test_pipeline_support import cli_env, leftovers, run_cli, tiny_weights_fixture  # noqa: F401

from vidcolor.io import atomic
from vidcolor.io.atomic import check_destination, temp_path

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")


@pytest.fixture
def gone_pid() -> int:
    """The id of a process that has come and gone."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: no zombie keeps the id alive
    return proc.pid


@pytest.fixture
def running_pid():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_temporary_names_its_owner(tmp_path):
    name = temp_path(tmp_path / "film.mp4").name
    assert name.startswith(f".film.{atomic._HOST}.{os.getpid()}.") and name.endswith(".tmp.mp4")


def test_only_leftovers_of_gone_runs_are_removed(tmp_path, gone_pid, running_pid):
    host = atomic._HOST
    left = f".film.{host}.{gone_pid}.0123abcd.tmp.mp4"
    keep = [
        f".film.{host}.{running_pid}.0123abcd.tmp.mp4",  # its run is still going
        f".film.{host}.{os.getpid()}.0123abcd.tmp.mp4",  # this very process's
        f".film.other-host.{gone_pid}.0123abcd.tmp.mp4",  # cannot be checked from here
        ".film.0123abcd.tmp.mp4",  # the old name, without an owner
        f".reel.{host}.{gone_pid}.0123abcd.tmp.mp4",  # another destination's
        f".film.{host}.{gone_pid}.0123abcd.tmp.mkv",
        f".film.{host}.{gone_pid}.0123abcd.tmp.mp4.bak",
        f".film.{host}.{gone_pid}.0123abc.tmp.mp4",
        f"film.{host}.{gone_pid}.0123abcd.tmp.mp4",
        "film.partial.mp4",
    ]
    for name in [left, *keep]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / f".film.{host}.{gone_pid}.fedcba98.tmp.mp4").mkdir()  # not a file
    check_destination(tmp_path / "film.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*keep, f".film.{host}.{gone_pid}.fedcba98.tmp.mp4"])


def test_a_run_after_sigkill_removes_the_leftover(tmp_path, make_clip, tiny_weights):
    src = make_clip(tmp_path / "long.mp4", frames=1200, size=(160, 96))
    proc = subprocess.Popen([sys.executable, "-m", "vidcolor", str(src), "--weights",
                             str(tiny_weights), *FAST], stderr=subprocess.PIPE, text=True,
                            env=cli_env())
    _wait_for(proc, lambda: any(p.stat().st_size for p in tmp_path.glob(".long_color.*.tmp.mp4")),
             "the hidden output")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    [leftover] = tmp_path.glob(".long_color.*.tmp.mp4")  # nothing could remove it
    assert f".{proc.pid}." in leftover.name

    result = run_cli(src, "--weights", tiny_weights, "--frames", "4", *FAST)
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path, set()) == ["long.mp4", "long_color.mp4"]
