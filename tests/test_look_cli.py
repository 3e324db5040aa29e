"""The colourist controls from the command line: contact sheet, side by side, preset files,
the JSON summary's record of the look, and one-line usage errors for bad values."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from test_io_roundtrip import started_late
from test_pipeline_support import tiny_weights_fixture  # noqa: F401

import vidcolor
from vidcolor.cli import main
from vidcolor.look.sheet import CAPTION, COLUMNS, PAIR_WIDTH

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64", "-q")


@pytest.fixture(name="clip")
def clip_fixture(tmp_path, make_clip):
    return make_clip(tmp_path / "film.mp4", frames=48, size=(160, 96), fps=24)


def run(capsys, *args) -> tuple[int, dict | None, str]:
    """The command in this process: exit status, JSON summary (if any) and stderr."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_contact_sheet_spreads_samples_over_the_film(tmp_path, clip, tiny_weights, capsys):
    sheet = tmp_path / "sheet.png"
    code, summary, _ = run(capsys, clip, "--contact-sheet", sheet, "--samples", 5,
                           "--saturation", 0.5, "--weights", tiny_weights, "--json", *FAST)
    assert code == 0 and summary["samples"] == 5 and summary["look"]["saturation"] == 0.5
    times = summary["times"]
    assert times == sorted(times) and times[0] < 0.5 and times[-1] > 1.5  # 2 s film
    image = cv2.imread(str(sheet))
    tile_h = round(96 * PAIR_WIDTH / 320) + CAPTION  # one gray | colour pair and its caption
    rows = -(-5 // COLUMNS)
    assert image.shape == (rows * (tile_h + 4) + 4, COLUMNS * (PAIR_WIDTH + 4) + 4, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4", "sheet.png"]


def test_contact_sheet_times_count_from_the_films_start(tmp_path, make_clip, tiny_weights,
                                                        capsys):
    """A clip whose clock starts an hour in (a camcorder's; an MPEG-TS's, 1.4 s in): its sheet
    was labelled 1:00:01, its colorized file (which starts at zero) and players 0:00:01."""
    plain = make_clip(tmp_path / "plain.ts", frames=48, size=(160, 96), fps=24)
    clip = started_late(plain, tmp_path / "film.ts", 3600)
    code, summary, _ = run(capsys, clip, "--contact-sheet", tmp_path / "sheet.png", "--samples",
                           4, "--weights", tiny_weights, "--json", *FAST)
    assert code == 0 and 0 <= summary["times"][0] < 0.5 and 1.5 < summary["times"][-1] < 2


@pytest.mark.parametrize(("rotation", "sar", "shown"), [
    (90, None, (160, 96)), (-90, None, (160, 96)), (0, Fraction(2, 1), (96, 320))])
def test_contact_sheet_shows_frames_as_players_do(tmp_path, make_clip, tiny_weights, capsys,
                                                  rotation, sar, shown):
    """A phone clip (display matrix) stands upright; anamorphic pixels are stretched. The gray
    half matches the frame the ``ffmpeg`` command shows (it turns and, with ``scale``,
    stretches), so the direction is right too."""
    clip = make_clip(tmp_path / "phone.mp4", frames=24, size=(160, 96), rotation=rotation or None,
                     sar=sar)
    sheet = tmp_path / "sheet.png"
    code, _, _ = run(capsys, clip, "--contact-sheet", sheet, "--samples", 1,
                     "--weights", tiny_weights, *FAST)
    assert code == 0
    h, w = shown
    tile = cv2.cvtColor(cv2.imread(str(sheet)), cv2.COLOR_BGR2GRAY)[4:-4 - CAPTION, 4:-4]
    assert tile.shape == (round(h * PAIR_WIDTH / (2 * w)), PAIR_WIDTH)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("no ffmpeg command to show the frame as players do")
    shown_png = tmp_path / "shown.png"  # the sample: frame 12, the middle of the 1 s clip
    subprocess.run([ffmpeg, "-v", "error", "-i", str(clip), "-vf",
                    "select=eq(n\\,12),scale=iw*sar:ih,format=gray", "-frames:v", "1",
                    str(shown_png)], check=True)
    upright = cv2.imread(str(shown_png), cv2.IMREAD_GRAYSCALE)
    assert upright.shape == shown
    expected = cv2.resize(upright, (PAIR_WIDTH // 2, tile.shape[0]), interpolation=cv2.INTER_AREA)
    gray_half = tile[:, :PAIR_WIDTH // 2].astype(float)
    assert np.abs(gray_half - expected).mean() < 6
    assert np.abs(gray_half - np.rot90(expected, 2)).mean() > 20  # not upside down


def test_contact_sheet_from_python(tmp_path, clip, tiny_weights):
    spec = vidcolor.ModelSpec(weights=str(tiny_weights), engine="torch", device="cpu", size=64)
    summary = vidcolor.contact_sheet(clip, tmp_path / "s.jpg", model=spec, samples=2,
                                     look=vidcolor.LookSpec(enhance="clahe=2"))
    assert summary["samples"] == 2 and (tmp_path / "s.jpg").is_file()


def test_side_by_side_is_gray_beside_colour(tmp_path, clip, tiny_weights, capsys):
    out = tmp_path / "review.mp4"
    code, summary, _ = run(capsys, clip, "-o", out, "--side-by-side", "--warmth", 20,
                           "--weights", tiny_weights, "--json", *FAST)
    assert code == 0 and summary["frames"] == 48
    with av.open(str(out)) as container:
        assert container.streams.audio  # through the normal writer: the sound is kept
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 48 and frames[0].shape == (96, 320, 3)
    left, right = frames[10][:, 8:150].astype(int), frames[10][:, 168:312].astype(int)
    assert np.abs(left[..., 0] - left[..., 2]).mean() < 2  # gray
    assert (right[..., 0] - right[..., 2]).mean() > 10  # warmth: yellower


def test_preset_file_round_trip_and_the_command_line_wins(tmp_path, clip, tiny_weights, capsys):
    import cv2
    from skimage import data

    folder = tmp_path / "looks"
    folder.mkdir()
    cv2.imwrite(str(folder / "still.png"), data.coffee()[..., ::-1])
    (folder / "archive.toml").write_text(
        'saturation = 1.4\nwarmth = 6\nreference = "still.png"\n'
        'enhance = "sharpen=0.5, clahe=2"\nnegative = true\n')
    code, summary, _ = run(capsys, clip, "--preset-file", folder / "archive.toml",
                           "--warmth", -3, "--no-negative", "--frames", 4,
                           "--weights", tiny_weights, "--json", *FAST)
    assert code == 0
    assert summary["look"] == {"saturation": 1.4, "warmth": -3.0, "tint": 0.0,
                               "reference": str(folder / "still.png"),
                               "enhance": "clahe=2,sharpen=0.5", "negative": False}


BAD = {
    "negative saturation": (("--saturation", "-1"), "saturation must be within"),
    "unreadable reference": (("--reference", "missing.jpg"), "cannot read"),
    "unknown enhance step": (("--enhance", "blur=3"), "unknown enhance step 'blur'"),
    "samples without a sheet": (("--samples", "4"), "--samples goes with --contact-sheet"),
    "sheet and side by side": (("--contact-sheet", "s.jpg", "--side-by-side"), "only the sheet"),
    "bad preset key": (("--preset-file", "PRESET"), "unknown key 'glow'"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_values_are_one_line_usage_errors(tmp_path, clip, capsys, case):
    extra, words = BAD[case]
    (tmp_path / "bad.toml").write_text("glow = 2\n")
    extra = [str(tmp_path / "bad.toml") if a == "PRESET" else a for a in extra]
    code, _, err = run(capsys, clip, *extra, *FAST)
    assert code == 2 and err.count("\n") == 1 and words in err, err


def test_review_outputs_refuse_stills_and_live_inputs(tmp_path, capsys):
    still = tmp_path / "scan.png"
    cv2.imwrite(str(still), np.zeros((32, 32), np.uint8))
    code, _, err = run(capsys, still, "--side-by-side", *FAST)
    assert code == 2 and "video files" in err
    code, _, err = run(capsys, "udp://127.0.0.1:9", "--contact-sheet", "s.jpg", *FAST)
    assert code == 2 and "not live runs" in err
