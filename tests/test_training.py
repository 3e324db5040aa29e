"""training/: datasets, degradations, bins, loss, metrics, and the train/export/evaluate CLIs."""

import itertools
import json
import os
import pickle
import signal

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from training import bins, calibrate, degrade, export, metrics, pack, train
from training import compare as tcompare
from training import data as tdata
from training import evaluate as tevaluate
from training import validate as tvalidate
from vidcolor.color import rgb_to_lab
from vidcolor.models import build_model, load_model, read_config

TINY_CONFIG = json.dumps({"arch": "plain_unet", "channels": [4, 8, 8]})


@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos" / "nested"
    folder.mkdir(parents=True)
    for name, img in [("astronaut", data.astronaut()), ("coffee", data.coffee()),
                      ("chelsea", data.chelsea())]:
        cv2.imwrite(str(folder / f"{name}.jpg"), cv2.cvtColor(img[::3, ::3], cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not an image")
    return tmp_path / "photos"


def write_cifar_batch(folder, count=5):
    """A batch file in CIFAR-10's exact python format: a pickled dict of bytes keys."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {b"batch_label": b"training batch 1 of 5",
             b"labels": list(rng.integers(0, 10, count)),
             b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
             b"filenames": [f"img{i}.png".encode() for i in range(count)]}
    with open(folder / "data_batch_1", "wb") as handle:
        pickle.dump(batch, handle, protocol=2)
    return batch


def test_image_folder_is_recursive_and_yields_lab_pairs(photo_dir):
    images = tdata.load_images([photo_dir], short=80, holdout=False)
    assert len(images) == 3 and all(min(i.shape[:2]) == 80 for i in images)
    dataset = tdata.CropDataset(images, crop=64, degrade_p=0)
    lightness, ab = dataset[0]
    assert lightness.shape == (1, 64, 64) and ab.shape == (2, 64, 64)
    assert lightness.min() >= 0 and lightness.max() <= 100


def test_training_leaves_the_calibration_split_out(photo_dir):
    held = [p.name for p in sorted(photo_dir.rglob("*.jpg")) if tdata.in_calibration_split(p)]
    assert held == ["coffee.jpg"]  # by the file name's hash: the same on every machine
    assert len(tdata.load_images([photo_dir], short=80)) == 2
    assert [p.name for p, _ in tvalidate.photos(photo_dir, calibration=True)] == held


def test_archive_render_and_neutral_chroma():
    rgb = np.zeros((8, 16, 3), np.uint8)
    rgb[:, :8] = (200, 40, 40)  # red cloth
    rgb[:, 8:] = (128, 128, 128)  # a gray wall
    film = tvalidate.archive_gray_of(rgb)
    assert (film[..., 0] == film[..., 1]).all() and (film[..., 1] == film[..., 2]).all()
    assert film[0, 0, 0] < tvalidate.gray_of(rgb)[0, 0, 0] - 20  # red-blind: red goes dark
    assert metrics.score_image(tvalidate.gray_of(rgb), rgb).neutral_pixels == 64
    warm = rgb.copy()
    warm[:, 8:] = (150, 125, 100)  # the wall painted warm
    cast = metrics.summarize([metrics.score_image(warm, rgb)])["neutral_chroma"]
    assert cast > 10 and metrics.summarize([metrics.score_image(rgb, rgb)])["neutral_chroma"] < 1


def test_cifar10_batches_in_their_own_format(tmp_path):
    batch = write_cifar_batch(tmp_path / "cifar-10-batches-py")
    images = tdata.cifar10_images(tmp_path / "cifar-10-batches-py")
    assert len(images) == 5 and images[0].shape == (32, 32, 3)
    first = batch[b"data"][0]
    assert images[0][0, 0].tolist() == [first[0], first[1024], first[2048]]
    loaded = tdata.load_images([tmp_path / "cifar-10-batches-py"], short=40)
    assert len(loaded) == 5 and loaded[0].shape == (40, 40, 3)


def test_video_frames_are_sampled_across_the_clip(tmp_path, make_clip):
    clip = make_clip(tmp_path / "clip.mp4", frames=30, audio=False)
    frames = tdata.video_frames(clip, 4)
    assert len(frames) == 4 and frames[0].shape == (96, 160, 3)
    assert not np.array_equal(frames[0], frames[-1])


def test_pack_holds_what_training_reads_and_travels_small(tmp_path, photo_dir, make_clip):
    clips = tmp_path / "clips"
    clips.mkdir()
    make_clip(clips / "clip.mp4", frames=30, audio=False)
    out = tmp_path / "pack"
    count, size = pack.pack([photo_dir, clips], out, short=80, quality=75, frames_per_clip=4)
    assert count == 2 + 4  # coffee.jpg is in the calibration split: left out at packing
    assert sorted(p.name for p in (out / "photos").iterdir()) == ["astronaut.webp",
                                                                  "chelsea.webp"]
    assert sum(p.stat().st_size for p in out.rglob("*.webp")) == size
    # Read back as an image folder, with no second split taken out of it.
    packed = tdata.load_images([out], short=80)
    direct = tdata.load_images([photo_dir, clips], short=80, frames_per_clip=4)
    assert len(packed) == len(direct) == 6
    for a, b in zip(sorted(packed, key=np.mean), sorted(direct, key=np.mean), strict=True):
        assert a.shape == b.shape
        lab_a, lab_b = (rgb_to_lab(torch.from_numpy(x).permute(2, 0, 1).float() / 255)
                        for x in (a, b))
        error = lab_a[1:] - lab_b[1:]  # in ab units; the bins the network learns are 10 apart
        assert error.abs().mean() < 4 and error.mean(dim=(1, 2)).abs().max() < 1
    # An earlier pack is replaced; any other folder is refused.
    assert pack.pack([photo_dir], out, short=80, quality=75, frames_per_clip=4)[0] == 2
    with pytest.raises(SystemExit, match="not a pack"):
        pack.pack([photo_dir], photo_dir, short=80, quality=75, frames_per_clip=4)
    assert (photo_dir / "nested" / "coffee.jpg").exists()
    with pytest.raises(SystemExit, match="no such image or video folder"):
        pack.pack([tmp_path / "missing"], out, short=80, quality=75, frames_per_clip=4)
    assert len(list(out.rglob("*.webp"))) == 2  # a failed pack leaves the last one whole
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no images or clips under"):
        pack.main(["--data", str(tmp_path / "empty"), "--out", str(out)])


def test_crop_scale_draws_views_from_the_whole_picture_to_a_detail():
    rgb = cv2.resize(data.astronaut(), (128, 128), interpolation=cv2.INTER_AREA)
    whole = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    views = {tuple(tdata.to_lab_pair(np.ascontiguousarray(v))[0].flatten()[:64].tolist())
             for v in (whole, whole[:, ::-1])}
    always_whole = tdata.CropDataset([rgb], crop=64, degrade_p=0, min_share=1.0)
    assert all(tuple(always_whole[0][0].flatten()[:64].tolist()) in views for _ in range(8))
    zooming = tdata.CropDataset([rgb], crop=64, degrade_p=0, min_share=0.5)
    assert any(tuple(zooming[0][0].flatten()[:64].tolist()) not in views for _ in range(8))


def test_loader_workers_draw_their_own_crops():
    images = [data.astronaut()] * 8  # one photo: only the random stream tells samples apart
    dataset = tdata.CropDataset(images, crop=64, degrade_p=0.5, archive_p=0.5)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2,
                                         worker_init_fn=train.start_worker)
    first, second = (lightness for lightness, _ in itertools.islice(loader, 2))  # one a worker
    assert not torch.equal(first, second)


def test_loader_workers_leave_stop_signals_to_the_training_loop():
    """``kill -TERM -- -PGID`` (or SIGHUP from a closed session) reaches the loader processes
    too: one killed mid-step made the loop's checkpoint fail ("DataLoader worker is killed by
    signal") as it was being written."""
    dataset = tdata.CropDataset([data.astronaut()] * 8, crop=64, degrade_p=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=1,
                                         worker_init_fn=train.start_worker,
                                         persistent_workers=True)
    batches = iter(loader)
    next(batches)
    worker = batches._workers[0]
    for stop in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        os.kill(worker.pid, stop)
    worker.join(timeout=1.0)  # returns at once if the signals ended it
    assert worker.is_alive()
    assert next(batches)[0].shape == (2, 1, 64, 64)
    del batches


def test_train_from_a_pack_with_loader_workers(tmp_path, photo_dir):
    out = tmp_path / "pack"
    pack.main(["--data", str(photo_dir), "--out", str(out), "--short", "80"])
    run = tmp_path / "run"
    train.main(["--data", str(out), "--out", str(run), "--config", TINY_CONFIG, "--batch", "2",
                "--crop", "64", "--steps", "2", "--workers", "2"])
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 2


def test_schedule_fitted_to_the_minutes_at_the_measured_pace(tmp_path, photo_dir, monkeypatch):
    args = train.parse_args(["--data", "x", "--minutes", "10", "--steps", "1000",
                             "--decay-from", "500"])
    message = train.fit_schedule(args, first=20, step=140, elapsed=60.0)  # 2 steps a second
    assert (args.steps, args.decay_from) == (140 + 2 * (588 - 60), 1196 // 2)
    assert "--steps 1196 --decay-from 598" in message
    # In a run: fitted once the pace is known, and kept with the checkpoint for --resume.
    monkeypatch.setattr(train, "FIT_AFTER_S", 0.0)
    run = tmp_path / "run"
    train.main(["--data", str(photo_dir), "--out", str(run), "--config", TINY_CONFIG,
                "--batch", "2", "--crop", "64", "--steps", "100000", "--decay-from", "50000",
                "--minutes", "0.02", "--fit-minutes"])
    saved = json.loads(torch.load(run / "last.pt", weights_only=True)["args"])
    assert saved["steps"] < 100000 and saved["decay_from"] == saved["steps"] // 2


def test_lab_pair_uses_the_one_colour_definition():
    rgb = data.coffee()[:32, :32]
    lightness, ab = tdata.to_lab_pair(rgb)
    expected = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    np.testing.assert_allclose(lightness[0].numpy(), expected[..., 0], atol=1e-4)
    np.testing.assert_allclose(ab.permute(1, 2, 0).numpy(), expected[..., 1:], atol=1e-4)


def test_degradations_touch_only_lightness_and_stay_in_range():
    rng = np.random.default_rng(1)
    lightness = np.tile(np.linspace(0, 100, 64, dtype=np.float32), (64, 1))
    for fn in degrade.DEGRADATIONS:
        out = fn(lightness, rng)
        assert out.shape == lightness.shape and not np.allclose(out, lightness)
    assert degrade.degrade(lightness, rng, p=2.0).max() <= 100
    dataset = tdata.CropDataset([data.coffee()[::4, ::4]], crop=64, degrade_p=2.0, seed=3)
    clean = tdata.CropDataset([data.coffee()[::4, ::4]], crop=64, degrade_p=0.0, seed=3)
    (l1, ab1), (l2, ab2) = dataset[0], clean[0]
    torch.testing.assert_close(ab1, ab2)
    assert not torch.allclose(l1, l2)


def test_bins_prior_and_soft_targets():
    rng = np.random.default_rng(0)
    ab = torch.from_numpy(rng.normal(0, 20, (5000, 2))).float()
    centers, prior = bins.fit_bins(ab)
    assert len(centers) == len(prior) and prior.sum() == pytest.approx(1, abs=1e-5)
    weights = bins.rebalance_weights(prior, 0.5)
    assert (prior * weights).sum() == pytest.approx(1, abs=1e-4)
    assert weights[prior.argmin()] > weights[prior.argmax()]
    assert torch.allclose(bins.rebalance_weights(prior, 1.0), torch.ones_like(prior))
    idx, soft = bins.soft_targets(torch.zeros(1, 2, 3, 3), centers)
    assert torch.allclose(soft.sum(1), torch.ones(1, 3, 3))
    assert centers[idx[0, soft[0, :, 0, 0].argmax(), 0, 0]].abs().sum() == 0


def test_metrics_on_known_cases():
    rgb = data.astronaut()[::4, ::4]
    assert metrics.psnr(rgb, rgb) == float("inf")
    assert metrics.ab_auc(rgb, rgb) == pytest.approx(1.0)
    gray = np.repeat(rgb.mean(2, keepdims=True).astype(np.uint8), 3, 2)
    assert metrics.colourfulness(gray) == pytest.approx(0, abs=1e-9)
    assert metrics.colourfulness(rgb) > 20
    noisy = np.clip(rgb.astype(int) + 10, 0, 255).astype(np.uint8)
    assert 25 < metrics.psnr(noisy, rgb) < 30
    summary = metrics.summarize([metrics.score_image(gray, rgb)])
    assert summary["colourfulness_ratio"] == pytest.approx(0, abs=1e-6)
    assert 0.5 < summary["auc"] < 1


def test_train_resume_export_evaluate_end_to_end(tmp_path, photo_dir):
    run = tmp_path / "run"
    common = ["--data", str(photo_dir), "--out", str(run), "--config", TINY_CONFIG,
              "--batch", "2", "--crop", "64", "--checkpoint-every", "2"]
    train.main([*common, "--steps", "3"])
    first = torch.load(run / "last.pt", weights_only=True)
    assert first["step"] == 3
    train.main([*common, "--steps", "5", "--resume"])
    second = torch.load(run / "last.pt", weights_only=True)
    assert second["step"] == 5
    torch.testing.assert_close(first["centers"], second["centers"])

    weights = tmp_path / "model.safetensors"
    export.main(["--checkpoint", str(run / "last.pt"), "--out", str(weights), "--gain", "1.2"])
    config = read_config(weights)
    assert config["chroma_gain"] == 1.2 and config["num_bins"] == len(second["centers"])
    assert load_model(weights).head.chroma_gain == 1.2

    warm_run = tmp_path / "warm"
    train.main(["--data", str(photo_dir), "--out", str(warm_run), "--init", str(weights),
                "--batch", "2", "--crop", "64", "--steps", "1"])
    warm = torch.load(warm_run / "last.pt", weights_only=True)
    torch.testing.assert_close(warm["centers"], second["centers"])
    assert json.loads(warm["config"])["arch"] == "plain_unet"

    # From a run's last.pt, without --config: that run's architecture, bins and weights.
    from_checkpoint = tmp_path / "from-checkpoint"
    train.main(["--data", str(photo_dir), "--out", str(from_checkpoint), "--init",
                str(run / "last.pt"), "--batch", "2", "--crop", "64", "--steps", "1",
                "--lr", "0"])
    resumed = torch.load(from_checkpoint / "last.pt", weights_only=True)
    assert json.loads(resumed["config"]) == json.loads(second["config"])
    torch.testing.assert_close(resumed["centers"], second["centers"])
    torch.testing.assert_close(resumed["model"]["head.classifier.weight"],
                               second["model"]["head.classifier.weight"])

    sweep_json = tmp_path / "sweep.json"
    best = calibrate.main(["--weights", str(weights), "--data", str(photo_dir), "--size", "64",
                           "--temperatures", "1.0", "0.5", "--gains", "1.0", "1.5",
                           "--json", str(sweep_json)])
    swept = json.loads(sweep_json.read_text())["results"]
    assert len(swept) == 5 and "gray" in swept
    assert best in [(t, g) for t in (1.0, 0.5) for g in (1.0, 1.5)]

    out_json, grid = tmp_path / "eval.json", tmp_path / "grid.png"
    tevaluate.main(["--weights", str(weights), "--data", str(photo_dir), "--size", "64",
                    "--render", "eye", "archive", "--json", str(out_json), "--grid", str(grid),
                    "--grid-count", "2"])
    both = json.loads(out_json.read_text())["results"]
    assert both[f"{photo_dir} [archive]"]["gray"]["images"] == 3
    results = both[str(photo_dir)]
    assert results["gray"]["colourfulness_ratio"] < 0.01
    assert results["model"]["images"] == results["gray"]["images"] == 3
    assert cv2.imread(str(grid)).shape[0] > 100
    report = tcompare.main(["--candidate", str(weights), "--baseline", str(weights), "--data",
                            str(photo_dir), "--size", "64", "--gains", "1.0", "1.5", "--out",
                            str(tmp_path / "cmp")])
    for name in (photo_dir.name, f"{photo_dir.name} [archive]"):
        rows = report["sets"][name]["rows"]
        assert [r["gain"] for r in rows] == [1.0, 1.5]
        for r in rows:  # a model against itself: the same figures at the same colourfulness
            assert r["baseline_psnr"] == pytest.approx(r["psnr"], abs=1e-6)
            assert r["baseline_neutral_chroma"] == pytest.approx(r["neutral_chroma"], abs=1e-6)
    assert "| gray |" in (tmp_path / "cmp.md").read_text()
    # A model is drawn at the temperature its file decodes at (a product ensemble's is its own).
    cool = tmp_path / "cool.safetensors"
    export.main(["--checkpoint", str(run / "last.pt"), "--out", str(cool), "--temperature", "0.5"])
    report = tcompare.main(["--candidate", str(cool), "--baseline", str(cool), "--data",
                            str(photo_dir), "--size", "64", "--gains", "1.0", "1.5", "--render", "eye"])
    drawn = report["sets"][photo_dir.name]["candidate_curve"]["1.5"]["colourfulness_ratio"]
    by_temperature = calibrate.sweep(load_model(cool), [str(photo_dir)], None, 64, [0.5, 1.0],
                                     [1.5], calibration=False)
    assert drawn == pytest.approx(by_temperature[(0.5, 1.5)]["colourfulness_ratio"], abs=1e-9)
    assert drawn != pytest.approx(by_temperature[(1.0, 1.5)]["colourfulness_ratio"], abs=1e-3)
    film_grid = cv2.imread(str(tmp_path / "grid_archive.png"))
    assert film_grid.shape == cv2.imread(str(grid)).shape
    assert not np.array_equal(film_grid, cv2.imread(str(grid)))  # grayed as film, not as the eye


def test_neutral_grid_picks_the_photos_nearest_gray(tmp_path):
    stone = np.full((32, 48, 3), 128, np.uint8)
    stone[:8] = (200, 40, 40)  # a quarter of it red
    for name, img in [("red", np.full((32, 48, 3), (200, 40, 40), np.uint8)), ("stone", stone),
                      ("sky", np.full((32, 48, 3), (90, 150, 230), np.uint8))]:
        cv2.imwrite(str(tmp_path / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert tevaluate.neutral_share(stone) == pytest.approx(0.75)
    picked = tevaluate.grid_photos(tmp_path, 1, "neutral")
    assert len(picked) == 1 and np.array_equal(picked[0], stone)
    assert len(tevaluate.grid_photos(tmp_path, 3, "spread")) == 3


def test_gan_critic_learns_alone_first_then_beside_the_network(tmp_path, photo_dir):
    base = tmp_path / "base"
    common = ["--data", str(photo_dir), "--batch", "2", "--crop", "64", "--checkpoint-every", "1"]
    train.main([*common, "--out", str(base), "--config", TINY_CONFIG, "--steps", "1"])
    run = tmp_path / "gan"
    gan = [*common, "--out", str(run), "--init", str(base / "last.pt"), "--gan",
           "--config", TINY_CONFIG,
           "--gan-warmup", "2"]
    train.main([*gan, "--steps", "2"])
    warm = torch.load(run / "last.pt", weights_only=True)
    start = torch.load(base / "last.pt", weights_only=True)
    for key, value in start["model"].items():  # warm-up: the network only predicts
        torch.testing.assert_close(warm["model"][key], value)
    assert warm["critic"] and warm["critic_optimizer"]["state"]  # the critic has learned

    train.main([*gan, "--steps", "3", "--resume"])
    after = torch.load(run / "last.pt", weights_only=True)
    assert after["step"] == 3
    changed = [k for k, v in after["model"].items()
               if v.is_floating_point() and not torch.equal(v, warm["model"][k])]
    assert changed  # past the warm-up the network learns too
    assert any(not torch.equal(v, warm["critic"][k]) for k, v in after["critic"].items())

def test_gan_and_teachers_do_not_go_with_the_gate_objective(capsys):
    for option in (["--gan"], ["--teacher", "t.safetensors"]):
        with pytest.raises(SystemExit):
            train.parse_args(["--data", "x", *option, "--objective", "gate"])
        assert "not with --objective gate" in capsys.readouterr().err


def test_teachers_give_their_mean_distribution_over_the_students_bins():
    from training.distill import Teachers

    def tiny(centers, favourite):
        model = build_model({"arch": "plain_unet", "channels": [4, 8, 8],
                             "num_bins": len(centers)})
        model.head.bin_centers.copy_(centers)
        with torch.no_grad():
            model.head.classifier.weight.zero_()
            model.head.classifier.bias.fill_(-30)
            model.head.classifier.bias[favourite] = 30  # all mass on one bin
        return model

    student = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    other = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 10.0], [0.0, 20.0]])  # bins it lacks
    teachers = Teachers([tiny(student, 1), tiny(other, 3)], student)
    teachers.train()  # teachers stay in eval mode whatever the loop asks
    assert not any(m.training for m in teachers.modules())
    probs = teachers(torch.full((2, 1, 16, 16), 50.0), (8, 8))
    assert probs.shape == (2, 3, 8, 8)
    torch.testing.assert_close(probs.sum(1), torch.ones(2, 8, 8))
    # half on the first teacher's (10, 0); half on (0, 20), whose nearest student bin is (0, 10)
    torch.testing.assert_close(probs[:, :, 0, 0], torch.tensor([[0.0, 0.5, 0.5]] * 2),
                               atol=1e-6, rtol=0)


def test_teachers_as_a_product_share_the_bins_they_all_have():
    """--teacher-combine product: the teachers' geometric mean on the student's bins, at the
    temperature asked; a student bin a teacher lacks gets nothing."""
    from training.distill import Teachers

    torch.manual_seed(0)
    student = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [-10.0, 0.0]])
    other = torch.tensor([[0.0, 10.0], [0.0, 0.0], [10.0, 0.0], [30.0, 30.0]])  # lacks (-10, 0)
    models = []
    for centers in (student, other):
        model = build_model({"arch": "plain_unet", "channels": [4, 8, 8], "num_bins": 4}).eval()
        model.head.bin_centers.copy_(centers)
        models.append(model)
    L = torch.rand(2, 1, 16, 16) * 100
    with torch.no_grad():
        first, second = (m.head.logits(m.features(L)) for m in models)
    probs = Teachers(models, student, "product", temperature=0.5)(L, first.shape[-2:])
    shared = (torch.log_softmax(first[:, :3], 1) + torch.log_softmax(second[:, [1, 2, 0]], 1)) / 2
    expected = torch.cat((torch.softmax(shared / 0.5, 1), torch.zeros_like(first[:, :1])), 1)
    torch.testing.assert_close(probs, expected, atol=1e-6, rtol=0)


