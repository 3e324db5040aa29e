"""Colourist controls at 1080p: what each costs per frame alone, and the pipeline's fps with it
on; ``--figure`` draws the README's example from scikit-image's photographs.

    python -m benchmarks.look [--frames N] [--repeats N] [--out DIR]
    python -m benchmarks.look --figure docs/look_example.jpg

A control's own cost is the frame chain's ``finish`` (``prepare`` for negative, where it
acts) on one decoded 1080p frame with the control on, less the same call without it: the
fastest of ``--repeats`` calls each. The pipeline rows run ``vidcolor.colorize_video`` on a
generated 1080p gray clip (shipped model, default engine, causal temporal stage, libx264
CRF 18), one colorizer for every row, in the order of the table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks import machine, report
from benchmarks.clips import RESOLUTIONS, make_gray_clip
from vidcolor.framecolor import FrameColor
from vidcolor.pipeline import colorize_video
from vidcolor.specs import LookSpec, ModelSpec

# label -> (look, side by side)
CONTROLS: dict[str, tuple[dict, bool]] = {
    "none": ({}, False),
    "saturation=1.3": ({"saturation": 1.3}, False),
    "warmth=8 tint=-3": ({"warmth": 8, "tint": -3}, False),
    "reference (coffee)": ({"reference": "REFERENCE"}, False),
    "negative": ({"negative": True}, False),
    "enhance tonemap=0.5": ({"enhance": "tonemap=0.5"}, False),
    "enhance clahe=2": ({"enhance": "clahe=2"}, False),
    "enhance contrast, brightness, power, log (one table)":
        ({"enhance": "contrast=1.2,brightness=0.05,power=0.9,log=2"}, False),
    "enhance sharpen=0.5": ({"enhance": "sharpen=0.5"}, False),
    "enhance rgb=1.05:1:0.95": ({"enhance": "rgb=1.05:1:0.95"}, False),
    "side by side": ({}, True),
}


def write_reference(folder: Path) -> str:
    """scikit-image's coffee cup, a warm still, as the reference image."""
    from skimage import data

    path = folder / "coffee.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    return str(path)


def first_frame(clip: Path) -> av.VideoFrame:
    with av.open(str(clip)) as container:
        return next(container.decode(video=0))


def chain_ms(colorizer, frame: av.VideoFrame, look: LookSpec, side_by_side: bool,
             repeats: int) -> dict[str, float]:
    """Best ms of prepare and of finish for one frame through the chain with ``look`` (the
    fastest call: what the hardware does when the machine's other jobs leave it alone)."""
    chain = FrameColor(colorizer, "yuv420p", look.build(), side_by_side)
    slot = chain.prepare(frame)
    chain.infer([slot])
    prepare, finish = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        chain.prepare(frame)
        middle = time.perf_counter()
        chain.finish(slot, slot.predicted)
        finish.append(time.perf_counter() - middle)
        prepare.append(middle - start)
    return {"prepare": 1000 * min(prepare), "finish": 1000 * min(finish)}


def measure(frames: int, repeats: int, folder: Path) -> dict:
    clip = make_gray_clip(folder / "1080p.mp4", RESOLUTIONS["1080p"], frames)
    frame = first_frame(clip)
    reference = write_reference(folder)
    colorizer = ModelSpec().build()
    chain_ms(colorizer, frame, LookSpec(), False, repeats)  # warm-up: first calls are slow
    colorize_video(clip, folder / "out.mp4", colorizer=colorizer, frames=8, overwrite=True)
    load_before = os.getloadavg()[0]
    rows = []
    base = None
    for label, (values, side_by_side) in CONTROLS.items():
        values = {k: reference if v == "REFERENCE" else v for k, v in values.items()}
        look = LookSpec(**values)
        ms = chain_ms(colorizer, frame, look, side_by_side, repeats)
        base = base or ms
        stats = colorize_video(clip, folder / "out.mp4", colorizer=colorizer, look=look,
                               side_by_side=side_by_side, overwrite=True)
        own = sum(ms[k] - base[k] for k in ms)
        rows.append({"control": label, "changes_luma": look.changes_luma or side_by_side,
                     "prepare_ms": round(ms["prepare"], 2), "finish_ms": round(ms["finish"], 2),
                     "control_ms": round(own, 2), "pipeline_fps": round(stats.fps, 2),
                     "chroma_stage_ms": stats.ms_per_frame["chroma"],
                     "engine": stats.engine})
        print(rows[-1], flush=True)
    return {"machine": machine.describe(), "when": time.strftime("%Y-%m-%d %H:%M"),
            "frames": frames, "repeats": repeats, "size": "1920x1080", "rows": rows,
            "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"# Colourist controls at 1080p ({m['cpu']}, {m['cores']} cores)", "",
             f"Measured {result['when']}. Control alone: the fastest of {result['repeats']} calls "
             "of the frame chain's prepare + finish on one 1080p frame, less the same without "
             f"any control. Pipeline: `colorize_video` on a generated {result['frames']}-frame "
             "1080p gray clip, shipped model, default engine, causal temporal stage, libx264 "
             "CRF 18 (one run each). Load average "
             f"{result['loadavg'][0]} before, {result['loadavg'][1]} after: other jobs shared "
             "the machine, so compare the rows with the table's own `none` row.", "",
             "| control | changes luma | prepare + finish ms | control alone ms/frame | "
             "pipeline fps | pipeline chroma stage ms/frame |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['control']} | {'yes' if r['changes_luma'] else 'no'} | "
                     f"{r['prepare_ms'] + r['finish_ms']:.2f} | {r['control_ms']:+.2f} | "
                     f"{r['pipeline_fps']} | {r['chroma_stage_ms']} |")
    return "\n".join(lines) + "\n"


def figure(path: Path) -> Path:
    """gray | model | three looks, from scikit-image's astronaut, labelled; a small JPEG."""
    from skimage import data

    import vidcolor

    with tempfile.TemporaryDirectory() as tmp:
        reference = write_reference(Path(tmp))
        gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
        gray = cv2.resize(gray, (256, 256), interpolation=cv2.INTER_AREA)
        colorizer = ModelSpec().build(calls=1)
        looks = {"model's colour": LookSpec(),
                 "saturation 1.4, warmth 6": LookSpec(saturation=1.4, warmth=6),
                 "reference: coffee still": LookSpec(reference=reference),
                 "clahe=2,sharpen=0.7": LookSpec(enhance="clahe=2,sharpen=0.7")}
        tiles = [("gray input", np.repeat(gray[..., None], 3, axis=2))]
        tiles += [(label, vidcolor.colorize_image(gray, colorizer=colorizer, look=look))
                  for label, look in looks.items()]
    labelled = []
    for label, rgb in tiles:
        band = np.full((24, rgb.shape[1], 3), 255, np.uint8)
        cv2.putText(band, label, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
        labelled.append(np.vstack((rgb, band)))
    image = np.hstack([np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in labelled])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.look", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=48, help="frames of the 1080p clip")
    p.add_argument("--repeats", type=int, default=15, help="calls per control alone")
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<machine>)")
    p.add_argument("--figure", type=Path, help="only draw the README's example image here")
    args = p.parse_args(argv)
    if args.figure is not None:
        print(figure(args.figure))
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.frames, args.repeats, Path(tmp))
    report.save("look", result, markdown(result), args.out or report.RESULTS / machine.machine_slug())
    print(markdown(result))


if __name__ == "__main__":
    main()
