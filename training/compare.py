"""Judge a model against another by whole gain curves: ``python -m training.compare``.

A decode gain slides a model along a front, more colour for less accuracy at a
fixed rate, so two models are compared at the same colourfulness, never at the
same gain: the baseline's curve is interpolated (linearly in colourfulness) at
each point of the candidate's. Per validation set and render (eye; archive:
grayed as orthochromatic film saw it, where PSNR means little and AuC,
colourfulness and neutral chroma are what count), with the gray output beside.

    python -m training.compare --candidate NEW.safetensors --data VAL_FOLDERS...
        [--baseline OLD.safetensors] [--render eye archive] [--gains 1.0 1.2 1.43 1.6]
        [--out PREFIX]        # writes PREFIX.json and PREFIX.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from torch import nn

from vidcolor.models import default_weights_path, load_model

from .calibrate import sweep
from .validate import RENDERS

METRICS = ("psnr", "auc", "neutral_chroma")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__)
    p.add_argument("--candidate", required=True, help="the model judged (.safetensors)")
    p.add_argument("--baseline", help="the model it must beat (default: the shipped one)")
    p.add_argument("--data", nargs="+", required=True, help="validation photo folders")
    p.add_argument("--render", nargs="+", choices=tuple(RENDERS), default=["eye", "archive"])
    p.add_argument("--gains", type=float, nargs="+", default=[1.0, 1.2, 1.43, 1.6])
    p.add_argument("--limit", type=int, default=0, help="photos per folder (0: all)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--out", help="write OUT.json and OUT.md")
    return p.parse_args(argv)


def curve(model: nn.Module, folder: str, render: str, gains: list[float], limit: int,
          size: int) -> dict[str, dict]:
    """A model's scores at each gain (at the temperature its file decodes at), keyed by gain,
    and the gray output's."""
    temperature = model.head.temperature
    results = sweep(model, [folder], limit or None, size, [temperature], gains,
                    calibration=False, render=render)
    return {"gray": results["gray"], **{f"{g:g}": results[(temperature, g)] for g in gains}}


def at_colourfulness(points: dict[str, dict], ratio: float, metric: str) -> float:
    """``metric`` of a gain curve at colourfulness ``ratio``: linear between the two gains
    around it, and along the end segment beyond the curve's ends."""
    xs, ys = zip(*sorted((r["colourfulness_ratio"], r[metric])
                         for key, r in points.items() if key != "gray"), strict=True)
    i = int(np.clip(np.searchsorted(xs, ratio), 1, len(xs) - 1))
    (x0, x1), (y0, y1) = xs[i - 1 : i + 1], ys[i - 1 : i + 1]
    return y0 + (y1 - y0) * (ratio - x0) / (x1 - x0) if x1 != x0 else y0


def compare(candidate: dict[str, dict], baseline: dict[str, dict]) -> list[dict]:
    """Each candidate gain beside the baseline at the same colourfulness."""
    rows = []
    for gain, r in candidate.items():
        if gain == "gray":
            continue
        ratio = r["colourfulness_ratio"]
        row = {"gain": float(gain), "colourfulness_ratio": ratio}
        for metric in METRICS:
            row[metric] = r[metric]
            row[f"baseline_{metric}"] = at_colourfulness(baseline, ratio, metric)
        rows.append(row)
    return rows


def markdown(report: dict) -> str:
    lines = [f"# {Path(report['candidate']).name} against {Path(report['baseline']).name}, "
             "at equal colourfulness", "",
             "Baseline figures are its gain curve interpolated at the candidate's colourfulness "
             "(`python -m training.compare`). Neutral: mean chroma on pixels whose truth is "
             "under 5 ab units (gray 0). Archive: the photos grayed as orthochromatic film "
             "saw them (PSNR not meaningful there).", ""]
    for name, part in report["sets"].items():
        gray = part["gray"]
        lines += [f"## {name}", "",
                  "| gain | colourfulness | PSNR | baseline PSNR | AuC | baseline AuC "
                  "| neutral | baseline neutral |", "|---" * 8 + "|",
                  f"| gray | 0.00 | {gray['psnr']:.2f} | | {gray['auc']:.4f} | | 0.0 | |"]
        lines += [f"| {r['gain']:g} | {r['colourfulness_ratio']:.3f} | {r['psnr']:.2f} | "
                  f"{r['baseline_psnr']:.2f} | {r['auc']:.4f} | {r['baseline_auc']:.4f} | "
                  f"{r['neutral_chroma']:.2f} | {r['baseline_neutral_chroma']:.2f} |"
                  for r in part["rows"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    baseline = args.baseline or str(default_weights_path())
    report: dict = {"candidate": args.candidate, "baseline": baseline, "sets": {}}
    baseline_model, candidate_model = load_model(baseline), load_model(args.candidate)
    for folder in args.data:
        for render in args.render:
            theirs = curve(baseline_model, folder, render, args.gains, args.limit, args.size)
            ours = curve(candidate_model, folder, render, args.gains, args.limit, args.size)
            name = Path(folder).name + ("" if render == "eye" else f" [{render}]")
            report["sets"][name] = {"gray": ours["gray"], "rows": compare(ours, theirs),
                                    "candidate_curve": ours, "baseline_curve": theirs}
    text = markdown(report)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(f"{args.out}.json").write_text(json.dumps(report, indent=1) + "\n")
        Path(f"{args.out}.md").write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
