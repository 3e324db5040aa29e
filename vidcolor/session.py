"""One command's work, set up once: its specs and colorizer, and how it runs one file.

The command builds one for a run (a folder reuses it for every file); a worker process of
``vidcolor.scale`` builds its own from the same parsed options, so every option, the look
included, reaches workers without being listed anywhere else.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from vidcolor.options import PROG, SAMPLES, look_spec, model_spec, output_spec, temporal_spec


class Session:
    """One command's specs and colorizer, built once and reused for every file of a folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.model, self.temporal, self.output, self.look = (
            model_spec(args), temporal_spec(args), output_spec(args), look_spec(args))
        self._colorizer = None
        self._painted = None

    @property
    def colorizer(self):
        if self._colorizer is None:
            self._colorizer = self.model.build()
        return self._colorizer

    def run_file(self, src: Path | str, dst: Path, label: str, progress=None,
                 segment=None) -> dict[str, Any]:
        """Colorize one image or video (a path, or a video's URL); returns its JSON summary.

        The input and the destination are checked before the model is loaded, so a bad
        file fails fast. ``progress`` (default: a bar on a terminal) and ``segment`` (one
        piece of the video, ``vidcolor.scale``) are for workers.
        """
        from vidcolor.io.atomic import check_destination
        from vidcolor.io.images import is_image

        check_destination(dst, src, overwrite=self.args.overwrite)
        if is_image(src):
            return self._run_image(src, dst)
        from vidcolor.io.reader import STDIN, open_video
        from vidcolor.pipeline import colorize_video
        from vidcolor.progress import make_progress

        options = dict(self.args.input_option) or None  # FFmpeg's, for a video at a URL
        if str(src) != STDIN:  # a pipe can be read once only
            open_video(src, hwdec=self.args.hwdec, options=options).close()
        args = self.args
        stats = colorize_video(
            src, dst, colorizer=self.colorizer, temporal=self.temporal, output=self.output,
            look=self.look, side_by_side=args.side_by_side, batch=args.batch, hwdec=args.hwdec,
            input_options=options,
            frames=args.frames, duration=args.duration,
            overwrite=args.overwrite, segment=segment,
            progress=progress or make_progress(label, quiet=args.quiet),
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
        self._painted = self._painted or self.look.build()
        write_pages(dst, [colorize_page(page, self.colorizer, self._painted) for page in pages],
                    src=src, overwrite=self.args.overwrite)
        return {"input": str(src), "output": str(dst), "kind": "image", "pages": len(pages),
                "seconds": round(time.perf_counter() - start, 3)}

    def contact_sheet(self, src: Path) -> dict[str, Any]:
        """The --contact-sheet of one video; destination and input checked before the model
        loads."""
        from vidcolor.io.atomic import check_destination
        from vidcolor.io.images import check_format
        from vidcolor.io.reader import open_video
        from vidcolor.look.sheet import contact_sheet

        dst = self.args.contact_sheet
        check_format(check_destination(dst, src, overwrite=self.args.overwrite))
        open_video(src).close()
        return {"input": str(src), **contact_sheet(
            src, dst, colorizer=self.colorizer, look=self.look,
            samples=self.args.samples or SAMPLES, overwrite=self.args.overwrite)}
