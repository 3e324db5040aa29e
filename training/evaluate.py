"""Evaluate a model on colour photos: ``python -m training.evaluate --weights W --data DIR``.

Prints PSNR, SSIM, AuC, colourfulness and its ratio to the ground truth for
the model and, beside it, for the gray output (a = b = 0), writes them as JSON
and writes a grid image (gray | ours | ground truth) for a person to look at.
``--temperature`` and ``--gain`` override the decode of the model file, to
calibrate it before export.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from vidcolor.backends import create_engine
from vidcolor.backends.base import precision_name
from vidcolor.color import rgb_to_lab
from vidcolor.colorizer import Colorizer
from vidcolor.models import load_model

from .metrics import NEUTRAL_CHROMA
from .validate import RENDERS, photos, score_folder

METRICS = ("psnr", "ssim", "auc", "colourfulness_ratio", "neutral_chroma", "mean_ab_a",
           "mean_ab_b")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    p.add_argument("--weights", help="model file (.safetensors); default: the shipped model")
    p.add_argument("--data", nargs="+", required=True, help="folders of colour photos")
    p.add_argument("--size", type=int, default=256, help="short side the network sees")
    p.add_argument("--temperature", type=float, help="override the annealed-mean temperature")
    p.add_argument("--gain", type=float, help="override the chroma gain")
    p.add_argument("--engine", default="torch", choices=("torch", "onnxruntime"),
                   help="score through this engine on the CPU (default torch)")
    p.add_argument("--precision", help="engine precision (e.g. int8 with onnxruntime)")
    p.add_argument("--limit", type=int, help="score at most this many photos per folder")
    p.add_argument("--no-ssim", action="store_true", help="skip SSIM (the slow metric)")
    p.add_argument("--render", nargs="+", choices=tuple(RENDERS), default=["eye"],
                   help="gray the photos as the eye sees them and/or as orthochromatic film "
                        "did (archive: only AuC and colourfulness mean anything there)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--grid", help="write a gray | ours | truth grid image here (PNG/JPEG)")
    p.add_argument("--grid-count", type=int, default=12)
    p.add_argument("--grid-pick", choices=("spread", "neutral"), default="spread",
                   help="spread: every n-th photo; neutral: the photos whose true colour is "
                        "most often near gray (stone, metal, snow, overcast sky)")
    return p.parse_args(argv)


def neutral_share(rgb: np.ndarray) -> float:
    """The share of a photo's pixels whose true chroma is under NEUTRAL_CHROMA."""
    ab = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)[..., 1:]
    return float((np.hypot(ab[..., 0], ab[..., 1]) < NEUTRAL_CHROMA).mean())


def grid_photos(folder: str | Path, count: int, pick: str) -> list[np.ndarray]:
    """``count`` photos of ``folder``: every n-th, or the most neutral ones."""
    if pick == "spread":
        return [rgb for _, rgb in photos(folder, count)]
    ranked = sorted(((neutral_share(rgb), i, rgb) for i, (_, rgb) in enumerate(photos(folder))),
                    key=lambda item: item[:2], reverse=True)
    return [rgb for _, _, rgb in ranked[:count]]


def grid_rows(colorizer: Colorizer, images: list[np.ndarray], render: str = "eye",
              height: int = 192) -> list[np.ndarray]:
    """Rows of gray | ours | ground truth at a common height, as RGB; ``render`` grays the
    photo as the eye sees it or as orthochromatic film did."""
    rows = []
    for rgb in images:
        gray = RENDERS[render](rgb)
        cells = [gray, colorizer.colorize_rgb(gray), rgb]
        width = round(rgb.shape[1] * height / rgb.shape[0])
        rows.append(np.concatenate([cv2.resize(c, (width, height), interpolation=cv2.INTER_AREA)
                                    for c in cells], 1))
    return rows


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    """Stack rows of different widths on a white background."""
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)),
                                  constant_values=255) for r in rows], 0)


def results_table(results: dict[str, dict[str, dict[str, float]]]) -> Table:
    table = Table(title="colour quality (gray row = a = b = 0, the do-nothing baseline)")
    table.add_column("set")
    table.add_column("output")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    for folder, result in results.items():
        for name in ("gray", "model"):
            row = result[name]
            table.add_row(Path(folder).name, name, *(f"{row[m]:.3f}" for m in METRICS))
    return table


def _label(folder: str, render: str) -> str:
    return folder if render == "eye" else f"{folder} [{render}]"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    model = load_model(args.weights)
    if args.temperature is not None:
        model.head.temperature = args.temperature
    if args.gain is not None:
        model.head.chroma_gain = args.gain
    colorizer = Colorizer(create_engine(args.engine, "cpu", model, precision=args.precision),
                          size=args.size)
    results = {_label(folder, render): score_folder(colorizer, folder, args.limit,
                                                    with_ssim=not args.no_ssim, render=render)
               for folder in args.data for render in args.render}
    Console(width=160).print(results_table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {"weights": str(args.weights or "default"), "size": args.size,
                   "engine": args.engine, "precision": precision_name(colorizer.engine.dtype),
                   "temperature": model.head.temperature, "gain": model.head.chroma_gain,
                   "results": results}
        Path(args.json).write_text(json.dumps(payload, indent=2))
    if args.grid:
        images = [rgb for folder in args.data
                  for rgb in grid_photos(folder, args.grid_count, args.grid_pick)]
        for render in args.render:
            path = Path(args.grid)
            if render != "eye":
                path = path.with_stem(f"{path.stem}_{render}")
            path.parent.mkdir(parents=True, exist_ok=True)
            grid = stack_rows(grid_rows(colorizer, images, render))
            cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            print(f"grid: {path}")
    return results


if __name__ == "__main__":
    main()
