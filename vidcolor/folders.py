"""What an input path is, and where its output goes.

One place decides the output naming so that files, images and folders
behave the same: ``film.mp4 -> film_color.mp4``, ``scans/ -> scans_color/``
with the tree mirrored inside (names unchanged there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from vidcolor.io.images import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts",
        ".mts", ".flv", ".wmv", ".ogv", ".3gp", ".mxf", ".y4m", ".nut", ".vob", ".gif",
    }
)  # fmt: skip


def is_media(path: Path) -> bool:
    """Files a folder run picks up; anything else in the folder is ignored."""
    suffix = path.suffix.lower()
    return suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES


def default_output(src: Path) -> Path:
    """``<stem>_color<ext>`` beside a file, ``<name>_color`` beside a folder."""
    if src.is_dir():
        return src.resolve().with_name(src.resolve().name + "_color")
    return src.with_name(f"{src.stem}_color{src.suffix}")


def folder_jobs(src: Path, dst: Path) -> Iterator[tuple[Path, Path]]:
    """(input, output) for every media file under ``src``, sorted, mirrored into ``dst``.

    The output folder is skipped when it lies inside the input folder, so a
    second run never colorizes its own results.
    """
    src, dst = src.resolve(), dst.resolve()
    for root, dirs, files in os.walk(src):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() != dst)
        for name in sorted(files):
            path = here / name
            if is_media(path):
                yield path, dst / path.relative_to(src)
