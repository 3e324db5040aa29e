"""Frame strips for the eye: does colour hold over seconds? Every 6th frame, before and after.

Each clip goes through the ``vidcolor`` command as a user runs it, twice: with
``--temporal off`` (the network frame by frame) and with the defaults. vidcolor
reads only the luma plane, so the colour clip itself is the input and its own
colour is the truth to compare with. Rows: the luma the network saw, per-frame,
the default output, the original colour; columns: frames ``every`` apart.

    python -m benchmarks.strip [--clips NAME ...] [--every 6] [--count 6] [--out docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks.temporal import VIDEOS

HANDHELD = (  # the shared clips with the fastest hand-held camera motion
    "aot_youtubevos__1001_3iEIq5HBY1s",
    "propainter_clips__test-sample1",
    "siammask_davis2017__tennis",
    "propainter_clips__running_car",
)
TILE_WIDTH = 240


def colorize(clip: Path, out: Path, frames: int, *options: str) -> None:
    """``vidcolor CLIP -o OUT --frames N [options]``, failing loudly."""
    subprocess.run([sys.executable, "-m", "vidcolor", str(clip), "-o", str(out), "--quiet",
                    "--frames", str(frames), *options], check=True)


def pick_frames(path: Path, indices: list[int], *formats: str) -> list[list[np.ndarray]]:
    """The frames at ``indices`` (decode order = display order for these clips), one list
    per pixel format in ``formats``, from one decode."""
    wanted, picked = set(indices), [[] for _ in formats]
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                for out, fmt in zip(picked, formats, strict=True):
                    out.append(frame.to_ndarray(format=fmt))
            if i >= indices[-1]:
                break
    return picked


def row(images: list[np.ndarray], label: str) -> np.ndarray:
    """One labelled row of tiles, each TILE_WIDTH wide."""
    tiles = []
    for image in images:
        rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        h, w = rgb.shape[:2]
        tiles.append(cv2.resize(rgb, (TILE_WIDTH, round(h * TILE_WIDTH / w)),
                                interpolation=cv2.INTER_AREA))
    strip = np.concatenate(tiles, axis=1)
    cv2.putText(strip, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 3,
                cv2.LINE_AA)
    cv2.putText(strip, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def strip(clip: Path, every: int, count: int, out: Path) -> Path:
    """Write ``out/temporal_strip_<clip>.jpg`` and return its path."""
    indices = [k * every for k in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        per_frame, default = Path(tmp) / "off.mp4", Path(tmp) / "default.mp4"
        colorize(clip, per_frame, indices[-1] + 1, "--temporal", "off")
        colorize(clip, default, indices[-1] + 1)
        luma, truth = pick_frames(clip, indices, "gray", "rgb24")
        rows = [row(luma, "input (luma)"),
                row(pick_frames(per_frame, indices, "rgb24")[0], "per-frame (--temporal off)"),
                row(pick_frames(default, indices, "rgb24")[0], "vidcolor default"),
                row(truth, "original colour")]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"temporal_strip_{clip.stem}.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 88])
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(HANDHELD), metavar="NAME")
    parser.add_argument("--every", type=int, default=6, help="frames between columns")
    parser.add_argument("--count", type=int, default=6, help="columns")
    parser.add_argument("--videos", type=Path, default=VIDEOS)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    for name in args.clips:
        clip = next(args.videos.glob(f"{name}.*"))
        print(strip(clip, args.every, args.count, args.out))


if __name__ == "__main__":
    main()
