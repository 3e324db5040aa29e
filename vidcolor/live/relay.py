"""Protocols this PyAV build lacks, carried by the ``ffmpeg`` command as MPEG-TS over a pipe.

PyPI's PyAV wheels bundle an FFmpeg built without libsrt, so ``srt://`` cannot be opened in
process. When an ``ffmpeg`` executable that speaks the protocol is on PATH (Debian's and
Homebrew's do), it moves the bytes with ``-c copy`` and PyAV demuxes or muxes the pipe as usual:
no transcoding, one extra process, a few milliseconds of pipe latency. The URL is on that
process's command line, which local users can read; the logs only ever show it redacted.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import threading

import av

from vidcolor.redact import redact

#: Schemes that PyAV's FFmpeg may lack and that a relay can carry (probed once, on first use).
RELAYABLE = ("srt",)
RELAY_FORMAT = "mpegts"
# What probing reads is kept (no fflags=nobuffer): it holds a long-GOP stream's first keyframe.
_PIPE_DEMUX = {"probesize": "500000", "analyzeduration": "500000"}


@functools.cache
def pyav_has_protocol(scheme: str) -> bool:
    """Whether PyAV's own FFmpeg knows ``scheme`` (an empty URL fails fast either way)."""
    try:
        av.open(f"{scheme}://", timeout=0.1).close()
    except av.error.ProtocolNotFoundError:
        return False
    except (av.FFmpegError, OSError):
        return True
    return True


@functools.cache
def ffmpeg_with(scheme: str) -> str | None:
    """Path of an ``ffmpeg`` command that supports ``scheme``, or None."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    try:
        listed = subprocess.run([exe, "-hide_banner", "-protocols"], capture_output=True,
                                text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if scheme in listed.split() else None


def relay_command(scheme: str) -> str | None:
    """The ``ffmpeg`` command that must carry ``scheme``, or None where PyAV opens it itself
    (every scheme outside :data:`RELAYABLE`). Raises a clear error when neither PyAV nor an
    ``ffmpeg`` on PATH can speak it."""
    if scheme not in RELAYABLE or pyav_has_protocol(scheme):
        return None
    exe = ffmpeg_with(scheme)
    if exe is None:
        raise av.error.ProtocolNotFoundError(
            0, f"{scheme}:// needs an FFmpeg with that protocol: PyAV's build lacks it and no "
               f"ffmpeg command on PATH has it (install ffmpeg, e.g. apt install ffmpeg)")
    return exe


def _flags(options: dict[str, str]) -> list[str]:
    """FFmpeg options as command-line arguments: ``{"k": "v"}`` -> ``["-k", "v"]``."""
    return [arg for key, value in options.items() for arg in (f"-{key}", value)]


class Relay:
    """One ``ffmpeg`` process copying between a URL and a pipe; ``container`` is the PyAV end.

    Its error output is kept (last line, redacted) so a failed connection says why.
    """

    def __init__(self, cmd: list[str], write: bool, timeout: float) -> None:
        self._timeout = timeout
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE if write else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if write else subprocess.PIPE, stderr=subprocess.PIPE)
        self.last_error = ""
        self._log = threading.Thread(target=self._drain, name="vidcolor-relay-log", daemon=True)
        self._log.start()
        try:
            if write:
                self.container = av.open(self.proc.stdin, "w", format=RELAY_FORMAT)
            else:
                self.container = av.open(self.proc.stdout, format=RELAY_FORMAT, options=_PIPE_DEMUX)
        except (av.FFmpegError, OSError) as exc:
            self.close()
            self._log.join(1.0)
            raise OSError(f"ffmpeg relay: {self.last_error or redact(exc)}") from None
        except BaseException:
            self.close()
            raise

    @classmethod
    def reader(cls, exe: str, url: str, url_options: dict[str, str], timeout: float) -> Relay:
        """``ffmpeg -i URL -c copy -f mpegts pipe:1``, demuxed by PyAV."""
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", *_flags(url_options),
               "-i", url, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", RELAY_FORMAT,
               "-flush_packets", "1", "pipe:1"]
        return cls(cmd, write=False, timeout=timeout)

    @classmethod
    def writer(cls, exe: str, url: str, timeout: float) -> Relay:
        """PyAV muxes MPEG-TS into ``ffmpeg -i pipe:0 -c copy -f mpegts URL``."""
        cmd = [exe, "-hide_banner", "-loglevel", "error", *_flags(_PIPE_DEMUX),
               "-f", RELAY_FORMAT, "-i", "pipe:0", "-map", "0", "-c", "copy",
               "-f", RELAY_FORMAT, "-flush_packets", "1", url]
        return cls(cmd, write=True, timeout=timeout)

    def _drain(self) -> None:
        for line in self.proc.stderr:
            text = line.decode(errors="replace").strip()
            if text:
                self.last_error = redact(text)

    def close(self) -> None:
        """Close the PyAV end (a writer flushes), then let the process finish or stop it."""
        container = getattr(self, "container", None)
        if container is not None:
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):
                container.close()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            self.proc.wait(self._timeout if self.proc.stdin is not None else 0.5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
