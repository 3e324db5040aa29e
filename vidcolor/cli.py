"""The ``vidcolor`` command: files, stills, folders; ``demo`` and ``bench`` subcommands.

Every failure ends in one line ``vidcolor: error: ...`` on stderr and exit 1
(2 for a usage mistake), with no traceback and no output file left behind.
Live sources and sinks (URLs, capture devices) are handed to ``vidcolor.live``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from vidcolor.options import (
    GIVE_UP_AFTER,
    LIVE_TIMEOUT,
    PROG,
    UsageError,
    build_parser,
    live_options_given,
    look_spec,
    model_spec,
    output_spec,
    temporal_spec,
)
from vidcolor.redact import RedactingFilter, redact
from vidcolor.session import Session
from vidcolor.signals import forget_interrupt, interrupt_on_stop_signals
from vidcolor.specs import STREAM_CODEC


def _live_module():
    """vidcolor.live, or None when this installation lacks it."""
    try:
        return importlib.import_module("vidcolor.live")
    except ImportError:
        return None


def _has_ray() -> bool:
    from importlib.util import find_spec

    return find_spec("ray") is not None


def _is_live(args: argparse.Namespace, live) -> bool:
    """A live source or sink; a finite video at an http(s) URL written to files is a file
    (asked to be watched or relayed, or with live options, it is live)."""
    if live is None:
        return "://" in args.input or args.input.startswith("/dev/video")
    if any(live.is_live_source(out) for out in args.output):
        return True
    if not live.is_live_source(args.input, args.input_format):
        return False
    return (bool(_live_only(args))
            or not live.plays_to_an_end(args.input, dict(args.input_option) or None))


def _live_only(args: argparse.Namespace) -> list[str]:
    """The live options given that a file run cannot take: all but --input-option, which
    also opens a video at a URL (headers, a user agent)."""
    given = live_options_given(args)
    if "://" in args.input and not args.input.startswith("file://"):
        return [option for option in given if option != "--input-option"]
    return given


def _run_live(args: argparse.Namespace, live) -> int:
    if live is None:
        raise UsageError("live sources and sinks need vidcolor.live, not in this install")
    temporal = temporal_spec(args)
    if temporal.looks_ahead:
        raise UsageError("--temporal bidirectional looks ahead, which live runs cannot; "
                         "use causal or off")
    if args.hwdec is not None:
        raise UsageError("--hwdec is for files; live sources decode in software")
    if args.contact_sheet is not None or args.side_by_side or args.samples is not None:
        raise UsageError("--contact-sheet, --samples and --side-by-side are for video files, "
                         "not live runs")
    if args.resume or args.workers is not None or args.ray is not None:
        raise UsageError("--resume, --workers and --ray are for files and folders, not live "
                         "runs")
    _check_encoding(args)
    look = look_spec(args)
    timeout = LIVE_TIMEOUT if args.timeout is None else args.timeout
    source = live.SourceSpec(args.input, args.input_format, args.video_size, args.framerate,
                             dict(args.input_option), open_timeout=timeout,
                             read_timeout=timeout)
    try:
        summary = live.run_live(
            source, outputs=args.output, preview=args.preview, serve=args.serve,
            segment_seconds=args.segment, overwrite=args.overwrite, model=model_spec(args),
            temporal=temporal, output=output_spec(args), look=look, frames=args.frames,
            duration=args.duration, reconnect=not args.no_reconnect,
            give_up_after=GIVE_UP_AFTER if args.give_up_after is None else args.give_up_after,
            status=False if args.quiet else None,
        )
    except live.LiveError as exc:  # the outputs were finalized: say how far the run got
        if args.json:
            print(json.dumps({**dataclasses.asdict(exc.summary), "look": dataclasses.asdict(look)},
                             indent=2, default=str))
        raise
    if args.json:
        print(json.dumps({**dataclasses.asdict(summary), "look": dataclasses.asdict(look)},
                         indent=2, default=str))
    return 0


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {redact(message)}", file=sys.stderr)
    return code


def _check_encoding(args: argparse.Namespace, dst: Path | None = None) -> None:
    """--codec names an encoder that ``dst``'s container can hold (live, ``dst`` None: an
    encoder; restreams default to H.264), --crf is on its scale and --preset means something
    to it: usage mistakes (exit 2), found before the model loads or any file is opened."""
    from vidcolor.io.writer import (
        CodecChoiceError,
        check_crf,
        check_preset,
        choose_encoder,
        video_encoder,
    )

    try:
        if dst is None:
            encoder = video_encoder(args.codec or STREAM_CODEC)
        else:
            encoder = choose_encoder(dst, args.codec)
        if args.crf is not None:
            check_crf(encoder, args.crf)
        if args.preset is not None:
            check_preset(encoder)
    except CodecChoiceError as exc:
        raise UsageError(str(exc)) from None


def _refuse_live_options(args: argparse.Namespace) -> None:
    """Options a file run would silently ignore are usage mistakes (exit 2)."""
    if args.bitrate is not None:
        raise UsageError("--bitrate is for live outputs; files use --crf")
    given = _live_only(args)
    if given:
        verb = "is" if len(given) == 1 else "are"
        raise UsageError(f"{', '.join(given)} {verb} for live runs (a URL or capture device "
                         f"input, or a restream output); {args.input} is a file")


def _checked_input(args: argparse.Namespace) -> Path | str:
    """The input file, folder, (``-``) standard input or video URL (as given), checked before
    anything loads."""
    from vidcolor.io.images import is_image
    from vidcolor.io.reader import STDIN

    if args.input.startswith("file://"):  # a local file after all: checked as one
        from urllib.parse import unquote, urlsplit

        args.input = unquote(urlsplit(args.input).path)
    if args.input == "-" or "://" in args.input:
        what = "standard input" if args.input == "-" else "a URL"
        if not args.output:
            raise UsageError(f"a video read from {what} needs -o OUTPUT")
        if args.resume or args.workers is not None or args.ray is not None or args.contact_sheet:
            raise UsageError(f"--resume, --workers, --ray and --contact-sheet need a file, not "
                             f"{what}")
        if args.input == "-":
            return Path(STDIN)
        if is_image(args.input):
            raise UsageError("stills are read from files: download the image first")
        return args.input
    src = Path(args.input)
    if not src.exists():
        raise FileNotFoundError(f"input {src} does not exist")
    if not os.access(src, os.R_OK):
        raise PermissionError(f"input {src} is not readable")
    return src


def _url_name(url: str) -> str:
    """What a URL's progress is labelled with: its file name (never its query or userinfo,
    where tokens and passwords go)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.rsplit("/", 1)[-1] or urlsplit(url).hostname or "input"


