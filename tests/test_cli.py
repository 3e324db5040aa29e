"""The ``vidcolor`` command: end to end in subprocesses, bad inputs, images, folders, Ctrl-C."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch
from test_pipeline_support import (  # noqa: F401  (fixtures)
    cli_env,
    leftovers,
    run_cli,
    tiny_weights_fixture,
)

from vidcolor.cli import main
from vidcolor.io.images import read_image

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")


def test_video_end_to_end_json(tmp_path, make_clip, tiny_weights, video_pts):
    src = make_clip(tmp_path / "film.mp4", frames=12)
    result = run_cli(src, "--weights", tiny_weights, "--json", "--size", "64")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar and no chatter on a pipe
    summary = json.loads(result.stdout)
    dst = tmp_path / "film_color.mp4"
    assert summary["output"] == str(dst) and summary["frames"] == 12
    assert summary["engine"] in ("onnxruntime", "torch") and summary["device"] == "cpu"
    assert summary["corrupt_frames_skipped"] == 0
    assert set(summary["ms_per_frame"]) == {
        "decode", "prepare", "infer", "temporal", "chroma", "encode"
    }
    assert video_pts(dst) == video_pts(src)


def test_bad_input_in_a_subprocess_is_one_line(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n")
    result = run_cli(bogus)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("vidcolor: error: ")
    assert "Traceback" not in result.stderr
    assert leftovers(tmp_path, {"notes.mp4"}) == []


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="flt",
                                           layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _truncated(path: Path, make_clip) -> Path:
    good = make_clip(path.with_name("good.mp4"), frames=12)
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    good.unlink()
    return path


def _clip(p: Path, mk) -> Path:
    return mk(p / "in.mp4", frames=4)


BAD_INPUTS = {  # case: (make the input, extra arguments, exit status, words of the message)
    "nonexistent": (lambda p, mk: p / "missing.mp4", (), 1, "does not exist"),
    "text named .mp4": (lambda p, mk: _text(p / "a.mp4"), (), 1, "cannot open"),
    "truncated": (lambda p, mk: _truncated(p / "cut.mp4", mk), (), 1, "cut.mp4"),
    "no video stream": (lambda p, mk: _audio_only(p / "sound.mp4"), (), 1, "no video"),
    "missing output folder": (_clip, ("-o", "nowhere/out.mp4"), 1, "does not exist"),
    "output folder is a file": (_clip, ("-o", "in.mp4/out.mp4"), 1, "does not exist"),
    "unwritable output folder": (_clip, ("-o", "/proc/out.mp4"), 1, "out.mp4"),
    "output is the input": (_clip, ("-o", "in.mp4"), 1, "input"),
    "unknown container": (_clip, ("-o", "out.xyz"), 1, "out.xyz"),
    "unknown codec": (_clip, ("--codec", "nosuchcodec"), 2, "nosuchcodec"),
    "bad size": (_clip, ("--size", "100"), 2, "--size"),
    "bad engine": (_clip, ("--engine", "magic"), 2, "--engine"),
    "bad device": (_clip, ("--device", "tpu"), 2, "tpu"),
    "two models": (_clip, ("--model", "quality"), 2, "--weights and --model quality"),
    "unknown model": (_clip, ("--model", "best"), 2, "--model"),
    "bitrate for a file": (_clip, ("--bitrate", "4M"), 2, "--bitrate"),
    "bad bitrate": (_clip, ("--bitrate", "fast"), 2, "fast"),
    "bad input option": (_clip, ("--input-option", "novalue"), 2, "KEY=VALUE"),
    # live-only options on a file run would be ignored; those with defaults count as given
    "preview for a file": (_clip, ("--preview",), 2, "--preview is for live runs"),
    "serve for a file": (_clip, ("--serve", "127.0.0.1:8080"), 2, "--serve is for live"),
    "segment for a file": (_clip, ("--segment", "10"), 2, "--segment is for live"),
    "input format for a file": (_clip, ("--input-format", "mp4"), 2, "--input-format is"),
    "video size for a file": (_clip, ("--video-size", "64x48"), 2, "--video-size is"),
    "framerate for a file": (_clip, ("--framerate", "30"), 2, "--framerate is"),
    "input option for a file": (_clip, ("--input-option", "a=b"), 2, "--input-option is"),
    "default timeout for a file": (_clip, ("--timeout", "5"), 2, "--timeout is for live"),
    "default give-up for a file": (_clip, ("--give-up-after", "60"), 2, "--give-up-after is"),
    "no-reconnect for a file": (_clip, ("--no-reconnect",), 2, "--no-reconnect is"),
    "two live options": (_clip, ("--preview", "--timeout", "9"), 2,
                         "--preview, --timeout are for live runs"),
    # --weights files that are not vidcolor models: named, and what is wrong with them
    "weights: a PyTorch .pt": (lambda p, mk: _weights(p, mk, "pt"), ("--weights", "model.pt"),
                               1, "model.pt: not a safetensors file"),
    "weights: no config": (lambda p, mk: _weights(p, mk, "bare"),
                           ("--weights", "bare.safetensors"), 1,
                           "bare.safetensors: no vidcolor config in its metadata"),
    "weights: unknown architecture": (lambda p, mk: _weights(p, mk, "arch"),
                                      ("--weights", "arch.safetensors"), 1,
                                      "arch.safetensors: unknown architecture 'resnet'"),
    "weights: a config the architecture lacks": (
        lambda p, mk: _weights(p, mk, "config"), ("--weights", "config.safetensors"), 1,
        "config.safetensors: the config does not fit architecture 'plain_unet'"),
    "weights: tensors of another shape": (
        lambda p, mk: _weights(p, mk, "shape"), ("--weights", "shape.safetensors"), 1,
        "shape.safetensors: its tensors do not match the plain_unet architecture"),
}

TINY = {"arch": "plain_unet", "num_bins": 16, "channels": [8, 8, 8, 8, 8]}


def _weights(folder: Path, make_clip, kind: str) -> Path:
    """A clip, and beside it a --weights file that is wrong in the way ``kind`` says."""
    from safetensors.torch import save_file

    from vidcolor.models import build_model, save_model

    wide = {**TINY, "channels": [16, 8, 8, 8, 8]}
    if kind == "pt":
        torch.save(build_model(TINY).state_dict(), folder / "model.pt")
    elif kind == "bare":
        save_file({"w": torch.zeros(2)}, str(folder / "bare.safetensors"))
    elif kind == "arch":
        save_model(build_model(TINY), {**TINY, "arch": "resnet"}, folder / "arch.safetensors")
    elif kind == "config":
        save_model(build_model(TINY), {**TINY, "depth": 3}, folder / "config.safetensors")
    else:
        save_model(build_model(wide), TINY, folder / "shape.safetensors")
    return _clip(folder, make_clip)


def _text(path: Path) -> Path:
    path.write_text("hello\n")
    return path


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_inputs(tmp_path, make_clip, tiny_weights, capsys, monkeypatch, case):
    make, extra, code, words = BAD_INPUTS[case]
    monkeypatch.chdir(tmp_path)
    src = make(tmp_path, make_clip)
    before = {p.name for p in tmp_path.iterdir()}
    assert main([str(src), *FAST, "--weights", str(tiny_weights), *extra]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vidcolor: error: "), err
    assert words in err, err
    assert leftovers(tmp_path, before) == []


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(__import__("os"), "geteuid")
                    or __import__("os").geteuid() == 0, reason="root reads any file")
def test_unreadable_input(tmp_path, make_clip, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    src.chmod(0)
    assert main([str(src), *FAST]) == 1
    assert capsys.readouterr().err.startswith("vidcolor: error: ")


def test_corrupt_frames_are_skipped_and_counted(tmp_path, make_clip, tiny_weights, capsys,
                                                caplog):
    src = make_clip(tmp_path / "in.mp4", frames=48, audio=False)
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(1).bytes(2000)
    src.write_bytes(bytes(data))
    assert main([str(src), "--weights", str(tiny_weights), "--json", *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["corrupt_frames_skipped"] > 0 and 0 < summary["frames"] < 48
    assert any("skipped" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_missing_weights(tmp_path, make_clip, capsys):
    assert main([str(_clip(tmp_path, make_clip)), "--weights", "none.safetensors"]) == 1
    assert "weights" in capsys.readouterr().err
    assert leftovers(tmp_path, {"in.mp4"}) == []


def test_existing_output_needs_y(tmp_path, make_clip, tiny_weights, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    dst = tmp_path / "taken.mp4"
    dst.write_bytes(b"precious")
    assert main([str(src), "-o", str(dst), "--weights", str(tiny_weights), *FAST]) == 1
    assert "-y" in capsys.readouterr().err and dst.read_bytes() == b"precious"
    assert main([str(src), "-o", str(dst), "-y", "--weights", str(tiny_weights), *FAST]) == 0
    assert dst.stat().st_size > 100


def test_image_gray_and_colour(tmp_path, tiny_weights, capsys):
    import cv2

    rgb = np.random.default_rng(0).integers(0, 255, (60, 90, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "photo.jpg"), rgb)
    cv2.imwrite(str(tmp_path / "scan.png"), rgb[..., 0])
    for name, out in (("photo.jpg", "photo_color.jpg"), ("scan.png", "scan_color.png")):
        assert main([str(tmp_path / name), "--weights", str(tiny_weights), *FAST]) == 0
        assert read_image(tmp_path / out).shape == (60, 90, 3)
    assert capsys.readouterr().err == ""


def test_folder_mirrors_tree_and_skips_a_bad_file(tmp_path, make_clip, tiny_weights, capsys):
    import cv2

    src = tmp_path / "reel"
    (src / "day1").mkdir(parents=True)
    make_clip(src / "day1" / "take.mp4", frames=6)
    cv2.imwrite(str(src / "still.png"), np.full((40, 40), 128, np.uint8))
    _text(src / "day1" / "broken.mp4")
    _text(src / "notes.txt")
    code = main([str(src), "--weights", str(tiny_weights), "--json", *FAST])
    out, err = capsys.readouterr()
    assert code == 1
    dst = tmp_path / "reel_color"
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()) == [
        "day1/take.mp4", "still.png", "vidcolor-manifest.jsonl"
    ]
    assert err.count("\n") == 1 and "broken.mp4" in err
    summary = json.loads(out)
    assert len(summary["files"]) == 2 and len(summary["failed"]) == 1


def test_live_seam_rejects_several_outputs_for_files(tmp_path, make_clip, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    assert main([str(src), "-o", "a.mp4", "-o", "b.mp4"]) == 2
    assert capsys.readouterr().err.startswith("vidcolor: error: ")


def test_live_refuses_look_ahead(capsys):
    assert main(["udp://127.0.0.1:9", "--temporal", "bidirectional"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "live runs cannot" in err


def test_live_refuses_hardware_decoding(capsys):
    assert main(["udp://127.0.0.1:9", "--hwdec", "cuda"]) == 2
    assert "--hwdec is for files" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_hardware_decoding_without_a_gpu_is_a_clear_error(tmp_path, make_clip, tiny_weights,
                                                          capsys):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    assert main([str(src), "--hwdec", "cuda", "--weights", str(tiny_weights), *FAST]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hardware decoding (cuda) is not available here" in err
    assert main([str(src), "--hwdec", "nosuch", *FAST]) == 1
    assert "not in this FFmpeg build" in capsys.readouterr().err
    assert leftovers(tmp_path, {"in.mp4"}) == []


def test_help_gives_every_option_a_description_and_its_default():
    from vidcolor.options import build_parser

    options = [a for a in build_parser()._actions
               if a.option_strings and a.dest not in ("help", "version")]
    assert len(options) > 25
    for action in options:
        assert action.help and "default" in action.help, action.option_strings
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "a multiple of 32 (default: 256)" in text
    assert "(default: 18 for files; live: 20 for recordings, 23 for restreams)" in text
    assert "(default: by the output's container: libx264 where H.264 fits" in text


def test_live_timeouts_keep_their_defaults(monkeypatch):
    """--timeout and --give-up-after are None until given; live runs get 5 and 60, and each
    output its container's codec."""
    import vidcolor.live

    seen = {}

    def fake_run_live(source, **kwargs):
        seen.update(timeout=source.read_timeout, give_up_after=kwargs["give_up_after"],
                    codec=kwargs["output"].codec)
        raise RuntimeError("stop here")

    monkeypatch.setattr(vidcolor.live, "run_live", fake_run_live)
    assert main(["udp://127.0.0.1:9"]) == 1
    assert seen == {"timeout": 5.0, "give_up_after": 60.0, "codec": None}
    assert main(["udp://127.0.0.1:9", "--timeout", "2", "--give-up-after", "7"]) == 1
    assert seen == {"timeout": 2.0, "give_up_after": 7.0, "codec": None}


