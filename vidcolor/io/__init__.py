"""Container and codec layer: demux/decode, frame planes, encode/mux, stream copy, images.

Typical use (the pipeline adds colorization between ``split_luma`` and ``merge_planes``)::

    with open_video(src) as reader, VideoWriter(dst, reader.info, reader.copy_streams,
                                                src=src) as writer:
        for item in reader:
            if isinstance(item, av.VideoFrame):
                luma = split_luma(item)
                cb, cr = ...  # uint8, chroma_size(writer.pix_fmt, luma.width, luma.height)
                item = merge_planes(luma, cb, cr, writer.pix_fmt)
            writer.write(item)
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module that defines it. They load on first use, so code that needs
# only images or errors (training on a machine without PyAV, say) never imports FFmpeg.
_HOMES = {
    "IMAGE_SUFFIXES": ".images",
    "InputError": ".errors",
    "LumaFrame": ".planes",
    "OutputError": ".errors",
    "VidcolorIOError": ".errors",
    "VideoInfo": ".reader",
    "VideoReader": ".reader",
    "VideoWriter": ".writer",
    "chroma_size": ".planes",
    "is_image": ".images",
    "merge_planes": ".planes",
    "open_video": ".reader",
    "output_pix_fmt": ".writer",
    "partial_path": ".atomic",
    "read_image": ".images",
    "split_luma": ".planes",
    "write_image": ".images",
}

__all__ = [
    "IMAGE_SUFFIXES",
    "InputError",
    "LumaFrame",
    "OutputError",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "VidcolorIOError",
    "chroma_size",
    "is_image",
    "merge_planes",
    "open_video",
    "output_pix_fmt",
    "partial_path",
    "read_image",
    "split_luma",
    "write_image",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
