"""Generated gray test clips: textured, moving content, so the encoder does real work."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080),
               "2160p": (3840, 2160)}


def _texture(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth blobs plus fine grain and a few hard edges, 25 % larger than the frame."""
    rng = np.random.default_rng(seed)
    w, h = width * 5 // 4, height * 5 // 4
    coarse = cv2.resize(rng.random((h // 32 + 2, w // 32 + 2), np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.random((h, w), np.float32), (0, 0), 1.5)
    image = 0.7 * coarse + 0.3 * fine
    for _ in range(12):
        x, y, r = rng.integers(0, w), rng.integers(0, h), int(rng.integers(h // 20, h // 6))
        cv2.circle(image, (int(x), int(y)), r, float(rng.random()), -1)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def make_gray_clip(path: Path, size: tuple[int, int], frames: int, fps: int = 24) -> Path:
    """Write ``frames`` frames of a slow pan over a texture as gray H.264 (yuv420p, CRF 18)."""
    width, height = size
    texture = _texture(width, height, seed=width)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": "18", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        max_dx, max_dy = texture.shape[1] - width, texture.shape[0] - height
        for i in range(frames):
            t = i / max(frames - 1, 1)
            x, y = int(t * max_dx), int(t * max_dy * 0.5)
            gray = np.ascontiguousarray(texture[y:y + height, x:x + width])
            frame = av.VideoFrame.from_ndarray(gray, format="gray").reformat(format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path
