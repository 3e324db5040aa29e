"""Live benchmark: 480p30 from a looping loopback source through ``run_live`` for N seconds.

    python -m benchmarks.live [--seconds 60] [--soak 600] [--source udp|rtsp]

A second process pushes a real clip (a pan over a photograph, with sound) in a loop as
MPEG-TS over UDP (or serves it over RTSP with GStreamer); vidcolor colorizes it into a file.
Reports latency p50/p95 (capture to written), drops, and RSS at the start and the end, with a
timeline every few seconds so a growing latency or memory shows. Results go to
``benchmarks/results/<machine>/live.{json,md}`` (section ``live``, or ``soak`` with --soak).
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import machine, report
from vidcolor.live import LiveStats, run_live
from vidcolor.specs import TemporalSpec

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ROOT / "tests" / "servers"
TARGET_P95_MS, TARGET_DROPS = 200.0, 0.05


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "READY":
        proc.kill()
        raise RuntimeError(f"{cmd[1]} did not start")
    return proc


def _source(kind: str, clip: Path) -> tuple[str, subprocess.Popen]:
    if kind == "udp":
        url = f"udp://127.0.0.1:{_free_port(socket.SOCK_DGRAM)}"
        push = [sys.executable, str(SERVERS / "push.py"), "push", str(clip), url, "--loop"]
        return url, _start(push)
    port = _free_port(socket.SOCK_STREAM)
    serve = ["/usr/bin/python3", str(SERVERS / "rtsp_server.py"), str(clip), "--port", str(port),
             "--audio"]
    return f"rtsp://127.0.0.1:{port}/live", _start(serve)


class _Sampler(threading.Thread):
    """Every ``every`` seconds: counters, recent latency percentiles and RSS."""

    def __init__(self, stats: LiveStats, every: float) -> None:
        super().__init__(daemon=True)
        self.stats, self.every, self.rows = stats, every, []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            s = self.stats
            p50, p95 = s.latency.recent_percentile(50), s.latency.recent_percentile(95)
            self.rows.append({
                "t": round(time.monotonic() - s.started, 1), "frames_in": s.frames_in,
                "frames_out": s.frames_out, "dropped": s.dropped,
                "in_fps": round(s.input_rate.rate(), 1), "out_fps": round(s.output_rate.rate(), 1),
                "p50_ms": None if p50 is None else round(p50, 1),
                "p95_ms": None if p95 is None else round(p95, 1), "rss_mb": _rss_mb()})


def run(args: argparse.Namespace) -> dict:
    from benchmarks.model import our_model
    from vidcolor.backends import create_engine
    from vidcolor.colorizer import Colorizer

    seconds = args.soak or args.seconds
    net, _config, provenance = our_model(args.weights)
    colorizer = Colorizer(create_engine(args.engine, args.device, weights=net, calls=1),
                          size=args.model_size)  # as the live runner builds it
    with tempfile.TemporaryDirectory(prefix="vidcolor-live-bench-") as tmp:
        clip = Path(tmp) / "loop.mp4"
        subprocess.run([sys.executable, str(SERVERS / "push.py"), "make", str(clip), "--size",
                        args.size, "--fps", str(args.fps), "--seconds", "10", "--audio"],
                       check=True)
        url, server = _source(args.source, clip)
        stats = LiveStats()
        sampler = _Sampler(stats, args.every)
        rss_before = _rss_mb()
        sampler.start()
        try:
            summary = run_live(url, outputs=[str(Path(tmp) / "rec.mp4")], duration=seconds,
                               colorizer=colorizer, temporal=TemporalSpec(args.temporal), stats=stats,
                               give_up_after=30.0)
        finally:
            sampler.halt.set()
            server.terminate()
            server.wait(10)
    rows = sampler.rows
    warm = [r for r in rows if r["frames_out"]]
    third = max(1, len(warm) // 3)
    result = {
        "source": f"{args.source} loopback, {args.size} at {args.fps} fps, looping real clip",
        "sink": "file (libx264 veryfast, CRF 20) with audio stream copy",
        "model": provenance, "engine": summary.engine, "device": summary.device,
        "model_size": args.model_size, "temporal": args.temporal, "seconds": seconds,
        "summary": summary.to_dict(),
        "rss_mb": {"before": rss_before, "start": warm[0]["rss_mb"] if warm else None,
                   "end": warm[-1]["rss_mb"] if warm else None,
                   "max": max((r["rss_mb"] for r in rows), default=None)},
        "p95_ms_first_third": _mean([r["p95_ms"] for r in warm[:third]]),
        "p95_ms_last_third": _mean([r["p95_ms"] for r in warm[-third:]]),
        "targets": {"p95_ms": TARGET_P95_MS, "drop_ratio": TARGET_DROPS},
        "timeline": rows,
    }
    result["meets_targets"] = bool(
        summary.latency_ms_p95 is not None and summary.latency_ms_p95 <= TARGET_P95_MS
        and summary.drop_ratio <= TARGET_DROPS)
    return result


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 1) if values else None


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"# vidcolor live benchmark: {m['slug']}", "",
             f"{m['cpu']}, {m['cores']} usable cores, GPU: {m['gpu'] or 'none'}.", "",
             "Latency is capture (decoded in vidcolor) to written (colorized, encoded, muxed), "
             "per frame; drops are frames the newest-wins queue discarded.", ""]
    for name, section in results["sections"].items():
        r, s = section["result"], section["result"]["summary"]
        lines += [f"## {name}: {r['source']}", "",
                  f"{r['sink']}; model {r['model']} at short side {r['model_size']}, "
                  f"{r['engine']}/{r['device']}, temporal {r['temporal']}; {r['seconds']:.0f} s "
                  f"measured {section['when']}, load average "
                  f"{section['load']['before']['loadavg'][0]} before; other processes: "
                  f"{'; '.join(section['load']['before']['busiest']) or 'none above 5 %'}.", "",
                  "| frames in | out | dropped | p50 ms | p95 ms | max ms | out fps | "
                  "p95 first third | p95 last third | RSS start MB | RSS end MB | targets met |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|",
                  f"| {s['frames_in']} | {s['frames_out']} | {s['dropped']} "
                  f"({s['drop_ratio']:.1%}) | {s['latency_ms_p50']} | {s['latency_ms_p95']} | "
                  f"{s['latency_ms_max']} | {s['output_fps']} | {r['p95_ms_first_third']} | "
                  f"{r['p95_ms_last_third']} | {r['rss_mb']['start']} | {r['rss_mb']['end']} | "
                  f"{'yes' if r['meets_targets'] else 'no'} (p95 ≤ {r['targets']['p95_ms']:.0f} "
                  f"ms, drops ≤ {r['targets']['drop_ratio']:.0%}) |", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.live", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--soak", type=float, help="a long run (e.g. 600), saved as 'soak'")
    parser.add_argument("--source", choices=("udp", "rtsp"), default="udp")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--weights", help="model file (default: the shipped model)")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model-size", type=int, default=256)
    parser.add_argument("--temporal", default="causal", choices=("causal", "off"))
    parser.add_argument("--every", type=float, default=5.0, help="timeline interval (s)")
    parser.add_argument("--out", type=Path, help="results folder (default: per machine)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    out = args.out or report.RESULTS / machine.machine_slug()
    out.mkdir(parents=True, exist_ok=True)
    load_before = machine.load_snapshot()
    started = time.time()
    result = run(args)
    section = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
               "load": {"before": load_before, "after": machine.load_snapshot()},
               "result": result}
    path = out / "live.json"
    results = json.loads(path.read_text()) if path.is_file() else {"sections": {}}
    results["machine"] = machine.describe()
    name = ("soak" if args.soak else "live") + ("" if args.model_size == 256 else
                                                  f" (model size {args.model_size})")
    results["sections"][name] = section
    path.write_text(json.dumps(results, indent=1) + "\n")
    (out / "live.md").write_text(markdown(results))
    print(json.dumps({k: v for k, v in result.items() if k != "timeline"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
