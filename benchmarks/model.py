"""Model-only speed: our network per engine, precision and batch, and beside the peers.

Inputs are L tensors already on the engine's device, so these figures are the network alone:
no decode, no colour conversion, no encode.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.peers import PEERS
from benchmarks.timing import measure
from vidcolor.backends import Engine, choose_engine, create_engine
from vidcolor.backends.onnx_export import export_onnx
from vidcolor.backends.onnxruntime_engine import OnnxRuntimeEngine
from vidcolor.models import (
    MissingWeightsError,
    build_model,
    default_weights_path,
    load_model,
    read_config,
)

RANDOM_CONFIG = {"arch": "effnet_lite0_unet", "num_bins": 313}  # used when no weights ship yet
SIZE = 256


def our_model(weights: str | None) -> tuple[nn.Module, dict, str]:
    """(model, config, provenance): the shipped or given model, else its architecture with
    random weights (speed depends on the architecture, not on the weights' values)."""
    try:
        model = load_model(weights)
    except MissingWeightsError:
        if weights:
            raise
        torch.manual_seed(0)
        return build_model(RANDOM_CONFIG).eval(), RANDOM_CONFIG, "random weights"
    path = weights or default_weights_path()
    return model, read_config(path), str(path)


def complexity(make: Callable[[], nn.Module], size: int) -> dict:
    """Parameters and GFLOPs (multiply-add = 2) at ``size``², counted on the meta device."""
    with torch.device("meta"):
        model = make().eval()
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(torch.empty(1, 1, size, size))
    params = sum(p.numel() for p in model.parameters())
    return {"params_m": round(params / 1e6, 2), "gflops": round(counter.get_total_flops() / 1e9, 2)}


def configurations(quick: bool) -> list[dict]:
    """Engine x precision x threads to measure on this machine."""
    if torch.cuda.is_available():
        configs = [{"engine": "torch", "precision": p} for p in ("fp32", "fp16", "bf16")]
        if choose_engine().name == "tensorrt":
            configs += [{"engine": "tensorrt", "precision": p} for p in ("fp16", "bf16")]
        return configs[1:2] if quick else configs
    configs = [{"engine": "onnxruntime", "precision": p, "threads": t, "calls": c}
               for p in ("int8", "fp32") for t, c in ((1, 1), (2, 1), (1, 2))]
    configs += [{"engine": "torch", "precision": "fp32", "threads": t} for t in (1, 2)]
    configs.append({"engine": "torch", "precision": "bf16", "threads": 1})
    return [configs[0], configs[6]] if quick else configs


def batches(quick: bool) -> tuple[int, ...]:
    if quick:
        return (1,)
    return (1, 8, 32, 128) if torch.cuda.is_available() else (1, 4)


def _inputs(engine: Engine, batch: int, size: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(batch)
    return (torch.rand(batch, 1, size, size, generator=gen) * 100).to(engine.device)


def _call(engine: Engine, x: torch.Tensor, pool: ThreadPoolExecutor | None = None,
          calls: int = 1) -> Callable[[], object]:
    """One timed call; with a ``pool``, ``calls`` concurrent calls, as the pipeline makes."""
    if pool is not None:
        return lambda: list(pool.map(lambda _: engine.infer(x), range(calls)))
    if engine.device.type != "cuda":
        return lambda: engine.infer(x)
    return lambda: (engine.infer(x), torch.cuda.synchronize(engine.device))


def run_model(weights: str | None, *, quick: bool, seconds: float) -> dict:
    model, config, source = our_model(weights)
    size = 64 if quick else SIZE
    rows = []
    for setup in configurations(quick):
        calls = setup.get("calls", 1)
        engine = create_engine(setup["engine"], "auto", model, precision=setup["precision"],
                               threads=setup.get("threads"), calls=calls)
        threads = getattr(engine, "threads", None) or torch.get_num_threads()
        with ThreadPoolExecutor(calls) if calls > 1 else nullcontext() as pool:
            for batch in batches(quick):
                x = _inputs(engine, batch, size)
                result = measure(_call(engine, x, pool, calls), batch * calls, seconds)
                rows.append({"engine": engine.name, "device": str(engine.device),
                             "precision": setup["precision"], "threads": threads,
                             "concurrent_calls": calls, "batch": batch, "size": size, **result})
    arch = {"weights": source, "config": config,
            **complexity(lambda: build_model(config), size)}
    return {"model": arch, "rows": rows}


def _peer_engine(model: nn.Module, folder: Path, quick: bool) -> Engine:
    """The engine ``auto`` picks (PyTorch when quick: no export), in FP32 for every network
    alike, and random peer weights kept out of the user cache."""
    choice = choose_engine("torch" if quick else "auto")
    if choice.name == "onnxruntime":  # one call at a time, on every core
        return OnnxRuntimeEngine(export_onnx(model, folder / "net.onnx"), calls=1)
    return create_engine(choice.name, str(choice.device), model)


def run_peers(weights: str | None, *, quick: bool, seconds: float) -> dict:
    """Ours vs each peer on the same engine: at the peer's size, and each at its own size."""
    ours, config, _ = our_model(weights)
    with tempfile.TemporaryDirectory() as folder:
        engine = _peer_engine(ours, Path(folder), quick)
    sizes = {name: 32 if quick else size for name, (_, size) in PEERS.items()}
    our_size = 32 if quick else SIZE
    ours_at = {s: measure(_call(engine, _inputs(engine, 1, s)), 1, seconds)
               for s in {our_size, *sizes.values()}}
    ours_complexity = complexity(lambda: build_model(config), our_size)
    rows = [{"net": "vidcolor", "size": our_size, **ours_complexity, **ours_at[our_size]}]
    for name, (make, _) in PEERS.items():
        size = sizes[name]
        with tempfile.TemporaryDirectory() as folder:
            torch.manual_seed(0)
            peer_engine = _peer_engine(make().eval(), Path(folder), quick)
            result = measure(_call(peer_engine, _inputs(peer_engine, 1, size)), 1, seconds,
                             warmup=0 if quick else 1, min_calls=1 if quick else 2)
        rows.append({
            "net": name, "size": size, **complexity(make, size), **result,
            "ours_fps_same_size": ours_at[size]["best_fps"],
            "speedup_same_size": round(ours_at[size]["best_fps"] / result["best_fps"], 1),
            "speedup_native_sizes": round(ours_at[our_size]["best_fps"] / result["best_fps"], 1),
        })
    return {"engine": engine.name, "device": str(engine.device), "rows": rows}
