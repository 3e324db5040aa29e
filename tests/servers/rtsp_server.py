"""Test helper: a real RTSP server (GStreamer's gst-rtsp-server) serving an H.264 MP4 clip.

Runs under the *system* python3 with python3-gi (Debian: gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad for h264parse):

    /usr/bin/python3 rtsp_server.py CLIP --port 8554 [--mount /live] [--audio]

Binds 127.0.0.1 only. Each client gets its own pipeline playing the clip from the start (in
real time). Prints READY when listening; SIGTERM/SIGINT stop it.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", default="/live")
    parser.add_argument("--audio", action="store_true", help="also serve the clip's AAC track")
    args = parser.parse_args()
    Gst.init(None)
    launch = (
        f'( filesrc location="{args.clip}" ! qtdemux name=d '
        "d.video_0 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 "
    )
    if args.audio:
        launch += "d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97 "
    launch += ")"
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("READY", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