def test_live_crf_is_checked_against_the_live_codec(capsys):
    assert main(["udp://127.0.0.1:9", "-o", "rtmp://127.0.0.1/app/key", "--crf", "60"]) == 2
    assert "outside libx264's scale, 0 to 51" in capsys.readouterr().err


def test_a_video_piped_in_on_standard_input(tmp_path, make_clip, tiny_weights, packet_digest):
    """``ffmpeg ... -f matroska - | vidcolor - -o out.mkv``: '-' was "input - does not exist".
    Every frame and the sound come through; without -o, or with a file-only option, it is a
    usage error."""
    src = make_clip(tmp_path / "in.mkv", frames=24)
    with open(src, "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "vidcolor", "-", "-o", str(tmp_path / "out.mkv"),
             "--weights", str(tiny_weights), *FAST], stdin=stdin, capture_output=True,
            text=True, timeout=240, env=cli_env())
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "out.mkv")) as out:
        assert sum(1 for _ in out.decode(video=0)) == 24
    assert packet_digest(tmp_path / "out.mkv", "audio") == packet_digest(src, "audio")
    for extra, words in [((), "needs -o OUTPUT"), (("-o", "x.mkv", "--resume"), "not standard"),
                         (("-o", "-"), "standard output ('-o -') is not one")]:
        result = run_cli("-", *extra, "--weights", tiny_weights)
        assert result.returncode == 2 and words in result.stderr