def _check_review(args: argparse.Namespace, src: Path) -> None:
    """--contact-sheet, --samples and --side-by-side take one video file (usage errors)."""
    from vidcolor.io.images import is_image

    if args.samples is not None and args.contact_sheet is None:
        raise UsageError("--samples goes with --contact-sheet")
    if args.contact_sheet is not None and (args.side_by_side or args.output):
        raise UsageError("--contact-sheet writes only the sheet; drop -o and --side-by-side")
    if (args.contact_sheet is not None or args.side_by_side) and (src.is_dir() or is_image(src)):
        raise UsageError(f"--contact-sheet and --side-by-side are for video files; {src} is not one")


def _run_folder(session: Session, src: Path, dst: Path) -> tuple[int, dict[str, Any]]:
    from vidcolor.folders import folder_jobs
    from vidcolor.io.images import is_image

    if dst.exists() and not dst.is_dir():
        raise NotADirectoryError(f"output {dst} is not a folder")
    if dst.resolve() == src.resolve():
        raise UsageError("the output folder is the input folder; choose another with -o")
    done, failed = [], []
    jobs = list(folder_jobs(src, dst))
    if not jobs:
        raise FileNotFoundError(f"no images or videos under {src}")
    for out in {out.suffix.lower(): out for path, out in jobs if not is_image(path)}.values():
        _check_encoding(session.args, out)  # one per container, before any file is written
    from vidcolor.progress import make_progress
    from vidcolor.scale.jobs import Job
    from vidcolor.scale.runner import colorize_folder, executor

    def report(label: str, exc: BaseException) -> str:  # one bad file is reported and skipped
        print(f"{PROG}: error: {label}: {_message(exc)}", file=sys.stderr)
        return _message(exc)

    args = session.args
    dst.mkdir(parents=True, exist_ok=True)
    labelled = [(path, out, str(path.relative_to(src.resolve()))) for path, out in jobs]
    with executor(args.workers, args.ray, args.device) as pool:
        done, failed, skipped = colorize_folder(
            Job(args), labelled, dst, pool, make_progress(src.name, quiet=args.quiet), report)
    summary = {"kind": "folder", "output": str(dst), "files": done, "failed": failed,
               "skipped": skipped}
    return (1 if failed else 0), summary


