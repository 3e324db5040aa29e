"""Live colorization: webcams and network streams in, files, restreams and previews out.

Entry points: :func:`run_live` (what ``vidcolor URL ...`` runs) and :func:`is_live_source`
(how ``vidcolor.cli`` decides to call it, for the input and for each output).
"""

import logging

from vidcolor.redact import RedactingFilter, redact

from .runner import LiveError, run_live
from .source import SourceSpec, is_live_source, plays_to_an_end
from .stats import LiveStats, LiveSummary

logging.getLogger("vidcolor.live").addFilter(RedactingFilter())

__all__ = ["LiveError", "LiveStats", "LiveSummary", "SourceSpec", "is_live_source",
           "plays_to_an_end", "redact", "run_live"]