def test_distillation_target_blends_truth_and_teachers():
    from training.losses import BinnedCrossEntropy

    torch.manual_seed(0)
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [-10.0, 0.0],
                            [0.0, -10.0]])
    prior = torch.full((6,), 1 / 6)
    logits = torch.randn(1, 6, 4, 4)
    ab = torch.zeros(1, 2, 4, 4)
    teacher = torch.softmax(torch.randn(1, 6, 4, 4), dim=1)
    plain = BinnedCrossEntropy(centers, prior)(logits, ab)
    only_teacher = BinnedCrossEntropy(centers, prior, teacher_weight=1.0)(logits, ab, teacher)
    expected = -(torch.log_softmax(logits, 1) * teacher).sum(1).mean()
    torch.testing.assert_close(only_teacher, expected)
    blended = BinnedCrossEntropy(centers, prior, teacher_weight=0.7)(logits, ab, teacher)
    torch.testing.assert_close(blended, 0.3 * plain + 0.7 * expected)


def test_mean_term_charges_a_wash_not_a_split_on_gray_truth():
    """On gray truth, mass split between red and green (mean gray) costs the mean term
    nothing; all of it on red (a red wash) costs (20 / MEAN_AB_SCALE)^2 over the two channels."""
    from training.losses import MEAN_AB_SCALE, BinnedCrossEntropy

    centers = torch.tensor([[0.0, 0.0], [20.0, 0.0], [-20.0, 0.0], [0.0, 20.0], [0.0, -20.0],
                            [20.0, 20.0]])
    prior = torch.full((6,), 1 / 6)
    ab = torch.zeros(1, 2, 4, 4)
    split, wash = torch.full((2, 1, 6, 4, 4), -30.0)
    split[:, 1] = split[:, 2] = 0
    wash[:, 1] = 0
    for logits, cost in ((split, 0.0), (wash, (20 / MEAN_AB_SCALE) ** 2 / 2)):
        plain = BinnedCrossEntropy(centers, prior)(logits, ab)
        with_mean = BinnedCrossEntropy(centers, prior, mean_weight=1.0)(logits, ab)
        torch.testing.assert_close(with_mean - plain, torch.tensor(cost))


