"""The ``vidcolor`` command: files, stills, folders; ``demo`` and ``bench`` subcommands.

Every failure ends in one line ``vidcolor: error: ...`` on stderr and exit 1
(2 for a usage mistake), with no traceback and no output file left behind.
Live sources and sinks (URLs, capture devices) are handed to ``vidcolor.live``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROG = "vidcolor"


class UsageError(Exception):
    """A mistake in the command line: exit status 2."""


def _size(text: str) -> int:
    value = int(text)
    if value < 32 or value % 32:
        raise argparse.ArgumentTypeError(f"must be a positive multiple of 32, got {text}")
    return value


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _device(text: str) -> str:
    """auto, cpu, cuda or cuda:N (checked here so that --help need not import torch)."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}")
    return text


def _bitrate(text: str) -> int:
    """``4000000``, ``4M``, ``800k``."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected bits per second like 4M or 800k, got {text!r}")
    value = float(match[1]) * {"": 1, "k": 1e3, "m": 1e6}[match[2].lower()]
    if value < 1000:
        raise argparse.ArgumentTypeError(f"at least 1k bits per second, got {text}")
    return int(value)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _unit(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too, not argparse's usage block."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Colorize black-and-white video, images and folders of them.",
        epilog="Subcommands: 'vidcolor demo [-o DIR]' and 'vidcolor bench ...'. "
        "Use ./demo to colorize a file named 'demo'.",
    )
    add = parser.add_argument
    add("input", help="video file, image, folder, URL or capture device")
    add("-o", "--output", action="append", default=[],
        help="output path (default: <name>_color beside the input); live runs may repeat it")
    add("-y", "--overwrite", action="store_true", help="overwrite an existing output")

    add = parser.add_argument_group("video encoding").add_argument
    add("--codec", default="libx264", metavar="NAME", help="video encoder (default libx264)")
    add("--crf", type=float, metavar="Q",
        help="constant quality (default 18 for files; live: 20 for files, 23 for restreams)")
    add("--bitrate", type=_bitrate, metavar="RATE", help="live outputs: bits per second (4M, 800k)")
    add("--preset", metavar="NAME", help="encoder preset (e.g. veryfast, medium, p4)")
    add("--hwdec", metavar="TYPE",
        help="files: decode on a hardware device, e.g. cuda (NVDEC); encode there with "
             "--codec h264_nvenc or hevc_nvenc")
    add("--frames", type=_positive(int), metavar="N", help="stop after N frames")
    add("--duration", type=_positive(float), metavar="S", help="stop after S seconds")

    add = parser.add_argument_group("model").add_argument
    add("--weights", metavar="PATH", help="model file (.safetensors; default: shipped model)")
    add("--engine", default="auto", choices=("auto", "tensorrt", "torch", "onnxruntime"))
    add("--device", type=_device, default="auto", metavar="DEV", help="auto, cpu, cuda, cuda:N")
    add("--precision", choices=("auto", "fp32", "fp16", "bf16", "int8"), default="auto",
        help="auto: int8 decoder with onnxruntime, fp16 on CUDA, else fp32")
    add("--size", type=_size, default=256, metavar="PX", help="model short side (default 256)")
    add("--batch", type=_positive(int), default=4, metavar="N", help="frames per inference")
    add("--temporal", default="causal", choices=("off", "causal", "bidirectional"))
    add("--temporal-strength", type=_unit, default=0.9, metavar="X", help="0..1 (default 0.9)")

    add = parser.add_argument_group("reporting").add_argument
    add("--json", action="store_true", help="print a JSON summary on stdout")
    add("-q", "--quiet", action="store_true", help="no progress, no warnings")

    add = parser.add_argument_group("live sources (URLs, /dev/videoN) and sinks").add_argument
    add("--preview", action="store_true", help="show a preview window")
    add("--serve", metavar="HOST:PORT", help="MJPEG preview over HTTP")
    add("--input-format", metavar="FMT", help="FFmpeg input format (v4l2, avfoundation, ...)")
    add("--video-size", metavar="WxH", help="capture size, e.g. 640x480")
    add("--framerate", metavar="FPS", help="capture frame rate")
    add("--segment", type=_positive(float), metavar="S", help="cut file outputs every S seconds")
    add("--input-option", action="append", default=[], type=_key_value, metavar="KEY=VALUE",
        help="FFmpeg option for the source, e.g. rtsp_transport=udp (repeatable)")
    add("--timeout", type=_positive(float), default=5.0, metavar="S",
        help="seconds of silence before the source counts as lost (default 5)")
    add("--give-up-after", type=_positive(float), default=60.0, metavar="S",
        help="stop when the source is lost this long (default 60)")
    add("--no-reconnect", action="store_true", help="stop at the first loss of the source")
    return parser


def _live_module():
    """vidcolor.live, or None when this installation lacks it."""
    try:
        return importlib.import_module("vidcolor.live")
    except ImportError:
        return None


def _is_live(args: argparse.Namespace, live) -> bool:
    if live is None:
        return "://" in args.input or args.input.startswith("/dev/video")
    return live.is_live_source(args.input, args.input_format) or any(
        live.is_live_source(out) for out in args.output
    )


def _run_live(args: argparse.Namespace, live) -> int:
    if live is None:
        raise UsageError("live sources and sinks need vidcolor.live, not in this install")
    if args.temporal == "bidirectional":
        raise UsageError("--temporal bidirectional looks ahead, which live runs cannot; "
                         "use causal or off")
    if args.hwdec is not None:
        raise UsageError("--hwdec is for files; live sources decode in software")
    summary = live.run_live(
        args.input, outputs=args.output, preview=args.preview, serve=args.serve,
        input_format=args.input_format, video_size=args.video_size, framerate=args.framerate,
        input_options=dict(args.input_option), frames=args.frames, duration=args.duration,
        reconnect=not args.no_reconnect, give_up_after=args.give_up_after, timeout=args.timeout,
        codec=args.codec, crf=args.crf, preset=args.preset, bitrate=args.bitrate,
        segment_seconds=args.segment, overwrite=args.overwrite, engine=args.engine,
        device=args.device, precision=_precision(args), weights=args.weights, size=args.size,
        temporal=args.temporal,
        temporal_strength=args.temporal_strength, status=False if args.quiet else None,
    )
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), indent=2, default=str))
    return 0


def _precision(args: argparse.Namespace) -> str | None:
    return None if args.precision == "auto" else args.precision


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _check_codec(name: str) -> None:
    import av

    try:
        codec = av.codec.Codec(name, "w")
    except Exception:
        raise UsageError(f"unknown video encoder {name!r}") from None
    if codec.type != "video":
        raise UsageError(f"{name!r} is not a video encoder")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword options colorize_video takes, from the command line."""
    return {
        "codec": args.codec,
        "crf": 18 if args.crf is None else args.crf,
        "preset": args.preset,
        "hwdec": args.hwdec,
        "batch": args.batch,
        "temporal": args.temporal,
        "temporal_strength": args.temporal_strength,
        "frames": args.frames,
        "duration": args.duration,
    }


