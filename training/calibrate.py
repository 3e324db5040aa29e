"""Choose the decode (temperature, chroma gain) of a trained model: ``python -m training.calibrate``.

A network trained for the mean colour is right but dull: averaging over the
plausible colours of an object pulls them towards gray. Scaling the decoded
ab by a gain restores saturation at a small, predictable cost in error. This
tool runs the network once per photo, decodes the bin logits under every
(temperature, gain) pair and keeps the settings whose PSNR stays within
``--psnr-margin`` of the gray output and whose AuC stays at or above it; of
those that bring colourfulness up to ``--target`` of the ground truth's it
picks the most accurate (highest PSNR), else the most colourful.
Calibrate on photos that are neither trained on nor reported: by default only the
calibration split of the given folders is used (``training.data.in_calibration_split``,
one photo in 12, which training leaves out). ``--split all`` sweeps every photo, to draw a
model's whole gain curve on a validation set (report it; do not choose on it).
``--render archive`` grays the photos as orthochromatic film did.
"""

from __future__ import annotations

import argparse
import itertools
import json

import cv2
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from vidcolor.color import rgb_to_lab
from vidcolor.colorizer import compose_rgb, model_input_size
from vidcolor.models import load_model

from .metrics import score_image, summarize
from .validate import RENDERS, photos


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__)
    p.add_argument("--weights", required=True)
    p.add_argument("--data", nargs="+", required=True, help="calibration photos (not validation)")
    p.add_argument("--limit", type=int, default=60, help="photos per folder")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.8, 0.6])
    p.add_argument("--gains", type=float, nargs="+", default=[1.0, 1.2, 1.4, 1.6, 1.8, 2.0])
    p.add_argument("--psnr-margin", type=float, default=0.3, help="allowed dB below gray")
    p.add_argument("--target", type=float, default=0.8, help="colourfulness ratio to reach")
    p.add_argument("--split", choices=("calibration", "all"), default="calibration",
                   help="calibration: only the held-out calibration photos (default)")
    p.add_argument("--render", choices=tuple(RENDERS), default="eye",
                   help="how photos are grayed: eye (L*), archive (orthochromatic film)")
    p.add_argument("--json", help="write every setting's scores here")
    return p.parse_args(argv)


def sweep(model: torch.nn.Module, folders: list[str], limit: int, size: int,
          temperatures: list[float], gains: list[float], calibration: bool = True,
          render: str = "eye") -> dict[tuple[float, float] | str, dict]:
    """Scores of the gray output and of every (temperature, gain) decode."""
    scores: dict = {key: [] for key in itertools.product(temperatures, gains)}
    scores["gray"] = []
    head = model.head
    decode = head.temperature, head.chroma_gain
    for folder in folders:
        for _, rgb in photos(folder, limit, calibration=calibration):
            gray = RENDERS[render](rgb)
            lightness = rgb_to_lab(gray.astype(np.float32) / 255, dim=-1)[..., 0]
            mh, mw = model_input_size(*lightness.shape, size)
            small = cv2.resize(lightness, (mw, mh), interpolation=cv2.INTER_AREA)
            with torch.inference_mode():
                features = model.features(torch.from_numpy(small)[None, None])
            scores["gray"].append(score_image(gray, rgb, with_ssim=False))
            for t, g in itertools.product(temperatures, gains):
                head.temperature, head.chroma_gain = t, g  # as the model decodes: about gray or its mean
                with torch.inference_mode():
                    ab = torch.nn.functional.interpolate(head.chroma(features), size=(mh, mw),
                                                         mode="bilinear", align_corners=False)
                out = compose_rgb(lightness, ab[0].numpy())
                scores[(t, g)].append(score_image(out, rgb, with_ssim=False))
    head.temperature, head.chroma_gain = decode
    if not scores["gray"]:
        split = "calibration-split " if calibration else ""
        raise SystemExit(f"no {split}photos under {', '.join(map(str, folders))}")
    return {key: summarize(values) for key, values in scores.items()}


def choose(results: dict, psnr_margin: float, target: float) -> tuple[float, float]:
    gray = results["gray"]
    settings = [k for k in results if k != "gray"]
    feasible = [k for k in settings
                if results[k]["psnr"] >= gray["psnr"] - psnr_margin and results[k]["auc"] >= gray["auc"]]
    vivid = [k for k in feasible if results[k]["colourfulness_ratio"] >= target]
    if vivid:
        return max(vivid, key=lambda k: results[k]["psnr"])
    if feasible:
        return max(feasible, key=lambda k: results[k]["colourfulness_ratio"])
    return max(settings, key=lambda k: results[k]["psnr"])  # nothing beats gray: least harm


def main(argv: list[str] | None = None) -> tuple[float, float]:
    args = parse_args(argv)
    model = load_model(args.weights)
    results = sweep(model, args.data, args.limit, args.size, args.temperatures, args.gains,
                    calibration=args.split == "calibration", render=args.render)
    best = choose(results, args.psnr_margin, args.target)
    table = Table(title=f"decode sweep; chosen T={best[0]}, gain={best[1]}")
    for column in ("T", "gain", "psnr", "auc", "cf ratio", "neutral chroma"):
        table.add_column(column, justify="right")
    for key, r in results.items():
        t, g = ("gray", "-") if key == "gray" else key
        cells = (f"{r['psnr']:.3f}", f"{r['auc']:.4f}", f"{r['colourfulness_ratio']:.3f}",
                 f"{r['neutral_chroma']:.2f}")
        table.add_row(str(t), str(g), *cells, style="bold" if key == best else None)
    Console(width=120).print(table)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"chosen": best, "results": {str(k): v for k, v in results.items()}}, handle, indent=2)
    return best


if __name__ == "__main__":
    main()