def test_neutral_weight_scales_only_the_truth_term_on_gray_truth():
    """Neutral weight K: a pixel whose truth is near gray costs 1 + K times its cross-entropy
    against the truth; a coloured pixel and the teachers' term are untouched."""
    from training.losses import BinnedCrossEntropy

    centers = torch.tensor([[0.0, 0.0], [20.0, 0.0], [-20.0, 0.0], [0.0, 20.0], [0.0, -20.0]])
    prior = torch.full((5,), 1 / 5)
    logits = torch.randn(1, 5, 2, 2, generator=torch.Generator().manual_seed(0))
    teacher = torch.softmax(torch.randn(1, 5, 2, 2, generator=torch.Generator().manual_seed(1)), 1)
    for truth, factor in (((1.0, -2.0), 3.0), ((20.0, 0.0), 1.0)):
        ab = torch.tensor(truth).view(1, 2, 1, 1).expand(1, 2, 2, 2)
        plain = BinnedCrossEntropy(centers, prior)(logits, ab)
        weighted = BinnedCrossEntropy(centers, prior, neutral_weight=2.0)(logits, ab)
        torch.testing.assert_close(weighted, factor * plain)
        taught = BinnedCrossEntropy(centers, prior, teacher_weight=0.7, neutral_weight=2.0)
        only_teacher = BinnedCrossEntropy(centers, prior, teacher_weight=1.0)(logits, ab, teacher)
        torch.testing.assert_close(taught(logits, ab, teacher), 0.3 * factor * plain + 0.7 * only_teacher)


