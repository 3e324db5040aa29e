"""The ``vidcolor`` command line: its parser, its usage errors and the specs it builds.

Kept apart from ``vidcolor.cli`` (which runs commands) so that subcommands such as
``vidcolor demo`` can build parsers with the same one-line usage errors without importing the
command runner. Nothing here imports torch or PyAV, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidcolor import __version__
from vidcolor.look.steps import help_text as enhance_help
from vidcolor.scale import SEGMENT_SECONDS
from vidcolor.specs import (
    FILE_CRF,
    MODEL_NAMES,
    SATURATION_MAX,
    SHIFT_MAX,
    TEMPORAL_MODES,
    LookSpec,
    ModelSpec,
    OutputSpec,
    TemporalSpec,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PROG = "vidcolor"
LIVE_TIMEOUT = 5.0  # seconds of silence before a live source counts as lost
GIVE_UP_AFTER = 60.0  # seconds a live source may stay lost
# Options only live runs use (their group in build_parser), by argparse dest.
LIVE_ONLY = ("preview", "serve", "input_format", "video_size", "framerate", "segment",
             "input_option", "timeout", "give_up_after", "no_reconnect")
# The colourist controls: LookSpec's fields, options of the same names and --preset-file keys.
LOOK_OPTIONS = ("saturation", "warmth", "tint", "reference", "enhance", "negative")
SAMPLES = 12  # contact sheet frames unless --samples says


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
    add("input", help="video file, image, folder, URL, capture device, or - for a video "
                      "piped in (with -o)")
    add("-o", "--output", action="append", default=[],
        help="output file or folder (default: <name>_color<ext> beside the input, "
             "<folder>_color for a folder); live runs may repeat it")
    add("-y", "--overwrite", action="store_true",
        help="overwrite an existing output (default: refuse; the input never is)")
    add("-V", "--version", action="version", version=f"{PROG} {__version__}")

    add = parser.add_argument_group("video encoding").add_argument
    add("--codec", metavar="NAME",
        help="video encoder: libx264, libx265, libvpx-vp9, libsvtav1, ffv1, h264_nvenc, ... "
             "(default: by the output's container: libx264 where H.264 fits, VP9 for .webm, "
             "GIF for .gif; libx264 for live outputs)")
    add("--crf", type=float, metavar="Q",
        help="constant quality, lower is better; x264, x265 and NVENC take 0-51, VP9 and AV1 "
             f"0-63 (default: {FILE_CRF} for files; live: 20 for recordings, 23 for "
             "restreams)")
    add("--bitrate", type=_bitrate, metavar="RATE",
        help="live outputs: bits per second instead of a CRF, e.g. 4M or 800k (default: none)")
    add("--preset", metavar="NAME",
        help="encoder speed preset, e.g. veryfast or medium (x264, x265), p4 (NVENC) "
             "(default: the encoder's own; live: veryfast for recordings, ultrafast for "
             "restreams)")
    add("--hwdec", metavar="TYPE",
        help="files: decode on a hardware device, e.g. cuda (NVDEC); encode there with "
             "--codec h264_nvenc or hevc_nvenc (default: software)")
    add("--frames", type=_positive(int), metavar="N", help="stop after N frames (default: all)")
    add("--duration", type=_positive(float), metavar="S",
        help="stop after S seconds (default: all)")

    add = parser.add_argument_group("model").add_argument
    add("--model", choices=MODEL_NAMES, default="fast",
        help="the shipped model: fast (live, previews) or quality (files: two networks "
             "combined, more accurate colour, about 2x the network time) (default: fast)")
    add("--weights", metavar="PATH",
        help="model file, .safetensors (default: the --model one, or $VIDCOLOR_WEIGHTS)")
    add("--engine", default="auto", choices=("auto", "tensorrt", "torch", "onnxruntime"),
        help="inference engine (default: auto, which logs its choice)")
    add("--device", type=_device, default="auto", metavar="DEV",
        help="auto, cpu, cuda or cuda:N (default: auto)")
    add("--precision", choices=("auto", "fp32", "fp16", "bf16", "int8"), default="auto",
        help="auto: an int8 decoder with onnxruntime, fp16 on CUDA, else fp32 (default: auto)")
    add("--size", type=_size, default=256, metavar="PX",
        help="the short side the network sees, a multiple of 32 (default: 256)")
    add("--batch", type=_positive(int), default=None, metavar="N",
        help="frames per inference call (default: 4; 1 for frames above 1080p)")
    add("--temporal", default="causal", choices=TEMPORAL_MODES,
        help="colour stabilization between frames; bidirectional looks ahead, files only "
             "(default: causal)")
    add("--temporal-strength", type=_unit, default=0.9, metavar="X",
        help="how firmly colours are held from frame to frame, 0..1 (default: 0.9)")

    add = parser.add_argument_group(
        "look (colourist controls; files, stills and live runs alike)").add_argument
    add("--saturation", type=float, metavar="S",
        help=f"chroma gain: 0 gray, 1 the model's, up to {SATURATION_MAX:g}; keeps the luma "
             "(default: 1)")
    add("--warmth", type=float, metavar="W",
        help=f"added to CIELAB b, -{SHIFT_MAX:g}..{SHIFT_MAX:g}: + yellower, - bluer; keeps the "
             "luma (default: 0)")
    add("--tint", type=float, metavar="T",
        help=f"added to CIELAB a, -{SHIFT_MAX:g}..{SHIFT_MAX:g}: + magenta, - green; keeps the "
             "luma (default: 0)")
    add("--reference", metavar="IMAGE",
        help="move the colours toward this image's, per lightness band (a still of the "
             "period); keeps the luma (default: none)")
    add("--enhance", metavar="STEPS",
        help="opt-in steps that CHANGE THE LUMA, e.g. clahe=2,sharpen=0.5; they run in this "
             f"order whatever the spelling: {enhance_help()} (default: none)")
    add("--negative", action=argparse.BooleanOptionalAction,
        help="the input is a scanned negative: its luma is inverted before colorizing, and "
             "the output keeps the inverted luma (default: off)")
    add("--preset-file", metavar="TOML",
        help="a look saved as TOML (keys: " + ", ".join(LOOK_OPTIONS) + "); options given on "
             "the command line win; a relative reference is taken from the file's folder "
             "(default: none)")

    add = parser.add_argument_group("review before a long render (video files)").add_argument
    add("--contact-sheet", metavar="IMAGE",
        help="write only a contact sheet: frames spread over the video, gray | colour, "
             "timestamped, with the chosen look (default: off)")
    add("--samples", type=_positive(int), metavar="N",
        help=f"frames on the contact sheet (default: {SAMPLES})")
    add("--side-by-side", action="store_true",
        help="write gray | colour video, twice as wide, for review (default: off)")

    add = parser.add_argument_group("archives at scale (files and folders)").add_argument
    add("--resume", action="store_true",
        help="continue an interrupted run of the same command from its last finished "
             "segment (a sidecar folder beside the output records them; default: start over)")
    add("--workers", type=_positive(int), metavar="N",
        help="colorize N files of a folder, or N segments of one file, at once, each on its "
             "share of the cores (default: 1; with --ray, one per two of the cluster's CPUs)")
    add("--ray", nargs="?", const="", metavar="ADDRESS",
        help="run files and segments as Ray tasks: on the cluster at ADDRESS, or on a Ray "
             "started here without one; paths must be on storage every node sees "
             "(default: off)")
    add("--split", type=_positive(float), default=SEGMENT_SECONDS, metavar="S",
        help="with --resume, --workers or --ray: cut a file at keyframes into segments of "
             f"about S seconds (default: {SEGMENT_SECONDS:g})")

    add = parser.add_argument_group("reporting").add_argument
    add("--json", action="store_true", help="print a JSON summary on stdout (default: off)")
    add("-q", "--quiet", action="store_true",
        help="no progress bar, no warnings (default: both, on a terminal)")

    add = parser.add_argument_group(
        "live runs (URL or device input, or restream output; refused for files)").add_argument
    add("--preview", action="store_true", help="show a preview window (default: off)")
    add("--serve", metavar="HOST:PORT", help="MJPEG preview over HTTP (default: off)")
    add("--input-format", metavar="FMT",
        help="FFmpeg input format: v4l2, avfoundation, dshow, ... (default: by the source)")
    add("--video-size", metavar="WxH", help="capture size, e.g. 640x480 (default: the device's)")
    add("--framerate", metavar="FPS", help="capture frame rate (default: the device's)")
    add("--segment", type=_positive(float), metavar="S",
        help="cut file outputs every S seconds (default: one file)")
    add("--input-option", action="append", default=[], type=_key_value, metavar="KEY=VALUE",
        help="FFmpeg option for the source, e.g. rtsp_transport=udp, or user_agent=NAME for "
             "a video at an http(s) URL; repeatable (default: none)")
    add("--timeout", type=_positive(float), metavar="S",
        help="seconds of silence before the source counts as lost "
             f"(default: {LIVE_TIMEOUT:g})")
    add("--give-up-after", type=_positive(float), metavar="S",
        help=f"stop when the source is lost this long (default: {GIVE_UP_AFTER:g})")
    add("--no-reconnect", action="store_true",
        help="stop at the first loss of the source (default: reconnect)")
    return parser


def live_options_given(args: argparse.Namespace) -> list[str]:
    """The live-only options on this command line, as typed. Their defaults are None, False
    or [], never a value one can type, so a set one was given (--timeout 5 included)."""
    return [f"--{dest.replace('_', '-')}" for dest in LIVE_ONLY
            if getattr(args, dest) not in (None, False, [])]


def model_spec(args: argparse.Namespace) -> ModelSpec:
    if args.weights is not None and args.model != "fast":
        raise UsageError(f"--weights and --model {args.model} name two models; give one "
                         f"(see {PROG} --help)")
    return ModelSpec(weights=args.weights, engine=args.engine, device=args.device,
                     precision=None if args.precision == "auto" else args.precision,
                     size=args.size, model=args.model)


def temporal_spec(args: argparse.Namespace) -> TemporalSpec:
    return TemporalSpec(args.temporal, args.temporal_strength)


def output_spec(args: argparse.Namespace) -> OutputSpec:
    """No --codec: each output's container chooses (H.264 for restreams)."""
    return OutputSpec(codec=args.codec, crf=args.crf, preset=args.preset, bitrate=args.bitrate)