@pytest.fixture
def web_server(tmp_path):
    """tmp_path/web served over HTTP (Python's server: no byte ranges, so no seeking); its
    private/ folder only to the user agent "vidcolor-test" (403 otherwise)."""
    import functools
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if "/private/" in self.path and self.headers["User-Agent"] != "vidcolor-test":
                self.send_error(403)
            else:
                super().do_GET()

    root = tmp_path / "web"
    root.mkdir()
    handler = functools.partial(Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_video_on_a_web_server_is_colorized_as_a_file(tmp_path, make_clip, tiny_weights,
                                                          packet_digest, video_pts, web_server,
                                                          capsys):
    """``vidcolor https://…/film.mkv -o out.mkv`` was run as a live source: paced to real time,
    frames dropped (53 of 67 on a cut clip) and timestamps restarted. A video with a duration
    at an http(s) URL is now a file: every frame, its timestamps and its sound."""
    root, base = web_server
    src = make_clip(root / "film.mkv", frames=30)
    out = tmp_path / "out.mkv"
    url = f"http://user:s3cret@{base[7:]}/film.mkv?token=abc123"
    assert main([url, "-o", str(out), "--weights", str(tiny_weights), *FAST, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == f"http://***@{base[7:]}/film.mkv?token=***"
    assert video_pts(out) == video_pts(src)
    assert packet_digest(out, "audio") == packet_digest(src, "audio")
    for extra, words in [((), "needs -o OUTPUT"), (("-o", "x.mkv", "--resume"), "not a URL")]:
        result = run_cli(f"{base}/film.mkv", *extra, "--weights", tiny_weights)
        assert result.returncode == 2 and words in result.stderr
    # A transport stream served whole has a length but no duration: a file too, read once
    # (as a live source it was played again from the start at every "reconnection", forever).
    make_clip(root / "film.ts", frames=30)
    result = run_cli(f"{base}/film.ts", "-o", tmp_path / "ts.mkv", "--weights", tiny_weights,
                     *FAST, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(video_pts(tmp_path / "ts.mkv")) == 30
    # What is printed keeps a URL's password and token out.
    _audio_only(root / "sound.m4a")
    result = run_cli(f"http://user:s3cret@{base[7:]}/sound.m4a?token=abc123", "-o",
                     tmp_path / "x.mkv", "--weights", tiny_weights)
    assert result.returncode == 1 and "no video stream" in result.stderr
    assert "s3cret" not in result.stderr and "abc123" not in result.stderr
    # --input-option opens it (a server that wants its own user agent), still as a file.
    (root / "private").mkdir()
    (root / "private" / "film.mkv").write_bytes(src.read_bytes())
    out = tmp_path / "private.mkv"
    assert main([f"{base}/private/film.mkv", "-o", str(out), "--input-option",
                 "user_agent=vidcolor-test", "--weights", str(tiny_weights), *FAST]) == 0
    assert video_pts(out) == video_pts(src)
    # A file:// URL is a local file, checked as one: it can never overwrite its input.
    before = src.read_bytes()
    assert main([src.as_uri(), "-o", str(src), "-y", "--weights", str(tiny_weights)]) == 1
    assert src.read_bytes() == before


def test_version_is_the_package_version():
    from vidcolor import __version__

    result = run_cli("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"vidcolor {__version__}")


def test_help_is_fast_and_torch_free():
    code = "import sys; from vidcolor.cli import build_parser; build_parser(); " \
           "assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=cli_env(), timeout=60)


def _start_long_run(tmp_path, make_clip, tiny_weights) -> subprocess.Popen:
    src = make_clip(tmp_path / "long.mp4", frames=1200, size=(160, 96))
    return subprocess.Popen(
        [sys.executable, "-m", "vidcolor", str(src), "--weights", str(tiny_weights), *FAST,
         "--batch", "2"],
        stderr=subprocess.PIPE, text=True,
        env={**cli_env(), "PYTHONFAULTHANDLER": "1"},  # an abort says why on stderr
        # a background job inherits SIGINT ignored (POSIX shells), and Python honours that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(proc: subprocess.Popen, ready, what: str) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        assert proc.poll() is None, f"exited {proc.returncode} before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"no {what} after 120 s"
        time.sleep(0.02)


def _interrupt(proc: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send ``signum``; returns the first stderr line and all of stderr, once it has exited."""
    sent = time.monotonic()
    proc.send_signal(signum)
    message = proc.stderr.readline()
    said = time.monotonic() - sent
    rest = proc.communicate(timeout=30)[1]
    err = message + rest
    assert proc.returncode == 130, f"exit status {proc.returncode}; stderr:\n{err}"
    assert "Fatal Python error" not in err and "terminate called" not in err, err
    assert said < 5.0, err  # stops within a second on an idle machine; CI shares two cores
    return message, err


def _partial_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_keeps_a_playable_partial(tmp_path, make_clip, tiny_weights, signum):
    proc = _start_long_run(tmp_path, make_clip, tiny_weights)
    # more than the muxer's first 32 KiB buffer out: video and audio are both flowing, so
    # frames are surely through the encoder, however loaded the machine is (an early flush
    # can hold only the header and the audio that came before the first frame)
    _wait_for(proc, lambda: any(p.stat().st_size > 32 * 1024
                                for p in tmp_path.glob(".long_color*")), "encoded frames")
    message, err = _interrupt(proc, signum)
    partial = tmp_path / "long_color.partial.mp4"
    assert str(partial) in message, err
    assert leftovers(tmp_path, set()) == ["long.mp4", partial.name], err
    assert 0 < _partial_frames(partial) < 1200


def test_ctrl_c_as_the_output_is_created(tmp_path, make_clip, tiny_weights):
    """Ctrl-C while the stage threads start and the first frames are on their way (this used
    to abort the process: the encoder thread was taken for finished while it still ran)."""
    proc = _start_long_run(tmp_path, make_clip, tiny_weights)
    _wait_for(proc, lambda: any(tmp_path.glob(".long_color*")), "the hidden output")
    message, err = _interrupt(proc, signal.SIGINT)
    partial = tmp_path / "long_color.partial.mp4"
    if "no output written" in message:
        assert leftovers(tmp_path, set()) == ["long.mp4"], err
    else:
        assert str(partial) in message, err
        assert leftovers(tmp_path, set()) == ["long.mp4", partial.name], err
        assert 0 < _partial_frames(partial) < 1200


def test_shipped_weights_when_present(tmp_path, make_clip):
    from vidcolor.models import default_weights_path

    if not default_weights_path().is_file():
        pytest.skip("no shipped weights in this checkout")
    src = make_clip(tmp_path / "in.mp4", frames=6)
    result = run_cli(src, "-q")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "in_color.mp4").stat().st_size > 100
    shutil.rmtree(tmp_path)


def test_quality_model_from_the_command(tmp_path, capsys):
    """--model quality loads the shipped ensemble; its colour differs from the fast model's
    while the luma stays the input's."""
    from vidcolor.models import shipped_model_path

    if not shipped_model_path("quality").is_file():
        pytest.skip("no shipped quality model in this checkout")
    from skimage import data

    from vidcolor.color import rgb_to_lab

    camera = data.camera()[::2, ::2]
    gray = tmp_path / "camera.png"
    assert cv2.imwrite(str(gray), camera)
    lab = {}
    for name in ("fast", "quality"):
        out = tmp_path / f"{name}.png"
        assert main([str(gray), "-o", str(out), "--model", name, "--engine", "torch", "-q"]) == 0
        rgb = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
        lab[name] = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    l_in = rgb_to_lab(np.repeat(camera[..., None], 3, -1).astype(np.float32) / 255, dim=-1)[..., 0]
    inside = (l_in > 15) & (l_in < 85)
    for name in lab:
        assert np.abs(lab[name][..., 0] - l_in)[inside].mean() < 1.0, name
    assert np.hypot(*lab["quality"][..., 1:].transpose(2, 0, 1)).mean() > 3  # colour was added
    assert np.abs(lab["fast"][..., 1:] - lab["quality"][..., 1:]).mean() > 0.5  # another model


@pytest.mark.parametrize("name", ["opencv_samples__tree.avi", "opencv_samples__vtest.avi"])
def test_real_clips_through_the_command(tmp_path, shared_videos, tiny_weights, video_pts, name):
    """cinepak (RGB) and MPEG-4 part 2 inputs from the shared clips, first 10 frames."""
    src = shared_videos / name
    if not src.exists():
        pytest.skip(f"{name} not in the shared clips")
    dst = tmp_path / "out.mp4"
    result = run_cli(src, "-o", dst, "--weights", tiny_weights, "--frames", "10", *FAST)
    assert result.returncode == 0, result.stderr
    assert video_pts(dst) == video_pts(src)[:10]


def test_demo(tmp_path, tiny_weights, capsys):
    from vidcolor import demo

    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--weights", str(tiny_weights)]) == 0
    assert "side_by_side.mp4" in capsys.readouterr().out
    frames = demo.FRAMES_PER_PHOTO * len(demo.PHOTOS)
    for name, width in (("gray.mp4", 320), ("vidcolor.mp4", 320), ("side_by_side.mp4", 960)):
        with av.open(str(out / name)) as container:
            assert {s.type for s in container.streams} == {"video", "audio"}
            decoded = list(container.decode(video=0))
        assert len(decoded) == frames and decoded[0].width == width


def _faststart(src: Path, dst: Path) -> Path:
    """Remux ``src`` with the index first (``movflags=faststart``), as web and camera MP4s are."""
    with av.open(str(src)) as inp, av.open(str(dst), "w",
                                           options={"movflags": "faststart"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream_index]
                out.mux(packet)
    return dst


def test_a_cut_input_is_colorized_as_far_as_it_goes_and_says_so(tmp_path, make_clip,
                                                                 tiny_weights, capsys, caplog):
    whole = _faststart(make_clip(tmp_path / "whole.mp4", frames=96), tmp_path / "fast.mp4")
    src = tmp_path / "cut.mp4"
    src.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # a half download
    dst = tmp_path / "out.mp4"
    assert main([str(src), "-o", str(dst), "--weights", str(tiny_weights), "--json", *FAST]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert "ends early" in summary["input_ends_early"] and "of 96" in summary["input_ends_early"]
    assert 0 < summary["frames"] < 96
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("ends early" in w and str(dst) in w for w in warnings)
    with av.open(str(dst)) as container:  # kept, and playable
        assert sum(1 for _ in container.decode(video=0)) == summary["frames"]


def test_an_early_stop_by_choice_is_not_a_cut_input(tmp_path, make_clip, tiny_weights, capsys):
    src = _faststart(make_clip(tmp_path / "whole.mp4", frames=24), tmp_path / "fast.mp4")
    assert main([str(src), "--frames", "5", "--weights", str(tiny_weights), "--json",
                 *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["input_ends_early"] is None
