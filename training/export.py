"""Export a training checkpoint to a shipped model file: ``python -m training.export``.

Writes safetensors (weights + config + provenance in the metadata) that
``vidcolor.models.load_model`` reads; by default into ``engines/`` under the
name the runtime loads by default.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vidcolor.models import DEFAULT_WEIGHTS_NAME, build_model, save_model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    p.add_argument("--checkpoint", default="runs/default/last.pt")
    p.add_argument("--out", default=str(Path("engines") / DEFAULT_WEIGHTS_NAME))
    p.add_argument("--temperature", type=float, default=1.0, help="annealed-mean temperature")
    p.add_argument("--gain", type=float, default=1.0, help="chroma gain applied after decoding")
    p.add_argument("--decode-pool", type=int, default=1,
                   help="decode chroma this many times coarser than the head's features")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    return p.parse_args(argv)


def export(checkpoint: str | Path, out: str | Path, temperature: float = 1.0, gain: float = 1.0,
           half: bool = False, decode_pool: int = 1) -> Path:
    state = torch.load(checkpoint, weights_only=True)
    config = {**json.loads(state["config"]), "num_bins": len(state["centers"]),
              "temperature": temperature, "chroma_gain": gain}
    if decode_pool != 1:
        config["decode_pool"] = decode_pool
    model = build_model(config)
    model.load_state_dict(state["model"])
    if half:
        model.half()
    train_args = json.loads(state.get("args", "{}"))
    provenance = {"step": int(state["step"]), "lam": train_args.get("lam"),
                  "crop": train_args.get("crop"), "batch": train_args.get("batch"),
                  "data": train_args.get("data"), "checkpoint": str(checkpoint)}
    return save_model(model, config, out, extra=provenance)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    path = export(args.checkpoint, args.out, args.temperature, args.gain, args.half,
                  args.decode_pool)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
