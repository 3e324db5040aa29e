"""``--ray``: files and segments as tasks on a real local Ray cluster (two CPUs, one session
for the module), a worker killed mid-task retried, and the output still complete and equal
to the one-process run. Skipped where Ray is not installed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from scale_support import FAST, SPLIT, assert_same_timeline, gop_clip, reference
from test_pipeline_support import REPO, tiny_weights_fixture  # noqa: F401  (fixture)

from vidcolor.cli import main
from vidcolor.scale import runner

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    """A local cluster: the command finds it running and uses it rather than starting one."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def _dies_first(marker: Path, job, src, part, segment, key):
    """The real part job, except that the first attempt at segment 1 kills its worker."""
    from vidcolor.scale.jobs import colorize_part

    if segment.index == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)  # the worker process dies mid-task, as on a lost node
    return colorize_part(job, src, part, segment, key)


def test_killed_worker_is_retried_and_the_output_is_complete(tmp_path, tiny_weights, capsys,
                                                              monkeypatch):
    src = gop_clip(tmp_path / "in.mp4")
    ref = reference(src, tmp_path / "ref.mp4", tiny_weights)
    marker = tmp_path / "died"
    monkeypatch.setattr(runner, "colorize_part",
                        lambda *args: _dies_first(marker, *args), raising=True)
    dst = tmp_path / "out.mp4"
    assert main([str(src), "-o", str(dst), "--ray", "--workers", "2", *SPLIT, "--json",
                 "--weights", str(tiny_weights), *FAST]) == 0
    out = capsys.readouterr().out  # Ray's raylet tells the worker's death there too
    summary = json.loads(out[out.index("{\n"):])
    assert marker.exists() and summary["segments"] == 4 and summary["frames"] == 96
    assert_same_timeline(dst, ref)


def test_folder_on_ray(tmp_path, tiny_weights, capsys):
    src = tmp_path / "reel"
    src.mkdir()
    for name in ("a.mp4", "b.mp4"):
        gop_clip(src / name, frames=24)
    out = tmp_path / "out"
    assert main([str(src), "-o", str(out), "--ray", "--json", "--weights", str(tiny_weights),
                 *FAST]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{\n"):])
    assert sorted(Path(f["output"]).name for f in summary["files"]) == ["a.mp4", "b.mp4"]
    assert all(f["frames"] == 24 for f in summary["files"])
