"""Shared by the resume, workers and Ray tests: a clip with a short GOP and sound, the
reference one-process run, and what "the same output" means for segmented runs."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from conftest import make_clip, packet_digest, video_pts
from test_pipeline_support import run_cli

FRAMES, GOP = 96, 12  # 4 s at 24 fps, a keyframe every 0.5 s
FAST = ("--engine", "torch", "--device", "cpu", "--size", "64", "-q")
SPLIT = ("--split", "1")  # 4 segments of 24 frames


def gop_clip(path: Path, frames: int = FRAMES, audio: bool = True, chapters=()) -> Path:
    return make_clip(path, frames=frames, audio=audio, chapters=chapters,
                     options={"g": str(GOP), "keyint_min": str(GOP)})


def reference(src: Path, dst: Path, weights: Path) -> Path:
    """The plain run (no segments) that segmented runs must equal."""
    result = run_cli(src, "-o", dst, "--weights", weights, *FAST)
    assert result.returncode == 0, result.stderr
    return dst


def assert_same_timeline(output: Path, ref: Path) -> None:
    """Frame count, every frame's pts and the audio packets (bytes and timestamps) equal."""
    assert video_pts(output) == video_pts(ref)
    assert packet_digest(output, "audio") == packet_digest(ref, "audio")


def chroma_steps(path: Path) -> np.ndarray:
    """Mean |change| of the chroma planes from each frame to the next."""
    with av.open(str(path)) as container:
        planes = [np.concatenate([np.asarray(frame.planes[i]).ravel() for i in (1, 2)])
                  .astype(np.float32) for frame in container.decode(video=0)]
    return np.array([np.abs(b - a).mean() for a, b in zip(planes[:-1], planes[1:], strict=True)])
