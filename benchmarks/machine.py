"""Which machine a result came from, and how busy it was while measuring."""

from __future__ import annotations

import os
import platform
import re
import time

import torch


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def machine_slug() -> str:
    """``gpu-<name>`` with a CUDA GPU, else ``cpu-<n>core-<cpu model>``: the results folder."""
    if torch.cuda.is_available():
        return "gpu-" + _slug(torch.cuda.get_device_name(0))
    return f"cpu-{usable_cores()}core-{_slug(cpu_model())}"


def describe() -> dict:
    """Hardware and library versions, for the results file."""
    info = {
        "slug": machine_slug(),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    for package in ("onnxruntime", "tensorrt", "av", "cv2"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:
            info[package] = None
    return info


def _process_ticks() -> dict[int, tuple[int, str]]:
    """pid -> (user + system clock ticks so far, command line) for every readable process."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                args = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        ticks[int(entry)] = (int(fields[11]) + int(fields[12]), args)
    return ticks


def load_snapshot(window: float = 1.0, top: int = 5) -> dict:
    """Load average and the processes busiest during a ``window``-second sample: the noise a
    figure was measured under (CPU % is of one core)."""
    snapshot: dict = {"loadavg": [round(x, 2) for x in os.getloadavg()], "busiest": []}
    if not os.path.isdir("/proc"):
        return snapshot
    first = _process_ticks()
    time.sleep(window)
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (ticks, args) in _process_ticks().items():
        if pid in first and pid != os.getpid():
            percent = 100 * (ticks - first[pid][0]) / hz / window
            if percent >= 5:
                busy.append((percent, args[:100] or f"pid {pid}"))
    snapshot["busiest"] = [f"{p:.0f}% {args}" for p, args in sorted(busy, reverse=True)[:top]]
    snapshot["others_cpu_percent"] = round(sum(p for p, _ in busy), 0)
    return snapshot
