"""Inference back ends behind one small interface: PyTorch, ONNX Runtime, TensorRT.

The top-level `engines/` folder holds model files and built plans; this package is the code
that runs them (an "engine" here is one loaded back end).

Back ends import onnxruntime / tensorrt lazily, so importing this package stays cheap.
"""

from vidcolor.backends.base import Engine, EngineUnavailableError
from vidcolor.backends.select import Choice, choose_engine, create_engine, parse_device

__all__ = [
    "Choice",
    "Engine",
    "EngineUnavailableError",
    "choose_engine",
    "create_engine",
    "parse_device",
]