def test_train_with_teachers_learns_from_them(tmp_path, photo_dir):
    base = tmp_path / "base"
    common = ["--data", str(photo_dir), "--batch", "2", "--crop", "64", "--checkpoint-every", "1",
              "--config", TINY_CONFIG]
    train.main([*common, "--out", str(base), "--steps", "2"])
    teacher = tmp_path / "teacher.safetensors"
    export.main(["--checkpoint", str(base / "last.pt"), "--out", str(teacher),
                 "--gain-about-mean", "--gain", "1.5"])
    assert read_config(teacher)["gain_about_mean"] is True
    assert load_model(teacher).head.gain_about_mean
    run = tmp_path / "student"
    train.main([*common, "--out", str(run), "--init", str(teacher), "--teacher", str(teacher),
                "--teacher-weight", "0.5", "--steps", "2"])
    student = torch.load(run / "last.pt", weights_only=True)
    assert student["step"] == 2
    assert "gain_about_mean" not in json.loads(student["config"])  # export decides the decode
    before = load_model(teacher).state_dict()
    assert any(v.is_floating_point() and not torch.equal(v, before[k])
               for k, v in student["model"].items())


def test_gain_curves_compare_at_equal_colourfulness():
    curve = {"gray": {}, "1": {"colourfulness_ratio": 0.5, "psnr": 24.0},
             "1.4": {"colourfulness_ratio": 0.9, "psnr": 22.0}}
    assert tcompare.at_colourfulness(curve, 0.7, "psnr") == pytest.approx(23.0)
    assert tcompare.at_colourfulness(curve, 1.0, "psnr") == pytest.approx(21.5)  # extrapolated
    assert tcompare.at_colourfulness(curve, 0.4, "psnr") == pytest.approx(24.5)


def test_model_config_is_json_or_a_file_of_it(tmp_path, capsys):
    """A config file's path was parsed as JSON: a traceback ("Expecting value")."""
    (tmp_path / "lite2.json").write_text(TINY_CONFIG)
    common = ["--data", str(tmp_path)]
    assert train.parse_args([*common, "--config", str(tmp_path / "lite2.json")]).config == \
        json.loads(TINY_CONFIG)
    assert train.parse_args([*common, "--config", TINY_CONFIG]).config == json.loads(TINY_CONFIG)
    with pytest.raises(SystemExit):
        train.parse_args([*common, "--config", str(tmp_path / "missing.json")])
    assert "not JSON nor a JSON file" in capsys.readouterr().err
