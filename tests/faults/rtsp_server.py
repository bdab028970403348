#!/usr/bin/env python3
"""A local RTSP server for dskafka's fault tests (GStreamer's gst-rtsp-server).

Usage: rtsp_server.py PORT MOUNT FILE FPS

Serves FILE, an H.264 Annex B byte stream, at rtsp://127.0.0.1:PORT/MOUNT at FPS frames
per second, in an endless loop: multifilesrc reads the file again at its end, and
h264parse timestamps the frames from FPS. Prints "ready" once it listens, and runs until
it is killed. Needs the Debian packages python3-gi and gir1.2-gst-rtsp-server-1.0.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main(port: str, mount: str, path: str, fps: str) -> int:
    Gst.init(None)

    factory = GstRtspServer.RTSPMediaFactory.new()
    # Each element is configured by property, so the path cannot add elements.
    factory.set_launch(
        "( multifilesrc name=file loop=true "
        f"caps=video/x-h264,stream-format=byte-stream,framerate={int(fps)}/1 "
        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    factory.connect(
        "media-configure",
        lambda _factory, media: media.get_element().get_by_name("file").set_property("location", path),
    )

    server = GstRtspServer.RTSPServer.new()
    server.set_address("127.0.0.1")
    server.set_service(port)
    server.get_mount_points().add_factory(f"/{mount}", factory)
    if server.attach(None) == 0:
        print(f"rtsp_server.py: cannot listen on 127.0.0.1:{port}", file=sys.stderr)
        return 1

    print("ready", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
