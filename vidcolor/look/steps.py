"""The ``--enhance`` chain as text: its steps, their values, and their one fixed order.

``"clahe=2,sharpen=0.5"`` is parsed into ``(("clahe", (2.0,)), ("sharpen", (0.5,)))`` and
spelled back in the fixed order whatever order it was typed in, so a chain has one spelling
(in specs, presets and JSON summaries). Light: the command's parser uses it for ``--help``.
"""

from __future__ import annotations

from typing import NamedTuple

Step = tuple[str, tuple[float, ...]]


class StepKind(NamedTuple):
    values: int  # how many numbers it takes (rgb: three, R:G:B)
    low: float
    high: float
    meaning: str


# In the order they run; every one changes the luma.
STEPS: dict[str, StepKind] = {
    "tonemap": StepKind(1, 0.0, 1.0, "HDR-style local tone mapping: lifts shadows and tames "
                        "highlights, keeps detail; strength 0..1"),
    "clahe": StepKind(1, 0.1, 40.0, "contrast-limited adaptive histogram equalisation; "
                      "clip limit, e.g. 2"),
    "contrast": StepKind(1, 0.0, 4.0, "gain about mid-gray; 1 = unchanged"),
    "brightness": StepKind(1, -1.0, 1.0, "added, as a fraction of the luma range"),
    "power": StepKind(1, 0.1, 10.0, "power curve v**P; below 1 lifts the shadows"),
    "log": StepKind(1, 0.01, 1000.0, "log curve log(1+Kv)/log(1+K); lifts the shadows"),
    "sharpen": StepKind(1, 0.0, 5.0, "unsharp mask amount"),
    "rgb": StepKind(3, 0.0, 4.0, "R:G:B gains on the colour frame, e.g. 1.05:1:0.95"),
}
ORDER = tuple(STEPS)
CURVES = ("contrast", "brightness", "power", "log")  # one lookup table between them


def parse_steps(text: str) -> tuple[Step, ...]:
    """``name=value[,name=value...]`` -> steps in the fixed order; ValueError (one line) for
    an unknown or repeated step or a value off its scale."""
    steps: dict[str, tuple[float, ...]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        kind = STEPS.get(name)
        if kind is None:
            raise ValueError(f"unknown enhance step {name!r}; known: {', '.join(ORDER)}")
        if name in steps:
            raise ValueError(f"enhance step {name!r} given twice")
        steps[name] = _values(name, kind, value if sep else "")
    return tuple((name, steps[name]) for name in ORDER if name in steps)


def _values(name: str, kind: StepKind, text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(":"))
    except ValueError:
        values = ()
    if len(values) != kind.values:
        shape = ":".join(["X"] * kind.values)
        raise ValueError(f"enhance step {name} takes {name}={shape}, got {name}={text!r}")
    if not all(kind.low <= v <= kind.high for v in values):
        raise ValueError(f"enhance step {name} must be within {kind.low:g}..{kind.high:g}, "
                         f"got {text}")
    return values


def spell(steps: tuple[Step, ...]) -> str:
    """The one spelling of parsed steps: ``clahe=2,sharpen=0.5``."""
    return ",".join(f"{name}={':'.join(f'{v:g}' for v in values)}" for name, values in steps)


def help_text() -> str:
    """The steps, in their order, for ``--help``."""
    return "; ".join(f"{name} ({kind.meaning})" for name, kind in STEPS.items())
