"""The one exception family of the I/O layer.

Every message is a single line meant for ``vidcolor: error: <message>``; callers never need a
traceback to understand what went wrong with a file.
"""


class VidcolorIOError(Exception):
    """A file could not be read or written (bad input, bad destination, unusable codec)."""


class InputError(VidcolorIOError):
    """The input cannot be opened or decoded: missing, unreadable, not media, no video."""


class OutputError(VidcolorIOError):
    """The output cannot be produced: bad destination, unknown or unavailable codec."""


def reason(err: BaseException) -> str:
    """FFmpeg's (or the OS's) short reason for ``err``, on one line."""
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return " ".join(str(text).split())
