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

from .atomic import partial_path
from .errors import InputError, OutputError, VidcolorIOError
from .images import IMAGE_SUFFIXES, is_image, read_image, write_image
from .planes import LumaFrame, chroma_size, merge_planes, split_luma
from .reader import VideoInfo, VideoReader, open_video
from .writer import VideoWriter, output_pix_fmt

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
