"""Engines: selection rules, ONNX export and cache, and parity between back ends.

ONNX Runtime vs PyTorch runs everywhere; CUDA and TensorRT parity skip without the hardware.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from vidcolor import backends
from vidcolor.backends import select
from vidcolor.backends.base import check_input
from vidcolor.backends.cache import weights_hash
from vidcolor.backends.onnx_export import cached_onnx
from vidcolor.backends.onnxruntime_engine import OnnxRuntimeEngine
from vidcolor.models import build_model, default_weights_path, load_model
from vidcolor.models.heads import ab_grid

SHAPES = [(1, 64, 96), (3, 64, 96), (1, 128, 64), (3, 128, 64)]  # two resolutions, B 1 and 3
CUDA = torch.cuda.is_available()
TENSORRT = CUDA and importlib.util.find_spec("tensorrt") is not None


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path_factory.getbasetemp() / "vidcolor-cache"))


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    """The shipped model when present, else the same architecture with random weights."""
    if default_weights_path().is_file():
        return load_model()
    torch.manual_seed(0)
    net = build_model({"arch": "effnet_lite0_unet", "num_bins": 313}).eval()
    net.head.bin_centers.copy_(ab_grid()[torch.randperm(len(ab_grid()))[:313]])
    return net


def lightness(batch: int, h: int, w: int) -> torch.Tensor:
    """Smooth gradients plus noise: covers the 0..100 range like real frames."""
    gen = torch.Generator().manual_seed(batch * 1000 + h + w)
    ramp = torch.linspace(0, 100, w).expand(batch, 1, h, w)
    return (0.7 * ramp + 30 * torch.rand(batch, 1, h, w, generator=gen)).clamp(0, 100)


@pytest.fixture(scope="module")
def reference(model):
    engine = backends.create_engine("torch", "cpu", model)
    return {shape: engine.infer(lightness(*shape)) for shape in SHAPES}


def test_onnxruntime_matches_torch_on_dynamic_shapes(model, reference):
    engine = backends.create_engine("onnxruntime", "cpu", model, precision="fp32")
    assert isinstance(engine, backends.Engine) and engine.dtype == torch.float32
    for shape, expected in reference.items():
        ab = engine.infer(lightness(*shape))
        assert ab.shape == (shape[0], 2, shape[1], shape[2]) and ab.dtype == torch.float32
        assert (ab - expected).abs().max().item() <= 0.5, shape
    assert expected.abs().max() > 1  # a network that outputs zeros would pass trivially


def test_onnxruntime_shares_cores_between_concurrent_calls(model, reference, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(backends.onnxruntime_engine, "usable_cores", lambda: 8)
    split = {(4, None): (4, 2), (None, None): (2, 4), (None, 1): (8, 1), (2, None): (2, 4),
             (8, None): (8, 1), (None, 3): (2, 3)}
    for (threads, calls), expected in split.items():
        engine = backends.create_engine("onnxruntime", "cpu", model, precision="fp32",
                                       threads=threads, calls=calls)
        assert (engine.threads, engine.concurrent_calls) == expected, (threads, calls)
    shape = SHAPES[0]
    with ThreadPoolExecutor(4) as pool:  # one session, called from four threads at once
        results = list(pool.map(lambda _: engine.infer(lightness(*shape)), range(8)))
    for ab in results:
        assert (ab - reference[shape]).abs().max().item() <= 0.5


def _skimage_lightness() -> list[torch.Tensor]:
    """Real photographs that scikit-image ships, as L at 128x192."""
    data = pytest.importorskip("skimage.data")
    from vidcolor.color import rgb_to_lab

    out = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        rgb = torch.from_numpy(getattr(data, name)()).float() / 255
        small = torch.nn.functional.interpolate(rgb.permute(2, 0, 1)[None], (128, 192),
                                                mode="area")
        out.append(rgb_to_lab(small, dim=1)[:, :1])
    return out


def test_int8_decoder_is_the_default_and_stays_close(model):
    """ONNX Runtime's default: INT8 decoder calibrated on synthetic images, cached; on real
    photographs it stays within a fraction of an ab unit of PyTorch FP32 on average."""
    from vidcolor.backends.onnx_int8 import cached_int8_onnx

    engine = backends.create_engine("onnxruntime", "cpu", model)
    assert engine.dtype == torch.int8 and engine.path == cached_int8_onnx(model)
    ops = {n.op_type for n in onnx.load(str(engine.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    torch_engine = backends.create_engine("torch", "cpu", model)
    errors = torch.cat([(engine.infer(L) - torch_engine.infer(L)).abs().flatten()
                        for L in _skimage_lightness()])
    assert errors.mean().item() <= 0.5 and torch.quantile(errors, 0.99).item() <= 3.0, (
        errors.mean().item(), torch.quantile(errors, 0.99).item())
    assert torch_engine.infer(_skimage_lightness()[0]).abs().max() > 1


def test_int8_is_for_onnxruntime_only(model):
    with pytest.raises(backends.EngineUnavailableError, match="onnxruntime"):
        backends.create_engine("torch", "cpu", model, precision="int8")


def test_onnx_export_is_dynamic_checked_and_cached(model):
    path = cached_onnx(model)
    graph = onnx.load(str(path)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, "height", "width"]
    onnx.checker.check_model(str(path), full_check=True)
    stamp = path.stat().st_mtime_ns
    assert cached_onnx(model) == path and path.stat().st_mtime_ns == stamp


def test_reduced_precision_export_keeps_fp32_io(model, reference):
    """The FP16 graph TensorRT builds from: FP32 in and out, within 2 ab of the FP32 model."""
    path = cached_onnx(model, precision=torch.float16)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert path != cached_onnx(model)
    fp16 = OnnxRuntimeEngine(path)
    shape = SHAPES[-1]
    assert (fp16.infer(lightness(*shape)) - reference[shape]).abs().max().item() <= 2.0


def test_weights_hash_follows_the_weights(model):
    other = copy.deepcopy(model)
    assert weights_hash(other) == weights_hash(model)
    with torch.no_grad():
        next(other.parameters()).view(-1)[0] += 1e-3
    assert weights_hash(other) != weights_hash(model)


def test_weights_hash_follows_the_decode_settings(model):
    other = copy.deepcopy(model)
    other.head.chroma_gain = model.head.chroma_gain + 0.4
    assert weights_hash(other) != weights_hash(model)


def test_weights_hash_follows_the_code_not_where_it_lives(tmp_path, monkeypatch):
    """Same weights, same repr, other forward code (an upgrade): another key, so a cached graph
    exported by the old code is not reused. The same code elsewhere: the same key."""
    def model_from(folder: Path, forward: str) -> nn.Module:
        folder.mkdir()
        path = folder / "scaler.py"
        path.write_text("from torch import nn\n\n\nclass Scaler(nn.Module):\n"
                        f"    def forward(self, x):\n        return {forward}\n")
        spec = importlib.util.spec_from_file_location(f"scaler_{folder.name}", path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        return nn.Sequential(module.Scaler())

    first = weights_hash(model_from(tmp_path / "a", "x * 2"))
    assert weights_hash(model_from(tmp_path / "b", "x * 2")) == first
    assert weights_hash(model_from(tmp_path / "c", "x * 3")) != first


def test_cache_folder_follows_env(model, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDCOLOR_CACHE", str(tmp_path))
    assert cached_onnx(model).parent == tmp_path / "onnx"


def test_torch_cpu_engine_contract(model):
    engine = backends.create_engine("torch", "cpu", model)
    assert (engine.name, engine.device.type, engine.dtype) == ("torch", "cpu", torch.float32)
    ab = engine.infer(lightness(2, 64, 64))
    assert ab.shape == (2, 2, 64, 64) and ab.dtype == torch.float32
    bf16 = backends.create_engine("torch", "cpu", model, precision="bf16")
    assert bf16.dtype == torch.bfloat16
    assert bf16.infer(lightness(2, 64, 64)).dtype == torch.float32


@pytest.mark.parametrize("shape", [(1, 64, 64, 1), (1, 3, 64, 64), (1, 1, 64, 80)])
def test_bad_input_shapes_are_rejected(shape):
    with pytest.raises(ValueError, match="expected|multiples of 32"):
        check_input(torch.zeros(shape))


def _no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU")


def _packages(monkeypatch, *present):
    monkeypatch.setattr(select, "_importable", lambda name: name in present)


def test_auto_prefers_tensorrt_then_torch_cuda(monkeypatch):
    _fake_cuda(monkeypatch)
    _packages(monkeypatch, "tensorrt", "onnxruntime")
    choice = backends.choose_engine()
    assert (choice.name, choice.device.type) == ("tensorrt", "cuda")
    assert "Fake GPU" in choice.reason
    _packages(monkeypatch, "onnxruntime")
    choice = backends.choose_engine()
    assert (choice.name, choice.device.type) == ("torch", "cuda")
    assert "tensorrt not installed" in choice.reason
    assert backends.choose_engine(device="cpu").name == "onnxruntime"


def test_auto_without_gpu_prefers_onnxruntime_then_torch(monkeypatch):
    _no_cuda(monkeypatch)
    _packages(monkeypatch, "tensorrt", "onnxruntime")
    choice = backends.choose_engine()
    assert choice[:2] == ("onnxruntime", torch.device("cpu")) and "no CUDA GPU" in choice.reason
    _packages(monkeypatch)
    assert backends.choose_engine()[:2] == ("torch", torch.device("cpu"))
    assert backends.choose_engine("torch")[:2] == ("torch", torch.device("cpu"))


def test_create_engine_logs_and_keeps_reason(model, monkeypatch, caplog):
    _no_cuda(monkeypatch)
    with caplog.at_level("INFO", logger="vidcolor.backends.select"):
        engine = backends.create_engine(weights=model)
    assert engine.name == "onnxruntime" and "no CUDA GPU" in engine.reason
    assert "onnxruntime" in caplog.text and engine.reason in caplog.text


@pytest.mark.parametrize(
    ("name", "device", "error", "message"),
    [
        ("tensorflow", "auto", ValueError, "unknown engine 'tensorflow'"),
        ("auto", "tpu", ValueError, "unknown device 'tpu'"),
        ("auto", "cuda:x", ValueError, "unknown device"),
        ("tensorrt", "cpu", backends.EngineUnavailableError, "needs a CUDA GPU"),
        ("onnxruntime", "cuda", backends.EngineUnavailableError, "CPU only"),
        ("torch", "cuda:3", backends.EngineUnavailableError, "GPU"),
    ],
)
def test_bad_names_give_one_line_errors(name, device, error, message, monkeypatch):
    _fake_cuda(monkeypatch)
    with pytest.raises(error, match=message) as info:
        backends.choose_engine(name, device)
    assert "\n" not in str(info.value)


def test_missing_tensorrt_package_is_explained(monkeypatch):
    _fake_cuda(monkeypatch)
    _packages(monkeypatch, "onnxruntime")
    with pytest.raises(backends.EngineUnavailableError, match=r"pip install 'vidcolor\[tensorrt\]'"):
        backends.choose_engine("tensorrt")


def test_unknown_precision_is_a_clean_error(model):
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        backends.create_engine("torch", "cpu", model, precision="int4")


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_torch_cuda_matches_cpu(model, reference, precision):
    engine = backends.create_engine("torch", "cuda", model, precision=precision)
    tolerance = 0.5 if precision == "fp32" else 2.0
    for _ in range(2):  # second pass replays the captured CUDA graphs
        for shape, expected in reference.items():
            ab = engine.infer(lightness(*shape).cuda())
            assert ab.is_cuda and ab.dtype == torch.float32
            assert (ab.cpu() - expected).abs().max().item() <= tolerance, (precision, shape)


@pytest.mark.skipif(not TENSORRT, reason="needs a CUDA GPU and the tensorrt package")
def test_tensorrt_fp16_matches_torch_fp32(model, reference):
    engine = backends.create_engine("tensorrt", "cuda", model, precision="fp16")
    for shape, expected in reference.items():
        ab = engine.infer(lightness(*shape).cuda())
        assert ab.is_cuda and (ab.cpu() - expected).abs().max().item() <= 2.0, shape
    rebuilt = backends.create_engine("tensorrt", "cuda", model, precision="fp16")  # from cache
    L = lightness(1, 64, 96).cuda()
    assert torch.equal(rebuilt.infer(L), engine.infer(L))
