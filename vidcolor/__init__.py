"""vidcolor: fast, temporally stable colorization of black-and-white video, images and streams.

Python API::

    import vidcolor
    stats = vidcolor.colorize_video("film.mp4", "film_color.mp4")   # -> vidcolor.Stats
    rgb = vidcolor.colorize_image("scan.png")                       # -> uint8 HxWx3
    spec = vidcolor.ModelSpec(device="cpu", size=256)                 # which network, where
    look = vidcolor.LookSpec(saturation=1.2, reference="still.jpg")    # colourist controls
    vidcolor.contact_sheet("film.mp4", "sheet.jpg", look=look)        # judge it before a render
    colorizer = spec.build(calls=1)                                  # frame-by-frame use

Names are imported on first use, so ``import vidcolor`` (and the CLI's start) stays light:
torch loads only when a model is built.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "colorize_video": "vidcolor.pipeline",
    "Stats": "vidcolor.pipeline",
    "Interrupted": "vidcolor.pipeline",
    "colorize_image": "vidcolor.stills",
    "Colorizer": "vidcolor.colorizer",
    "ModelSpec": "vidcolor.specs",
    "TemporalSpec": "vidcolor.specs",
    "OutputSpec": "vidcolor.specs",
    "LookSpec": "vidcolor.specs",
    "contact_sheet": "vidcolor.look.sheet",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'vidcolor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