class _Session:
    """One command's colorizer, built once and reused for every file of a folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._colorizer = None

    @property
    def colorizer(self):
        if self._colorizer is None:
            from vidcolor.colorizer import Colorizer

            self._colorizer = Colorizer(
                weights=self.args.weights,
                engine_name=self.args.engine,
                device=self.args.device,
                size=self.args.size,
                precision=_precision(self.args),
            )
        return self._colorizer

    def run_file(self, src: Path, dst: Path, label: str) -> dict[str, Any]:
        """Colorize one image or video; returns its JSON summary.

        The input and the destination are checked before the model is loaded, so a bad
        file fails fast.
        """
        from vidcolor.io.atomic import check_destination
        from vidcolor.io.images import is_image

        check_destination(dst, src, overwrite=self.args.overwrite)
        if is_image(src):
            return self._run_image(src, dst)
        from vidcolor.io.reader import open_video
        from vidcolor.pipeline import colorize_video
        from vidcolor.progress import make_progress

        open_video(src, hwdec=self.args.hwdec).close()
        stats = colorize_video(
            src, dst, colorizer=self.colorizer, overwrite=self.args.overwrite,
            progress=make_progress(label, quiet=self.args.quiet), **_options(self.args),
        )
        return {"input": str(src), "kind": "video", **stats.to_dict()}

    def _run_image(self, src: Path, dst: Path) -> dict[str, Any]:
        from vidcolor.io.images import read_image, write_image
        from vidcolor.stills import colorize_image

        start = time.perf_counter()
        gray = read_image(src)
        write_image(dst, colorize_image(gray, colorizer=self.colorizer), src=src,
                    overwrite=self.args.overwrite)
        return {"input": str(src), "output": str(dst), "kind": "image",
                "seconds": round(time.perf_counter() - start, 3)}


def _run_folder(session: _Session, src: Path, dst: Path) -> tuple[int, dict[str, Any]]:
    from vidcolor.folders import folder_jobs

    if dst.exists() and not dst.is_dir():
        raise NotADirectoryError(f"output {dst} is not a folder")
    if dst.resolve() == src.resolve():
        raise UsageError("the output folder is the input folder; choose another with -o")
    done, failed = [], []
    jobs = list(folder_jobs(src, dst))
    if not jobs:
        raise FileNotFoundError(f"no images or videos under {src}")
    for path, out in jobs:
        label = str(path.relative_to(src.resolve()))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            done.append(session.run_file(path, out, label))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one bad file is reported and skipped
            failed.append({"input": str(path), "error": _message(exc)})
            print(f"{PROG}: error: {label}: {_message(exc)}", file=sys.stderr)
    summary = {"kind": "folder", "output": str(dst), "files": done, "failed": failed}
    return (1 if failed else 0), summary


def _message(exc: BaseException) -> str:
    """One line for the user; OS errors keep their file name."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _run(args: argparse.Namespace) -> int:
    from vidcolor.folders import default_output

    _check_codec(args.codec)
    live = _live_module()
    if _is_live(args, live):
        return _run_live(args, live)
    if len(args.output) > 1:
        raise UsageError("only live runs take several outputs")
    if args.bitrate is not None:
        raise UsageError("--bitrate is for live outputs; files use --crf")
    src = Path(args.input)
    if not src.exists():
        raise FileNotFoundError(f"input {src} does not exist")
    if not os.access(src, os.R_OK):
        raise PermissionError(f"input {src} is not readable")
    dst = Path(args.output[0]) if args.output else default_output(src)
    session = _Session(args)
    if src.is_dir():
        code, summary = _run_folder(session, src, dst)
    else:
        code, summary = 0, session.run_file(src, dst, src.name)
    if args.json:
        print(json.dumps(summary, indent=2))
    return code


