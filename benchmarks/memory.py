"""Peak memory of whole ``vidcolor`` runs on 4K clips, short and long, and on a 480p clip.

    python -m benchmarks.memory [--checkout PATH] [--section NAME] [--out DIR] [-- OPTIONS]

Each row colorizes a generated gray clip (``benchmarks.clips``) with the command's defaults
(ONNX Runtime on the CPU, the shipped model, libx264 CRF 18, causal temporal stage), or with
the options given after ``--``, in a fresh process, and records that process's peak resident
set size as the kernel reports it when the process ends: the runtimes, the model, the decoder,
the encoder and the pipeline's frames in flight, all of it. The long 4K row beside the short one
shows whether memory grows with the input's length. ``--checkout`` measures another copy of
the code (e.g. an older commit from ``git archive``). Results go to
``benchmarks/results/<machine>/memory.{json,md}``, one section per code and set of options.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import machine, report
from benchmarks.clips import RESOLUTIONS, make_gray_clip
from benchmarks.report import merge

ROOT = Path(__file__).resolve().parents[1]
FPS = 24
CLIPS = (("2160p", 2), ("2160p", 10), ("480p", 10))  # (resolution, seconds of video)


class _Sampler(threading.Thread):
    """RSS of process ``pid`` every ``every`` seconds until ``done`` is set: (seconds, MB)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self.done.wait(self.every):
            try:
                with open(f"/proc/{self.pid}/status") as status:
                    kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            except (OSError, StopIteration):  # not started yet, or ended
                continue
            self.samples.append((time.perf_counter() - start, kb / 1024))

    def halves(self) -> tuple[float | None, float | None]:
        """Highest RSS sampled in the first and in the second half of the run, in MB: a
        memory that grows with the input's length shows as a higher second half."""
        if not self.samples:
            return None, None
        middle = self.samples[-1][0] / 2
        first = [mb for t, mb in self.samples if t <= middle]
        second = [mb for t, mb in self.samples if t > middle]
        return (round(max(first), 1) if first else None,
                round(max(second), 1) if second else None)


def peak_rss(args: list[str], checkout: Path = ROOT
             ) -> tuple[float, tuple[float | None, float | None], dict]:
    """Run ``vidcolor ARGS --json`` from ``checkout`` in a fresh process: its peak RSS in MB,
    the highest RSS sampled in each half of the run (see :meth:`_Sampler.halves`), and its
    summary.

    ``wait4`` reports the peak of that one process (``RUSAGE_CHILDREN`` would be the largest
    of every child so far)."""
    cmd = [sys.executable, "-m", "vidcolor", *args, "-y", "-q", "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=checkout,
                                env=dict(os.environ, PYTHONPATH=str(checkout)))
        sampler = _Sampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read().decode(errors='replace')}")
        out.seek(0)
        return round(usage.ru_maxrss / 1024, 1), sampler.halves(), json.loads(out.read())


def measure(options: list[str], folder: Path, checkout: Path = ROOT) -> list[dict]:
    """One row per clip in ``CLIPS``: peak RSS, and the run's frames and fps."""
    rows = []
    for name, seconds in CLIPS:
        width, height = RESOLUTIONS[name]
        src = folder / f"{name}-{seconds}s.mp4"
        if not src.is_file():
            make_gray_clip(src, (width, height), seconds * FPS, FPS)
        rss, halves, summary = peak_rss([str(src), "-o", str(folder / "out.mp4"), *options],
                                        checkout)
        rows.append({"clip": name, "size": f"{width}x{height}", "seconds": seconds,
                     "frames": summary["frames"], "peak_rss_mb": rss,
                     "sampled_rss_mb_first_half": halves[0],
                     "sampled_rss_mb_second_half": halves[1], "fps": summary["fps"],
                     "engine": summary["engine"], "device": summary["device"]})
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"# vidcolor memory: {m['slug']}", "",
             f"{m['cpu']}, {m['cores']} usable cores, GPU: {m['gpu'] or 'none'}; "
             f"torch {m['torch']}, onnxruntime {m['onnxruntime']}, PyAV {m['av']}.", "",
             "Peak RSS is that of a whole `vidcolor` process (Python, runtimes, model, decoder, "
             f"encoder, frames in flight) colorizing a generated gray clip at {FPS} fps, as the "
             "kernel reports it when the process ends. The halves are the highest RSS sampled "
             "(every 0.2 s) in the first and the second half of the run's time: a memory that "
             "grows with the input's length shows as a higher second half. fps is that run's, "
             "under the load of the moment: memory is what is measured.", ""]
    for name, section in results["sections"].items():
        load = section["load"]["before"]
        lines += [f"## {name}", "",
                  f"Options: {' '.join(section['result']['options']) or 'none (defaults)'}. "
                  f"Measured {section['when']} in {section['seconds']:.0f} s; load average "
                  f"{load['loadavg'][0]} before; busiest other processes: "
                  f"{'; '.join(load['busiest']) or 'none above 5 %'}.", "",
                  "| clip | size | seconds | frames | peak RSS MB | first half MB | "
                  "second half MB | fps | engine |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['clip']} | {r['size']} | {r['seconds']} | {r['frames']} | "
                  f"{r['peak_rss_mb']} | {r['sampled_rss_mb_first_half']} | "
                  f"{r['sampled_rss_mb_second_half']} | {r['fps']} | {r['engine']}/{r['device']} |"
                  for r in section["result"]["rows"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the code to measure")
    parser.add_argument("--section", help="results section (default: from the options)")
    parser.add_argument("--out", type=Path, help="results folder (default: per machine)")
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="vidcolor options after --, e.g. -- --preset veryfast")
    args = parser.parse_args(argv)
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    out = args.out or report.RESULTS / machine.machine_slug()
    out.mkdir(parents=True, exist_ok=True)
    load_before, started = machine.load_snapshot(), time.time()
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(options, Path(tmp), args.checkout.resolve())
    section = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
               "checkout": f"code from {args.checkout.resolve()}",
               "seconds": round(time.time() - started, 1),
               "load": {"before": load_before, "after": machine.load_snapshot()},
               "result": {"options": options, "rows": rows}}
    name = args.section or ("defaults" if not options else "with " + " ".join(options))
    results = merge(out / "memory.json", machine.describe(), {name: section})
    (out / "memory.md").write_text(markdown(results))
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