def _run_segmented(args: argparse.Namespace, src: Path, dst: Path) -> dict[str, Any]:
    """One video in keyframe-aligned segments: --resume, --workers N, --ray."""
    from vidcolor.progress import make_progress
    from vidcolor.scale.jobs import Job
    from vidcolor.scale.runner import colorize_segmented, executor

    if args.frames is not None or args.duration is not None:
        raise UsageError("--frames and --duration cannot be combined with --resume, --workers "
                         "or --ray on one file")
    with executor(args.workers, args.ray, args.device) as pool:
        return colorize_segmented(Job(args), src, dst, pool, make_progress(src.name, args.quiet),
                                  resume=args.resume, seconds=args.split)


def _message(exc: BaseException) -> str:
    """One line for the user; OS errors keep their file name."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _run(args: argparse.Namespace) -> int:
    from vidcolor.folders import default_output
    from vidcolor.io.images import is_image

    live = _live_module()
    if _is_live(args, live):
        return _run_live(args, live)
    if args.codec is not None:
        _check_encoding(args)  # the encoder exists and --crf is on its scale, whatever the input
    if len(args.output) > 1:
        raise UsageError("only live runs take several outputs")
    _refuse_live_options(args)
    if args.ray is not None and not _has_ray():
        raise UsageError("--ray needs Ray: pip install 'vidcolor[ray]'")
    src = _checked_input(args)
    if args.output == ["-"]:
        raise UsageError("outputs are files, written whole and then moved into place; "
                         "standard output ('-o -') is not one")
    if isinstance(src, Path):
        _check_review(args, src)
    dst = Path(args.output[0]) if args.output else default_output(src)
    session = Session(args)
    if isinstance(src, str):  # a video at a URL
        _check_encoding(args, dst)
        summary = {**session.run_file(src, dst, _url_name(src)), "input": redact(src)}
        code, cut_short = 0, bool(summary.get("input_ends_early"))
    elif args.contact_sheet is not None:
        code, summary, cut_short = 0, session.contact_sheet(src), False
    elif src.is_dir():
        code, summary = _run_folder(session, src, dst)
        cut_short = any(f.get("input_ends_early") for f in summary["files"])
    else:
        scaled = args.resume or args.workers is not None or args.ray is not None
        if scaled and is_image(src):
            raise UsageError("--resume, --workers and --ray are for videos and folders; "
                             f"{src} is an image")
        if not is_image(src):
            _check_encoding(args, dst)
        summary = (_run_segmented(args, src, dst) if scaled
                   else session.run_file(src, dst, src.name))
        code, cut_short = 0, bool(summary.get("input_ends_early"))
    code = code or int(cut_short)
    if args.json:
        print(json.dumps({**summary, "look": dataclasses.asdict(session.look)}, indent=2))
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
    handler.addFilter(RedactingFilter())  # a URL's password or token never reaches the screen
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, handlers=[handler])


def _interrupted(exc: KeyboardInterrupt) -> str:
    """What Ctrl-C left behind, for the one line the command prints."""
    partial = getattr(exc, "partial", None)
    if partial is None:
        return f"{PROG}: interrupted; no output written"
    if getattr(exc, "complete", False):
        return f"{PROG}: interrupted; the output was already complete: {partial}"
    return f"{PROG}: interrupted; partial output saved to {partial}"


def main(argv: list[str] | None = None) -> int:
    """The command; returns the exit status.

    SIGTERM and SIGHUP are handled like Ctrl-C (``vidcolor.signals``): the video pipeline
    defers them while it owns threads and a temporary file, and keeps the partial output.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with interrupt_on_stop_signals():
            _setup_logging(quiet="-q" in argv or "--quiet" in argv)
            if argv and argv[0] in ("demo", "bench"):
                return _subcommand(argv[0], argv[1:])
            return _run(build_parser().parse_args(argv))
    except UsageError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt as exc:
        forget_interrupt()
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            print(_interrupted(exc), file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("VIDCOLOR_DEBUG"):
            raise
        return _fail(_message(exc))


if __name__ == "__main__":
    sys.exit(main())