def look_spec(args: argparse.Namespace) -> LookSpec:
    """The look the options and ``--preset-file`` ask for (an option given wins over the
    file). The reference image is read here, so that a bad one is a usage error (exit 2)."""
    from vidcolor.io.errors import InputError

    values = read_preset(Path(args.preset_file)) if args.preset_file else {}
    values.update({k: getattr(args, k) for k in LOOK_OPTIONS if getattr(args, k) is not None})
    try:
        spec = LookSpec(**values)
        spec.build()
    except (ValueError, InputError) as exc:
        raise UsageError(f"{exc} (see {PROG} --help)") from None
    return spec


_NUMBER, _TEXT, _FLAG = ((int, float), "a number"), ((str,), "a string"), ((bool,), "true or false")
_PRESET_TYPES = {"saturation": _NUMBER, "warmth": _NUMBER, "tint": _NUMBER, "reference": _TEXT,
                 "enhance": _TEXT, "negative": _FLAG}


def read_preset(path: Path) -> dict[str, Any]:
    """A ``--preset-file``: TOML whose keys are the look options' names (``enhance`` spelled
    as on the command line); a relative ``reference`` is taken from the file's folder."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--preset-file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    for key, value in values.items():
        if key not in _PRESET_TYPES:
            raise UsageError(f"--preset-file {path}: unknown key {key!r}; known: "
                             f"{', '.join(LOOK_OPTIONS)}")
        kinds, word = _PRESET_TYPES[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise UsageError(f"--preset-file {path}: {key} must be {word}, got {value!r}")
    if "reference" in values:
        values["reference"] = str(path.parent / Path(values["reference"]).expanduser())
    return values
