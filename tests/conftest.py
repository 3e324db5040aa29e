"""Shared fixtures: small real media made with PyAV, probes to compare them, the real clips.

Fixtures (all function-scoped unless noted):

* ``make_clip(path, frames=24, size=(160, 96), fps=24, codec="libx264", audio=True, ...)``
  writes a clip of moving gradients and shapes with a sine-wave audio track; returns the path.
* ``packet_digest(path, kind)``: sha256 over (pts, dts, payload) of every packet of the
  ``kind`` streams ("audio", "subtitle"), to prove stream copy is byte-for-byte.
* ``video_pts(path)``: the decoded frames' timestamps in seconds (Fractions).
* ``shared_videos`` (session): the real clips folder; the test is skipped when absent.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

SHARED_VIDEOS = Path(__file__).parents[1] / ".." / "shared" / "data" / "videos"
AUDIO_RATE = 16000


def clip_frame(index: int, width: int, height: int) -> np.ndarray:
    """RGB uint8 [H, W, 3]: a drifting colour gradient with a bright moving square."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = index / 8.0
    image = np.stack(
        [
            128 + 100 * np.sin(x / 13.0 + t),
            128 + 100 * np.sin(y / 9.0 - t),
            128 + 100 * np.cos((x + y) / 17.0 + 2 * t),
        ],
        axis=-1,
    )
    side = max(4, min(width, height) // 4)
    left = (index * 5) % max(1, width - side)
    top = (index * 3) % max(1, height - side)
    image[top : top + side, left : left + side] = (250, 240, 40)
    return image.clip(0, 255).astype(np.uint8)


def make_clip(
    path: str | Path,
    frames: int = 24,
    size: tuple[int, int] = (160, 96),
    fps: int = 24,
    codec: str = "libx264",
    audio: bool = True,
    vfr: bool = False,
    rotation: int | None = None,
    subtitles: bool = False,
    pix_fmt: str = "yuv420p",
    audio_codec: str = "aac",
    sar: Fraction | None = None,
    colors: dict[str, int] | None = None,
    options: dict[str, str] | None = None,
    audio_rate: int = AUDIO_RATE,
    audio_layout: str = "mono",
    chapters: tuple[tuple[float, float, str], ...] = (),
) -> Path:
    """Write a small real clip; ``size`` is (width, height).

    ``vfr`` spaces frames 1, 2 and 3 ticks of 1/fps apart in turn; ``rotation`` is a display
    matrix rotation (degrees counter-clockwise); ``subtitles`` adds a text track (subrip in
    Matroska, mov_text in MP4/MOV); ``colors`` sets encoder colour tags, e.g.
    ``{"color_range": 1, "colorspace": 1, "color_primaries": 1, "color_trc": 1}``;
    ``chapters`` are (start s, end s, title).
    """
    path = Path(path)
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=fps, options=options or {})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = Fraction(1, fps)
        if sar is not None:
            video.codec_context.sample_aspect_ratio = sar
        for name, value in (colors or {}).items():
            setattr(video.codec_context, name, value)
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = _add_audio(out, audio_codec, audio_rate, audio_layout) if audio else None
        texts = _add_subtitles(out) if subtitles else None
        out.set_chapters([{"id": i + 1, "start": round(start * 1000), "end": round(end * 1000),
                           "time_base": Fraction(1, 1000), "metadata": {"title": title}}
                          for i, (start, end, title) in enumerate(chapters)])

        pts, audio_done = 0, 0
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(clip_frame(index, width, height), format="rgb24")
            frame = frame.reformat(format=pix_fmt)
            frame.pts, frame.time_base = pts, Fraction(1, fps)
            out.mux(video.encode(frame))
            if texts is not None and index % 8 == 0:
                _mux_subtitle(out, texts, f"line {index // 8}", Fraction(pts, fps))
            pts += (index % 3) + 1 if vfr else 1
            if sound is not None:
                audio_done = _mux_audio(out, sound, audio_done, Fraction(pts, fps))
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def _add_audio(out: av.container.OutputContainer, codec: str, rate: int,
               layout: str) -> av.AudioStream:
    sound = out.add_stream(codec, rate=rate)
    sound.layout = layout
    sound.codec_context.time_base = Fraction(1, rate)
    return sound


def _mux_audio(out, sound: av.AudioStream, done: int, until: Fraction) -> int:
    """Encode the sine wave from sample ``done`` up to time ``until``; returns samples done."""
    rate = sound.codec_context.sample_rate
    end = int(until * rate)
    if end <= done:
        return done
    t = np.arange(done, end) / rate
    channels = sound.codec_context.layout.nb_channels
    samples = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None], channels, 0)
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout=sound.codec_context.layout)
    frame.sample_rate, frame.pts, frame.time_base = rate, done, Fraction(1, rate)
    out.mux(sound.encode(frame))
    return end


def _add_subtitles(out: av.container.OutputContainer) -> av.stream.Stream:
    name = "subrip" if out.format.name == "matroska" else "mov_text"
    texts = out.add_mux_stream(name)
    texts.time_base = Fraction(1, 1000)
    return texts


def _mux_subtitle(out, texts: av.stream.Stream, text: str, start: Fraction) -> None:
    payload = text.encode()
    if out.format.name != "matroska":
        payload = len(payload).to_bytes(2, "big") + payload  # tx3g sample: length + text
    packet = av.Packet(payload)
    packet.stream = texts
    packet.time_base = Fraction(1, 1000)
    packet.pts = packet.dts = int(start * 1000)
    packet.duration = 250
    out.mux(packet)


def packet_digest(path: str | Path, kind: str) -> tuple[int, str]:
    """(packet count, sha256 of pts-in-seconds, dts and payload) over ``kind`` streams."""
    digest, count = hashlib.sha256(), 0
    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == kind]
        for packet in container.demux(streams):
            if packet.size == 0:
                continue
            stamps = (packet.pts, packet.dts)
            seconds = [None if s is None else Fraction(s) * packet.time_base for s in stamps]
            digest.update(repr(seconds).encode() + bytes(packet))
            count += 1
    return count, digest.hexdigest()


def video_pts(path: str | Path) -> list[Fraction]:
    """Presentation times (seconds) of every decoded video frame, in output order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [frame.pts * stream.time_base for frame in container.decode(stream)]


@pytest.fixture(name="make_clip")
def make_clip_fixture():
    return make_clip


@pytest.fixture(name="packet_digest")
def packet_digest_fixture():
    return packet_digest


@pytest.fixture(name="video_pts")
def video_pts_fixture():
    return video_pts


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    if not SHARED_VIDEOS.is_dir():
        pytest.skip(f"real clips not found at {SHARED_VIDEOS}")
    return SHARED_VIDEOS.resolve()
