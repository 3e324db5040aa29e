"""What a run is asked to do, as three small specs built once and passed whole.

The command line and a Python user build the same objects: :class:`ModelSpec` (which network,
on which back end and device, at what size), :class:`TemporalSpec` (how chroma is stabilized
between frames), :class:`OutputSpec` (how video is encoded) and :class:`LookSpec` (the
colourist controls). Files, stills and live runs take them as they are, so a new option is
added in one place. ``ModelSpec.build`` is the one
place a :class:`~vidcolor.colorizer.Colorizer` is made from a spec, ``TemporalSpec.build`` the
one place a temporal stage is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .look.steps import Step, parse_steps, spell

if TYPE_CHECKING:
    from .colorizer import Colorizer
    from .look.chain import Look
    from .temporal import TemporalStage

TEMPORAL_MODES = ("off", "causal", "bidirectional")
MODEL_NAMES = ("fast", "quality")  # the shipped models (vidcolor.models.SHIPPED_MODELS)
STREAM_CODEC = "libx264"  # what restreams get by default: FLV, MPEG-TS and RTSP all carry H.264
FILE_CRF = 18  # files: visually lossless with x264/x265; live sinks keep their own defaults


@dataclass(frozen=True)
class ModelSpec:
    """The network and where it runs.

    ``weights``: a ``.safetensors`` model file (None: the shipped model named by ``model``,
    fast or quality). ``engine``: auto,
    tensorrt, torch or onnxruntime. ``device``: auto, cpu, cuda or cuda:N. ``precision``:
    fp32, fp16, bf16, int8 (None: the engine's default). ``size``: the short side the network
    sees, a multiple of 32.
    """

    weights: str | None = None
    engine: str = "auto"
    device: str = "auto"
    precision: str | None = None
    size: int = 256
    model: str = "fast"

    def __post_init__(self) -> None:
        if self.size < 32 or self.size % 32:
            raise ValueError(f"size must be a positive multiple of 32, got {self.size}")
        if self.model not in MODEL_NAMES:
            raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}, got {self.model!r}")
        if self.weights is not None and self.model != "fast":
            raise ValueError(f"weights {self.weights} and model {self.model!r} name two models; "
                             "give one")

    @property
    def weights_path(self) -> str | None:
        """The model file to load (None: the default, ``fast`` or $VIDCOLOR_WEIGHTS)."""
        if self.weights is None and self.model != "fast":
            from .models import shipped_model_path

            return str(shipped_model_path(self.model))
        return self.weights

    def build(self, calls: int | None = None) -> Colorizer:
        """The colorizer this spec describes. ``calls``: inference calls that will run at once
        (None: the engine's default, which suits the file pipeline; 1 for frame-by-frame use,
        so that each call gets every core)."""
        from .backends import create_engine
        from .colorizer import Colorizer

        engine = create_engine(self.engine, self.device, weights=self.weights_path,
                               precision=self.precision, calls=calls)
        return Colorizer(engine, size=self.size)


@dataclass(frozen=True)
class TemporalSpec:
    """Chroma stabilization between frames: ``mode`` off, causal or bidirectional (look-ahead,
    files only); ``strength`` 0..1."""

    mode: str = "causal"
    strength: float = 0.9

    def __post_init__(self) -> None:
        if self.mode not in TEMPORAL_MODES:
            raise ValueError(f"temporal mode must be one of {', '.join(TEMPORAL_MODES)}, "
                             f"got {self.mode!r}")

    @property
    def looks_ahead(self) -> bool:
        return self.mode == "bidirectional"

    def build(self) -> TemporalStage | None:
        """A fresh temporal stage (it holds one stream's history); None when ``mode`` is off."""
        if self.mode == "off":
            return None
        from .temporal import TemporalStage

        return TemporalStage(self.mode, self.strength)


@dataclass(frozen=True)
class OutputSpec:
    """Video encoding. ``codec``: an FFmpeg encoder name; None (the default): the output
    container's natural one, libx264 where H.264 fits (and for restreams), VP9 for WebM, GIF
    for .gif. A codec the container cannot hold, or a ``crf`` outside
    the encoder's scale, raises ``vidcolor.io.OutputError``. ``crf`` None: the sink's default
    (18 for files; live sinks pick their own for recordings and restreams); encoders without
    a CRF scale (ffv1, gif) ignore it. ``bitrate`` (bits per second) is for live outputs."""

    codec: str | None = None
    crf: float | None = None
    preset: str | None = None
    bitrate: int | None = None

    @property
    def file_crf(self) -> float:
        return FILE_CRF if self.crf is None else self.crf


SATURATION_MAX = 4.0
SHIFT_MAX = 50.0  # ab units: warmth and tint


@dataclass(frozen=True)
class LookSpec:
    """Colourist controls (``vidcolor.look``). The chroma ones keep the luma the input's:
    ``saturation`` (chroma gain: 0 gray, 1 the model's, up to 4), ``warmth`` (added to b:
    + yellow, - blue) and ``tint`` (added to a: + magenta, - green), in CIELAB ab units
    (-50..50), and ``reference``, an image whose colours the output's a,b statistics are moved
    toward, per lightness band. ``enhance``: opt-in steps that change the luma, spelled as on
    the command line (``"clahe=2,sharpen=0.5"``, kept in the fixed order they run in).
    ``negative``: the input is a scanned negative; its luma is inverted before colorizing.
    Bad values raise ValueError; an unreadable reference, ``vidcolor.io.InputError`` from
    :meth:`build`."""

    saturation: float = 1.0
    warmth: float = 0.0
    tint: float = 0.0
    reference: str | None = None
    enhance: str = ""
    negative: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.saturation <= SATURATION_MAX:
            raise ValueError(f"saturation must be within 0..{SATURATION_MAX:g}, "
                             f"got {self.saturation:g}")
        for name in ("warmth", "tint"):
            if not -SHIFT_MAX <= getattr(self, name) <= SHIFT_MAX:
                raise ValueError(f"{name} must be within -{SHIFT_MAX:g}..{SHIFT_MAX:g} ab "
                                 f"units, got {getattr(self, name):g}")
        object.__setattr__(self, "enhance", spell(parse_steps(self.enhance)))

    @property
    def steps(self) -> tuple[Step, ...]:
        """The enhance steps, parsed, in the order they run."""
        return parse_steps(self.enhance)

    @property
    def changes_luma(self) -> bool:
        """Whether the output's luma is no longer the input's (an enhance step, or negative)."""
        return bool(self.steps) or self.negative

    def build(self) -> Look:
        """The look, ready for frames: the reference image read and its palette measured."""
        from .look.chain import Look

        return Look(self)
