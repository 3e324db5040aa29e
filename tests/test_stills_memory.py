"""A large still's memory: the command's peak grows by a few bytes per pixel, not by float
copies of the whole picture (3 GB for 24 megapixels before; see benchmarks/memory_stills.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from test_pipeline_support import cli_env, tiny_weights_fixture  # noqa: F401  (fixture)

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")
# about 10 for a gray JPEG (the image 1, its L* 4, the output 3, the BGR copy encoded 3, less
# what is freed in between); whole-picture float copies made it 109
BYTES_PER_PIXEL = 30


def peak_rss_mb(src: Path, weights: Path) -> float:
    """Peak RSS of ``python -m vidcolor src`` in a child process, from the kernel."""
    proc = subprocess.Popen([sys.executable, "-m", "vidcolor", str(src), "-y", "-q",
                             "--weights", str(weights), *FAST], env=cli_env())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    return usage.ru_maxrss / 1024


def test_peak_memory_grows_little_with_the_picture(tmp_path, tiny_weights):
    rng = np.random.default_rng(0)
    small, large = (64, 64), (3000, 4000)
    for name, size in (("small.jpg", small), ("large.jpg", large)):
        grain = rng.integers(0, 256, (size[0] // 8, size[1] // 8), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / name), cv2.resize(grain, size[::-1]))
    growth = peak_rss_mb(tmp_path / "large.jpg", tiny_weights) - peak_rss_mb(
        tmp_path / "small.jpg", tiny_weights)
    assert growth < BYTES_PER_PIXEL * large[0] * large[1] / 2**20, f"{growth:.0f} MB more"
