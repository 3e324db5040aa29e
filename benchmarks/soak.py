"""Live soak: a real ``ffmpeg`` sender killed and restarted for half an hour, recorded.

    python -m benchmarks.soak [--minutes 30] [--restart-every 180] [--gaps 3 8]

The sender is the plain ``ffmpeg`` command pushing a generated test picture with a tone
(x264 at its default long GOP, AAC, MPEG-TS over UDP, small and at 25 fps so the shared
2-core machine keeps up). ``vidcolor udp://... -o rec.mp4 --segment S --json`` records it in a
process of its own, as a user would run a long recording: segments are final when cut, so a
crash or power cut loses one piece, never the night. Every ``--restart-every`` seconds the
sender is SIGKILLed and restarted after a gap; the gaps alternate through ``--gaps``, one
shorter than vidcolor's 5-s ``--timeout`` (the socket stays open and the new stream simply
follows) and one longer (the source counts as lost and vidcolor reconnects). vidcolor's RSS
is sampled every ``--every`` seconds. At the end vidcolor gets SIGINT and the recording is
checked: every piece opens and decodes, its frames, its duration against the sender's live
time (gaps show as jumps in the timestamps) and its audio. Results:
``benchmarks/results/<machine>/soak.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av

from benchmarks import machine, report

JUMP = 0.5  # seconds between consecutive frames that count as a gap in the recording


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sender:
    """``ffmpeg`` pushing testsrc2 + a sine tone as MPEG-TS over UDP; its live intervals."""

    def __init__(self, url: str, size: str, fps: int) -> None:
        self.cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
                    "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-f", "mpegts", f"{url}?pkt_size=1316"]
        self.proc: subprocess.Popen | None = None
        self.intervals: list[tuple[float, float]] = []  # (start, end), monotonic

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL)
        self._began = time.monotonic()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.intervals.append((self._began, time.monotonic()))
            self.proc = None

    @property
    def live_seconds(self) -> float:
        return sum(end - start for start, end in self.intervals)


class _Log(threading.Thread):
    """vidcolor's stderr, line by line, with the time each line came (monotonic)."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []
        self.start()

    def run(self) -> None:
        for line in self.stream:
            self.lines.append((time.monotonic(), line.rstrip()))


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status
                        if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_piece(path: Path) -> dict:
    """Open and decode one recorded piece: frames, duration, gaps (timestamp jumps), audio."""
    row = {"file": path.name, "bytes": path.stat().st_size, "opens": False, "frames": 0,
           "decode_errors": 0, "seconds": 0.0, "gaps": [], "audio_seconds": 0.0}
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        row["error"] = str(exc)
        return row
    with container:
        row["opens"] = True
        video = container.streams.video[0]
        times: list[float] = []
        audio = 0.0
        for packet in container.demux():
            if packet.stream.type == "audio" and packet.duration:
                audio += float(packet.duration * packet.time_base)
            if packet.stream.type != "video":
                continue
            try:  # the empty packets at the end flush the frames the decoder holds back
                row["frames"] += len(packet.decode())
            except av.FFmpegError:
                row["decode_errors"] += 1
            if packet.pts is not None:
                times.append(float(packet.pts * packet.time_base))
        times.sort()
        step = 1 / float(video.average_rate or 25)
        row["gaps"] = [(round(a - times[0], 2), round(b - a, 2))
                       for a, b in zip(times, times[1:], strict=False) if b - a > JUMP]
        row["seconds"] = round(times[-1] - times[0] + step, 2) if times else 0.0
        row["audio_seconds"] = round(audio, 2)
    return row


def rss_trend(samples: list[tuple[float, float]], window: float) -> dict:
    """Median RSS of the first and the last ``window`` seconds, and the least-squares slope
    after the first minute (warm-up: model build, encoder start) in MB per hour."""
    end = samples[-1][0]
    first = [mb for t, mb in samples if t <= window]
    last = [mb for t, mb in samples if t >= end - window]
    steady = [(t, mb) for t, mb in samples if t >= 60] or samples
    slope = 0.0
    if len(steady) > 2:
        ts, ms = zip(*steady, strict=True)
        slope = statistics.linear_regression(ts, ms).slope * 3600
    return {"first_median": round(statistics.median(first), 1),
            "last_median": round(statistics.median(last), 1),
            "max": round(max(mb for _, mb in samples), 1),
            "slope_mb_per_hour": round(slope, 1), "window_s": window}


