"""Train a colorization model: ``python -m training.train --data DIR --out RUN``.

Resumable by design, because the machines that train it are small: the run
folder (``runs/NAME`` by default, ignored by git) holds ``last.pt`` with the
model, optimizer, step and data bins; ``--resume`` continues from it, and
``--minutes`` stops cleanly with a checkpoint so a run can span sessions.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch.utils.data import DataLoader

from vidcolor.models import build_model, load_model, read_config

from .bins import fit_bins
from .data import CropDataset, cached_images
from .losses import BinnedCrossEntropy
from .pretrained import load_imagenet_encoder
from .validate import quick_validation

DECODE_KEYS = ("num_bins", "temperature", "chroma_gain")  # set by the data and by export
DEFAULT_CONFIG = {"arch": "effnet_lite0_unet", "decoder_channels": [128, 64, 48, 32]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    p.add_argument("--data", nargs="+", required=True, help="image folders, video folders, CIFAR-10")
    p.add_argument("--val", help="validation image folder (a few images scored at checkpoints)")
    p.add_argument("--out", default="runs/default", help="run folder (checkpoints, log)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", help="warm start from a run's last.pt or a model file (.safetensors)")
    p.add_argument("--config", default=json.dumps(DEFAULT_CONFIG), help="model config (JSON)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-from", type=int, default=0,
                   help="cosine-decay the learning rate from this step to zero at --steps")
    p.add_argument("--lam", type=float, default=1.0, help="rebalancing: 1 none, 0.5 Zhang et al.")
    p.add_argument("--degrade", type=float, default=0.5, help="share of samples with L degradations")
    p.add_argument("--archive", type=float, default=0.0,
                   help="share of samples whose L is a random archive film render (training.film)")
    p.add_argument("--freeze", type=int, default=3, help="encoder blocks (after the stem) kept frozen")
    p.add_argument("--frames-per-clip", type=int, default=8)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    return p.parse_args(argv)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def sample_ab(images: list[np.ndarray], count: int, seed: int) -> torch.Tensor:
    """Random ab pixels from the training images, to fit the bins and their prior."""
    from vidcolor.color import rgb_to_lab

    rng = np.random.default_rng(seed)
    per = max(1, count // len(images))
    pixels = []
    for img in images:
        flat = img.reshape(-1, 3)
        pixels.append(flat[rng.integers(0, len(flat), per)])
    rgb = torch.from_numpy(np.concatenate(pixels)).float() / 255
    return rgb_to_lab(rgb, dim=-1)[:, 1:]


def learning_rate(base: float, step: int, decay_from: int, steps: int) -> float:
    """Linear warm-up over 200 steps, then constant until ``decay_from``, then cosine to zero.

    A function of the step alone, so a resumed run continues the same schedule; a
    fine-tuning continuation sets ``decay_from`` to the step it resumes at.
    """
    warmup = min(1.0, (step + 1) / 200)
    progress = min(1.0, max(0.0, (step - decay_from) / max(1, steps - decay_from)))
    return base * warmup * 0.5 * (1.0 + math.cos(math.pi * progress))


def freeze_encoder(model: torch.nn.Module, blocks: int) -> list[torch.nn.Module]:
    """Freeze the stem and the first ``blocks`` blocks: generic edges, costly at full size."""
    if blocks <= 0 or not hasattr(model.encoder, "stem"):
        return []
    frozen = [model.encoder.stem, *model.encoder.blocks[:blocks]]
    for module in frozen:
        module.requires_grad_(False)
    return frozen


def make_model(config: dict, centers: torch.Tensor, pretrained: bool) -> torch.nn.Module:
    model = build_model({**config, "num_bins": len(centers)})
    model.head.bin_centers.copy_(centers)
    if pretrained and config["arch"] == "effnet_lite0_unet":
        load_imagenet_encoder(model.encoder)
    return model


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    checkpoint_path = out / "last.pt"
    state = torch.load(checkpoint_path, weights_only=True) if args.resume else None
    images = cached_images(args.data, short=int(args.crop * 1.25), cache_dir=Path("runs/cache"),
                           frames_per_clip=args.frames_per_clip)
    print(f"{len(images)} training images from {', '.join(map(str, args.data))}")

    warm = load_model(args.init) if args.init and args.init.endswith(".safetensors") else None
    if state is not None:
        config = json.loads(state["config"])
        centers, prior = state["centers"], state["prior"]
    elif warm is not None:  # a shipped model file: keep its architecture and bins
        config = {k: v for k, v in read_config(args.init).items() if k not in DECODE_KEYS}
        centers = warm.head.bin_centers.clone()
        centers, prior = fit_bins(sample_ab(images, 400_000, args.seed), centers=centers)
    else:
        config = json.loads(args.config)
        centers, prior = fit_bins(sample_ab(images, 400_000, args.seed))
    model = make_model(config, centers, pretrained=state is None and not args.init)
    if warm is not None:
        model.load_state_dict(warm.state_dict())
    elif args.init:
        model.load_state_dict(torch.load(args.init, weights_only=True)["model"])
    frozen = freeze_encoder(model, args.freeze)
    model.to(device)
    criterion = BinnedCrossEntropy(centers, prior, args.lam).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(enabled=use_amp)

    def save() -> None:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "config": json.dumps(config), "centers": centers, "prior": prior,
                    "args": json.dumps(vars(args))}, out / "last.tmp")
        (out / "last.tmp").replace(checkpoint_path)

    dataset = CropDataset(images, args.crop, args.degrade, seed=args.seed + step,
                          archive_p=args.archive)
    loader = DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True)
    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    started = time.monotonic()
    log = open(out / "log.jsonl", "a")  # noqa: SIM115 - open for the whole run
    columns = (TextColumn("step"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task("train", total=args.steps, completed=step, info="")
        running = None
        while step < args.steps and not stop["now"]:
            for lightness, ab in loader:
                model.train()
                for module in frozen:
                    module.eval()
                lr = learning_rate(args.lr, step, args.decay_from, args.steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with torch.autocast(device.type, enabled=use_amp):
                    logits = model.head.logits(model.features(lightness.to(device)))
                loss = criterion(logits, ab.to(device))
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                step += 1
                running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
                elapsed = time.monotonic() - started
                progress.update(task, completed=step, info=f"loss {running:.3f}  lr {lr:.1e}")
                out_of_time = args.minutes and elapsed > args.minutes * 60
                if step % args.checkpoint_every == 0 or step >= args.steps or out_of_time or stop["now"]:
                    save()
                    record = {"step": step, "loss": running, "minutes": elapsed / 60}
                    if args.val and step % args.checkpoint_every == 0:
                        record.update(quick_validation(model, args.val))
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    progress.console.print(record)
                if step >= args.steps or out_of_time or stop["now"]:
                    stop["now"] = True
                    break
    print(f"stopped at step {step}; checkpoint {checkpoint_path} (resume with --resume)")
    if math.isnan(running or 0.0):
        raise SystemExit("loss became NaN")


if __name__ == "__main__":
    main()
