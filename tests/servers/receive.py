"""Test helper: a real receiver for restreams, in its own process (PyAV holds the GIL while
connecting, so a listener and a publisher must not share one interpreter).

    python receive.py URL [--listen] [--frames N] [--timeout S]

``--listen`` makes FFmpeg itself the server (RTMP and TCP ``listen=1``, RTSP
``rtsp_flags=listen``; UDP always listens). Prints READY, then one JSON line: frames decoded,
width, height, audio codecs and decoded audio frames, and the chroma spread of the last
frame (0 for gray).
"""

from __future__ import annotations

import argparse
import json

import av


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--listen", action="store_true")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    options = {}
    if args.listen and args.url.startswith(("rtmp", "tcp")):
        options["listen"] = "1"
    elif args.listen and args.url.startswith("rtsp"):
        options.update(rtsp_flags="listen", listen_timeout=str(int(args.timeout)))
    print("READY", flush=True)
    report: dict = {"frames": 0, "audio_frames": 0}
    with av.open(args.url, options=options, timeout=args.timeout) as container:
        report["audio"] = [s.codec_context.name for s in container.streams.audio]
        for packet in container.demux():
            for frame in packet.decode():
                if packet.stream.type == "audio":
                    report["audio_frames"] += 1
                    continue
                report["frames"] += 1
                if report["frames"] >= args.frames:
                    yuv = frame.to_ndarray(format="yuv420p")
                    report.update(width=frame.width, height=frame.height,
                                  chroma_spread=float(yuv[frame.height :].std()))
            if report["frames"] >= args.frames:
                break
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
