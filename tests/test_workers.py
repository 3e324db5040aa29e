"""``--workers N``: one file in segments on N processes, a folder's files at once with a
manifest, and the options' usage errors."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from conftest import packet_digest, video_pts
from scale_support import FAST, SPLIT, assert_same_timeline, gop_clip, reference
from test_pipeline_support import run_cli, tiny_weights_fixture  # noqa: F401  (fixture)

from vidcolor.cli import main
from vidcolor.scale.manifest import NAME
from vidcolor.scale.segments import plan


def test_plan_cuts_at_keyframes_and_covers_every_frame(tmp_path):
    src = gop_clip(tmp_path / "in.mp4")
    segments = plan(src, 1.0)
    assert [s.frames for s in segments] == [24, 24, 24, 24]
    assert [s.start for s in segments[1:]] == [s.end for s in segments[:-1]]
    assert segments[-1].end is None
    assert segments[2].warm < segments[2].start and segments[2].seek <= segments[2].warm
    assert len(plan(src, 20.0)) == 1 and len(plan(src, 20.0, at_least=4)) == 4


def test_two_workers_equal_the_one_process_run(tmp_path, tiny_weights):
    src = gop_clip(tmp_path / "in.mp4")
    ref = reference(src, tmp_path / "ref.mp4", tiny_weights)
    result = run_cli(src, "-o", tmp_path / "out.mp4", "--workers", "2", *SPLIT, "--json",
                     "--weights", tiny_weights, *FAST)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["frames"] == 96 and summary["segments"] == 4 and summary["workers"] == 2
    assert_same_timeline(tmp_path / "out.mp4", ref)
    assert not list(tmp_path.glob(".*"))  # no sidecar, no temporary left


def test_a_silent_clip_joins_too(tmp_path, tiny_weights):
    """No audio to carry: the join must not mistake the input's own video for the parts'
    (PyAV demuxes every stream when asked for none). The film's chapters, which span the
    segments, are the joined file's, once."""
    chapters = ((0.0, 1.3, "One"), (1.3, 4.0, "Two"))
    src = gop_clip(tmp_path / "in.mkv", audio=False, chapters=chapters)
    ref = reference(src, tmp_path / "ref.mkv", tiny_weights)
    result = run_cli(src, "-o", tmp_path / "out.mkv", "--resume", *SPLIT, "--weights",
                     tiny_weights, *FAST)
    assert result.returncode == 0, result.stderr
    assert video_pts(tmp_path / "out.mkv") == video_pts(ref)
    with av.open(str(tmp_path / "out.mkv")) as joined:
        assert [(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                 c["metadata"]["title"]) for c in joined.chapters()] == list(chapters)


def test_a_transport_stream_resumes_and_a_spliced_one_is_refused(tmp_path, tiny_weights):
    """MPEG-TS seeks land after the keyframe sought: the first segment found nothing to
    decode ("no video frames were written to part-00000"). A spliced one is refused."""
    src = gop_clip(tmp_path / "in.ts")
    ref = reference(src, tmp_path / "ref.mkv", tiny_weights)
    result = run_cli(src, "-o", tmp_path / "out.mkv", "--resume", *SPLIT, "--weights",
                     tiny_weights, *FAST)
    assert result.returncode == 0, result.stderr
    pairs = zip(video_pts(tmp_path / "out.mkv"), video_pts(ref), strict=True)  # all 96 frames
    assert all(abs(a - b) <= Fraction(1, 1000) for a, b in pairs)  # the parts round apart
    assert packet_digest(tmp_path / "out.mkv", "audio") == packet_digest(ref, "audio")
    spliced = tmp_path / "spliced.ts"
    spliced.write_bytes(src.read_bytes() * 2)
    result = run_cli(spliced, "-o", tmp_path / "s.mkv", "--resume", "--weights", tiny_weights,
                     *FAST)
    assert result.returncode == 1 and "clock restarts midway" in result.stderr
    assert not (tmp_path / "s.mkv").exists()


def test_folder_runs_files_at_once_and_its_manifest_skips_and_retries(tmp_path, tiny_weights):
    src = tmp_path / "reel"
    (src / "day1").mkdir(parents=True)
    gop_clip(src / "a.mp4", frames=24)
    gop_clip(src / "day1" / "b.mkv", frames=24)
    cv2.imwrite(str(src / "still.png"), np.full((40, 40), 128, np.uint8))
    (src / "broken.mp4").write_text("not a video")
    out = tmp_path / "out"
    command = (src, "-o", out, "--workers", "2", "--json", "--weights", tiny_weights, *FAST)
    result = run_cli(*command)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "broken.mp4" in result.stderr
    lines = [json.loads(line) for line in (out / NAME).read_text().splitlines()]
    status = {line["input"].rsplit("/", 1)[1]: line["status"] for line in lines}
    assert status == {"a.mp4": "done", "b.mkv": "done", "still.png": "done",
                      "broken.mp4": "failed"}
    done = next(line for line in lines if line["input"].endswith("a.mp4"))
    assert done["frames"] == 24 and done["engine"] == "torch" and done["fps"] > 0
    gop_clip(src / "broken.mp4", frames=24)  # repaired: the re-run retries it, skips the rest
    result = run_cli(*command)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["skipped"]) == 3 and [f["input"] for f in summary["files"]] == [
        str(src / "broken.mp4")]
    assert (out / "broken.mp4").is_file() and (out / "day1" / "b.mkv").is_file()


@pytest.mark.parametrize("extra, words", [
    (("--workers", "0"), "must be positive"),
    (("--resume",), "is an image"),
    (("--workers", "2", "--frames", "5"), "--frames and --duration cannot"),
])
def test_usage_errors(tmp_path, capsys, extra, words):
    if "--frames" in extra:
        src = gop_clip(tmp_path / "in.mp4", frames=4)
    else:
        src = tmp_path / "scan.png"
        cv2.imwrite(str(src), np.full((40, 40), 128, np.uint8))
    assert main([str(src), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_usage_errors_for_live_runs_and_missing_ray(tmp_path, capsys, monkeypatch):
    assert main(["udp://127.0.0.1:9", "--resume"]) == 2
    assert "not live runs" in capsys.readouterr().err
    monkeypatch.setattr("vidcolor.cli._has_ray", lambda: False)
    assert main([str(gop_clip(tmp_path / "in.mp4", frames=4)), "--ray"]) == 2
    assert "pip install 'vidcolor[ray]'" in capsys.readouterr().err
