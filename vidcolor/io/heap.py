"""Large frames in mappings of their own, so glibc hands their memory back when they are freed.

glibc serves a block of 128 KB or more from a mapping of its own, but the first time such a
block is freed it raises that threshold to the block's size (up to 32 MB): from then on every
frame buffer (a 4K YUV frame is 12.4 MB) comes from the heaps of the threads that allocate it
and stays there, in pieces that the encoder's and decoder's threads cannot reuse. Fixing the
threshold turns that adjustment off; a 4K run then peaks ~120 MB lower. A mapping costs a
system call and fresh zeroed pages, a few ms for a 4K frame: little beside encoding it.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD = 1 << 20  # blocks this large and larger: a 480p frame's planes stay below


@cache
def map_large_blocks() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` for this process (once); False
    where there is no glibc to tell (macOS, Windows, musl's mallopt ignores it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
