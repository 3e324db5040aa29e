"""``vidcolor demo``: the first run, with nothing but the install.

Builds a short black-and-white clip (pan and zoom over photographs that
scikit-image ships, with a generated soundtrack), colorizes it through the
same pipeline as ``vidcolor FILE``, and writes a gray | vidcolor | original
side-by-side video to compare. About 3 seconds of 320x240 video, so it runs
in well under a minute on two CPU cores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from vidcolor.io.reader import open_video
from vidcolor.io.writer import VideoWriter
from vidcolor.progress import make_progress

WIDTH, HEIGHT, FPS = 320, 240, 24
FRAMES_PER_PHOTO = 24
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
AUDIO_RATE = 48000
LABELS = ("gray", "vidcolor", "original")


def photos() -> list[np.ndarray]:
    """The colour photographs scikit-image ships (RGB uint8), in a fixed order."""
    from skimage import data

    return [getattr(data, name)() for name in PHOTOS]


def pan_and_zoom(photo: np.ndarray, t: float) -> np.ndarray:
    """The frame at ``t`` in 0..1 of a slow zoom-in while panning across ``photo``."""
    h, w = photo.shape[:2]
    base = min(h, w * HEIGHT / WIDTH)
    ch = base * (1.0 - 0.25 * t)
    cw = ch * WIDTH / HEIGHT
    cx = (w - cw) * (0.2 + 0.6 * t) + cw / 2
    cy = (h - ch) / 2 + ch / 2
    x0, y0 = int(round(cx - cw / 2)), int(round(cy - ch / 2))
    crop = photo[y0 : y0 + int(ch), x0 : x0 + int(cw)]
    return cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def original_frames() -> Iterator[np.ndarray]:
    for photo in photos():
        for i in range(FRAMES_PER_PHOTO):
            yield pan_and_zoom(photo, i / (FRAMES_PER_PHOTO - 1))


def soundtrack(seconds: float) -> np.ndarray:
    """A soft major chord that swells and fades, float32 mono."""
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63))
    return (0.1 * chord * np.sin(np.pi * t / seconds)).astype(np.float32)


def write_gray_clip(path: Path) -> Path:
    """The black-and-white input: the photographs' luma only, H.264, with AAC sound."""
    count = FRAMES_PER_PHOTO * len(PHOTOS)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "12"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "mono"
        for index, rgb in enumerate(original_frames()):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            for plane in frame.planes[1:]:
                np.frombuffer(memoryview(plane), np.uint8)[:] = 128  # no colour at all
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        audio = av.AudioFrame.from_ndarray(soundtrack(count / FPS)[None], format="flt",
                                           layout="mono")
        audio.sample_rate, audio.pts = AUDIO_RATE, 0
        out.mux(sound.encode(audio))
        out.mux(sound.encode(None))
    return path


def _rgb_frames(path: Path) -> Iterator[np.ndarray]:
    with open_video(path) as reader:
        for item in reader:
            if isinstance(item, av.VideoFrame):
                yield item.to_ndarray(format="rgb24")


def _label(image: np.ndarray, text: str) -> np.ndarray:
    image = np.ascontiguousarray(image)
    cv2.putText(image, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                cv2.LINE_AA)
    return image


def write_side_by_side(gray: Path, color: Path, dst: Path) -> Path:
    """gray | vidcolor | original, three abreast, with the colorized file's sound and timing."""
    with open_video(color) as reader:
        info = dataclasses.replace(reader.info, width=3 * WIDTH, pix_fmt="yuv420p")
        with VideoWriter(dst, info, reader.copy_streams, overwrite=True) as writer:
            panels = zip(_rgb_frames(gray), original_frames(), strict=True)
            for item in reader:
                if isinstance(item, av.VideoFrame):
                    left, right = next(panels)
                    row = [_label(p, t) for p, t in
                           zip((left, item.to_ndarray(format="rgb24"), right), LABELS,
                               strict=True)]
                    frame = av.VideoFrame.from_ndarray(np.hstack(row), format="rgb24")
                    frame.pts, frame.time_base = item.pts, item.time_base
                    item = frame
                writer.write(item)
    return dst


def main(argv: list[str] | None = None) -> int:
    from vidcolor.options import Parser

    parser = Parser(prog="vidcolor demo", description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default="vidcolor_demo", help="folder for the results")
    parser.add_argument("--weights", help="model file (default: the shipped model)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)

    from vidcolor.pipeline import colorize_video
    from vidcolor.specs import ModelSpec

    colorizer = ModelSpec(weights=args.weights).build()  # first: missing weights fail early
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    gray = write_gray_clip(folder / "gray.mp4")
    color = folder / "vidcolor.mp4"
    stats = colorize_video(gray, color, colorizer=colorizer, overwrite=True,
                           progress=make_progress("colorizing", quiet=args.quiet))
    side = write_side_by_side(gray, color, folder / "side_by_side.mp4")
    if not args.quiet:
        print(f"input (gray):   {gray}\ncolorized:      {color}  ({stats.frames} frames, "
              f"{stats.fps:.1f} fps, {stats.engine} on {stats.device})\n"
              f"side by side:   {side}  (gray | vidcolor | original)")
    return 0
