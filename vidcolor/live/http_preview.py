"""Built-in HTTP preview: a tiny page whose <img> shows a multipart MJPEG stream.

Any browser shows it without plugins. Frames are JPEG-encoded lazily, once per frame and only
while someone watches; each client gets the newest frame (slow clients skip frames, they never
slow the run down). Binds to 127.0.0.1 unless an address is given.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import av
import cv2

from .sink import Sink

log = logging.getLogger("vidcolor.live")

BOUNDARY = "vidcolorframe"
# The picture fills the window, scaled up or down with its aspect kept (letterboxed).
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>vidcolor live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html,body{margin:0;height:100%;overflow:hidden;background:#111}
img{display:block;width:100%;height:100%;object-fit:contain}</style></head>
<body><img src="/stream.mjpg" alt="vidcolor live preview"></body></html>
"""


def parse_address(serve: str) -> tuple[str, int]:
    """``"8080"``, ``":8080"`` or ``"host:port"`` -> (host, port); the host defaults to
    127.0.0.1 so the preview is private unless asked otherwise."""
    host, _, port = serve.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--serve wants [HOST:]PORT, got {serve!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"--serve port out of range: {number}")
    return host, number


class _Latest:
    """The newest frame, JPEG-encoded on first demand."""

    def __init__(self, quality: int) -> None:
        self.cond = threading.Condition()
        self.seq = 0
        self.closed = False
        self._frame: av.VideoFrame | None = None
        self._jpeg: bytes | None = None
        self._quality = quality

    def put(self, frame: av.VideoFrame) -> None:
        with self.cond:
            self._frame, self._jpeg = frame, None
            self.seq += 1
            self.cond.notify_all()

    def wait(self, after: int, timeout: float) -> tuple[int, bytes | None]:
        """Block until a frame newer than ``after`` exists; (seq, jpeg) or (after, None)."""
        with self.cond:
            self.cond.wait_for(lambda: self.seq > after or self.closed, timeout)
            if self.seq <= after or self._frame is None:
                return after, None
            if self._jpeg is None:
                bgr = self._frame.to_ndarray(format="bgr24")
                ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
                self._jpeg = buf.tobytes() if ok else b""
            return self.seq, self._jpeg

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def _handler(latest: _Latest):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", PAGE.encode())
            elif path == "/stream.mjpg":
                self._stream()
            elif path == "/snapshot.jpg":
                _, jpeg = latest.wait(0, 5.0)
                if jpeg:
                    self._send(200, "image/jpeg", jpeg)
                else:
                    self._send(503, "text/plain", b"no frame yet\n")
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seq = 0
            try:
                while not latest.closed:
                    seq, jpeg = latest.wait(seq, 1.0)
                    if not jpeg:
                        continue
                    head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n").encode()
                    self.wfile.write(head + jpeg + b"\r\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the viewer went away

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
            log.debug("http preview: " + format, *args)

    return Handler


class HttpPreviewSink(Sink):
    """Serves ``/`` (page), ``/stream.mjpg`` (MJPEG) and ``/snapshot.jpg``; binds at
    construction so a taken port fails before the source is opened."""

    def __init__(self, serve: str, quality: int = 80) -> None:
        host, port = parse_address(serve)
        self._latest = _Latest(quality)
        self._server = ThreadingHTTPServer((host, port), _handler(self._latest))
        self._server.daemon_threads = True
        self.address = self._server.server_address[:2]
        self.name = self.url = f"http://{self.address[0]}:{self.address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="vidcolor-http-preview", daemon=True)
        self._thread.start()

    def write(self, frame: av.VideoFrame, t: float) -> None:
        self._latest.put(frame)

    def close(self) -> None:
        self._latest.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)
