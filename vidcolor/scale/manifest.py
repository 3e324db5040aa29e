"""``vidcolor-manifest.jsonl`` in a folder run's output: one line per file as it finishes.

A re-run of the same command skips the files whose last line says ``done`` and whose output
is still there, and retries the others (failed, or never reached). Lines are appended and
flushed one by one, so a run killed outright loses at most the line being written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NAME = "vidcolor-manifest.jsonl"


class Manifest:
    def __init__(self, folder: Path) -> None:
        self.path = folder / NAME

    def finished(self) -> set[str]:
        """Inputs whose last record is ``done`` and whose output exists."""
        last: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a kill
                    continue
                last[entry["input"]] = entry
        return {path for path, entry in last.items()
                if entry["status"] == "done" and Path(entry["output"]).exists()}

    def record(self, src: Path, dst: Path, summary: dict[str, Any] | None,
               error: str | None = None) -> None:
        summary = summary or {}
        entry = {"input": str(src), "output": str(dst), "status": "failed" if error else "done",
                 "frames": summary.get("frames", summary.get("pages")),
                 "fps": summary.get("fps"), "engine": summary.get("engine"), "error": error}
        with self.path.open("a") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
            os.fsync(out.fileno())