def _subcommand(name: str, argv: list[str]) -> int:
    if name == "demo":
        from vidcolor.demo import main as demo_main

        return demo_main(argv)
    return _benchmarks().main(argv)


def _benchmarks():
    """The benchmarks package of a source checkout (it is not installed with vidcolor)."""
    if (Path.cwd() / "benchmarks" / "__init__.py").is_file() and "" not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module("benchmarks")
    except ImportError:
        raise UsageError(
            "'vidcolor bench' runs from a vidcolor source checkout (its benchmarks/ folder)"
        ) from None


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, handlers=[handler])


def _interrupted(exc: KeyboardInterrupt) -> str:
    """What Ctrl-C left behind, for the one line the command prints."""
    partial = getattr(exc, "partial", None)
    if partial is None:
        return f"{PROG}: interrupted; no output written"
    if getattr(exc, "complete", False):
        return f"{PROG}: interrupted; the output was already complete: {partial}"
    return f"{PROG}: interrupted; partial output saved to {partial}"


def _forget_interrupt() -> None:
    """Make sure a handled Ctrl-C ends the process with our status, not by SIGINT.

    When a KeyboardInterrupt escapes code run by ``exec()`` of source text (dataclasses and
    namedtuples build their methods that way, so Ctrl-C while torch imports often lands
    there), CPython records it as unhandled even though it is caught later, and
    ``python -m vidcolor`` then kills itself with SIGINT after main() has returned 130.
    Executing any source text resets that record.
    """
    exec("")  # noqa: S102 - a constant empty string


def main(argv: list[str] | None = None) -> int:
    """The command; returns the exit status.

    SIGTERM is handled like Ctrl-C: it gets Python's own SIGINT handler, which the video
    pipeline recognizes and defers while it owns threads and a temporary file.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if on_main_thread else None
    try:
        if on_main_thread:
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        _setup_logging(quiet="-q" in argv or "--quiet" in argv)
        if argv and argv[0] in ("demo", "bench"):
            return _subcommand(argv[0], argv[1:])
        return _run(build_parser().parse_args(argv))
    except UsageError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt as exc:
        _forget_interrupt()
        print(_interrupted(exc), file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("VIDCOLOR_DEBUG"):
            raise
        return _fail(_message(exc))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
