"""Train a colorization model: ``python -m training.train --data DIR --out RUN``.

Resumable by design, because the machines that train it are small: the run
folder (``runs/NAME`` by default, ignored by git) holds ``last.pt`` with the
model, optimizer, step and data bins; ``--resume`` continues from it, and
``--minutes`` stops cleanly with a checkpoint so a run can span sessions, as
does a stop signal (Ctrl-C, SIGTERM, SIGHUP from a closed SSH session).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from vidcolor.models import build_model, load_model, read_config
from vidcolor.models.ensemble import COMBINES
from vidcolor.signals import StopRequests, interrupt_on_stop_signals

from .bins import fit_bins
from .data import CropDataset, cached_images
from .discriminator import PatchDiscriminator, critic_hinge, generator_hinge
from .distill import Teachers
from .losses import BinnedCrossEntropy, ChromaSquaredError
from .pretrained import load_imagenet_encoder
from .validate import quick_validation

DECODE_KEYS = ("num_bins", "temperature", "chroma_gain", "gain_about_mean")  # data, export
DEFAULT_CONFIG = {"arch": "effnet_lite0_unet", "decoder_channels": [128, 64, 48, 32]}
CHECKPOINT = "last.pt"  # in the run folder; --resume continues from it


def _model_config(text: str) -> dict:
    """``--config``: JSON written out, or the path of a file holding it."""
    path = Path(text)
    try:
        return json.loads(path.read_text() if path.is_file() else text)
    except (json.JSONDecodeError, OSError) as exc:
        raise argparse.ArgumentTypeError(f"not JSON nor a JSON file: {exc}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    p.add_argument("--data", nargs="+", required=True, help="image folders, video folders, CIFAR-10")
    p.add_argument("--val", help="validation image folder (a few images scored at checkpoints)")
    p.add_argument("--out", default="runs/default", help="run folder (checkpoints, log)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", help="warm start from a run's last.pt or a model file (.safetensors)")
    p.add_argument("--config", type=_model_config, default=DEFAULT_CONFIG,
                   help="model config: JSON, or a file holding it")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-from", type=int, default=0,
                   help="cosine-decay the learning rate from this step to zero at --steps")
    p.add_argument("--crop-scale", type=float,
                   help="smallest crop as a share of the photo's short side (default: 0.8 of "
                        "--crop, photos kept at --crop x 1.25); photos are then kept at --crop / "
                        "this, so the smallest crops are full detail")
    p.add_argument("--lam", type=float, default=1.0, help="rebalancing: 1 none, 0.5 Zhang et al.")
    p.add_argument("--degrade", type=float, default=0.5, help="share of samples with L degradations")
    p.add_argument("--archive", type=float, default=0.0,
                   help="share of samples whose L is a random archive film render (training.film)")
    p.add_argument("--freeze", type=int, default=3, help="encoder blocks (after the stem) kept frozen")
    p.add_argument("--objective", choices=("bins", "gate"), default="bins",
                   help="bins: train the network by cross-entropy over ab bins; gate: train only "
                        "the confidence gate, by squared ab error, everything else frozen")
    p.add_argument("--confidence", type=int, default=0,
                   help="give the head a learned confidence gate with this many hidden channels")
    p.add_argument("--gan", action="store_true",
                   help="add a PatchGAN critic, NoGAN-style: start from a trained network "
                        "(--init), the critic learns alone for --gan-warmup steps, then both")
    p.add_argument("--gan-weight", type=float, default=0.05,
                   help="weight of the adversarial loss beside the cross-entropy")
    p.add_argument("--gan-warmup", type=int, default=200,
                   help="steps at the start of the run in which only the critic learns")
    p.add_argument("--critic-lr", type=float, default=2e-4)
    p.add_argument("--teacher", nargs="+", default=[],
                   help="distil: model files (.safetensors) whose averaged bin distribution "
                        "the network also learns (training.distill)")
    p.add_argument("--teacher-combine", choices=COMBINES, default="mean",
                   help="how the teachers' distributions meet: their mean, or their product "
                        "(geometric mean, as the product quality model's members)")
    p.add_argument("--teacher-temperature", type=float, default=1.0,
                   help="with --teacher-combine product: the product's temperature")
    p.add_argument("--teacher-weight", type=float, default=0.7,
                   help="share of the teachers' distribution in the target (the truth's: the rest)")
    p.add_argument("--mean-weight", type=float, default=0.0,
                   help="weight of the mean-ab squared error beside the cross-entropy "
                        "(training.losses.BinnedCrossEntropy)")
    p.add_argument("--neutral-weight", type=float, default=0.0,
                   help="on pixels whose truth is near gray, the truth's cross-entropy counts "
                        "1 + this many times (a neutral-aware objective)")
    p.add_argument("--frames-per-clip", type=int, default=8)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--fit-minutes", action="store_true",
                   help="fit the schedule to --minutes: after the first minute, --steps (and "
                        "--decay-from, in proportion) become what the remaining minutes allow at "
                        "the pace measured, so the lr reaches zero as time runs out (for a "
                        "lent machine of unknown speed)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes preparing samples beside the training loop (0: in it); a "
                        "GPU needs many, or it waits on the crops and film renders")
    args = p.parse_args(argv)
    if (args.gan or args.teacher) and args.objective != "bins":
        p.error("--gan and --teacher train the network's bins; not with --objective gate")
    return args


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


def freeze(model: torch.nn.Module, blocks: int, objective: str) -> list[torch.nn.Module]:
    """The modules kept frozen: for the bins objective the stem and the first ``blocks``
    encoder blocks (generic edges, costly at full size); for the gate, all but the gate."""
    if objective == "gate":
        if model.head.gate is None:
            raise SystemExit("--objective gate needs a model with a gate (--confidence N)")
        frozen = [m for name, m in model.named_children() if name != "head"]
        frozen.append(model.head.classifier)
    elif blocks <= 0 or not hasattr(model.encoder, "stem"):
        return []
    else:
        frozen = [model.encoder.stem, *model.encoder.blocks[:blocks]]
    for module in frozen:
        module.requires_grad_(False)
    return frozen


def make_model(config: dict, centers: torch.Tensor, pretrained: bool) -> torch.nn.Module:
    model = build_model({**config, "num_bins": len(centers)})
    model.head.bin_centers.copy_(centers)
    if pretrained and config["arch"].startswith("effnet_lite"):
        load_imagenet_encoder(model.encoder)
    return model


@dataclass
class Critic:
    """The adversarial part of a run (``--gan``): the critic, its optimizer, the weight of its
    verdict in the network's loss, and the steps at the start in which only it learns."""

    net: PatchDiscriminator
    optimizer: torch.optim.Optimizer
    weight: float
    warmup: int

    def learn(self, lightness: torch.Tensor, ab: torch.Tensor, fake: torch.Tensor) -> None:
        """One critic step: the truth's ab (area-downsampled to ``fake``'s size) against the
        network's, both over the same lightness."""
        real = F.adaptive_avg_pool2d(ab, fake.shape[-2:])
        loss = critic_hinge(self.net(lightness, real), self.net(lightness, fake))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


