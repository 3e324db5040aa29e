"""Pack the training set small enough to travel: ``python -m training.pack``.

A lent GPU machine sees only the repository (64 MiB with what it carries) and has no PyAV,
so the photos and sampled clip frames are written once, here, as WebP at the short side
training decodes them at anyway (``--crop`` x 1.25), one folder per source. WebP at quality
75 keeps the 4,463 photos and frames of the shared set in 23.3 MiB, where JPEG at the same
quality setting takes a third more; its 4:2:0 chroma is still finer than the
quarter-resolution chroma the network predicts. (A ``--crop-scale`` run reads its photos at
``--crop`` / that scale: pack at that ``--short``, and mind the size.) The calibration split
is left out at packing; the pack's ``packed.txt`` tells training not to take a second one
out of it. The pack is an image folder: ``python -m training.train --data runs/pack`` reads
it like any other.

    python -m training.pack --data PHOTO_AND_VIDEO_FOLDERS... --out runs/pack
        [--short 160] [--quality 75] [--frames-per-clip 48]
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .data import PACKED, fit_short_side, iter_images


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="image folders, video folders")
    p.add_argument("--out", default="runs/pack", help="pack folder (an earlier pack there is replaced)")
    p.add_argument("--short", type=int, default=160, help="short side (training's crop x 1.25)")
    p.add_argument("--quality", type=int, default=75, help="WebP quality")
    p.add_argument("--frames-per-clip", type=int, default=48)
    return p.parse_args(argv)


def write_webp(path: Path, rgb: np.ndarray, quality: int) -> int:
    """Write ``rgb`` as a lossy WebP; returns its size in bytes."""
    params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    ok, data = cv2.imencode(".webp", np.ascontiguousarray(rgb[..., ::-1]), params)
    if not ok:
        raise OSError(f"could not encode {path.name}")
    path.write_bytes(data.tobytes())
    return data.size


def pack(sources: Sequence[str | Path], out: Path, short: int, quality: int,
         frames_per_clip: int) -> tuple[int, int]:
    """Write the pack (into ``<out>.partial``, moved into place once whole, so an
    interrupted pack is never trained on); returns (images, bytes)."""
    if out.exists() and not (out / PACKED).exists():
        raise SystemExit(f"{out} exists and is not a pack: choose another --out")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    count = total = 0
    for source in sources:
        folder = partial / Path(source).name
        folder.mkdir(exist_ok=True)
        for name, rgb in iter_images([source], frames_per_clip):
            path = folder / f"{Path(name).stem}.webp"
            while path.exists():  # same name in two subfolders: keep both
                path = path.with_stem(path.stem + "_")
            total += write_webp(path, fit_short_side(rgb, short), quality)
            count += 1
    (partial / PACKED).write_text(f"training.pack: short side {short}, WebP quality {quality}, "
                                  f"{frames_per_clip} frames a clip, calibration split left out\n")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return count, total


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    count, total = pack(args.data, Path(args.out), args.short, args.quality,
                        args.frames_per_clip)
    if not count:
        raise SystemExit(f"no images or clips under {', '.join(args.data)}")
    print(f"packed {count} images in {args.out}: {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
