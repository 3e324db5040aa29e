"""Export a training checkpoint to a shipped model file: ``python -m training.export``.

Writes safetensors (weights + config + provenance in the metadata) that
``vidcolor.models.load_model`` reads; by default into ``engines/`` under the
name the runtime loads by default. ``--ensemble A.safetensors B.safetensors`` instead
joins model files into one that averages their chroma, or with ``--combine product`` their
bin logits (``vidcolor.models.ensemble``);
``--from-ensemble FILE --member K`` takes member K back out as a model file of its own (to
train it further where only the repository travels, as to a lent GPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vidcolor.models import (
    DEFAULT_WEIGHTS_NAME,
    build_model,
    load_model,
    read_config,
    read_provenance,
    save_model,
)
from vidcolor.models.ensemble import COMBINES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    p.add_argument("--checkpoint", default="runs/default/last.pt")
    p.add_argument("--ensemble", nargs="+", metavar="MODEL",
                   help="model files (.safetensors) to join into one averaging their chroma")
    p.add_argument("--from-ensemble", metavar="MODEL",
                   help="an ensemble model file to take one member (--member) out of")
    p.add_argument("--member", type=int, default=0, help="with --from-ensemble: which, from 0")
    p.add_argument("--out", default=str(Path("engines") / DEFAULT_WEIGHTS_NAME))
    p.add_argument("--temperature", type=float, default=1.0, help="annealed-mean temperature")
    p.add_argument("--gain", type=float, default=1.0, help="chroma gain applied after decoding")
    p.add_argument("--decode-pool", type=int, default=1,
                   help="decode chroma this many times coarser than the head's features")
    p.add_argument("--gain-about-mean", action="store_true",
                   help="stretch each image's chroma about its mean colour, not about gray")
    p.add_argument("--flip", action="store_true",
                   help="ensemble only: each member also colours the mirrored image")
    p.add_argument("--combine", choices=COMBINES, default="mean",
                   help="ensemble only: average the members' colours (mean) or their bin "
                        "logits, a product of experts (product)")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    return p.parse_args(argv)


def export(checkpoint: str | Path, out: str | Path, temperature: float = 1.0, gain: float = 1.0,
           half: bool = False, decode_pool: int = 1, gain_about_mean: bool = False) -> Path:
    state = torch.load(checkpoint, weights_only=True)
    config = {**json.loads(state["config"]), "num_bins": len(state["centers"]),
              "temperature": temperature, "chroma_gain": gain}
    if decode_pool != 1:
        config["decode_pool"] = decode_pool
    if gain_about_mean:
        config["gain_about_mean"] = True
    model = build_model(config)
    model.load_state_dict(state["model"])
    if half:
        model.half()
    train_args = json.loads(state.get("args", "{}"))
    provenance = {"step": int(state["step"]), "lam": train_args.get("lam"),
                  "crop": train_args.get("crop"), "batch": train_args.get("batch"),
                  "data": train_args.get("data"), "checkpoint": str(checkpoint)}
    if train_args.get("teacher"):
        provenance["teachers"] = [Path(t).name for t in train_args["teacher"]]
    return save_model(model, config, out, extra=provenance)


def export_ensemble(members: list[str | Path], out: str | Path, temperature: float = 1.0,
                    gain: float = 1.0, half: bool = False,
                    gain_about_mean: bool = False, flip: bool = False,
                    combine: str = "mean") -> Path:
    """One file holding ``members`` (their weights, configs and provenance) and the decode."""
    config = {"arch": "ensemble", "members": [read_config(m) for m in members],
              "temperature": temperature, "chroma_gain": gain}
    if gain_about_mean:
        config["gain_about_mean"] = True
    if flip:
        config["flip"] = True
    if combine != "mean":
        config["combine"] = combine
    model = build_model(config)
    for member, path in zip(model.members, members, strict=True):
        member.load_state_dict(load_model(path).state_dict())
    if half:
        model.half()
    provenance = {"members": [{"file": Path(path).name, **read_provenance(path)}
                              for path in members]}
    return save_model(model, config, out, extra=provenance)


def export_member(ensemble: str | Path, index: int, out: str | Path) -> Path:
    """Member ``index`` of an ensemble file as a model file of its own: float32, decoding at
    gain 1 as it does inside the ensemble, with its provenance."""
    config = read_config(ensemble)
    members = config.get("members", [])
    if config.get("arch") != "ensemble" or not 0 <= index < len(members):
        raise SystemExit(f"{ensemble} has no member {index} (it holds {len(members)})")
    member = load_model(ensemble).members[index].float()
    member_config = {**members[index], "chroma_gain": 1.0, "gain_about_mean": False}
    provenance = read_provenance(ensemble).get("members", [{}] * len(members))[index]
    return save_model(member, member_config, out,
                      extra={**provenance, "from_ensemble": Path(ensemble).name})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.from_ensemble:
        path = export_member(args.from_ensemble, args.member, args.out)
    elif args.ensemble:
        path = export_ensemble(args.ensemble, args.out, args.temperature, args.gain, args.half,
                               args.gain_about_mean, args.flip, args.combine)
    else:
        path = export(args.checkpoint, args.out, args.temperature, args.gain, args.half,
                      args.decode_pool, args.gain_about_mean)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
