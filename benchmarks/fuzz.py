"""Fuzz the command with damaged containers: ``python -m benchmarks.fuzz``.

Real clips are damaged the ways files get damaged (random bytes overwritten, cut short, a
stretch zeroed, two stretches swapped, the header hit) and each one goes through
``vidcolor FILE -o OUT`` in a fresh process. What counts, per the README's contract:

- no traceback, no abort, no hang past ``--timeout`` (then it is a failure);
- exit status 0 or 1 (2 is for usage mistakes, which a damaged file is not);
- exit 0 leaves a playable output with at least one frame; exit 1 leaves none (or one that
  is complete and was reported: a cut input keeps what there was), and never a hidden
  temporary file or a partial.

Results: ``benchmarks/results/<machine>/fuzz.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from benchmarks import machine, report

CLIPS = ("propainter_clips__test-sample0.mp4", "opencv_samples__tree.avi",
         "siammask_davis2017__tennis.mp4", "intel_sample_videos__asl_please.mp4")
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "videos"
Mutation = Callable[[bytearray, np.random.Generator], bytearray]


def random_bytes(data: bytearray, rng: np.random.Generator) -> bytearray:
    for _ in range(int(rng.integers(1, 64))):
        data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
    return data


def truncate(data: bytearray, rng: np.random.Generator) -> bytearray:
    return data[: int(rng.integers(1, len(data)))]


def zero_stretch(data: bytearray, rng: np.random.Generator) -> bytearray:
    start = int(rng.integers(0, len(data)))
    end = min(len(data), start + int(rng.integers(512, 65536)))
    data[start:end] = bytes(end - start)
    return data


def swap_stretches(data: bytearray, rng: np.random.Generator) -> bytearray:
    size = int(rng.integers(256, min(16384, len(data) // 4)))
    a = int(rng.integers(0, len(data) - 2 * size))
    b = int(rng.integers(a + size, len(data) - size))
    data[a : a + size], data[b : b + size] = data[b : b + size], data[a : a + size]
    return data


def hit_header(data: bytearray, rng: np.random.Generator) -> bytearray:
    for _ in range(int(rng.integers(1, 8))):
        data[int(rng.integers(0, min(len(data), 4096)))] = int(rng.integers(0, 256))
    return data


MUTATIONS: dict[str, Mutation] = {f.__name__: f for f in (
    random_bytes, truncate, zero_stretch, swap_stretches, hit_header)}


def frames_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _cut_input(stdout: str) -> bool:
    """Whether the run's JSON summary says the input ended early (its output is kept)."""
    try:
        return bool(json.loads(stdout).get("input_ends_early"))
    except (json.JSONDecodeError, AttributeError):
        return False


def judge(code: int | None, stdout: str, stderr: str, folder: Path, out: Path) -> str:
    """One word for one run: ok-colorized, ok-refused, or what broke the contract."""
    if code is None:
        return "hang"
    if "Traceback" in stderr or "Fatal Python error" in stderr or code < 0:
        return "crash"
    if code not in (0, 1):
        return f"exit-{code}"
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".") or ".partial" in p.name]
    if leftovers:
        return "left-temporary"
    if code == 0:
        try:
            return "ok-colorized" if out.is_file() and frames_in(out) > 0 else "unplayable-output"
        except av.FFmpegError:
            return "unplayable-output"
    if out.exists() and not _cut_input(stdout):
        return "output-despite-error"
    return "ok-refused" if not out.exists() else "ok-cut-input"


def run_one(src: Path, mutation: str, seed: int, timeout: float, extra: list[str]) -> dict:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        damaged = folder / f"damaged{src.suffix}"
        damaged.write_bytes(bytes(MUTATIONS[mutation](bytearray(src.read_bytes()), rng)))
        out = folder / "out" / "colour.mp4"
        out.parent.mkdir()
        started = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "vidcolor", str(damaged), "-o", str(out),
                                   "-q", "--json", *extra], capture_output=True, text=True,
                                  timeout=timeout)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, stdout, stderr = None, "", (exc.stderr or b"").decode(errors="replace")
        verdict = judge(code, stdout, stderr, out.parent, out)
    return {"clip": src.name, "mutation": mutation, "seed": seed, "exit": code,
            "verdict": verdict, "seconds": round(time.monotonic() - started, 2),
            "stderr": stderr.strip().splitlines()[-1][:200] if stderr.strip() else ""}


def markdown(result: dict) -> str:
    counts = Counter(r["verdict"] for r in result["runs"])
    lines = ["# Fuzz: damaged containers through `vidcolor FILE -o OUT`", "",
             f"Machine: {result['machine']['cpu']} ({result['machine']['cores']} cores); "
             f"{len(result['runs'])} runs, timeout {result['timeout']} s each, "
             f"options `{' '.join(result['options'])}`; {result['when']}.", "",
             "| verdict | runs |", "|---|---|"]
    lines += [f"| {verdict} | {count} |" for verdict, count in sorted(counts.items())]
    by = Counter((r["mutation"], r["verdict"]) for r in result["runs"])
    lines += ["", "| mutation | verdict | runs |", "|---|---|---|"]
    lines += [f"| {m} | {v} | {n} |" for (m, v), n in sorted(by.items())]
    bad = [r for r in result["runs"] if not r["verdict"].startswith("ok")]
    if bad:
        lines += ["", "Contract broken:", ""]
        lines += [f"- {r['clip']} {r['mutation']} seed {r['seed']}: {r['verdict']} "
                  f"(exit {r['exit']}): {r['stderr']}" for r in bad]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__)
    p.add_argument("--runs", type=int, default=10, help="damaged files per clip and mutation")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--clips", nargs="+", default=list(CLIPS))
    p.add_argument("--options", nargs=argparse.REMAINDER, default=["--size", "128"],
                   help="extra vidcolor options (default: --size 128, to keep runs short)")
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<machine>)")
    args = p.parse_args(argv)
    clips = [SHARED / name for name in args.clips if (SHARED / name).is_file()]
    if not clips:
        raise SystemExit(f"none of the clips are under {SHARED}")
    runs = []
    for src in clips:
        for mutation in MUTATIONS:
            for seed in range(args.runs):
                runs.append(run_one(src, mutation, seed, args.timeout, args.options))
                print(json.dumps(runs[-1]), flush=True)
    result = {"machine": machine.describe(), "when": time.strftime("%Y-%m-%d %H:%M"),
              "timeout": args.timeout, "options": args.options, "runs": runs}
    report.save("fuzz", result, markdown(result),
                args.out or report.RESULTS / machine.machine_slug())
    return result


if __name__ == "__main__":
    main()
