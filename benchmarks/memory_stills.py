"""Peak memory of the ``vidcolor`` command on stills: a small one, and 24-megapixel ones.

    python -m benchmarks.memory_stills [--checkout PATH --section NAME] [--out DIR]

Each still goes through ``python -m vidcolor IN -o OUT`` in a child process (shipped model,
default engine) whose peak RSS comes from the kernel (``os.wait4``), so the model and runtimes
count as they do for a user; the small still shows how much of the peak they are. A run on the
small still first builds the engine's caches, so no measured run pays for that. ``--checkout``
measures another copy of the code (e.g. an older commit from ``git archive``) under its own
section. Results go to ``benchmarks/results/<machine>/memory_stills.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks import machine, report
from benchmarks.report import merge

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 1536
# name, (width, height), file name, how the file is made from a gray photograph
CASES = (
    ("640x480 gray JPEG", (640, 480), "small.jpg", "gray"),
    ("6000x4000 gray JPEG", (6000, 4000), "big.jpg", "gray"),
    ("6000x4000 RGBA PNG", (6000, 4000), "big_alpha.png", "alpha"),
    ("6000x4000 16-bit gray TIFF", (6000, 4000), "big16.tif", "16-bit"),
)


def make_still(path: Path, size: tuple[int, int], kind: str) -> Path:
    """A gray photograph (scikit-image's camera man) at ``size`` with film grain."""
    from skimage import data

    gray = cv2.resize(data.camera(), size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    gray += np.random.default_rng(0).normal(0, 6, gray.shape).astype(np.float32)
    if kind == "16-bit":
        image = np.clip(gray * 257, 0, 65535).astype(np.uint16)
    else:
        image = np.clip(gray, 0, 255).astype(np.uint8)
    if kind == "alpha":
        ramp = np.linspace(0, 255, size[0], dtype=np.float32).astype(np.uint8)
        image = np.dstack([image, image, image, np.broadcast_to(ramp, image.shape)])
    cv2.imwrite(str(path), image)
    return path


def peak_rss(src: Path, dst: Path, checkout: Path) -> dict:
    """Run the command on one still; its peak RSS (MB) and wall time (s)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    env.pop("VIDCOLOR_DEBUG", None)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "vidcolor", str(src), "-o", str(dst), "-y",
                                 "-q", "--device", "cpu"], stderr=err, env=env, cwd=checkout)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        if proc.returncode:
            raise RuntimeError(f"vidcolor exited {proc.returncode}: {err.read().decode()}")
    return {"peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "seconds": round(time.perf_counter() - started, 1)}


def run(checkout: Path) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        stills = [make_still(folder / name, size, kind) for _, size, name, kind in CASES]
        peak_rss(stills[0], folder / "warm.jpg", checkout)
        for (name, size, _, _), still in zip(CASES, stills, strict=True):
            out = folder / f"out_{still.name}"
            rows.append({"still": name, "megapixels": round(size[0] * size[1] / 1e6, 1),
                         **peak_rss(still, out, checkout)})
            out.unlink()
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"# vidcolor stills: peak memory, {m['slug']}", "",
             f"{m['cpu']}, {m['cores']} usable cores, GPU: none used (`--device cpu`). Peak RSS "
             f"of the whole `vidcolor` process (kernel's ru_maxrss), shipped model, default "
             f"engine; target ≤ {TARGET_MB} MB for 24 megapixels. The small still's peak is "
             f"the model and runtimes' own; a large one adds what its pixels need.", ""]
    for name, section in results["sections"].items():
        lines += [f"## {name}", "", f"Code: {section['code']}; measured {section['when']}, load "
                  f"average {section['load']['before']['loadavg'][0]} before.", "",
                  "| still | megapixels | peak RSS MB | seconds |", "|---|---|---|---|"]
        lines += [f"| {r['still']} | {r['megapixels']} | {r['peak_rss_mb']} | {r['seconds']} |"
                  for r in section["rows"]] + [""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_stills", description=__doc__)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the code to measure")
    parser.add_argument("--section", default="current", help="results section name")
    parser.add_argument("--out", type=Path, help="results folder (default: per machine)")
    args = parser.parse_args(argv)
    out = args.out or report.RESULTS / machine.machine_slug()
    out.mkdir(parents=True, exist_ok=True)
    load_before = machine.load_snapshot()
    started = time.time()
    rows = run(args.checkout.resolve())
    section = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
               "code": "this checkout" if args.checkout.resolve() == ROOT else str(args.checkout),
               "load": {"before": load_before, "after": machine.load_snapshot()}, "rows": rows}
    results = merge(out / "memory_stills.json", machine.describe(), {args.section: section})
    (out / "memory_stills.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
