"""The plane work on a torch device (the CUDA path) matches the OpenCV path on the host.

It runs on the CPU here, with torch's CPU kernels: the same code a CUDA GPU runs.
"""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest
import torch
from skimage import data
from test_pipeline_support import luma_planes

from vidcolor import Colorizer
from vidcolor.backends.torch_engine import TorchEngine
from vidcolor.device_planes import DevicePlanes
from vidcolor.pipeline import colorize_video
from vidcolor.specs import OutputSpec


def _smooth_ab(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack((60 * np.sin(x / 9 + y / 23), 50 * np.cos(y / 7 - x / 31))).astype(np.float32)


class _Ramp(torch.nn.Module):
    """A stand-in network whose chroma follows lightness: warm in the lights, cool in the
    darks, so that every chroma code value of the output depends on the plane work."""

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return torch.cat(((lightness - 50) * 1.2, (60 - lightness) * 0.9), 1)


@pytest.fixture(scope="module")
def pair():
    """The same network with planes on the host and on the (CPU) device."""
    engine = TorchEngine(_Ramp(), "cpu")
    return Colorizer(engine, size=96, planes="host"), Colorizer(engine, size=96, planes="device")


def test_auto_keeps_planes_on_the_host_for_a_cpu_engine(pair):
    host, device = pair
    assert Colorizer(host.engine).planes is None
    assert isinstance(device.planes, DevicePlanes) and device.planes.device.type == "cpu"


@pytest.mark.parametrize("full_range", [False, True])
def test_network_input_matches_opencv(pair, full_range):
    host, device = pair
    luma = data.coffee()[..., 1]  # 600x400 -> 160x96: a non-integer area factor
    expected = host.lightness_small(luma, full_range)
    got = device.lightness_small(luma, full_range)
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape == (96, 160)
    diff = np.abs(got.numpy() - expected)
    assert diff.mean() < 0.01 and diff.max() < 0.6  # L units: at most one luma code apart


@pytest.mark.parametrize(("chroma_hw", "matrix"), [((240, 320), "bt709"), ((48, 64), "bt601")])
def test_chroma_planes_match_opencv(pair, chroma_hw, matrix):
    host, device = pair
    lightness = host.lightness_small(data.coffee()[..., 1], full_range=False)
    ab = _smooth_ab(*lightness.shape)
    expected = host.chroma_planes(ab, lightness, chroma_hw, matrix, False)
    got = device.chroma_planes(ab, torch.from_numpy(lightness), chroma_hw, matrix, False)
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape == chroma_hw and a.dtype == np.uint8
        assert np.abs(a.astype(int) - b).max() <= 1  # OpenCV's fixed-point bilinear rounds
        assert np.ptp(a) > 40  # the colour is really there


def test_pipeline_with_device_planes_keeps_luma_and_matches_the_host_run(
        tmp_path, make_clip, pair):
    host, device = pair
    src = make_clip(tmp_path / "in.mkv", frames=10, size=(176, 112), codec="ffv1", audio=False)
    colorize_video(src, tmp_path / "host.mkv", colorizer=host, output=OutputSpec(codec="ffv1"))
    colorize_video(src, tmp_path / "device.mkv", colorizer=device, output=OutputSpec(codec="ffv1"))
    for a, b in zip(luma_planes(src), luma_planes(tmp_path / "device.mkv"), strict=True):
        np.testing.assert_array_equal(a, b)
    with av.open(str(tmp_path / "host.mkv")) as h, av.open(str(tmp_path / "device.mkv")) as d:
        pairs = list(zip(h.decode(video=0), d.decode(video=0), strict=True))
    assert len(pairs) == 10
    for fh, fd in pairs:  # the rows below the luma in yuv420p: the Cb and Cr planes
        a, b = (f.to_ndarray()[f.height:].astype(int) for f in (fh, fd))
        assert np.abs(a - b).mean() < 0.5 and np.abs(a - b).max() <= 2
        assert a.std() > 5  # the chroma follows the moving content


def test_live_frames_with_device_planes_match_the_host(pair):
    from fractions import Fraction

    from vidcolor.live.colorize import FrameColorizer
    from vidcolor.temporal import TemporalStage

    host, device = (FrameColorizer(c, TemporalStage("causal", 0.9)) for c in pair)
    rgb = data.astronaut()[:480, :512]
    for i in range(3):
        frame = av.VideoFrame.from_ndarray(np.roll(rgb, 4 * i, 1), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts, frame.time_base = i, Fraction(1, 30)
        a, b = (f(frame).to_ndarray().astype(int) for f in (host, device))
        np.testing.assert_array_equal(a[:480], b[:480])  # the luma: the input's own
        chroma = np.abs(a[480:] - b[480:])  # one luma code apart at most moves the flow a hair
        assert chroma.mean() < 0.2 and chroma.max() <= 4 and a[480:].std() > 5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_planes_match_cpu_from_several_threads():
    cpu, cuda = DevicePlanes(torch.device("cpu")), DevicePlanes(torch.device("cuda"))
    luma = data.camera()
    expected = cpu.lightness_small(luma, (96, 96), False)
    ab = _smooth_ab(96, 96)
    planes = cpu.chroma_planes(ab, expected, (256, 256), "bt709", False)
    results: list = []

    def work() -> None:
        for _ in range(20):
            small = cuda.lightness_small(luma, (96, 96), False)
            results.append((small.cpu(), cuda.chroma_planes(ab, small, (256, 256), "bt709",
                                                            False)))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 60
    for small, (cb, cr) in results:
        assert torch.allclose(small, expected, atol=1e-3)
        assert np.abs(cb.astype(int) - planes[0]).max() <= 1
        assert np.abs(cr.astype(int) - planes[1]).max() <= 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_nvdec_decodes_the_same_frames(tmp_path, make_clip, pair):
    """H.264 decoding is exact: NVDEC must hand the pipeline the very same luma."""
    host, _ = pair
    src = make_clip(tmp_path / "in.mp4", frames=20, size=(320, 192))
    soft, hard = tmp_path / "soft.mkv", tmp_path / "hard.mkv"
    colorize_video(src, soft, colorizer=host, output=OutputSpec(codec="ffv1"))
    stats = colorize_video(src, hard, colorizer=host, output=OutputSpec(codec="ffv1"), hwdec="cuda")
    assert stats.frames == 20
    for a, b in zip(luma_planes(soft), luma_planes(hard), strict=True):
        np.testing.assert_array_equal(a, b)
