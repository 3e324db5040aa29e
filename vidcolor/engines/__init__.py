"""Inference engines: one small interface, three back ends (PyTorch, ONNX Runtime, TensorRT).

Back ends import onnxruntime / tensorrt lazily, so importing this package stays cheap.
"""

from vidcolor.engines.base import Engine, EngineUnavailableError
from vidcolor.engines.select import Choice, choose_engine, create_engine, parse_device

__all__ = [
    "Choice",
    "Engine",
    "EngineUnavailableError",
    "choose_engine",
    "create_engine",
    "parse_device",
]