def soak(args: argparse.Namespace, folder: Path) -> dict:
    url = f"udp://127.0.0.1:{_free_udp_port()}"
    target = folder / "rec.mp4"
    cmd = [sys.executable, "-m", "vidcolor", url, "-o", str(target), "--segment",
           f"{args.segment:g}", "--json"]
    out = (folder / "summary.json").open("w")
    vidcolor = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
    log = _Log(vidcolor.stderr)
    sender = Sender(url, args.size, args.fps)
    try:  # an interrupted soak leaves no sender pushing and no vidcolor recording
        time.sleep(args.warmup)  # the model loads and the port is bound before the first push
        sender.start()
        began = time.monotonic()
        samples: list[tuple[float, float]] = []
        restarts, gaps = 0, []
        next_kill, next_sample = began + args.restart_every, began
        end = began + args.minutes * 60
        while (now := time.monotonic()) < end and vidcolor.poll() is None:
            if now >= next_sample:
                mb = rss_mb(vidcolor.pid)
                if mb is not None:
                    samples.append((round(now - began, 1), round(mb, 1)))
                next_sample += args.every
            if now >= next_kill and sender.proc is not None:
                sender.kill()
                gap = args.gaps[restarts % len(args.gaps)]
                gaps.append(gap)
                time.sleep(gap)
                sender.start()
                restarts += 1
                next_kill = time.monotonic() + args.restart_every
            time.sleep(0.2)
        cpu = cpu_seconds(vidcolor.pid) if vidcolor.poll() is None else None
        wall = time.monotonic() - began
        vidcolor.send_signal(signal.SIGINT)
        try:
            exit_status = vidcolor.wait(120)
        except subprocess.TimeoutExpired:
            vidcolor.kill()
            exit_status = f"hung after SIGINT (killed): {vidcolor.wait()}"
    finally:
        sender.kill()
        if vidcolor.poll() is None:
            vidcolor.kill()
    out.close()
    log.join()
    stderr = "\n".join(line for _, line in log.lines)
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except ValueError:
        summary = None
    pieces = [check_piece(p) for p in sorted(folder.glob("rec_*.mp4"))]
    return {
        "sender": " ".join(sender.cmd), "vidcolor": " ".join(cmd[3:]),
        "minutes": args.minutes, "restart_every_s": args.restart_every, "gaps_s": gaps,
        "restarts": restarts, "long_gaps": sum(g > args.timeout for g in gaps),
        "wall_s": round(wall, 1), "sender_live_s": round(sender.live_seconds, 1),
        "sender_intervals_s": [(round(a - began, 1), round(b - began, 1))
                               for a, b in sender.intervals],
        "exit_status": exit_status, "summary": summary,
        "log": {"reconnected": stderr.count("reconnected to"), "lost": stderr.count("lost "),
                "lines": [(round(t - began, 1), line) for t, line in log.lines][:200]},
        "cpu_percent_of_one_core": round(100 * cpu / wall, 1) if cpu is not None else None,
        "pieces": pieces, "recording": _recording(pieces),
        "rss_mb": rss_trend(samples, min(300.0, wall / 4)) if samples else None,
        "rss_samples": samples,
    }


def _recording(pieces: list[dict]) -> dict:
    gaps = [seconds for p in pieces for _, seconds in p["gaps"]]
    seconds = sum(p["seconds"] for p in pieces)
    return {"pieces": len(pieces), "all_open": all(p["opens"] for p in pieces),
            "frames": sum(p["frames"] for p in pieces),
            "decode_errors": sum(p["decode_errors"] for p in pieces),
            "seconds": round(seconds, 1), "gap_count": len(gaps),
            "gap_seconds": round(sum(gaps), 1), "seconds_without_gaps": round(seconds - sum(gaps), 1),
            "audio_seconds": round(sum(p["audio_seconds"] for p in pieces), 1)}


