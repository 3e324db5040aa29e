"""The benchmark suite runs end to end in its tiny ``--quick`` configuration and writes
JSON, markdown and a PNG; sections can run alone without losing the others."""

from __future__ import annotations

import json

import cv2
import pytest
import torch

from benchmarks import main
from benchmarks.machine import machine_slug
from benchmarks.peers import PEERS


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path_factory.getbasetemp() / "vidcolor-cache"))


def test_quick_bench_writes_all_outputs(tmp_path):
    assert main(["--quick", "--out", str(tmp_path), "--only", "model", "--only", "pipeline"]) == 0
    results = json.loads((tmp_path / "results-quick.json").read_text())
    assert results["machine"]["slug"] == machine_slug()
    model = results["sections"]["model"]
    assert {r["engine"] for r in model["result"]["rows"]} >= {"torch"}
    assert all(r["best_fps"] >= r["median_fps"] > 0 for r in model["result"]["rows"])
    assert "loadavg" in model["load"]["before"]
    pipeline = results["sections"]["pipeline"]["result"]["rows"]
    assert pipeline and all(r["frames"] == 8 and r["ratio"] > 0 for r in pipeline)
    assert {"decode", "infer", "encode"} <= set(pipeline[0]["ms_per_frame"])
    text = (tmp_path / "results-quick.md").read_text()
    assert "## Model only" in text and "## Pipeline vs transcode-only" in text
    assert cv2.imread(str(tmp_path / "results-quick.png")) is not None

    assert main(["--quick", "--out", str(tmp_path), "--only", "peers"]) == 0
    merged = json.loads((tmp_path / "results-quick.json").read_text())
    assert set(merged["sections"]) == {"model", "pipeline", "peers"}
    peers = {r["net"]: r for r in merged["sections"]["peers"]["result"]["rows"]}
    assert set(peers) == {"vidcolor", *PEERS}
    assert all(peers[name]["speedup_same_size"] > 0 for name in PEERS)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peers_follow_the_engine_contract(name):
    make, size = PEERS[name]
    assert size % 32 == 0
    with torch.inference_mode():
        ab = make().eval()(torch.rand(2, 1, 32, 64) * 100)
    assert ab.shape == (2, 2, 32, 64)


def test_unknown_section_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--only", "everything"])
    assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_strip_tiles_every_nth_frame_before_and_after(tmp_path, make_clip):
    from benchmarks.strip import TILE_WIDTH, strip

    clip = make_clip(tmp_path / "pan.mp4", frames=8, size=(160, 96))
    path = strip(clip, every=3, count=3, out=tmp_path / "docs")
    image = cv2.imread(str(path))
    tile_height = round(96 * TILE_WIDTH / 160)
    assert image.shape == (4 * tile_height, 3 * TILE_WIDTH, 3)
    rows = [image[i * tile_height : (i + 1) * tile_height].astype(int) for i in range(4)]
    gray, per_frame, default = rows[0], rows[1], rows[2]
    assert abs(gray[..., 0] - gray[..., 2]).mean() < 2  # the luma row is gray
    assert abs(per_frame[..., 0] - per_frame[..., 2]).mean() > 2  # the model's colour
    assert abs(default - per_frame).mean() > 0.5  # the default ran the temporal stage
