"""A real capture device, where one exists (/dev/video*): ten coloured frames into a file."""

from __future__ import annotations

import glob
from pathlib import Path

import av
import pytest
from servers.helpers import tiny_colorizer

from vidcolor.live import SourceSpec, run_live

DEVICES = sorted(glob.glob("/dev/video*"))


@pytest.mark.timeout(30)
@pytest.mark.skipif(not DEVICES, reason="no capture device (/dev/video*) on this machine")
def test_webcam_to_file(tmp_path: Path) -> None:
    out = tmp_path / "cam.mp4"
    source = SourceSpec(DEVICES[0], open_timeout=10.0, read_timeout=10.0)
    summary = run_live(source, outputs=[str(out)], frames=10, colorizer=tiny_colorizer(),
                       reconnect=False, status=False)
    assert summary.frames_out == 10
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10
