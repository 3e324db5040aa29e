"""Which machine a result came from, and how busy it was while measuring."""

from __future__ import annotations

import os
import platform
import re
import subprocess

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


def load_snapshot(top: int = 5) -> dict:
    """Load average and the busiest other processes: the noise a figure was measured under."""
    snapshot: dict = {"loadavg": [round(x, 2) for x in os.getloadavg()], "busiest": []}
    try:
        ps = subprocess.run(
            ["ps", "-eo", "pid=,pcpu=,args=", "--sort=-pcpu"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return snapshot
    for line in ps:
        pid, pcpu, args = line.split(None, 2)
        if int(pid) != os.getpid() and float(pcpu) >= 5 and len(snapshot["busiest"]) < top:
            snapshot["busiest"].append(f"{float(pcpu):.0f}% {args[:100]}")
    return snapshot
