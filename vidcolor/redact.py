"""Keep credentials out of logs, errors and the status line.

URLs carry secrets in three places: the userinfo (``rtsp://user:pass@host``), query
parameters (``srt://host?passphrase=...``, ``https://host/film.mp4?token=...``) and, for RTMP,
the stream key in the path (``rtmp://server/app/KEY``). Everything the live package and the
command print goes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
_SECRET_PARAMS = ("pass", "pwd", "secret", "token", "key", "auth", "streamid", "sig")
# A URL ends before the punctuation of the sentence around it ("URL: no video stream").
_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://([^\s'\"<>]*[^\s'\"<>:,.;)])")
_PARTS = re.compile(r"([^/?#]*)([^?#]*)(.*)", re.S)
_QUERY = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")


def _redact_url(scheme: str, rest: str) -> str:
    authority, path, query = _PARTS.match(rest).groups()
    if "@" in authority:
        authority = MASK + "@" + authority.rsplit("@", 1)[1]
    if scheme.lower().startswith("rtmp"):
        path = re.sub(r"^(/[^/]*/).+", r"\1" + MASK, path)
    return f"{scheme}://{authority}{path}{_QUERY.sub(_mask_param, query)}"


def _mask_param(m: re.Match) -> str:
    sep, name, value = m.groups()
    secret = any(word in name.lower() for word in _SECRET_PARAMS)
    return f"{sep}{name}={MASK if secret and value else value}"


def redact(text: object) -> str:
    """``text`` as a string with every URL's credentials replaced by ``***``."""
    return _URL.sub(lambda m: _redact_url(m.group(1), m.group(2)), str(text))


class RedactingFilter(logging.Filter):
    """Logging filter that redacts the fully formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
