"""Where a 4K run's memory goes: each part of the pipeline alone, in a fresh process.

    python -m benchmarks.memory_parts [--out DIR]

Peak RSS (the kernel's high-water mark) of processes that do one thing each on the generated
4K clip of ``benchmarks.memory``: import the runtimes, build the shipped model, run inference
as the pipeline does (two calls at once) at batch 1 and 4, decode the clip, and decode +
encode it with libx264 at CRF 18 with its default look-ahead and with the cap vidcolor applies
above 1080p (and at CRF 20 with the default: the cap's quality at about the same size). A
part's own cost is its peak minus that of the part it builds on. Results:
``benchmarks/results/<machine>/memory_parts.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from benchmarks import machine, report
from benchmarks.clips import RESOLUTIONS, make_gray_clip
from vidcolor.io.planes import split_luma

ROOT = Path(__file__).resolve().parents[1]
# VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's RSS when it was forked
PEAK = ("print(next(int(line.split()[1]) for line in open('/proc/self/status')"
        " if line.startswith('VmHWM')) / 1024)")
IMPORTS = "import vidcolor.colorizer, torch, onnxruntime\n"
BUILD = IMPORTS + "from vidcolor.specs import ModelSpec\ncolorizer = ModelSpec().build()\n"
INFER = BUILD + """
import threading, numpy as np
small = colorizer.lightness_small(np.zeros((2160, 3840), np.uint8), False)
calls = [threading.Thread(target=lambda: [colorizer.infer_frames([small] * {batch})
                                          for _ in range(3)]) for _ in range(2)]
[t.start() for t in calls]; [t.join() for t in calls]
"""
DECODE = """
from vidcolor.io.reader import open_video
with open_video({src!r}, threads={threads}) as reader:
    for _ in reader: pass
"""
ENCODE = """
from vidcolor.io.reader import open_video
from vidcolor.io.writer import VideoWriter
with open_video({src!r}, threads=1) as reader:
    writer = VideoWriter({dst!r}, reader.info, overwrite=True, crf={crf}, preset="medium",
                         options={options!r})
    for item in reader: writer.write(item)
    writer.close()
"""


def peak_mb(code: str) -> float:
    """Peak RSS in MB of a fresh Python process running ``code``."""
    out = subprocess.run([sys.executable, "-c", code + "\n" + PEAK], capture_output=True,
                         text=True, check=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return round(float(out.stdout.split()[-1]), 1)


def parts(src: Path, dst: Path) -> list[dict]:
    """(part, peak MB, the part it builds on): runtimes and model, then decoder and encoder."""
    rows = [("Python, vidcolor, torch, onnxruntime imported", peak_mb(IMPORTS), None),
            ("shipped model built (ONNX Runtime, INT8 decoder)", peak_mb(BUILD), 0)]
    for batch in (1, 4):
        rows.append((f"+ inference, 2 calls at once, batch {batch}, 256x455",
                     peak_mb(INFER.format(batch=batch)), 1))
    rows.append(("Python + PyAV decoding the 4K clip, 1 thread",
                 peak_mb(DECODE.format(src=str(src), threads=1)), None))
    rows.append(("the same, vidcolor's decoder threads above 1080p (2)",
                 peak_mb(DECODE.format(src=str(src), threads=0)), 4))
    encoded = {}
    for look_ahead, crf in ((40, 18), (10, 18), (40, 20)):
        out = dst.with_name(f"la{look_ahead}-crf{crf}.mp4")
        code = ENCODE.format(src=str(src), dst=str(out), crf=crf,
                             options={"rc-lookahead": str(look_ahead)})
        name = f"+ libx264 medium CRF {crf}, rc-lookahead {look_ahead}"
        rows.append((name, peak_mb(code), 4))
        encoded[name] = {"kbytes": round(out.stat().st_size / 1024), "psnr_db": luma_psnr(src, out)}
    return [{"part": name, "peak_rss_mb": mb,
             "own_mb": None if base is None else round(mb - rows[base][1], 1),
             **encoded.get(name, {})} for name, mb, base in rows]


def luma_psnr(src: Path, out: Path) -> float:
    """PSNR of ``out``'s luma against ``src``'s over the whole clip, in dB."""
    def lumas(path: Path):
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield split_luma(frame).y.astype(np.float64)

    errors = [np.mean((a - b) ** 2) for a, b in zip(lumas(src), lumas(out), strict=True)]
    return round(float(10 * np.log10(255 ** 2 / np.mean(errors))), 2)


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"# vidcolor memory by part: {m['slug']}", "",
             f"{m['cpu']}, {m['cores']} usable cores; measured {result['when']} on "
             f"{result['clip']}. Each row is a fresh process; its own share is its peak minus "
             "that of the row it builds on. A 4K frame in flight holds 8.8 MB (its luma "
             "plane and L at the model's size), 12.4 MB more while its output frame is built.",
             "The encodes' size and luma PSNR against the clip show what the shorter "
             "look-ahead costs: at the same CRF a smaller, lower-quality file; against the "
             "40-frame look-ahead at about the same size (CRF 20), the quality difference.",
             "", "| part | peak RSS MB | own MB | file KB | luma PSNR dB |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['part']} | {r['peak_rss_mb']} | {r['own_mb'] or ''} | "
              f"{r.get('kbytes', '')} | {r.get('psnr_db', '')} |" for r in result["rows"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory_parts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<machine>)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = make_gray_clip(Path(tmp) / "2160p-2s.mp4", RESOLUTIONS["2160p"], 48)
        result = {"machine": machine.describe(),
                  "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "clip": "a generated gray 3840x2160 clip, 48 frames",
                  "rows": parts(src, Path(tmp) / "out.mp4")}
    report.save("memory_parts", result, markdown(result),
                args.out or report.RESULTS / machine.machine_slug())
    print(json.dumps(result["rows"], indent=1))
    return result


if __name__ == "__main__":
    main()
