"""Temporal stabilization of predicted chroma (see stage.py)."""

from vidcolor.temporal.stage import MODES, TemporalStage

__all__ = ["MODES", "TemporalStage"]
