"""Two checkouts' pipelines on the same clips, alternated: ``python -m benchmarks.compare OLD NEW``.

For "this change made nothing slower": each round runs the file pipeline of OLD, then of NEW,
on every clip, each in a fresh process with that checkout's code (``git worktree add`` makes a
checkout of any commit), with the shipped model, the default engine and the causal temporal
stage, as ``benchmarks.pipeline`` does. Alternating rounds spread the machine's drift over
both. Writes ``compare.{json,md}`` in the results folder: fps (best of the rounds) and CPU
milliseconds per frame (least), which move less than fps on a shared machine.
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

from benchmarks import machine, report
from benchmarks.clips import RESOLUTIONS, make_gray_clip

# Runs inside the checkout under test, so it may only use names both sides have.
_ONE_RUN = """
import json, sys
from pathlib import Path
from benchmarks.model import our_model
from benchmarks.pipeline import colorize
try:
    from vidcolor.backends import create_engine
except ImportError:  # checkouts before the rename
    from vidcolor.engines import create_engine
from vidcolor.colorizer import Colorizer
net, _, _ = our_model(None)
result = colorize(Path(sys.argv[1]), Path(sys.argv[2]),
                  Colorizer(create_engine(weights=net), size=256), None, "causal")
print(json.dumps(result))
"""


def run_once(checkout: Path, clip: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _ONE_RUN, str(clip), str(out)], cwd=checkout,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(checkout)})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def describe_checkout(checkout: Path) -> str:
    """Its commit, and whether files differ from it (a checkout with local changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), *args], capture_output=True,
                              text=True).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{git('rev-parse', '--short', 'HEAD')}{' + local changes' if changed else ''}"


def markdown(result: dict) -> str:
    lines = ["# Pipeline, two checkouts alternated", "",
             f"{result['machine']['cpu']} ({result['machine']['cores']} cores), "
             f"{result['rounds']} rounds, {result['when']}. Shipped model, default engine, "
             "causal temporal stage, libx264 CRF 18.", "",
             *(f"- {name}: {where}" for name, where in result["checkouts"].items()), "",
             "| clip | checkout | best fps | runs fps | least CPU ms/frame |", "|---|---|---|---|---|"]
    for clip, sides in result["clips"].items():
        for name, runs in sides.items():
            fps = [r["fps"] for r in runs]
            cpu = min(r["cpu_ms_per_frame"] for r in runs)
            lines.append(f"| {clip} | {name} | {max(fps)} | {', '.join(map(str, fps))} | {cpu} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    p.add_argument("old", type=Path, help="checkout of the code before (a git worktree)")
    p.add_argument("new", type=Path, help="checkout of the code after")
    p.add_argument("--clips", nargs="+", default=["480p", "1080p"], choices=tuple(RESOLUTIONS))
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<machine>)")
    args = p.parse_args(argv)
    sides = {"old": args.old.resolve(), "new": args.new.resolve()}
    runs: dict[str, dict[str, list]] = {c: {k: [] for k in sides} for c in args.clips}
    with tempfile.TemporaryDirectory() as tmp:
        clips = {c: make_gray_clip(Path(tmp) / f"{c}.mp4", RESOLUTIONS[c], args.frames)
                 for c in args.clips}
        for _ in range(args.rounds):
            for clip, path in clips.items():
                for name, checkout in sides.items():
                    runs[clip][name].append(run_once(checkout, path, Path(tmp) / "out.mp4"))
                    print(clip, name, runs[clip][name][-1]["fps"], flush=True)
    result = {"machine": machine.describe(), "when": time.strftime("%Y-%m-%d %H:%M"),
              "rounds": args.rounds, "frames": args.frames,
              "checkouts": {k: f"{v} ({describe_checkout(v)})" for k, v in sides.items()},
              "clips": runs}
    report.save("compare", result, markdown(result),
                args.out or report.RESULTS / machine.machine_slug())
    return result


if __name__ == "__main__":
    main()
