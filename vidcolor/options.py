"""The ``vidcolor`` command line: its parser, its usage errors and the specs it builds.

Kept apart from ``vidcolor.cli`` (which runs commands) so that subcommands such as
``vidcolor demo`` can build parsers with the same one-line usage errors without importing the
command runner. Nothing here imports torch or PyAV, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from vidcolor.specs import TEMPORAL_MODES, ModelSpec, OutputSpec, TemporalSpec

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
    add("--temporal", default="causal", choices=TEMPORAL_MODES)
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


def model_spec(args: argparse.Namespace) -> ModelSpec:
    return ModelSpec(weights=args.weights, engine=args.engine, device=args.device,
                     precision=None if args.precision == "auto" else args.precision,
                     size=args.size)


def temporal_spec(args: argparse.Namespace) -> TemporalSpec:
    return TemporalSpec(args.temporal, args.temporal_strength)


def output_spec(args: argparse.Namespace) -> OutputSpec:
    return OutputSpec(codec=args.codec, crf=args.crf, preset=args.preset, bitrate=args.bitrate)
