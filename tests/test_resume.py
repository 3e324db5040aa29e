"""``--resume``: a run SIGKILLed at several points continues where it stopped, and the
result equals an uninterrupted run (frames, timestamps, audio packets), with no colour jump
at the joins."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from scale_support import (
    FAST,
    FRAMES,
    SPLIT,
    assert_same_timeline,
    chroma_steps,
    gop_clip,
    reference,
)
from test_pipeline_support import cli_env, run_cli, tiny_weights_fixture  # noqa: F401

SEGMENT = 24  # frames per segment with SPLIT


@pytest.fixture(scope="module")
def film(tmp_path_factory, tiny_weights):
    """The clip and its plain run, made once for the module."""
    folder = tmp_path_factory.mktemp("film")
    src = gop_clip(folder / "film.mp4")
    return src, reference(src, folder / "ref.mp4", tiny_weights)


def _kill_after(command: list, progress, segments: int) -> None:
    """Start the command and SIGKILL it once its sidecar records ``segments`` done, and a
    random moment more (within the next segment's work, or its part's rename)."""
    proc = subprocess.Popen([sys.executable, "-m", "vidcolor", *map(str, command)],
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if len(json.loads(progress.read_text())["done"]) >= segments:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.02)
        time.sleep(random.Random(segments).uniform(0.0, 0.3))
        assert proc.poll() is None, f"the run ended before it was killed: {proc.stderr.read()}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("killed_after", [1, 2])
def test_sigkilled_run_resumes_to_the_uninterrupted_output(tmp_path, film, tiny_weights,
                                                           killed_after):
    src, ref = film
    dst = tmp_path / "out.mp4"
    command = [src, "-o", dst, "--resume", *SPLIT, "--weights", tiny_weights, *FAST]
    sidecar = tmp_path / ".out.mp4.vidcolor-resume"
    _kill_after(command, sidecar / "progress.json", killed_after)
    assert not dst.exists() and len(list(sidecar.glob("part-*"))) >= killed_after

    changed = run_cli(*command, "--temporal-strength", "0.5")
    assert changed.returncode == 1 and "options differ" in changed.stderr

    result = run_cli(*command, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["segments"] == FRAMES // SEGMENT
    assert summary["segments_resumed"] >= killed_after
    assert_same_timeline(dst, ref)
    assert not sidecar.exists() and not list(tmp_path.glob(".*"))


def test_joins_show_no_colour_jump(tmp_path, film, tiny_weights):
    """Each segment's temporal stage is warmed on the frames before it: the chroma change
    across a join is no larger than between neighbours elsewhere."""
    src, ref = film
    dst = tmp_path / "out.mp4"
    result = run_cli(src, "-o", dst, "--resume", *SPLIT, "--weights", tiny_weights, *FAST)
    assert result.returncode == 0, result.stderr
    steps = chroma_steps(dst)
    joins = [SEGMENT * k - 1 for k in range(1, FRAMES // SEGMENT)]  # step into a segment
    inside = np.delete(steps, joins)
    assert steps[joins].max() <= inside.max()
    assert steps[joins].mean() <= 2 * inside.mean()


def test_resume_refuses_another_input(tmp_path, film, tiny_weights):
    src, _ = film
    dst = tmp_path / "out.mp4"
    copy = gop_clip(tmp_path / "film.mp4")
    command = [copy, "-o", dst, "--resume", *SPLIT, "--weights", tiny_weights, *FAST]
    _kill_after(command, tmp_path / ".out.mp4.vidcolor-resume" / "progress.json", 1)
    gop_clip(copy, frames=FRAMES - 12)  # the input changed since
    result = run_cli(*command)
    assert result.returncode == 1 and "is not the file the interrupted run read" in result.stderr
    result = run_cli(*command[:3], *SPLIT, "--weights", tiny_weights, *FAST)  # no --resume
    assert result.returncode == 0, result.stderr
