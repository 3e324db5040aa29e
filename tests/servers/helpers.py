"""Shared by the live tests: loopback ports, helper processes, a tiny random colorizer, and a
reader for multipart MJPEG. Everything binds or connects to 127.0.0.1 only."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVERS = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
TINY_CONFIG = {"arch": "plain_unet", "num_bins": 8, "channels": [4, 8, 8, 8, 8]}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def start(cmd: list[str], timeout: float = 15.0) -> subprocess.Popen:
    """Start a helper that prints READY when it is serving; kill it if it never does."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _readline(proc, timeout)
    except TimeoutError:
        stop(proc)
        raise
    if line.strip() != "READY":
        stop(proc)
        raise RuntimeError(f"{cmd[:3]} failed: {line}{proc.stderr.read()}")
    return proc


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError("helper did not get ready")
    return proc.stdout.readline()


def stop(proc: subprocess.Popen, kill: bool = False) -> None:
    if proc.poll() is None:
        proc.kill() if kill else proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def push_cmd(clip: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, str(SERVERS / "push.py"), "push", str(clip), url, *extra]


def tiny_model():
    import torch

    from vidcolor.models import build_model

    torch.manual_seed(0)
    model = build_model(TINY_CONFIG).eval()
    with torch.no_grad():  # an untrained head has all bins at ab = 0 (gray): spread them
        model.head.bin_centers.uniform_(-60.0, 60.0)
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.3)
    return model


def tiny_colorizer(size: int = 64):
    """A real Colorizer around an untrained, very small network (colours are random-ish)."""
    from vidcolor.backends import create_engine
    from vidcolor.colorizer import Colorizer

    return Colorizer(create_engine("torch", "cpu", weights=tiny_model(), threads=1), size=size)


def tiny_weights(path: Path) -> Path:
    from vidcolor.models.weights import save_model

    return save_model(tiny_model(), TINY_CONFIG, path)


def mjpeg_parts(url: str, count: int, timeout: float = 15.0) -> list[tuple[dict, bytes]]:
    """Read ``count`` parts of a multipart MJPEG stream: (headers, body) each, checking the
    boundary framing exactly as a browser would parse it. Waits for the server to come up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with response:
        kind = response.headers["Content-Type"]
        match = re.fullmatch(r"multipart/x-mixed-replace; boundary=(\S+)", kind)
        assert match, kind
        boundary = b"--" + match.group(1).encode()
        parts = []
        for _ in range(count):
            assert response.readline().rstrip(b"\r\n") == boundary
            headers = {}
            while (line := response.readline().rstrip(b"\r\n")) != b"":
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            body = response.read(int(headers["content-length"]))
            assert response.read(2) == b"\r\n"
            parts.append((headers, body))
        return parts