def markdown(result: dict) -> str:
    m, r, s = result["machine"], result["recording"], result["summary"] or {}
    rss = result["rss_mb"] or {}
    load = result["load"]["before"]
    rows = [
        ("duration (wall) / sender live", f"{result['wall_s']} s / {result['sender_live_s']} s"),
        ("sender restarts (SIGKILL) / gaps", f"{result['restarts']} / "
         f"{', '.join(f'{g:g}' for g in result['gaps_s']) or '-'} s "
         f"({result['long_gaps']} longer than the {result['timeout']:g}-s timeout)"),
        ("reconnects (summary / log)", f"{s.get('reconnects')} / {result['log']['reconnected']}"),
        ("frames in / out / dropped", f"{s.get('frames_in')} / {s.get('frames_out')} / "
         f"{s.get('dropped')} ({s.get('drop_ratio', 0):.1%})"),
        ("input / output fps", f"{s.get('input_fps')} / {s.get('output_fps')}"),
        ("latency p50 / p95 / max ms", f"{s.get('latency_ms_p50')} / "
         f"{s.get('latency_ms_p95')} / {s.get('latency_ms_max')}"),
        ("recording: pieces, all open and decode", f"{r['pieces']}, "
         f"{'yes' if r['all_open'] and not r['decode_errors'] else 'NO'} "
         f"({r['decode_errors']} decode errors)"),
        ("recording: frames", r["frames"]),
        ("recording: seconds / in gaps / without gaps", f"{r['seconds']} / {r['gap_seconds']} "
         f"({r['gap_count']} gaps) / {r['seconds_without_gaps']}"),
        ("recording: audio seconds", r["audio_seconds"]),
        ("RSS MB: first / last window median (window s)", f"{rss.get('first_median')} / "
         f"{rss.get('last_median')} ({rss.get('window_s', 0):.0f})"),
        ("RSS MB: max / slope after 1 min (MB/hour)", f"{rss.get('max')} / "
         f"{rss.get('slope_mb_per_hour')}"),
        ("vidcolor CPU (% of one core)", result["cpu_percent_of_one_core"]),
        ("exit status after SIGINT / stopped by", f"{result['exit_status']} / "
         f"{s.get('stopped_by')}"),
    ]
    lines = [f"# vidcolor live soak: {m['slug']}", "",
             f"{m['cpu']}, {m['cores']} usable cores. Measured {result['when']}; load average "
             f"{load['loadavg'][0]} before; busiest other processes: "
             f"{'; '.join(load['busiest']) or 'none above 5 %'}.", "",
             f"Sender: `{result['sender']}`, SIGKILLed every {result['restart_every_s']:g} s and "
             f"restarted after the gap. Receiver: `vidcolor {result['vidcolor']}`.", "",
             "| what | measured |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "| piece | frames | seconds | gaps s (at s) | audio s | bytes |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {p['file']} | {p['frames']} | {p['seconds']} | "
              f"{', '.join(f'{g} at {at}' for at, g in p['gaps']) or '-'} | "
              f"{p['audio_seconds']} | {p['bytes']} |"
              for p in result["pieces"]]
    lines += ["", "Sender live (s since the first push): " + ", ".join(
        f"{max(a, 0):g}-{b:g}" for a, b in result["sender_intervals_s"]) + ".", "",
        "vidcolor's log (s since the first push):", ""]
    lines += [f"- {t:g}: {line}" for t, line in result["log"]["lines"][:40]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--restart-every", type=float, default=180.0, help="seconds of sender life")
    p.add_argument("--gaps", type=float, nargs="+", default=[3.0, 8.0],
                   help="seconds the sender stays dead, in turn")
    p.add_argument("--segment", type=float, default=300.0, help="vidcolor --segment seconds")
    p.add_argument("--size", default="320x180")
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--every", type=float, default=10.0, help="RSS sampling interval (s)")
    p.add_argument("--warmup", type=float, default=8.0, help="seconds before the first push")
    p.add_argument("--out", type=Path, help="results folder (default benchmarks/results/<machine>)")
    args = p.parse_args(argv)
    args.timeout = 5.0  # vidcolor's default --timeout, which the gaps straddle
    load = machine.load_snapshot()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="vidcolor-soak-") as tmp:
        result = soak(args, Path(tmp))
    result.update(machine=machine.describe(), when=when, timeout=args.timeout,
                  load={"before": load, "after": machine.load_snapshot()})
    report.save("soak", result, markdown(result),
                args.out or report.RESULTS / machine.machine_slug())
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
