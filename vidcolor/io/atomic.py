"""Destinations checked up front and written through a hidden sibling file.

A finished output appears at its final path in one atomic step (a hard link that refuses to
replace, or ``os.replace`` when replacing was asked for); an interrupted or failed one never
does. The temporary file keeps the destination's extension because FFmpeg and
OpenCV choose the container or image format from it, and names its owner (host and process
id): a run killed outright (SIGKILL, a power cut) cannot remove it, so the next run to the
same destination does, once it sees the owner is gone.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from pathlib import Path

from .errors import OutputError

log = logging.getLogger(__name__)
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def temp_path(dst: Path) -> Path:
    """A hidden, unique sibling of ``dst`` with the same extension, naming its owner."""
    return dst.with_name(f".{dst.stem}.{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp{dst.suffix}")


def remove_leftovers(dst: Path) -> list[Path]:
    """Remove the temporaries of ``dst`` whose owner, a process of this host, is gone.

    Only names :func:`temp_path` makes for ``dst`` qualify; a temporary of another host is
    kept, as its owner cannot be checked from here. Returns the files removed.
    """
    pattern = re.compile(rf"\.{re.escape(dst.stem)}\.{re.escape(_HOST)}\.([1-9][0-9]*)"
                         rf"\.[0-9a-f]{{8}}\.tmp{re.escape(dst.suffix)}")
    try:
        names = os.listdir(dst.parent)
    except OSError:  # a folder one may write to but not list
        return []
    removed = []
    for name in names:
        path = dst.parent / name
        match = pattern.fullmatch(name)
        if match and path.is_file() and not path.is_symlink() and _gone(int(match[1])):
            try:
                path.unlink()
            except OSError:  # removed by another run meanwhile, or not ours to remove
                continue
            log.info("removed %s, left by a run that was killed", path)
            removed.append(path)
    return removed


def _gone(pid: int) -> bool:
    """True when no process ``pid`` runs on this host (a zombie still counts as running)."""
    if os.name == "nt":  # os.kill would terminate it there, not probe it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process, or no valid process id
        pass
    return False


def partial_path(dst: str | os.PathLike[str]) -> Path:
    """Where an interrupted output is kept: ``<stem>.partial<ext>`` beside ``dst``."""
    dst = Path(dst)
    return dst.with_name(f"{dst.stem}.partial{dst.suffix}")


def check_destination(
    dst: str | os.PathLike[str],
    src: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Resolve ``dst`` and refuse it when it is the input, exists, or cannot be written; then
    remove the temporaries that killed runs left beside it (:func:`remove_leftovers`)."""
    dst = Path(dst).expanduser().resolve()
    if src is not None and _same_file(Path(src), dst):
        raise OutputError(f"refusing to overwrite the input {src}")
    if dst.is_dir():
        raise OutputError(f"output {dst} is a directory")
    if dst.exists() and not overwrite:
        raise OutputError(f"output {dst} already exists (use -y to overwrite)")
    if not dst.parent.is_dir():
        raise OutputError(f"output folder {dst.parent} does not exist")
    if not os.access(dst.parent, os.W_OK):
        raise OutputError(f"output folder {dst.parent} is not writable")
    remove_leftovers(dst)
    return dst


def commit(tmp: Path, dst: Path, *, replace: bool = False) -> Path:
    """Move a complete temporary file into place.

    Unless ``replace``, never over a file that appeared at ``dst`` after it was checked
    (another run with the same output, another program): the move is a hard link, which the
    OS refuses atomically when ``dst`` exists. This run's result is then kept beside it
    under the first free ``<stem>.<n><ext>`` and the error names both.
    """
    if replace:
        os.replace(tmp, dst)
        return dst
    if _link(tmp, dst):
        return dst
    for n in range(1, 1000):
        kept = dst.with_name(f"{dst.stem}.{n}{dst.suffix}")
        if _link(tmp, kept):
            raise OutputError(f"output {dst} appeared during the run and was left as it is; "
                              f"this run's result is {kept} (use -y to overwrite)")
    raise OutputError(f"output {dst} appeared during the run; not replacing it")


def _link(tmp: Path, dst: Path) -> bool:
    """Give ``tmp`` the name ``dst`` unless ``dst`` exists; False if it does."""
    try:
        os.link(tmp, dst)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: check, then move (a short window)
        if dst.exists():
            return False
        os.replace(tmp, dst)
        return True
    tmp.unlink()
    return True


def discard(tmp: Path) -> None:
    """Remove a temporary file if it was ever created."""
    tmp.unlink(missing_ok=True)


def _same_file(src: Path, dst: Path) -> bool:
    try:
        return src.expanduser().resolve() == dst or (dst.exists() and os.path.samefile(src, dst))
    except OSError:
        return False