@dataclass
class Run:
    """What the loop trains and a checkpoint keeps: the model and its optimizer, bins, step."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    criterion: torch.nn.Module
    frozen: list[torch.nn.Module]
    device: torch.device
    config: dict
    centers: torch.Tensor
    prior: torch.Tensor
    objective: str = "bins"
    step: int = 0
    critic: Critic | None = None
    teachers: Teachers | None = None

    def predict(self, lightness: torch.Tensor) -> torch.Tensor:
        """What the criterion scores: bin logits, or the gated ab for the gate objective."""
        features = self.model.features(lightness.to(self.device))
        if self.objective == "gate":
            return self.model.head.chroma(features)
        return self.model.head.logits(features)


def save_checkpoint(path: Path, run: Run, args: argparse.Namespace) -> None:
    """Write ``path`` atomically: a stop or a crash mid-write leaves the previous one whole."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        state = {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
                 "step": run.step, "config": json.dumps(run.config), "centers": run.centers,
                 "prior": run.prior, "args": json.dumps(vars(args))}
        if run.critic is not None:
            state["critic"] = run.critic.net.state_dict()
            state["critic_optimizer"] = run.critic.optimizer.state_dict()
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint` (tensors and plain values only)."""
    return torch.load(path, weights_only=True)


def choose_bins(args: argparse.Namespace, images: list[np.ndarray], state: dict | None,
                warm: WarmStart | None) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """The model config, ab bin centres and prior: the checkpoint's on resume; the warm
    start's architecture and bins (the prior refitted to the data) on ``--init``; else fitted
    anew."""
    if state is not None:
        return json.loads(state["config"]), state["centers"], state["prior"]
    samples = sample_ab(images, 400_000, args.seed)
    if warm is not None:
        return with_gate(warm.config, args), *fit_bins(samples, centers=warm.centers.clone())
    return with_gate(dict(args.config), args), *fit_bins(samples)


@dataclass
class WarmStart:
    """What ``--init`` starts from: an architecture, its bins and its weights."""

    config: dict
    centers: torch.Tensor
    weights: dict[str, torch.Tensor]

    @classmethod
    def read(cls, path: str) -> WarmStart:
        """From a model file (.safetensors, decode settings dropped) or a run's last.pt."""
        if path.endswith(".safetensors"):
            model = load_model(path)
            config = {k: v for k, v in read_config(path).items() if k not in DECODE_KEYS}
            return cls(config, model.head.bin_centers, model.state_dict())
        checkpoint = load_checkpoint(path)
        return cls(json.loads(checkpoint["config"]), checkpoint["centers"], checkpoint["model"])


def with_gate(config: dict, args: argparse.Namespace) -> dict:
    return {**config, "confidence": args.confidence} if args.confidence else config


def load_warm(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a warm start's weights; a gate the warm start lacks keeps its identity start."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not key.startswith("head.gate.") for key in missing):
        model.load_state_dict(state)  # raises, naming what does not fit


def start_run(args: argparse.Namespace, images: list[np.ndarray], state: dict | None,
              device: torch.device) -> Run:
    """The run to train: resumed from ``state``, warm-started by ``--init`` (a run's last.pt or
    a .safetensors model), or new with the ImageNet encoder."""
    warm = WarmStart.read(args.init) if args.init and state is None else None
    config, centers, prior = choose_bins(args, images, state, warm)
    model = make_model(config, centers, pretrained=state is None and warm is None)
    if warm is not None:
        load_warm(model, warm.weights)
    frozen = freeze(model, args.freeze, args.objective)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    if args.objective == "gate":
        criterion = ChromaSquaredError()
    else:
        criterion = BinnedCrossEntropy(centers, prior, args.lam, args.teacher_weight,
                                       args.mean_weight, args.neutral_weight).to(device)
    run = Run(model, optimizer, criterion, frozen, device, config, centers, prior, args.objective)
    if args.gan:
        run.critic = make_critic(args, device)
    if args.teacher:
        run.teachers = Teachers.from_files(args.teacher, centers, args.teacher_combine,
                                           args.teacher_temperature).to(device)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        run.step = int(state["step"])
        if run.critic is not None and "critic" in state:
            run.critic.net.load_state_dict(state["critic"])
            run.critic.optimizer.load_state_dict(state["critic_optimizer"])
    return run


def make_critic(args: argparse.Namespace, device: torch.device) -> Critic:
    net = PatchDiscriminator().to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.critic_lr, betas=(0.5, 0.999))
    return Critic(net, optimizer, args.gan_weight, args.gan_warmup)


def train_step(run: Run, lightness: torch.Tensor, ab: torch.Tensor, lr: float,
               scaler: torch.amp.GradScaler) -> float:
    """One optimizer step at ``lr`` (frozen blocks stay in eval mode); returns the loss.

    With a critic, the network's loss adds the critic's verdict on its decoded chroma, and the
    critic then learns from the same batch; during the critic's warm-up the network only
    predicts."""
    critic = run.critic
    critic_only = critic is not None and run.step < critic.warmup
    run.model.train(not critic_only)  # a network that only predicts keeps its statistics
    for module in run.frozen:
        module.eval()
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    lightness, ab = lightness.to(run.device), ab.to(run.device)
    with torch.set_grad_enabled(not critic_only):
        with torch.autocast(run.device.type, enabled=scaler.is_enabled()):
            prediction = run.predict(lightness)
        if run.teachers is not None:
            loss = run.criterion(prediction, ab, run.teachers(lightness, prediction.shape[-2:]))
        else:
            loss = run.criterion(prediction, ab)
        if critic is not None:
            fake = run.model.head.decode(prediction)
            if not critic_only:
                loss = loss + critic.weight * generator_hinge(critic.net(lightness, fake))
    if not critic_only:
        run.optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(run.optimizer)
        scaler.update()
    if critic is not None:
        critic.learn(lightness, ab, fake.detach())
    run.step += 1
    return loss.item()


FIT_AFTER_S = 60.0  # the pace is measured over the first minute (loader start-up included)


def fit_schedule(args: argparse.Namespace, first: int, step: int, elapsed: float) -> str:
    """Set ``args.steps`` to the step the run reaches when ``--minutes`` are up, at the pace
    of steps ``first`` to ``step`` in ``elapsed`` seconds, and move ``args.decay_from`` with
    it (the same share of the run); a little time is kept back for the checkpoint."""
    pace = (step - first) / elapsed
    total = max(step + 1, step + int(pace * (args.minutes * 60 * 0.98 - elapsed)))
    args.decay_from = int(total * args.decay_from / args.steps)
    args.steps = total
    return (f"pace {pace:.2f} steps/s: schedule fitted to --steps {args.steps} --decay-from "
            f"{args.decay_from} (resume with those)")


def start_worker(worker: int) -> None:
    """Set up a loader process. Its copy of the dataset gets its own random stream (the
    copies start from one state, and would otherwise all draw the same crops), and it leaves
    stop signals to the training loop: Ctrl-C, SIGTERM or SIGHUP sent to the whole process
    group (a closed SSH session) would otherwise kill it mid-step, and the loader's error
    would break the checkpoint the loop is writing. It ends when the loop ends, or when the
    training process is gone."""
    info = torch.utils.data.get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, signal.SIG_IGN)


def checkpoint(run: Run, args: argparse.Namespace, log: TextIO, loss: float, elapsed: float) -> dict:
    """Save ``last.pt`` and append the log record (validation scores on the regular ones)."""
    save_checkpoint(Path(args.out) / CHECKPOINT, run, args)
    record = {"step": run.step, "loss": loss, "minutes": elapsed / 60}
    if args.val and run.step % args.checkpoint_every == 0:
        record.update(quick_validation(run.model, args.val))
    log.write(json.dumps(record) + "\n")
    log.flush()
    return record


def train(run: Run, args: argparse.Namespace, images: list[np.ndarray], log: TextIO,
          stop: threading.Event) -> float | None:
    """Train until ``--steps``, ``--minutes`` or ``stop``, checkpointing every
    ``--checkpoint-every`` steps and at the end; returns the smoothed loss."""
    dataset = CropDataset(images, args.crop, args.degrade, seed=args.seed + run.step,
                          archive_p=args.archive, min_share=args.crop_scale)
    loader = DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True,
                        num_workers=args.workers, worker_init_fn=start_worker,
                        persistent_workers=args.workers > 0, pin_memory=run.device.type == "cuda")
    scaler = torch.amp.GradScaler(enabled=run.device.type == "cuda")
    started = time.monotonic()
    running = None
    fitting, first = args.fit_minutes and bool(args.minutes), run.step
    columns = (TextColumn("step"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task("train", total=args.steps, completed=run.step, info="")
        while run.step < args.steps and not stop.is_set():
            for lightness, ab in loader:
                if fitting and run.step > first and time.monotonic() - started > FIT_AFTER_S:
                    fitting = False
                    progress.console.print(
                        fit_schedule(args, first, run.step, time.monotonic() - started))
                    progress.update(task, total=args.steps)
                lr = learning_rate(args.lr, run.step, args.decay_from, args.steps)
                loss = train_step(run, lightness, ab, lr, scaler)
                running = loss if running is None else 0.98 * running + 0.02 * loss
                elapsed = time.monotonic() - started
                progress.update(task, completed=run.step, info=f"loss {running:.3f}  lr {lr:.1e}")
                out_of_time = args.minutes and elapsed > args.minutes * 60
                done = run.step >= args.steps or out_of_time or stop.is_set()
                if done or run.step % args.checkpoint_every == 0:
                    progress.console.print(checkpoint(run, args, log, running, elapsed))
                if done:
                    return running
    return running


def main(argv: list[str] | None = None) -> None:
    """The command. A stop signal (Ctrl-C, SIGTERM, SIGHUP) ends the run at the next step,
    with a checkpoint; before training starts it interrupts at once."""
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with interrupt_on_stop_signals():
        state = load_checkpoint(out / CHECKPOINT) if args.resume else None
        short = int(args.crop * 1.25) if args.crop_scale is None else round(args.crop / args.crop_scale)
        images = cached_images(args.data, short=short, cache_dir=Path("runs/cache"),
                               frames_per_clip=args.frames_per_clip)
        print(f"{len(images)} training images from {', '.join(map(str, args.data))}")
        run = start_run(args, images, state, device)
        with StopRequests() as stop, open(out / "log.jsonl", "a") as log:
            running = train(run, args, images, log, stop.requested)
    print(f"stopped at step {run.step}; checkpoint {out / CHECKPOINT} (resume with --resume)")
    if math.isnan(running or 0.0):
        raise SystemExit("loss became NaN")


if __name__ == "__main__":
    main()
