"""The resume sidecar: ``.<output name>.vidcolor-resume/`` beside the output.

It holds ``progress.json`` (the input's identity, the options that shape the picture, the
segment plan and the segments finished) and the finished part files. A part is written to a
temporary name and renamed when complete, and only then recorded, so a run killed at any
point (SIGKILL, a power cut) never counts a half-written part; a part that was renamed but not
yet recorded is complete and counts too. The folder is removed once the output is in place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from vidcolor.io.errors import InputError
from vidcolor.scale.segments import Segment

VERSION = 1
_HEAD = 1 << 20  # bytes of the input hashed: enough to tell files apart, fast on any storage


class ResumeMismatch(InputError):
    """The sidecar belongs to another input or other options."""


def identity(src: Path) -> dict[str, Any]:
    """What tells this input from another file, or from itself edited."""
    stat = src.stat()
    with src.open("rb") as head:
        digest = hashlib.sha256(head.read(_HEAD)).hexdigest()
    return {"path": str(src.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "head_sha256": digest}


class Sidecar:
    def __init__(self, dst: Path, suffix: str) -> None:
        self.folder = dst.with_name(f".{dst.name}.vidcolor-resume")
        self.suffix = suffix
        self._file = self.folder / "progress.json"
        self._state: dict[str, Any] = {}

    def part(self, index: int) -> Path:
        return self.folder / f"part-{index:05d}{self.suffix}"

    def resume(self, src: Path, settings: str) -> list[Segment] | None:
        """The plan of an earlier run to continue, or None when there is none. Another input
        or other options: :class:`ResumeMismatch`, the sidecar left as it is."""
        try:
            state = json.loads(self._file.read_text())
        except (OSError, ValueError):
            return None
        if state.get("version") != VERSION:
            return None
        if state["input"] != identity(src):
            raise ResumeMismatch(f"{src} is not the file the interrupted run read (size, date or "
                                 f"content differ); run without --resume to start over")
        if state["settings"] != settings:
            raise ResumeMismatch("the options differ from the interrupted run's; repeat them, "
                                 "or run without --resume to start over")
        self._state = state
        return [Segment(**segment) for segment in state["segments"]]

    def start(self, src: Path, settings: str, segments: list[Segment]) -> None:
        """A fresh sidecar for this plan (an earlier one is removed)."""
        self.remove()
        self.folder.mkdir()
        self._state = {"version": VERSION, "input": identity(src), "settings": settings,
                       "segments": [dataclasses.asdict(s) for s in segments], "done": []}
        self._save()

    def done(self) -> set[int]:
        """Segments whose part is complete: recorded, or renamed into place but not yet
        recorded when the run was killed."""
        indexes = range(len(self._state["segments"]))
        return {i for i in indexes if self.part(i).is_file()}

    def mark_done(self, index: int) -> None:
        self._state["done"] = sorted({*self._state["done"], index})
        self._save()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _save(self) -> None:
        """Written whole, then renamed over the last: a kill leaves the old or the new."""
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state, indent=1))
        os.replace(tmp, self._file)
