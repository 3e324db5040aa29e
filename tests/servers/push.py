"""Test/benchmark helper: make a small real clip, and push it live to a URL in real time.

    python push.py make CLIP --size 320x240 --fps 15 --seconds 10 [--audio]
    python push.py push CLIP udp://127.0.0.1:PORT [--format mpegts] [--loop] [--seconds N]
                                                  [--listen]

``make`` pans across a real photograph (the shared data set's when present, else
scikit-image's astronaut) in gray, H.264 with a keyframe every second (so a receiver joins
fast), optionally with an AAC tone. ``push`` stream-copies the clip's packets to the URL,
paced by their timestamps, looping with continuous timestamps; it prints READY once the
output is open. With ``--listen`` it is the TCP server that a player connects to, and prints
READY before waiting for that player. Only loopback addresses are used by the tests.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import av
import numpy as np

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "photos" / "val" / "sun_hays80"


def _photo() -> np.ndarray:
    """A gray real photograph as uint8 [H, W]."""
    import cv2

    for path in sorted(PHOTOS.glob("*.jpg"))[:1]:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is not None:
            return image
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)


def make(path: str, size: str, fps: int, seconds: float, audio: bool) -> None:
    import cv2

    width, height = (int(v) for v in size.split("x"))
    photo = _photo()
    scale = 1.6 * max(width / photo.shape[1], height / photo.shape[0])
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    span_x, span_y = photo.shape[1] - width, photo.shape[0] - height
    frames = int(seconds * fps)
    with av.open(path, "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = fps
        video.codec_context.options = {"preset": "ultrafast", "bf": "0"}
        sound = out.add_stream("aac", rate=48000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        samples = 0
        for i in range(frames):
            phase = 0.5 - 0.5 * math.cos(2 * math.pi * i / frames)
            x, y = int(span_x * phase), int(span_y * phase)
            gray = np.ascontiguousarray(photo[y : y + height, x : x + width])
            frame = av.VideoFrame.from_ndarray(gray, format="gray").reformat(format="yuv420p")
            frame.pts = i
            out.mux(video.encode(frame))
            while sound is not None and samples < (i + 1) * 48000 // fps:
                t = (samples + np.arange(1024)) / 48000
                tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
                chunk = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, samples
                out.mux(sound.encode(chunk))
                samples += 1024
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))


def push(path: str, url: str, fmt: str, loop: bool, seconds: float | None,
         listen: bool = False) -> None:
    source = av.open(path)
    streams = [s for s in source.streams if s.type in ("video", "audio")]
    length = float(source.duration or 0) / av.time_base or 1.0
    if listen:
        print("READY", flush=True)  # av.open returns once a player has connected
    if url.startswith("udp:"):
        url += "?pkt_size=1316"
    elif listen:
        url += "?listen=1"  # a protocol option: PyAV hands output options to the muxer only
    out = av.open(url, "w", format=fmt)
    mapped = {s.index: out.add_stream_from_template(s) for s in streams}
    out.start_encoding()
    if not listen:
        print("READY", flush=True)
    start, lap = time.monotonic(), 0
    try:
        while True:
            source.seek(0)
            for packet in source.demux(streams):
                if packet.dts is None:
                    continue
                t = float(packet.dts * packet.time_base) + lap * length
                if seconds is not None and t >= seconds:
                    return
                delay = start + t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                shift = round(lap * length / packet.time_base)
                packet.pts = None if packet.pts is None else packet.pts + shift
                packet.dts += shift
                packet.stream = mapped[packet.stream.index]
                out.mux(packet)
            if not loop:
                return
            lap += 1
    finally:
        out.close()
        source.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("clip")
    m.add_argument("--size", default="320x240")
    m.add_argument("--fps", type=int, default=15)
    m.add_argument("--seconds", type=float, default=10.0)
    m.add_argument("--audio", action="store_true")
    p = sub.add_parser("push")
    p.add_argument("clip")
    p.add_argument("url")
    p.add_argument("--format", default="mpegts")
    p.add_argument("--loop", action="store_true")
    p.add_argument("--seconds", type=float)
    p.add_argument("--listen", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "make":
        make(args.clip, args.size, args.fps, args.seconds, args.audio)
    else:
        try:
            push(args.clip, args.url, args.format, args.loop, args.seconds, args.listen)
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
