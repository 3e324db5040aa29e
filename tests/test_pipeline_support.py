"""Fixtures and probes shared by the pipeline, CLI and API tests (imported by them).

The model is a tiny randomly initialised network saved to a temporary safetensors file,
so these tests exercise every stage without depending on the shipped weights.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = {"arch": "plain_unet", "num_bins": 16, "channels": [8, 8, 8, 8, 8]}


@pytest.fixture(name="tiny_weights", scope="session")
def tiny_weights_fixture(tmp_path_factory) -> Path:
    import torch

    from vidcolor.models import build_model, save_model

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return save_model(build_model(TINY_CONFIG), TINY_CONFIG, path)


@pytest.fixture(name="colorizer", scope="session")
def colorizer_fixture(tiny_weights):
    from vidcolor import ModelSpec

    return ModelSpec(weights=str(tiny_weights), engine="torch", device="cpu", size=64).build()


def cli_env() -> dict[str, str]:
    """The environment for ``python -m vidcolor`` subprocesses: this checkout, one thread."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env.pop("VIDCOLOR_DEBUG", None)
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 240):
    """Run the real command in a subprocess; returns the CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "vidcolor", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd, env=cli_env(),
    )


def luma_planes(path: str | Path) -> list[np.ndarray]:
    """Every decoded frame's luma plane (planar 8-bit YUV), exactly as stored."""
    with av.open(str(path)) as container:
        return [_plane0(frame) for frame in container.decode(video=0)]


def _plane0(frame: av.VideoFrame) -> np.ndarray:
    assert frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p"), frame.format
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[: frame.height, : frame.width].copy()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` other than ``keep`` (temporary or partial outputs left behind)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)
