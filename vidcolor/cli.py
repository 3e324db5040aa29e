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
import time
from pathlib import Path
from typing import Any

from vidcolor.options import (
    GIVE_UP_AFTER,
    LIVE_TIMEOUT,
    PROG,
    UsageError,
    build_parser,
    live_options_given,
    model_spec,
    output_spec,
    temporal_spec,
)
from vidcolor.signals import forget_interrupt, interrupt_on_stop_signals
from vidcolor.specs import STREAM_CODEC


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
    temporal = temporal_spec(args)
    if temporal.looks_ahead:
        raise UsageError("--temporal bidirectional looks ahead, which live runs cannot; "
                         "use causal or off")
    if args.hwdec is not None:
        raise UsageError("--hwdec is for files; live sources decode in software")
    _check_encoding(args)
    timeout = LIVE_TIMEOUT if args.timeout is None else args.timeout
    source = live.SourceSpec(args.input, args.input_format, args.video_size, args.framerate,
                             dict(args.input_option), open_timeout=timeout,
                             read_timeout=timeout)
    try:
        summary = live.run_live(
            source, outputs=args.output, preview=args.preview, serve=args.serve,
            segment_seconds=args.segment, overwrite=args.overwrite, model=model_spec(args),
            temporal=temporal, output=output_spec(args), frames=args.frames,
            duration=args.duration, reconnect=not args.no_reconnect,
            give_up_after=GIVE_UP_AFTER if args.give_up_after is None else args.give_up_after,
            status=False if args.quiet else None,
        )
    except live.LiveError as exc:  # the outputs were finalized: say how far the run got
        if args.json:
            print(json.dumps(dataclasses.asdict(exc.summary), indent=2, default=str))
        raise
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), indent=2, default=str))
    return 0


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _check_encoding(args: argparse.Namespace, dst: Path | None = None) -> None:
    """--codec names an encoder that ``dst``'s container can hold (live, ``dst`` None: an
    encoder; restreams default to H.264) and --crf is on its scale: usage mistakes (exit 2),
    found before the model loads or any file is opened."""
    from vidcolor.io.writer import CodecChoiceError, check_crf, choose_encoder, video_encoder

    try:
        if dst is None:
            encoder = video_encoder(args.codec or STREAM_CODEC)
        else:
            encoder = choose_encoder(dst, args.codec)
        if args.crf is not None:
            check_crf(encoder, args.crf)
    except CodecChoiceError as exc:
        raise UsageError(str(exc)) from None


def _refuse_live_options(args: argparse.Namespace) -> None:
    """Options a file run would silently ignore are usage mistakes (exit 2)."""
    if args.bitrate is not None:
        raise UsageError("--bitrate is for live outputs; files use --crf")
    given = live_options_given(args)
    if given:
        verb = "is" if len(given) == 1 else "are"
        raise UsageError(f"{', '.join(given)} {verb} for live runs (a URL or capture device "
                         f"input, or a restream output); {args.input} is a file")


class _Session:
    """One command's specs and colorizer, built once and reused for every file of a folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.model, self.temporal, self.output = (
            model_spec(args), temporal_spec(args), output_spec(args))
        self._colorizer = None

    @property
    def colorizer(self):
        if self._colorizer is None:
            self._colorizer = self.model.build()
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
        args = self.args
        stats = colorize_video(
            src, dst, colorizer=self.colorizer, temporal=self.temporal, output=self.output,
            batch=args.batch, hwdec=args.hwdec, frames=args.frames, duration=args.duration,
            overwrite=args.overwrite, progress=make_progress(label, quiet=args.quiet),
        )
        if stats.input_ends_early:  # kept, but the run must not look like a success
            logging.getLogger(PROG).warning("%s: %s; the output holds what there was: %s",
                                            label, stats.input_ends_early, dst)
        return {"input": str(src), "kind": "video", **stats.to_dict()}

    def _run_image(self, src: Path, dst: Path) -> dict[str, Any]:
        from vidcolor.io.images import check_format, read_pages, write_pages
        from vidcolor.stills import colorize_page

        start = time.perf_counter()
        pages = read_pages(src)
        check_format(dst, len(pages))  # before the model loads
        write_pages(dst, [colorize_page(page, self.colorizer) for page in pages], src=src,
                    overwrite=self.args.overwrite)
        return {"input": str(src), "output": str(dst), "kind": "image", "pages": len(pages),
                "seconds": round(time.perf_counter() - start, 3)}


def _run_folder(session: _Session, src: Path, dst: Path) -> tuple[int, dict[str, Any]]:
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
    from vidcolor.io.images import is_image

    live = _live_module()
    if _is_live(args, live):
        return _run_live(args, live)
    if args.codec is not None:
        _check_encoding(args)  # the encoder exists and --crf is on its scale, whatever the input
    if len(args.output) > 1:
        raise UsageError("only live runs take several outputs")
    _refuse_live_options(args)
    src = Path(args.input)
    if not src.exists():
        raise FileNotFoundError(f"input {src} does not exist")
    if not os.access(src, os.R_OK):
        raise PermissionError(f"input {src} is not readable")
    dst = Path(args.output[0]) if args.output else default_output(src)
    session = _Session(args)
    if src.is_dir():
        code, summary = _run_folder(session, src, dst)
        cut_short = any(f.get("input_ends_early") for f in summary["files"])
    else:
        if not is_image(src):
            _check_encoding(args, dst)
        summary = session.run_file(src, dst, src.name)
        code, cut_short = 0, bool(summary.get("input_ends_early"))
    code = code or int(cut_short)
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
